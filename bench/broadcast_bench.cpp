// ringwire_broadcast_bench -- ringwire's broadcast channel (one publisher, many subscribers)
// measured by the rules of /work/shared/BENCHMARKING.md, with the SPSC peers and the
// physical floor measured in the same run where a comparison makes sense:
//
//   (1) publish cost on one pinned thread, 8 B and 64 B, with 0, 1 and 4 idle subscribers
//       (lossy): the cost must not depend on the subscriber count;
//   (2) 1 -> 1 round-trip latency (ping through one broadcast channel, pong back through a
//       second one), lossy and lossless, next to ringwire SPSC, boost spsc_queue, moodycamel
//       RWQ and the bare cache-line ping-pong floor;
//   (3) 1 -> 1 throughput, lossy vs lossless, 8 B / 64 B / 1 KiB; packed and line slots
//       where the two layouts differ (8 B), and at 8 B and 64 B a photon-ring style
//       reference (bench/photon_style.hpp: one slot per cache line, bounded and lossy), with
//       the ratios ringwire / photon-style;
//   (4) fan-out throughput, lossless, 1, 2 and 4 subscribers waiting by spin_then_yield or
//       park, 64 B, and 8 B in packed and in line slots (oversubscribed on a 2-CPU machine:
//       said in the table heading);
//   (5) several producers -> 1 subscriber (mpmc_channel);
//   (6) a subscriber group of 4 against 4 subscribers polled by one thread (and 1 subscriber
//       as the reference), 8 B and 64 B, lossless, pinned: one read per message vs four.
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
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters.hpp"
#include "harness.hpp"
#include "photon_style.hpp"
#include "report.hpp"
#include "ringwire/broadcast.hpp"

namespace bench {
namespace {

namespace bc = ringwire::broadcast;
using ringwire::status;

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
    o.sender_wait = ringwire::wait_strategy::busy_spin();
    o.receiver_wait = ringwire::wait_strategy::busy_spin();
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
      failures += pub.try_send(m) != status::ok;
    }
    s.secs = std::chrono::duration<double>(t1 - t0).count();
    s.units = i - warm;
    s.v = {s.secs * 1e9 / static_cast<double>(s.units)};
    s.preempted = involuntary_switches() - sw0;
    if (failures != 0) {
      s.ok = false;
      s.err = std::to_string(failures) + " lossy try_send calls did not return ok";
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
              "ns per try_send (lower is better), " + reps_note() +
                  "; the subscribers are attached but never read (each is verified afterwards: lagged, then the last " +
                  std::to_string(pub_cap) + " messages in order).",
              {"ns / publish"}, rows, "broadcast lossy, 0 idle subscribers", foot);
}

// ---- adapters for the two-thread workloads ----------------------------------------------------
// The adapter interface of adapters.hpp (try_push / try_pop), so latency_run is the same code
// for the broadcast channel and the SPSC queues. One subscriber, joined before anything is
// published. try_pop returns false for anything but ok: a lagged or evicted result shows up
// as a sequence error or a stall, i.e. a failed run.
inline bc::options bcast_options(bc::policy p, bc::slot_layout slots = bc::slot_layout::automatic, bool metrics = false) {
  bc::options o;
  o.policy = p;
  o.metrics = metrics;
  o.sender_wait = ringwire::wait_strategy::busy_spin();
  o.receiver_wait = ringwire::wait_strategy::busy_spin();
  o.slot_layout = slots;
  return o;
}

// Row names: the policy, then the slot layout when one is named (automatic: the default).
inline std::string bcast_name(const std::string& policy, bc::slot_layout slots = bc::slot_layout::automatic) {
  return "ringwire broadcast (" + policy + (slots == bc::slot_layout::automatic ? "" : ", " + std::string(bc::to_string(slots))) + ")";
}

