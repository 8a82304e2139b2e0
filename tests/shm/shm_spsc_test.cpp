// tests/shm/shm_spsc_test.cpp -- the SPSC channel in a segment: the same sender/receiver
// types as in-process, exact capacity and FIFO order across the 2^64 wrap, one attach per
// side (a second is an error; re-attach after a clean detach carries on with what is
// queued), close semantics in both directions, monitors, and between two processes: a
// parked receiver and a parked sender in another process are woken (no lost wake-up).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>
#include <type_traits>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::status;
using shm_test::error_of;

static_assert(std::is_same_v<decltype(shm::spsc::attach_sender<int>(std::declval<shm::segment&>())),
                             ringwire::spsc::sender<int>>,
              "an attached endpoint is the ordinary in-process endpoint type");
static_assert(std::is_same_v<decltype(shm::spsc::attach_receiver<int>(std::declval<shm::segment&>())),
                             ringwire::spsc::receiver<int>>);

struct frame {
  std::uint64_t seq;
  std::uint32_t len;
  std::array<char, 52> body;
};

shm::segment anonymous_u64(std::uint64_t cap, std::uint64_t start = 0) {
  auto spec = shm::spsc_spec<std::uint64_t>(cap);
  spec.start_index = start;
  return shm::segment::create_anonymous(spec);
}

// ---- in one process ---------------------------------------------------------------------

// A segment's endpoints use one wait family, fixed by the first (shm-layout.md, byte 140):
// a spin_sync side never wakes a parked std_sync peer, so mixing them is refused, never a
// silent hang. Monitors attach with either; a refused attach claims nothing.
TEST(ShmSpsc, OneWaitFamilyPerSegment) {
  using spin = ringwire::spin_sync;
  auto seg = anonymous_u64(16);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);  // std_sync: parking
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t, spin>(seg); }), errc::invalid_options);
  (void)shm::spsc::make_monitor<std::uint64_t, spin>(seg);
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);  // the refusal left the side free
  ASSERT_EQ(tx.try_send(5), status::ok);
  EXPECT_EQ(*rx.try_recv(), 5u);

  auto seg2 = anonymous_u64(16);
  (void)shm::spsc::make_monitor<std::uint64_t>(seg2);  // a monitor fixes nothing
  auto rx2 = shm::spsc::attach_receiver<std::uint64_t, spin>(seg2);
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(seg2); }), errc::invalid_options);
  auto tx2 = shm::spsc::attach_sender<std::uint64_t, spin>(seg2);
  ASSERT_EQ(tx2.try_send(6), status::ok);
  EXPECT_EQ(*rx2.try_recv(), 6u);

  // The other kinds check it the same way (one attach each).
  namespace sbr = shm::byte_ring;
  auto bseg = shm::segment::create_anonymous(shm::byte_ring_spec(4096, sbr::ring_kind::many_to_one, 2));
  auto brx = sbr::attach_reader<spin>(bseg);
  EXPECT_EQ(error_of([&] { (void)sbr::attach_shared_writer(bseg); }), errc::invalid_options);
  auto mseg = shm::segment::create_anonymous(shm::mpsc_spec<std::uint64_t>(16, 2));
  auto mrx = shm::mpsc::attach_receiver<std::uint64_t>(mseg);
  EXPECT_EQ(error_of([&] { (void)shm::mpsc::attach_sender<std::uint64_t, spin>(mseg); }), errc::invalid_options);
  auto cseg = shm::segment::create_anonymous(shm::broadcast_spec<std::uint64_t>(16, 2));
  auto pub = shm::broadcast::attach_publisher<std::uint64_t, spin>(cseg);
  EXPECT_EQ(error_of([&] { (void)shm::broadcast::attach_subscriber<std::uint64_t>(cseg); }), errc::invalid_options);
  (void)shm::broadcast::attach_observer<std::uint64_t>(cseg);  // never waits on a peer: either
  namespace bb = ringwire::byte_broadcast;
  auto yseg = shm::segment::create_anonymous(shm::byte_broadcast_spec(bb::geometry{16, 4096, 64, 1}));
  auto w = shm::byte_broadcast::attach_writer<spin>(yseg);
  EXPECT_EQ(error_of([&] { (void)shm::byte_broadcast::attach_reader(yseg); }), errc::invalid_options);
  EXPECT_EQ(error_of([&] { (void)shm::byte_broadcast::attach_credited_reader(yseg); }), errc::invalid_options);
}


