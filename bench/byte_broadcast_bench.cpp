// bench/byte_broadcast_bench.cpp -- ringwire::byte_broadcast: throughput 1 -> 1 for 64 B,
// 256 B, 1 KiB, 4 KiB and mixed-size messages (writer and reader pinned to two CPUs), and
// round-trip latency over two rings, against ringwire's typed broadcast carrying a struct
// of the same size and a single-thread memcpy ceiling, rows interleaved in one run.
//
// Rows of a throughput table:
//   byte_broadcast (credited)  the writer's write() waits on credits, a credited reader
//                              copies every message out: delivers 100 %
//   byte_broadcast (lossy)     the writer never waits (try_write), a lossy reader copies what
//                              it can: rate = sequences advanced over (received + missed)
//   typed broadcast (lossless) ringwire::broadcast<msg<N>>, try_send / try_recv
//   memcpy ceiling             one thread copying N-byte chunks from a 4 MiB ring to a buffer
// Every delivered message is verified: size, sequence in the first word and a check word
// in the last (lossy: received + missed == sequences advanced over).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "report.hpp"
#include "ringwire/broadcast.hpp"
#include "ringwire/byte_broadcast.hpp"

namespace bench {
namespace {

namespace bb = ringwire::byte_broadcast;
namespace bc = ringwire::broadcast;
using ringwire::status;

constexpr std::size_t mixed = 0;  // "payload size" of the mixed-size stream
constexpr std::size_t mixed_sizes[8] = {64, 128, 256, 512, 1024, 2048, 4096, 200};
std::size_t size_for(std::size_t payload, std::uint64_t seq) { return payload == mixed ? mixed_sizes[seq & 7] : payload; }
std::string size_name(std::size_t payload) { return payload == mixed ? "mixed 64 B–4 KiB" : payload_name(payload); }

bb::geometry ring_shape(bool credited) { return {4096, 4u << 20, 4096, credited ? 1u : 0u}; }

bool verify_bytes(std::span<const std::byte> m, std::uint64_t seq) {
  std::uint64_t a, c;
  std::memcpy(&a, m.data(), 8);
  std::memcpy(&c, m.data() + m.size() - 8, 8);
  return a == seq && c == check_of(seq);
}

struct tp_control : run_control {
  std::atomic<bool> stop{false};
};

// One timed 1 -> 1 run. Reader-side timing: from the message after `warm` to `target` s later.
sample byte_run(double target, std::size_t payload, bool credited) {
  auto ch = bb::channel(ring_shape(credited));
  bb::writer<>& w = ch.first;  // named variables: the threads below capture them
  bb::reader<>& base = ch.second;
  std::optional<bb::credited_reader<>> cr;
  if (credited) cr.emplace(base.credited());
  bb::reader<> lossy = base;
  tp_control rc;
  rc.deadline = deadline_from_now();
  sample s;
  const std::uint64_t warm = g_cfg.smoke ? 500 : 20000;
  std::thread prod([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    std::vector<std::byte> m(4096, std::byte{0x11});
    spinner sp{&rc};
    for (std::uint64_t i = 1;; ++i) {
      if ((i & 63) == 0 && (rc.stop.load(std::memory_order_relaxed) || rc.abort.load(std::memory_order_relaxed))) break;
      const std::size_t n = size_for(payload, i);
      std::span<std::byte> msg(m.data(), n);
      std::uint64_t c = check_of(i);
      std::memcpy(msg.data(), &i, 8);
      std::memcpy(msg.data() + n - 8, &c, 8);
      while (w.try_write(i, msg) != status::ok)
        if (sp()) return;
    }
    w.close();
  });
  std::thread cons([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    std::vector<std::byte> buf(4096);
    std::uint64_t got = 0, missed = 0, bytes = 0, from_adv = 0, from_got = 0, from_bytes = 0;
    steady::time_point t0{};
    bool started = false, stopped = false;
    auto fail = [&](const std::string& why) {
      if (s.ok) s.ok = false, s.err = why;
      rc.abort.store(true, std::memory_order_relaxed);
    };
    for (;;) {
      const bb::read_result m = credited ? cr->try_read(buf) : lossy.try_read(buf);
      missed += m.missed();
      if (m) {
        const std::size_t n = size_for(payload, m.info().seq);
        if (m.info().size != n || !verify_bytes(std::span(buf).first(n), m.info().seq))
          return fail("message " + std::to_string(m.info().seq) + " failed verification");
        ++got;
        bytes += n;
        const std::uint64_t adv = got + missed;
        if (!started && adv >= warm) {
          started = true, t0 = steady::now(), from_adv = adv, from_got = got, from_bytes = bytes;
        } else if (started && !stopped && (adv & 255) == 0) {
          const double secs = std::chrono::duration<double>(steady::now() - t0).count();
          if (secs >= target) {
            stopped = true;
            s.secs = secs;
            s.units = adv - from_adv;
            const double delivered = static_cast<double>(got - from_got);
            s.v = {static_cast<double>(adv - from_adv) / secs / 1e6,
                   static_cast<double>(bytes - from_bytes) / secs / (1024.0 * 1024 * 1024),
                   100.0 * delivered / static_cast<double>(adv - from_adv)};
            rc.stop.store(true, std::memory_order_relaxed);
          }
        }
        continue;
      }
      if (m.status() == ringwire::status::closed) break;
      if (m.status() == ringwire::status::empty) {
        if (sp()) return fail("stalled");
        continue;
      }
      if (credited) return fail(std::string("credited reader saw ") + ringwire::to_string(m.status()));
      if (m.status() != ringwire::status::lagged)
        return fail(std::string("unexpected ") + ringwire::to_string(m.status()));
    }
    const std::uint64_t total = credited ? cr->next_seq() - 1 : lossy.next_seq() - 1;
    if (got + missed != total) fail("received + missed != published");
    if (credited && missed != 0) fail("credited reader missed messages");
  });
  prod.join();
  cons.join();
  if (s.ok && s.v.empty()) s.ok = false, s.err = "run ended before its timed part";
  s.preempted = rc.preempted.load();
  return s;
}

template <std::size_t N>
sample typed_run(double target) {
  using T = msg<N>;
  bc::options o;
  o.policy = bc::policy::lossless;
  auto ch = bc::channel<T>(4096, o);
  bc::publisher<T>& pub = ch.first;  // a named variable: the thread below captures it
  auto sub = ch.second.subscribe();
  tp_control rc;
  rc.deadline = deadline_from_now();
  sample s;
  const std::uint64_t warm = g_cfg.smoke ? 500 : 20000;
  std::thread prod([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    T m = message_template<T>();
    for (std::uint64_t i = 1;; ++i) {
      if ((i & 63) == 0 && (rc.stop.load(std::memory_order_relaxed) || rc.abort.load(std::memory_order_relaxed))) break;
      stamp(m, i);
      while (pub.try_send(m) != status::ok)
        if (sp()) return;
    }
    pub.close();
  });
  std::thread cons([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    std::uint64_t got = 0;
    steady::time_point t0{};
    bool started = false, stopped = false;
    for (;;) {
      auto r = sub.try_recv();
      if (r) {
        if (!verify(*r, got + 1)) {
          s.ok = false, s.err = "typed message failed verification";
          rc.abort.store(true);
          return;
        }
        ++got;
        if (!started && got >= warm) started = true, t0 = steady::now();
        else if (started && !stopped && (got & 255) == 0) {
          const double secs = std::chrono::duration<double>(steady::now() - t0).count();
          if (secs >= target) {
            stopped = true;
            s.secs = secs;
            s.units = got - warm;
            s.v = {static_cast<double>(got - warm) / secs / 1e6,
                   static_cast<double>(got - warm) * N / secs / (1024.0 * 1024 * 1024), 100.0};
            rc.stop.store(true, std::memory_order_relaxed);
          }
        }
        continue;
      }
      if (r.status() == status::closed) break;
      if (sp()) {
        s.ok = false, s.err = "typed run stalled";
        return;
      }
    }
  });
  prod.join();
  cons.join();
  if (s.ok && s.v.empty()) s.ok = false, s.err = "run ended before its timed part";
  s.preempted = rc.preempted.load();
  return s;
}

// The ceiling: one thread copying chunks of the stream's sizes out of a 4 MiB region.
sample memcpy_run(double target, std::size_t payload) {
  pin_this_thread(g_cfg.cpus.b);
  std::vector<std::byte> region(4u << 20, std::byte{0x5a}), dst(4096);
  sample s;
  std::uint64_t n = 0, bytes = 0, off = 0;
  const auto t0 = steady::now();
  for (;;) {
    for (int k = 0; k < 256; ++k, ++n) {
      const std::size_t sz = size_for(payload, n);
      if (off + sz > region.size()) off = 0;
      std::memcpy(dst.data(), region.data() + off, sz);
      asm volatile("" : : "r"(dst.data()) : "memory");
      off += (sz + 7) & ~std::size_t{7};
      bytes += sz;
    }
    const double secs = std::chrono::duration<double>(steady::now() - t0).count();
    if (secs >= target) {
      s.secs = secs;
      s.units = n;
      s.v = {static_cast<double>(n) / secs / 1e6, static_cast<double>(bytes) / secs / (1024.0 * 1024 * 1024), 100.0};
      return s;
    }
  }
}

void print_rows(const std::string& heading, const std::string& note, const std::vector<std::string>& cols,
                const std::vector<row>& rows) {
  std::ostringstream o;
  o << "\n### " << heading << "\n\n" << note << "\n\n| row |";
  for (const auto& c : cols) o << " " << c << " |";
  o << " preempted |\n|---|";
  for (std::size_t i = 0; i < cols.size(); ++i) o << "---|";
  o << "---|\n";
  for (const auto& r : rows) {
    o << "| " << r.name << " |";
    for (std::size_t k = 0; k < cols.size(); ++k) o << " " << med_range(summarize(r.results[k])) << " |";
    o << " " << preempted(r) << " |\n";
  }
  out(o.str());
}

template <std::size_t N>
void add_typed(std::vector<row>& rows) {
  row t;
  t.name = "typed broadcast (lossless) msg<" + std::to_string(N) + ">";
  t.who = role::reference;
  t.run = [](double target) { return typed_run<N>(target); };
  rows.push_back(std::move(t));
}

void throughput_table(std::size_t payload) {
  const std::string table = "throughput " + size_name(payload);
  std::vector<row> rows;
  for (bool credited : {true, false}) {
    row r;
    r.name = credited ? "byte_broadcast (credited)" : "byte_broadcast (lossy)";
    r.who = role::ours;
    r.run = [payload, credited](double t) { return byte_run(t, payload, credited); };
    rows.push_back(std::move(r));
  }
  if (payload == 64) add_typed<64>(rows);
  if (payload == 256) add_typed<256>(rows);
  if (payload == 1024) add_typed<1024>(rows);
  if (payload == 4096) add_typed<4096>(rows);
  row m;
  m.name = "memcpy ceiling (1 thread)";
  m.who = role::reference;
  m.run = [payload](double t) { return memcpy_run(t, payload); };
  rows.push_back(std::move(m));
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 3);
  std::string foot;
  const double credited = med(find_row(rows, "byte_broadcast (credited)"), 1);
  const double ceiling = med(find_row(rows, "memcpy ceiling (1 thread)"), 1);
  for (const auto& r : rows)
    if (r.who == role::reference && r.name != "memcpy ceiling (1 thread)" && credited > 0)
      foot += "credited / typed broadcast (GiB/s): " + ratio(credited / med(&r, 1)) + ". ";
  if (credited > 0 && ceiling > 0) foot += "credited / memcpy ceiling (GiB/s): " + ratio(credited / ceiling) + ".";
  print_rows("Throughput 1 → 1 — " + size_name(payload) + ", depth 4096, region 4 MiB, writer CPU " +
                 std::to_string(g_cfg.cpus.a) + " → reader CPU " + std::to_string(g_cfg.cpus.b),
             reps_note() + ". Mmsg/s = sequences advanced over per second (lossy: received + missed); GiB/s = payload "
                           "bytes delivered per second.",
             {"Mmsg/s", "GiB/s delivered", "delivered %"}, rows);
  if (!foot.empty()) out("\n" + foot + "\n");
}

// ---- round-trip latency: ping publishes into A, pong echoes into B -----------------------------
template <class Ping>
sample pingpong(double target, Ping&& make) {
  auto ends = make();  // owns both rings; a_w/a_r/b_w/b_r name A's and B's ends
  auto& a_r = ends.a_r;
  auto& b_w = ends.b_w;
  auto& b_r = ends.b_r;
  auto& a_w = ends.a_w;
  run_control rc;
  rc.deadline = deadline_from_now();
  sample s;
  std::atomic<bool> done{false};
  std::thread pong([&] {
    pin_this_thread(g_cfg.cpus.b);
    start_barrier(rc);
    spinner sp{&rc};
    while (!done.load(std::memory_order_relaxed)) {
      if (!a_r.echo_into(b_w)) {
        if (sp()) return;
      }
    }
  });
  pin_this_thread(g_cfg.cpus.a);
  start_barrier(rc);
  std::vector<double> rtts;
  const std::uint64_t warm = g_cfg.lat_warm;
  const auto t0 = steady::now();
  spinner sp{&rc};
  for (std::uint64_t i = 1;; ++i) {
    const auto start = steady::now();
    a_w.send(i);
    std::uint64_t got = 0;
    while (!b_r.receive(got))
      if (sp()) {
        s.ok = false, s.err = "ping stalled";
        done = true;
        pong.join();
        return s;
      }
    if (got != i) {
      s.ok = false, s.err = "echo carried " + std::to_string(got) + " for " + std::to_string(i);
      break;
    }
    if (i > warm) rtts.push_back(std::chrono::duration<double, std::nano>(steady::now() - start).count());
    if (i > warm && (i & 1023) == 0 && std::chrono::duration<double>(steady::now() - t0).count() >= target) break;
  }
  done = true;
  pong.join();
  if (!s.ok || rtts.empty()) {
    if (s.ok) s.ok = false, s.err = "no round trips";
    return s;
  }
  std::sort(rtts.begin(), rtts.end());
  auto pct = [&](double p) { return rtts[std::min(rtts.size() - 1, static_cast<std::size_t>(p * rtts.size()))]; };
  s.units = rtts.size();
  s.v = {pct(0.5), pct(0.99), pct(0.999)};
  return s;
}

struct byte_end {
  bb::writer<> w;
  bb::reader<> r;
  std::vector<std::byte> buf = std::vector<std::byte>(64);
  void send(std::uint64_t i) {
    std::memcpy(buf.data(), &i, 8);
    (void)w.try_write(1, buf);
  }
  bool receive(std::uint64_t& got) {
    std::byte in[64];
    const bb::read_result m = r.try_read(in);
    if (!m) return false;
    std::memcpy(&got, in, 8);
    return true;
  }
  bool echo_into(byte_end& out) {
    std::uint64_t v;
    if (!receive(v)) return false;
    out.send(v);
    return true;
  }
};

struct typed_end {
  bc::publisher<msg<64>> w;
  bc::subscriber<msg<64>> r;
  void send(std::uint64_t i) {
    msg<64> m{};
    m.w[0] = i;
    (void)w.try_send(m);
  }
  bool receive(std::uint64_t& got) {
    auto m = r.try_recv();
    if (!m) return false;
    got = m->w[0];
    return true;
  }
  bool echo_into(typed_end& out) {
    std::uint64_t v;
    if (!receive(v)) return false;
    out.send(v);
    return true;
  }
};

void latency_table() {
  const std::string table = "latency";
  std::vector<row> rows;
  row r1;
  r1.name = "byte_broadcast 64 B";
  r1.who = role::ours;
  r1.run = [](double t) {
    return pingpong(t, [] {
      auto [aw, ar] = bb::channel({1024, 1u << 16, 64, 0});
      auto [bw, br] = bb::channel({1024, 1u << 16, 64, 0});
      auto a = std::make_unique<byte_end>(byte_end{std::move(aw), std::move(ar)});
      auto b = std::make_unique<byte_end>(byte_end{std::move(bw), std::move(br)});
      struct view {
        std::unique_ptr<byte_end> a, b;
        byte_end &a_w, &a_r, &b_w, &b_r;
      };
      byte_end* pa = a.get();
      byte_end* pb = b.get();
      return view{std::move(a), std::move(b), *pa, *pa, *pb, *pb};
    });
  };
  rows.push_back(std::move(r1));
  row r2;
  r2.name = "typed broadcast msg<64>";
  r2.who = role::reference;
  r2.run = [](double t) {
    return pingpong(t, [] {
      auto [ap, ah] = bc::channel<msg<64>>(1024);
      auto [bp, bh] = bc::channel<msg<64>>(1024);
      auto a = std::make_unique<typed_end>(typed_end{std::move(ap), ah.subscribe()});
      auto b = std::make_unique<typed_end>(typed_end{std::move(bp), bh.subscribe()});
      struct view {
        std::unique_ptr<typed_end> a, b;
        typed_end &a_w, &a_r, &b_w, &b_r;
      };
      typed_end* pa = a.get();
      typed_end* pb = b.get();
      return view{std::move(a), std::move(b), *pa, *pa, *pb, *pb};
    });
  };
  rows.push_back(std::move(r2));
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 3);
  print_rows("Round-trip latency — 64 B, ping CPU " + std::to_string(g_cfg.cpus.a) + " ↔ pong CPU " +
                 std::to_string(g_cfg.cpus.b),
             reps_note() + ". Nanoseconds per round trip (steady_clock around each), lower is better; two rings, "
                           "try_write / try_read spinning (typed broadcast: try_send / try_recv).",
             {"p50 ns", "p99 ns", "p99.9 ns"}, rows);
}

