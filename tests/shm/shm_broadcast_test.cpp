// tests/shm/shm_broadcast_test.cpp -- broadcast channels in shared memory (shm/broadcast.hpp):
// attach checks, every policy through a segment, the publisher claim, re-attach (including
// a forged half-written slot), and reap() of killed subscriber and publisher processes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm/broadcast.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
namespace bc = ringwire::broadcast;
using ringwire::errc;
using ringwire::status;
using namespace std::chrono_literals;

using shm_test::mix;

struct msg {
  std::uint64_t seq;
  std::uint64_t check;  // mix(seq)
};
msg make(std::uint64_t seq) { return msg{seq, mix(seq)}; }

using ShmBroadcast = shm_test::named;

shm::channel_spec spec(std::uint64_t cap, std::uint32_t subs, bc::policy p, std::uint64_t lag = 0,
                       bc::slot_layout slots = bc::slot_layout::automatic) {
  return shm::broadcast_spec<msg>(cap, subs, p, lag, slots);
}

using ring = bc::layout<ringwire::std_sync>;

// The segment's ring, for forging and peeking (the segment object keeps the mapping).
ring* ring_of(const shm::segment& seg) {
  return shm::detail::channel_of<ring>(seg.share());
}

// Receives messages from..to, each intact, and then `after` (nothing more, or closed).
void expect_messages(bc::subscriber<msg>& s, std::uint64_t from, std::uint64_t to, status after = status::empty) {
  for (std::uint64_t i = from; i <= to; ++i) {
    auto m = s.try_recv();
    ASSERT_TRUE(m) << i << ": " << ringwire::to_string(m.status());
    EXPECT_EQ(m->seq, i);
    EXPECT_EQ(m->check, mix(i));
  }
  EXPECT_EQ(s.try_recv().status(), after);
}

// Waits (bounded) until counter i of seg reaches v.
bool await_counter(const shm::segment& seg, std::uint32_t i, std::uint64_t v) {
  for (int k = 0; k < 20'000; ++k) {
    if (seg.counter(i).load() >= v) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

TEST_F(ShmBroadcast, WrongKindTypeOrPolicyIsRefused) {
  auto spsc_seg = shm::segment::create_anonymous(shm::spsc_spec<msg>(16));
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_publisher<msg>(spsc_seg); }),
            errc::shm_kind_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_subscriber<msg>(spsc_seg); }),
            errc::shm_kind_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::reap(spsc_seg); }), errc::shm_kind_mismatch);

  const auto n = name("kinds");
  auto seg = shm::segment::create(n, spec(16, 4, bc::policy::lossless));
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_publisher<std::uint64_t>(seg); }),
            errc::shm_type_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_subscriber<std::uint32_t>(seg); }),
            errc::shm_type_mismatch);
  // The policy is checked when the segment is opened.
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(n, spec(16, 4, bc::policy::lossy)); }),
            errc::shm_kind_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(n, spec(16, 4, bc::policy::lossless)); }),
            std::nullopt);
  shm::segment left;
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_subscriber<msg>(left); }), errc::invalid_options);
}

