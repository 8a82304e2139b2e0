// Unit tests for ringwire::byte_broadcast: every edge on one thread (exact counts), the
// zero-copy validate-after-use rule, credits, attach/validation and close; and the park
// protocol (ByteBroadcastPark): woken by a publish, by close, by a stop token, timing out,
// a credited writer woken by a reader's progress, and no futex wake while nobody parks
// (counted by counting_sync, a std_sync whose futex calls are counted).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <stop_token>
#include <thread>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "ringwire/byte_broadcast.hpp"
#include "support/bytes_support.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
using ringwire::status;

// concepts.hpp: every byte_broadcast endpoint has the byte-record surface (the
// shared-memory attachments return these same types: tests/shm/shm_byte_broadcast_test.cpp).
static_assert(ringwire::record_writer<bb::writer<>>);
static_assert(ringwire::record_reader<bb::reader<>>);
static_assert(ringwire::record_reader<bb::credited_reader<>>);
static_assert(ringwire::record_outcome<bb::read_result> && ringwire::record_outcome<status>);

std::vector<std::byte> bytes_of(std::uint64_t seed, std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((seed * 131 + i * 7) & 0xff);
  return v;
}

bb::geometry small(std::uint64_t depth = 8, std::uint64_t region = 1024, std::uint64_t max = 256,
                   std::uint32_t credited = 0) {
  return bb::geometry{depth, region, max, credited};
}

TEST(ByteBroadcast, GenericCodeOverTheRecordConcepts) {
  auto [w, r] = bb::channel(small(8, 1024, 256, /*credited=*/1));
  auto c = r.credited();
  const auto msg = bytes_of(3, 24);
  std::vector<std::byte> buf(64);
  std::span<std::byte> out(buf);
  ASSERT_EQ(bytes_test::write_then_read(w, r, 42, msg, out), status::ok);
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
  ASSERT_TRUE(c.try_read(buf));  // the credited reader's copy of it
  ASSERT_EQ(bytes_test::write_then_read(w, c, 43, msg, out), status::ok);
  c.close();
  EXPECT_EQ(c.try_read(buf).status(), status::closed);
  w.close();
  EXPECT_EQ(bytes_test::write_then_read(w, r, 44, msg, out), status::closed);
}

TEST(ByteBroadcast, EmptyThenOneMessage) {
  auto [w, r] = bb::channel(small());
  std::vector<std::byte> buf(256);
  EXPECT_EQ(r.try_read(buf).status(), status::empty);
  const auto msg = bytes_of(1, 13);
  ASSERT_EQ(w.write(77, msg), status::ok);
  const bb::read_result m = r.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info().seq, 1u);
  EXPECT_EQ(m.info().signature, 77u);
  EXPECT_EQ(m.info().size, 13u);
  EXPECT_EQ(m.info().ctl, bb::ctl_whole);
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
  EXPECT_EQ(r.try_read(buf).status(), status::empty);
  EXPECT_EQ(r.received(), 1u);
  EXPECT_EQ(r.missed(), 0u);
}

TEST(ByteBroadcast, WrapsMetadataAndPayloadKeepingUpReader) {
  auto [w, r] = bb::channel(small(4, 256, 128));
  std::vector<std::byte> buf(128);
  for (std::uint64_t i = 1; i <= 200; ++i) {
    const auto msg = bytes_of(i, static_cast<std::size_t>((i * 37) % 129));  // 0..128, odd sizes
    ASSERT_EQ(w.write(i, msg), status::ok);
    const auto m = r.try_read(buf);
    ASSERT_TRUE(m) << ringwire::to_string(m.status()) << " at " << i;
    ASSERT_EQ(m.info().seq, i);
    ASSERT_EQ(m.info().size, msg.size());
    ASSERT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
  }
  EXPECT_EQ(r.received(), 200u);
  EXPECT_EQ(r.missed(), 0u);
}

