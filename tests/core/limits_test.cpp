// tests/core/limits_test.cpp -- limits that cannot overflow or over-allocate.
//
// Timeouts: every `*_for(timeout)` of every family turns its timeout into a deadline with
// detail::deadline_after, which saturates: nanoseconds::max(), hours::max() and the like mean
// "no deadline", never an overflowed sum (UB, and in practice a deadline in the past that
// returned timed_out at once). Each family's waiting calls are run with such timeouts on an
// empty or full channel, in a thread the test then releases: they must end ok, not timed_out.
//
// Capacities: each family's documented maximum is an addressing limit; a footprint the
// machine cannot hold (above its physical memory) is refused with capacity_too_large before
// anything is allocated, on the heap and in shared memory. Formatting touches only what the
// protocol needs: a large ring's resident memory stays small where the protocol allows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <future>
#include <optional>
#include <span>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/shm_support.hpp"
#include "support/unit_support.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
namespace bc = ringwire::broadcast;
namespace br = ringwire::byte_ring;
namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::status;
using ringwire::detail::deadline_after;
using ringwire::detail::no_deadline;
using namespace std::chrono_literals;
using tp = ringwire::detail::clock::time_point;
using ns = std::chrono::nanoseconds;

// ---- the helper -----------------------------------------------------------------------

std::vector<std::byte> bytes_of(std::size_t n, unsigned seed) {
  std::vector<std::byte> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(seed + i);
  return b;
}

constexpr tp at(std::int64_t n) { return tp(ns(n)); }
constexpr std::int64_t ns_max = std::numeric_limits<std::int64_t>::max();

static_assert(deadline_after(at(5), 10ns) == at(15));
static_assert(deadline_after(at(5), ns::max()) == no_deadline);
static_assert(deadline_after(at(5), std::chrono::hours::max()) == no_deadline);

TEST(DeadlineAfter, ExactWhileTheSumFits) {
  const tp now = at(1'000'000);
  EXPECT_EQ(deadline_after(now, 5ms), now + 5ms);
  EXPECT_EQ(deadline_after(now, std::chrono::hours(24 * 365)), now + std::chrono::hours(24 * 365));
  EXPECT_EQ(deadline_after(now, ns(ns_max - 1'000'001)), at(ns_max - 1));
  // Finer than a nanosecond: whole nanoseconds, rounded down; no overflow at its maximum.
  const auto ps_max = std::chrono::duration<std::int64_t, std::pico>::max();
  EXPECT_EQ(deadline_after(now, ps_max), now + ns(ps_max.count() / 1000));
  // Floating and non-decimal periods.
  EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(1.5)), now + 1500ms);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<std::int64_t, std::ratio<1, 3>>(3)), now + 1s);
  // A clock before its epoch (a model's, say) still adds exactly.
  EXPECT_EQ(deadline_after(at(-10), ns(ns_max)), at(ns_max - 10));
}

TEST(DeadlineAfter, PastTheClocksEndIsNoDeadline) {
  const tp now = at(1'000'000);
  EXPECT_EQ(deadline_after(now, ns(ns_max - 1'000'000)), no_deadline);  // exactly the last instant
  EXPECT_EQ(deadline_after(now, ns(ns_max - 999'999)), no_deadline);
  EXPECT_EQ(deadline_after(now, ns::max()), no_deadline);
  EXPECT_EQ(deadline_after(now, std::chrono::milliseconds::max()), no_deadline);
  EXPECT_EQ(deadline_after(now, std::chrono::hours::max()), no_deadline);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<std::uint64_t>::max()), no_deadline);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<std::int32_t, std::ratio<86400>>::max()), no_deadline);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(1e300)), no_deadline);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(INFINITY)), no_deadline);
  EXPECT_EQ(deadline_after(no_deadline, 1ns), no_deadline);
  EXPECT_EQ(deadline_after(ringwire::detail::clock::now(), std::chrono::hours(24 * 365 * 300)), no_deadline);
}

