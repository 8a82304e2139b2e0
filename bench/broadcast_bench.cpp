// ringwire_broadcast_bench -- ringwire's broadcast channel (one publisher, many subscribers)
// measured by the rules of /work/shared/BENCHMARKING.md, with the SPSC peers and the
// physical floor measured in the same run where a comparison makes sense:
//
//   (1) publish cost on one pinned thread, 8 B and 64 B, with 0, 1 and 4 idle subscribers
//       (lossy): the cost must not depend on the subscriber count;
//   (2) 1 -> 1 round-trip latency (ping through one broadcast channel, pong back through a
//       second one), lossy and lossless, next to ringwire SPSC, boost spsc_queue, moodycamel
//       RWQ and the bare cache-line ping-pong floor;
//   (3) 1 -> 1 throughput, lossy vs lossless, 8 B / 64 B / 1 KiB;
//   (4) fan-out throughput, lossless, 1, 2 and 4 subscribers waiting by spin_then_yield or
//       park (oversubscribed on a 2-CPU machine: said in the table heading).
//
// Every table interleaves its rows (repetition r of each before repetition r + 1) and
// reports median [min–max]. Every run is verified: lossless subscribers must see every
// sequence number in order; lossy subscribers must see increasing sequence numbers whose
// gaps equal the missed() counts reported by status::lagged, and received + missed must
// equal published. A run that breaks that prints what it saw and the program exits 1.
//
//   ringwire_broadcast_bench [--quick | --smoke] [--reps N] [--filter SUBSTR]
//                            [--markdown FILE] [--cpus A,B] [--label TEXT]
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters.hpp"
#include "harness.hpp"
#include "ringwire/broadcast.hpp"

#ifndef RINGWIRE_BENCH_FLAGS
#define RINGWIRE_BENCH_FLAGS "unknown"
#endif

