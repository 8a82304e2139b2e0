// Stress tests for ringwire::broadcast: one publisher thread and three subscriber threads,
// and (multi-producer channel) two producer threads and three subscriber threads.
//
// Every test runs in three configurations (TYPED_TEST over config<Words, slot layout>): a
// 64-byte payload (128-byte slots in both layouts, so one configuration covers both), and a
// 16-byte payload in packed slots (32 bytes: two to a cache line, the publisher writing next
// to a slot being read) and in line slots (64 bytes: one to a line). A payload is a sequence
// number, words derived from it and a checksum over all of them, so a torn copy (words from
// two different messages) fails the checksum. Every subscriber checks every message:
// checksum, and a sequence exactly one past the previous one, or exactly `missed` further
// after a lagged outcome; at the end, received + missed == published (lossy) or received
// == published and missed == 0 (lossless). A churning subscriber joins and leaves while the publisher runs. With two
// producers the payload carries (producer, its own sequence): every subscriber checks the
// checksum, each producer's order (exactly +1 when lossless), and the exact totals.
//
// The build machine has two cores for four threads, so every wait parks (or yields) and
// the publisher yields now and then; nothing spins for long. Sizes divide by
// RINGWIRE_STRESS_SCALE under sanitizers. Blocking receives use 30 s timeouts purely as
// failure detection: a lost wake-up fails the test instead of hanging it.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/stress_scale.hpp"
#include "ringwire/broadcast.hpp"

namespace {

using namespace std::chrono_literals;
namespace bc = ringwire::broadcast;
using ringwire::status;

using rw_test::scaled;
constexpr auto kLong = 30s;  // failure detection only

template <std::size_t Words>
struct msg {
  static_assert(Words >= 2, "a sequence number and a checksum");
  static constexpr std::size_t words = Words;
  std::array<std::uint64_t, Words> w;
};

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

template <class M>
M make(std::uint64_t seq) {
  M m{};
  constexpr std::size_t last = M::words - 1;
  m.w[0] = seq;
  std::uint64_t sum = seq;
  for (std::size_t i = 1; i < last; ++i) {
    m.w[i] = mix(seq * 8 + i);
    sum = mix(sum ^ m.w[i]);
  }
  m.w[last] = mix(sum);
  return m;
}

template <class M>
bool intact(const M& m) {
  return make<M>(m.w[0]).w == m.w;
}

// A test configuration: the payload's words and the slot layout.
template <std::size_t Words, bc::slot_layout Slots>
struct config {
  using msg_t = msg<Words>;
  static constexpr bc::slot_layout slots = Slots;
};
using configs = ::testing::Types<config<8, bc::slot_layout::packed>, config<2, bc::slot_layout::packed>,
                                 config<2, bc::slot_layout::line>>;
struct config_names {
  template <class C>
  static std::string GetName(int) {
    return std::to_string(sizeof(typename C::msg_t)) + "B_" + (C::slots == bc::slot_layout::line ? "line" : "packed");
  }
};

template <class C>
class BroadcastStress : public ::testing::Test {};
TYPED_TEST_SUITE(BroadcastStress, configs, config_names);

// What one subscriber saw. Failures are counted here and asserted on the main thread.
struct tally {
  std::uint64_t received = 0;
  std::uint64_t missed = 0;
  std::uint64_t torn = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t lags = 0;
  status last = status::ok;
};

// Receives until closed (or evicted, or a failure), checking every message.
template <class M>
tally consume(bc::subscriber<M>& s, std::uint64_t first, std::optional<std::uint64_t> stop_after = {}) {
  tally t;
  std::uint64_t expect = first;
  for (;;) {
    if (stop_after && t.received >= *stop_after) return t;
    auto r = s.recv_for(kLong);
    if (r) {
      if (!intact(*r)) ++t.torn;
      if (expect != 0 && r->w[0] != expect) ++t.out_of_order;  // 0: any first message
      expect = r->w[0] + 1;
      ++t.received;
    } else if (r.status() == status::lagged) {
      ++t.lags;
      t.missed += r.missed();
      expect += r.missed();
    } else {
      t.last = r.status();
      return t;
    }
  }
}

template <class M>
void produce(bc::publisher<M>& p, std::uint64_t n) {
  for (std::uint64_t seq = 1; seq <= n; ++seq) {
    ASSERT_EQ(p.send(make<M>(seq)), status::ok) << "seq " << seq;
    if (seq % 512 == 0) std::this_thread::yield();  // two cores, four threads
  }
  p.close();
}

template <class C>
bc::options opts(bc::policy pol) {
  bc::options o;
  o.policy = pol;
  o.slot_layout = C::slots;
  o.receiver_wait = ringwire::wait_strategy::park(64);
  o.sender_wait = ringwire::wait_strategy::park(64);
  return o;
}

// One publisher thread publishing n messages and three subscriber threads reading from
// message 1 until closed; returns what each subscriber saw.
template <class M>
std::array<tally, 3> run_three(bc::publisher<M>& pub, std::vector<bc::subscriber<M>>& readers, std::uint64_t n) {
  std::array<tally, 3> t;
  std::vector<std::jthread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&, i] { t[static_cast<std::size_t>(i)] = consume(readers[static_cast<std::size_t>(i)], 1); });
  threads.emplace_back([&, p = std::move(pub)]() mutable { produce(p, n); });
  threads.clear();  // joins: the publisher's close ends every subscriber
  return t;
}

