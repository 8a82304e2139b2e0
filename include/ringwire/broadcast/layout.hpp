// ringwire/broadcast/layout.hpp -- the broadcast ring as plain bytes: no pointers, only offsets.
//
// Everything the publisher and its subscribers share. Like spsc/layout.hpp it holds no
// pointers and no virtual functions, and it is not templated on the message type: the
// payload size is recorded so an attaching party could validate it.
//
//  offset  block (each 128 bytes: its own pair of cache lines)
//  ------  -------------------------------------------------------------------------------
//     0    geometry   capacity u64 | slot_stride u64 | slots_offset u64 | registry_offset u64 |
//                     evict_lag u64 | payload_size u32 | payload_words u32 |
//                     max_subscribers u32 | policy u32 | multi_producer u32 | (4 spare) |
//                     magic u64 (at 64) | version u32 | payload_align u32 | type_tag u64
//                                                                  written once by format()
//                     magic ("RWBCAST1") is stored last, with release: memory that shows it
//                     is completely formatted (attach.hpp checks it before anything else);
//                     payload_align and type_tag identify T for attach() over caller
//                     memory (0 where the creator did not record them: heap, shm segments,
//                     whose own header identifies T).
//   128    publisher  head u64                 alone on its lines: written on every publish
//                     head: single producer: the newest committed sequence (0 = none),
//                     stored on every publish; multi-producer: the newest *claimed*
//                     sequence (the ticket counter; see shared_publisher.hpp). Read by
//                     subscribers only on slow paths (lag, latest, pending, joining).
//   256    control    closed u32 | publisher_park u32 | producers u32 | skipped u32
//                     read by subscribers on hot paths (closed and skipped when a poll
//                     finds nothing, publisher_park after every gated receive) and written
//                     rarely, so kept off head's line. producers: live shared_publisher
//                     copies. skipped: 1 once a publisher skipped a sequence (see Skips)
//   384    joiners    epoch u64 | parked u32 | top u32
//                     written by subscribers when they join (epoch, top) or park (parked)
//   512    registry   max_subscribers entries of 128 bytes, at registry_offset:
//                       cursor u64 | state u32 | park u32
//                     cursor: the next sequence this subscriber will read (its own line:
//                     one writer); state: generation << 2 | kind (free, joining, live,
//                     evicted); park: its futex word (wait.hpp protocol)
//    ...   slots      capacity slots of slot_stride bytes, at slots_offset (128-aligned):
//                       stamp u64 | payload_words u64 words (T, zero-padded to 8 bytes)
//                     slot_stride, from raw = 8 + 8 * payload_words and the slot layout:
//                       packed  raw rounded up to 16, 32 or 64 when that is at most 64 (so
//                               a slot never straddles a cache line and a small T shares its
//                               stamp's line), to a multiple of 64 beyond;
//                       line    raw rounded up to a multiple of 64: every slot starts its own
//                               cache line. The same stride as packed once raw > 32 (T over
//                               24 bytes); below, 2 or 4 times its memory (see slot_layout).
//
// Sequences. Messages are numbered 1, 2, 3, ... (64-bit, never reused); message n lives in
// slot n % capacity -- the array has exactly `capacity` slots, and every endpoint walks it
// with an incrementing index, so there is no division on the hot path. With head = h, the
// live window is (h - capacity, h]: exactly the messages a subscriber can still read.
//
// Stamps (the seqlock). stamp = 0: never written; 2n - 1: message n being written; 2n:
// message n committed. A slot's stamp only grows. Writer (one publisher):
//     stamp = 2n-1 (relaxed); fence(release); payload words (relaxed atomic_ref stores);
//     stamp = 2n (release)
// Reader expecting n:
//     s1 = stamp (acquire); if s1 != 2n: not yet written (< 2n) or overwritten (> 2n);
//     payload words (relaxed atomic_ref loads); fence(acquire); s2 = stamp (relaxed);
//     accept iff s2 == s1
// This is the seqlock that is correct in the C++ memory model (H.-J. Boehm, "Can seqlocks
// get along with programming language memory models?", MSPC 2012): the payload accesses
// are atomics, so a concurrent overwrite is not a data race; if any payload load reads a
// word of a later write, the writer's release fence (after its odd stamp) synchronises
// with the reader's acquire fence (before s2), so s2 sees at least that odd stamp and the
// copy is rejected. The release store of 2n and the acquire load of s1 make an accepted
// copy complete. photon-ring's default mode and ichannel lack the reader's fence (their
// re-check is an acquire *load*, which does not keep the earlier payload loads before it),
// so ARM can accept a torn copy; here the fence is unconditional.
//
// Skips (publisher::skip(g), single publisher only). The publisher advances its sequence
// by g without writing a slot: skipped = 1 (relaxed, sticky), head += g (release), then the
// after-commit step (wakes, joiners). A skipped sequence never gets the stamp 2n, so no
// reader ever accepts it. A reader that finds stamp(n) != 2n and skipped = 1 loads head
// (acquire): every commit up to head is then visible, so with head >= n a stamp other than
// 2n means n was skipped (or, lossy, overwritten). It resumes at the oldest message in
// [n, head] still committed in its slot (head + 1 if none) and reports every sequence it
// passed over as lagged, with the exact count. Rings that never skip never load head on
// that path: the flag shares closed's line, which the empty path already loads.
// Gating with skips (producer_state.hpp): a cursor inside the publisher's latest run of
// skipped sequences counts as the end of that run, since the run holds no message; so a
// gated ring may overwrite the slot of a skipped sequence that a subscriber has not yet
// passed -- the reader's skip path takes such a stamp as one more skipped sequence.
//
// Registry. A subscriber claims a free entry (CAS, bumping the generation), writes its
// provisional cursor, marks it live, bumps `epoch` and then -- after a heavy fence --
// reads `head` to decide where it starts. The publisher, after storing each head, takes a
// light fence and loads `epoch` (the same Dekker pair as the parking protocol in
// wait.hpp): so either the subscriber sees that head, or the publisher sees the new
// epoch and rescans the registry before its next overwrite. The lossless publisher waits
// only on live entries; the generation stops an eviction from hitting a later occupant.
#pragma once

