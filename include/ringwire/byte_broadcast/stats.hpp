// ringwire/byte_broadcast/stats.hpp -- what a byte broadcast ring's memory says about it:
// the writer's head, close flag and counters and, per live credit entry, its reader's cursor,
// lag and counters.
//
// Free: published (the head), closed, the parked flag and each credited reader's cursor
// (the credits need it). With options::metrics (layout.hpp "Counters"): the writer's credit
// waits, parks and bell rings, counted on slow paths only; and each credited reader's
// received messages and parks since it joined, shown in its entry whenever a read finds
// nothing new and after each park -- so exact once it has caught up. Lossy readers have no
// entry: they show nothing (the writer's reader_wakes counts the bells that woke them).
//
// read_stats() only loads (relaxed: a snapshot, nothing is read through these words), so it
// works on a read-only mapping from another process (shm::describe, `ringwire stat`,
// shm::byte_broadcast::make_monitor) and never disturbs the ring beyond the lines it reads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/detail/monitor.hpp"

namespace ringwire::byte_broadcast {

struct credited_reader_stats {
  std::uint32_t entry = 0;     // credit entry index
  std::uint64_t cursor = 0;    // the next sequence it has not consumed
  std::uint64_t lag = 0;       // published + 1 - cursor: sequences it holds the writer back by
                               // (writer skips included until its next read passes them)
  std::uint64_t received = 0;  // metrics: messages it read since it joined, as last shown
  std::uint64_t parks = 0;     // metrics: its futex sleeps since it joined, as last shown
};

struct stats {
  std::uint64_t depth = 0;
  std::uint64_t region_bytes = 0;
  std::uint64_t max_message = 0;
  std::uint32_t max_credited = 0;
  std::uint64_t published = 0;       // the head: the newest sequence, committed or skipped (writer::skip)
  bool closed = false;
  std::uint32_t parked_readers = 0;  // the bell's flag: 1 while some reader may be asleep on it
  std::uint64_t credit_waits = 0;    // metrics: writes a credited reader held back (full)
  std::uint64_t writer_parks = 0;    // metrics: futex sleeps of the writer waiting for credits
  std::uint64_t reader_wakes = 0;    // metrics: bell rings that woke parked readers
  std::vector<credited_reader_stats> credited_readers;  // the live credit entries

  // The largest lag of a credited reader: how far the slowest one holds the writer back.
  [[nodiscard]] std::uint64_t max_lag() const noexcept {
    std::uint64_t m = 0;
    for (const auto& r : credited_readers) m = std::max(m, r.lag);
    return m;
  }
};

namespace detail {

// A snapshot of the ring at l, walking its first `entries` credit entries (shm::describe
// passes the validated identity's count; a monitor the ring's own header's, clamped).
template <class Sync>
stats read_stats(const layout<Sync>& l, std::uint32_t entries) {
  using ring = layout<Sync>;
  constexpr auto rx = std::memory_order_relaxed;  // relaxed (all): a snapshot for observers; nothing is read through it
  stats s;
  s.depth = l.header.depth;
  s.region_bytes = l.header.region_bytes;
  s.max_message = l.header.max_message;
  s.max_credited = l.header.max_credited;
  s.published = l.head.head.load(rx);
  s.closed = l.control.closed.load(rx) != 0;
  s.parked_readers = l.control.parked.load(rx);
  s.credit_waits = l.head.credit_waits.load(rx);
  s.writer_parks = l.head.writer_parks.load(rx);
  s.reader_wakes = l.head.reader_wakes.load(rx);
  auto& m = const_cast<ring&>(l);  // credit() is not const: only loads below
  for (std::uint32_t i = 0; i < entries; ++i) {
    const auto& c = m.credit(i);
    if (c.state.load(rx) != ring::credit_live) continue;
    credited_reader_stats r;
    r.entry = i;
    r.cursor = c.cursor.load(rx);
    r.lag = s.published + 1 > r.cursor ? s.published + 1 - r.cursor : 0;
    r.received = c.received.load(rx);
    r.parks = c.parks.load(rx);
    s.credited_readers.push_back(r);
  }
  return s;
}

// The monitor's Reader (detail/monitor.hpp). The entry count is the ring's header's, which
// a segment's open validated against its identity (as broadcast's monitor trusts its
// registry size), clamped to what any ring may have.
template <class Sync>
struct stats_reader {
  static stats read(const layout<Sync>& l) {
    return read_stats(l, std::min(l.header.max_credited, layout<Sync>::max_credited_limit));
  }
};

}  // namespace detail

// A read-only view of the ring's counters for another thread (detail/monitor.hpp):
// make_monitor() on the writer, a reader or a credited reader;
// shm::byte_broadcast::make_monitor(seg) on a segment (claims nothing). Copyable; keeps a
// heap ring's memory alive.
template <class Sync = std_sync>
using monitor = ringwire::detail::monitor<layout<Sync>, Sync, detail::stats_reader<Sync>>;

}  // namespace ringwire::byte_broadcast
