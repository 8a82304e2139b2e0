// ringwire/shm/validate.hpp -- validate_segment(): the one gate between foreign bytes and
// ringwire's code (shm/header.hpp has the bytes it checks; docs/shm-layout.md the order).
//
// It reads the header into a local copy first (a peer cannot change what was checked),
// checks every field against the caller's expectations and against the real mapping size,
// and only then hands the channel to its kind's contract (shm/contract.hpp: validate),
// whose offsets it has just proven lie inside the mapping. Each failure is its own errc
// (error.hpp), with the offending values in the message. It reads nothing beyond the
// mapping and writes nothing, so it also runs on a read-only mapping.
//
// After validation the endpoints guard themselves against a live peer that rewrites the
// ring: a receiver never believes a tail more than the slot array ahead of its head
// (spsc/receiver.hpp, load_tail), a sender resolved the receiver's park word at attach.
// What nothing can protect against: a peer that shrinks a named segment's file under a
// live mapping (SIGBUS, as for every mmap-based IPC; anonymous segments are sealed against
// it, see segment.hpp).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "ringwire/error.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/shm/layout.hpp"

namespace ringwire::shm {

namespace detail {

// The spec an identity records, as its kind's contract c reads it: the generic fields, then
// the kind's own (contract hook `recorded`).
inline channel_spec recorded_spec(const identity& id, const channel_contract& c) {
  channel_spec s{id.kind, id.capacity, id.slot_size, id.slot_align, id.type_tag, 0, id.endpoints, id.policy, 0, 0};
  s.contract = &c;
  c.recorded(id, s);
  return s;
}

// The expected kind's name for a message (a spec without a contract: its number).
inline std::string kind_name(const channel_spec& s) {
  const channel_contract* c = contract_of(s);
  return c != nullptr ? std::string(c->name) : "unknown kind " + num(static_cast<std::uint32_t>(s.kind));
}

// validate_segment's first half: the bytes every layout version starts with, the version,
// and the checksum. Returns a private copy of the identity (nothing else is checked yet).
inline identity read_identity(const unsigned char* base, std::size_t mapped) {
  if (mapped == 0) fail(errc::shm_initialising, "the segment has size 0 (its creator has not sized it yet)");
  if (mapped < sizeof magic) fail(errc::shm_not_ringwire, "only " + num(mapped) + " bytes, fewer than the magic");
  unsigned char m[sizeof magic];
  std::memcpy(m, base, sizeof m);
  bool magic_zero = true;
  for (unsigned char c : m) magic_zero = magic_zero && c == 0;
  if (!magic_zero && std::memcmp(m, magic, sizeof m) != 0)
    fail(errc::shm_not_ringwire, "the first 8 bytes are not \"RINGWIRE\"");
  if (mapped < header_size) {
    if (magic_zero) fail(errc::shm_not_ringwire, "only " + num(mapped) + " bytes and no magic");
    fail(errc::shm_truncated, "only " + num(mapped) + " bytes, fewer than the " + num(header_size) + "-byte header");
  }
  // acquire: pairs with format_segment's release, so every identity byte read below is the
  // creator's. The word is at a fixed offset in every layout version.
  const std::uint32_t init = std::launder(reinterpret_cast<const std::atomic<std::uint32_t>*>(
                                              base + offsetof(header, live) + offsetof(live_words, init_state)))
                                 ->load(std::memory_order_acquire);
  if (init != init_ready) {
    if (init != init_formatting) fail(errc::shm_corrupt, "init_state is " + num(init) + ", neither 0 nor 1");
    fail(errc::shm_initialising, "its creator has not finished formatting it");
  }
  if (magic_zero) fail(errc::shm_not_ringwire, "marked ready but has no magic");
  identity id;
  std::memcpy(&id, base, sizeof id);  // a private copy: a peer cannot change what we check
  if (id.version != layout_version)
    fail(errc::shm_version_mismatch,
         "the segment has layout version " + num(id.version) + "; this build reads version " + num(layout_version));
  if (id.header_bytes != header_size)
    fail(errc::shm_corrupt, "header size " + num(id.header_bytes) + ", expected " + num(header_size));
  if (detail::checksum(id) != id.checksum) fail(errc::shm_corrupt, "the header checksum does not match its bytes");
  return id;
}

}  // namespace detail

// Checks `mapped` bytes at `base` (aligned to segment_align) as a segment holding what
// `want` describes, reading nothing beyond `mapped` and writing nothing. Returns the
// validated identity (a private copy: use it, not the shared header, for every offset).
// Throws ringwire::error, checking in this order:
//   shm_initialising   size 0, or init_state not ready while the magic is still zero
//   shm_not_ringwire   fewer than 8 bytes, or the magic is not "RINGWIRE"
//   shm_truncated      fewer bytes than the header, or than its segment_size
//   shm_version_mismatch
//   shm_initialising   the magic is there but init_state is not ready
//   shm_corrupt        the checksum, or any field inconsistent with the others
//   shm_kind_mismatch  another kind than expected, or one without a contract; then the
//                      kind's expect_kind (broadcast policy or slot layout, byte ring kind)
//   shm_type_mismatch  size, alignment, tag
//   shm_capacity_mismatch  the kind's expect_geometry (a byte broadcast ring's depth,
//                      region_bytes, max_message, max_credited), then capacity, endpoints
//   shm_corrupt        the structure; then the kind's validate: the channel's own geometry
//                      or indices (after its bounds are proven)
inline identity validate_segment(const void* base_v, std::size_t mapped, const channel_spec& want) {
  using detail::fail;
  using detail::num;
  const auto* base = static_cast<const unsigned char*>(base_v);
  const identity id = detail::read_identity(base, mapped);

  if (id.kind != want.kind)
    fail(errc::shm_kind_mismatch, "the segment holds a channel of kind " + num(static_cast<std::uint32_t>(id.kind)) +
                                      ", expected " + detail::kind_name(want));
  const channel_contract* c = detail::contract_of(want);
  if (c == nullptr)
    fail(errc::shm_kind_mismatch, "the segment holds a channel of kind " + num(static_cast<std::uint32_t>(id.kind)) +
                                      ", which this build cannot read");
  c->expect_kind(id, want);
  if (id.slot_size != want.slot_size || id.slot_align != want.slot_align || id.type_tag != want.type_tag)
    fail(errc::shm_type_mismatch, "the segment's elements are " + num(id.slot_size) + " bytes aligned to " +
                                      num(id.slot_align) + " with type tag " + num(id.type_tag) + "; expected " +
                                      num(want.slot_size) + " / " + num(want.slot_align) + " / " +
                                      num(want.type_tag));
  c->expect_geometry(id, want);
  if (want.capacity != 0 && id.capacity != want.capacity)
    fail(errc::shm_capacity_mismatch,
         "the segment holds " + num(id.capacity) + " messages, expected " + num(want.capacity));
  if (want.endpoints != 0 && id.endpoints != want.endpoints)
    fail(errc::shm_capacity_mismatch, "the segment has " + num(id.endpoints) + " " +
                                          std::string(c->endpoint_noun) +
                                          ", expected " + num(want.endpoints));
  if (id.segment_size > mapped)
    fail(errc::shm_truncated,
         "the header says " + num(id.segment_size) + " bytes; the mapping has only " + num(mapped));

  // Structure: every offset and size agrees with the others and lies inside segment_size.
  const auto corrupt = [&](const std::string& what) { fail(errc::shm_corrupt, what); };
  if (static_cast<std::uint32_t>(id.unlink) > 2) corrupt("unlink policy " + num(static_cast<std::uint32_t>(id.unlink)));
  c->check_region_word(id);  // byte 116: the kind's
  if (id.fence_mode > static_cast<std::uint32_t>(fence_mode::membarrier_global))
    corrupt("fence mode " + num(id.fence_mode) + " is not one this build knows");
  if (id.slot_size == 0 || !std::has_single_bit(id.slot_align) || id.slot_align > max_slot_align ||
      id.slot_size % id.slot_align != 0)
    corrupt("slot size " + num(id.slot_size) + " / alignment " + num(id.slot_align));
  if (id.capacity == 0 || id.capacity > max_capacity ||
      id.slot_count != c->slot_count(id.capacity))
    corrupt("capacity " + num(id.capacity) + " with " + num(id.slot_count) + " slots");
  if (id.counters_offset != header_size || id.counters_count > max_counters)
    corrupt("counters at " + num(id.counters_offset) + ", " + num(id.counters_count) + " of them");
  // The kind's own rules for endpoints and policy, and its footprint, recomputed.
  const channel_spec as_created = detail::recorded_spec(id, *c);
  std::size_t expect_size = 0;
  try {
    expect_size = detail::channel_footprint(as_created);
  } catch (const error& e) {
    corrupt(std::string("the header describes no channel: ") + e.what());
  }
  if (id.channel_offset != detail::channel_offset(*c, as_created, id.counters_count))
    corrupt("channel offset " + num(id.channel_offset));
  if (id.channel_size != expect_size) corrupt("channel size " + num(id.channel_size));
  if (id.channel_size > id.segment_size || id.channel_offset > id.segment_size - id.channel_size)
    corrupt("the channel (" + num(id.channel_offset) + " + " + num(id.channel_size) +
            " bytes) does not fit the segment's " + num(id.segment_size));

  // The channel (and the kind's trailer): their bounds are now proven inside the mapping.
  c->validate(base, id);
  return id;
}

// A kind's contract found by its number (channel_kinds.hpp's find_contract, or a test's own
// table); null when the build has none.
using contract_finder = const channel_contract* (*)(channel_kind);

// Validates a segment of whatever kind its header names, as fully as validate_segment does
// for an opener that expects exactly what the segment records: the checks an observer (a
// tool, the census) gives a segment it meets without knowing it. Returns the identity; the
// kind's contract is find(id.kind). Throws as validate_segment; a kind `find` does not know
// is shm_kind_mismatch.
inline identity validate_recorded(const void* base_v, std::size_t mapped, contract_finder find) {
  const identity id = detail::read_identity(static_cast<const unsigned char*>(base_v), mapped);
  const channel_contract* c = find(id.kind);
  if (c == nullptr)
    detail::fail(errc::shm_kind_mismatch, "the segment holds a channel of kind " +
                                              detail::num(static_cast<std::uint32_t>(id.kind)) +
                                              ", which this build cannot read");
  return validate_segment(base_v, mapped, detail::recorded_spec(id, *c));
}

}  // namespace ringwire::shm
