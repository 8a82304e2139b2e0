// The MPSC channel's behaviour does not depend on where its lanes live: every test here runs
// on the heap channel (mpsc::channel) and on the allocation-free one (mpsc::inline_channel,
// ringmpsc-rs's StackChannel), both 3 lanes of 4 messages. Then what only the inline one has:
// split once, no latency histogram, no allocation at all, queued elements destroyed by its
// destructor.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "ringwire/mpsc.hpp"
#include "support/unit_support.hpp"

// Every allocation of this test program, counted (the inline channel must make none).
#include "support/counting_new.hpp"

namespace {

namespace mpsc = ringwire::mpsc;
using ringwire::errc;
using ringwire::status;
using namespace std::chrono_literals;
using rw_test::reg;
using rw_test::tracked;

constexpr std::size_t lane_cap = 4;
constexpr std::size_t lanes = 3;

// A channel of T in heap storage: the endpoints own the block.
struct heap_storage {
  template <class T>
  struct holder {
    std::pair<mpsc::registrar<T>, mpsc::receiver<T>> ends;
    explicit holder(const mpsc::options& opt) : ends(mpsc::channel<T>(lane_cap, lanes, opt)) {}
  };
};

// A channel of T in an inline_channel: the holder is where the user put it (declared before
// the endpoints, so it outlives them).
struct inline_storage {
  template <class T>
  struct holder {
    mpsc::inline_channel<T, lane_cap, lanes> place;
    std::pair<mpsc::registrar<T>, mpsc::receiver<T>> ends;
    explicit holder(const mpsc::options& opt) : ends(place.split(opt)) {}
  };
};

template <class Storage>
class MpscStorage : public ::testing::Test {
 protected:
  template <class T>
  using holder = typename Storage::template holder<T>;
  void SetUp() override { reg().reset(); }
  void TearDown() override { EXPECT_EQ(reg().alive(), 0) << "an element was leaked or destroyed twice"; }
};
using storages = ::testing::Types<heap_storage, inline_storage>;
class storage_names {
 public:
  template <class S>
  static std::string GetName(int) {
    return std::is_same_v<S, heap_storage> ? "Heap" : "Inline";
  }
};
TYPED_TEST_SUITE(MpscStorage, storages, storage_names);

constexpr std::uint64_t encode(std::uint64_t producer, std::uint64_t seq) { return producer << 32 | seq; }

TYPED_TEST(MpscStorage, LanesAreFifoRoundRobinAndBounded) {
  typename TestFixture::template holder<std::uint64_t> ch({});
  auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
  EXPECT_EQ(reg_.max_producers(), lanes);
  EXPECT_EQ(reg_.lane_capacity(), lane_cap);
  auto a = reg_.make_sender();
  auto b = reg_.make_sender();
  auto c = reg_.make_sender();
  EXPECT_EQ(rw_test::error_code([&] { (void)reg_.make_sender(); }), errc::too_many_producers);
  for (std::uint64_t i = 0; i < lane_cap; ++i) {
    ASSERT_EQ(a.try_send(encode(0, i)), status::ok);
    ASSERT_EQ(b.try_send(encode(1, i)), status::ok);
  }
  EXPECT_EQ(a.try_send(encode(0, 99)), status::full) << "a lane holds lane_cap";
  std::uint64_t next[2] = {0, 0};
  for (std::size_t k = 0; k < 2 * lane_cap; ++k) {
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    // size_approx counts the lanes the receiver knows: all three since its first receive.
    EXPECT_EQ(rx.size_approx(), 2 * lane_cap - k - 1);
    const std::uint64_t p = *v >> 32;
    ASSERT_LT(p, 2u);
    EXPECT_EQ(*v & 0xffffffffu, next[p]++) << "per-producer order";
  }
  EXPECT_EQ(rx.try_recv().status(), status::empty) << "c's lane is empty, the channel open";
  (void)c;
}

TYPED_TEST(MpscStorage, AGoneSendersLaneIsRecycledOnceDrained) {
  typename TestFixture::template holder<std::uint64_t> ch({});
  auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
  std::vector<mpsc::sender<std::uint64_t>> senders;
  for (std::size_t i = 0; i < lanes; ++i) senders.push_back(reg_.make_sender());
  ASSERT_EQ(senders[1].try_send(7), status::ok);
  senders[1].close();
  EXPECT_FALSE(reg_.try_make_sender().has_value()) << "its lane still holds a message";
  EXPECT_EQ(*rx.try_recv(), 7u);
  auto again = reg_.try_make_sender();
  ASSERT_TRUE(again.has_value()) << "drained: the lane is free again";
  ASSERT_EQ(again->try_send(8), status::ok);
  EXPECT_EQ(*rx.try_recv(), 8u);
}

TYPED_TEST(MpscStorage, MoveOnlyElementsAndQueuedOnesDestroyedOnce) {
  {
    typename TestFixture::template holder<std::unique_ptr<int>> ch({});
    auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
    auto a = reg_.make_sender();
    ASSERT_EQ(a.try_send(std::make_unique<int>(5)), status::ok);
    EXPECT_EQ(**rx.try_recv(), 5);
  }
  {
    typename TestFixture::template holder<tracked> ch({});
    auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
    auto a = reg_.make_sender();
    auto b = reg_.make_sender();
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(a.try_emplace(i), status::ok);
      ASSERT_EQ(b.try_emplace(100 + i), status::ok);
    }
    EXPECT_EQ(rx.try_recv()->value, 0);
    EXPECT_GT(reg().alive(), 0);
  }  // endpoints first, then the storage: the 5 still queued are destroyed exactly once
}

