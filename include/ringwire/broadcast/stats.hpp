// ringwire/broadcast/stats.hpp -- what a broadcast channel's memory says about it: the
// producers' counters and, per registry entry, each subscriber's position and counters.
//
// Free: published (the head) and each gated subscriber's cursor (the gate needs them).
// With options::metrics: the producers' full events, parks, evictions and wake rounds
// (layout.hpp, control_block: slow paths only, a relaxed fetch_add since several producers
// may share them), and each subscriber's received / missed / parks / empty events, which it
// shows in its own registry entry with its cursor -- every capacity/8 receives, and
// whenever it catches up, lags, parks or joins (subscriber.hpp, show()). So what a monitor
// reads of a subscriber is at most capacity/8 messages old while it reads, and exact when it
// has caught up; a lossy subscriber without metrics shows nothing (cursor 0, lag unknown).
//
// read_stats() only loads (relaxed: a snapshot, nothing is read through these words), so it
// works on a read-only mapping from another process (shm::broadcast::stats, `ringwire stat`)
// and never disturbs the channel beyond the cache lines it reads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/detail/monitor.hpp"

namespace ringwire::broadcast {

struct subscriber_stats {
  std::uint32_t entry = 0;     // registry index
  bool evicted = false;        // evict: dropped for falling evict_lag behind (still holds the entry)
  std::uint64_t cursor = 0;    // next sequence it reads, as last shown (0: never shown)
  std::uint64_t lag = 0;       // published - cursor + 1: messages it has not read, as last shown
  std::uint64_t received = 0;  // metrics: messages received, as last shown
  std::uint64_t missed = 0;    // metrics: messages lost to lag (lossy) or skipped (latest())
  std::uint64_t parks = 0;     // metrics: futex sleeps
  std::uint64_t empty_events = 0;  // metrics: receives that found nothing new
};

struct stats {
  std::uint64_t capacity = 0;
  broadcast::policy mode = policy::lossy;
  std::uint64_t published = 0;  // the head: the last sequence made visible
  bool closed = false;
  std::uint32_t producers = 0;  // live producer handles (a shared_publisher's copies; 1 or 0 otherwise)
  std::uint64_t full_events = 0;       // metrics: sends that found the gate shut
  std::uint64_t producer_parks = 0;    // metrics
  std::uint64_t evictions = 0;         // metrics
  std::uint64_t subscriber_wakes = 0;  // metrics: wake rounds for parked subscribers
  std::uint32_t parked_subscribers = 0;
  std::vector<subscriber_stats> subscribers;  // the live and evicted registry entries

  // The largest lag of a live (not evicted) subscriber: how far the slowest one is behind.
  [[nodiscard]] std::uint64_t max_lag() const noexcept {
    std::uint64_t m = 0;
    for (const auto& s : subscribers)
      if (!s.evicted) m = std::max(m, s.lag);
    return m;
  }
};

namespace detail {

// A snapshot of the channel at geo (whose max_subscribers bounds the registry walk; a
// shared `top` is clamped to it).
template <class Sync>
stats read_stats(const ring_geometry<Sync>& geo) {
  using ring = layout<Sync>;
  const auto* l = reinterpret_cast<const ring*>(geo.base);
  stats s;
  s.capacity = geo.capacity;
  s.mode = geo.mode;
  // relaxed (all): a snapshot for monitors; nothing is read through these words.
  s.published = l->publisher.head.load(std::memory_order_relaxed);
  s.closed = l->control.closed.load(std::memory_order_relaxed) != 0;
  s.producers = l->control.producers.load(std::memory_order_relaxed);
  s.full_events = l->control.full_events.load(std::memory_order_relaxed);
  s.producer_parks = l->control.producer_parks.load(std::memory_order_relaxed);
  s.evictions = l->control.evictions.load(std::memory_order_relaxed);
  s.subscriber_wakes = l->control.subscriber_wakes.load(std::memory_order_relaxed);
  s.parked_subscribers = l->joiners.parked.load(std::memory_order_relaxed);
  const std::uint32_t top = std::min(l->joiners.top.load(std::memory_order_relaxed), geo.max_subscribers);
  for (std::uint32_t i = 0; i < top; ++i) {
    const auto& e = geo.subscriber(i);
    const std::uint32_t k = ring::kind(e.state.load(std::memory_order_relaxed));
    if (k != ring::live && k != ring::evicted) continue;
    subscriber_stats sub;
    sub.entry = i;
    sub.evicted = k == ring::evicted;
    sub.cursor = e.cursor.load(std::memory_order_relaxed);
    sub.lag = sub.cursor != 0 && s.published + 1 > sub.cursor ? s.published + 1 - sub.cursor : 0;
    sub.received = e.received.load(std::memory_order_relaxed);
    sub.missed = e.missed.load(std::memory_order_relaxed);
    sub.parks = e.parks.load(std::memory_order_relaxed);
    sub.empty_events = e.empty_events.load(std::memory_order_relaxed);
    s.subscribers.push_back(sub);
  }
  return s;
}

// The monitor's Reader (detail/monitor.hpp).
template <class Sync>
struct stats_reader {
  static stats read(const layout<Sync>& l) { return read_stats(ring_geometry<Sync>(const_cast<layout<Sync>*>(&l))); }
};

}  // namespace detail

// A read-only view of the channel's counters for another thread (detail/monitor.hpp):
// make_monitor() on the publisher, a shared_publisher, the hub or a subscriber;
// shm::broadcast::make_monitor(seg) on a segment. snapshot() gives what hub::stats() does.
template <class Sync = std_sync>
using monitor = ringwire::detail::monitor<layout<Sync>, Sync, detail::stats_reader<Sync>>;
}  // namespace ringwire::broadcast
