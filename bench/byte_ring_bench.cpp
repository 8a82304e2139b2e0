// ringwire_byte_ring_bench -- the lossless byte rings (ringwire/byte_ring.hpp) measured by the
// rules of /work/shared/BENCHMARKING.md, two pinned threads, rows interleaved:
//
//   (1) throughput, one-to-one, 64 B / 256 B / 1 KiB / 4 KiB messages: byte_ring try_write +
//       read_batch(64) (the reader copies every payload out and checks it), ringwire typed
//       spsc<msg<S>> try_send + consume(64) (same payload, same copy-out), at 1 KiB the SPSC
//       peers Debian packages (moodycamel ReaderWriterQueue, atomic_queue, boost spsc_queue)
//       carrying a 1 KiB struct, and a single-thread memcpy
//       of S bytes per message into a buffer as large as the ring (one core's in-cache copy
//       rate), the same copy through 256 MiB arrays (memcpy's memory bandwidth), and a
//       two-thread block handoff with no per-message protocol (the cross-core ceiling);
//   (2) a mixed-size stream (0..2048 B, the same deterministic sizes for every row): byte_ring
//       one-to-one and many-to-one (one writer handle);
//   (3) round trip, 64 B: ping writes to ring A, pong echoes on ring B; p50 / p99 in ns; with
//       pong a thread, and in a fork()ed process over MAP_SHARED memory;
//   (4) cross-process, 1 KiB: the ring in MAP_SHARED memory, a fork()ed writer pinned to CPU a,
//       the parent reading on CPU b.
// Every message carries its sequence and a check word (bench/harness.hpp msg<S>); a lost,
// duplicated or reordered message fails the program.
//
//   ringwire_byte_ring_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters.hpp"
#include "harness.hpp"
#include "report.hpp"
#include "ringwire/byte_ring.hpp"
#include "ringwire/spsc.hpp"

namespace bench {
namespace {

namespace br = ringwire::byte_ring;
using ringwire::status;
constexpr std::size_t ring_msgs = 1024;  // every queue holds about this many messages

void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: ringwire_byte_ring_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n");
  std::exit(code);
}

// Byte-ring capacity: the same memory as the typed ring's slot array (ring_msgs slots of S
// bytes), so both rows work in the same cache footprint; it holds ring_msgs * S / (S + 8)
// records (1024 -> 910 at 64 B, 1016 at 1 KiB). Rounding ring_msgs * (S + 8) up instead
// would give the byte ring twice the typed ring's memory (2 MiB against 1 MiB at 1 KiB).
std::size_t ring_bytes(std::size_t s) { return std::max<std::size_t>(256, std::bit_ceil(ring_msgs * s)); }

// Two pinned threads: produce(deadline check) runs on cpu a, consume() on cpu b and returns
// the number of messages it took (or sets err). The time is the consumer's, start to finish.
template <class Produce, class Consume>
sample two_threads(Produce&& produce, Consume&& consume, double bytes_per_msg) {
  std::atomic<int> ready{0};
  std::atomic<long> switches{0};
  sample s;
  std::uint64_t got = 0;
  steady::time_point t0, t1;
  std::thread p([&] {
    pin_this_thread(g_cfg.cpus.a);
    const long sw = involuntary_switches();
    ready.fetch_add(1);
    while (ready.load() < 2) cpu_relax();
    produce();
    switches.fetch_add(involuntary_switches() - sw);
  });
  std::thread c([&] {
    pin_this_thread(g_cfg.cpus.b);
    const long sw = involuntary_switches();
    ready.fetch_add(1);
    while (ready.load() < 2) cpu_relax();
    t0 = steady::now();
    got = consume(s.err);
    t1 = steady::now();
    switches.fetch_add(involuntary_switches() - sw);
  });
  p.join();
  c.join();
  s.ok = s.err.empty();
  s.secs = std::chrono::duration<double>(t1 - t0).count();
  s.units = got;
  s.preempted = switches.load();
  const double rate = static_cast<double>(got) / s.secs;
  s.v = {rate / 1e6, rate * bytes_per_msg / (1024.0 * 1024 * 1024)};
  return s;
}

bool time_over(std::uint64_t i, steady::time_point end) { return (i & 1023) == 0 && steady::now() >= end; }
steady::time_point end_after(double target) {
  return steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(target));
}

