// tests/spsc/spsc_line_test.cpp -- the one-line SPSC channel (ringwire::spsc::line_channel):
// move-only elements, element lifetimes counted exactly (rw_test::counted checks every
// construction against exactly one destruction of a live object), exact capacity at sizes
// that are not powers of two, close in both directions, timeouts, stop tokens, parking
// woken by progress and by close, and indices that cross 2^64.
//
// No timing assertions: a wait that should end gets rw_test::generous (30 s) purely as
// failure detection; a test that needs a thread asleep in its futex first reads /proc
// (rw_test::wait_until_parked).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringwire/spsc.hpp"
#include "support/unit_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace spsc = ringwire::spsc;
using ringwire::status;
using ringwire::wait_strategy;
using rw_test::tracked;

template <class T>
auto channel(std::size_t cap, std::uint64_t start = 0) {
  spsc::line_options o;
  o.start_index = start;
  return spsc::line_channel<T>(cap, o);
}

// Starts call() on another thread and returns its future once that thread is asleep in its
// futex (a failure, not a hang, if it never gets there).
template <class F>
auto when_parked(F call) {
  auto tid = std::make_shared<std::atomic<pid_t>>(0);
  auto f = std::async(std::launch::async, [tid, call]() mutable {
    *tid = rw_test::this_tid();
    return call();
  });
  EXPECT_TRUE(rw_test::wait_until_parked(*tid)) << "the waiting thread never parked";
  return f;
}

// ---- layout --------------------------------------------------------------------------

// A slot never straddles a line, and an element of up to 56 bytes shares its stamp's.
using line8 = spsc::line_layout<>;
static_assert(line8::stride(8, 8) == 16 && line8::stride(24, 8) == 32 && line8::stride(56, 8) == 64);
static_assert(line8::stride(1, 1) == 16 && line8::stride(16, 16) == 32 && line8::stride(32, 32) == 64);
static_assert(line8::stride(64, 8) == 128 && line8::stride(64, 64) == 128 && line8::stride(200, 8) == 256);
static_assert(line8::value_offset(4) == 8 && line8::value_offset(32) == 32);

TEST(SpscLine, RefusesCapacityZero) {
  EXPECT_THROW((void)spsc::line_channel<int>(0), ringwire::error);
  EXPECT_THROW((void)spsc::line_channel<int>(std::size_t{1} << 50), ringwire::error);
}

// ---- move-only T, FIFO, exact capacity ------------------------------------------------

