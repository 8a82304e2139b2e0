// ringwire/mpmc/layout.hpp -- the MPMC queue as plain bytes: tickets, turn stamps, cells.
//
// Like spsc/layout.hpp, everything the queue's users share lives here, pointer-free and
// standard-layout, templated on the Sync policy only (so models/ can run it under Relacy and
// a shared-memory segment can host it later), not on the element type: the cell geometry is
// recorded so an attaching party can validate it.
//
//  offset  block (each 128 bytes: its own pair of cache lines)
//  ------  -------------------------------------------------------------------------------
//     0    geometry   capacity u64 | cells_offset u64 | cell_stride u64 | payload_offset u64
//                     | slot_size u32 | slot_align u32 | lap_shift u32   written by format()
//   128    producers  head u64 (next push ticket; bit 63 = sealed) | receivers_gone u32
//   256    consumers  tail u64 (next pop ticket)
//   384    rooms      producer room: sleepers u32, epoch u32 | consumer room: same
//                     | senders u32 | receivers u32 (live channel handles)
//   512    cells      capacity cells of cell_stride bytes at cells_offset:
//                       stamp u64 (atomic) at 0, payload (sizeof T) at payload_offset;
//                     the stride is a multiple of 64, so two cells never share a line
//
// Tickets. head and tail are 64-bit counters from 0; every push takes ticket t = head and
// every pop ticket t = tail, by compare-and-swap, and ticket t lives in cell t % capacity,
// on lap t / capacity (a mask and a shift when the capacity is a power of two, else one
// division each: lap_shift says which). 0 <= head - tail <= capacity always.
//
// Turn stamps (one per cell, monotonic):
//     2*lap        free for the push of lap `lap`
//     2*lap + 1    holds the element of lap `lap`, for its pop
//     2*lap + 1 | hole_bit   holds nothing: that push's constructor threw; its pop skips it
// A push claims ticket t only when stamp(t) == 2*lap (the cell is free), constructs, then
// stores 2*lap+1 with release; a pop claims t only when stamp(t) == 2*lap+1, moves out,
// destroys, then stores 2*lap+2 with release. The claim (CAS on head or tail) decides who
// owns the cell; the stamp's release/acquire carries the payload both ways. Because a claim
// happens only on a ready cell, the owner never waits after claiming, and a ticket is never
// abandoned: a throwing constructor publishes a hole instead.
//
// Sealing. Bit 63 of head (`sealed_bit`) closes the sending side atomically with the
// claims: a push's CAS expects a head without it, so every push either got a ticket below
// the sealed head or sees sealed. Pops drain up to the sealed head, then report closed.
// receivers_gone closes the receiving side (pushes report closed); it sits next to head,
// on the line a push reads anyway.
//
// Limits. Tickets must stay below 2^63 (sealed_bit) and stamps 2*lap+1 below 2^63
// (hole_bit): 2^62 operations per side at least, 146 years at 10^9 per second. The
// counters never wrap; nothing checks these bounds.
//
// Waiting rooms (see mpmc/wait_room.hpp): many threads may sleep on one side, so a park
// word is a sleeper count plus a futex epoch rather than spsc's single parked flag.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>

#include "ringwire/detail/defs.hpp"
#include "ringwire/detail/footprint.hpp"
#include "ringwire/error.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::mpmc {

inline constexpr std::uint64_t sealed_bit = std::uint64_t{1} << 63;
inline constexpr std::uint64_t hole_bit = std::uint64_t{1} << 63;

// A side's sleepers: how many are (about to be) parked, and the futex word they sleep on.
template <class Sync>
struct wait_room {
  typename Sync::template atomic<std::uint32_t> sleepers;
  typename Sync::template atomic<std::uint32_t> epoch;
};

template <class Sync = std_sync>
struct layout {
  template <class V>
  using atomic = typename Sync::template atomic<V>;

  // lap_shift for a capacity that is not a power of two: laps need a division.
  static constexpr std::uint32_t divide = 0xffffffffu;

