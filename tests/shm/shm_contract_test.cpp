// The channel contract (shm/contract.hpp): the list of kinds, describe() on each of the five,
// and a sixth kind defined here -- outside shm/, without touching it -- that segments create,
// open, validate and describe like any other.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::status;

std::uint64_t held(const shm::channel_description& d, std::string_view role) {
  for (const auto& c : d.claims)
    if (c.key == role) return c.value;
  ADD_FAILURE() << "no claim role " << role;
  return 0;
}

TEST(ChannelKinds, EveryKindHasOneContract) {
  std::set<std::uint32_t> numbers;
  std::set<std::string_view> names;
  for (const shm::channel_contract* c : shm::channel_kinds) {
    EXPECT_TRUE(numbers.insert(static_cast<std::uint32_t>(c->kind)).second) << c->name;
    EXPECT_TRUE(names.insert(c->name).second) << c->name;
    EXPECT_EQ(shm::find_contract(c->kind), c);
    EXPECT_FALSE(c->claims.empty()) << c->name;
  }
  EXPECT_EQ(numbers.size(), 5u);
  EXPECT_STREQ(shm::to_string(shm::channel_kind::spsc), "spsc");
  EXPECT_STREQ(shm::to_string(shm::channel_kind::mpsc), "mpsc");
  EXPECT_STREQ(shm::to_string(shm::channel_kind::broadcast), "broadcast");
  EXPECT_STREQ(shm::to_string(shm::channel_kind::byte_ring), "byte_ring");
  EXPECT_STREQ(shm::to_string(shm::channel_kind::byte_broadcast), "byte_broadcast");
  EXPECT_EQ(shm::find_contract(shm::channel_kind{9}), nullptr);
  EXPECT_STREQ(shm::to_string(shm::channel_kind{9}), "unknown");
  // Each spec factory names its kind's contract.
  EXPECT_EQ(shm::spsc_spec<int>().contract, shm::find_contract(shm::channel_kind::spsc));
  EXPECT_EQ(shm::mpsc_spec<int>().contract, shm::find_contract(shm::channel_kind::mpsc));
  EXPECT_EQ(shm::broadcast_spec<int>().contract, shm::find_contract(shm::channel_kind::broadcast));
  EXPECT_EQ(shm::byte_ring_spec().contract, shm::find_contract(shm::channel_kind::byte_ring));
  EXPECT_EQ(shm::byte_broadcast_spec({}).contract, shm::find_contract(shm::channel_kind::byte_broadcast));
}

TEST(ChannelKinds, ASpecWithoutItsContractDescribesNoChannel) {
  auto s = shm::spsc_spec<std::uint64_t>(16);
  s.contract = nullptr;
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment_footprint(s, 0); }), errc::invalid_options);
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(16));
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open_fd(seg.fd(), s); }), errc::shm_kind_mismatch);
}

TEST(Describe, Spsc) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(16));
  EXPECT_STREQ(seg.contract().name, "spsc");
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(tx.try_send(i), status::ok);
  auto d = shm::describe(seg);
  EXPECT_EQ(d.kind, "spsc");
  EXPECT_EQ(d.value("capacity"), 16u);
  EXPECT_EQ(d.value("queued"), 3u);
  EXPECT_EQ(d.value("tail"), 3u);
  EXPECT_EQ(d.value("sender_closed"), 0u);
  EXPECT_EQ(d.value("no such key"), std::nullopt);
  EXPECT_EQ(held(d, "sender"), 1u);
  EXPECT_EQ(held(d, "receiver"), 0u);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  ASSERT_TRUE(rx.try_recv());
  d = shm::describe(seg);
  EXPECT_EQ(d.value("queued"), 2u);
  EXPECT_EQ(held(d, "receiver"), 1u);
  tx = {};
  EXPECT_EQ(shm::describe(seg).value("sender_closed"), 1u);
  EXPECT_EQ(held(shm::describe(seg), "sender"), 0u);
}

TEST(Describe, Mpsc) {
  auto seg = shm::segment::create_anonymous(shm::mpsc_spec<std::uint64_t>(8, 4));
  auto a = shm::mpsc::attach_sender<std::uint64_t>(seg);
  auto b = shm::mpsc::attach_sender<std::uint64_t>(seg);
  ASSERT_EQ(a.try_send(1), status::ok);
  ASSERT_EQ(b.try_send(2), status::ok);
  ASSERT_EQ(b.try_send(3), status::ok);
  const auto d = shm::describe(seg);
  EXPECT_EQ(d.kind, "mpsc");
  EXPECT_EQ(d.value("lanes"), 4u);
  EXPECT_EQ(d.value("lanes_formatted"), 2u);
  EXPECT_EQ(d.value("queued"), 3u);
  EXPECT_EQ(d.value("receiver_closed"), 0u);
  EXPECT_EQ(held(d, "lane"), 2u);
  EXPECT_EQ(held(d, "receiver"), 0u);
}

TEST(Describe, Broadcast) {
  auto seg = shm::segment::create_anonymous(
      shm::broadcast_spec<std::uint64_t>(16, 2, ringwire::broadcast::policy::lossy));
  auto pub = shm::broadcast::attach_publisher<std::uint64_t>(seg);
  for (std::uint64_t i = 0; i < 5; ++i) pub.send(i);
  const auto d = shm::describe(seg);
  EXPECT_EQ(d.kind, "broadcast");
  EXPECT_EQ(d.value("capacity"), 16u);
  EXPECT_EQ(d.value("published"), 5u);
  EXPECT_EQ(d.value("closed"), 0u);
  EXPECT_EQ(d.value("slot_layout"), static_cast<std::uint64_t>(ringwire::broadcast::resolve({})));
  EXPECT_EQ(held(d, "publisher"), 1u);
}

