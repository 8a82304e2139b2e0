// ringwire/shm/layout.hpp -- the bytes of a shared-memory segment, and how they are checked.
//
// A segment is one mapping, the same bytes in every process that maps it, and nothing in
// it is a pointer: every position is an offset from the segment's first byte. It holds
//
//   [ header 512 B | counters: counters_count x 128 B | endpoint claims | channel ]
//
// The channel is the very layout an in-process channel uses: spsc/layout.hpp,
// mpsc/layout.hpp (lanes), broadcast/layout.hpp, byte_ring/layout.hpp or
// byte_broadcast/layout.hpp. The endpoint claims are one 64-bit claim word per MPSC lane,
// broadcast registry entry, many-to-one byte-ring writer or byte-broadcast credit entry
// (claim_word below; none for spsc, whose two sides claim in the header), padded to a
// multiple of 128 bytes: who holds that lane or subscription, so a dead holder can be
// found and reaped.
//
// The header is the descriptor a reader in any language needs (docs/shm-layout.md gives
// it byte by byte). Its first 128 bytes are the identity: magic, layout version, channel
// kind, unlink policy, geometry, element type identity, region offsets, creator pid and
// start time, closed by a 64-bit FNV-1a checksum. The creator writes them once, then
// stores init_state = ready with release; nobody writes them again. Bytes 128..167 are
// live words (the init flag, the join count, the heartbeat, one claim word per channel
// side); 168 counts joins too many for the joiner table at 256..511 (who holds a mapping,
// one claim word per join, so the census can tell a count held up only by dead
// processes); the rest is reserved (zero).
//
// Lifecycle, after Firedancer's objects: segment_footprint(spec, counters) gives the bytes,
// segment_align the alignment (a page: mmap's), format_segment() writes an empty segment
// into zeroed memory, validate_segment() checks a mapping before anything else touches it
// (the join), and the OS layer (segment.hpp) maps, leaves and deletes.
//
// validate_segment() (shm/validate.hpp, included at the end) is the one gate between
// foreign bytes and ringwire's code. After validation the endpoints guard themselves
// against a live peer that rewrites the ring: a receiver never believes a tail more than
// the slot array ahead of its head (spsc/receiver.hpp, load_tail), a sender resolved the
// receiver's park word at attach. What nothing can protect against: a peer that shrinks a
// named segment's file under a live mapping (SIGBUS, as for every mmap-based IPC;
// anonymous segments are sealed against it, see segment.hpp).
//
// TL;DR (most users want segment.hpp / shm.hpp instead)
//   auto spec = ringwire::shm::spsc_spec<tick>(4096);
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
#include <string_view>
#include <type_traits>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/byte_ring/layout.hpp"
#include "ringwire/detail/footprint.hpp"
#include "ringwire/error.hpp"
#include "ringwire/mpsc/layout.hpp"
#include "ringwire/spsc/layout.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::shm {

static_assert(std::endian::native == std::endian::little,
              "the segment header is little-endian; a big-endian reader must byte-swap (docs/shm-layout.md)");

// ---- what a segment carries ------------------------------------------------------------

enum class channel_kind : std::uint32_t {
  spsc = 1,       // one spsc::layout
  mpsc = 2,       // one mpsc::layout: `endpoints` lanes of `capacity` each
  broadcast = 3,  // one broadcast::layout: `capacity` slots, `endpoints` registry entries
  byte_ring = 4,  // one byte_ring::layout of `capacity` bytes; policy: its ring_kind;
                  // many-to-one: `endpoints` writer claims
  byte_broadcast = 5,  // one byte_broadcast::layout: `capacity` metadata entries (depth),
                       // a payload region of 2^region_shift bytes, messages of at most
                       // `policy` bytes, `endpoints` credit entries (credited readers)
};

inline const char* to_string(channel_kind k) noexcept {
  switch (k) {
    case channel_kind::spsc: return "spsc";
    case channel_kind::mpsc: return "mpsc";
    case channel_kind::broadcast: return "broadcast";
    case channel_kind::byte_ring: return "byte_ring";
    case channel_kind::byte_broadcast: return "byte_broadcast";
  }
  return "unknown";
}

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

