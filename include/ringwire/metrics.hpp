// ringwire/metrics.hpp -- counters a channel keeps, and the snapshot a monitor reads.
//
// Cost model. `sent` and `received` are the channel's own indices, so they are always
// there and cost nothing. The event counters (full, empty, high-water, parks, wakes) are
// counted only on slow paths: a full or empty event is the moment an endpoint's cached
// index ran out and it had to look at the other side's line anyway; a park or wake is a
// syscall. With metrics off (the default) even those increments are skipped. Each side
// writes only its own counter block (single writer: plain relaxed stores, no RMW), on its
// own 128-byte block, so a monitor reading a snapshot never disturbs the hot lines.
#pragma once

#include <atomic>
#include <cstdint>

namespace ringwire {

struct channel_stats {
  std::uint64_t capacity = 0;
  std::uint64_t sent = 0;          // messages published by the sender
  std::uint64_t received = 0;      // messages released by the receiver
  std::uint64_t full_events = 0;   // sends that found the channel full (metrics on)
  std::uint64_t empty_events = 0;  // receives that found it empty (metrics on)
  std::uint64_t high_water = 0;    // most messages seen queued at once (metrics on)
  std::uint64_t sender_parks = 0;  // futex sleeps of the sender (metrics on)
  std::uint64_t receiver_parks = 0;
  std::uint64_t sender_wakes = 0;  // wake syscalls the receiver made for a parked sender
  std::uint64_t receiver_wakes = 0;
  bool sender_closed = false;
  bool receiver_closed = false;

  [[nodiscard]] std::uint64_t queued() const noexcept { return sent - received; }
};

namespace detail {

// A counter with exactly one writer: the owner keeps the value and publishes it with a
// relaxed store; readers take relaxed loads. No read-modify-write anywhere.
template <class Atomic>
inline void bump(Atomic& counter, std::uint64_t by = 1) noexcept {
  // relaxed: single writer; a monitor only needs an eventually-current count.
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

template <class Atomic>
inline void raise_to(Atomic& counter, std::uint64_t value) noexcept {
  // relaxed: single writer, as in bump().
  if (value > counter.load(std::memory_order_relaxed)) counter.store(value, std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace ringwire