#include <array>
#include <atomic>
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

namespace ringwire::broadcast {

// What the publisher does when the slowest subscriber is a full ring behind.
enum class policy : std::uint32_t {
  lossy,      // overwrite: the publisher never waits; the subscriber gets status::lagged
  lossless,   // wait (or try_send: full) until the slowest live subscriber reads
  evict,      // as lossless, but drop subscribers more than evict_lag behind instead
};

// How densely the ring packs its slots (options::slot_layout, shm::channel_spec). The cost
// that differs is the hand-off: with packed slots of a small T the publisher writes the
// very line a subscriber close behind it is reading (four 16-byte slots share a line), so
// that line goes back and forth between the two cores for each message written into it;
// a line slot is written by the publisher and then only read until the next lap: one
// hand-off per message. What line gives up is memory (a ring of 8-byte messages is 4 times
// the bytes, 2 times for 9 to 24 bytes), and a subscriber that trails far behind fetches
// one line per message instead of one per 4 (or 2). A segment's header records packed or
// line by these values (docs/shm-layout.md), never automatic.
enum class slot_layout : std::uint32_t {
  automatic = 0,  // the library's choice: automatic_slot_layout below
  packed = 1,     // stamp and payload rounded to 16, 32 or 64 bytes: small slots share lines
  line = 2,       // every slot on its own 64-byte line(s), as photon-ring's Slot<T>
};

// What `automatic` means: the one place to change the default density. The two layouts
// differ only for T of at most 24 bytes (beyond, a packed slot already fills whole lines),
// so a rule by payload size reduces to this one choice.
inline constexpr slot_layout automatic_slot_layout = slot_layout::packed;

inline const char* to_string(slot_layout l) noexcept {
  switch (l) {
    case slot_layout::automatic: return "automatic";
    case slot_layout::packed: return "packed";
    case slot_layout::line: return "line";
  }
  return "unknown";
}

// `l` with automatic replaced by the default. Not checked: a value beyond line is kept
// (stride() treats it as packed; footprint() refuses it).
constexpr slot_layout resolve(slot_layout l) noexcept { return l == slot_layout::automatic ? automatic_slot_layout : l; }

template <class Sync = std_sync>
struct layout {
  template <class V>
  using atomic = typename Sync::template atomic<V>;
  // A slot's stamp is an atomic placed at a byte offset, 8 bytes before its payload words
  // (slot_ref): a policy whose 64-bit atomic is larger would overlap the payload.
  static_assert(sizeof(atomic<std::uint64_t>) == 8, "the Sync policy's 64-bit atomic must be exactly 8 bytes");