TEST(ByteBroadcast, ExactMaxZeroLengthAndTooLarge) {
  auto [w, r] = bb::channel(small(8, 1024, 300));
  std::vector<std::byte> buf(300);
  const auto big = bytes_of(5, 300);
  ASSERT_EQ(w.write(1, big), status::ok);
  ASSERT_EQ(w.write(2, {}), status::ok);
  const auto too = bytes_of(6, 301);
  try {
    (void)w.write(3, too);
    FAIL() << "no error";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::message_too_large);
  }
  EXPECT_EQ(w.published(), 2u);  // nothing went in
  auto m = r.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info().size, 300u);
  EXPECT_TRUE(std::equal(big.begin(), big.end(), buf.begin()));
  m = r.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info().size, 0u);
  EXPECT_EQ(m.info().signature, 2u);
  EXPECT_EQ(r.try_read(buf).status(), status::empty);
}

TEST(ByteBroadcast, BadGeometryIsRejected) {
  EXPECT_THROW(bb::channel(small(3)), ringwire::error);           // depth not a power of two
  EXPECT_THROW(bb::channel(small(8, 1000)), ringwire::error);     // region not a power of two
  EXPECT_THROW(bb::channel(small(8, 1024, 520)), ringwire::error);  // max > region / 2
}

TEST(ByteBroadcast, TooSmallBufferConsumesNothing) {
  auto [w, r] = bb::channel(small());
  const auto msg = bytes_of(9, 40);
  ASSERT_EQ(w.write(1, msg), status::ok);
  std::vector<std::byte> tiny(39), buf(40);
  const auto m = r.try_read(tiny);
  EXPECT_EQ(m.status(), status::too_small);
  EXPECT_EQ(m.info().size, 40u);
  EXPECT_EQ(r.next_seq(), 1u);
  ASSERT_TRUE(r.try_read(buf));
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
}

TEST(ByteBroadcast, LappedReaderGetsExactMissedCountAndResyncs) {
  auto [w, r] = bb::channel(small(8, 4096, 64));
  std::vector<std::byte> buf(64);
  for (std::uint64_t i = 1; i <= 30; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 16)), status::ok);
  const auto lag = r.try_read(buf);
  ASSERT_EQ(lag.status(), status::lagged);
  EXPECT_EQ(lag.missed(), 30u - 8u);  // the ring holds 23..30
  EXPECT_EQ(r.next_seq(), 23u);
  for (std::uint64_t i = 23; i <= 30; ++i) {
    const auto m = r.try_read(buf);
    ASSERT_TRUE(m) << ringwire::to_string(m.status());
    EXPECT_EQ(m.info().seq, i);
    EXPECT_EQ(m.info().signature, i);
  }
  EXPECT_EQ(r.try_read(buf).status(), status::empty);
  EXPECT_EQ(r.received() + r.missed(), 30u);
}

TEST(ByteBroadcast, OverwrittenPayloadsAreOneLaggedResultBeforeTheNextMessage) {
  // A deep metadata ring over a small region: payload is lost before metadata.
  auto [w, r] = bb::channel(small(64, 256, 64));
  std::vector<std::byte> buf(64);
  for (std::uint64_t i = 1; i <= 20; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 64)), status::ok);
  // dirty = 20 * 64 + 256 / 8: messages at pos >= 1056 (18..20) are intact. The run of
  // overwritten payloads comes first, as one lagged result with the exact count, and
  // consumes nothing valid: message 18 is the next read's.
  const auto gap = r.try_read(buf);
  ASSERT_EQ(gap.status(), status::lagged);
  EXPECT_EQ(gap.missed(), 17u);
  EXPECT_EQ(r.next_seq(), 18u);
  for (std::uint64_t i = 18; i <= 20; ++i) {
    const auto m = r.try_read(buf);
    ASSERT_TRUE(m) << ringwire::to_string(m.status());
    EXPECT_EQ(m.missed(), 0u);  // an ok result never carries a loss (status.hpp)
    EXPECT_EQ(m.info().seq, i);
    ASSERT_TRUE(std::ranges::equal(bytes_of(i, 64), buf));
  }
  EXPECT_EQ(r.try_read(buf).status(), status::empty);
  EXPECT_EQ(r.received() + r.missed(), 3u + 17u);
}