// ---- (1) fixed sizes -------------------------------------------------------------------------------

template <std::size_t S>
sample byte_ring_run(double target) {
  using T = msg<S>;
  auto ch_tx = br::one_to_one(ring_bytes(S));
  auto& tx = ch_tx.first;
  auto& rx = ch_tx.second;
  return two_threads(
      [&, tx = std::move(tx)]() mutable {
        T m = message_template<T>();
        const auto end = end_after(target);
        for (std::uint64_t i = 0;; ++i) {
          if (time_over(i, end)) break;
          stamp(m, i);
          while (tx.try_write(1, std::as_bytes(std::span(&m, 1))) != status::ok) {
            if (g_yield_while_spinning) std::this_thread::yield();
            cpu_relax();
          }
        }
        tx.close();
      },
      [&](std::string& err) -> std::uint64_t {
        std::uint64_t n = 0;
        T out;
        br::record_view r;
        for (;;) {
          const std::size_t k = rx.read_batch(64, [&](std::int32_t, std::span<const std::byte> p) {
            std::memcpy(&out, p.data(), sizeof out);
            if (p.size() != S || !verify(out, n)) err = seq_error(n, out.w[0]);
            ++n;
          });
          if (k != 0) continue;
          const status s = rx.try_read(r);
          if (s == status::closed) break;
          if (s == status::ok) {
            std::memcpy(&out, r.payload.data(), sizeof out);
            if (!verify(out, n)) err = seq_error(n, out.w[0]);
            ++n;
            rx.release();
          } else if (g_yield_while_spinning) {
            std::this_thread::yield();
          }
          if (!err.empty()) break;
        }
        return n;
      },
      S);
}

template <std::size_t S>
sample typed_spsc_run(double target) {
  using T = msg<S>;
  auto ch_tx = ringwire::spsc::channel<T>(ring_msgs);
  auto& tx = ch_tx.first;
  auto& rx = ch_tx.second;
  return two_threads(
      [&, tx = std::move(tx)]() mutable {
        T m = message_template<T>();
        const auto end = end_after(target);
        for (std::uint64_t i = 0;; ++i) {
          if (time_over(i, end)) break;
          stamp(m, i);
          while (tx.try_send(m) != status::ok) {
            if (g_yield_while_spinning) std::this_thread::yield();
            cpu_relax();
          }
        }
        tx.close();
      },
      [&](std::string& err) -> std::uint64_t {
        std::uint64_t n = 0;
        T out;
        for (;;) {
          const std::size_t k = rx.consume([&](T& v) {
            std::memcpy(&out, &v, sizeof out);
            if (!verify(out, n)) err = seq_error(n, out.w[0]);
            ++n;
          }, 64);
          if (k == 0) {
            if (rx.is_closed()) break;
            if (g_yield_while_spinning) std::this_thread::yield();
          }
          if (!err.empty()) break;
        }
        return n;
      },
      S);
}

// An SPSC peer (adapters.hpp) carrying msg<S> as a fixed struct.
template <template <class, std::size_t> class Q, std::size_t S>
sample peer_run(double target) {
  using T = msg<S>;
  auto q = std::make_unique<Q<T, ring_msgs>>();
  return two_threads(
      [&] {
        T m = message_template<T>();
        const auto end = end_after(target);
        for (std::uint64_t i = 0;; ++i) {
          const bool last = time_over(i, end);
          stamp(m, last ? sentinel : i);
          while (!q->try_push(m)) {
            if (g_yield_while_spinning) std::this_thread::yield();
            cpu_relax();
          }
          if (last) break;
        }
      },
      [&](std::string& err) -> std::uint64_t {
        std::uint64_t n = 0;
        T out;
        for (;;) {
          if (!q->try_pop(out)) {
            if (g_yield_while_spinning) std::this_thread::yield();
            cpu_relax();
            continue;
          }
          if (out.w[0] == sentinel) break;
          if (!verify(out, n)) {
            err = seq_error(n, out.w[0]);
            break;
          }
          ++n;
        }
        return n;
      },
      S);
}

