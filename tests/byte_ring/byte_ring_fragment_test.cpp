// tests/byte_ring/byte_ring_fragment_test.cpp -- fragmented messages on the byte rings: the
// writer's split (exact fits, k and k+1 fragments, all-or-nothing try_), the reassembler's
// joining (wrap padding, maximum size, interleaved streams from two threads), the abort on a
// timeout or cancel mid-message, and every outcome of a broken fragment sequence (forged
// straight into ring memory formatted here).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "support/byte_ring_kinds.hpp"
#include "support/bytes_support.hpp"
#include "support/stress_scale.hpp"

namespace {

using bytes_test::expect_errc;
using bytes_test::same;

namespace br = ringwire::byte_ring;
using ringwire::errc;
using ringwire::status;
using namespace std::chrono_literals;

std::vector<std::byte> bytes_of(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((seed * 131 + i * 7 + (i >> 8)) & 0xff);
  return v;
}

struct message {
  std::int32_t type = 0;
  std::vector<std::byte> bytes;
};

// Reads one message through the reassembler without waiting.
status take(br::reassembler& re, br::reader<>& rx, message& out) {
  return re.try_read(rx, [&](std::int32_t t, std::span<const std::byte> b) { out = {t, {b.begin(), b.end()}}; });
}

template <class P>
class frag : public ::testing::Test {};
TYPED_TEST_SUITE(frag, bytes_test::byte_ring_kinds);

TYPED_TEST(frag, ExactFitsAndFragmentCounts) {
  auto ch = TypeParam::make(4096);
  auto& tx = ch.first;
  auto& rx = ch.second;
  const std::size_t fmax = tx.max_fragment();
  ASSERT_EQ(fmax, 4096u / 2 - 32);
  br::reassembler re(1 << 20, 4);
  struct tcase {
    std::size_t size;
    std::size_t fsize;    // 0: the default, max_fragment()
    std::size_t records;  // as a plain reader sees them
  };
  const tcase cases[] = {{fmax, 0, 1},   {fmax + 1, 0, 2}, {500, 500, 1},  {501, 500, 2},
                         {1000, 500, 2}, {1001, 500, 3},   {1500, 500, 3}, {1, 500, 1}};
  unsigned seed = 0;
  for (const auto& c : cases) {
    const std::size_t f = c.fsize == 0 ? fmax : c.fsize;
    const auto msg = bytes_of(c.size, ++seed);
    // plain reader: the records themselves
    ASSERT_EQ(tx.write_fragmented(9, msg, 7, c.fsize), status::ok) << c.size;
    br::record_view r;
    std::vector<std::byte> joined;
    for (std::size_t i = 0; i < c.records; ++i) {
      ASSERT_EQ(rx.try_read(r), status::ok) << c.size << " " << i;
      if (c.records == 1) {
        EXPECT_EQ(r.type, 9);
        joined.assign(r.payload.begin(), r.payload.end());
        continue;
      }
      ASSERT_EQ(r.type, br::fragment_type);
      const br::fragment_header h = br::get_fragment_header(r.payload.data());
      EXPECT_EQ(h.type, 9);
      EXPECT_EQ(h.stream, 7);
      const std::uint16_t want = static_cast<std::uint16_t>((i == 0 ? br::frag_som : 0) |
                                                            (i + 1 == c.records ? br::frag_eom : 0));
      EXPECT_EQ(h.flags, want);
      const std::size_t piece = r.payload.size() - br::fragment_header_bytes;
      EXPECT_EQ(piece, i + 1 < c.records ? f : c.size - f * (c.records - 1));
      joined.insert(joined.end(), r.payload.begin() + 8, r.payload.end());
    }
    EXPECT_EQ(rx.try_read(r), status::empty);
    rx.release();
    EXPECT_TRUE(same(joined, msg));
    // the same through the reassembler
    ASSERT_EQ(tx.try_write_fragmented(10, msg, 1, c.fsize), status::ok) << c.size;
    message m;
    ASSERT_EQ(take(re, rx, m), status::ok);
    EXPECT_EQ(m.type, 10);
    EXPECT_TRUE(same(m.bytes, msg));
    EXPECT_EQ(take(re, rx, m), status::empty);
  }
  EXPECT_EQ(re.dropped(), 0u);
  EXPECT_TRUE(re.check());
}

TYPED_TEST(frag, ZeroLengthAndChosenFragmentSize) {
  auto ch = TypeParam::make(1024);
  auto& tx = ch.first;
  auto& rx = ch.second;
  br::reassembler re(1 << 16, 2);
  message m;
  ASSERT_EQ(tx.write_fragmented(3, {}), status::ok);
  ASSERT_EQ(take(re, rx, m), status::ok);
  EXPECT_EQ(m.type, 3);
  EXPECT_TRUE(m.bytes.empty());
  // fragment_size 10: 25 bytes are 3 fragments of 10, 10, 5.
  const auto msg = bytes_of(25, 4);
  ASSERT_EQ(tx.try_write_fragmented(4, msg, 0, 10), status::ok);
  br::record_view r;
  std::size_t pieces[3] = {};
  for (auto& p : pieces) {
    ASSERT_EQ(rx.try_read(r), status::ok);
    ASSERT_EQ(r.type, br::fragment_type);
    p = r.payload.size() - 8;
  }
  EXPECT_EQ(pieces[0], 10u);
  EXPECT_EQ(pieces[1], 10u);
  EXPECT_EQ(pieces[2], 5u);
  rx.release();
  expect_errc(errc::message_too_large, [&] { (void)tx.write_fragmented(1, msg, 0, tx.max_fragment() + 1); });
  expect_errc(errc::invalid_message_type, [&] { (void)tx.try_write_fragmented(0, bytes_of(2000, 1)); });
  expect_errc(errc::invalid_message_type, [&] { (void)tx.write_fragmented(br::fragment_type, bytes_of(2000, 1)); });
  EXPECT_EQ(rx.try_read(r), status::empty);  // nothing written by the refused calls
}

TYPED_TEST(frag, WrapPaddingBetweenFragments) {
  // capacity 256, fragment_size 40: 56-byte fragment records; sizes vary so the wrap falls
  // between fragments (and inside a message) in many ways.
  auto ch = TypeParam::make(256);
  auto& tx = ch.first;
  auto& rx = ch.second;
  br::reassembler re(4096, 1);
  message m;
  std::uint64_t last_lap = 0;
  unsigned laps = 0;
  for (unsigned i = 0; i < 400; ++i) {
    const std::size_t n = 41 + (i * 37) % 80;  // 2 or 3 fragments
    const auto msg = bytes_of(n, i);
    ASSERT_EQ(tx.try_write_fragmented(static_cast<std::int32_t>(i + 1), msg, 0, 40), status::ok) << i;
    ASSERT_EQ(take(re, rx, m), status::ok) << i;
    EXPECT_EQ(m.type, static_cast<std::int32_t>(i + 1));
    ASSERT_TRUE(same(m.bytes, msg)) << i;
    if (rx.position() / 256 != last_lap) ++laps, last_lap = rx.position() / 256;
  }
  EXPECT_GT(laps, 100u);
  EXPECT_EQ(re.dropped(), 0u);
}

TYPED_TEST(frag, TryIsAllOrNothing) {
  auto ch = TypeParam::make(1024);
  auto& tx = ch.first;
  auto& rx = ch.second;
  br::reassembler re(1 << 16, 1);
  // 640 bytes used: a 3-fragment message of 3 x 136 bytes (fragment_size 120) does not fit,
  // though its first two fragments would.
  ASSERT_EQ(tx.try_write(1, bytes_of(504, 1)), status::ok);
  ASSERT_EQ(tx.try_write(1, bytes_of(120, 1)), status::ok);
  EXPECT_EQ(tx.try_write_fragmented(2, bytes_of(360, 2), 0, 120), status::full);
  // larger than the whole ring: never fits at once
  EXPECT_EQ(tx.try_write_fragmented(2, bytes_of(5000, 2)), status::full);
  message m;
  ASSERT_EQ(take(re, rx, m), status::ok);
  ASSERT_EQ(take(re, rx, m), status::ok);
  EXPECT_EQ(m.type, 1);
  EXPECT_EQ(take(re, rx, m), status::empty);  // nothing of the refused messages
  ASSERT_EQ(tx.try_write_fragmented(2, bytes_of(360, 2), 0, 120), status::ok);
  ASSERT_EQ(take(re, rx, m), status::ok);
  EXPECT_EQ(m.type, 2);
  EXPECT_TRUE(same(m.bytes, bytes_of(360, 2)));
}

TYPED_TEST(frag, MaxSizeMessageAndTooLarge) {
  auto ch = TypeParam::make(1024);
  auto& tx = ch.first;
  auto& rx = ch.second;
  constexpr std::size_t max = 20000;
  br::reassembler re(max, 1);
  std::thread w([&] {
    auto t = std::move(tx);
    ASSERT_EQ(t.write_fragmented(1, bytes_of(max, 1)), status::ok);
    ASSERT_EQ(t.write_fragmented(2, bytes_of(max + 1, 2)), status::ok);
    ASSERT_EQ(t.write_fragmented(3, bytes_of(max - 7, 3)), status::ok);
  });
  std::vector<message> got;
  for (;;) {
    message m;
    const status s = re.read(rx, [&](std::int32_t t, std::span<const std::byte> b) { m = {t, {b.begin(), b.end()}}; });
    if (s == status::closed) break;
    ASSERT_EQ(s, status::ok);
    got.push_back(std::move(m));
  }
  w.join();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, 1);
  EXPECT_TRUE(same(got[0].bytes, bytes_of(max, 1)));
  EXPECT_EQ(got[1].type, 3);
  EXPECT_TRUE(same(got[1].bytes, bytes_of(max - 7, 3)));
  EXPECT_EQ(re.dropped(), 1u);
  EXPECT_EQ(re.dropped(br::drop_reason::too_large), 1u);
  auto c = re.check();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, errc::message_too_large);
  EXPECT_EQ(re.open_streams(), 0u);
}