  struct alignas(detail::hot_block) geometry_block {
    std::uint64_t capacity;
    std::uint64_t slot_stride;
    std::uint64_t slots_offset;
    std::uint64_t registry_offset;
    std::uint64_t evict_lag;
    std::uint32_t payload_size;
    std::uint32_t payload_words;
    std::uint32_t max_subscribers;
    std::uint32_t policy;
    std::uint32_t multi_producer;  // 0: one publisher; 1: shared_publisher tickets
    std::uint64_t magic;           // magic_value once formatted (stored last, release)
    std::uint32_t version;         // version_value
    std::uint32_t payload_align;   // alignof(T), or 0: not recorded
    std::uint64_t type_tag;        // shm::type_tag<T>, or 0: not recorded
  };
  struct alignas(detail::hot_block) publisher_block {
    atomic<std::uint64_t> head;
  };
  struct alignas(detail::hot_block) control_block {
    atomic<std::uint32_t> closed;
    atomic<std::uint32_t> publisher_park;
    atomic<std::uint32_t> producers;
    atomic<std::uint32_t> skipped;  // 1 once a publisher skipped (see Skips above); never reset
    // The producers' counters (broadcast/stats.hpp), counted only with options::metrics and
    // only on slow paths, never beside the head a subscriber polls. Several producers
    // (shared_publisher) may share them: a relaxed fetch_add, when a send already waits.
    atomic<std::uint64_t> full_events;       // sends that found the gate shut (gated)
    atomic<std::uint64_t> producer_parks;    // futex sleeps of waiting producers
    atomic<std::uint64_t> evictions;         // subscribers evicted (evict)
    atomic<std::uint64_t> subscriber_wakes;  // wake rounds for parked subscribers
  };
  struct alignas(detail::hot_block) joiners_block {
    atomic<std::uint64_t> epoch;
    atomic<std::uint32_t> parked;
    atomic<std::uint32_t> top;
  };
  struct alignas(detail::hot_block) entry {
    atomic<std::uint64_t> cursor;
    atomic<std::uint32_t> state;
    atomic<std::uint32_t> park;
    // The subscriber's counters as it last showed them (subscriber.hpp, show()): written
    // only by the occupant, on its own line, when it shows its cursor (gated policies, or
    // options::metrics); a new occupant starts them at zero.
    atomic<std::uint64_t> received;
    atomic<std::uint64_t> missed;
    atomic<std::uint64_t> parks;
    atomic<std::uint64_t> empty_events;  // options::metrics only
  };
  static_assert(sizeof(entry) == detail::hot_block, "the counters live in the entry's spare bytes");

  // Registry entry kinds (low two bits of state; the rest is the generation).
  static constexpr std::uint32_t free_entry = 0, joining = 1, live = 2, evicted = 3;
  static constexpr std::uint32_t kind(std::uint32_t state) noexcept { return state & 3u; }
  static constexpr std::uint32_t with_kind(std::uint32_t state, std::uint32_t k) noexcept { return (state & ~3u) | k; }

  static constexpr std::uint64_t magic_value = 0x3154534143425752ull;  // "RWBCAST1" little-endian
  // 2: skips (control.skipped). A version-1 reader would wait for ever on a skipped slot.
  static constexpr std::uint32_t version_value = 2;

