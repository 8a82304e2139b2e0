// Unit tests for broadcast::publisher::skip(g): a remote gap passed on as g sequences that
// every subscriber counts as missed (status::lagged, exact), on every policy, and never
// receives. Mostly one thread (exact counts); a parked recv woken by a skip on two; a
// subscriber in another process (fork) through a shared-memory segment.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <future>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "ringwire/shm/broadcast.hpp"
#include "support/broadcast_support.hpp"
#include "support/unit_support.hpp"

namespace {

namespace bc = ringwire::broadcast;
namespace shm = ringwire::shm;
using ringwire::status;
using bc_test::with;

// What a subscriber sees from now until empty: values, and each lag as -(missed).
template <class Sub>
std::vector<std::int64_t> seen(Sub& s) {
  std::vector<std::int64_t> out;
  for (;;) {
    auto r = s.try_recv();
    if (r) {
      EXPECT_EQ(r.seq(), static_cast<std::uint64_t>(*r)) << "the payload is its sequence";
      out.push_back(*r);
    } else if (r.status() == status::lagged) {
      out.push_back(-static_cast<std::int64_t>(r.missed()));
    } else {
      EXPECT_EQ(r.status(), status::empty);
      return out;
    }
  }
}

// Publishes the next sequence with itself as the payload.
void next(bc::publisher<std::int64_t>& p) { ASSERT_EQ(p.try_send(static_cast<std::int64_t>(p.published() + 1)), status::ok); }

using V = std::vector<std::int64_t>;
const bc::policy every_policy[] = {bc::policy::lossy, bc::policy::lossless, bc::policy::evict};

class BroadcastSkip : public ::testing::TestWithParam<bc::policy> {
 protected:
  bc::options opt(std::uint32_t evict_lag = 3) const {
    auto o = with(GetParam());
    if (GetParam() == bc::policy::evict) o.evict_lag = evict_lag;
    return o;
  }
};
INSTANTIATE_TEST_SUITE_P(EveryPolicy, BroadcastSkip, ::testing::ValuesIn(every_policy),
                         [](const auto& i) {
                           return std::string(i.param == bc::policy::lossy      ? "lossy"
                                              : i.param == bc::policy::lossless ? "lossless"
                                                                                : "evict");
                         });

TEST_P(BroadcastSkip, OneSeveralCapacityAndMoreThanCapacity) {
  for (const std::uint64_t g : {1u, 3u, 4u, 5u, 9u, 1000u}) {  // capacity 4
    auto [pub, subs] = bc::channel<std::int64_t>(4, opt());
    auto s = subs.subscribe();
    next(pub);
    next(pub);
    EXPECT_EQ(seen(s), (V{1, 2}));
    ASSERT_EQ(pub.skip(g), status::ok);
    EXPECT_EQ(pub.published(), 2 + g);
    next(pub);
    const auto last = static_cast<std::int64_t>(3 + g);
    EXPECT_EQ(seen(s), (V{-static_cast<std::int64_t>(g), last})) << "skip " << g;
    EXPECT_EQ(s.received() + s.missed(), pub.published());
    EXPECT_EQ(s.missed(), g);
  }
}

TEST_P(BroadcastSkip, ZeroIsANoOpAndSkipsInARowMerge) {
  auto [pub, subs] = bc::channel<std::int64_t>(4, opt());
  auto s = subs.subscribe();
  EXPECT_EQ(pub.skip(0), status::ok);
  EXPECT_EQ(pub.published(), 0u);
  EXPECT_EQ(s.try_recv().status(), status::empty);
  EXPECT_EQ(pub.skip(2), status::ok);
  EXPECT_EQ(pub.skip(3), status::ok);
  EXPECT_EQ(seen(s), (V{-5}));
  next(pub);
  EXPECT_EQ(seen(s), (V{6}));
}

// A skip at the very start, and a skip between two messages seen one receive at a time:
// the lag comes exactly where the gap is.
TEST_P(BroadcastSkip, LagComesWhereTheGapIs) {
  auto [pub, subs] = bc::channel<std::int64_t>(8, opt());
  auto s = subs.subscribe();
  ASSERT_EQ(pub.skip(2), status::ok);
  next(pub);
  next(pub);
  ASSERT_EQ(pub.skip(1), status::ok);
  next(pub);
  EXPECT_EQ(seen(s), (V{-2, 3, 4, -1, 6}));
}

// Lossy: a subscriber that read nothing before a long skip and publishes after it (gated
// rings hold such a publisher back: LosslessWaits..., EvictDrops... below).
TEST(BroadcastSkipLossy, SkipThenPublishWhileBehind) {
  auto [pub, subs] = bc::channel<std::int64_t>(4, with(bc::policy::lossy));
  auto s = subs.subscribe();
  next(pub);
  ASSERT_EQ(pub.skip(100), status::ok);
  next(pub);  // 102
  EXPECT_EQ(seen(s), (V{1, -100, 102}));
  ASSERT_EQ(pub.skip(7), status::ok);
  next(pub);  // 110
  next(pub);  // 111
  EXPECT_EQ(seen(s), (V{-7, 110, 111}));
  EXPECT_EQ(s.received() + s.missed(), 111u);
}

// Gated: a caught-up subscriber is not held behind by a skip (the skipped run counts for
// nothing), so the publisher may at once fill the ring after a skip of any length -- and
// evict keeps the subscriber.
TEST_P(BroadcastSkip, GatedCaughtUpSubscriberIsNotBehindAfterASkip) {
  auto [pub, subs] = bc::channel<std::int64_t>(4, opt(3));
  auto s = subs.subscribe();
  next(pub);
  EXPECT_EQ(seen(s), (V{1}));
  ASSERT_EQ(pub.skip(50), status::ok);
  for (int i = 0; i < 3; ++i) next(pub);  // 52, 53, 54: within evict_lag of the run's end
  if (GetParam() == bc::policy::lossless) {
    next(pub);
    EXPECT_EQ(pub.try_send(0), status::full) << "the ring is full of unread messages";
  }
  const auto v = seen(s);
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front(), -50);
  EXPECT_EQ(s.received() + s.missed(), pub.published());
}

