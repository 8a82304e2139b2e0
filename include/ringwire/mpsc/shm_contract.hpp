// ringwire/mpsc/shm_contract.hpp -- the MPSC lanes channel in a shared-memory segment
// (kind 2): its channel contract (shm/contract.hpp) and its spec, shm::mpsc_spec<T>().
//
// The channel is one mpsc::layout (mpsc/layout.hpp): `endpoints` lanes, each an SPSC ring
// of `capacity` elements of T, formatted by the first producer that registers it.
// Identity fields: capacity per lane, slot_count = bit_ceil(capacity), endpoints = lanes,
// policy: 0 or shm::latency_flag (every lane keeps stamps and a histogram), byte 116 zero. The claims block holds one word per lane (its producer
// process); the receiver claims the header's receiver word. shm/mpsc.hpp attaches the
// endpoints.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "ringwire/error.hpp"
#include "ringwire/mpsc/layout.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/spsc/shm_contract.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::mpsc {

struct shm_contract {
  using lanes = ringwire::mpsc::layout<std_sync>;
  // The byte map of docs/shm-layout.md, pinned.
  static_assert(offsetof(lanes, receiver) == 128 && offsetof(lanes, registry) == 256 &&
                    sizeof(lanes) == 384 && sizeof(lanes::descriptor) == 8 &&
                    offsetof(lanes::geometry_block, slot_size) == 48 &&
                    offsetof(lanes::geometry_block, latency) == 56,
                "mpsc/layout.hpp changed: update docs/shm-layout.md and the layout version");

  static constexpr shm::channel_kind kind = shm::channel_kind::mpsc;
  static constexpr const char* name = "mpsc";
  static constexpr const char* endpoint_noun = "lanes";
  static constexpr shm::claim_role claims[] = {
      {"lane", shm::claim_place::endpoint_block,
       "the lane's sender closes; the receiver drains it, then the lane is free again"},
      {"receiver", shm::claim_place::receiver_word, "receiver_closed = 1 (sends report closed)"},
  };

  static std::size_t footprint(const shm::channel_spec& s) {
    shm::detail::require_no_slot_layout(s);
    if ((s.policy & ~shm::latency_flag) != 0)
      shm::detail::fail(errc::invalid_options, "an mpsc spec has no policy but latency_flag");
    return lanes::footprint(s.capacity, s.endpoints, s.slot_size, s.slot_align, latency(s.policy));
  }
  static bool latency(std::uint32_t policy) noexcept { return spsc::shm_contract::latency(policy); }
  static std::size_t align(const shm::channel_spec& s) { return lanes::align(s.slot_align); }
  static std::uint64_t slot_count(std::uint64_t capacity) { return std::bit_ceil(capacity); }

  static void format(std::byte* base, const shm::identity& id, const shm::channel_spec& s) {
    // One registrar, held by the segment itself: producer processes come and go, so the
    // stream ends only when someone says so (shm::mpsc::close_producers).
    lanes::format(base + id.channel_offset, s.capacity, s.endpoints, s.slot_size, s.slot_align,
                            s.start_index, /*registrars=*/1, latency(s.policy));
  }

  // The lanes' geometry block against the segment's identity. `corrupt` throws. Also run
  // at every attach (shm/mpsc.hpp): the receiver copies this geometry and a sender's lane
  // is found through it, and a live peer may have rewritten it since the open.
  template <class Corrupt>
  static void check_geometry(const void* at, const shm::identity& id, const Corrupt& corrupt) {
    lanes::geometry_block g;
    std::memcpy(&g, &static_cast<const lanes*>(at)->geometry, sizeof g);  // lanes of any Sync: the same words
    if (g.lane_capacity != id.capacity || g.max_producers != id.endpoints ||
        g.lane_stride != stride(id) || g.descriptors_offset != lanes::descriptors_offset() ||
        g.lanes_offset != lanes::lanes_offset(id.endpoints, id.slot_align) || g.slot_size != id.slot_size ||
        g.slot_align != id.slot_align || g.latency != (latency(id.policy) ? 1u : 0u))
      corrupt("the lanes' geometry disagrees with the header");
  }

