// ringwire/shm/header.hpp -- the first 512 bytes of every shared-memory segment, whatever
// channel it carries.
//
// A segment is one mapping, the same bytes in every process that maps it, and nothing in
// it is a pointer: every position is an offset from the segment's first byte. It holds
//
//   [ header 512 B | counters: counters_count x 128 B | endpoint claims | kind's trailer | channel ]
//
// This header describes only the first part, the same for every kind: the identity (bytes
// 0..127: magic, layout version, channel kind, unlink policy, geometry, element type
// identity, region offsets, creator pid and start time, closed by a 64-bit FNV-1a
// checksum), written once by the creator before init_state = ready (release), and the
// live words (128..511: the init flag, the join count, the heartbeat, one claim word per
// channel side, the joiner table). docs/shm-layout.md gives it byte by byte.
//
// What the channel is -- its bytes, its rules, its validation, who may claim which word --
// is the kind's channel contract (shm/contract.hpp), provided by the kind's own folder.
// Nothing here knows a kind: the five built-in kinds have names in channel_kind for their
// callers, and a new kind takes a free number in its contract (channel_kind{6}).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

#include "ringwire/error.hpp"

namespace ringwire::shm {

static_assert(std::endian::native == std::endian::little,
              "the segment header is little-endian; a big-endian reader must byte-swap (docs/shm-layout.md)");

// ---- what a segment carries ------------------------------------------------------------

// Which channel contract a segment's channel follows (identity byte 16). An open set: the
// five kinds below are named for their callers; a kind's number is its contract's `kind`
// (shm/contract.hpp), and any number no contract claims is refused on open
// (shm_kind_mismatch). What `capacity`, `endpoints`, `policy` and `region_shift` mean is
// each kind's (its contract header says).
enum class channel_kind : std::uint32_t {
  spsc = 1,            // spsc/shm_contract.hpp
  mpsc = 2,            // mpsc/shm_contract.hpp
  broadcast = 3,       // broadcast/shm_contract.hpp
  byte_ring = 4,       // byte_ring/shm_contract.hpp
  byte_broadcast = 5,  // byte_broadcast/shm_contract.hpp
};

// Who removes a named segment's name (an anonymous segment has none: the kernel frees it
// when its last descriptor and mapping go, and its header says `never`).
enum class unlink_policy : std::uint32_t {
  never = 0,            // the name stays until segment::unlink(name)
  on_last_close = 1,    // the last process to leave removes it (the header's join count)
  on_creator_exit = 2,  // the creator removes it when it leaves (not after a crash)
};

namespace detail {

// 64-bit FNV-1a: the header checksum and the default type tag. Not a defence against a
// forger (validation re-checks every field anyway), a detector of torn or stray writes.
constexpr std::uint64_t fnv1a(const unsigned char* p, std::size_t n,
                              std::uint64_t h = 0xcbf29ce484222325ull) noexcept {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}
constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

// T's name as the compiler spells it in __PRETTY_FUNCTION__ ("[with T = x; ...]" for g++,
// "[T = x]" for clang++). Both spell plain class and fundamental types alike.
template <class T>
constexpr std::string_view type_name() noexcept {
  const std::string_view f = __PRETTY_FUNCTION__;
  const std::size_t at = f.find("T = ");
  if (at == std::string_view::npos) return f;
  const std::string_view rest = f.substr(at + 4);
  const std::size_t end = rest.find_first_of(";]");
  return rest.substr(0, end);
}

// A spelling of T that g++ and clang++ share: fundamental types by kind and width ("u64",
// "i32", "f64", "bool", "byte"; g++ says "long unsigned int" where clang++ says
// "unsigned long"), arrays as the element's tag mixed with the extent, everything else
// as __PRETTY_FUNCTION__ spells it.
template <class T>
constexpr std::uint64_t default_tag() noexcept {
  using U = std::remove_cv_t<T>;
  constexpr std::string_view ints[] = {"i8", "i16", "i32", "i64", "i128"};
  constexpr std::string_view uints[] = {"u8", "u16", "u32", "u64", "u128"};
  constexpr std::size_t width = std::bit_width(sizeof(U)) - 1;  // 1 2 4 8 16 bytes -> 0..4
  if constexpr (std::is_same_v<U, bool>) {
    return fnv1a("bool");
  } else if constexpr (std::is_integral_v<U> && sizeof(U) <= 16) {
    return fnv1a(std::is_signed_v<U> ? ints[width] : uints[width]);
  } else if constexpr (std::is_floating_point_v<U>) {
    return sizeof(U) == 4 ? fnv1a("f32") : sizeof(U) == 8 ? fnv1a("f64") : fnv1a("f80");
  } else if constexpr (std::is_same_v<U, std::byte>) {
    return fnv1a("byte");
  } else if constexpr (std::is_bounded_array_v<U>) {
    const std::uint64_t extent = std::extent_v<U>;
    std::uint64_t h = default_tag<std::remove_extent_t<U>>() ^ 0x5b5d;  // "[]"
    for (int i = 0; i < 8; ++i) h = (h ^ ((extent >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    return h;
  } else {
    return fnv1a(type_name<U>());
  }
}

}  // namespace detail

// The type tag recorded for T: by default a hash of T's name (detail::default_tag: the
// same for g++ and clang++ for fundamental types, arrays of them and plain classes;
// templates spelled with fundamental arguments may differ). Specialise it (a fixed
// number, a schema id) when a peer is built by another compiler or another language:
//   template <> struct ringwire::shm::type_tag<tick> { static constexpr std::uint64_t value = 0x7469636b01; };
template <class T>
struct type_tag {
  static constexpr std::uint64_t value = detail::default_tag<T>();
};

// True for an element type whose attaching party checks the recorded tag itself, at run
// time: the C API (bindings/c), whose callers name their C++ peer's tag as a number and
// move elements as opaque words. An attach of such a T compares the recorded size and
// alignment only (the C API creates segments with the caller's tag, never with T's).
template <class T>
struct caller_checks_tag : std::false_type {};

// ---- the header ------------------------------------------------------------------------

inline constexpr std::uint32_t layout_version = 6;
inline constexpr std::size_t header_size = 512;
inline constexpr std::size_t counter_stride = 128;      // each counter on its own pair of lines
inline constexpr std::uint32_t max_counters = 4096;
inline constexpr std::size_t segment_align = 4096;      // mmap returns page-aligned memory
inline constexpr std::size_t max_slot_align = 4096;
// No kind holds more messages (each kind's footprint checks its own, lower or equal, bound).
inline constexpr std::uint64_t max_capacity = std::uint64_t{1} << 48;
inline constexpr unsigned char magic[8] = {'R', 'I', 'N', 'G', 'W', 'I', 'R', 'E'};

inline constexpr std::uint32_t init_formatting = 0;  // zeroed or being formatted
inline constexpr std::uint32_t init_ready = 1;       // identity and channel fully written

// How the endpoints of a segment order their park checks (wait.hpp's Dekker pair), decided
// by the creator for every process that attaches:
//   fenced              a real seq_cst fence on both sides of every publish / park check
//   membarrier_global   asymmetric: a compiler barrier on the publishing side, the global
//                       expedited membarrier on the parking side; every attaching process
//                       must register for it (an attach that cannot is refused)
enum class fence_mode : std::uint32_t { fenced = 0, membarrier_global = 1 };

// Bytes 0..127: written once by the creator, before init_state = ready; checksummed.
struct identity {
  unsigned char magic[8];         //   0  "RINGWIRE"
  std::uint32_t version;          //   8  layout_version
  std::uint32_t header_bytes;     //  12  header_size (512)
  channel_kind kind;              //  16
  unlink_policy unlink;           //  20
  std::uint64_t segment_size;     //  24  bytes the creator sized the segment to
  std::uint64_t capacity;         //  32  messages the channel holds at most
  std::uint64_t slot_count;       //  40  slots per ring (the kind's slot_count of capacity)
  std::uint32_t slot_size;        //  48  sizeof(T)
  std::uint32_t slot_align;       //  52  alignof(T)
  std::uint64_t type_tag;         //  56
  std::uint64_t counters_offset;  //  64  header_size
  std::uint32_t counters_count;   //  72  counters of counter_stride bytes
  std::uint32_t fence_mode;       //  76  fence_mode (how endpoints order their park checks)
  std::uint64_t channel_offset;   //  80
  std::uint64_t channel_size;     //  88
  std::uint32_t creator_pid;      //  96
  std::uint32_t endpoints;        // 100  words in the claims block (what they claim: the kind's
                                  //      claims table); 0: none
  std::uint64_t creator_start;    // 104  creator's start time, clock ticks after boot
  std::uint32_t policy;           // 112  the kind's (its contract header says); 0 if none
  std::uint32_t region_shift;     // 116  the kind's region_word (its contract header); 0 if none
  std::uint64_t checksum;         // 120  fnv1a of bytes 0..119
};
// The byte map of docs/shm-layout.md, pinned.
static_assert(sizeof(identity) == 128 && offsetof(identity, version) == 8 && offsetof(identity, header_bytes) == 12 &&
              offsetof(identity, kind) == 16 && offsetof(identity, unlink) == 20 &&
              offsetof(identity, segment_size) == 24 && offsetof(identity, capacity) == 32 &&
              offsetof(identity, slot_count) == 40 && offsetof(identity, slot_size) == 48 &&
              offsetof(identity, slot_align) == 52 && offsetof(identity, type_tag) == 56 &&
              offsetof(identity, counters_offset) == 64 && offsetof(identity, counters_count) == 72 &&
              offsetof(identity, channel_offset) == 80 && offsetof(identity, channel_size) == 88 &&
              offsetof(identity, creator_pid) == 96 && offsetof(identity, endpoints) == 100 &&
              offsetof(identity, creator_start) == 104 && offsetof(identity, policy) == 112 &&
              offsetof(identity, region_shift) == 116 && offsetof(identity, checksum) == 120);
static_assert(std::is_trivially_copyable_v<identity>);

// Bytes 128..511: the words processes change after creation, then reserved space.
struct live_words {
  std::atomic<std::uint32_t> init_state;      // 128  init_formatting, then init_ready (release)
  std::atomic<std::uint32_t> joined;          // 132  processes holding a mapping
  std::atomic<std::uint32_t> stream_closed;   // 136  a kind's end of stream: 1 once closed (byte_ring
                                              //      many-to-one: close_writers())
  std::atomic<std::uint32_t> wait_family;     // 140  0 none yet, 1 parking (std_sync), 2 spinning
                                              //      (spin_sync): fixed by the first endpoint
  std::atomic<std::uint64_t> heartbeat;       // 144  CLOCK_MONOTONIC ns of the owner's last beat
  std::atomic<std::uint64_t> sender_claim;    // 152  the attached sender's process (claim_word), 0: none
  std::atomic<std::uint64_t> receiver_claim;  // 160  the attached receiver's process, 0: none
  std::atomic<std::uint32_t> joiners_unrecorded;  // 168  joins not in `joiners` (all 32 live at once)
  std::atomic<std::uint32_t> reaped;          // 172  endpoints found dead and reaped (shm/claim.hpp)
  unsigned char reserved[256 - 128 - 48];     // 176..255  zero
  std::atomic<std::uint64_t> joiners[32];     // 256  one claim_word per read-write join, 0: free
};

// A claim names a process across pid reuse: its pid in bits 0..30, bit 31 set while that
// process is reaping the side (not holding it), and the low 32 bits of the process's start
// time (field 22 of /proc/<pid>/stat, clock ticks since boot; 0 when unreadable) in bits
// 32..63. One 64-bit word, read and compared-and-swapped whole, so a reader never pairs one
// process's pid with another's start time.
inline constexpr std::uint64_t claim_reaping = 0x8000'0000u;
constexpr std::uint64_t claim_word(std::uint32_t pid, std::uint64_t start) noexcept {
  return (start & 0xffff'ffffu) << 32 | (pid & 0x7fff'ffffu);
}
constexpr std::uint32_t claim_pid(std::uint64_t claim) noexcept { return static_cast<std::uint32_t>(claim & 0x7fff'ffffu); }
constexpr std::uint32_t claim_start(std::uint64_t claim) noexcept { return static_cast<std::uint32_t>(claim >> 32); }

struct header {
  identity id;
  live_words live;
};
static_assert(sizeof(header) == header_size && offsetof(header, live) == 128);
static_assert(offsetof(live_words, joined) == 4 && offsetof(live_words, heartbeat) == 16 &&
              offsetof(live_words, sender_claim) == 24 && offsetof(live_words, receiver_claim) == 32 &&
              offsetof(live_words, joiners_unrecorded) == 40 && offsetof(live_words, joiners) == 128 &&
              offsetof(live_words, reaped) == 44);
static_assert(std::is_standard_layout_v<header>, "the header must be able to live in any memory");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free &&
                  sizeof(std::atomic<std::uint64_t>) == 8,
              "shared words must be plain lock-free words: another process reads them as bytes");

namespace detail {

constexpr std::size_t round_up(std::size_t n, std::size_t a) noexcept { return (n + a - 1) / a * a; }

inline std::uint64_t checksum(const identity& id) noexcept {
  return fnv1a(reinterpret_cast<const unsigned char*>(&id), offsetof(identity, checksum));
}

// The endpoint claims start right after the counters; one word per endpoint, the block
// padded to a multiple of counter_stride.
constexpr std::size_t claims_offset(std::uint32_t counters) noexcept {
  return header_size + std::size_t{counters} * counter_stride;
}
constexpr std::size_t claims_bytes(std::uint32_t endpoints) noexcept {
  return round_up(std::size_t{endpoints} * 8, counter_stride);
}

[[noreturn]] inline void fail(errc code, const std::string& what) { throw error(code, what); }
inline std::string num(std::uint64_t v) { return std::to_string(v); }

}  // namespace detail

// Endpoint claim i of a segment whose validated identity is `id` (i < id.endpoints).
inline std::atomic<std::uint64_t>& endpoint_claim(std::byte* base, const identity& id, std::uint32_t i) noexcept {
  return *std::launder(reinterpret_cast<std::atomic<std::uint64_t>*>(
      base + detail::claims_offset(id.counters_count) + std::size_t{i} * 8));
}

}  // namespace ringwire::shm
