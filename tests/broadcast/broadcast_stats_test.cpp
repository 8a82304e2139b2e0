// tests/broadcast/broadcast_stats_test.cpp -- the counters a broadcast channel keeps in its
// memory (broadcast/stats.hpp): exact values after known sequences, what metrics off leaves
// out, and that an entry's counters start at zero for its next occupant.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <thread>

#include "ringwire/broadcast.hpp"
#include "support/broadcast_support.hpp"
#include "support/stress_scale.hpp"
#include "support/unit_support.hpp"

namespace {

namespace bc = ringwire::broadcast;
using ringwire::status;

bc::options metered(bc::policy p) {
  bc::options o = bc_test::with(p);
  o.metrics = true;
  return o;
}

const bc::subscriber_stats& only(const bc::stats& s) {
  EXPECT_EQ(s.subscribers.size(), 1u);
  return s.subscribers.at(0);
}

TEST(BroadcastStats, LossyCountsReceivedMissedAndEmpty) {
  auto [pub, hub] = bc::channel<int>(4, metered(bc::policy::lossy));
  auto sub = hub.subscribe();
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(bc_test::drain(sub), (std::vector<int>{1, 2, 3}));  // ends in one empty receive
  bc::stats s = hub.stats();
  EXPECT_EQ(s.published, 3u);
  EXPECT_EQ(s.capacity, 4u);
  EXPECT_EQ(s.mode, bc::policy::lossy);
  EXPECT_EQ(only(s).received, 3u);
  EXPECT_EQ(only(s).missed, 0u);
  EXPECT_EQ(only(s).cursor, 4u);
  EXPECT_EQ(only(s).lag, 0u);
  EXPECT_EQ(only(s).empty_events, 1u);

  // Ten more into a ring of four: six overwritten before the subscriber looks.
  for (int i = 4; i <= 13; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  s = hub.stats();
  EXPECT_EQ(only(s).lag, 10u) << "as last shown: it has not looked since message 3";
  auto r = sub.try_recv();
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 6u);
  s = hub.stats();
  EXPECT_EQ(only(s).missed, 6u);  // shown at the lag
  EXPECT_EQ(only(s).cursor, 10u);
  EXPECT_EQ(only(s).lag, 4u);
  EXPECT_EQ(bc_test::drain(sub), (std::vector<int>{10, 11, 12, 13}));
  s = hub.stats();
  EXPECT_EQ(only(s).received, 7u);
  EXPECT_EQ(only(s).lag, 0u);
  EXPECT_EQ(only(s).empty_events, 2u);
  EXPECT_EQ(s.max_lag(), 0u);
  EXPECT_EQ(pub.stats().published, 13u);  // the publisher reads the same memory
}

TEST(BroadcastStats, ShownEveryEighthOfTheRingWhileBehind) {
  auto [pub, hub] = bc::channel<int>(64, metered(bc::policy::lossy));
  auto sub = hub.subscribe();
  for (int i = 1; i <= 40; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(sub.try_recv().has_value());
  // Shown after 8 and 16 receives (64 / 8), not yet after 20.
  const bc::stats s = hub.stats();
  EXPECT_EQ(only(s).received, 16u);
  EXPECT_EQ(only(s).lag, 40u - 16u);
  EXPECT_EQ(s.max_lag(), 24u);
}

TEST(BroadcastStats, LosslessCountsFullEventsAndShowsCursorWithoutMetrics) {
  {
    auto [pub, hub] = bc::channel<int>(2, metered(bc::policy::lossless));
    auto sub = hub.subscribe();
    ASSERT_EQ(pub.try_send(1), status::ok);
    ASSERT_EQ(pub.try_send(2), status::ok);
    EXPECT_EQ(pub.try_send(3), status::full);
    EXPECT_EQ(pub.try_send(3), status::full);
    EXPECT_EQ(hub.stats().full_events, 2u);
    EXPECT_EQ(only(hub.stats()).lag, 2u);
  }
  {  // metrics off: the gate's cursor is there, the counters are not
    auto [pub, hub] = bc::channel<int>(2, bc_test::with(bc::policy::lossless));
    auto sub = hub.subscribe();
    ASSERT_EQ(pub.try_send(1), status::ok);
    ASSERT_EQ(pub.try_send(2), status::ok);
    EXPECT_EQ(pub.try_send(3), status::full);
    ASSERT_TRUE(sub.try_recv().has_value());
    ASSERT_TRUE(sub.try_recv().has_value());
    EXPECT_EQ(sub.try_recv().status(), status::empty);
    const bc::stats s = hub.stats();
    EXPECT_EQ(s.full_events, 0u);
    EXPECT_EQ(only(s).cursor, 3u);
    EXPECT_EQ(only(s).lag, 0u);
    EXPECT_EQ(only(s).received, 0u);
    EXPECT_EQ(only(s).empty_events, 0u);
  }
}

TEST(BroadcastStats, LossyWithoutMetricsWritesNothing) {
  auto [pub, hub] = bc::channel<int>(4, bc_test::with(bc::policy::lossy));
  auto sub = hub.subscribe();
  for (int i = 1; i <= 10; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  while (sub.try_recv().status() != status::empty) {
  }
  const bc::stats s = hub.stats();
  EXPECT_EQ(s.published, 10u);
  // The provisional cursor of its join is all it ever wrote.
  EXPECT_EQ(only(s).cursor, 1u);
  EXPECT_EQ(only(s).received, 0u);
  EXPECT_EQ(only(s).missed, 0u);
}

TEST(BroadcastStats, EvictionsAreCountedAndShown) {
  bc::options o = metered(bc::policy::evict);
  o.evict_lag = 2;
  auto [pub, hub] = bc::channel<int>(4, o);
  auto slow = hub.subscribe();
  for (int i = 1; i <= 8; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  const bc::stats s = hub.stats();
  EXPECT_EQ(s.evictions, 1u);
  ASSERT_EQ(s.subscribers.size(), 1u);
  EXPECT_TRUE(s.subscribers[0].evicted);
  EXPECT_EQ(s.max_lag(), 0u);  // an evicted subscriber holds nobody back
  EXPECT_EQ(slow.try_recv().status(), status::evicted);
}

TEST(BroadcastStats, AnEntrysNextOccupantStartsAtZero) {
  auto [pub, hub] = bc::channel<int>(8, metered(bc::policy::lossy));
  {
    auto first = hub.subscribe();
    for (int i = 1; i <= 5; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
    (void)bc_test::drain(first);
    EXPECT_EQ(only(hub.stats()).received, 5u);
  }
  auto second = hub.subscribe();
  const bc::stats s = hub.stats();
  EXPECT_EQ(only(s).entry, 0u);
  EXPECT_EQ(only(s).received, 0u);
  EXPECT_EQ(only(s).empty_events, 0u);
}

// A subscriber parked in recv() (seen in its futex through /proc, not by timing) shows its
// park once the publish wakes it; a lossless publisher parked on a full ring counts its own.
TEST(BroadcastStats, ParksAreShownAfterTheWait) {
  auto [pub, hub] = bc::channel<int>(2, metered(bc::policy::lossless));
  auto sub = hub.subscribe();
  sub.set_wait(ringwire::wait_strategy::park(0));
  std::atomic<pid_t> tid{0};
  auto reader = std::async(std::launch::async, [&] {
    tid = rw_test::this_tid();
    return sub.recv();
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  ASSERT_EQ(pub.try_send(1), status::ok);
  EXPECT_EQ(*rw_test::must_finish(reader, "parked recv"), 1);
  EXPECT_GE(only(hub.stats()).parks, 1u);

  ASSERT_EQ(pub.try_send(2), status::ok);
  ASSERT_EQ(pub.try_send(3), status::ok);  // the ring of 2 is full: the subscriber is at 2
  pub.set_wait(ringwire::wait_strategy::park(0));
  std::atomic<pid_t> ptid{0};
  auto writer = std::async(std::launch::async, [&, p = std::move(pub)]() mutable {
    ptid = rw_test::this_tid();
    return p.send(4);
  });
  ASSERT_TRUE(rw_test::wait_until_parked(ptid));
  EXPECT_EQ(*sub.try_recv(), 2);
  EXPECT_EQ(rw_test::must_finish(writer, "parked send"), status::ok);
  EXPECT_GE(hub.stats().producer_parks, 1u);
  EXPECT_GE(hub.stats().full_events, 1u);
}

// A monitor reads the counters while a publisher and a subscriber run (TSan: the relaxed
// words race with nothing); what it reads only grows and never passes what was sent.
TEST(BroadcastStats, AMonitorReadsWhileTheChannelRuns) {
  const int n = 200000 / RINGWIRE_STRESS_SCALE;
  auto [pub, hub] = bc::channel<int>(64, metered(bc::policy::lossless));
  auto sub = hub.subscribe();
  std::atomic<bool> done{false};
  std::thread reader([&, s = std::move(sub)]() mutable {
    for (int i = 1; i <= n; ++i) {
      auto r = s.recv();
      if (!r || *r != i) {
        ADD_FAILURE() << "message " << i;
        break;
      }
    }
    done = true;
  });
  std::thread writer([&, p = std::move(pub)]() mutable {
    for (int i = 1; i <= n; ++i) (void)p.send(i);
  });
  std::uint64_t last = 0;
  while (!done) {
    const bc::stats s = hub.stats();
    EXPECT_LE(s.subscribers.size(), 1u);
    if (s.subscribers.empty()) continue;
    EXPECT_GE(s.subscribers[0].received, last);
    last = s.subscribers[0].received;
    EXPECT_LE(last, static_cast<std::uint64_t>(n));
  }
  writer.join();
  reader.join();
  EXPECT_EQ(hub.stats().published, static_cast<std::uint64_t>(n));
}

TEST(BroadcastStats, SharedPublishersCountFullEventsTogether) {
  auto [a, hub] = bc::mpmc_channel<int>(2, metered(bc::policy::lossless));
  auto b = a;
  auto sub = hub.subscribe();
  ASSERT_EQ(a.try_send(1), status::ok);
  ASSERT_EQ(b.try_send(2), status::ok);
  EXPECT_EQ(a.try_send(3), status::full);
  EXPECT_EQ(b.try_send(3), status::full);
  const bc::stats s = hub.stats();
  EXPECT_EQ(s.full_events, 2u);
  EXPECT_EQ(s.producers, 2u);
}

}  // namespace