TEST_F(ShmBroadcast, LosslessThreeSubscribersEveryMessage) {
  constexpr std::uint64_t total = 200'000;
  auto seg = shm::segment::create(name("lossless"), spec(64, 4, bc::policy::lossless));
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  std::vector<bc::subscriber<msg>> subs;
  for (int i = 0; i < 3; ++i) subs.push_back(shm::broadcast::attach_subscriber<msg>(seg));
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (auto& s : subs) {
    readers.emplace_back([&bad, &s] {
      std::uint64_t next = 1;
      while (auto r = s.recv()) {
        if (r->seq != next || r->check != mix(next)) bad.fetch_add(1);
        ++next;
      }
      if (s.recv().status() != status::closed || next != total + 1 || s.missed() != 0) bad.fetch_add(1);
    });
  }
  for (std::uint64_t i = 1; i <= total; ++i) ASSERT_EQ(pub.send(make(i)), status::ok);
  pub.close();
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(ShmBroadcast, LossyLagIsCountedExactly) {
  for (const bc::slot_layout slots : {bc::slot_layout::packed, bc::slot_layout::line}) {
    SCOPED_TRACE(slots == bc::slot_layout::line ? "line slots" : "packed slots");
    auto seg = shm::segment::create(name("lossy"), spec(16, 2, bc::policy::lossy, 0, slots));
    auto pub = shm::broadcast::attach_publisher<msg>(seg);
    auto sub = shm::broadcast::attach_subscriber<msg>(seg);
    for (std::uint64_t i = 1; i <= 50; ++i) ASSERT_EQ(pub.try_send(make(i)), status::ok);  // never full
    auto r = sub.try_recv();
    ASSERT_EQ(r.status(), status::lagged);
    EXPECT_EQ(r.missed(), 34u);  // 1..34 overwritten; 35..50 still held
    expect_messages(sub, 35, 50);
    EXPECT_EQ(sub.received() + sub.missed(), 50u);
  }
}

// The creator's slot layout is recorded (resolved) in the identity and sizes the ring; an
// opener that names a layout must meet that one; a header or ring that disagrees with
// itself about the stride is corrupt, however it is checksummed.
TEST_F(ShmBroadcast, SlotLayoutIsRecordedAndChecked) {
  const auto layout_word = offsetof(shm::identity, region_shift);
  auto packed = shm::segment::create_anonymous(spec(16, 2, bc::policy::lossless));  // automatic
  EXPECT_EQ(packed.info().region_shift, static_cast<std::uint32_t>(bc::resolve(bc::slot_layout::automatic)));
  auto line = shm::segment::create_anonymous(spec(16, 2, bc::policy::lossless, 0, bc::slot_layout::line));
  EXPECT_EQ(line.info().region_shift, static_cast<std::uint32_t>(bc::slot_layout::line));
  EXPECT_EQ(ring_of(line)->geometry.slot_stride, 64u);
  EXPECT_EQ(ring_of(line)->geometry.slot_stride, ring::stride(sizeof(msg), bc::slot_layout::line));
  EXPECT_EQ(line.info().channel_size, ring::footprint(16, sizeof(msg), 2, bc::slot_layout::line));

  // Messages cross a line ring, every word intact.
  auto pub = shm::broadcast::attach_publisher<msg>(line);
  auto sub = shm::broadcast::attach_subscriber<msg>(line);
  for (std::uint64_t i = 1; i <= 40; ++i) {
    ASSERT_EQ(pub.try_send(make(i)), status::ok);
    expect_messages(sub, i, i);
  }

  // Opening: automatic accepts either; a named layout must be the recorded one.
  const auto open = [](const shm::segment& seg, bc::slot_layout want) {
    return shm_test::error_of(
        [&] { (void)shm::segment::open_fd(seg.fd(), spec(16, 2, bc::policy::lossless, 0, want)); });
  };
  EXPECT_EQ(open(line, bc::slot_layout::automatic), std::nullopt);
  EXPECT_EQ(open(line, bc::slot_layout::line), std::nullopt);
  EXPECT_EQ(open(line, bc::slot_layout::packed), errc::shm_kind_mismatch);
  EXPECT_EQ(open(packed, bc::slot_layout::line), errc::shm_kind_mismatch);
  // Only broadcast specs have one, and it must exist.
  auto other = shm::spsc_spec<msg>(16);
  other.slot_layout = bc::slot_layout::line;
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment_footprint(other, 0); }), errc::invalid_options);
  EXPECT_EQ(shm_test::error_of([&] {
              (void)shm::segment_footprint(spec(16, 2, bc::policy::lossy, 0, static_cast<bc::slot_layout>(3)), 0);
            }),
            errc::invalid_options);

  // Damage. The ring's stride: the packed one (right for another layout), or none.
  const auto img = shm_test::image_of(line);
  ASSERT_FALSE(img.empty());
  const auto any = spec(0, 0, bc::policy::lossless);
  EXPECT_EQ(shm_test::open_image(img, any), std::nullopt);
  const std::size_t stride_at = line.info().channel_offset + offsetof(ring::geometry_block, slot_stride);
  for (const std::uint64_t stride : {std::uint64_t{32}, std::uint64_t{48}, std::uint64_t{128}}) {
    auto bad = img;
    shm_test::poke(bad, stride_at, stride);
    EXPECT_EQ(shm_test::open_image(bad, any), errc::shm_corrupt) << "stride " << stride;
  }
  // The identity's layout: automatic (never recorded), unknown, or packed over a line ring.
  for (const std::uint32_t word : {0u, 3u, 0x100u, static_cast<std::uint32_t>(bc::slot_layout::packed)}) {
    auto bad = img;
    shm_test::poke(bad, layout_word, word);
    shm_test::recompute_checksum(bad);
    EXPECT_EQ(shm_test::open_image(bad, any), errc::shm_corrupt) << "layout " << word;
  }
}

