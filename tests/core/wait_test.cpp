// tests/core/wait_test.cpp -- waiting: every wait strategy's wake-up by progress and by the
// other side's close, timeouts, stop_token cancellation, wait_readable, blocking batches,
// and the metrics a monitor reports (full/empty events, high water, parks and wakes).
//
// No timing assertions: a wait that should end gets rw_test::generous (30 s) purely as
// failure detection. Where a test needs a thread to be asleep in its futex before acting,
// it reads /proc/self/task/<tid>/syscall (rw_test::wait_until_parked), so park counts are
// asserted deterministically rather than hoped for.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <limits>
#include <memory>
#include <numeric>
#include <ostream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/unit_support.hpp"

namespace {

using namespace std::chrono_literals;
using ringwire::status;
using ringwire::wait_strategy;
using ringwire::spsc::channel;
using ringwire::spsc::options;
using rw_test::generous;

using kind = wait_strategy::kind;

struct strategy_case {
  std::string name;
  wait_strategy ws;
};

std::vector<strategy_case> all_strategies() {
  return {
      {"busy_spin", wait_strategy::busy_spin()},
      {"spin_then_yield", wait_strategy::spin_then_yield(16)},
      {"backoff", wait_strategy::backoff(16, std::chrono::microseconds(200))},
      {"park", wait_strategy::park(16)},
      {"park0", wait_strategy::park(0)},
  };
}

void PrintTo(const strategy_case& c, std::ostream* os) { *os << c.name; }

options with(const wait_strategy& ws, bool metrics = true) {
  options o;
  o.sender_wait = ws;
  o.receiver_wait = ws;
  o.metrics = metrics;
  return o;
}

bool parks(const wait_strategy& ws) { return ws.which() == kind::park; }

// How many hand-offs a repeated-wake test makes. A busy-spinning waiter on an oversubscribed
// 2-core machine may need a whole time slice per hand-off, so it gets few; yielding and
// sleeping ones give the CPU back; parking is the path worth repeating.
int rounds_for(const wait_strategy& ws, int park_rounds) {
  const int n = ws.which() == kind::park ? park_rounds : ws.which() == kind::busy_spin ? 50 : park_rounds / 5;
  return n / RINGWIRE_STRESS_SCALE + 10;
}

// Blocks until the thread whose id is in `tid` is inside its wait: asleep in the futex for
// the parking strategy, merely started (plus a pause) for the spinning ones.
void until_waiting(const wait_strategy& ws, const std::atomic<pid_t>& tid) {
  if (parks(ws)) {
    EXPECT_TRUE(rw_test::wait_until_parked(tid)) << "the waiting thread never parked";
  } else {
    rw_test::wait_until_started(tid);
  }
}

class Strategy : public ::testing::TestWithParam<strategy_case> {};

INSTANTIATE_TEST_SUITE_P(All, Strategy, ::testing::ValuesIn(all_strategies()),
                         [](const auto& info) { return info.param.name; });

// ---- wake-ups by progress -----------------------------------------------------------------

TEST_P(Strategy, RecvIsWokenBySend) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<int>(4, with(ws));
  const auto mon = tx.make_monitor();
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &rx = rx] {
    tid = rw_test::this_tid();
    return rx.recv_for(generous);
  });
  until_waiting(ws, tid);
  EXPECT_EQ(tx.try_send(42), status::ok);
  auto r = rw_test::must_finish(f, "recv_for");
  ASSERT_TRUE(r) << ringwire::to_string(r.status());
  EXPECT_EQ(*r, 42);
  const auto s = mon.snapshot();
  EXPECT_EQ(s.received, 1u);
  if (parks(ws) && rw_test::can_observe_parking()) {
    EXPECT_GE(s.receiver_parks, 1u);
    EXPECT_EQ(s.receiver_wakes, 1u);  // exactly the one send that found it parked
  } else if (!parks(ws)) {
    EXPECT_EQ(s.receiver_parks, 0u);
    EXPECT_EQ(s.receiver_wakes, 0u);
  }
  EXPECT_EQ(s.sender_parks, 0u);
}

