// ringwire/spsc/shm_contract.hpp -- the SPSC channel in a shared-memory segment (kind 1):
// its channel contract (shm/contract.hpp) and its spec, shm::spsc_spec<T>().
//
// The channel is one spsc::layout (spsc/layout.hpp) over elements of T, aligned as the
// ring needs, after the header and counters; no claims block and no trailer: the two sides
// claim the header's sender and receiver words. Identity fields: capacity, slot_count =
// bit_ceil(capacity), endpoints 0, policy: 0 or shm::latency_flag (the ring then keeps its
// publish stamps and latency histogram), byte 116 zero. shm/spsc.hpp attaches the
// endpoints.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "ringwire/error.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/spsc/layout.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::spsc {

struct shm_contract {
  using ring = ringwire::spsc::layout<std_sync>;
  // The byte map of docs/shm-layout.md, pinned.
  static_assert(offsetof(ring, producer) == 128 && offsetof(ring, consumer) == 256 &&
                offsetof(ring, producer_stats) == 384 && offsetof(ring, consumer_stats) == 512 &&
                sizeof(ring) == 640 && offsetof(ring::geometry_block, receiver_park_offset) == 40 &&
                offsetof(ring::geometry_block, stamps_offset) == 48 &&
                offsetof(ring::geometry_block, histogram_offset) == 56 &&
                offsetof(ring::consumer_block, sender_closed) == 12,
                "spsc/layout.hpp changed: update docs/shm-layout.md and the layout version");

  static constexpr shm::channel_kind kind = shm::channel_kind::spsc;
  static constexpr const char* name = "spsc";
  static constexpr const char* endpoint_noun = "endpoints";  // none: spsc has no claims block
  static constexpr shm::claim_role claims[] = {
      {"sender", shm::claim_place::sender_word, "sender_closed = 1 (the receiver drains, then sees closed)"},
      {"receiver", shm::claim_place::receiver_word, "receiver_closed = 1 (sends report closed)"},
  };

  static std::size_t footprint(const shm::channel_spec& s) {
    shm::detail::require_no_slot_layout(s);
    if (s.endpoints != 0 || (s.policy & ~shm::latency_flag) != 0)
      shm::detail::fail(errc::invalid_options, "an spsc spec has no endpoints, and no policy but latency_flag");
    return ring::footprint(s.capacity, s.slot_size, s.slot_align, latency(s.policy));
  }
  static bool latency(std::uint32_t policy) noexcept { return (policy & shm::latency_flag) != 0; }
  static std::size_t align(const shm::channel_spec& s) { return ring::align(s.slot_align); }
  static std::uint64_t slot_count(std::uint64_t capacity) { return std::bit_ceil(capacity); }

  static void format(std::byte* base, const shm::identity& id, const shm::channel_spec& s) {
    ring::format(base + id.channel_offset, s.capacity, s.slot_size, s.slot_align, s.start_index, 0,
                 latency(s.policy));
  }

  // One SPSC ring (a whole spsc channel, or an MPSC lane) against the geometry it must
  // have; its bounds are proven inside the mapping. `corrupt` is called with what is wrong
  // (it throws, or records). Also run at every attach (shm/spsc.hpp, shm/mpsc.hpp): the
  // endpoints copy this geometry, and a live peer may have rewritten it since the open.
  template <class Corrupt>
  static void check_ring(const void* at, std::uint64_t capacity, std::uint32_t slot_size, std::uint32_t slot_align,
                         std::int64_t park_offset, bool latency, const Corrupt& corrupt) {
    using shm::detail::num;
    const auto* r = static_cast<const ring*>(at);  // a ring of any Sync: the same words
    ring::geometry_block g;
    std::memcpy(&g, &r->geometry, sizeof g);
    if (g.capacity != capacity || g.slot_count != std::bit_ceil(capacity) ||
        g.slots_offset != ring::slots_offset(slot_align) || g.slot_size != slot_size ||
        g.slot_align != slot_align || g.receiver_park_offset != park_offset ||
        g.stamps_offset != (latency ? ring::stamps_offset(capacity, slot_size, slot_align) : 0) ||
        g.histogram_offset != (latency ? ring::histogram_offset(capacity, slot_size, slot_align) : 0))
      corrupt("a ring's geometry disagrees with the header");
    // acquire: a live peer may be moving these, so head is read before and after tail. A
    // still ring must hold at most `capacity`; a moving one only bounds tail by the later head.
    const std::uint64_t head0 = r->consumer.head.load(std::memory_order_acquire);
    const std::uint64_t tail = r->producer.tail.load(std::memory_order_acquire);
    const std::uint64_t head1 = r->consumer.head.load(std::memory_order_acquire);
    const bool still = head0 == head1;
    if (still ? tail - head0 > capacity : static_cast<std::int64_t>(tail - head1) > static_cast<std::int64_t>(capacity))
      corrupt("a ring holds " + num(tail - head1) + " messages, more than its capacity " + num(capacity));
    // relaxed: flags that must be 0 or 1; nothing is read through them.
    if (r->producer.receiver_closed.load(std::memory_order_relaxed) > 1 ||
        r->consumer.sender_closed.load(std::memory_order_relaxed) > 1)
      corrupt("a close flag is neither 0 nor 1");
  }

