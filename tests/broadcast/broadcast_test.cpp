// Unit tests for ringwire::broadcast: every operation and every policy edge, mostly on one
// thread (exact counts), plus the waits (a parked recv woken by a publish or a close, a
// lossless publisher woken by a read or a leaving subscriber) on two.
//
// Not testable here: a non-trivially-copyable T is rejected at compile time
// (detail::payload_check's static_assert, whose message gives the reason); e.g.
// broadcast::channel<std::string>(8) does not compile.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <stop_token>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/broadcast_support.hpp"
#include "support/unit_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace bc = ringwire::broadcast;
using ringwire::status;

using bc_test::drain;
using bc_test::with;

std::vector<int> iota(int from, int to) {  // [from, to]
  std::vector<int> v;
  for (int i = from; i <= to; ++i) v.push_back(i);
  return v;
}

// ---- construction -----------------------------------------------------------------------

TEST(BroadcastChannel, RejectsBadSizesAndOptions) {
  EXPECT_THROW((bc::channel<int>(0)), ringwire::error);
  try {
    (void)bc::channel<int>(0);
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::invalid_capacity);
  }
  try {
    (void)bc::channel<int>(std::size_t{1} << 60);
    ADD_FAILURE() << "a 2^60 capacity was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::capacity_too_large);
  }
  try {
    (void)bc::channel<int>(8, with(bc::policy::lossy, 0));
    ADD_FAILURE() << "max_subscribers 0 was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::invalid_options);
  }
  auto o = with(bc::policy::evict);
  o.evict_lag = 8;
  try {
    (void)bc::channel<int>(8, o);
    ADD_FAILURE() << "evict_lag == capacity was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::invalid_options);
  }
}

TEST(BroadcastChannel, CapacityIsExactForAnyValue) {
  for (std::size_t cap : {1u, 3u, 5u, 7u, 100u}) {
    auto [pub, subs] = bc::channel<int>(cap);
    EXPECT_EQ(pub.capacity(), cap);
    EXPECT_EQ(subs.capacity(), cap);
    auto s = subs.subscribe();
    for (int i = 1; i <= static_cast<int>(cap); ++i) ASSERT_EQ(pub.send(i), status::ok);
    EXPECT_EQ(s.pending(), cap);
    EXPECT_EQ(drain(s), iota(1, static_cast<int>(cap))) << "capacity " << cap;
  }
}

TEST(BroadcastChannel, StatusNames) {
  EXPECT_STREQ(ringwire::to_string(status::lagged), "lagged");
  EXPECT_STREQ(ringwire::to_string(status::evicted), "evicted");
  ringwire::recv_result<int> r(status::lagged, 7);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.missed(), 7u);
  EXPECT_EQ(ringwire::recv_result<int>(status::empty).missed(), 0u);
}

// ---- slot layouts ---------------------------------------------------------------------

TEST(BroadcastLayout, StrideByPayloadSizeAndLayout) {
  using ring = bc::layout<ringwire::std_sync>;
  struct row {
    std::size_t payload, packed, line;
  };
  // 8 + the payload in words, rounded: packed to 16, 32, 64, then lines; line to lines.
  for (const row r : {row{1, 16, 64}, row{8, 16, 64}, row{9, 32, 64}, row{24, 32, 64}, row{25, 64, 64},
                      row{56, 64, 64}, row{57, 128, 128}, row{64, 128, 128}, row{120, 128, 128}, row{121, 192, 192}}) {
    EXPECT_EQ(ring::stride(r.payload, bc::slot_layout::packed), r.packed) << r.payload << " bytes";
    EXPECT_EQ(ring::stride(r.payload, bc::slot_layout::line), r.line) << r.payload << " bytes";
    EXPECT_EQ(ring::stride(r.payload, bc::slot_layout::automatic), ring::stride(r.payload, bc::automatic_slot_layout));
  }
  EXPECT_EQ(bc::resolve(bc::slot_layout::automatic), bc::automatic_slot_layout);
  EXPECT_NE(bc::automatic_slot_layout, bc::slot_layout::automatic);
  EXPECT_EQ(bc::resolve(bc::slot_layout::line), bc::slot_layout::line);
  EXPECT_STREQ(bc::to_string(bc::slot_layout::line), "line");
  EXPECT_STREQ(bc::to_string(static_cast<bc::slot_layout>(3)), "unknown");
  // The memory a layout costs: 8-byte messages take 4 times the slot bytes on lines.
  EXPECT_EQ(ring::footprint(1024, 8, 4, bc::slot_layout::line) - ring::slots_offset(4),
            4 * (ring::footprint(1024, 8, 4, bc::slot_layout::packed) - ring::slots_offset(4)));
}

