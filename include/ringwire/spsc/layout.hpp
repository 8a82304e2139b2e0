// ringwire/spsc/layout.hpp -- the SPSC ring as plain bytes: no pointers, only offsets.
//
// The layout is everything two endpoints share, in memory that may be a heap block, an
// inline array or a shared-memory segment (shm/spsc.hpp) mapped at different addresses in two
// processes. It therefore holds no pointers and no virtual functions, is standard-layout,
// and is not templated on the element type: the slot size and alignment are recorded so an
// attaching party can validate them.
//
//  offset  block (each 128 bytes: its own pair of cache lines)
//  ------  -------------------------------------------------------------------------------
//     0    geometry   capacity u64 | slot_count u64 | slots_offset u64 | start_index u64 |
//                     slot_size u32 | slot_align u32 | receiver_park_offset i64 |
//                     stamps_offset u64 | histogram_offset u64      written once by format()
//   128    producer   tail u64 | consumer_park u32 | receiver_closed u32
//                     tail: written by the sender on every publish;
//                     consumer_park, receiver_closed: written by the receiver, rarely
//   256    consumer   head u64 | producer_park u32 | sender_closed u32   (mirror image)
//   384    producer counters: full_events, high_water, parks, wakes_sent      (u64 each)
//   512    consumer counters: empty_events, parks, wakes_sent                 (u64 each)
//   640    slots      slot_count slots of slot_size bytes, at slots_offset (aligned to
//                     max(128, slot_align))
//          stamps     latency on only (stamps_offset != 0, 128-aligned after the slots):
//                     slot_count u64, the publish time of the message in the same slot
//          histogram  latency on only (histogram_offset, after the stamps): the receiver's
//                     latency_histogram (histogram.hpp), 4355 u64
//
// Indices. `head` and `tail` are free-running 64-bit counters starting at start_index;
// the slot of index i is i & (slot_count - 1), slot_count is capacity rounded up to a power
// of two, and the ring holds at most `capacity` messages: tail - head <= capacity always.
// The capacity is exactly the user's; only the array is rounded, so indexing is a mask.
// A 64-bit counter at 10^9 messages per second wraps after 584 years; the arithmetic
// (unsigned differences) is correct across the wrap anyway, and the tests start near 2^64.
//
// Ownership protocol.
//   slot i (head <= i < tail) holds a live T, owned by the receiver side;
//   slot i (tail <= i < head + capacity) is raw storage, owned by the sender side.
// The sender constructs into slot `tail`, then stores tail+1 with release; the receiver's
// acquire load of tail makes the construction visible. The receiver moves out of and
// destroys slot `head`, then stores head+1 with release; the sender's acquire load of head
// makes the destruction happen-before its next construction there. Each index has exactly
// one writer, so no read-modify-write is ever needed; each side caches the other's index
// in its endpoint and re-reads it only when the cache says full (sender) or empty
// (receiver), so in steady state the lines cross between cores once per batch, not once
// per message.
//
// Latency (opt-in, options::latency). The sender reads the clock once per publish and
// writes it into the stamp of every slot that publish makes visible, before its release
// store of tail: the stamps are owned and handed over exactly like the slots. The receiver
// reads the clock once per release and records, for every slot it releases, now minus its
// stamp -- publish to release, the time a message waited in the ring (and, for span reads,
// the time the reader held it) -- into the histogram, of which it is the one writer. Both
// reads happen before the release store of head, so the sender never overwrites a stamp
// that is still to be read. Off (offsets 0), the endpoints test one null pointer per
// publish and per release.
//
// Where the receiver sleeps. A plain channel's receiver parks on consumer_park itself
// (receiver_park_offset 0). A ring that is one lane of an MPSC channel (mpsc/layout.hpp)
// records the byte offset from the layout to the one word its receiver sleeps on for all
// lanes; consumer_park is then the receiver's "I am parked" flag for this lane. The sender
// reads the offset only on its cold wake path, so the fast path is the same for both.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>

#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"
#include "ringwire/histogram.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::spsc {

template <class Sync = std_sync>
struct layout {
  template <class V>
  using atomic = typename Sync::template atomic<V>;

  struct alignas(detail::hot_block) geometry_block {
    std::uint64_t capacity;
    std::uint64_t slot_count;
    std::uint64_t slots_offset;
    std::uint64_t start_index;
    std::uint32_t slot_size;
    std::uint32_t slot_align;
    std::int64_t receiver_park_offset;  // 0: consumer_park; else the MPSC receiver's word
    std::uint64_t stamps_offset;        // 0: no latency histogram
    std::uint64_t histogram_offset;     // 0: no latency histogram
  };
  struct alignas(detail::hot_block) producer_block {
    atomic<std::uint64_t> tail;
    atomic<std::uint32_t> consumer_park;
    atomic<std::uint32_t> receiver_closed;
  };
  struct alignas(detail::hot_block) consumer_block {
    atomic<std::uint64_t> head;
    atomic<std::uint32_t> producer_park;
    atomic<std::uint32_t> sender_closed;
  };
  struct alignas(detail::hot_block) producer_counters {
    atomic<std::uint64_t> full_events;
    atomic<std::uint64_t> high_water;
    atomic<std::uint64_t> parks;
    atomic<std::uint64_t> wakes_sent;
  };
  struct alignas(detail::hot_block) consumer_counters {
    atomic<std::uint64_t> empty_events;
    atomic<std::uint64_t> parks;
    atomic<std::uint64_t> wakes_sent;
  };