TYPED_TEST(frag, TimeoutMidMessageCommitsAnAbort) {
  // capacity 256, fragment_size 40 (56-byte records): 4 fit, the 5th times out; 32 bytes are
  // left, enough for the 16-byte abort record in both kinds.
  auto ch = TypeParam::make(256);
  auto& tx = ch.first;
  auto& rx = ch.second;
  br::reassembler re(1 << 16, 1);
  EXPECT_EQ(tx.write_fragmented_for(5, bytes_of(1000, 5), 20ms, 3, 40), status::timed_out);
  message m;
  EXPECT_EQ(take(re, rx, m), status::empty);
  EXPECT_EQ(re.dropped(br::drop_reason::aborted), 1u);
  EXPECT_EQ(re.open_streams(), 0u);
  EXPECT_TRUE(re.check());  // an abort is not an error
  ASSERT_EQ(tx.write_fragmented(6, bytes_of(100, 6), 3, 40), status::ok);
  ASSERT_EQ(take(re, rx, m), status::ok);
  EXPECT_EQ(m.type, 6);
  EXPECT_TRUE(same(m.bytes, bytes_of(100, 6)));
  // cancelled the same way
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(tx.write_fragmented(7, bytes_of(1000, 7), stop.get_token(), 3, 40), status::cancelled);
  EXPECT_EQ(take(re, rx, m), status::empty);
  EXPECT_EQ(re.dropped(br::drop_reason::aborted), 2u);
  // a timeout before the first fragment writes nothing at all
  ASSERT_EQ(tx.try_write(1, bytes_of(100, 1)), status::ok);  // 2 x 112 bytes: 32 left
  ASSERT_EQ(tx.try_write(1, bytes_of(100, 1)), status::ok);
  EXPECT_EQ(tx.write_fragmented_for(8, bytes_of(1000, 8), 5ms, 3, 40), status::timed_out);
  ASSERT_EQ(take(re, rx, m), status::ok);
  ASSERT_EQ(take(re, rx, m), status::ok);
  EXPECT_EQ(m.type, 1);
  EXPECT_EQ(take(re, rx, m), status::empty);
  EXPECT_EQ(re.dropped(), 2u);
}