TEST_F(ShmBroadcast, EvictDropsTheSlowSubscriber) {
  auto seg = shm::segment::create(name("evict"), spec(16, 2, bc::policy::evict, 8));
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  auto slow = shm::broadcast::attach_subscriber<msg>(seg);
  for (std::uint64_t i = 1; i <= 40; ++i) ASSERT_EQ(pub.try_send(make(i)), status::ok);  // never waits
  EXPECT_EQ(slow.try_recv().status(), status::evicted);
}

TEST_F(ShmBroadcast, OnePublisherAtATimeAndRegistryLimit) {
  auto seg = shm::segment::create(name("claims"), spec(16, 2, bc::policy::lossless));
  {
    auto pub = shm::broadcast::attach_publisher<msg>(seg);
    EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_publisher<msg>(seg); }),
              errc::shm_already_attached);
    // Another live process is refused too.
    const pid_t pid = shm_test::spawn([&] {
      auto e = shm_test::error_of([&] { (void)shm::broadcast::attach_publisher<msg>(seg); });
      return e == errc::shm_already_attached ? 0 : 1;
    });
    EXPECT_EQ(shm_test::wait_child(pid), 0);
    auto a = shm::broadcast::attach_subscriber<msg>(seg);
    auto b = shm::broadcast::attach_subscriber<msg>(seg);
    EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_subscriber<msg>(seg); }),
              errc::too_many_subscribers);
    EXPECT_FALSE(shm::broadcast::reap(seg));  // everyone is alive
  }
  // Detached cleanly: every claim is free again.
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  auto a = shm::broadcast::attach_subscriber<msg>(seg);
  auto b = shm::broadcast::attach_subscriber_from_oldest<msg>(seg);
}

TEST_F(ShmBroadcast, ReattachedPublisherContinuesTheSequence) {
  auto seg = shm::segment::create(name("reattach"), spec(8, 2, bc::policy::lossless));
  auto sub = shm::broadcast::attach_subscriber<msg>(seg);
  {
    auto pub = shm::broadcast::attach_publisher<msg>(seg);
    for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_EQ(pub.send(make(i)), status::ok);
  }  // closes
  for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_EQ(sub.try_recv()->seq, i);
  EXPECT_EQ(sub.try_recv().status(), status::closed);
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  EXPECT_EQ(pub.published(), 5u);
  EXPECT_EQ(sub.try_recv().status(), status::empty);  // reopened
  for (std::uint64_t i = 6; i <= 30; ++i) {  // wraps the ring several times
    ASSERT_EQ(pub.send(make(i)), status::ok);
    expect_messages(sub, i, i);
  }
}

// A publisher that died mid-write left message n's slot stamped 2n-1 with a torn payload;
// one that died after its commit but before storing head left n complete. Forged here in
// process: the first is never delivered and is written again, the second is adopted.
TEST_F(ShmBroadcast, ForgedHalfWrittenAndUncountedSlots) {
  auto seg = shm::segment::create(name("forged"), spec(8, 2, bc::policy::lossless));
  ring* l = ring_of(seg);
  const auto forge = [&](std::uint64_t n, std::uint64_t stamp, const msg& m) {
    const bc::detail::slot_ref<ringwire::std_sync> s{l->slot(n % 8)};
    std::memcpy(s.words(), &m, sizeof m);
    s.stamp().store(stamp);
  };
  auto sub = shm::broadcast::attach_subscriber<msg>(seg);
  {
    auto pub = shm::broadcast::attach_publisher<msg>(seg);
    for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_EQ(pub.send(make(i)), status::ok);
  }
  forge(6, ring::writing(6), msg{666, 0xdead});  // died mid-write of message 6
  for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_EQ(sub.try_recv()->seq, i);
  EXPECT_EQ(sub.try_recv().status(), status::closed);  // never the torn 6
  {
    auto pub = shm::broadcast::attach_publisher<msg>(seg);
    EXPECT_EQ(pub.published(), 5u);  // the odd slot is not adopted
    EXPECT_EQ(sub.try_recv().status(), status::empty);
    ASSERT_EQ(pub.send(make(6)), status::ok);  // written again over 2n-1
  }
  expect_messages(sub, 6, 6, status::closed);  // that publisher is gone
  // Died after committing 7 but before storing head = 7.
  forge(7, ring::committed(7), make(7));
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  EXPECT_EQ(pub.published(), 7u);  // adopted, not written again
  ASSERT_EQ(pub.send(make(8)), status::ok);
  expect_messages(sub, 7, 8);
}

