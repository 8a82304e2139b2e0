// ringwire/byte_ring/layout.hpp -- a lossless ring of variable-length typed records, as plain
// bytes: no pointers, only offsets, so it can live in a heap block or a shared-memory segment
// mapped at different addresses in several processes (Agrona's one-to-one and many-to-one
// ring buffers, restated for ringwire's layout / storage / endpoint architecture).
//
//  offset  block (each 128 bytes: its own pair of cache lines)
//  ------  ---------------------------------------------------------------------------------
//     0    geometry  magic u64 | version u32 | kind u32 | capacity u64 | max_payload u64 |
//                    data_offset u64            written once by format(), checked by attach()
//   128    producer  tail u64 | reader_park u32 | reader_closed u32
//                    tail: the writer(s) on every publish (one-to-one: store; many-to-one: CAS);
//                    reader_park, reader_closed: the reader, rarely
//   192              full_events u64 | writer_parks u64 | reader_wakes u64   (the block's
//                    second line): the writers' counters, options::metrics only
//   256    consumer  head u64 | writer_park u32 | writers u32 | releasing u64
//                    head: the reader on every release; writer_park: waiting writers;
//                    writers: open writer handles (0 = every writer gone: closed once drained);
//                    releasing: many-to-one, the head a release is zeroing up to
//   320              empty_events u64 | reader_parks u64 | writer_wakes u64   (the block's
//                    second line): the reader's counters, options::metrics only
//   384    data      `capacity` bytes (a power of two, 64 .. 2^30), records 8-byte aligned
//
// A record at data offset p (p % 8 == 0):
//
//   p+0   int32  length   header + payload bytes, >= 8 when committed (not rounded)
//   p+4   int32  type     >= 1 user types; -1 padding; -2 fragment; 0 and other negatives
//                         reserved
//   p+8   payload (length - 8 bytes), then zero to 7 bytes of alignment slack
//
// Fragment records (type -2, fragment_type) carry one piece of a message too large for one
// record (writer's write_fragmented, fragment.hpp's reassembler). Their payload starts with
// an 8-byte little-endian fragment header, then the piece's bytes:
//
//   p+8   int32  user type   >= 1: the type of the whole message
//   p+12  uint16 flags       1 som (first piece), 2 eom (last piece; a one-piece message has
//                            both), 4 abort (the writer gave up: drop the open message; no
//                            bytes follow); other bits reserved (zero)
//   p+14  uint16 stream      the writer's stream id: fragments of one message share it; on a
//                            many-to-one ring writers fragmenting at once use distinct ids
//   p+16  the piece (length - 16 bytes)
//
// The reader only checks that a fragment record's payload holds the 8-byte header (shorter:
// corrupt) and hands it out like any record (type == fragment_type); the user type, flags and
// the sequence are the reassembler's to check. Fragments of one stream are in ring order;
// other records may lie between them.
//
// The 8 header bytes are one little-endian u64 word (length | type << 32), always read and
// written whole through Sync::word (std::atomic_ref): one atomic access commits a record.
// A record occupies align8(length) bytes and never crosses the end of the data region; when
// the next record does not fit before the end, a padding record (type -1) fills the rest and
// the record starts at offset 0. The largest payload is max_payload = capacity/2 - 8: a
// record of at most capacity/2 bytes plus its padding always fits in an empty ring, so a
// writer waiting for room always gets it eventually.
//
// Indices. head and tail are free-running u64 byte counters (position = index & (capacity-1)),
// always multiples of 8, 0 <= tail - head <= capacity.
//
// One-to-one protocol (kind 1). The writer owns [tail, head + capacity), the reader
// [head, tail). The writer writes header (relaxed word store) and payload (plain bytes), then
// stores tail with release; the reader's acquire load of tail makes them visible. The reader
// stores head with release after its last read of a record; the writer's acquire load of head
// orders that read before the writer's overwrite. Each side caches the other's index.
//
// Many-to-one protocol (kind 2). A writer claims [t, t+n) by CAS on tail (with a padding
// record in the same claim when it wraps), stores -length as the header ("in progress",
// relaxed: the reader never acts on it beyond "not ready"), writes the payload, and commits
// by storing the header with release (abort: a padding header, also with release). The reader
// consumes a record only when its header's length is positive (acquire load: pairs with that
// release). Because writers commit out of order and a header position in this lap may have
// been payload in the last, the reader zeroes every byte it consumed before it releases
// head, so an unclaimed or claimed-but-unwritten header always reads 0 (format() zeroes the
// data region). A writer's acquire load of head orders the zeroing before its claim's writes.
// try_write_fragmented claims a whole message's fragment records (and their wrap padding) in
// one CAS, stores every padding header (release) and every "-length" header at once, then
// fills and commits the records in order, each exactly like a single claim.
//
// The one-to-one reader zeroes what it consumed too (as Agrona's one-to-one ring does),
// though its protocol never reads a stale header: measured with two pinned threads
// (docs/benchmarks.md, "Byte rings") it makes one-to-one throughput several times higher
// at 256 B - 1 KiB and no lower elsewhere. The likely cause: the writer overwrites lines
// the reader modified (one owner) rather than lines the reader still shares, and the
// memset, done once per released batch, keeps the reader from chasing the writer record
// by record, the regime in which every record's lines cross between the cores twice.
//
// Counters (byte_ring/stats.hpp). With options::metrics an endpoint counts its slow-path
// events in the second line of its own block: a writer's reserve that found no room after
// re-reading head (full_events), its futex sleeps (writer_parks) and its wakes of a parked
// reader (reader_wakes); the reader's read that found nothing after re-reading tail
// (empty_events), its sleeps (reader_parks) and its wakes of parked writers (writer_wakes).
// Relaxed, never read by the protocol: the one-to-one writer and the reader are their
// counters' only writers (a relaxed load and store, metrics.hpp's bump); many-to-one
// writers share theirs (a relaxed fetch_add). Metrics off, nothing is written there.
//
// Hostile memory. The reader trusts nothing it reads from the ring: a header with a length
// below 8, a record crossing the end of the region or the tail, a reserved type, a payload
// above max_payload, a fragment record with less than 8 payload bytes or a tail more than capacity ahead of head makes the reader
// sticky-corrupt (errc::ring_corrupt) instead of reading out of bounds. attach() validates
// the geometry block before any endpoint is made over foreign memory.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"
#include "ringwire/result.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::byte_ring {