namespace bench {
namespace {

namespace bc = ringwire::broadcast;
using ringwire::status;

// ---- configuration ----------------------------------------------------------------------------
struct config {
  bool quick = false;
  bool smoke = false;
  int reps = 7;
  std::string filter, markdown, label, command;
  cpu_pair cpus;
  double target_s = 0.2;
  double run_timeout_s = 15.0;
  double tsc_per_ns = 1.0;
  std::uint64_t lat_warm = 10000;
};

config g_cfg;
std::string g_md;
int g_runs = 0, g_preempted_runs = 0;

void out(const std::string& s) {
  std::fputs(s.c_str(), stdout);
  std::fflush(stdout);
  g_md += s;
}

void progress(const std::string& s) {
  std::fprintf(stderr, "%s\n", s.c_str());
  std::fflush(stderr);
}

[[noreturn]] void fail_run(const std::string& table, const std::string& row, const std::string& why) {
  const std::string m = "\n**FAILED** [" + table + "] " + row + ": " + why + "\n";
  std::fputs(m.c_str(), stdout);
  std::fprintf(stderr, "ringwire_broadcast_bench: FAILED [%s] %s: %s\n", table.c_str(), row.c_str(), why.c_str());
  if (!g_cfg.markdown.empty()) {
    std::ofstream f(g_cfg.markdown);
    f << g_md << m;
  }
  std::exit(1);
}

steady::time_point deadline_from_now() {
  return steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(g_cfg.run_timeout_s));
}

std::string payload_name(std::size_t b) { return b >= 1024 ? std::to_string(b / 1024) + " KiB" : std::to_string(b) + " B"; }

// ---- rows and tables (the same machinery as ringwire_bench) --------------------------------------
struct sample {
  bool ok = true;
  std::string err;
  double secs = 0;
  std::uint64_t units = 0;
  std::vector<double> v;  // the row's metrics
  long preempted = 0;
};

enum class role { ours, peer, reference };

struct row {
  std::string name;
  role who;
  std::function<sample(double)> run;
  std::vector<std::vector<double>> results;  // [metric][rep]
  int reps_done = 0;
  int preempted_runs = 0;
};

bool wanted(const std::string& table, const std::string& name) {
  return g_cfg.filter.empty() || (table + " " + name).find(g_cfg.filter) != std::string::npos;
}

std::vector<row> filtered(std::vector<row> rows, const std::string& table) {
  std::vector<row> keep;
  for (auto& r : rows)
    if (wanted(table, r.name)) keep.push_back(std::move(r));
  return keep;
}

// One unreported warm-up round, then the reps interleaved: A B C ... A B C ...
void run_table(const std::string& table, std::vector<row>& rows, std::size_t metrics) {
  if (!g_cfg.smoke) {
    progress("[" + table + "] warm-up round");
    for (auto& r : rows) {
      const sample s = r.run(g_cfg.target_s / 2);
      if (!s.ok) fail_run(table, r.name, "warm-up run: " + (s.err.empty() ? "aborted" : s.err));
    }
  }
  for (auto& r : rows) r.results.assign(metrics, {});
  for (int rep = 0; rep < g_cfg.reps; ++rep) {
    progress("[" + table + "] rep " + std::to_string(rep + 1) + "/" + std::to_string(g_cfg.reps));
    for (auto& r : rows) {
      const sample s = r.run(g_cfg.target_s);
      if (!s.ok) fail_run(table, r.name, "rep " + std::to_string(rep + 1) + ": " + (s.err.empty() ? "aborted" : s.err));
      for (std::size_t k = 0; k < metrics && k < s.v.size(); ++k) r.results[k].push_back(s.v[k]);
      ++r.reps_done;
      ++g_runs;
      if (s.preempted > 0) ++r.preempted_runs, ++g_preempted_runs;
    }
  }
}

std::string preempted(const row& r) { return std::to_string(r.preempted_runs) + "/" + std::to_string(r.reps_done); }
std::string reps_note() { return std::to_string(g_cfg.reps) + " reps interleaved, median [min–max]"; }

const row* find_row(const std::vector<row>& rows, const std::string& name) {
  for (auto& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}

double med(const row* r, std::size_t metric = 0) { return r ? summarize(r->results[metric]).median : 0; }

// A generic table: one column per metric (median [min–max]), then "vs <base>" on metric 0.
void print_table(const std::string& heading, const std::string& note, const std::vector<std::string>& cols,
                 const std::vector<row>& rows, const std::string& base_name, const std::string& footer) {
  std::ostringstream o;
  o << "\n### " << heading << "\n\n" << note << "\n\n| implementation |";
  for (auto& c : cols) o << " " << c << " |";
  o << " vs " << base_name << " | preempted |\n|---|";
  for (std::size_t i = 0; i < cols.size(); ++i) o << "---:|";
  o << "---:|---:|\n";
  const double base = med(find_row(rows, base_name));
  for (auto& r : rows) {
    o << "| " << (r.who == role::ours ? "**" + r.name + "**" : r.name) << " |";
    for (std::size_t k = 0; k < cols.size(); ++k) o << " " << med_range(summarize(r.results[k])) << " |";
    o << " " << (base > 0 ? ratio(med(&r) / base) : "—") << " | " << preempted(r) << " |\n";
  }
  o << "\n" << footer << "\n";
  out(o.str());
}

// ---- (1) publish cost, one thread --------------------------------------------------------------
// The publisher publishes on one pinned thread (CPU a) for `target` seconds after a warm-up of
// 2 laps; `subs` subscribers are attached and never read. Verification afterwards: every idle
// subscriber reports lagged with missed = published - capacity, then reads exactly the last
// `capacity` messages in order, then empty: received + missed == published.
constexpr std::size_t pub_cap = 1024;

template <class T>
sample publish_cost_run(double target, int subs) {
  sample s;
  std::thread t([&] {
    pin_this_thread(g_cfg.cpus.a);
    const long sw0 = involuntary_switches();
    bc::options o;
    o.policy = bc::policy::lossy;
    o.publisher_wait = ringwire::wait_strategy::busy_spin();
    o.subscriber_wait = ringwire::wait_strategy::busy_spin();
    auto [pub, hub] = bc::channel<T>(pub_cap, o);
    std::vector<bc::subscriber<T>> sv;
    for (int k = 0; k < subs; ++k) sv.push_back(hub.subscribe());
    T m = message_template<T>();
    const std::uint64_t warm = 2 * pub_cap;
    steady::time_point t0{}, t1{};
    std::uint64_t i = 0, failures = 0;
    for (;; ++i) {
      if (i == warm) t0 = steady::now();
      if (i > warm && (i & 1023) == 0) {
        t1 = steady::now();
        if (t1 - t0 >= std::chrono::duration<double>(target)) break;
      }
      stamp(m, i);
      failures += pub.try_publish(m) != status::ok;
    }
    s.secs = std::chrono::duration<double>(t1 - t0).count();
    s.units = i - warm;
    s.v = {s.secs * 1e9 / static_cast<double>(s.units)};
    s.preempted = involuntary_switches() - sw0;
    if (failures != 0) {
      s.ok = false;
      s.err = std::to_string(failures) + " lossy try_publish calls did not return ok";
      return;
    }
    if (pub.published() != i) {
      s.ok = false;
      s.err = "published() = " + std::to_string(pub.published()) + ", expected " + std::to_string(i);
      return;
    }
    for (auto& sub : sv) {
      std::uint64_t next = i - pub_cap;  // the oldest message still in the ring
      auto r = sub.try_recv();
      if (r.status() != status::lagged || r.missed() != next) {
        s.ok = false;
        s.err = "idle subscriber: expected lagged with missed " + std::to_string(next) + ", got status " +
                std::to_string(static_cast<int>(r.status())) + " missed " + std::to_string(r.missed());
        return;
      }
      for (;; ++next) {
        auto x = sub.try_recv();
        if (x.status() == status::empty) break;
        if (!x || !verify(*x, next)) {
          s.ok = false;
          s.err = "idle subscriber: bad message at sequence " + std::to_string(next);
          return;
        }
      }
      if (next != i || sub.received() + sub.missed() != i) {
        s.ok = false;
        s.err = "idle subscriber: received + missed = " + std::to_string(sub.received() + sub.missed()) +
                ", published " + std::to_string(i);
        return;
      }
    }
  });
  t.join();
  return s;
}

template <class T>
void publish_cost_table() {
  const std::string table = "publish cost " + payload_name(sizeof(T));
  std::vector<row> rows;
  for (int subs : {0, 1, 4}) {
    row r;
    r.name = "broadcast lossy, " + std::to_string(subs) + " idle subscriber" + (subs == 1 ? "" : "s");
    r.who = role::ours;
    r.run = [subs](double t) { return publish_cost_run<T>(t, subs); };
    rows.push_back(std::move(r));
  }
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 1);
  const row* z = find_row(rows, "broadcast lossy, 0 idle subscribers");
  const row* f = find_row(rows, "broadcast lossy, 4 idle subscribers");
  std::string foot;
  if (z && f) foot = "**4 subscribers / 0 subscribers: " + ratio(med(f) / med(z)) + "** (target: 1.00×, the publisher never reads subscriber state on the lossy path)\n";
  print_table("Publish cost — payload " + payload_name(sizeof(T)) + ", capacity " + std::to_string(pub_cap) +
                  ", lossy, one thread on CPU " + std::to_string(g_cfg.cpus.a),
              "ns per try_publish (lower is better), " + reps_note() +
                  "; the subscribers are attached but never read (each is verified afterwards: lagged, then the last " +
                  std::to_string(pub_cap) + " messages in order).",
              {"ns / publish"}, rows, "broadcast lossy, 0 idle subscribers", foot);
}

// ---- adapters for the two-thread workloads ----------------------------------------------------
// The adapter interface of adapters.hpp (try_push / try_pop), so latency_run is the same code
// for the broadcast channel and the SPSC queues. One subscriber, joined before anything is
// published. try_pop returns false for anything but ok: a lagged or evicted result shows up
// as a sequence error or a stall, i.e. a failed run.
inline bc::options bcast_options(bc::policy p) {
  bc::options o;
  o.policy = p;
  o.publisher_wait = ringwire::wait_strategy::busy_spin();
  o.subscriber_wait = ringwire::wait_strategy::busy_spin();
  return o;
}

template <class T, std::size_t C, bc::policy P>
struct alignas(128) bcast_q {
  static constexpr const char* name = P == bc::policy::lossy ? "ringwire broadcast (lossy)" : "ringwire broadcast (lossless)";
  using pair_t = std::pair<bc::publisher<T>, bc::hub<T>>;
  bcast_q() : bcast_q(bc::channel<T>(C, bcast_options(P))) {}
  explicit bcast_q(pair_t p) : pub(std::move(p.first)), sub(p.second.subscribe()) {}
  bool try_push(const T& v) { return pub.try_publish(v) == status::ok; }
  bool try_pop(T& o) {
    auto r = sub.try_recv();
    if (!r) return false;
    o = *r;
    return true;
  }
  alignas(128) bc::publisher<T> pub;
  alignas(128) bc::subscriber<T> sub;
};
template <class T, std::size_t C>
using bcast_lossy_q = bcast_q<T, C, bc::policy::lossy>;
template <class T, std::size_t C>
using bcast_lossless_q = bcast_q<T, C, bc::policy::lossless>;

// ---- (2) round-trip latency (the code of ringwire_bench's latency table) -----------------------
using msg8 = msg<8>;
constexpr std::size_t lat_cap = 1024;
constexpr std::uint64_t sentinel = UINT64_MAX;

sample latency_sample(const histogram& h, double secs) {
  sample s;
  const double k = 1.0 / g_cfg.tsc_per_ns;
  s.secs = secs;
  s.units = h.total();
  s.v = {h.quantile(0.50) * k, h.quantile(0.99) * k, h.quantile(0.999) * k, static_cast<double>(h.max()) * k};
  return s;
}

inline bool time_up(std::uint64_t i, steady::time_point t0, double target) {
  return i > g_cfg.lat_warm && (i & 255) == 0 && steady::now() - t0 >= std::chrono::duration<double>(target);
}

template <class Q>
sample latency_run(double target) {
  auto qa = std::make_unique<Q>();  // ping -> pong
  auto qb = std::make_unique<Q>();  // pong -> ping
  run_control rc;
  rc.deadline = deadline_from_now();
  histogram h;
  sample s;
  double secs = 0;
  std::string pong_err;
  auto stall = [&](std::string why) {
    if (s.ok) s.ok = false, s.err = std::move(why);
  };
  std::thread ping([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    msg8 m{}, r{};
    steady::time_point t0{};
    for (std::uint64_t i = 0;; ++i) {
      if (i == g_cfg.lat_warm) t0 = steady::now();
      if (time_up(i, t0, target)) break;
      stamp(m, i);
      const std::uint64_t a = ticks();
      while (!qa->try_push(m))
        if (sp()) return stall("ping: stalled pushing round trip #" + std::to_string(i));
      while (!qb->try_pop(r))
        if (sp()) return stall("ping: stalled waiting for the echo of round trip #" + std::to_string(i) + " (lost message?)");
      const std::uint64_t b = ticks();
      if (!verify(r, i)) {
        s.ok = false;
        s.err = "round trip #" + std::to_string(i) + ": echo carried sequence " + std::to_string(r.w[0]);
        rc.abort.store(true);
        return;
      }
      if (i >= g_cfg.lat_warm) h.add(b - a);
    }
    secs = std::chrono::duration<double>(steady::now() - t0).count();
    stamp(m, sentinel);
    while (!qa->try_push(m))
      if (sp()) return stall("ping: stalled pushing the final sentinel");
  });
  std::thread pong([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    msg8 r{};
    for (std::uint64_t i = 0;; ++i) {
      while (!qa->try_pop(r))
        if (sp()) return void(pong_err = "pong: stalled waiting for round trip #" + std::to_string(i));
      if (r.w[0] == sentinel) break;
      while (!qb->try_push(r))
        if (sp()) return void(pong_err = "pong: stalled echoing round trip #" + std::to_string(i));
    }
  });
  ping.join();
  pong.join();
  if (!s.ok) {
    if (!pong_err.empty()) s.err += "; " + pong_err;
    return s;
  }
  if (rc.abort.load()) {
    s.ok = false;
    s.err = "run aborted: " + (pong_err.empty() ? std::string("deadline passed") : pong_err);
    return s;
  }
  sample o = latency_sample(h, secs);
  o.preempted = rc.preempted.load();
  return o;
}

// The floor: one cache line each way, each written by one thread, nothing else.
sample floor_run(double target) {
  struct alignas(128) line {
    std::atomic<std::uint64_t> v{0};
  };
  auto a = std::make_unique<line>();
  auto b = std::make_unique<line>();
  run_control rc;
  rc.deadline = deadline_from_now();
  histogram h;
  double secs = 0;
  std::thread ping([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    steady::time_point t0{};
    for (std::uint64_t i = 1;; ++i) {
      if (i == g_cfg.lat_warm) t0 = steady::now();
      if (time_up(i, t0, target)) break;
      const std::uint64_t t = ticks();
      a->v.store(i, std::memory_order_release);
      while (b->v.load(std::memory_order_acquire) != i)
        if (sp()) return;
      const std::uint64_t u = ticks();
      if (i >= g_cfg.lat_warm) h.add(u - t);
    }
    secs = std::chrono::duration<double>(steady::now() - t0).count();
    a->v.store(sentinel, std::memory_order_release);
  });
  std::thread pong([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    for (std::uint64_t i = 1;; ++i) {
      std::uint64_t x;
      while ((x = a->v.load(std::memory_order_acquire)) != i) {
        if (x == sentinel) return;
        if (sp()) return;
      }
      b->v.store(i, std::memory_order_release);
    }
  });
  ping.join();
  pong.join();
  if (rc.abort.load()) {
    sample s;
    s.ok = false;
    s.err = "floor ping-pong stalled";
    return s;
  }
  sample o = latency_sample(h, secs);
  o.preempted = rc.preempted.load();
  return o;
}

template <template <class, std::size_t> class Q>
row lat_row(role who) {
  row r;
  r.name = Q<msg8, lat_cap>::name;
  r.who = who;
  r.run = [](double t) { return latency_run<Q<msg8, lat_cap>>(t); };
  return r;
}

void latency_table() {
  const std::string table = "latency 8 B cap 1024";
  std::vector<row> rows;
  rows.push_back(lat_row<bcast_lossy_q>(role::ours));
  rows.push_back(lat_row<bcast_lossless_q>(role::ours));
  rows.push_back(lat_row<ringwire_q>(role::reference));
  rows.push_back(lat_row<boost_q>(role::peer));
  rows.push_back(lat_row<rwq_q>(role::peer));
  row f;
  f.name = "floor: cache-line ping-pong";
  f.who = role::reference;
  f.run = [](double t) { return floor_run(t); };
  rows.push_back(std::move(f));
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 4);
  std::ostringstream o;
  o << "\n### Round-trip latency — 1 → 1, payload 8 B, capacity 1024, ping CPU " << g_cfg.cpus.a << " ⇄ pong CPU "
    << g_cfg.cpus.b << "\n\n";
  o << "Round trip in ns (lower is better), " << reps_note()
    << " of each percentile over the reps; max = worst round trip of any rep. Broadcast rows: ping publishes on one "
       "channel, pong's subscriber receives and publishes the echo on a second channel (one subscriber each, "
       "try_publish / try_recv, busy spin).\n\n";
  o << "| implementation | p50 | p99 | p99.9 | max | p50 vs ringwire spsc | p50 / floor | preempted |\n"
       "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  const double spsc50 = med(find_row(rows, "ringwire spsc"));
  const double fl50 = med(find_row(rows, "floor: cache-line ping-pong"));
  double peer50 = 0;
  std::string peer_name;
  for (auto& r : rows) {
    const summary p50 = summarize(r.results[0]);
    o << "| " << (r.who == role::ours ? "**" + r.name + "**" : r.name) << " | " << med_range(p50) << " | "
      << med_range(summarize(r.results[1])) << " | " << med_range(summarize(r.results[2])) << " | "
      << num(summarize(r.results[3]).max) << " | " << (spsc50 > 0 ? ratio(p50.median / spsc50) : "—") << " | "
      << (fl50 > 0 ? ratio(p50.median / fl50) : "—") << " | " << preempted(r) << " |\n";
    if (r.who == role::peer && (peer_name.empty() || p50.median < peer50)) peer50 = p50.median, peer_name = r.name;
  }
  o << "\n";
  for (const char* n : {"ringwire broadcast (lossy)", "ringwire broadcast (lossless)"}) {
    const double b50 = med(find_row(rows, n));
    if (b50 <= 0) continue;
    o << "**" << n << "** p50: " << (fl50 > 0 ? ratio(b50 / fl50) + " of the floor" : "") << (spsc50 > 0 ? ", " + ratio(b50 / spsc50) + " of ringwire spsc" : "")
      << (!peer_name.empty() ? ", " + ratio(b50 / peer50) + " of the best SPSC peer (" + peer_name + ")" : "") << "\n\n";
  }
  out(o.str());
}

