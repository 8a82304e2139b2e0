// tests/spsc/spsc_lifetime_test.cpp -- element lifetime and exception safety: every element
// constructed in a channel is destroyed exactly once (received, released, consumed,
// abandoned in a reservation, or still queued when the channel dies), and a copy or move
// that throws leaves the channel as the documented guarantee says.
//
// `tracked` (unit_support.hpp) registers every live instance by address; the `counted`
// fixture checks after each test that nothing leaked, nothing was destroyed twice and no
// raw slot was destroyed.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/unit_support.hpp"

namespace {

using ringwire::status;
using ringwire::spsc::channel;
using ringwire::spsc::inline_channel;
using ringwire::spsc::options;
using rw_test::reg;
using rw_test::throw_countdown;
using rw_test::tracked;

constexpr std::uint64_t near_wrap = std::numeric_limits<std::uint64_t>::max() - 5;

options at(std::uint64_t start) {
  options o;
  o.start_index = start;
  return o;
}

std::vector<int> drain_values(ringwire::spsc::receiver<tracked>& rx) {
  std::vector<int> out;
  while (auto r = rx.try_recv()) out.push_back(r->value);
  return out;
}

// ---- destruction counts -------------------------------------------------------------------

class Lifetime : public rw_test::counted {};

TEST_F(Lifetime, ReceivedElementsAreDestroyedOnce) {
  {
    auto [tx, rx] = channel<tracked>(4, at(near_wrap));
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 4; ++i) ASSERT_EQ(tx.try_emplace(round * 4 + i), status::ok);
      EXPECT_EQ(reg().alive(), 4);
      for (int i = 0; i < 4; ++i) {
        auto r = rx.try_recv();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->value, round * 4 + i);
        EXPECT_EQ(reg().alive(), 4 - i);  // the slot's element is gone; r holds the moved value
      }
      EXPECT_EQ(reg().alive(), 0);
    }
    EXPECT_EQ(reg().constructed.load(), 40);  // 20 emplaced + 20 moved out
    EXPECT_EQ(reg().moves.load(), 20);
  }
}

