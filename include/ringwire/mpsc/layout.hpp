// ringwire/mpsc/layout.hpp -- the MPSC lanes channel as plain bytes: a registry of lane
// descriptors and max_producers SPSC rings, no pointers, only offsets.
//
// Each producer owns one lane, an SPSC ring (spsc/layout.hpp) whose sender is an ordinary
// spsc::sender; the one receiver reads every lane. Like the SPSC layout this one is
// pointer-free, standard-layout for std_sync and templated on Sync, so the Relacy model
// runs it and a shared-memory segment hosts it (shm/mpsc.hpp).
//
//  offset            block (each 128 bytes: its own pair of cache lines)
//  ----------------  ----------------------------------------------------------------------
//     0              geometry   lane_capacity u64 | max_producers u64 | lane_stride u64 |
//                               descriptors_offset u64 | lanes_offset u64 |
//                               start_index u64 | slot_size u32 | slot_align u32
//                               written once by format()
//   128              receiver   receiver_park u32 | receiver_closed u32
//                               receiver_park: the one word the receiver sleeps on, for all
//                               lanes (written by the receiver when it parks, exchanged by
//                               whoever wakes it); receiver_closed: set once, by the receiver
//   256              registry   registrars u32: live registrar handles (RMW on copy/drop only)
//                               lanes_formatted u32: lanes formatted so far (RMW once per
//                               lane's first registration); the receiver compares it with
//                               the lanes it knows, so a new lane is seen at the next receive
//   descriptors_     max_producers descriptors of 8 bytes: state u32 | formatted u32
//     offset         (touched by registration and by the receiver's slow paths only)
//   lanes_offset     max_producers lanes, lane_stride bytes apart: lane i is an SPSC layout
//                    and its slots (spsc/layout.hpp), formatted at its first registration;
//                    its geometry.receiver_park_offset points back at receiver_park
//
// Lane descriptor protocol. `state` = generation << 2 | kind, kind one of
//   free     0  no sender; its ring (if formatted) is drained. Any registrar may claim it.
//   claimed  1  a registrar won it (CAS from free, generation + 1) and is preparing it.
//   owned    2  published (release) by that registrar after the ring is ready; a sender
//               owns the lane. When the sender is gone (the ring's sender_closed) and the
//               receiver has drained it, the lane is "draining no more": the receiver (CAS
//               owned -> free) or the next registrar (CAS owned -> claimed, generation + 1)
//               recycles it, after an acquire load of head == tail proves it empty.
// `formatted` goes 0 -> 1 once, with release, after the registrar that first claimed the
// lane has formatted its ring; the receiver touches a lane's ring only after an acquire
// load of formatted == 1, so formatting never races with the receiver's scan. Indices are
// never reset: a recycled lane continues from its old tail, so the receiver's cached view
// of the ring stays valid across generations.
//
// Memory. The block is reserved up front (max_producers * lane_stride bytes); a lane's
// header is written at its first registration and its slots when its sender first uses
// them, so an operating system that maps pages lazily commits memory only for lanes that
// are used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>

#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"
#include "ringwire/spsc/layout.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::mpsc {

// Kinds of a lane descriptor's state (low two bits).
inline constexpr std::uint32_t lane_free = 0;
inline constexpr std::uint32_t lane_claimed = 1;
inline constexpr std::uint32_t lane_owned = 2;
constexpr std::uint32_t lane_kind(std::uint32_t state) noexcept { return state & 3u; }
constexpr std::uint32_t lane_generation(std::uint32_t state) noexcept { return state >> 2; }
constexpr std::uint32_t lane_state(std::uint32_t generation, std::uint32_t kind) noexcept {
  return generation << 2 | kind;
}

template <class Sync = std_sync>
struct layout {
  template <class V>
  using atomic = typename Sync::template atomic<V>;
  using lane = spsc::layout<Sync>;

  struct alignas(detail::hot_block) geometry_block {
    std::uint64_t lane_capacity;
    std::uint64_t max_producers;
    std::uint64_t lane_stride;
    std::uint64_t descriptors_offset;
    std::uint64_t lanes_offset;
    std::uint64_t start_index;
    std::uint32_t slot_size;
    std::uint32_t slot_align;
    std::uint32_t latency;  // 1: every lane keeps its stamps and latency histogram
  };
  struct alignas(detail::hot_block) receiver_block {
    atomic<std::uint32_t> receiver_park;
    atomic<std::uint32_t> receiver_closed;
  };
  struct alignas(detail::hot_block) registry_block {
    atomic<std::uint32_t> registrars;
    atomic<std::uint32_t> lanes_formatted;
  };
  struct descriptor {
    atomic<std::uint32_t> state;
    atomic<std::uint32_t> formatted;
  };

  geometry_block geometry;
  receiver_block receiver;
  registry_block registry;

  // Most producers one channel accepts: the generation keeps 30 bits, and the receiver's
  // slow-path scans stay short.
  static constexpr std::uint64_t max_max_producers = 4096;

  static constexpr std::size_t align(std::size_t slot_align) noexcept { return lane::align(slot_align); }
  static constexpr std::size_t round_up(std::size_t n, std::size_t a) noexcept { return (n + a - 1) / a * a; }
  static constexpr std::size_t descriptors_offset() noexcept { return round_up(sizeof(layout), alignof(descriptor)); }
  static constexpr std::size_t lanes_offset(std::uint64_t max_producers, std::size_t slot_align) noexcept {
    return round_up(descriptors_offset() + static_cast<std::size_t>(max_producers) * sizeof(descriptor),
                    align(slot_align));
  }

