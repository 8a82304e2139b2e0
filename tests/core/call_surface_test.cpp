// tests/core/call_surface_test.cpp -- the one call surface of every typed endpoint.
//
// Every typed endpoint satisfies ringwire::sender_of / receiver_of (concepts.hpp): asserted
// below for each family, the bus's topic endpoints and a move-only T included. The typed
// test then drives the calls detail::send_calls / recv_calls derive (call_surface.hpp) on
// every family the same way and checks what each returns: send in every form, emplace,
// send_with, send_batch; recv in every form; timed_out on an expired deadline, cancelled
// on a stopped token, closed after the last message. A family whose derived call were
// wired to the wrong primitive (or a limit dropped on the way) fails here.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringwire/concepts.hpp"
#include "ringwire/ringwire.hpp"

namespace {

using namespace std::chrono_literals;
using ringwire::receiver_of;
using ringwire::sender_of;
using ringwire::status;

using u64 = std::uint64_t;
using move_only = std::unique_ptr<int>;

// ---- every endpoint satisfies the concepts ----------------------------------------------
static_assert(sender_of<ringwire::spsc::sender<u64>, u64>);
static_assert(sender_of<ringwire::spsc::sender<move_only>, move_only>);
static_assert(receiver_of<ringwire::spsc::receiver<u64>, u64>);
static_assert(receiver_of<ringwire::spsc::receiver<move_only>, move_only>);
static_assert(sender_of<ringwire::spsc::line_sender<u64>, u64>);
static_assert(sender_of<ringwire::spsc::line_sender<move_only>, move_only>);
static_assert(receiver_of<ringwire::spsc::line_receiver<u64>, u64>);
static_assert(receiver_of<ringwire::mpsc::receiver<u64>, u64>);
static_assert(receiver_of<ringwire::mpsc::receiver<move_only>, move_only>);
static_assert(sender_of<ringwire::mpsc::registrar<u64>::sender_type, u64>);
static_assert(sender_of<ringwire::mpmc::sender<u64>, u64>);
static_assert(sender_of<ringwire::mpmc::sender<move_only>, move_only>);
static_assert(receiver_of<ringwire::mpmc::receiver<u64>, u64>);
static_assert(receiver_of<ringwire::mpmc::receiver<move_only>, move_only>);
static_assert(sender_of<ringwire::broadcast::publisher<u64>, u64>);
static_assert(sender_of<ringwire::broadcast::shared_publisher<u64>, u64>);
static_assert(receiver_of<ringwire::broadcast::subscriber<u64>, u64>);
static_assert(sender_of<ringwire::topic_publisher<u64>, u64>);
static_assert(sender_of<ringwire::topic_shared_publisher<u64>, u64>);
static_assert(receiver_of<ringwire::topic_subscriber<u64>, u64>);
// A receiver of one T is not a receiver of another, nor a sender.
static_assert(!receiver_of<ringwire::spsc::receiver<u64>, int>);
static_assert(!sender_of<ringwire::spsc::receiver<u64>, u64>);
static_assert(!receiver_of<ringwire::broadcast::publisher<u64>, u64>);

// ---- one fixture per family: a sender, a receiver, and a way to fill the channel -------
// capacity 4 everywhere. `lossy` families never report full: their send never waits.
struct spsc_family {
  static constexpr bool lossy = false;
  std::pair<ringwire::spsc::sender<u64>, ringwire::spsc::receiver<u64>> ch = ringwire::spsc::channel<u64>(4);
  auto& tx() { return ch.first; }
  auto& rx() { return ch.second; }
};
struct line_family {
  static constexpr bool lossy = false;
  std::pair<ringwire::spsc::line_sender<u64>, ringwire::spsc::line_receiver<u64>> ch =
      ringwire::spsc::line_channel<u64>(4);
  auto& tx() { return ch.first; }
  auto& rx() { return ch.second; }
};
struct mpsc_family {
  static constexpr bool lossy = false;
  std::pair<ringwire::mpsc::registrar<u64>, ringwire::mpsc::receiver<u64>> ch = ringwire::mpsc::channel<u64>(4, 2);
  ringwire::mpsc::registrar<u64>::sender_type lane = ch.first.make_sender();
  auto& tx() { return lane; }
  auto& rx() { return ch.second; }
  // The receiver sees closed once every lane and the registrar are gone.
  void close_sending() {
    lane.close();
    ch.first.close();
  }
};
struct mpmc_family {
  static constexpr bool lossy = false;
  std::pair<ringwire::mpmc::sender<u64>, ringwire::mpmc::receiver<u64>> ch = ringwire::mpmc::channel<u64>(4);
  auto& tx() { return ch.first; }
  auto& rx() { return ch.second; }
};
template <ringwire::broadcast::policy P>
struct broadcast_family {
  static constexpr bool lossy = P == ringwire::broadcast::policy::lossy;
  static ringwire::broadcast::options opts() {
    ringwire::broadcast::options o;
    o.policy = P;
    return o;
  }
  std::pair<ringwire::broadcast::publisher<u64>, ringwire::broadcast::hub<u64>> ch =
      ringwire::broadcast::channel<u64>(4, opts());
  ringwire::broadcast::subscriber<u64> sub = ch.second.subscribe();
  auto& tx() { return ch.first; }
  auto& rx() { return sub; }
};
template <ringwire::broadcast::policy P>
struct shared_broadcast_family {
  static constexpr bool lossy = P == ringwire::broadcast::policy::lossy;
  std::pair<ringwire::broadcast::shared_publisher<u64>, ringwire::broadcast::hub<u64>> ch =
      ringwire::broadcast::mpmc_channel<u64>(4, broadcast_family<P>::opts());
  ringwire::broadcast::subscriber<u64> sub = ch.second.subscribe();
  auto& tx() { return ch.first; }
  auto& rx() { return sub; }
};

template <class F>
class call_surface : public ::testing::Test {};
using families = ::testing::Types<spsc_family, line_family, mpsc_family, mpmc_family,
                                  broadcast_family<ringwire::broadcast::policy::lossless>,
                                  broadcast_family<ringwire::broadcast::policy::lossy>,
                                  shared_broadcast_family<ringwire::broadcast::policy::lossless>,
                                  shared_broadcast_family<ringwire::broadcast::policy::lossy>>;
TYPED_TEST_SUITE(call_surface, families);

// Every form of send puts its value in, in order, and every form of recv takes one out.
TYPED_TEST(call_surface, every_form_sends_and_receives_in_order) {
  TypeParam f;
  std::stop_source keep;  // never stopped
  const u64 one = 1;
  ASSERT_EQ(f.tx().send(one), status::ok);             // const T&
  ASSERT_EQ(f.tx().send(u64{2}), status::ok);          // T&&
  ASSERT_EQ(f.tx().send(u64{3}, keep.get_token()), status::ok);
  ASSERT_EQ(f.tx().send_for(u64{4}, 10s), status::ok);
  auto r = f.rx().recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1u);
  r = f.rx().recv(keep.get_token());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2u);
  r = f.rx().recv_for(10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 3u);
  r = f.rx().recv_until(std::chrono::steady_clock::now() + 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 4u);

  ASSERT_EQ(f.tx().send_until(u64{5}, std::chrono::steady_clock::now() + 10s), status::ok);
  ASSERT_EQ(f.tx().emplace(6u), status::ok);  // built from an unsigned, not a u64
  ASSERT_EQ(f.tx().send_with([](u64& v) { v = 7; }), status::ok);
  EXPECT_EQ(*f.rx().recv(), 5u);
  EXPECT_EQ(*f.rx().recv(), 6u);
  EXPECT_EQ(*f.rx().recv(), 7u);

  const std::vector<u64> batch{8, 9, 10};
  EXPECT_EQ(f.tx().send_batch(batch), 3u);
  for (u64 want = 8; want <= 10; ++want) EXPECT_EQ(*f.rx().recv(), want);
  EXPECT_EQ(f.rx().try_recv().status(), status::empty);
}

