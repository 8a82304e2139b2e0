// Unit tests of ringwire::mpsc (the lanes channel): every operation and edge, one thread
// where the behaviour is deterministic, a second thread where waiting is the point.
//
//   setup          bad arguments are ringwire::error with the right errc, never UB
//   registration   max_producers live lanes; one more is errc::too_many_producers (and
//                  try_make_sender's nullopt); a registrar copy counts like the original
//   recycling      a gone sender's lane is reused only once drained, by the receiver's
//                  drain or by the next registration; indices continue across generations
//   fairness       try_recv round-robin; consume_up_to(k) with any k never starves a lane
//                  (each lane served within lanes-1 calls), never always lane 0 first
//   operations     try_recv(T&), consume_all, try_recv_batch (memcpy path and iterator
//                  path), reserve/commit and try_send_batch on a lane
//   disconnect     receiver gone => senders and later senders closed; all senders gone
//                  with a registrar alive => empty, not closed; registrar gone too =>
//                  closed after drain; recv wakes for each of these
//   waiting        recv parks on one word and is woken by any lane; recv_for times out;
//                  recv(stop_token) is cancelled; no wake syscall while not parked
//   lifetime       every element destroyed exactly once, wherever the channel dies; a
//                  throwing move leaves the element queued
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <future>
#include <memory>
#include <set>
#include <stop_token>
#include <thread>
#include <vector>

#include "ringwire/mpsc.hpp"
#include "support/unit_support.hpp"

namespace {

namespace mpsc = ringwire::mpsc;
using ringwire::errc;
using ringwire::status;
using namespace std::chrono_literals;
using rw_test::counted;
using rw_test::reg;
using rw_test::tracked;

constexpr std::uint64_t encode(std::uint64_t producer, std::uint64_t seq) { return producer << 32 | seq; }

using rw_test::error_code;

// ---- setup ------------------------------------------------------------------------------

TEST(MpscSetup, BadArgumentsAreErrors) {
  EXPECT_EQ(error_code([] { (void)mpsc::channel<int>(0, 4); }), errc::invalid_capacity);
  EXPECT_EQ(error_code([] { (void)mpsc::channel<int>(8, 0); }), errc::invalid_options);
  EXPECT_EQ(error_code([] { (void)mpsc::channel<int>(8, 5000); }), errc::invalid_options);
  EXPECT_EQ(error_code([] { (void)mpsc::channel<int>(std::size_t{1} << 49, 2); }), errc::capacity_too_large);
  // 4000 lanes of 2^60 bytes overflow the address space: refused before any allocation.
  EXPECT_EQ(error_code([] { (void)mpsc::channel<std::array<char, 4096>>(std::size_t{1} << 48, 4000); }),
            errc::capacity_too_large);
}

TEST(MpscSetup, UnallocatableIsAnError) {
  if (RINGWIRE_TEST_SANITIZED) GTEST_SKIP() << "sanitizer allocators abort on absurd sizes instead of throwing";
  EXPECT_EQ(error_code([] { (void)mpsc::channel<std::uint64_t>(std::size_t{1} << 40, 4096); }),
            errc::capacity_too_large);  // 2^55 bytes: bad_alloc, reported with the capacity
}

TEST(MpscSetup, Geometry) {
  auto [r, rx] = mpsc::channel<int>(5, 3);
  EXPECT_EQ(r.max_producers(), 3u);
  EXPECT_EQ(r.lane_capacity(), 5u);
  EXPECT_EQ(rx.max_producers(), 3u);
  EXPECT_EQ(rx.lane_capacity(), 5u);
  auto tx = r.make_sender();
  EXPECT_EQ(tx.capacity(), 5u);  // exact per lane
  for (int i = 0; i < 5; ++i) EXPECT_EQ(tx.try_send(i), status::ok);
  EXPECT_EQ(tx.try_send(5), status::full);
  EXPECT_EQ(rx.size_approx(), 0u);  // the receiver has not looked yet
  EXPECT_EQ(rx.try_recv().value(), 0);
  EXPECT_EQ(rx.size_approx(), 4u);
}

// ---- registration -------------------------------------------------------------------------

TEST(MpscRegistration, LimitIsAClearError) {
  auto [r, rx] = mpsc::channel<int>(4, 2);
  auto a = r.make_sender();
  auto b = r.make_sender();
  EXPECT_EQ(r.lanes_in_use(), 2u);
  EXPECT_EQ(error_code([&r = r] { (void)r.make_sender(); }), errc::too_many_producers);
  EXPECT_FALSE(r.try_make_sender().has_value());
  auto copy = r;  // a copy registers on the same lanes
  EXPECT_FALSE(copy.try_make_sender().has_value());
  EXPECT_EQ(a.try_send(1), status::ok);
  EXPECT_EQ(b.try_send(2), status::ok);
}

TEST(MpscRegistration, ConcurrentRegistrarsGetDistinctLanes) {
  constexpr int lanes = 16;
  auto [r, rx] = mpsc::channel<std::uint64_t>(4, lanes);
  std::vector<std::future<std::vector<mpsc::sender<std::uint64_t>>>> got;
  for (int t = 0; t < 4; ++t) {
    got.push_back(std::async(std::launch::async, [reg = r]() mutable {
      std::vector<mpsc::sender<std::uint64_t>> mine;
      while (auto s = reg.try_make_sender()) mine.push_back(std::move(*s));
      return mine;
    }));
  }
  std::vector<mpsc::sender<std::uint64_t>> all;
  for (auto& f : got)
    for (auto& s : f.get()) all.push_back(std::move(s));
  ASSERT_EQ(all.size(), static_cast<std::size_t>(lanes));
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].try_send(i), status::ok);
  std::set<std::uint64_t> seen;
  while (auto v = rx.try_recv()) seen.insert(*v);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(lanes));  // one lane each: no lane shared
}