// A live peer rewrites the ring's geometry block after the endpoints attached (the known
// limit this closes): the endpoints walk the ring with the geometry they copied at attach,
// so a subscriber still reads the slot its message is in and a lossless publisher still
// sees its subscriber in the registry; a later attach refuses the ring (fuzz/
// broadcast_live_fuzz.cpp scribbles like this between calls).
TEST_F(ShmBroadcast, ARewrittenGeometryCannotMisdirectAttachedEndpoints) {
  auto seg = shm::segment::create_anonymous(spec(4, 2, bc::policy::lossless));
  ring* l = ring_of(seg);
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  auto sub = shm::broadcast::attach_subscriber<msg>(seg);
  ASSERT_EQ(pub.try_send(make(1)), status::ok);
  l->geometry.slots_offset += l->geometry.slot_stride;                      // one slot off
  l->geometry.registry_offset += sizeof(ring::entry);                      // past our entry
  l->joiners.top.store(~std::uint32_t{0});                                  // no such entries
  auto r = sub.try_recv();
  ASSERT_TRUE(r) << ringwire::to_string(r.status());
  EXPECT_EQ(r->seq, 1u);
  for (std::uint64_t i = 2; i <= 5; ++i) ASSERT_EQ(pub.try_send(make(i)), status::ok) << i;
  EXPECT_EQ(pub.try_send(make(6)), status::full) << "the subscriber's entry was not seen";
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_subscriber<msg>(seg); }), errc::shm_corrupt);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_observer<msg>(seg); }), errc::shm_corrupt);
}

// A stamp no publisher could have written: a later message in the slot fewer than a lap
// ahead. Believing it made the subscriber jump backwards (and recv_batch lag for ever over
// stamps like it); now it closes for good and says why. The same for a gated subscriber,
// which a publisher never overwrites.
TEST_F(ShmBroadcast, AnImpossibleStampClosesTheSubscriber) {
  for (const bc::policy p : {bc::policy::lossy, bc::policy::lossless}) {
    auto seg = shm::segment::create_anonymous(spec(4, 2, p));
    ring* l = ring_of(seg);
    auto pub = shm::broadcast::attach_publisher<msg>(seg);
    auto sub = shm::broadcast::attach_subscriber<msg>(seg);
    ASSERT_EQ(pub.try_send(make(1)), status::ok);
    ASSERT_EQ(sub.try_recv()->seq, 1u);
    // message 2's slot claims message 3: one ahead, not a lap (and never under lossless)
    bc::detail::slot_ref<ringwire::std_sync>{l->slot(2)}.stamp().store(ring::committed(p == bc::policy::lossy ? 3 : 6));
    EXPECT_EQ(sub.try_recv().status(), status::closed);
    EXPECT_TRUE(sub.peer_corrupt());
    EXPECT_EQ(sub.try_recv().status(), status::closed);
  }
}