TEST(ShmSpsc, ExactCapacityAndOrderAcrossTheIndexWrap) {
  for (const std::uint64_t cap : {1u, 3u, 64u, 100u}) {
    auto seg = anonymous_u64(cap, std::numeric_limits<std::uint64_t>::max() - 40);
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
    auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
    EXPECT_EQ(tx.capacity(), cap);
    std::uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 5; ++round) {
      std::uint64_t accepted = 0;
      while (tx.try_send(next_in) == status::ok) ++next_in, ++accepted;
      ASSERT_EQ(accepted, cap) << "cap " << cap;
      while (auto r = rx.try_recv()) ASSERT_EQ(*r, next_out++);
    }
    EXPECT_EQ(next_out, 5 * cap);
  }
}

TEST(ShmSpsc, BatchesAndZeroCopyWorkOnTheSegment) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<frame>(37));
  auto tx = shm::spsc::attach_sender<frame>(seg);
  auto rx = shm::spsc::attach_receiver<frame>(seg);
  std::uint64_t sent = 0, got = 0;
  for (int round = 0; round < 50; ++round) {
    std::vector<frame> batch(20);
    for (auto& f : batch) f = frame{sent++, 7, {}};
    const std::size_t in = tx.try_send_batch(batch);
    ASSERT_EQ(in, 20u);
    auto res = tx.reserve(5);
    for (std::size_t i = 0; i < res.size(); ++i) res.emplace_back(frame{sent++, 9, {}});
    res.commit();
    EXPECT_EQ(rx.consume([&](frame& f) { EXPECT_EQ(f.seq, got++); }, 10), 10u);
    auto span = rx.read_span();
    for (const frame& f : span) ASSERT_EQ(f.seq, got++);
    rx.release(span.size());
    std::vector<frame> out(64);
    const std::size_t n = rx.try_recv_batch(std::span<frame>(out));
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i].seq, got++);
  }
  EXPECT_EQ(got, sent);
  EXPECT_GT(sent, 50u * 20u);  // reserve() may offer fewer than 5 at the array's end
}

// A live peer with write access that rewrites the sender's index to something no sender
// could publish (the ring claims more than the slot array holds): the receiver must read no
// slot past the array (ASan checks the batch copy), report closed for good, and say why.
TEST(ShmSpsc, AnImpossibleTailFromAHostilePeerClosesTheReceiverWithoutReadingOutOfBounds) {
  for (const std::uint64_t forged_ahead : {65ull, 1000ull, 1ull << 40, ~0ull}) {
    auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(64));
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
    auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
    ASSERT_EQ(tx.try_send(7), status::ok);
    ASSERT_EQ(rx.try_recv().value(), 7u);
    auto map = seg.share();
    auto* ring = reinterpret_cast<ringwire::spsc::layout<>*>(map.get()->base + seg.info().channel_offset);
    const std::uint64_t head = ring->consumer.head.load();
    ring->producer.tail.store(head + forged_ahead);  // what a hostile process could write
    std::vector<std::uint64_t> out(1 << 12);
    EXPECT_EQ(rx.try_recv_batch(std::span<std::uint64_t>(out)), 0u) << forged_ahead;
    EXPECT_TRUE(rx.peer_corrupt());
    EXPECT_EQ(rx.try_recv().status(), status::closed);
    EXPECT_TRUE(rx.read_span().empty());
    EXPECT_EQ(rx.recv_for(std::chrono::milliseconds(1)).status(), status::closed);
    ring->producer.tail.store(head + 1);  // "repaired": the verdict stays
    EXPECT_EQ(rx.try_recv().status(), status::closed);
  }
}

