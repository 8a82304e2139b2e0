// ringwire/byte_broadcast/layout.hpp -- the lossy byte broadcast ring as plain bytes: a
// metadata ring of fixed 64-byte entries and a payload region of variable-length chunks
// (Firedancer tango's mcache + dcache in one pointer-free block).
//
//  offset  block (128 bytes each unless said)            who writes it
//  ------  ---------------------------------------------  ----------------------------------
//     0    header   magic u64 | version u32 | entry_bytes u32 | depth u64 | region_bytes u64 |
//                   max_message u64 | credits_offset u64 | meta_offset u64 | payload_offset u64 |
//                   total_bytes u64 | max_credited u32 | reserved u32     format(), once
//   128    head     head u64: newest committed sequence   the writer, after every publish
//   192             credit_waits u64 | writer_parks u64 |   the writer, options::metrics
//                   reader_wakes u64 (the second line)      only (see "Counters" below)
//   256    dirty    dirty u64: payload position the writer  the writer, once per region/8
//                   may already be overwriting up to        bytes (see "dirty" below)
//   384    control  closed u32 | parked u32 | bell u32 | writer_park u32 | skipped u32
//                   (+0, +4, +8, +12, +16)
//                   closed: the writer's close(); parked: 1 while some reader may be
//                   sleeping on the bell (a reader about to sleep stores 1; the writer
//                   that rings clears it); bell: the futex word parked readers sleep on
//                   (the writer bumps it when parked != 0); writer_park: a credited
//                   writer's park word (wait.hpp; it
//                   parks, credited readers wake it); skipped: 1 once the writer skipped
//                   a sequence (sticky; see "Skips"). Read-mostly: one line, loaded by
//                   the writer per publish and by readers when they find nothing new
//   512    credits  max_credited entries of 128 bytes:     a credited reader (its own entry)
//                     +0 cursor u64 | +8 state u32         cursor: next sequence it has not
//                                                          consumed; state 0 free, 1 live
//                     +64 received u64 | +72 parks u64     its counters (the second line):
//                                                          options::metrics, see "Counters"
//   ...    meta     depth entries of 64 bytes (one line):  the writer
//                     +0 stamp u64  +8 signature u64  +16 pos u64  +24 size u32  +28 ctl u16
//                     +30 reserved u16  +32 tspub u64  +40..63 reserved (zero)
//   ...    payload  region_bytes bytes (128-aligned)       the writer
//
// Sequences and stamps. Messages are numbered 1, 2, 3, ... (64-bit, never reused); message
// n's entry is meta[n & (depth - 1)]. stamp = 0: never written; 2n - 1: message n being
// written; 2n: message n committed (the typed broadcast's encoding, broadcast/layout.hpp).
// A stamp only grows. The entry is a seqlock:
//   writer   stamp = 2n-1 (relaxed); fence(release); fields (relaxed word stores);
//            stamp = 2n (release)
//   reader   s1 = stamp (acquire); s1 == 2n? fields (relaxed word loads); [payload];
//            fence(acquire); s2 = stamp (relaxed): accepted iff s2 == s1
// As in broadcast/layout.hpp (Boehm, MSPC 2012), every racing access is an atomic, and a
// reader whose field load saw a later write sees at least that write's odd stamp in s2.
//
// Payload chunks. Message n occupies bytes [pos, pos + size) of an unbounded *monotonic*
// byte stream, stored at region offset pos & (region_bytes - 1). Chunks are 8-byte aligned
// and contiguous: a chunk that would cross the end of the region starts at the next
// multiple of region_bytes instead (the tail is skipped; nothing is written there). So
// writing chunk [a, b) overwrites exactly the stream bytes [a - region, b - region).
//
// Dirty (payload validation). Before its first payload store into [a, b) the writer makes
// sure dirty >= b: if not, it stores dirty = b + region/8 (relaxed) and then fence(release).
// A reader of a chunk starting at pos, after copying it (relaxed word loads) and after its
// fence(acquire), loads dirty (relaxed): the copy is intact iff dirty <= pos + region.
// If any word it copied came from a later chunk that overlaps it, that chunk's end b is
// beyond pos + region, the dirty value covering b was stored before the writer's release
// fence that precedes the overwrite, and the reader's acquire fence then makes its dirty
// load see it (or later): the copy is rejected. Storing dirty in steps of region/8 costs
// the writer one store (and the readers one line transfer) per region/8 bytes instead of
// one per message; the price is that a message counts as overwritten up to region/8 bytes
// early. format() requires max_message (8-aligned) <= region/2, so the newest message is
// always intact when its publish returns.
//
// Skips (writer::skip(g): a bridge passing on a remote gap). The writer advances its
// sequence by g without writing an entry or a payload byte:
//   skipped = 1 (relaxed; sticky); seq += g; head = seq (release); the wake step below
// A skipped sequence k never gets the stamp 2k, so no read ever accepts it (nor calls it
// corrupt: the fields are never looked at). A reader at n whose entry holds nothing new
// (stamp < 2n), on a ring with skipped = 1 (a load on the control line it loads there
// anyway), loads head (acquire): every commit up to head is then visible, so with head >= n
// a stamp below 2k for n <= k <= head means k was skipped (one writer, and it stores head
// after each commit). It resumes at the oldest k in [n, head] whose entry still holds k
// committed (head + 1 if none) and reports every sequence passed over as missed, exactly:
// one status::lagged result (with any overwritten run before it). A lapped reader on such a
// ring resumes there too rather than at head - depth + 1: the window may be mostly skips,
// and an older message outlives it when its later twins in the entry were skipped. The
// search reads at most min(head - n + 1, depth) stamps (one pass over the entries beyond
// depth), only on rings that skipped, only where n holds nothing new or was lapped. The
// payload stream (pos, dirty) does not move. A ring that never skipped pays nothing: the
// flag is 0, and the empty path's one extra load is on closed's line. A writer killed
// between its flag and head stores skipped nothing (the flag alone changes no outcome); a
// re-attached writer resumes after head, skips included.
// Credits: a skip needs none (it overwrites nothing); writer.hpp "Skips" has the gate.
//
// Parking (wait_strategy::park; see "Parking" in reader.hpp and writer.hpp). Readers:
//   b = bell (acquire); parked = 1 (relaxed); heavy_fence; re-check (stamp of n, closed);
//   futex_wait(bell, b, deadline)
// the writer, after every head store (a publish's or a skip's) and after close's closed store:
//   light_fence; if (parked (relaxed) != 0 && exchange(parked, 0) != 0)
//     { bell += 1 (release); futex_wake_all(bell) }
// The re-check also takes a skip to report for ready (skipped = 1 and head >= n, relaxed
// loads after the heavy fence). The fences are wait.hpp's Dekker pair: either the reader's
// re-check sees the message (or the skip), or
// the writer's load sees parked != 0 and bumps the bell after the reader read b, so the
// reader's futex_wait finds bell != b (the kernel refuses to sleep) or is woken. A reader
// whose b already saw a bump acquires the publish before it (release), so its re-check
// sees that message. With nobody parked a publish costs a compiler barrier (membarrier
// available), one load of a read-mostly line and a predictable branch: no RMW, no syscall.
// `parked` is a flag, not a count: every sleeper is woken by the one bell and stores 1
// again before it sleeps again, so a reader that dies asleep (another process) or leaves
// after a timeout costs the writer at most one needless ring, not one per publish for
// ever.
// A reader that parks writes to the ring (parked), so it needs a writable mapping; a reader
// marked read-only (reader::mark_read_only) spins and yields instead.
//
// Counters (byte_broadcast/stats.hpp). With options::metrics the writer counts, on the
// head block's second line, the writes a credited reader held back (credit_waits: once per
// write that found the credits exhausted), its futex sleeps waiting for credits
// (writer_parks) and its bell rings for parked readers (reader_wakes); a credited reader
// shows, on its entry's second line (the writer's rescans read only the first), the
// messages it received and its futex sleeps since it joined -- as last shown: whenever a
// read finds nothing new and after each park, never per message. Each word has one writer
// (a relaxed load and store: metrics.hpp's bump); a joining reader zeroes its entry's. Only
// relaxed loads read them (a monitor, shm::describe); no protocol step does.
//
// Bounds (hostile memory). A reader never trusts the ring: validate() copies the header and
// checks it against the real mapping size once (attach_reader), and the reader keeps its
// own copy of the geometry; per message it checks size <= max_message and that
// [pos & mask, + align8(size)) lies inside the region before touching a payload byte.
// Lifecycle, as Firedancer's objects: footprint() / align(), format() (new), validate()
// (join); nothing to destroy (every member is trivially destructible with std_sync).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <type_traits>

