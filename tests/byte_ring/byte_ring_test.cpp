// tests/byte_ring/byte_ring_test.cpp -- every edge of the lossless byte rings (one-to-one and
// many-to-one): exact fits, wrap padding, size limits, zero-length records, abort, partial
// commits, batches, disconnects, timeouts, attach validation and corrupt memory.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "support/byte_ring_kinds.hpp"
#include "support/bytes_support.hpp"

namespace {

using bytes_test::expect_errc;
using bytes_test::same;

namespace br = ringwire::byte_ring;
using ringwire::errc;
using ringwire::status;

// concepts.hpp: every byte_ring endpoint has the byte-record surface (the shared-memory
// attachments return these same types: tests/shm/shm_byte_ring_test.cpp checks them).
static_assert(ringwire::record_writer<br::writer<>>);
static_assert(ringwire::record_writer<br::shared_writer<>>);
static_assert(ringwire::record_reader<br::reader<>>);
static_assert(!ringwire::record_reader<br::writer<>> && !ringwire::record_writer<br::reader<>>);

std::vector<std::byte> bytes_of(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((seed * 31 + i * 7) & 0xff);
  return v;
}

// Both kinds through one fixture (support/byte_ring_kinds.hpp): P::make(capacity) returns
// {writer, reader}.

template <class P>
class both : public ::testing::Test {};
TYPED_TEST_SUITE(both, bytes_test::byte_ring_kinds);

TEST(ByteRing, GenericCodeOverTheRecordConcepts) {
  auto [tx, rx] = br::one_to_one(1024);
  auto [many, rx2] = br::many_to_one(1024);
  const auto msg = bytes_of(24, 5);
  br::record_view got;
  ASSERT_EQ(bytes_test::write_then_read(tx, rx, 7, msg, got), status::ok);
  EXPECT_EQ(got.type, 7);
  EXPECT_TRUE(same(got.payload, msg));
  ASSERT_EQ(bytes_test::write_then_read(many, rx2, 8, msg, got), status::ok);
  EXPECT_EQ(got.type, 8);
  rx.close();
  EXPECT_EQ(bytes_test::write_then_read(tx, rx, 7, msg, got), status::closed);
}

TYPED_TEST(both, RoundTripAndEmpty) {
  auto ch_ = TypeParam::make(1024);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  br::record_view r;
  EXPECT_EQ(rx.try_read(r), status::empty);
  const auto a = bytes_of(13, 1);
  ASSERT_EQ(tx.try_write(5, a), status::ok);
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(r.type, 5);
  EXPECT_TRUE(same(r.payload, a));
  rx.release();
  EXPECT_EQ(rx.try_read(r), status::empty);
}

TYPED_TEST(both, ExactFitFillsTheRing) {
  // capacity 256: 4 records of 64 bytes (8 header + 56 payload) fill it exactly.
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(tx.try_write(i + 1, bytes_of(56, i)), status::ok);
  EXPECT_EQ(tx.try_write(9, bytes_of(0, 0)), status::full);
  br::record_view r;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(rx.try_read(r), status::ok);
    EXPECT_EQ(r.type, i + 1);
    EXPECT_TRUE(same(r.payload, bytes_of(56, i)));
  }
  EXPECT_EQ(tx.try_write(9, bytes_of(0, 0)), status::full);  // not released yet
  rx.release();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(tx.try_write(i + 1, bytes_of(56, i + 10)), status::ok);
}

TYPED_TEST(both, WrapInsertsPaddingAndStaysInOrder) {
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  br::record_view r;
  // 3 x 72-byte records (64 payload) = 216; the 4th (72) does not fit in the last 40 bytes.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(tx.try_write(round * 3 + i + 1, bytes_of(64, round * 3 + i)), status::ok) << round;
    }
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(rx.try_read(r), status::ok);
      EXPECT_EQ(r.type, round * 3 + i + 1);
      EXPECT_TRUE(same(r.payload, bytes_of(64, round * 3 + i)));
    }
    rx.release();
  }
}