// ---- recycling ----------------------------------------------------------------------------

TEST(MpscRecycling, LaneReusedOnlyOnceDrained) {
  auto [r, rx] = mpsc::channel<int>(4, 1);
  {
    auto tx = r.make_sender();
    ASSERT_EQ(tx.try_send(1), status::ok);
    ASSERT_EQ(tx.try_send(2), status::ok);
  }  // gone, with two messages queued
  EXPECT_EQ(error_code([&r = r] { (void)r.make_sender(); }), errc::too_many_producers);
  EXPECT_EQ(rx.try_recv().value(), 1);
  EXPECT_FALSE(r.try_make_sender().has_value());  // one message left: still not recyclable
  EXPECT_EQ(rx.try_recv().value(), 2);
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // drained: recycled by the receiver
  EXPECT_EQ(r.lanes_in_use(), 0u);
  auto tx2 = r.make_sender();
  ASSERT_EQ(tx2.try_send(3), status::ok);
  EXPECT_EQ(rx.try_recv().value(), 3);  // indices continue: the receiver's view stays valid
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

TEST(MpscRecycling, RegistrationRecyclesADrainedLaneItself) {
  auto [r, rx] = mpsc::channel<int>(4, 1);
  auto tx = r.make_sender();
  ASSERT_EQ(tx.try_send(7), status::ok);
  EXPECT_EQ(rx.try_recv().value(), 7);  // drained while the sender lives
  tx = mpsc::sender<int>{};             // now gone; the receiver does not look again
  auto tx2 = r.make_sender();           // the registrar sees gone + drained and reclaims
  ASSERT_EQ(tx2.try_send(8), status::ok);
  EXPECT_EQ(rx.try_recv().value(), 8);
}

TEST(MpscRecycling, ManyGenerationsKeepOrderPerLane) {
  auto [r, rx] = mpsc::channel<int>(3, 2);
  int next = 0;
  for (int gen = 0; gen < 50; ++gen) {
    auto tx = r.make_sender();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(tx.try_send(next + i), status::ok);
    tx.close();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(rx.try_recv().value(), next + i);
    next += 3;
  }
  EXPECT_EQ(r.lanes_in_use(), 1u);  // the last lane's close is seen at the next look
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  EXPECT_EQ(r.lanes_in_use(), 0u);
}

// ---- fairness -----------------------------------------------------------------------------

TEST(MpscFairness, TryRecvIsRoundRobin) {
  auto [r, rx] = mpsc::channel<std::uint64_t>(8, 3);
  std::vector<mpsc::sender<std::uint64_t>> tx;
  for (std::uint64_t p = 0; p < 3; ++p) tx.push_back(r.make_sender());
  for (std::uint64_t p = 0; p < 3; ++p)
    for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(tx[p].try_send(encode(p, i)), status::ok);
  std::vector<std::uint64_t> producers;
  while (auto v = rx.try_recv()) producers.push_back(*v >> 32);
  ASSERT_EQ(producers.size(), 12u);
  for (std::size_t k = 3; k < producers.size(); ++k) EXPECT_EQ(producers[k], producers[k - 3]) << k;
  EXPECT_EQ(std::set<std::uint64_t>(producers.begin(), producers.begin() + 3).size(), 3u);
}

// With every lane backlogged, consume_up_to(k) for k in 1..7 serves every lane within
// (lanes - 1) calls of its previous service, and the first lane served rotates.
TEST(MpscFairness, BoundedConsumeNeverStarvesALane) {
  constexpr std::uint64_t lanes = 4;
  for (std::size_t k = 1; k <= 7; ++k) {
    auto [r, rx] = mpsc::channel<std::uint64_t>(64, lanes);
    std::vector<mpsc::sender<std::uint64_t>> tx;
    for (std::uint64_t p = 0; p < lanes; ++p) tx.push_back(r.make_sender());
    std::array<std::uint64_t, lanes> next_seq{};
    std::array<std::uint64_t, lanes> last_served{};
    std::set<std::uint64_t> firsts;
    for (std::uint64_t call = 1; call <= 40; ++call) {
      for (std::uint64_t p = 0; p < lanes; ++p)  // keep every lane backlogged
        while (tx[p].size_approx() < 16) ASSERT_EQ(tx[p].try_send(encode(p, next_seq[p]++)), status::ok);
      bool first = true;
      const std::size_t n = rx.consume_up_to(k, [&](std::uint64_t v) {
        if (first) firsts.insert(v >> 32);
        first = false;
        last_served[v >> 32] = call;
      });
      ASSERT_EQ(n, k);
      if (call > lanes) {
        for (std::uint64_t p = 0; p < lanes; ++p) {
          ASSERT_LE(call - last_served[p], lanes - 1) << "lane " << p << " starved with k=" << k;
        }
      }
    }
    EXPECT_EQ(firsts.size(), lanes) << "consume_up_to(" << k << ") always starts at the same lanes";
  }
}

// ---- operations ---------------------------------------------------------------------------

TEST(MpscOps, BatchesAndZeroCopy) {
  auto [r, rx] = mpsc::channel<std::uint64_t>(16, 2);
  auto a = r.make_sender();
  auto b = r.make_sender();
  auto res = a.reserve(5);
  ASSERT_EQ(res.size(), 5u);
  for (std::uint64_t i = 0; i < 5; ++i) res.emplace_back(encode(0, i));
  res.commit();
  std::vector<std::uint64_t> src;
  for (std::uint64_t i = 0; i < 6; ++i) src.push_back(encode(1, i));
  ASSERT_EQ(b.try_send_batch(src), 6u);

  std::vector<std::uint64_t> out(4);
  EXPECT_EQ(rx.try_recv_batch(std::span<std::uint64_t>(out)), 4u);  // memcpy path
  std::vector<std::uint64_t> rest;
  EXPECT_EQ(rx.try_recv_batch(std::back_inserter(rest), 100), 7u);  // iterator path
  out.insert(out.end(), rest.begin(), rest.end());
  std::array<std::uint64_t, 2> next{};
  for (auto v : out) EXPECT_EQ(v & 0xffffffffu, next[v >> 32]++) << "FIFO per producer";
  EXPECT_EQ(next[0], 5u);
  EXPECT_EQ(next[1], 6u);

  ASSERT_EQ(a.try_send(encode(0, 5)), status::ok);
  std::uint64_t v = 0;
  EXPECT_EQ(rx.try_recv(v), status::ok);
  EXPECT_EQ(v, encode(0, 5));
  EXPECT_EQ(rx.try_recv(v), status::empty);
  EXPECT_EQ(rx.consume_all([](std::uint64_t) {}), 0u);
  EXPECT_EQ(rx.consume_up_to(0, [](std::uint64_t) {}), 0u);
}

TEST(MpscOps, MoveOnlyElements) {
  auto [r, rx] = mpsc::channel<std::unique_ptr<int>>(2, 2);
  auto tx = r.make_sender();
  ASSERT_EQ(tx.try_send(std::make_unique<int>(41)), status::ok);
  ASSERT_EQ(tx.try_emplace(new int(42)), status::ok);
  EXPECT_EQ(**rx.try_recv(), 41);
  int got = 0;
  EXPECT_EQ(rx.consume_all([&](std::unique_ptr<int>& p) { got = *p; }), 1u);
  EXPECT_EQ(got, 42);
}

// ---- disconnect ---------------------------------------------------------------------------

TEST(MpscDisconnect, ReceiverGoneClosesEverySender) {
  auto [r, rx] = mpsc::channel<int>(4, 3);
  auto a = r.make_sender();
  ASSERT_EQ(a.try_send(1), status::ok);
  {
    auto gone = std::move(rx);
  }
  EXPECT_EQ(a.try_send(2), status::closed);
  EXPECT_TRUE(a.is_closed());
  auto later = r.make_sender();  // made after the receiver left
  EXPECT_TRUE(later.is_closed());
  EXPECT_EQ(later.try_send(3), status::closed);
}

TEST(MpscDisconnect, RegistrarKeepsTheChannelOpen) {
  auto [r, rx] = mpsc::channel<int>(4, 2);
  {
    auto tx = r.make_sender();
    ASSERT_EQ(tx.try_send(1), status::ok);
  }
  EXPECT_EQ(rx.try_recv().value(), 1);
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // no sender, but the registrar may make one
  EXPECT_FALSE(rx.is_closed());
  auto tx = r.make_sender();
  r.close();
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // a sender is alive
  ASSERT_EQ(tx.try_send(2), status::ok);
  tx.close();
  EXPECT_EQ(rx.try_recv().value(), 2);  // drained before closed
  EXPECT_EQ(rx.try_recv().status(), status::closed);
  EXPECT_TRUE(rx.is_closed());
  EXPECT_EQ(rx.recv().status(), status::closed);
}

TEST(MpscDisconnect, CopiesOfTheRegistrarCount) {
  auto [r, rx] = mpsc::channel<int>(4, 2);
  auto copy = r;
  r.close();
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  copy = mpsc::registrar<int>{};
  EXPECT_EQ(rx.try_recv().status(), status::closed);
}

// ---- waiting ------------------------------------------------------------------------------

TEST(MpscWait, ParkedReceiverWokenByAnyLane) {
  for (int lane = 0; lane < 3; ++lane) {
    auto [r, rx] = mpsc::channel<int>(4, 3);
    std::vector<mpsc::sender<int>> tx;
    for (int p = 0; p < 3; ++p) tx.push_back(r.make_sender());
    std::atomic<pid_t> tid{0};
    auto f = std::async(std::launch::async, [&rx = rx, &tid] {
      tid = rw_test::this_tid();
      return rx.recv();
    });
    ASSERT_TRUE(rw_test::wait_until_parked(tid));
    ASSERT_EQ(tx[static_cast<std::size_t>(lane)].try_send(10 + lane), status::ok);
    auto got = rw_test::must_finish(f, "recv");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, 10 + lane);
  }
}

