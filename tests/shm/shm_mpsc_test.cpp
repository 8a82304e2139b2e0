// tests/shm/shm_mpsc_test.cpp -- MPSC lanes in a shared-memory segment: attaching,
// per-producer FIFO, the end of the stream, lane limits, and crash recovery of either side
// (a producer that died holding a lane, one that died between claiming and publishing it,
// a receiver that died while a producer waited on a full lane).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::status;
using namespace std::chrono_literals;

struct msg {
  std::uint32_t producer;
  std::uint32_t check;
  std::uint64_t seq;
};
msg make(std::uint32_t p, std::uint64_t seq) {
  return msg{p, static_cast<std::uint32_t>(seq * 2654435761u) ^ p, seq};
}
bool intact(const msg& m) { return m.check == (static_cast<std::uint32_t>(m.seq * 2654435761u) ^ m.producer); }

using ShmMpsc = shm_test::named;

// A pid that is certainly dead: a child that exited and was reaped.
pid_t dead_pid() {
  const pid_t p = shm_test::spawn([] { return 0; });
  EXPECT_EQ(shm_test::wait_child(p), 0);
  return p;
}

TEST_F(ShmMpsc, AttachChecksKindTypeAndSides) {
  auto seg = shm::segment::create(name("kinds"), shm::mpsc_spec<msg>(64, 4));
  EXPECT_EQ(seg.kind(), shm::channel_kind::mpsc);
  EXPECT_EQ(seg.info().endpoints, 4u);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::attach_sender<std::uint64_t>(seg); }), errc::shm_type_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::spsc::attach_sender<msg>(seg); }), errc::shm_kind_mismatch);
  // Opening checks the kind, the element type and the lane count.
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(seg.name(), shm::spsc_spec<msg>()); }),
            errc::shm_kind_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(seg.name(), shm::mpsc_spec<std::uint32_t>()); }),
            errc::shm_type_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(seg.name(), shm::mpsc_spec<msg>(64, 8)); }),
            errc::shm_capacity_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(seg.name(), shm::mpsc_spec<msg>(64, 4)); }),
            std::nullopt);
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::attach_receiver<msg>(seg); }), errc::shm_already_attached);
  // Specs that cannot exist are refused before any system call.
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment_footprint(shm::mpsc_spec<msg>(64, 0), 0); }),
            errc::invalid_options);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment_footprint(shm::mpsc_spec<msg>(0, 2), 0); }),
            errc::invalid_capacity);
}

TEST_F(ShmMpsc, ThreeThreadsKeepTheirOrderAndTheStreamEndsWhenProducersClose) {
  constexpr std::uint64_t per = 50'000;
  auto seg = shm::segment::create(name("threads"), shm::mpsc_spec<msg>(256, 4));
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  std::vector<std::thread> producers;
  for (std::uint32_t p = 0; p < 3; ++p)
    producers.emplace_back([&seg, p] {
      auto tx = shm::mpsc::attach_sender<msg>(seg);
      for (std::uint64_t i = 0; i < per; ++i) ASSERT_EQ(tx.send(make(p, i)), status::ok);
    });
  std::vector<std::uint64_t> next(3, 0);
  std::uint64_t got = 0;
  while (got < 3 * per) {
    auto r = rx.recv_for(10s);
    ASSERT_TRUE(r) << "stalled after " << got;
    ASSERT_LT(r->producer, 3u);
    ASSERT_TRUE(intact(*r));
    ASSERT_EQ(r->seq, next[r->producer]++) << "producer " << r->producer;
    ++got;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // the segment's registrar keeps it open
  EXPECT_TRUE(shm::mpsc::close_producers(seg));
  EXPECT_FALSE(shm::mpsc::close_producers(seg));
  EXPECT_EQ(rx.recv_for(5s).status(), status::closed);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::attach_sender<msg>(seg); }), errc::invalid_options);
}

TEST_F(ShmMpsc, LanesAreLimitedAndRecycledOnceDrained) {
  auto seg = shm::segment::create(name("lanes"), shm::mpsc_spec<msg>(8, 2));
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  auto a = shm::mpsc::attach_sender<msg>(seg);
  auto b = shm::mpsc::attach_sender<msg>(seg);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::attach_sender<msg>(seg); }), errc::too_many_producers);
  ASSERT_EQ(a.try_send(make(0, 0)), status::ok);
  a.close();  // its message is still queued: the lane is not free yet
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::attach_sender<msg>(seg); }), errc::too_many_producers);
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq, 0u);
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // drained: the receiver recycled the lane
  auto c = shm::mpsc::attach_sender<msg>(seg);
  ASSERT_EQ(c.try_send(make(2, 0)), status::ok);
  r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->producer, 2u);
}