// Gated: a subscriber behind a skip holds the publisher back (lossless: full) until it
// passes the skipped run, which needs no message.
TEST(BroadcastSkipGated, LosslessWaitsForASubscriberBehindTheSkip) {
  auto [pub, subs] = bc::channel<std::int64_t>(4, with(bc::policy::lossless));
  auto s = subs.subscribe();
  next(pub);  // unread
  ASSERT_EQ(pub.skip(10), status::ok);
  EXPECT_EQ(pub.try_send(12), status::full) << "12 - 1 >= capacity: would overwrite what s has not passed";
  EXPECT_EQ(seen(s), (V{1, -10}));
  next(pub);
  EXPECT_EQ(seen(s), (V{12}));
}

// Evict: a subscriber behind a skip is behind by the skipped sequences too.
TEST(BroadcastSkipGated, EvictDropsASubscriberBehindTheSkip) {
  auto o = with(bc::policy::evict);
  o.evict_lag = 3;
  auto [pub, subs] = bc::channel<std::int64_t>(4, o);
  auto s = subs.subscribe();
  auto caught_up = subs.subscribe();
  next(pub);  // unread by s
  EXPECT_EQ(seen(caught_up), (V{1}));
  ASSERT_EQ(pub.skip(10), status::ok);
  next(pub);  // 12: s is 11 behind
  EXPECT_EQ(s.try_recv().status(), status::evicted);
  EXPECT_EQ(seen(caught_up), (V{-10, 12})) << "inside the skipped run: not behind";
}

// Gated: the publisher may overwrite the slot of a skipped sequence the subscriber has
// not reached yet (its cursor is inside the run): still lagged, never taken for corruption.
TEST_P(BroadcastSkip, OverwrittenSkippedSlotIsCountedNotCorrupt) {
  auto [pub, subs] = bc::channel<std::int64_t>(4, opt(3));
  auto s = subs.subscribe();
  ASSERT_EQ(pub.skip(2), status::ok);  // 1, 2 skipped: s's cursor 1 is inside the run
  for (int i = 0; i < 3; ++i) next(pub);  // 3, 4, 5: 5 overwrites slot 1 (skipped 1)
  EXPECT_EQ(seen(s), (V{-2, 3, 4, 5}));
  EXPECT_FALSE(s.peer_corrupt());
  EXPECT_EQ(s.received() + s.missed(), 5u);
}

TEST_P(BroadcastSkip, ClosedAfterSkipReportsTheSkipThenClosed) {
  auto [pub, subs] = bc::channel<std::int64_t>(4, opt());
  auto s = subs.subscribe();
  next(pub);
  ASSERT_EQ(pub.skip(6), status::ok);
  pub.close();
  EXPECT_EQ(pub.skip(1), status::closed);
  auto r = s.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1);
  r = s.try_recv();
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 6u);
  EXPECT_EQ(s.try_recv().status(), status::closed);
}

