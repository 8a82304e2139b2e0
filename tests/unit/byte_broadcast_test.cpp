// Unit tests for ringwire::byte_broadcast: every edge on one thread (exact counts), the
// zero-copy validate-after-use rule, credits, attach/validation and close.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "ringwire/byte_broadcast.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
using bb::read_status;
using ringwire::status;

std::vector<std::byte> bytes_of(std::uint64_t seed, std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((seed * 131 + i * 7) & 0xff);
  return v;
}

bb::geometry small(std::uint64_t depth = 8, std::uint64_t region = 1024, std::uint64_t max = 256,
                   std::uint32_t credited = 0) {
  return bb::geometry{depth, region, max, credited};
}

TEST(ByteBroadcast, EmptyThenOneMessage) {
  auto [w, r] = bb::channel(small());
  std::vector<std::byte> buf(256);
  EXPECT_EQ(r.try_read(buf).status, read_status::empty);
  const auto msg = bytes_of(1, 13);
  ASSERT_EQ(w.publish(77, msg), status::ok);
  const bb::read_result m = r.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info.seq, 1u);
  EXPECT_EQ(m.info.signature, 77u);
  EXPECT_EQ(m.info.size, 13u);
  EXPECT_EQ(m.info.ctl, bb::ctl_whole);
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
  EXPECT_EQ(r.try_read(buf).status, read_status::empty);
  EXPECT_EQ(r.received(), 1u);
  EXPECT_EQ(r.missed(), 0u);
}

TEST(ByteBroadcast, WrapsMetadataAndPayloadKeepingUpReader) {
  auto [w, r] = bb::channel(small(4, 256, 128));
  std::vector<std::byte> buf(128);
  for (std::uint64_t i = 1; i <= 200; ++i) {
    const auto msg = bytes_of(i, static_cast<std::size_t>((i * 37) % 129));  // 0..128, odd sizes
    ASSERT_EQ(w.publish(i, msg), status::ok);
    const auto m = r.try_read(buf);
    ASSERT_TRUE(m) << bb::to_string(m.status) << " at " << i;
    ASSERT_EQ(m.info.seq, i);
    ASSERT_EQ(m.info.size, msg.size());
    ASSERT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
  }
  EXPECT_EQ(r.received(), 200u);
  EXPECT_EQ(r.missed(), 0u);
}

TEST(ByteBroadcast, ExactMaxZeroLengthAndTooLarge) {
  auto [w, r] = bb::channel(small(8, 1024, 300));
  std::vector<std::byte> buf(300);
  const auto big = bytes_of(5, 300);
  ASSERT_EQ(w.publish(1, big), status::ok);
  ASSERT_EQ(w.publish(2, {}), status::ok);
  const auto too = bytes_of(6, 301);
  try {
    (void)w.publish(3, too);
    FAIL() << "no error";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::message_too_large);
  }
  EXPECT_EQ(w.published(), 2u);  // nothing went in
  auto m = r.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info.size, 300u);
  EXPECT_TRUE(std::equal(big.begin(), big.end(), buf.begin()));
  m = r.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info.size, 0u);
  EXPECT_EQ(m.info.signature, 2u);
  EXPECT_EQ(r.try_read(buf).status, read_status::empty);
}

TEST(ByteBroadcast, BadGeometryIsRejected) {
  EXPECT_THROW(bb::channel(small(3)), ringwire::error);           // depth not a power of two
  EXPECT_THROW(bb::channel(small(8, 1000)), ringwire::error);     // region not a power of two
  EXPECT_THROW(bb::channel(small(8, 1024, 520)), ringwire::error);  // max > region / 2
}

TEST(ByteBroadcast, TooSmallBufferConsumesNothing) {
  auto [w, r] = bb::channel(small());
  const auto msg = bytes_of(9, 40);
  ASSERT_EQ(w.publish(1, msg), status::ok);
  std::vector<std::byte> tiny(39), buf(40);
  const auto m = r.try_read(tiny);
  EXPECT_EQ(m.status, read_status::too_small);
  EXPECT_EQ(m.info.size, 40u);
  EXPECT_EQ(r.next_seq(), 1u);
  ASSERT_TRUE(r.try_read(buf));
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
}

