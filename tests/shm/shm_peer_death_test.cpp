// tests/shm/shm_peer_death_test.cpp -- a waiting call on a shared-memory endpoint notices
// by itself that the process at the other side died (wait.hpp, "Peer check").
//
// For every kind and every waiting call (receive, send on a full ring, publish under
// backpressure), a forked peer attaches the other side and is killed with SIGKILL while the
// parent waits -- parked in the futex, and spinning -- with a timeout far longer than the
// check interval. Nobody calls reap(): the wait itself must find the dead peer, reap it and
// end as the peer's clean detach would (closed; a publisher blocked by a dead subscriber
// carries on), not time out. shm::reaped_endpoints() tells the crash from a clean detach,
// which each test also runs.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/shm.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;
using ringwire::wait_strategy;

constexpr auto check_every = std::chrono::milliseconds(100);
// What a wait lasts if nothing notices the dead peer: it then reports timed_out.
constexpr auto long_wait = std::chrono::seconds(5);
// How long the peer lives after attaching: the parent is waiting by then.
constexpr auto peer_life = std::chrono::milliseconds(200);

enum class ending { crash, detach };

struct one_case {
  wait_strategy ws;
  ending how;
  const char* what;
};

// Parked and spinning waits on a peer that crashes, and a parked one on a peer that detaches.
// every_strategy adds busy_spin and backoff: each loop of wait.hpp checks on its own.
std::vector<one_case> cases(bool every_strategy = false) {
  std::vector<one_case> c{{wait_strategy::park(64).with_peer_check(check_every), ending::crash, "parked, crash"},
                          {wait_strategy::spin_then_yield(64).with_peer_check(check_every), ending::crash,
                           "spin_then_yield, crash"},
                          {wait_strategy::park(64).with_peer_check(check_every), ending::detach, "parked, detach"}};
  if (every_strategy) {
    c.push_back({wait_strategy::busy_spin().with_peer_check(check_every), ending::crash, "busy_spin, crash"});
    c.push_back({wait_strategy::backoff(64).with_peer_check(check_every), ending::crash, "backoff, crash"});
  }
  return c;
}

// Forks the peer: attach() makes its endpoint, kept while it lives; it signals, lives
// peer_life, then dies by SIGKILL (crash) or returns, detaching its endpoint (detach).
template <class Attach>
pid_t start_peer(ending how, Attach attach) {
  shm_test::ready_pipe ready;
  const pid_t pid = shm_test::spawn(
      [&] {
        auto endpoint = attach();
        ready.signal();
        std::this_thread::sleep_for(peer_life);
        if (how == ending::crash) ::kill(::getpid(), SIGKILL);
        return 0;
      },
      30);
  EXPECT_TRUE(ready.wait());
  return pid;
}

// Runs wait() in this process while a peer made by attach() ends `how`; checks how the peer
// ended and that the segment counts a crash, and only a crash, as reaped. wait()'s result.
template <class Attach, class Wait>
auto wait_on_peer(const shm::segment& seg, ending how, Attach attach, Wait wait) {
  const std::uint32_t before = shm::reaped_endpoints(seg);
  const pid_t pid = start_peer(how, attach);
  const auto result = wait();
  EXPECT_EQ(shm_test::wait_child(pid), how == ending::crash ? 128 + SIGKILL : 0);
  EXPECT_EQ(shm::reaped_endpoints(seg) - before, how == ending::crash ? 1u : 0u)
      << "reaped_endpoints must count the crash, and a clean detach not";
  return result;
}

const std::array<std::byte, 64> payload{};

// ---- spsc --------------------------------------------------------------------------------

TEST(ShmPeerDeath, SpscReceiverSeesItsSenderDie) {
  for (const one_case& c : cases(true)) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(16));
    auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg, {.receiver_wait = c.ws});
    const status end = wait_on_peer(
        seg, c.how, [&] { return shm::spsc::attach_sender<std::uint64_t>(seg); },
        [&] { return rx.recv_for(long_wait).status(); });
    EXPECT_EQ(end, status::closed) << "timed_out: the dead sender went unnoticed";
  }
}

TEST(ShmPeerDeath, SpscSenderOnAFullRingSeesItsReceiverDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(16));
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg, {.sender_wait = c.ws});
    for (std::uint64_t i = 0; i < 16; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
    const status end = wait_on_peer(
        seg, c.how, [&] { return shm::spsc::attach_receiver<std::uint64_t>(seg); },
        [&] { return tx.send_for(std::uint64_t{16}, long_wait); });
    EXPECT_EQ(end, status::closed);
  }
}

