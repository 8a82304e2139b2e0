// tests/shm/shm_byte_ring_test.cpp -- byte rings in a shared-memory segment: both kinds
// between processes with every record checked, the end of the stream, kind checks, and
// crash recovery: a one-to-one writer that dies with a reservation open, a reader that
// dies under a blocked writer, and a many-to-one writer that dies in the middle of a record
// while others keep writing (recover() skips exactly that record) -- or right after its
// claim, before its header store, leaving a zero header below the tail (alone, wrapping,
// among its copies' claims): recover() skips it through the dead writer's span, pads no
// further than the nearest dead span's end, and never skips what a live writer's span covers.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "ringwire/concepts.hpp"
#include "ringwire/shm/byte_ring.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::status;
using ringwire::byte_ring::record_view;
using ringwire::byte_ring::ring_kind;

// concepts.hpp: the attachments are the byte_ring endpoints themselves.
static_assert(ringwire::record_writer<decltype(shm::byte_ring::attach_writer(std::declval<const shm::segment&>()))>);
static_assert(ringwire::record_writer<decltype(shm::byte_ring::attach_shared_writer(std::declval<const shm::segment&>()))>);
static_assert(ringwire::record_reader<decltype(shm::byte_ring::attach_reader(std::declval<const shm::segment&>()))>);
using namespace std::chrono_literals;

// Record k of writer w: type 1 + k % 5, payload (k * 37) % 300 bytes, each byte derived
// from (w, k, index); the first 8 bytes hold w << 40 | k.
std::vector<std::byte> payload(std::uint32_t w, std::uint64_t k) {
  std::vector<std::byte> p(8 + (k * 37) % 300);
  const std::uint64_t id = std::uint64_t{w} << 40 | k;
  std::memcpy(p.data(), &id, 8);
  for (std::size_t i = 8; i < p.size(); ++i) p[i] = static_cast<std::byte>((w * 131 + k * 7 + i) & 0xff);
  return p;
}
std::int32_t type_of(std::uint64_t k) { return static_cast<std::int32_t>(1 + k % 5); }

// Checks a record; returns (writer, k) through the out-parameters.
bool check(const record_view& r, std::uint32_t& w, std::uint64_t& k) {
  if (r.payload.size() < 8) return false;
  std::uint64_t id;
  std::memcpy(&id, r.payload.data(), 8);
  w = static_cast<std::uint32_t>(id >> 40);
  k = id & ((std::uint64_t{1} << 40) - 1);
  const auto want = payload(w, k);
  return r.type == type_of(k) && r.payload.size() == want.size() &&
         std::memcmp(r.payload.data(), want.data(), want.size()) == 0;
}