TEST(Fragment, OneToOneAlwaysHasRoomForTheAbort) {
  // Full-size fragments (240-byte records in a 512-byte ring): each non-final fragment is
  // written only with room for the abort after it, so the third (which would need the wrap)
  // times out and the abort still fits.
  auto [tx, rx] = br::one_to_one(512);
  br::reassembler re(1 << 16, 1);
  EXPECT_EQ(tx.write_fragmented_for(5, bytes_of(2000, 5), 20ms, 1), status::timed_out);
  message m;
  EXPECT_EQ(take(re, rx, m), status::empty);
  EXPECT_EQ(re.dropped(br::drop_reason::aborted), 1u);
  EXPECT_EQ(re.open_streams(), 0u);
}

TEST(Fragment, ManyToOneWithoutRoomForTheAbortRestartsTheStream) {
  // capacity 256, fragment_size 48 (64-byte records): four fill the ring, the fifth times
  // out and not even the abort fits: the message stays open until the stream's next som.
  auto [tx, rx] = br::many_to_one(256);
  br::reassembler re(1 << 16, 1);
  EXPECT_EQ(tx.write_fragmented_for(5, bytes_of(1000, 5), 20ms, 1, 48), status::timed_out);
  message m;
  EXPECT_EQ(take(re, rx, m), status::empty);
  EXPECT_EQ(re.open_streams(), 1u);
  ASSERT_EQ(tx.try_write_fragmented(6, bytes_of(192, 6), 1, 48), status::ok);
  ASSERT_EQ(take(re, rx, m), status::ok);
  EXPECT_EQ(m.type, 6);
  EXPECT_TRUE(same(m.bytes, bytes_of(192, 6)));
  EXPECT_EQ(re.dropped(br::drop_reason::restarted), 1u);
  // and an open message is dropped when the ring closes (192 bytes were 4 x 64: the ring is
  // at a lap boundary again, so the next 4 fill it and leave no room for the abort)
  EXPECT_EQ(tx.write_fragmented_for(7, bytes_of(1000, 7), 5ms, 2, 48), status::timed_out);
  tx.close();
  while (take(re, rx, m) == status::ok) {
  }
  EXPECT_EQ(take(re, rx, m), status::closed);
  EXPECT_EQ(re.dropped(br::drop_reason::unfinished), 1u);
  EXPECT_EQ(re.open_streams(), 0u);
}