TEST(SpscLine, MoveOnlyElementsInOrder) {
  auto [tx, rx] = channel<std::unique_ptr<int>>(4);
  static_assert(!std::is_copy_constructible_v<std::unique_ptr<int>>);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(tx.try_send(std::make_unique<int>(i)), status::ok);
  auto p = std::make_unique<int>(99);
  EXPECT_EQ(tx.try_send(std::move(p)), status::full);
  ASSERT_NE(p, nullptr) << "a refused send must leave its argument untouched";
  for (int i = 0; i < 4; ++i) {
    auto r = rx.try_recv();
    ASSERT_TRUE(r);
    EXPECT_EQ(**r, i);
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

class SpscLineCapacity : public ::testing::TestWithParam<std::size_t> {};
INSTANTIATE_TEST_SUITE_P(Sizes, SpscLineCapacity, ::testing::Values(1, 2, 3, 5, 7, 100, 1000));

// Holds exactly `capacity` (not a power of two rounded up), over several laps of the
// array, and frees one slot per receive.
TEST_P(SpscLineCapacity, HoldsExactlyItsCapacity) {
  const std::size_t cap = GetParam();
  auto [tx, rx] = channel<std::uint64_t>(cap);
  EXPECT_EQ(tx.capacity(), cap);
  EXPECT_EQ(rx.capacity(), cap);
  std::uint64_t sent = 0, got = 0;
  for (int lap = 0; lap < 3; ++lap) {
    while (tx.try_send(sent) == status::ok) ++sent;
    EXPECT_EQ(sent - got, cap);
    EXPECT_EQ(tx.try_send(sent), status::full);
    ASSERT_EQ(rx.try_recv().value(), got++);
    ASSERT_EQ(tx.try_send(sent++), status::ok);  // the freed slot, at once
    EXPECT_EQ(tx.try_send(sent), status::full);
    for (std::size_t k = 0; k < cap / 2 + 1; ++k) ASSERT_EQ(rx.try_recv().value(), got++);
  }
  while (got < sent) ASSERT_EQ(rx.try_recv().value(), got++);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

// Indices just below 2^64: stamps and head cross the wrap with every API.
TEST(SpscLine, CrossesTheWrapOf64BitIndices) {
  for (std::size_t cap : {1u, 3u, 4u}) {
    auto [tx, rx] = channel<std::uint64_t>(cap, ~std::uint64_t{0} - 5);
    std::uint64_t next = 0;
    for (std::uint64_t i = 0; i < 40; ++i) {
      ASSERT_EQ(tx.try_send(i), status::ok);
      if (i % 2 == 1 || cap == 1) {
        while (next <= i) {
          std::uint64_t out = 0;
          ASSERT_EQ(rx.try_recv(out), status::ok);
          ASSERT_EQ(out, next++);
        }
      }
    }
    EXPECT_EQ(rx.try_recv().status(), status::empty);
  }
}

// ---- element lifetimes -----------------------------------------------------------------

class SpscLineLifetime : public rw_test::counted {};

TEST_F(SpscLineLifetime, QueuedElementsDieWithTheChannel) {
  {
    auto [tx, rx] = channel<tracked>(5);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
    ASSERT_EQ(rx.try_recv()->value, 0);
    ASSERT_EQ(rx.try_recv()->value, 1);
    ASSERT_EQ(tx.try_emplace(5), status::ok);
    EXPECT_EQ(rw_test::reg().alive(), 4);
  }  // 2, 3, 4 and 5 still queued, the last one in slot 0 after the wrap
  EXPECT_EQ(rw_test::reg().alive(), 0);
  {
    auto [tx, rx] = channel<tracked>(3, ~std::uint64_t{0} - 1);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
    ASSERT_EQ(tx.try_emplace(3), status::full);
    ASSERT_TRUE(rx.try_recv());
    ASSERT_TRUE(rx.try_recv());
    ASSERT_EQ(tx.try_emplace(3), status::ok);
    ASSERT_EQ(tx.try_emplace(4), status::ok);
    EXPECT_EQ(rw_test::reg().alive(), 3);
  }  // a full ring at teardown, its head past 2^64
  EXPECT_EQ(rw_test::reg().alive(), 0);
}

TEST_F(SpscLineLifetime, EndpointsMayGoInEitherOrder) {
  for (bool sender_first : {true, false}) {
    auto [tx, rx] = channel<tracked>(3);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
    ASSERT_TRUE(rx.try_recv());
    if (sender_first) {
      tx.close();
      EXPECT_EQ(rw_test::reg().alive(), 2);
      rx.close();
    } else {
      rx.close();
      EXPECT_EQ(rw_test::reg().alive(), 2);
      tx.close();
    }
    EXPECT_EQ(rw_test::reg().alive(), 0);
  }
}

TEST_F(SpscLineLifetime, ThrowingConstructorPublishesNothing) {
  auto [tx, rx] = channel<tracked>(2);
  const tracked v(7);
  rw_test::throw_countdown = 0;
  EXPECT_THROW((void)tx.try_send(v), std::runtime_error);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  EXPECT_EQ(tx.try_send(v), status::ok);
  EXPECT_EQ(rx.try_recv()->value, 7);
}

TEST_F(SpscLineLifetime, ThrowingMoveOnReceiveLeavesTheElementQueued) {
  auto [tx, rx] = channel<tracked>(2);
  ASSERT_EQ(tx.try_emplace(3), status::ok);
  rw_test::throw_countdown = 0;
  EXPECT_THROW((void)rx.try_recv(), std::runtime_error);
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 3);
}

// consume: fn sees each element in place; a throwing fn leaves it and the rest queued.
TEST_F(SpscLineLifetime, ConsumeStopsAtAThrow) {
  auto [tx, rx] = channel<tracked>(4);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  int seen = 0;
  EXPECT_EQ(rx.consume([&](tracked& t) { EXPECT_EQ(t.value, seen++); }, 2), 2u);
  EXPECT_THROW((void)rx.consume([](tracked&) { throw std::runtime_error("no"); }), std::runtime_error);
  EXPECT_EQ(rw_test::reg().alive(), 2);
  std::vector<int> rest;
  EXPECT_EQ(rx.consume([&](tracked& t) { rest.push_back(t.value); }), 2u);
  EXPECT_EQ(rest, (std::vector<int>{2, 3}));
  EXPECT_EQ(rx.consume([](tracked&) {}), 0u);
  ASSERT_EQ(tx.try_emplace(4), status::ok);  // the room consume freed reaches the sender
}

// ---- disconnect ------------------------------------------------------------------------

TEST(SpscLine, ReceiverDrainsThenSeesClosed) {
  auto [tx, rx] = channel<int>(3);
  ASSERT_EQ(tx.try_send(1), status::ok);
  ASSERT_EQ(tx.try_send(2), status::ok);
  tx.close();
  EXPECT_TRUE(tx.is_closed());
  EXPECT_EQ(tx.try_send(3), status::closed);
  EXPECT_EQ(tx.send(3), status::closed);
  EXPECT_EQ(tx.capacity(), 0u);
  EXPECT_FALSE(rx.is_closed());
  EXPECT_EQ(rx.recv().value(), 1);
  EXPECT_EQ(rx.try_recv().value(), 2);
  EXPECT_TRUE(rx.is_closed());
  EXPECT_EQ(rx.try_recv().status(), status::closed);
  EXPECT_EQ(rx.recv().status(), status::closed);
}

// The next send after the receiver's close says closed, with room left or not.
TEST(SpscLine, SendAfterReceiverCloseSaysClosed) {
  for (int queued : {0, 2}) {
    auto [tx, rx] = channel<std::unique_ptr<int>>(2);
    for (int i = 0; i < queued; ++i) ASSERT_EQ(tx.try_send(std::make_unique<int>(i)), status::ok);
    EXPECT_FALSE(tx.is_closed());
    rx.close();
    EXPECT_TRUE(rx.is_closed());
    EXPECT_EQ(rx.try_recv().status(), status::closed);
    EXPECT_TRUE(tx.is_closed());
    auto p = std::make_unique<int>(5);
    EXPECT_EQ(tx.try_send(std::move(p)), status::closed);
    EXPECT_EQ(tx.send(std::move(p)), status::closed);
    EXPECT_NE(p, nullptr);
  }
}

TEST(SpscLine, MovedFromEndpointsAreClosed) {
  auto [tx, rx] = channel<int>(2);
  auto tx2 = std::move(tx);
  auto rx2 = std::move(rx);
  EXPECT_EQ(tx.try_send(1), status::closed);  // NOLINT(bugprone-use-after-move): the point
  EXPECT_EQ(rx.try_recv().status(), status::closed);
  EXPECT_EQ(rx.recv().status(), status::closed);
  ASSERT_EQ(tx2.try_send(1), status::ok);
  EXPECT_EQ(rx2.try_recv().value(), 1);
  spsc::line_sender<int> tx3;
  tx3 = std::move(tx2);  // a default-constructed endpoint takes the live one
  ASSERT_EQ(tx3.try_send(2), status::ok);
  EXPECT_EQ(rx2.try_recv().value(), 2);
  tx3 = spsc::line_sender<int>{};  // move-assigning closes the live one
  EXPECT_EQ(rx2.try_recv().status(), status::closed);
}

// ---- waiting ---------------------------------------------------------------------------

TEST(SpscLine, TimeoutsOnEmptyAndFull) {
  auto [tx, rx] = channel<int>(1);
  EXPECT_EQ(rx.recv_for(2ms).status(), status::timed_out);
  EXPECT_EQ(rx.recv_for(0ms).status(), status::timed_out);
  EXPECT_EQ(rx.recv_until(std::chrono::steady_clock::now()).status(), status::timed_out);
  ASSERT_EQ(tx.send_for(1, 1ms), status::ok);
  EXPECT_EQ(tx.send_for(2, 2ms), status::timed_out);
  EXPECT_EQ(tx.send_until(2, std::chrono::steady_clock::now()), status::timed_out);
  EXPECT_EQ(rx.recv_for(std::chrono::hours::max()).value(), 1);  // no overflow: no deadline
}

TEST(SpscLine, StopTokenCancelsBothSides) {
  auto [tx, rx] = channel<int>(1);
  std::stop_source stopped;
  stopped.request_stop();
  EXPECT_EQ(rx.recv(stopped.get_token()).status(), status::cancelled);
  ASSERT_EQ(tx.send(1), status::ok);
  EXPECT_EQ(tx.send(2, stopped.get_token()), status::cancelled);
  // A stop requested while the waiter is parked wakes it.
  rx.set_wait(wait_strategy::park(0));
  ASSERT_EQ(rx.recv().value(), 1);
  std::stop_source stop;
  auto f = when_parked([&rx = rx, &stop] { return rx.recv(stop.get_token()).status(); });
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "recv(stop_token)"), status::cancelled);
}