// The ring in a segment, its tail, and the header word at free-running byte position `at`
// (what a writer stores there, seen through the mapping). The tests that recreate a kill
// right after a claim store 0 there: the instant after a writer's CAS on the tail and
// before its "in progress" header store.
using byte_layout = ringwire::byte_ring::layout<>;
byte_layout* ring_of(const shm::segment& seg) { return shm::detail::channel_of<byte_layout>(seg.share()); }
std::uint64_t tail_of(const shm::segment& seg) {
  // acquire: the claims below it (and the headers stored before them) are visible.
  return ring_of(seg)->producer.tail.load(std::memory_order_acquire);
}
std::atomic<std::uint64_t>& header_word(const shm::segment& seg, std::uint64_t at) {
  byte_layout* r = ring_of(seg);
  return *std::launder(reinterpret_cast<std::atomic<std::uint64_t>*>(r->data() + (at & (r->geometry.capacity - 1))));
}
// Writer span k of writer claim i: {start, end}.
std::atomic<std::uint64_t>* span_of(const shm::segment& seg, std::uint32_t i, std::uint32_t k) {
  return shm::byte_ring_writer_span(seg.share().get()->base, seg.info(), i, k);
}
bool abandoned(const shm::segment& seg, std::uint32_t i) {
  // acquire: as recover() reads it.
  return shm::byte_ring::detail::is_abandoned(
      shm::endpoint_claim(seg.share().get()->base, seg.info(), i).load(std::memory_order_acquire));
}
// The calling process dies as a kill -9 would take it (no destructor, no detach).
[[noreturn]] void die() {
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}
// `r` is record k of writer w, intact.
void expect_record(const record_view& r, std::uint32_t w, std::uint64_t k) {
  std::uint32_t rw;
  std::uint64_t rk;
  ASSERT_TRUE(check(r, rw, rk)) << "record " << k << " of writer " << w << " is torn";
  EXPECT_EQ(rw, w);
  EXPECT_EQ(rk, k);
}
// Reads `n` records of writer `w`, numbered from `first`, each intact.
void expect_records(ringwire::byte_ring::reader<>& rx, std::uint32_t w, std::uint64_t first, std::uint64_t n) {
  record_view r;
  for (std::uint64_t i = first; i < first + n; ++i) {
    ASSERT_EQ(rx.read_for(r, 5s), status::ok) << "record " << i << " of writer " << w;
    expect_record(r, w, i);
  }
}
// Once the reader is past a dead writer's records: nothing more, recover() frees its claim,
// and a new writer's attach takes it.
void expect_dead_claim_freed(const shm::segment& seg, ringwire::byte_ring::reader<>& rx) {
  record_view r;
  EXPECT_EQ(rx.try_read(r), status::empty);
  EXPECT_FALSE(rx.corrupt());
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 0u);
  auto again = shm::byte_ring::attach_shared_writer(seg);
  ASSERT_EQ(again.try_write(type_of(0), payload(3, 0)), status::ok);
  expect_records(rx, 3, 0, 1);
}

// The documented consumer loop up to the next record: every read that times out is followed
// by recover(). Returns how many records of dead writers were skipped meanwhile, by recover()
// or by the reader's own waits (auto_recovery: once a reap moved the reaped count); the
// record read is in `r`.
std::size_t read_recovering(const shm::segment& seg, ringwire::byte_ring::reader<>& rx, record_view& r) {
  const std::uint64_t before = rx.skipped_abandoned();
  auto skipped = [&] { return static_cast<std::size_t>(rx.skipped_abandoned() - before); };
  for (int i = 0; i < 100; ++i) {
    const status s = rx.read_for(r, 20ms);
    if (s != status::timed_out) {
      EXPECT_EQ(s, status::ok);
      return skipped();
    }
    (void)shm::byte_ring::recover(seg, rx);
  }
  ADD_FAILURE() << "the reader stays at position " << rx.position() << " (tail " << tail_of(seg) << ")";
  return skipped();
}

using ShmByteRing = shm_test::named;

TEST_F(ShmByteRing, KindsAndSpecsAreChecked) {
  auto seg = shm::segment::create(name("kinds"), shm::byte_ring_spec(4096, ring_kind::many_to_one, 2));
  EXPECT_EQ(seg.kind(), shm::channel_kind::byte_ring);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::byte_ring::attach_writer(seg); }), errc::shm_kind_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(seg.name(), shm::byte_ring_spec(4096)); }),
            errc::shm_kind_mismatch);  // one-to-one expected
  EXPECT_EQ(shm_test::error_of([&] {
              (void)shm::segment::open(seg.name(), shm::byte_ring_spec(8192, ring_kind::many_to_one));
            }),
            errc::shm_capacity_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open(seg.name(), shm::spsc_spec<std::uint64_t>()); }),
            errc::shm_kind_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment_footprint(shm::byte_ring_spec(1000), 0); }),
            errc::invalid_capacity);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment_footprint(shm::byte_ring_spec(4096, ring_kind::many_to_one, 0), 0); }),
            errc::invalid_options);
  auto rx = shm::byte_ring::attach_reader(seg);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::byte_ring::attach_reader(seg); }), errc::shm_already_attached);
  auto a = shm::byte_ring::attach_shared_writer(seg);
  auto a2 = a;  // copies share the process's claim
  auto b = shm::byte_ring::attach_shared_writer(seg);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::byte_ring::attach_shared_writer(seg); }), errc::too_many_producers);
}

