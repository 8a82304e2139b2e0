// ringwire_insn -- a single-threaded push+pop loop per implementation, for instruction
// counts under callgrind (repeatable on a noisy machine, BENCHMARKING.md rule 9):
//
//   ringwire_insn IMPL N      N pairs of try_push + try_pop of an 8-byte message, capacity
//                             1024, every message verified; prints IMPL N checksum
//   ringwire_insn --list      the IMPL names
//
// Besides one row per queue (try_push + try_pop), three rows for other paths:
// ringwire_consume1 (try_send + consume(fn, 1)), ringwire_batch64 (try_send_batch of 64 +
// consume(fn, 64)) and boost_bulk64 (push(p, 64) + pop(p, 64)), all counted per message;
// and one row per other ringwire family, each its own try-send + try-receive pair on one
// thread (fam_*: mpsc one lane, mpmc queue, broadcast lossy and lossless, byte ring
// one-to-one, byte broadcast), so a refactor shows what it costs every family's hot path.
//
// Instructions per pair = (Ir(2N) - Ir(N)) / N: start-up, construction and teardown cancel
// out. The `loop` implementation is the same loop with a plain slot instead of a queue
// (one copy in, one copy out), so "minus loop" isolates what the queue itself costs.
// scripts/bench.sh runs all of this under valgrind --tool=callgrind and prints the table.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "adapters.hpp"
#include "ringwire/broadcast.hpp"
#include "ringwire/byte_broadcast.hpp"
#include "ringwire/byte_ring.hpp"
#include "ringwire/mpmc.hpp"
#include "ringwire/mpsc.hpp"
#include "harness.hpp"

namespace {

using T = bench::msg<8>;
constexpr std::size_t cap = 1024;

// The loop without a queue: one copy in, one copy out, kept by compiler barriers.
template <class U, std::size_t C>
struct loop_q {
  bool try_push(const U& v) {
    slot = v;
    asm volatile("" : : "r"(&slot) : "memory");
    return true;
  }
  bool try_pop(U& out) {
    asm volatile("" : : "r"(&slot) : "memory");
    out = slot;
    return true;
  }
  U slot{};
};

template <class Q>
[[gnu::noinline]] std::uint64_t pairs(Q& q, std::uint64_t n) {
  T m{}, r{};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    bench::stamp(m, i);
    if (!q.try_push(m)) {
      std::fprintf(stderr, "ringwire_insn: push %llu failed\n", static_cast<unsigned long long>(i));
      std::exit(1);
    }
    if (!q.try_pop(r) || !bench::verify(r, i)) {
      std::fprintf(stderr, "ringwire_insn: pop %llu failed or wrong\n", static_cast<unsigned long long>(i));
      std::exit(1);
    }
    sum += r.w[0];
  }
  return sum;
}

[[noreturn]] void wrong(const char* what, std::uint64_t i) {
  std::fprintf(stderr, "ringwire_insn: %s at message %llu\n", what, static_cast<unsigned long long>(i));
  std::exit(1);
}

// ringwire's try_send with consume(fn, 1) instead of try_recv (no recv_result in between).
[[gnu::noinline]] std::uint64_t pairs_consume(bench::ringwire_q<T, cap>& q, std::uint64_t n) {
  T m{};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    bench::stamp(m, i);
    if (!q.try_push(m)) wrong("push failed", i);
    bool ok = false;
    if (q.rx.consume([&](T& r) { ok = bench::verify(r, i); sum += r.w[0]; }, 1) != 1 || !ok) wrong("pop failed or wrong", i);
  }
  return sum;
}

// Batches of 64: ringwire try_send_batch + consume, boost push(p, n) + pop(p, n). Counted per
// message, like the pairs.
constexpr std::size_t batch = 64;

[[gnu::noinline]] std::uint64_t batches_ringwire(bench::ringwire_q<T, cap>& q, std::uint64_t n) {
  T buf[batch] = {};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n;) {
    const std::size_t k = static_cast<std::size_t>(n - i < batch ? n - i : batch);
    for (std::size_t j = 0; j < k; ++j) bench::stamp(buf[j], i + j);
    if (q.tx.try_send_batch(std::span<T>(buf, k)) != k) wrong("send_batch short", i);
    bool ok = true;
    std::uint64_t e = i;
    if (q.rx.consume([&](T& r) { ok &= bench::verify(r, e++); sum += r.w[0]; }, k) != k || !ok) wrong("consume short or wrong", i);
    i += k;
  }
  return sum;
}

