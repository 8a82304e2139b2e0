// Stress tests for ringwire::mpmc: two producer threads and two consumer threads (more
// threads than the build machine's two cores, so preemption in the middle of a push or a
// pop happens often -- exactly the window the turn protocol must survive).
//
// Every message names its producer and that producer's sequence number, and carries six
// words derived from them plus a checksum (64 bytes), so a torn or stale copy fails the
// checksum. Every consumer checks every message: checksum, and that each producer's
// sequence numbers arrive in increasing order (a consequence of the one global FIFO order).
// At the end the union of what the consumers saw is exactly every message sent, each once
// (a per-producer bitmap): no loss, no duplicate. Runs cover try_* in spin loops, blocking
// calls that park at once, timed calls that time out and retry, the channel handles
// closing at the end, power-of-two and divided capacities (1, 3, 8, 64), both cell layouts
// (the 64-byte message gets the stamp array by default; try_* and blocking runs name
// each layout), and an element type that counts its constructions and destructions (every
// element destroyed exactly once, including what is left when the queue dies).
//
// Sizes divide by RINGWIRE_STRESS_SCALE under sanitizers. Blocking calls use long
// timeouts purely as failure detection: a lost wake-up fails the test instead of hanging.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "ringwire/mpmc.hpp"
#include "support/stress_scale.hpp"

namespace {

using namespace std::chrono_literals;
namespace mpmc = ringwire::mpmc;
using ringwire::status;
using ringwire::wait_strategy;
using rw_test::scaled;

constexpr auto kLong = 30s;  // failure detection only
constexpr int kProducers = 2;
constexpr int kConsumers = 2;

struct msg {
  std::array<std::uint64_t, 8> w;
};
static_assert(sizeof(msg) == 64);

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

msg make(std::uint64_t producer, std::uint64_t seq) {
  msg m{};
  m.w[0] = producer;
  m.w[1] = seq;
  std::uint64_t sum = mix(producer * 0x9e3779b97f4a7c15ULL + seq);
  for (std::size_t i = 2; i < 7; ++i) {
    m.w[i] = mix(seq * 8 + i + producer);
    sum = mix(sum ^ m.w[i]);
  }
  m.w[7] = sum;
  return m;
}

bool intact(const msg& m) { return m.w[0] < kProducers && m.w == make(m.w[0], m.w[1]).w; }

// What one consumer saw; merged and checked on the main thread.
struct consumer_log {
  std::vector<std::uint64_t> seqs[kProducers];
  std::uint64_t bad = 0;        // checksum failures
  std::uint64_t disorder = 0;   // a producer's sequence going backwards