// Sum of a message's bytes, for the threaded checks.
std::uint64_t checksum(std::span<const std::byte> b) {
  std::uint64_t s = 1469598103934665603ull;
  for (std::byte x : b) s = (s ^ static_cast<std::uint64_t>(x)) * 1099511628211ull;
  return s;
}
// A message of writer `w`, number `i`: its size and bytes follow from (w, i).
std::vector<std::byte> threaded_message(unsigned w, std::uint64_t i) {
  const std::size_t n = 1 + static_cast<std::size_t>((i * 2654435761u + w * 977) % 3000);
  auto v = bytes_of(n, static_cast<unsigned>(i * 3 + w));
  std::memcpy(v.data(), &i, n < 8 ? n : 8);
  return v;
}

TEST(Fragment, OneToOneThreaded) {
  const std::uint64_t n = rw_test::scaled(4000);
  auto [tx, rx] = br::one_to_one(2048);
  std::thread w([&, t = std::move(tx)]() mutable {
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(t.write_fragmented(1, threaded_message(0, i)), status::ok);
  });
  br::reassembler re(4096, 1);
  std::uint64_t got = 0;
  for (;;) {
    bool ok = true;
    const status s = re.read(rx, [&](std::int32_t type, std::span<const std::byte> b) {
      const auto want = threaded_message(0, got);
      ok = type == 1 && checksum(b) == checksum(want) && same(b, want);
    });
    if (s == status::closed) break;
    ASSERT_EQ(s, status::ok);
    ASSERT_TRUE(ok) << got;
    ++got;
  }
  w.join();
  EXPECT_EQ(got, n);
  EXPECT_EQ(re.dropped(), 0u);
}

