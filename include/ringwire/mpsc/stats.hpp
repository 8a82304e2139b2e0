// ringwire/mpsc/stats.hpp -- what an MPSC channel's monitor reads: every formatted lane's
// ring counters (the SPSC channel_stats of metrics.hpp: each lane is an SPSC ring), their
// totals, and the lanes' latency histograms merged into one.
//
// The monitor has the shape of every family's (detail/monitor.hpp: copyable, read-only,
// snapshot()), and also keeps the lanes' geometry as it was when it was made (after attach
// checked it, in shared memory), so a peer that later rewrites the shared geometry block
// cannot send its walk outside the channel. Lanes are read with relaxed loads after an
// acquire load of each lane's formatted flag; a lane formatted since is simply included.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/histogram.hpp"
#include "ringwire/metrics.hpp"
#include "ringwire/mpsc/layout.hpp"
#include "ringwire/spsc/endpoint.hpp"

namespace ringwire::mpsc {

struct lane_stats {
  std::uint32_t lane = 0;  // its index (descriptor)
  channel_stats ring;      // the lane's ring: sent, received, events, parks, wakes
};

struct stats {
  std::uint64_t lane_capacity = 0;
  std::uint64_t lanes = 0;            // max_producers
  std::uint64_t lanes_formatted = 0;  // lanes ever registered
  std::uint64_t sent = 0;             // over every formatted lane
  std::uint64_t received = 0;
  std::uint64_t full_events = 0;      // metrics: the lanes' totals
  std::uint64_t empty_events = 0;
  std::uint64_t sender_parks = 0;
  std::uint64_t receiver_parks = 0;
  std::uint32_t registrars = 0;       // open registrar handles (0: no new lane may register)
  bool receiver_closed = false;
  std::vector<lane_stats> per_lane;

  [[nodiscard]] std::uint64_t queued() const noexcept { return sent - received; }
};

template <class Sync = std_sync>
class monitor {
 public:
  monitor() noexcept = default;
  explicit monitor(ringwire::detail::counted_ref<layout<Sync>, Sync> r) noexcept
      : ref_(std::move(r)), geo_(ref_.get()) {}
  monitor(const monitor& o) noexcept : ref_(o.ref_.copy()), geo_(o.geo_) {}
  monitor& operator=(const monitor& o) noexcept {
    if (this != &o) {
      ref_ = o.ref_.copy();
      geo_ = o.geo_;
    }
    return *this;
  }
  monitor(monitor&&) noexcept = default;
  monitor& operator=(monitor&&) noexcept = default;
  ~monitor() = default;

  [[nodiscard]] stats snapshot() const {
    stats s;
    auto* l = ref_.get();
    if (l == nullptr) return s;
    s.lane_capacity = geo_.lane_capacity;
    s.lanes = geo_.max_producers;
    // relaxed (both): a snapshot for observers; nothing is read through them.
    s.registrars = l->registry.registrars.load(std::memory_order_relaxed);
    s.receiver_closed = l->receiver.receiver_closed.load(std::memory_order_relaxed) != 0;
    for (std::uint64_t i = 0; i < geo_.max_producers; ++i) {
      // acquire: a lane formatted by a producer is read after its format.
      if (geo_.lane_descriptor(i).formatted.load(std::memory_order_acquire) == 0) continue;
      const channel_stats r = spsc::detail::stats_reader<Sync>::read(geo_.lane_ring(i));
      ++s.lanes_formatted;
      s.sent += r.sent;
      s.received += r.received;
      s.full_events += r.full_events;
      s.empty_events += r.empty_events;
      s.sender_parks += r.sender_parks;
      s.receiver_parks += r.receiver_parks;
      s.per_lane.push_back({static_cast<std::uint32_t>(i), r});
    }
    return s;
  }

  // Every formatted lane's latency histogram, merged (spsc/layout.hpp "Latency"); nullopt
  // when the channel keeps none.
  [[nodiscard]] std::optional<histogram_snapshot> latency() const {
    if (ref_.get() == nullptr || !geo_.latency) return std::nullopt;
    using ring = spsc::layout<Sync>;
    const std::size_t at = ring::histogram_offset(geo_.lane_capacity, geo_.slot_size, geo_.slot_align);
    histogram_snapshot merged{std::vector<std::uint64_t>(histogram_scale::buckets)};
    for (std::uint64_t i = 0; i < geo_.max_producers; ++i) {
      // acquire: a lane formatted by a producer is read after its format.
      if (geo_.lane_descriptor(i).formatted.load(std::memory_order_acquire) == 0) continue;
      merged.merge(std::launder(reinterpret_cast<const latency_histogram<Sync>*>(geo_.lane_memory(i) + at))->snapshot());
    }
    return merged;
  }

 private:
  ringwire::detail::counted_ref<layout<Sync>, Sync> ref_;
  lanes_geometry<Sync> geo_;
};

}  // namespace ringwire::mpsc