TEST(ByteBroadcast, OverwrittenRunEndingAtTheHeadIsLaggedThenEmpty) {
  auto [w, r] = bb::channel(small(64, 256, 64));
  std::vector<std::byte> buf(64);
  // 1..17 (overwritten payloads) signed 0x100, the intact 18..20 signed 0x200 and filtered
  // out: the run ends where the ring does, and is reported before the empty.
  for (std::uint64_t i = 1; i <= 20; ++i) ASSERT_EQ(w.write(i <= 17 ? 0x100 : 0x200, bytes_of(i, 64)), status::ok);
  r.set_filter(0x100, 0xff00);
  const auto gap = r.try_read(buf);
  ASSERT_EQ(gap.status(), status::lagged);
  EXPECT_EQ(gap.missed(), 17u);
  EXPECT_EQ(r.try_read(buf).status(), status::empty);
  EXPECT_EQ(r.missed(), 17u);
  EXPECT_EQ(r.filtered(), 3u);
}

TEST(ByteBroadcast, SignatureFilterSkipsWithoutCountingMissed) {
  auto [w, r] = bb::channel(small());
  r.set_filter(0x100, 0xff00);
  for (std::uint64_t i = 1; i <= 6; ++i) ASSERT_EQ(w.write(i % 2 ? 0x1A0 + i : 0x2A0 + i, bytes_of(i, 8)), status::ok);
  std::vector<std::byte> buf(8);
  std::vector<std::uint64_t> got;
  for (bb::read_result m = r.try_read(buf); m; m = r.try_read(buf)) got.push_back(m.info().seq);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 3, 5}));
  EXPECT_EQ(r.filtered(), 3u);
  EXPECT_EQ(r.missed(), 0u);
}

TEST(ByteBroadcast, ZeroCopyViewValidatedAfterUse) {
  auto ch = bb::channel(small(8, 256, 64));
  bb::writer<>& w = ch.first;  // a named variable: fn below captures it
  bb::reader<>& r = ch.second;
  const auto msg = bytes_of(3, 24);
  ASSERT_EQ(w.write(5, msg), status::ok);
  std::vector<std::byte> seen;
  auto m = r.try_read_view([&](const bb::message_info& info, std::span<const std::byte> v) {
    EXPECT_EQ(info.size, 24u);
    seen.assign(v.begin(), v.end());
  });
  ASSERT_TRUE(m);
  EXPECT_EQ(seen, msg);

  // The writer overwrites the payload while fn holds the view: the read must say so.
  ASSERT_EQ(w.write(6, bytes_of(4, 64)), status::ok);
  m = r.try_read_view([&](const bb::message_info&, std::span<const std::byte>) {
    for (std::uint64_t i = 0; i < 8; ++i) ASSERT_EQ(w.write(100 + i, bytes_of(100 + i, 64)), status::ok);
  });
  EXPECT_EQ(m.status(), status::lagged) << ringwire::to_string(m.status());  // a lap or an overwritten payload
  EXPECT_GE(m.missed(), 1u);
  EXPECT_EQ(r.received(), 1u);
}

TEST(ByteBroadcast, CopyingReadDuringOverwriteIsRejected) {
  // Same as above, for the copying read: an overwrite between the pre-check and the
  // validation is simulated by a lap of metadata and payload before the read.
  auto [w, r] = bb::channel(small(4, 256, 64));
  std::vector<std::byte> buf(64);
  ASSERT_EQ(w.write(1, bytes_of(1, 64)), status::ok);
  ASSERT_TRUE(r.try_read(buf));
  for (std::uint64_t i = 2; i <= 9; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 64)), status::ok);
  const auto m = r.try_read(buf);
  EXPECT_NE(m.status(), status::ok);
  EXPECT_GE(m.missed(), 1u);
}

TEST(ByteBroadcast, ReaderCopiesAreIndependentAndOldestStart) {
  auto [w, r] = bb::channel(small(4, 1024, 64));
  for (std::uint64_t i = 1; i <= 6; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 8)), status::ok);
  // A copy starts where r is (message 1, long overwritten) and moves on alone.
  std::vector<std::byte> buf(64);
  bb::reader<> copy = r;
  EXPECT_EQ(copy.try_read(buf).status(), status::lagged);
  const auto m = copy.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info().seq, 3u);
  EXPECT_EQ(r.next_seq(), 1u);
}

TEST(ByteBroadcast, TimestampsAreMonotonic) {
  auto [w, r] = bb::channel(small(16, 1024, 64));
  for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 8)), status::ok);
  std::vector<std::byte> buf(64);
  std::uint64_t prev = 0;
  for (int i = 0; i < 10; ++i) {
    const auto m = r.try_read(buf);
    ASSERT_TRUE(m);
    EXPECT_GT(m.info().tspub, 0u);
    EXPECT_GE(m.info().tspub, prev);
    prev = m.info().tspub;
  }
}

