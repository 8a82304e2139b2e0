// ringwire/broadcast/shm_contract.hpp -- the broadcast ring in a shared-memory segment
// (kind 3): its channel contract (shm/contract.hpp) and its spec, shm::broadcast_spec<T>().
//
// The channel is one broadcast::layout (broadcast/layout.hpp) of `capacity` slots of T
// and `endpoints` registry entries, one publisher. Identity fields: capacity, slot_count =
// capacity, endpoints = registry entries, policy = broadcast::policy (an opener must
// expect the same), byte 116 = the slot layout the creator resolved (1 packed, 2 line;
// never automatic). The claims block holds one word per registry entry (a gated
// subscriber's process); the publisher claims the header's sender word. shm/broadcast.hpp
// attaches the endpoints.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/broadcast/stats.hpp"
#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::broadcast {

struct shm_contract {
  using ring = ringwire::broadcast::layout<std_sync>;
  // The byte map of docs/shm-layout.md, pinned.
  static_assert(offsetof(ring, publisher) == 128 && offsetof(ring, control) == 256 &&
                    offsetof(ring, joiners) == 384 && sizeof(ring) == 512 &&
                    sizeof(ring::entry) == 128 && offsetof(ring::geometry_block, payload_size) == 40 &&
                    offsetof(ring::geometry_block, magic) == 64 && offsetof(ring::geometry_block, type_tag) == 80 &&
                    sizeof(ring::geometry_block) == 128,
                "broadcast/layout.hpp changed: update docs/shm-layout.md and the layout version");

  static constexpr shm::channel_kind kind = shm::channel_kind::broadcast;
  static constexpr const char* name = "broadcast";
  static constexpr const char* endpoint_noun = "subscriber entries";
  static constexpr shm::claim_role claims[] = {
      {"publisher", shm::claim_place::sender_word, "closed = 1 (subscribers drain, then see closed)"},
      {"subscriber", shm::claim_place::endpoint_block, "its registry entry is freed (it no longer gates the ring)"},
  };

  // The slot layout the identity records (validate proves it packed or line before
  // anything sizes a ring by it).
  static constexpr slot_layout slots_of(const shm::identity& id) noexcept {
    return static_cast<slot_layout>(id.region_shift);
  }

  static std::size_t footprint(const shm::channel_spec& s) {
    using shm::detail::fail;
    using shm::detail::num;
    if (s.policy > static_cast<std::uint32_t>(policy::evict))
      fail(errc::invalid_options, "broadcast policy " + num(s.policy) + " does not exist");
    if (s.slot_size > std::uint32_t{1} << 20)
      fail(errc::invalid_options, "broadcast elements of " + num(s.slot_size) + " bytes: at most 1 MiB");
    if (s.policy == static_cast<std::uint32_t>(policy::evict) && s.capacity >= 2 && s.evict_lag >= s.capacity)
      fail(errc::invalid_options, "evict_lag " + num(s.evict_lag) + " must be below the capacity " + num(s.capacity));
    return ring::footprint(s.capacity, s.slot_size, s.endpoints, s.slot_layout);
  }
  static std::size_t align(const shm::channel_spec&) { return ringwire::detail::hot_block; }
  static std::uint64_t slot_count(std::uint64_t capacity) { return capacity; }
  // footprint() proved the slot layout one that exists.
  static std::uint32_t region_word(const shm::channel_spec& s) {
    return static_cast<std::uint32_t>(resolve(s.slot_layout));
  }

  static void format(std::byte* base, const shm::identity& id, const shm::channel_spec& s) {
    // evict_lag 0: the largest lag that still evicts before the ring is full.
    ring::format(base + id.channel_offset, s.capacity, s.slot_size, s.endpoints,
                                static_cast<policy>(s.policy), s.evict_lag != 0 ? s.evict_lag : s.capacity - 1,
                                s.slot_layout, /*multi_producer=*/false,
                                /*zeroed=*/true);  // format_segment's precondition: slots untouched
  }

  // Another policy or slot density is another channel.
  static void expect_kind(const shm::identity& id, const shm::channel_spec& want) {
    using shm::detail::num;
    if (id.policy != want.policy)
      shm::detail::fail(errc::shm_kind_mismatch, "the segment's broadcast policy is " + num(id.policy) + ", expected " +
                                                     num(want.policy) + " (0 lossy, 1 lossless, 2 evict)");
    if (want.slot_layout != slot_layout::automatic && id.region_shift != static_cast<std::uint32_t>(want.slot_layout))
      shm::detail::fail(errc::shm_kind_mismatch, std::string("the segment's broadcast slots are ") +
                                                     to_string(slots_of(id)) + ", expected " +
                                                     to_string(want.slot_layout));
  }
  // Byte 116: the layout the creator resolved, never automatic.
  static void check_region_word(const shm::identity& id) {
    if (id.region_shift != static_cast<std::uint32_t>(slot_layout::packed) &&
        id.region_shift != static_cast<std::uint32_t>(slot_layout::line))
      shm::detail::fail(errc::shm_corrupt, "broadcast slot layout " + shm::detail::num(id.region_shift) +
                                               " (1 packed, 2 line)");
  }
  static void recorded(const shm::identity& id, shm::channel_spec& s) { s.slot_layout = slots_of(id); }

