// ringwire/byte_broadcast/shm_contract.hpp -- the byte broadcast ring in a shared-memory
// segment (kind 5): its channel contract (shm/contract.hpp) and its spec,
// shm::byte_broadcast_spec().
//
// The channel is one byte_broadcast::layout (byte_broadcast/layout.hpp): a metadata ring
// of `depth` entries and a payload region. Identity fields: capacity = depth, slot_count =
// depth, policy = max_message, byte 116 = log2(region_bytes), endpoints = max_credited
// (credit entries); the 8-byte payload word is the "slot" (8 / 8), and the tag names the
// ring format. The claims block holds one word per credit entry (a credited reader's
// process); the writer claims the header's sender word. shm/byte_broadcast.hpp attaches
// the endpoints.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/byte_broadcast/stats.hpp"
#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::byte_broadcast {

struct shm_contract {
  using ring = ringwire::byte_broadcast::layout<std_sync>;
  // The byte map of docs/shm-layout.md, pinned.
  static_assert(offsetof(ring, head) == 128 && offsetof(ring, dirty) == 256 &&
                    offsetof(ring, control) == 384 && offsetof(ring::control_block, skipped) == 16 &&
                    sizeof(ring) == 512 &&
                    sizeof(ring::credit_entry) == 128 &&
                    sizeof(ring::meta_entry) == 64 &&
                    offsetof(ring::header_block, max_credited) == 72,
                "byte_broadcast/layout.hpp changed: update docs/shm-layout.md and the layout version");
  // The counters (layout.hpp "Counters"): the head block's and each credit entry's second line.
  static_assert(offsetof(ring::head_block, credit_waits) == 64 && offsetof(ring::head_block, writer_parks) == 72 &&
                    offsetof(ring::head_block, reader_wakes) == 80 && offsetof(ring::credit_entry, received) == 64 &&
                    offsetof(ring::credit_entry, parks) == 72,
                "byte_broadcast/layout.hpp's counters moved: update docs/shm-layout.md");

  static constexpr shm::channel_kind kind = shm::channel_kind::byte_broadcast;
  static constexpr const char* name = "byte_broadcast";
  static constexpr const char* endpoint_noun = "credit entries";
  static constexpr shm::claim_role claims[] = {
      {"writer", shm::claim_place::sender_word, "closed = 1 (readers drain, then see closed)"},
      {"credited reader", shm::claim_place::endpoint_block, "its credit entry is freed (it no longer holds the writer)"},
  };

  // A spec's ring geometry (byte_broadcast_spec's mapping, reversed).
  static constexpr geometry geometry_of(const shm::channel_spec& s) noexcept {
    return geometry{s.capacity, s.region_bytes, s.policy, s.endpoints};
  }
  // The ring's geometry as a validated identity records it (never the shared header).
  static geometry geometry_of(const shm::identity& id) noexcept {
    return geometry{id.capacity, std::uint64_t{1} << id.region_shift, id.policy, id.endpoints};
  }

  static std::size_t footprint(const shm::channel_spec& s) {
    shm::detail::require_no_slot_layout(s);
    if (s.slot_size != 8 || s.slot_align != 8)
      shm::detail::fail(errc::invalid_options, "a byte broadcast ring's payload words are 8 bytes, 8-aligned");
    if (s.policy == 0) shm::detail::fail(errc::invalid_options, "a byte broadcast ring needs max_message >= 1");
    // footprint() checks the rest (depth, region, max_message <= region / 2, credits).
    return ring::footprint(geometry_of(s));
  }
  static std::size_t align(const shm::channel_spec&) { return ringwire::detail::hot_block; }
  static std::uint64_t slot_count(std::uint64_t capacity) { return capacity; }
  // footprint() proved region_bytes a power of two.
  static std::uint32_t region_word(const shm::channel_spec& s) {
    return static_cast<std::uint32_t>(std::countr_zero(s.region_bytes));
  }

  static void format(std::byte* base, const shm::identity& id, const shm::channel_spec& s) {
    // Empty, open (closed = 0), every credit entry free; the claims block guards them.
    ring::format(base + id.channel_offset, geometry_of(s));
  }

  // Its geometry, field by field (zero in `want`: any). The region's shift is proven sane
  // later (validate); here an impossible one just mismatches.
  static void expect_geometry(const shm::identity& id, const shm::channel_spec& want) {
    const std::uint64_t region = id.region_shift < 64 ? std::uint64_t{1} << id.region_shift : 0;
    const auto mismatch = [](const char* field, std::uint64_t have, std::uint64_t expect) {
      if (expect != 0 && have != expect)
        shm::detail::fail(errc::shm_capacity_mismatch, std::string("the segment's byte broadcast ring has ") + field +
                                                           " " + shm::detail::num(have) + ", expected " +
                                                           shm::detail::num(expect));
    };
    mismatch("depth", id.capacity, want.capacity);
    mismatch("region_bytes", region, want.region_bytes);
    mismatch("max_message", id.policy, want.policy);
    mismatch("max_credited", id.endpoints, want.endpoints);
  }
  static void check_region_word(const shm::identity&) {}  // any shift: footprint() refuses a bad region
  static void recorded(const shm::identity& id, shm::channel_spec& s) {
    s.region_bytes = id.region_shift < 64 ? std::uint64_t{1} << id.region_shift : 0;  // 64 or more: none (refused)
  }