// Which protocol a layout runs; recorded by format() and checked by attach().
enum class ring_kind : std::uint32_t { one_to_one = 1, many_to_one = 2 };

inline constexpr std::int32_t padding_type = -1;   // fills the wrap, a partial commit, an abort
inline constexpr std::int32_t fragment_type = -2;  // one piece of a fragmented message
inline constexpr std::size_t header_bytes = 8;     // int32 length + int32 type
inline constexpr std::size_t fragment_header_bytes = 8;  // int32 user type + u16 flags + u16 stream
inline constexpr std::uint16_t frag_som = 1;    // the message's first fragment
inline constexpr std::uint16_t frag_eom = 2;    // its last fragment
inline constexpr std::uint16_t frag_abort = 4;  // its writer gave up: drop what is open
inline constexpr std::uint16_t frag_known_flags = frag_som | frag_eom | frag_abort;
inline constexpr std::size_t record_align = 8;
inline constexpr std::uint64_t min_capacity = 64;
inline constexpr std::uint64_t max_capacity = std::uint64_t{1} << 30;  // lengths fit int32

namespace detail {

constexpr std::uint64_t align8(std::uint64_t n) noexcept { return (n + 7) & ~std::uint64_t{7}; }

constexpr std::uint64_t pack(std::int32_t length, std::int32_t type) noexcept {
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(length)) |
         (static_cast<std::uint64_t>(static_cast<std::uint32_t>(type)) << 32);
}
constexpr std::int32_t length_of(std::uint64_t h) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(h));
}
constexpr std::int32_t type_of(std::uint64_t h) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(h >> 32));
}

// A fragment record's own header (the first 8 payload bytes), little-endian whatever the host.
struct fragment_header {
  std::int32_t type;
  std::uint16_t flags;
  std::uint16_t stream;
};
inline void put_fragment_header(std::byte* p, const fragment_header& f) noexcept {
  const auto t = static_cast<std::uint32_t>(f.type);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>((t >> (8 * i)) & 0xff);
  p[4] = static_cast<std::byte>(f.flags & 0xff);
  p[5] = static_cast<std::byte>(f.flags >> 8);
  p[6] = static_cast<std::byte>(f.stream & 0xff);
  p[7] = static_cast<std::byte>(f.stream >> 8);
}
inline fragment_header get_fragment_header(const std::byte* p) noexcept {
  std::uint32_t t = 0;
  for (int i = 0; i < 4; ++i) t |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return {static_cast<std::int32_t>(t),
          static_cast<std::uint16_t>(static_cast<unsigned>(p[4]) | (static_cast<unsigned>(p[5]) << 8)),
          static_cast<std::uint16_t>(static_cast<unsigned>(p[6]) | (static_cast<unsigned>(p[7]) << 8))};
}