TEST_F(ShmByteRing, OneToOneBetweenProcessesThenReattach) {
  constexpr std::uint64_t total = 200'000;
  const auto n = name("o2o");
  auto seg = shm::segment::create(n, shm::byte_ring_spec(1 << 14));
  auto rx = shm::byte_ring::attach_reader(seg);
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, shm::byte_ring_spec(1 << 14));
    auto tx = shm::byte_ring::attach_writer(s);
    for (std::uint64_t k = 0; k < total; ++k)
      if (tx.write(type_of(k), payload(0, k)) != status::ok) return 10;
    return 0;  // detaching ends the stream
  });
  std::uint64_t next = 0;
  record_view r;
  for (;;) {
    const status s = rx.read_for(r, 20s);
    if (s == status::closed) break;
    ASSERT_EQ(s, status::ok) << "after " << next;
    std::uint32_t w;
    std::uint64_t k;
    ASSERT_TRUE(check(r, w, k)) << next;
    ASSERT_EQ(k, next++);
  }
  EXPECT_EQ(next, total);
  EXPECT_EQ(shm_test::wait_child(child), 0);
  rx.release();  // the views read last give their room back
  // ... and their bytes stay intact: a one-to-one reader in a segment does not zero what it
  // releases (a reader killed mid-zeroing would leave its successor zero headers below the
  // tail: reader::keep_consumed_bytes). A heap reader would have zeroed them.
  {
    std::uint32_t w;
    std::uint64_t k;
    EXPECT_TRUE(check(r, w, k));
    EXPECT_EQ(k, total - 1);
  }
  auto tx = shm::byte_ring::attach_writer(seg);  // re-attach reopens the stream
  ASSERT_EQ(tx.try_write(3, payload(0, total)), status::ok);
  ASSERT_EQ(rx.read_for(r, 5s), status::ok);
}

TEST_F(ShmByteRing, ManyToOneThreeWriterProcesses) {
  constexpr std::uint64_t per = 60'000;
  const auto n = name("m2o");
  auto seg = shm::segment::create(n, shm::byte_ring_spec(1 << 15, ring_kind::many_to_one, 4));
  auto rx = shm::byte_ring::attach_reader(seg);
  std::vector<pid_t> kids;
  for (std::uint32_t w = 0; w < 3; ++w)
    kids.push_back(shm_test::spawn([&, w] {
      auto s = shm::segment::open(n, shm::byte_ring_spec(0, ring_kind::many_to_one));
      auto tx = shm::byte_ring::attach_shared_writer(s);
      auto tx2 = tx;  // two threads of one process share its claim
      const auto second_half = [&] {
        for (std::uint64_t k = per / 2; k < per; ++k) (void)tx2.write(type_of(k), payload(w + 10, k));
      };
#if RINGWIRE_TSAN
      // ThreadSanitizer cannot see the reader process's zeroing and release of head between
      // one thread's record and another thread's reuse of its bytes (a cross-process edge):
      // under it the two handles take turns in one thread.
      second_half();
#else
      std::thread t(second_half);
#endif
      for (std::uint64_t k = 0; k < per / 2; ++k)
        if (tx.write(type_of(k), payload(w, k)) != status::ok) return 10;
#if !RINGWIRE_TSAN
      t.join();
#endif
      return 0;
    }));
  std::vector<std::uint64_t> next(3, 0), next_t(3, per / 2);
  std::uint64_t got = 0;
  record_view r;
  while (got < 3 * per) {
    ASSERT_EQ(rx.read_for(r, 20s), status::ok) << "after " << got;
    std::uint32_t w;
    std::uint64_t k;
    ASSERT_TRUE(check(r, w, k)) << got;
    if (w >= 10) {
      ASSERT_EQ(k, next_t[w - 10]++);
    } else {
      ASSERT_EQ(k, next[w]++);
    }
    ++got;
  }
  for (pid_t k : kids) EXPECT_EQ(shm_test::wait_child(k), 0);
  EXPECT_EQ(rx.try_read(r), status::empty);  // the segment's own writer count keeps it open
  EXPECT_TRUE(shm::byte_ring::close_writers(seg));
  EXPECT_FALSE(shm::byte_ring::close_writers(seg));
  EXPECT_EQ(rx.read_for(r, 5s), status::closed);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::byte_ring::attach_shared_writer(seg); }), errc::invalid_options);
}

