// ringwire/byte_broadcast/writer.hpp -- the one writer of a byte broadcast ring.
//
// Move-only; one thread at a time writes. One write (a publish) of message n, `size` bytes:
//   1. place the chunk: a = pos_, moved to the next multiple of region_bytes if the 8-aligned
//      chunk would cross the region's end; b = a + align8(size);
//   2. if b > dirty: dirty = b + region/8 (relaxed) and fence(release)   (layout.hpp);
//   3. the payload as relaxed 64-bit word stores (Sync::word);
//   4. the entry's seqlock write: stamp 2n-1, fence(release), signature / pos / size|ctl /
//      tspub as relaxed word stores, stamp 2n (release);
//   5. head = n (release): read by readers only when they join or resynchronise (or
//      look for skipped sequences);
//   6. light_fence; parked (relaxed) != 0 and exchange(parked, 0) != 0 ? bell += 1
//      (release), futex_wake_all(bell).
// With no reader parked: no read-modify-write, no syscall, no wait -- step 6 is a compiler
// barrier (membarrier available, else a fence), one load of the read-mostly control line
// and a predictable branch; a lossy writer never looks at its readers otherwise. Step 6
// is the waker's half of the readers' park protocol (layout.hpp "Parking"); close() does
// it with a full fence. `wakes()` counts the futex wakes it made.
//
// Credits (geometry::max_credited > 0). A credited reader publishes its cursor (the next
// sequence it has not consumed) in its registry entry. The writer caches the limits the
// slowest live cursor c allowed at its last registry scan
//   credit_seq = c + depth - 1,   credit_end = pos(c) + region - region/8
// (none when every credited reader has consumed everything; pos(c) is message c's stream
// position, read back from the writer's own entry; region/8 is the dirty step, layout.hpp)
// and rescans only when a publish would pass them (Firedancer's fctl "refresh when
// exhausted") or the cadence seq + depth/2, pos + region/2 of the last scan. The cadence
// bounds how far the writer runs between two scans, so a reader that joins in between
// (claims its entry, stores a provisional cursor head + 1, full fence, reads head, starts
// after it) is seen before any message from its starting point can be overwritten (the
// provisional cursor replaces a previous holder's, which may be ahead of where the new
// reader starts): the first scan after a head store begins
// with a full fence, a Dekker pair with the joiner's fence (either the joiner reads that
// head, or the scan sees the joiner). Later scans before the next head store need no
// fence: a joiner either read the newest head or is seen by every later load of the
// registry. So the polls of a writer waiting for credits (nothing published meanwhile)
// rescan with acquire loads of the states and cursors only (fenced_rescans() counts the
// fenced ones).
// try_write then says status::full instead of overwriting; write() waits by its wait
// strategy. Parking (wait.hpp's protocol, on control.writer_park): the writer stores
// parked, heavy_fence, rescans, futex-sleeps; a credited reader, after each cursor store,
// takes a light fence and loads writer_park (the notify of wait.hpp: no RMW, no fence
// while the writer runs), and wakes it when parked. A credited reader that leaves frees
// its entry and wakes it with a full fence (a rare path).
//
// Skips (skip(g); layout.hpp "Skips"): skipped = 1 (relaxed), seq += g, head = seq
// (release), step 6. No entry, no payload, no dirty: a skip overwrites nothing, so it
// never waits for credits and never says full. The gate still counts sequences, skipped
// ones included (a cursor c allows writes up to c + depth - 1), with one exception: a
// cursor inside the writer's latest run of skipped sequences [from, to] counts as to + 1.
// Such a reader has consumed everything before the run and the run holds nothing, so no
// entry or payload it still needs is overwritten; without it a caught-up credited reader
// would hold the writer a whole skip behind until its next read (and a skip of depth or
// more would block the next write until then). That reader may then find its entry
// lapped by a message after the run: its lag path resumes at the oldest message still in
// the ring (layout.hpp "Skips"), which the gate kept, so it loses no message. A cursor in an
// older run, or before the run, is held back by the skipped sequences as by messages
// (stricter, never wrong; a re-attached writer forgets the run the same way). pos(c) for
// a skipped c is the position of an older message in c's entry (or 0): also stricter. The exception is one
// comparison in rescan(), off the publish path.
//
// Counters (options::metrics; layout.hpp "Counters", stats.hpp): a write that found the
// credits exhausted counts one credit wait (try_write's full, or write()'s wait), its futex
// sleeps count in writer_parks after the wait, and each bell ring in reader_wakes. Metrics
// off, those slow paths test one flag and the publish path nothing.
//
// Errors. A payload above max_message throws ringwire::error(errc::message_too_large) and
// writes nothing: a message is never truncated. After close() every write says closed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stop_token>
#include <string>
#include <utility>