#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::byte_broadcast {

// Control flags (the ctl field): fragments of a larger message carry som on the first,
// eom on the last; err marks a message the writer knows to be bad.
inline constexpr std::uint16_t ctl_som = 1;
inline constexpr std::uint16_t ctl_eom = 2;
inline constexpr std::uint16_t ctl_err = 4;
inline constexpr std::uint16_t ctl_whole = ctl_som | ctl_eom;

// The shape of a ring, fixed by format().
struct geometry {
  std::uint64_t depth = 1024;               // metadata entries: a power of two, >= 2
  std::uint64_t region_bytes = 1u << 20;    // payload bytes: a power of two, >= 64
  std::uint64_t max_message = 64u << 10;    // largest payload; 8-aligned it must be <= region/2
  std::uint32_t max_credited = 0;           // credited (lossless) readers at once; 0 = no credits
};

template <class Sync = std_sync>
struct layout {
  template <class V>
  using atomic = typename Sync::template atomic<V>;
  static_assert(sizeof(atomic<std::uint64_t>) == 8, "the Sync policy's 64-bit atomic must be exactly 8 bytes");

  static constexpr std::uint64_t magic_value = 0x74736163'62797772ull;  // "rwbycast" little-endian
  // 2: the control block's park words; 3: skips (control.skipped: a version-2 reader would
  // wait for ever on a skipped entry).
  static constexpr std::uint32_t version_value = 3;
  static constexpr std::uint64_t max_depth = std::uint64_t{1} << 32;
  static constexpr std::uint64_t max_region = std::uint64_t{1} << 40;
  static constexpr std::uint32_t max_credited_limit = 1024;
  // Sequences stay below this (writer::skip's precondition; stamps are 2n). A head at or
  // beyond it is hostile memory: the readers' search for skipped sequences ignores it.
  static constexpr std::uint64_t max_seq = std::uint64_t{1} << 62;