TEST(MpscWait, ParkedReceiverWokenByNewLaneAndByTheEnd) {
  auto [r, rx] = mpsc::channel<int>(4, 2);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&rx = rx, &tid] {
    tid = rw_test::this_tid();
    auto a = rx.recv();
    auto b = rx.recv();
    return std::make_pair(a.has_value() ? *a : -1, b.status());
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  auto tx = r.make_sender();  // a lane the parked receiver never saw
  ASSERT_EQ(tx.try_send(5), status::ok);
  std::this_thread::sleep_for(20ms);
  tx.close();
  r.close();  // the end: the receiver must wake and report closed
  auto [v, end] = rw_test::must_finish(f, "recv");
  EXPECT_EQ(v, 5);
  EXPECT_EQ(end, status::closed);
}

TEST(MpscWait, TimeoutAndCancel) {
  auto [r, rx] = mpsc::channel<int>(4, 2);
  auto tx = r.make_sender();
  EXPECT_EQ(rx.recv_for(5ms).status(), status::timed_out);
  EXPECT_EQ(rx.recv_until(ringwire::detail::clock::now() + 2ms).status(), status::timed_out);
  std::stop_source stop;
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&rx = rx, &tid, tok = stop.get_token()] {
    tid = rw_test::this_tid();
    return rx.recv(tok).status();
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  stop.request_stop();
  EXPECT_EQ(rw_test::must_finish(f, "recv(stop_token)"), status::cancelled);
  ASSERT_EQ(tx.try_send(1), status::ok);
  EXPECT_EQ(rx.wait_readable(), status::ok);
  EXPECT_EQ(rx.recv_for(1ms).value(), 1);
}