// Whether packed and line slots differ for a payload of `bytes` (only up to 24 bytes: beyond,
// a packed slot already fills whole lines), i.e. whether a table needs a row per layout.
constexpr bool layouts_differ(std::size_t bytes) {
  using ring = bc::layout<ringwire::std_sync>;
  return ring::stride(bytes, bc::slot_layout::packed) != ring::stride(bytes, bc::slot_layout::line);
}

// The layouts a table runs for a payload of `bytes`: both where they differ, else the default.
inline std::vector<bc::slot_layout> layouts_for(std::size_t bytes) {
  if (layouts_differ(bytes)) return {bc::slot_layout::packed, bc::slot_layout::line};
  return {bc::slot_layout::automatic};
}

template <class T, std::size_t C, bc::policy P, bc::slot_layout L = bc::slot_layout::automatic>
struct alignas(128) bcast_q {
  static inline const std::string name = bcast_name(P == bc::policy::lossy ? "lossy" : "lossless", L);
  using pair_t = std::pair<bc::publisher<T>, bc::hub<T>>;
  bcast_q() : bcast_q(bc::channel<T>(C, bcast_options(P, L))) {}
  explicit bcast_q(pair_t p) : pub(std::move(p.first)), sub(p.second.subscribe()) {}
  bool try_push(const T& v) { return pub.try_send(v) == status::ok; }
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
template <class T, std::size_t C>
using bcast_lossy_line_q = bcast_q<T, C, bc::policy::lossy, bc::slot_layout::line>;
template <class T, std::size_t C>
using bcast_lossless_line_q = bcast_q<T, C, bc::policy::lossless, bc::slot_layout::line>;

// ---- (2) round-trip latency: latency_run and floor_run of report.hpp ------------------------------

void latency_table() {
  const std::string table = "latency 8 B cap 1024";
  std::vector<row> rows;
  rows.push_back(lat_row<bcast_lossy_q>(role::ours));
  rows.push_back(lat_row<bcast_lossless_q>(role::ours));
  rows.push_back(lat_row<bcast_lossy_line_q>(role::ours));
  rows.push_back(lat_row<bcast_lossless_line_q>(role::ours));
  rows.push_back(lat_row<ringwire_q>(role::reference));
  rows.push_back(lat_row<boost_q>(role::peer));
  rows.push_back(lat_row<rwq_q>(role::peer));
  rows.push_back(floor_row());
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 4);
  std::ostringstream o;
  const latency_p50s p = print_latency_rows(
      o,
      "Round-trip latency — 1 → 1, payload 8 B, capacity 1024, ping CPU " + std::to_string(g_cfg.cpus.a) +
          " ⇄ pong CPU " + std::to_string(g_cfg.cpus.b),
      " Broadcast rows: ping publishes on one channel, pong's subscriber receives and publishes the echo on a second "
      "channel (one subscriber each, try_send / try_recv, busy spin); `line`: every slot on its own cache line "
      "(options::slot_layout), else the default (" + std::string(bc::to_string(bc::automatic_slot_layout)) + ").",
      "ringwire spsc", find_row(rows, "ringwire spsc"), find_row(rows, "floor: cache-line ping-pong"), rows);
  const double spsc50 = p.base, fl50 = p.floor, peer50 = p.peer;
  const std::string& peer_name = p.peer_name;
  for (const std::string& n : {bcast_lossy_q<msg8, lat_cap>::name, bcast_lossless_q<msg8, lat_cap>::name,
                               bcast_lossy_line_q<msg8, lat_cap>::name, bcast_lossless_line_q<msg8, lat_cap>::name}) {
    const double b50 = med(find_row(rows, n));
    if (b50 <= 0) continue;
    o << "**" << n << "** p50: " << (fl50 > 0 ? ratio(b50 / fl50) + " of the floor" : "") << (spsc50 > 0 ? ", " + ratio(b50 / spsc50) + " of ringwire spsc" : "")
      << (!peer_name.empty() ? ", " + ratio(b50 / peer50) + " of the best SPSC peer (" + peer_name + ")" : "") << "\n\n";
  }
  out(o.str());
}