// ---- (3) 1 -> 1 throughput, lossy vs lossless ------------------------------------------------------
// Publisher on CPU a, subscriber on CPU b, both spinning on try_*. Time-bounded like
// ringwire_bench: the subscriber starts the clock at sequence position 2 laps, stops it after
// `target` seconds, asks the publisher to stop, then drains. The subscriber tracks its position
// = received + missed: every received message must carry exactly that sequence number; a
// lagged result (lossy only; a failure for lossless) advances it by missed(). At the end the
// position must equal what the publisher published, and the subscriber's own received() and
// missed() must agree. Metrics: position rate (= publish rate seen by the subscriber), rate of
// delivered messages, delivered fraction.
constexpr std::size_t tp_cap = 1024;

struct tp_control : run_control {
  alignas(128) std::atomic<bool> stop{false};
  alignas(128) std::atomic<std::uint64_t> sent{UINT64_MAX};
  alignas(128) std::atomic<std::uint64_t> consumed{0};  // paced runs: subscriber position, every 64
};

template <class T>
sample bcast_throughput_run(double target, bc::policy pol, bool paced = false) {
  auto ch = bc::channel<T>(tp_cap, bcast_options(pol));
  auto pub = std::move(ch.first);
  auto sub = ch.second.subscribe();
  const bool lossless = pol != bc::policy::lossy;
  tp_control rc;
  rc.deadline = deadline_from_now();
  sample s;
  auto fail = [&](std::string why) {
    if (s.ok) s.ok = false, s.err = std::move(why);
    rc.abort.store(true, std::memory_order_relaxed);
  };
  std::thread prod([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    T m = message_template<T>();
    std::uint64_t i = 0;
    for (;; ++i) {
      if ((i & 63) == 0 && rc.stop.load(std::memory_order_relaxed)) break;
      stamp(m, i);
      if (paced)  // the harness, not the channel, keeps the lossy publisher within half a ring
        while (i - rc.consumed.load(std::memory_order_relaxed) >= tp_cap / 2)
          if (sp()) return;
      while (pub.try_publish(m) != status::ok)
        if (sp()) return;
    }
    rc.sent.store(i, std::memory_order_release);
  });
  std::thread cons([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    const std::uint64_t warm = 2 * tp_cap;
    std::uint64_t pos = 0, got = 0, missed = 0, next_check = warm, from_pos = 0, from_got = 0, to_pos = 0, to_got = 0;
    steady::time_point t0{}, t1{};
    bool started = false, stopped = false;
    for (;;) {
      if (pos >= next_check && !stopped) {
        next_check = pos + 1024;
        const auto now = steady::now();
        if (!started) {
          t0 = now, from_pos = pos, from_got = got, started = true;
        } else if (now - t0 >= std::chrono::duration<double>(target)) {
          t1 = now, to_pos = pos, to_got = got, stopped = true;
          rc.stop.store(true, std::memory_order_relaxed);
        }
      }
      auto r = sub.try_recv();
      if (r) {
        if (!verify(*r, pos)) return fail("message at position " + std::to_string(pos) + " carried sequence " + std::to_string(r->w[0]) + " (lost, duplicated or reordered)");
        ++pos, ++got;
        if (paced && (pos & 63) == 0) rc.consumed.store(pos, std::memory_order_relaxed);
        continue;
      }
      if (r.status() == status::lagged) {
        if (lossless) return fail("lossless subscriber saw lagged (missed " + std::to_string(r.missed()) + ")");
        if (r.missed() == 0) return fail("lagged with missed() == 0");
        pos += r.missed(), missed += r.missed();
        if (paced) rc.consumed.store(pos, std::memory_order_relaxed);
        continue;
      }
      if (r.status() != status::empty) return fail("unexpected status " + std::to_string(static_cast<int>(r.status())));
      if (stopped) {
        const std::uint64_t n = rc.sent.load(std::memory_order_acquire);
        if (n != UINT64_MAX && pos >= n) break;
      }
      if (sp()) return fail("stalled at position " + std::to_string(pos));
    }
    const std::uint64_t n = rc.sent.load(std::memory_order_acquire);
    if (pos != n) return fail("position " + std::to_string(pos) + " but " + std::to_string(n) + " published");
    if (got + missed != n || sub.received() != got || sub.missed() != missed)
      return fail("received " + std::to_string(got) + " + missed " + std::to_string(missed) + " != published " + std::to_string(n) +
                  " (subscriber counts: " + std::to_string(sub.received()) + " + " + std::to_string(sub.missed()) + ")");
    if (lossless && missed != 0) return fail("lossless subscriber missed messages");
    if (sub.try_recv().status() != status::empty) return fail("a message beyond the last one published");
    s.secs = std::chrono::duration<double>(t1 - t0).count();
    s.units = to_pos - from_pos;
    const double d = static_cast<double>(to_got - from_got);
    s.v = {static_cast<double>(s.units) / s.secs / 1e6, d / s.secs / 1e6, 100.0 * d / static_cast<double>(s.units)};
  });
  prod.join();
  cons.join();
  s.preempted = rc.preempted.load();
  if (rc.abort.load() && s.ok) s.ok = false, s.err = "run aborted: deadline passed";
  return s;
}