// A stamp of all ones names message 0 (seq_of wraps): behind the subscriber, not a lap
// ahead. The lag check took only m - n, which wrapped to a huge distance, so the
// subscriber jumped back to a hostile head and drain() lagged for ever (found by
// broadcast_live_fuzz). Now it closes, and drain() ends.
TEST_F(ShmBroadcast, AStampBehindTheSubscriberClosesItAndDrainEnds) {
  auto seg = shm::segment::create_anonymous(spec(4, 2, bc::policy::lossy));
  ring* l = ring_of(seg);
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  auto sub = shm::broadcast::attach_subscriber<msg>(seg);
  ASSERT_EQ(pub.try_send(make(1)), status::ok);
  ASSERT_EQ(sub.try_recv()->seq, 1u);
  for (std::uint64_t i = 0; i < 4; ++i) bc::detail::slot_ref<ringwire::std_sync>{l->slot(i)}.stamp().store(~std::uint64_t{0});
  l->publisher.head.store(~std::uint64_t{0} - 2);
  std::size_t got = 0;
  for (const msg& m : sub.drain()) got += m.seq != 0 ? 1 : 0;
  EXPECT_EQ(got, 0u);
  EXPECT_TRUE(sub.peer_corrupt());
  EXPECT_EQ(sub.try_recv().status(), status::closed);
}

// A subscriber process is killed while the lossless publisher waits on it; reap() frees
// its entry and the blocked publish completes. A live subscriber is never reaped.
TEST_F(ShmBroadcast, ReapKilledSubscriberUnblocksLosslessPublisher) {
  const auto n = name("reapsub");
  auto seg = shm::segment::create(n, spec(16, 4, bc::policy::lossless));
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, spec(16, 4, bc::policy::lossless));
    auto sub = shm::broadcast::attach_subscriber<msg>(s);
    s.counter(0).store(1);
    for (std::uint64_t i = 1; i <= 4; ++i) {  // reads a few, then stops reading
      auto r = sub.recv();
      if (!r || r->seq != i) return 1;
    }
    // A lossless subscriber shows its cursor in steps of capacity/8, and always when a
    // receive finds nothing new: this empty receive shows cursor 5, so the publisher's
    // room below is exactly 16 whatever steps the four receives above took.
    if (sub.try_recv().status() != status::empty) return 3;
    s.counter(1).store(1);
    ::pause();
    return 2;
  });
  ASSERT_TRUE(await_counter(seg, 0, 1));  // joined: every publish from here is gated on it
  std::uint64_t seq = 0;
  for (int k = 0; k < 4; ++k) ASSERT_EQ(pub.send(make(++seq)), status::ok);
  ASSERT_TRUE(await_counter(seg, 1, 1));
  while (pub.try_send(make(seq + 1)) == status::ok) ++seq;
  EXPECT_EQ(seq, 4u + 16u);  // the ring is full behind the child's cursor
  EXPECT_FALSE(shm::broadcast::reap(seg));  // alive: not reaped
  std::atomic<int> result{-1};
  // Bounded, so that a reap that fails to unblock it fails the test instead of hanging it.
  std::thread blocked([&] { result.store(static_cast<int>(pub.send_for(make(seq + 1), 10s))); });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(result.load(), -1);  // still waiting on the child
  ::kill(child, SIGKILL);
  EXPECT_EQ(shm_test::wait_child(child), 128 + SIGKILL);
  const auto r = shm::broadcast::reap(seg);
  EXPECT_EQ(r.subscribers, 1u);
  EXPECT_EQ(r.publisher_pid, 0u);
  blocked.join();
  EXPECT_EQ(result.load(), static_cast<int>(status::ok));
  EXPECT_FALSE(shm::broadcast::reap(seg));  // nothing left to reap
  // Its entry is free again.
  auto a = shm::broadcast::attach_subscriber<msg>(seg);
  auto b = shm::broadcast::attach_subscriber<msg>(seg);
  auto c = shm::broadcast::attach_subscriber<msg>(seg);
  auto d = shm::broadcast::attach_subscriber<msg>(seg);
}

// A subscriber killed while asleep in recv() no longer counts as parked once reaped (else
// the publisher would scan the registry after every publish).
TEST_F(ShmBroadcast, ReapTakesBackAParkedSubscribersCount) {
  const auto n = name("reappark");
  auto seg = shm::segment::create(n, spec(16, 2, bc::policy::lossy));
  ring* l = ring_of(seg);
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, spec(16, 2, bc::policy::lossy));
    auto sub = shm::broadcast::attach_subscriber<msg>(s);
    (void)sub.recv();  // nothing is ever published: parks until killed
    return 1;
  });
  bool asleep = false;
  for (int k = 0; k < 10'000 && !asleep; ++k) {
    asleep = l->joiners.parked.load() == 1 && l->subscriber(0).park.load() == ringwire::detail::parked;
    if (!asleep) std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(asleep);
  ::kill(child, SIGKILL);
  EXPECT_EQ(shm_test::wait_child(child), 128 + SIGKILL);
  EXPECT_EQ(shm::broadcast::reap(seg).subscribers, 1u);
  EXPECT_EQ(l->joiners.parked.load(), 0u);
  EXPECT_EQ(ring::kind(l->subscriber(0).state.load()), ring::free_entry);
}