TEST(MpscWait, NoWakeSyscallWhileTheReceiverIsNotParked) {
  mpsc::options opt;
  opt.metrics = true;
  auto [r, rx] = mpsc::channel<int>(64, 2, opt);
  auto a = r.make_sender();
  auto b = r.make_sender();
  for (int round = 0; round < 100; ++round) {
    ASSERT_EQ(a.try_send(round), status::ok);
    ASSERT_EQ(b.try_send(round), status::ok);
    ASSERT_EQ(rx.consume_all([](int) {}), 2u);
  }
  EXPECT_EQ(a.make_monitor().snapshot().receiver_wakes, 0u);
  EXPECT_EQ(b.make_monitor().snapshot().receiver_wakes, 0u);
}

TEST(MpscWait, SenderOnAFullLaneWokenByTheReceiver) {
  auto [r, rx] = mpsc::channel<int>(1, 2);
  auto tx = r.make_sender();
  ASSERT_EQ(tx.try_send(1), status::ok);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tx, &tid] {
    tid = rw_test::this_tid();
    return tx.send(2);
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  EXPECT_EQ(rx.try_recv().value(), 1);
  EXPECT_EQ(rw_test::must_finish(f, "send"), status::ok);
  EXPECT_EQ(rx.try_recv().value(), 2);
}

