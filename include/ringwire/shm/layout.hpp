// ringwire/shm/layout.hpp -- sizing and formatting a shared-memory segment, for any kind.
//
// A segment holds
//
//   [ header 512 B | counters: counters_count x 128 B | endpoint claims | kind's trailer | channel ]
//
// The header (shm/header.hpp) is the same for every kind. The endpoint claims are one
// 64-bit claim word per identity.endpoints (what they name is the kind's claims table,
// shm/contract.hpp), padded to a multiple of 128 bytes: who holds that lane or
// subscription, so a dead holder can be found and reaped. The trailer (most kinds have
// none) and the channel -- the very layout an in-process channel uses -- are the kind's:
// its contract sizes, aligns and formats them. Nothing here names a kind.
//
// Lifecycle, after Firedancer's objects: segment_footprint(spec, counters) gives the bytes,
// segment_align the alignment (a page: mmap's), format_segment() writes an empty segment
// into zeroed memory, validate_segment() (shm/validate.hpp) checks a mapping before
// anything else touches it (the join), and the OS layer (segment.hpp) maps, leaves and
// deletes.
//
// TL;DR (most users want segment.hpp / shm.hpp instead)
//   auto spec = ringwire::shm::spsc_spec<tick>(4096);      // spsc/shm_contract.hpp
//   std::size_t bytes = ringwire::shm::segment_footprint(spec, 8);
//   ... zeroed, page-aligned memory `mem` of `bytes` bytes, shared somehow ...
//   ringwire::shm::format_segment(mem, bytes, spec, unlink_policy::never, 8);
//   ringwire::shm::identity id = ringwire::shm::validate_segment(mem, bytes, spec);  // throws
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>

#include "ringwire/detail/footprint.hpp"
#include "ringwire/error.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/header.hpp"

