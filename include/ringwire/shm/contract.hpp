// ringwire/shm/contract.hpp -- the channel contract: what a channel kind tells shared memory
// about itself, so that shm/ drives every kind the same way and knows none of them.
//
// A kind lives in its own folder (spsc/, mpsc/, broadcast/, byte_ring/, byte_broadcast/)
// and provides there a <family>/shm_contract.hpp: a class with the static members below,
// turned into one constant table by make_contract<C>(), and the kind's spec factory
// (shm::spsc_spec<T>() ...), which stores a pointer to that table in the channel_spec.
// Everything shm/ does with a channel goes through the table of the spec in hand -- the
// creator's, or the opener's, which must name the segment's kind -- so no file here
// switches on a kind, and a new kind touches no file here:
//
//   struct my_contract {
//     static constexpr channel_kind kind = channel_kind{6};   // a number no kind uses yet
//     static constexpr const char* name = "my_kind";
//     static constexpr const char* endpoint_noun = "entries"; // what identity.endpoints counts
//     static constexpr claim_role claims[] = {...};           // who may attach (below)
//     static std::size_t footprint(const channel_spec&);      // its rules; its channel's bytes
//     static std::size_t align(const channel_spec&);          // its channel's alignment
//     static std::uint64_t slot_count(std::uint64_t capacity);  // identity byte 40
//     static void format(std::byte* base, const identity&, const channel_spec&);
//     static void validate(const unsigned char* base, const identity&);  // its insides
//     static void describe(const std::byte* base, const identity&, channel_description&);
//     // optional: trailer_bytes, region_word, check_region_word, recorded, expect_kind,
//     // expect_geometry (see channel_contract)
//   };
//   inline constexpr shm::channel_contract my_kind = shm::make_contract<my_contract>();
//   constexpr shm::channel_spec my_spec(...) { ... .contract = &my_kind ... }
//
// plus one line in ringwire/channel_kinds.hpp (the list tools use to name a number), and
// its attach functions (endpoints over the mapped layout) in its own folder.
//
// Contract for each function: `base` is the segment's first byte; the identity is the
// validated private copy (format: the one just written), so every offset in it is proven
// inside the mapping. footprint() throws ringwire::error (invalid_options,
// invalid_capacity, capacity_too_large) for a spec that cannot exist; validate() throws
// shm_corrupt, reading only the channel's bytes (identity.channel_offset, channel_size) and
// its trailer, writing nothing (it also runs on read-only mappings); describe() only
// loads, relaxed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ringwire/histogram.hpp"
#include "ringwire/shm/header.hpp"

namespace ringwire::broadcast {
// The broadcast kind's slot density (broadcast/layout.hpp), a field of every spec for the
// callers of broadcast_spec; declared here opaque: shm/ never looks at its values.
enum class slot_layout : std::uint32_t;
}  // namespace ringwire::broadcast