TEST(ByteBroadcast, LappedReaderGetsExactMissedCountAndResyncs) {
  auto [w, r] = bb::channel(small(8, 4096, 64));
  std::vector<std::byte> buf(64);
  for (std::uint64_t i = 1; i <= 30; ++i) ASSERT_EQ(w.publish(i, bytes_of(i, 16)), status::ok);
  const auto lag = r.try_read(buf);
  ASSERT_EQ(lag.status, read_status::lagged);
  EXPECT_EQ(lag.missed, 30u - 8u);  // the ring holds 23..30
  EXPECT_EQ(r.next_seq(), 23u);
  for (std::uint64_t i = 23; i <= 30; ++i) {
    const auto m = r.try_read(buf);
    ASSERT_TRUE(m) << bb::to_string(m.status);
    EXPECT_EQ(m.info.seq, i);
    EXPECT_EQ(m.info.signature, i);
  }
  EXPECT_EQ(r.try_read(buf).status, read_status::empty);
  EXPECT_EQ(r.received() + r.missed(), 30u);
}

TEST(ByteBroadcast, OverwrittenPayloadsAreSkippedAndCounted) {
  // A deep metadata ring over a small region: payload is lost before metadata.
  auto [w, r] = bb::channel(small(64, 256, 64));
  std::vector<std::byte> buf(64);
  for (std::uint64_t i = 1; i <= 20; ++i) ASSERT_EQ(w.publish(i, bytes_of(i, 64)), status::ok);
  std::uint64_t ok = 0, overrun = 0, last = 0;
  for (;;) {
    const std::uint64_t expected = r.next_seq();
    const auto m = r.try_read(buf);
    if (m.status == read_status::empty) break;
    overrun += m.missed;  // the run of overwritten payloads skipped before this result
    if (m) {
      ASSERT_EQ(m.info.seq, expected + m.missed);
      ++ok;
      ASSERT_GT(m.info.seq, last);
      last = m.info.seq;
      const auto want = bytes_of(m.info.seq, 64);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));
    } else {
      ASSERT_EQ(m.status, read_status::overrun);
    }
  }
  EXPECT_EQ(last, 20u);  // the newest message is always intact
  EXPECT_EQ(ok, 3u);     // dirty = 20 * 64 + 256 / 8: messages at pos >= 1056 are intact
  EXPECT_EQ(overrun, 17u);
  EXPECT_EQ(ok + overrun, 20u);
  EXPECT_EQ(r.received() + r.missed(), 20u);
}

TEST(ByteBroadcast, SignatureFilterSkipsWithoutCountingMissed) {
  auto [w, r] = bb::channel(small());
  r.set_filter(0x100, 0xff00);
  for (std::uint64_t i = 1; i <= 6; ++i) ASSERT_EQ(w.publish(i % 2 ? 0x1A0 + i : 0x2A0 + i, bytes_of(i, 8)), status::ok);
  std::vector<std::byte> buf(8);
  std::vector<std::uint64_t> got;
  for (bb::read_result m = r.try_read(buf); m; m = r.try_read(buf)) got.push_back(m.info.seq);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 3, 5}));
  EXPECT_EQ(r.filtered(), 3u);
  EXPECT_EQ(r.missed(), 0u);
}

TEST(ByteBroadcast, ZeroCopyViewValidatedAfterUse) {
  auto ch = bb::channel(small(8, 256, 64));
  bb::writer<>& w = ch.first;  // a named variable: fn below captures it
  bb::reader<>& r = ch.second;
  const auto msg = bytes_of(3, 24);
  ASSERT_EQ(w.publish(5, msg), status::ok);
  std::vector<std::byte> seen;
  auto m = r.try_read_view([&](const bb::message_info& info, std::span<const std::byte> v) {
    EXPECT_EQ(info.size, 24u);
    seen.assign(v.begin(), v.end());
  });
  ASSERT_TRUE(m);
  EXPECT_EQ(seen, msg);

  // The writer overwrites the payload while fn holds the view: the read must say so.
  ASSERT_EQ(w.publish(6, bytes_of(4, 64)), status::ok);
  m = r.try_read_view([&](const bb::message_info&, std::span<const std::byte>) {
    for (std::uint64_t i = 0; i < 8; ++i) ASSERT_EQ(w.publish(100 + i, bytes_of(100 + i, 64)), status::ok);
  });
  EXPECT_TRUE(m.status == read_status::overrun || m.status == read_status::lagged) << bb::to_string(m.status);
  EXPECT_GE(m.missed, 1u);
  EXPECT_EQ(r.received(), 1u);
}

TEST(ByteBroadcast, CopyingReadDuringOverwriteIsRejected) {
  // Same as above, for the copying read: an overwrite between the pre-check and the
  // validation is simulated by a lap of metadata and payload before the read.
  auto [w, r] = bb::channel(small(4, 256, 64));
  std::vector<std::byte> buf(64);
  ASSERT_EQ(w.publish(1, bytes_of(1, 64)), status::ok);
  ASSERT_TRUE(r.try_read(buf));
  for (std::uint64_t i = 2; i <= 9; ++i) ASSERT_EQ(w.publish(i, bytes_of(i, 64)), status::ok);
  const auto m = r.try_read(buf);
  EXPECT_NE(m.status, read_status::ok);
  EXPECT_GE(m.missed, 1u);
}