// ---- mpsc --------------------------------------------------------------------------------

// The receiver reaps the dead producer's lane; with the producers closed (close_producers)
// that lane was the last, so the stream ends.
TEST(ShmPeerDeath, MpscReceiverSeesItsLastSenderDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(shm::mpsc_spec<std::uint64_t>(16, 2));
    auto rx = shm::mpsc::attach_receiver<std::uint64_t>(seg, {.receiver_wait = c.ws});
    const status end = wait_on_peer(
        seg, c.how,
        [&] {
          auto tx = shm::mpsc::attach_sender<std::uint64_t>(seg);
          shm::mpsc::close_producers(seg);
          return tx;
        },
        [&] { return rx.recv_for(long_wait).status(); });
    EXPECT_EQ(end, status::closed);
  }
}

TEST(ShmPeerDeath, MpscSenderOnAFullLaneSeesItsReceiverDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(shm::mpsc_spec<std::uint64_t>(16, 2));
    auto tx = shm::mpsc::attach_sender<std::uint64_t>(seg, {.sender_wait = c.ws});
    for (std::uint64_t i = 0; i < 16; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
    const status end = wait_on_peer(
        seg, c.how, [&] { return shm::mpsc::attach_receiver<std::uint64_t>(seg); },
        [&] { return tx.send_for(std::uint64_t{16}, long_wait); });
    EXPECT_EQ(end, status::closed);
  }
}

// ---- broadcast ---------------------------------------------------------------------------

TEST(ShmPeerDeath, BroadcastSubscriberSeesItsPublisherDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(
        shm::broadcast_spec<std::uint64_t>(16, 2, ringwire::broadcast::policy::lossless));
    auto sub = shm::broadcast::attach_subscriber<std::uint64_t>(seg, {.receiver_wait = c.ws});
    const status end = wait_on_peer(
        seg, c.how, [&] { return shm::broadcast::attach_publisher<std::uint64_t>(seg); },
        [&] { return sub.recv_for(long_wait).status(); });
    EXPECT_EQ(end, status::closed);
  }
}

// A lossless publisher held back by a subscriber that dies reaps it and publishes (the
// subscriber's clean detach does the same).
TEST(ShmPeerDeath, LosslessPublisherSeesItsSlowSubscriberDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(
        shm::broadcast_spec<std::uint64_t>(16, 2, ringwire::broadcast::policy::lossless));
    auto pub = shm::broadcast::attach_publisher<std::uint64_t>(seg, {.sender_wait = c.ws});
    const status end = wait_on_peer(
        seg, c.how, [&] { return shm::broadcast::attach_subscriber<std::uint64_t>(seg); },
        [&] {
          std::uint64_t n = 0;
          while (pub.try_send(n) == status::ok) ++n;  // up to the subscriber's cursor
          return pub.send_for(n, long_wait);
        });
    EXPECT_EQ(end, status::ok) << "timed_out: the dead subscriber still holds the publisher back";
  }
}

// ---- byte ring ---------------------------------------------------------------------------

namespace br = shm::byte_ring;
using ringwire::byte_ring::ring_kind;

TEST(ShmPeerDeath, ByteRingReaderSeesItsWriterDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(256));
    auto rx = br::attach_reader(seg, {.receiver_wait = c.ws});
    const status end = wait_on_peer(
        seg, c.how, [&] { return br::attach_writer(seg); },
        [&] {
          ringwire::byte_ring::record_view r;
          return rx.read_for(r, long_wait);
        });
    EXPECT_EQ(end, status::closed);
  }
}

// A one-to-one writer and a many-to-one (shared) writer, each on a full ring.
TEST(ShmPeerDeath, ByteRingWritersOnAFullRingSeeTheirReaderDie) {
  for (const ring_kind kind : {ring_kind::one_to_one, ring_kind::many_to_one}) {
    for (const one_case& c : cases()) {
      SCOPED_TRACE(std::string(c.what) + (kind == ring_kind::one_to_one ? ", one-to-one" : ", many-to-one"));
      auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(256, kind, 2));
      const auto wait_for_reader = [&](auto& w) {
        return wait_on_peer(
            seg, c.how, [&] { return br::attach_reader(seg); },
            [&] {
              while (w.try_write(1, payload) == status::ok) {
              }
              return w.write_for(1, payload, long_wait);
            });
      };
      status end = status::ok;
      if (kind == ring_kind::one_to_one) {
        auto w = br::attach_writer(seg, {.sender_wait = c.ws});
        end = wait_for_reader(w);
      } else {
        auto w = br::attach_shared_writer(seg, {.sender_wait = c.ws});
        end = wait_for_reader(w);
      }
      EXPECT_EQ(end, status::closed);
    }
  }
}

