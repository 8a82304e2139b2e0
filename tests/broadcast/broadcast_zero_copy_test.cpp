// Zero-copy reads and writes (broadcast/slot_view.hpp): try_recv_with / recv_with read
// the slot in place through relaxed atomic loads and count only if the stamp held;
// publish_with writes the slot in place between the odd and the even stamp; seq() on every
// ok receive. The concurrent tests race recv_with against publish_with (run under TSan: no
// data race may be reported) and check that every accepted read is one whole message and
// that an overwritten slot always gives lagged, never a torn result.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <thread>

#include "ringwire/broadcast.hpp"
#include "support/unit_support.hpp"

namespace {

namespace bc = ringwire::broadcast;
using ringwire::status;

struct book {
  std::uint64_t id;
  std::uint32_t count;
  std::uint16_t flags;
  std::uint8_t side;
  std::array<double, 3> spare;  // keeps the struct > 1 word with an odd tail
  double levels[16];
  std::uint64_t check;  // id * 3 + 1 when consistent
};

book make_book(std::uint64_t id) {
  book b{};
  b.id = id;
  b.count = static_cast<std::uint32_t>(id % 16);
  b.flags = static_cast<std::uint16_t>(id);
  b.side = static_cast<std::uint8_t>(id & 1);
  for (int i = 0; i < 16; ++i) b.levels[i] = static_cast<double>(id) + i;
  b.check = id * 3 + 1;
  return b;
}

TEST(BroadcastZeroCopy, ReadsOneFieldInPlaceWithItsSequence) {
  auto [pub, subs] = bc::channel<book>(8);
  auto sub = subs.subscribe();
  for (std::uint64_t i = 1; i <= 3; ++i) ASSERT_EQ(pub.try_send(make_book(i)), status::ok);
  for (std::uint64_t i = 1; i <= 3; ++i) {
    auto r = sub.try_recv_with([](const bc::slot_view<book>& v) {
      return std::pair{v.get(&book::id), v.get(&book::levels, 5)};
    });
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, i);
    EXPECT_EQ(r->second, static_cast<double>(i) + 5);
    EXPECT_EQ(r.seq(), i);
  }
  EXPECT_EQ(sub.try_recv_with([](const bc::slot_view<book>& v) { return v.get(&book::id); }).status(), status::empty);
  EXPECT_EQ(sub.received(), 3u);
}

TEST(BroadcastZeroCopy, EveryViewReadAgreesWithACopy) {
  auto [pub, subs] = bc::channel<book>(4);
  auto copier = subs.subscribe();
  auto viewer = subs.subscribe();
  ASSERT_EQ(pub.try_send(make_book(77)), status::ok);
  const book c = *copier.try_recv();
  auto r = viewer.try_recv_with([](const bc::slot_view<book>& v) {
    const book whole = v.get();
    return std::array<std::uint64_t, 6>{whole.id, v.get(&book::count), v.get(&book::flags), v.get(&book::side),
                                        v.get(&book::check), v.get_at<std::uint32_t>(offsetof(book, count))};
  });
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], c.id);
  EXPECT_EQ((*r)[1], c.count);
  EXPECT_EQ((*r)[2], c.flags);
  EXPECT_EQ((*r)[3], c.side);
  EXPECT_EQ((*r)[4], c.check);
  EXPECT_EQ((*r)[5], c.count);
}

TEST(BroadcastZeroCopy, ReadsOutsideTheMessageAreZeroNotUndefined) {
  auto [pub, subs] = bc::channel<book>(4);
  auto sub = subs.subscribe();
  ASSERT_EQ(pub.try_send(make_book(5)), status::ok);
  auto r = sub.try_recv_with([](const bc::slot_view<book>& v) {
    std::array<std::byte, 16> tail{};
    tail.fill(std::byte{0xff});
    v.copy_to(sizeof(book) - 4, tail);  // 4 bytes inside, 12 beyond
    return std::tuple{v.get(&book::levels, 1000), v.get_at<std::uint64_t>(sizeof(book) + 64), tail};
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 0.0);
  EXPECT_EQ(std::get<1>(*r), 0u);
  for (std::size_t i = 4; i < 16; ++i) EXPECT_EQ(std::get<2>(*r)[i], std::byte{0});
  EXPECT_NE(std::get<2>(*r)[3], std::byte{0xff});
}

TEST(BroadcastZeroCopy, OverwrittenSlotGivesLaggedAndDiscardsTheResult) {
  auto [pub, subs] = bc::channel<book>(4);
  auto sub = subs.subscribe();
  ASSERT_EQ(pub.try_send(make_book(1)), status::ok);
  // fn publishes a whole lap from inside the read: the slot it reads is overwritten
  // before the re-check (single-threaded, so exactly reproducible).
  auto r = sub.try_recv_with([&pub = pub](const bc::slot_view<book>& v) {
    const std::uint64_t id = v.get(&book::id);
    for (std::uint64_t i = 2; i <= 5; ++i) EXPECT_EQ(pub.try_send(make_book(i)), status::ok);
    return id;
  });
  ASSERT_EQ(r.status(), status::lagged);
  EXPECT_EQ(r.missed(), 1u) << "message 1 is gone; 2..5 are still held";
  EXPECT_EQ(r.seq(), 0u);
  auto next = sub.try_recv_with([](const bc::slot_view<book>& v) { return v.get(&book::id); });
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2u);
  EXPECT_EQ(next.seq(), 2u);
}