// One thread on cpu a copies S-byte messages from src[i % n] to dst[i % n] (src_msgs == 1:
// always the same source) until the target time; the reference rows below.
template <std::size_t S>
sample one_thread_copies(double target, std::size_t src_msgs, std::size_t dst_msgs) {
  using T = msg<S>;
  std::vector<T> src(src_msgs, message_template<T>());
  std::vector<T> dst(dst_msgs);
  for (std::size_t k = 0; k < dst_msgs; ++k) dst[k] = src[k % src_msgs];  // fault pages in before timing
  pin_this_thread(g_cfg.cpus.a);
  const long sw = involuntary_switches();
  const auto t0 = steady::now();
  const auto end = end_after(target);
  std::uint64_t i = 0;
  for (;; ++i) {
    if (time_over(i, end)) break;
    T& m = src[i % src_msgs];
    m.w[0] = i;
    std::memcpy(&dst[i % dst_msgs], &m, S);
    asm volatile("" : : "r"(dst.data()) : "memory");
  }
  sample s;
  s.secs = std::chrono::duration<double>(steady::now() - t0).count();
  s.units = i;
  s.preempted = involuntary_switches() - sw;
  const double rate = static_cast<double>(i) / s.secs;
  s.v = {rate / 1e6, rate * S / (1024.0 * 1024 * 1024)};
  return s;
}

// One message copied into a buffer as large as the ring: one core's in-cache copy rate.
template <std::size_t S>
sample memcpy_run(double target) {
  return one_thread_copies<S>(target, 1, ring_msgs);
}

// The same copy between two arrays of 256 MiB each, far beyond every cache: memcpy's memory
// bandwidth, the classic figure (what `mbw` and STREAM's Copy report).
template <std::size_t S>
sample memcpy_dram_run(double target) {
  const std::size_t msgs = (std::size_t{g_cfg.smoke ? 8u : 256u} << 20) / S;  // smoke: just run
  return one_thread_copies<S>(target, msgs, msgs);
}

// What the two pinned cores can move at all with the rings' work: the writer copies each
// message into a ring-sized buffer, the reader copies it out, checks it, and gives each
// block back zeroed (as the byte ring's reader does: without the zeroing this handoff ran
// 7.7 Mmsg/s at 1 KiB on the machine of docs/benchmarks.md, with it 22.2). The only
// synchronisation is one flag per block (16 blocks) instead of an index per message: no
// protocol, no headers, no per-message handoff -- the cross-core ceiling for a channel.
template <std::size_t S>
sample block_handoff_run(double target) {
  using T = msg<S>;
  constexpr std::size_t blocks = 16;
  constexpr std::size_t per_block = ring_msgs / blocks;
  std::vector<T> buf(ring_msgs);
  struct alignas(128) flag {
    std::atomic<std::uint64_t> v{0};
  };
  std::vector<flag> full(blocks);  // v = lap + 1 once block b of that lap is written
  std::vector<flag> freed(blocks);  // v = lap + 1 once the reader is done with it
  std::atomic<std::uint64_t> laps_written{0};
  std::atomic<bool> done{false};
  return two_threads(
      [&] {
        T m = message_template<T>();
        const auto end = end_after(target);
        std::uint64_t i = 0;
        for (std::uint64_t blk = 0;; ++blk) {
          const std::size_t b = blk % blocks;
          const std::uint64_t lap = blk / blocks;
          // acquire: the reader's copies out of the block happen-before our overwrite.
          while (lap != 0 && freed[b].v.load(std::memory_order_acquire) < lap) cpu_relax();
          for (std::size_t k = 0; k < per_block; ++k, ++i) {
            stamp(m, i);
            std::memcpy(&buf[b * per_block + k], &m, S);
          }
          // release: the block's bytes happen-before the reader's acquire of the flag.
          full[b].v.store(lap + 1, std::memory_order_release);
          if (steady::now() >= end) {
            // relaxed then release: the count is read after done's acquire.
            laps_written.store(blk + 1, std::memory_order_relaxed);
            done.store(true, std::memory_order_release);
            return;
          }
        }
      },
      [&](std::string& err) -> std::uint64_t {
        std::uint64_t n = 0;
        T out;
        for (std::uint64_t blk = 0;; ++blk) {
          const std::size_t b = blk % blocks;
          const std::uint64_t lap = blk / blocks;
          // acquire: pairs with the writer's release store of the flag.
          while (full[b].v.load(std::memory_order_acquire) < lap + 1) {
            // acquire: pairs with done's release store.
            if (done.load(std::memory_order_acquire) && blk >= laps_written.load(std::memory_order_relaxed)) return n;
            cpu_relax();
          }
          for (std::size_t k = 0; k < per_block; ++k, ++n) {
            std::memcpy(&out, &buf[b * per_block + k], S);
            if (!verify(out, n) && err.empty()) err = seq_error(n, out.w[0]);
          }
          std::memset(static_cast<void*>(&buf[b * per_block]), 0, per_block * S);
          // release: our copies happen-before the writer's overwrite of the block.
          freed[b].v.store(lap + 1, std::memory_order_release);
        }
      },
      S);
}