// ---- (3) 1 -> 1 throughput, lossy vs lossless ------------------------------------------------------
// Publisher on CPU a, subscriber on CPU b, both spinning on try_*. The same run drives
// ringwire's broadcast channel and the photon-style reference (bench/photon_style.hpp): a
// publisher with try_publish and one subscriber with try_recv / received / missed. Time-bounded like
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

// A ringwire channel as the run drives it: its publisher and one subscriber.
template <class T>
std::pair<bc::publisher<T>, bc::subscriber<T>> bcast_pair(bc::policy pol, bc::slot_layout slots, bool metrics = false) {
  auto ch = bc::channel<T>(tp_cap, bcast_options(pol, slots, metrics));
  auto sub = ch.second.subscribe();
  return {std::move(ch.first), std::move(sub)};
}

// `ch`: a publisher and its one subscriber, joined before anything is published.
template <class T, class Pair>
sample bcast_throughput_run(double target, Pair ch, bool lossless, bool paced = false) {
  auto& pub = ch.first;
  auto& sub = ch.second;
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
      while (pub.try_send(m) != status::ok)
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

// A row appender for `rows`: add(name, role, run).
inline auto row_adder(std::vector<row>& rows) {
  return [&rows](std::string name, role who, std::function<sample(double)> run) {
    row r;
    r.name = std::move(name);
    r.who = who;
    r.run = std::move(run);
    rows.push_back(std::move(r));
  };
}

template <class T>
void throughput_table() {
  const std::string table = "throughput 1->1 " + payload_name(sizeof(T));
  const bool photon = sizeof(T) <= 64;  // the photon-style rows: 8 B and 64 B
  std::vector<row> rows;
  const auto add = row_adder(rows);
  add(bcast_name("lossy"), role::ours,
      [](double t) { return bcast_throughput_run<T>(t, bcast_pair<T>(bc::policy::lossy, bc::slot_layout::automatic), false); });
  if (sizeof(T) == 8) {  // the price of counters (options::metrics, broadcast/stats.hpp), same run
    add(bcast_name("lossy") + " + metrics", role::ours, [](double t) {
      return bcast_throughput_run<T>(t, bcast_pair<T>(bc::policy::lossy, bc::slot_layout::automatic, true), false);
    });
    add(bcast_name("lossless") + " + metrics", role::ours, [](double t) {
      return bcast_throughput_run<T>(t, bcast_pair<T>(bc::policy::lossless, bc::slot_layout::automatic, true), true);
    });
  }
  const std::vector<bc::slot_layout> layouts = layouts_for(sizeof(T));
  for (const bc::slot_layout slots : layouts) {
    add(bcast_name("lossless", slots), role::ours,
        [slots](double t) { return bcast_throughput_run<T>(t, bcast_pair<T>(bc::policy::lossless, slots), true); });
    add(bcast_name("lossy, paced", slots), role::ours,
        [slots](double t) { return bcast_throughput_run<T>(t, bcast_pair<T>(bc::policy::lossy, slots), false, true); });
  }
  if (photon) {
    add("photon-style (bounded)", role::reference,
        [](double t) { return bcast_throughput_run<T>(t, photon_style::channel<T>(tp_cap, true), true); });
    add("photon-style (lossy, paced)", role::reference,
        [](double t) { return bcast_throughput_run<T>(t, photon_style::channel<T>(tp_cap, false), false, true); });
  }
  add("ringwire spsc (reference)", role::reference, [](double t) { return spsc_throughput_run<T>(t); });
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 3);
  const auto rate = [&rows](const std::string& name) { return med(find_row(rows, name)); };
  const double spsc = rate("ringwire spsc (reference)"), lossy = rate(bcast_name("lossy"));
  const double photon_bounded = rate("photon-style (bounded)"), photon_paced = rate("photon-style (lossy, paced)");
  std::ostringstream foot;
  for (const bc::slot_layout slots : layouts) {
    const double lossless = rate(bcast_name("lossless", slots)), paced = rate(bcast_name("lossy, paced", slots));
    const std::string which = slots == bc::slot_layout::automatic ? "" : std::string(" — ") + bc::to_string(slots) + " slots";
    foot << "**ringwire" << which << "**:";
    if (paced > 0 && lossless > 0)
      foot << " time per message, lossless / lossy (paced): **" << ratio(paced / lossless) << "** (target: at most 1.10×);";
    if (lossless > 0 && photon_bounded > 0)
      foot << " lossless / photon-style bounded: **" << ratio(lossless / photon_bounded) << "**;";
    if (paced > 0 && photon_paced > 0)
      foot << " lossy (paced) / photon-style lossy (paced): **" << ratio(paced / photon_paced) << "** (target for both: at least 1.00×);";
    if (lossless > 0 && spsc > 0) foot << " lossless / ringwire spsc (same loop, same capacity): " << ratio(lossless / spsc);
    foot << "\n\n";
  }
  // The free-running lossy row runs the default layout: compare it with that lossless row.
  const double lossless_default =
      rate(bcast_name("lossless", layouts.size() > 1 ? bc::resolve(bc::slot_layout::automatic) : bc::slot_layout::automatic));
  if (lossy > 0 && lossless_default > 0)
    foot << "lossless / free-running lossy publish rate (default layout): " << ratio(lossless_default / lossy)
         << " (a free-running lossy publisher never waits: its rate is the publisher alone, and its subscriber keeps "
            "lagging; the paced rows keep the publisher within half a ring of the subscriber through a harness "
            "counter, so they deliver every message and compare the channel's cost)\n";
  const std::string layout_note =
      layouts.size() > 1
          ? " Rows named packed / line set options::slot_layout (packed: " +
                std::to_string(bc::layout<ringwire::std_sync>::stride(sizeof(T), bc::slot_layout::packed)) +
                "-byte slots sharing cache lines; line: every slot on its own 64-byte line); the free-running lossy row "
                "uses the default (" + bc::to_string(bc::automatic_slot_layout) + ")."
          : " Both slot layouts give " + std::to_string(bc::layout<ringwire::std_sync>::stride(sizeof(T), bc::slot_layout::packed)) +
                "-byte slots at this size (a packed slot of more than 24 bytes is already whole lines): one row per policy.";
  const std::string photon_note =
      photon ? " photon-style: a reference ring after photon-ring's design (bench/photon_style.hpp: one slot per 64-byte line "
               "with its stamp, a capacity of " + std::to_string(std::bit_ceil(tp_cap)) +
               ", bounded mode's per-receive cursor trackers and cached-slowest scan, ringwire's seqlock)."
             : "";
  print_table("Throughput 1 → 1 — payload " + payload_name(sizeof(T)) + ", capacity " + std::to_string(tp_cap) +
                  ", publisher CPU " + std::to_string(g_cfg.cpus.a) + " → subscriber CPU " + std::to_string(g_cfg.cpus.b),
              "Million messages/s (higher is better), " + reps_note() +
                  ". published = sequence numbers the subscriber advanced over (received + missed); delivered = messages "
                  "it actually received. Lossless (and bounded) must deliver 100 %; lossy is verified as received + missed "
                  "== published. Both ends spin on try_send / try_recv; lossy (paced): the harness holds the publisher back "
                  "while it is half a ring ahead of the subscriber's position (shared every 64 messages), so it should lose "
                  "nothing; ringwire spsc runs the same loop as a reference." + layout_note + photon_note,
              {"published Mmsg/s", "delivered Mmsg/s", "delivered %"}, rows, bcast_name("lossy"), foot.str());
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
sample fanout_run(double target, int subs, ringwire::wait_strategy w, bc::slot_layout slots) {
  bc::options o;
  o.policy = bc::policy::lossless;
  o.sender_wait = w;
  o.receiver_wait = w;
  o.slot_layout = slots;
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
      const status st = pub.send_for(m, std::chrono::milliseconds(static_cast<long>(g_cfg.run_timeout_s * 1000)));
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

// A fan-out row set: a wait strategy and the subscriber counts it runs.
struct fan_variant {
  const char* wname;
  ringwire::wait_strategy w;
  std::vector<int> subs;
};

// 64 B: both waits; 8 B: spin_then_yield, once per slot layout (they differ at 8 B only).
template <class T>
void fanout_table(const std::vector<fan_variant>& vs) {
  const std::string table = "fan-out lossless " + payload_name(sizeof(T));
  const std::vector<bc::slot_layout> layouts = layouts_for(sizeof(T));
  std::vector<row> rows;
  for (const bc::slot_layout slots : layouts)
    for (auto& v : vs)
      for (int n : v.subs) {
        row r;
        r.name = "ringwire broadcast lossless, " + std::to_string(n) + " sub" + (n == 1 ? "" : "s") + ", " + v.wname +
                 (slots == bc::slot_layout::automatic ? "" : std::string(", ") + bc::to_string(slots));
        r.who = role::ours;
        const ringwire::wait_strategy w = v.w;
        r.run = [n, w, slots](double t) { return fanout_run<T>(t, n, w, slots); };
        rows.push_back(std::move(r));
      }
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 2);
  const unsigned ncpu = std::thread::hardware_concurrency();
  std::string foot;
  if (layouts.size() > 1)
    for (auto& v : vs)
      for (int n : v.subs) {
        const std::string base = "ringwire broadcast lossless, " + std::to_string(n) + " sub" + (n == 1 ? "" : "s") + ", " + v.wname;
        const double packed = med(find_row(rows, base + ", packed")), line = med(find_row(rows, base + ", line"));
        if (packed > 0 && line > 0)
          foot += std::string(foot.empty() ? "" : "; ") + "1 → " + std::to_string(n) + ", " + v.wname + ": line / packed **" +
                  ratio(line / packed) + "**";
      }
  print_table("Fan-out throughput — lossless, payload " + payload_name(sizeof(T)) + ", capacity " + std::to_string(fan_cap) +
                  ", 1 publisher + 1/2/4 subscribers, threads NOT pinned" +
                  (ncpu <= 4 ? " — OVERSUBSCRIBED: up to 5 threads on " + std::to_string(ncpu) + " CPUs" : ""),
              "Million messages/s published (higher is better; every message delivered to every subscriber and verified), " + reps_note() +
                  ". deliveries = published × subscribers. Publisher and subscribers wait by the strategy named (never busy spin: "
                  "more threads than CPUs). On a 2-CPU machine these numbers measure the scheduler as much as the channel; "
                  "preempted counts runs in which any thread was involuntarily switched out." +
                  (layouts.size() > 1 ? " packed / line: options::slot_layout." : ""),
              {"published Mmsg/s", "deliveries M/s"}, rows, rows.front().name, foot);
}

// ---- (5) several producers -> 1 subscriber (mpmc_channel) -------------------------------------------
// `producers` threads, each with its own shared_publisher copy, publish for `target` seconds
// (lossless: publish() waits by spin_then_yield; lossy: never waits); one subscriber receives
// until closed and checks each producer's messages arrive in that producer's order (word 0 =
// producer << 40 | its sequence; the check word of every message). Lossless: it must
// receive every message; lossy: received + missed == published. Threads are not pinned.
// Rate = messages published per second by all producers together.
std::vector<int> g_producers{1, 2};

template <class T>
sample mp_run(double target, int producers, bc::policy pol) {
  bc::options o;
  o.policy = pol;
  o.sender_wait = ringwire::wait_strategy::spin_then_yield();
  o.receiver_wait = ringwire::wait_strategy::spin_then_yield();
  auto ch = bc::mpmc_channel<T>(fan_cap, o);
  auto sub = ch.second.subscribe();
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::uint64_t> sent(static_cast<std::size_t>(producers), 0);
  std::string err;
  long switches = 0;
  std::uint64_t received = 0;
  sample s;
  std::vector<std::thread> th;
  th.emplace_back([&] {
    const long sw0 = involuntary_switches();
    std::vector<std::uint64_t> last(static_cast<std::size_t>(producers), 0);
    for (;;) {
      auto r = sub.recv_for(std::chrono::milliseconds(static_cast<long>(g_cfg.run_timeout_s * 1000)));
      if (r) {
        const std::uint64_t p = r->w[0] >> 40, i = r->w[0] & ((std::uint64_t{1} << 40) - 1);
        if (p >= last.size() || i <= last[p] || !verify(*r, r->w[0]) || (pol != bc::policy::lossy && i != last[p] + 1)) {
          err = "producer " + std::to_string(p) + ": message " + std::to_string(i) + " after " + std::to_string(p < last.size() ? last[p] : 0);
          break;
        }
        last[p] = i;
        ++received;
        continue;
      }
      if (r.status() == status::lagged) continue;
      if (r.status() != status::closed) err = "subscriber: status " + std::to_string(static_cast<int>(r.status()));
      break;
    }
    switches += involuntary_switches() - sw0;
  });
  steady::time_point t0{}, t1{};
  std::mutex m;
  for (int p = 0; p < producers; ++p) {
    th.emplace_back([&, p, pub = ch.first] () mutable {
      const long sw0 = involuntary_switches();
      T msg = message_template<T>();
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      const auto start = steady::now();
      const auto deadline = deadline_from_now();
      std::uint64_t i = 0;
      for (;;) {
        if ((i & 1023) == 0) {
          const auto now = steady::now();
          if (now - start >= std::chrono::duration<double>(target) || now > deadline) break;
        }
        ++i;
        stamp(msg, static_cast<std::uint64_t>(p) << 40 | i);
        if (pub.send(msg) != status::ok) break;
      }
      sent[static_cast<std::size_t>(p)] = i;
      const std::lock_guard<std::mutex> g(m);
      switches += involuntary_switches() - sw0;
    });
  }
  ch.first.close();  // the producers' copies hold the channel open
  while (ready.load() < producers) std::this_thread::yield();
  t0 = steady::now();
  go = true;
  for (std::size_t k = 1; k < th.size(); ++k) th[k].join();
  t1 = steady::now();
  th[0].join();
  std::uint64_t total = 0;
  for (auto n : sent) total += n;
  if (!err.empty()) s.ok = false, s.err = err;
  if (s.ok && pol != bc::policy::lossy && received != total)
    s.ok = false, s.err = "received " + std::to_string(received) + " of " + std::to_string(total);
  if (s.ok && pol == bc::policy::lossy && received + sub.missed() != total)
    s.ok = false, s.err = "received + missed = " + std::to_string(received + sub.missed()) + ", published " + std::to_string(total);
  s.secs = std::chrono::duration<double>(t1 - t0).count();
  s.units = total;
  s.v = {static_cast<double>(total) / s.secs / 1e6, static_cast<double>(received) / s.secs / 1e6};
  s.preempted = switches;
  return s;
}

void mp_table() {
  using T = msg<8>;
  const std::string table = "multi-producer 8 B";
  std::vector<row> rows;
  for (bc::policy pol : {bc::policy::lossy, bc::policy::lossless})
    for (int n : g_producers) {
      row r;
      r.name = std::string("ringwire mpmc_channel ") + (pol == bc::policy::lossy ? "lossy" : "lossless") + ", " + std::to_string(n) + " producer" + (n == 1 ? "" : "s");
      r.who = role::ours;
      r.run = [n, pol](double t) { return mp_run<T>(t, n, pol); };
      rows.push_back(std::move(r));
    }
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 2);
  const unsigned ncpu = std::thread::hardware_concurrency();
  const int most = *std::max_element(g_producers.begin(), g_producers.end());
  print_table("Several producers → 1 subscriber — payload 8 B, capacity " + std::to_string(fan_cap) + ", threads NOT pinned" +
                  (static_cast<unsigned>(most + 1) > ncpu ? " — OVERSUBSCRIBED: up to " + std::to_string(most + 1) + " threads on " + std::to_string(ncpu) + " CPUs" : ""),
              "Million messages/s published by all producers together, and received by the subscriber (higher is better; each "
              "producer's order verified; lossless: every message received), " + reps_note() +
                  ". Producers and subscriber wait by spin_then_yield.",
              {"published Mmsg/s", "received Mmsg/s"}, rows, "ringwire mpmc_channel lossy, 1 producer", "");
}