TEST(BroadcastLayout, AnUnknownLayoutIsRefused) {
  auto o = with(bc::policy::lossy);
  o.slot_layout = static_cast<bc::slot_layout>(3);
  try {
    (void)bc::channel<int>(8, o);
    ADD_FAILURE() << "slot layout 3 was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::invalid_options);
  }
}

// Every test of this suite runs with packed and with line slots.
class BroadcastEveryLayout : public ::testing::TestWithParam<bc::slot_layout> {
 protected:
  [[nodiscard]] bc::options laid_out(bc::policy p = bc::policy::lossy) const {
    auto o = with(p);
    o.slot_layout = GetParam();
    return o;
  }
};
INSTANTIATE_TEST_SUITE_P(Layouts, BroadcastEveryLayout, ::testing::Values(bc::slot_layout::packed, bc::slot_layout::line),
                         [](const auto& info) { return info.param == bc::slot_layout::line ? "line" : "packed"; });

// A std_sync that remembers the address of the last payload word accessed, so a test sees
// where the publisher really writes each slot.
struct word_watch_sync : ringwire::std_sync {
  static inline const std::uint64_t* last = nullptr;
  static std::atomic_ref<std::uint64_t> word(std::uint64_t& w) noexcept {
    last = &w;
    return ringwire::std_sync::word(w);
  }
};

TEST_P(BroadcastEveryLayout, SlotsLieOneStrideApart) {
  constexpr std::size_t cap = 8;
  auto [pub, subs] = bc::channel<std::uint64_t, word_watch_sync>(cap, laid_out());
  auto s = subs.subscribe();
  const std::size_t stride = bc::layout<word_watch_sync>::stride(sizeof(std::uint64_t), GetParam());
  std::array<std::uintptr_t, cap> at{};  // slot k's payload word (message i lives in slot i % cap)
  for (std::uint64_t i = 1; i <= 2 * cap; ++i) {
    ASSERT_EQ(pub.try_send(i * 0x0101), status::ok);
    at[i % cap] = reinterpret_cast<std::uintptr_t>(word_watch_sync::last);
    auto r = s.try_recv();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(*r, i * 0x0101);
  }
  for (std::size_t k = 0; k + 1 < cap; ++k) EXPECT_EQ(at[k + 1] - at[k], stride) << "slot " << k;
  // Each slot (its stamp is the word before the payload) is aligned to its stride, or to
  // a line for strides beyond one: no slot straddles a line, and a line slot owns its line.
  for (std::size_t k = 0; k < cap; ++k) EXPECT_EQ((at[k] - 8) % std::min<std::size_t>(stride, 64), 0u) << "slot " << k;
}

// ---- every subscriber sees every message ------------------------------------------------

TEST_P(BroadcastEveryLayout, EverySubscriberSeesEveryMessage) {
  auto [pub, subs] = bc::channel<int>(8, laid_out());
  auto a = subs.subscribe();
  auto b = subs.subscribe();
  EXPECT_EQ(a.try_recv().status(), status::empty);
  for (int i = 1; i <= 5; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(drain(a), iota(1, 5));
  EXPECT_EQ(drain(b), iota(1, 5));
  EXPECT_EQ(a.received(), 5u);
  EXPECT_EQ(a.missed(), 0u);
  EXPECT_EQ(pub.published(), 5u);
}

TEST_P(BroadcastEveryLayout, LargePayloadRoundTrips) {
  struct big {
    std::array<std::uint64_t, 9> w;
    char tail[3];  // not a multiple of 8: the last word is padded
  };
  auto [pub, subs] = bc::channel<big>(3, laid_out());
  auto s = subs.subscribe();
  big v{};
  for (std::size_t i = 0; i < v.w.size(); ++i) v.w[i] = 0x1111 * (i + 1);
  v.tail[0] = 'x';
  v.tail[2] = 'z';
  ASSERT_EQ(pub.send(v), status::ok);
  auto r = s.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->w, v.w);
  EXPECT_EQ(r->tail[0], 'x');
  EXPECT_EQ(r->tail[2], 'z');
}