// A many-to-one writer process dies holding a claimed, half-written record; another writer
// keeps writing after it. The reader stops at the dead record (its reads time out), then
// recover() skips exactly that record, the reader gets every record of the live writer,
// and the dead writer's claim is freed once the reader is past its records.
TEST_F(ShmByteRing, RecoverSkipsTheRecordADeadWriterLeftInProgress) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1 << 12, ring_kind::many_to_one, 2));
  auto rx = shm::byte_ring::attach_reader(seg);
  rx.disable_auto_recovery();  // this test drives recover() itself
  const pid_t dying = shm_test::spawn([&] {
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    if (tx.write(1, payload(7, 0)) != status::ok) return 10;  // one committed record first
    auto c = tx.try_reserve(100);
    if (!c) return 11;
    std::memset(c.bytes().data(), 0xab, 50);  // half written, never committed
    std::_Exit(0);
  });
  ASSERT_EQ(shm_test::wait_child(dying), 0);
  auto live = shm::byte_ring::attach_shared_writer(seg);  // the other claim
  for (std::uint64_t k = 0; k < 5; ++k) ASSERT_EQ(live.try_write(type_of(k), payload(1, k)), status::ok);
  record_view r;
  ASSERT_EQ(rx.read_for(r, 5s), status::ok);  // the dead writer's committed record
  std::uint32_t w;
  std::uint64_t k;
  ASSERT_TRUE(check(r, w, k));
  EXPECT_EQ(w, 7u);
  EXPECT_EQ(rx.read_for(r, 50ms), status::timed_out);  // stopped at the abandoned record
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::byte_ring::attach_shared_writer(seg); }),
            errc::too_many_producers);  // the dead claim is reaped, abandoned, not reused
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 1u);
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(rx.read_for(r, 5s), status::ok) << i;
    ASSERT_TRUE(check(r, w, k));
    EXPECT_EQ(w, 1u);
    EXPECT_EQ(k, i);
  }
  EXPECT_EQ(rx.try_read(r), status::empty);
  EXPECT_FALSE(rx.corrupt());
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 0u);  // past the dead writer's tail: its claim is free
  auto again = shm::byte_ring::attach_shared_writer(seg);
  ASSERT_EQ(again.try_write(2, payload(3, 0)), status::ok);
  ASSERT_EQ(rx.read_for(r, 5s), status::ok);
}

// A many-to-one writer process killed right after its claim (its CAS on the tail) and before
// its "in progress" header store leaves a zero header below the tail, and a live writer's
// records follow it. The child recreates that instant: it reserves, stores 0 over the
// header its reservation just stored, and kills itself. The reader stops there (its reads
// time out), recover() skips exactly that claim (the dead writer's span names its room),
// every record of the live writer arrives, and once read past, the dead claim is free.
TEST_F(ShmByteRing, RecoverSkipsTheZeroHeaderOfAWriterKilledRightAfterItsClaim) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1 << 12, ring_kind::many_to_one, 2));
  auto rx = shm::byte_ring::attach_reader(seg);
  auto live = shm::byte_ring::attach_shared_writer(seg);
  for (std::uint64_t k = 0; k < 2; ++k) ASSERT_EQ(live.try_write(type_of(k), payload(1, k)), status::ok);
  const pid_t dying = shm_test::spawn([&] {
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    if (tx.write(1, payload(7, 0)) != status::ok) return 10;  // one committed record first
    const std::uint64_t t = tail_of(seg);
    auto c = tx.try_reserve(100);
    if (!c) return 11;
    auto& h = header_word(seg, t);
    if (reinterpret_cast<std::byte*>(&h) != c.bytes().data() - 8) return 12;
    h.store(0, std::memory_order_relaxed);  // relaxed: the process dies next
    die();
  });
  ASSERT_EQ(shm_test::wait_child(dying), 128 + SIGKILL);
  for (std::uint64_t k = 2; k < 7; ++k) ASSERT_EQ(live.try_write(type_of(k), payload(1, k)), status::ok);
  expect_records(rx, 1, 0, 2);
  expect_records(rx, 7, 0, 1);  // the dead writer's committed record
  record_view r;
  EXPECT_EQ(rx.read_for(r, 50ms), status::timed_out);  // stopped at the zero header
  EXPECT_EQ(header_word(seg, rx.position()).load(std::memory_order_relaxed), 0u);  // relaxed: a peek
  EXPECT_LT(rx.position(), tail_of(seg));
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::byte_ring::attach_shared_writer(seg); }),
            errc::too_many_producers);  // the dead claim is abandoned, not reused
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 1u);
  expect_records(rx, 1, 2, 5);
  expect_dead_claim_freed(seg, rx);  // past the dead writer's tail: its claim is free
}