  geometry_block geometry;
  producer_block producer;
  consumer_block consumer;
  producer_counters producer_stats;
  consumer_counters consumer_stats;

  // Largest capacity accepted: keeps bit_ceil and the byte count far from overflow.
  static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 48;

  // Alignment the memory handed to format() must have.
  static constexpr std::size_t align(std::size_t slot_align) noexcept {
    return slot_align > detail::hot_block ? slot_align : detail::hot_block;
  }

  static constexpr std::size_t slots_offset(std::size_t slot_align) noexcept {
    const std::size_t a = align(slot_align);
    return (sizeof(layout) + a - 1) / a * a;
  }

  static constexpr std::size_t round_block(std::size_t n) noexcept {
    return (n + detail::hot_block - 1) / detail::hot_block * detail::hot_block;
  }
  // Where the stamps and the histogram lie when latency is on (the slot array validated).
  static std::size_t stamps_offset(std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align) noexcept {
    return round_block(slots_offset(slot_align) + static_cast<std::size_t>(std::bit_ceil(capacity)) * slot_size);
  }
  static std::size_t histogram_offset(std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align) noexcept {
    return round_block(stamps_offset(capacity, slot_size, slot_align) +
                       static_cast<std::size_t>(std::bit_ceil(capacity)) * sizeof(std::uint64_t));
  }

  // Bytes format() needs for this geometry (latency: with the stamps and the histogram).
  // Throws ringwire::error for a capacity of zero or one whose slot array cannot be
  // addressed.
  static std::size_t footprint(std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align,
                               bool latency = false) {
    if (capacity == 0) throw error(errc::invalid_capacity, "capacity must be at least 1");
    if (capacity > max_capacity)
      throw error(errc::capacity_too_large, "capacity " + std::to_string(capacity) + " exceeds 2^48");
    const std::uint64_t slots = std::bit_ceil(capacity);
    const std::size_t head = slots_offset(slot_align);
    if (slots > (std::numeric_limits<std::size_t>::max() - head) / slot_size)
      throw error(errc::capacity_too_large,
                  "capacity " + std::to_string(capacity) + " of " + std::to_string(slot_size) +
                      "-byte slots overflows the address space");
    if (!latency) return head + static_cast<std::size_t>(slots) * slot_size;
    // slots <= 2^48 and the slot array fits: the stamps and histogram add < 2^52 bytes.
    return histogram_offset(capacity, slot_size, slot_align) + sizeof(latency_histogram<Sync>);
  }

  // Formats `mem` (at least footprint() bytes, aligned to align()) as an empty ring whose
  // first index is start_index. The slots are left raw. receiver_park_offset: see "Where
  // the receiver sleeps" above (0 for a plain channel). Returns the layout, which lives
  // until the memory is reused; nothing else needs to be undone for trivially destructible
  // state, but the owner must destroy live elements (see storage.hpp).
  static layout* format(void* mem, std::uint64_t capacity, std::size_t slot_size, std::size_t slot_align,
                        std::uint64_t start_index, std::int64_t receiver_park_offset = 0, bool latency = false) {
    (void)footprint(capacity, slot_size, slot_align, latency);  // validates
    auto* l = ::new (mem) layout{};
    l->geometry = geometry_block{capacity,
                                 std::bit_ceil(capacity),
                                 slots_offset(slot_align),
                                 start_index,
                                 static_cast<std::uint32_t>(slot_size),
                                 static_cast<std::uint32_t>(slot_align),
                                 receiver_park_offset,
                                 latency ? stamps_offset(capacity, slot_size, slot_align) : 0,
                                 latency ? histogram_offset(capacity, slot_size, slot_align) : 0};
    // The stamps stay raw (each is written before its slot is published); the histogram
    // starts empty.
    if (latency) ::new (reinterpret_cast<std::byte*>(mem) + l->geometry.histogram_offset) latency_histogram<Sync>{};
    // relaxed: the layout is published to the endpoints' threads by whatever hands the
    // endpoints over (thread creation, a queue, a segment's init flag with release).
    l->producer.tail.store(start_index, std::memory_order_relaxed);
    l->consumer.head.store(start_index, std::memory_order_relaxed);
    return l;
  }

  [[nodiscard]] std::byte* slots() noexcept {
    return reinterpret_cast<std::byte*>(this) + geometry.slots_offset;
  }

  // The publish stamps and the receiver's histogram; null when latency is off.
  [[nodiscard]] std::uint64_t* stamps() noexcept {
    if (geometry.stamps_offset == 0) return nullptr;
    return std::launder(reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::byte*>(this) + geometry.stamps_offset));
  }
  [[nodiscard]] latency_histogram<Sync>* latency() noexcept {
    if (geometry.histogram_offset == 0) return nullptr;
    return std::launder(
        reinterpret_cast<latency_histogram<Sync>*>(reinterpret_cast<std::byte*>(this) + geometry.histogram_offset));
  }
  [[nodiscard]] const latency_histogram<Sync>* latency() const noexcept {
    return const_cast<layout*>(this)->latency();
  }

  // The word the receiver sleeps on (cold paths only: a wake, a close).
  [[nodiscard]] atomic<std::uint32_t>& receiver_park_word() noexcept {
    if (geometry.receiver_park_offset == 0) return producer.consumer_park;
    return *std::launder(reinterpret_cast<atomic<std::uint32_t>*>(reinterpret_cast<std::byte*>(this) +
                                                                  geometry.receiver_park_offset));
  }
};

}  // namespace ringwire::spsc