TEST_P(Strategy, UntimedRecvIsWokenBySend) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<std::string>(2, with(ws));
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &rx = rx] {
    tid = rw_test::this_tid();
    return rx.recv();
  });
  until_waiting(ws, tid);
  EXPECT_EQ(tx.send(std::string("hello")), status::ok);
  auto r = rw_test::must_finish(f, "recv");
  ASSERT_TRUE(r) << ringwire::to_string(r.status());
  EXPECT_EQ(*r, "hello");
}

TEST_P(Strategy, SendOnFullIsWokenByRecv) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<int>(1, with(ws));
  const auto mon = rx.make_monitor();
  ASSERT_EQ(tx.try_send(1), status::ok);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &tx = tx] {
    tid = rw_test::this_tid();
    return tx.send_for(2, generous);
  });
  until_waiting(ws, tid);
  auto first = rx.try_recv();
  EXPECT_TRUE(first && *first == 1);
  EXPECT_EQ(rw_test::must_finish(f, "send_for"), status::ok);
  auto second = rx.try_recv();
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, 2);
  const auto s = mon.snapshot();
  EXPECT_EQ(s.sent, 2u);
  if (parks(ws) && rw_test::can_observe_parking()) {
    // It was asleep when we received, so it had found the channel full exactly once.
    EXPECT_EQ(s.full_events, 1u);
    EXPECT_EQ(s.high_water, 1u);
    EXPECT_GE(s.sender_parks, 1u);
    EXPECT_EQ(s.sender_wakes, 1u);
  } else if (!parks(ws)) {
    EXPECT_LE(s.full_events, 1u);  // 0 if the thread started only after our receive
    EXPECT_LE(s.high_water, 1u);
    EXPECT_EQ(s.sender_parks, 0u);
    EXPECT_EQ(s.sender_wakes, 0u);
  }
}

TEST_P(Strategy, UntimedSendAndEmplaceAreWokenByRecv) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<int>(1, with(ws));
  ASSERT_EQ(tx.try_send(1), status::ok);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &tx = tx] {
    tid = rw_test::this_tid();
    const int two = 2;
    return tx.send(two);  // the const& overload
  });
  until_waiting(ws, tid);
  EXPECT_TRUE(rx.try_recv());
  EXPECT_EQ(rw_test::must_finish(f, "send"), status::ok);

  tid = 0;
  auto g = std::async(std::launch::async, [&tid, &tx = tx] {
    tid = rw_test::this_tid();
    return tx.emplace(3);
  });
  until_waiting(ws, tid);
  auto two = rx.try_recv();
  EXPECT_TRUE(two && *two == 2);
  EXPECT_EQ(rw_test::must_finish(g, "emplace"), status::ok);
  auto three = rx.try_recv();
  ASSERT_TRUE(three);
  EXPECT_EQ(*three, 3);
}

// ---- wake-ups by the other side's close ---------------------------------------------------

TEST_P(Strategy, RecvIsWokenBySenderClose) {
  const auto ws = GetParam().ws;
  for (bool destroy : {false, true}) {
    auto [tx, rx] = channel<int>(4, with(ws));
    std::atomic<pid_t> tid{0};
    auto f = std::async(std::launch::async, [&tid, &rx = rx] {
      tid = rw_test::this_tid();
      return rx.recv();
    });
    until_waiting(ws, tid);
    if (destroy) {
      auto dead = std::move(tx);
    } else {
      tx.close();
    }
    EXPECT_EQ(rw_test::must_finish(f, "recv").status(), status::closed) << "destroy=" << destroy;
  }
}

TEST_P(Strategy, SendIsWokenByReceiverClose) {
  const auto ws = GetParam().ws;
  for (bool destroy : {false, true}) {
    auto [tx, rx] = channel<std::unique_ptr<int>>(1, with(ws));
    ASSERT_EQ(tx.try_send(std::make_unique<int>(1)), status::ok);
    auto arg = std::make_unique<int>(2);
    std::atomic<pid_t> tid{0};
    auto f = std::async(std::launch::async, [&tid, &tx = tx, &arg] {
      tid = rw_test::this_tid();
      return tx.send(std::move(arg));
    });
    until_waiting(ws, tid);
    if (destroy) {
      auto dead = std::move(rx);
    } else {
      rx.close();
    }
    EXPECT_EQ(rw_test::must_finish(f, "send"), status::closed) << "destroy=" << destroy;
    ASSERT_NE(arg, nullptr);  // not sent: still ours
    EXPECT_EQ(*arg, 2);
  }
}