// The same with a wrap: the killed writer's record did not fit before the end of the ring,
// so its claim is a padding record up to the end and the record at the start, and it died
// before storing either header (both are zero).
TEST_F(ShmByteRing, RecoverSkipsAWrappingClaimWhoseWriterWasKilledRightAfterIt) {
  constexpr std::uint64_t cap = 1 << 12;
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(cap, ring_kind::many_to_one, 2));
  auto rx = shm::byte_ring::attach_reader(seg);
  auto live = shm::byte_ring::attach_shared_writer(seg);
  // Fill up to 64 bytes before the end (31 records of 128 bytes, one of 64), read them all.
  for (int i = 0; i < 31; ++i) ASSERT_EQ(live.try_write(1, std::vector<std::byte>(120)), status::ok);
  ASSERT_EQ(live.try_write(1, std::vector<std::byte>(56)), status::ok);
  ASSERT_EQ(tail_of(seg), cap - 64);
  record_view r;
  for (int i = 0; i < 32; ++i) ASSERT_EQ(rx.read_for(r, 5s), status::ok) << i;
  rx.release();
  const pid_t dying = shm_test::spawn([&] {
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    const std::uint64_t t = tail_of(seg);
    if (t != cap - 64) return 10;
    auto c = tx.try_reserve(200);  // 208 bytes: after a 64-byte padding record, at the start
    if (!c) return 11;
    if (c.bytes().data() - 8 != reinterpret_cast<std::byte*>(&header_word(seg, cap))) return 12;
    // relaxed: the process dies next.
    header_word(seg, t).store(0, std::memory_order_relaxed);
    header_word(seg, cap).store(0, std::memory_order_relaxed);
    die();
  });
  ASSERT_EQ(shm_test::wait_child(dying), 128 + SIGKILL);
  for (std::uint64_t k = 0; k < 5; ++k) ASSERT_EQ(live.try_write(type_of(k), payload(1, k)), status::ok);
  EXPECT_EQ(rx.read_for(r, 50ms), status::timed_out);
  EXPECT_EQ(rx.position(), cap - 64);
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 1u);  // the padding record, up to the end
  EXPECT_EQ(read_recovering(seg, rx, r), 1u);       // the record at the start
  expect_record(r, 1, 0);
  expect_records(rx, 1, 1, 4);
  expect_dead_claim_freed(seg, rx);
}

// Copies: a killed writer process whose three handles (its threads' copies) each held a
// claim; the middle one was killed before its header store, the other two had stored their
// "in progress" headers. recover() skips exactly those three records.
TEST_F(ShmByteRing, RecoverSkipsTheClaimsOfEveryCopyOfAKilledWriter) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1 << 12, ring_kind::many_to_one, 2));
  auto rx = shm::byte_ring::attach_reader(seg);
  const pid_t dying = shm_test::spawn([&] {
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    if (tx.write(1, payload(7, 0)) != status::ok) return 10;
    auto tx2 = tx;
    auto tx3 = tx;
    auto c1 = tx.try_reserve(40);
    const std::uint64_t t2 = tail_of(seg);
    auto c2 = tx2.try_reserve(48);
    auto c3 = tx3.try_reserve(56);
    if (!c1 || !c2 || !c3) return 11;
    std::memset(c1.bytes().data(), 0xab, 20);  // half written, never committed
    std::memset(c3.bytes().data(), 0xcd, 56);  // written, never committed
    auto& h = header_word(seg, t2);
    if (reinterpret_cast<std::byte*>(&h) != c2.bytes().data() - 8) return 12;
    h.store(0, std::memory_order_relaxed);  // relaxed: the process dies next
    die();
  });
  ASSERT_EQ(shm_test::wait_child(dying), 128 + SIGKILL);
  auto live = shm::byte_ring::attach_shared_writer(seg);
  for (std::uint64_t k = 0; k < 5; ++k) ASSERT_EQ(live.try_write(type_of(k), payload(1, k)), status::ok);
  expect_records(rx, 7, 0, 1);
  record_view r;
  EXPECT_EQ(read_recovering(seg, rx, r), 3u);  // one "in progress", one zero, one "in progress"
  expect_record(r, 1, 0);
  expect_records(rx, 1, 1, 4);
  expect_dead_claim_freed(seg, rx);
}