TEST(Describe, ByteRing) {
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(4096));
  auto tx = shm::byte_ring::attach_writer(seg);
  const std::array<std::byte, 10> payload{};
  ASSERT_EQ(tx.try_write(1, payload), status::ok);
  const auto d = shm::describe(seg);
  EXPECT_EQ(d.kind, "byte_ring");
  EXPECT_EQ(d.value("capacity"), 4096u);
  EXPECT_GT(*d.value("used_bytes"), 10u);
  EXPECT_EQ(d.value("writers"), 1u);
  EXPECT_EQ(held(d, "writer"), 1u);
  EXPECT_EQ(held(d, "writers"), 0u);  // one-to-one: no claims block
  EXPECT_EQ(held(d, "reader"), 0u);
}

TEST(Describe, ByteBroadcast) {
  auto seg = shm::segment::create_anonymous(shm::byte_broadcast_spec({64, 4096, 512, 2}));
  auto w = shm::byte_broadcast::attach_writer(seg);
  const std::array<std::byte, 24> payload{};
  ASSERT_EQ(w.try_write(7, payload), status::ok);
  const auto d = shm::describe(seg);
  EXPECT_EQ(d.kind, "byte_broadcast");
  EXPECT_EQ(d.value("depth"), 64u);
  EXPECT_EQ(d.value("region_bytes"), 4096u);
  EXPECT_EQ(d.value("max_message"), 512u);
  EXPECT_EQ(d.value("max_credited"), 2u);
  EXPECT_EQ(d.value("published"), 1u);
  EXPECT_EQ(held(d, "writer"), 1u);
  EXPECT_EQ(held(d, "credited reader"), 0u);
}

// ---- a sixth kind, defined here: one counter word, its claims block of `endpoints` words.

struct counter_contract {
  static constexpr shm::channel_kind kind = shm::channel_kind{6};
  static constexpr const char* name = "counter";
  static constexpr const char* endpoint_noun = "holders";
  static constexpr shm::claim_role claims[] = {{"holder", shm::claim_place::endpoint_block, "nothing"}};
  struct alignas(128) channel {
    std::atomic<std::uint64_t> value;
  };

  static std::size_t footprint(const shm::channel_spec& s) {
    if (s.capacity == 0) throw ringwire::error(errc::invalid_capacity, "a counter counts to at least 1");
    return sizeof(channel);
  }
  static std::size_t align(const shm::channel_spec&) { return alignof(channel); }
  static std::uint64_t slot_count(std::uint64_t capacity) { return capacity; }
  static void format(std::byte* base, const shm::identity& id, const shm::channel_spec&) {
    ::new (base + id.channel_offset) channel{{0}};
  }
  static void validate(const unsigned char* base, const shm::identity& id) {
    // relaxed: a value that must be in range; nothing is read through it.
    if (shm::detail::channel_at<const channel>(base, id)->value.load(std::memory_order_relaxed) > id.capacity)
      throw ringwire::error(errc::shm_corrupt, "the counter is past its capacity");
  }
  static void describe(const std::byte* base, const shm::identity& id, shm::channel_description& d) {
    // relaxed: a snapshot.
    d.state = {{"value", shm::detail::channel_at<const channel>(base, id)->value.load(std::memory_order_relaxed)}};
  }
};
constexpr shm::channel_contract counter_kind = shm::make_contract<counter_contract>();

constexpr shm::channel_spec counter_spec(std::uint64_t capacity, std::uint32_t holders) {
  shm::channel_spec s = shm::detail::element_spec<std::uint64_t>(counter_kind, capacity);
  s.endpoints = holders;
  return s;
}

TEST(SixthKind, NeedsNoChangeToShm) {
  auto seg = shm::segment::create_anonymous(counter_spec(10, 3));
  EXPECT_EQ(seg.kind(), shm::channel_kind{6});
  EXPECT_STREQ(seg.contract().name, "counter");
  auto* c = shm::detail::channel_at<counter_contract::channel>(seg.share().get()->base, seg.info());
  c->value.store(4, std::memory_order_relaxed);  // relaxed: single-threaded test
  auto again = shm::segment::open_fd(seg.fd(), counter_spec(0, 0));  // any capacity, any holders
  const auto d = shm::describe(again);
  EXPECT_EQ(d.kind, "counter");
  EXPECT_EQ(d.value("value"), 4u);
  EXPECT_EQ(held(d, "holder"), 0u);
  // The generic checks and the kind's own, as for the five.
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open_fd(seg.fd(), counter_spec(11, 0)); }),
            errc::shm_capacity_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open_fd(seg.fd(), counter_spec(10, 2)); }),
            errc::shm_capacity_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open_fd(seg.fd(), shm::spsc_spec<std::uint64_t>()); }),
            errc::shm_kind_mismatch);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::spsc::attach_sender<std::uint64_t>(seg); }), errc::shm_kind_mismatch);
  c->value.store(11, std::memory_order_relaxed);  // relaxed: as above
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::open_fd(seg.fd(), counter_spec(0, 0)); }), errc::shm_corrupt);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::segment::create_anonymous(counter_spec(0, 0)); }),
            errc::invalid_capacity);
}

}  // namespace
