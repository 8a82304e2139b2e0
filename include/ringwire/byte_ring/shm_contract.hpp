// ringwire/byte_ring/shm_contract.hpp -- the byte ring in a shared-memory segment (kind 4):
// its channel contract (shm/contract.hpp) and its spec, shm::byte_ring_spec().
//
// The channel is one byte_ring::layout (byte_ring/layout.hpp) of `capacity` data bytes.
// Records carry their own type ids, so the identity's type tag names the ring format, and
// the "slot" is the 8-byte record word (8 / 8). Identity fields: capacity, slot_count =
// capacity, policy = byte_ring::ring_kind (an opener must expect the same), endpoints =
// writer claims (many-to-one; 0 for one-to-one), byte 116 zero. One-to-one: the writer
// claims the header's sender word. Many-to-one: the claims block holds one word per writer
// process, and the trailer after it holds each such process's writer spans (below).
// Either way the reader claims the receiver word. shm/byte_ring.hpp attaches the endpoints.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

#include "ringwire/byte_ring/layout.hpp"
#include "ringwire/byte_ring/stats.hpp"
#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::byte_ring {

struct shm_contract {
  using ring = ringwire::byte_ring::layout<std_sync>;
  // The byte map of layout.hpp and docs/shm-layout.md, pinned.
  static_assert(offsetof(ring, producer) == 128 && offsetof(ring, consumer) == 256 && sizeof(ring) == 384 &&
                    offsetof(ring::producer_block, reader_park) == 8 &&
                    offsetof(ring::producer_block, reader_closed) == 12 &&
                    offsetof(ring::consumer_block, writer_park) == 8 && offsetof(ring::consumer_block, writers) == 12 &&
                    offsetof(ring::consumer_block, releasing) == 16,
                "byte_ring/layout.hpp changed: update docs/shm-layout.md and the layout version");
  // The counters (layout.hpp "Counters"): the second line of each block (192.., 320..).
  static_assert(offsetof(ring::producer_block, full_events) == 64 &&
                    offsetof(ring::producer_block, writer_parks) == 72 &&
                    offsetof(ring::producer_block, reader_wakes) == 80 &&
                    offsetof(ring::consumer_block, empty_events) == 64 &&
                    offsetof(ring::consumer_block, reader_parks) == 72 &&
                    offsetof(ring::consumer_block, writer_wakes) == 80,
                "byte_ring/layout.hpp's counters moved: update docs/shm-layout.md");

  static constexpr shm::channel_kind kind = shm::channel_kind::byte_ring;
  static constexpr const char* name = "byte_ring";
  static constexpr const char* endpoint_noun = "writer claims";
  static constexpr shm::claim_role claims[] = {
      {"writer", shm::claim_place::sender_word, "one-to-one: the writer count drops (the reader sees closed)"},
      {"writers", shm::claim_place::endpoint_block,
       "many-to-one: its claimed, uncommitted room becomes padding; the writer count drops"},
      {"reader", shm::claim_place::receiver_word, "reader_closed = 1 (writes report closed)"},
  };

  // A many-to-one ring's writer spans follow its claims: spans_per_writer per writer claim,
  // one per writer handle of that process (a thread's copy), each on its own cache line (a
  // handle stores its span before every claim of room; shm/byte_ring.hpp).
  static constexpr std::uint32_t spans_per_writer = 32;
  static constexpr std::size_t writer_span_stride = 64;

  static std::size_t footprint(const shm::channel_spec& s) {
    using shm::detail::fail;
    shm::detail::require_no_slot_layout(s);
    if (s.slot_size != 8 || s.slot_align != 8) fail(errc::invalid_options, "a byte ring's records are 8-byte aligned");
    if (s.policy == static_cast<std::uint32_t>(ring_kind::one_to_one)) {
      if (s.endpoints != 0) fail(errc::invalid_options, "a one-to-one byte ring has no writer claims");
    } else if (s.policy == static_cast<std::uint32_t>(ring_kind::many_to_one)) {
      if (s.endpoints == 0 || s.endpoints > 4096)
        fail(errc::invalid_options,
             "a many-to-one byte ring takes 1 to 4096 writers, not " + shm::detail::num(s.endpoints));
    } else {
      fail(errc::invalid_options, "byte ring kind " + shm::detail::num(s.policy) + " does not exist");
    }
    return ring::footprint(s.capacity);
  }
  static std::size_t align(const shm::channel_spec&) { return ringwire::detail::hot_block; }
  static std::uint64_t slot_count(std::uint64_t capacity) { return capacity; }
  static std::size_t trailer_bytes(const shm::channel_spec& s) {
    return std::size_t{s.endpoints} * spans_per_writer * writer_span_stride;
  }