// ---- timeouts -------------------------------------------------------------------------------

TEST_P(Strategy, TimeoutsOnAnIdleChannel) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<std::unique_ptr<int>>(1, with(ws));
  EXPECT_EQ(rx.recv_for(2ms).status(), status::timed_out);
  EXPECT_EQ(rx.recv_until(ringwire::detail::clock::now() + 2ms).status(), status::timed_out);
  EXPECT_EQ(rx.recv_until(ringwire::detail::clock::now() - 1s).status(), status::timed_out);  // already past
  EXPECT_EQ(rx.recv_for(0ms).status(), status::timed_out);

  ASSERT_EQ(tx.try_send(std::make_unique<int>(1)), status::ok);
  auto arg = std::make_unique<int>(2);
  EXPECT_EQ(tx.send_for(std::move(arg), 2ms), status::timed_out);
  ASSERT_NE(arg, nullptr);  // untouched
  EXPECT_EQ(tx.send_until(std::move(arg), ringwire::detail::clock::now() + 2ms), status::timed_out);
  EXPECT_EQ(tx.send_until(std::move(arg), ringwire::detail::clock::now() - 1s), status::timed_out);
  ASSERT_NE(arg, nullptr);
  EXPECT_EQ(*arg, 2);

  // Data that is already there is returned even when the deadline has passed.
  auto r = rx.recv_until(ringwire::detail::clock::now() - 1s);
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 1);
  EXPECT_EQ(tx.send_until(std::move(arg), ringwire::detail::clock::now() - 1s), status::ok);
  EXPECT_EQ(arg, nullptr);
  auto r2 = rx.recv_for(0ms);
  ASSERT_TRUE(r2);
  EXPECT_EQ(**r2, 2);

  const auto s = rx.make_monitor().snapshot();
  EXPECT_EQ(s.sent, 2u);
  EXPECT_EQ(s.received, 2u);
  EXPECT_EQ(s.empty_events, 4u);  // each timed-out receive first found it empty
  EXPECT_EQ(s.full_events, 3u);   // each timed-out send first found it full
}

// ---- cancellation -------------------------------------------------------------------------

TEST_P(Strategy, RecvIsCancelledByStop) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<int>(2, with(ws));
  std::stop_source stop;
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &rx = rx, tok = stop.get_token()] {
    tid = rw_test::this_tid();
    return rx.recv(tok);
  });
  until_waiting(ws, tid);
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "recv(stop_token)").status(), status::cancelled);
  // The channel is fine afterwards.
  ASSERT_EQ(tx.try_send(5), status::ok);
  auto r = rx.recv(stop.get_token());  // data beats a stop already requested
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 5);
  EXPECT_EQ(rx.recv(stop.get_token()).status(), status::cancelled);  // and an empty channel does not wait
}

TEST_P(Strategy, SendIsCancelledByStop) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<std::unique_ptr<int>>(1, with(ws));
  ASSERT_EQ(tx.try_send(std::make_unique<int>(1)), status::ok);
  auto arg = std::make_unique<int>(2);
  std::stop_source stop;
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &tx = tx, &arg, tok = stop.get_token()] {
    tid = rw_test::this_tid();
    return tx.send(std::move(arg), tok);
  });
  until_waiting(ws, tid);
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "send(v, stop_token)"), status::cancelled);
  ASSERT_NE(arg, nullptr);
  EXPECT_EQ(*arg, 2);
  EXPECT_EQ(tx.send(std::move(arg), stop.get_token()), status::cancelled);  // still full: no wait
  ASSERT_TRUE(rx.try_recv());
  EXPECT_EQ(tx.send(std::move(arg), stop.get_token()), status::ok);  // room beats the stop
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 2);
}