// Without reap(): attaching takes over a dead process's claims. A subscriber joins at the
// dead subscriber's entry (the only one) and a publisher continues the dead one's sequence.
TEST_F(ShmBroadcast, AttachTakesOverDeadClaims) {
  const auto n = name("takeover");
  auto seg = shm::segment::create(n, spec(8, 1, bc::policy::lossless));
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, spec(8, 1, bc::policy::lossless));
    auto sub = shm::broadcast::attach_subscriber<msg>(s);
    auto pub = shm::broadcast::attach_publisher<msg>(s);
    for (std::uint64_t i = 1; i <= 8; ++i)  // fills the ring behind its own subscriber
      if (pub.send(make(i)) != status::ok) return 1;
    s.counter(0).store(1);
    ::pause();
    return 2;
  });
  ASSERT_TRUE(await_counter(seg, 0, 1));
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_subscriber<msg>(seg); }),
            errc::too_many_subscribers);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_publisher<msg>(seg); }),
            errc::shm_already_attached);
  ::kill(child, SIGKILL);
  EXPECT_EQ(shm_test::wait_child(child), 128 + SIGKILL);
  auto sub = shm::broadcast::attach_subscriber_from_oldest<msg>(seg);
  auto pub = shm::broadcast::attach_publisher<msg>(seg);
  EXPECT_EQ(pub.published(), 8u);
  // The dead subscriber's cursor no longer gates: the new one replays what is held, and
  // the publisher goes on.
  std::uint64_t next = sub.next_sequence();
  EXPECT_GE(next, 1u);
  for (std::uint64_t i = 9; i <= 41; ++i) {
    while (auto r = sub.try_recv()) {  // one thread: read first, or the ring stays full
      ASSERT_EQ(r->seq, next);
      ASSERT_EQ(r->check, mix(next));
      ++next;
    }
    if (i <= 40) {
      ASSERT_EQ(pub.send_for(make(i), 10s), status::ok) << i;
    }
  }
  EXPECT_EQ(next, 41u);
  EXPECT_FALSE(shm::broadcast::reap(seg));  // both claims were taken over, none is dead
}

// A publisher process is killed; reap() closes the ring: the parked subscriber is woken,
// has every committed message, then sees closed. A new publisher then carries on.
TEST_F(ShmBroadcast, ReapKilledPublisherClosesAfterTheCommittedMessages) {
  const auto n = name("reappub");
  auto seg = shm::segment::create(n, spec(256, 2, bc::policy::lossless));
  auto sub = shm::broadcast::attach_subscriber<msg>(seg);
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, spec(256, 2, bc::policy::lossless));
    auto pub = shm::broadcast::attach_publisher<msg>(s);
    for (std::uint64_t i = 1; i <= 100; ++i)
      if (pub.send(make(i)) != status::ok) return 1;
    s.counter(0).store(1);
    ::pause();
    return 2;
  });
  for (std::uint64_t i = 1; i <= 100; ++i) {
    auto r = sub.recv_for(20s);
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->seq, i);
    ASSERT_EQ(r->check, mix(i));
  }
  ASSERT_TRUE(await_counter(seg, 0, 1));
  EXPECT_FALSE(shm::broadcast::reap(seg));
  std::thread killer([&] {
    std::this_thread::sleep_for(50ms);  // the subscriber is parked by now (most likely)
    ::kill(child, SIGKILL);
    EXPECT_EQ(shm_test::wait_child(child), 128 + SIGKILL);
    const auto r = shm::broadcast::reap(seg);
    EXPECT_EQ(r.publisher_pid, static_cast<std::uint32_t>(child));
    EXPECT_EQ(r.subscribers, 0u);
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(sub.recv_for(20s).status(), status::closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);  // woken, not timed out
  killer.join();
  auto pub = shm::broadcast::attach_publisher<msg>(seg);  // the claim is free
  EXPECT_EQ(pub.published(), 100u);
  ASSERT_EQ(pub.send(make(101)), status::ok);
  auto r = sub.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq, 101u);
}

