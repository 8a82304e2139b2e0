// ringwire/spsc/line/layout.hpp -- the one-line SPSC ring as plain bytes: stamped slots.
//
// The index channel (spsc/layout.hpp) tells the receiver what is there through `tail`, so
// a receiver that keeps up reads two lines per message: tail's, then the slot's. Here each
// slot carries its own stamp next to the element, so a receiver reads only the slot's
// line, and a small T with its stamp fits in one 64-byte line: one line crosses from the
// sender's core to the receiver's per message, the cache-line ping-pong floor. The other
// direction stays an index (`head`), written on the receiver's own line and read by the
// sender only when its cached room runs out (once a lap while the receiver keeps up).
//
//  offset  block (each 128 bytes: its own pair of cache lines)
//  ------  -------------------------------------------------------------------------------
//     0    geometry   capacity u64 | slot_stride u64 | slots_offset u64 | start_index u64 |
//                     value_offset u32 | slot_size u32 | slot_align u32
//                     written once by format()
//   128    producer   consumer_park u32 | receiver_closed u32
//                     read by the sender on every send (the park check, the disconnect
//                     check: one line, already in its cache); written by the receiver, rarely
//   256    consumer   head u64 | producer_park u32 | sender_closed u32
//                     head: written by the receiver on every receive; producer_park read by
//                     it after each (the park check); producer_park, sender_closed: written
//                     by the sender, rarely
//   384    slots      `capacity` slots (exactly: no rounding) of slot_stride bytes, at
//                     slots_offset (aligned to max(128, slot_align)):
//                       stamp u64 | T at value_offset (= max(8, alignof(T)))
//                     slot_stride = value_offset + sizeof(T), rounded up to 16, 32 or 64
//                     when that is at most 64 (so a slot never straddles a cache line and a
//                     small T shares its stamp's line), to a multiple of max(64, alignof(T))
//                     beyond.
//
// Indices. Messages are numbered by free-running 64-bit indices from start_index; message
// i lives in slot (i - start_index) mod capacity. Neither endpoint divides: each walks the
// array with a pointer that wraps at its end. Unsigned differences keep every comparison
// right across the 2^64 wrap (the tests start just below it).
//
// Stamps. A slot's stamp is the index of the message it last held: format() writes
// start_index + k - capacity into slot k (the lap before the first), and the sender
// writes i when message i is in. The values a slot's stamp takes are therefore i -
// capacity, i, i + capacity, ... : distinct for every capacity below 2^64, so the receiver
// at index i reads exactly "is message i here" from one word.
//
// Ownership protocol.
//   sender, index i (its cache says i - head < capacity, i.e. slot i's previous message
//     i - capacity was received and destroyed): constructs T in the slot, then stores
//     stamp = i with release.
//   receiver, index i: loads the stamp with acquire; == i: the construction happened-before,
//     so it moves T out and destroys it, then stores head = i + 1 with release; the
//     sender's acquire load of head makes the destruction happen-before its next
//     construction in that slot. != i: empty (or closed, below).
// Each word has one writer, so no read-modify-write is ever needed. Slots with indices in
// [head, i) hold live elements, owned by the receiver side; the rest is raw storage owned
// by the sender side. Teardown (storage.hpp) walks from the final head while the stamps
// say "message here".
//
// Disconnect. Each side's close flag lives in the block the other side reads: the sender
// reads receiver_closed on every send (relaxed: it stops new sends, no data flows through
// it) beside the park word it loads anyway, so a send that starts after it sees the close
// reports closed. The receiver reads sender_closed only when a slot is not there yet; the
// sender stores it with release after its last stamp, so a receiver that sees it and then
// re-reads the stamp sees every message sent.
//
// Waiting: wait.hpp's park protocol on both sides, with the stamp (receiver) and head
// (sender) as the progress that each side's notify follows.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "ringwire/detail/defs.hpp"
#include "ringwire/detail/footprint.hpp"
#include "ringwire/error.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::spsc {

template <class Sync = std_sync>
struct line_layout {
  template <class V>
  using atomic = typename Sync::template atomic<V>;
  // A slot's stamp is an atomic placed at a byte offset before its element.
  static_assert(sizeof(atomic<std::uint64_t>) == 8, "the Sync policy's 64-bit atomic must be exactly 8 bytes");