struct result_line {
  std::string table;
  double ours, ref;
  std::string ref_name;
};
std::vector<result_line> g_ratios;

void print_tput(const std::string& heading, const std::vector<row>& rows) {
  std::ostringstream o;
  o << "\n### " << heading << " (" << reps_note() << ")\n\n| queue | Mmsg/s | GiB/s | vs byte_ring | preempted |\n|---|---:|---:|---:|---:|\n";
  const double ours = med(&rows[0]);
  for (const auto& r : rows) {
    o << "| " << r.name << " | " << med_range(summarize(r.results[0])) << " | " << num(med(&r, 1)) << " | "
      << ratio(med(&r) / ours) << " | " << preempted(r) << " |\n";
  }
  out(o.str());
}

template <std::size_t S>
void size_table() {
  const std::string table = "1:1 " + payload_name(S);
  std::vector<row> rows;
  rows.push_back({"byte_ring one_to_one", role::ours, &byte_ring_run<S>, {}, {}, 0});
  rows.push_back({"ringwire spsc<msg>", role::peer, &typed_spsc_run<S>, {}, {}, 0});
  if constexpr (S == 1024) {  // the SPSC peers with a fixed 1 KiB struct
    rows.push_back({"moodycamel RWQ (1 KiB struct)", role::peer, &peer_run<rwq_q, S>, {}, {}, 0});
    rows.push_back({"atomic_queue SPSC (1 KiB struct)", role::peer, &peer_run<atomic_queue_q, S>, {}, {}, 0});
    rows.push_back({"boost spsc_queue (1 KiB struct)", role::peer, &peer_run<boost_q, S>, {}, {}, 0});
  }
  rows.push_back({"memcpy ceiling (1 thread)", role::reference, &memcpy_run<S>, {}, {}, 0});
  rows.push_back({"memcpy bandwidth (256 MiB arrays)", role::reference, &memcpy_dram_run<S>, {}, {}, 0});
  rows.push_back({"block handoff ceiling (2 threads, zeroed)", role::reference, &block_handoff_run<S>, {}, {}, 0});
  rows = filtered(std::move(rows), table);
  if (rows.empty() || rows[0].name != "byte_ring one_to_one") return;
  run_table(table, rows, 2);
  print_tput("Throughput, one-to-one, " + payload_name(S), rows);
  if (const row* r = find_row(rows, "ringwire spsc<msg>")) g_ratios.push_back({table + " vs typed spsc", med(&rows[0]), med(r), r->name});
  const row* best = nullptr;  // the fastest SPSC peer with a fixed struct (1 KiB only)
  for (const row& r : rows)
    if (r.name.find("struct)") != std::string::npos && (best == nullptr || med(&r) > med(best))) best = &r;
  if (best != nullptr) g_ratios.push_back({table + " vs best SPSC peer (" + best->name + ")", med(&rows[0]), med(best), best->name});
  if (const row* r = find_row(rows, "memcpy ceiling (1 thread)"))
    g_ratios.push_back({table + " vs memcpy", med(&rows[0]), med(r), r->name});
  if (const row* r = find_row(rows, "memcpy bandwidth (256 MiB arrays)"))
    g_ratios.push_back({table + " vs memcpy bandwidth", med(&rows[0]), med(r), r->name});
  if (const row* r = find_row(rows, "block handoff ceiling (2 threads, zeroed)"))
    g_ratios.push_back({table + " vs block handoff", med(&rows[0]), med(r), r->name});
}