// The limits reach the wait: an expired deadline says timed_out and a stopped token
// cancelled, on both sides, without taking or putting anything.
TYPED_TEST(call_surface, limits_reach_the_wait) {
  TypeParam f;
  std::stop_source stopped;
  stopped.request_stop();
  const auto past = std::chrono::steady_clock::now() - 1s;
  EXPECT_EQ(f.rx().recv_for(0ms).status(), status::timed_out);
  EXPECT_EQ(f.rx().recv_for(-5s).status(), status::timed_out);
  EXPECT_EQ(f.rx().recv_until(past).status(), status::timed_out);
  EXPECT_EQ(f.rx().recv(stopped.get_token()).status(), status::cancelled);

  if constexpr (!TypeParam::lossy) {
    u64 n = 0;
    while (f.tx().try_send(n) == status::ok) ++n;  // full
    ASSERT_GE(n, 4u);
    EXPECT_EQ(f.tx().send_for(u64{99}, 0ms), status::timed_out);
    EXPECT_EQ(f.tx().send_until(u64{99}, past), status::timed_out);
    EXPECT_EQ(f.tx().send(u64{99}, stopped.get_token()), status::cancelled);
    const std::vector<u64> more{99, 99};
    EXPECT_EQ(f.tx().send_batch(more, stopped.get_token()), 0u);
    for (u64 want = 0; want < n; ++want) {
      auto r = f.rx().try_recv();
      ASSERT_TRUE(r) << want;
      EXPECT_EQ(*r, want);  // nothing of the refused sends went in
    }
  } else {
    // Lossy: a send never waits, so even an expired deadline or a stopped token sends.
    EXPECT_EQ(f.tx().send_for(u64{1}, 0ms), status::ok);
    EXPECT_EQ(f.tx().send(u64{2}, stopped.get_token()), status::ok);
    EXPECT_EQ(*f.rx().recv(), 1u);
    EXPECT_EQ(*f.rx().recv(), 2u);
  }
  EXPECT_EQ(f.rx().try_recv().status(), status::empty);
}

