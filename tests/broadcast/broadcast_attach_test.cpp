// A typed broadcast channel in caller memory (broadcast/attach.hpp): format() returns the
// publisher and a hub over the caller's bytes, attach() validates them and returns another
// hub; every validation failure is a ringwire::error naming what is wrong.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "ringwire/broadcast.hpp"
#include "support/unit_support.hpp"

namespace {

namespace bc = ringwire::broadcast;
using ringwire::errc;
using ringwire::status;

struct tick {
  std::uint64_t id;
  double px;
};
struct other {
  std::uint64_t a;
  double b;  // same size and alignment as tick: only the type tag tells them apart
};

// Caller memory: 128-byte aligned, freed by the test (the channel only borrows it).
struct memory {
  explicit memory(std::size_t n) : bytes(n), p(static_cast<std::byte*>(std::aligned_alloc(bc::memory_alignment, n))) {}
  ~memory() { std::free(p); }
  memory(const memory&) = delete;
  memory& operator=(const memory&) = delete;
  std::size_t bytes;
  std::byte* p;
};

TEST(BroadcastAttach, FormatThenAttachCarriesMessages) {
  const std::size_t need = bc::footprint<tick>(16);
  memory m(need);
  auto [pub, subs] = bc::format<tick>(m.p, m.bytes, 16);
  auto early = subs.subscribe();
  bc::hub<tick> other_hub = bc::attach<tick>(m.p, m.bytes);
  EXPECT_EQ(other_hub.capacity(), 16u);
  auto late = other_hub.subscribe();
  auto group = other_hub.subscribe_group(2);
  for (std::uint64_t i = 1; i <= 3; ++i) ASSERT_EQ(pub.try_send(tick{i, 1.5 * static_cast<double>(i)}), status::ok);
  for (auto* s : {&early, &late}) {
    for (std::uint64_t i = 1; i <= 3; ++i) {
      auto r = s->try_recv();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->id, i);
      EXPECT_EQ(r.seq(), i);
    }
  }
  int calls = 0;
  while (group.try_recv([&](std::uint32_t, const tick&) { ++calls; })) {
  }
  EXPECT_EQ(calls, 6);
  pub.close();
  EXPECT_EQ(late.try_recv().status(), status::closed);
}

TEST(BroadcastAttach, RecordsThePolicyAndSlotLayoutFormatWasGiven) {
  bc::options o;
  o.policy = bc::policy::lossless;
  o.max_subscribers = 3;
  o.slot_layout = bc::slot_layout::line;
  memory m(bc::footprint<tick>(4, o));
  auto [pub, subs] = bc::format<tick>(m.p, m.bytes, 4, o);
  auto h = bc::attach<tick>(m.p, m.bytes);  // default options: the ring's own settings hold
  auto s = h.subscribe();
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_EQ(pub.try_send(tick{i, 0}), status::ok);
  EXPECT_EQ(pub.try_send(tick{5, 0}), status::full) << "lossless, gated by the attached subscriber";
  auto a = h.subscribe(), b = h.subscribe();
  EXPECT_THROW((void)h.subscribe(), ringwire::error) << "3 registry entries";
}

TEST(BroadcastAttach, FormatRefusesSmallOrMisalignedMemory) {
  const std::size_t need = bc::footprint<tick>(8);
  memory m(need + bc::memory_alignment);
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::format<tick>(m.p, need - 1, 8); }), errc::invalid_capacity);
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::format<tick>(m.p + 8, need, 8); }), errc::invalid_options);
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::format<tick>(m.p, need, 0); }), errc::invalid_capacity);
}