// ---- (2) mixed sizes -----------------------------------------------------------------------------

std::size_t mixed_size(std::uint64_t i) { return static_cast<std::size_t>((i * 0x9E3779B97F4A7C15ull >> 40) % 2049); }
constexpr double mixed_mean = 1024.0;

template <class Pair>
sample mixed_run(double target, Pair ch) {
  auto& tx = ch.first;
  auto& rx = ch.second;
  std::vector<std::byte> src(2048 + 8);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<std::byte>(i * 7);
  return two_threads(
      [&, tx = std::move(tx)]() mutable {
        const auto end = end_after(target);
        std::vector<std::byte> buf = src;
        for (std::uint64_t i = 0;; ++i) {
          if (time_over(i, end)) break;
          const std::size_t n = mixed_size(i);
          while (tx.try_write(static_cast<std::int32_t>(1 + (i & 0xffff)), {buf.data(), n}) != status::ok) {
            if (g_yield_while_spinning) std::this_thread::yield();
            cpu_relax();
          }
        }
        tx.close();
      },
      [&](std::string& err) -> std::uint64_t {
        std::uint64_t n = 0;
        std::vector<std::byte> out(2048);
        for (;;) {
          const std::size_t k = rx.read_batch(64, [&](std::int32_t type, std::span<const std::byte> p) {
            if (!p.empty()) std::memcpy(out.data(), p.data(), p.size());
            if (type != static_cast<std::int32_t>(1 + (n & 0xffff)) || p.size() != mixed_size(n) ||
                (!p.empty() && out[p.size() - 1] != src[p.size() - 1]))
              err = "mixed record " + std::to_string(n) + " wrong";
            ++n;
          });
          if (k != 0) continue;
          br::record_view r;
          const status s = rx.try_read(r);
          if (s == status::closed) break;
          if (s == status::ok) {
            ++n;
            rx.release();
          } else if (g_yield_while_spinning) {
            std::this_thread::yield();
          }
          if (!err.empty()) break;
        }
        return n;
      },
      mixed_mean);
}

void mixed_table() {
  const std::string table = "mixed 0..2 KiB";
  std::vector<row> rows;
  rows.push_back({"byte_ring one_to_one", role::ours, [](double t) { return mixed_run(t, br::one_to_one(1 << 21)); }, {}, {}, 0});
  rows.push_back({"byte_ring many_to_one (1 writer)", role::ours,
                  [](double t) { return mixed_run(t, br::many_to_one(1 << 21)); }, {}, {}, 0});
  rows = filtered(std::move(rows), table);
  if (rows.empty() || rows[0].name != "byte_ring one_to_one") return;
  run_table(table, rows, 2);
  print_tput("Throughput, mixed sizes 0..2048 B (mean 1 KiB), 2 MiB ring", rows);
}

// ---- (3) round trip ---------------------------------------------------------------------------

// The echo side of a round trip: every record read from `in` is written back to `out`
// until `in` closes.
template <class Reader, class Writer>
void pong_loop(Reader& in, Writer& out) {
  br::record_view r;
  for (;;) {
    const status s = in.try_read(r);
    if (s == status::closed) break;
    if (s != status::ok) {
      if (g_yield_while_spinning) std::this_thread::yield();
      cpu_relax();
      continue;
    }
    while (out.try_write(r.type, r.payload) != status::ok) cpu_relax();
    in.release();
  }
}