TEST_P(Strategy, SendBatchIsCancelledByStop) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<int>(2, with(ws));
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  std::stop_source stop;
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &tx = tx, &v, tok = stop.get_token()] {
    tid = rw_test::this_tid();
    return tx.send_batch(v, tok);
  });
  until_waiting(ws, tid);
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "send_batch(stop_token)"), 2u);  // what fitted
  std::vector<int> out;
  rx.consume([&](int& x) { out.push_back(x); });
  EXPECT_EQ(out, (std::vector<int>{0, 1}));
}

TEST_P(Strategy, SendBatchStopsWhenReceiverCloses) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<int>(2, with(ws));
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &tx = tx] {
    tid = rw_test::this_tid();
    return tx.send_batch(rw_test::counting_range{0, 10});
  });
  until_waiting(ws, tid);
  rx.close();
  EXPECT_EQ(rw_test::must_finish(f, "send_batch"), 2u);
}

TEST_P(Strategy, SendBatchWaitsForRoom) {
  const auto ws = GetParam().ws;
  const int total = rounds_for(ws, 3000);
  auto [tx, rx] = channel<int>(3, with(ws));
  std::vector<int> got;
  auto consumer = std::async(std::launch::async, [&got, &rx = rx] {
    while (auto r = rx.recv_for(generous)) got.push_back(*r);
    return rx.recv().status();
  });
  std::vector<int> v(static_cast<std::size_t>(total));
  std::iota(v.begin(), v.end(), 0);
  EXPECT_EQ(tx.send_batch(v), v.size());
  tx.close();
  EXPECT_EQ(rw_test::must_finish(consumer, "consumer"), status::closed);
  EXPECT_EQ(got, v);
}

// ---- wait_readable ------------------------------------------------------------------------

TEST_P(Strategy, WaitReadable) {
  const auto ws = GetParam().ws;
  auto [tx, rx] = channel<int>(2, with(ws));
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &rx = rx] {
    tid = rw_test::this_tid();
    return rx.wait_readable();
  });
  until_waiting(ws, tid);
  EXPECT_EQ(tx.try_send(8), status::ok);
  EXPECT_EQ(rw_test::must_finish(f, "wait_readable"), status::ok);
  EXPECT_EQ(rx.size_approx(), 1u);  // not taken
  EXPECT_EQ(rx.wait_readable(), status::ok);  // still readable: returns at once
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 8);

  // Cancelled by a stop request while waiting.
  std::stop_source stop;
  tid = 0;
  auto g = std::async(std::launch::async, [&tid, &rx = rx, tok = stop.get_token()] {
    tid = rw_test::this_tid();
    return rx.wait_readable(tok);
  });
  until_waiting(ws, tid);
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(g, "wait_readable(stop_token)"), status::cancelled);

  // Woken by the sender's close with one message left: readable; once drained: closed.
  ASSERT_EQ(tx.try_send(9), status::ok);
  ASSERT_TRUE(rx.try_recv());
  tid = 0;
  auto h = std::async(std::launch::async, [&tid, &rx = rx] {
    tid = rw_test::this_tid();
    return rx.wait_readable();
  });
  until_waiting(ws, tid);
  tx.close();
  EXPECT_EQ(rw_test::must_finish(h, "wait_readable across close"), status::closed);
  EXPECT_EQ(rx.wait_readable(), status::closed);
}

TEST(WaitReadable, ClosedOnlyAfterDrain) {
  auto [tx, rx] = channel<int>(2);
  ASSERT_EQ(tx.try_send(1), status::ok);
  tx.close();
  EXPECT_EQ(rx.wait_readable(), status::ok);  // one left
  ASSERT_TRUE(rx.try_recv());
  EXPECT_EQ(rx.wait_readable(), status::closed);
  EXPECT_EQ(rx.try_recv().status(), status::closed);
}

// ---- many wake-ups in a row --------------------------------------------------------------