  // What format() records about T besides its size (see the geometry block above).
  struct type_record {
    std::uint32_t align = 0;
    std::uint64_t tag = 0;
  };

  static constexpr std::uint64_t committed(std::uint64_t n) noexcept { return 2 * n; }
  static constexpr std::uint64_t writing(std::uint64_t n) noexcept { return 2 * n - 1; }
  static constexpr std::uint64_t seq_of(std::uint64_t stamp) noexcept { return (stamp + 1) / 2; }

  static_assert(sizeof(control_block) == detail::hot_block,
                "the counters live in the block's spare bytes: the footprint (and shm-layout.md) is unchanged");
  geometry_block geometry;
  publisher_block publisher;
  control_block control;
  joiners_block joiners;

  // Largest capacity and registry accepted: keep every byte count far from overflow.
  static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 48;
  static constexpr std::uint32_t max_registry = 1u << 16;

  static constexpr std::size_t stride(std::size_t payload_size, slot_layout l) noexcept {
    const std::size_t raw = 8 + (payload_size + 7) / 8 * 8;
    const std::size_t lines = (raw + detail::cache_line - 1) / detail::cache_line * detail::cache_line;
    return raw <= detail::cache_line && resolve(l) != slot_layout::line ? std::bit_ceil(raw) : lines;
  }
  static constexpr std::size_t registry_offset() noexcept { return sizeof(layout); }
  static constexpr std::size_t slots_offset(std::uint32_t max_subscribers) noexcept {
    return registry_offset() + std::size_t{max_subscribers} * sizeof(entry);
  }

  // Bytes format() needs. Throws ringwire::error for a capacity of zero, a registry of
  // zero or more than 2^16 entries, a slot layout that does not exist, or sizes that
  // cannot be addressed.
  static std::size_t footprint(std::uint64_t capacity, std::size_t payload_size, std::uint32_t max_subscribers,
                               slot_layout l) {
    if (capacity == 0) throw error(errc::invalid_capacity, "capacity must be at least 1");
    if (capacity > max_capacity)
      throw error(errc::capacity_too_large, "capacity " + std::to_string(capacity) + " exceeds 2^48");
    if (max_subscribers == 0 || max_subscribers > max_registry)
      throw error(errc::invalid_options, "max_subscribers must be in [1, 65536], not " + std::to_string(max_subscribers));
    if (l > slot_layout::line)
      throw error(errc::invalid_options,
                  "slot layout " + std::to_string(static_cast<std::uint32_t>(l)) + " does not exist");
    const std::size_t head = slots_offset(max_subscribers);
    const std::size_t s = stride(payload_size, l);
    if (capacity > (std::numeric_limits<std::size_t>::max() - head) / s)
      throw error(errc::capacity_too_large, "capacity " + std::to_string(capacity) + " of " + std::to_string(s) +
                                                "-byte slots overflows the address space");
    return head + static_cast<std::size_t>(capacity) * s;
  }