// Reference: ringwire SPSC through the same loop shape (try_send / try_recv, busy spin, same
// capacity, same clock and drain protocol), every message verified. Metrics as above.
template <class T>
sample spsc_throughput_run(double target) {
  auto q = std::make_unique<ringwire_q<T, tp_cap>>();
  tp_control rc;
  rc.deadline = deadline_from_now();
  sample s;
  auto fail = [&](std::string why) {
    if (s.ok) s.ok = false, s.err = std::move(why);
    rc.abort.store(true, std::memory_order_relaxed);
  };
  std::thread prod([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    T m = message_template<T>();
    std::uint64_t i = 0;
    for (;; ++i) {
      if ((i & 63) == 0 && rc.stop.load(std::memory_order_relaxed)) break;
      stamp(m, i);
      while (!q->try_push(m))
        if (sp()) return;
    }
    rc.sent.store(i, std::memory_order_release);
  });
  std::thread cons([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    const std::uint64_t warm = 2 * tp_cap;
    std::uint64_t pos = 0, next_check = warm, from = 0, to = 0;
    steady::time_point t0{}, t1{};
    bool started = false, stopped = false;
    T m{};
    for (;;) {
      if (pos >= next_check && !stopped) {
        next_check = pos + 1024;
        const auto now = steady::now();
        if (!started) {
          t0 = now, from = pos, started = true;
        } else if (now - t0 >= std::chrono::duration<double>(target)) {
          t1 = now, to = pos, stopped = true;
          rc.stop.store(true, std::memory_order_relaxed);
        }
      }
      if (q->try_pop(m)) {
        if (!verify(m, pos)) return fail("message #" + std::to_string(pos) + " carried sequence " + std::to_string(m.w[0]));
        ++pos;
        continue;
      }
      if (stopped) {
        const std::uint64_t n = rc.sent.load(std::memory_order_acquire);
        if (n != UINT64_MAX && pos >= n) break;
      }
      if (sp()) return fail("stalled at message " + std::to_string(pos));
    }
    const std::uint64_t n = rc.sent.load(std::memory_order_acquire);
    if (pos != n) return fail("received " + std::to_string(pos) + ", sent " + std::to_string(n));
    if (q->try_pop(m)) return fail("a message beyond the last one sent");
    s.secs = std::chrono::duration<double>(t1 - t0).count();
    s.units = to - from;
    const double r = static_cast<double>(s.units) / s.secs / 1e6;
    s.v = {r, r, 100.0};
  });
  prod.join();
  cons.join();
  s.preempted = rc.preempted.load();
  if (rc.abort.load() && s.ok) s.ok = false, s.err = "run aborted: deadline passed";
  return s;
}