TEST_P(Strategy, PingPong) {
  const auto ws = GetParam().ws;
  const int rounds = rounds_for(ws, 2000);
  auto [ping_tx, ping_rx] = channel<int>(1, with(ws));
  auto [pong_tx, pong_rx] = channel<int>(1, with(ws));
  auto echo = std::async(std::launch::async, [&in = ping_rx, &out = pong_tx] {
    int n = 0;
    while (auto r = in.recv_for(generous)) {
      if (out.send(*r + 1) != status::ok) break;
      ++n;
    }
    return n;
  });
  for (int i = 0; i < rounds; ++i) {
    ASSERT_EQ(ping_tx.send_for(i * 2, generous), status::ok) << "round " << i;
    auto r = pong_rx.recv_for(generous);
    ASSERT_TRUE(r) << "round " << i << ": " << ringwire::to_string(r.status());
    ASSERT_EQ(*r, i * 2 + 1);
  }
  ping_tx.close();
  EXPECT_EQ(rw_test::must_finish(echo, "echo"), rounds);
}

// ---- metrics ------------------------------------------------------------------------------

TEST(Metrics, CountersWithMetricsOn) {
  options o;
  o.metrics = true;
  auto [tx, rx] = channel<int>(4, o);
  const auto mon = tx.make_monitor();
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // empty event 1
  for (int i = 0; i < 4; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  EXPECT_EQ(tx.try_send(4), status::full);  // full event 1; high water 4
  EXPECT_EQ(tx.try_send(4), status::full);  // full event 2
  auto s = mon.snapshot();
  EXPECT_EQ(s.capacity, 4u);
  EXPECT_EQ(s.sent, 4u);
  EXPECT_EQ(s.received, 0u);
  EXPECT_EQ(s.queued(), 4u);
  EXPECT_EQ(s.full_events, 2u);
  EXPECT_EQ(s.empty_events, 1u);
  EXPECT_EQ(s.high_water, 4u);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(rx.try_recv());
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // empty event 2
  s = mon.snapshot();
  EXPECT_EQ(s.received, 4u);
  EXPECT_EQ(s.empty_events, 2u);
  EXPECT_EQ(s.sender_parks, 0u);
  EXPECT_EQ(s.receiver_parks, 0u);
  EXPECT_EQ(s.sender_wakes, 0u);
  EXPECT_EQ(s.receiver_wakes, 0u);
  EXPECT_FALSE(s.sender_closed);
  EXPECT_FALSE(s.receiver_closed);
  tx.close();
  EXPECT_EQ(rx.try_recv().status(), status::closed);  // closed is not an empty event
  s = mon.snapshot();
  EXPECT_TRUE(s.sender_closed);
  EXPECT_FALSE(s.receiver_closed);
  EXPECT_EQ(s.empty_events, 2u);
  rx.close();
  s = mon.snapshot();
  EXPECT_TRUE(s.receiver_closed);
  EXPECT_EQ(s.sent, 4u);
  EXPECT_EQ(s.received, 4u);
}

TEST(Metrics, HighWaterIsTheMostSeenQueued) {
  options o;
  o.metrics = true;
  o.start_index = std::numeric_limits<std::uint64_t>::max() - 3;
  auto [tx, rx] = channel<int>(8, o);
  const auto mon = rx.make_monitor();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  EXPECT_EQ(mon.snapshot().high_water, 0u);  // only measured on the slow path
  {
    auto r = tx.reserve(8);  // wants more than the 3 free: looks, sees 5 queued
    EXPECT_EQ(r.size(), 3u);
  }
  EXPECT_EQ(mon.snapshot().high_water, 5u);
  EXPECT_EQ(rx.consume([](int&) {}), 5u);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  EXPECT_EQ(tx.try_send(8), status::full);
  EXPECT_EQ(mon.snapshot().high_water, 8u);
  EXPECT_EQ(rx.consume([](int&) {}), 8u);
  ASSERT_EQ(tx.try_send(0), status::ok);
  EXPECT_EQ(mon.snapshot().high_water, 8u);  // a maximum: never lowered
  EXPECT_EQ(mon.snapshot().sent, 14u);
}

TEST(Metrics, OffCountsOnlySentAndReceived) {
  options o;
  o.metrics = false;
  o.sender_wait = o.receiver_wait = wait_strategy::park(0);
  auto [tx, rx] = channel<int>(2, o);
  const auto mon = tx.make_monitor();
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  ASSERT_EQ(tx.try_send(1), status::ok);
  ASSERT_EQ(tx.try_send(2), status::ok);
  EXPECT_EQ(tx.try_send(3), status::full);
  EXPECT_EQ(tx.send_for(3, 1ms), status::timed_out);
  ASSERT_TRUE(rx.try_recv());
  ASSERT_TRUE(rx.try_recv());
  EXPECT_EQ(rx.recv_for(1ms).status(), status::timed_out);
  // A real park and wake on each side.
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &rx = rx] {
    tid = rw_test::this_tid();
    return rx.recv_for(generous);
  });
  EXPECT_TRUE(rw_test::wait_until_parked(tid));
  EXPECT_EQ(tx.try_send(4), status::ok);
  EXPECT_TRUE(rw_test::must_finish(f, "recv_for"));

  const auto s = mon.snapshot();
  EXPECT_EQ(s.capacity, 2u);
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.received, 3u);
  EXPECT_EQ(s.full_events, 0u);
  EXPECT_EQ(s.empty_events, 0u);
  EXPECT_EQ(s.high_water, 0u);
  EXPECT_EQ(s.sender_parks, 0u);
  EXPECT_EQ(s.receiver_parks, 0u);
  EXPECT_EQ(s.sender_wakes, 0u);
  EXPECT_EQ(s.receiver_wakes, 0u);
}