  // Formats `mem` (footprint() bytes, aligned to hot_block) as an empty ring with every
  // registry entry free. Returns the layout; all its state is trivially destructible.
  // `zeroed`: the memory is known to read as zeros (a fresh shared-memory segment), so the
  // slots -- stamps 0, payload words 0 -- are left untouched: a large ring's pages are
  // not all faulted in (and, in tmpfs, allocated) at creation.
  // `type`: T's alignment and tag, for attach() over caller memory (attach.hpp).
  static layout* format(void* mem, std::uint64_t capacity, std::size_t payload_size, std::uint32_t max_subscribers,
                        policy pol, std::uint64_t evict_lag, slot_layout slots, bool multi_producer = false,
                        bool zeroed = false, type_record type = {}) {
    const std::size_t bytes = footprint(capacity, payload_size, max_subscribers, slots);  // validates
    if (!zeroed) std::memset(mem, 0, bytes);  // stamps 0 (never written) and zeroed payload words
    auto* l = ::new (mem) layout{};
    const auto words = static_cast<std::uint32_t>((payload_size + 7) / 8);
    l->geometry = geometry_block{capacity,
                                 stride(payload_size, slots),
                                 slots_offset(max_subscribers),
                                 registry_offset(),
                                 evict_lag,
                                 static_cast<std::uint32_t>(payload_size),
                                 words,
                                 max_subscribers,
                                 static_cast<std::uint32_t>(pol),
                                 multi_producer ? 1u : 0u,
                                 /*magic=*/0,
                                 version_value,
                                 type.align,
                                 type.tag};
    for (std::uint32_t i = 0; i < max_subscribers; ++i) ::new (static_cast<void*>(&l->subscriber(i))) entry{};
    if (!zeroed)
      for (std::uint64_t i = 0; i < capacity; ++i) ::new (static_cast<void*>(l->slot(i))) atomic<std::uint64_t>(0);
    // release: an attach() that loads the magic with acquire (attach.hpp) sees the whole
    // format above. A std::atomic_ref whatever the Sync: no model reads the magic, and the
    // Relacy policy's word() tracks payload words only.
    std::atomic_ref<std::uint64_t>(l->geometry.magic).store(magic_value, std::memory_order_release);
    return l;
  }

  // Registry entry i (i < max_subscribers). At the fixed registry_offset(), not the recorded
  // one: a peer that rewrote the geometry block cannot move the registry.
  [[nodiscard]] entry& subscriber(std::uint32_t i) noexcept {
    return std::launder(reinterpret_cast<entry*>(reinterpret_cast<std::byte*>(this) + registry_offset()))[i];
  }
  [[nodiscard]] std::byte* slot(std::uint64_t index) noexcept {
    return reinterpret_cast<std::byte*>(this) + geometry.slots_offset + index * geometry.slot_stride;
  }
  [[nodiscard]] policy mode() const noexcept { return static_cast<policy>(geometry.policy); }
};

namespace detail {

// The geometry an endpoint walks the ring with, copied from the layout when the endpoint is
// made (in shared memory: after attach checked it against the segment's private identity).
// A live peer with write access may rewrite the layout's geometry block later; an endpoint
// that re-read it on its paths could be aimed past the ring, one that uses this copy cannot.
// Loads from the endpoint instead of the layout: no cost on the hot paths.
template <class Sync>
struct ring_geometry {
  using ring = layout<Sync>;

  std::byte* base = nullptr;  // the layout
  std::uint64_t capacity = 0;
  std::uint64_t slot_stride = 0;
  std::uint64_t slots_offset = 0;
  std::uint64_t evict_lag = 0;
  std::uint32_t max_subscribers = 0;
  policy mode = policy::lossy;
  bool multi_producer = false;

  ring_geometry() noexcept = default;
  explicit ring_geometry(ring* l) noexcept
      : base(reinterpret_cast<std::byte*>(l)),
        capacity(l->geometry.capacity),
        slot_stride(l->geometry.slot_stride),
        slots_offset(l->geometry.slots_offset),
        evict_lag(l->geometry.evict_lag),
        max_subscribers(l->geometry.max_subscribers),
        mode(l->mode()),
        multi_producer(l->geometry.multi_producer != 0) {}

  // Registry entry i. Precondition: i < max_subscribers (callers clamp a shared `top`).
  [[nodiscard]] typename ring::entry& subscriber(std::uint32_t i) const noexcept {
    return std::launder(reinterpret_cast<typename ring::entry*>(base + ring::registry_offset()))[i];
  }
  // Slot `index`. Precondition: index < capacity.
  [[nodiscard]] std::byte* slot(std::uint64_t index) const noexcept { return base + slots_offset + index * slot_stride; }
};

// One slot seen through its type: the stamp object and the payload words after it.
template <class Sync>
struct slot_ref {
  std::byte* at;

