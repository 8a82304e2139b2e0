// tests/byte_broadcast/byte_broadcast_stats_test.cpp -- the counters a byte broadcast ring
// keeps in its memory (byte_broadcast/stats.hpp): exact values after a known sequence
// (credit waits; a credited reader and the writer each seen asleep in the futex through
// /proc, then woken), when a credited reader shows its counters, that metrics off counts
// nothing while the head and cursors still move, that an entry's next occupant starts at
// zero, and a monitor reading while the writer and a credited reader run.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

#include "ringwire/byte_broadcast.hpp"
#include "support/stress_scale.hpp"
#include "support/unit_support.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
using ringwire::status;

// Depth 4: a credited reader at cursor c lets the writer publish up to c + 3.
constexpr bb::geometry g{4, 1024, 64, 2};
const std::vector<std::byte> msg(16, std::byte{0x3c});

bb::options with(bool metrics) {
  bb::options o;
  o.metrics = metrics;
  return o;
}

const bb::credited_reader_stats& only(const bb::stats& s) {
  EXPECT_EQ(s.credited_readers.size(), 1u);
  return s.credited_readers.at(0);
}

TEST(ByteBroadcastStats, CreditWaitsAndWhatACreditedReaderShows) {
  auto [w, r] = bb::channel(g, with(true));
  auto c = r.credited();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(w.try_write(1, msg), status::ok);
  EXPECT_EQ(w.try_write(1, msg), status::full);
  EXPECT_EQ(w.try_write(1, msg), status::full);
  bb::stats s = w.make_monitor().snapshot();
  EXPECT_EQ(s.depth, 4u);
  EXPECT_EQ(s.max_credited, 2u);
  EXPECT_EQ(s.published, 4u);
  EXPECT_EQ(s.credit_waits, 2u);
  EXPECT_EQ(only(s).entry, c.entry());
  EXPECT_EQ(only(s).cursor, 1u);
  EXPECT_EQ(only(s).lag, 4u);

  std::vector<std::byte> buf(64);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.try_read(buf));
  s = c.make_monitor().snapshot();
  EXPECT_EQ(only(s).cursor, 5u);  // shown per message: the credits need it
  EXPECT_EQ(only(s).lag, 0u);
  EXPECT_EQ(only(s).received, 0u) << "received is shown on slow paths only, not per message";
  EXPECT_EQ(c.try_read(buf).status(), status::empty);
  s = c.make_monitor().snapshot();
  EXPECT_EQ(only(s).received, 4u) << "an empty read shows it";
  EXPECT_EQ(only(s).parks, 0u);
  EXPECT_EQ(s.writer_parks, 0u);
  EXPECT_EQ(s.reader_wakes, 0u);
  EXPECT_EQ(s.max_lag(), 0u);
  // A lossy reader has no entry: only the credited one is listed.
  EXPECT_TRUE(r.try_read(buf));
  EXPECT_EQ(r.make_monitor().snapshot().credited_readers.size(), 1u);
}

// The known sequence: a credited reader parks on the empty ring and a publish wakes it
// (reader park 1, reader wake 1); the writer parks for credits and the reader's progress
// wakes it (credit wait 1, writer park 1). Six messages in all, every one read.
bb::stats run_sequence(bb::writer<>& w, bb::credited_reader<>& c) {
  c.set_wait(ringwire::wait_strategy::park(0));
  w.set_wait(ringwire::wait_strategy::park(0));
  std::atomic<pid_t> reader_tid{0};
  auto reading = std::async(std::launch::async, [&] {
    reader_tid = rw_test::this_tid();
    std::vector<std::byte> buf(64);
    return c.read(buf).status();
  });
  EXPECT_TRUE(rw_test::wait_until_asleep(reader_tid));
  EXPECT_EQ(w.try_write(1, msg), status::ok);  // message 1: rings the bell
  EXPECT_EQ(rw_test::must_finish(reading, "parked read"), status::ok);

  for (int i = 2; i <= 5; ++i) EXPECT_EQ(w.try_write(1, msg), status::ok);  // the reader is at 2: 5 is the last
  std::atomic<pid_t> writer_tid{0};
  auto writing = std::async(std::launch::async, [&] {
    writer_tid = rw_test::this_tid();
    return w.write(1, msg);  // message 6: waits for credits
  });
  EXPECT_TRUE(rw_test::wait_until_asleep(writer_tid));
  std::vector<std::byte> buf(64);
  EXPECT_TRUE(c.try_read(buf));  // message 2: its cursor store wakes the writer
  EXPECT_EQ(rw_test::must_finish(writing, "parked write"), status::ok);
  for (int i = 3; i <= 6; ++i) EXPECT_TRUE(c.try_read(buf));
  EXPECT_EQ(c.try_read(buf).status(), status::empty);  // caught up: shows received
  return w.make_monitor().snapshot();
}