// What a segment holds, or what an opener expects it to hold.
struct channel_spec {
  channel_kind kind = channel_kind::spsc;
  std::uint64_t capacity = 0;  // create: >= 1; open: 0 accepts any (mpsc: per lane)
  std::uint32_t slot_size = 0;
  std::uint32_t slot_align = 0;
  std::uint64_t type_tag = 0;
  std::uint64_t start_index = 0;  // create only: the ring's first index (tests cross 2^64)
  // mpsc: lanes (most producers at once); broadcast: registry entries (most gated
  // subscribers at once); spsc: 0. Open: 0 accepts any.
  std::uint32_t endpoints = 0;
  // broadcast: the broadcast::policy (checked on open); byte_ring: its ring_kind;
  // byte_broadcast: max_message (open: 0 accepts any); others 0.
  std::uint32_t policy = 0;
  std::uint64_t evict_lag = 0;  // broadcast, policy evict, create only (0: capacity)
  // byte_broadcast: the payload region's bytes, a power of two (open: 0 accepts any);
  // others 0.
  std::uint64_t region_bytes = 0;
  // broadcast: the slot density (broadcast/layout.hpp); create: automatic is the
  // library's default, open: automatic accepts either. Others: automatic.
  broadcast::slot_layout slot_layout = broadcast::slot_layout::automatic;
};

// An SPSC channel of T. T must be trivially copyable: its bytes are all that cross.
template <class T>
constexpr channel_spec spsc_spec(std::uint64_t capacity = 0) noexcept {
  static_assert(std::is_trivially_copyable_v<T>,
                "shared-memory channels carry bytes: T must be trivially copyable (no pointers to "
                "process-local memory, no owning members)");
  static_assert(alignof(T) <= 4096, "shared-memory elements may be aligned to at most a page");
  return channel_spec{channel_kind::spsc, capacity, static_cast<std::uint32_t>(sizeof(T)),
                      static_cast<std::uint32_t>(alignof(T)), type_tag<T>::value, 0};
}

// An MPSC lanes channel of T: up to max_producers producers at once (each process or
// thread attaches a lane), lane_capacity messages per lane.
template <class T>
constexpr channel_spec mpsc_spec(std::uint64_t lane_capacity = 0, std::uint32_t max_producers = 0) noexcept {
  channel_spec s = spsc_spec<T>(lane_capacity);
  s.kind = channel_kind::mpsc;
  s.endpoints = max_producers;
  return s;
}

// A broadcast ring of T (one publisher): `capacity` messages, up to max_subscribers
// registered subscribers at once, the policy for a full ring, its slot density
// (broadcast/layout.hpp).
template <class T>
constexpr channel_spec broadcast_spec(std::uint64_t capacity = 0, std::uint32_t max_subscribers = 0,
                                      broadcast::policy pol = broadcast::policy::lossy, std::uint64_t evict_lag = 0,
                                      broadcast::slot_layout slots = broadcast::slot_layout::automatic) noexcept {
  channel_spec s = spsc_spec<T>(capacity);
  s.kind = channel_kind::broadcast;
  s.endpoints = max_subscribers;
  s.policy = static_cast<std::uint32_t>(pol);
  s.evict_lag = evict_lag;
  s.slot_layout = slots;
  return s;
}

// A byte ring (byte_ring/layout.hpp) of `capacity` data bytes (a power of two, 64 .. 2^30):
// one-to-one, or many-to-one with up to max_writers writer processes attached at once.
// Records carry their own type ids, so the tag names the ring format, not a C++ type.
constexpr channel_spec byte_ring_spec(std::uint64_t capacity = 0,
                                      byte_ring::ring_kind kind = byte_ring::ring_kind::one_to_one,
                                      std::uint32_t max_writers = 0) noexcept {
  return channel_spec{channel_kind::byte_ring, capacity, 8, 8, detail::fnv1a("ringwire::byte_ring records v1"), 0,
                      kind == byte_ring::ring_kind::many_to_one ? max_writers : 0, static_cast<std::uint32_t>(kind), 0};
}