  // The ring's own validate() against the channel's bytes (proven inside the mapping): its
  // header copied, its geometry checked, its offsets recomputed. It must then be the
  // geometry the identity records, so endpoints may take either. Throws shm_corrupt. Also
  // run at every attach (shm/byte_broadcast.hpp): a live peer may have rewritten it since.
  static void check_ring(const void* chan, const shm::identity& id) {
    geometry have{};
    try {
      have = ring::validate(chan, id.channel_size);
    } catch (const error& e) {
      shm::detail::fail(errc::shm_corrupt, std::string("the byte broadcast ring: ") + e.what());
    }
    const geometry want = geometry_of(id);
    if (have.depth != want.depth || have.region_bytes != want.region_bytes || have.max_message != want.max_message ||
        have.max_credited != want.max_credited)
      shm::detail::fail(errc::shm_corrupt, "the byte broadcast ring's geometry disagrees with the header");
  }

  static void validate(const unsigned char* base, const shm::identity& id) {
    const auto* l = shm::detail::channel_at<const ring>(base, id);
    check_ring(l, id);
    // relaxed: flags that must be 0 or 1; nothing is read through them.
    if (l->control.closed.load(std::memory_order_relaxed) > 1)
      shm::detail::fail(errc::shm_corrupt, "the writer's close flag is neither 0 nor 1");
    if (l->control.skipped.load(std::memory_order_relaxed) > 1)
      shm::detail::fail(errc::shm_corrupt, "the writer's skip flag is neither 0 nor 1");
  }

  // The writer's head, the close flag and the readers parked on the bell, then the writer's
  // counters; per live credited reader its cursor and lag (its credits hold the writer back
  // by that much), then its counters (stats.hpp: zero for endpoints made without
  // options::metrics).
  static void describe(const std::byte* base, const shm::identity& id, shm::channel_description& d) {
    // Only relaxed loads (read_stats), over the identity's count of credit entries (proven
    // inside the mapping), never the ring's own header's.
    const ringwire::byte_broadcast::stats s = detail::read_stats(*shm::detail::channel_at<const ring>(base, id), id.endpoints);
    for (const auto& r : s.credited_readers)
      d.endpoints.push_back(
          {"credited_reader", r.entry, {{"cursor", r.cursor}, {"lag", r.lag}, {"received", r.received}, {"parks", r.parks}}});
    d.state = {{"depth", id.capacity},
               {"region_bytes", std::uint64_t{1} << id.region_shift},
               {"max_message", id.policy},
               {"max_credited", id.endpoints},
               {"published", s.published},
               {"closed", s.closed ? 1u : 0u},
               {"parked_readers", s.parked_readers},
               {"max_lag", s.max_lag()},
               {"credit_waits", s.credit_waits},
               {"writer_parks", s.writer_parks},
               {"reader_wakes", s.reader_wakes}};
  }
};

inline constexpr shm::channel_contract shm_kind = shm::make_contract<shm_contract>();

}  // namespace ringwire::byte_broadcast

namespace ringwire::shm {

// A byte broadcast ring (byte_broadcast/layout.hpp): g.depth metadata entries, a payload
// region of g.region_bytes, messages of at most g.max_message bytes, up to g.max_credited
// credited (lossless) readers at once, each holding one claim word. Open: a zero depth,
// region, max_message or max_credited accepts any. segment::create checks the geometry;
// max_message above 2^32 - 1 (which no ring takes) throws invalid_options here already.
constexpr channel_spec byte_broadcast_spec(const byte_broadcast::geometry& g) {
  if (g.max_message > 0xffff'ffffu)
    throw error(errc::invalid_options, "byte broadcast max_message " + std::to_string(g.max_message) +
                                           " does not fit the segment header (at most 2^32 - 1)");
  channel_spec s{};
  s.kind = channel_kind::byte_broadcast;
  s.capacity = g.depth;
  s.slot_size = 8;
  s.slot_align = 8;
  s.type_tag = detail::fnv1a("ringwire::byte_broadcast v1");
  s.endpoints = g.max_credited;
  s.policy = static_cast<std::uint32_t>(g.max_message);
  s.region_bytes = g.region_bytes;
  s.contract = &ringwire::byte_broadcast::shm_kind;
  return s;
}

}  // namespace ringwire::shm