// An honest distance (exactly the slot count) is not mistaken for corruption.
TEST(ShmSpsc, AFullRingIsNotCorrupt) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(64));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  for (std::uint64_t i = 0; i < 64; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  std::vector<std::uint64_t> out(200);
  EXPECT_EQ(rx.try_recv_batch(std::span<std::uint64_t>(out)), 64u);
  EXPECT_FALSE(rx.peer_corrupt());
  for (std::uint64_t i = 0; i < 64; ++i) EXPECT_EQ(out[i], i);
}

// The mirror image for the sender: a receiver's head that claims more than the capacity is
// queued (or a head ahead of the tail) would make the free room wrap to a huge number and a
// batch copy run past the slot array. The sender must write nothing, report closed for good
// and say why (found by fuzz/spsc_live_fuzz.cpp).
TEST(ShmSpsc, AnImpossibleHeadFromAHostilePeerClosesTheSenderWithoutWritingOutOfBounds) {
  for (const std::uint64_t forged : {1ull, 100ull, 1ull << 40}) {
    auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(64));
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
    auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
    std::vector<std::uint64_t> in(64, 9);
    ASSERT_EQ(tx.try_send_batch(std::span<const std::uint64_t>(in)), 64u);  // full: the next send refreshes
    auto map = seg.share();
    auto* ring = reinterpret_cast<ringwire::spsc::layout<>*>(map.get()->base + seg.info().channel_offset);
    ring->consumer.head.store(ring->producer.tail.load() + forged);  // ahead of the tail
    std::vector<std::uint64_t> big(1 << 12, 7);
    EXPECT_EQ(tx.try_send_batch(std::span<const std::uint64_t>(big)), 0u) << forged;
    EXPECT_TRUE(tx.peer_corrupt());
    EXPECT_TRUE(tx.is_closed());
    EXPECT_EQ(tx.try_send(1), status::closed);
    EXPECT_EQ(tx.reserve(4).status(), status::closed);
    EXPECT_EQ(tx.send_for(1, std::chrono::milliseconds(1)), status::closed);
    ring->consumer.head.store(ring->producer.tail.load());  // "repaired": the verdict stays
    EXPECT_EQ(tx.try_send(1), status::closed);
  }
}

// An attach over a ring whose indices are already impossible is refused.
TEST(ShmSpsc, AnAttachOverAForgedHeadIsRefused) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(64));
  auto map = seg.share();
  auto* ring = reinterpret_cast<ringwire::spsc::layout<>*>(map.get()->base + seg.info().channel_offset);
  shm::spsc::attach_sender<std::uint64_t>(seg).close();
  ring->consumer.head.store(ring->producer.tail.load() - 65);  // 65 queued in a ring of 64
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(seg); }), errc::shm_corrupt);
}

// The ring's geometry rewritten after this process opened the segment (its identity copy is
// private): a later attach must refuse it, not build an endpoint whose mask or slot offset
// points past the mapping (found by fuzz/spsc_live_fuzz.cpp).
TEST(ShmSpsc, AnAttachAfterAHostilePeerRewroteTheGeometryIsRefused) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(64));
  auto map = seg.share();
  auto* ring = reinterpret_cast<ringwire::spsc::layout<>*>(map.get()->base + seg.info().channel_offset);
  ring->geometry.slot_count = std::uint64_t{1} << 40;
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(seg); }), errc::shm_corrupt);
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_receiver<std::uint64_t>(seg); }), errc::shm_corrupt);
  ring->geometry.slot_count = 64;
  ring->geometry.slots_offset += std::uint64_t{1} << 30;
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(seg); }), errc::shm_corrupt);
}

