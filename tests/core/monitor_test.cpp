// make_monitor(): every family's read-only view of its counters has one shape
// (detail/monitor.hpp): copyable, snapshot() into the family's plain type, a default
// snapshot once empty, and the same numbers whether it was made from an endpoint or, in
// shared memory, from the segment without claiming anything.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <utility>

#include "ringwire/broadcast.hpp"
#include "ringwire/mpsc.hpp"
#include "ringwire/shm/broadcast.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "ringwire/spsc.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;

TEST(Monitor, SpscMonitorsAreCopiesAndOutliveTheEndpoints) {
  ringwire::spsc::options opt;
  opt.metrics = true;
  auto [tx, rx] = ringwire::spsc::channel<int>(2, opt);
  auto mon = tx.make_monitor();
  ASSERT_EQ(tx.try_send(1), status::ok);
  ASSERT_EQ(tx.try_send(2), status::ok);
  EXPECT_EQ(tx.try_send(3), status::full);
  auto copy = mon;
  EXPECT_EQ(copy.snapshot().sent, 2u);
  EXPECT_EQ(copy.snapshot().full_events, 1u);
  { auto gone = std::move(tx); }
  { auto gone = std::move(rx); }
  EXPECT_EQ(mon.snapshot().sent, 2u) << "a heap channel stays readable while a monitor holds it";
  EXPECT_TRUE(mon.snapshot().sender_closed);
  auto moved = std::move(mon);
  EXPECT_EQ(mon.snapshot().capacity, 0u) << "a moved-from monitor reads a default snapshot";  // NOLINT
  EXPECT_EQ(moved.snapshot().capacity, 2u);
}

TEST(Monitor, BroadcastMonitorsFromEveryHandleGiveTheHubsNumbers) {
  ringwire::broadcast::options opt;
  opt.metrics = true;
  auto [pub, hub] = ringwire::broadcast::channel<std::uint64_t>(8, opt);
  auto sub = hub.subscribe();
  for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sub.try_recv().has_value());
  const auto from_pub = pub.make_monitor(), from_hub = hub.make_monitor(), from_sub = sub.make_monitor();
  for (const auto* m : {&from_pub, &from_hub, &from_sub}) {
    const ringwire::broadcast::stats s = m->snapshot();
    EXPECT_EQ(s.published, 5u);
    ASSERT_EQ(s.subscribers.size(), 1u);
    EXPECT_EQ(s.subscribers[0].received, 3u);
  }
  auto [spub, shub] = ringwire::broadcast::mpmc_channel<std::uint64_t>(8, opt);
  ASSERT_EQ(spub.try_send(9), status::ok);
  EXPECT_EQ(spub.make_monitor().snapshot().published, 1u);
}

TEST(Monitor, MpscMonitorsGiveEveryLaneAndTheTotals) {
  ringwire::spsc::options opt;
  opt.metrics = true;
  auto [reg, rx] = ringwire::mpsc::channel<int>(2, 3, opt);
  const auto mon = reg.make_monitor();
  EXPECT_EQ(mon.snapshot().lanes_formatted, 0u);
  auto a = reg.make_sender();
  auto b = reg.make_sender();
  ASSERT_EQ(a.try_send(1), status::ok);
  ASSERT_EQ(a.try_send(2), status::ok);
  EXPECT_EQ(a.try_send(3), status::full);
  ASSERT_EQ(b.try_send(4), status::ok);
  ASSERT_TRUE(rx.try_recv().has_value());
  const ringwire::mpsc::stats s = rx.make_monitor().snapshot();
  EXPECT_EQ(s.lanes, 3u);
  EXPECT_EQ(s.lanes_formatted, 2u);
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.received, 1u);
  EXPECT_EQ(s.queued(), 2u);
  EXPECT_EQ(s.full_events, 1u);
  ASSERT_EQ(s.per_lane.size(), 2u);
  EXPECT_EQ(s.per_lane[0].ring.sent + s.per_lane[1].ring.sent, 3u);
  EXPECT_EQ(s.registrars, 1u);
}

class ShmMonitor : public shm_test::named {};

TEST_F(ShmMonitor, SegmentMonitorsClaimNothingAndReadWhatTheEndpointsWrote) {
  const auto bname = name("bmon"), mname = name("mmon");
  auto bseg = shm::segment::create(bname, shm::broadcast_spec<std::uint64_t>(8, 2));
  auto mseg = shm::segment::create(mname, shm::mpsc_spec<std::uint64_t>(4, 2));
  {
    auto pub = shm::broadcast::attach_publisher<std::uint64_t>(bseg);
    ASSERT_EQ(pub.try_send(1), status::ok);
    auto rx = shm::mpsc::attach_receiver<std::uint64_t>(mseg);
    auto tx = shm::mpsc::attach_sender<std::uint64_t>(mseg);
    ASSERT_EQ(tx.try_send(7), status::ok);
  }
  // Another join of the segments, as a monitoring process would make.
  auto bpeer = shm::segment::open(bname, shm::broadcast_spec<std::uint64_t>(8, 2));
  auto mpeer = shm::segment::open(mname, shm::mpsc_spec<std::uint64_t>(4, 2));
  EXPECT_EQ(shm::broadcast::make_monitor(bpeer).snapshot().published, 1u);
  const auto m = shm::mpsc::make_monitor(mpeer);
  EXPECT_EQ(m.snapshot().sent, 1u);
  EXPECT_EQ(m.snapshot().queued(), 1u);
  EXPECT_FALSE(m.latency().has_value());
  // Monitors claim no side: the receiver and a publisher still attach.
  EXPECT_NO_THROW((void)shm::mpsc::attach_receiver<std::uint64_t>(mpeer));
  EXPECT_NO_THROW((void)shm::broadcast::attach_publisher<std::uint64_t>(bpeer));
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::make_monitor(bpeer); }), ringwire::errc::shm_kind_mismatch);
}

}  // namespace
