// tests/spsc/spsc_test.cpp -- SPSC channel operations: capacity, construction errors, FIFO
// order across the 2^64 index wrap for every API pair, move-only and non-default-
// constructible elements, reserve/commit, read_span/release, consume, batches, disconnect
// and moved-from endpoints, status and recv_result.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <future>
#include <iterator>
#include <limits>
#include <memory>
#include <numeric>
#include <ranges>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/unit_support.hpp"

namespace {

using ringwire::errc;
using ringwire::status;
using ringwire::spsc::channel;
using ringwire::spsc::inline_channel;
using ringwire::spsc::options;
using ringwire::spsc::receiver;
using ringwire::spsc::sender;

constexpr std::uint64_t near_wrap = std::numeric_limits<std::uint64_t>::max() - 5;

options starting_at(std::uint64_t start) {
  options o;
  o.start_index = start;
  return o;
}

// Fills with try_send(0, 1, 2, ...) until it refuses; returns how many went in.
template <class Tx>
std::size_t fill(Tx& tx, int first = 0) {
  std::size_t n = 0;
  while (tx.try_send(first + static_cast<int>(n)) == status::ok) {
    ++n;
    if (n > 1'000'000) break;  // a broken capacity check must not loop forever
  }
  return n;
}

// ---- capacity -----------------------------------------------------------------------------

class Capacity : public ::testing::TestWithParam<std::tuple<std::size_t, std::uint64_t>> {};

TEST_P(Capacity, ExactlyCapacitySendsSucceed) {
  const auto [cap, start] = GetParam();
  auto [tx, rx] = channel<int>(cap, starting_at(start));
  EXPECT_EQ(tx.capacity(), cap);
  EXPECT_EQ(rx.capacity(), cap);
  for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(tx.try_send(static_cast<int>(i)), status::ok) << "i=" << i;
  EXPECT_EQ(tx.try_send(-1), status::full);
  EXPECT_EQ(tx.try_emplace(-1), status::full);
  EXPECT_EQ(tx.size_approx(), cap);
  EXPECT_EQ(rx.size_approx(), cap);

  // One out makes room for exactly one more.
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(tx.try_send(static_cast<int>(cap)), status::ok);
  EXPECT_EQ(tx.try_send(-1), status::full);

  for (std::size_t i = 1; i <= cap; ++i) {
    auto v = rx.try_recv();
    ASSERT_TRUE(v) << "i=" << i;
    EXPECT_EQ(*v, static_cast<int>(i));
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  EXPECT_EQ(tx.make_monitor().snapshot().capacity, cap);
  EXPECT_EQ(tx.make_monitor().snapshot().sent, cap + 1);
}

INSTANTIATE_TEST_SUITE_P(Sizes, Capacity,
                         ::testing::Combine(::testing::Values<std::size_t>(1, 2, 3, 5, 1000, 1024),
                                            ::testing::Values<std::uint64_t>(0, near_wrap)));

TEST(CapacityErrors, ZeroIsInvalid) {
  try {
    (void)channel<int>(0);
    FAIL() << "capacity 0 was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::invalid_capacity);
    EXPECT_NE(std::string(e.what()).find("ringwire"), std::string::npos) << e.what();
  }
}

TEST(CapacityErrors, AboveTwoToThe48IsTooLarge) {
  const std::uint64_t too_big = (std::uint64_t{1} << 48) + 1;
  try {
    (void)channel<char>(too_big);
    FAIL() << "capacity 2^48+1 was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::capacity_too_large);
  }
  try {
    (void)channel<int>(std::numeric_limits<std::size_t>::max());
    FAIL() << "capacity SIZE_MAX was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::capacity_too_large);
  }
}

struct big_slot {
  std::array<char, std::size_t{1} << 20> bytes;  // 1 MiB per element
};

TEST(CapacityErrors, ByteSizeOverflowIsTooLarge) {
  // 2^45 slots of 2^20 bytes is 2^65 bytes: the product overflows before any allocation.
  try {
    (void)channel<big_slot>(std::size_t{1} << 45);
    FAIL() << "an overflowing byte size was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::capacity_too_large);
  }
  // Just under 2^48 slots (rounded up to 2^48) of 1 MiB: also overflows.
  try {
    (void)channel<big_slot>((std::size_t{1} << 48) - 1);
    FAIL() << "an overflowing byte size was accepted";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::capacity_too_large);
  }
}

TEST(CapacityErrors, UnallocatableIsTooLarge) {
  if (RINGWIRE_TEST_SANITIZED) GTEST_SKIP() << "sanitizer allocators abort on absurd sizes instead of throwing";
  // 2^47 bytes fits the arithmetic but not the address space of a user process.
  try {
    (void)channel<char>(std::size_t{1} << 47);
    FAIL() << "a 128 TiB channel was allocated";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::capacity_too_large);
  }
}

TEST(CapacityErrors, ErrcToString) {
  EXPECT_STREQ(ringwire::to_string(errc::invalid_capacity), "invalid capacity");
  EXPECT_STREQ(ringwire::to_string(errc::capacity_too_large), "capacity too large");
  EXPECT_STREQ(ringwire::to_string(errc::already_split), "endpoints already taken");
  const ringwire::error e(errc::already_split, "twice");
  EXPECT_EQ(e.code(), errc::already_split);
  EXPECT_STREQ(e.what(), "ringwire: endpoints already taken: twice");
}

// ---- inline_channel ---------------------------------------------------------------------