// A stale span: a dead writer's span (a CAS that failed before the process died) may cover a
// zero header and reach further than the room its true (dead) owner claimed, into a live
// writer's committed records. recover() pads only up to the nearest end among the dead
// spans that cover it, so nothing the live writer committed is lost.
TEST_F(ShmByteRing, RecoverPadsAZeroHeaderOnlyToTheNearestEndOfTheDeadSpansOverIt) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1 << 12, ring_kind::many_to_one, 3));
  auto rx = shm::byte_ring::attach_reader(seg);
  rx.disable_auto_recovery();  // the span is forged after the reader stopped at the zero header
  const pid_t owner = shm_test::spawn([&] {  // claim 0: dies right after claiming 112 bytes
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    if (tx.write(1, payload(7, 0)) != status::ok) return 10;
    const std::uint64_t t = tail_of(seg);
    if (!tx.try_reserve(100)) return 11;
    header_word(seg, t).store(0, std::memory_order_relaxed);  // relaxed: the process dies next
    die();
  });
  ASSERT_EQ(shm_test::wait_child(owner), 128 + SIGKILL);
  const pid_t other = shm_test::spawn([&]() -> int {  // claim 1: dies holding nothing
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    die();
  });
  ASSERT_EQ(shm_test::wait_child(other), 128 + SIGKILL);
  auto live = shm::byte_ring::attach_shared_writer(seg);  // claim 2
  ASSERT_TRUE(abandoned(seg, 0) && abandoned(seg, 1));
  const std::uint64_t t = tail_of(seg);  // the zero header's room ends here
  for (std::uint64_t k = 0; k < 5; ++k) ASSERT_EQ(live.try_write(type_of(k), payload(1, k)), status::ok);
  expect_records(rx, 7, 0, 1);
  record_view r;
  EXPECT_EQ(rx.read_for(r, 50ms), status::timed_out);
  const std::uint64_t at = rx.position();
  ASSERT_EQ(at, t - 112);
  // relaxed (all): no other process runs.
  ASSERT_EQ(span_of(seg, 0, 0)[0].load(std::memory_order_relaxed), at);  // the true owner's span
  ASSERT_EQ(span_of(seg, 0, 0)[1].load(std::memory_order_relaxed), t);
  // The forged stale span of the other dead writer: from the zero header over every record
  // the live writer committed after it, up to the tail.
  span_of(seg, 1, 3)[0].store(at, std::memory_order_relaxed);
  span_of(seg, 1, 3)[1].store(tail_of(seg), std::memory_order_relaxed);
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 1u);
  expect_records(rx, 1, 0, 5);
  EXPECT_EQ(rx.try_read(r), status::empty);
  EXPECT_FALSE(rx.corrupt());
}