// After the sender closes, every form of recv drains what was sent, then says closed, and
// every form of send on the closed sender says closed.
TYPED_TEST(call_surface, close_reaches_every_form) {
  TypeParam f;
  ASSERT_EQ(f.tx().send(u64{1}), status::ok);
  if constexpr (requires { f.close_sending(); }) {
    f.close_sending();  // mpsc: the lane and the registrar
  } else {
    f.tx().close();
  }
  EXPECT_TRUE(f.tx().is_closed());
  EXPECT_EQ(f.tx().send(u64{2}), status::closed);
  EXPECT_EQ(f.tx().send_for(u64{2}, 10s), status::closed);
  EXPECT_EQ(f.tx().emplace(2u), status::closed);
  EXPECT_EQ(f.tx().send_with([](u64& v) { v = 2; }), status::closed);
  const std::vector<u64> batch{2, 3};
  EXPECT_EQ(f.tx().send_batch(batch), 0u);
  EXPECT_EQ(*f.rx().recv_for(10s), 1u);
  EXPECT_EQ(f.rx().recv().status(), status::closed);
  EXPECT_EQ(f.rx().recv_for(10s).status(), status::closed);
  EXPECT_EQ(f.rx().recv_until(std::chrono::steady_clock::now() + 10s).status(), status::closed);
}

// A move-only T goes through the derived calls by move; a refused send leaves it with the
// caller (status.hpp's promise), here through send_for's timeout.
TEST(call_surface_move_only, refused_send_leaves_the_value) {
  auto [tx, rx] = ringwire::spsc::channel<move_only>(1);
  ASSERT_EQ(tx.send(std::make_unique<int>(1)), status::ok);
  auto v = std::make_unique<int>(2);
  EXPECT_EQ(tx.send_for(std::move(v), 0ms), status::timed_out);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 2);
  EXPECT_EQ(**rx.recv(), 1);
  EXPECT_EQ(tx.send_for(std::move(v), 10s), status::ok);
  EXPECT_EQ(v, nullptr);
  EXPECT_EQ(**rx.recv(), 2);
  EXPECT_EQ(tx.emplace(new int(3)), status::ok);  // unique_ptr built in the slot
  EXPECT_EQ(**rx.recv(), 3);
}

}  // namespace