// ---- (6) a subscriber group vs separate subscribers, one consuming thread ---------------------------
// photon-ring's SubscriberGroup claim: N logical consumers behind one cursor cost one seqlock
// read per message, N subscribers cost N. The 1 -> 1 throughput run (lossless, pinned, busy
// spin) with, as its subscriber, one consuming thread that delivers every message to
// `members` consumers: either one subscriber_group (group.hpp: one read, fn(member, msg) per
// member) or `members` subscribers polled in turn (each message read once per subscriber).
// Every member checks every message (sequence + check word) in order; a wrong one ends the
// run as a failure (the reader then reports closed).
constexpr std::size_t grp_cap = tp_cap;

template <class T>
struct fan_reader {
  fan_reader(const bc::hub<T>& hub, std::uint32_t members, bool grouped) : next(members, 0) {
    if (grouped)
      group.emplace(hub.subscribe_group(members));
    else
      for (std::uint32_t k = 0; k < members; ++k) subs.push_back(hub.subscribe());
  }
  // One message to every member (what bcast_throughput_run's subscriber receives).
  ringwire::recv_result<T> try_recv() {
    const auto member = [this](std::uint32_t k, const T& v) { ok = ok && verify(v, next[k]++); };
    if (group) return checked(group->try_recv(member));
    auto r = subs[0].try_recv();
    if (!r) return r;
    member(0, *r);
    for (std::uint32_t k = 1; k < subs.size(); ++k) {
      auto x = subs[k].try_recv();  // published for subscriber 0: readable for every one
      while (x.status() == status::empty) x = subs[k].try_recv();
      if (!x) return x;
      member(k, *x);
    }
    return checked(std::move(r));
  }
  ringwire::recv_result<T> checked(ringwire::recv_result<T> r) const { return ok ? r : ringwire::recv_result<T>(status::closed); }
  [[nodiscard]] std::uint64_t received() const { return group ? group->received() : subs[0].received(); }
  [[nodiscard]] std::uint64_t missed() const { return group ? group->missed() : subs[0].missed(); }