namespace ringwire::shm {

struct channel_contract;

// What a segment holds, or what an opener expects it to hold. Made by a kind's spec
// factory (spsc_spec<T>(), mpsc_spec<T>(), ...): the kind's contract header says what
// its fields mean; shm/ itself reads only kind, capacity, the element geometry, endpoints
// (the claims block's words) and the contract, and records policy at byte 112.
struct channel_spec {
  channel_kind kind = channel_kind::spsc;
  std::uint64_t capacity = 0;  // create: >= 1; open: 0 accepts any (mpsc: per lane)
  std::uint32_t slot_size = 0;
  std::uint32_t slot_align = 0;
  std::uint64_t type_tag = 0;
  std::uint64_t start_index = 0;  // create only: the ring's first index (tests cross 2^64)
  // The claims block's words (the kind's endpoint claims); 0 for a kind without. Open: 0
  // accepts any.
  std::uint32_t endpoints = 0;
  std::uint32_t policy = 0;       // the kind's (identity byte 112); 0 if it has none
  std::uint64_t evict_lag = 0;    // broadcast, policy evict, create only (0: capacity)
  std::uint64_t region_bytes = 0;  // byte_broadcast: the payload region (open: 0 any)
  // broadcast: the slot density; create: automatic is the library's default, open:
  // automatic accepts either. Others: automatic (0).
  broadcast::slot_layout slot_layout = broadcast::slot_layout{};
  // The kind's contract; set by the spec factory. A spec whose contract is missing or
  // of another kind describes no channel (create: invalid_options; open:
  // shm_kind_mismatch).
  const channel_contract* contract = nullptr;
};

// The SPSC and MPSC kinds' policy word is a set of flags; this one makes the channel keep
// a latency histogram (spsc/layout.hpp "Latency"; an MPSC channel: one per lane). Every
// endpoint attached to such a segment stamps and records; an opener's spec need not say it.
inline constexpr std::uint32_t latency_flag = 1;

// Where a claim word lives (docs/shm-layout.md): the header's two side words, or the
// claims block (one word per identity.endpoints).
enum class claim_place : std::uint32_t { sender_word, receiver_word, endpoint_block };

// One row of a kind's claims table: who may attach through which word (one process per
// word at a time, shm/claim.hpp), and what reaping a dead holder does. The attach and
// reap code lives with the kind's endpoints; the table is what tools and describe read.
struct claim_role {
  std::string_view role;  // "sender", "lane", "subscriber" ...
  claim_place place;
  std::string_view reaped;  // what reap does for a dead holder, in a phrase
};

// A channel's counters and state as plain numbers (describe(), for tools): the kind's
// items in a fixed order, then how many claim words of each role are held.
struct channel_description {
  struct item {
    std::string_view key;
    std::uint64_t value;
  };
  // One endpoint's own numbers (a broadcast subscriber's entry, an MPSC lane).
  struct endpoint_row {
    std::string_view role;  // "subscriber", "lane"
    std::uint32_t index;    // its entry
    std::vector<item> values;
  };
  std::string_view kind;
  std::vector<item> state;   // the kind's describe()
  std::vector<item> claims;  // per claims-table role: words held (not 0)
  std::vector<endpoint_row> endpoints;  // the kind's describe(), per endpoint (may be empty)
  // Queueing delay, publish to release, in ns: channels made with a latency histogram
  // (with_latency; an MPSC channel's lanes merged). nullopt when the channel keeps none.
  std::optional<histogram_snapshot> latency;

