// tests/unit/shm_byte_ring_test.cpp -- byte rings in a shared-memory segment: both kinds
// between processes with every record checked, the end of the stream, kind checks, and
// crash recovery: a one-to-one writer that dies with a reservation open, a reader that
// dies under a blocked writer, and a many-to-one writer that dies in the middle of a record
// while others keep writing (recover() skips exactly that record).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "ringwire/shm/byte_ring.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::status;
using ringwire::byte_ring::record_view;
using ringwire::byte_ring::ring_kind;
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
  const pid_t dying = shm_test::spawn([&] {
    auto tx = shm::byte_ring::attach_shared_writer(seg);
    if (tx.write(1, payload(7, 0)) != status::ok) return 10;  // one committed record first
    auto c = tx.try_reserve(100);
    if (!c) return 11;
    std::memset(c.bytes.data(), 0xab, 50);  // half written, never committed
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

// One-to-one: a writer dies with a reservation open (nothing of it visible); reap() ends
// the stream after what it committed.
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