template <std::size_t N>
void check_inline_exact() {
  inline_channel<int, N> ch;
  static_assert(inline_channel<int, N>::capacity() == N);
  auto [tx, rx] = ch.split();
  EXPECT_EQ(tx.capacity(), N);
  EXPECT_EQ(rx.capacity(), N);
  EXPECT_EQ(fill(tx), N);
  EXPECT_EQ(tx.try_send(-1), status::full);
  for (std::size_t i = 0; i < N; ++i) {
    auto r = rx.try_recv();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, static_cast<int>(i));
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  EXPECT_EQ(rx.make_monitor().snapshot().capacity, N);
}

TEST(InlineChannel, CapacityIsExact) {
  check_inline_exact<1>();
  check_inline_exact<2>();
  check_inline_exact<3>();
  check_inline_exact<5>();
  check_inline_exact<1000>();
  check_inline_exact<1024>();
}

TEST(InlineChannel, SplitTwiceThrows) {
  inline_channel<int, 4> ch;
  auto [tx, rx] = ch.split();
  try {
    (void)ch.split();
    FAIL() << "second split() succeeded";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::already_split);
  }
  // The first pair still works.
  EXPECT_EQ(tx.try_send(7), status::ok);
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
}

TEST(InlineChannel, WrapsFromNearTwoToThe64) {
  inline_channel<int, 3> ch;
  auto [tx, rx] = ch.split(starting_at(near_wrap));
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 10; ++round) {
    EXPECT_EQ(fill(tx, next_in), 3u);
    next_in += 3;
    while (auto r = rx.try_recv()) EXPECT_EQ(*r, next_out++);
  }
  EXPECT_EQ(next_out, 30);
  EXPECT_EQ(rx.make_monitor().snapshot().received, 30u);
}

// ---- FIFO across the wrap, for every sender API x every receiver API ----------------------

enum class send_api { try_send, try_emplace, batch_sized, batch_unsized, reserve_emplace, reserve_span, send };
enum class recv_api { try_recv, try_recv_into, batch_iter, batch_span, read_span_all, read_span_one, consume_max, consume_all, recv };

std::string name_of(send_api a) {
  switch (a) {
    case send_api::try_send: return "try_send";
    case send_api::try_emplace: return "try_emplace";
    case send_api::batch_sized: return "batch_sized";
    case send_api::batch_unsized: return "batch_unsized";
    case send_api::reserve_emplace: return "reserve_emplace";
    case send_api::reserve_span: return "reserve_span";
    case send_api::send: return "send";
  }
  return "?";
}
std::string name_of(recv_api a) {
  switch (a) {
    case recv_api::try_recv: return "try_recv";
    case recv_api::try_recv_into: return "try_recv_into";
    case recv_api::batch_iter: return "batch_iter";
    case recv_api::batch_span: return "batch_span";
    case recv_api::read_span_all: return "read_span_all";
    case recv_api::read_span_one: return "read_span_one";
    case recv_api::consume_max: return "consume_max";
    case recv_api::consume_all: return "consume_all";
    case recv_api::recv: return "recv";
  }
  return "?";
}

// Sends some of [next, total) with the chosen API; returns how many went in.
std::size_t send_step(send_api api, sender<int>& tx, int next, int total) {
  const int left = total - next;
  if (left <= 0) return 0;
  switch (api) {
    case send_api::try_send:
      return tx.try_send(next) == status::ok ? 1 : 0;
    case send_api::try_emplace:
      return tx.try_emplace(next) == status::ok ? 1 : 0;
    case send_api::batch_sized: {
      std::vector<int> v(static_cast<std::size_t>(std::min(left, 4)));
      std::iota(v.begin(), v.end(), next);
      return tx.try_send_batch(v);
    }
    case send_api::batch_unsized: {
      return tx.try_send_batch(rw_test::counting_range{next, total});
    }
    case send_api::reserve_emplace: {
      auto res = tx.reserve(static_cast<std::size_t>(std::min(left, 3)));
      const std::size_t k = res.size();
      for (std::size_t i = 0; i < k; ++i) res.emplace_back(next + static_cast<int>(i));
      res.commit();
      return k;
    }
    case send_api::reserve_span: {
      auto res = tx.reserve(static_cast<std::size_t>(left));
      auto s = res.span();
      // Commit all but one of a multi-slot reservation (the last slot is left raw).
      const std::size_t k = s.size() > 1 ? s.size() - 1 : s.size();
      for (std::size_t i = 0; i < k; ++i) s[i] = next + static_cast<int>(i);
      res.commit(k);
      return k;
    }
    case send_api::send:
      // Only when there is room (this test is single-threaded): send() must not block.
      if (tx.size_approx() == tx.capacity()) return 0;
      return tx.send(next) == status::ok ? 1 : 0;
  }
  return 0;
}