template <class T>
void throughput_table() {
  const std::string table = "throughput 1->1 " + payload_name(sizeof(T));
  std::vector<row> rows;
  for (bc::policy p : {bc::policy::lossy, bc::policy::lossless}) {
    row r;
    r.name = p == bc::policy::lossy ? "ringwire broadcast (lossy)" : "ringwire broadcast (lossless)";
    r.who = role::ours;
    r.run = [p](double t) { return bcast_throughput_run<T>(t, p); };
    rows.push_back(std::move(r));
  }
  row pr;
  pr.name = "ringwire broadcast (lossy, paced)";
  pr.who = role::ours;
  pr.run = [](double t) { return bcast_throughput_run<T>(t, bc::policy::lossy, true); };
  rows.push_back(std::move(pr));
  row sp;
  sp.name = "ringwire spsc (reference)";
  sp.who = role::reference;
  sp.run = [](double t) { return spsc_throughput_run<T>(t); };
  rows.push_back(std::move(sp));
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 3);
  const double spsc = med(find_row(rows, "ringwire spsc (reference)"));
  const double lossy = med(find_row(rows, "ringwire broadcast (lossy)"));
  const double lossless = med(find_row(rows, "ringwire broadcast (lossless)"));
  const double paced = med(find_row(rows, "ringwire broadcast (lossy, paced)"));
  std::string foot;
  if (paced > 0 && lossless > 0)
    foot = "**time per message, lossless / lossy (paced): " + ratio(paced / lossless) + "** (target: at most 1.10×). ";
  if (lossy > 0 && lossless > 0)
    foot += "lossless / free-running lossy publish rate: " + ratio(lossless / lossy) +
            " (a free-running lossy publisher never waits: its rate is the publisher alone, and its subscriber keeps "
            "lagging; the paced row keeps the publisher within half a ring of the subscriber through a harness "
            "counter, so both rows deliver every message and compare the channel's cost)\n";
  if (lossless > 0 && spsc > 0) foot += "\nlossless broadcast / ringwire spsc (same loop, same capacity): " + ratio(lossless / spsc) + "\n";
  print_table("Throughput 1 → 1 — payload " + payload_name(sizeof(T)) + ", capacity " + std::to_string(tp_cap) +
                  ", publisher CPU " + std::to_string(g_cfg.cpus.a) + " → subscriber CPU " + std::to_string(g_cfg.cpus.b),
              "Million messages/s (higher is better), " + reps_note() +
                  ". published = sequence numbers the subscriber advanced over (received + missed); delivered = messages "
                  "it actually received. Lossless must deliver 100 %; lossy is verified as received + missed == published. "
                  "Both ends spin on try_publish / try_recv; lossy (paced): the harness holds the publisher back while it is "
                  "half a ring ahead of the subscriber's position (shared every 64 messages), so it should lose nothing; "
                  "ringwire spsc runs the same loop as a reference.",
              {"published Mmsg/s", "delivered Mmsg/s", "delivered %"}, rows, "ringwire broadcast (lossy)", foot);
}