  std::optional<bc::subscriber_group<T>> group;
  std::vector<bc::subscriber<T>> subs;
  std::vector<std::uint64_t> next;  // each member's next sequence
  bool ok = true;
};

template <class T>
sample group_run(double target, std::uint32_t members, bool grouped) {
  auto ch = bc::channel<T>(grp_cap, bcast_options(bc::policy::lossless));
  fan_reader<T> reader(ch.second, members, grouped);
  return bcast_throughput_run<T>(target, std::pair{std::move(ch.first), std::move(reader)}, true);
}

template <class T>
void group_table() {
  const std::string table = "group " + payload_name(sizeof(T));
  constexpr std::uint32_t n = 4;
  const std::string group_name = "ringwire subscriber_group of " + std::to_string(n) + " (one cursor)";
  const std::string subs_name = "ringwire " + std::to_string(n) + " subscribers, one thread";
  const std::string one_name = "ringwire 1 subscriber (reference)";
  std::vector<row> rows;
  const auto add = row_adder(rows);
  add(group_name, role::ours, [](double t) { return group_run<T>(t, n, true); });
  add(subs_name, role::ours, [](double t) { return group_run<T>(t, n, false); });
  add(one_name, role::reference, [](double t) { return group_run<T>(t, 1, false); });
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 3);
  const double g = med(find_row(rows, group_name)), sv = med(find_row(rows, subs_name));
  std::string foot;
  if (g > 0 && sv > 0)
    foot = "**group of " + std::to_string(n) + " / " + std::to_string(n) + " subscribers: " + ratio(g / sv) +
           "** messages per second (photon-ring's claim: a group costs about one subscriber, whatever N)\n";
  print_table("Subscriber group vs separate subscribers — lossless, payload " + payload_name(sizeof(T)) + ", capacity " +
                  std::to_string(grp_cap) + ", publisher CPU " + std::to_string(g_cfg.cpus.a) + " → consumer CPU " +
                  std::to_string(g_cfg.cpus.b),
              "Million messages/s published (higher is better), " + reps_note() +
                  ". One consuming thread delivers every message to " + std::to_string(n) +
                  " consumers: a subscriber_group (one seqlock read, fn(member, msg) per member) or " + std::to_string(n) +
                  " subscribers polled in turn (one read each); each consumer gets every message (deliveries = " +
                  std::to_string(n) + " × delivered), every delivery verified. The 1 → 1 throughput loop otherwise.",
              {"published Mmsg/s", "delivered Mmsg/s", "delivered %"}, rows, one_name, foot);
}