TEST(BroadcastChannel, SubscribeStartsAtTheNextMessage) {
  auto [pub, subs] = bc::channel<int>(8);
  for (int i = 1; i <= 3; ++i) pub.send(i);
  auto s = subs.subscribe();
  EXPECT_EQ(s.next_sequence(), 4u);
  EXPECT_EQ(s.try_recv().status(), status::empty);
  pub.send(4);
  EXPECT_EQ(drain(s), std::vector<int>{4});
}

TEST(BroadcastChannel, SubscribeFromOldestReplaysTheRing) {
  auto [pub, subs] = bc::channel<int>(5);
  {
    auto s = subs.subscribe_from_oldest();  // nothing published: starts at 1
    EXPECT_EQ(s.try_recv().status(), status::empty);
  }
  for (int i = 1; i <= 3; ++i) pub.send(i);
  auto s = subs.subscribe_from_oldest();
  EXPECT_EQ(drain(s), iota(1, 3));
  for (int i = 4; i <= 12; ++i) pub.send(i);  // overflowed: the ring holds 8..12
  auto t = subs.subscribe_from_oldest();
  EXPECT_EQ(t.pending(), 5u);
  EXPECT_EQ(drain(t), iota(8, 12));
  EXPECT_EQ(t.missed(), 0u);
}

// ---- lossy: lag ----------------------------------------------------------------------------

TEST_P(BroadcastEveryLayout, LossyExactlyCapacityBehindIsNotLagged) {
  for (std::size_t cap : {1u, 4u, 5u}) {
    auto [pub, subs] = bc::channel<int>(cap, laid_out());
    auto s = subs.subscribe();
    const int c = static_cast<int>(cap);
    for (int i = 1; i <= c; ++i) pub.send(i);
    EXPECT_EQ(drain(s), iota(1, c)) << "capacity " << cap;
    EXPECT_EQ(s.missed(), 0u);
  }
}

TEST_P(BroadcastEveryLayout, LossyCapacityPlusOneBehindIsLaggedByOne) {
  for (std::size_t cap : {1u, 4u, 5u}) {
    auto [pub, subs] = bc::channel<int>(cap, laid_out());
    auto s = subs.subscribe();
    const int c = static_cast<int>(cap);
    for (int i = 1; i <= c + 1; ++i) pub.send(i);
    auto r = s.try_recv();
    ASSERT_EQ(r.status(), status::lagged) << "capacity " << cap;
    EXPECT_EQ(r.missed(), 1u);
    EXPECT_EQ(drain(s), iota(2, c + 1));
    EXPECT_EQ(s.received() + s.missed(), static_cast<std::uint64_t>(c + 1));
  }
}

TEST_P(BroadcastEveryLayout, LossyLagByManyLapsCountsExactly) {
  auto [pub, subs] = bc::channel<int>(7, laid_out());
  auto s = subs.subscribe();
  pub.send(1);
  ASSERT_EQ(*s.try_recv(), 1);
  for (int i = 2; i <= 1000; ++i) pub.send(i);  // 999 more: the ring holds 994..1000
  auto r = s.try_recv();
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 992u);  // 2..993
  EXPECT_EQ(drain(s), iota(994, 1000));
  EXPECT_EQ(s.received() + s.missed(), 1000u);
  // and again, a second time
  for (int i = 1001; i <= 1100; ++i) pub.send(i);
  r = s.try_recv();
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 93u);  // 1001..1093
  EXPECT_EQ(drain(s), iota(1094, 1100));
  EXPECT_EQ(s.received() + s.missed(), 1100u);
}