  // Lane i's descriptor and memory, at the offsets the identity proves (never the shared
  // geometry block's).
  static const lanes::descriptor* descriptor_of(const unsigned char* chan, std::uint32_t i) noexcept {
    return std::launder(reinterpret_cast<const lanes::descriptor*>(
        chan + lanes::descriptors_offset() + std::size_t{i} * sizeof(lanes::descriptor)));
  }
  static const unsigned char* lane_of(const unsigned char* chan, const shm::identity& id, std::uint32_t i) {
    return chan + lanes::lanes_offset(id.endpoints, id.slot_align) + std::size_t{i} * stride(id);
  }
  static std::size_t stride(const shm::identity& id) {
    return lanes::lane_stride(id.capacity, id.slot_size, id.slot_align, latency(id.policy));
  }

  static void validate(const unsigned char* base, const shm::identity& id) {
    using shm::detail::num;
    const auto corrupt = [](const std::string& what) { shm::detail::fail(errc::shm_corrupt, what); };
    const unsigned char* chan = base + id.channel_offset;
    const auto* l = std::launder(reinterpret_cast<const lanes*>(chan));
    check_geometry(l, id, corrupt);
    // relaxed (all below): values that must be in range; nothing is read through them.
    if (l->receiver.receiver_closed.load(std::memory_order_relaxed) > 1) corrupt("the receiver's close flag");
    const auto park_offset = static_cast<std::int64_t>(offsetof(lanes, receiver));
    for (std::uint32_t i = 0; i < id.endpoints; ++i) {
      // acquire: a lane formatted by a live peer is read after its format.
      const std::uint32_t formatted = descriptor_of(chan, i)->formatted.load(std::memory_order_acquire);
      if (formatted > 1) corrupt("lane " + num(i) + "'s formatted flag is " + num(formatted));
      if (formatted == 0) continue;
      const unsigned char* lane = lane_of(chan, id, i);
      spsc::shm_contract::check_ring(lane, id.capacity,
                                     id.slot_size, id.slot_align, park_offset - static_cast<std::int64_t>(lane - chan),
                                     latency(id.policy), corrupt);
    }
  }

  // The lanes: how many are formatted, what they carried and hold in all, the receiver's
  // flags; per formatted lane a row with its ring's numbers (spsc ring_items).
  static void describe(const std::byte* base, const shm::identity& id, shm::channel_description& d) {
    const auto* chan = reinterpret_cast<const unsigned char*>(base) + id.channel_offset;
    const auto* l = std::launder(reinterpret_cast<const lanes*>(chan));
    std::uint64_t formatted = 0, queued = 0, published = 0, consumed = 0;
    if (latency(id.policy)) d.latency = histogram_snapshot{std::vector<std::uint64_t>(histogram_scale::buckets)};
    for (std::uint32_t i = 0; i < id.endpoints; ++i) {
      // acquire: a lane formatted by a live peer is read after its format.
      if (descriptor_of(chan, i)->formatted.load(std::memory_order_acquire) != 1) continue;
      const auto* r = std::launder(reinterpret_cast<const spsc::shm_contract::ring*>(lane_of(chan, id, i)));
      ++formatted;
      auto items = spsc::shm_contract::ring_items(r);
      for (const auto& it : items) {
        if (it.key == "tail") published += it.value;
        if (it.key == "head") consumed += it.value;
        if (it.key == "queued") queued += it.value;
      }
      d.endpoints.push_back({"lane", i, std::move(items)});
      if (d.latency) d.latency->merge(spsc::shm_contract::histogram_of(r, id).snapshot());
    }
    // relaxed (both): a snapshot for tools; nothing is read through them.
    d.state = {{"lane_capacity", id.capacity},
               {"lanes", id.endpoints},
               {"lanes_formatted", formatted},
               {"published", published},
               {"consumed", consumed},
               {"queued", queued},
               {"registrars", l->registry.registrars.load(std::memory_order_relaxed)},
               {"receiver_closed", l->receiver.receiver_closed.load(std::memory_order_relaxed)}};
  }
};

inline constexpr shm::channel_contract shm_kind = shm::make_contract<shm_contract>();

}  // namespace ringwire::mpsc

namespace ringwire::shm {

// An MPSC lanes channel of T: up to max_producers producers at once (each process or
// thread attaches a lane), lane_capacity messages per lane.
template <class T>
constexpr channel_spec mpsc_spec(std::uint64_t lane_capacity = 0, std::uint32_t max_producers = 0) noexcept {
  channel_spec s = detail::element_spec<T>(ringwire::mpsc::shm_kind, lane_capacity);
  s.endpoints = max_producers;
  return s;
}

}  // namespace ringwire::shm
