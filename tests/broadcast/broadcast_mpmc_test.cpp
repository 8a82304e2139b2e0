// Unit tests for the multi-producer broadcast channel (broadcast::mpmc_channel and
// shared_publisher): tickets give one global order, a slot is never written by two
// producers, every policy behaves as with one publisher, and the channel closes with its
// last producer. Single-thread tests check exact counts; the multi-thread ones check
// per-producer order, no loss (lossless) and exact loss accounting (lossy).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/broadcast_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace bc = ringwire::broadcast;
using ringwire::status;

using bc_test::drain;
using bc_test::with;

TEST(BroadcastMpmc, CopiesShareOneOrderedSequence) {
  auto [a, hub] = bc::mpmc_channel<int>(8);
  auto sub = hub.subscribe();
  auto b = a;  // a second producer
  EXPECT_EQ(a.producers(), 2u);
  ASSERT_EQ(a.try_send(1), status::ok);
  ASSERT_EQ(b.try_send(2), status::ok);
  ASSERT_EQ(a.send(3), status::ok);
  EXPECT_EQ(a.published(), 2u);
  EXPECT_EQ(b.published(), 1u);
  EXPECT_EQ(drain(sub), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(sub.next_sequence(), 4u);
}

TEST(BroadcastMpmc, ClosesOnlyWithTheLastProducer) {
  auto [a, hub] = bc::mpmc_channel<int>(4);
  auto sub = hub.subscribe();
  auto b = a;
  auto c = b;
  EXPECT_EQ(a.producers(), 3u);
  ASSERT_EQ(b.send(7), status::ok);
  b.close();
  EXPECT_TRUE(b.is_closed());
  EXPECT_EQ(b.send(8), status::closed);
  {
    auto moved = std::move(c);  // a move transfers the count, it does not add one
    EXPECT_EQ(a.producers(), 2u);
  }
  EXPECT_EQ(a.producers(), 1u);
  EXPECT_EQ(sub.try_recv().value(), 7);
  EXPECT_EQ(sub.try_recv().status(), status::empty);  // a still lives
  a = bc::shared_publisher<int>{};                     // drops the last producer
  EXPECT_EQ(sub.try_recv().status(), status::closed);
}

TEST(BroadcastMpmc, DrainsBeforeClosed) {
  auto [a, hub] = bc::mpmc_channel<int>(4);
  auto sub = hub.subscribe();
  {
    auto b = a;
    ASSERT_EQ(a.send(1), status::ok);
    ASSERT_EQ(b.send(2), status::ok);
    a.close();
  }
  EXPECT_EQ(sub.try_recv().value(), 1);
  EXPECT_EQ(sub.try_recv().value(), 2);
  EXPECT_EQ(sub.try_recv().status(), status::closed);
}

TEST(BroadcastMpmc, LossyLapsAreCountedExactly) {
  auto [a, hub] = bc::mpmc_channel<int>(4);
  auto sub = hub.subscribe();
  auto b = a;
  for (int i = 1; i <= 10; ++i) ASSERT_EQ((i % 2 ? a : b).send(i), status::ok);  // never waits
  auto r = sub.try_recv();
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 6u);  // live window (6, 10]
  EXPECT_EQ(drain(sub), (std::vector<int>{7, 8, 9, 10}));
  EXPECT_EQ(sub.received() + sub.missed(), 10u);
}

TEST(BroadcastMpmc, LosslessTryPublishReportsFullWithoutTakingATicket) {
  auto [a, hub] = bc::mpmc_channel<int>(2, with(bc::policy::lossless));
  auto sub = hub.subscribe();
  auto b = a;
  ASSERT_EQ(a.try_send(1), status::ok);
  ASSERT_EQ(b.try_send(2), status::ok);
  EXPECT_EQ(a.try_send(3), status::full);
  EXPECT_EQ(b.try_send(3), status::full);
  EXPECT_EQ(sub.try_recv().value(), 1);
  ASSERT_EQ(b.try_send(3), status::ok);  // the refused attempts left no hole
  EXPECT_EQ(drain(sub), (std::vector<int>{2, 3}));
  EXPECT_EQ(sub.missed(), 0u);
}