TEST_P(BroadcastEveryLayout, LosslessFullExactlyARingBehind) {
  auto [pub, subs] = bc::channel<int>(3, laid_out(bc::policy::lossless));
  auto s = subs.subscribe();
  for (int round = 0; round < 3; ++round) {
    for (int i = 1; i <= 3; ++i) ASSERT_EQ(pub.try_send(3 * round + i), status::ok);
    EXPECT_EQ(pub.try_send(0), status::full);
    EXPECT_EQ(drain(s), iota(3 * round + 1, 3 * round + 3));
  }
  EXPECT_EQ(s.missed(), 0u);
}

TEST(BroadcastLossy, PublisherNeverWaitsWithoutOrWithSlowSubscribers) {
  auto [pub, subs] = bc::channel<int>(2);
  for (int i = 1; i <= 100; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  auto s = subs.subscribe();
  for (int i = 101; i <= 200; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(pub.published(), 200u);
}

TEST(BroadcastLossy, LatestSkipsToTheNewest) {
  auto [pub, subs] = bc::channel<int>(16);
  auto s = subs.subscribe();
  EXPECT_EQ(s.latest().status(), status::empty);
  for (int i = 1; i <= 10; ++i) pub.send(i);
  auto r = s.latest();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 10);
  EXPECT_EQ(s.missed(), 9u);
  EXPECT_EQ(s.received(), 1u);
  EXPECT_EQ(s.latest().status(), status::empty);
  pub.send(11);
  EXPECT_EQ(*s.latest(), 11);  // nothing skipped
  EXPECT_EQ(s.missed(), 9u);
  for (int i = 12; i <= 100; ++i) pub.send(i);  // latest after a lap
  EXPECT_EQ(*s.latest(), 100);
  EXPECT_EQ(s.received() + s.missed(), 100u);
}

TEST(BroadcastLossy, RecvBatchAbsorbsLag) {
  auto [pub, subs] = bc::channel<int>(4);
  auto s = subs.subscribe();
  std::array<int, 8> out{};
  EXPECT_EQ(s.recv_batch(out), 0u);
  for (int i = 1; i <= 3; ++i) pub.send(i);
  EXPECT_EQ(s.recv_batch(std::span<int>(out).first(2)), 2u);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 2);
  for (int i = 4; i <= 10; ++i) pub.send(i);  // 3..6 lost, ring holds 7..10
  EXPECT_EQ(s.recv_batch(out), 4u);
  EXPECT_EQ((std::vector<int>(out.begin(), out.begin() + 4)), iota(7, 10));
  EXPECT_EQ(s.missed(), 4u);
  EXPECT_EQ(s.received() + s.missed(), 10u);
}

TEST(BroadcastLossy, DrainIteratesWhatIsReadableAndAbsorbsLag) {
  auto [pub, hub] = bc::channel<int>(4);
  auto sub = hub.subscribe();
  for (int i = 1; i <= 6; ++i) pub.send(i);  // 1 and 2 are overwritten
  std::vector<int> got;
  for (const int& v : sub.drain()) got.push_back(v);
  EXPECT_EQ(got, iota(3, 6));
  EXPECT_EQ(sub.missed(), 2u);
  EXPECT_EQ(sub.received(), 4u);
  for (const int& v : sub.drain()) ADD_FAILURE() << "drained " << v << " from an empty channel";
  pub.send(7);
  pub.close();
  got.clear();
  for (const int& v : sub.drain()) got.push_back(v);
  EXPECT_EQ(got, std::vector<int>{7});
  EXPECT_EQ(sub.try_recv().status(), status::closed);
  static_assert(std::input_iterator<bc::subscriber<int>::drain_range::iterator>);
}