  struct alignas(ringwire::detail::hot_block) geometry_block {
    std::uint64_t capacity;
    std::uint64_t slot_stride;
    std::uint64_t slots_offset;
    std::uint64_t start_index;
    std::uint32_t value_offset;
    std::uint32_t slot_size;
    std::uint32_t slot_align;
  };
  struct alignas(ringwire::detail::hot_block) producer_block {
    atomic<std::uint32_t> consumer_park;
    atomic<std::uint32_t> receiver_closed;
  };
  struct alignas(ringwire::detail::hot_block) consumer_block {
    atomic<std::uint64_t> head;
    atomic<std::uint32_t> producer_park;
    atomic<std::uint32_t> sender_closed;
  };

  geometry_block geometry;
  producer_block producer;
  consumer_block consumer;

  // Largest capacity accepted: keeps every byte count far from overflow.
  static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 48;

  // Where T starts in its slot: after the stamp, at T's alignment.
  static constexpr std::size_t value_offset(std::size_t slot_align) noexcept { return slot_align > 8 ? slot_align : 8; }

  // Bytes from one slot to the next (see the byte map).
  static constexpr std::size_t stride(std::size_t slot_size, std::size_t slot_align) noexcept {
    const std::size_t raw = value_offset(slot_align) + slot_size;
    if (raw <= ringwire::detail::cache_line) return std::bit_ceil(raw);
    const std::size_t unit = slot_align > ringwire::detail::cache_line ? slot_align : ringwire::detail::cache_line;
    return (raw + unit - 1) / unit * unit;
  }

  // Alignment the memory handed to format() must have.
  static constexpr std::size_t align(std::size_t slot_align) noexcept {
    return slot_align > ringwire::detail::hot_block ? slot_align : ringwire::detail::hot_block;
  }

  static constexpr std::size_t slots_offset(std::size_t slot_align) noexcept {
    const std::size_t a = align(slot_align);
    return (sizeof(line_layout) + a - 1) / a * a;
  }

  // Bytes format() needs for this geometry. Throws ringwire::error for a capacity of zero
  // or one whose slot array cannot be addressed.
  static std::size_t footprint(std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align) {
    return ringwire::detail::array_footprint(capacity, max_capacity, "2^48", slots_offset(slot_align), stride(slot_size, slot_align));
  }

  // Formats `mem` (at least footprint() bytes, aligned to align()) as an empty ring whose
  // first index is start_index: every stamp says "the lap before" (see Stamps); the element
  // bytes are left raw. All the layout's own state is trivially destructible; the owner
  // must destroy live elements (storage.hpp).
  static line_layout* format(void* mem, std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align,
                             std::uint64_t start_index) {
    (void)footprint(capacity, slot_size, slot_align);  // validates
    auto* l = ::new (mem) line_layout{};
    l->geometry = geometry_block{capacity,
                                 stride(slot_size, slot_align),
                                 slots_offset(slot_align),
                                 start_index,
                                 static_cast<std::uint32_t>(value_offset(slot_align)),
                                 static_cast<std::uint32_t>(slot_size),
                                 static_cast<std::uint32_t>(slot_align)};
    // Constructed with their values, and relaxed: the layout is published to the endpoints'
    // threads by whatever hands the endpoints over (thread creation, a queue).
    for (std::uint64_t k = 0; k < capacity; ++k)
      ::new (static_cast<void*>(l->slot(k))) atomic<std::uint64_t>(start_index + k - capacity);
    l->consumer.head.store(start_index, std::memory_order_relaxed);
    return l;
  }

  // Slot k (k < capacity): its stamp is at the returned address, its element value_offset
  // bytes further.
  [[nodiscard]] std::byte* slot(std::uint64_t k) noexcept {
    return reinterpret_cast<std::byte*>(this) + geometry.slots_offset + k * geometry.slot_stride;
  }

  [[nodiscard]] static atomic<std::uint64_t>& stamp(std::byte* slot) noexcept {
    return *std::launder(reinterpret_cast<atomic<std::uint64_t>*>(slot));
  }
};

static_assert(std::is_standard_layout_v<line_layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::spsc