// Receives some into out with the chosen API; returns how many.
std::size_t recv_step(recv_api api, receiver<int>& rx, std::vector<int>& out) {
  switch (api) {
    case recv_api::try_recv: {
      auto r = rx.try_recv();
      if (!r) return 0;
      out.push_back(*r);
      return 1;
    }
    case recv_api::try_recv_into: {
      int v = -1;
      if (rx.try_recv(v) != status::ok) return 0;
      out.push_back(v);
      return 1;
    }
    case recv_api::batch_iter:
      return rx.try_recv_batch(std::back_inserter(out), 3);
    case recv_api::batch_span: {
      std::array<int, 2> buf{-1, -1};
      const std::size_t n = rx.try_recv_batch(std::span<int>(buf));
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      return n;
    }
    case recv_api::read_span_all: {
      auto s = rx.read_span();
      out.insert(out.end(), s.begin(), s.end());
      const std::size_t n = s.size();
      rx.release(n);
      return n;
    }
    case recv_api::read_span_one: {
      auto s = rx.read_span(3);
      if (s.empty()) return 0;
      EXPECT_LE(s.size(), 3u);
      out.push_back(s[0]);
      rx.release(1);
      return 1;
    }
    case recv_api::consume_max:
      return rx.consume([&](int& v) { out.push_back(v); }, 2);
    case recv_api::consume_all:
      return rx.consume([&](int& v) { out.push_back(v); });
    case recv_api::recv: {
      if (rx.size_approx() == 0) return 0;  // single-threaded: recv() must not block
      auto r = rx.recv();
      EXPECT_TRUE(r);
      if (!r) return 0;
      out.push_back(*r);
      return 1;
    }
  }
  return 0;
}

class Fifo : public ::testing::TestWithParam<std::tuple<send_api, recv_api, std::uint64_t>> {};