  static void format(std::byte* base, const shm::identity& id, const shm::channel_spec& s) {
    for (std::size_t k = 0; k < std::size_t{s.endpoints} * spans_per_writer; ++k)
      for (std::size_t w = 0; w < 2; ++w)
        ::new (base + shm::detail::trailer_offset(id) + k * writer_span_stride + w * 8) std::atomic<std::uint64_t>(0);
    // Its one open writer: one-to-one, the writer's (attach re-opens it); many-to-one, the
    // segment's own, dropped by close_writers (shm/byte_ring.hpp).
    ring::format(base + id.channel_offset, id.channel_size, s.capacity,
                                  static_cast<ring_kind>(s.policy),
                                  /*zeroed=*/true);  // format_segment's precondition: data untouched
  }

  static const char* ring_kind_name(std::uint32_t k) noexcept {
    return k == static_cast<std::uint32_t>(ring_kind::one_to_one)    ? "one-to-one"
           : k == static_cast<std::uint32_t>(ring_kind::many_to_one) ? "many-to-one"
                                                                      : nullptr;
  }
  // A one-to-one and a many-to-one ring are different channels.
  static void expect_kind(const shm::identity& id, const shm::channel_spec& want) {
    if (id.policy == want.policy) return;
    const char* have = ring_kind_name(id.policy);
    shm::detail::fail(errc::shm_kind_mismatch,
                      "the segment's byte ring is " +
                          (have != nullptr ? std::string(have) : "of unknown kind " + shm::detail::num(id.policy)) +
                          ", expected " + (want.policy == 1 ? "one-to-one" : "many-to-one"));
  }

  // attach() checks the ring's own magic, version, kind, geometry and indices; it reads only
  // the header blocks, already proven inside the mapping.
  static void validate(const unsigned char* base, const shm::identity& id) {
    auto r = ring::attach(const_cast<unsigned char*>(base) + id.channel_offset, id.channel_size,
                                           static_cast<ring_kind>(id.policy));
    if (!r) shm::detail::fail(errc::shm_corrupt, r.error().message);
  }

  // The ring's indices, open writers and the reader's close flag, then the endpoints'
  // counters (stats.hpp: zero for endpoints made without options::metrics).
  static void describe(const std::byte* base, const shm::identity& id, shm::channel_description& d) {
    // Only relaxed loads (read_stats): the capacity and kind are the identity's, not the ring's.
    const ringwire::byte_ring::stats s = detail::read_stats(*shm::detail::channel_at<const ring>(base, id));
    d.state = {{"capacity", id.capacity},
               {"ring_kind", id.policy},
               {"head", s.read_bytes},
               {"tail", s.written_bytes},
               {"used_bytes", s.written_bytes - s.read_bytes},
               {"writers", s.writers},
               {"reader_closed", s.reader_closed ? 1u : 0u},
               {"full_events", s.full_events},
               {"writer_parks", s.writer_parks},
               {"reader_wakes", s.reader_wakes},
               {"empty_events", s.empty_events},
               {"reader_parks", s.reader_parks},
               {"writer_wakes", s.writer_wakes}};
  }
};

inline constexpr shm::channel_contract shm_kind = shm::make_contract<shm_contract>();

}  // namespace ringwire::byte_ring

namespace ringwire::shm {

// A byte ring (byte_ring/layout.hpp) of `capacity` data bytes (a power of two, 64 .. 2^30):
// one-to-one, or many-to-one with up to max_writers writer processes attached at once.
// Records carry their own type ids, so the tag names the ring format, not a C++ type.
constexpr channel_spec byte_ring_spec(std::uint64_t capacity = 0,
                                      byte_ring::ring_kind kind = byte_ring::ring_kind::one_to_one,
                                      std::uint32_t max_writers = 0) noexcept {
  channel_spec s{};
  s.kind = channel_kind::byte_ring;
  s.capacity = capacity;
  s.slot_size = 8;
  s.slot_align = 8;
  s.type_tag = detail::fnv1a("ringwire::byte_ring records v1");
  s.endpoints = kind == byte_ring::ring_kind::many_to_one ? max_writers : 0;
  s.policy = static_cast<std::uint32_t>(kind);
  s.contract = &ringwire::byte_ring::shm_kind;
  return s;
}

// Span k of the writer process holding claim i of a many-to-one byte ring: the room the
// handle using it is about to claim, [start, end) of byte positions (two words), empty when
// end <= start (as a signed difference). The kind's trailer (shm_contract::trailer_bytes),
// i < id.endpoints, k < spans_per_writer.
inline std::atomic<std::uint64_t>* byte_ring_writer_span(std::byte* base, const identity& id, std::uint32_t i,
                                                         std::uint32_t k) noexcept {
  using c = ringwire::byte_ring::shm_contract;
  return std::launder(reinterpret_cast<std::atomic<std::uint64_t>*>(
      base + detail::trailer_offset(id) + (std::size_t{i} * c::spans_per_writer + k) * c::writer_span_stride));
}

}  // namespace ringwire::shm