TEST(DeadlineAfter, ZeroOrNegativeHasAlreadyExpired) {
  const tp now = at(1'000'000);
  EXPECT_EQ(deadline_after(now, 0ns), now);
  EXPECT_EQ(deadline_after(now, -5ms), now);
  EXPECT_EQ(deadline_after(now, ns::min()), now);
  EXPECT_EQ(deadline_after(now, std::chrono::hours::min()), now);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(-INFINITY)), now);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(NAN)), now);
}

// ---- every family's *_for with a timeout that must not expire -------------------------

// The long timeouts every waiting call is tried with: the maxima of three duration types
// (no deadline) and a huge one that is still a real deadline.
template <class Fn>
void for_each_long_timeout(Fn fn) {
  {
    SCOPED_TRACE("nanoseconds::max()");
    fn(ns::max());
  }
  {
    SCOPED_TRACE("milliseconds::max()");
    fn(std::chrono::milliseconds::max());
  }
  {
    SCOPED_TRACE("hours::max()");
    fn(std::chrono::hours::max());
  }
  {
    SCOPED_TRACE("200 years");
    fn(std::chrono::hours(24 * 365 * 200));
  }
}

// Runs `call` on its own thread, gives it time to start waiting (a wait that returned at
// once has its result by then), then `release`s it; returns what the call returned.
template <class Call, class Release>
auto wait_then_release(Call call, Release release) {
  auto f = std::async(std::launch::async, std::move(call));
  (void)f.wait_for(20ms);
  release();
  return f.get();
}

// recv_for on an empty channel of capacity 1, then send_for on it full.
template <class Tx, class Rx, class Timeout>
void recv_then_send(Tx& tx, Rx& rx, Timeout t) {
  const auto r = wait_then_release([&] { return rx.recv_for(t); }, [&] { EXPECT_EQ(tx.try_send(1), status::ok); });
  EXPECT_EQ(r.status(), status::ok);
  ASSERT_EQ(tx.try_send(2), status::ok);  // full
  EXPECT_EQ(wait_then_release([&] { return tx.send_for(3, t); }, [&] { EXPECT_TRUE(rx.try_recv()); }), status::ok);
}

TEST(LongTimeouts, Spsc) {
  for_each_long_timeout([](auto t) {
    auto ch = ringwire::spsc::channel<int>(1);
    recv_then_send(ch.first, ch.second, t);
  });
}

TEST(LongTimeouts, Mpsc) {
  for_each_long_timeout([](auto t) {
    auto ch = ringwire::mpsc::channel<int>(1, 1);
    auto tx = ch.first.make_sender();
    recv_then_send(tx, ch.second, t);
  });
}

TEST(LongTimeouts, MpmcQueue) {
  for_each_long_timeout([](auto t) {
    ringwire::mpmc::queue<int> q(1);
    const auto r = wait_then_release([&] { return q.pop_for(t); }, [&] { EXPECT_EQ(q.try_push(1), status::ok); });
    EXPECT_EQ(r.status(), status::ok);
    ASSERT_EQ(q.try_push(2), status::ok);  // full
    EXPECT_EQ(wait_then_release([&] { return q.push_for(3, t); }, [&] { EXPECT_TRUE(q.try_pop()); }), status::ok);
  });
}

TEST(LongTimeouts, MpmcEndpoints) {
  for_each_long_timeout([](auto t) {
    auto ch = ringwire::mpmc::channel<int>(1);
    recv_then_send(ch.first, ch.second, t);
  });
}

TEST(LongTimeouts, Broadcast) {
  for_each_long_timeout([](auto t) {
    bc::options o;
    o.policy = bc::policy::lossless;
    auto ch = bc::channel<int>(1, o);
    auto& pub = ch.first;
    auto sub = ch.second.subscribe();
    const auto r = wait_then_release([&] { return sub.recv_for(t); }, [&] { EXPECT_EQ(pub.try_send(1), status::ok); });
    EXPECT_EQ(r.status(), status::ok);
    ASSERT_EQ(pub.try_send(2), status::ok);  // full: sub has not read it
    EXPECT_EQ(wait_then_release([&] { return pub.send_for(3, t); }, [&] { EXPECT_TRUE(sub.try_recv()); }),
              status::ok);
  });
}