  [[nodiscard]] typename Sync::template atomic<std::uint64_t>& stamp() const noexcept {
    return *std::launder(reinterpret_cast<typename Sync::template atomic<std::uint64_t>*>(at));
  }
  [[nodiscard]] std::uint64_t* words() const noexcept { return reinterpret_cast<std::uint64_t*>(at + 8); }
};

// Instantiated by every endpoint, so a wrong T fails once, with the reason.
template <class T>
struct payload_check {
  static_assert(std::is_trivially_copyable_v<T>,
                "broadcast messages must be trivially copyable: the payload is copied word by word with "
                "relaxed atomics and may be read while it is being overwritten (seqlock), so no constructor, "
                "destructor or pointer ownership can run on it");
  static constexpr bool ok = std::is_trivially_copyable_v<T>;
};

template <class T>
inline constexpr std::size_t words_of = (sizeof(T) + 7) / 8;

// T as whole words (the tail of the last word zeroed). Padding bytes inside T are copied
// as they are; they are never interpreted.
template <class T>
std::array<std::uint64_t, words_of<T>> to_words(const T& v) noexcept {
  std::array<std::uint64_t, words_of<T>> w{};
  std::memcpy(w.data(), &v, sizeof(T));
  return w;
}

template <class T>
T from_words(const std::array<std::uint64_t, words_of<T>>& w) noexcept {
  std::array<std::byte, sizeof(T)> b;
  std::memcpy(b.data(), w.data(), sizeof(T));
  return std::bit_cast<T>(b);
}

// The writer half of the seqlock (see the protocol above), in two steps around the payload
// stores: begin_write, the stores (relaxed atomic_ref, Sync::word), end_write. Only the
// slot's one writer calls them (the publisher, or the ticket holder of shared_publisher).
template <class Sync>
void begin_write(slot_ref<Sync> s, std::uint64_t n) noexcept {
  // relaxed: ordered before the payload stores by the release fence below.
  s.stamp().store(layout<Sync>::writing(n), std::memory_order_relaxed);
  // release fence: a reader whose payload load sees one of the stores that follow then sees
  // this odd stamp (or later) in its re-check, after its acquire fence (Boehm, sec. 5).
  Sync::fence(std::memory_order_release);
}

template <class Sync>
void end_write(slot_ref<Sync> s, std::uint64_t n) noexcept {
  // release: the payload stores happen-before a reader's acquire load that sees 2n.
  s.stamp().store(layout<Sync>::committed(n), std::memory_order_release);
}

template <class Sync, std::size_t W>
void write_slot(slot_ref<Sync> s, std::uint64_t n, const std::array<std::uint64_t, W>& w) noexcept {
  begin_write(s, n);
  for (std::size_t i = 0; i < W; ++i) {
    // relaxed: atomics only so that a concurrent reader's copy is not a data race; the
    // stamps carry all the ordering.
    Sync::word(s.words()[i]).store(w[i], std::memory_order_relaxed);
  }
  end_write(s, n);
}

// The reader half, after the payload loads (relaxed atomic_ref, Sync::word) of a slot whose
// first stamp read was s1: returns the re-checked stamp (what was loaded is valid iff it
// equals s1). Whatever subset of the words the reader loaded, in whatever order.
template <class Sync>
std::uint64_t recheck(slot_ref<Sync> s) noexcept {
  // acquire fence: keeps the payload loads before the re-check (the fence photon-ring's
  // default mode omits), and pairs with the writer's release fence.
  Sync::fence(std::memory_order_acquire);
  // relaxed: ordered after the payload loads by the fence above.
  return s.stamp().load(std::memory_order_relaxed);
}

// Copies the words of a slot; returns recheck()'s stamp (the copy is valid iff it equals s1).
template <class Sync, std::size_t W>
std::uint64_t read_slot(slot_ref<Sync> s, std::array<std::uint64_t, W>& w) noexcept {
  for (std::size_t i = 0; i < W; ++i) {
    // relaxed: may race with an overwrite; the re-check rejects such a copy.
    w[i] = Sync::word(s.words()[i]).load(std::memory_order_relaxed);
  }
  return recheck(s);
}

}  // namespace detail

static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::broadcast