// ---- (4) fan-out, lossless ------------------------------------------------------------------------
// One publisher (publish(), waits by its strategy when the ring is full) and `subs` subscribers
// (recv(), waiting by spin_then_yield or park), none pinned: with more threads than CPUs the
// scheduler must be free to move them. The publisher publishes for `target` seconds after 2
// laps of warm-up, then closes; every subscriber must receive every sequence number in order
// and then see closed. Rate = messages published per second in the timed part (each one
// delivered to every subscriber).
constexpr std::size_t fan_cap = 1024;

template <class T>
sample fanout_run(double target, int subs, ringwire::wait_strategy w) {
  bc::options o;
  o.policy = bc::policy::lossless;
  o.publisher_wait = w;
  o.subscriber_wait = w;
  auto ch = bc::channel<T>(fan_cap, o);
  auto pub = std::move(ch.first);
  std::vector<bc::subscriber<T>> sv;
  for (int k = 0; k < subs; ++k) sv.push_back(ch.second.subscribe());
  std::vector<std::string> errs(static_cast<std::size_t>(subs));
  std::vector<long> sw(static_cast<std::size_t>(subs) + 1, 0);
  std::atomic<int> ready{0};
  sample s;
  std::uint64_t total = 0;
  std::vector<std::thread> th;
  for (int k = 0; k < subs; ++k) {
    th.emplace_back([&, k] {
      const long sw0 = involuntary_switches();
      auto& sub = sv[static_cast<std::size_t>(k)];
      auto& err = errs[static_cast<std::size_t>(k)];
      ready.fetch_add(1);
      std::uint64_t i = 0;
      for (;; ++i) {
        auto r = sub.recv_for(std::chrono::milliseconds(static_cast<long>(g_cfg.run_timeout_s * 1000)));
        if (r) {
          if (!verify(*r, i)) {
            err = "subscriber " + std::to_string(k) + ": message #" + std::to_string(i) + " carried sequence " + std::to_string(r->w[0]);
            break;
          }
          continue;
        }
        if (r.status() != status::closed) err = "subscriber " + std::to_string(k) + ": status " + std::to_string(static_cast<int>(r.status())) + " after " + std::to_string(i) + " messages";
        break;
      }
      if (err.empty() && i != total) err = "subscriber " + std::to_string(k) + ": received " + std::to_string(i) + ", published " + std::to_string(total);
      sw[static_cast<std::size_t>(k)] = involuntary_switches() - sw0;
    });
  }
  th.emplace_back([&] {
    const long sw0 = involuntary_switches();
    while (ready.load() < subs) std::this_thread::yield();
    T m = message_template<T>();
    const std::uint64_t warm = 2 * fan_cap;
    steady::time_point t0{}, t1{};
    const auto deadline = deadline_from_now();
    std::uint64_t i = 0;
    for (;; ++i) {
      if (i == warm) t0 = steady::now();
      if (i > warm && (i & 1023) == 0) {
        t1 = steady::now();
        if (t1 - t0 >= std::chrono::duration<double>(target)) break;
        if (t1 > deadline) break;
      }
      stamp(m, i);
      const status st = pub.publish_for(m, std::chrono::milliseconds(static_cast<long>(g_cfg.run_timeout_s * 1000)));
      if (st != status::ok) {
        s.ok = false;
        s.err = "publish #" + std::to_string(i) + " returned status " + std::to_string(static_cast<int>(st));
        break;
      }
    }
    total = i;  // written before close(): the subscribers read it after they see closed
    pub.close();
    s.secs = std::chrono::duration<double>(t1 - t0).count();
    s.units = i - warm;
    s.v = {static_cast<double>(s.units) / s.secs / 1e6, static_cast<double>(s.units * static_cast<std::uint64_t>(subs)) / s.secs / 1e6};
    sw[static_cast<std::size_t>(subs)] = involuntary_switches() - sw0;
  });
  for (auto& t : th) t.join();
  for (auto& e : errs)
    if (!e.empty() && s.ok) s.ok = false, s.err = e;
  for (long x : sw) s.preempted += x;
  return s;
}