#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/byte_broadcast/stats.hpp"
#include "ringwire/detail/call_surface.hpp"
#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/metrics.hpp"
#include "ringwire/placement/memory.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::byte_broadcast {

namespace detail {

template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

}  // namespace detail

// What an endpoint is made with besides its ring (the geometry is the ring's own).
struct options {
  // Count slow-path events in the ring's memory, readable from outside (stats.hpp): the
  // writer's credit waits, parks and bell rings; a credited reader's received and parks.
  bool metrics = false;
  // Where a heap ring's memory lives (placement/memory.hpp), read by channel() only;
  // default: an ordinary allocation.
  memory_options memory = {};
};

template <class Sync = std_sync>
class writer : public ringwire::detail::endpoint<writer<Sync>, detail::ring_ref<Sync>>,
               public ringwire::detail::write_calls<writer<Sync>, std::uint64_t, Sync> {
  using base = ringwire::detail::endpoint<writer<Sync>, detail::ring_ref<Sync>>;
  using base::metrics_, base::ref_, base::scope_, base::wait_;
  using ring = layout<Sync>;

 public:
  using tag_type = std::uint64_t;  // a message's signature: concepts.hpp's record_writer

  writer() noexcept = default;
  // Takes the writing end of a formatted ring. Resumes after whatever the ring holds: the
  // next sequence after head, the next chunk at dirty (never below any written byte).
  // scope: fence_scope::cross_process when readers may be other processes (shared memory):
  // real fences and process-shared futexes for the park protocol; resolved once here.
  explicit writer(detail::ring_ref<Sync> ref, fence_scope scope = fence_scope::process, const options& opt = {}) noexcept
      : base(std::move(ref), wait_strategy::park(), Sync::resolve_scope(scope), opt.metrics) {
    ring* l = ref_.get();
    g_ = geometry{l->header.depth, l->header.region_bytes, l->header.max_message, l->header.max_credited};
    // relaxed: endpoints are made before they are handed to their threads.
    seq_ = l->head.head.load(std::memory_order_relaxed);
    dirty_ = l->dirty.dirty.load(std::memory_order_relaxed);
    pos_ = dirty_;
    mask_ = g_.depth - 1;
    region_mask_ = g_.region_bytes - 1;
    meta_ = &l->meta(0);
    payload_ = l->payload();
    credited_ = g_.max_credited > 0;
  }
  // A move copies every field: the source is closed by its empty reference.
  writer(writer&&) noexcept = default;
  writer& operator=(writer&&) noexcept = default;  // closes this writer first (detail/endpoint.hpp)
  ~writer() { close(); }

  // Writes (publishes) `payload` as one message. ok, full (credits: a credited reader would
  // lose a message) or closed. Throws error(message_too_large) above max_message.
  status try_write(std::uint64_t signature, std::span<const std::byte> payload, std::uint16_t ctl = ctl_whole) {
    if (ref_.get() == nullptr) return status::closed;
    check_size(payload.size());
    const std::uint64_t a = place(payload.size());
    if (credited_ && !may_write(a + ring::align8(payload.size()))) [[unlikely]] {
      if (metrics_) ringwire::detail::bump(ref_.get()->head.credit_waits);  // the only writer: relaxed load + store
      return status::full;
    }
    store_message(signature, payload, ctl, a);
    return status::ok;
  }

  // As try_write, but waits (wait strategy) while credits are exhausted; lossy never waits.
  // write(signature, payload[, ctl]), write(signature, payload, stop[, ctl]), write_for and
  // write_until (ctl last, ctl_whole when left out) come from ringwire::detail::write_calls
  // (detail/call_surface.hpp), over write_limited below. A stop request says cancelled and
  // writes nothing.

  // Advances the sequence by g without writing an entry or a payload byte: sequences
  // published() + 1 .. published() + g never exist here, and every reader counts exactly
  // those it had not passed as missed (status::lagged; see "Skips" at the top). Never waits
  // and needs no credits (it overwrites nothing). ok (g == 0: nothing done), or closed.
  // Precondition: published() + g < layout::max_seq, 2^62 (checked with RINGWIRE_CHECKS).
  status skip(std::uint64_t g) noexcept {
    RINGWIRE_ASSERT(g < ring::max_seq - seq_ && "skip: the sequence would leave the stamp range");
    ring* const l = ref_.get();
    if (l == nullptr) return status::closed;
    if (g == 0) return status::ok;
    // relaxed: a reader acts on it only after an acquire load of the head stored below
    // (release), or of closed, or after the park protocol's fence pair (wake_parked).
    l->control.skipped.store(1, std::memory_order_relaxed);
    if (skip_to_ != seq_) skip_from_ = seq_ + 1;  // else this run continues the last one
    seq_ += g;
    skip_to_ = seq_;
    // release: the flag and every earlier commit happen-before a reader's acquire load of
    // head, from which it concludes that an entry n <= head without stamp 2n was skipped.
    l->head.head.store(seq_, std::memory_order_release);
    wake_parked(l);
    return status::ok;
  }

  // Closes the ring: readers drain what is still valid, then see closed. Idempotent.
  void close() noexcept {
    ring* l = ref_.get();
    if (l == nullptr) return;
    // release: every publish happens-before a reader's acquire load that sees closed.
    l->control.closed.store(1, std::memory_order_release);
    if constexpr (Sync::parks) {
      // A rare path: a real fence (the Dekker half against a parking reader's heavy fence).
      Sync::full_fence();
      // relaxed: ordered after the closed store by the fence (layout.hpp "Parking").
      if (l->control.parked.load(std::memory_order_relaxed) != 0) ring_bell(l);
    }
    ref_.reset();
  }

  [[nodiscard]] bool is_closed() const noexcept { return ref_.get() == nullptr; }
  [[nodiscard]] std::uint64_t published() const noexcept { return seq_; }
  [[nodiscard]] std::uint64_t max_message() const noexcept { return g_.max_message; }
  [[nodiscard]] std::uint64_t depth() const noexcept { return g_.depth; }
  [[nodiscard]] std::uint64_t region_bytes() const noexcept { return g_.region_bytes; }
  // Registry rescans so far (credits only): the cost of flow control.
  [[nodiscard]] std::uint64_t rescans() const noexcept { return rescans_; }
  // Rescans that took the full fence (the first after a publish; the polls of a waiting
  // writer do not).
  [[nodiscard]] std::uint64_t fenced_rescans() const noexcept { return fenced_rescans_; }
  // Futex wakes of parked readers (bell rings) so far: 0 while no reader ever parked.
  [[nodiscard]] std::uint64_t wakes() const noexcept { return wakes_; }
  // Futex sleeps of this writer while it waited for credits (wait_strategy::park).
  [[nodiscard]] std::uint64_t parks() const noexcept { return parks_; }
  [[nodiscard]] fence_scope scope() const noexcept { return scope_; }
  // A read-only view of the ring's counters (stats.hpp); empty once this writer is closed.
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 private:
  friend class ringwire::detail::write_calls<writer<Sync>, std::uint64_t, Sync>;

  status write_limited(std::uint64_t signature, std::span<const std::byte> payload,
                       const ringwire::detail::wait_limits& lim, std::uint16_t ctl = ctl_whole) {
    if (ref_.get() == nullptr) return status::closed;
    check_size(payload.size());
    const std::uint64_t a = place(payload.size());
    if (credited_) {
      const std::uint64_t end = a + ring::align8(payload.size());
      if (!may_write(end)) {
        ring* const l = ref_.get();
        // the only writer (all three bumps): a relaxed load and store each.
        if (metrics_) ringwire::detail::bump(l->head.credit_waits);
        const std::uint64_t parks_before = parks_;
        // Parks on control.writer_park (wait.hpp); credited readers notify it after every
        // cursor store. Every poll after the first is a cheap rescan (see rescan()).
        const status st = ringwire::detail::wait_until<Sync>(wait_, l->control.writer_park, scope_,
                                                             ref_.watch(lim), parks_, [&] { return may_write(end); });
        if (metrics_ && parks_ != parks_before) ringwire::detail::bump(l->head.writer_parks, parks_ - parks_before);
        if (st != status::ok) return st;
      }
    }
    store_message(signature, payload, ctl, a);
    return status::ok;
  }

  void check_size(std::size_t n) const {
    if (n > g_.max_message) [[unlikely]]
      throw error(errc::message_too_large, "payload of " + std::to_string(n) + " bytes exceeds max_message " +
                                               std::to_string(g_.max_message) + " (never truncated)");
  }

  // Where a chunk of n bytes starts: pos_, or the next region start if it would wrap.
  [[nodiscard]] std::uint64_t place(std::uint64_t n) const noexcept {
    const std::uint64_t len = ring::align8(n);
    if ((pos_ & region_mask_) + len > g_.region_bytes) return (pos_ | region_mask_) + 1;
    return pos_;
  }

  void store_message(std::uint64_t signature, std::span<const std::byte> payload, std::uint16_t ctl, std::uint64_t a) noexcept {
    ring* const l = ref_.get();
    const std::uint64_t n = seq_ + 1;
    const std::uint64_t len = ring::align8(payload.size());
    const std::uint64_t end = a + len;
    if (end > dirty_) {
      dirty_ = end + g_.region_bytes / 8;
      // relaxed: ordered before the payload stores by the release fence below.
      l->dirty.dirty.store(dirty_, std::memory_order_relaxed);
      // release fence: a reader whose copy saw any payload store below sees this dirty
      // (or later) after its acquire fence, and rejects the copy (layout.hpp).
      Sync::fence(std::memory_order_release);
    }
    std::uint64_t* const words = payload_ + ((a & region_mask_) >> 3);
    const std::size_t full = payload.size() / 8;
    for (std::size_t i = 0; i < full; ++i) {
      std::uint64_t w;
      std::memcpy(&w, payload.data() + i * 8, 8);
      // relaxed: may race with a reader's copy; dirty and the stamps carry the ordering.
      Sync::word(words[i]).store(w, std::memory_order_relaxed);
    }
    if (const std::size_t tail = payload.size() % 8; tail != 0) {
      std::uint64_t w = 0;
      std::memcpy(&w, payload.data() + full * 8, tail);
      // relaxed: as above.
      Sync::word(words[full]).store(w, std::memory_order_relaxed);
    }

    typename ring::meta_entry& e = meta_[n & mask_];
    // relaxed: ordered before the field stores by the release fence below.
    e.stamp.store(ring::writing(n), std::memory_order_relaxed);
    // release fence: a reader whose field load sees a store below sees this odd stamp (or
    // later) in its re-check, after its acquire fence.
    Sync::fence(std::memory_order_release);
    const auto ts = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Sync::now().time_since_epoch()).count());
    // relaxed: the stamps carry the ordering (seqlock).
    Sync::word(e.signature).store(signature, std::memory_order_relaxed);
    Sync::word(e.pos).store(a, std::memory_order_relaxed);
    Sync::word(e.size_ctl).store(ring::pack(static_cast<std::uint32_t>(payload.size()), ctl), std::memory_order_relaxed);
    Sync::word(e.tspub).store(ts, std::memory_order_relaxed);
    // release: payload and fields happen-before a reader's acquire load that sees 2n.
    e.stamp.store(ring::committed(n), std::memory_order_release);
    // release: a reader that resynchronises from head (acquire) finds message n committed.
    l->head.head.store(n, std::memory_order_release);
    seq_ = n;
    pos_ = end;
    wake_parked(l);
  }

  // Step 6, after every head store (a publish's or a skip's): the waker's half of the park
  // protocol (layout.hpp "Parking"), paired with a parking reader's heavy fence between its
  // parked store and its re-check.
  void wake_parked(ring* l) noexcept {
    if constexpr (Sync::parks) {
      Sync::light_fence(scope_);
      // relaxed: ordered after the stamp and head stores by the light fence.
      if (l->control.parked.load(std::memory_order_relaxed) != 0) [[unlikely]] ring_bell(l);
    }
  }

  // Wakes every parked reader. Cold: reached only when some reader is parking, and on close.
  [[gnu::noinline, gnu::cold]] void ring_bell(ring* l) noexcept {
    // relaxed: clears the flag for the sleepers this ring wakes (each stores it again before
    // it sleeps again); ordered before the bump below. Another writer-side path (a reap)
    // may have rung already: then there is nobody to wake.
    if (l->control.parked.exchange(0, std::memory_order_relaxed) == 0) return;
    ++wakes_;
    if (metrics_) ringwire::detail::bump(l->head.reader_wakes);  // the only writer: relaxed load + store
    // release: a reader whose bell load (acquire) sees this bump sees our publish in its
    // re-check; the bump before the wake makes a reader that read the old value and has
    // not slept yet find bell != b (the kernel refuses to sleep).
    l->control.bell.fetch_add(1, std::memory_order_release);
    Sync::unpark_all(l->control.bell, scope_);
  }

  // Credits: may the next message (seq_ + 1), ending at stream byte `end`, be written?
  bool may_write(std::uint64_t end) noexcept {
    if (seq_ + 1 <= limit_seq_ && end <= limit_end_) [[likely]] return true;
    rescan();
    return seq_ + 1 <= credit_seq_ && end <= credit_end_;
  }

  // Reads the registry: credit_* are the real limits the slowest credited reader allows;
  // limit_* add the rescan cadence (the next publish past them rescans first).
  void rescan() noexcept {
    ring* const l = ref_.get();
    ++rescans_;
    // Dekker with a joining credited reader's fence (see the top of this header): after
    // our last head store, before reading the registry. Once per head store: a waiting
    // writer's polls store no head, and the fence already taken orders them too.
    if (fenced_seq_ != seq_) {
      fenced_seq_ = seq_;
      ++fenced_rescans_;
      Sync::full_fence();
    }
    std::uint64_t c = std::numeric_limits<std::uint64_t>::max();
    for (std::uint32_t i = 0; i < g_.max_credited; ++i) {
      auto& ce = l->credit(i);
      // acquire: a live entry's cursor is read after the state that made it live.
      if (ce.state.load(std::memory_order_acquire) != ring::credit_live) continue;
      // acquire: the reader's copies of messages below its cursor happen-before our
      // overwrite of them.
      std::uint64_t cur = ce.cursor.load(std::memory_order_acquire);
      if (cur >= skip_from_ && cur <= skip_to_) cur = skip_to_ + 1;  // inside the latest skipped run: see the top
      c = std::min(c, cur);
    }
    credit_seq_ = credit_end_ = std::numeric_limits<std::uint64_t>::max();
    if (c <= seq_) {  // a credited reader has not consumed message c yet
      credit_seq_ = c + g_.depth - 1;
      if (c + g_.depth > seq_) {  // else c's entry is gone (a provisional cursor): seq blocks
        // relaxed: our own store (single writer); the entry still holds message c.
        const std::uint64_t pos_c = Sync::word(meta_[c & mask_].pos).load(std::memory_order_relaxed);
        // Less one dirty step: the dirty value a write stores (end + region/8) must not
        // pass pos(c) + region either, or the reader would reject message c as overwritten (lagged).
        credit_end_ = pos_c + g_.region_bytes - g_.region_bytes / 8;
      }
    }
    // The cadence: between two rescans every write ends below pos_ + region/2, so with the
    // dirty step it stays clear of a reader that joined after this rescan (it starts at or
    // after pos_); the write that passes it rescans first and sees that reader.
    limit_seq_ = std::min(credit_seq_, seq_ + std::max<std::uint64_t>(1, g_.depth / 2));
    limit_end_ = std::min(credit_end_, pos_ + g_.region_bytes / 2);
  }

  geometry g_{};
  std::uint64_t seq_ = 0;    // newest published sequence
  std::uint64_t pos_ = 0;    // stream position after the newest chunk
  std::uint64_t dirty_ = 0;  // the dirty value last stored
  std::uint64_t mask_ = 0;
  std::uint64_t region_mask_ = 0;
  std::uint64_t limit_seq_ = 0;   // credits: newest sequence we may publish before a rescan
  std::uint64_t limit_end_ = 0;   // credits: stream byte a write may end at before a rescan
  std::uint64_t credit_seq_ = 0;  // credits: what the slowest reader allows (last rescan)
  std::uint64_t credit_end_ = 0;
  std::uint64_t rescans_ = 0;
  std::uint64_t fenced_rescans_ = 0;
  std::uint64_t fenced_seq_ = ~std::uint64_t{0};  // seq_ at the last fenced rescan (none yet)
  std::uint64_t wakes_ = 0;
  std::uint64_t parks_ = 0;
  std::uint64_t skip_from_ = 1, skip_to_ = 0;  // the latest run of skipped sequences (empty: none)
  typename ring::meta_entry* meta_ = nullptr;
  std::uint64_t* payload_ = nullptr;
  bool credited_ = false;
};

}  // namespace ringwire::byte_broadcast