// The timing side: writes a 64 B message to `out`, spins until the echo arrives on `in`,
// one rdtsc pair per round trip, until the target time; then closes `out`. p50, p99 in ns.
template <class Writer, class Reader>
sample ping_loop(double target, Writer& out, Reader& in) {
  using T = msg<64>;
  std::vector<double> lat;
  lat.reserve(1 << 20);
  std::string err;
  T m = message_template<T>();
  const auto t0 = steady::now();
  for (std::uint64_t i = 0;; ++i) {
    if (i > g_cfg.lat_warm && (i & 255) == 0 && steady::now() - t0 >= std::chrono::duration<double>(target)) break;
    stamp(m, i);
    const std::uint64_t a = ticks();
    while (out.try_write(1, std::as_bytes(std::span(&m, 1))) != status::ok) cpu_relax();
    br::record_view r;
    status s;
    while ((s = in.try_read(r)) == status::empty) {
      if (g_yield_while_spinning) std::this_thread::yield();
      cpu_relax();
    }
    const std::uint64_t b = ticks();
    T echo;
    std::memcpy(&echo, r.payload.data(), sizeof echo);
    if (s != status::ok || !verify(echo, i)) err = seq_error(i, echo.w[0]);
    in.release();
    if (i >= g_cfg.lat_warm) lat.push_back(static_cast<double>(b - a) / g_cfg.tsc_per_ns);
    if (!err.empty()) break;
  }
  out.close();
  sample s;
  s.ok = err.empty();
  s.err = err;
  s.units = lat.size();
  s.secs = std::chrono::duration<double>(steady::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  auto q = [&](double f) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(f * static_cast<double>(lat.size())))]; };
  s.v = {q(0.5), q(0.99)};
  return s;
}

sample rtt_run(double target) {
  auto ch_a = br::one_to_one(1 << 16);
  auto ch_b = br::one_to_one(1 << 16);
  std::atomic<int> ready{0};
  std::thread pong([&, btx = std::move(ch_b.first), arx = std::move(ch_a.second)]() mutable {
    pin_this_thread(g_cfg.cpus.b);
    ready.fetch_add(1);
    pong_loop(arx, btx);
  });
  pin_this_thread(g_cfg.cpus.a);
  while (ready.load() < 1) cpu_relax();
  sample s = ping_loop(target, ch_a.first, ch_b.second);
  pong.join();
  return s;
}

// The same round trip with the echo side in a fork()ed process: both rings in one
// MAP_SHARED mapping, endpoints with cross_process fences.
sample rtt_xproc_run(double target) {
  using L = br::layout<>;
  constexpr std::size_t cap = 1 << 16;
  const std::size_t one = L::footprint(cap);
  void* mem = mmap(nullptr, 2 * one, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sample s;
  if (mem == MAP_FAILED) {
    s.ok = false;
    s.err = "mmap failed";
    return s;
  }
  void* mem_b = static_cast<std::byte*>(mem) + one;
  L::format(mem, one, cap, br::ring_kind::one_to_one);
  L::format(mem_b, one, cap, br::ring_kind::one_to_one);
  auto ref = [&](void* m) { return br::ring_ref<ringwire::std_sync>(*L::attach(m, one, br::ring_kind::one_to_one), nullptr); };
  constexpr auto xp = ringwire::fence_scope::cross_process;
  const pid_t pid = fork();
  if (pid == 0) {
    pin_this_thread(g_cfg.cpus.b);
    {
      br::reader<> arx(ref(mem), {}, xp);
      br::writer<> btx(ref(mem_b), {}, xp);
      pong_loop(arx, btx);
    }
    _exit(0);
  }
  pin_this_thread(g_cfg.cpus.a);
  {
    br::writer<> atx(ref(mem), {}, xp);
    br::reader<> brx(ref(mem_b), {}, xp);
    s = ping_loop(target, atx, brx);
  }
  int wst = 0;
  waitpid(pid, &wst, 0);
  munmap(mem, 2 * one);
  if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
    s.ok = false;
    s.err = "echo process failed";
  }
  return s;
}

void rtt_table() {
  std::vector<row> rows;
  rows.push_back({"byte_ring one_to_one x2, 64 B", role::ours, &rtt_run, {}, {}, 0});
  rows.push_back({"byte_ring one_to_one x2, 64 B, echo in a fork()ed process", role::ours, &rtt_xproc_run, {}, {}, 0});
  rows = filtered(std::move(rows), "round trip");
  if (rows.empty()) return;
  run_table("round trip", rows, 2);
  std::ostringstream o;
  o << "\n### Round trip, 64 B, ping-pong over two one-to-one rings (" << reps_note() << ")\n\n| rings | p50 ns | p99 ns |\n|---|---:|---:|\n";
  for (const auto& r : rows)
    o << "| " << r.name << " | " << med_range(summarize(r.results[0])) << " | " << med_range(summarize(r.results[1])) << " |\n";
  out(o.str());
}

// ---- (4) cross-process ----------------------------------------------------------------------