TEST_P(Fifo, OrderIsKeptAcrossTheWrap) {
  const auto [sapi, rapi, start] = GetParam();
  constexpr int total = 41;
  auto [tx, rx] = channel<int>(5, starting_at(start));  // 5 of 8 slots: the mask matters
  std::vector<int> out;
  int sent = 0;
  for (int guard = 0; static_cast<int>(out.size()) < total; ++guard) {
    ASSERT_LT(guard, 10'000) << "no progress: sent " << sent << ", received " << out.size();
    sent += static_cast<int>(send_step(sapi, tx, sent, total));
    ASSERT_LE(tx.size_approx(), 5u);
    // Receive only every other round so the ring fills up and runs full.
    if (guard % 2 == 1) recv_step(rapi, rx, out);
  }
  std::vector<int> expect(total);
  std::iota(expect.begin(), expect.end(), 0);
  EXPECT_EQ(out, expect);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  const auto s = tx.make_monitor().snapshot();
  EXPECT_EQ(s.sent, static_cast<std::uint64_t>(total));
  EXPECT_EQ(s.received, static_cast<std::uint64_t>(total));
  EXPECT_EQ(tx.size_approx(), 0u);
  EXPECT_EQ(rx.size_approx(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    AllApis, Fifo,
    ::testing::Combine(::testing::Values(send_api::try_send, send_api::try_emplace, send_api::batch_sized,
                                         send_api::batch_unsized, send_api::reserve_emplace, send_api::reserve_span,
                                         send_api::send),
                       ::testing::Values(recv_api::try_recv, recv_api::try_recv_into, recv_api::batch_iter, recv_api::batch_span,
                                         recv_api::read_span_all, recv_api::read_span_one, recv_api::consume_max,
                                         recv_api::consume_all, recv_api::recv),
                       ::testing::Values<std::uint64_t>(0, near_wrap, std::uint64_t{1} << 63)),
    [](const auto& info) {
      const std::uint64_t start = std::get<2>(info.param);
      return name_of(std::get<0>(info.param)) + "_" + name_of(std::get<1>(info.param)) + "_" +
             (start == 0 ? "zero" : start == near_wrap ? "nearwrap" : "half");
    });

TEST(Wrap, FullRingStraddlingTheWrap) {
  // tail crosses 2^64 while head has not: 8 queued at indices 2^64-3 .. 4.
  auto [tx, rx] = channel<int>(8, starting_at(std::numeric_limits<std::uint64_t>::max() - 2));
  EXPECT_EQ(fill(tx), 8u);
  EXPECT_EQ(tx.size_approx(), 8u);
  for (int i = 0; i < 8; ++i) {
    auto r = rx.try_recv();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, i);
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

// ---- element types ----------------------------------------------------------------------

TEST(MoveOnly, UniquePtrThroughEveryApi) {
  auto [tx, rx] = channel<std::unique_ptr<int>>(4, starting_at(near_wrap));
  auto p = std::make_unique<int>(1);
  ASSERT_EQ(tx.try_send(std::move(p)), status::ok);
  EXPECT_EQ(p, nullptr);  // moved into the ring
  ASSERT_EQ(tx.try_emplace(new int(2)), status::ok);
  std::vector<std::unique_ptr<int>> v;
  v.push_back(std::make_unique<int>(3));
  v.push_back(std::make_unique<int>(4));
  v.push_back(std::make_unique<int>(5));
  EXPECT_EQ(tx.try_send_batch(v), 2u);  // room for two
  EXPECT_EQ(v[0], nullptr);
  EXPECT_EQ(v[1], nullptr);
  ASSERT_NE(v[2], nullptr);  // not sent: untouched
  EXPECT_EQ(*v[2], 5);

  auto full = std::make_unique<int>(99);
  EXPECT_EQ(tx.try_send(std::move(full)), status::full);
  ASSERT_NE(full, nullptr);  // a failed send leaves its argument alone
  EXPECT_EQ(*full, 99);

  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 1);
  auto owned = std::move(r).take();
  ASSERT_TRUE(owned.has_value());
  EXPECT_EQ(**owned, 1);

  std::vector<std::unique_ptr<int>> got;
  EXPECT_EQ(rx.try_recv_batch(std::back_inserter(got), 1), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(*got[0], 2);

  auto s = rx.read_span();
  ASSERT_EQ(s.size(), 2u);
  auto three = std::move(s[0]);  // move out in place, release destroys the husk
  EXPECT_EQ(*three, 3);
  EXPECT_EQ(*s[1], 4);
  rx.release(1);
  EXPECT_EQ(rx.consume([](std::unique_ptr<int>& q) { EXPECT_EQ(*q, 4); }), 1u);

  auto res = tx.reserve(2);
  ASSERT_GE(res.size(), 1u);
  res.emplace_back(std::make_unique<int>(6));
  res.commit();
  auto six = rx.try_recv();
  ASSERT_TRUE(six);
  EXPECT_EQ(**six, 6);
}

struct no_default {
  no_default() = delete;
  no_default(int a, std::string b) : n(a), s(std::move(b)) {}
  int n;
  std::string s;
};

TEST(NonDefaultConstructible, EmplaceAndReceive) {
  auto [tx, rx] = channel<no_default>(3);
  EXPECT_EQ(tx.try_emplace(1, "one"), status::ok);
  EXPECT_EQ(tx.emplace(2, std::string(40, 'x')), status::ok);  // long: a heap string
  {
    auto res = tx.reserve(1);
    ASSERT_EQ(res.size(), 1u);
    no_default& built = res.emplace_back(3, "three");
    EXPECT_EQ(built.n, 3);
    res.commit();
  }
  EXPECT_EQ(tx.try_emplace(4, "four"), status::full);
  auto a = rx.try_recv();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->n, 1);
  EXPECT_EQ(a->s, "one");
  auto b = rx.recv();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->n, 2);
  EXPECT_EQ(b->s, std::string(40, 'x'));
  auto c = rx.try_recv();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->s, "three");
}

// try_emplace builds the element in its slot: exactly one construction, no copy or move.
TEST(Emplace, ConstructsInPlace) {
  rw_test::reg().reset();
  {
    auto [tx, rx] = channel<rw_test::tracked>(2);
    ASSERT_EQ(tx.try_emplace(5), status::ok);
    ASSERT_EQ(tx.emplace(6), status::ok);
    EXPECT_EQ(rw_test::reg().constructed.load(), 2);
    EXPECT_EQ(rw_test::reg().copies.load(), 0);
    EXPECT_EQ(rw_test::reg().moves.load(), 0);
    const rw_test::tracked seven(7);
    EXPECT_EQ(tx.try_send(seven), status::full);
    EXPECT_EQ(rw_test::reg().copies.load(), 0);  // refused before copying
    EXPECT_EQ(rx.consume([](rw_test::tracked& t) { EXPECT_GE(t.value, 5); }), 2u);
    EXPECT_EQ(rw_test::reg().moves.load(), 0);  // consume works in place
    EXPECT_EQ(tx.try_send(seven), status::ok);
    EXPECT_EQ(rw_test::reg().copies.load(), 1);
    EXPECT_EQ(seven.value, 7);
  }
  EXPECT_EQ(rw_test::reg().alive(), 0);
  EXPECT_EQ(rw_test::reg().bad_destroys.load(), 0);
}

// ---- reserve / commit -------------------------------------------------------------------

TEST(Reserve, AtMostNAndFewerAtTheArrayEnd) {
  auto [tx, rx] = channel<int>(5);  // 8 slots
  {
    auto r = tx.reserve(3);
    EXPECT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.size(), 3u);
    EXPECT_FALSE(r.empty());
    auto s = r.span();
    ASSERT_EQ(s.size(), 3u);
    s[0] = 10, s[1] = 11, s[2] = 12;
    r.commit(3);
  }
  {
    auto r = tx.reserve(100);  // more than capacity: the 2 free slots
    EXPECT_EQ(r.size(), 2u);
    r.span()[0] = 13, r.span()[1] = 14;
    r.commit(2);
  }
  {
    auto r = tx.reserve(1);  // full
    EXPECT_EQ(r.size(), 0u);
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(r.status(), status::full);
  }
  std::vector<int> out;
  EXPECT_EQ(rx.try_recv_batch(std::back_inserter(out), 5), 5u);
  EXPECT_EQ(out, (std::vector<int>{10, 11, 12, 13, 14}));
  // tail is now at slot 5 of 8: only 3 contiguous slots remain before the end of the array.
  {
    auto r = tx.reserve(5);
    EXPECT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.size(), 3u);
    for (std::size_t i = 0; i < r.size(); ++i) r.emplace_back(20 + static_cast<int>(i));
    EXPECT_EQ(r.constructed(), 3u);
    r.commit();
  }
  {
    auto r = tx.reserve(5);  // wrapped to slot 0: the remaining room (2) is contiguous
    EXPECT_EQ(r.size(), 2u);
    r.emplace_back(23);
    r.emplace_back(24);
    r.commit();
  }
  out.clear();
  while (auto v = rx.try_recv()) out.push_back(*v);
  EXPECT_EQ(out, (std::vector<int>{20, 21, 22, 23, 24}));
}

TEST(Reserve, ZeroRequestIsOkAndEmpty) {
  auto [tx, rx] = channel<int>(4);
  auto r = tx.reserve(0);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.status(), status::ok);
  EXPECT_EQ(tx.try_send(1), status::ok);  // no reservation left open
}

TEST(Reserve, CommitPartOfASpan) {
  auto [tx, rx] = channel<int>(8);
  {
    auto r = tx.reserve(6);
    ASSERT_EQ(r.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) r.span()[i] = static_cast<int>(i);
    r.commit(2);  // only the first two are published
  }
  EXPECT_EQ(tx.size_approx(), 2u);
  {
    auto r = tx.reserve(1);  // the uncommitted four are free again: next slot is index 2
    ASSERT_EQ(r.size(), 1u);
    r.span()[0] = 42;
    r.commit(1);
  }
  std::vector<int> out;
  while (auto v = rx.try_recv()) out.push_back(*v);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 42}));
}