TYPED_TEST(BroadcastStress, LossyThreeSubscribersCountExactly) {
  using M = typename TypeParam::msg_t;
  const std::uint64_t n = scaled(1'000'000);
  auto [pub, subs] = bc::channel<M>(256, opts<TypeParam>(bc::policy::lossy));
  std::vector<bc::subscriber<M>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(subs.subscribe());
  const std::array<tally, 3> t = run_three(pub, readers, n);
  std::uint64_t lags = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t[i].last, status::closed) << "subscriber " << i;
    EXPECT_EQ(t[i].torn, 0u) << "subscriber " << i;
    EXPECT_EQ(t[i].out_of_order, 0u) << "subscriber " << i;
    EXPECT_EQ(t[i].received + t[i].missed, n) << "subscriber " << i;
    EXPECT_EQ(readers[i].received(), t[i].received);
    EXPECT_EQ(readers[i].missed(), t[i].missed);
    lags += t[i].lags;
  }
  std::printf("lossy: %llu messages, %llu lag events over 3 subscribers\n", static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(lags));
}

TYPED_TEST(BroadcastStress, LosslessEverySubscriberGetsEverything) {
  using M = typename TypeParam::msg_t;
  const std::uint64_t n = scaled(200'000);
  auto [pub, subs] = bc::channel<M>(64, opts<TypeParam>(bc::policy::lossless));
  std::vector<bc::subscriber<M>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(subs.subscribe());
  const std::array<tally, 3> t = run_three(pub, readers, n);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t[i].last, status::closed) << "subscriber " << i;
    EXPECT_EQ(t[i].torn, 0u);
    EXPECT_EQ(t[i].out_of_order, 0u);
    EXPECT_EQ(t[i].received, n);
    EXPECT_EQ(t[i].missed, 0u);
  }
}

// Two steady subscribers plus one thread that keeps joining (from the next message or from
// the oldest), reading a few messages and leaving. Lossless: the steady ones get
// everything and the publisher never waits on a subscriber that left; every churned
// subscriber sees contiguous, intact messages. Lossy: the exact counts still hold.
template <class C>
void churn_test(bc::policy pol, std::uint64_t n) {
  using M = typename C::msg_t;
  auto [pub, subs] = bc::channel<M>(32, opts<C>(pol));
  std::vector<bc::subscriber<M>> readers;
  for (int i = 0; i < 2; ++i) readers.push_back(subs.subscribe());
  std::array<tally, 2> t;
  std::atomic<bool> done{false};
  tally churned;
  std::uint64_t joins = 0;
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&, i] { t[i] = consume(readers[i], 1); });
    threads.emplace_back([&, hub = subs] {
      std::mt19937_64 rng(12345);
      while (!done.load(std::memory_order_relaxed)) {
        auto s = rng() % 2 ? hub.subscribe() : hub.subscribe_from_oldest();
        ++joins;
        // From the oldest under lossless, the first message may be skipped if the
        // publisher was overwriting it as we joined (subscriber.hpp): start unchecked.
        const std::uint64_t first = s.next_sequence();
        const tally c = consume(s, pol == bc::policy::lossless ? 0 : first, rng() % 200);
        churned.torn += c.torn;
        churned.out_of_order += c.out_of_order;
        churned.received += c.received;
        if (c.last == status::closed) break;
      }
    });
    threads.emplace_back([&, p = std::move(pub)]() mutable {
      produce(p, n);
      done = true;
    });
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(t[i].last, status::closed);
    EXPECT_EQ(t[i].torn, 0u);
    EXPECT_EQ(t[i].out_of_order, 0u);
    EXPECT_EQ(t[i].received + t[i].missed, n);
    if (pol == bc::policy::lossless) {
      EXPECT_EQ(t[i].missed, 0u);
    }
  }
  EXPECT_EQ(churned.torn, 0u);
  EXPECT_EQ(churned.out_of_order, 0u);
  std::printf("churn: %llu joins, %llu messages read by churned subscribers\n",
              static_cast<unsigned long long>(joins), static_cast<unsigned long long>(churned.received));
}

