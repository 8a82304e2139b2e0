// ringwire/mpmc/layout.hpp -- the MPMC queue as plain bytes: tickets, turn stamps, cells.
//
// Like spsc/layout.hpp, everything the queue's users share lives here, pointer-free and
// standard-layout, templated on the Sync policy only (so models/ can run it under Relacy and
// a shared-memory segment can host it later), not on the element type: the cell geometry is
// recorded so an attaching party can validate it.
//
//  offset  block (each 128 bytes: its own pair of cache lines)
//  ------  -------------------------------------------------------------------------------
//     0    geometry   capacity u64 | stamps_offset u64 | stamp_stride u64 | payloads_offset u64
//                     | payload_stride u64 | slot_size u32 | slot_align u32 | lap_shift u32
//                     | remap_bits u32 | cells u32 (the cell_layout)      written by format()
//    64    counters   full_events | empty_events | producer_parks | consumer_parks
//                     | producer_wakes | consumer_wakes (u64 each; options::metrics, stats.hpp)
//   128    producers  head u64 (next push ticket; bit 63 = sealed) | receivers_gone u32
//   256    consumers  tail u64 (next pop ticket)
//   384    rooms      producer room: sleepers u32, epoch u32 | consumer room: same
//                     | senders u32 | receivers u32 (live channel handles)
//   512    cells, in one of two layouts (cell_layout, fixed by format()):
//
//   stamp_in_cell   capacity cells, stride a multiple of 64 (two cells never share a line):
//                     [stamp u64 (atomic) | payload (sizeof T, aligned for T) | padding]
//                   stamps_offset = 512, payloads_offset = 512 + 8 (or T's alignment),
//                   both strides = the cell stride, remap_bits = 0
//   stamp_array     512: round_up(capacity, 64) stamps, 8 bytes apart (the padding stamps
//                   are formatted, never used); then, from the next 128-byte boundary (or T's
//                   alignment if larger), capacity payloads packed sizeof(T) apart;
//                   remap_bits = 3
//
// Cell i's stamp is at stamps_offset + remap(i, remap_bits) * stamp_stride, its payload at
// payloads_offset + i * payload_stride. remap swaps bits [0, 3) and [3, 6) of i (identity
// for remap_bits = 0), atomic_queue's remap_index: consecutive cells' stamps sit 8 stamps,
// one line, apart, and each group of 64 cells fills 8 whole lines, so pushes and pops on
// neighbouring tickets never write the same stamp line.
//
// Which layout: default_cell_layout() below, the one place that picks it. With a payload of
// a whole number of lines (sizeof T a multiple of 64) an in-cell stamp spills onto a line
// of its own, padded to the next (a 64-byte element takes a 128-byte cell: two lines moved
// per element); the stamp array keeps each payload on its own lines and shares a stamp line
// among 8 tickets, so a consumer running behind the producer streams ~1.25 lines per element.
// Any other size keeps the stamp in the cell: a packed payload array would put neighbouring
// payloads on one line, which a producer and a consumer near the empty queue write and read
// at the same time (dense 16/72-byte cells were measured slower, docs/benchmarks.md).

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
//
// Counters (mpmc/stats.hpp). With options::metrics, the slow paths count: a push that
// reports full, a pop that reports empty, futex sleeps (added after each wait), and wake
// syscalls made for a parked side. Any thread of either side may count, so each is a relaxed
// fetch_add. They live on the geometry block's second line, bytes that were padding: the
// geometry is read only when a queue or handle is made (core.hpp copies it), so nothing hot
// shares the pair of lines, and no offset moved (the cells still begin at 512).
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

// Where each cell's turn stamp lives (see the byte map above); mpmc::options::cells.
enum class cell_layout : std::uint32_t {
  automatic = 0,      // default_cell_layout(sizeof(T))
  stamp_in_cell = 1,  // stamp and payload in one cell of whole cache lines
  stamp_array = 2,    // stamps in their own remapped array, payloads packed
};

// The default, by element size (the reasoning is in the header comment): the stamp array
// when payloads fill whole lines, else the stamp in the cell.
constexpr cell_layout default_cell_layout(std::size_t slot_size) noexcept {
  return slot_size % detail::cache_line == 0 ? cell_layout::stamp_array : cell_layout::stamp_in_cell;
}