TEST(Reserve, AbandonedPublishesNothingAndSlotsAreReused) {
  auto [tx, rx] = channel<int>(4);
  int* first_slot = nullptr;
  {
    auto r = tx.reserve(3);
    ASSERT_EQ(r.size(), 3u);
    first_slot = r.span().data();
    r.span()[0] = 1;
    r.emplace_back(1);
    // destroyed uncommitted
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty);
  EXPECT_EQ(tx.size_approx(), 0u);
  {
    auto r = tx.reserve(3);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r.span().data(), first_slot);  // the same slots again
    r.abandon();                             // explicit abandon: same effect
    EXPECT_EQ(tx.size_approx(), 0u);
  }
  {
    auto r = tx.reserve(4);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r.span().data(), first_slot);
    r.emplace_back(7);
    r.commit();
  }
  auto v = rx.try_recv();
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 7);
  EXPECT_EQ(rx.try_recv().status(), status::empty);
}

TEST(Reserve, MovedReservationCommitsOnce) {
  auto [tx, rx] = channel<int>(4);
  auto a = tx.reserve(2);
  ASSERT_EQ(a.size(), 2u);
  a.emplace_back(1);
  auto b = std::move(a);  // b owns it now; a's destructor must do nothing
  b.emplace_back(2);
  b.commit();
  EXPECT_EQ(tx.size_approx(), 2u);
  EXPECT_EQ(tx.try_send(3), status::ok);
  std::vector<int> out;
  rx.consume([&](int& v) { out.push_back(v); });
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
}

TEST(Reserve, ClosedWhenReceiverGone) {
  auto [tx, rx] = channel<int>(4);
  rx.close();
  auto r = tx.reserve(2);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.status(), status::closed);
  // also when full and the receiver is gone
  auto [tx2, rx2] = channel<int>(1);
  ASSERT_EQ(tx2.try_send(1), status::ok);
  rx2.close();
  EXPECT_EQ(tx2.reserve(1).status(), status::closed);
}

// ---- read_span / release ----------------------------------------------------------------

TEST(ReadSpan, ContiguousRunUpToMaxAndSplitAtTheEnd) {
  auto [tx, rx] = channel<int>(8);
  EXPECT_TRUE(rx.read_span().empty());
  for (int i = 0; i < 6; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  {
    auto s = rx.read_span(4);
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(std::vector<int>(s.begin(), s.end()), (std::vector<int>{0, 1, 2, 3}));
    rx.release(0);  // releasing nothing frees nothing
  }
  EXPECT_EQ(tx.size_approx(), 6u);
  {
    auto s = rx.read_span();
    ASSERT_EQ(s.size(), 6u);
    rx.release(6);
  }
  // head at slot 6: send 5 more (indices 6..10); the run stops at the array's end.
  for (int i = 6; i < 11; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  {
    auto s = rx.read_span();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0], 6);
    EXPECT_EQ(s[1], 7);
    rx.release(2);
  }
  {
    auto s = rx.read_span();
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(std::vector<int>(s.begin(), s.end()), (std::vector<int>{8, 9, 10}));
    rx.release(1);  // keep 9 and 10
  }
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 9);
  auto s = rx.read_span(0);
  EXPECT_TRUE(s.empty());
  rx.release(0);
  EXPECT_EQ(rx.size_approx(), 1u);
}

// ---- consume / batches ------------------------------------------------------------------

TEST(Consume, CountAndMax) {
  auto [tx, rx] = channel<int>(16);
  EXPECT_EQ(rx.consume([](int&) { ADD_FAILURE() << "called on an empty channel"; }), 0u);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  std::vector<int> seen;
  EXPECT_EQ(rx.consume([&](int& v) { seen.push_back(v); }, 0), 0u);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(rx.consume([&](int& v) { seen.push_back(v); }, 3), 3u);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(rx.size_approx(), 7u);
  EXPECT_EQ(rx.consume([&](const int& v) { seen.push_back(v); }), 7u);
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.back(), 9);
  EXPECT_EQ(rx.consume([](int&) {}), 0u);
  EXPECT_EQ(tx.size_approx(), 0u);
}

TEST(Batch, TryRecvBatchSpanAndIterator) {
  auto [tx, rx] = channel<int>(8);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  std::array<int, 3> buf{};
  EXPECT_EQ(rx.try_recv_batch(std::span<int>(buf)), 3u);
  EXPECT_EQ(buf, (std::array<int, 3>{0, 1, 2}));
  std::vector<int> rest;
  EXPECT_EQ(rx.try_recv_batch(std::back_inserter(rest), 100), 2u);
  EXPECT_EQ(rest, (std::vector<int>{3, 4}));
  EXPECT_EQ(rx.try_recv_batch(std::span<int>(buf)), 0u);
  EXPECT_EQ(rx.try_recv_batch(std::back_inserter(rest), 0), 0u);
}

