// Latency histograms wired into channels (spsc/layout.hpp "Latency"): the publish stamp
// travels with each message, the receiving side records publish-to-release into the
// histogram in the channel's memory, and a monitor -- in this process, or in another one on
// a read-only mapping -- reads the percentiles. The delays are made known by sleeping
// between send and receive and bounded by the wall clock around them, so every check can
// fail: a missing stamp reads as ~0 (below the sleep), a stale one as far above the bound.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "ringwire/channel_kinds.hpp"
#include "ringwire/histogram.hpp"
#include "ringwire/mpsc.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "ringwire/shm/spsc.hpp"
#include "ringwire/spsc.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::histogram_snapshot;
using ringwire::status;
using namespace std::chrono_literals;

std::uint64_t now_ns() { return ringwire::latency_clock_ns(); }

ringwire::spsc::options with_latency() {
  ringwire::spsc::options o;
  o.latency = true;
  return o;
}

// Sends `n`, sleeps `d`, receives them all; returns the wall time the oldest message can
// have waited (an upper bound for every recorded value).
template <class Tx, class Rx>
std::uint64_t send_sleep_receive(Tx& tx, Rx& rx, int n, std::chrono::milliseconds d) {
  const std::uint64_t t0 = now_ns();
  for (int i = 0; i < n; ++i) EXPECT_EQ(tx.try_send(std::uint64_t(i)), status::ok);
  std::this_thread::sleep_for(d);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(rx.try_recv().has_value());
  return now_ns() - t0;
}

void expect_between(const histogram_snapshot& h, std::uint64_t count, std::uint64_t low, std::uint64_t high) {
  EXPECT_EQ(h.count, count);
  EXPECT_EQ(h.total(), count);
  // One bucket's width (< 1/128 of the value) of slack: value_at reports a bucket's top.
  EXPECT_GE(h.value_at(0.0001), low);
  EXPECT_LE(h.max, high);
  EXPECT_LE(h.value_at(1.0), h.max);
  EXPECT_GE(h.mean(), static_cast<double>(low));
}

TEST(Latency, AHeapChannelRecordsPublishToRelease) {
  auto [tx, rx] = ringwire::spsc::channel<std::uint64_t>(64, with_latency());
  const auto mon = rx.make_monitor();
  ASSERT_TRUE(mon.latency().has_value());
  EXPECT_EQ(mon.latency()->count, 0u);
  const std::uint64_t bound = send_sleep_receive(tx, rx, 10, 20ms);
  expect_between(*mon.latency(), 10, 20'000'000, bound);
  // A second round with no wait: the new values sit far below the first ones.
  const std::uint64_t t0 = now_ns();
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(tx.try_send(std::uint64_t(i)), status::ok);
    ASSERT_TRUE(rx.try_recv().has_value());
  }
  const std::uint64_t quick = now_ns() - t0;
  const histogram_snapshot h = *mon.latency();
  EXPECT_EQ(h.count, 40u);
  EXPECT_LE(h.value_at(0.5), quick + quick / 64) << "30 of 40 waited no longer than the quick round";
  EXPECT_GE(h.value_at(0.9), 20'000'000u) << "the 4 slowest of 40 are the slept ones";
}

TEST(Latency, BatchesAndSpansStampAndRecordEveryMessage) {
  auto [tx, rx] = ringwire::spsc::channel<std::uint64_t>(256, with_latency());
  std::vector<std::uint64_t> in(100, 7);
  const std::uint64_t t0 = now_ns();
  ASSERT_EQ(tx.try_send_batch(in), 100u);
  std::this_thread::sleep_for(5ms);
  std::size_t got = rx.consume([](std::uint64_t&) {}, 60);  // one release for 60
  ASSERT_EQ(got, 60u);
  auto span = rx.read_span(40);
  ASSERT_EQ(span.size(), 40u);
  rx.release(span.size());
  const histogram_snapshot h = *rx.make_monitor().latency();
  expect_between(h, 100, 5'000'000, now_ns() - t0);
}

TEST(Latency, OffKeepsNoHistogramAndAnInlineChannelRefusesOne) {
  auto [tx, rx] = ringwire::spsc::channel<std::uint64_t>(8);
  EXPECT_FALSE(rx.make_monitor().latency().has_value());
  ringwire::spsc::inline_channel<std::uint64_t, 8> ch;
  EXPECT_EQ(shm_test::error_of([&] { (void)ch.split(with_latency()); }), errc::invalid_options);
}

TEST(Latency, AnMpscChannelMergesItsLanes) {
  auto [reg, rx] = ringwire::mpsc::channel<std::uint64_t>(16, 3, with_latency());
  auto a = reg.make_sender();
  auto b = reg.make_sender();
  const std::uint64_t t0 = now_ns();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(a.try_send(std::uint64_t(i)), status::ok);
    ASSERT_EQ(b.try_send(std::uint64_t(i)), status::ok);
  }
  std::this_thread::sleep_for(10ms);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(rx.try_recv().has_value());
  const auto h = rx.latency();
  ASSERT_TRUE(h.has_value());
  expect_between(*h, 8, 10'000'000, now_ns() - t0);
  auto [reg2, rx2] = ringwire::mpsc::channel<std::uint64_t>(16, 2);
  EXPECT_FALSE(rx2.latency().has_value());
}