// A parked receiver is woken by a send, a parked sender by a receive, repeatedly.
TEST(SpscLine, ParkedSidesAreWokenByProgress) {
  spsc::line_options o;
  o.sender_wait = o.receiver_wait = wait_strategy::park(0);
  auto [tx, rx] = spsc::line_channel<int>(1, o);
  auto f = when_parked([&rx = rx] {  // asleep on an empty ring
    int sum = 0;
    for (int i = 0; i < 3; ++i) sum += rx.recv().value();
    return sum;
  });
  ASSERT_EQ(tx.send(1), status::ok);
  ASSERT_EQ(tx.send(2), status::ok);
  ASSERT_EQ(tx.send(3), status::ok);
  EXPECT_EQ(rw_test::must_finish(f, "recv woken by send"), 6);

  ASSERT_EQ(tx.try_send(4), status::ok);  // full now
  auto g = when_parked([&tx = tx] { return tx.send(5); });  // asleep on a full ring
  EXPECT_EQ(rx.recv().value(), 4);
  EXPECT_EQ(rw_test::must_finish(g, "send woken by recv"), status::ok);
  EXPECT_EQ(rx.recv().value(), 5);
}

TEST(SpscLine, CloseWakesAParkedPeer) {
  spsc::line_options o;
  o.sender_wait = o.receiver_wait = wait_strategy::park(0);
  {
    auto [tx, rx] = spsc::line_channel<int>(2, o);
    auto f = when_parked([&rx = rx] { return rx.recv().status(); });
    tx.close();
    EXPECT_EQ(rw_test::must_finish(f, "recv woken by the sender's close"), status::closed);
  }
  {
    auto [tx, rx] = spsc::line_channel<int>(2, o);
    ASSERT_EQ(tx.send(1), status::ok);
    ASSERT_EQ(tx.send(2), status::ok);
    auto f = when_parked([&tx = tx] { return tx.send(3); });
    rx.close();
    EXPECT_EQ(rw_test::must_finish(f, "send woken by the receiver's close"), status::closed);
  }
}

// Every wait strategy hands a stream across two threads (the spinning ones included).
TEST(SpscLine, EveryWaitStrategyDelivers) {
  for (const wait_strategy& w : {wait_strategy::busy_spin(), wait_strategy::spin_then_yield(16),
                                 wait_strategy::backoff(16, 50us), wait_strategy::park(16)}) {
    spsc::line_options o;
    o.sender_wait = o.receiver_wait = w;
    auto [tx, rx] = spsc::line_channel<std::uint64_t>(3, o);
    constexpr std::uint64_t n = 20'000 / RINGWIRE_STRESS_SCALE;
    std::thread producer([&tx = tx] {
      for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(tx.send(i), status::ok);
      tx.close();
    });
    std::uint64_t next = 0;
    while (auto r = rx.recv()) ASSERT_EQ(*r, next++);
    producer.join();
    EXPECT_EQ(next, n);
  }
}

}  // namespace