TEST(BroadcastLossy, PublishBatchAndPublishWith) {
  auto [pub, subs] = bc::channel<int>(8);
  auto s = subs.subscribe();
  const std::vector<int> v = iota(1, 5);
  EXPECT_EQ(pub.send_batch(v), 5u);
  EXPECT_EQ(pub.send_with([](int& x) { x = 6; }), status::ok);
  EXPECT_EQ(drain(s), iota(1, 6));
}

// ---- lossless ------------------------------------------------------------------------------

TEST(BroadcastLossless, NoSubscriberNeverBlocks) {
  auto [pub, subs] = bc::channel<int>(2, with(bc::policy::lossless));
  for (int i = 1; i <= 50; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  auto s = subs.subscribe_from_oldest();  // the ring still holds the last two
  EXPECT_EQ(drain(s), iota(49, 50));
}

// A lossless subscriber shows its cursor every capacity/8 receives and whenever it catches
// up (subscriber.hpp): room appears in steps, and never later than the subscriber idles.
TEST(BroadcastLossless, CursorIsShownInStepsAndWhenCaughtUp) {
  auto [pub, subs] = bc::channel<int>(16, with(bc::policy::lossless));  // step 2
  auto s = subs.subscribe();
  for (int i = 1; i <= 16; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(pub.try_send(17), status::full);
  ASSERT_EQ(*s.try_recv(), 1);
  EXPECT_EQ(pub.try_send(17), status::full);  // one receive: not shown yet
  ASSERT_EQ(*s.try_recv(), 2);
  ASSERT_EQ(pub.try_send(17), status::ok);    // two: shown
  ASSERT_EQ(pub.try_send(18), status::ok);
  EXPECT_EQ(pub.try_send(19), status::full);
  EXPECT_EQ(drain(s), iota(3, 18));  // the empty receive at the end shows the cursor
  for (int i = 19; i <= 34; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(pub.try_send(35), status::full);
}

TEST(BroadcastLossless, FullWhenTheSlowestIsARingBehind) {
  auto [pub, subs] = bc::channel<int>(3, with(bc::policy::lossless));
  auto fast = subs.subscribe();
  auto slow = subs.subscribe();
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(drain(fast), iota(1, 3));
  EXPECT_EQ(pub.try_send(4), status::full);  // slow has 3 unread
  EXPECT_EQ(pub.send_for(4, 1ms), status::timed_out);
  ASSERT_EQ(*slow.try_recv(), 1);
  EXPECT_EQ(pub.try_send(4), status::ok);
  EXPECT_EQ(pub.try_send(5), status::full);
  EXPECT_EQ(drain(slow), iota(2, 4));
  EXPECT_EQ(drain(fast), std::vector<int>{4});
  EXPECT_EQ(slow.missed(), 0u);
}

TEST(BroadcastLossless, DestroyedSubscriberReleasesThePublisher) {
  auto [pub, subs] = bc::channel<int>(2, with(bc::policy::lossless));
  auto s = std::make_unique<bc::subscriber<int>>(subs.subscribe());
  ASSERT_EQ(pub.try_send(1), status::ok);
  ASSERT_EQ(pub.try_send(2), status::ok);
  ASSERT_EQ(pub.try_send(3), status::full);
  s.reset();
  EXPECT_EQ(pub.try_send(3), status::ok);
}

TEST(BroadcastLossless, BlockedPublisherWakesWhenTheSubscriberReads) {
  auto [pub, subs] = bc::channel<int>(2, with(bc::policy::lossless));
  auto s = subs.subscribe();
  pub.send(1);
  pub.send(2);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&, p = std::move(pub)]() mutable {
    tid = rw_test::this_tid();
    return p.send(3);  // blocks: s is two behind
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  EXPECT_EQ(*s.try_recv(), 1);
  EXPECT_EQ(rw_test::must_finish(f, "lossless publish"), status::ok);
  EXPECT_EQ(*s.try_recv(), 2);
  EXPECT_EQ(*s.try_recv(), 3);
  EXPECT_EQ(s.try_recv().status(), status::closed);  // the publisher went with the thread
}

TEST(BroadcastLossless, BlockedPublisherWakesWhenTheSubscriberLeaves) {
  auto [pub, subs] = bc::channel<int>(1, with(bc::policy::lossless));
  auto s = subs.subscribe();
  pub.send(1);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&, p = std::move(pub)]() mutable {
    tid = rw_test::this_tid();
    return p.send(2);
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  s.close();
  EXPECT_EQ(rw_test::must_finish(f, "lossless publish"), status::ok);
}

TEST(BroadcastLossless, StopTokenCancelsABlockedPublish) {
  auto ch = bc::channel<int>(1, with(bc::policy::lossless));
  auto& pub = ch.first;
  auto s = ch.second.subscribe();
  pub.send(1);
  std::stop_source stop;
  auto f = std::async(std::launch::async, [&] { return pub.send(2, stop.get_token()); });
  std::this_thread::sleep_for(5ms);
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "cancelled publish"), status::cancelled);
}

TEST(BroadcastLossless, SubscribeFromOldestWhenTheRingIsFull) {
  auto [pub, subs] = bc::channel<int>(3, with(bc::policy::lossless));
  for (int i = 1; i <= 7; ++i) pub.send(i);  // no subscriber: never waits
  auto s = subs.subscribe_from_oldest();
  EXPECT_EQ(drain(s), iota(5, 7));
  EXPECT_EQ(pub.try_send(8), status::ok);
  EXPECT_EQ(drain(s), std::vector<int>{8});
}

TEST(BroadcastLossless, RegistryExhaustionIsAClearError) {
  auto [pub, subs] = bc::channel<int>(4, with(bc::policy::lossless, 2));
  auto a = subs.subscribe();
  auto b = subs.subscribe();
  try {
    (void)subs.subscribe();
    ADD_FAILURE() << "a third subscriber fit in a registry of two";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::too_many_subscribers);
    EXPECT_NE(std::string(e.what()).find("max_subscribers"), std::string::npos);
  }
  a.close();
  auto c = subs.subscribe();  // the freed entry is reused
  pub.send(1);
  EXPECT_EQ(*c.try_recv(), 1);
  EXPECT_EQ(*b.try_recv(), 1);
}