  struct alignas(detail::hot_block) header_block {
    std::uint64_t magic;
    std::uint32_t version;
    std::uint32_t entry_bytes;
    std::uint64_t depth;
    std::uint64_t region_bytes;
    std::uint64_t max_message;
    std::uint64_t credits_offset;
    std::uint64_t meta_offset;
    std::uint64_t payload_offset;
    std::uint64_t total_bytes;
    std::uint32_t max_credited;
    std::uint32_t reserved;
  };
  struct alignas(detail::hot_block) head_block {
    atomic<std::uint64_t> head;
    // The writer's counters ("Counters" above), on the second line: readers load head only
    // when they join or resynchronise.
    alignas(detail::cache_line) atomic<std::uint64_t> credit_waits;
    atomic<std::uint64_t> writer_parks;
    atomic<std::uint64_t> reader_wakes;
  };
  struct alignas(detail::hot_block) dirty_block {
    atomic<std::uint64_t> dirty;
  };
  struct alignas(detail::hot_block) control_block {
    atomic<std::uint32_t> closed;
    atomic<std::uint32_t> parked;       // readers parking on bell (a hint for the writer)
    atomic<std::uint32_t> bell;         // readers' futex word: bumped by a writer that saw parked != 0
    atomic<std::uint32_t> writer_park;  // a credited writer's park word (wait.hpp protocol)
    atomic<std::uint32_t> skipped;      // 1 once the writer skipped a sequence ("Skips"); never reset
  };
  struct alignas(detail::hot_block) credit_entry {
    atomic<std::uint64_t> cursor;
    atomic<std::uint32_t> state;
    // Its reader's counters ("Counters" above), on the second line, which the writer's
    // rescans never load.
    alignas(detail::cache_line) atomic<std::uint64_t> received;
    atomic<std::uint64_t> parks;
  };
  // One metadata entry: the stamp, then plain words that are only ever accessed through
  // Sync::word (relaxed atomics), so a reader racing the writer is not a data race.
  struct alignas(detail::cache_line) meta_entry {
    atomic<std::uint64_t> stamp;
    std::uint64_t signature;
    std::uint64_t pos;
    std::uint64_t size_ctl;  // size | ctl << 32 (bytes +24 size, +28 ctl on little-endian)
    std::uint64_t tspub;
    std::uint64_t reserved[3];
  };
  static_assert(sizeof(meta_entry) == 64);