TEST(Metrics, ReceiverParkIsCountedWhenTheWaitReturns) {
  if (!rw_test::can_observe_parking()) GTEST_SKIP() << "/proc/self/task/*/syscall is not readable here";
  options o;
  o.metrics = true;
  o.receiver_wait = wait_strategy::park(0);  // straight to the futex
  auto [tx, rx] = channel<int>(2, o);
  const auto mon = tx.make_monitor();
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &rx = rx] {
    tid = rw_test::this_tid();
    return rx.recv();
  });
  EXPECT_TRUE(rw_test::wait_until_parked(tid));
  // Parked but still inside recv(): parks are published when the wait returns.
  EXPECT_EQ(mon.snapshot().receiver_parks, 0u);
  EXPECT_EQ(tx.try_send(7), status::ok);
  auto r = rw_test::must_finish(f, "recv");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  const auto s = mon.snapshot();
  EXPECT_GE(s.receiver_parks, 1u);
  EXPECT_EQ(s.receiver_wakes, 1u);
  EXPECT_EQ(s.empty_events, 1u);  // the recv() found it empty once, before parking
  EXPECT_EQ(s.sender_parks, 0u);
  EXPECT_EQ(s.sender_wakes, 0u);
}

TEST(Metrics, ParksAreCountedOnTimeout) {
  // Single-threaded: a timed wait with park(0) sleeps in the futex until its deadline. A
  // thread descheduled past the whole deadline before it parks would not count one, so
  // retry a few times rather than depend on the scheduler.
  options o;
  o.metrics = true;
  o.sender_wait = o.receiver_wait = wait_strategy::park(0);
  auto [tx, rx] = channel<int>(1, o);
  const auto mon = tx.make_monitor();
  int calls = 0;
  for (; calls < 20 && mon.snapshot().receiver_parks == 0; ++calls)
    EXPECT_EQ(rx.recv_for(20ms).status(), status::timed_out);
  EXPECT_GE(mon.snapshot().receiver_parks, 1u);
  EXPECT_EQ(mon.snapshot().empty_events, static_cast<std::uint64_t>(calls));

  ASSERT_EQ(tx.try_send(1), status::ok);
  int sends = 0;
  for (; sends < 20 && mon.snapshot().sender_parks == 0; ++sends) EXPECT_EQ(tx.send_for(2, 20ms), status::timed_out);
  EXPECT_GE(mon.snapshot().sender_parks, 1u);
  EXPECT_EQ(mon.snapshot().full_events, static_cast<std::uint64_t>(sends));
  EXPECT_EQ(mon.snapshot().high_water, 1u);
  EXPECT_EQ(mon.snapshot().receiver_wakes, 0u);  // nobody was parked when we sent
}