// ---- evict ---------------------------------------------------------------------------------

TEST(BroadcastEvict, SlowSubscriberIsEvictedAndThePublisherProceeds) {
  auto o = with(bc::policy::evict);
  o.evict_lag = 2;
  auto [pub, subs] = bc::channel<int>(4, o);
  auto fast = subs.subscribe();
  auto slow = subs.subscribe();
  for (int i = 1; i <= 4; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(drain(fast), iota(1, 4));
  EXPECT_EQ(*slow.try_recv(), 1);
  // The ring is full for the cached minimum: the rescan finds slow 3 behind (> 2) and
  // evicts it; fast keeps up, so the publisher never waits.
  for (int i = 5; i <= 20; ++i) {
    ASSERT_EQ(pub.try_send(i), status::ok);
    ASSERT_EQ(*fast.try_recv(), i);
  }
  EXPECT_EQ(slow.try_recv().status(), status::evicted);
  EXPECT_EQ(slow.try_recv().status(), status::evicted);  // sticky
  EXPECT_EQ(fast.missed(), 0u);
  EXPECT_EQ(fast.received(), 20u);
}

TEST(BroadcastEvict, EvictedSubscriberSeesEvictedEvenWhenItsMessageSurvives) {
  auto o = with(bc::policy::evict);
  o.evict_lag = 1;
  auto [pub, subs] = bc::channel<int>(2, o);
  auto s = subs.subscribe();
  pub.send(1);
  pub.send(2);
  pub.send(3);  // s had 2 unread at a full ring: evicted, message 1 overwritten
  EXPECT_EQ(s.try_recv().status(), status::evicted);
  EXPECT_EQ(s.recv().status(), status::evicted);
}

// ---- disconnect and waits ------------------------------------------------------------------

TEST(BroadcastClose, SubscribersDrainThenSeeClosed) {
  auto [pub, subs] = bc::channel<int>(8);
  auto s = subs.subscribe();
  pub.send(1);
  pub.send(2);
  pub.close();
  EXPECT_TRUE(pub.is_closed());
  EXPECT_EQ(pub.try_send(3), status::closed);
  EXPECT_EQ(pub.send(3), status::closed);
  EXPECT_EQ(*s.try_recv(), 1);
  EXPECT_EQ(*s.recv(), 2);
  EXPECT_EQ(s.try_recv().status(), status::closed);
  EXPECT_EQ(s.recv().status(), status::closed);
  auto late = subs.subscribe_from_oldest();  // joining after close still replays
  EXPECT_EQ(*late.try_recv(), 1);
}

TEST(BroadcastClose, DestroyedPublisherCloses) {
  auto [pub, subs] = bc::channel<int>(8);
  auto s = subs.subscribe();
  {
    auto p = std::move(pub);
    p.send(7);
  }
  EXPECT_EQ(pub.try_send(1), status::closed);  // moved from
  EXPECT_EQ(*s.try_recv(), 7);
  EXPECT_EQ(s.try_recv().status(), status::closed);
}

TEST(BroadcastClose, ParkedRecvWakesOnPublishAndOnClose) {
  auto [pub, subs] = bc::channel<int>(8);
  auto s = subs.subscribe();
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&] {
    tid = rw_test::this_tid();
    auto a = s.recv();
    auto b = s.recv();
    return std::pair{a.has_value() ? *a : -1, b.status()};
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  pub.send(5);
  std::this_thread::sleep_for(5ms);
  pub.close();
  const auto [v, st] = rw_test::must_finish(f, "parked recv");
  EXPECT_EQ(v, 5);
  EXPECT_EQ(st, status::closed);
}

TEST(BroadcastWait, RecvForTimesOutAndStopTokenCancels) {
  auto [pub, subs] = bc::channel<int>(8);
  auto s = subs.subscribe();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.recv_for(5ms).status(), status::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 5ms);
  std::stop_source stop;
  auto f = std::async(std::launch::async, [&] { return s.recv(stop.get_token()).status(); });
  std::this_thread::sleep_for(5ms);
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "cancelled recv"), status::cancelled);
  pub.send(1);
  EXPECT_EQ(*s.recv_for(1s), 1);
}