TEST(ByteBroadcast, CloseDrainsThenClosed) {
  auto [w, r] = bb::channel(small());
  ASSERT_EQ(w.write(1, bytes_of(1, 8)), status::ok);
  ASSERT_EQ(w.write(2, bytes_of(2, 8)), status::ok);
  w.close();
  EXPECT_EQ(w.write(3, bytes_of(3, 8)), status::closed);
  std::vector<std::byte> buf(8);
  EXPECT_TRUE(r.try_read(buf));
  EXPECT_TRUE(r.read(buf));
  EXPECT_EQ(r.try_read(buf).status(), status::closed);
  EXPECT_EQ(r.read(buf).status(), status::closed);
}

TEST(ByteBroadcast, CtlFlagsTravel) {
  auto [w, r] = bb::channel(small());
  ASSERT_EQ(w.write(1, bytes_of(1, 8), bb::ctl_som), status::ok);
  ASSERT_EQ(w.write(1, bytes_of(2, 8), bb::ctl_eom | bb::ctl_err), status::ok);
  std::vector<std::byte> buf(8);
  EXPECT_EQ(r.try_read(buf).info().ctl, bb::ctl_som);
  EXPECT_EQ(r.try_read(buf).info().ctl, bb::ctl_eom | bb::ctl_err);
}

TEST(ByteBroadcastCredits, WriterReportsFullWhileCreditedReaderIsBehind) {
  auto [w, r] = bb::channel(small(4, 1024, 64, 2));
  auto c = r.credited();
  std::vector<std::byte> buf(64);
  std::uint64_t n = 0;
  while (w.try_write(n + 1, bytes_of(n + 1, 8)) == status::ok) ++n;
  EXPECT_EQ(n, 4u);  // exactly the depth: the oldest unread message is never overwritten
  EXPECT_EQ(w.try_write(99, bytes_of(99, 8)), status::full);
  auto m = c.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info().seq, 1u);
  EXPECT_EQ(w.try_write(5, bytes_of(5, 8)), status::ok);
  EXPECT_EQ(w.try_write(6, bytes_of(6, 8)), status::full);
  for (std::uint64_t i = 2; i <= 5; ++i) {
    m = c.try_read(buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(m.info().seq, i);
  }
  EXPECT_EQ(c.missed(), 0u);
  EXPECT_GT(w.rescans(), 0u);
}

TEST(ByteBroadcastCredits, PayloadCreditsBlockToo) {
  // 4 messages of 256 B fill a 1 KiB region while the metadata ring (64) has room.
  auto [w, r] = bb::channel(small(64, 1024, 256, 1));
  auto c = r.credited();
  std::uint64_t n = 0;
  while (w.try_write(n + 1, bytes_of(n + 1, 256)) == status::ok) ++n;
  EXPECT_EQ(n, 3u);  // the region less the dirty step (region / 8): message 1 stays intact
  std::vector<std::byte> buf(256);
  std::uint64_t got = 0;
  for (int round = 0; round < 50; ++round) {
    while (auto m = c.try_read(buf)) {
      ASSERT_EQ(m.info().seq, got + 1);
      const auto want = bytes_of(m.info().seq, 256);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));
      ++got;
    }
    while (w.try_write(n + 1, bytes_of(n + 1, 256)) == status::ok) ++n;
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
    while (w.try_write(1, bytes_of(1, 8)) == status::ok) ++n;
    EXPECT_EQ(n, 4u);
  }
  EXPECT_EQ(w.try_write(1, bytes_of(1, 8)), status::ok);
}