TEST(Fragment, ManyToOneTwoStreamsInterleave) {
  // Two writer threads, streams 1 and 2, fragmented messages mixed with plain records (type
  // 100 + w); each writer's messages arrive whole and in its order.
  const std::uint64_t n = rw_test::scaled(3000);
  auto [tx, rx] = br::many_to_one(2048);
  std::vector<std::thread> ws;
  for (unsigned w = 0; w < 2; ++w) {
    ws.emplace_back([&, w, t = tx]() mutable {
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto msg = threaded_message(w, i);
        if (i % 4 == 3) {
          ASSERT_EQ(t.try_write_fragmented(static_cast<std::int32_t>(w + 1), msg, static_cast<std::uint16_t>(w + 1)) ==
                            status::ok
                        ? status::ok
                        : t.write_fragmented(static_cast<std::int32_t>(w + 1), msg, static_cast<std::uint16_t>(w + 1)),
                    status::ok);
        } else {
          ASSERT_EQ(t.write_fragmented(static_cast<std::int32_t>(w + 1), msg, static_cast<std::uint16_t>(w + 1)),
                    status::ok);
        }
        const auto small = bytes_of(i % 50, static_cast<unsigned>(i));
        ASSERT_EQ(t.write(static_cast<std::int32_t>(100 + w), small), status::ok);
      }
    });
  }
  tx.close();
  br::reassembler re(4096, 2);
  std::uint64_t next[2] = {0, 0};
  std::uint64_t small_next[2] = {0, 0};
  std::uint64_t bad = 0;
  for (;;) {
    const status s = re.read(rx, [&](std::int32_t type, std::span<const std::byte> b) {
      if (type >= 100) {
        const unsigned w = static_cast<unsigned>(type - 100);
        if (!same(b, bytes_of(small_next[w] % 50, static_cast<unsigned>(small_next[w])))) ++bad;
        ++small_next[w];
        return;
      }
      const unsigned w = static_cast<unsigned>(type - 1);
      const auto want = threaded_message(w, next[w]);
      if (checksum(b) != checksum(want) || !same(b, want)) ++bad;
      ++next[w];
    });
    if (s == status::closed) break;
    ASSERT_EQ(s, status::ok);
  }
  for (auto& t : ws) t.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(next[0], n);
  EXPECT_EQ(next[1], n);
  EXPECT_EQ(small_next[0], n);
  EXPECT_EQ(small_next[1], n);
  EXPECT_EQ(re.dropped(), 0u);
}

// ---- broken sequences, forged into a ring formatted here -------------------------------------

struct forged {
  using L = br::layout<>;
  explicit forged(std::uint64_t cap = 4096)
      : bytes(L::footprint(cap)), mem(::operator new(bytes, std::align_val_t{128})) {
    l = L::format(mem, bytes, cap, br::ring_kind::one_to_one);
    rx = br::reader<>(br::ring_ref<ringwire::std_sync>(l, nullptr));
  }
  ~forged() {
    rx.close();
    ::operator delete(mem, std::align_val_t{128});
  }
  forged(const forged&) = delete;
  forged& operator=(const forged&) = delete;