TEST(BroadcastWait, EveryStrategyDelivers) {
  for (auto ws : {ringwire::wait_strategy::busy_spin(), ringwire::wait_strategy::spin_then_yield(8),
                  ringwire::wait_strategy::backoff(8), ringwire::wait_strategy::park(8)}) {
    auto [pub, subs] = bc::channel<int>(4);
    auto s = subs.subscribe();
    s.set_wait(ws);
    auto f = std::async(std::launch::async, [&] { return s.recv_for(rw_test::generous); });
    std::this_thread::sleep_for(2ms);
    pub.send(9);
    auto r = rw_test::must_finish(f, "recv");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 9);
  }
}

// ---- endpoints -----------------------------------------------------------------------------

TEST(BroadcastEndpoints, MovedFromSubscriberIsClosedAndKeepsNoEntry) {
  auto [pub, subs] = bc::channel<int>(4, with(bc::policy::lossless, 1));
  auto a = subs.subscribe();
  pub.send(1);
  bc::subscriber<int> b = std::move(a);
  EXPECT_EQ(a.try_recv().status(), status::closed);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(*b.try_recv(), 1);
  b = bc::subscriber<int>{};  // move-assigning closes: the single entry is free again
  auto c = subs.subscribe();
  EXPECT_EQ(c.try_recv().status(), status::empty);
  bc::hub<int> copy = subs;  // copies keep the block alive
  EXPECT_EQ(copy.capacity(), 4u);
}

TEST(BroadcastEndpoints, EndpointsOutliveEachOther) {
  auto s = [] {
    auto [pub, subs] = bc::channel<int>(4);
    auto sub = subs.subscribe();
    pub.send(3);
    return sub;  // publisher and hub are gone
  }();
  EXPECT_EQ(*s.try_recv(), 3);
  EXPECT_EQ(s.try_recv().status(), status::closed);
}

}  // namespace