TEST(BroadcastAttach, AttachRejectsWhatFormatDidNotMake) {
  const std::size_t need = bc::footprint<tick>(8);
  memory m(need + bc::memory_alignment);
  std::memset(m.p, 0, m.bytes);
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<tick>(m.p, need); }), errc::ring_corrupt) << "no magic";
  auto ch = bc::format<tick>(m.p, need, 8);
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<tick>(nullptr, need); }), errc::ring_corrupt);
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<tick>(m.p + 64, need); }), errc::ring_corrupt) << "misaligned";
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<tick>(m.p, 100); }), errc::ring_corrupt) << "under the header";
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<tick>(m.p, need - 1); }), errc::ring_corrupt) << "truncated";
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<other>(m.p, need); }), errc::type_mismatch) << "another T";
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<std::uint64_t>(m.p, need); }), errc::type_mismatch);
  EXPECT_NO_THROW((void)bc::attach<tick>(m.p, need));
}

// Each geometry field a hostile or stale writer could change is caught before an endpoint
// is aimed by it. Offsets: broadcast/layout.hpp (pinned in shm_contract.hpp).
TEST(BroadcastAttach, AttachRejectsEachCorruptField) {
  const std::size_t need = bc::footprint<tick>(8);
  memory m(need);
  struct field {
    std::size_t at, size;
    std::uint64_t value;
    errc want;
  };
  const field fields[] = {
      {64, 8, 0x1234, errc::ring_corrupt},              // magic
      {72, 4, 1, errc::ring_corrupt},                   // version (1: before skips)
      {40, 4, 24, errc::type_mismatch},                 // payload_size
      {76, 4, 16, errc::type_mismatch},                 // payload_align
      {80, 8, 99, errc::type_mismatch},                 // type_tag
      {0, 8, 0, errc::ring_corrupt},                    // capacity
      {0, 8, std::uint64_t{1} << 60, errc::ring_corrupt},  // capacity
      {0, 8, 1000, errc::ring_corrupt},                 // capacity beyond the memory
      {8, 8, 4096, errc::ring_corrupt},                 // slot_stride
      {16, 8, 512, errc::ring_corrupt},                 // slots_offset
      {24, 8, 0, errc::ring_corrupt},                   // registry_offset
      {48, 4, 0, errc::ring_corrupt},                   // max_subscribers
      {48, 4, 70000, errc::ring_corrupt},               // max_subscribers
      {52, 4, 9, errc::ring_corrupt},                   // policy
      {56, 4, 2, errc::ring_corrupt},                   // multi_producer
      {256, 4, 7, errc::ring_corrupt},                  // closed
      {396, 4, 1000, errc::ring_corrupt},               // registry top
  };
  for (const field& f : fields) {
    { auto ch = bc::format<tick>(m.p, need, 8); }
    std::memcpy(m.p + f.at, &f.value, f.size);  // little-endian: the low bytes
    EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<tick>(m.p, need); }), f.want) << "field at " << f.at;
  }
  bc::options o;
  o.policy = bc::policy::evict;
  { auto ch = bc::format<tick>(m.p, need, 8, o); }
  EXPECT_NO_THROW((void)bc::attach<tick>(m.p, need));
  const std::uint64_t lag = 8;
  std::memcpy(m.p + 32, &lag, 8);
  EXPECT_EQ(rw_test::error_code([&] { (void)bc::attach<tick>(m.p, need); }), errc::ring_corrupt) << "evict lag";
}

// A publisher over caller memory and a subscriber attached on another thread (TSan).
TEST(BroadcastAttach, AttachedSubscriberOnAnotherThreadSeesEveryMessage) {
  constexpr std::uint64_t n = 20000;
  bc::options o;
  o.policy = bc::policy::lossless;
  memory m(bc::footprint<tick>(32, o));
  auto [pub, subs] = bc::format<tick>(m.p, m.bytes, 32, o);
  auto h = bc::attach<tick>(m.p, m.bytes);
  auto sub = h.subscribe();
  std::thread reader([&sub] {
    std::uint64_t next = 1;
    while (auto r = sub.recv()) {
      ASSERT_EQ(r->id, next);
      ASSERT_EQ(r.seq(), next);
      ++next;
    }
    EXPECT_EQ(next, n + 1);
  });
  for (std::uint64_t i = 1; i <= n; ++i) ASSERT_EQ(pub.send(tick{i, 0}), status::ok);
  pub.close();
  reader.join();
}

}  // namespace