// ---- the header ----------------------------------------------------------------------------------------

void print_header() {
  std::ostringstream o;
  o << "\n## ringwire broadcast benchmarks" << (g_cfg.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "") << "\n\n";
  header_start(o);
  if (g_cfg.cpus.pinned())
    o << "- pinned workloads: publisher/ping on CPU " << g_cfg.cpus.a << ", subscriber/pong on CPU " << g_cfg.cpus.b
      << "; the fan-out workload is not pinned\n";
  else
    header_not_pinned(o);
  header_system(o, "");
  o << "\n";
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
               "               (tables: publish cost, latency, throughput 1->1, fan-out, multi-producer, group;\n"
               "               rows: e.g. photon-style, line, packed)\n"
               "  --markdown F also write the report to F (appends with --append)\n"
               "  --cpus A,B   the two CPUs to pin to (default: the first two allowed)\n"
               "  --label T    a line for the header\n"
               "  --producers=1,2,4  producer counts of the multi-producer table (default 1,2)\n");
  std::exit(rc);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  bool append = false;
  c.prog = "ringwire_broadcast_bench";
  c.aborted_note = "aborted";
  c.echo_error = [](std::uint64_t i, std::uint64_t got) {
    return "round trip #" + std::to_string(i) + ": echo carried sequence " + std::to_string(got);
  };
  configure(argc, argv, usage, [&](const std::string& a) {
    if (a == "--append") return append = true;
    if (a.rfind("--producers=", 0) == 0) {
      g_producers.clear();
      std::istringstream in(a.substr(12));
      for (std::string n; std::getline(in, n, ',');) g_producers.push_back(std::stoi(n));
      return !g_producers.empty();
    }
    return false;
  });
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 200);

  const auto t0 = steady::now();
  print_header();
  publish_cost_table<msg<8>>();
  publish_cost_table<msg<64>>();
  latency_table();
  throughput_table<msg<8>>();
  throughput_table<msg<64>>();
  throughput_table<msg<1024>>();
  fanout_table<msg<64>>({{"spin_then_yield", ringwire::wait_strategy::spin_then_yield(), {1, 2, 4}},
                         {"park", ringwire::wait_strategy::park(), {2, 4}}});
  fanout_table<msg<8>>({{"spin_then_yield", ringwire::wait_strategy::spin_then_yield(), {1, 2, 4}}});
  mp_table();
  group_table<msg<8>>();
  group_table<msg<64>>();
  out("\n_total broadcast benchmark time: " + num(std::chrono::duration<double>(steady::now() - t0).count()) + " s_\n");
  if (g_runs > 0 && g_preempted_runs * 10 > g_runs)
    out("\n**Warning: " + std::to_string(g_preempted_runs) + " of " + std::to_string(g_runs) +
        " runs had a thread involuntarily switched out at least once** (expected for the oversubscribed fan-out table; "
        "elsewhere it means the machine was busy: compare ratios, not absolute numbers).\n");
  return write_markdown(append ? std::ios::app : std::ios::trunc);
}
