// tests/byte_ring/byte_ring_stats_test.cpp -- the counters a byte ring keeps in its memory
// (byte_ring/stats.hpp), both kinds: exact values after a known sequence (full and empty
// events; a reader and a writer each seen asleep in the futex through /proc, then woken by
// the other side), that metrics off counts nothing while the indices still move, shared
// writers counting together, and a monitor reading while a writer and the reader run.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "support/byte_ring_kinds.hpp"
#include "support/stress_scale.hpp"
#include "support/unit_support.hpp"

namespace {

namespace br = ringwire::byte_ring;
using ringwire::status;

template <class P>
class ByteRingStats : public ::testing::Test {};
TYPED_TEST_SUITE(ByteRingStats, bytes_test::byte_ring_kinds);

// A 64-byte ring holds exactly two records of 24 payload bytes (32 bytes each).
constexpr std::size_t cap = 64;
constexpr std::size_t rec = 32;
const std::vector<std::byte> payload(24, std::byte{0x5a});

br::options with(bool metrics) {
  br::options o;
  o.sender_wait = ringwire::wait_strategy::park(0);
  o.receiver_wait = ringwire::wait_strategy::park(0);
  o.metrics = metrics;
  return o;
}

// The known sequence: 3 empty events, 2 full events, one park and one wake on each side,
// five records written (1, 2, 4, 5, 6: 160 bytes) and three released (1, 2, 4: 96 bytes).
// Returns the final snapshot as the reader's monitor reads it.
template <class W>
br::stats run_sequence(W& tx, br::reader<>& rx) {
  br::record_view r;
  EXPECT_EQ(rx.try_read(r), status::empty);  // empty 1
  EXPECT_EQ(tx.try_write(1, payload), status::ok);
  EXPECT_EQ(tx.try_write(2, payload), status::ok);
  EXPECT_EQ(tx.try_write(3, payload), status::full);  // full 1
  EXPECT_EQ(rx.read_batch(10, [](std::int32_t, std::span<const std::byte>) {}), 2u);  // nobody parked: no wake
  EXPECT_EQ(rx.try_read(r), status::empty);  // empty 2

  // The reader parks on the empty ring (empty 3, reader park 1); a commit wakes it (reader wake 1).
  std::atomic<pid_t> reader_tid{0};
  auto reading = std::async(std::launch::async, [&] {
    reader_tid = rw_test::this_tid();
    br::record_view got;
    const status s = rx.read(got);
    return s == status::ok ? got.type : -1;
  });
  EXPECT_TRUE(rw_test::wait_until_asleep(reader_tid));
  EXPECT_EQ(tx.try_write(4, payload), status::ok);
  EXPECT_EQ(rw_test::must_finish(reading, "parked read"), 4);

  // Record 4 is read, not released: with record 5 the ring is full again. The writer parks
  // (full 2, writer park 1); the reader's release wakes it (writer wake 1).
  EXPECT_EQ(tx.try_write(5, payload), status::ok);
  std::atomic<pid_t> writer_tid{0};
  auto writing = std::async(std::launch::async, [&] {
    writer_tid = rw_test::this_tid();
    return tx.write(6, payload);
  });
  EXPECT_TRUE(rw_test::wait_until_asleep(writer_tid));
  rx.release();
  EXPECT_EQ(rw_test::must_finish(writing, "parked write"), status::ok);
  return rx.make_monitor().snapshot();
}

TYPED_TEST(ByteRingStats, EveryCounterHasItsExactValue) {
  if (!rw_test::can_observe_parking()) GTEST_SKIP() << "/proc cannot show a parked thread: the parks cannot be counted";
  auto [tx, rx] = TypeParam::make(cap, with(true));
  const br::stats s = run_sequence(tx, rx);
  EXPECT_EQ(s.capacity, cap);
  EXPECT_EQ(s.written_bytes, 5 * rec);
  EXPECT_EQ(s.read_bytes, 3 * rec);
  EXPECT_EQ(s.used_bytes(), 2 * rec);
  EXPECT_EQ(s.writers, 1u);
  EXPECT_FALSE(s.reader_closed);
  EXPECT_EQ(s.full_events, 2u);
  EXPECT_EQ(s.writer_parks, 1u);
  EXPECT_EQ(s.reader_wakes, 1u);
  EXPECT_EQ(s.empty_events, 3u);
  EXPECT_EQ(s.reader_parks, 1u);
  EXPECT_EQ(s.writer_wakes, 1u);
  // Every endpoint's monitor reads the same memory.
  const br::stats w = tx.make_monitor().snapshot();
  EXPECT_EQ(w.full_events, 2u);
  EXPECT_EQ(w.written_bytes, 5 * rec);
}

TYPED_TEST(ByteRingStats, MetricsOffCountsNothingButTheIndicesMove) {
  if (!rw_test::can_observe_parking()) GTEST_SKIP() << "/proc cannot show a parked thread: the parks cannot be counted";
  auto [tx, rx] = TypeParam::make(cap, with(false));
  const br::stats s = run_sequence(tx, rx);
  EXPECT_EQ(s.written_bytes, 5 * rec);
  EXPECT_EQ(s.read_bytes, 3 * rec);
  EXPECT_EQ(s.writers, 1u);
  EXPECT_EQ(s.full_events, 0u);
  EXPECT_EQ(s.writer_parks, 0u);
  EXPECT_EQ(s.reader_wakes, 0u);
  EXPECT_EQ(s.empty_events, 0u);
  EXPECT_EQ(s.reader_parks, 0u);
  EXPECT_EQ(s.writer_wakes, 0u);
}

// A monitor keeps a heap ring alive and shows both sides closed once they are gone.
TYPED_TEST(ByteRingStats, AMonitorOutlivesTheEndpoints) {
  br::monitor<> m;
  EXPECT_EQ(m.snapshot().capacity, 0u);  // empty: a default snapshot
  {
    auto [tx, rx] = TypeParam::make(cap, with(true));
    m = tx.make_monitor();
    ASSERT_EQ(tx.try_write(1, payload), status::ok);
  }
  const br::stats s = m.snapshot();
  EXPECT_EQ(s.capacity, cap);
  EXPECT_EQ(s.written_bytes, rec);
  EXPECT_EQ(s.read_bytes, 0u);
  EXPECT_EQ(s.writers, 0u);
  EXPECT_TRUE(s.reader_closed);
}

// Many-to-one copies add to one set of counters (a copy keeps options::metrics).
TEST(ByteRingStatsManyToOne, CopiesCountFullEventsTogether) {
  auto [a, rx] = br::many_to_one(cap, with(true));
  auto b = a;
  ASSERT_EQ(a.try_write(1, payload), status::ok);
  ASSERT_EQ(b.try_write(2, payload), status::ok);
  EXPECT_EQ(a.try_write(3, payload), status::full);
  EXPECT_EQ(b.try_write(3, payload), status::full);
  EXPECT_EQ(b.try_reserve(1).status(), status::full);
  const br::stats s = rx.make_monitor().snapshot();
  EXPECT_EQ(s.full_events, 3u);
  EXPECT_EQ(s.writers, 2u);
  EXPECT_EQ(s.kind, br::ring_kind::many_to_one);
}

// A monitor reads while writers and the reader run (TSan: the relaxed counters race with
// nothing). What it reads only grows, never shows more than capacity in the ring, and ends
// at exactly what was written.
TYPED_TEST(ByteRingStats, AMonitorReadsWhileTheRingRuns) {
  const std::uint64_t n = rw_test::scaled(50000);
  br::options o = with(true);
  o.sender_wait = ringwire::wait_strategy::park(64);
  o.receiver_wait = ringwire::wait_strategy::park(64);
  auto [tx, rx] = TypeParam::make(256, o);
  const br::monitor<> m = rx.make_monitor();
  std::atomic<bool> done{false};
  std::thread reader([&, r = std::move(rx)]() mutable {
    br::record_view v;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (r.read(v) != status::ok || v.payload.size() != payload.size()) {
        ADD_FAILURE() << "record " << i;
        break;
      }
    }
    r.release();  // read_bytes is the head: what the reader gave back
    br::record_view end;
    EXPECT_EQ(r.read(end), status::closed);
    done = true;
  });
  std::thread writer([&, w = std::move(tx)]() mutable {
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(w.write(1, payload), status::ok);
  });
  br::stats last;
  std::uint64_t snapshots = 0;
  while (!done) {
    const br::stats s = m.snapshot();
    ++snapshots;
    EXPECT_GE(s.written_bytes, last.written_bytes);
    EXPECT_GE(s.read_bytes, last.read_bytes);
    EXPECT_GE(s.written_bytes, s.read_bytes);
    EXPECT_LE(s.written_bytes, n * rec);
    EXPECT_LE(s.used_bytes(), s.capacity);
    EXPECT_GE(s.full_events, last.full_events);
    EXPECT_GE(s.empty_events, last.empty_events);
    EXPECT_GE(s.writer_parks, last.writer_parks);
    EXPECT_GE(s.reader_parks, last.reader_parks);
    last = s;
  }
  writer.join();
  reader.join();
  const br::stats s = m.snapshot();
  EXPECT_GT(snapshots, 0u);
  EXPECT_EQ(s.written_bytes, n * rec);
  EXPECT_EQ(s.read_bytes, n * rec);
  EXPECT_EQ(s.writers, 0u);
  EXPECT_TRUE(s.reader_closed);
}

}  // namespace