TEST(BroadcastZeroCopy, PublishWithWritesInPlace) {
  auto [pub, subs] = bc::channel<book>(2);
  auto sub = subs.subscribe();
  for (std::uint64_t i = 1; i <= 2; ++i)
    ASSERT_EQ(pub.publish_with([i](bc::slot_writer<book>& w) { w.set(make_book(i)); }), status::ok);
  EXPECT_EQ(sub.try_recv()->id, 1u);
  EXPECT_EQ(sub.try_recv()->id, 2u);
  // Field by field over the slot of message 1: the untouched fields keep that message
  // (documented), clear() zeroes them.
  ASSERT_EQ(pub.publish_with([](bc::slot_writer<book>& w) {
    w.set(&book::id, std::uint64_t{3});
    w.set(&book::flags, std::uint16_t{0xabcd});
    w.set(&book::levels, 15, 2.5);
  }), status::ok);
  auto r = sub.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r.seq(), 3u);
  EXPECT_EQ(r->id, 3u);
  EXPECT_EQ(r->flags, 0xabcd);
  EXPECT_EQ(r->count, 1u) << "the previous lap's field, unwritten";
  EXPECT_EQ(r->levels[15], 2.5);
  ASSERT_EQ(pub.publish_with([](bc::slot_writer<book>& w) {
    w.clear();
    w.set(&book::side, std::uint8_t{1});
  }), status::ok);
  r = sub.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 0u);
  EXPECT_EQ(r->side, 1u);
}

TEST(BroadcastZeroCopy, PublishWithOutOfRangeThrowsAndPublishesNothing) {
  auto [pub, subs] = bc::channel<book>(4);
  auto sub = subs.subscribe();
  EXPECT_EQ(rw_test::error_code([&pub = pub] {
    (void)pub.publish_with([](bc::slot_writer<book>& w) { w.set(&book::levels, 16, 1.0); });
  }), ringwire::errc::invalid_options);
  EXPECT_EQ(pub.published(), 0u);
  EXPECT_EQ(sub.try_recv().status(), status::empty) << "the half-written slot is never accepted";
  ASSERT_EQ(pub.try_send(make_book(1)), status::ok);
  auto r = sub.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 1u);
  EXPECT_EQ(r.seq(), 1u) << "the sequence number is reused";
}

TEST(BroadcastZeroCopy, TryPublishWithIsFullUnderTheGate) {
  bc::options o;
  o.policy = bc::policy::lossless;
  auto [pub, subs] = bc::channel<std::uint64_t>(2, o);
  auto sub = subs.subscribe();
  int calls = 0;
  const auto put = [&calls](bc::slot_writer<std::uint64_t>& w) { w.set(static_cast<std::uint64_t>(++calls)); };
  EXPECT_EQ(pub.try_publish_with(put), status::ok);
  EXPECT_EQ(pub.try_publish_with(put), status::ok);
  EXPECT_EQ(pub.try_publish_with(put), status::full);
  EXPECT_EQ(calls, 2) << "fn is not called when there is no room";
  EXPECT_EQ(*sub.try_recv(), 1u);
  EXPECT_EQ(pub.try_publish_with(put), status::ok);
}