// A zero header that a live writer's span covers is never skipped: that writer is between
// its claim and its header store, and will store the header. First the live writer's own
// claim (its header store undone); then a dead writer's zero header that a live writer's
// span also covers (forged): recover() waits until that span no longer covers it.
TEST_F(ShmByteRing, RecoverNeverSkipsAZeroHeaderALiveWritersSpanCovers) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1 << 12, ring_kind::many_to_one, 2));
  auto rx = shm::byte_ring::attach_reader(seg);
  auto live = shm::byte_ring::attach_shared_writer(seg);  // claim 0
  ASSERT_EQ(live.try_write(type_of(0), payload(1, 0)), status::ok);
  std::uint64_t t = tail_of(seg);
  const auto p1 = payload(1, 1);
  auto c = live.try_reserve(p1.size());
  ASSERT_TRUE(c);
  std::memcpy(c.bytes().data(), p1.data(), p1.size());
  header_word(seg, t).store(0, std::memory_order_relaxed);  // relaxed: as if not stored yet
  expect_records(rx, 1, 0, 1);
  record_view r;
  EXPECT_EQ(rx.read_for(r, 50ms), status::timed_out);
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 0u);
  EXPECT_EQ(header_word(seg, t).load(std::memory_order_relaxed), 0u);  // relaxed: a peek
  live.commit(type_of(1));
  expect_records(rx, 1, 1, 1);

  t = tail_of(seg);
  const pid_t dying = shm_test::spawn([&] {  // claim 1
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    if (!tx.try_reserve(100)) return 11;
    header_word(seg, t).store(0, std::memory_order_relaxed);  // relaxed: the process dies next
    die();
  });
  ASSERT_EQ(shm_test::wait_child(dying), 128 + SIGKILL);
  ASSERT_EQ(live.try_write(type_of(2), payload(1, 2)), status::ok);
  // The forged span of the live writer's process (a span no handle of it holds) over the
  // dead writer's zero header.
  // relaxed (all): no other process runs.
  span_of(seg, 0, 1)[0].store(t, std::memory_order_relaxed);
  span_of(seg, 0, 1)[1].store(t + 8, std::memory_order_relaxed);
  EXPECT_EQ(rx.read_for(r, 50ms), status::timed_out);
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 0u);
  EXPECT_TRUE(abandoned(seg, 1));  // reaped: the dead writer's own span alone would let it go
  EXPECT_EQ(header_word(seg, t).load(std::memory_order_relaxed), 0u);  // relaxed: a peek
  span_of(seg, 0, 1)[1].store(t, std::memory_order_relaxed);  // the live span is empty again
  EXPECT_EQ(shm::byte_ring::recover(seg, rx), 1u);
  expect_records(rx, 1, 2, 1);
  EXPECT_EQ(rx.try_read(r), status::empty);
  EXPECT_FALSE(rx.corrupt());
}

// One-to-one: a writer dies with a reservation open (nothing of it visible); reap() ends
// the stream after what it committed.
// Without any recover() call: a writer killed right after its claim (zero header) and one
// killed holding a record in progress; the reader's own waits (its peer check reaps them,
// auto_recovery skips what they left) go on to the live writer's records.
TEST_F(ShmByteRing, AWaitingReaderSkipsWhatDeadWritersLeftByItself) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1 << 12, ring_kind::many_to_one, 3));
  auto rx = shm::byte_ring::attach_reader(seg);
  rx.set_wait(ringwire::wait_strategy::park().with_peer_check(20ms));
  for (int zero = 0; zero < 2; ++zero) {
    const pid_t dying = shm_test::spawn([&] {
      auto tx = shm::byte_ring::attach_shared_writer(seg);
      const std::uint64_t t = tail_of(seg);
      if (!tx.try_reserve(100)) return 11;
      // relaxed: the process dies next.
      if (zero == 1) header_word(seg, t).store(0, std::memory_order_relaxed);
      die();
    });
    ASSERT_EQ(shm_test::wait_child(dying), 128 + SIGKILL);
  }
  const pid_t live = shm_test::spawn([&] {
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    for (std::uint64_t k = 0; k < 5; ++k)
      if (tx.write(type_of(k), payload(1, k)) != status::ok) return 10;
    return 0;
  });
  ASSERT_EQ(shm_test::wait_child(live), 0);
  expect_records(rx, 1, 0, 5);
  EXPECT_EQ(rx.skipped_abandoned(), 2u);
  EXPECT_FALSE(rx.corrupt());
}