  [[nodiscard]] std::optional<std::uint64_t> value(std::string_view key) const noexcept {
    for (const item& i : state)
      if (i.key == key) return i.value;
    return std::nullopt;
  }
};

// A kind's contract as one constant table (make_contract below). Every pointer is set.
struct channel_contract {
  channel_kind kind;
  const char* name;
  std::string_view endpoint_noun;  // what identity.endpoints counts, for messages
  std::span<const claim_role> claims;
  // The spec's rules and the channel's bytes; throws for a spec that cannot exist.
  std::size_t (*footprint)(const channel_spec&);
  std::size_t (*align)(const channel_spec&);  // the channel's alignment (a power of two)
  std::uint64_t (*slot_count)(std::uint64_t capacity);  // identity byte 40
  // Bytes the kind keeps between the claims block and the channel (its trailer; 0 for most).
  std::size_t (*trailer_bytes)(const channel_spec&);
  std::uint32_t (*region_word)(const channel_spec&);  // identity byte 116 (0 for most)
  // Formats the trailer and the channel into zeroed memory; the identity is written.
  void (*format)(std::byte* base, const identity&, const channel_spec&);
  // An opener's expectations beyond kind, element type, capacity and endpoints: the ones
  // that make another kind of channel (shm_kind_mismatch), checked before the element
  // type; then the kind's own geometry (shm_capacity_mismatch), before the capacity.
  void (*expect_kind)(const identity&, const channel_spec& want);
  void (*expect_geometry)(const identity&, const channel_spec& want);
  void (*check_region_word)(const identity&);  // byte 116 sane (shm_corrupt)
  // The spec the identity records (what footprint() re-checks): the generic fields are
  // filled in, the hook adds the kind's own.
  void (*recorded)(const identity&, channel_spec&);
  void (*validate)(const unsigned char* base, const identity&);
  void (*describe)(const std::byte* base, const identity&, channel_description&);
};

namespace detail {

// Optional hooks' defaults: a kind without a trailer, without byte 116 (which must then
// be 0), without expectations beyond the generic ones.
inline std::size_t no_trailer(const channel_spec&) { return 0; }
inline std::uint32_t no_region_word(const channel_spec&) { return 0; }
inline void no_expectations(const identity&, const channel_spec&) {}
inline void recorded_as_is(const identity&, channel_spec&) {}
inline void region_word_zero(const identity& id) {
  if (id.region_shift != 0) fail(errc::shm_corrupt, "reserved identity bytes are not zero");
}

// The spec field only broadcast has must be left automatic (0) by every other kind.
inline void require_no_slot_layout(const channel_spec& s) {
  if (s.slot_layout != broadcast::slot_layout{}) fail(errc::invalid_options, "only a broadcast spec has a slot layout");
}

// A spec for elements of T: the geometry and tag every typed kind records.
template <class T>
constexpr channel_spec element_spec(const channel_contract& c, std::uint64_t capacity) noexcept {
  static_assert(std::is_trivially_copyable_v<T>,
                "shared-memory channels carry bytes: T must be trivially copyable (no pointers to "
                "process-local memory, no owning members)");
  static_assert(alignof(T) <= 4096, "shared-memory elements may be aligned to at most a page");
  channel_spec s{};
  s.kind = c.kind;
  s.capacity = capacity;
  s.slot_size = static_cast<std::uint32_t>(sizeof(T));
  s.slot_align = static_cast<std::uint32_t>(alignof(T));
  s.type_tag = type_tag<T>::value;
  s.contract = &c;
  return s;
}

// The contract's table of a segment or spec: null when missing or of another kind.
constexpr const channel_contract* contract_of(const channel_spec& s) noexcept {
  return s.contract != nullptr && s.contract->kind == s.kind ? s.contract : nullptr;
}

// The segment's channel and trailer (the identity's offsets, proven inside the mapping).
template <class L, class Byte>
L* channel_at(Byte* base, const identity& id) noexcept {
  return std::launder(reinterpret_cast<L*>(base + id.channel_offset));
}
constexpr std::size_t trailer_offset(const identity& id) noexcept {
  return claims_offset(id.counters_count) + claims_bytes(id.endpoints);
}

}  // namespace detail

// The spec `s` (an spsc or mpsc spec) with a latency histogram; throws invalid_options for
// another kind, whose policy word means something else.
inline channel_spec with_latency(channel_spec s) {
  if (s.kind != channel_kind::spsc && s.kind != channel_kind::mpsc)
    detail::fail(errc::invalid_options, "only spsc and mpsc channels keep a latency histogram");
  s.policy |= latency_flag;
  return s;
}

// The table of contract C (a class with the static members listed at the top; the
// optional ones take the defaults above).
template <class C>
constexpr channel_contract make_contract() noexcept {
  channel_contract t{C::kind,       C::name,          C::endpoint_noun, C::claims,
                     &C::footprint, &C::align,        &C::slot_count,   &detail::no_trailer,
                     &detail::no_region_word,         &C::format,       &detail::no_expectations,
                     &detail::no_expectations,        &detail::region_word_zero,
                     &detail::recorded_as_is,         &C::validate,     &C::describe};
  if constexpr (requires { &C::trailer_bytes; }) t.trailer_bytes = &C::trailer_bytes;
  if constexpr (requires { &C::region_word; }) t.region_word = &C::region_word;
  if constexpr (requires { &C::expect_kind; }) t.expect_kind = &C::expect_kind;
  if constexpr (requires { &C::expect_geometry; }) t.expect_geometry = &C::expect_geometry;
  if constexpr (requires { &C::check_region_word; }) t.check_region_word = &C::check_region_word;
  if constexpr (requires { &C::recorded; }) t.recorded = &C::recorded;
  return t;
}

}  // namespace ringwire::shm