TYPED_TEST(MpscStorage, DisconnectBothWays) {
  {
    typename TestFixture::template holder<int> ch({});
    auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
    auto a = reg_.make_sender();
    rx.close();
    EXPECT_EQ(a.try_send(1), status::closed) << "the receiver is gone";
    EXPECT_TRUE(reg_.make_sender().is_closed());
  }
  {
    typename TestFixture::template holder<int> ch({});
    auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
    auto a = reg_.make_sender();
    ASSERT_EQ(a.try_send(1), status::ok);
    a.close();
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_EQ(rx.try_recv().status(), status::empty) << "a registrar may still make senders";
    reg_.close();
    EXPECT_EQ(rx.try_recv().status(), status::closed);
  }
}

TYPED_TEST(MpscStorage, AParkedReceiverIsWokenByAnyLaneAndByTheEnd) {
  typename TestFixture::template holder<int> ch({});
  auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
  auto a = reg_.make_sender();
  auto b = reg_.make_sender();
  std::atomic<pid_t> tid{0};
  auto f = std::async(std::launch::async, [&rx = rx, &tid] {
    tid = rw_test::this_tid();
    std::vector<int> got;
    while (auto v = rx.recv()) got.push_back(*v);
    return got;
  });
  ASSERT_TRUE(rw_test::wait_until_parked(tid));
  ASSERT_EQ(b.send(2), status::ok);
  ASSERT_EQ(a.send(1), status::ok);
  a.close();
  b.close();
  reg_.close();
  const std::vector<int> got = rw_test::must_finish(f, "recv");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0] + got[1], 3);
}

TYPED_TEST(MpscStorage, ThreeProducerThreadsKeepTheirOrder) {
  const std::uint64_t n = 30'000 / RINGWIRE_STRESS_SCALE;
  typename TestFixture::template holder<std::uint64_t> ch({});
  auto& reg_ = ch.ends.first;
  auto& rx = ch.ends.second;
  std::vector<std::thread> producers;
  for (std::uint64_t p = 0; p < lanes; ++p)
    producers.emplace_back([tx = reg_.make_sender(), p]() mutable {
      for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(tx.send(encode(p, i)), status::ok);
    });
  reg_.close();
  std::uint64_t next[lanes] = {};
  std::uint64_t total = 0;
  while (auto v = rx.recv()) {
    const std::uint64_t p = *v >> 32;
    ASSERT_LT(p, lanes);
    ASSERT_EQ(*v & 0xffffffffu, next[p]++);
    ++total;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(total, lanes * n);
}

// ---- what only the inline channel has --------------------------------------------------

TEST(MpscInline, SplitsOnceRefusesLatencyAndNeverAllocates) {
  mpsc::inline_channel<std::uint64_t, 8, 2> place;
  static_assert(decltype(place)::lane_capacity() == 8 && decltype(place)::max_producers() == 2);
  mpsc::options with_latency;
  with_latency.latency = true;
  EXPECT_EQ(rw_test::error_code([&] { (void)place.split(with_latency); }), errc::invalid_options);
  {
    const std::size_t before = allocations_made.load();
    auto [r, rx] = place.split();
    auto a = r.make_sender();
    auto b = r.make_sender();
    ASSERT_EQ(a.try_send(1), status::ok);
    ASSERT_EQ(b.try_send(2), status::ok);
    std::uint64_t sum = *rx.try_recv();
    sum += *rx.try_recv();
    EXPECT_EQ(sum, 3u);
    a.close();
    EXPECT_EQ(rx.try_recv().status(), status::empty);
    // The lanes, the registry and the receiver's per-lane state all live in `place`.
    EXPECT_EQ(allocations_made.load() - before, 0u) << "split, senders, sends and receives allocate nothing";
    // (The error's message is a std::string: counted after the check above.)
    EXPECT_EQ(rw_test::error_code([&] { (void)place.split(); }), errc::already_split);
  }
  EXPECT_GE(sizeof(place), mpsc::layout<>::footprint(8, 2, sizeof(std::uint64_t), alignof(std::uint64_t)));
}

}  // namespace