  static void validate(const unsigned char* base, const shm::identity& id) {
    check_ring(base + id.channel_offset, id.capacity, id.slot_size, id.slot_align, 0, latency(id.policy),
               [](const std::string& what) { shm::detail::fail(errc::shm_corrupt, what); });
  }

  // One ring's numbers: its indices, flags and the counters of both sides (metrics.hpp;
  // the events, high water, parks and wakes only with options::metrics). An MPSC lane is
  // such a ring: mpsc/shm_contract.hpp describes each lane with this too.
  static std::vector<shm::channel_description::item> ring_items(const ring* r) {
    // relaxed (all): a snapshot for tools; nothing is read through these words.
    const std::uint64_t head = r->consumer.head.load(std::memory_order_relaxed);
    const std::uint64_t tail = r->producer.tail.load(std::memory_order_relaxed);
    return {{"head", head},
            {"tail", tail},
            {"queued", tail - head},
            {"sender_closed", r->consumer.sender_closed.load(std::memory_order_relaxed)},
            {"receiver_closed", r->producer.receiver_closed.load(std::memory_order_relaxed)},
            {"full_events", r->producer_stats.full_events.load(std::memory_order_relaxed)},
            {"empty_events", r->consumer_stats.empty_events.load(std::memory_order_relaxed)},
            {"high_water", r->producer_stats.high_water.load(std::memory_order_relaxed)},
            {"sender_parks", r->producer_stats.parks.load(std::memory_order_relaxed)},
            {"receiver_parks", r->consumer_stats.parks.load(std::memory_order_relaxed)},
            {"sender_wakes", r->producer_stats.wakes_sent.load(std::memory_order_relaxed)},
            {"receiver_wakes", r->consumer_stats.wakes_sent.load(std::memory_order_relaxed)}};
  }

  // The ring's indices, flags and statistics (shm::describe), and its latency histogram.
  static void describe(const std::byte* base, const shm::identity& id, shm::channel_description& d) {
    d.state = {{"capacity", id.capacity}};
    const ring* r = shm::detail::channel_at<const ring>(base, id);
    const auto items = ring_items(r);
    d.state.insert(d.state.end(), items.begin(), items.end());
    if (latency(id.policy)) d.latency = histogram_of(r, id).snapshot();
  }
  // A validated ring's histogram, found by the identity's geometry (never the ring's own
  // geometry block, which a live peer may have rewritten since it was checked).
  static const latency_histogram<std_sync>& histogram_of(const ring* r, const shm::identity& id) noexcept {
    return *std::launder(reinterpret_cast<const latency_histogram<std_sync>*>(
        reinterpret_cast<const std::byte*>(r) + ring::histogram_offset(id.capacity, id.slot_size, id.slot_align)));
  }
};

inline constexpr shm::channel_contract shm_kind = shm::make_contract<shm_contract>();

}  // namespace ringwire::spsc

namespace ringwire::shm {

// An SPSC channel of T. T must be trivially copyable: its bytes are all that cross.
template <class T>
constexpr channel_spec spsc_spec(std::uint64_t capacity = 0) noexcept {
  return detail::element_spec<T>(ringwire::spsc::shm_kind, capacity);
}

}  // namespace ringwire::shm