// A producer process that dies holding its lane (no destructor runs): everything it sent
// is delivered, reap() closes the lane, which is then recycled.
TEST_F(ShmMpsc, ReapClosesTheLaneOfADeadProducer) {
  const auto n = name("deadtx");
  auto seg = shm::segment::create(n, shm::mpsc_spec<msg>(256, 2));
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, shm::mpsc_spec<msg>());
    auto tx = shm::mpsc::attach_sender<msg>(s);
    for (std::uint64_t i = 0; i < 100; ++i)
      if (tx.send(make(7, i)) != status::ok) return 10;
    std::_Exit(0);  // dies without detaching: its claim stays
  });
  ASSERT_EQ(shm_test::wait_child(child), 0);
  const auto rep = shm::mpsc::reap(seg);
  EXPECT_EQ(rep.lanes, 1u);
  EXPECT_EQ(rep.receiver_pid, 0u);
  EXPECT_FALSE(shm::mpsc::reap(seg));  // nothing left to reap
  auto live = shm::mpsc::attach_sender<msg>(seg);  // the other lane: the dead one is not drained
  EXPECT_FALSE(shm::mpsc::reap(seg));              // a live producer is never reaped
  for (std::uint64_t i = 0; i < 100; ++i) {
    auto r = rx.try_recv();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->producer, 7u);
    EXPECT_EQ(r->seq, i);
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  live.close();
  auto again = shm::mpsc::attach_sender<msg>(seg);  // both lanes free again
  auto more = shm::mpsc::attach_sender<msg>(seg);
  EXPECT_EQ(again.try_send(make(1, 0)), status::ok);
}

// attach_sender takes over a dead producer's lane by itself: it closes it for the receiver
// and, not drained yet, moves on to the next lane.
TEST_F(ShmMpsc, AttachTakesOverTheClaimOfADeadProducer) {
  auto seg = shm::segment::create_anonymous(shm::mpsc_spec<msg>(16, 2));
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  const pid_t child = shm_test::spawn([&] {
    auto tx = shm::mpsc::attach_sender<msg>(seg);  // inherited mapping, lane 0
    for (std::uint64_t i = 0; i < 5; ++i)
      if (tx.try_send(make(9, i)) != status::ok) return 10;
    std::_Exit(0);
  });
  ASSERT_EQ(shm_test::wait_child(child), 0);
  auto tx = shm::mpsc::attach_sender<msg>(seg);  // closes lane 0, takes lane 1
  ASSERT_EQ(tx.try_send(make(1, 0)), status::ok);
  EXPECT_FALSE(shm::mpsc::reap(seg));  // already done by the attach
  std::uint64_t from_dead = 0, from_live = 0;
  while (auto r = rx.try_recv()) (r->producer == 9 ? from_dead : from_live) += 1;
  EXPECT_EQ(from_dead, 5u);
  EXPECT_EQ(from_live, 1u);
  auto third = shm::mpsc::attach_sender<msg>(seg);  // lane 0, drained and recycled
  EXPECT_EQ(third.try_send(make(2, 0)), status::ok);
}

// A process that died between claiming a lane's descriptor and publishing it: the next
// attach (which takes over the dead claim) finishes the lane and uses it.
TEST_F(ShmMpsc, AttachFinishesALaneLeftClaimedByADeadProcess) {
  auto seg = shm::segment::create_anonymous(shm::mpsc_spec<msg>(16, 1));
  auto map = seg.share();
  auto& l = *shm::detail::channel_of<ringwire::mpsc::layout<>>(map);
  // Forge the dead process's state: its claim word and a descriptor in `claimed`.
  shm::endpoint_claim(map.get()->base, seg.info(), 0).store(shm::claim_word(static_cast<std::uint32_t>(dead_pid()), 0));
  l.lane_descriptor(0).state.store(ringwire::mpsc::lane_state(1, ringwire::mpsc::lane_claimed));
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  auto tx = shm::mpsc::attach_sender<msg>(seg);  // the only lane
  ASSERT_EQ(tx.try_send(make(3, 0)), status::ok);
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->producer, 3u);
  EXPECT_EQ(ringwire::mpsc::lane_kind(l.lane_descriptor(0).state.load()), ringwire::mpsc::lane_owned);
}

