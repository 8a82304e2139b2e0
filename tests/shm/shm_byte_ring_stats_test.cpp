// tests/shm/shm_byte_ring_stats_test.cpp -- the byte families' counters in a shared-memory
// segment, read by another process on a read-only mapping it never joins (shm::observe,
// then shm::describe and make_monitor: what `ringwire stat` does): a byte ring of each kind
// and a byte broadcast ring with a credited reader, each counter with its exact value and
// describe's items in their order. And a monitor claims no side.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "ringwire/byte_broadcast.hpp"
#include "ringwire/byte_ring.hpp"
#include "ringwire/shm/byte_broadcast.hpp"
#include "ringwire/shm/byte_ring.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
namespace br = ringwire::byte_ring;
namespace bb = ringwire::byte_broadcast;
using ringwire::status;

using ShmByteStats = shm_test::named;

const std::vector<std::byte> payload(24, std::byte{0x11});  // a 32-byte record: two fill 64 bytes

using items = std::vector<std::pair<std::string_view, std::uint64_t>>;

// 0 when `got` holds exactly `want`, keys in that order; else 10 + the first index that differs.
int same_items(const std::vector<shm::channel_description::item>& got, const items& want) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (i >= got.size() || got[i].key != want[i].first || got[i].value != want[i].second)
      return 10 + static_cast<int>(i);
  }
  return got.size() == want.size() ? 0 : 9;
}

br::options metered() {
  br::options o;
  o.metrics = true;
  return o;
}

TEST_F(ShmByteStats, OneToOneCountersAreReadFromAnotherProcessOnAReadOnlyMapping) {
  const auto n = name("o2o-stats");
  auto seg = shm::segment::create(n, shm::byte_ring_spec(64));
  auto tx = shm::byte_ring::attach_writer(seg, metered());
  auto rx = shm::byte_ring::attach_reader(seg, metered());
  br::record_view r;
  ASSERT_EQ(rx.try_read(r), status::empty);
  ASSERT_EQ(tx.try_write(1, payload), status::ok);
  ASSERT_EQ(tx.try_write(2, payload), status::ok);
  ASSERT_EQ(tx.try_write(3, payload), status::full);
  ASSERT_EQ(rx.read_batch(10, [](std::int32_t, std::span<const std::byte>) {}), 2u);
  ASSERT_EQ(rx.try_read(r), status::empty);
  const pid_t child = shm_test::spawn([&] {
    const shm::segment o = shm::observe(n);
    if (!o.read_only()) return 2;
    const shm::channel_description d = shm::describe(o);
    const int items_rc = same_items(d.state, {{"capacity", 64},
                                              {"ring_kind", 1},
                                              {"head", 64},
                                              {"tail", 64},
                                              {"used_bytes", 0},
                                              {"writers", 1},
                                              {"reader_closed", 0},
                                              {"full_events", 1},
                                              {"writer_parks", 0},
                                              {"reader_wakes", 0},
                                              {"empty_events", 2},
                                              {"reader_parks", 0},
                                              {"writer_wakes", 0}});
    if (items_rc != 0) return items_rc;
    const br::stats s = shm::byte_ring::make_monitor(o).snapshot();
    if (s.capacity != 64 || s.kind != br::ring_kind::one_to_one || s.written_bytes != 64 || s.read_bytes != 64) return 3;
    return s.full_events == 1 && s.empty_events == 2 && s.writers == 1 && !s.reader_closed ? 0 : 4;
  });
  EXPECT_EQ(shm_test::wait_child(child), 0);
  EXPECT_EQ(seg.joined_count(), 1u) << "observing joined";
}

TEST_F(ShmByteStats, ManyToOneWritersCountTogetherAcrossProcesses) {
  const auto n = name("m2o-stats");
  auto seg = shm::segment::create(n, shm::byte_ring_spec(64, br::ring_kind::many_to_one, 2));
  auto rx = shm::byte_ring::attach_reader(seg, metered());
  auto w = shm::byte_ring::attach_shared_writer(seg, metered());
  ASSERT_EQ(w.try_write(1, payload), status::ok);
  // A writer in another process fills the ring and finds it full once.
  const pid_t writer = shm_test::spawn([&] {
    const shm::segment mine = shm::segment::open(n, shm::byte_ring_spec(64, br::ring_kind::many_to_one));
    auto other = shm::byte_ring::attach_shared_writer(mine, metered());
    if (other.try_write(2, payload) != status::ok) return 2;
    return other.try_write(3, payload) == status::full ? 0 : 3;
  });
  ASSERT_EQ(shm_test::wait_child(writer), 0);
  auto copy = w;  // a copy of this process's writer counts in the same word
  EXPECT_EQ(copy.try_write(3, payload), status::full);
  const pid_t child = shm_test::spawn([&] {
    const shm::segment o = shm::observe(n);
    const br::stats s = shm::byte_ring::make_monitor(o).snapshot();
    if (s.kind != br::ring_kind::many_to_one || s.written_bytes != 64 || s.read_bytes != 0) return 2;
    // The segment's own open-writer count and this process's (the other one detached).
    if (s.writers != 2) return 3;
    const shm::channel_description d = shm::describe(o);
    return d.value("full_events") == 2u && d.value("empty_events") == 0u ? 0 : 4;
  });
  EXPECT_EQ(shm_test::wait_child(child), 0);
}