namespace ringwire::shm {

namespace detail {

// The spec's contract, or invalid_options for a spec no kind made.
inline const channel_contract& contract_for_create(const channel_spec& s) {
  const channel_contract* c = contract_of(s);
  if (c == nullptr)
    fail(errc::invalid_options, "channel kind " + num(static_cast<std::uint32_t>(s.kind)) + " does not exist");
  return *c;
}

// Where the channel starts: after the claims block and the kind's trailer, aligned as the
// kind's channel needs.
inline std::size_t channel_offset(const channel_contract& c, const channel_spec& s, std::uint32_t counters) {
  return round_up(claims_offset(counters) + claims_bytes(s.endpoints) + c.trailer_bytes(s), c.align(s));
}

// The channel's bytes; throws for a spec that cannot exist (the element geometry here,
// the rest by the kind's own footprint).
inline std::size_t channel_footprint(const channel_spec& s) {
  if (s.slot_size == 0 || s.slot_align == 0 || !std::has_single_bit(s.slot_align) || s.slot_align > max_slot_align ||
      s.slot_size % s.slot_align != 0)
    fail(errc::invalid_options, "slot size " + num(s.slot_size) + " / alignment " + num(s.slot_align) +
                                    " is not a C++ object's geometry");
  return contract_for_create(s).footprint(s);
}

}  // namespace detail

// Bytes a segment for `spec` with `counters` user counters needs. Throws ringwire::error
// (invalid_capacity, capacity_too_large, invalid_options) for a spec that cannot exist.
inline std::size_t segment_footprint(const channel_spec& spec, std::uint32_t counters) {
  if (counters > max_counters)
    detail::fail(errc::invalid_options, "at most " + detail::num(max_counters) + " counters per segment");
  const std::size_t ring = detail::channel_footprint(spec);
  const std::size_t at = detail::channel_offset(*spec.contract, spec, counters);
  if (ring > std::numeric_limits<std::size_t>::max() - at)
    detail::fail(errc::capacity_too_large, "capacity " + detail::num(spec.capacity) + " overflows the address space");
  ringwire::detail::check_footprint(at + ring, "segment of capacity " + detail::num(spec.capacity));
  return at + ring;
}

// Formats zeroed memory `mem` (segment_footprint() bytes at least, `bytes` in all, aligned
// to segment_align) as an empty segment: identity, counters, claims, the kind's trailer
// and channel, then init_state = ready with release, so an opener that acquires ready sees
// all of it. Precondition: nobody else reads the memory as a segment yet (an opener that
// does sees init_formatting and reports shm_initialising). Returns the header.
inline header* format_segment(void* mem, std::size_t bytes, const channel_spec& spec, unlink_policy unlink,
                              std::uint32_t counters, std::uint32_t creator_pid = 0,
                              std::uint64_t creator_start = 0, fence_mode fences = fence_mode::fenced) {
  const std::size_t need = segment_footprint(spec, counters);  // also proves spec.contract
  if (bytes < need) detail::fail(errc::shm_truncated, "formatting needs " + detail::num(need) + " bytes");
  const channel_contract& c = *spec.contract;
  auto* h = ::new (mem) header{};
  identity id{};
  std::memcpy(id.magic, magic, sizeof magic);
  id.version = layout_version;
  id.header_bytes = header_size;
  id.kind = spec.kind;
  id.unlink = unlink;
  id.segment_size = bytes;
  id.capacity = spec.capacity;
  id.slot_count = c.slot_count(spec.capacity);
  id.slot_size = spec.slot_size;
  id.slot_align = spec.slot_align;
  id.type_tag = spec.type_tag;
  id.counters_offset = header_size;
  id.counters_count = counters;
  id.endpoints = spec.endpoints;
  id.policy = spec.policy;
  id.region_shift = c.region_word(spec);
  id.channel_offset = detail::channel_offset(c, spec, counters);
  id.channel_size = c.footprint(spec);
  id.creator_pid = creator_pid;
  id.creator_start = creator_start;
  id.fence_mode = static_cast<std::uint32_t>(fences);
  id.checksum = detail::checksum(id);
  h->id = id;
  auto* base = static_cast<std::byte*>(mem);
  for (std::uint32_t i = 0; i < counters; ++i)
    ::new (base + header_size + i * counter_stride) std::atomic<std::uint64_t>(0);
  for (std::uint32_t i = 0; i < spec.endpoints; ++i)
    ::new (base + detail::claims_offset(counters) + std::size_t{i} * 8) std::atomic<std::uint64_t>(0);
  c.format(base, id, spec);  // the trailer and the channel (the precondition: both untouched)
  // relaxed: ordered before the release below like everything else formatted here. The
  // creator's join is the first joiner entry (segment.hpp leaves it).
  h->live.joined.store(1, std::memory_order_relaxed);
  h->live.joiners[0].store(claim_word(creator_pid, creator_start), std::memory_order_relaxed);
  // release: the identity, counters and ring happen-before an opener's acquire of ready.
  h->live.init_state.store(init_ready, std::memory_order_release);
  return h;
}

// The channel of a validated segment as plain numbers: the kind's state (its contract's
// describe) and, for each row of its claims table, how many of those words are held.
// `id` is the validated identity and `c` its kind's contract. Loads only (relaxed: a
// snapshot for tools; the numbers may move while it reads).
inline channel_description describe_channel(const std::byte* base, const identity& id, const channel_contract& c) {
  channel_description d;
  d.kind = c.name;
  c.describe(base, id, d);
  const auto& live = std::launder(reinterpret_cast<const header*>(base))->live;
  for (const claim_role& r : c.claims) {
    // relaxed (all three): a snapshot for tools; nothing is read through the words.
    std::uint64_t held = 0;
    if (r.place == claim_place::sender_word) held = live.sender_claim.load(std::memory_order_relaxed) != 0;
    if (r.place == claim_place::receiver_word) held = live.receiver_claim.load(std::memory_order_relaxed) != 0;
    if (r.place == claim_place::endpoint_block)
      for (std::uint32_t i = 0; i < id.endpoints; ++i)
        held += endpoint_claim(const_cast<std::byte*>(base), id, i).load(std::memory_order_relaxed) != 0;
    d.claims.push_back({r.role, held});
  }
  return d;
}

}  // namespace ringwire::shm