// A many-to-one reader killed in the middle of release()'s zeroing: the records it had
// consumed are partly zeroed (a zero header at head, below the tail) and head was never
// stored. The next reader finishes that release when it attaches (the layout's
// `releasing`), and reads on after them instead of waiting at the zero header for ever.
TEST_F(ShmByteRing, ANewReaderFinishesTheReleaseAKilledReaderWasZeroing) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1 << 12, ring_kind::many_to_one, 2));
  auto tx = shm::byte_ring::attach_shared_writer(seg);
  for (std::uint64_t k = 0; k < 6; ++k) ASSERT_EQ(tx.try_write(type_of(k), payload(1, k)), status::ok);
  const pid_t dying = shm_test::spawn([&] {
    auto rx = shm::byte_ring::attach_reader(seg);
    record_view r;
    for (int i = 0; i < 3; ++i)
      if (rx.try_read(r) != status::ok) return 10;
    // What release() does first, then the first 8 bytes of its zeroing: the kill lands there.
    // relaxed (both): the process dies next.
    ring_of(seg)->consumer.releasing.store(rx.position(), std::memory_order_relaxed);
    header_word(seg, ring_of(seg)->consumer.head.load(std::memory_order_relaxed)).store(0, std::memory_order_relaxed);
    die();
  });
  ASSERT_EQ(shm_test::wait_child(dying), 128 + SIGKILL);
  EXPECT_EQ(shm::byte_ring::reap(seg).reader_pid, static_cast<std::uint32_t>(dying));
  auto rx = shm::byte_ring::attach_reader(seg);
  expect_records(rx, 1, 3, 3);  // the dead reader's three are gone (it consumed them)
  record_view r;
  EXPECT_EQ(rx.try_read(r), status::empty);
  EXPECT_FALSE(rx.corrupt());
  ASSERT_EQ(tx.try_write(type_of(6), payload(1, 6)), status::ok);
  expect_records(rx, 1, 6, 1);
}

TEST_F(ShmByteRing, ReapEndsTheStreamOfADeadOneToOneWriter) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(256));
  auto rx = shm::byte_ring::attach_reader(seg);
  const pid_t dying = shm_test::spawn([&] {
    auto tx = shm::byte_ring::attach_writer(seg);
    for (std::uint64_t k = 0; k < 3; ++k)
      if (tx.try_write(type_of(k), payload(0, k)) != status::ok) return 10;
    auto c = tx.try_reserve(16);
    if (!c) return 11;
    std::_Exit(0);
  });
  ASSERT_EQ(shm_test::wait_child(dying), 0);
  const auto rep = shm::byte_ring::reap(seg);
  EXPECT_EQ(rep.writers, 1u);
  record_view r;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(rx.read_for(r, 5s), status::ok);
  EXPECT_EQ(rx.read_for(r, 5s), status::closed);
}

// A reader that dies under a blocked writer: reap() closes the ring for the writer.
TEST_F(ShmByteRing, ReapClosesTheRingForAWriterBlockedOnADeadReader) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(256));

  int attached[2];
  ASSERT_EQ(::pipe(attached), 0);
  const pid_t reader = shm_test::spawn([&] {
    auto rx2 = shm::byte_ring::attach_reader(seg);
    (void)!::write(attached[1], "a", 1);
    ::pause();
    return 0;
  });
  char ch;
  ASSERT_EQ(::read(attached[0], &ch, 1), 1);
  ::close(attached[0]);
  ::close(attached[1]);
  auto tx = shm::byte_ring::attach_writer(seg);
  std::vector<std::byte> big(100);
  int written = 0;
  while (tx.try_write(1, big) == status::ok) ++written;
  EXPECT_GT(written, 0);
  EXPECT_FALSE(tx.is_closed());  // full, not closed: the reader is attached
  std::atomic<int> result{-1};
  std::thread t([&] { result = static_cast<int>(tx.write(1, big)); });  // full: waits
  ::kill(reader, SIGKILL);
  EXPECT_EQ(shm_test::wait_child(reader), 128 + SIGKILL);
  EXPECT_EQ(shm::byte_ring::reap(seg).reader_pid, static_cast<std::uint32_t>(reader));
  t.join();
  EXPECT_EQ(result.load(), static_cast<int>(status::closed));
}

}  // namespace