TEST(Batch, TrySendBatchVectorMoreThanRoom) {
  auto [tx, rx] = channel<int>(5);
  ASSERT_EQ(tx.try_send(-1), status::ok);
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  EXPECT_EQ(tx.try_send_batch(v), 4u);
  EXPECT_EQ(tx.try_send_batch(v), 0u);  // full
  EXPECT_EQ(tx.try_send_batch(std::vector<int>{}), 0u);
  std::vector<int> out;
  rx.consume([&](int& x) { out.push_back(x); });
  EXPECT_EQ(out, (std::vector<int>{-1, 0, 1, 2, 3}));
  EXPECT_EQ(tx.try_send_batch(std::span<const int>(v).subspan(4)), 5u);
  out.clear();
  rx.consume([&](int& x) { out.push_back(x); });
  EXPECT_EQ(out, (std::vector<int>{4, 5, 6, 7, 8}));
}

TEST(Batch, TrySendBatchUnsizedRange) {
  auto [tx, rx] = channel<int>(4);
  // A single-pass generator of 100 ints: only what fits is taken.
  EXPECT_EQ(tx.try_send_batch(rw_test::counting_range{0, 100}), 4u);
  EXPECT_EQ(tx.try_send_batch(rw_test::counting_range{0, 100}), 0u);
  std::vector<int> out;
  rx.try_recv_batch(std::back_inserter(out), 10);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3}));
  // A short unsized range that ends before the ring is full.
  std::vector<int> three{7, 8, 9};
  EXPECT_EQ(tx.try_send_batch(rw_test::unsized(three)), 3u);
  EXPECT_EQ(tx.try_send_batch(rw_test::counting_range{5, 5}), 0u);  // empty
  EXPECT_EQ(tx.size_approx(), 3u);
  out.clear();
  rx.try_recv_batch(std::back_inserter(out), 10);
  EXPECT_EQ(out, (std::vector<int>{7, 8, 9}));
}

TEST(Batch, SendBatchWithConsumerThreadDrainsMoreThanCapacity) {
  constexpr int total = 20'000;
  auto [tx, rx] = channel<int>(16);
  std::vector<int> got;
  got.reserve(total);
  std::jthread consumer([&, rx = std::move(rx)]() mutable {
    while (auto r = rx.recv_for(rw_test::generous)) got.push_back(*r);
  });
  std::vector<int> src(total / 2);
  std::iota(src.begin(), src.end(), 0);
  EXPECT_EQ(tx.send_batch(src), src.size());  // sized
  EXPECT_EQ(tx.send_batch(rw_test::counting_range{total / 2, total}), static_cast<std::size_t>(total / 2));
  tx.close();
  consumer.join();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], i);
}

// ---- disconnect -------------------------------------------------------------------------

TEST(Disconnect, SenderGoneReceiverDrainsThenClosed) {
  for (bool destroy : {false, true}) {
    auto [tx, rx] = channel<int>(4);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
    EXPECT_FALSE(tx.is_closed());
    if (destroy) {
      auto dead = std::move(tx);  // destroyed at the end of this block
    } else {
      tx.close();
    }
    EXPECT_TRUE(tx.is_closed());
    EXPECT_FALSE(rx.is_closed());  // still three to drain
    auto a = rx.try_recv();
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, 0);
    auto b = rx.recv();
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, 1);
    auto c = rx.recv_for(rw_test::generous);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, 2);
    EXPECT_TRUE(rx.is_closed());
    EXPECT_EQ(rx.try_recv().status(), status::closed);
    EXPECT_EQ(rx.recv().status(), status::closed);
    EXPECT_EQ(rx.recv_for(rw_test::generous).status(), status::closed);
    EXPECT_EQ(rx.consume([](int&) {}), 0u);
    EXPECT_TRUE(rx.read_span().empty());
    EXPECT_EQ(rx.make_monitor().snapshot().sender_closed, true);
  }
}

TEST(Disconnect, ReceiverGoneSendsReportClosed) {
  auto [tx, rx] = channel<int>(2);
  ASSERT_EQ(tx.try_send(1), status::ok);
  {
    auto dead = std::move(rx);
  }
  EXPECT_TRUE(rx.is_closed());
  EXPECT_TRUE(tx.is_closed());
  EXPECT_EQ(tx.try_send(2), status::closed);  // room left, but nobody to read it
  EXPECT_EQ(tx.try_emplace(2), status::closed);
  EXPECT_EQ(tx.send(2), status::closed);
  EXPECT_EQ(tx.send_for(2, rw_test::generous), status::closed);
  EXPECT_EQ(tx.reserve(1).status(), status::closed);
  std::vector<int> v{1, 2, 3};
  EXPECT_EQ(tx.try_send_batch(v), 0u);
  ASSERT_EQ(tx.try_send(2), status::closed);
  // Full and closed reads as closed, not full.
  auto [tx2, rx2] = channel<int>(1);
  ASSERT_EQ(tx2.try_send(1), status::ok);
  rx2.close();
  EXPECT_EQ(tx2.try_send(2), status::closed);
  EXPECT_EQ(tx2.send(2), status::closed);
}

TEST(Disconnect, SendBatchStopsWhenReceiverGone) {
  auto [tx, rx] = channel<int>(4);
  rx.close();
  std::vector<int> v{1, 2, 3};
  auto f = std::async(std::launch::async, [&tx = tx, &v] { return tx.send_batch(v); });
  EXPECT_EQ(rw_test::must_finish(f, "send_batch to a closed receiver (room left)"), 0u);

  auto [tx2, rx2] = channel<int>(2);
  ASSERT_EQ(tx2.try_send(0), status::ok);
  ASSERT_EQ(tx2.try_send(0), status::ok);
  rx2.close();
  auto g = std::async(std::launch::async, [&tx2 = tx2, &v] { return tx2.send_batch(v); });
  EXPECT_EQ(rw_test::must_finish(g, "send_batch to a closed receiver (full)"), 0u);
}