// The chosen-entry join (what shm's attach_credited_reader uses with the entry of its claim).
TEST(ByteBroadcastCredits, ChosenEntryJoinHoldsTheWriterAtThatEntry) {
  auto [w, r_bound] = bb::channel(small(4, 1024, 64, 3));
  auto& r = r_bound;  // a lambda may capture a variable, not a structured binding (clang 14)
  ASSERT_EQ(w.try_write(1, bytes_of(1, 8)), status::ok);  // before the join: not waited for
  auto code_of = [](auto&& f) {
    try {
      f();
    } catch (const ringwire::error& e) {
      return e.code();
    }
    return ringwire::errc{};
  };
  EXPECT_EQ(code_of([&] { bb::credited_reader<> bad(r, 3); }), ringwire::errc::invalid_options);
  EXPECT_EQ(code_of([&] { bb::credited_reader<> bad(r, ~std::uint32_t{0}); }), ringwire::errc::invalid_options);
  auto lossy_only = bb::channel(small());
  EXPECT_EQ(code_of([&] { bb::credited_reader<> bad(lossy_only.second, 0); }), ringwire::errc::invalid_options);
  EXPECT_EQ(code_of([&] { bb::credited_reader<> bad(bb::reader<>{}, 0); }), ringwire::errc::invalid_options);

  bb::credited_reader<> c(r, 2);
  EXPECT_TRUE(c.attached());
  EXPECT_EQ(c.entry(), 2u);
  EXPECT_EQ(c.next_seq(), 2u);  // head + 1
  EXPECT_EQ(c.shape().max_credited, 3u);
  {
    // Entry 2 is live: first-free joins take 0 and 1, then none is left.
    auto c0 = r.credited();
    auto c1 = r.credited();
    EXPECT_EQ(c0.entry(), 0u);
    EXPECT_EQ(c1.entry(), 1u);
    EXPECT_EQ(code_of([&] { (void)r.credited(); }), ringwire::errc::too_many_subscribers);
  }
  // The writer respects its cursor: message 2 unread, so 2..5 fit and 6 would overwrite it.
  std::uint64_t n = 1;
  while (w.try_write(n + 1, bytes_of(n + 1, 8)) == status::ok) ++n;
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(w.try_write(99, bytes_of(99, 8)), status::full);
  std::vector<std::byte> buf(64);
  auto m = c.try_read(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m.info().seq, 2u);
  EXPECT_EQ(c.next_seq(), 3u);
  EXPECT_EQ(w.try_write(6, bytes_of(6, 8)), status::ok);
  EXPECT_EQ(w.try_write(7, bytes_of(7, 8)), status::full);
  // Moving keeps the entry; the moved-from one holds nothing.
  auto moved = std::move(c);
  EXPECT_FALSE(c.attached());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(moved.entry(), 2u);
  for (std::uint64_t i = 3; i <= 6; ++i) {
    m = moved.try_read(buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(m.info().seq, i);
    const auto want = bytes_of(i, 8);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));
  }
  EXPECT_EQ(moved.missed(), 0u);
  EXPECT_EQ(moved.received(), 5u);
  EXPECT_EQ(moved.try_read(buf).status(), status::empty);
  // Leaving frees entry 2: it can be chosen again, and the writer is no longer held back.
  { auto gone = std::move(moved); }
  bb::credited_reader<> again(r, 2);
  EXPECT_EQ(again.next_seq(), 7u);
  EXPECT_EQ(w.try_write(7, bytes_of(7, 8)), status::ok);
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
  ASSERT_EQ(w.write(1, bytes_of(1, 100)), status::ok);
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
  ASSERT_EQ(w.write(1, bytes_of(1, 8)), status::ok);
  ASSERT_EQ(w.write(2, bytes_of(2, 8)), status::ok);
  l->meta(1).size_ctl = 0xFFFFFFFFu;  // hostile: a size far beyond the region
  std::vector<std::byte> out(128);
  const auto m = r.try_read(out);
  EXPECT_EQ(m.status(), status::corrupt);
  EXPECT_EQ(m.missed(), 1u);
  const auto m2 = r.try_read(out);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2.info().seq, 2u);
}

TEST(ByteBroadcastMemory, DestroyingTheWriterClosesTheRing) {
  const bb::geometry g = small(8, 512, 64);
  aligned_buffer buf(bb::layout<>::footprint(g));
  bb::format(buf.mem.get(), buf.size, g);
  auto r = bb::attach_reader(buf.mem.get(), buf.size);
  {
    auto w = bb::attach_writer(buf.mem.get(), buf.size);
    ASSERT_EQ(w.write(1, bytes_of(1, 40)), status::ok);
  }
  std::vector<std::byte> out(64);
  ASSERT_TRUE(r.try_read(out));
  EXPECT_EQ(r.try_read(out).status(), status::closed);
}

// ---- parking ---------------------------------------------------------------------------