void print_header() {
  std::ostringstream o;
  o << "\n## ringwire byte_broadcast benchmarks" << (g_cfg.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "")
    << "\n\n";
  header_start(o);
  if (g_cfg.cpus.pinned())
    o << "- pinned: writer/ping on CPU " << g_cfg.cpus.a << ", reader/pong on CPU " << g_cfg.cpus.b << "\n";
  else
    header_not_pinned(o);
  header_system(o, "");
  o << "\n- method: " << g_cfg.reps << " repetitions, rows interleaved, one unreported warm-up round; each run times ~"
    << num(g_cfg.target_s) << " s; every delivered message verified\n";
  out(o.str());
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: ringwire_byte_broadcast_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                                     [--cpus A,B] [--label TEXT]\n");
  std::exit(rc);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  g_cfg.prog = "ringwire_byte_broadcast_bench";
  configure(argc, argv, usage);
  g_cfg.tsc_per_ns = calibrate_tsc(g_cfg.smoke ? 20 : 200);
  const auto t0 = steady::now();
  print_header();
  for (std::size_t p : {std::size_t{64}, std::size_t{256}, std::size_t{1024}, std::size_t{4096}, mixed})
    throughput_table(p);
  latency_table();
  out("\n_total byte_broadcast benchmark time: " + num(std::chrono::duration<double>(steady::now() - t0).count()) +
      " s_\n");
  return write_markdown();
}