TYPED_TEST(BroadcastStress, LosslessWithSubscribersJoiningAndLeaving) {
  churn_test<TypeParam>(bc::policy::lossless, scaled(100'000));
}
TYPED_TEST(BroadcastStress, LossyWithSubscribersJoiningAndLeaving) {
  churn_test<TypeParam>(bc::policy::lossy, scaled(500'000));
}

// Evict: one subscriber stops reading; the publisher evicts it and carries on, and the
// others still get everything.
TYPED_TEST(BroadcastStress, EvictDropsTheStalledSubscriber) {
  using M = typename TypeParam::msg_t;
  const std::uint64_t n = scaled(200'000);
  auto o = opts<TypeParam>(bc::policy::evict);
  o.evict_lag = 48;
  auto [pub, subs] = bc::channel<M>(64, o);
  std::vector<bc::subscriber<M>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(subs.subscribe());
  std::array<tally, 3> t;
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&, i] { t[i] = consume(readers[i], 1); });
    threads.emplace_back([&] {
      t[2] = consume(readers[2], 1, 1000);  // then stalls until evicted
      std::this_thread::sleep_for(50ms);
      t[2].last = readers[2].try_recv().status();
    });
    threads.emplace_back([&, p = std::move(pub)]() mutable { produce(p, n); });
  }
  EXPECT_EQ(t[2].last, status::evicted);
  EXPECT_EQ(t[2].torn, 0u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t[i].out_of_order, 0u);
  // The steady two are evicted only if they too fall 48 behind at a full ring (possible
  // on two cores): whatever they got is intact and in order, and nothing was lost silently.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(t[i].torn, 0u);
    EXPECT_TRUE(t[i].last == status::closed || t[i].last == status::evicted);
    if (t[i].last == status::closed) {
      EXPECT_EQ(t[i].received, n);
    }
  }
}

// ---- two producers (mpmc_channel) -----------------------------------------------------

constexpr std::uint64_t producer_shift = 40;

struct mp_tally {
  tally t;
  std::array<std::uint64_t, 2> last{0, 0};  // each producer's newest sequence seen
  std::uint64_t gaps = 0;                   // per-producer sequence jumps (lossy only)
};

template <class M>
mp_tally consume_mp(bc::subscriber<M>& s) {
  mp_tally m;
  for (;;) {
    auto r = s.recv_for(kLong);
    if (r) {
      if (!intact(*r)) ++m.t.torn;
      const std::uint64_t p = r->w[0] >> producer_shift, i = r->w[0] & ((std::uint64_t{1} << producer_shift) - 1);
      if (p > 1 || i <= m.last[p]) {
        ++m.t.out_of_order;
      } else {
        if (i != m.last[p] + 1) ++m.gaps;
        m.last[p] = i;
      }
      ++m.t.received;
    } else if (r.status() == status::lagged) {
      ++m.t.lags;
      m.t.missed += r.missed();
    } else {
      m.t.last = r.status();
      return m;
    }
  }
}

template <class C>
std::array<mp_tally, 3> run_two_producers(bc::policy pol, std::size_t capacity, std::uint64_t per_producer) {
  using M = typename C::msg_t;
  auto [pub, subs] = bc::mpmc_channel<M>(capacity, opts<C>(pol));
  std::vector<bc::subscriber<M>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(subs.subscribe());
  std::array<mp_tally, 3> t;
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < 3; ++i) threads.emplace_back([&, i] { t[i] = consume_mp(readers[i]); });
    for (std::uint64_t p = 0; p < 2; ++p) {
      threads.emplace_back([q = pub, p, per_producer]() mutable {
        for (std::uint64_t i = 1; i <= per_producer; ++i) {
          ASSERT_EQ(q.send(make<M>(p << producer_shift | i)), status::ok);
          if (i % 512 == 0) std::this_thread::yield();  // two cores, five threads
        }
      });
    }
    pub.close();  // the producers' copies close the channel when both are done
  }
  return t;
}

TYPED_TEST(BroadcastStress, TwoProducersLossyCountExactly) {
  const std::uint64_t per = scaled(400'000);
  const auto t = run_two_producers<TypeParam>(bc::policy::lossy, 256, per);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(t[i].t.last, status::closed) << "subscriber " << i;
    EXPECT_EQ(t[i].t.torn, 0u) << "subscriber " << i;
    EXPECT_EQ(t[i].t.out_of_order, 0u) << "subscriber " << i;
    EXPECT_EQ(t[i].t.received + t[i].t.missed, 2 * per) << "subscriber " << i;
  }
}

TYPED_TEST(BroadcastStress, TwoProducersLosslessEverySubscriberGetsEverything) {
  const std::uint64_t per = scaled(100'000);
  const auto t = run_two_producers<TypeParam>(bc::policy::lossless, 16, per);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(t[i].t.last, status::closed) << "subscriber " << i;
    EXPECT_EQ(t[i].t.torn, 0u);
    EXPECT_EQ(t[i].t.out_of_order, 0u);
    EXPECT_EQ(t[i].gaps, 0u);
    EXPECT_EQ(t[i].t.received, 2 * per);
    EXPECT_EQ(t[i].t.missed, 0u);
    EXPECT_EQ(t[i].last[0], per);
    EXPECT_EQ(t[i].last[1], per);
  }
}

}  // namespace