  // Appends a record (no wrap needed: the tests stay within one lap) and publishes it.
  void record(std::int32_t type, std::span<const std::byte> payload) {
    const std::uint64_t h = br::detail::pack(static_cast<std::int32_t>(8 + payload.size()), type);
    std::memcpy(l->data() + tail, &h, 8);
    if (!payload.empty()) std::memcpy(l->data() + tail + 8, payload.data(), payload.size());
    tail += br::detail::align8(8 + payload.size());
    l->producer.tail.store(tail, std::memory_order_release);
  }
  void fragment(std::int32_t type, std::uint16_t flags, std::uint16_t stream, std::span<const std::byte> piece) {
    std::vector<std::byte> p(8 + piece.size());
    br::put_fragment_header(p.data(), {type, flags, stream});
    if (!piece.empty()) std::memcpy(p.data() + 8, piece.data(), piece.size());
    record(br::fragment_type, p);
  }
  std::size_t bytes;
  void* mem;
  L* l = nullptr;
  std::uint64_t tail = 0;
  br::reader<> rx;
};

std::vector<std::byte> text(const char* s) {
  std::vector<std::byte> v(std::strlen(s));
  std::memcpy(v.data(), s, v.size());
  return v;
}

// Reads every message the forged ring holds now.
std::vector<message> drain(br::reassembler& re, br::reader<>& rx) {
  std::vector<message> out;
  message m;
  while (take(re, rx, m) == status::ok) out.push_back(m);
  return out;
}

TEST(FragmentBroken, OrphansRestartsAndAborts) {
  forged g;
  br::reassembler re(1 << 10, 4);
  g.fragment(1, 0, 5, text("xx"));                            // continuation, nothing open
  g.fragment(1, br::frag_eom, 5, text("yy"));                 // eom, nothing open
  g.fragment(1, br::frag_abort, 5, {});                       // abort, nothing open
  g.fragment(2, br::frag_som, 1, text("AB"));                 // opens stream 1
  g.record(9, text("plain"));                                 // interleaved, delivered first
  g.fragment(2, br::frag_som, 1, text("CD"));                 // restart: "AB" dropped
  g.fragment(2, br::frag_eom, 1, text("EF"));                 // -> "CDEF"
  g.fragment(3, br::frag_som, 2, text("GH"));                 // opens stream 2
  g.fragment(3, br::frag_abort, 2, {});                       // aborted
  g.fragment(3, br::frag_eom, 2, text("IJ"));                 // nothing open again
  g.fragment(4, br::frag_som | br::frag_eom, 3, {});          // empty one-piece message
  auto got = drain(re, g.rx);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, 9);
  EXPECT_TRUE(same(got[0].bytes, text("plain")));
  EXPECT_EQ(got[1].type, 2);
  EXPECT_TRUE(same(got[1].bytes, text("CDEF")));
  EXPECT_EQ(got[2].type, 4);
  EXPECT_TRUE(got[2].bytes.empty());
  EXPECT_EQ(re.dropped(br::drop_reason::no_start), 4u);
  EXPECT_EQ(re.dropped(br::drop_reason::restarted), 1u);
  EXPECT_EQ(re.dropped(br::drop_reason::aborted), 1u);
  EXPECT_EQ(re.dropped(), 6u);
  EXPECT_EQ(re.open_streams(), 0u);
  auto c = re.check();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, errc::ring_corrupt);
  EXPECT_FALSE(g.rx.corrupt());  // the ring itself is fine
}