TEST(BroadcastMpmc, LosslessProducersWaitAndTimeOut) {
  auto [a, hub] = bc::mpmc_channel<int>(1, with(bc::policy::lossless));
  auto sub = hub.subscribe();
  ASSERT_EQ(a.send(1), status::ok);
  EXPECT_EQ(a.send_for(2, 5ms), status::timed_out);
  std::stop_source stop;
  auto cancelled = std::async(std::launch::async, [p = a, &stop]() mutable { return p.send(2, stop.get_token()); });
  std::this_thread::sleep_for(5ms);
  stop.request_stop();
  EXPECT_EQ(cancelled.get(), status::cancelled);
  EXPECT_EQ(sub.try_recv().value(), 1);
  EXPECT_EQ(sub.try_recv().status(), status::empty);  // the cancelled publish left nothing
}

// Several producers parked on the one shared park word must all be woken (the multi-waiter
// rule of wait.hpp): three producers block on a full ring; reading lets all of them through.
TEST(BroadcastMpmc, EveryParkedProducerIsWoken) {
  auto o = with(bc::policy::lossless);
  o.sender_wait = ringwire::wait_strategy::park(0);
  auto [a, hub] = bc::mpmc_channel<int>(1, o);
  auto sub = hub.subscribe();
  ASSERT_EQ(a.send(0), status::ok);
  std::vector<std::future<status>> blocked;
  for (int p = 1; p <= 3; ++p)
    blocked.push_back(std::async(std::launch::async, [q = a, p]() mutable { return q.send(p); }));
  std::this_thread::sleep_for(20ms);
  std::vector<int> got;
  while (got.size() < 4) {
    auto r = sub.recv_for(2s);
    ASSERT_TRUE(r) << ringwire::to_string(r.status());
    got.push_back(*r);
  }
  for (auto& f : blocked) EXPECT_EQ(f.get(), status::ok);
  std::sort(got.begin() + 1, got.end());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
}

TEST(BroadcastMpmc, EvictNeverWaits) {
  auto o = with(bc::policy::evict);
  o.evict_lag = 2;
  auto [a, hub] = bc::mpmc_channel<int>(4, o);
  auto slow = hub.subscribe();
  auto b = a;
  for (int i = 1; i <= 12; ++i) ASSERT_EQ((i % 2 ? a : b).try_send(i), status::ok);
  EXPECT_EQ(slow.try_recv().status(), status::evicted);
}

TEST(BroadcastMpmc, BatchIsContiguousInTheGlobalOrder) {
  auto [a, hub] = bc::mpmc_channel<int>(16);
  auto sub = hub.subscribe();
  auto b = a;
  const std::array<int, 3> one{10, 11, 12};
  const std::array<int, 2> two{20, 21};
  ASSERT_EQ(a.send_batch(one), 3u);
  ASSERT_EQ(b.send_batch(two), 2u);
  EXPECT_EQ(drain(sub), (std::vector<int>{10, 11, 12, 20, 21}));
}

TEST(BroadcastMpmc, NonPowerOfTwoCapacity) {
  auto [a, hub] = bc::mpmc_channel<int>(3);
  auto sub = hub.subscribe();
  auto b = a;
  for (int i = 1; i <= 7; ++i) ASSERT_EQ((i % 2 ? a : b).send(i), status::ok);
  auto r = sub.try_recv();
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 4u);
  EXPECT_EQ(drain(sub), (std::vector<int>{5, 6, 7}));
}

// Two producers on two threads, lossless, one subscriber: every message exactly once and
// each producer's messages in its own order.
TEST(BroadcastMpmc, TwoThreadsLosslessKeepPerProducerOrder) {
  constexpr int per_producer = 20000;
  auto [a, hub] = bc::mpmc_channel<std::uint64_t>(8, with(bc::policy::lossless));
  auto sub = hub.subscribe();
  std::vector<std::jthread> producers;
  for (std::uint64_t p = 0; p < 2; ++p) {
    producers.emplace_back([q = a, p]() mutable {
      for (std::uint64_t i = 1; i <= per_producer; ++i) ASSERT_EQ(q.send(p << 32 | i), status::ok);
    });
  }
  a.close();
  std::array<std::uint64_t, 2> last{0, 0};
  std::uint64_t count = 0;
  for (;;) {
    auto r = sub.recv_for(5s);
    if (r.status() == status::closed) break;
    ASSERT_TRUE(r) << ringwire::to_string(r.status());
    const std::uint64_t p = *r >> 32, i = *r & 0xffffffffu;
    ASSERT_LT(p, 2u);
    ASSERT_EQ(i, last[p] + 1) << "producer " << p;
    last[p] = i;
    ++count;
  }
  EXPECT_EQ(count, 2u * per_producer);
  EXPECT_EQ(sub.missed(), 0u);
}

}  // namespace