void fanout_table() {
  using T = msg<64>;
  const std::string table = "fan-out lossless 64 B";
  std::vector<row> rows;
  struct variant {
    const char* wname;
    ringwire::wait_strategy w;
    std::vector<int> subs;
  };
  const std::vector<variant> vs{{"spin_then_yield", ringwire::wait_strategy::spin_then_yield(), {1, 2, 4}},
                                {"park", ringwire::wait_strategy::park(), {2, 4}}};
  for (auto& v : vs)
    for (int n : v.subs) {
      row r;
      r.name = "ringwire broadcast lossless, " + std::to_string(n) + " sub" + (n == 1 ? "" : "s") + ", " + v.wname;
      r.who = role::ours;
      const ringwire::wait_strategy w = v.w;
      r.run = [n, w](double t) { return fanout_run<T>(t, n, w); };
      rows.push_back(std::move(r));
    }
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 2);
  const unsigned ncpu = std::thread::hardware_concurrency();
  print_table("Fan-out throughput — lossless, payload 64 B, capacity " + std::to_string(fan_cap) + ", 1 publisher + 1/2/4 subscribers, threads NOT pinned" +
                  (ncpu <= 4 ? " — OVERSUBSCRIBED: up to 5 threads on " + std::to_string(ncpu) + " CPUs" : ""),
              "Million messages/s published (higher is better; every message delivered to every subscriber and verified), " + reps_note() +
                  ". deliveries = published × subscribers. Publisher and subscribers wait by the strategy named (never busy spin: "
                  "more threads than CPUs). On a 2-CPU machine these numbers measure the scheduler as much as the channel; "
                  "preempted counts runs in which any thread was involuntarily switched out.",
              {"published Mmsg/s", "deliveries M/s"}, rows, "ringwire broadcast lossless, 1 sub, spin_then_yield", "");
}

// ---- the header ----------------------------------------------------------------------------------------
std::string read_first_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