  // The ring against the geometry its segment's identity records; its bounds are proven
  // inside the mapping. `corrupt` throws. Also run at every attach (shm/broadcast.hpp):
  // the endpoints copy this geometry, and a live peer may have rewritten it since the open.
  template <class Corrupt>
  static void check_ring(const void* at, const shm::identity& id, const Corrupt& corrupt) {
    const auto* l = static_cast<const ring*>(at);  // a ring of any Sync: the same words
    ring::geometry_block g;
    std::memcpy(&g, &l->geometry, sizeof g);
    if (g.capacity != id.capacity || g.slot_stride != ring::stride(id.slot_size, slots_of(id)) ||
        g.slots_offset != ring::slots_offset(id.endpoints) ||
        g.registry_offset != ring::registry_offset() || g.payload_size != id.slot_size ||
        g.payload_words != (id.slot_size + 7) / 8 || g.max_subscribers != id.endpoints || g.policy != id.policy ||
        g.multi_producer > 1 ||
        (id.policy == static_cast<std::uint32_t>(policy::evict) && id.capacity >= 2 && g.evict_lag >= id.capacity))
      corrupt("the broadcast ring's geometry disagrees with the header");
    if (g.version != ring::version_value)
      corrupt("the broadcast ring has layout version " + std::to_string(g.version) + "; this build reads " +
              std::to_string(ring::version_value));
    // relaxed (both): values that must be in range; nothing is read through them.
    if (l->control.closed.load(std::memory_order_relaxed) > 1) corrupt("the publisher's close flag");
    if (l->control.skipped.load(std::memory_order_relaxed) > 1) corrupt("the publisher's skip flag");
    if (l->joiners.top.load(std::memory_order_relaxed) > id.endpoints) corrupt("the registry's top entry");
  }

  static void validate(const unsigned char* base, const shm::identity& id) {
    check_ring(base + id.channel_offset, id,
               [](const std::string& what) { shm::detail::fail(errc::shm_corrupt, what); });
  }

  // The channel's numbers (stats.hpp): head, close flag, the producers' counters, and per
  // live or evicted subscriber its cursor, lag and counters (those with options::metrics).
  static void describe(const std::byte* base, const shm::identity& id, shm::channel_description& d) {
    // Only loads (read_stats): the geometry's pointer is not const only because endpoints
    // write through the same type.
    auto* l = const_cast<ring*>(shm::detail::channel_at<const ring>(base, id));
    const ringwire::broadcast::stats s = detail::read_stats(detail::ring_geometry<std_sync>(l));
    // relaxed (both): a snapshot for tools; nothing is read through these words.
    d.state = {{"capacity", id.capacity},
               {"policy", id.policy},
               {"slot_layout", id.region_shift},
               {"published", s.published},
               {"closed", s.closed ? 1u : 0u},
               {"producers", s.producers},
               {"registry_top", l->joiners.top.load(std::memory_order_relaxed)},
               {"parked_subscribers", s.parked_subscribers},
               {"max_lag", s.max_lag()},
               {"full_events", s.full_events},
               {"producer_parks", s.producer_parks},
               {"evictions", s.evictions},
               {"subscriber_wakes", s.subscriber_wakes}};
    for (const auto& sub : s.subscribers)
      d.endpoints.push_back({"subscriber",
                             sub.entry,
                             {{"cursor", sub.cursor},
                              {"lag", sub.lag},
                              {"received", sub.received},
                              {"missed", sub.missed},
                              {"parks", sub.parks},
                              {"empty_events", sub.empty_events},
                              {"evicted", sub.evicted ? 1u : 0u}}});
  }
};

inline constexpr shm::channel_contract shm_kind = shm::make_contract<shm_contract>();

}  // namespace ringwire::broadcast

namespace ringwire::shm {

// A broadcast ring of T (one publisher): `capacity` messages, up to max_subscribers
// registered subscribers at once, the policy for a full ring, its slot density
// (broadcast/layout.hpp).
template <class T>
constexpr channel_spec broadcast_spec(std::uint64_t capacity = 0, std::uint32_t max_subscribers = 0,
                                      broadcast::policy pol = broadcast::policy::lossy, std::uint64_t evict_lag = 0,
                                      broadcast::slot_layout slots = broadcast::slot_layout::automatic) noexcept {
  channel_spec s = detail::element_spec<T>(ringwire::broadcast::shm_kind, capacity);
  s.endpoints = max_subscribers;
  s.policy = static_cast<std::uint32_t>(pol);
  s.evict_lag = evict_lag;
  s.slot_layout = slots;
  return s;
}

}  // namespace ringwire::shm