TEST(ByteBroadcast, ReaderCopiesAreIndependentAndOldestStart) {
  auto [w, r] = bb::channel(small(4, 1024, 64));
  for (std::uint64_t i = 1; i <= 6; ++i) ASSERT_EQ(w.publish(i, bytes_of(i, 8)), status::ok);
  // A copy starts where r is (message 1, long overwritten) and moves on alone.
  std::vector<std::byte> buf(64);
  bb::reader<> copy = r;
  EXPECT_EQ(copy.try_read(buf).status, read_status::lagged);
  const auto m = copy.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info.seq, 3u);
  EXPECT_EQ(r.next_seq(), 1u);
}

TEST(ByteBroadcast, TimestampsAreMonotonic) {
  auto [w, r] = bb::channel(small(16, 1024, 64));
  for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_EQ(w.publish(i, bytes_of(i, 8)), status::ok);
  std::vector<std::byte> buf(64);
  std::uint64_t prev = 0;
  for (int i = 0; i < 10; ++i) {
    const auto m = r.try_read(buf);
    ASSERT_TRUE(m);
    EXPECT_GT(m.info.tspub, 0u);
    EXPECT_GE(m.info.tspub, prev);
    prev = m.info.tspub;
  }
}

TEST(ByteBroadcast, CloseDrainsThenClosed) {
  auto [w, r] = bb::channel(small());
  ASSERT_EQ(w.publish(1, bytes_of(1, 8)), status::ok);
  ASSERT_EQ(w.publish(2, bytes_of(2, 8)), status::ok);
  w.close();
  EXPECT_EQ(w.publish(3, bytes_of(3, 8)), status::closed);
  std::vector<std::byte> buf(8);
  EXPECT_TRUE(r.try_read(buf));
  EXPECT_TRUE(r.read(buf));
  EXPECT_EQ(r.try_read(buf).status, read_status::closed);
  EXPECT_EQ(r.read(buf).status, read_status::closed);
}

TEST(ByteBroadcast, CtlFlagsTravel) {
  auto [w, r] = bb::channel(small());
  ASSERT_EQ(w.publish(1, bytes_of(1, 8), bb::ctl_som), status::ok);
  ASSERT_EQ(w.publish(1, bytes_of(2, 8), bb::ctl_eom | bb::ctl_err), status::ok);
  std::vector<std::byte> buf(8);
  EXPECT_EQ(r.try_read(buf).info.ctl, bb::ctl_som);
  EXPECT_EQ(r.try_read(buf).info.ctl, bb::ctl_eom | bb::ctl_err);
}

TEST(ByteBroadcastCredits, WriterReportsFullWhileCreditedReaderIsBehind) {
  auto [w, r] = bb::channel(small(4, 1024, 64, 2));
  auto c = r.credited();
  std::vector<std::byte> buf(64);
  std::uint64_t n = 0;
  while (w.try_publish(n + 1, bytes_of(n + 1, 8)) == status::ok) ++n;
  EXPECT_EQ(n, 4u);  // exactly the depth: the oldest unread message is never overwritten
  EXPECT_EQ(w.try_publish(99, bytes_of(99, 8)), status::full);
  auto m = c.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info.seq, 1u);
  EXPECT_EQ(w.try_publish(5, bytes_of(5, 8)), status::ok);
  EXPECT_EQ(w.try_publish(6, bytes_of(6, 8)), status::full);
  for (std::uint64_t i = 2; i <= 5; ++i) {
    m = c.try_read(buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(m.info.seq, i);
  }
  EXPECT_EQ(c.missed(), 0u);
  EXPECT_GT(w.rescans(), 0u);
}

TEST(ByteBroadcastCredits, PayloadCreditsBlockToo) {
  // 4 messages of 256 B fill a 1 KiB region while the metadata ring (64) has room.
  auto [w, r] = bb::channel(small(64, 1024, 256, 1));
  auto c = r.credited();
  std::uint64_t n = 0;
  while (w.try_publish(n + 1, bytes_of(n + 1, 256)) == status::ok) ++n;
  EXPECT_EQ(n, 3u);  // the region less the dirty step (region / 8): message 1 stays intact
  std::vector<std::byte> buf(256);
  std::uint64_t got = 0;
  for (int round = 0; round < 50; ++round) {
    while (auto m = c.try_read(buf)) {
      ASSERT_EQ(m.info.seq, got + 1);
      const auto want = bytes_of(m.info.seq, 256);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));
      ++got;
    }
    while (w.try_publish(n + 1, bytes_of(n + 1, 256)) == status::ok) ++n;
  }
  while (auto m = c.try_read(buf)) ++got;
  EXPECT_EQ(got, n);
  EXPECT_EQ(c.missed(), 0u);
}