// A byte broadcast ring (byte_broadcast/layout.hpp): g.depth metadata entries, a payload
// region of g.region_bytes, messages of at most g.max_message bytes, up to g.max_credited
// credited (lossless) readers at once, each holding one claim word. Recorded in the
// identity as capacity = depth, policy = max_message, region_shift = log2(region_bytes),
// endpoints = max_credited; the 8-byte payload word is the "slot" (8 / 8), and the tag
// names the ring format. Open: a zero depth, region, max_message or max_credited accepts
// any. segment::create checks the geometry; max_message above 2^32 - 1 (which no ring
// takes) throws invalid_options here already.
constexpr channel_spec byte_broadcast_spec(const byte_broadcast::geometry& g) {
  if (g.max_message > 0xffff'ffffu)
    throw error(errc::invalid_options, "byte broadcast max_message " + std::to_string(g.max_message) +
                                           " does not fit the segment header (at most 2^32 - 1)");
  return channel_spec{channel_kind::byte_broadcast,
                      g.depth,
                      8,
                      8,
                      detail::fnv1a("ringwire::byte_broadcast v1"),
                      0,
                      g.max_credited,
                      static_cast<std::uint32_t>(g.max_message),
                      0,
                      g.region_bytes};
}

// ---- the header ------------------------------------------------------------------------

inline constexpr std::uint32_t layout_version = 5;
inline constexpr std::size_t header_size = 512;
inline constexpr std::size_t counter_stride = 128;      // each counter on its own pair of lines
inline constexpr std::uint32_t max_counters = 4096;
inline constexpr std::size_t segment_align = 4096;      // mmap returns page-aligned memory
inline constexpr std::size_t max_slot_align = 4096;
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
  std::uint64_t slot_count;       //  40  slots per ring: bit_ceil(capacity); broadcast: capacity
  std::uint32_t slot_size;        //  48  sizeof(T)
  std::uint32_t slot_align;       //  52  alignof(T)
  std::uint64_t type_tag;         //  56
  std::uint64_t counters_offset;  //  64  header_size
  std::uint32_t counters_count;   //  72  counters of counter_stride bytes
  std::uint32_t fence_mode;       //  76  fence_mode (how endpoints order their park checks)
  std::uint64_t channel_offset;   //  80
  std::uint64_t channel_size;     //  88
  std::uint32_t creator_pid;      //  96
  std::uint32_t endpoints;        // 100  mpsc: lanes; broadcast: registry entries; byte_broadcast:
                                  //      credit entries; byte_ring m-to-1: writers; spsc: 0
  std::uint64_t creator_start;    // 104  creator's start time, clock ticks after boot
  std::uint32_t policy;           // 112  broadcast: policy; byte_ring: ring_kind; byte_broadcast: max_message
  std::uint32_t region_shift;     // 116  byte_broadcast: log2(region_bytes); broadcast: its slot
                                  //      layout, resolved (1 packed, 2 line); others 0
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
  std::atomic<std::uint32_t> stream_closed;   // 136  byte_ring many-to-one: 1 once close_writers() ran
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

using spsc_ring = ringwire::spsc::layout<std_sync>;
using mpsc_lanes = ringwire::mpsc::layout<std_sync>;
using broadcast_ring = ringwire::broadcast::layout<std_sync>;
using byte_ring_layout = ringwire::byte_ring::layout<std_sync>;
using byte_broadcast_layout = ringwire::byte_broadcast::layout<std_sync>;
static_assert(offsetof(spsc_ring, producer) == 128 && offsetof(spsc_ring, consumer) == 256 &&
              offsetof(spsc_ring, producer_stats) == 384 && offsetof(spsc_ring, consumer_stats) == 512 &&
              sizeof(spsc_ring) == 640 && offsetof(spsc_ring::geometry_block, receiver_park_offset) == 40 &&
              offsetof(spsc_ring::consumer_block, sender_closed) == 12,
              "spsc/layout.hpp changed: update docs/shm-layout.md and the layout version");
static_assert(offsetof(mpsc_lanes, receiver) == 128 && offsetof(mpsc_lanes, registry) == 256 &&
                  sizeof(mpsc_lanes) == 384 && sizeof(mpsc_lanes::descriptor) == 8 &&
                  offsetof(mpsc_lanes::geometry_block, slot_size) == 48,
              "mpsc/layout.hpp changed: update docs/shm-layout.md and the layout version");
static_assert(offsetof(broadcast_ring, publisher) == 128 && offsetof(broadcast_ring, control) == 256 &&
                  offsetof(broadcast_ring, joiners) == 384 && sizeof(broadcast_ring) == 512 &&
                  sizeof(broadcast_ring::entry) == 128 && offsetof(broadcast_ring::geometry_block, payload_size) == 40,
              "broadcast/layout.hpp changed: update docs/shm-layout.md and the layout version");
static_assert(offsetof(byte_broadcast_layout, head) == 128 && offsetof(byte_broadcast_layout, dirty) == 256 &&
                  offsetof(byte_broadcast_layout, control) == 384 && sizeof(byte_broadcast_layout) == 512 &&
                  sizeof(byte_broadcast_layout::credit_entry) == 128 &&
                  sizeof(byte_broadcast_layout::meta_entry) == 64 &&
                  offsetof(byte_broadcast_layout::header_block, max_credited) == 72,
              "byte_broadcast/layout.hpp changed: update docs/shm-layout.md and the layout version");

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
// A many-to-one byte ring's writer spans follow its claims: spans_per_writer per writer
// claim, one per writer handle of that process (a thread's copy), each on its own cache
// line (a handle stores its span before every claim of room; see writer_span below and
// shm/byte_ring.hpp). Other kinds have none.
inline constexpr std::uint32_t spans_per_writer = 32;
inline constexpr std::size_t writer_span_stride = 64;
constexpr std::size_t writer_spans_bytes(channel_kind kind, std::uint32_t endpoints) noexcept {
  return kind == channel_kind::byte_ring ? std::size_t{endpoints} * spans_per_writer * writer_span_stride : 0;
}

// The alignment a kind's channel needs (every kind's first block is a 128-byte hot block).
constexpr std::size_t channel_align(channel_kind kind, std::size_t slot_align) noexcept {
  return kind == channel_kind::broadcast || kind == channel_kind::byte_ring || kind == channel_kind::byte_broadcast
             ? ringwire::detail::hot_block
             : spsc_ring::align(slot_align);
}

// Where the channel starts.
constexpr std::size_t channel_offset(channel_kind kind, std::uint32_t counters, std::uint32_t endpoints,
                                     std::size_t slot_align) noexcept {
  return round_up(claims_offset(counters) + claims_bytes(endpoints) + writer_spans_bytes(kind, endpoints),
                  channel_align(kind, slot_align));
}

// Slots per ring, as the identity records them.
constexpr std::uint64_t slot_count(channel_kind kind, std::uint64_t capacity) noexcept {
  return kind == channel_kind::broadcast || kind == channel_kind::byte_ring || kind == channel_kind::byte_broadcast
             ? capacity
             : std::bit_ceil(capacity);
}

[[noreturn]] inline void fail(errc code, const std::string& what) { throw error(code, what); }

// A byte broadcast spec's ring geometry (byte_broadcast_spec's mapping, reversed).
constexpr byte_broadcast::geometry byte_broadcast_geometry(const channel_spec& s) noexcept {
  return byte_broadcast::geometry{s.capacity, s.region_bytes, s.policy, s.endpoints};
}

inline std::string num(std::uint64_t v) { return std::to_string(v); }

// The channel's bytes; throws for a spec that cannot exist (each kind's own footprint
// checks its capacity and endpoint count).
inline std::size_t channel_footprint(const channel_spec& s) {
  if (s.slot_size == 0 || s.slot_align == 0 || !std::has_single_bit(s.slot_align) || s.slot_align > max_slot_align ||
      s.slot_size % s.slot_align != 0)
    fail(errc::invalid_options, "slot size " + num(s.slot_size) + " / alignment " + num(s.slot_align) +
                                    " is not a C++ object's geometry");
  if (s.kind != channel_kind::broadcast && s.slot_layout != broadcast::slot_layout::automatic)
    fail(errc::invalid_options, "only a broadcast spec has a slot layout");
  switch (s.kind) {
    case channel_kind::spsc:
      if (s.endpoints != 0 || s.policy != 0) fail(errc::invalid_options, "an spsc spec has no endpoints or policy");
      return spsc_ring::footprint(s.capacity, s.slot_size, s.slot_align);
    case channel_kind::mpsc:
      if (s.policy != 0) fail(errc::invalid_options, "an mpsc spec has no policy");
      return mpsc_lanes::footprint(s.capacity, s.endpoints, s.slot_size, s.slot_align);
    case channel_kind::broadcast:
      if (s.policy > static_cast<std::uint32_t>(broadcast::policy::evict))
        fail(errc::invalid_options, "broadcast policy " + num(s.policy) + " does not exist");
      if (s.slot_size > std::uint32_t{1} << 20)
        fail(errc::invalid_options, "broadcast elements of " + num(s.slot_size) + " bytes: at most 1 MiB");
      if (s.policy == static_cast<std::uint32_t>(broadcast::policy::evict) && s.capacity >= 2 &&
          s.evict_lag >= s.capacity)
        fail(errc::invalid_options, "evict_lag " + num(s.evict_lag) + " must be below the capacity " + num(s.capacity));
      return broadcast_ring::footprint(s.capacity, s.slot_size, s.endpoints, s.slot_layout);
    case channel_kind::byte_ring:
      if (s.slot_size != 8 || s.slot_align != 8) fail(errc::invalid_options, "a byte ring's records are 8-byte aligned");
      if (s.policy == static_cast<std::uint32_t>(byte_ring::ring_kind::one_to_one)) {
        if (s.endpoints != 0) fail(errc::invalid_options, "a one-to-one byte ring has no writer claims");
      } else if (s.policy == static_cast<std::uint32_t>(byte_ring::ring_kind::many_to_one)) {
        if (s.endpoints == 0 || s.endpoints > 4096)
          fail(errc::invalid_options, "a many-to-one byte ring takes 1 to 4096 writers, not " + num(s.endpoints));
      } else {
        fail(errc::invalid_options, "byte ring kind " + num(s.policy) + " does not exist");
      }
      return byte_ring_layout::footprint(s.capacity);
    case channel_kind::byte_broadcast: {
      if (s.slot_size != 8 || s.slot_align != 8)
        fail(errc::invalid_options, "a byte broadcast ring's payload words are 8 bytes, 8-aligned");
      if (s.policy == 0) fail(errc::invalid_options, "a byte broadcast ring needs max_message >= 1");
      // footprint() checks the rest (depth, region, max_message <= region / 2, credits).
      return byte_broadcast_layout::footprint(byte_broadcast_geometry(s));
    }
  }
  fail(errc::invalid_options, "channel kind " + num(static_cast<std::uint32_t>(s.kind)) + " does not exist");
}

}  // namespace detail