sample xproc_run(double target) {
  constexpr std::size_t S = 1024;
  using T = msg<S>;
  using L = br::layout<>;
  const std::size_t cap = ring_bytes(S);
  const std::size_t bytes = L::footprint(cap);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sample s;
  if (mem == MAP_FAILED) {
    s.ok = false;
    s.err = "mmap failed";
    return s;
  }
  L::format(mem, bytes, cap, br::ring_kind::one_to_one);
  const pid_t pid = fork();
  if (pid == 0) {
    pin_this_thread(g_cfg.cpus.a);
    {
      br::writer<> tx(br::ring_ref<ringwire::std_sync>(*L::attach(mem, bytes, br::ring_kind::one_to_one), nullptr), {},
                      ringwire::fence_scope::cross_process);
      T m = message_template<T>();
      const auto end = end_after(target);
      for (std::uint64_t i = 0;; ++i) {
        if (time_over(i, end)) break;
        stamp(m, i);
        while (tx.try_write(1, std::as_bytes(std::span(&m, 1))) != status::ok) {
          if (g_yield_while_spinning) sched_yield();
          cpu_relax();
        }
      }
    }
    _exit(0);
  }
  pin_this_thread(g_cfg.cpus.b);
  std::uint64_t n = 0;
  const auto t0 = steady::now();
  {
    br::reader<> rx(br::ring_ref<ringwire::std_sync>(*L::attach(mem, bytes, br::ring_kind::one_to_one), nullptr), {},
                    ringwire::fence_scope::cross_process);
    T out;
    for (;;) {
      const std::size_t k = rx.read_batch(64, [&](std::int32_t, std::span<const std::byte> p) {
        std::memcpy(&out, p.data(), sizeof out);
        if (!verify(out, n) && s.err.empty()) s.err = seq_error(n, out.w[0]);
        ++n;
      });
      if (k != 0) continue;
      br::record_view r;
      const status st = rx.try_read(r);
      if (st == status::closed) break;
      if (st == status::ok) {
        ++n;
        rx.release();
      } else if (g_yield_while_spinning) {
        sched_yield();
      }
    }
  }
  s.secs = std::chrono::duration<double>(steady::now() - t0).count();
  int wst = 0;
  waitpid(pid, &wst, 0);
  munmap(mem, bytes);
  if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) s.err = "writer process failed";
  s.ok = s.err.empty();
  s.units = n;
  const double rate = static_cast<double>(n) / s.secs;
  s.v = {rate / 1e6, rate * S / (1024.0 * 1024 * 1024)};
  return s;
}

void xproc_table() {
  const std::string table = "cross-process 1 KiB";
  std::vector<row> rows;
  rows.push_back({"byte_ring one_to_one (fork, MAP_SHARED)", role::ours, &xproc_run, {}, {}, 0});
  rows.push_back({"byte_ring one_to_one (threads)", role::ours, &byte_ring_run<1024>, {}, {}, 0});
  rows = filtered(std::move(rows), table);
  if (rows.empty() || rows[0].name != "byte_ring one_to_one (fork, MAP_SHARED)") return;
  run_table(table, rows, 2);
  print_tput("Throughput, 1 KiB, writer in a fork()ed process (cross_process fences)", rows);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  c.prog = "ringwire_byte_ring_bench";
  configure(argc, argv, usage);
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 100);
  std::ostringstream o;
  o << "\n## ringwire byte ring benchmarks" << (c.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "") << "\n\n";
  header_start(o);
  header_system(o, "");
  o << "\n- threads pinned to CPUs " << c.cpus.a << " (writer) and " << c.cpus.b << " (reader); queues hold ~"
    << ring_msgs << " messages\n";
  out(o.str());

  size_table<64>();
  size_table<256>();
  size_table<1024>();
  size_table<4096>();
  mixed_table();
  rtt_table();
  xproc_table();

  std::ostringstream s;
  s << "\n### Summary (medians, same run)\n\n| comparison | ratio |\n|---|---:|\n";
  for (auto& r : g_ratios) s << "| " << r.table << " | " << ratio(r.ours / r.ref) << " |\n";
  s << "\nTargets: 1 KiB byte_ring >= 0.50x memcpy bandwidth; byte_ring one-to-one >= 0.90x typed spsc (same payload).\n";
  out(s.str());
  return write_markdown();
}
