// tests/mpmc/mpmc_stats_test.cpp -- the counters an MPMC queue keeps in its memory
// (mpmc/stats.hpp): each event provoked on purpose and counted exactly, nothing counted with
// metrics off, the monitor's lifetime, and a monitor reading while the queue runs (TSan).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ringwire/mpmc.hpp"
#include "support/stress_scale.hpp"
#include "support/unit_support.hpp"

namespace {

using namespace rw_test;
using ringwire::status;
using ringwire::wait_strategy;
namespace mpmc = ringwire::mpmc;

// Parks at once, so a blocked call's sleeps are exactly the ones it is made to take.
mpmc::options metered(bool on = true) {
  return mpmc::options{.sender_wait = wait_strategy::park(0), .receiver_wait = wait_strategy::park(0), .metrics = on};
}


// The exact park and wake counts need to know that a thread really sleeps.
#define REQUIRE_PARK_OBSERVABLE() \
  if (!can_observe_parking()) GTEST_SKIP() << "/proc/self/task/<tid>/syscall is unreadable here"

void expect_no_events(const mpmc::stats& s) {
  EXPECT_EQ(s.full_events, 0u);
  EXPECT_EQ(s.empty_events, 0u);
  EXPECT_EQ(s.producer_parks, 0u);
  EXPECT_EQ(s.consumer_parks, 0u);
  EXPECT_EQ(s.producer_wakes, 0u);
  EXPECT_EQ(s.consumer_wakes, 0u);
}

// ---- full and empty ----------------------------------------------------------------------

TEST(MpmcStats, FullAndEmptyReportsAreCountedClosedIsNot) {
  mpmc::queue<int> q(2, metered());
  const auto mon = q.make_monitor();
  EXPECT_EQ(q.try_pop().status(), status::empty);
  ASSERT_EQ(q.try_push(1), status::ok);
  ASSERT_EQ(q.try_push(2), status::ok);
  EXPECT_EQ(q.try_push(3), status::full);
  EXPECT_EQ(q.try_push(3), status::full);
  // A wait that gives up before it sleeps: one more full report, and no park.
  EXPECT_EQ(q.push_until(3, ringwire::detail::clock::now()), status::timed_out);
  mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.capacity, 2u);
  EXPECT_EQ(s.pushed, 2u);
  EXPECT_EQ(s.popped, 0u);
  EXPECT_EQ(s.queued(), 2u);
  EXPECT_FALSE(s.closed);
  EXPECT_EQ(s.full_events, 3u);
  EXPECT_EQ(s.empty_events, 1u);
  EXPECT_EQ(s.producer_parks, 0u);

  EXPECT_EQ(*q.try_pop(), 1);
  int out = 0;
  EXPECT_EQ(q.try_pop(out), status::ok);
  EXPECT_EQ(q.try_pop(out), status::empty);
  EXPECT_EQ(q.pop_until(ringwire::detail::clock::now()).status(), status::timed_out);
  q.close();
  EXPECT_EQ(q.try_pop().status(), status::closed);
  EXPECT_EQ(q.try_push(4), status::closed);
  s = mon.snapshot();
  EXPECT_EQ(s.pushed, 2u);
  EXPECT_EQ(s.popped, 2u);
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.full_events, 3u) << "a push refused by close() is no full event";
  EXPECT_EQ(s.empty_events, 3u) << "a pop told closed is no empty event";
  EXPECT_EQ(s.producer_parks + s.consumer_parks + s.producer_wakes + s.consumer_wakes, 0u);
}

// Every copy of a handle counts into the one channel; the monitor sees the handle counts and
// the close that the last sender makes.
TEST(MpmcStats, ChannelHandlesAndTheirCopiesCount) {
  auto [tx, rx] = mpmc::channel<int>(1, metered());
  auto tx2 = tx;
  auto rx2 = rx;
  const auto mon = rx.make_monitor();
  ASSERT_EQ(tx.try_send(1), status::ok);
  EXPECT_EQ(tx.try_send(2), status::full);
  EXPECT_EQ(tx2.try_send(2), status::full);
  EXPECT_EQ(*rx2.try_recv(), 1);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.senders, 2u);
  EXPECT_EQ(s.receivers, 2u);
  EXPECT_EQ(s.full_events, 2u);
  EXPECT_EQ(s.empty_events, 1u);
  EXPECT_EQ(s.pushed, 1u);
  EXPECT_EQ(s.popped, 1u);
  EXPECT_EQ(tx.make_monitor().snapshot().full_events, 2u);  // one memory, whoever makes the monitor

  tx.close();
  tx2.close();
  s = mon.snapshot();
  EXPECT_EQ(s.senders, 0u);
  EXPECT_TRUE(s.closed);
  EXPECT_FALSE(s.receivers_gone);
  EXPECT_EQ(tx.make_monitor().snapshot().capacity, 0u) << "a closed handle's monitor is empty";
  rx.close();
  rx2.close();
  s = mon.snapshot();
  EXPECT_EQ(s.receivers, 0u);
  EXPECT_TRUE(s.receivers_gone);
}