TEST(ByteBroadcastCredits, NoCreditsOrFullRegistryIsAnError) {
  auto [w, r] = bb::channel(small());
  try {
    (void)r.credited();
    FAIL() << "no error";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::invalid_options);
  }
  auto [w2, r2] = bb::channel(small(8, 1024, 64, 1));
  auto c = r2.credited();
  try {
    (void)r2.credited();
    FAIL() << "no error";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::too_many_subscribers);
  }
  { auto moved = std::move(c); }  // leaving frees the entry
  EXPECT_NO_THROW((void)r2.credited());
}

TEST(ByteBroadcastCredits, LeavingReaderUnblocksWriter) {
  auto [w, r] = bb::channel(small(4, 1024, 64, 1));
  std::uint64_t n = 0;
  {
    auto c = r.credited();
    while (w.try_publish(1, bytes_of(1, 8)) == status::ok) ++n;
    EXPECT_EQ(n, 4u);
  }
  EXPECT_EQ(w.try_publish(1, bytes_of(1, 8)), status::ok);
}

struct aligned_buffer {
  std::size_t size;
  std::unique_ptr<std::byte, void (*)(std::byte*)> mem;
  explicit aligned_buffer(std::size_t n)
      : size(n), mem(static_cast<std::byte*>(::operator new(n, std::align_val_t{128})),
                     [](std::byte* p) { ::operator delete(p, std::align_val_t{128}); }) {}
};

TEST(ByteBroadcastMemory, FormatAttachAndValidate) {
  const bb::geometry g = small(8, 512, 128);
  aligned_buffer buf(bb::layout<>::footprint(g));
  bb::format(buf.mem.get(), buf.size, g);
  auto w = bb::attach_writer(buf.mem.get(), buf.size);
  auto r = bb::attach_reader(buf.mem.get(), buf.size);
  ASSERT_EQ(w.publish(1, bytes_of(1, 100)), status::ok);
  std::vector<std::byte> out(128);
  ASSERT_TRUE(r.try_read(out));
  EXPECT_THROW(bb::attach_reader(buf.mem.get(), buf.size - 1), ringwire::error);  // truncated
  EXPECT_THROW(bb::format(buf.mem.get(), buf.size - 1, g), ringwire::error);
  buf.mem.get()[0] = std::byte{0};
  try {
    (void)bb::attach_reader(buf.mem.get(), buf.size);
    FAIL() << "no error";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::ring_corrupt);
  }
}

TEST(ByteBroadcastMemory, CorruptEntryIsSkippedNotTrusted) {
  const bb::geometry g = small(8, 512, 128);
  aligned_buffer buf(bb::layout<>::footprint(g));
  auto* l = bb::format(buf.mem.get(), buf.size, g);
  auto w = bb::attach_writer(buf.mem.get(), buf.size);
  auto r = bb::attach_reader(buf.mem.get(), buf.size);
  ASSERT_EQ(w.publish(1, bytes_of(1, 8)), status::ok);
  ASSERT_EQ(w.publish(2, bytes_of(2, 8)), status::ok);
  l->meta(1).size_ctl = 0xFFFFFFFFu;  // hostile: a size far beyond the region
  std::vector<std::byte> out(128);
  const auto m = r.try_read(out);
  EXPECT_EQ(m.status, read_status::corrupt);
  EXPECT_EQ(m.missed, 1u);
  const auto m2 = r.try_read(out);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2.info.seq, 2u);
}

TEST(ByteBroadcastMemory, DestroyingTheWriterClosesTheRing) {
  const bb::geometry g = small(8, 512, 64);
  aligned_buffer buf(bb::layout<>::footprint(g));
  bb::format(buf.mem.get(), buf.size, g);
  auto r = bb::attach_reader(buf.mem.get(), buf.size);
  {
    auto w = bb::attach_writer(buf.mem.get(), buf.size);
    ASSERT_EQ(w.publish(1, bytes_of(1, 40)), status::ok);
  }
  std::vector<std::byte> out(64);
  ASSERT_TRUE(r.try_read(out));
  EXPECT_EQ(r.try_read(out).status, read_status::closed);
}

}  // namespace