// std_sync with its futex calls counted (every wake of a parked endpoint goes through
// unpark_all, every sleep through park).
struct counting_sync : ringwire::std_sync {
  static inline std::atomic<std::uint64_t> wakes{0};
  static inline std::atomic<std::uint64_t> sleeps{0};
  static bool park(std::atomic<std::uint32_t>& word, std::uint32_t expected, ringwire::detail::clock::time_point deadline,
                   ringwire::fence_scope s) noexcept {
    sleeps.fetch_add(1, std::memory_order_relaxed);
    return ringwire::std_sync::park(word, expected, deadline, s);
  }
  static void unpark_all(std::atomic<std::uint32_t>& word, ringwire::fence_scope s) noexcept {
    wakes.fetch_add(1, std::memory_order_relaxed);
    ringwire::std_sync::unpark_all(word, s);
  }
  static void reset() {
    wakes.store(0);
    sleeps.store(0);
  }
};

using cring = bb::layout<counting_sync>;

// A ring in caller memory, so the test can watch the park words.
struct park_fixture {
  aligned_buffer buf;
  cring* ring;
  explicit park_fixture(const bb::geometry& g) : buf(cring::footprint(g)) {
    ring = bb::format<counting_sync>(buf.mem.get(), buf.size, g);
    counting_sync::reset();
  }
  bb::writer<counting_sync> writer() { return bb::attach_writer<counting_sync>(buf.mem.get(), buf.size); }
  bb::reader<counting_sync> reader() { return bb::attach_reader<counting_sync>(buf.mem.get(), buf.size); }
  // Waits (unbounded: a hang is the failure) until `n` readers have flagged the bell and
  // gone to sleep (or are about to: a wake meanwhile still makes their futex return).
  void until_parked(std::uint32_t n) const {
    while (ring->control.parked.load() == 0 || counting_sync::sleeps.load() < n) std::this_thread::yield();
  }
  // The same for a credited writer waiting for credits.
  void until_writer_parked() const {
    while (ring->control.writer_park.load() != ringwire::detail::parked || counting_sync::sleeps.load() < 1)
      std::this_thread::yield();
  }
};

constexpr auto park0 = ringwire::wait_strategy::park(0);
constexpr auto generous = std::chrono::seconds(30);

TEST(ByteBroadcastPark, ParkedReaderIsWokenByPublish) {
  park_fixture f(small());
  auto w = f.writer();
  auto r = f.reader();
  r.set_wait(park0);
  const auto msg = bytes_of(5, 40);
  bb::read_result got;
  std::vector<std::byte> buf(256);
  std::thread t([&] { got = r.read_for(buf, generous); });
  f.until_parked(1);
  ASSERT_EQ(w.write(9, msg), status::ok);
  t.join();
  ASSERT_TRUE(got) << ringwire::to_string(got.status());
  EXPECT_EQ(got.info().seq, 1u);
  EXPECT_EQ(got.info().signature, 9u);
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
  EXPECT_EQ(w.wakes(), 1u);  // it saw the parked reader: exactly one bell
  EXPECT_GE(r.parks(), 1u);
  EXPECT_EQ(f.ring->control.parked.load(), 0u);
  // Nobody parked any more: further publishes make no wake.
  const std::uint64_t before = counting_sync::wakes.load();
  for (std::uint64_t i = 2; i <= 100; ++i) ASSERT_EQ(w.write(i, msg), status::ok);
  EXPECT_EQ(counting_sync::wakes.load(), before);
  EXPECT_EQ(w.wakes(), 1u);
}

TEST(ByteBroadcastPark, ParkedReadersAreWokenByClose) {
  park_fixture f(small());
  auto w = f.writer();
  auto r1 = f.reader();
  r1.set_wait(park0);
  auto r2 = r1;
  bb::read_result g1, g2;
  std::thread t1([&] {
    std::vector<std::byte> buf(256);
    g1 = r1.read(buf);
  });
  std::thread t2([&] {
    std::vector<std::byte> buf(256);
    g2 = r2.read_for(buf, generous);
  });
  f.until_parked(2);
  w.close();
  t1.join();
  t2.join();
  EXPECT_EQ(g1.status(), status::closed);
  EXPECT_EQ(g2.status(), status::closed);
  EXPECT_EQ(f.ring->control.parked.load(), 0u);
}