TEST(ShmSpsc, EachSideAttachesOnceAtATimeAndReattachCarriesOn) {
  auto seg = anonymous_u64(8);
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(seg); }), errc::shm_already_attached);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_receiver<std::uint64_t>(seg); }), errc::shm_already_attached);
  // Another join of the same segment is refused too: the claim is in the segment.
  auto other = shm::segment::open_fd(seg.fd(), shm::spsc_spec<std::uint64_t>(8));
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(other); }), errc::shm_already_attached);

  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  tx = {};  // a clean detach: closes, releases the claim
  EXPECT_EQ(*rx.try_recv(), 0u);
  auto tx2 = shm::spsc::attach_sender<std::uint64_t>(other);  // from the other join
  for (std::uint64_t i = 5; i < 8; ++i) ASSERT_EQ(tx2.try_send(i), status::ok);
  for (std::uint64_t i = 1; i < 8; ++i) {
    auto r = rx.try_recv();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(*r, i);
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty);  // a sender is attached again: not closed

  // The receiver detaches with messages queued; a new receiver gets them, in order.
  ASSERT_EQ(tx2.try_send(100), status::ok);
  ASSERT_EQ(tx2.try_send(101), status::ok);
  rx = {};
  EXPECT_EQ(tx2.try_send(102), status::closed);
  EXPECT_TRUE(tx2.is_closed());
  auto rx2 = shm::spsc::attach_receiver<std::uint64_t>(seg);
  EXPECT_FALSE(tx2.is_closed());
  ASSERT_EQ(tx2.try_send(103), status::ok);
  for (std::uint64_t want : {100u, 101u, 103u}) EXPECT_EQ(*rx2.try_recv(), want);
}

TEST(ShmSpsc, ReceiverSeesClosedOnlyAfterDrainingADetachedSender) {
  auto seg = anonymous_u64(16);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  {
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(tx.send(i), status::ok);
  }
  for (std::uint64_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(rx.is_closed());
    auto r = rx.recv();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, i);
  }
  EXPECT_TRUE(rx.is_closed());
  EXPECT_EQ(rx.recv().status(), status::closed);
}

TEST(ShmSpsc, MonitorCountsWithoutClaimingASide) {
  auto seg = anonymous_u64(16);
  auto mon = shm::spsc::make_monitor<std::uint64_t>(seg);
  ringwire::spsc::options opt;
  opt.metrics = true;
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg, opt);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg, opt);
  for (std::uint64_t i = 0; i < 16; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  EXPECT_EQ(tx.try_send(99), status::full);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rx.try_recv());
  const auto s = mon.snapshot();
  EXPECT_EQ(s.capacity, 16u);
  EXPECT_EQ(s.sent, 16u);
  EXPECT_EQ(s.received, 10u);
  EXPECT_EQ(s.full_events, 1u);
  EXPECT_FALSE(s.sender_closed);
  EXPECT_EQ(error_of([&] { (void)shm::spsc::make_monitor<std::uint32_t>(seg); }), errc::shm_type_mismatch);
  shm::segment left;
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(left); }), errc::invalid_options);
}

// ---- between processes ------------------------------------------------------------------

using ShmSpscProcesses = shm_test::named;

