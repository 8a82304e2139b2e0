// ringwire/spsc/endpoint.hpp -- what the SPSC sender, receiver and monitor have in common:
// a reference to a layout, kept alive through its owner (heap) or borrowed (inline).
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

#include "ringwire/detail/monitor.hpp"
#include "ringwire/metrics.hpp"
#include "ringwire/placement/memory.hpp"
#include "ringwire/spsc/storage.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::spsc {

// Per-channel settings, fixed when the channel is made.
struct options {
  wait_strategy sender_wait = wait_strategy::park();
  wait_strategy receiver_wait = wait_strategy::park();
  bool metrics = false;          // count slow-path events (see metrics.hpp)
  // Keep a latency histogram (publish to release, layout.hpp "Latency"): a heap channel's
  // or an MPSC channel's own option, fixed when it is made; an endpoint attached to a
  // segment follows the segment (shm::with_latency), an inline_channel has none.
  bool latency = false;
  std::uint64_t start_index = 0; // first index; tests start near 2^64 to cross the wrap
  // Where a heap channel's memory lives (placement/memory.hpp: huge pages, mlock, prefault,
  // NUMA node); default: an ordinary allocation. Ignored by inline and shared-memory storage.
  memory_options memory = {};
};

namespace detail {

// Iterators over contiguous memory holding T (readable: copy_from; writable: copy_into), so
// a trivially copyable batch can move as bytes. Concepts, so a non-contiguous iterator
// (a back_inserter) short-circuits before its value type is asked for.
template <class It, class T>
concept contiguous_from = std::contiguous_iterator<It> && std::is_same_v<std::remove_cv_t<std::iter_value_t<It>>, T>;
template <class It, class T>
concept contiguous_into = std::contiguous_iterator<It> && std::is_same_v<std::iter_reference_t<It>, T&>;

// A counted (heap) or borrowed (inline) reference to an SPSC layout.
template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

}  // namespace detail

namespace detail {

// The counters as the layout holds them (the monitor's Reader: detail/monitor.hpp).
template <class Sync>
struct stats_reader {
  static channel_stats read(const layout<Sync>& l) noexcept {
    channel_stats s;
    constexpr auto rx = std::memory_order_relaxed;  // relaxed: a snapshot for observers; no data is read through it
    s.capacity = l.geometry.capacity;
    s.received = l.consumer.head.load(rx) - l.geometry.start_index;
    s.sent = l.producer.tail.load(rx) - l.geometry.start_index;
    if (s.sent < s.received) s.sent = s.received;  // the two loads are not one instant
    s.full_events = l.producer_stats.full_events.load(rx);
    s.high_water = l.producer_stats.high_water.load(rx);
    s.sender_parks = l.producer_stats.parks.load(rx);
    s.receiver_wakes = l.producer_stats.wakes_sent.load(rx);
    s.empty_events = l.consumer_stats.empty_events.load(rx);
    s.receiver_parks = l.consumer_stats.parks.load(rx);
    s.sender_wakes = l.consumer_stats.wakes_sent.load(rx);
    s.sender_closed = l.consumer.sender_closed.load(rx) != 0;
    s.receiver_closed = l.producer.receiver_closed.load(rx) != 0;
    return s;
  }
};

}  // namespace detail

// A read-only view of a channel's counters for another thread (a metrics exporter, a CLI
// monitor): detail/monitor.hpp. Copyable; keeps a heap channel's memory alive. snapshot()
// gives channel_stats; latency() the histogram, for a channel that keeps one.
template <class Sync = std_sync>
class monitor : public ringwire::detail::monitor<layout<Sync>, Sync, detail::stats_reader<Sync>> {
  using base = ringwire::detail::monitor<layout<Sync>, Sync, detail::stats_reader<Sync>>;

 public:
  using base::base;

  // The latency histogram's numbers (layout.hpp "Latency"); nullopt when the channel keeps
  // none.
  [[nodiscard]] std::optional<histogram_snapshot> latency() const {
    const auto* l = this->layout();
    if (l == nullptr || l->latency() == nullptr) return std::nullopt;
    return l->latency()->snapshot();
  }
};

}  // namespace ringwire::spsc
