// ringwire/shm/validate.hpp -- validate_segment(): the one gate between foreign bytes and
// ringwire's code (shm/layout.hpp has the bytes it checks; docs/shm-layout.md the order).
//
// It reads the header into a local copy first (a peer cannot change what was checked),
// checks every field against the caller's expectations and against the real mapping size,
// and only then looks at the channel's own geometry, whose offsets it has just proven lie
// inside the mapping. Each failure is its own errc (error.hpp), with the offending values
// in the message. It reads nothing beyond the mapping and writes nothing, so it also runs
// on a read-only mapping.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>

#include "ringwire/error.hpp"
#include "ringwire/shm/layout.hpp"

namespace ringwire::shm {

namespace detail {

// A broadcast segment's slot layout, as its identity records it (validate_segment proves
// it packed or line before anything sizes a ring by it).
constexpr broadcast::slot_layout broadcast_slot_layout(const identity& id) noexcept {
  return static_cast<broadcast::slot_layout>(id.region_shift);
}

// One SPSC ring (a whole spsc channel, or an MPSC lane) against the geometry it must have;
// its bounds are proven inside the mapping. `corrupt` throws.
template <class Corrupt>
void check_spsc_ring(const spsc_ring* ring, std::uint64_t capacity, std::uint32_t slot_size, std::uint32_t slot_align,
                     std::int64_t park_offset, const Corrupt& corrupt) {
  spsc_ring::geometry_block g;
  std::memcpy(&g, &ring->geometry, sizeof g);
  if (g.capacity != capacity || g.slot_count != std::bit_ceil(capacity) ||
      g.slots_offset != spsc_ring::slots_offset(slot_align) || g.slot_size != slot_size ||
      g.slot_align != slot_align || g.receiver_park_offset != park_offset)
    corrupt("a ring's geometry disagrees with the header");
  // acquire: a live peer may be moving these, so head is read before and after tail. A
  // still ring must hold at most `capacity`; a moving one only bounds tail by the later head.
  const std::uint64_t head0 = ring->consumer.head.load(std::memory_order_acquire);
  const std::uint64_t tail = ring->producer.tail.load(std::memory_order_acquire);
  const std::uint64_t head1 = ring->consumer.head.load(std::memory_order_acquire);
  const bool still = head0 == head1;
  if (still ? tail - head0 > capacity : static_cast<std::int64_t>(tail - head1) > static_cast<std::int64_t>(capacity))
    corrupt("a ring holds " + num(tail - head1) + " messages, more than its capacity " + num(capacity));
  // relaxed: flags that must be 0 or 1; nothing is read through them.
  if (ring->producer.receiver_closed.load(std::memory_order_relaxed) > 1 ||
      ring->consumer.sender_closed.load(std::memory_order_relaxed) > 1)
    corrupt("a close flag is neither 0 nor 1");
}

// An MPSC channel's geometry block against its segment's identity. `corrupt` throws. Also
// run at every attach (shm/mpsc.hpp): the receiver copies this geometry and a sender's
// lane is found through it, and a live peer may have rewritten it since the open.
template <class Corrupt>
void check_mpsc_geometry(const mpsc_lanes* l, const identity& id, const Corrupt& corrupt) {
  mpsc_lanes::geometry_block g;
  std::memcpy(&g, &l->geometry, sizeof g);
  if (g.lane_capacity != id.capacity || g.max_producers != id.endpoints ||
      g.lane_stride != mpsc_lanes::lane_stride(id.capacity, id.slot_size, id.slot_align) ||
      g.descriptors_offset != mpsc_lanes::descriptors_offset() ||
      g.lanes_offset != mpsc_lanes::lanes_offset(id.endpoints, id.slot_align) || g.slot_size != id.slot_size ||
      g.slot_align != id.slot_align)
    corrupt("the lanes' geometry disagrees with the header");
}

// A broadcast ring against the geometry its segment's identity records; its bounds are
// proven inside the mapping. `corrupt` throws. Also run at every attach (shm/broadcast.hpp):
// the endpoints copy this geometry, and a live peer may have rewritten it since the open.
template <class Corrupt>
void check_broadcast_ring(const broadcast_ring* l, const identity& id, const Corrupt& corrupt) {
  broadcast_ring::geometry_block g;
  std::memcpy(&g, &l->geometry, sizeof g);
  if (g.capacity != id.capacity ||
      g.slot_stride != broadcast_ring::stride(id.slot_size, broadcast_slot_layout(id)) ||
      g.slots_offset != broadcast_ring::slots_offset(id.endpoints) ||
      g.registry_offset != broadcast_ring::registry_offset() || g.payload_size != id.slot_size ||
      g.payload_words != (id.slot_size + 7) / 8 || g.max_subscribers != id.endpoints || g.policy != id.policy ||
      g.multi_producer > 1 ||
      (id.policy == static_cast<std::uint32_t>(broadcast::policy::evict) && id.capacity >= 2 &&
       g.evict_lag >= id.capacity))
    corrupt("the broadcast ring's geometry disagrees with the header");
  // relaxed (both): values that must be in range; nothing is read through them.
  if (l->control.closed.load(std::memory_order_relaxed) > 1) corrupt("the publisher's close flag");
  if (l->joiners.top.load(std::memory_order_relaxed) > id.endpoints) corrupt("the registry's top entry");
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
//   shm_kind_mismatch  another kind (or broadcast policy or slot layout, byte ring kind) than
//                      expected, or an unknown kind
//   shm_capacity_mismatch  a byte broadcast ring's depth, region_bytes, max_message or
//                      max_credited (each named; zero in `want` accepts any)
//   shm_type_mismatch (size, alignment, tag), shm_capacity_mismatch (capacity, endpoints)
//   shm_corrupt        the channel's own geometry or indices (after its bounds are proven)
inline identity validate_segment(const void* base_v, std::size_t mapped, const channel_spec& want) {
  using detail::fail;
  using detail::num;
  const auto* base = static_cast<const unsigned char*>(base_v);
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

  const auto kind_name = [](channel_kind k) {
    const std::string n = to_string(k);
    return n == "unknown" ? "unknown kind " + num(static_cast<std::uint32_t>(k)) : n;
  };
  const bool known_kind = id.kind == channel_kind::spsc || id.kind == channel_kind::mpsc ||
                          id.kind == channel_kind::broadcast || id.kind == channel_kind::byte_ring ||
                          id.kind == channel_kind::byte_broadcast;
  if (id.kind != want.kind)
    fail(errc::shm_kind_mismatch, "the segment holds a " + kind_name(id.kind) + " channel, expected " +
                                      kind_name(want.kind));
  if (!known_kind)
    fail(errc::shm_kind_mismatch, "the segment holds a " + kind_name(id.kind) + " channel, which this build cannot read");
  if (id.kind == channel_kind::broadcast && id.policy != want.policy)
    fail(errc::shm_kind_mismatch, "the segment's broadcast policy is " + num(id.policy) + ", expected " +
                                      num(want.policy) + " (0 lossy, 1 lossless, 2 evict)");
  if (id.kind == channel_kind::broadcast && want.slot_layout != broadcast::slot_layout::automatic &&
      id.region_shift != static_cast<std::uint32_t>(want.slot_layout))
    fail(errc::shm_kind_mismatch, std::string("the segment's broadcast slots are ") +
                                      broadcast::to_string(detail::broadcast_slot_layout(id)) + ", expected " +
                                      broadcast::to_string(want.slot_layout));
  if (id.kind == channel_kind::byte_ring && id.policy != want.policy)
    fail(errc::shm_kind_mismatch, "the segment's byte ring is " +
                                      std::string(id.policy == 1 ? "one-to-one" : id.policy == 2 ? "many-to-one" : "of unknown kind " + num(id.policy)) +
                                      ", expected " + (want.policy == 1 ? "one-to-one" : "many-to-one"));
  if (id.slot_size != want.slot_size || id.slot_align != want.slot_align || id.type_tag != want.type_tag)
    fail(errc::shm_type_mismatch, "the segment's elements are " + num(id.slot_size) + " bytes aligned to " +
                                      num(id.slot_align) + " with type tag " + num(id.type_tag) + "; expected " +
                                      num(want.slot_size) + " / " + num(want.slot_align) + " / " +
                                      num(want.type_tag));
  if (id.kind == channel_kind::byte_broadcast) {
    // Its geometry, field by field (zero in `want`: any). The region's shift is proven
    // sane below (corrupt); here an impossible one just mismatches.
    const std::uint64_t region = id.region_shift < 64 ? std::uint64_t{1} << id.region_shift : 0;
    const auto mismatch = [&](const char* field, std::uint64_t have, std::uint64_t expect) {
      if (expect != 0 && have != expect)
        fail(errc::shm_capacity_mismatch, std::string("the segment's byte broadcast ring has ") + field + " " +
                                              num(have) + ", expected " + num(expect));
    };
    mismatch("depth", id.capacity, want.capacity);
    mismatch("region_bytes", region, want.region_bytes);
    mismatch("max_message", id.policy, want.policy);
    mismatch("max_credited", id.endpoints, want.endpoints);
  }
  if (want.capacity != 0 && id.capacity != want.capacity)
    fail(errc::shm_capacity_mismatch,
         "the segment holds " + num(id.capacity) + " messages, expected " + num(want.capacity));
  if (want.endpoints != 0 && id.endpoints != want.endpoints)
    fail(errc::shm_capacity_mismatch, "the segment has " + num(id.endpoints) + " " +
                                          (id.kind == channel_kind::mpsc ? "lanes" : "subscriber entries") +
                                          ", expected " + num(want.endpoints));
  if (id.segment_size > mapped)
    fail(errc::shm_truncated,
         "the header says " + num(id.segment_size) + " bytes; the mapping has only " + num(mapped));

  // Structure: every offset and size agrees with the others and lies inside segment_size.
  const auto corrupt = [&](const std::string& what) { fail(errc::shm_corrupt, what); };
  if (static_cast<std::uint32_t>(id.unlink) > 2) corrupt("unlink policy " + num(static_cast<std::uint32_t>(id.unlink)));
  if (id.kind == channel_kind::broadcast) {  // byte 116: the layout the creator resolved, never automatic
    if (id.region_shift != static_cast<std::uint32_t>(broadcast::slot_layout::packed) &&
        id.region_shift != static_cast<std::uint32_t>(broadcast::slot_layout::line))
      corrupt("broadcast slot layout " + num(id.region_shift) + " (1 packed, 2 line)");
  } else if (id.kind != channel_kind::byte_broadcast && id.region_shift != 0) {
    corrupt("reserved identity bytes are not zero");
  }
  if (id.fence_mode > static_cast<std::uint32_t>(fence_mode::membarrier_global))
    corrupt("fence mode " + num(id.fence_mode) + " is not one this build knows");
  if (id.slot_size == 0 || !std::has_single_bit(id.slot_align) || id.slot_align > max_slot_align ||
      id.slot_size % id.slot_align != 0)
    corrupt("slot size " + num(id.slot_size) + " / alignment " + num(id.slot_align));
  if (id.capacity == 0 || id.capacity > spsc_ring::max_capacity ||
      id.slot_count != detail::slot_count(id.kind, id.capacity))
    corrupt("capacity " + num(id.capacity) + " with " + num(id.slot_count) + " slots");
  if (id.counters_offset != header_size || id.counters_count > max_counters)
    corrupt("counters at " + num(id.counters_offset) + ", " + num(id.counters_count) + " of them");
  // The kind's own rules for endpoints and policy, and its footprint, recomputed.
  channel_spec as_created{id.kind,      id.capacity, id.slot_size, id.slot_align, id.type_tag, 0,
                          id.endpoints, id.policy,   0,            0};
  if (id.kind == channel_kind::byte_broadcast)  // a shift of 64 or more: no region (refused below)
    as_created.region_bytes = id.region_shift < 64 ? std::uint64_t{1} << id.region_shift : 0;
  if (id.kind == channel_kind::broadcast) as_created.slot_layout = detail::broadcast_slot_layout(id);
  std::size_t expect_size = 0;
  try {
    expect_size = detail::channel_footprint(as_created);
  } catch (const error& e) {
    corrupt(std::string("the header describes no channel: ") + e.what());
  }
  if (id.channel_offset != detail::channel_offset(id.kind, id.counters_count, id.endpoints, id.slot_align))
    corrupt("channel offset " + num(id.channel_offset));
  if (id.channel_size != expect_size) corrupt("channel size " + num(id.channel_size));
  if (id.channel_size > id.segment_size || id.channel_offset > id.segment_size - id.channel_size)
    corrupt("the channel (" + num(id.channel_offset) + " + " + num(id.channel_size) +
            " bytes) does not fit the segment's " + num(id.segment_size));

  // The channel: its bounds are now proven inside the mapping.
  const unsigned char* chan = base + id.channel_offset;
  switch (id.kind) {
    case channel_kind::spsc:
      detail::check_spsc_ring(std::launder(reinterpret_cast<const spsc_ring*>(chan)), id.capacity, id.slot_size,
                              id.slot_align, 0, corrupt);
      break;
    case channel_kind::mpsc: {
      const auto* l = std::launder(reinterpret_cast<const mpsc_lanes*>(chan));
      detail::check_mpsc_geometry(l, id, corrupt);
      const std::size_t stride = mpsc_lanes::lane_stride(id.capacity, id.slot_size, id.slot_align);
      // relaxed (all below): values that must be in range; nothing is read through them.
      if (l->receiver.receiver_closed.load(std::memory_order_relaxed) > 1) corrupt("the receiver's close flag");
      const auto park_offset = static_cast<std::int64_t>(offsetof(mpsc_lanes, receiver));
      for (std::uint32_t i = 0; i < id.endpoints; ++i) {
        const auto* d = std::launder(
            reinterpret_cast<const mpsc_lanes::descriptor*>(chan + mpsc_lanes::descriptors_offset() + std::size_t{i} * 8));
        // acquire: a lane formatted by a live peer is read after its format.
        const std::uint32_t formatted = d->formatted.load(std::memory_order_acquire);
        if (formatted > 1) corrupt("lane " + num(i) + "'s formatted flag is " + num(formatted));
        if (formatted == 0) continue;
        const unsigned char* lane = chan + mpsc_lanes::lanes_offset(id.endpoints, id.slot_align) + std::size_t{i} * stride;
        detail::check_spsc_ring(std::launder(reinterpret_cast<const spsc_ring*>(lane)), id.capacity, id.slot_size,
                                id.slot_align, park_offset - static_cast<std::int64_t>(lane - chan), corrupt);
      }
      break;
    }
    case channel_kind::broadcast:
      detail::check_broadcast_ring(std::launder(reinterpret_cast<const broadcast_ring*>(chan)), id, corrupt);
      break;
    case channel_kind::byte_ring: {
      // attach() checks the ring's own magic, version, kind, geometry and indices; it
      // reads only the header blocks, already proven inside the mapping.
      auto r = byte_ring_layout::attach(const_cast<unsigned char*>(chan), id.channel_size,
                                        static_cast<byte_ring::ring_kind>(id.policy));
      if (!r) corrupt(r.error().message);
      break;
    }
    case channel_kind::byte_broadcast: {
      // The ring's own validate() against the channel's bytes (proven inside the mapping):
      // its header copied, its geometry checked, its offsets recomputed. It must then be the
      // geometry the identity records, so endpoints may take either.
      byte_broadcast::geometry g{};
      try {
        g = byte_broadcast_layout::validate(chan, id.channel_size);
      } catch (const error& e) {
        corrupt(std::string("the byte broadcast ring: ") + e.what());
      }
      if (g.depth != id.capacity || g.region_bytes != as_created.region_bytes || g.max_message != id.policy ||
          g.max_credited != id.endpoints)
        corrupt("the byte broadcast ring's geometry disagrees with the header");
      // relaxed: a flag that must be 0 or 1; nothing is read through it.
      if (std::launder(reinterpret_cast<const byte_broadcast_layout*>(chan))->control.closed.load(
              std::memory_order_relaxed) > 1)
        corrupt("the writer's close flag is neither 0 nor 1");
      break;
    }
  }
  return id;
}

}  // namespace ringwire::shm
