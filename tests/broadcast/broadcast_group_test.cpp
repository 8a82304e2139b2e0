// Subscriber groups (broadcast/group.hpp): N members behind one cursor. Every member sees
// every message in order; the group is one registry entry (one gate for lossless, one row
// in stats); a lapped group reports the exact loss once, for all members; a concurrent
// publisher (run under TSan) delivers every message to every member in order.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "support/unit_support.hpp"

namespace {

namespace bc = ringwire::broadcast;
using ringwire::status;

TEST(BroadcastGroup, EveryMemberSeesEveryMessageInOrder) {
  auto [pub, subs] = bc::channel<std::uint64_t>(8);
  auto g = subs.subscribe_group(3);
  EXPECT_EQ(g.members(), 3u);
  for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_EQ(pub.try_send(i * 10), status::ok);
  std::vector<std::vector<std::uint64_t>> seen(3);
  std::vector<std::uint32_t> order;
  for (std::uint64_t i = 1; i <= 5; ++i) {
    auto r = g.try_recv([&](std::uint32_t m, const std::uint64_t& v) {
      seen[m].push_back(v);
      order.push_back(m);
    });
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, i * 10);
    EXPECT_EQ(r.seq(), i);
  }
  EXPECT_EQ(g.try_recv([](std::uint32_t, const std::uint64_t&) { FAIL() << "called on empty"; }).status(), status::empty);
  for (const auto& s : seen) EXPECT_EQ(s, (std::vector<std::uint64_t>{10, 20, 30, 40, 50}));
  for (std::size_t k = 0; k < order.size(); ++k) EXPECT_EQ(order[k], k % 3) << "members in order 0, 1, 2 per message";
  EXPECT_EQ(g.received(), 5u);
  EXPECT_EQ(g.delivered(), 15u);
}

TEST(BroadcastGroup, IsOneSubscriberForTheRegistryAndTheGate) {
  bc::options o;
  o.policy = bc::policy::lossless;
  o.max_subscribers = 1;
  auto [pub, subs] = bc::channel<std::uint64_t>(4, o);
  auto g = subs.subscribe_group(16);
  EXPECT_THROW((void)subs.subscribe(), ringwire::error) << "the group holds the only registry entry";
  EXPECT_EQ(subs.stats().subscribers.size(), 1u);
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(pub.try_send(5), status::full) << "the group gates the lossless publisher like one subscriber";
  std::uint64_t calls = 0;
  while (g.try_recv([&](std::uint32_t, const std::uint64_t&) { ++calls; })) {
  }
  EXPECT_EQ(calls, 4u * 16u);
  EXPECT_EQ(pub.try_send(5), status::ok);
}

TEST(BroadcastGroup, LappedGroupReportsTheExactLossOnce) {
  auto [pub, subs] = bc::channel<std::uint64_t>(4);
  auto g = subs.subscribe_group(4);
  for (std::uint64_t i = 1; i <= 11; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  std::uint64_t calls = 0;
  auto r = g.try_recv([&](std::uint32_t, const std::uint64_t&) { ++calls; });
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 7u) << "11 published, the ring holds 8..11";
  EXPECT_EQ(calls, 0u) << "no member is called for a loss";
  std::vector<std::uint64_t> got;
  while (auto x = g.try_recv([&](std::uint32_t m, const std::uint64_t& v) {
    if (m == 0) got.push_back(v);
  })) {
  }
  EXPECT_EQ(got, (std::vector<std::uint64_t>{8, 9, 10, 11}));
  EXPECT_EQ(g.received() + g.missed(), 11u);
}

TEST(BroadcastGroup, ZeroMembersIsAnErrorAndFreesTheEntry) {
  bc::options o;
  o.max_subscribers = 1;
  auto [pub, subs] = bc::channel<std::uint64_t>(4, o);
  EXPECT_EQ(rw_test::error_code([&subs = subs] { (void)subs.subscribe_group(0); }), ringwire::errc::invalid_options);
  EXPECT_NO_THROW((void)subs.subscribe()) << "the failed group left its registry entry free";
}

TEST(BroadcastGroup, HandsTheMessageOutOnceWithoutAHandler) {
  auto [pub, subs] = bc::channel<std::uint64_t>(4);
  auto g = subs.subscribe_group(4);
  ASSERT_EQ(pub.try_send(7), status::ok);
  auto r = g.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7u);
  EXPECT_EQ(g.delivered(), 4u);
}

// A publisher thread against a group on another thread: every member gets every message
// in order (lossless), or the exact loss (lossy). Run under TSan.
void concurrent_run(bc::policy pol) {
  constexpr std::uint64_t n = RINGWIRE_TEST_SANITIZED ? 20000 : 200000;
  constexpr std::uint32_t members = 4;
  bc::options o;
  o.policy = pol;
  o.receiver_wait = ringwire::wait_strategy::spin_then_yield();
  o.sender_wait = ringwire::wait_strategy::spin_then_yield();
  auto [pub, subs] = bc::channel<std::uint64_t>(64, o);
  auto g = subs.subscribe_group(members);
  std::thread producer([&pub = pub] {
    for (std::uint64_t i = 1; i <= n; ++i) ASSERT_EQ(pub.send(i), status::ok);
    pub.close();
  });
  std::vector<std::uint64_t> last(members, 0);
  std::uint64_t errors = 0, lost = 0;
  for (;;) {
    auto r = g.recv([&](std::uint32_t m, const std::uint64_t& v) {
      errors += v <= last[m];
      last[m] = v;
    });
    if (r) {
      errors += r.seq() != *r;
      continue;
    }
    if (r.status() == status::lagged) {
      lost += r.missed();
      continue;
    }
    ASSERT_EQ(r.status(), status::closed);
    break;
  }
  producer.join();
  EXPECT_EQ(errors, 0u);
  for (auto v : last) EXPECT_EQ(v, n);
  EXPECT_EQ(g.missed(), lost);
  EXPECT_EQ(g.received() + g.missed(), n);
  if (pol == bc::policy::lossless) {
    EXPECT_EQ(lost, 0u);
  }
}

TEST(BroadcastGroupConcurrent, LosslessDeliversEveryMessageToEveryMember) { concurrent_run(bc::policy::lossless); }
TEST(BroadcastGroupConcurrent, LossyCountsExactly) { concurrent_run(bc::policy::lossy); }

}  // namespace