// ---- parks and wakes -----------------------------------------------------------------------

// A pop parked on the empty queue: one empty report, one sleep (shown only once the wait
// returns) and one wake syscall by the push that feeds it; nothing on the producers' side.
TEST(MpmcStats, AParkedPopCountsOneEmptyOneParkOneWake) {
  REQUIRE_PARK_OBSERVABLE();
  mpmc::queue<int> q(1, metered());
  const auto mon = q.make_monitor();
  std::atomic<pid_t> tid{0};
  auto popped = std::async(std::launch::async, [&] {
    tid = this_tid();
    return q.pop();
  });
  ASSERT_TRUE(wait_until_asleep(tid));
  mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.parked_consumers, 1u);
  EXPECT_EQ(s.empty_events, 1u);
  EXPECT_EQ(s.consumer_parks, 0u) << "parks are added when the wait returns";
  ASSERT_EQ(q.try_push(7), status::ok);
  EXPECT_EQ(*must_finish(popped, "parked pop"), 7);
  s = mon.snapshot();
  EXPECT_EQ(s.parked_consumers, 0u);
  EXPECT_EQ(s.empty_events, 1u);
  EXPECT_EQ(s.consumer_parks, 1u);
  EXPECT_EQ(s.consumer_wakes, 1u);
  EXPECT_EQ(s.full_events, 0u);
  EXPECT_EQ(s.producer_parks, 0u);
  EXPECT_EQ(s.producer_wakes, 0u);
}

// The mirror image: a push parked on the full queue, woken by a pop.
TEST(MpmcStats, AParkedPushCountsOneFullOneParkOneWake) {
  REQUIRE_PARK_OBSERVABLE();
  mpmc::queue<int> q(1, metered());
  const auto mon = q.make_monitor();
  ASSERT_EQ(q.try_push(1), status::ok);
  std::atomic<pid_t> tid{0};
  auto pushed = std::async(std::launch::async, [&] {
    tid = this_tid();
    return q.push(2);
  });
  ASSERT_TRUE(wait_until_asleep(tid));
  mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.parked_producers, 1u);
  EXPECT_EQ(s.full_events, 1u);
  EXPECT_EQ(s.producer_parks, 0u);
  EXPECT_EQ(*q.try_pop(), 1);
  EXPECT_EQ(must_finish(pushed, "parked push"), status::ok);
  EXPECT_EQ(*q.try_pop(), 2);
  s = mon.snapshot();
  EXPECT_EQ(s.full_events, 1u);
  EXPECT_EQ(s.producer_parks, 1u);
  EXPECT_EQ(s.producer_wakes, 1u);
  EXPECT_EQ(s.empty_events, 0u);
  EXPECT_EQ(s.consumer_parks, 0u);
  EXPECT_EQ(s.consumer_wakes, 0u);
}

// A channel's receiver and sender, parked in turn: the handles count like the queue.
TEST(MpmcStats, ParkedHandlesCountTheirParksAndWakes) {
  REQUIRE_PARK_OBSERVABLE();
  auto [tx, rx] = mpmc::channel<int>(1, metered());
  const auto mon = tx.make_monitor();
  std::atomic<pid_t> tid{0};
  auto got = std::async(std::launch::async, [&, r = rx]() mutable {
    tid = this_tid();
    return r.recv();
  });
  ASSERT_TRUE(wait_until_asleep(tid));
  ASSERT_EQ(tx.try_send(1), status::ok);
  EXPECT_EQ(*must_finish(got, "parked recv"), 1);

  ASSERT_EQ(tx.try_send(2), status::ok);
  tid = 0;
  auto sent = std::async(std::launch::async, [&, t = tx]() mutable {
    tid = this_tid();
    return t.send(3);
  });
  ASSERT_TRUE(wait_until_asleep(tid));
  EXPECT_EQ(*rx.try_recv(), 2);
  EXPECT_EQ(must_finish(sent, "parked send"), status::ok);
  EXPECT_EQ(*rx.try_recv(), 3);

  const mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.empty_events, 1u);
  EXPECT_EQ(s.consumer_parks, 1u);
  EXPECT_EQ(s.consumer_wakes, 1u);
  EXPECT_EQ(s.full_events, 1u);
  EXPECT_EQ(s.producer_parks, 1u);
  EXPECT_EQ(s.producer_wakes, 1u);
}