// Bytes a segment for `spec` with `counters` user counters needs. Throws ringwire::error
// (invalid_capacity, capacity_too_large, invalid_options) for a spec that cannot exist.
inline std::size_t segment_footprint(const channel_spec& spec, std::uint32_t counters) {
  if (counters > max_counters)
    detail::fail(errc::invalid_options, "at most " + detail::num(max_counters) + " counters per segment");
  const std::size_t ring = detail::channel_footprint(spec);
  const std::size_t at = detail::channel_offset(spec.kind, counters, spec.endpoints, spec.slot_align);
  if (ring > std::numeric_limits<std::size_t>::max() - at)
    detail::fail(errc::capacity_too_large, "capacity " + detail::num(spec.capacity) + " overflows the address space");
  ringwire::detail::check_footprint(at + ring, "segment of capacity " + detail::num(spec.capacity));
  return at + ring;
}

// Endpoint claim i of a segment whose validated identity is `id` (i < id.endpoints).
inline std::atomic<std::uint64_t>& endpoint_claim(std::byte* base, const identity& id, std::uint32_t i) noexcept {
  return *std::launder(reinterpret_cast<std::atomic<std::uint64_t>*>(
      base + detail::claims_offset(id.counters_count) + std::size_t{i} * 8));
}

// Span k of the writer process holding claim i of a many-to-one byte ring: the room the
// handle using it is about to claim, [start, end) of byte positions (two words), empty when
// end <= start (as a signed difference). Only for a byte ring segment (writer_spans_bytes),
// i < id.endpoints, k < spans_per_writer.
inline std::atomic<std::uint64_t>* byte_ring_writer_span(std::byte* base, const identity& id, std::uint32_t i,
                                                         std::uint32_t k) noexcept {
  return std::launder(reinterpret_cast<std::atomic<std::uint64_t>*>(
      base + detail::claims_offset(id.counters_count) + detail::claims_bytes(id.endpoints) +
      (std::size_t{i} * detail::spans_per_writer + k) * detail::writer_span_stride));
}