  static constexpr std::uint32_t credit_free = 0, credit_live = 1;

  static constexpr std::uint64_t committed(std::uint64_t n) noexcept { return 2 * n; }
  static constexpr std::uint64_t writing(std::uint64_t n) noexcept { return 2 * n - 1; }
  static constexpr std::uint64_t seq_of(std::uint64_t stamp) noexcept { return (stamp + 1) / 2; }
  static constexpr std::uint64_t align8(std::uint64_t n) noexcept { return (n + 7) & ~std::uint64_t{7}; }
  static constexpr std::uint64_t pack(std::uint32_t size, std::uint16_t ctl) noexcept {
    return std::uint64_t{size} | std::uint64_t{ctl} << 32;
  }

  header_block header;
  head_block head;
  dirty_block dirty;
  control_block control;

  // Throws ringwire::error(invalid_options) naming the first field out of range.
  static void check(const geometry& g) {
    auto bad = [](const std::string& why) { throw error(errc::invalid_options, why); };
    if (g.depth < 2 || g.depth > max_depth || !std::has_single_bit(g.depth))
      bad("depth must be a power of two in [2, 2^32], not " + std::to_string(g.depth));
    if (g.region_bytes < 64 || g.region_bytes > max_region || !std::has_single_bit(g.region_bytes))
      bad("region_bytes must be a power of two in [64, 2^40], not " + std::to_string(g.region_bytes));
    if (g.max_message > std::numeric_limits<std::uint32_t>::max() || align8(g.max_message) > g.region_bytes / 2)
      bad("max_message " + std::to_string(g.max_message) + " must be at most region_bytes / 2 (" +
          std::to_string(g.region_bytes / 2) + ")");
    if (g.max_credited > max_credited_limit)
      bad("max_credited must be at most " + std::to_string(max_credited_limit) + ", not " +
          std::to_string(g.max_credited));
  }

  static constexpr std::size_t credits_offset() noexcept { return sizeof(layout); }
  static std::size_t meta_offset(const geometry& g) noexcept {
    return credits_offset() + std::size_t{g.max_credited} * sizeof(credit_entry);
  }
  static std::size_t payload_offset(const geometry& g) noexcept {
    return meta_offset(g) + static_cast<std::size_t>(g.depth) * sizeof(meta_entry);
  }
  // Bytes format() needs (validates g).
  static std::size_t footprint(const geometry& g) {
    check(g);
    return payload_offset(g) + static_cast<std::size_t>(g.region_bytes);
  }
  static constexpr std::size_t align() noexcept { return detail::hot_block; }