// The receiver in the child parks on an empty ring (a shared futex word); every message
// the parent sends after a pause must wake it. Then the parent's sender parks on a full
// ring of one slot, and the child's receives must wake it.
TEST_F(ShmSpscProcesses, ParkedPeersInAnotherProcessAreWoken) {
  const auto n = name("park");
  auto seg = shm::segment::create(n, shm::spsc_spec<std::uint64_t>(1));
  const pid_t pid = shm_test::spawn([&] {
    auto s = shm::segment::open(n, shm::spsc_spec<std::uint64_t>(1));
    auto rx = shm::spsc::attach_receiver<std::uint64_t>(s);
    for (std::uint64_t i = 0; i < 20; ++i) {  // each one arrives while we are parked
      auto r = rx.recv_for(std::chrono::seconds(20));
      if (!r) return 10;
      if (*r != i) return 11;
    }
    for (std::uint64_t i = 20; i < 220; ++i) {  // now the sender parks on full
      std::this_thread::sleep_for(std::chrono::microseconds(i % 4 == 0 ? 2000 : 0));
      auto r = rx.recv_for(std::chrono::seconds(20));
      if (!r || *r != i) return 12;
    }
    return rx.recv_for(std::chrono::seconds(20)).status() == status::closed ? 0 : 13;
  });
  ringwire::spsc::options opt;
  opt.metrics = true;
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg, opt);
  auto mon = shm::spsc::make_monitor<std::uint64_t>(seg);
  for (std::uint64_t i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(tx.send_for(std::uint64_t{i}, std::chrono::seconds(20)), status::ok);
  }
  for (std::uint64_t i = 20; i < 220; ++i) ASSERT_EQ(tx.send_for(std::uint64_t{i}, std::chrono::seconds(20)), status::ok);
  const auto s = mon.snapshot();
  tx = {};
  EXPECT_EQ(shm_test::wait_child(pid), 0);
  EXPECT_GT(s.receiver_wakes, 0u) << "the child never parked: the test did not test waking";
  EXPECT_GT(s.sender_parks, 0u) << "the parent never parked on full";
}

// The receiver's process exits with the ring drained; the sender, parked on full, sees
// closed -- and a new receiver in a third process carries on from where it stopped.
TEST_F(ShmSpscProcesses, ReceiverDetachInAnotherProcessClosesThenReattachResumes) {
  const auto n = name("reattach");
  auto seg = shm::segment::create(n, shm::spsc_spec<std::uint64_t>(4));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  const auto consume = [&](std::uint64_t first, std::uint64_t count) {
    return shm_test::spawn([&, first, count] {
      auto s = shm::segment::open(n, shm::spsc_spec<std::uint64_t>(4));
      auto rx = shm::spsc::attach_receiver<std::uint64_t>(s);
      for (std::uint64_t i = first; i < first + count; ++i) {
        auto r = rx.recv_for(std::chrono::seconds(20));
        if (!r || *r != i) return 10;
      }
      return 0;  // detaches with whatever is still queued
    });
  };
  const pid_t first = consume(0, 10);
  std::uint64_t next = 0;
  status st = status::ok;
  while ((st = tx.send_for(std::uint64_t{next}, std::chrono::seconds(20))) == status::ok) ++next;
  EXPECT_EQ(st, status::closed);
  EXPECT_EQ(shm_test::wait_child(first), 0);
  EXPECT_GE(next, 10u);
  EXPECT_LE(next, 14u);  // at most the capacity beyond what the child took
  const pid_t second = consume(10, next - 10);  // the queued ones, in order
  EXPECT_EQ(shm_test::wait_child(second), 0);
}

// An anonymous segment: the descriptor crosses a Unix socket; batches both ways.
TEST(ShmSpscAnonymous, DescriptorPassingAndBatchesBetweenProcesses) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  constexpr std::uint64_t total = 300'000;
  const pid_t pid = shm_test::spawn([&] {
    const int fd = shm::receive_fd(sv[1]);
    auto s = shm::segment::open_fd(fd, shm::spsc_spec<frame>());
    ::close(fd);
    auto rx = shm::spsc::attach_receiver<frame>(s);
    std::uint64_t next = 0;
    for (;;) {
      if (rx.wait_readable() == status::closed) break;
      bool bad = false;
      rx.consume([&](frame& f) { bad = bad || f.seq != next || f.len != (next & 0xff) || f.body[next % 52] != 'x'; ++next; });
      if (bad) return 10;
    }
    return next == total ? 0 : 11;
  });
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<frame>(256));
  shm::send_fd(sv[0], seg.fd());
  {
    auto tx = shm::spsc::attach_sender<frame>(seg);
    std::vector<frame> batch(100);
    for (std::uint64_t seq = 0; seq < total;) {
      for (auto& f : batch) {
        f.seq = seq;
        f.len = static_cast<std::uint32_t>(seq & 0xff);
        f.body.fill('.');
        f.body[seq % 52] = 'x';
        ++seq;
      }
      ASSERT_EQ(tx.send_batch(batch), batch.size());
    }
  }
  EXPECT_EQ(shm_test::wait_child(pid), 0);
  ::close(sv[0]);
  ::close(sv[1]);
}