TEST(LongTimeouts, BroadcastSharedPublisher) {
  for_each_long_timeout([](auto t) {
    bc::options o;
    o.policy = bc::policy::lossless;
    auto ch = bc::mpmc_channel<int>(1, o);
    auto& pub = ch.first;
    auto sub = ch.second.subscribe();
    ASSERT_EQ(pub.try_send(1), status::ok);  // full: sub has not read it
    EXPECT_EQ(wait_then_release([&] { return pub.send_for(2, t); }, [&] { EXPECT_TRUE(sub.try_recv()); }),
              status::ok);
  });
}

TEST(LongTimeouts, ByteRing) {
  for_each_long_timeout([](auto t) {
    auto ch = br::one_to_one(4096);  // a drain makes room for all five fragments below
    auto& tx = ch.first;
    auto& rx = ch.second;
    br::record_view v;
    const auto drain = [&] {
      while (rx.try_read(v) == status::ok) {
      }
      rx.release();
    };
    EXPECT_EQ(wait_then_release([&] { return rx.read_for(v, t); },
                                [&] { EXPECT_EQ(tx.try_write(1, bytes_of(8, 1)), status::ok); }),
              status::ok);
    drain();
    const auto fill = [&] {
      while (tx.try_write(1, bytes_of(8, 1)) == status::ok) {
      }
    };
    fill();
    EXPECT_EQ(wait_then_release([&] { return tx.write_for(2, bytes_of(8, 2), t); }, drain), status::ok);
    drain();
    fill();
    const auto c = wait_then_release([&] { return tx.reserve_for(8, t); }, drain);
    ASSERT_EQ(c.status(), status::ok);
    tx.commit(3);
    drain();
    fill();
    EXPECT_EQ(wait_then_release([&] { return tx.write_fragmented_for(4, bytes_of(300, 4), t, 1, 64); }, drain),
              status::ok);
  });
}

TEST(LongTimeouts, ByteRingReassembler) {
  for_each_long_timeout([](auto t) {
    auto ch = br::one_to_one(256);
    auto& tx = ch.first;
    auto& rx = ch.second;
    br::reassembler re(1 << 16, 1);
    std::size_t got = 0;
    const status s = wait_then_release(
        [&] { return re.read_for(rx, [&](std::int32_t, std::span<const std::byte> m) { got = m.size(); }, t); },
        [&] { EXPECT_EQ(tx.try_write(1, bytes_of(8, 1)), status::ok); });
    EXPECT_EQ(s, status::ok);
    EXPECT_EQ(got, 8u);
  });
}

TEST(LongTimeouts, ByteBroadcast) {
  for_each_long_timeout([](auto t) {
    auto ch = bb::channel({.depth = 4, .region_bytes = 1024, .max_message = 64, .max_credited = 1});
    auto& w = ch.first;
    auto c = ch.second.credited();
    std::vector<std::byte> buf(64);
    const bb::read_result m = wait_then_release([&] { return c.read_for(buf, t); },
                                                [&] { EXPECT_EQ(w.write(1, bytes_of(8, 1)), status::ok); });
    EXPECT_TRUE(m);
    for (std::uint64_t i = 2; i <= 5; ++i) ASSERT_EQ(w.try_write(i, bytes_of(8, 2)), status::ok);  // full
    EXPECT_EQ(wait_then_release([&] { return w.write_for(6, bytes_of(8, 6), t); }, [&] { EXPECT_TRUE(c.try_read(buf)); }),
              status::ok);
  });
}

using LongTimeoutsShm = shm_test::named;

TEST_F(LongTimeoutsShm, OpenWaitsForACreator) {
  const auto n = name("wait-max");
  shm::open_options w;
  w.wait = std::chrono::milliseconds::max();
  std::optional<shm::segment> created;
  auto s = wait_then_release([&] { return shm::segment::open(n, shm::spsc_spec<int>(2), w); },
                             [&] { created = shm::segment::create(n, shm::spsc_spec<int>(2)); });
  EXPECT_EQ(s.capacity(), 2u);
}

}  // namespace