TEST(MpscWait, ParkedSenderSeesTheReceiverLeave) {
  auto [r, rx] = mpsc::channel<int>(1, 2);
  auto tx = r.make_sender();
  ASSERT_EQ(tx.try_send(1), status::ok);
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&tx, &tid] {
    tid = rw_test::this_tid();
    return tx.send(2);
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  rx.close();
  EXPECT_EQ(rw_test::must_finish(f, "send"), status::closed);
}

// ---- lifetime -----------------------------------------------------------------------------

class MpscLifetime : public counted {};

TEST_F(MpscLifetime, QueuedElementsDestroyedOnceWhoeverLeavesLast) {
  for (int last = 0; last < 3; ++last) {  // 0: receiver last, 1: a sender last, 2: registrar last
    auto [r, rx] = mpsc::channel<tracked>(4, 3);
    auto a = r.make_sender();
    auto b = r.make_sender();
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(a.try_emplace(i), status::ok);
      ASSERT_EQ(b.try_emplace(100 + i), status::ok);
    }
    EXPECT_EQ(rx.try_recv()->value, 0);
    if (last == 0) {
      a.close();
      b.close();
      r.close();
      rx.close();
    } else if (last == 1) {
      rx.close();
      r.close();
      a.close();
      b.close();
    } else {
      a.close();
      rx.close();
      b.close();
      r.close();
    }
    EXPECT_EQ(reg().alive(), 0) << "last=" << last;
  }
}

TEST_F(MpscLifetime, ThrowingMoveLeavesTheElementQueued) {
  auto [r, rx] = mpsc::channel<tracked>(4, 2);
  auto tx = r.make_sender();
  ASSERT_EQ(tx.try_emplace(1), status::ok);
  rw_test::throw_countdown = 0;
  EXPECT_THROW((void)rx.try_recv(), std::runtime_error);
  rw_test::throw_countdown = -1;
  auto v = rx.try_recv();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->value, 1);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

TEST_F(MpscLifetime, ThrowingConsumerKeepsTheRest) {
  auto [r, rx] = mpsc::channel<tracked>(4, 1);
  auto tx = r.make_sender();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(tx.try_emplace(i), status::ok);
  int calls = 0;
  EXPECT_THROW(rx.consume_all([&](tracked&) {
    if (++calls == 2) throw std::runtime_error("consumer");
  }),
               std::runtime_error);
  EXPECT_EQ(rx.try_recv()->value, 1);  // the throwing element stays, and what follows it
  EXPECT_EQ(rx.try_recv()->value, 2);
}

}  // namespace