TEST_F(Lifetime, QueuedElementsDieWithTheHeapChannelSenderLast) {
  auto [tx, rx] = channel<tracked>(8, at(near_wrap));
  for (int i = 0; i < 6; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  ASSERT_TRUE(rx.try_recv());  // one received (and destroyed with its result)
  EXPECT_EQ(reg().alive(), 5);
  rx.close();
  EXPECT_EQ(reg().alive(), 5);  // the sender still holds the memory
  tx.close();
  EXPECT_EQ(reg().alive(), 0);
  EXPECT_EQ(reg().destroyed.load(), 7);  // 6 in the ring + the received copy
}

TEST_F(Lifetime, QueuedElementsDieWithTheHeapChannelReceiverLast) {
  auto [tx, rx] = channel<tracked>(5, at(near_wrap));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  tx.close();
  EXPECT_EQ(reg().alive(), 5);  // the receiver can still drain them
  {
    auto dead = std::move(rx);
  }
  EXPECT_EQ(reg().alive(), 0);
  EXPECT_EQ(reg().destroyed.load(), 5);
}

TEST_F(Lifetime, QueuedElementsDieWithTheLastMonitor) {
  std::unique_ptr<ringwire::spsc::monitor<>> mon;  // (std::optional trips g++ 12's -Wmaybe-uninitialized)
  {
    auto [tx, rx] = channel<tracked>(3);
    ASSERT_EQ(tx.try_emplace(1), status::ok);
    ASSERT_EQ(tx.try_emplace(2), status::ok);
    mon = std::make_unique<ringwire::spsc::monitor<>>(rx.make_monitor());
  }
  EXPECT_EQ(reg().alive(), 2);  // the monitor keeps the memory, and so the elements
  EXPECT_EQ(mon->snapshot().queued(), 2u);
  EXPECT_TRUE(mon->snapshot().sender_closed);
  EXPECT_TRUE(mon->snapshot().receiver_closed);
  mon.reset();
  EXPECT_EQ(reg().alive(), 0);
  EXPECT_EQ(reg().destroyed.load(), 2);
}

TEST_F(Lifetime, QueuedElementsDieWithTheEndpointsOnAnotherThread) {
  auto [tx, rx] = channel<tracked>(4);
  ASSERT_EQ(tx.try_emplace(1), status::ok);
  ASSERT_EQ(tx.try_emplace(2), status::ok);
  std::thread([t = std::move(tx)]() mutable { t.close(); }).join();
  std::thread([r = std::move(rx)]() mutable {
    auto v = r.try_recv();
    EXPECT_TRUE(v);
  }).join();
  EXPECT_EQ(reg().alive(), 0);
}

TEST_F(Lifetime, QueuedElementsDieWithTheInlineChannel) {
  {
    inline_channel<tracked, 5> ch;
    auto [tx, rx] = ch.split(at(near_wrap));
    for (int i = 0; i < 5; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
    ASSERT_TRUE(rx.try_recv());
    ASSERT_TRUE(rx.try_recv());
    ASSERT_EQ(tx.try_emplace(5), status::ok);  // crosses the 2^64 wrap
    EXPECT_EQ(reg().alive(), 4);
    // endpoints go first (declared after ch), then ch destroys the four still queued
  }
  EXPECT_EQ(reg().alive(), 0);
  EXPECT_EQ(reg().destroyed.load(), 6 + 2);
}

TEST_F(Lifetime, InlineChannelNeverSplitDestroysNothing) {
  { inline_channel<tracked, 4> ch; }
  EXPECT_EQ(reg().destroyed.load(), 0);
}

TEST_F(Lifetime, AbandonedReservationDestroysWhatWasEmplaced) {
  auto [tx, rx] = channel<tracked>(4);
  const tracked* slot0 = nullptr;
  {
    auto r = tx.reserve(3);
    ASSERT_EQ(r.size(), 3u);
    slot0 = &r.emplace_back(1);
    r.emplace_back(2);
    EXPECT_EQ(r.constructed(), 2u);
    EXPECT_EQ(reg().alive(), 2);
  }
  EXPECT_EQ(reg().alive(), 0);
  EXPECT_EQ(reg().destroyed.load(), 2);
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // nothing published
  {
    auto r = tx.reserve(3);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(&r.emplace_back(3), slot0);  // the same slots again
    r.abandon();
    EXPECT_EQ(reg().alive(), 0);
    r.abandon();  // idempotent
  }
  EXPECT_EQ(reg().destroyed.load(), 3);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

TEST_F(Lifetime, ReservationEmplaceAndCommit) {
  auto [tx, rx] = channel<tracked>(4, at(near_wrap));
  for (int round = 0; round < 4; ++round) {
    auto r = tx.reserve(4);
    ASSERT_GE(r.size(), 1u);
    const int k = static_cast<int>(r.size());
    for (int i = 0; i < k; ++i) r.emplace_back(100 * round + i);
    r.commit();
    EXPECT_EQ(reg().alive(), k);
    EXPECT_EQ(rx.consume([&, i = 0](tracked& t) mutable { EXPECT_EQ(t.value, 100 * round + i++); }),
              static_cast<std::size_t>(k));
    EXPECT_EQ(reg().alive(), 0);
  }
  EXPECT_EQ(reg().moves.load(), 0);  // built in place, consumed in place
  EXPECT_EQ(reg().copies.load(), 0);
}

TEST_F(Lifetime, ReleaseDestroysExactlyK) {
  auto [tx, rx] = channel<tracked>(8);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  auto s = rx.read_span();
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0].value, 0);
  rx.release(2);
  EXPECT_EQ(reg().destroyed.load(), 2);
  EXPECT_EQ(reg().alive(), 4);
  s = rx.read_span(3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].value, 2);
  rx.release(3);
  EXPECT_EQ(reg().destroyed.load(), 5);
  EXPECT_EQ(drain_values(rx), std::vector<int>{5});
}