// The many-to-one reader reaps the dead writer's count; with the writers closed
// (close_writers) it was the last, so the stream ends.
TEST(ShmPeerDeath, ManyToOneReaderSeesItsLastWriterDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(256, ring_kind::many_to_one, 2));
    auto rx = br::attach_reader(seg, {.receiver_wait = c.ws});
    const status end = wait_on_peer(
        seg, c.how,
        [&] {
          auto w = br::attach_shared_writer(seg);
          br::close_writers(seg);
          return w;
        },
        [&] {
          ringwire::byte_ring::record_view r;
          return rx.read_for(r, long_wait);
        });
    EXPECT_EQ(end, status::closed);
  }
}

// ---- byte broadcast ----------------------------------------------------------------------

namespace bb = shm::byte_broadcast;

shm::segment byte_broadcast_segment() {
  return shm::segment::create_anonymous(shm::byte_broadcast_spec({.depth = 64, .region_bytes = 4096,
                                                                  .max_message = 512, .max_credited = 2}));
}

TEST(ShmPeerDeath, ByteBroadcastReadersSeeTheirWriterDie) {
  for (const bool credited : {true, false}) {
    for (const one_case& c : cases()) {
      SCOPED_TRACE(std::string(c.what) + (credited ? ", credited reader" : ", lossy reader"));
      auto seg = byte_broadcast_segment();
      std::array<std::byte, 512> buf{};
      const auto wait_for_writer = [&](auto& rd) {
        rd.set_wait(c.ws);
        return wait_on_peer(
            seg, c.how, [&] { return bb::attach_writer(seg); },
            [&] { return rd.read_for(buf, long_wait).status(); });
      };
      status end = status::empty;
      if (credited) {
        auto rd = bb::attach_credited_reader(seg);
        end = wait_for_writer(rd);
      } else {
        auto rd = bb::attach_reader(seg);
        end = wait_for_writer(rd);
      }
      EXPECT_EQ(end, status::closed) << "timed_out: the read timed out on a dead writer";
    }
  }
}

// A writer out of credits because a credited reader died reaps it and publishes.
TEST(ShmPeerDeath, CreditedWriterSeesItsSlowReaderDie) {
  for (const one_case& c : cases()) {
    SCOPED_TRACE(c.what);
    auto seg = byte_broadcast_segment();
    auto w = bb::attach_writer(seg);
    w.set_wait(c.ws);
    const status end = wait_on_peer(
        seg, c.how, [&] { return bb::attach_credited_reader(seg); },
        [&] {
          while (w.try_write(1, payload) == status::ok) {
          }
          return w.write_for(1, payload, long_wait);
        });
    EXPECT_EQ(end, status::ok) << "timed_out: the dead reader's credits still hold the writer back";
  }
}

// A peer check of zero never looks: the wait then lasts until its deadline (or a reap by
// someone else), as before the check existed.
TEST(ShmPeerDeath, AZeroIntervalTurnsTheCheckOff) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(16));
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(
      seg, {.receiver_wait = wait_strategy::park(64).with_peer_check(std::chrono::nanoseconds(0))});
  const pid_t pid = start_peer(ending::crash, [&] { return shm::spsc::attach_sender<std::uint64_t>(seg); });
  EXPECT_EQ(shm_test::wait_child(pid), 128 + SIGKILL);
  EXPECT_EQ(rx.recv_for(std::chrono::milliseconds(300)).status(), status::timed_out);
  EXPECT_EQ(shm::reaped_endpoints(seg), 0u);
  EXPECT_EQ(shm::spsc::reap(seg).sender_pid, static_cast<std::uint32_t>(pid));
  EXPECT_EQ(shm::reaped_endpoints(seg), 1u) << "reap() counts too";
  EXPECT_EQ(rx.recv_for(long_wait).status(), status::closed);
}

}  // namespace