// Both sides and a monitor at once (ThreadSanitizer in CI): every message is recorded once,
// the stamps never race with the slots' reuse, and the monitor's copies are consistent.
TEST(Latency, SenderReceiverAndMonitorRunTogether) {
  std::uint64_t n = 200'000 / RINGWIRE_STRESS_SCALE;  // not const: the lambda captures it on every compiler
  auto [tx, rx] = ringwire::spsc::channel<std::uint64_t>(64, with_latency());
  const auto mon = rx.make_monitor();
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    std::uint64_t last = 0;
    while (!done.load(std::memory_order_acquire)) {
      const histogram_snapshot h = *mon.latency();
      EXPECT_GE(h.count, last) << "a count only grows";
      last = h.count;
      EXPECT_LE(h.value_at(0.5), h.max + (h.max >> 6) + 1);
      std::this_thread::sleep_for(200us);  // a monitor samples; it does not take a core of two
    }
  });
  std::thread producer([&tx = tx, n] {
    for (std::uint64_t i = 0; i < n;)
      if (tx.try_send(i) == status::ok) ++i;
  });
  std::uint64_t got = 0;
  while (got < n) {
    if (auto v = rx.try_recv()) {
      ASSERT_EQ(*v, got);
      ++got;
    }
  }
  producer.join();
  done.store(true, std::memory_order_release);
  watcher.join();
  const histogram_snapshot h = *mon.latency();
  EXPECT_EQ(h.count, n);
  EXPECT_EQ(h.total(), n);
}

class ShmLatency : public shm_test::named {};

TEST_F(ShmLatency, ASegmentsHistogramIsReadFromAnotherProcessOnAReadOnlyMapping) {
  const auto n = name("lat");
  auto seg = shm::segment::create(n, shm::with_latency(shm::spsc_spec<std::uint64_t>(32)));
  // An opener need not ask for the histogram; its endpoints follow the segment.
  auto peer = shm::segment::open(n, shm::spsc_spec<std::uint64_t>(32));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(peer);
  const std::uint64_t bound = send_sleep_receive(tx, rx, 12, 15ms);
  expect_between(*shm::spsc::make_monitor<std::uint64_t>(seg).latency(), 12, 15'000'000, bound);
  const pid_t child = shm_test::spawn([&] {
    const shm::segment o = shm::observe(n);
    if (!o.read_only()) return 2;
    const shm::channel_description d = shm::describe(o);
    if (!d.latency) return 3;
    if (d.latency->count != 12 || d.latency->total() != 12) return 4;
    return d.latency->value_at(0.0001) >= 15'000'000 && d.latency->max <= bound ? 0 : 5;
  });
  EXPECT_EQ(shm_test::wait_child(child), 0);
}

TEST_F(ShmLatency, AnMpscSegmentMergesItsLanesForTools) {
  const auto n = name("latm");
  auto seg = shm::segment::create(n, shm::with_latency(shm::mpsc_spec<std::uint64_t>(8, 2)));
  auto rx = shm::mpsc::attach_receiver<std::uint64_t>(seg);
  auto a = shm::mpsc::attach_sender<std::uint64_t>(seg);
  auto b = shm::mpsc::attach_sender<std::uint64_t>(seg);
  const std::uint64_t t0 = now_ns();
  ASSERT_EQ(a.try_send(1), status::ok);
  ASSERT_EQ(b.try_send(2), status::ok);
  ASSERT_EQ(b.try_send(3), status::ok);
  std::this_thread::sleep_for(5ms);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rx.try_recv().has_value());
  const std::uint64_t bound = now_ns() - t0;
  expect_between(*rx.latency(), 3, 5'000'000, bound);
  const shm::channel_description d = shm::describe(shm::observe(n));
  ASSERT_TRUE(d.latency.has_value());
  expect_between(*d.latency, 3, 5'000'000, bound);
}

TEST_F(ShmLatency, ASegmentWithoutItDescribesNoneAndOtherKindsRefuseTheFlag) {
  const auto n = name("nolat");
  auto seg = shm::segment::create(n, shm::spsc_spec<std::uint64_t>(8));
  EXPECT_FALSE(shm::describe(seg).latency.has_value());
  EXPECT_EQ(shm_test::error_of([] { (void)shm::with_latency(shm::broadcast_spec<std::uint64_t>(8, 2)); }),
            errc::invalid_options);
  auto bad = shm::spsc_spec<std::uint64_t>(8);
  bad.policy = 2;  // not a flag spsc knows
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::create(name("badpol"), bad); }), errc::invalid_options);
}

TEST_F(ShmLatency, AHistogramOffsetRewrittenByAPeerIsCorrupt) {
  const auto n = name("latcorrupt");
  auto seg = shm::segment::create(n, shm::with_latency(shm::spsc_spec<std::uint64_t>(8)));
  // Another process with write access points the histogram elsewhere: the next attach and
  // every open refuse the ring rather than let the receiver write there.
  auto* ring = reinterpret_cast<ringwire::spsc::layout<>*>(
      seg.share().get()->base + seg.info().channel_offset);
  ring->geometry.histogram_offset += 4096;
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::spsc::attach_receiver<std::uint64_t>(seg); }), errc::shm_corrupt);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::observe(n); }), errc::shm_corrupt);
}

}  // namespace