// Park is the default wait of both ends, as of every ringwire endpoint: a reader made with
// no set_wait() sleeps on the bell once its spins run out, and the publish wakes it.
TEST(ByteBroadcastPark, EndpointsParkByDefault) {
  park_fixture f(small());
  auto w = f.writer();
  auto r = f.reader();
  EXPECT_EQ(w.wait().which(), ringwire::wait_strategy::kind::park);
  EXPECT_EQ(r.wait().which(), ringwire::wait_strategy::kind::park);
  bb::read_result got;
  std::vector<std::byte> buf(256);
  std::thread t([&] { got = r.read_for(buf, generous); });
  f.until_parked(1);
  ASSERT_EQ(w.write(9, bytes_of(5, 40)), status::ok);
  t.join();
  ASSERT_TRUE(got) << ringwire::to_string(got.status());
  EXPECT_EQ(w.wakes(), 1u);
  EXPECT_GE(r.parks(), 1u);
}

TEST(ByteBroadcastPark, ReadForTimesOutWithNothingPublished) {
  park_fixture f(small());
  auto w = f.writer();
  auto r = f.reader();
  r.set_wait(park0);
  std::vector<std::byte> buf(256);
  const bb::read_result m = r.read_for(buf, std::chrono::milliseconds(5));
  EXPECT_EQ(m.status(), status::timed_out);
  EXPECT_EQ(m.missed(), 0u);
  EXPECT_EQ(r.next_seq(), 1u);  // nothing consumed
  EXPECT_GE(r.parks(), 1u);     // it slept on the futex, it did not spin
  EXPECT_GE(counting_sync::sleeps.load(), 1u);
  // The flag stays set after a timed-out sleep: the next publish pays one needless ring
  // and clears it; the ones after it pay nothing (a reader that leaves, or dies asleep in
  // another process, never costs more than that).
  EXPECT_EQ(f.ring->control.parked.load(), 1u);
  ASSERT_EQ(w.write(3, bytes_of(3, 8)), status::ok);
  EXPECT_EQ(w.wakes(), 1u);
  EXPECT_EQ(f.ring->control.parked.load(), 0u);
  ASSERT_EQ(w.write(4, bytes_of(4, 8)), status::ok);
  EXPECT_EQ(w.wakes(), 1u);
  // The messages published afterwards are still there.
  EXPECT_TRUE(r.read_for(buf, generous));
  EXPECT_TRUE(r.read_for(buf, generous));
}

TEST(ByteBroadcastPark, StopTokenCancelsAParkedRead) {
  park_fixture f(small());
  auto w = f.writer();
  auto r = f.reader();
  r.set_wait(park0);
  std::stop_source src;
  bb::read_result got;
  std::thread t([&] {
    std::vector<std::byte> buf(256);
    got = r.read(buf, src.get_token());
  });
  f.until_parked(1);
  src.request_stop();
  t.join();
  EXPECT_EQ(got.status(), status::cancelled);
  EXPECT_STREQ(ringwire::to_string(got.status()), "cancelled");
  EXPECT_EQ(r.next_seq(), 1u);
  // Already stopped: cancelled without sleeping, nothing consumed.
  std::vector<std::byte> buf(256);
  EXPECT_EQ(r.read(buf, src.get_token()).status(), status::cancelled);
  // A message takes precedence over the stop.
  ASSERT_EQ(w.write(1, bytes_of(1, 8)), status::ok);
  EXPECT_TRUE(r.read(buf, src.get_token()));
}

TEST(ByteBroadcastPark, LossyWriterMakesNoSyscallWithoutParkedReaders) {
  park_fixture f(small(64, 4096, 256));
  auto w = f.writer();
  auto polling = f.reader();  // spins and yields: never parks
  auto parking = f.reader();
  parking.set_wait(ringwire::wait_strategy::park(1u << 30));  // parks only after 2^30 spins
  std::vector<std::byte> buf(256);
  for (std::uint64_t i = 1; i <= 5000; ++i) {
    ASSERT_EQ(w.write(i, bytes_of(i, i % 200)), status::ok);
    ASSERT_TRUE(polling.read(buf));
    ASSERT_TRUE(parking.read_for(buf, generous));
  }
  EXPECT_EQ(counting_sync::wakes.load(), 0u);
  EXPECT_EQ(counting_sync::sleeps.load(), 0u);
  EXPECT_EQ(w.wakes(), 0u);
  w.close();
  EXPECT_EQ(counting_sync::wakes.load(), 0u);  // close with nobody parked: no syscall either
  EXPECT_EQ(polling.read(buf).status(), status::closed);
}