TEST(BroadcastZeroCopy, SeqMatchesPublishOrderAcrossLags) {
  std::mt19937_64 rng(7);
  auto [pub, subs] = bc::channel<std::uint64_t>(5);
  auto sub = subs.subscribe();
  std::uint64_t published = 0, expect = 1;
  for (int round = 0; round < 200; ++round) {
    const auto k = rng() % 12;
    for (std::uint64_t i = 0; i < k; ++i) ASSERT_EQ(pub.try_send(++published), status::ok);
    const auto reads = rng() % 8;
    for (std::uint64_t i = 0; i < reads; ++i) {
      auto r = sub.try_recv();
      if (r) {
        ASSERT_EQ(r.seq(), expect);
        ASSERT_EQ(*r, expect);
        ++expect;
      } else if (r.status() == status::lagged) {
        expect += r.missed();
      } else {
        ASSERT_EQ(r.status(), status::empty);
        ASSERT_EQ(expect, published + 1);
      }
    }
  }
  EXPECT_EQ(sub.received() + sub.missed(), expect - 1);
}

// recv_with racing publish_with: a lossy publisher writes field by field as fast as it
// can into a small ring, so the reader's slot is often overwritten during its read. Every
// accepted result must be one whole message (its check word agrees with its id, the seq
// with the id), every lagged must carry an exact count, and TSan must see no race.
TEST(BroadcastZeroCopyConcurrent, RecvWithRacingPublishWithNeverAcceptsATornRead) {
  constexpr std::uint64_t n = RINGWIRE_TEST_SANITIZED ? 30000 : 300000;
  bc::options o;
  o.receiver_wait = ringwire::wait_strategy::spin_then_yield();
  auto [pub, subs] = bc::channel<book>(4, o);
  auto sub = subs.subscribe();
  std::thread producer([&pub = pub] {
    for (std::uint64_t i = 1; i <= n; ++i) {
      ASSERT_EQ(pub.publish_with([i](bc::slot_writer<book>& w) {
        w.set(&book::id, i);
        for (std::size_t k = 0; k < 16; ++k) w.set(&book::levels, k, static_cast<double>(i) + static_cast<double>(k));
        w.set(&book::check, i * 3 + 1);
      }), status::ok);
      if (i % 512 == 0) std::this_thread::yield();  // two cores: let the reader run
    }
    pub.close();
  });
  std::uint64_t accepted = 0, lost = 0, torn = 0, last = 0;
  for (;;) {
    auto r = sub.recv_with([](const bc::slot_view<book>& v) {
      const std::uint64_t id = v.get(&book::id);
      const double l15 = v.get(&book::levels, 15);  // index bounded: safe on torn data too
      return std::array<std::uint64_t, 3>{id, v.get(&book::check), static_cast<std::uint64_t>(l15) - 15};
    });
    if (r) {
      ++accepted;
      const auto& x = *r;
      torn += x[1] != x[0] * 3 + 1 || x[2] != x[0] || r.seq() != x[0] || x[0] <= last;
      last = x[0];
      continue;
    }
    if (r.status() == status::lagged) {
      ASSERT_GT(r.missed(), 0u);
      lost += r.missed();
      continue;
    }
    ASSERT_EQ(r.status(), status::closed);
    break;
  }
  producer.join();
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(accepted, sub.received());
  EXPECT_EQ(lost, sub.missed());
  EXPECT_EQ(sub.received() + sub.missed(), n);
}

// ---- debug-build precondition checks: fn may not use its own endpoint -------------------

#if RINGWIRE_CHECKS
void publish_from_inside_publish_with() {
  auto ch = bc::channel<std::uint64_t>(8);
  auto& pub = ch.first;
  (void)pub.publish_with([&pub](bc::slot_writer<std::uint64_t>& w) {
    w.set(1);
    (void)pub.try_send(2);  // would write the same sequence into the slot being written
  });
}
void close_from_inside_publish_with() {
  auto ch = bc::channel<std::uint64_t>(8);
  auto& pub = ch.first;
  (void)pub.publish_with([&pub](bc::slot_writer<std::uint64_t>& w) {
    w.set(1);
    pub.close();
  });
}
void receive_from_inside_recv_with() {
  auto ch = bc::channel<std::uint64_t>(8);
  auto& pub = ch.first;
  auto sub = ch.second.subscribe();
  (void)pub.try_send(1);
  (void)pub.try_send(2);
  (void)sub.try_recv_with([&sub](const bc::slot_view<std::uint64_t>& v) {
    (void)sub.try_recv();  // would receive this message twice and skip the next
    return v.get();
  });
}

TEST(BroadcastZeroCopyDeathTest, FnUsingItsOwnEndpointAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(publish_from_inside_publish_with(), "precondition failed");
  EXPECT_DEATH(close_from_inside_publish_with(), "precondition failed");
  EXPECT_DEATH(receive_from_inside_recv_with(), "precondition failed");
}
#endif

}  // namespace