// Two pops asleep in one room: the push makes one wake syscall for both; close() wakes the
// other with a wake of its own that is not counted (it is made whether anyone sleeps or not).
TEST(MpmcStats, OneWakeForAWholeRoomAndNoneCountedForClose) {
  REQUIRE_PARK_OBSERVABLE();
  mpmc::queue<int> q(4, metered());
  const auto mon = q.make_monitor();
  std::atomic<pid_t> tids[2] = {0, 0};
  std::vector<std::future<ringwire::recv_result<int>>> got;
  for (auto& tid : tids)
    got.push_back(std::async(std::launch::async, [&q, &tid] {
      tid = this_tid();
      return q.pop();
    }));
  for (auto& tid : tids) ASSERT_TRUE(wait_until_asleep(tid));
  EXPECT_EQ(mon.snapshot().parked_consumers, 2u);
  ASSERT_EQ(q.try_push(5), status::ok);
  EXPECT_EQ(mon.snapshot().consumer_wakes, 1u);
  q.close();
  int values = 0;
  int closed = 0;
  for (auto& f : got) {
    auto r = must_finish(f, "parked pop");
    if (r) {
      EXPECT_EQ(*r, 5);
      ++values;
    } else if (r.status() == status::closed) {
      ++closed;
    }
  }
  EXPECT_EQ(values, 1);
  EXPECT_EQ(closed, 1);
  const mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.consumer_wakes, 1u);
  EXPECT_GE(s.consumer_parks, 2u);  // each slept once; the one left over may have slept again
  EXPECT_GE(s.empty_events, 2u);
  EXPECT_EQ(s.producer_wakes, 0u);
}

// ---- metrics off ------------------------------------------------------------------------

// The same events with metrics off: the tickets and the states are there, no counter moves.
TEST(MpmcStats, MetricsOffCountsNothing) {
  REQUIRE_PARK_OBSERVABLE();
  mpmc::queue<int> q(1, metered(false));
  const auto mon = q.make_monitor();
  EXPECT_EQ(q.try_pop().status(), status::empty);
  ASSERT_EQ(q.try_push(1), status::ok);
  EXPECT_EQ(q.try_push(2), status::full);
  std::atomic<pid_t> tid{0};
  auto pushed = std::async(std::launch::async, [&] {
    tid = this_tid();
    return q.push(2);
  });
  ASSERT_TRUE(wait_until_asleep(tid));
  EXPECT_EQ(mon.snapshot().parked_producers, 1u);  // free: the room's own word
  EXPECT_EQ(*q.try_pop(), 1);
  EXPECT_EQ(must_finish(pushed, "parked push"), status::ok);
  EXPECT_EQ(*q.try_pop(), 2);
  tid = 0;
  auto popped = std::async(std::launch::async, [&] {
    tid = this_tid();
    return q.pop();
  });
  ASSERT_TRUE(wait_until_asleep(tid));
  ASSERT_EQ(q.try_push(3), status::ok);
  EXPECT_EQ(*must_finish(popped, "parked pop"), 3);

  const mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.capacity, 1u);
  EXPECT_EQ(s.pushed, 3u);
  EXPECT_EQ(s.popped, 3u);
  expect_no_events(s);

  auto [tx, rx] = mpmc::channel<int>(1, metered(false));
  ASSERT_EQ(tx.try_send(1), status::ok);
  EXPECT_EQ(tx.try_send(2), status::full);
  EXPECT_EQ(*rx.try_recv(), 1);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  expect_no_events(rx.make_monitor().snapshot());
}

// ---- the monitor ------------------------------------------------------------------------------