[[gnu::noinline]] std::uint64_t batches_boost(bench::boost_q<T, cap>& q, std::uint64_t n) {
  T buf[batch] = {};
  T got[batch] = {};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n;) {
    const std::size_t k = static_cast<std::size_t>(n - i < batch ? n - i : batch);
    for (std::size_t j = 0; j < k; ++j) bench::stamp(buf[j], i + j);
    if (q.push_n(buf, k) != k) wrong("push(p, n) short", i);
    if (q.pop_n(got, k) != k) wrong("pop(p, n) short", i);
    for (std::size_t j = 0; j < k; ++j) {
      if (!bench::verify(got[j], i + j)) wrong("wrong message", i + j);
      sum += got[j].w[0];
    }
    i += k;
  }
  return sum;
}

// ---- the other families: one try-send + try-receive per message, the message verified --

// Each row's loop is its own noinline function over endpoints made by the caller, so how
// the construction inlines cannot change the loop's code.
template <class Tx, class Rx>
[[gnu::noinline]] std::uint64_t fam_mpsc_loop(Tx& tx, Rx& rx, std::uint64_t n) {
  T m{};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    bench::stamp(m, i);
    if (tx.try_send(m) != ringwire::status::ok) wrong("mpsc send failed", i);
    auto r = rx.try_recv();
    if (!r || !bench::verify(*r, i)) wrong("mpsc recv failed or wrong", i);
    sum += r->w[0];
  }
  return sum;
}

std::uint64_t fam_mpsc(std::uint64_t n) {
  auto [reg, rx] = ringwire::mpsc::channel<T>(cap, 1);
  auto tx = reg.make_sender();
  return fam_mpsc_loop(tx, rx, n);
}

template <class Q>
[[gnu::noinline]] std::uint64_t fam_mpmc_loop(Q& q, std::uint64_t n) {
  T m{}, r{};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    bench::stamp(m, i);
    if (q.try_push(m) != ringwire::status::ok) wrong("mpmc push failed", i);
    if (q.try_pop(r) != ringwire::status::ok || !bench::verify(r, i)) wrong("mpmc pop failed or wrong", i);
    sum += r.w[0];
  }
  return sum;
}

std::uint64_t fam_mpmc(std::uint64_t n) {
  ringwire::mpmc::queue<T> q(cap);
  return fam_mpmc_loop(q, n);
}

template <class Pub, class Sub>
[[gnu::noinline]] std::uint64_t fam_broadcast_loop(Pub& pub, Sub& sub, std::uint64_t n) {
  T m{};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    bench::stamp(m, i);
    if (pub.try_send(m) != ringwire::status::ok) wrong("broadcast publish failed", i);
    auto r = sub.try_recv();
    if (!r || !bench::verify(*r, i)) wrong("broadcast recv failed or wrong", i);
    sum += r->w[0];
  }
  return sum;
}

template <ringwire::broadcast::policy P, bool Metrics = false>
std::uint64_t fam_broadcast(std::uint64_t n) {
  ringwire::broadcast::options opt;
  opt.policy = P;
  opt.metrics = Metrics;  // broadcast/stats.hpp: the price of the counters
  auto [pub, hub] = ringwire::broadcast::channel<T>(cap, opt);
  auto sub = hub.subscribe();
  return fam_broadcast_loop(pub, sub, n);
}

template <class W, class R>
[[gnu::noinline]] std::uint64_t fam_byte_ring_loop(W& w, R& rd, std::uint64_t n) {
  T m{};
  std::uint64_t sum = 0;
  ringwire::byte_ring::record_view v;
  for (std::uint64_t i = 0; i < n; ++i) {
    bench::stamp(m, i);
    if (w.try_write(1, std::as_bytes(std::span<const T>(&m, 1))) != ringwire::status::ok) wrong("byte ring write failed", i);
    if (rd.try_read(v) != ringwire::status::ok || v.payload.size() != sizeof(T)) wrong("byte ring read failed", i);
    T r;
    std::memcpy(&r, v.payload.data(), sizeof(T));
    rd.release();
    if (!bench::verify(r, i)) wrong("byte ring read wrong", i);
    sum += r.w[0];
  }
  return sum;
}

std::uint64_t fam_byte_ring(std::uint64_t n) {
  auto [w, rd] = ringwire::byte_ring::one_to_one(64 * cap);
  return fam_byte_ring_loop(w, rd, n);
}