// The header word at data offset `pos` (8-aligned), for Sync::word.
inline std::uint64_t& header_at(std::byte* data, std::uint64_t pos) noexcept {
  return *std::launder(reinterpret_cast<std::uint64_t*>(data + pos));
}

// Zeroes n bytes (a multiple of 8) of consumed records. With std::atomic_ref words (std_sync)
// a memset: the bytes are the reader's until its release of head. A model policy (Relacy)
// keeps header words in its own cells, so there every word is stored through Sync::word.
template <class Sync>
void clear_words(std::byte* p, std::uint64_t n) noexcept {
  using ref_t = decltype(Sync::word(std::declval<std::uint64_t&>()));
  if constexpr (std::is_same_v<ref_t, std::atomic_ref<std::uint64_t>>) {
    std::memset(p, 0, static_cast<std::size_t>(n));
  } else {
    for (std::uint64_t i = 0; i < n; i += 8) {
      // relaxed: published to the writers by the reader's release store of head.
      Sync::word(header_at(p, i)).store(0, std::memory_order_relaxed);
    }
  }
}

// Copies a payload into the ring: every copying write (try_write, write, fragments) goes
// through here. From 2 KiB up the copy is made of 256-byte blocks (inline vector moves, or
// a small memcpy each) instead of one memcpy, because glibc turns a single copy of 4 KiB
// and up (2 KiB without AVX, 8 KiB with 512-bit vectors) into `rep movsb`, and `rep movsb`
// into ring lines that the reading core holds ran at less than half the speed of vector
// moves on the AMD Zen 5 of docs/benchmarks.md (one-to-one 4 KiB: 2.3 against 5.1
// Mmsg/s; the same copy within one core's cache is as fast either way). Below 2 KiB one
// memcpy is as fast as blocks or faster.
inline void copy_payload(std::byte* dst, const std::byte* src, std::size_t n) noexcept {
  constexpr std::size_t block = 256;
  if (n >= 2048) {
    do {
      std::memcpy(dst, src, block);
      dst += block;
      src += block;
      n -= block;
    } while (n >= block);
  }
  std::memcpy(dst, src, n);
}

}  // namespace detail

// For code that reads fragment records itself (a reader without a reassembler).
using detail::fragment_header;
using detail::get_fragment_header;
using detail::put_fragment_header;

template <class Sync = std_sync>
struct layout {
  template <class V>
  using atomic = typename Sync::template atomic<V>;

  static constexpr std::uint64_t magic_value = 0x31474e4952455459ull;  // "YTERING1" little-endian
  static constexpr std::uint32_t version_value = 1;

  struct alignas(ringwire::detail::hot_block) geometry_block {
    std::uint64_t magic;
    std::uint32_t version;
    std::uint32_t kind;
    std::uint64_t capacity;
    std::uint64_t max_payload;
    std::uint64_t data_offset;
  };
  struct alignas(ringwire::detail::hot_block) producer_block {
    atomic<std::uint64_t> tail;
    atomic<std::uint32_t> reader_park;
    atomic<std::uint32_t> reader_closed;
    // The writers' counters (options::metrics; "Counters" above), on the second line, away
    // from the tail the reader polls.
    alignas(ringwire::detail::cache_line) atomic<std::uint64_t> full_events;
    atomic<std::uint64_t> writer_parks;
    atomic<std::uint64_t> reader_wakes;
  };
  struct alignas(ringwire::detail::hot_block) consumer_block {
    atomic<std::uint64_t> head;
    atomic<std::uint32_t> writer_park;
    atomic<std::uint32_t> writers;
    // Many-to-one: the head a release is zeroing up to, stored before the zeroing, so a
    // reader killed in the middle of it leaves its successor the rest to finish
    // (reader::finish_interrupted_release); equal to head when no release was interrupted.
    atomic<std::uint64_t> releasing;
    // The reader's counters (options::metrics; "Counters" above), on the second line.
    alignas(ringwire::detail::cache_line) atomic<std::uint64_t> empty_events;
    atomic<std::uint64_t> reader_parks;
    atomic<std::uint64_t> writer_wakes;
  };

  geometry_block geometry;
  producer_block producer;
  consumer_block consumer;

  static constexpr std::size_t data_offset = 384;
  static constexpr std::size_t alignment = ringwire::detail::hot_block;  // of the memory

  // Largest payload a ring of this capacity takes.
  static constexpr std::uint64_t max_payload_for(std::uint64_t capacity) noexcept {
    return capacity / 2 - header_bytes;
  }