  void saw(const msg& m) {
    if (!intact(m)) {
      ++bad;
      return;
    }
    auto& s = seqs[m.w[0]];
    if (!s.empty() && m.w[1] <= s.back()) ++disorder;
    s.push_back(m.w[1]);
  }
};

// Every (producer, seq < per_producer) exactly once across the logs.
void expect_exactly_once(const std::vector<consumer_log>& logs, std::uint64_t per_producer) {
  for (int p = 0; p < kProducers; ++p) {
    std::vector<std::uint8_t> seen(per_producer, 0);
    std::uint64_t total = 0;
    std::uint64_t dups = 0;
    for (const auto& log : logs) {
      for (std::uint64_t s : log.seqs[p]) {
        ASSERT_LT(s, per_producer);
        if (seen[s]++ != 0) ++dups;
        ++total;
      }
    }
    EXPECT_EQ(dups, 0u) << "producer " << p;
    EXPECT_EQ(total, per_producer) << "producer " << p << ": lost messages";
  }
  for (const auto& log : logs) {
    EXPECT_EQ(log.bad, 0u) << "torn or stale payloads";
    EXPECT_EQ(log.disorder, 0u) << "a producer's messages out of order";
  }
}

// Runs produce(p) on kProducers threads and consume(c, log) on kConsumers threads.
void run_2x2(const std::function<void(int)>& produce, const std::function<void(int, consumer_log&)>& consume,
             std::uint64_t per_producer) {
  std::vector<consumer_log> logs(kConsumers);
  {
    std::vector<std::jthread> threads;
    for (int p = 0; p < kProducers; ++p) threads.emplace_back(produce, p);
    for (int c = 0; c < kConsumers; ++c) threads.emplace_back(consume, c, std::ref(logs[static_cast<std::size_t>(c)]));
  }
  expect_exactly_once(logs, per_producer);
}

// ---- try_* spinning (yield between attempts: four threads on two cores) ---------------

class MpmcStressTry : public ::testing::TestWithParam<std::tuple<std::size_t, mpmc::cell_layout>> {};

TEST_P(MpmcStressTry, TwoByTwoExactlyOnceInOrder) {
  const std::uint64_t n = scaled(50000);
  mpmc::queue<msg> q(std::get<0>(GetParam()), mpmc::options{.cells = std::get<1>(GetParam())});
  std::atomic<std::uint64_t> popped{0};
  run_2x2(
      [&](int p) {
        for (std::uint64_t i = 0; i < n; ++i) {
          const msg m = make(static_cast<std::uint64_t>(p), i);
          while (q.try_push(m) != status::ok) std::this_thread::yield();
        }
      },
      [&](int, consumer_log& log) {
        msg m{};
        while (popped.load(std::memory_order_relaxed) < kProducers * n) {
          if (q.try_pop(m) == status::ok) {
            popped.fetch_add(1, std::memory_order_relaxed);
            log.saw(m);
          } else {
            std::this_thread::yield();
          }
        }
      },
      n);
  EXPECT_EQ(q.try_pop().status(), status::empty);
}

INSTANTIATE_TEST_SUITE_P(Capacities, MpmcStressTry,
                         ::testing::Combine(::testing::Values(1, 3, 8, 64),
                                            ::testing::Values(mpmc::cell_layout::stamp_array,
                                                              mpmc::cell_layout::stamp_in_cell)));

// ---- blocking calls, parking at once or after a spin ------------------------------------

struct blocking_case {
  std::size_t capacity;
  std::uint32_t spins;
  mpmc::cell_layout cells;
};

class MpmcStressBlocking : public ::testing::TestWithParam<blocking_case> {};

TEST_P(MpmcStressBlocking, TwoByTwoExactlyOnceInOrder) {
  const std::uint64_t n = scaled(20000);
  const auto ws = wait_strategy::park(GetParam().spins);
  mpmc::queue<msg> q(GetParam().capacity, mpmc::options{ws, ws, GetParam().cells});
  std::atomic<std::uint64_t> claimed{0};
  run_2x2(
      [&](int p) {
        for (std::uint64_t i = 0; i < n; ++i)
          ASSERT_EQ(q.push_for(make(static_cast<std::uint64_t>(p), i), kLong), status::ok) << "lost wake-up?";
      },
      [&](int, consumer_log& log) {
        // Each consumer pops only what is certainly coming, so every pop must succeed.
        while (claimed.fetch_add(1) < kProducers * n) {
          auto r = q.pop_for(kLong);
          ASSERT_TRUE(r) << ringwire::to_string(r.status()) << ": lost wake-up?";
          log.saw(*r);
        }
      },
      n);
}

TEST_P(MpmcStressBlocking, ClosingEndsEveryConsumerAfterTheLastMessage) {
  // The same, but the consumers stop only on closed: the main thread closes the queue once
  // the producers are done (run_2x2 joins producers and consumers together, so here the
  // producers close it themselves: the second to finish).
  const std::uint64_t n = scaled(20000);
  const auto ws = wait_strategy::park(GetParam().spins);
  mpmc::queue<msg> q(GetParam().capacity, mpmc::options{ws, ws, GetParam().cells});
  std::atomic<int> done{0};
  run_2x2(
      [&](int p) {
        for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(q.push(make(static_cast<std::uint64_t>(p), i)), status::ok);
        if (done.fetch_add(1) == kProducers - 1) q.close();
      },
      [&](int, consumer_log& log) {
        for (;;) {
          auto r = q.pop_for(kLong);
          if (!r) {
            ASSERT_EQ(r.status(), status::closed) << "lost wake-up?";
            return;
          }
          log.saw(*r);
        }
      },
      n);
}

INSTANTIATE_TEST_SUITE_P(Cases, MpmcStressBlocking,
                         ::testing::Values(blocking_case{1, 0, mpmc::cell_layout::stamp_array},
                                           blocking_case{3, 0, mpmc::cell_layout::stamp_array},
                                           blocking_case{8, 64, mpmc::cell_layout::stamp_array},
                                           blocking_case{1, 0, mpmc::cell_layout::stamp_in_cell},
                                           blocking_case{3, 0, mpmc::cell_layout::stamp_in_cell}));

// ---- timed calls that time out and retry ------------------------------------------------

TEST(MpmcStress, ShortTimeoutsRetriedLoseNothing) {
  const std::uint64_t n = scaled(10000);
  const auto ws = wait_strategy::park(0);
  mpmc::queue<msg> q(2, mpmc::options{ws, ws});
  std::atomic<std::uint64_t> popped{0};
  std::atomic<std::uint64_t> timeouts{0};
  run_2x2(
      [&](int p) {
        for (std::uint64_t i = 0; i < n; ++i) {
          msg m = make(static_cast<std::uint64_t>(p), i);
          status s;
          while ((s = q.push_for(std::move(m), 20us)) == status::timed_out) timeouts.fetch_add(1);
          ASSERT_EQ(s, status::ok);
        }
      },
      [&](int, consumer_log& log) {
        while (popped.load() < kProducers * n) {
          auto r = q.pop_for(20us);
          if (r) {
            popped.fetch_add(1);
            log.saw(*r);
          } else {
            ASSERT_EQ(r.status(), status::timed_out);
            timeouts.fetch_add(1);
          }
        }
      },
      n);
  RecordProperty("timeouts", static_cast<int>(timeouts.load()));
}

// ---- the channel: copies everywhere, disconnect at the end ---------------------------------

TEST(MpmcStress, ChannelCopiesCloseWhenTheLastSenderGoes) {
  const std::uint64_t n = scaled(20000);
  std::vector<consumer_log> logs(kConsumers);
  {
    auto [tx, rx] = mpmc::channel<msg>(4, mpmc::options{wait_strategy::park(16), wait_strategy::park(16)});
    std::vector<std::jthread> threads;
    for (int p = 0; p < kProducers; ++p)
      threads.emplace_back([tx = tx, p]() mutable {  // a copy per thread
        for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(tx.send(make(static_cast<std::uint64_t>(p), i)), status::ok);
      });  // each copy's destructor leaves; the last one seals the channel
    for (int c = 0; c < kConsumers; ++c)
      threads.emplace_back([rx = rx, &log = logs[static_cast<std::size_t>(c)]]() mutable {
        for (;;) {
          auto r = rx.recv_for(kLong);
          if (!r) {
            ASSERT_EQ(r.status(), status::closed) << "lost wake-up?";
            return;
          }
          log.saw(*r);
        }
      });
    tx.close();  // the main thread's own sender: only the threads' copies remain
    rx.close();
  }
  expect_exactly_once(logs, n);
}

// ---- lifetimes under concurrency ------------------------------------------------------------

struct counted_msg {
  static inline std::atomic<long> alive{0};
  std::uint64_t v;
  explicit counted_msg(std::uint64_t x) : v(x) { alive.fetch_add(1, std::memory_order_relaxed); }
  counted_msg(counted_msg&& o) noexcept : v(o.v) { alive.fetch_add(1, std::memory_order_relaxed); }
  counted_msg& operator=(counted_msg&& o) noexcept {
    v = o.v;
    return *this;
  }
  ~counted_msg() { alive.fetch_sub(1, std::memory_order_relaxed); }
};

TEST(MpmcStress, EveryElementDestroyedExactlyOnceIncludingLeftovers) {
  const std::uint64_t n = scaled(50000);
  counted_msg::alive = 0;
  std::atomic<std::uint64_t> sum_in{0};
  std::atomic<std::uint64_t> sum_out{0};
  {
    mpmc::queue<counted_msg> q(5);
    std::atomic<bool> stop{false};
    {
      std::vector<std::jthread> threads;
      for (int p = 0; p < kProducers; ++p)
        threads.emplace_back([&, p] {
          for (std::uint64_t i = 1; i <= n; ++i) {
            const std::uint64_t v = i * kProducers + static_cast<std::uint64_t>(p);
            while (q.try_emplace(v) != status::ok) std::this_thread::yield();
            sum_in.fetch_add(v);
          }
        });
      for (int c = 0; c < kConsumers; ++c)
        threads.emplace_back([&] {
          // Consumers stop early on purpose, leaving up to a full queue behind.
          while (!stop.load()) {
            if (auto r = q.try_pop()) {
              sum_out.fetch_add(r->v);
            } else {
              std::this_thread::yield();
            }
          }
        });
      threads[0].join();
      threads[1].join();
      stop = true;
    }
    // Only the queued elements are alive; the queue's destructor must destroy them.
    EXPECT_EQ(static_cast<std::uint64_t>(counted_msg::alive.load()), q.size_approx());
    if (auto r = q.try_pop()) sum_out.fetch_add(r->v);
    EXPECT_EQ(static_cast<std::uint64_t>(counted_msg::alive.load()), q.size_approx());
    EXPECT_LE(sum_out.load(), sum_in.load());
  }
  EXPECT_EQ(counted_msg::alive.load(), 0) << "~queue must destroy each leftover exactly once";
}

}  // namespace