TYPED_TEST(both, MaximumSizeAndTooLarge) {
  auto ch_ = TypeParam::make(1024);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  EXPECT_EQ(tx.max_payload(), 1024u / 2 - 8);
  br::record_view r;
  for (int i = 0; i < 20; ++i) {  // a maximum record fits whatever the position
    ASSERT_EQ(tx.try_write(1, bytes_of(tx.max_payload(), i)), status::ok) << i;
    ASSERT_EQ(rx.try_read(r), status::ok);
    EXPECT_TRUE(same(r.payload, bytes_of(tx.max_payload(), i)));
    rx.release();
    ASSERT_EQ(tx.try_write(2, bytes_of(i * 8 + 3, i)), status::ok);  // shift the position
    ASSERT_EQ(rx.try_read(r), status::ok);
    rx.release();
  }
  expect_errc(errc::message_too_large, [&] { (void)tx.try_write(1, bytes_of(tx.max_payload() + 1, 0)); });
  expect_errc(errc::message_too_large, [&] { (void)tx.try_reserve(1 << 20); });
  EXPECT_EQ(rx.try_read(r), status::empty);  // nothing was truncated or published
}

TYPED_TEST(both, InvalidTypes) {
  auto ch_ = TypeParam::make(1024);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  expect_errc(errc::invalid_message_type, [&] { (void)tx.try_write(0, bytes_of(4, 0)); });
  expect_errc(errc::invalid_message_type, [&] { (void)tx.try_write(-1, bytes_of(4, 0)); });
  auto c = tx.try_reserve(8);
  ASSERT_TRUE(c);
  expect_errc(errc::invalid_message_type, [&] { tx.commit(br::padding_type); });
  tx.commit(3);  // the reservation survived the refused commit
  br::record_view r;
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(r.type, 3);
}

TYPED_TEST(both, ZeroLengthRecords) {
  auto ch_ = TypeParam::make(64);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  br::record_view r;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(tx.try_write(i + 1, {}), status::ok);
    ASSERT_EQ(rx.try_read(r), status::ok);
    EXPECT_EQ(r.type, i + 1);
    EXPECT_TRUE(r.payload.empty());
    rx.release();
  }
  for (int i = 0; i < 8; ++i) ASSERT_EQ(tx.try_write(1, {}), status::ok);  // 8 x 8 bytes
  EXPECT_EQ(tx.try_write(1, {}), status::full);
}

TYPED_TEST(both, AbortPublishesNothing) {
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  br::record_view r;
  for (int i = 0; i < 30; ++i) {
    auto c = tx.try_reserve(40);
    ASSERT_TRUE(c);
    std::memset(c.bytes().data(), 0xab, c.bytes().size());
    tx.abort();
    ASSERT_EQ(tx.try_write(i + 1, bytes_of(20, i)), status::ok);
    ASSERT_EQ(rx.try_read(r), status::ok);
    EXPECT_EQ(r.type, i + 1);
    EXPECT_TRUE(same(r.payload, bytes_of(20, i)));
    rx.release();
    EXPECT_EQ(rx.try_read(r), status::empty);
  }
}

TYPED_TEST(both, PartialCommit) {
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  br::record_view r;
  for (int i = 0; i < 40; ++i) {
    auto c = tx.try_reserve(100);
    ASSERT_TRUE(c) << i;
    ASSERT_EQ(c.bytes().size(), 100u);
    const auto want = bytes_of(static_cast<std::size_t>(i % 17), i);
    if (!want.empty()) std::memcpy(c.bytes().data(), want.data(), want.size());
    expect_errc(errc::message_too_large, [&] { tx.commit(1, 101); });
    tx.commit(i + 1, want.size());
    ASSERT_EQ(tx.try_write(99, bytes_of(8, i)), status::ok);
    ASSERT_EQ(rx.try_read(r), status::ok);
    EXPECT_EQ(r.type, i + 1);
    EXPECT_TRUE(same(r.payload, want));
    ASSERT_EQ(rx.try_read(r), status::ok);
    EXPECT_EQ(r.type, 99);
    rx.release();
  }
}