TEST(ByteBroadcastPark, ParkedCreditedWriterIsWokenByReaderProgress) {
  park_fixture f(small(4, 1024, 64, 1));
  auto w = f.writer();
  w.set_wait(park0);
  auto c = f.reader().credited();
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 8)), status::ok);
  const std::uint64_t rescans = w.rescans(), fenced = w.fenced_rescans();
  status st = status::closed;
  std::thread t([&] { st = w.write_for(5, bytes_of(5, 8), generous); });
  // Wait until the writer is parked (its word says so), then consume one message.
  f.until_writer_parked();
  std::vector<std::byte> buf(64);
  ASSERT_TRUE(c.try_read(buf));
  t.join();
  EXPECT_EQ(st, status::ok);
  EXPECT_GE(w.parks(), 1u);
  EXPECT_GE(counting_sync::wakes.load(), 1u);
  // Every poll of the blocked writer rescanned, but only the first one took the full fence.
  EXPECT_GE(w.rescans() - rescans, 2u);
  EXPECT_EQ(w.fenced_rescans() - fenced, 1u);
  for (std::uint64_t i = 2; i <= 5; ++i) {
    const auto m = c.try_read(buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(m.info().seq, i);
  }
  EXPECT_EQ(c.missed(), 0u);
}

TEST(ByteBroadcastPark, LeavingCreditedReaderWakesAParkedWriter) {
  park_fixture f(small(4, 1024, 64, 1));
  auto w = f.writer();
  w.set_wait(park0);
  std::optional<bb::credited_reader<counting_sync>> c(f.reader().credited());
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 8)), status::ok);
  status st = status::closed;
  std::thread t([&] { st = w.write_for(5, bytes_of(5, 8), generous); });
  f.until_writer_parked();
  c.reset();  // frees the entry: the writer may overwrite
  t.join();
  EXPECT_EQ(st, status::ok);
  EXPECT_GE(w.parks(), 1u);
}

TEST(ByteBroadcastPark, ParkedCreditedWriterTimesOut) {
  park_fixture f(small(4, 1024, 64, 1));
  auto w = f.writer();
  w.set_wait(park0);
  auto c = f.reader().credited();
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 8)), status::ok);
  EXPECT_EQ(w.write_for(5, bytes_of(5, 8), std::chrono::milliseconds(5)), status::timed_out);
  EXPECT_GE(w.parks(), 1u);
  EXPECT_EQ(w.published(), 4u);
  EXPECT_EQ(c.next_seq(), 1u);
}

TEST(ByteBroadcastPark, StopTokenCancelsAParkedCreditedWriter) {
  park_fixture f(small(4, 1024, 64, 1));
  auto w = f.writer();
  w.set_wait(park0);
  auto c = f.reader().credited();
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_EQ(w.write(i, bytes_of(i, 8)), status::ok);
  std::stop_source src;
  status st = status::ok;
  std::thread t([&] { st = w.write(5, bytes_of(5, 8), src.get_token()); });
  f.until_writer_parked();
  src.request_stop();
  t.join();
  EXPECT_EQ(st, status::cancelled);
  EXPECT_EQ(w.published(), 4u);  // nothing published
}

TEST(ByteBroadcastPark, ScopeIsResolvedOnce) {
  aligned_buffer buf(bb::layout<>::footprint(small()));
  bb::format(buf.mem.get(), buf.size, small());
  auto w = bb::attach_writer(buf.mem.get(), buf.size, ringwire::fence_scope::cross_process);
  auto r = bb::attach_reader(buf.mem.get(), buf.size, bb::start_at::next, ringwire::fence_scope::cross_process);
  EXPECT_EQ(w.scope(), ringwire::fence_scope::cross_process);
  EXPECT_EQ(r.scope(), ringwire::fence_scope::cross_process);
  auto [w2, r2] = bb::channel(small());
  EXPECT_FALSE(ringwire::detail::is_cross_process(w2.scope()));
  EXPECT_FALSE(ringwire::detail::is_cross_process(r2.scope()));
}

}  // namespace
