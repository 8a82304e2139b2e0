// ringwire/byte_ring/stats.hpp -- what a byte ring's memory says about it: its indices, its
// open writers and close flag, and the counters its endpoints keep with options::metrics.
//
// Free: written (tail) and read (head) bytes, the open-writer count and reader_closed (the
// protocol needs them). With options::metrics (layout.hpp "Counters"): the writers' full
// events, parks and wakes of the reader, the reader's empty events, parks and wakes of the
// writers, counted on slow paths only. Each endpoint counts its own events, so a ring whose
// writer runs with metrics and whose reader does not shows only the writer's.
//
// read_stats() only loads (relaxed: a snapshot, nothing is read through these words), so
// it works on a read-only mapping from another process (shm::describe, `ringwire stat`,
// shm::byte_ring::make_monitor) and never disturbs the ring beyond the lines it reads.
#pragma once

#include <atomic>
#include <cstdint>

#include "ringwire/byte_ring/layout.hpp"
#include "ringwire/byte_ring/storage.hpp"
#include "ringwire/detail/monitor.hpp"

namespace ringwire::byte_ring {

struct stats {
  std::uint64_t capacity = 0;        // data bytes
  ring_kind kind = ring_kind::one_to_one;
  std::uint64_t written_bytes = 0;   // the tail: bytes committed or claimed (headers, padding included)
  std::uint64_t read_bytes = 0;      // the head: bytes the reader gave back
  std::uint32_t writers = 0;         // open writer handles (0: closed for the reader once drained)
  bool reader_closed = false;
  std::uint64_t full_events = 0;     // metrics: reserves that found no room after re-reading head
  std::uint64_t writer_parks = 0;    // metrics: futex sleeps of the writers
  std::uint64_t reader_wakes = 0;    // metrics: wake syscalls the writers made for a parked reader
  std::uint64_t empty_events = 0;    // metrics: reads that found nothing after re-reading tail
  std::uint64_t reader_parks = 0;    // metrics: futex sleeps of the reader
  std::uint64_t writer_wakes = 0;    // metrics: wake syscalls the reader made for parked writers

  // Bytes in the ring: claimed or committed and not yet given back (at most capacity: the
  // reader may release, and the writers fill again, between the two loads of a snapshot).
  [[nodiscard]] std::uint64_t used_bytes() const noexcept {
    const std::uint64_t u = written_bytes - read_bytes;
    return u < capacity ? u : capacity;
  }
};

namespace detail {

template <class Sync>
stats read_stats(const layout<Sync>& l) noexcept {
  constexpr auto rx = std::memory_order_relaxed;  // relaxed (all): a snapshot for observers; nothing is read through it
  stats s;
  s.capacity = l.geometry.capacity;
  s.kind = l.kind();
  // head first: head never passes the tail and the tail only grows, so a tail loaded after
  // it is >= it and used_bytes() cannot wrap (the two loads are not one instant).
  s.read_bytes = l.consumer.head.load(rx);
  s.written_bytes = l.producer.tail.load(rx);
  s.writers = l.consumer.writers.load(rx);
  s.reader_closed = l.producer.reader_closed.load(rx) != 0;
  s.full_events = l.producer.full_events.load(rx);
  s.writer_parks = l.producer.writer_parks.load(rx);
  s.reader_wakes = l.producer.reader_wakes.load(rx);
  s.empty_events = l.consumer.empty_events.load(rx);
  s.reader_parks = l.consumer.reader_parks.load(rx);
  s.writer_wakes = l.consumer.writer_wakes.load(rx);
  return s;
}

// The monitor's Reader (detail/monitor.hpp).
template <class Sync>
struct stats_reader {
  static stats read(const layout<Sync>& l) noexcept { return read_stats(l); }
};

}  // namespace detail

// A read-only view of the ring's counters for another thread (detail/monitor.hpp):
// make_monitor() on a writer, a shared_writer or the reader; shm::byte_ring::make_monitor(seg)
// on a segment (claims nothing). Copyable; keeps a heap ring's memory alive.
template <class Sync = std_sync>
using monitor = ringwire::detail::monitor<layout<Sync>, Sync, detail::stats_reader<Sync>>;

}  // namespace ringwire::byte_ring