TEST(Metrics, SenderParkAndWake) {
  if (!rw_test::can_observe_parking()) GTEST_SKIP() << "/proc/self/task/*/syscall is not readable here";
  options o;
  o.metrics = true;
  o.sender_wait = wait_strategy::park(0);
  auto [tx, rx] = channel<int>(2, o);
  const auto mon = rx.make_monitor();
  ASSERT_EQ(tx.try_send(1), status::ok);
  ASSERT_EQ(tx.try_send(2), status::ok);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tid, &tx = tx] {
    tid = rw_test::this_tid();
    return tx.send(3);
  });
  EXPECT_TRUE(rw_test::wait_until_parked(tid));
  EXPECT_EQ(mon.snapshot().sender_parks, 0u);
  EXPECT_TRUE(rx.try_recv());
  EXPECT_EQ(rw_test::must_finish(f, "send"), status::ok);
  const auto s = mon.snapshot();
  EXPECT_GE(s.sender_parks, 1u);
  EXPECT_EQ(s.sender_wakes, 1u);
  EXPECT_EQ(s.full_events, 1u);
  EXPECT_EQ(s.high_water, 2u);
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.received, 1u);
  EXPECT_EQ(s.receiver_parks, 0u);
}

// ---- wait_strategy values -----------------------------------------------------------------

TEST(WaitStrategy, FactoriesAndAccessors) {
  constexpr auto b = wait_strategy::busy_spin();
  static_assert(b.which() == kind::busy_spin && b.spins() == 0);
  constexpr auto y = wait_strategy::spin_then_yield(7);
  static_assert(y.which() == kind::spin_then_yield && y.spins() == 7);
  EXPECT_EQ(wait_strategy::spin_then_yield().spins(), 256u);
  constexpr auto k = wait_strategy::backoff(3, std::chrono::microseconds(5));
  static_assert(k.which() == kind::backoff && k.spins() == 3 && k.max_sleep() == std::chrono::microseconds(5));
  EXPECT_EQ(wait_strategy::backoff().max_sleep(), std::chrono::microseconds(1000));
  EXPECT_EQ(wait_strategy::park().which(), kind::park);
  EXPECT_EQ(wait_strategy::park().spins(), 256u);
  EXPECT_EQ(wait_strategy::park(9).spins(), 9u);

  const options defaults;
  EXPECT_EQ(defaults.sender_wait.which(), kind::park);
  EXPECT_EQ(defaults.receiver_wait.which(), kind::park);
  EXPECT_FALSE(defaults.metrics);
  EXPECT_EQ(defaults.start_index, 0u);

  auto [tx, rx] = channel<int>(1, with(wait_strategy::spin_then_yield(5)));
  EXPECT_EQ(tx.wait().which(), kind::spin_then_yield);
  EXPECT_EQ(rx.wait().spins(), 5u);
  tx.set_wait(wait_strategy::busy_spin());
  rx.set_wait(wait_strategy::backoff(1, std::chrono::microseconds(2)));
  EXPECT_EQ(tx.wait().which(), kind::busy_spin);
  EXPECT_EQ(rx.wait().which(), kind::backoff);
  EXPECT_EQ(rx.wait().max_sleep(), std::chrono::microseconds(2));
  // The strategy moves with the endpoint.
  auto tx2 = std::move(tx);
  EXPECT_EQ(tx2.wait().which(), kind::busy_spin);
  // A changed strategy is used: a busy-spinning timed wait still times out.
  EXPECT_EQ(rx.recv_for(1ms).status(), status::timed_out);
}

// ---- park words ---------------------------------------------------------------------------