TEST_P(BroadcastSkip, ParkedSubscriberWakesForASkip) {
  for (const auto ws : {ringwire::wait_strategy::park(0), ringwire::wait_strategy::park(8),
                        ringwire::wait_strategy::spin_then_yield(8)}) {
    auto [pub, subs] = bc::channel<std::int64_t>(8, opt());
    auto s = subs.subscribe();
    s.set_wait(ws);
    auto got = std::async(std::launch::async, [&s] { return s.recv(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // most likely parked by now
    ASSERT_EQ(pub.skip(3), status::ok);
    ASSERT_EQ(got.wait_for(rw_test::generous), std::future_status::ready) << "a lost wake-up";
    const auto r = got.get();
    ASSERT_EQ(r.status(), status::lagged);
    EXPECT_EQ(r.missed(), 3u);
  }
}

TEST_P(BroadcastSkip, FromOldestJoinOverSkippedSlots) {
  auto [pub, subs] = bc::channel<std::int64_t>(8, opt(7));
  next(pub);
  next(pub);
  ASSERT_EQ(pub.skip(3), status::ok);
  next(pub);  // 6
  auto s = subs.subscribe_from_oldest();  // head 6 < capacity: from 1
  EXPECT_EQ(seen(s), (V{1, 2, -3, 6}));
  ASSERT_EQ(pub.skip(20), status::ok);
  next(pub);  // 27
  auto t = subs.subscribe_from_oldest();  // head 27: from 20, all skipped but 27
  EXPECT_EQ(seen(t), (V{-7, 27}));
  EXPECT_EQ(t.received() + t.missed(), 8u);
}

TEST_P(BroadcastSkip, LatestFindsTheNewestMessageNotTheNewestSequence) {
  auto [pub, subs] = bc::channel<std::int64_t>(4, opt());
  auto s = subs.subscribe();
  next(pub);
  next(pub);
  ASSERT_EQ(pub.skip(100), status::ok);  // head 102; the newest message is 2
  auto r = s.latest();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2);
  EXPECT_EQ(s.missed(), 1u);
  EXPECT_EQ(seen(s), (V{-100}));
  ASSERT_EQ(pub.skip(5), status::ok);  // only skips newer than what s read
  EXPECT_EQ(s.latest().status(), status::empty);
  EXPECT_EQ(s.missed(), 106u);
  next(pub);
  EXPECT_EQ(*s.latest(), 108);
  EXPECT_EQ(s.received() + s.missed(), 108u);
}

TEST_P(BroadcastSkip, GroupAndRecvWithAndBatch) {
  auto [pub, subs] = bc::channel<std::int64_t>(8, opt(7));
  auto g = subs.subscribe_group(3);
  auto w = subs.subscribe();
  auto b = subs.subscribe();
  next(pub);
  ASSERT_EQ(pub.skip(4), status::ok);
  next(pub);  // 6
  std::vector<std::int64_t> delivered;
  auto r = g.try_recv([&](std::uint32_t, const std::int64_t& v) { delivered.push_back(v); });
  ASSERT_TRUE(r);
  r = g.try_recv([&](std::uint32_t, const std::int64_t& v) { delivered.push_back(v); });
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 4u);
  r = g.try_recv([&](std::uint32_t, const std::int64_t& v) { delivered.push_back(v); });
  ASSERT_TRUE(r);
  EXPECT_EQ(delivered, (V{1, 1, 1, 6, 6, 6}));

  const auto twice = [](const bc::slot_view<std::int64_t>& v) { return 2 * v.get(); };
  EXPECT_EQ(*w.try_recv_with(twice), 2);
  auto rw = w.recv_with(twice);  // does not wait: the skip is there
  ASSERT_EQ(rw.status(), status::lagged);
  EXPECT_EQ(rw.missed(), 4u);
  EXPECT_EQ(*w.recv_with(twice), 12);

  std::int64_t out[4] = {};
  EXPECT_EQ(b.recv_batch(out), 2u);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 6);
  EXPECT_EQ(b.missed(), 4u);
  std::vector<std::int64_t> drained;
  ASSERT_EQ(pub.skip(2), status::ok);
  next(pub);
  for (const auto& v : b.drain()) drained.push_back(v);
  EXPECT_EQ(drained, (V{9}));
  EXPECT_EQ(b.received() + b.missed(), 9u);
}

TEST_P(BroadcastSkip, StatsLagIsHeadMinusCursor) {
  auto [pub, subs] = bc::channel<std::int64_t>(8, opt(7));
  auto s = subs.subscribe();
  next(pub);
  ASSERT_EQ(pub.skip(10), status::ok);
  EXPECT_EQ(pub.stats().published, 11u);
  EXPECT_EQ(seen(s), (V{1, -10}));
  EXPECT_EQ(s.next_sequence(), 12u);
  EXPECT_EQ(s.pending(), 0u);
}

TEST(BroadcastSkipShm, SubscriberInAnotherProcessSeesTheSkip) {
  auto seg = shm::segment::create_anonymous(shm::broadcast_spec<std::int64_t>(8, 2, bc::policy::lossless));
  auto pub = shm::broadcast::attach_publisher<std::int64_t>(seg);
  auto sub = shm::broadcast::attach_subscriber<std::int64_t>(seg);  // joined before the fork
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the subscriber's process: exit code 0 iff it saw 1, lag 5, 7, closed
    int bad = 0;
    sub.set_wait(ringwire::wait_strategy::park(16));
    auto r = sub.recv();
    bad |= !(r && *r == 1);
    r = sub.recv();
    bad |= (r.status() != status::lagged || r.missed() != 5) << 1;
    r = sub.recv();
    bad |= !(r && *r == 7 && r.seq() == 7) << 2;
    bad |= (sub.recv().status() != status::closed) << 3;
    ::_exit(bad);
  }
  next(pub);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(pub.skip(5), status::ok);
  next(pub);
  pub.close();
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