// Stamp i's place in the stamp array: bits [0, b) and [b, 2b) of i swapped (b = 0: i).
constexpr std::uint64_t remap(std::uint64_t i, std::uint32_t b) noexcept {
  const std::uint64_t mix = (i ^ (i >> b)) & ((std::uint64_t{1} << b) - 1);
  return i ^ mix ^ (mix << b);
}

// The cells of one layout as this process sees them: addresses computed once from the
// geometry (core.hpp keeps a copy, so the hot path reads no shared line for them).
template <class Stamp>
struct cells_view {
  std::byte* stamps = nullptr;
  std::byte* payloads = nullptr;
  std::uint64_t stamp_stride = 0;
  std::uint64_t payload_stride = 0;
  std::uint32_t remap_bits = 0;

  [[nodiscard]] Stamp& stamp(std::uint64_t i) const noexcept {
    return *std::launder(reinterpret_cast<Stamp*>(stamps + remap(i, remap_bits) * stamp_stride));
  }
  [[nodiscard]] std::byte* payload(std::uint64_t i) const noexcept { return payloads + i * payload_stride; }
};

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
  using stamp_t = atomic<std::uint64_t>;

  // lap_shift for a capacity that is not a power of two: laps need a division.
  static constexpr std::uint32_t divide = 0xffffffffu;
  // remap_bits of the stamp array: 8 u64 stamps to a line.
  static constexpr auto array_remap_bits =
      static_cast<std::uint32_t>(std::countr_zero(detail::cache_line / sizeof(std::uint64_t)));

  // The slow-path counters (header comment; mpmc/stats.hpp): options::metrics only.
  struct event_counters {
    atomic<std::uint64_t> full_events;     // pushes that reported full
    atomic<std::uint64_t> empty_events;    // pops that reported empty
    atomic<std::uint64_t> producer_parks;  // futex sleeps of waiting pushes
    atomic<std::uint64_t> consumer_parks;  // futex sleeps of waiting pops
    atomic<std::uint64_t> producer_wakes;  // wake syscalls (by pops) for parked pushes
    atomic<std::uint64_t> consumer_wakes;  // wake syscalls (by pushes) for parked pops
  };
  struct alignas(detail::hot_block) geometry_block {
    std::uint64_t capacity;
    std::uint64_t stamps_offset;
    std::uint64_t stamp_stride;
    std::uint64_t payloads_offset;
    std::uint64_t payload_stride;
    std::uint32_t slot_size;
    std::uint32_t slot_align;
    std::uint32_t lap_shift;
    std::uint32_t remap_bits;
    std::uint32_t cells;  // cell_layout: stamp_in_cell or stamp_array
    // The second line of the block, alone: counting never writes the line read above.
    alignas(detail::cache_line) event_counters counters;
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

  // Offsets and strides of the cells (the geometry's cell fields) and where the per-cell
  // bytes begin (`cells_offset`: footprint = cells_offset + capacity * cell_bytes).
  struct placement {
    std::uint64_t stamps_offset;
    std::uint64_t stamp_stride;
    std::uint64_t stamp_count;
    std::uint64_t payloads_offset;
    std::uint64_t payload_stride;
    std::uint64_t cells_offset;
    std::uint64_t cell_bytes;
    std::uint32_t remap_bits;
    cell_layout cells;
  };
  static constexpr std::uint64_t round_up(std::uint64_t n, std::uint64_t unit) noexcept {
    return (n + unit - 1) / unit * unit;
  }
  // `cells` automatic resolves by default_cell_layout(); capacity at most max_capacity.
  static constexpr placement place(std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align,
                                   cell_layout cells) noexcept {
    if (cells == cell_layout::automatic) cells = default_cell_layout(slot_size);
    const std::uint64_t header = round_up(sizeof(layout), align(slot_align));
    constexpr std::uint64_t stamp = sizeof(stamp_t);  // 8 with std::atomic; a model's is larger
    if (cells == cell_layout::stamp_array) {
      const std::uint64_t count = round_up(capacity, std::uint64_t{1} << (2 * array_remap_bits));
      const std::uint64_t payloads = round_up(header + count * stamp, align(slot_align));
      return {header, stamp, count, payloads, slot_size, payloads, slot_size, array_remap_bits, cells};
    }
    // The payload follows the stamp, aligned for T; whole lines per cell (and a multiple of
    // T's alignment, which divides 128 or is larger than a line, then a multiple of 64).
    const std::uint64_t a = slot_align > alignof(stamp_t) ? slot_align : alignof(stamp_t);
    const std::uint64_t payload_at = round_up(stamp, a);
    const std::uint64_t unit = slot_align > detail::cache_line ? slot_align : detail::cache_line;
    const std::uint64_t stride = round_up(payload_at + slot_size, unit);
    return {header, stride, capacity, header + payload_at, stride, header, stride, 0, cells};
  }

  // Bytes format() needs. Throws ringwire::error for a capacity of zero or one whose cell
  // arrays cannot be addressed.
  static std::size_t footprint(std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align,
                               cell_layout cells = cell_layout::automatic) {
    if (capacity == 0) throw error(errc::invalid_capacity, "capacity must be at least 1");
    if (capacity > max_capacity)
      throw error(errc::capacity_too_large, "capacity " + std::to_string(capacity) + " exceeds 2^40");
    const placement p = place(capacity, slot_size, slot_align, cells);
    if (p.cell_bytes != 0 && capacity > (std::numeric_limits<std::size_t>::max() - p.cells_offset) / p.cell_bytes)
      throw error(errc::capacity_too_large, "capacity " + std::to_string(capacity) + " of " +
                                                std::to_string(p.cell_bytes) + "-byte cells overflows the address space");
    return static_cast<std::size_t>(p.cells_offset + capacity * p.cell_bytes);
  }

  // Formats `mem` (footprint() bytes, aligned to align()) as an empty queue: head = tail =
  // 0, every stamp 0 (free for lap 0; the stamp array's padding stamps too), payloads raw,
  // no handles counted.
  static layout* format(void* mem, std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align,
                        cell_layout cells = cell_layout::automatic) {
    (void)footprint(capacity, slot_size, slot_align, cells);  // validates
    const placement p = place(capacity, slot_size, slot_align, cells);
    auto* l = ::new (mem) layout{};  // every counter 0, every handle count 0
    geometry_block& g = l->geometry;
    g.capacity = capacity;
    g.stamps_offset = p.stamps_offset;
    g.stamp_stride = p.stamp_stride;
    g.payloads_offset = p.payloads_offset;
    g.payload_stride = p.payload_stride;
    g.slot_size = static_cast<std::uint32_t>(slot_size);
    g.slot_align = static_cast<std::uint32_t>(slot_align);
    g.lap_shift = std::has_single_bit(capacity) ? static_cast<std::uint32_t>(std::countr_zero(capacity)) : divide;
    g.remap_bits = p.remap_bits;
    g.cells = static_cast<std::uint32_t>(p.cells);
    auto* stamps = reinterpret_cast<std::byte*>(l) + p.stamps_offset;
    for (std::uint64_t k = 0; k < p.stamp_count; ++k)
      ::new (static_cast<void*>(stamps + k * p.stamp_stride)) stamp_t(0);
    // relaxed: the layout reaches other threads through whatever hands the queue over
    // (thread creation, a handle passed under a lock, a segment's init flag with release).
    l->producer.head.store(0, std::memory_order_relaxed);
    l->consumer.tail.store(0, std::memory_order_relaxed);
    return l;
  }

  [[nodiscard]] cells_view<stamp_t> view() noexcept {
    auto* base = reinterpret_cast<std::byte*>(this);
    return {base + geometry.stamps_offset, base + geometry.payloads_offset, geometry.stamp_stride,
            geometry.payload_stride, geometry.remap_bits};
  }
  [[nodiscard]] stamp_t& stamp(std::uint64_t i) noexcept { return view().stamp(i); }
  [[nodiscard]] std::byte* payload(std::uint64_t i) noexcept { return view().payload(i); }
};

// The byte map above, with std::atomic (a model's atomics are larger and move things):
// the counters fill the geometry block's padding and move no offset.
static_assert(offsetof(layout<std_sync>::geometry_block, counters) == detail::cache_line);
static_assert(sizeof(layout<std_sync>::geometry_block) == detail::hot_block);
static_assert(sizeof(layout<std_sync>) == 4 * detail::hot_block, "the cells begin at 512");

}  // namespace ringwire::mpmc