// A live peer rewrites the lanes' geometry block after the receiver attached: the receiver
// walks the lanes with the geometry it copied (a larger max_producers would index past its
// per-lane views, a moved lanes_offset would find no lane), and a later attach refuses the
// channel (fuzz/mpsc_live_fuzz.cpp scribbles like this between calls).
TEST_F(ShmMpsc, ARewrittenGeometryCannotMisdirectTheReceiver) {
  auto seg = shm::segment::create_anonymous(shm::mpsc_spec<msg>(16, 2));
  auto map = seg.share();
  auto& l = *shm::detail::channel_of<ringwire::mpsc::layout<>>(map);
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  auto tx = shm::mpsc::attach_sender<msg>(seg);
  ASSERT_EQ(tx.try_send(make(1, 7)), status::ok);
  l.geometry.max_producers = 4096;
  l.geometry.lanes_offset += l.geometry.lane_stride;
  auto r = rx.try_recv();  // the receiver discovers the lane only now
  ASSERT_TRUE(r) << ringwire::to_string(r.status());
  EXPECT_EQ(r->seq, 7u);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::attach_sender<msg>(seg); }), errc::shm_corrupt);
}

// A formatted lane whose ring a live peer rewrote (here its slot count): no sender is
// given it (the sender would copy the geometry), and the receiver neither reads it nor
// takes it for a new lane again and again (recv_for looped for ever on it, found by
// fuzz/mpsc_live_fuzz.cpp).
TEST_F(ShmMpsc, ALaneWithARewrittenRingIsNeitherHandedOutNorRead) {
  auto seg = shm::segment::create_anonymous(shm::mpsc_spec<msg>(16, 1));
  auto map = seg.share();
  auto& l = *shm::detail::channel_of<ringwire::mpsc::layout<>>(map);
  auto rx = shm::mpsc::attach_receiver<msg>(seg);
  shm::mpsc::attach_sender<msg>(seg).close();  // formats lane 0, then leaves it
  l.lane_ring(0).geometry.slot_count = std::uint64_t{1} << 40;
  EXPECT_EQ(rx.recv_for(1ms).status(), status::timed_out);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::mpsc::attach_sender<msg>(seg); }), errc::too_many_producers);
}

// A receiver process that dies while a producer waits on a full lane: reap() closes the
// channel for the producer (no wait for ever); a new receiver resumes with the queue.
TEST_F(ShmMpsc, ReapReleasesAProducerBlockedOnADeadReceiver) {
  const auto n = name("deadrx");
  auto seg = shm::segment::create(n, shm::mpsc_spec<msg>(4, 2));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, shm::mpsc_spec<msg>());
    auto rx = shm::mpsc::attach_receiver<msg>(s);
    (void)!::write(ready[1], "r", 1);
    ::pause();  // killed
    return 0;
  });
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  auto tx = shm::mpsc::attach_sender<msg>(seg);
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(tx.try_send(make(0, i)), status::ok);
  std::atomic<int> blocked_result{-1};
  std::thread t([&] { blocked_result = static_cast<int>(tx.send(make(0, 4))); });  // full: waits
  ::kill(child, SIGKILL);
  EXPECT_EQ(shm_test::wait_child(child), 128 + SIGKILL);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(blocked_result.load(), -1);  // still waiting: nobody reaped yet
  const auto rep = shm::mpsc::reap(seg);
  EXPECT_EQ(rep.receiver_pid, static_cast<std::uint32_t>(child));
  t.join();
  EXPECT_EQ(blocked_result.load(), static_cast<int>(status::closed));
  tx.close();
  auto rx = shm::mpsc::attach_receiver<msg>(seg);  // resumes: the four queued messages
  for (std::uint64_t i = 0; i < 4; ++i) {
    auto r = rx.try_recv();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->seq, i);
  }
  auto tx2 = shm::mpsc::attach_sender<msg>(seg);
  EXPECT_EQ(tx2.try_send(make(1, 0)), status::ok);  // open again for producers
  ::close(ready[0]);
  ::close(ready[1]);
}

}  // namespace