// Formats zeroed memory `mem` (segment_footprint() bytes at least, `bytes` in all, aligned
// to segment_align) as an empty segment: identity, counters, claims, the channel, then
// init_state = ready with release, so an opener that acquires ready sees all of it.
// Precondition: nobody else reads the memory as a segment yet (an opener that does sees
// init_formatting and reports shm_initialising). Returns the header.
inline header* format_segment(void* mem, std::size_t bytes, const channel_spec& spec, unlink_policy unlink,
                              std::uint32_t counters, std::uint32_t creator_pid = 0,
                              std::uint64_t creator_start = 0, fence_mode fences = fence_mode::fenced) {
  const std::size_t need = segment_footprint(spec, counters);
  if (bytes < need) detail::fail(errc::shm_truncated, "formatting needs " + detail::num(need) + " bytes");
  auto* h = ::new (mem) header{};
  identity id{};
  std::memcpy(id.magic, magic, sizeof magic);
  id.version = layout_version;
  id.header_bytes = header_size;
  id.kind = spec.kind;
  id.unlink = unlink;
  id.segment_size = bytes;
  id.capacity = spec.capacity;
  id.slot_count = detail::slot_count(spec.kind, spec.capacity);
  id.slot_size = spec.slot_size;
  id.slot_align = spec.slot_align;
  id.type_tag = spec.type_tag;
  id.counters_offset = header_size;
  id.counters_count = counters;
  id.endpoints = spec.endpoints;
  id.policy = spec.policy;
  // footprint() above proved region_bytes a power of two, and the slot layout one that exists.
  if (spec.kind == channel_kind::byte_broadcast)
    id.region_shift = static_cast<std::uint32_t>(std::countr_zero(spec.region_bytes));
  if (spec.kind == channel_kind::broadcast) id.region_shift = static_cast<std::uint32_t>(broadcast::resolve(spec.slot_layout));
  id.channel_offset = detail::channel_offset(spec.kind, counters, spec.endpoints, spec.slot_align);
  id.channel_size = detail::channel_footprint(spec);
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
  if (spec.kind == channel_kind::byte_ring)
    for (std::size_t k = 0; k < std::size_t{spec.endpoints} * detail::spans_per_writer; ++k)
      for (std::size_t w = 0; w < 2; ++w)
        ::new (base + detail::claims_offset(counters) + detail::claims_bytes(spec.endpoints) +
               k * detail::writer_span_stride + w * 8) std::atomic<std::uint64_t>(0);
  std::byte* chan = base + id.channel_offset;
  switch (spec.kind) {
    case channel_kind::spsc:
      spsc_ring::format(chan, spec.capacity, spec.slot_size, spec.slot_align, spec.start_index);
      break;
    case channel_kind::mpsc:
      // One registrar, held by the segment itself: producer processes come and go, so the
      // stream ends only when someone says so (shm::mpsc::close_producers).
      mpsc_lanes::format(chan, spec.capacity, spec.endpoints, spec.slot_size, spec.slot_align, spec.start_index,
                         /*registrars=*/1);
      break;
    case channel_kind::broadcast:
      // evict_lag 0: the largest lag that still evicts before the ring is full.
      broadcast_ring::format(chan, spec.capacity, spec.slot_size, spec.endpoints,
                             static_cast<broadcast::policy>(spec.policy),
                             spec.evict_lag != 0 ? spec.evict_lag : spec.capacity - 1, spec.slot_layout,
                             /*multi_producer=*/false, /*zeroed=*/true);  // the precondition above: slots untouched
      break;
    case channel_kind::byte_ring:
      // Its one open writer: one-to-one, the writer's (attach re-opens it); many-to-one,
      // the segment's own, dropped by close_writers (shm/byte_ring.hpp).
      byte_ring_layout::format(chan, id.channel_size, spec.capacity, static_cast<byte_ring::ring_kind>(spec.policy),
                               /*zeroed=*/true);  // the precondition above: data untouched
      break;
    case channel_kind::byte_broadcast:
      // Empty, open (closed = 0), every credit entry free; the claims block guards them.
      byte_broadcast_layout::format(chan, detail::byte_broadcast_geometry(spec));
      break;
  }
  // relaxed: ordered before the release below like everything else formatted here. The
  // creator's join is the first joiner entry (segment.hpp leaves it).
  h->live.joined.store(1, std::memory_order_relaxed);
  h->live.joiners[0].store(claim_word(creator_pid, creator_start), std::memory_order_relaxed);
  // release: the identity, counters and ring happen-before an opener's acquire of ready.
  h->live.init_state.store(init_ready, std::memory_order_release);
  return h;
}

}  // namespace ringwire::shm

// validate_segment() lives beside: the gate between foreign bytes and ringwire's code.
#include "ringwire/shm/validate.hpp"
