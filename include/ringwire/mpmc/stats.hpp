// ringwire/mpmc/stats.hpp -- what an MPMC queue's memory says about it, and its monitor.
//
// Free: the tickets (head: pushes claimed, tail: pops claimed), the close state, the live
// channel handles and the sleepers registered in each waiting room. With options::metrics:
// the six event counters on the geometry block's second line (layout.hpp), counted by
// core.hpp on slow paths only:
//   full_events / empty_events      a try_push that reported full / a try_pop that reported
//                                   empty (a blocking call counts each of its attempts that did)
//   producer_parks / consumer_parks futex sleeps, added when the wait returns (so a thread
//                                   asleep now is not counted yet: see parked_*)
//   producer_wakes / consumer_wakes wake syscalls a pop made for parked pushes / a push made
//                                   for parked pops: one per wake, however many it woke.
//                                   close()'s unconditional wake-up is not counted.
//
// read() only loads, relaxed (a snapshot: nothing is read through these words), so it never
// disturbs the queue beyond the lines it reads; the tickets are two loads, not one instant.
#pragma once

#include <cstdint>

#include "ringwire/detail/monitor.hpp"
#include "ringwire/mpmc/layout.hpp"

namespace ringwire::mpmc {

struct stats {
  std::uint64_t capacity = 0;
  std::uint64_t pushed = 0;  // push tickets claimed (head): elements pushed, plus holes
  std::uint64_t popped = 0;  // pop tickets claimed (tail), holes included
  bool closed = false;          // sending side sealed: close(), or a channel's last sender gone
  bool receivers_gone = false;  // a channel's last receiver gone: pushes report closed
  std::uint32_t senders = 0;    // live channel handles (0 and 0 for a queue)
  std::uint32_t receivers = 0;
  std::uint32_t parked_producers = 0;  // sleepers registered in the producers' room now
  std::uint32_t parked_consumers = 0;  // (about to sleep, or asleep)
  std::uint64_t full_events = 0;       // metrics: pushes that reported full
  std::uint64_t empty_events = 0;      // metrics: pops that reported empty
  std::uint64_t producer_parks = 0;    // metrics: futex sleeps of pushes, after each wait
  std::uint64_t consumer_parks = 0;    // metrics: futex sleeps of pops, after each wait
  std::uint64_t producer_wakes = 0;    // metrics: wake syscalls for parked pushes
  std::uint64_t consumer_wakes = 0;    // metrics: wake syscalls for parked pops

  // Elements queued (holes included) at about the instant of the snapshot: the two tickets
  // were read one after the other, so the difference is clamped to [0, capacity].
  [[nodiscard]] std::uint64_t queued() const noexcept {
    if (pushed <= popped) return 0;
    return pushed - popped < capacity ? pushed - popped : capacity;
  }
};

namespace detail {

// The monitor's Reader (ringwire/detail/monitor.hpp).
template <class Sync>
struct stats_reader {
  static stats read(const layout<Sync>& l) noexcept {
    constexpr auto rx = std::memory_order_relaxed;  // relaxed (every load): a snapshot; no data is read through it
    const auto& c = l.geometry.counters;
    stats s;
    s.capacity = l.geometry.capacity;
    s.popped = l.consumer.tail.load(rx);
    const std::uint64_t head = l.producer.head.load(rx);
    s.pushed = head & ~sealed_bit;
    s.closed = (head & sealed_bit) != 0;
    s.receivers_gone = l.producer.receivers_gone.load(rx) != 0;
    s.senders = l.rooms.senders.load(rx);
    s.receivers = l.rooms.receivers.load(rx);
    s.parked_producers = l.rooms.producers.sleepers.load(rx);
    s.parked_consumers = l.rooms.consumers.sleepers.load(rx);
    s.full_events = c.full_events.load(rx);
    s.empty_events = c.empty_events.load(rx);
    s.producer_parks = c.producer_parks.load(rx);
    s.consumer_parks = c.consumer_parks.load(rx);
    s.producer_wakes = c.producer_wakes.load(rx);
    s.consumer_wakes = c.consumer_wakes.load(rx);
    return s;
  }
};

}  // namespace detail

// A read-only view of the queue's counters for another thread (detail/monitor.hpp):
// make_monitor() on a queue, a sender or a receiver. Copyable; keeps the heap block (and the
// elements still queued in it) alive while it exists.
template <class Sync = std_sync>
using monitor = ringwire::detail::monitor<layout<Sync>, Sync, detail::stats_reader<Sync>>;

}  // namespace ringwire::mpmc