// A pushed element whose constructor threw leaves a hole: its ticket counts as pushed (and
// queued) until a pop passes it; the throw itself is no event.
TEST(MpmcStats, AHoleIsATicketNotAnEvent) {
  struct refuse {};
  struct picky {
    int v;
    explicit picky(int x) : v(x) {}
    explicit picky(refuse) : v(0) { throw std::runtime_error("refused"); }
  };
  mpmc::queue<picky> q(4, metered());
  const auto mon = q.make_monitor();
  EXPECT_THROW((void)q.try_emplace(refuse{}), std::runtime_error);
  ASSERT_EQ(q.try_emplace(1), status::ok);
  mpmc::stats s = mon.snapshot();
  EXPECT_EQ(s.pushed, 2u);
  EXPECT_EQ(s.queued(), 2u);
  EXPECT_EQ(q.try_pop()->v, 1);
  s = mon.snapshot();
  EXPECT_EQ(s.popped, 2u);
  expect_no_events(s);
}

TEST(MpmcStats, AMonitorKeepsTheMemoryAndItsElementsAlive) {
  EXPECT_EQ(mpmc::monitor<>{}.snapshot().capacity, 0u);
  auto token = std::make_shared<int>(1);
  std::optional<mpmc::monitor<>> mon;
  {
    mpmc::queue<std::shared_ptr<int>> q(8, metered());
    ASSERT_EQ(q.try_push(token), status::ok);
    ASSERT_EQ(q.try_push(token), status::ok);
    mon = q.make_monitor();
  }
  EXPECT_EQ(token.use_count(), 3) << "the queue is gone, its memory is not";
  std::optional<mpmc::monitor<>> copy = *mon;
  const mpmc::stats s = copy->snapshot();
  EXPECT_EQ(s.capacity, 8u);
  EXPECT_EQ(s.queued(), 2u);
  mon.reset();
  EXPECT_EQ(token.use_count(), 3);
  copy.reset();
  EXPECT_EQ(token.use_count(), 1) << "the last holder destroys what was still queued";
}

// A monitor reads while two producers and a consumer run (TSan: every word it reads is an
// atomic): each number only grows, the tickets never pass what was sent, and at the end they
// are exact.
TEST(MpmcStats, AMonitorReadsWhileTheQueueRuns) {
  constexpr std::uint64_t per_producer = scaled(50000) / 2;
  mpmc::queue<std::uint64_t> q(8, mpmc::options{.metrics = true});
  const std::uint64_t total = 2 * per_producer;
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    std::uint64_t last[2] = {0, 0};
    for (std::uint64_t i = 0; i < total; ++i) {
      auto r = q.pop();
      if (!r) {
        ADD_FAILURE() << "pop " << i << ": " << ringwire::to_string(r.status());
        break;
      }
      const std::uint64_t p = *r >> 32;
      const std::uint64_t seq = *r & 0xffffffffu;
      if (p > 1 || seq != last[p] + 1) {
        ADD_FAILURE() << "producer " << p << " value " << seq << " after " << last[p % 2];
        break;
      }
      last[p] = seq;
    }
    done = true;
  });
  std::atomic<bool> watching{false};
  std::thread watcher([&, mon = q.make_monitor()] {
    mpmc::stats last;
    while (!done.load()) {
      const mpmc::stats s = mon.snapshot();
      watching = true;
      EXPECT_EQ(s.capacity, 8u);
      EXPECT_LE(s.pushed, total);
      EXPECT_LE(s.popped, total);
      EXPECT_LE(s.queued(), 8u);
      EXPECT_GE(s.pushed, last.pushed);
      EXPECT_GE(s.popped, last.popped);
      EXPECT_GE(s.full_events, last.full_events);
      EXPECT_GE(s.empty_events, last.empty_events);
      EXPECT_GE(s.producer_parks, last.producer_parks);
      EXPECT_GE(s.consumer_parks, last.consumer_parks);
      EXPECT_GE(s.producer_wakes, last.producer_wakes);
      EXPECT_GE(s.consumer_wakes, last.consumer_wakes);
      EXPECT_FALSE(s.closed);
      last = s;
      if (::testing::Test::HasFailure()) break;
    }
  });
  while (!watching.load()) std::this_thread::yield();  // the producers start under its eyes
  std::vector<std::thread> producers;
  for (std::uint64_t p = 0; p < 2; ++p)
    producers.emplace_back([&q, p] {
      for (std::uint64_t i = 1; i <= per_producer; ++i) ASSERT_EQ(q.push((p << 32) | i), status::ok);
    });
  for (auto& t : producers) t.join();
  consumer.join();
  watcher.join();
  q.close();
  const mpmc::stats s = q.make_monitor().snapshot();
  EXPECT_EQ(s.pushed, total);
  EXPECT_EQ(s.popped, total);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.parked_producers + s.parked_consumers, 0u);
}

}  // namespace
