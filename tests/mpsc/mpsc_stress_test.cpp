// Stress tests for ringwire::mpsc: 3 producer threads into one receiver, every message
// checked. Each message carries (producer, sequence) and a checksum; the receiver checks
// that each producer's sequence arrives in order with no gap (FIFO per producer, no loss)
// and that every message arrives once (no duplicate), and the final counts are exact.
//
//   TryOps      try_send / try_recv, yielding when full or empty
//   Park        send / recv with the park strategy on 4-slot lanes: both sides park and are
//               woken constantly (a lost wake-up is caught by the watchdog)
//   Batches     reserve/commit and try_send_batch against consume_up_to with a small bound
//               and try_recv_batch
//   Churn       producers drop their sender every few messages and register again on a
//               channel with exactly 3 lanes: every registration needs a recycled lane
//   ReceiverLeaves  the receiver closes midway: every producer ends with closed, and every
//               element (tracked) is destroyed exactly once
//
// Sizes divide by RINGWIRE_STRESS_SCALE (4 under sanitizers). The 2-core CI machine is
// oversubscribed (4 threads): spinning loops yield. No timing is asserted; a watchdog
// aborts a run that hangs (a lost wake-up) after 120 s.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/mpsc.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace mpsc = ringwire::mpsc;
using ringwire::status;
using rw_test::scaled;
using namespace std::chrono_literals;

constexpr std::size_t producers = 3;

struct msg {
  std::uint64_t id;     // producer << 40 | sequence
  std::uint64_t check;  // derived from id: a torn or stale slot fails it
};
constexpr std::uint64_t check_of(std::uint64_t id) { return id * 0x9e3779b97f4a7c15ull ^ 0x5bd1e995u; }
msg make_msg(std::uint64_t p, std::uint64_t seq) {
  const std::uint64_t id = p << 40 | seq;
  return {id, check_of(id)};
}

// The receiver's books: per-producer next sequence; any failure is recorded, not thrown.
struct books {
  std::array<std::uint64_t, producers> next{};
  std::uint64_t total = 0;
  std::uint64_t bad = 0;
  void take(const msg& m) {
    const std::uint64_t p = m.id >> 40;
    const std::uint64_t seq = m.id & ((std::uint64_t{1} << 40) - 1);
    if (m.check != check_of(m.id) || p >= producers || seq != next[p]) {
      if (bad++ < 5)
        std::fprintf(stderr, "bad message: producer %llu seq %llu (expected %llu), check %s\n",
                     static_cast<unsigned long long>(p), static_cast<unsigned long long>(seq),
                     static_cast<unsigned long long>(p < producers ? next[p] : 0),
                     m.check == check_of(m.id) ? "ok" : "BROKEN");
      return;
    }
    ++next[p];
    ++total;
  }
};

// Runs f() on a thread; aborts the test binary if it does not finish in 120 s.
template <class F>
void with_watchdog(const char* what, F&& f) {
  auto fut = std::async(std::launch::async, std::forward<F>(f));
  if (fut.wait_for(120s) != std::future_status::ready) {
    std::fprintf(stderr, "%s: still running after 120 s (lost wake-up or livelock), aborting\n", what);
    std::abort();
  }
  fut.get();
}

void expect_complete(const books& b, std::uint64_t per_producer) {
  EXPECT_EQ(b.bad, 0u);
  EXPECT_EQ(b.total, per_producer * producers);
  for (std::size_t p = 0; p < producers; ++p) EXPECT_EQ(b.next[p], per_producer) << "producer " << p;
}