  struct alignas(detail::hot_block) geometry_block {
    std::uint64_t capacity;
    std::uint64_t cells_offset;
    std::uint64_t cell_stride;
    std::uint64_t payload_offset;
    std::uint32_t slot_size;
    std::uint32_t slot_align;
    std::uint32_t lap_shift;
  };
  struct alignas(detail::hot_block) producer_block {
    atomic<std::uint64_t> head;
    atomic<std::uint32_t> receivers_gone;
  };
  struct alignas(detail::hot_block) consumer_block {
    atomic<std::uint64_t> tail;
  };
  struct alignas(detail::hot_block) rooms_block {
    wait_room<Sync> producers;
    wait_room<Sync> consumers;
    atomic<std::uint32_t> senders;
    atomic<std::uint32_t> receivers;
  };

  geometry_block geometry;
  producer_block producer;
  consumer_block consumer;
  rooms_block rooms;

  // Largest capacity accepted: far from overflowing the byte count and the stamps.
  static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 40;

  static constexpr std::size_t align(std::size_t slot_align) noexcept {
    return slot_align > detail::hot_block ? slot_align : detail::hot_block;
  }
  // The payload follows the stamp (8 bytes with std::atomic; a model's atomic is larger),
  // aligned for T.
  static constexpr std::size_t payload_offset(std::size_t slot_align) noexcept {
    constexpr std::size_t stamp = sizeof(atomic<std::uint64_t>);
    const std::size_t a = slot_align > alignof(atomic<std::uint64_t>) ? slot_align : alignof(atomic<std::uint64_t>);
    return (stamp + a - 1) / a * a;
  }
  // Whole cache lines per cell (and a multiple of T's alignment, which divides 128 or is
  // larger than a line, in which case it is a multiple of 64 itself).
  static constexpr std::size_t cell_stride(std::size_t slot_size, std::size_t slot_align) noexcept {
    const std::size_t unit = slot_align > detail::cache_line ? slot_align : detail::cache_line;
    return (payload_offset(slot_align) + slot_size + unit - 1) / unit * unit;
  }
  static constexpr std::size_t cells_offset(std::size_t slot_align) noexcept {
    const std::size_t a = align(slot_align);
    return (sizeof(layout) + a - 1) / a * a;
  }

  // Bytes format() needs. Throws ringwire::error for a capacity of zero or one whose cell
  // array cannot be addressed.
  static std::size_t footprint(std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align) {
    return detail::array_footprint(capacity, max_capacity, "2^40", cells_offset(slot_align),
                                   cell_stride(slot_size, slot_align), "cells");
  }

  // Formats `mem` (footprint() bytes, aligned to align()) as an empty queue: head = tail =
  // 0, every cell's stamp 0 (free for lap 0), payloads raw, no handles counted.
  static layout* format(void* mem, std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align) {
    (void)footprint(capacity, slot_size, slot_align);  // validates
    auto* l = ::new (mem) layout{};
    l->geometry = geometry_block{capacity,
                                 cells_offset(slot_align),
                                 cell_stride(slot_size, slot_align),
                                 payload_offset(slot_align),
                                 static_cast<std::uint32_t>(slot_size),
                                 static_cast<std::uint32_t>(slot_align),
                                 std::has_single_bit(capacity) ? static_cast<std::uint32_t>(std::countr_zero(capacity))
                                                               : divide};
    for (std::uint64_t i = 0; i < capacity; ++i) ::new (static_cast<void*>(l->cell(i))) atomic<std::uint64_t>(0);
    // relaxed: the layout reaches other threads through whatever hands the queue over
    // (thread creation, a handle passed under a lock, a segment's init flag with release).
    l->producer.head.store(0, std::memory_order_relaxed);
    l->consumer.tail.store(0, std::memory_order_relaxed);
    return l;
  }

  [[nodiscard]] std::byte* cell(std::uint64_t i) noexcept {
    return reinterpret_cast<std::byte*>(this) + geometry.cells_offset + i * geometry.cell_stride;
  }
  [[nodiscard]] atomic<std::uint64_t>& stamp(std::uint64_t i) noexcept {
    return *std::launder(reinterpret_cast<atomic<std::uint64_t>*>(cell(i)));
  }
};

}  // namespace ringwire::mpmc