// The interleaving models/wait_relacy.cpp (word_shared_2) found, step by step: waiter A has
// announced and re-checked and is about to sleep; a waker resets the word; waiter B
// announces, finds its room and leaves (a shared waiter never retracts). A then calls
// futex_wait(word, A's expected value): it must not match, or A sleeps with its room there.
TEST(ParkWord, ASharedWaitersAnnounceIsNeverMistakenForAnothers) {
  namespace rd = ringwire::detail;
  std::atomic<std::uint32_t> word{rd::running};
  rd::word_parking<ringwire::std_sync> a{word, rd::word_sharing::shared, ringwire::fence_scope::process};
  rd::word_parking<ringwire::std_sync> b{word, rd::word_sharing::shared, ringwire::fence_scope::process};
  a.announce();
  const std::uint32_t a_sleeps_on = a.expected();
  EXPECT_EQ(word.load(), a_sleeps_on);
  EXPECT_TRUE(rd::is_parked(word.load()));
  EXPECT_TRUE(rd::wake<ringwire::std_sync>(word, ringwire::fence_scope::process));
  EXPECT_FALSE(rd::is_parked(word.load()));
  b.announce();
  EXPECT_TRUE(rd::is_parked(word.load()));
  EXPECT_NE(word.load(), a_sleeps_on);  // the kernel refuses A's sleep
  // B leaves without retracting; A retracts nothing either. The next wake still clears it.
  EXPECT_TRUE(rd::wake<ringwire::std_sync>(word, ringwire::fence_scope::process));
  EXPECT_FALSE(rd::wake<ringwire::std_sync>(word, ringwire::fence_scope::process));
}

// An exclusive word stays within running / parked: the one waiter stores both itself.
TEST(ParkWord, AnExclusiveWordHoldsOnlyItsStates) {
  namespace rd = ringwire::detail;
  std::atomic<std::uint32_t> word{rd::running};
  rd::word_parking<ringwire::std_sync> a{word};
  for (int i = 0; i < 3; ++i) {
    a.announce();
    EXPECT_EQ(word.load(), rd::parked);
    EXPECT_EQ(a.expected(), rd::parked);
    EXPECT_TRUE(rd::wake<ringwire::std_sync>(word, ringwire::fence_scope::process));
    EXPECT_EQ(word.load(), rd::running);
    a.retract();
    EXPECT_EQ(word.load(), rd::running);
  }
}

// ---- spin_sync: the policy that never parks ------------------------------------------------

// Every strategy, park() included (it degrades to spin-then-yield), must still hand messages
// over, wake on close both ways, time out and honour a stop token, with no futex at all.
TEST(SpinSync, EveryStrategyTransfersAndSeesClose) {
  for (auto ws : {wait_strategy::busy_spin(), wait_strategy::spin_then_yield(8), wait_strategy::backoff(8),
                  wait_strategy::park(0)}) {
    options o;
    o.sender_wait = ws;
    o.receiver_wait = ws;
    o.metrics = true;
    auto [tx, rx] = channel<int, ringwire::spin_sync>(2, o);
    auto mon = rx.make_monitor();
    constexpr int n = 2000;
    std::thread producer([tx = std::move(tx)]() mutable {
      for (int i = 0; i < n; ++i) ASSERT_EQ(tx.send_for(int(i), generous), status::ok);
    });  // the sender's destructor closes: the receiver must see it without a wake-up
    int expect = 0;
    for (;;) {
      auto r = rx.recv_for(generous);
      if (!r) {
        EXPECT_EQ(r.status(), status::closed);
        break;
      }
      ASSERT_EQ(*r, expect++);
    }
    producer.join();
    EXPECT_EQ(expect, n);
    const auto s = mon.snapshot();
    EXPECT_EQ(s.receiver_parks, 0u);  // nobody ever sleeps in the kernel
    EXPECT_EQ(s.sender_parks, 0u);
    EXPECT_EQ(s.sender_wakes + s.receiver_wakes, 0u);
  }
}

TEST(SpinSync, BlockedSendSeesReceiverCloseTimeoutAndStop) {
  options o;
  o.sender_wait = wait_strategy::park(0);
  o.receiver_wait = wait_strategy::park(0);
  auto ends = channel<int, ringwire::spin_sync>(1, o);
  auto& tx = ends.first;  // a plain reference: lambdas cannot capture structured bindings in C++20
  auto& rx = ends.second;
  ASSERT_EQ(tx.try_send(1), status::ok);
  EXPECT_EQ(tx.send_for(2, 1ms), status::timed_out);
  std::stop_source stop;
  auto f = std::async(std::launch::async, [&] { return tx.send(3, stop.get_token()); });
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "send(stop)"), status::cancelled);
  auto g = std::async(std::launch::async, [&] { return tx.send_for(4, generous); });
  rx.close();
  EXPECT_EQ(rw_test::must_finish(g, "send after close"), status::closed);
}

}  // namespace