  // Bytes format() needs. Throws ringwire::error for a lane capacity of zero or too large,
  // max_producers of zero or above max_max_producers, or a total that cannot be addressed.
  static std::size_t footprint(std::uint64_t lane_capacity, std::uint64_t max_producers, std::size_t slot_size,
                               std::size_t slot_align, bool latency = false) {
    if (max_producers == 0 || max_producers > max_max_producers)
      throw error(errc::invalid_options, "max_producers must be between 1 and " + std::to_string(max_max_producers) +
                                             ", not " + std::to_string(max_producers));
    const std::size_t stride = lane_stride(lane_capacity, slot_size, slot_align, latency);  // validates the capacity
    const std::size_t head = lanes_offset(max_producers, slot_align);
    if (stride > (std::numeric_limits<std::size_t>::max() - head) / max_producers)
      throw error(errc::capacity_too_large, std::to_string(max_producers) + " lanes of capacity " +
                                                std::to_string(lane_capacity) + " overflow the address space");
    return head + static_cast<std::size_t>(max_producers) * stride;
  }

  static std::size_t lane_stride(std::uint64_t lane_capacity, std::size_t slot_size, std::size_t slot_align,
                                 bool latency = false) {
    return round_up(lane::footprint(lane_capacity, slot_size, slot_align, latency), align(slot_align));
  }

  // Formats `mem` (footprint() bytes, aligned to align()): geometry, an awake receiver and
  // every descriptor free and unformatted. The lanes stay raw until registered.
  static layout* format(void* mem, std::uint64_t lane_capacity, std::uint64_t max_producers, std::size_t slot_size,
                        std::size_t slot_align, std::uint64_t start_index, std::uint32_t registrars,
                        bool latency = false) {
    (void)footprint(lane_capacity, max_producers, slot_size, slot_align, latency);  // validates
    auto* l = ::new (mem) layout{};
    l->geometry = geometry_block{lane_capacity,
                                 max_producers,
                                 lane_stride(lane_capacity, slot_size, slot_align, latency),
                                 descriptors_offset(),
                                 lanes_offset(max_producers, slot_align),
                                 start_index,
                                 static_cast<std::uint32_t>(slot_size),
                                 static_cast<std::uint32_t>(slot_align),
                                 latency ? 1u : 0u};
    auto* d = reinterpret_cast<std::byte*>(mem) + l->geometry.descriptors_offset;
    for (std::uint64_t i = 0; i < max_producers; ++i) ::new (d + i * sizeof(descriptor)) descriptor{};
    // relaxed: the layout reaches other threads with the endpoints (thread creation, a
    // queue), which orders this.
    l->registry.registrars.store(registrars, std::memory_order_relaxed);
    return l;
  }

  [[nodiscard]] std::uint64_t max_producers() const noexcept { return geometry.max_producers; }

  // Lane i's descriptor (i < max_producers), at the fixed descriptors_offset(): a peer that
  // rewrote the geometry block cannot move the registry.
  [[nodiscard]] descriptor& lane_descriptor(std::uint64_t i) noexcept {
    return *std::launder(reinterpret_cast<descriptor*>(reinterpret_cast<std::byte*>(this) + descriptors_offset() +
                                                       i * sizeof(descriptor)));
  }

  // Lane i's memory: raw until its descriptor says formatted.
  [[nodiscard]] std::byte* lane_memory(std::uint64_t i) noexcept {
    return reinterpret_cast<std::byte*>(this) + geometry.lanes_offset + i * geometry.lane_stride;
  }
  // Lane i's ring. Precondition: formatted (acquire) was seen as 1, or the caller formatted it.
  [[nodiscard]] lane& lane_ring(std::uint64_t i) noexcept { return *std::launder(reinterpret_cast<lane*>(lane_memory(i))); }

  // Formats lane i's ring: its receiver sleeps on this layout's receiver_park.
  lane& format_lane(std::uint64_t i) {
    std::byte* mem = lane_memory(i);
    const auto offset = reinterpret_cast<std::byte*>(&receiver.receiver_park) - mem;
    return *lane::format(mem, geometry.lane_capacity, geometry.slot_size, geometry.slot_align, geometry.start_index,
                         static_cast<std::int64_t>(offset), geometry.latency != 0);
  }
};

// The geometry the receiver walks the lanes with, copied when it is made (in shared memory:
// after attach checked it against the segment's private identity). A live peer with write
// access may rewrite the layout's geometry block later; a receiver that re-read it could
// index past its per-lane views or follow a lane offset out of the segment.
template <class Sync>
struct lanes_geometry {
  using lanes = layout<Sync>;

  lanes* l = nullptr;
  std::uint64_t max_producers = 0;
  std::uint64_t lane_capacity = 0;
  std::uint64_t lane_stride = 0;
  std::uint64_t lanes_offset = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t slot_align = 0;
  bool latency = false;

  lanes_geometry() noexcept = default;
  explicit lanes_geometry(lanes* from) noexcept
      : l(from),
        max_producers(from->geometry.max_producers),
        lane_capacity(from->geometry.lane_capacity),
        lane_stride(from->geometry.lane_stride),
        lanes_offset(from->geometry.lanes_offset),
        slot_size(from->geometry.slot_size),
        slot_align(from->geometry.slot_align),
        latency(from->geometry.latency != 0) {}

  // Preconditions (all three): i < max_producers.
  [[nodiscard]] typename lanes::descriptor& lane_descriptor(std::uint64_t i) const noexcept {
    return l->lane_descriptor(i);
  }
  [[nodiscard]] std::byte* lane_memory(std::uint64_t i) const noexcept {
    return reinterpret_cast<std::byte*>(l) + lanes_offset + i * lane_stride;
  }
  [[nodiscard]] typename lanes::lane& lane_ring(std::uint64_t i) const noexcept {
    return *std::launder(reinterpret_cast<typename lanes::lane*>(lane_memory(i)));
  }
};

}  // namespace ringwire::mpsc