TEST(FragmentBroken, Malformed) {
  forged g;
  br::reassembler re(1 << 10, 4);
  g.fragment(0, br::frag_som | br::frag_eom, 1, text("a"));   // user type 0
  g.fragment(-2, br::frag_som | br::frag_eom, 1, text("a"));  // user type negative
  g.fragment(1, br::frag_som | 8, 1, text("a"));              // unknown flag bit
  g.fragment(1, br::frag_som, 1, text("ab"));                 // opens stream 1 ...
  g.fragment(2, 0, 1, text("cd"));                            // ... another type: both dropped
  g.fragment(1, br::frag_eom, 1, text("ef"));                 // nothing open
  g.fragment(1, br::frag_som | br::frag_eom, 1, text("ok"));
  auto got = drain(re, g.rx);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(same(got[0].bytes, text("ok")));
  EXPECT_EQ(re.dropped(br::drop_reason::malformed), 4u);
  EXPECT_EQ(re.dropped(br::drop_reason::no_start), 1u);
  EXPECT_EQ(re.last_drop(), br::drop_reason::no_start);
}

TEST(FragmentBroken, TooManyStreamsAndTooLarge) {
  forged g;
  br::reassembler re(10, 2);
  g.fragment(1, br::frag_som, 1, text("a"));
  g.fragment(2, br::frag_som, 2, text("b"));
  g.fragment(3, br::frag_som, 3, text("c"));       // a third stream: refused
  g.fragment(3, br::frag_eom, 3, text("d"));       // finds nothing open
  g.fragment(1, br::frag_eom, 1, text("A"));
  g.fragment(2, br::frag_eom, 2, text("B"));
  g.fragment(4, br::frag_som, 4, text("123456"));  // 6 + 6 > 10: too large ...
  g.fragment(4, 0, 4, text("789012"));
  g.fragment(4, 0, 4, text("345"));                // ... skipped silently up to the eom
  g.fragment(4, br::frag_eom, 4, text("6"));
  g.fragment(5, br::frag_som, 4, text("12345"));   // exactly 10: delivered
  g.fragment(5, br::frag_eom, 4, text("67890"));
  auto got = drain(re, g.rx);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(same(got[0].bytes, text("aA")));
  EXPECT_TRUE(same(got[1].bytes, text("bB")));
  EXPECT_EQ(got[2].type, 5);
  EXPECT_TRUE(same(got[2].bytes, text("1234567890")));
  EXPECT_EQ(re.dropped(br::drop_reason::too_many_streams), 1u);
  EXPECT_EQ(re.dropped(br::drop_reason::no_start), 1u);
  EXPECT_EQ(re.dropped(br::drop_reason::too_large), 1u);
  EXPECT_EQ(re.dropped(), 3u);
  auto c = re.check();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, errc::too_many_producers);  // the first error
}

TEST(FragmentBroken, ClosedWhileOpenAndReaderValidation) {
  {
    forged g;
    br::reassembler re(1 << 10, 4);
    g.fragment(1, br::frag_som, 1, text("ab"));
    g.l->consumer.writers.store(0);  // every writer gone
    message m;
    EXPECT_EQ(take(re, g.rx, m), status::closed);
    EXPECT_EQ(re.dropped(br::drop_reason::unfinished), 1u);
    EXPECT_TRUE(re.check());
  }
  for (std::size_t payload : {0u, 4u, 7u}) {  // a fragment record must hold its 8-byte header
    forged g;
    g.record(br::fragment_type, bytes_of(payload, 1));
    br::record_view r;
    EXPECT_EQ(g.rx.try_read(r), status::closed);
    EXPECT_TRUE(g.rx.corrupt());
  }
  {
    forged g;
    g.record(br::fragment_type, bytes_of(8, 1));  // 8 is enough for the reader
    br::record_view r;
    EXPECT_EQ(g.rx.try_read(r), status::ok);
    EXPECT_EQ(r.type, br::fragment_type);
  }
  {
    forged g;
    g.record(-3, bytes_of(8, 1));  // other negative types stay reserved
    br::record_view r;
    EXPECT_EQ(g.rx.try_read(r), status::closed);
    EXPECT_TRUE(g.rx.corrupt());
  }
  expect_errc(errc::invalid_options, [] { br::reassembler re(10, 0); });
}

}  // namespace