TEST_F(Lifetime, ConsumeAndBatchReceiveDestroyEachOnce) {
  auto [tx, rx] = channel<tracked>(8, at(near_wrap));
  for (int i = 0; i < 8; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  EXPECT_EQ(rx.consume([](tracked&) {}, 3), 3u);
  EXPECT_EQ(reg().destroyed.load(), 3);
  std::vector<tracked> out;
  out.reserve(8);
  EXPECT_EQ(rx.try_recv_batch(std::back_inserter(out), 2), 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value, 3);
  EXPECT_EQ(out[1].value, 4);
  EXPECT_EQ(reg().alive(), 3 + 2);  // 3 queued + 2 in out
  std::vector<tracked> dst;
  dst.reserve(3);
  for (int i = 0; i < 3; ++i) dst.emplace_back(-1);
  EXPECT_EQ(rx.try_recv_batch(std::span<tracked>(dst)), 3u);  // moves into existing objects
  EXPECT_EQ(dst[0].value, 5);
  EXPECT_EQ(dst[2].value, 7);
  EXPECT_EQ(reg().alive(), 2 + 3);  // only the two vectors
}

TEST_F(Lifetime, SendBatchMovesAndLeavesTheRest) {
  auto [tx, rx] = channel<tracked>(3);
  std::vector<tracked> v;
  v.reserve(5);
  for (int i = 0; i < 5; ++i) v.emplace_back(i);
  EXPECT_EQ(tx.try_send_batch(v), 3u);
  EXPECT_EQ(v[0].value, -1);  // moved from
  EXPECT_EQ(v[2].value, -1);
  EXPECT_EQ(v[3].value, 3);  // untouched
  EXPECT_EQ(reg().moves.load(), 3);
  EXPECT_EQ(drain_values(rx), (std::vector<int>{0, 1, 2}));
}

// ---- exceptions from T's copy / move ----------------------------------------------------

class Throwing : public rw_test::counted {};

TEST_F(Throwing, TrySendIsStronglyExceptionSafe) {
  auto [tx, rx] = channel<tracked>(3, at(near_wrap));
  ASSERT_EQ(tx.try_emplace(1), status::ok);
  tracked arg(2);
  throw_countdown = 0;
  EXPECT_THROW((void)tx.try_send(std::move(arg)), std::runtime_error);
  EXPECT_EQ(arg.value, 2);  // untouched
  EXPECT_EQ(tx.size_approx(), 1u);
  throw_countdown = 0;
  EXPECT_THROW((void)tx.try_send(arg), std::runtime_error);  // copy
  EXPECT_EQ(arg.value, 2);
  throw_countdown = 0;
  EXPECT_THROW((void)tx.send(std::move(arg)), std::runtime_error);  // blocking form, room available
  EXPECT_EQ(arg.value, 2);
  EXPECT_EQ(tx.size_approx(), 1u);
  EXPECT_EQ(tx.make_monitor().snapshot().sent, 1u);
  // The channel is unchanged and fully usable.
  ASSERT_EQ(tx.try_send(std::move(arg)), status::ok);
  EXPECT_EQ(arg.value, -1);
  ASSERT_EQ(tx.try_emplace(3), status::ok);
  EXPECT_EQ(tx.try_emplace(4), status::full);
  EXPECT_EQ(drain_values(rx), (std::vector<int>{1, 2, 3}));
}

TEST_F(Throwing, TrySendBatchPublishesThePrefixAndRethrows) {
  auto [tx, rx] = channel<tracked>(8, at(near_wrap));
  std::vector<tracked> v;
  v.reserve(5);
  for (int i = 0; i < 5; ++i) v.emplace_back(i);
  throw_countdown = 2;  // moves of 0 and 1 succeed, 2 throws
  EXPECT_THROW((void)tx.try_send_batch(v), std::runtime_error);
  throw_countdown = -1;
  EXPECT_EQ(v[0].value, -1);
  EXPECT_EQ(v[1].value, -1);
  EXPECT_EQ(v[2].value, 2);  // the throwing element and the rest are untouched
  EXPECT_EQ(v[4].value, 4);
  EXPECT_EQ(tx.size_approx(), 2u);
  EXPECT_EQ(drain_values(rx), (std::vector<int>{0, 1}));
  // Indices are consistent afterwards: the rest goes through.
  EXPECT_EQ(tx.try_send_batch(std::span<tracked>(v).subspan(2)), 3u);
  EXPECT_EQ(drain_values(rx), (std::vector<int>{2, 3, 4}));
}

TEST_F(Throwing, TrySendBatchUnsizedPrefix) {
  auto [tx, rx] = channel<tracked>(8);
  std::vector<tracked> v;
  v.reserve(4);
  for (int i = 0; i < 4; ++i) v.emplace_back(i);
  auto all = rw_test::unsized(v);
  static_assert(!std::ranges::sized_range<decltype(all)>);
  throw_countdown = 1;
  EXPECT_THROW((void)tx.try_send_batch(all), std::runtime_error);
  throw_countdown = -1;
  EXPECT_EQ(drain_values(rx), std::vector<int>{0});
}

TEST_F(Throwing, FirstElementThrowingPublishesNothing) {
  auto [tx, rx] = channel<tracked>(4);
  std::vector<tracked> v;
  v.reserve(2);
  v.emplace_back(0);
  v.emplace_back(1);
  throw_countdown = 0;
  EXPECT_THROW((void)tx.try_send_batch(v), std::runtime_error);
  throw_countdown = -1;
  EXPECT_EQ(tx.size_approx(), 0u);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

TEST_F(Throwing, TryRecvWithThrowingMoveLeavesTheElementQueued) {
  auto [tx, rx] = channel<tracked>(4, at(near_wrap));
  ASSERT_EQ(tx.try_emplace(1), status::ok);
  ASSERT_EQ(tx.try_emplace(2), status::ok);
  throw_countdown = 0;
  EXPECT_THROW((void)rx.try_recv(), std::runtime_error);
  EXPECT_EQ(reg().alive(), 2);
  EXPECT_EQ(rx.size_approx(), 2u);
  throw_countdown = 0;
  EXPECT_THROW((void)rx.recv(), std::runtime_error);  // blocking form: data present
  EXPECT_EQ(rx.size_approx(), 2u);
  auto a = rx.try_recv();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 1);  // the same element, intact
  auto b = rx.try_recv();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->value, 2);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

// The value must be built once, straight in the returned result: a second move (of the
// result, after the slot was freed) that throws would lose the element.
TEST_F(Throwing, TryRecvMovesExactlyOnce) {
  auto [tx, rx] = channel<tracked>(4);
  ASSERT_EQ(tx.try_emplace(1), status::ok);
  ASSERT_EQ(tx.try_emplace(2), status::ok);
  const long before = reg().moves.load();
  {
    auto r = rx.try_recv();
    ASSERT_TRUE(r);
    EXPECT_EQ(reg().moves.load() - before, 1);
  }
  throw_countdown = 1;  // the first move succeeds, any second one throws
  auto r = rx.recv();
  throw_countdown = -1;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 2);
  EXPECT_EQ(reg().moves.load() - before, 2);
}