  // Bytes format() needs. Throws ringwire::error: invalid_capacity (not a power of two, or
  // below 64), capacity_too_large (above 2^30).
  static std::size_t footprint(std::uint64_t capacity) {
    if (capacity < min_capacity || !std::has_single_bit(capacity))
      throw error(errc::invalid_capacity,
                  "byte ring capacity " + std::to_string(capacity) + " is not a power of two >= 64");
    if (capacity > max_capacity)
      throw error(errc::capacity_too_large, "byte ring capacity " + std::to_string(capacity) + " exceeds 2^30");
    return data_offset + static_cast<std::size_t>(capacity);
  }

  // Formats `mem` (`bytes` long, aligned to `alignment`) as an empty ring: zeroed data,
  // indices at 0, one open writer (the first writer endpoint made over it adopts that count;
  // further many-to-one writers are copies of it). Throws ringwire::error for a bad capacity
  // or memory that is too small or misaligned.
  // `zeroed`: the memory is known to read as zeros (a fresh shared-memory segment): the data
  // region is left untouched, so its pages are not faulted in at creation.
  static layout* format(void* mem, std::size_t bytes, std::uint64_t capacity, ring_kind kind, bool zeroed = false) {
    static_assert(sizeof(layout) == data_offset, "the three blocks (any Sync's atomics) end where the data begins");
    const std::size_t need = footprint(capacity);
    if (bytes < need)
      throw error(errc::invalid_capacity, "byte ring needs " + std::to_string(need) + " bytes, got " +
                                              std::to_string(bytes));
    if (reinterpret_cast<std::uintptr_t>(mem) % alignment != 0)
      throw error(errc::invalid_options, "byte ring memory must be 128-byte aligned");
    auto* l = ::new (mem) layout{};
    l->geometry = geometry_block{magic_value, version_value, static_cast<std::uint32_t>(kind), capacity,
                                 max_payload_for(capacity), data_offset};
    if (!zeroed) std::memset(l->data(), 0, static_cast<std::size_t>(capacity));
    // relaxed: the layout reaches the endpoints' threads through whatever hands them over
    // (thread creation, fork, a segment's init flag stored with release).
    l->producer.tail.store(0, std::memory_order_relaxed);
    l->consumer.head.store(0, std::memory_order_relaxed);
    l->consumer.writers.store(1, std::memory_order_relaxed);
    return l;
  }

  // Validates foreign memory formatted by format() (possibly by another process) and returns
  // its layout. Fails with errc::ring_corrupt naming the first field that is wrong: too
  // small or misaligned memory, magic, version, kind, capacity, max_payload, data offset,
  // or indices (tail - head outside 0..capacity, or not 8-aligned). Endpoints made over the
  // result still bounds-check every record (the memory may change under them).
  static result<layout*> attach(void* mem, std::size_t bytes, ring_kind kind) {
    auto bad = [](const std::string& why) { return result<layout*>(errc::ring_corrupt, "byte ring attach: " + why); };
    if (mem == nullptr || reinterpret_cast<std::uintptr_t>(mem) % alignment != 0) return bad("memory not 128-byte aligned");
    if (bytes < sizeof(layout)) return bad("memory smaller than the header (" + std::to_string(bytes) + " bytes)");
    auto* l = std::launder(reinterpret_cast<layout*>(mem));
    const geometry_block g = l->geometry;
    if (g.magic != magic_value) return bad("bad magic");
    if (g.version != version_value) return bad("version " + std::to_string(g.version) + " is not 1");
    if (g.kind != static_cast<std::uint32_t>(kind)) return bad("ring kind " + std::to_string(g.kind) + " differs");
    if (g.capacity < min_capacity || g.capacity > max_capacity || !std::has_single_bit(g.capacity))
      return bad("capacity " + std::to_string(g.capacity) + " invalid");
    if (g.max_payload != max_payload_for(g.capacity)) return bad("max_payload disagrees with capacity");
    if (g.data_offset != data_offset) return bad("data offset " + std::to_string(g.data_offset));
    if (bytes < data_offset + g.capacity) return bad("memory truncated: " + std::to_string(bytes) + " bytes");
    // acquire: pairs with the endpoints' release stores, so a reader attaching late sees the
    // records before the indices it validates.
    const std::uint64_t tail = l->producer.tail.load(std::memory_order_acquire);
    const std::uint64_t head = l->consumer.head.load(std::memory_order_acquire);
    if (tail - head > g.capacity || (head | tail) % record_align != 0) return bad("indices out of range");
    return l;
  }

  [[nodiscard]] std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this) + data_offset; }
  [[nodiscard]] ring_kind kind() const noexcept { return static_cast<ring_kind>(geometry.kind); }
};

static_assert(sizeof(layout<std_sync>) == layout<std_sync>::data_offset, "the data region follows the 3 blocks");
static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::byte_ring
