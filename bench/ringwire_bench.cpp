// ringwire_bench -- ringwire's SPSC channel side by side with the peers Debian packages,
// following docs in /work/shared/BENCHMARKING.md (and docs/benchmarks.md):
//
//   (a) throughput, producer and consumer pinned to two CPUs, 8 B / 64 B / 1 KiB payloads,
//       capacity 1024 (and 65536 in the full run), every message verified;
//   (b) batch throughput: ringwire reserve/commit and try_send_batch with consume, against
//       boost spsc_queue's bulk push/pop and the single-element numbers;
//   (c) round-trip latency (rdtsc, HDR-style histogram) and the floor: a bare cache-line
//       ping-pong between the same two pinned threads;
//   (d) memcpy of the same payloads on one thread: the ceiling for (a).
//
// Every table interleaves the implementations (repetition r of each before repetition
// r + 1), reports median [min–max] and ratios measured in the same run. A run that loses,
// duplicates or reorders a message prints what it saw and the program exits non-zero.
//
//   ringwire_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]
//                  [--cpus A,B] [--label TEXT]
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters.hpp"
#include "harness.hpp"
#include "report.hpp"

namespace bench {
namespace {

// ---- throughput ---------------------------------------------------------------------------------
// Runs are bounded by time, not by a message count: the consumer starts the clock once it has
// received `warm` messages (2 laps of the ring), stops it after `target` seconds (checked every
// 1024 messages), then asks the producer to stop; the producer says how many it sent and the
// consumer drains and verifies the rest. So a run that the machine slows down still ends on
// time, and every message ever sent is checked.
enum class mode { single, rw_reserve, rw_send_batch, bulk };  // bulk: the adapter's push_n / pop_n

// Single-message throughput on a fast VM is bimodal: whether the consumer keeps pace with
// the producer (every message hands its slot's line, and the index's, from core to core) or
// lags behind it (the hand-offs amortise over runs of messages) decides the ranking more
// than any queue does. So each single-message table is run in both regimes, forced:
//   chasing  the consumer polls again at once when it finds the queue empty, so it trails
//            the producer by a message or two;
//   lagging  the consumer, finding the queue empty, waits `lag_backoff` before polling
//            again, so it comes back to a run of messages and drains it while the
//            producer keeps writing further ahead (the producer never waits on it unless the
//            ring fills).
enum class regime { chasing, lagging };
constexpr auto lag_backoff = std::chrono::microseconds(4);
inline const char* to_string(regime r) { return r == regime::chasing ? "consumer chasing" : "consumer lagging"; }

constexpr std::uint64_t not_yet = UINT64_MAX;
constexpr std::uint64_t check_every = 1024;

struct tp_control : run_control {
  alignas(128) std::atomic<bool> stop{false};        // consumer -> producer
  alignas(128) std::atomic<std::uint64_t> sent{not_yet};  // producer -> consumer, at the end
};

template <class Q, class T, mode M>
void produce(Q& q, std::size_t batch, tp_control& rc) {
  spinner sp{&rc};
  const T tmpl = message_template<T>();
  std::uint64_t i = 0;
  auto stopping = [&] { return rc.stop.load(std::memory_order_relaxed); };
  if constexpr (M == mode::single) {
    T m = tmpl;
    for (;; ++i) {
      if ((i & 63) == 0 && stopping()) break;
      stamp(m, i);
      while (!q.try_push(m))
        if (sp()) return;
    }
  } else if constexpr (M == mode::rw_reserve) {
    while (!stopping()) {
      auto r = q.tx.reserve(batch);
      if (r.empty()) {
        if (sp()) return;
        continue;
      }
      std::span<T> s = r.span();
      for (std::size_t j = 0; j < s.size(); ++j) {
        s[j] = tmpl;  // the whole message is written in place, as a producer would build it
        stamp(s[j], i + j);
      }
      r.commit(s.size());
      i += s.size();
    }
  } else {  // rw_send_batch, bulk: a batch built in a local array, then sent
    std::vector<T> buf(batch, tmpl);
    while (!stopping()) {
      for (std::size_t j = 0; j < batch; ++j) stamp(buf[j], i + j);
      std::size_t sent = 0;
      while (sent < batch) {
        std::size_t k;
        if constexpr (M == mode::rw_send_batch) {
          k = q.tx.try_send_batch(std::span<T>(buf.data() + sent, batch - sent));
        } else {
          k = q.push_n(buf.data() + sent, batch - sent);
        }
        if (k == 0 && sp()) return;
        sent += k;
      }
      i += batch;
    }
  }
  rc.sent.store(i, std::memory_order_release);
}

template <class Q, class T, mode M>
void consume(Q& q, std::size_t batch, std::uint64_t warm, double target, tp_control& rc, sample& out, regime rg) {
  spinner sp{&rc};
  steady::time_point t0{}, t1{};
  std::uint64_t from = 0, to = 0, next_check = warm;
  bool started = false, stopped = false;
  std::uint64_t i = 0;  // messages received (and verified)
  // Called between messages/batches: starts and stops the clock.
  auto clock = [&] {
    if (i < next_check || stopped) return;
    next_check = i + check_every;
    const auto now = steady::now();
    if (!started) {
      t0 = now;
      from = i;
      started = true;
    } else if (now - t0 >= std::chrono::duration<double>(target)) {
      t1 = now;
      to = i;
      stopped = true;
      rc.stop.store(true, std::memory_order_relaxed);
    }
  };
  // After the stop: true once everything the producer sent has been received.
  auto drained = [&] {
    if (!stopped) return false;
    const std::uint64_t n = rc.sent.load(std::memory_order_acquire);
    return n != not_yet && i >= n;
  };
  auto fail = [&](std::string why) {
    out.ok = false;
    out.err = std::move(why);
    rc.abort.store(true, std::memory_order_relaxed);
  };
  auto stalled = [&] { return "stalled after " + std::to_string(i) + " messages"; };

  if constexpr (M == mode::single) {
    T m{};
    for (;;) {
      clock();
      bool done = false;
      while (!q.try_pop(m)) {
        if (drained()) {
          done = true;
          break;
        }
        if (sp()) return fail(stalled());
        if (rg == regime::lagging) {  // let a run of messages build up (see regime)
          const auto until = steady::now() + lag_backoff;
          while (steady::now() < until) cpu_relax();
        }
      }
      if (done) break;
      if (!verify(m, i)) return fail(seq_error(i, m.w[0]));
      ++i;
    }
  } else if constexpr (M == mode::rw_reserve || M == mode::rw_send_batch) {
    std::uint64_t bad = not_yet, bad_seq = 0;
    for (;;) {
      clock();
      const std::size_t k = q.rx.consume(
          [&](T& m) {
            if (bad == not_yet && !verify(m, i)) {
              bad = i;
              bad_seq = m.w[0];
            }
            ++i;
          },
          batch);
      if (bad != not_yet) return fail(seq_error(bad, bad_seq));
      if (k == 0) {
        if (drained()) break;
        if (sp()) return fail(stalled());
      }
    }
  } else {  // bulk
    std::vector<T> buf(batch);
    for (;;) {
      clock();
      const std::size_t k = q.pop_n(buf.data(), batch);
      for (std::size_t j = 0; j < k; ++j, ++i)
        if (!verify(buf[j], i)) return fail(seq_error(i, buf[j].w[0]));
      if (k == 0) {
        if (drained()) break;
        if (sp()) return fail(stalled());
      }
    }
  }
  const std::uint64_t n = rc.sent.load(std::memory_order_acquire);
  if (i != n) return fail("received " + std::to_string(i) + " messages, the producer sent " + std::to_string(n));
  if constexpr (M == mode::single || M == mode::bulk) {
    T extra{};
    if (q.try_pop(extra)) return fail("a message beyond the last one sent (duplicate?)");
  } else {
    if (q.rx.consume([](T&) {}, 1) != 0) return fail("a message beyond the last one sent (duplicate?)");
  }
  if (!stopped) return fail("the clock never stopped");
  out.secs = std::chrono::duration<double>(t1 - t0).count();
  out.units = to - from;
  out.v = {static_cast<double>(out.units) / out.secs / 1e6};
}

template <class Q, class T, mode M>
sample throughput_run(double target, std::uint64_t warm, std::size_t batch, regime rg = regime::chasing) {
  auto q = std::make_unique<Q>();
  tp_control rc;
  rc.deadline = deadline_from_now();
  sample s;
  std::thread prod([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    produce<Q, T, M>(*q, batch, rc);
  });
  std::thread cons([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    consume<Q, T, M>(*q, batch, warm, target, rc, s, rg);
  });
  prod.join();
  cons.join();
  s.preempted = rc.preempted.load();
  if (rc.abort.load() && s.ok) {
    s.ok = false;
    s.err = "run aborted: deadline of " + num(g_cfg.run_timeout_s) + " s passed";
  }
  return s;
}

// memcpy of the same payload on one pinned thread (CPU a): cap slots, copied lap after lap,
// the same footprint as the ring. The ceiling for what a queue can move per second.
template <class T>
sample memcpy_run(double target, std::size_t cap) {
  sample s;
  std::thread t([&] {
    pin_this_thread(g_cfg.cpus.a);
    const long sw0 = involuntary_switches();
    std::vector<T> src(cap, message_template<T>());
    std::vector<T> dst(cap);
    const std::uint64_t warm = 2 * cap;
    const std::uint64_t mask = cap - 1;
    steady::time_point t0{}, t1{};
    std::uint64_t i = 0;
    for (;; ++i) {
      if (i == warm) t0 = steady::now();
      if (i > warm && (i & (check_every - 1)) == 0) {
        t1 = steady::now();
        if (t1 - t0 >= std::chrono::duration<double>(target)) break;
      }
      std::memcpy(&dst[i & mask], &src[i & mask], sizeof(T));
      asm volatile("" : : "r"(dst.data()) : "memory");  // every copy happens
    }
    s.secs = std::chrono::duration<double>(t1 - t0).count();
    s.units = i - warm;
    s.v = {static_cast<double>(s.units) / s.secs / 1e6};
    s.preempted = involuntary_switches() - sw0;
  });
  t.join();
  return s;
}

// Throughput-like table: one metric, higher is better. The ratio column divides by the row
// named base_name; the headline is the best `ours` row over the best `peer` row.
void print_rate_table(const std::string& heading, std::vector<row>& rows, std::size_t payload, const std::string& base_name) {
  std::ostringstream o;
  o << "\n### " << heading << "\n\n";
  o << "Million messages/s (higher is better), " << reps_note()
    << ". GB/s = median × payload. preempted = reps in which a pinned thread was involuntarily switched out.\n\n";
  o << "| implementation | Mmsg/s | GB/s | vs " << base_name << " | preempted |\n|---|---:|---:|---:|---:|\n";
  const row* base = nullptr;
  for (auto& r : rows)
    if (r.name == base_name) base = &r;
  const double base_med = base ? summarize(base->results[0]).median : 0;
  const row* best_peer = nullptr;
  double peer_med = 0, ref_med = 0;
  const row* ref = nullptr;
  for (auto& r : rows) {
    const summary s = summarize(r.results[0]);
    const std::string name = r.who == role::ours ? "**" + r.name + "**" : r.name;
    o << "| " << name << " | " << med_range(s) << " | " << num(s.median * 1e6 * static_cast<double>(payload) / 1e9) << " | "
      << (base_med > 0 ? ratio(s.median / base_med) : "—") << " | " << preempted(r) << " |\n";
    if (r.who == role::peer && s.median > peer_med) peer_med = s.median, best_peer = &r;
    if (r.who == role::reference) ref_med = s.median, ref = &r;
  }
  o << "\n";
  // One line per ringwire row (the default channel, spin_sync, the line variant...), so
  // each is read against the best peer, not only the best of them.
  for (auto& r : rows) {
    if (r.who != role::ours || !best_peer) continue;
    const double m = summarize(r.results[0]).median;
    o << "**" << r.name << " / best peer (" << best_peer->name << "): " << ratio(m / peer_med) << "**";
    if (ref) o << "; " << r.name << " / " << ref->name << ": " << ratio(m / ref_med);
    o << "\n\n";
  }
  out(o.str());
}

// The footer has one line per ringwire row: its p50 over the floor's and the best peer's
// (the line variant's target: at most 1.2x the floor).
void print_latency_table(const std::string& heading, std::vector<row>& rows) {
  const row* rw = nullptr;
  const row* fl = nullptr;
  for (auto& r : rows) {
    if (r.who == role::ours && rw == nullptr) rw = &r;
    if (r.who == role::reference) fl = &r;
  }
  std::ostringstream o;
  const latency_p50s p = print_latency_rows(o, heading, "", "ringwire", rw, fl, rows);
  for (auto& r : rows) {
    if (r.who != role::ours) continue;
    const double p50 = med(&r);
    if (fl) o << "**" << r.name << " p50 / floor p50: " << ratio(p50 / p.floor) << "**";
    if (!p.peer_name.empty()) o << "; " << r.name << " p50 / best peer p50 (" << p.peer_name << "): " << ratio(p50 / p.peer);
    o << "\n\n";
  }
  out(o.str());
}

// ---- the rows -------------------------------------------------------------------------------------
template <template <class, std::size_t> class Q, class T, std::size_t C, mode M = mode::single>
row tp_row(role who, std::string name = {}, std::size_t batch = 1, regime rg = regime::chasing) {
  row r;
  r.name = name.empty() ? std::string(Q<T, C>::name) : name;
  r.who = who;
  r.run = [batch, rg](double t) { return throughput_run<Q<T, C>, T, M>(t, 2 * C, batch, rg); };
  return r;
}

template <class T, std::size_t C>
std::vector<row> throughput_rows(regime rg) {
  std::vector<row> rows;
  rows.push_back(tp_row<ringwire_q, T, C>(role::ours, {}, 1, rg));
  rows.push_back(tp_row<ringwire_spin_q, T, C>(role::ours, {}, 1, rg));
  rows.push_back(tp_row<ringwire_line_q, T, C>(role::ours, {}, 1, rg));
  rows.push_back(tp_row<atomic_queue_q, T, C>(role::peer, {}, 1, rg));
  rows.push_back(tp_row<rwq_q, T, C>(role::peer, {}, 1, rg));
  rows.push_back(tp_row<boost_q, T, C>(role::peer, {}, 1, rg));
  rows.push_back(tp_row<xenium_q, T, C>(role::peer, {}, 1, rg));
  rows.push_back(tp_row<tbb_q, T, C>(role::peer, {}, 1, rg));
  rows.push_back(tp_row<mutex_q, T, C>(role::peer, {}, 1, rg));
  row m;
  m.name = "memcpy, 1 thread (ceiling)";
  m.who = role::reference;
  m.run = [](double t) { return memcpy_run<T>(t, C); };
  rows.push_back(std::move(m));
  return rows;
}

template <class T, std::size_t C>
std::vector<row> batch_rows(std::size_t b) {
  const std::string n = std::to_string(b);
  std::vector<row> rows;
  rows.push_back(tp_row<ringwire_q, T, C>(role::ours, "ringwire try_send / try_recv"));
  rows.push_back(tp_row<ringwire_q, T, C, mode::rw_reserve>(role::ours, "ringwire reserve(" + n + ")+commit / consume(" + n + ")", b));
  rows.push_back(tp_row<ringwire_q, T, C, mode::rw_send_batch>(role::ours, "ringwire try_send_batch(" + n + ") / consume(" + n + ")", b));
  rows.push_back(tp_row<boost_q, T, C>(role::peer, "boost spsc_queue push / pop"));
  rows.push_back(tp_row<ringwire_q, T, C, mode::bulk>(role::ours, "ringwire try_send_batch(" + n + ") / try_recv_batch(" + n + ")", b));
  rows.push_back(tp_row<boost_q, T, C, mode::bulk>(role::peer, "boost spsc_queue push(p," + n + ") / pop(p," + n + ")", b));
  rows.push_back(tp_row<atomic_queue_q, T, C>(role::peer, "atomic_queue push / pop (no bulk API)"));
  rows.push_back(tp_row<rwq_q, T, C>(role::peer, "moodycamel RWQ (no bulk API)"));
  return rows;
}

std::vector<row> latency_rows() {
  std::vector<row> rows;
  rows.push_back(lat_row<ringwire_q>(role::ours));
  rows.push_back(lat_row<ringwire_spin_q>(role::ours));
  rows.push_back(lat_row<ringwire_line_q>(role::ours));
  rows.push_back(lat_row<atomic_queue_q>(role::peer));
  rows.push_back(lat_row<rwq_q>(role::peer));
  rows.push_back(lat_row<boost_q>(role::peer));
  rows.push_back(lat_row<xenium_q>(role::peer));
  rows.push_back(lat_row<tbb_q>(role::peer));
  rows.push_back(lat_row<mutex_q>(role::peer));
  rows.push_back(floor_row());
  return rows;
}

// The cost of what a channel keeps besides messages: the same channel with counters, with a
// latency histogram (two clock reads per message: one per publish, one per release), both.
template <class T, std::size_t C>
std::vector<row> observed_rows() {
  return {tp_row<ringwire_q, T, C>(role::ours), tp_row<ringwire_metrics_q, T, C>(role::ours),
          tp_row<ringwire_latency_q, T, C>(role::ours), tp_row<ringwire_observed_q, T, C>(role::ours)};
}
std::vector<row> observed_latency_rows() {
  return {lat_row<ringwire_q>(role::ours), lat_row<ringwire_metrics_q>(role::ours),
          lat_row<ringwire_latency_q>(role::ours), lat_row<ringwire_observed_q>(role::ours)};
}

// ---- workloads --------------------------------------------------------------------------------------

template <class T, std::size_t C>
void throughput_table(regime rg) {
  const std::string table = "throughput " + payload_name(sizeof(T)) + " cap " + std::to_string(C) + " " + to_string(rg);
  auto rows = filtered(throughput_rows<T, C>(rg), table);
  if (rows.empty()) return;
  run_table(table, rows, 1);
  print_rate_table("Throughput — payload " + payload_name(sizeof(T)) + ", capacity " + std::to_string(C) + ", " +
                       to_string(rg) + ", producer CPU " + std::to_string(g_cfg.cpus.a) + " → consumer CPU " +
                       std::to_string(g_cfg.cpus.b),
                   rows, sizeof(T), "ringwire spsc");
}

template <class T, std::size_t C>
void batch_table(std::size_t b) {
  const std::string table = "batch " + payload_name(sizeof(T)) + " cap " + std::to_string(C) + " batch " + std::to_string(b);
  auto rows = filtered(batch_rows<T, C>(b), table);
  if (rows.empty()) return;
  run_table(table, rows, 1);
  print_rate_table("Batch throughput — payload " + payload_name(sizeof(T)) + ", capacity " + std::to_string(C) + ", batch " +
                       std::to_string(b) + " (single-element rows for comparison)",
                   rows, sizeof(T), "ringwire try_send / try_recv");
}

void latency_table() {
  const std::string table = "latency 8 B cap 1024";
  auto rows = filtered(latency_rows(), table);
  if (rows.empty()) return;
  run_table(table, rows, 4);
  print_latency_table("Round-trip latency — payload 8 B, capacity 1024, ping CPU " + std::to_string(g_cfg.cpus.a) +
                          " ⇄ pong CPU " + std::to_string(g_cfg.cpus.b),
                      rows);
}

// ns per message (1 / rate) for each row and its difference from the plain channel's, both
// from the medians of this run.
void print_cost_table(const std::string& heading, std::vector<row>& rows) {
  std::ostringstream o;
  o << "\n### " << heading << "\n\n" << reps_note() << "; ns per message = 1000 / median Mmsg/s.\n\n";
  o << "| channel | Mmsg/s | ns per message | cost vs plain | preempted |\n|---|---:|---:|---:|---:|\n";
  const double plain_ns = 1e3 / summarize(rows.front().results[0]).median;
  for (auto& r : rows) {
    const summary s = summarize(r.results[0]);
    const double ns = 1e3 / s.median;
    o << "| " << r.name << " | " << med_range(s) << " | " << num(ns) << " | "
      << (&r == &rows.front() ? std::string("—") : (ns >= plain_ns ? "+" : "") + num(ns - plain_ns) + " ns") << " | "
      << preempted(r) << " |\n";
  }
  out(o.str());
}

void observed_tables() {
  const std::string table = "observed throughput 8 B cap 1024";
  auto rows = filtered(observed_rows<msg<8>, 1024>(), table);
  if (!rows.empty()) {
    run_table(table, rows, 1);
    print_cost_table("Cost of counters and latency histograms — throughput, payload 8 B, capacity 1024, producer CPU " +
                         std::to_string(g_cfg.cpus.a) + " → consumer CPU " + std::to_string(g_cfg.cpus.b),
                     rows);
  }
  const std::string lat = "observed latency 8 B cap 1024";
  auto lrows = filtered(observed_latency_rows(), lat);
  if (lrows.empty()) return;
  run_table(lat, lrows, 4);
  print_latency_table("Cost of counters and latency histograms — round trip, payload 8 B, capacity 1024", lrows);
}

template <std::size_t C>
void all_for_capacity() {
  for (const regime rg : {regime::chasing, regime::lagging}) {
    throughput_table<msg<8>, C>(rg);
    throughput_table<msg<64>, C>(rg);
    throughput_table<msg<1024>, C>(rg);
  }
  for (std::size_t b : g_cfg.batches) {
    if (b * 4 > C) continue;  // a batch must be well below the capacity to mean anything
    batch_table<msg<8>, C>(b);
    batch_table<msg<64>, C>(b);
    batch_table<msg<1024>, C>(b);
  }
}

// ---- the header --------------------------------------------------------------------------------------
void print_header() {
  std::ostringstream o;
  o << "# ringwire benchmarks" << (g_cfg.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "") << "\n\n";
  header_start(o);
  if (g_cfg.cpus.pinned()) {
    const std::string sib = read_first_line("/sys/devices/system/cpu/cpu" + std::to_string(g_cfg.cpus.a) +
                                            "/topology/thread_siblings_list");
    o << "- threads pinned: producer/ping on CPU " << g_cfg.cpus.a << ", consumer/pong on CPU " << g_cfg.cpus.b
      << " (CPU " << g_cfg.cpus.a << " SMT siblings: " << (sib.empty() ? "?" : sib) << ")\n";
  } else {
    header_not_pinned(o);
  }
  header_system(o, " (the last -O wins; -march not set)");
  o << "; invariant: "
    << (cpu_flag("constant_tsc") && cpu_flag("nonstop_tsc") ? "yes (constant_tsc, nonstop_tsc)" : "NOT reported") << "\n";
  o << "- ringwire light fence: "
    << (ringwire::detail::asymmetric_fence::uses_membarrier() ? "membarrier (compiler barrier on the hot path)"
                                                              : "seq_cst fence (membarrier unavailable)")
    << "; endpoints use wait_strategy::busy_spin(), the harness spins on try_* with `pause`\n";
  o << "- method: " << g_cfg.reps << " repetitions, implementations interleaved (A B C … A B C …); one unreported warm-up round first; each run times ~"
    << num(g_cfg.target_s) << " s; throughput excludes the first 2 laps of the ring; latency excludes the first "
    << g_cfg.lat_warm << " round trips; every message verified (sequence + check word)\n";
  o << "- payload body: every message is fully written by the producer and copied by the queue; the consumer checks the first and last word\n";
  out(o.str());
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: ringwire_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                      [--cpus A,B] [--label TEXT]\n"
               "  --quick      capacity 1024, batch 64, 5 reps, 0.1 s runs (under a minute)\n"
               "  (default)    capacities 1024 and 65536, batches 64 and 1024, 7 reps, 0.2 s runs\n"
               "  --smoke      every implementation once with few messages, verifying only (CTest)\n"
               "  --reps N     repetitions per implementation (default 7, --quick 5, at least 5 to report)\n"
               "  --filter S   only rows whose \"<table> <implementation>\" contains S\n"
               "               (tables: throughput, batch, latency, observed; e.g. --filter latency, --filter boost,\n"
               "               --filter chasing, --filter lagging: the two regimes of the throughput tables)\n"
               "  --markdown F also write the report to F\n"
               "  --cpus A,B   the two CPUs to pin to (default: the first two allowed)\n"
               "  --label T    a line for the header (e.g. the commit)\n");
  std::exit(rc);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  c.prog = "ringwire_bench";
  configure(argc, argv, usage);
  // Channels register membarrier on creation; make sure the header reports the final state.
  { auto ch = ringwire::spsc::channel<int>(1); (void)ch; }
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 200);

  const auto t0 = steady::now();
  print_header();
  for (std::size_t cap : c.caps) {
    if (cap == 1024) all_for_capacity<1024>();
    else if (cap == 65536) all_for_capacity<65536>();
  }
  latency_table();
  observed_tables();
  const double secs = std::chrono::duration<double>(steady::now() - t0).count();
  out("\n_total benchmark time: " + num(secs) + " s_\n");
  if (g_runs > 0 && g_preempted_runs * 10 > g_runs) {
    out("\n**Warning: " + std::to_string(g_preempted_runs) + " of " + std::to_string(g_runs) +
        " runs had a pinned thread involuntarily switched out at least once.** On a 2-CPU VM every CPU also runs "
        "kernel threads, so some of this is unavoidable; if the min–max spreads are wide, absolute numbers are "
        "unreliable: compare the ratios measured in this run, and re-run with nothing else busy on CPUs " +
        std::to_string(c.cpus.a) + " and " + std::to_string(c.cpus.b) + ".\n");
  }
  return write_markdown();
}