TEST(MpscStress, TryOps) {
  constexpr std::uint64_t n = scaled(300'000);
  books b;
  with_watchdog("TryOps", [&] {
    auto [reg, rx] = mpsc::channel<msg>(256, producers);
    std::vector<std::jthread> th;
    for (std::uint64_t p = 0; p < producers; ++p)
      th.emplace_back([tx = reg.make_sender(), p]() mutable {
        for (std::uint64_t i = 0; i < n; ++i)
          while (tx.try_send(make_msg(p, i)) != status::ok) std::this_thread::yield();
      });
    reg.close();
    for (;;) {
      auto r = rx.try_recv();
      if (r) {
        b.take(*r);
      } else if (r.status() == status::closed) {
        break;
      } else {
        std::this_thread::yield();
      }
    }
  });
  expect_complete(b, n);
}

TEST(MpscStress, Park) {
  constexpr std::uint64_t n = scaled(100'000);
  books b;
  with_watchdog("Park", [&] {
    mpsc::options o;
    o.sender_wait = ringwire::wait_strategy::park(16);
    o.receiver_wait = ringwire::wait_strategy::park(16);
    auto [reg, rx] = mpsc::channel<msg>(4, producers, o);
    std::vector<std::jthread> th;
    for (std::uint64_t p = 0; p < producers; ++p)
      th.emplace_back([tx = reg.make_sender(), p]() mutable {
        for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(tx.send(make_msg(p, i)), status::ok);
      });
    reg.close();
    while (auto r = rx.recv()) b.take(*r);
  });
  expect_complete(b, n);
}

TEST(MpscStress, Batches) {
  constexpr std::uint64_t n = scaled(100'000);
  books b;
  with_watchdog("Batches", [&] {
    auto [reg, rx] = mpsc::channel<msg>(64, producers);
    std::vector<std::jthread> th;
    for (std::uint64_t p = 0; p < producers; ++p)
      th.emplace_back([tx = reg.make_sender(), p]() mutable {
        std::uint64_t i = 0;
        std::vector<msg> chunk;
        while (i < n) {
          if (i % 2 == 0) {
            auto res = tx.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(17, n - i)));
            for (std::size_t k = 0; k < res.size(); ++k) res.span()[k] = make_msg(p, i + k);
            i += res.size();
            res.commit(res.size());
            if (res.size() == 0) std::this_thread::yield();
          } else {
            chunk.clear();
            const std::uint64_t end = i + 13 < n ? i + 13 : n;
            for (std::uint64_t k = i; k < end; ++k) chunk.push_back(make_msg(p, k));
            const std::size_t sent = tx.try_send_batch(chunk);
            i += sent;
            if (sent == 0) std::this_thread::yield();
          }
        }
      });
    reg.close();
    std::array<msg, 32> buf{};
    for (std::uint64_t round = 0;; ++round) {
      std::size_t got = 0;
      if (round % 2 == 0) {
        got = rx.consume_up_to(5, [&](const msg& m) { b.take(m); });
      } else {
        got = rx.try_recv_batch(std::span<msg>(buf));
        for (std::size_t k = 0; k < got; ++k) b.take(buf[k]);
      }
      if (got == 0) {
        if (rx.is_closed()) break;
        std::this_thread::yield();
      }
    }
  });
  expect_complete(b, n);
}

// FIFO is per sender: a producer that drops its sender and registers again may get another
// lane, and its new messages may overtake its old ones still queued. So this checks order
// within each generation (one sender's run of per_generation messages) and, over all,
// that every message arrives exactly once.
TEST(MpscStress, Churn) {
  constexpr std::uint64_t n = scaled(40'000);
  constexpr std::uint64_t per_generation = 7;
  const std::uint64_t generations = (n + per_generation - 1) / per_generation;
  std::vector<std::vector<std::uint64_t>> next_in_gen(producers, std::vector<std::uint64_t>(generations, 0));
  std::uint64_t total = 0;
  std::uint64_t bad = 0;
  std::atomic<std::uint64_t> registrations{0};
  with_watchdog("Churn", [&] {
    auto [reg, rx] = mpsc::channel<msg>(8, producers);  // exactly one lane per producer
    std::vector<std::jthread> th;
    for (std::uint64_t p = 0; p < producers; ++p)
      th.emplace_back([reg = reg, p, &registrations]() mutable {
        std::uint64_t i = 0;
        while (i < n) {
          std::optional<mpsc::sender<msg>> tx;
          while (!(tx = reg.try_make_sender())) std::this_thread::yield();  // wait for a recycled lane
          registrations.fetch_add(1, std::memory_order_relaxed);
          for (std::uint64_t k = 0; k < per_generation && i < n; ++k, ++i)
            while (tx->try_send(make_msg(p, i)) != status::ok) std::this_thread::yield();
        }
      });
    reg.close();
    for (;;) {
      auto r = rx.recv_for(30s);
      if (!r) {
        ASSERT_EQ(r.status(), status::closed);
        break;
      }
      const std::uint64_t p = r->id >> 40;
      const std::uint64_t seq = r->id & ((std::uint64_t{1} << 40) - 1);
      // In order within its generation, hence also exactly once.
      if (r->check != check_of(r->id) || p >= producers || seq >= n ||
          seq % per_generation != next_in_gen[p][seq / per_generation]++) {
        ++bad;
        continue;
      }
      ++total;
    }
  });
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(total, n * producers);
  EXPECT_GE(registrations.load(), producers * generations);
}

struct tracked_msg {
  static inline std::atomic<long> live{0};
  msg m;
  explicit tracked_msg(msg x) : m(x) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked_msg(tracked_msg&& o) noexcept : m(o.m) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked_msg& operator=(tracked_msg&& o) noexcept {
    m = o.m;
    return *this;
  }
  ~tracked_msg() { live.fetch_sub(1, std::memory_order_relaxed); }
};

TEST(MpscStress, ReceiverLeaves) {
  constexpr std::uint64_t n = scaled(200'000);
  books b;
  std::array<std::uint64_t, producers> sent{};
  with_watchdog("ReceiverLeaves", [&] {
    {
      auto [reg, rx] = mpsc::channel<tracked_msg>(16, producers);
      std::vector<std::jthread> th;
      for (std::uint64_t p = 0; p < producers; ++p)
        th.emplace_back([tx = reg.make_sender(), p, &sent]() mutable {
          std::uint64_t i = 0;
          for (; i < n; ++i) {
            const status s = tx.send(tracked_msg(make_msg(p, i)));
            if (s == status::closed) break;
            ASSERT_EQ(s, status::ok);
          }
          sent[p] = i;
        });
      for (std::uint64_t k = 0; k < n / 2; ++k) {
        auto r = rx.recv();
        ASSERT_TRUE(r.has_value());
        b.take(r->m);
      }
      rx.close();  // midway: the producers must all end with closed
    }
  });
  EXPECT_EQ(b.bad, 0u);
  EXPECT_EQ(b.total, n / 2);
  for (std::size_t p = 0; p < producers; ++p) EXPECT_LT(sent[p], n) << "producer " << p << " never saw closed";
  EXPECT_EQ(tracked_msg::live.load(), 0) << "queued elements leaked or destroyed twice";
}

}  // namespace