// Both fence modes (docs/shm.md): with the global membarrier the publishing side pays a
// compiler barrier, with real fences both sides pay a fence; either way a receiver parked in
// one process is woken by a sender in another, every time.
TEST(ShmSpsc, ParkedReceiverIsWokenAcrossProcessesInBothFenceModes) {
  for (const bool asymmetric : {true, false}) {
    auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(64), {.asymmetric_fences = asymmetric});
    if (asymmetric && seg.info().fence_mode == 0) continue;  // this kernel refuses the global membarrier
    EXPECT_EQ(seg.info().fence_mode, asymmetric ? 1u : 0u);
    auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg, {.metrics = true});
    constexpr std::uint64_t total = 200;
    const pid_t pid = shm_test::spawn([&] {
      auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
      for (std::uint64_t i = 0; i < total; ++i) {
        if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the receiver park
        if (tx.send(i) != status::ok) return 10;
      }
      return 0;
    });
    std::uint64_t next = 0;
    while (auto r = rx.recv_for(std::chrono::seconds(20))) ASSERT_EQ(*r, next++);
    EXPECT_EQ(next, total) << (asymmetric ? "membarrier" : "fenced");
    EXPECT_EQ(shm_test::wait_child(pid), 0);
    EXPECT_GT(shm::spsc::make_monitor<std::uint64_t>(seg).snapshot().receiver_parks, 0u)
        << "the receiver never parked: the cross-process wake was not exercised";
  }
}

// ---- crash recovery ----------------------------------------------------------------------

using shm_test::ready_pipe;

// A child that attached the sender and died without detaching (no destructor ran) leaves a
// dead claim: a new sender takes it over, even before the zombie is reaped by waitpid, and
// carries on after the messages the dead one published. A live holder is never displaced.
TEST(ShmSpscCrash, ADeadSendersClaimIsTakenOverAndALiveOneIsNot) {
  auto seg = anonymous_u64(64);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  ready_pipe ready;
  const pid_t live = shm_test::spawn([&] {
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
    for (std::uint64_t i = 0; i < 5; ++i)
      if (tx.send(i) != status::ok) return 10;
    ready.signal();
    ::pause();  // until killed
    return 11;
  });
  ASSERT_TRUE(ready.wait());
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(seg); }), errc::shm_already_attached);
  EXPECT_FALSE(shm::spsc::reap(seg)) << "a live sender must not be reaped";
  ASSERT_EQ(::kill(live, SIGKILL), 0);
  // Not reaped by waitpid yet: a zombie is dead too.
  for (int i = 0; i < 2000 && shm::detail::process_alive(live, 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);  // takes the dead claim over
  EXPECT_EQ(shm_test::wait_child(live), 128 + SIGKILL);
  ASSERT_EQ(tx.try_send(5), status::ok);
  for (std::uint64_t i = 0; i < 6; ++i) EXPECT_EQ(rx.try_recv().value(), i);
  EXPECT_EQ(rx.try_recv().status(), status::empty) << "a takeover is not a close";
}