TEST_F(Throwing, ConsumeStopsAtTheThrowingCallback) {
  auto [tx, rx] = channel<tracked>(8, at(near_wrap));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  std::vector<int> seen;
  EXPECT_THROW(rx.consume([&](tracked& t) {
                 if (t.value == 2) throw std::logic_error("stop");
                 seen.push_back(t.value);
               }),
               std::logic_error);
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
  EXPECT_EQ(reg().destroyed.load(), 2);  // only the consumed ones
  EXPECT_EQ(rx.size_approx(), 3u);
  EXPECT_EQ(tx.size_approx(), 3u);
  EXPECT_EQ(drain_values(rx), (std::vector<int>{2, 3, 4}));
}

TEST_F(Throwing, TryRecvBatchWithThrowingMove) {
  auto [tx, rx] = channel<tracked>(8);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  std::vector<tracked> out;
  out.reserve(8);
  throw_countdown = 1;  // the second move out throws
  EXPECT_THROW((void)rx.try_recv_batch(std::back_inserter(out), 4), std::runtime_error);
  throw_countdown = -1;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, 0);
  EXPECT_EQ(drain_values(rx), (std::vector<int>{1, 2, 3}));
}

TEST_F(Throwing, ReservationEmplaceThrowingKeepsEarlierSlots) {
  auto [tx, rx] = channel<tracked>(4);
  const tracked src(7);
  {
    auto r = tx.reserve(3);
    ASSERT_EQ(r.size(), 3u);
    r.emplace_back(src);
    throw_countdown = 0;
    EXPECT_THROW(r.emplace_back(src), std::runtime_error);
    throw_countdown = -1;
    EXPECT_EQ(r.constructed(), 1u);
    r.emplace_back(8);
    r.commit();
  }
  EXPECT_EQ(drain_values(rx), (std::vector<int>{7, 8}));
}

TEST_F(Throwing, ThrowingElementsQueuedAtTeardownAreDestroyed) {
  {
    auto [tx, rx] = channel<tracked>(4);
    ASSERT_EQ(tx.try_emplace(1), status::ok);
    tracked two(2);
    throw_countdown = 0;
    EXPECT_THROW((void)tx.try_send(two), std::runtime_error);
    ASSERT_EQ(tx.try_emplace(3), status::ok);
  }
  EXPECT_EQ(reg().alive(), 0);
}

}  // namespace