TEST(Disconnect, CloseIsIdempotent) {
  auto [tx, rx] = channel<int>(2);
  ASSERT_EQ(tx.try_send(5), status::ok);
  const auto mon = rx.make_monitor();
  tx.close();
  tx.close();
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 5);
  rx.close();
  rx.close();
  EXPECT_TRUE(rx.is_closed());
  EXPECT_EQ(rx.try_recv().status(), status::closed);
  EXPECT_EQ(rx.capacity(), 0u);
  EXPECT_EQ(tx.capacity(), 0u);
  const auto s = mon.snapshot();
  EXPECT_TRUE(s.sender_closed);
  EXPECT_TRUE(s.receiver_closed);
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.received, 1u);
}

TEST(Disconnect, MovedFromEndpointsReportClosed) {
  auto [tx, rx] = channel<int>(4);
  sender<int> tx2 = std::move(tx);
  receiver<int> rx2 = std::move(rx);
  // The moved-from pair: every operation reports closed, none crashes.
  EXPECT_TRUE(tx.is_closed());
  EXPECT_EQ(tx.try_send(1), status::closed);
  EXPECT_EQ(tx.try_emplace(1), status::closed);
  EXPECT_EQ(tx.send(1), status::closed);
  EXPECT_EQ(tx.send_for(1, rw_test::generous), status::closed);
  EXPECT_EQ(tx.reserve(2).status(), status::closed);
  std::vector<int> v{1, 2};
  EXPECT_EQ(tx.try_send_batch(v), 0u);
  EXPECT_EQ(tx.send_batch(v), 0u);
  EXPECT_EQ(tx.try_send_batch(rw_test::counting_range{0, 4}), 0u);
  EXPECT_EQ(tx.send_batch(rw_test::counting_range{0, 4}), 0u);
  EXPECT_EQ(tx.size_approx(), 0u);
  EXPECT_EQ(tx.capacity(), 0u);
  EXPECT_EQ(tx.make_monitor().snapshot().capacity, 0u);
  tx.close();

  EXPECT_TRUE(rx.is_closed());
  EXPECT_EQ(rx.try_recv().status(), status::closed);
  EXPECT_EQ(rx.recv().status(), status::closed);
  EXPECT_EQ(rx.recv_for(rw_test::generous).status(), status::closed);
  EXPECT_EQ(rx.wait_readable(), status::closed);
  EXPECT_EQ(rx.consume([](int&) {}), 0u);
  EXPECT_TRUE(rx.read_span().empty());
  std::array<int, 2> buf{};
  EXPECT_EQ(rx.try_recv_batch(std::span<int>(buf)), 0u);
  EXPECT_EQ(rx.size_approx(), 0u);
  EXPECT_EQ(rx.capacity(), 0u);
  rx.close();

  // The moved-to pair is the channel.
  EXPECT_FALSE(tx2.is_closed());
  EXPECT_EQ(tx2.capacity(), 4u);
  ASSERT_EQ(tx2.try_send(9), status::ok);
  auto r = rx2.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 9);

  // Default-constructed endpoints behave the same.
  sender<int> none_tx;
  receiver<int> none_rx;
  EXPECT_TRUE(none_tx.is_closed());
  EXPECT_EQ(none_tx.try_send(1), status::closed);
  EXPECT_EQ(none_tx.try_send_batch(v), 0u);
  EXPECT_TRUE(none_rx.is_closed());
  EXPECT_EQ(none_rx.try_recv().status(), status::closed);
}

TEST(Disconnect, MoveAssignmentClosesTheOldChannel) {
  auto [tx_a, rx_a] = channel<int>(2);
  auto [tx_b, rx_b] = channel<int>(2);
  ASSERT_EQ(tx_a.try_send(1), status::ok);
  tx_a = std::move(tx_b);  // closes channel a's sender
  auto r = rx_a.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(rx_a.try_recv().status(), status::closed);
  ASSERT_EQ(tx_a.try_send(2), status::ok);  // now feeds channel b
  auto rb = rx_b.try_recv();
  ASSERT_TRUE(rb);
  EXPECT_EQ(*rb, 2);

  rx_b = std::move(rx_a);  // closes channel b's receiver
  EXPECT_EQ(tx_a.try_send(3), status::closed);
  EXPECT_EQ(rx_b.try_recv().status(), status::closed);  // channel a: drained and closed
}

// ---- monitor ----------------------------------------------------------------------------

TEST(Monitor, OutlivesTheEndpointsAndCopies) {
  ringwire::spsc::monitor<> mon = [] {
    auto [tx, rx] = channel<int>(3);
    EXPECT_EQ(tx.try_send(1), status::ok);
    EXPECT_EQ(tx.try_send(2), status::ok);
    EXPECT_TRUE(rx.try_recv());
    return tx.make_monitor();
  }();
  const auto copy = mon;
  ringwire::spsc::monitor<> assigned = copy;
  assigned = mon;
  for (const ringwire::spsc::monitor<>* m : std::array<const ringwire::spsc::monitor<>*, 3>{&mon, &copy, &assigned}) {
    const auto s = m->snapshot();
    EXPECT_EQ(s.capacity, 3u);
    EXPECT_EQ(s.sent, 2u);
    EXPECT_EQ(s.received, 1u);
    EXPECT_EQ(s.queued(), 1u);
    EXPECT_TRUE(s.sender_closed);
    EXPECT_TRUE(s.receiver_closed);
  }
}