TEST(ByteBroadcastStats, EveryCounterHasItsExactValue) {
  if (!rw_test::can_observe_parking()) GTEST_SKIP() << "/proc cannot show a parked thread: the parks cannot be counted";
  auto [w, r] = bb::channel(g, with(true));
  auto c = r.credited();
  const bb::stats s = run_sequence(w, c);
  EXPECT_EQ(s.published, 6u);
  EXPECT_FALSE(s.closed);
  EXPECT_EQ(s.credit_waits, 1u);
  EXPECT_EQ(s.writer_parks, 1u);
  EXPECT_EQ(s.reader_wakes, 1u);
  EXPECT_EQ(only(s).cursor, 7u);
  EXPECT_EQ(only(s).lag, 0u);
  EXPECT_EQ(only(s).received, 6u);
  EXPECT_EQ(only(s).parks, 1u);
  // The endpoints' own counts agree.
  EXPECT_EQ(w.parks(), 1u);
  EXPECT_EQ(w.wakes(), 1u);
  EXPECT_EQ(c.parks(), 1u);
}

TEST(ByteBroadcastStats, MetricsOffCountsNothingButTheHeadAndCursorsMove) {
  if (!rw_test::can_observe_parking()) GTEST_SKIP() << "/proc cannot show a parked thread: the parks cannot be counted";
  auto [w, r] = bb::channel(g, with(false));
  auto c = r.credited();
  const bb::stats s = run_sequence(w, c);
  EXPECT_EQ(s.published, 6u);
  EXPECT_EQ(only(s).cursor, 7u);
  EXPECT_EQ(s.credit_waits, 0u);
  EXPECT_EQ(s.writer_parks, 0u);
  EXPECT_EQ(s.reader_wakes, 0u);
  EXPECT_EQ(only(s).received, 0u);
  EXPECT_EQ(only(s).parks, 0u);
  EXPECT_EQ(w.parks(), 1u) << "the sequence did park";
}

TEST(ByteBroadcastStats, AnEntrysNextOccupantStartsAtZero) {
  auto [w, r] = bb::channel(g, with(true));
  std::vector<std::byte> buf(64);
  {
    auto first = r.credited();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(w.try_write(1, msg), status::ok);
    while (first.try_read(buf)) {
    }
    EXPECT_EQ(only(w.make_monitor().snapshot()).received, 3u);
  }
  EXPECT_TRUE(w.make_monitor().snapshot().credited_readers.empty());
  ASSERT_EQ(w.try_write(1, msg), status::ok);
  ASSERT_TRUE(r.try_read(buf));  // the lossy base reader's own count (1) is not the entry's
  auto second = r.credited();
  bb::stats s = w.make_monitor().snapshot();
  EXPECT_EQ(only(s).entry, 0u);
  EXPECT_EQ(only(s).received, 0u);
  ASSERT_EQ(w.try_write(1, msg), status::ok);
  ASSERT_TRUE(second.try_read(buf));
  EXPECT_EQ(second.try_read(buf).status(), status::empty);
  s = w.make_monitor().snapshot();
  EXPECT_EQ(only(s).received, 1u);
  EXPECT_EQ(second.received(), 2u) << "the endpoint counts from its base reader";
}

// A monitor reads while the writer and a credited reader run (TSan: the relaxed words race
// with nothing); what it reads only grows and ends at exactly what was written.
TEST(ByteBroadcastStats, AMonitorReadsWhileTheRingRuns) {
  const std::uint64_t n = rw_test::scaled(50000);
  auto [w, r] = bb::channel(bb::geometry{64, 4096, 64, 1}, with(true));
  auto c = r.credited();
  const bb::monitor<> m = w.make_monitor();
  std::atomic<bool> done{false};
  std::thread reader([&, cr = std::move(c)]() mutable {
    cr.set_wait(ringwire::wait_strategy::park(64));
    std::vector<std::byte> buf(64);
    for (std::uint64_t i = 1; i <= n; ++i) {
      const bb::read_result got = cr.read(buf);
      if (!got || got.info().seq != i) {
        ADD_FAILURE() << "message " << i << ": " << ringwire::to_string(got.status());
        break;
      }
    }
    EXPECT_EQ(cr.read(buf).status(), status::closed);
    done = true;
  });
  std::thread writer([&, wr = std::move(w)]() mutable {
    wr.set_wait(ringwire::wait_strategy::park(64));
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(wr.write(1, msg), status::ok);
  });
  bb::stats last;
  std::uint64_t snapshots = 0;
  while (!done) {
    const bb::stats s = m.snapshot();
    ++snapshots;
    EXPECT_GE(s.published, last.published);
    EXPECT_LE(s.published, n);
    EXPECT_GE(s.credit_waits, last.credit_waits);
    EXPECT_GE(s.writer_parks, last.writer_parks);
    EXPECT_GE(s.reader_wakes, last.reader_wakes);
    EXPECT_LE(s.credited_readers.size(), 1u);
    if (!s.credited_readers.empty()) {
      EXPECT_LE(s.credited_readers[0].lag, 64u) << "credits: never more than depth behind";
      if (!last.credited_readers.empty()) {
        EXPECT_GE(s.credited_readers[0].cursor, last.credited_readers[0].cursor);
        EXPECT_GE(s.credited_readers[0].received, last.credited_readers[0].received);
      }
    }
    last = s;
  }
  writer.join();
  reader.join();
  const bb::stats s = m.snapshot();
  EXPECT_GT(snapshots, 0u);
  EXPECT_EQ(s.published, n);
  EXPECT_TRUE(s.closed);
  EXPECT_TRUE(s.credited_readers.empty()) << "the reader left its entry";
}

}  // namespace