// reap() wakes a dead sender's receiver on the ring's own park word: a receiver_park_offset
// rewritten by a live hostile peer must not aim that wake (an exchange, a store) anywhere
// else -- here at the receiver's head, where it would zero the index (found by
// fuzz/spsc_live_fuzz.cpp with an offset past the mapping).
TEST(ShmSpscCrash, ReapIgnoresARewrittenParkOffset) {
  auto seg = anonymous_u64(64);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  const pid_t dead = shm_test::spawn([&] {
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
    for (std::uint64_t i = 0; i < 5; ++i)
      if (tx.try_send(i) != status::ok) return 10;
    ::_exit(0);  // no close: the claim stays, naming a dead process
  });
  ASSERT_EQ(shm_test::wait_child(dead), 0);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(rx.try_recv().value(), i);
  auto map = seg.share();
  auto* ring = reinterpret_cast<ringwire::spsc::layout<>*>(map.get()->base + seg.info().channel_offset);
  ring->geometry.receiver_park_offset =
      static_cast<std::int64_t>(reinterpret_cast<std::byte*>(&ring->consumer.head) - reinterpret_cast<std::byte*>(ring));
  EXPECT_EQ(shm::spsc::reap(seg).sender_pid, static_cast<std::uint32_t>(dead));
  EXPECT_EQ(ring->consumer.head.load(), 3u) << "the wake went to the forged word";
}

// A receiver parked on a sender that dies is woken by reap() from any process, drains what
// was published and sees closed; a new sender re-attaches and the receiver carries on.
TEST(ShmSpscCrash, ReapWakesAReceiverParkedOnADeadSender) {
  auto seg = anonymous_u64(64);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg, {.metrics = true});
  ready_pipe ready;
  const pid_t pid = shm_test::spawn([&] {
    auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
    for (std::uint64_t i = 0; i < 3; ++i)
      if (tx.send(i) != status::ok) return 10;
    ready.signal();
    ::pause();
    return 11;
  });
  ASSERT_TRUE(ready.wait());
  std::vector<std::uint64_t> got;
  status end = status::ok;
  std::thread consumer([&] {
    for (;;) {
      auto r = rx.recv_for(std::chrono::seconds(20));  // parks: the default strategy
      if (!r) {
        end = r.status();
        return;
      }
      got.push_back(*r);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it drain and park
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_EQ(shm_test::wait_child(pid), 128 + SIGKILL);
  const auto r = shm::spsc::reap(seg);
  EXPECT_EQ(r.sender_pid, static_cast<std::uint32_t>(pid));
  EXPECT_EQ(r.receiver_pid, 0u);
  consumer.join();
  EXPECT_EQ(end, status::closed) << "not woken: its 20 s recv_for timed out";
  EXPECT_EQ(got, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_GT(shm::spsc::make_monitor<std::uint64_t>(seg).snapshot().receiver_parks, 0u)
      << "the receiver never parked: the wake path was not exercised";
  EXPECT_FALSE(shm::spsc::reap(seg)) << "nothing left to reap";
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);  // a restarted sender resumes
  ASSERT_EQ(tx.try_send(3), status::ok);
  EXPECT_EQ(rx.try_recv().value(), 3u);
}

// A sender blocked on a full ring whose receiver died gets closed after reap(), not a wait
// for ever; a new receiver then attaches and finds every message intact.
TEST(ShmSpscCrash, ReapUnblocksASenderWhoseReceiverDied) {
  auto seg = anonymous_u64(16);
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  const pid_t pid = shm_test::spawn([&] {
    auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
    auto first = rx.recv();
    if (!first || *first != 0) return 10;  // takes message 0, then dies holding the claim
    ::_exit(0);
  });
  for (std::uint64_t i = 0; i < 17; ++i) ASSERT_EQ(tx.send(i), status::ok);  // 17: one is consumed
  EXPECT_EQ(shm_test::wait_child(pid), 0);
  status end = status::ok;
  std::thread producer([&] { end = tx.send_for(17, std::chrono::seconds(20)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(shm::spsc::reap(seg).receiver_pid, static_cast<std::uint32_t>(pid));
  producer.join();
  EXPECT_EQ(end, status::closed);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  for (std::uint64_t i = 1; i < 17; ++i) EXPECT_EQ(rx.try_recv().value(), i);
  EXPECT_EQ(tx.try_send(17), status::ok) << "the new receiver reopened the ring";
}

}  // namespace