// ---- status / recv_result ---------------------------------------------------------------

TEST(Status, ToString) {
  EXPECT_STREQ(ringwire::to_string(status::ok), "ok");
  EXPECT_STREQ(ringwire::to_string(status::full), "full");
  EXPECT_STREQ(ringwire::to_string(status::empty), "empty");
  EXPECT_STREQ(ringwire::to_string(status::closed), "closed");
  EXPECT_STREQ(ringwire::to_string(status::timed_out), "timed_out");
  EXPECT_STREQ(ringwire::to_string(status::cancelled), "cancelled");
  EXPECT_STREQ(ringwire::to_string(static_cast<status>(200)), "unknown");
}

TEST(RecvResult, ValueAndReasons) {
  for (status why : {status::empty, status::closed, status::timed_out, status::cancelled}) {
    ringwire::recv_result<std::string> r(why);
    EXPECT_FALSE(static_cast<bool>(r));
    EXPECT_FALSE(r.has_value());
    EXPECT_EQ(r.status(), why);
    EXPECT_FALSE(std::move(r).take().has_value());
  }
  ringwire::recv_result<std::string> r(std::in_place, 3, 'z');
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(r.status(), status::ok);
  EXPECT_EQ(*r, "zzz");
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(r.value(), "zzz");
  const auto& cr = r;
  EXPECT_EQ(cr.value(), "zzz");
  EXPECT_EQ(cr->size(), 3u);
  r->push_back('!');
  std::string moved = *std::move(r);
  EXPECT_EQ(moved, "zzz!");

  ringwire::recv_result<std::string> t(std::in_place, "abc");
  std::optional<std::string> o = std::move(t).take();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(*o, "abc");

  // From a channel: the first non-value result says why.
  auto [tx, rx] = channel<std::string>(1);
  auto e = rx.try_recv();
  EXPECT_FALSE(e);
  EXPECT_EQ(e.status(), status::empty);
  ASSERT_EQ(tx.try_send("hi"), status::ok);
  tx.close();
  auto v = rx.try_recv();
  ASSERT_TRUE(v);
  EXPECT_EQ(std::move(v).take().value(), "hi");
  EXPECT_EQ(rx.try_recv().status(), status::closed);
}

// ---- debug-build precondition checks -------------------------------------------------------

#if RINGWIRE_CHECKS
void destroy_inline_channel_with_open_endpoints() {
  auto* ch = new inline_channel<int, 2>;
  auto endpoints = ch->split();
  delete ch;  // while both endpoints are still open
}
void release_more_than_the_span() {
  auto [tx, rx] = channel<int>(4);
  (void)tx.try_send(1);
  auto s = rx.read_span();
  rx.release(s.size() + 1);
}
void send_during_a_reservation() {
  auto [tx, rx] = channel<int>(4);
  auto r = tx.reserve(1);
  (void)tx.try_send(1);  // the sender may not send while a reservation is open
}
void value_of_an_empty_result() {
  ringwire::recv_result<int> r(status::empty);
  std::printf("%d\n", r.value());
}

TEST(PreconditionsDeathTest, ViolationsAbortWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(destroy_inline_channel_with_open_endpoints(), "precondition failed");
  EXPECT_DEATH(release_more_than_the_span(), "precondition failed");
  EXPECT_DEATH(send_during_a_reservation(), "precondition failed");
  EXPECT_DEATH(value_of_an_empty_result(), "precondition failed");
}
#endif

}  // namespace

// try_recv(T&): the status-returning form that move-assigns into the caller's object.
TEST(SpscTryRecvInto, EmptyValueClosed) {
  auto [tx, rx] = channel<std::unique_ptr<int>>(2);
  auto out = std::make_unique<int>(-1);
  EXPECT_EQ(rx.try_recv(out), status::empty);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, -1);  // untouched on empty
  ASSERT_EQ(tx.try_send(std::make_unique<int>(7)), status::ok);
  EXPECT_EQ(rx.try_recv(out), status::ok);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 7);
  ASSERT_EQ(tx.try_send(std::make_unique<int>(8)), status::ok);
  tx.close();
  EXPECT_EQ(rx.try_recv(out), status::ok);  // drains before closed
  EXPECT_EQ(*out, 8);
  EXPECT_EQ(rx.try_recv(out), status::closed);
  EXPECT_EQ(*out, 8);
}

// Trivially copyable batches are copied as at most two runs: check both halves of a wrapped
// run land in order, from the send side and the receive side.
TEST(SpscBulkCopy, WrappedRunsBothWays) {
  auto [tx, rx] = channel<std::uint64_t>(8);  // 8 slots
  std::vector<std::uint64_t> in(6);
  std::array<std::uint64_t, 8> buf{};
  std::uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 20; ++round) {
    for (auto& v : in) v = next_in++;
    ASSERT_EQ(tx.try_send_batch(in), 6u);  // starts at 6*round mod 8: wraps on most rounds
    ASSERT_EQ(rx.try_recv_batch(std::span<std::uint64_t>(buf.data(), 5)), 5u);
    for (std::size_t i = 0; i < 5; ++i) ASSERT_EQ(buf[i], next_out++);
    ASSERT_EQ(rx.try_recv_batch(buf.data(), 8), 1u);  // raw pointer: contiguous too
    ASSERT_EQ(buf[0], next_out++);
  }
  EXPECT_EQ(rx.try_recv_batch(std::span<std::uint64_t>(buf)), 0u);
}