void print_header() {
  std::ostringstream o;
  o << "\n## ringwire broadcast benchmarks" << (g_cfg.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "") << "\n\n";
  o << "- date: " << now_utc() << "\n- command: `" << g_cfg.command << "`\n";
  if (!g_cfg.label.empty()) o << "- label: " << g_cfg.label << "\n";
  o << "- CPU: " << cpu_model() << "; " << std::thread::hardware_concurrency() << " online CPUs, " << allowed_cpus().size()
    << " in this process's affinity mask\n";
  if (g_cfg.cpus.pinned())
    o << "- pinned workloads: publisher/ping on CPU " << g_cfg.cpus.a << ", subscriber/pong on CPU " << g_cfg.cpus.b
      << "; the fan-out workload is not pinned\n";
  else
    o << "- threads NOT pinned (fewer than two CPUs available): numbers are not meaningful\n";
  o << "- kernel: " << kernel() << "; load average at start: " << read_first_line("/proc/loadavg") << "\n";
#if defined(__GNUC__) && !defined(__clang__)
  o << "- compiler: g++ " << __VERSION__;
#else
  o << "- compiler: " << __VERSION__;
#endif
  o << "; flags: `" << RINGWIRE_BENCH_FLAGS << "`"
#if defined(NDEBUG)
    << " (NDEBUG"
#else
    << " (assertions ON"
#endif
    << ", RINGWIRE_CHECKS=" << RINGWIRE_CHECKS << ")\n";
  char tsc[64];
  std::snprintf(tsc, sizeof tsc, "%.3f", g_cfg.tsc_per_ns);
  o << "- TSC: " << tsc << " GHz (calibrated against steady_clock)\n";
  o << "- method: " << g_cfg.reps << " repetitions, rows interleaved; one unreported warm-up round first; each run times ~"
    << num(g_cfg.target_s) << " s after 2 laps of warm-up (latency: after " << g_cfg.lat_warm
    << " round trips); every run verified (sequence + check word; lossy: received + missed == published)\n";
  out(o.str());
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: ringwire_broadcast_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                                [--cpus A,B] [--label TEXT]\n"
               "  --quick      5 reps, 0.1 s runs (about a minute)\n"
               "  (default)    7 reps, 0.2 s runs\n"
               "  --smoke      every row once with few messages, verifying only (CTest)\n"
               "  --reps N     repetitions per row (at least 5 to report)\n"
               "  --filter S   only rows whose \"<table> <row>\" contains S\n"
               "               (tables: publish cost, latency, throughput 1->1, fan-out)\n"
               "  --markdown F also write the report to F (appends with --append)\n"
               "  --cpus A,B   the two CPUs to pin to (default: the first two allowed)\n"
               "  --label T    a line for the header\n");
  std::exit(rc);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  int reps = -1;
  bool append = false;
  c.command = "ringwire_broadcast_bench";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    c.command += " " + a;
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      c.command += std::string(" ") + argv[i + 1];
      return argv[++i];
    };
    if (a == "--quick") c.quick = true;
    else if (a == "--smoke") c.smoke = true;
    else if (a == "--reps") reps = std::atoi(value().c_str());
    else if (a == "--filter") c.filter = value();
    else if (a == "--markdown") c.markdown = value();
    else if (a == "--append") append = true;
    else if (a == "--label") c.label = value();
    else if (a == "--cpus") {
      const std::string v = value();
      if (std::sscanf(v.c_str(), "%d,%d", &c.cpus.a, &c.cpus.b) != 2) usage(2);
    } else if (a == "--help" || a == "-h") usage(0);
    else {
      std::fprintf(stderr, "unknown argument: %s\n", a.c_str());
      usage(2);
    }
  }
  if (c.smoke) {
    c.reps = 1;
    c.target_s = 0.005;
    c.lat_warm = 200;
    c.run_timeout_s = 8;
    g_yield_while_spinning = true;
  } else if (c.quick) {
    c.reps = 5;
    c.target_s = 0.1;
  }
  if (reps > 0) c.reps = reps;
  if (!c.smoke && c.reps < 5) std::fprintf(stderr, "ringwire_broadcast_bench: note: fewer than 5 reps (%d); BENCHMARKING.md asks for >= 5\n", c.reps);
  if (!c.cpus.pinned()) {
    const auto cpus = allowed_cpus();
    if (cpus.size() >= 2) c.cpus = {cpus[0], cpus[1]};
    else std::fprintf(stderr, "ringwire_broadcast_bench: fewer than two CPUs available: threads are not pinned\n");
  }
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 200);

  const auto t0 = steady::now();
  print_header();
  publish_cost_table<msg<8>>();
  publish_cost_table<msg<64>>();
  latency_table();
  throughput_table<msg<8>>();
  throughput_table<msg<64>>();
  throughput_table<msg<1024>>();
  fanout_table();
  out("\n_total broadcast benchmark time: " + num(std::chrono::duration<double>(steady::now() - t0).count()) + " s_\n");
  if (g_runs > 0 && g_preempted_runs * 10 > g_runs)
    out("\n**Warning: " + std::to_string(g_preempted_runs) + " of " + std::to_string(g_runs) +
        " runs had a thread involuntarily switched out at least once** (expected for the oversubscribed fan-out table; "
        "elsewhere it means the machine was busy: compare ratios, not absolute numbers).\n");
  if (!c.markdown.empty()) {
    std::ofstream f(c.markdown, append ? std::ios::app : std::ios::trunc);
    f << g_md;
    if (!f) {
      std::fprintf(stderr, "ringwire_broadcast_bench: cannot write %s\n", c.markdown.c_str());
      return 1;
    }
  }
  return 0;
}