  // Formats `mem` (footprint(g) bytes, aligned to align()) as an empty ring. Nothing in it
  // needs destroying. Header, credits and metadata only: the payload region needs no
  // zeroing, since a reader copies only words of messages whose metadata was published
  // after the writer stored them (and the writer pads each message's last word), so a large
  // region is never faulted in here. A model policy that tracks every payload word from its
  // first access (Sync::zero_payload) gets the region zeroed.
  static layout* format(void* mem, const geometry& g) {
    const std::size_t bytes = footprint(g);
    std::memset(mem, 0, ringwire::detail::zero_payload_v<Sync> ? bytes : payload_offset(g));
    auto* l = ::new (mem) layout{};
    l->header = header_block{magic_value,  version_value,     sizeof(meta_entry), g.depth,
                             g.region_bytes, g.max_message,   credits_offset(),   meta_offset(g),
                             payload_offset(g), bytes,        g.max_credited,     0};
    for (std::uint32_t i = 0; i < g.max_credited; ++i) ::new (static_cast<void*>(&l->credit(i))) credit_entry{};
    for (std::uint64_t i = 0; i < g.depth; ++i) ::new (static_cast<void*>(&l->meta(i))) meta_entry{};
    return l;
  }

  // Checks memory someone else formatted (possibly hostile) before a reader touches it:
  // the header as a local copy, against the mapping's real size. Returns the geometry.
  // Throws ringwire::error(ring_corrupt) with the offending field.
  static geometry validate(const void* mem, std::size_t bytes) {
    auto bad = [](const std::string& why) { throw error(errc::ring_corrupt, why); };
    if (mem == nullptr || reinterpret_cast<std::uintptr_t>(mem) % align() != 0)
      bad("ring memory must be non-null and 128-byte aligned");
    if (bytes < sizeof(layout)) bad("ring memory of " + std::to_string(bytes) + " bytes is smaller than its header");
    header_block h;
    std::memcpy(&h, mem, sizeof h);
    if (h.magic != magic_value) bad("bad magic");
    if (h.version != version_value) bad("layout version " + std::to_string(h.version) + " is not " + std::to_string(version_value));
    if (h.entry_bytes != sizeof(meta_entry)) bad("entry_bytes is not 64");
    const geometry g{h.depth, h.region_bytes, h.max_message, h.max_credited};
    try {
      check(g);
    } catch (const error& e) {
      bad(e.what());
    }
    if (h.credits_offset != credits_offset() || h.meta_offset != meta_offset(g) ||
        h.payload_offset != payload_offset(g) || h.total_bytes != payload_offset(g) + g.region_bytes)
      bad("offsets disagree with the geometry");
    if (h.total_bytes > bytes)
      bad("the ring needs " + std::to_string(h.total_bytes) + " bytes but the memory has " + std::to_string(bytes));
    return g;
  }

  [[nodiscard]] credit_entry& credit(std::uint32_t i) noexcept {
    return std::launder(reinterpret_cast<credit_entry*>(reinterpret_cast<std::byte*>(this) + credits_offset()))[i];
  }
  [[nodiscard]] meta_entry& meta(std::uint64_t index) noexcept {
    return std::launder(
        reinterpret_cast<meta_entry*>(reinterpret_cast<std::byte*>(this) + header.meta_offset))[index];
  }
  [[nodiscard]] std::uint64_t* payload() noexcept {
    return reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::byte*>(this) + header.payload_offset);
  }
};

static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");
static_assert(offsetof(layout<std_sync>, control) == 384 && offsetof(layout<std_sync>::control_block, parked) == 4 &&
                  offsetof(layout<std_sync>::control_block, bell) == 8 &&
                  offsetof(layout<std_sync>::control_block, writer_park) == 12 &&
                  offsetof(layout<std_sync>::control_block, skipped) == 16 && sizeof(layout<std_sync>) == 512,
              "the byte map at the top of this header (and docs/shm-layout.md) must change with the layout");

}  // namespace ringwire::byte_broadcast