namespace {

// ---- capacities: the documented maxima are refused before allocating --------------------

template <class Fn>
void expect_too_large(Fn fn) {
  try {
    fn();
    ADD_FAILURE() << "no ringwire::error thrown";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::capacity_too_large) << e.what();
  }
}

TEST(Footprint, HeapMaximaAreRefusedBeforeAllocating) {
  expect_too_large([] { (void)ringwire::spsc::channel<int>(std::uint64_t{1} << 48); });
  expect_too_large([] { (void)ringwire::mpsc::channel<int>(std::uint64_t{1} << 40, 4); });
  expect_too_large([] { (void)ringwire::mpmc::queue<int>(std::uint64_t{1} << 40); });
  expect_too_large([] { (void)bc::channel<int>(std::uint64_t{1} << 48); });
  expect_too_large([] {
    (void)bb::channel({.depth = std::uint64_t{1} << 32, .region_bytes = std::uint64_t{1} << 40, .max_message = 64});
  });
}

TEST(Footprint, ShmMaximaAreRefusedBeforeSizing) {
  expect_too_large([] { (void)shm::segment::create_anonymous(shm::spsc_spec<int>(std::uint64_t{1} << 48)); });
  expect_too_large([] { (void)shm::segment::create_anonymous(shm::mpsc_spec<int>(std::uint64_t{1} << 40, 4)); });
  expect_too_large([] { (void)shm::segment::create_anonymous(shm::broadcast_spec<int>(std::uint64_t{1} << 48, 4)); });
  expect_too_large([] {
    (void)shm::segment::create_anonymous(shm::byte_broadcast_spec(
        {.depth = std::uint64_t{1} << 32, .region_bytes = std::uint64_t{1} << 40, .max_message = 64}));
  });
}

}  // namespace

namespace {

std::uint64_t resident_bytes() {
  std::ifstream f("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

TEST(Footprint, ByteBroadcastFormatLeavesTheRegionUntouched) {
  const std::uint64_t before = resident_bytes();
  auto ch = bb::channel({.depth = 4, .region_bytes = std::uint64_t{1} << 30, .max_message = 64});
  EXPECT_LT(resident_bytes() - before, std::uint64_t{256} << 20);  // memset of the region: 1 GiB
  EXPECT_EQ(ch.first.write(1, bytes_of(8, 1)), status::ok);
}

// A fresh segment reads as zeros: formatting a broadcast ring or a byte ring there leaves
// their slots and data untouched (a memset or a stamp per slot faulted in the whole ring).
TEST(Footprint, ShmFormatLeavesFreshSlotsUntouched) {
  const std::uint64_t before = resident_bytes();
  auto b = shm::segment::create_anonymous(shm::broadcast_spec<std::array<std::uint64_t, 8>>(std::uint64_t{1} << 23, 4));
  auto r = shm::segment::create_anonymous(shm::byte_ring_spec(std::uint64_t{1} << 30));
  EXPECT_LT(resident_bytes() - before, std::uint64_t{256} << 20);  // 8 M slots of 72 B + 1 GiB
  auto pub = shm::broadcast::attach_publisher<std::array<std::uint64_t, 8>>(b);
  auto sub = shm::broadcast::attach_subscriber<std::array<std::uint64_t, 8>>(b);
  EXPECT_EQ(pub.send(std::array<std::uint64_t, 8>{1, 2, 3, 4, 5, 6, 7, 8}), status::ok);
  auto got = sub.try_recv();
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[7], 8u);
  auto tx = shm::byte_ring::attach_writer(r);
  auto rx = shm::byte_ring::attach_reader(r);
  ASSERT_EQ(tx.try_write(3, bytes_of(8, 1)), status::ok);
  ringwire::byte_ring::record_view v;
  ASSERT_EQ(rx.try_read(v), status::ok);
  EXPECT_EQ(v.type, 3);
}

}  // namespace