template <class W, class R>
[[gnu::noinline]] std::uint64_t fam_byte_broadcast_loop(W& w, R& rd, std::uint64_t n) {
  T m{}, r{};
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    bench::stamp(m, i);
    if (w.try_write(i, std::as_bytes(std::span<const T>(&m, 1))) != ringwire::status::ok) wrong("byte broadcast publish failed", i);
    auto res = rd.try_read(std::as_writable_bytes(std::span<T>(&r, 1)));
    if (!res || !bench::verify(r, i)) wrong("byte broadcast read failed or wrong", i);
    sum += r.w[0];
  }
  return sum;
}

std::uint64_t fam_byte_broadcast(std::uint64_t n) {
  auto [w, rd] = ringwire::byte_broadcast::channel({.depth = cap, .region_bytes = 64 * cap, .max_message = 1024});
  return fam_byte_broadcast_loop(w, rd, n);
}

template <class Q>
std::uint64_t run(std::uint64_t n) {
  auto q = std::make_unique<Q>();
  return pairs(*q, n);
}

template <class Q, std::uint64_t (*F)(Q&, std::uint64_t)>
std::uint64_t run_with(std::uint64_t n) {
  auto q = std::make_unique<Q>();
  return F(*q, n);
}

struct impl {
  const char* id;
  std::uint64_t (*fn)(std::uint64_t);
};

const impl impls[] = {
    {"loop", run<loop_q<T, cap>>},
    {"ringwire", run<bench::ringwire_q<T, cap>>},
    {"ringwire_spin_sync", run<bench::ringwire_spin_q<T, cap>>},
    {"ringwire_line", run<bench::ringwire_line_q<T, cap>>},
    {"ringwire_metrics", run<bench::ringwire_metrics_q<T, cap>>},
    {"ringwire_latency", run<bench::ringwire_latency_q<T, cap>>},
    {"atomic_queue", run<bench::atomic_queue_q<T, cap>>},
    {"moodycamel_rwq", run<bench::rwq_q<T, cap>>},
    {"boost_spsc", run<bench::boost_q<T, cap>>},
    {"xenium_vyukov", run<bench::xenium_q<T, cap>>},
    {"tbb_bounded", run<bench::tbb_q<T, cap>>},
    {"mutex_deque", run<bench::mutex_q<T, cap>>},
    // other paths (not peers of each other row by row; see the table's notes)
    {"ringwire_consume1", run_with<bench::ringwire_q<T, cap>, pairs_consume>},
    {"ringwire_batch64", run_with<bench::ringwire_q<T, cap>, batches_ringwire>},
    {"boost_bulk64", run_with<bench::boost_q<T, cap>, batches_boost>},
    // the other families (see the top)
    {"fam_mpsc", fam_mpsc},
    {"fam_mpmc", fam_mpmc},
    {"fam_broadcast_lossy", fam_broadcast<ringwire::broadcast::policy::lossy>},
    {"fam_broadcast_lossless", fam_broadcast<ringwire::broadcast::policy::lossless>},
    {"fam_broadcast_lossy_metrics", fam_broadcast<ringwire::broadcast::policy::lossy, true>},
    {"fam_broadcast_lossless_metrics", fam_broadcast<ringwire::broadcast::policy::lossless, true>},
    {"fam_byte_ring", fam_byte_ring},
    {"fam_byte_broadcast", fam_byte_broadcast},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const auto& i : impls) std::printf("%s\n", i.id);
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: ringwire_insn IMPL N | ringwire_insn --list\n");
    return 2;
  }
  const std::uint64_t n = std::strtoull(argv[2], nullptr, 10);
  for (const auto& i : impls) {
    if (std::strcmp(argv[1], i.id) == 0) {
      const std::uint64_t sum = i.fn(n);
      const std::uint64_t want = n == 0 ? 0 : n * (n - 1) / 2;
      if (sum != want) {
        std::fprintf(stderr, "ringwire_insn: checksum %llu != %llu\n", static_cast<unsigned long long>(sum),
                     static_cast<unsigned long long>(want));
        return 1;
      }
      std::printf("%s %llu %llu (ringwire light fence: %s)\n", i.id, static_cast<unsigned long long>(n),
                  static_cast<unsigned long long>(sum),
                  ringwire::detail::asymmetric_fence::uses_membarrier() ? "membarrier" : "seq_cst fence");
      return 0;
    }
  }
  std::fprintf(stderr, "ringwire_insn: unknown implementation %s (try --list)\n", argv[1]);
  return 2;
}