// An observer in another process maps the segment read-only: it cannot write a byte (a
// write would kill it with SIGSEGV), yet reads every message it keeps up with and counts
// exactly what it missed. A read-only join refuses everything that writes, and does not
// count as a join.
TEST_F(ShmBroadcast, AReadOnlyObserverReadsWithoutWriting) {
  constexpr std::uint64_t total = 200'000;
  const auto n = name("observer");
  auto seg = shm::segment::create(n, spec(256, 2, bc::policy::lossless));
  {
    auto ro = shm::segment::open(n, spec(256, 2, bc::policy::lossless), {.read_only = true});
    EXPECT_TRUE(ro.read_only());
    EXPECT_EQ(ro.joined_count(), 1u);  // only the creator
    EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_subscriber<msg>(ro); }), errc::invalid_options);
    EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_publisher<msg>(ro); }), errc::invalid_options);
    EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::reap(ro); }), errc::invalid_options);
    EXPECT_EQ(shm_test::error_of([&] { (void)shm::broadcast::attach_observer<std::uint64_t>(ro); }),
              errc::shm_type_mismatch);
  }
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = shm_test::spawn([&] {
    auto ro = shm::segment::open(n, spec(256, 2, bc::policy::lossless), {.read_only = true});
    auto obs = shm::broadcast::attach_observer<msg>(ro);
    (void)!::write(ready[1], "r", 1);
    std::uint64_t next = 1, got = 0;
    for (;;) {
      auto r = obs.recv_for(20s);
      if (r.status() == status::lagged) {
        next += r.missed();
        continue;
      }
      if (r.status() == status::closed) break;
      if (!r) return 10;
      if (r->seq != next || r->check != mix(r->seq)) return 11;
      ++next;
      ++got;
    }
    if (next != total + 1) return 12;                      // every message read or counted
    if (obs.received() != got || obs.received() + obs.missed() != total) return 13;
    return 0;
  });
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  auto pub = shm::broadcast::attach_publisher<msg>(seg);  // lossless, yet no registered subscriber:
  for (std::uint64_t i = 1; i <= total; ++i) ASSERT_EQ(pub.try_send(make(i)), status::ok);  // never full
  pub.close();
  EXPECT_EQ(shm_test::wait_child(child), 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

// The counters live in the segment (broadcast/stats.hpp): another process reads them on a
// read-only mapping it never joins (shm::observe + describe, what `ringwire stat` does).
TEST_F(ShmBroadcast, CountersAreReadFromAnotherProcessOnAReadOnlyMapping) {
  const auto n = name("stats");
  auto seg = shm::segment::create(n, spec(16, 4, bc::policy::lossy));
  bc::options metered;
  metered.metrics = true;
  auto pub = shm::broadcast::attach_publisher<msg>(seg, metered);
  auto sub = shm::broadcast::attach_subscriber<msg>(seg, metered);
  for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_EQ(pub.try_send(make(i)), status::ok);
  for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_EQ(sub.try_recv().value().seq, i);
  ASSERT_EQ(sub.try_recv().status(), status::empty);
  const pid_t child = shm_test::spawn([&] {
    const shm::segment o = shm::observe(n);
    if (!o.read_only()) return 2;
    const shm::channel_description d = shm::describe(o);
    if (d.value("published") != 10u) return 3;
    if (d.endpoints.size() != 1 || d.endpoints[0].role != "subscriber") return 4;
    std::uint64_t received = 0, lag = 99, cursor = 0;
    for (const auto& v : d.endpoints[0].values) {
      if (v.key == "received") received = v.value;
      if (v.key == "lag") lag = v.value;
      if (v.key == "cursor") cursor = v.value;
    }
    return received == 10 && lag == 0 && cursor == 11 ? 0 : 5;
  });
  EXPECT_EQ(shm_test::wait_child(child), 0);
  EXPECT_EQ(seg.joined_count(), 1u) << "observing joined";
}

}  // namespace