TYPED_TEST(both, BatchWithLimit) {
  auto ch_ = TypeParam::make(4096);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(tx.try_write(i + 1, bytes_of(i * 5, i)), status::ok);
  std::vector<int> types;
  EXPECT_EQ(rx.read_batch(4, [&](std::int32_t t, std::span<const std::byte> p) {
    types.push_back(t);
    EXPECT_TRUE(same(p, bytes_of(static_cast<std::size_t>((t - 1) * 5), static_cast<unsigned>(t - 1))));
  }), 4u);
  EXPECT_EQ(rx.read_batch(100, [&](std::int32_t t, std::span<const std::byte>) { types.push_back(t); }), 6u);
  EXPECT_EQ(rx.read_batch(100, [&](std::int32_t, std::span<const std::byte>) {}), 0u);
  ASSERT_EQ(types.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(types[static_cast<std::size_t>(i)], i + 1);
  // The batch released: the whole ring is free again.
  for (int i = 0; i < 4096 / 8; ++i) ASSERT_EQ(tx.try_write(1, {}), status::ok) << i;
  EXPECT_EQ(tx.try_write(1, {}), status::full);
}

TYPED_TEST(both, WriterGoneDrainsThenClosed) {
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  ASSERT_EQ(tx.try_write(1, bytes_of(3, 0)), status::ok);
  tx.close();
  EXPECT_TRUE(tx.is_closed());
  EXPECT_EQ(tx.try_write(1, bytes_of(3, 0)), status::closed);
  EXPECT_EQ(tx.try_write(1, {}), status::closed);
  br::record_view r;
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(rx.try_read(r), status::closed);
  EXPECT_EQ(rx.read(r), status::closed);
}

TYPED_TEST(both, ReaderGoneClosesWriter) {
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  rx.close();
  EXPECT_TRUE(tx.is_closed());
  EXPECT_EQ(tx.try_write(1, bytes_of(3, 0)), status::closed);
  EXPECT_EQ(tx.write(1, bytes_of(3, 0)), status::closed);
}

TYPED_TEST(both, ReaderGoneWakesBlockedWriter) {
  auto ch_ = TypeParam::make(64);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  while (tx.try_write(1, bytes_of(8, 0)) == status::ok) {
  }
  std::thread t([&rx] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    rx.close();
  });
  EXPECT_EQ(tx.write(1, bytes_of(8, 0)), status::closed);
  t.join();
}