// A monitor claims nothing: it is made while both sides are attached, and a side can detach
// and attach again under it.
TEST_F(ShmByteStats, AMonitorClaimsNoSide) {
  auto seg = shm::segment::create(name("monitor"), shm::byte_ring_spec(64));
  auto tx = shm::byte_ring::attach_writer(seg, metered());
  auto rx = shm::byte_ring::attach_reader(seg, metered());
  const br::monitor<> m = shm::byte_ring::make_monitor(seg);
  ASSERT_EQ(tx.try_write(1, payload), status::ok);
  EXPECT_EQ(m.snapshot().written_bytes, 32u);
  rx.close();  // detaches: the claim is free again
  EXPECT_TRUE(m.snapshot().reader_closed);
  rx = shm::byte_ring::attach_reader(seg, metered());
  EXPECT_FALSE(m.snapshot().reader_closed);
  br::record_view r;
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_EQ(rx.try_read(r), status::empty);
  EXPECT_EQ(m.snapshot().empty_events, 1u);
  EXPECT_EQ(m.snapshot().read_bytes, 0u) << "read, not yet given back";
  rx.release();
  EXPECT_EQ(m.snapshot().read_bytes, 32u);
}

TEST_F(ShmByteStats, ByteBroadcastCountersAreReadFromAnotherProcessOnAReadOnlyMapping) {
  const auto n = name("bb-stats");
  const bb::geometry g{4, 1024, 64, 2};
  auto seg = shm::segment::create(n, shm::byte_broadcast_spec(g));
  bb::options o;
  o.metrics = true;
  auto w = shm::byte_broadcast::attach_writer(seg, o);
  auto c = shm::byte_broadcast::attach_credited_reader(seg, o);
  const std::vector<std::byte> msg(16, std::byte{0x22});
  for (int i = 0; i < 4; ++i) ASSERT_EQ(w.try_write(1, msg), status::ok);
  ASSERT_EQ(w.try_write(1, msg), status::full);
  ASSERT_EQ(w.try_write(1, msg), status::full);
  std::vector<std::byte> buf(64);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.try_read(buf));
  ASSERT_EQ(c.try_read(buf).status(), status::ok);
  ASSERT_EQ(c.try_read(buf).status(), status::empty);  // shows received
  const pid_t child = shm_test::spawn([&] {
    const shm::segment ro = shm::observe(n);
    if (!ro.read_only()) return 2;
    const shm::channel_description d = shm::describe(ro);
    const int state_rc = same_items(d.state, {{"depth", 4},
                                              {"region_bytes", 1024},
                                              {"max_message", 64},
                                              {"max_credited", 2},
                                              {"published", 4},
                                              {"closed", 0},
                                              {"parked_readers", 0},
                                              {"max_lag", 0},
                                              {"credit_waits", 2},
                                              {"writer_parks", 0},
                                              {"reader_wakes", 0}});
    if (state_rc != 0) return state_rc;
    if (d.endpoints.size() != 1 || d.endpoints[0].role != "credited_reader" || d.endpoints[0].index != 0) return 3;
    const int row_rc = same_items(d.endpoints[0].values, {{"cursor", 5}, {"lag", 0}, {"received", 4}, {"parks", 0}});
    if (row_rc != 0) return 30 + row_rc;
    const bb::stats s = shm::byte_broadcast::make_monitor(ro).snapshot();
    if (s.published != 4 || s.credit_waits != 2 || s.credited_readers.size() != 1) return 4;
    return s.credited_readers[0].received == 4 && s.credited_readers[0].cursor == 5 ? 0 : 5;
  });
  EXPECT_EQ(shm_test::wait_child(child), 0);
  EXPECT_EQ(seg.joined_count(), 1u) << "observing joined";
}

}  // namespace