TYPED_TEST(both, BlockingReadWakesAndWriterCloseWakes) {
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  std::thread t([tx = std::move(tx)]() mutable {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(tx.write(4, bytes_of(9, 4)), status::ok);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  br::record_view r;
  ASSERT_EQ(rx.read(r), status::ok);
  EXPECT_EQ(r.type, 4);
  EXPECT_EQ(rx.read(r), status::closed);
  t.join();
}

TYPED_TEST(both, Timeouts) {
  auto ch_ = TypeParam::make(64);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  br::record_view r;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(rx.read_for(r, std::chrono::milliseconds(20)), status::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
  while (tx.try_write(1, bytes_of(8, 0)) == status::ok) {
  }
  EXPECT_EQ(tx.write_for(1, bytes_of(8, 0), std::chrono::milliseconds(20)), status::timed_out);
  EXPECT_EQ(tx.reserve_for(8, std::chrono::milliseconds(5)).status(), status::timed_out);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(tx.write(1, bytes_of(8, 0), stop.get_token()), status::cancelled);
}

TYPED_TEST(both, MovedFromEndpointsAreClosed) {
  auto ch_ = TypeParam::make(256);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  auto tx2 = std::move(tx);
  auto rx2 = std::move(rx);
  EXPECT_EQ(tx.try_write(1, {}), status::closed);  // NOLINT(bugprone-use-after-move)
  br::record_view r;
  EXPECT_EQ(rx.try_read(r), status::closed);  // NOLINT(bugprone-use-after-move)
  ASSERT_EQ(tx2.try_write(1, {}), status::ok);
  EXPECT_EQ(rx2.try_read(r), status::ok);
}

// Large payloads are copied in 256-byte blocks (layout.hpp, copy_payload): every size
// around the 2 KiB switch and the block edges, written at shifting ring offsets between
// small neighbours, must come back exactly, the neighbours untouched.
TYPED_TEST(both, LargeCopiesAreExactAtEverySizeAndOffset) {
  auto ch_ = TypeParam::make(16384);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  br::record_view r;
  const auto guard = bytes_of(8, 99);
  unsigned seed = 0;
  for (std::size_t n = 2000; n <= 2600; n += (n < 2060 || n > 2540 ? 1 : 37)) {
    const auto a = bytes_of(n, ++seed);
    ASSERT_EQ(tx.try_write(3, a), status::ok) << n;
    ASSERT_EQ(tx.try_write(4, guard), status::ok) << n;
    ASSERT_EQ(rx.try_read(r), status::ok) << n;
    ASSERT_EQ(r.type, 3);
    ASSERT_TRUE(same(r.payload, a)) << n;
    ASSERT_EQ(rx.try_read(r), status::ok) << n;
    ASSERT_EQ(r.type, 4);
    ASSERT_TRUE(same(r.payload, guard)) << n;
    rx.release();
  }
  for (std::size_t n : {4095u, 4096u, 4097u, 4103u, 8184u}) {  // 8184 = max_payload of 16 KiB
    const auto a = bytes_of(n, ++seed);
    ASSERT_EQ(tx.try_write(3, a), status::ok) << n;
    ASSERT_EQ(rx.try_read(r), status::ok) << n;
    ASSERT_TRUE(same(r.payload, a)) << n;
    rx.release();
  }
}

TEST(ByteRing, CapacityValidation) {
  expect_errc(errc::invalid_capacity, [] { (void)br::one_to_one(100); });
  expect_errc(errc::invalid_capacity, [] { (void)br::one_to_one(32); });
  expect_errc(errc::invalid_capacity, [] { (void)br::many_to_one(0); });
  expect_errc(errc::capacity_too_large, [] { (void)br::layout<>::footprint(std::uint64_t{1} << 31); });
  EXPECT_EQ(br::layout<>::footprint(64), 384u + 64u);
}

TEST(ByteRing, ManyToOneClosedOnlyWhenEveryCopyIsGone) {
  auto ch_ = br::many_to_one(1024);
  auto& w = ch_.first;
  auto& rx = ch_.second;
  auto w2 = w;
  ASSERT_EQ(w.try_write(1, bytes_of(3, 0)), status::ok);
  w.close();
  br::record_view r;
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(rx.try_read(r), status::empty);  // w2 still open
  ASSERT_EQ(w2.try_write(2, bytes_of(3, 0)), status::ok);
  { auto w3 = w2; }
  w2.close();
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(r.type, 2);
  EXPECT_EQ(rx.try_read(r), status::closed);
}

TEST(ByteRing, ManyToOneOutOfOrderCommit) {
  auto ch_ = br::many_to_one(1024);
  auto& w1 = ch_.first;
  auto& rx = ch_.second;
  auto w2 = w1;
  auto c1 = w1.try_reserve(16);
  auto c2 = w2.try_reserve(16);
  ASSERT_TRUE(c1 && c2);
  std::memset(c2.bytes().data(), 2, 16);
  w2.commit(2);
  br::record_view r;
  EXPECT_EQ(rx.try_read(r), status::empty);  // the first claim is still in progress
  std::memset(c1.bytes().data(), 1, 16);
  w1.commit(1);
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(r.type, 1);
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(r.type, 2);
  EXPECT_EQ(r.payload[0], std::byte{2});
}

TEST(ByteRing, ManyToOneCloseWithOpenReservationAborts) {
  auto ch_ = br::many_to_one(1024);
  auto& w1 = ch_.first;
  auto& rx = ch_.second;
  auto w2 = w1;
  ASSERT_TRUE(w1.try_reserve(16));
  ASSERT_EQ(w2.try_write(2, bytes_of(4, 0)), status::ok);
  w1.close();
  w2.close();
  br::record_view r;
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(r.type, 2);
  EXPECT_EQ(rx.try_read(r), status::closed);
}

// ---- foreign memory: format / attach / corruption -------------------------------------------

struct raw_memory {
  explicit raw_memory(std::size_t n) : bytes(n), mem(::operator new(n, std::align_val_t{128})) { std::memset(mem, 0, n); }
  ~raw_memory() { ::operator delete(mem, std::align_val_t{128}); }
  raw_memory(const raw_memory&) = delete;
  raw_memory& operator=(const raw_memory&) = delete;
  std::size_t bytes;
  void* mem;
};

TEST(ByteRing, AttachValidates) {
  using L = br::layout<>;
  raw_memory m(L::footprint(1024));
  auto fails = [&](std::size_t bytes, br::ring_kind k) {
    auto r = L::attach(m.mem, bytes, k);
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().code, errc::ring_corrupt) << r.error().message;
    }
  };
  fails(m.bytes, br::ring_kind::one_to_one);  // not formatted: bad magic
  L* l = L::format(m.mem, m.bytes, 1024, br::ring_kind::one_to_one);
  ASSERT_TRUE(L::attach(m.mem, m.bytes, br::ring_kind::one_to_one));
  fails(m.bytes, br::ring_kind::many_to_one);
  fails(m.bytes - 1, br::ring_kind::one_to_one);
  fails(100, br::ring_kind::one_to_one);
  l->geometry.capacity = 1000;
  fails(m.bytes, br::ring_kind::one_to_one);
  l->geometry.capacity = 1024;
  l->geometry.max_payload = 1024;
  fails(m.bytes, br::ring_kind::one_to_one);
  l->geometry.max_payload = 504;
  l->producer.tail.store(4096);
  fails(m.bytes, br::ring_kind::one_to_one);
  l->producer.tail.store(0);
  l->geometry.version = 2;
  fails(m.bytes, br::ring_kind::one_to_one);
  l->geometry.version = 1;
  ASSERT_TRUE(L::attach(m.mem, m.bytes, br::ring_kind::one_to_one));
  expect_errc(errc::invalid_capacity, [&] { (void)L::format(m.mem, 100, 1024, br::ring_kind::one_to_one); });
}

TEST(ByteRing, EndpointsOverBorrowedMemory) {
  using L = br::layout<>;
  raw_memory m(L::footprint(256));
  L* l = L::format(m.mem, m.bytes, 256, br::ring_kind::many_to_one);
  br::shared_writer<> w(br::ring_ref<ringwire::std_sync>(l, nullptr), {}, ringwire::fence_scope::cross_process);
  auto attached = L::attach(m.mem, m.bytes, br::ring_kind::many_to_one);
  ASSERT_TRUE(attached);
  br::reader<> rx(br::ring_ref<ringwire::std_sync>(*attached, nullptr), {}, ringwire::fence_scope::cross_process);
  ASSERT_EQ(w.try_write(6, bytes_of(30, 6)), status::ok);
  br::record_view r;
  ASSERT_EQ(rx.read(r), status::ok);
  EXPECT_EQ(r.type, 6);
  EXPECT_TRUE(same(r.payload, bytes_of(30, 6)));
}

// Writes a raw header word at data offset `pos`.
void poke(br::layout<>* l, std::uint64_t pos, std::int32_t len, std::int32_t type) {
  const std::uint64_t h = br::detail::pack(len, type);
  std::memcpy(l->data() + pos, &h, 8);
}

TEST(ByteRing, CorruptHeadersMakeTheReaderStickyCorrupt) {
  using L = br::layout<>;
  struct bad {
    std::int32_t len, type;
    std::uint64_t tail;
    br::ring_kind kind;
  };
  const bad cases[] = {
      {4, 1, 8, br::ring_kind::one_to_one},                    // length below the header
      {0, 1, 8, br::ring_kind::one_to_one},                    // uncommitted below tail (one-to-one)
      {-16, 1, 16, br::ring_kind::one_to_one},                 // in progress below tail (one-to-one)
      {1 << 20, 1, 256, br::ring_kind::one_to_one},            // crosses the end of the region
      {40, 1, 16, br::ring_kind::one_to_one},                  // crosses the tail
      {16, 0, 16, br::ring_kind::one_to_one},                  // reserved type 0
      {16, -5, 16, br::ring_kind::many_to_one},                // reserved negative type
      {250, 1, 256, br::ring_kind::many_to_one},               // above max_payload (120)
      {16, 1, 1024, br::ring_kind::many_to_one},               // tail beyond capacity
      {16, 1, 12, br::ring_kind::many_to_one},                 // misaligned tail
  };
  for (const auto& c : cases) {
    raw_memory m(L::footprint(256));
    L* l = L::format(m.mem, m.bytes, 256, c.kind);
    poke(l, 0, c.len, c.type);
    l->producer.tail.store(c.tail);
    br::reader<> rx(br::ring_ref<ringwire::std_sync>(l, nullptr));
    br::record_view r;
    EXPECT_EQ(rx.try_read(r), status::closed) << c.len << " " << c.type << " " << c.tail;
    EXPECT_TRUE(rx.corrupt());
    auto chk = rx.check();
    ASSERT_FALSE(chk);
    EXPECT_EQ(chk.error().code, errc::ring_corrupt);
    // sticky, even once the memory is repaired
    poke(l, 0, 16, 1);
    l->producer.tail.store(16);
    EXPECT_EQ(rx.try_read(r), status::closed);
  }
}

TEST(ByteRing, ManyToOneUncommittedAfterEveryWriterLeftIsCorrupt) {
  using L = br::layout<>;
  raw_memory m(L::footprint(256));
  L* l = L::format(m.mem, m.bytes, 256, br::ring_kind::many_to_one);
  poke(l, 0, -16, 0);
  l->producer.tail.store(16);
  br::reader<> rx(br::ring_ref<ringwire::std_sync>(l, nullptr));
  br::record_view r;
  EXPECT_EQ(rx.try_read(r), status::empty);  // a writer is (said to be) open
  l->consumer.writers.store(0);
  EXPECT_EQ(rx.try_read(r), status::closed);
  EXPECT_TRUE(rx.corrupt());
}

}  // namespace
