// ringwire/byte_broadcast/reader.hpp -- a lossy reader of a byte broadcast ring (credited: credited_reader.hpp).
//
// A lossy reader writes nothing to the ring (it works on a read-only mapping); its state --
// the next sequence n, its counters, its own copy of the validated geometry -- lives in the
// endpoint. Copyable: a copy is an independent reader at the same position. One read of
// message n (layout.hpp has the protocol):
//   s1 = stamp (acquire)
//     < 2n   not yet written: empty (or closed, once the writer closed and n never came);
//     > 2n   lapped: the entry holds a later message m. status lagged, missed() = exactly the
//            messages skipped, and the reader resumes at the oldest entry that can still be
//            valid, max(m, head) - depth + 1: never stuck, always at least one step on;
//     = 2n   fields (relaxed words); fence(acquire); s2 = stamp: s2 != s1 is a lap as above.
//            Now the fields are message n's: filter on the signature (a skipped message is
//            counted in filtered(), not missed()), bounds-check size and position against
//            the reader's own geometry (corrupt if impossible: skipped, counted missed),
//            check the buffer (too_small: nothing consumed, retry with a larger one), copy
//            the payload (relaxed words) or hand fn a view of it; fence(acquire); s3 =
//            stamp and d = dirty: accepted iff s3 == s1 and d <= pos + region. A payload
//            overwritten meanwhile is lost like a lapped one: status lagged, missed() = 1,
//            and the reader moves on. Payloads already overwritten before the copy (dirty
//            checked first, cheaply) are skipped in one run without copying, reported as
//            one lagged result (missed() = the run) before the outcome that ends the run,
//            which the next read returns: an ok result always says missed() == 0.
//   Skips (writer::skip; layout.hpp "Skips"): where s1 < 2n and the ring's skipped flag is
//   set, head (acquire) >= n means n was skipped: the reader passes to the oldest message
//   still in [n, head] (head + 1 if none), counting every sequence passed over in missed()
//   and in the current run's lagged result. A lap on such a ring resumes at that oldest
//   message too. So received() + missed() == sequences from the start up to the last one
//   passed, skipped ones included, exactly; a skipped sequence is never delivered, never
//   corrupt, never waited for. Readers of fragments (ctl_som / ctl_eom) see a skip inside
//   a message as the lagged result between its fragments: drop the open message there, as
//   after a lap.
//
// Zero-copy reads (try_read_view) are validate-after-use, like Firedancer's: fn runs on the
// ring's memory while the writer may be overwriting it, and only the result says whether
// what fn saw was message n. fn must treat the bytes as untrusted until then -- copy or
// parse them, act only when the result is ok. (The view's plain loads race with the
// writer's atomic stores: outside the C++ model's guarantees, as in every seqlock that
// hands out memory; the copying reads use relaxed atomics and are race-free.)
//
// Credited readers (the writer waits for them): credited_reader.hpp.
//
// Counters (options::metrics; layout.hpp "Counters", stats.hpp). A credited reader shows
// received() and parks() since it joined in its entry's second line whenever a read finds
// nothing new and after each park: slow paths, never per message (its cursor store is
// the only store per message). A lossy reader has no entry and shows nothing.
//
// Blocking reads (read, read_for, read_until, read with a stop_token) poll with the wait
// strategy's spins first. Then wait_strategy::park (the default, as for every ringwire
// endpoint; set_wait() picks another) sleeps on the ring's bell (layout.hpp "Parking"):
//   b = bell (acquire); parked = 1; heavy_fence; re-check; futex_wait(bell, b)
// until the writer publishes or skips (it bumps the bell only when parked != 0), closes, the
// deadline passes or the stop token fires (its callback bumps the bell and wakes every
// sleeper: the others re-check and sleep again). busy_spin / spin_then_yield / backoff
// never write to the ring (a read-only mapping is fine); park needs a writable one, and on
// a reader marked read-only (mark_read_only) polls like spin_then_yield instead.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/byte_broadcast/stats.hpp"
#include "ringwire/byte_broadcast/writer.hpp"
#include "ringwire/detail/call_surface.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::byte_broadcast {

// A message's metadata, as validated by the read.
struct message_info {
  std::uint64_t seq = 0;
  std::uint64_t signature = 0;
  std::uint64_t tspub = 0;  // the writer's steady clock at publish, ns
  std::uint32_t size = 0;
  std::uint16_t ctl = 0;
};

// The outcome of a read, in the style of recv_result (status.hpp): true when a message was
// read and validated (its payload is in the caller's buffer, or was what try_read_view's fn
// saw). Otherwise status() says why: empty, closed, timed_out, cancelled; lagged (missed()
// messages were overwritten before this reader got to them: it resumed after them);
// too_small (info().size says how large a buffer the message needs); corrupt (an
// impossible entry in hostile memory was skipped: missed() == 1).
class read_result {
 public:
  read_result() noexcept = default;  // empty
  explicit read_result(ringwire::status why, std::uint64_t missed = 0, const message_info& info = {}) noexcept
      : info_(info), missed_(missed), status_(why) {}

  [[nodiscard]] explicit operator bool() const noexcept { return status_ == ringwire::status::ok; }
  [[nodiscard]] ringwire::status status() const noexcept { return status_; }
  // Messages this outcome lost: non-zero only for lagged (the exact count) and corrupt (1).
  // An ok read says 0: a loss before a message is its own lagged result (status.hpp).
  [[nodiscard]] std::uint64_t missed() const noexcept { return missed_; }
  // ok: the message's metadata; too_small and corrupt: its seq and size; otherwise zeros.
  [[nodiscard]] const message_info& info() const noexcept { return info_; }

 private:
  message_info info_{};
  std::uint64_t missed_ = 0;
  ringwire::status status_ = ringwire::status::empty;
};

// Where a new reader starts.
enum class start_at : std::uint8_t { next, oldest };

template <class Sync>
class credited_reader;

template <class Sync = std_sync>
class reader : public ringwire::detail::endpoint<reader<Sync>, detail::ring_ref<Sync>>,
               public ringwire::detail::read_calls<reader<Sync>, std::span<std::byte>, read_result, Sync> {
  using base = ringwire::detail::endpoint<reader<Sync>, detail::ring_ref<Sync>>;
  using base::metrics_, base::ref_, base::scope_, base::wait_;
  using ring = layout<Sync>;

 public:
  // concepts.hpp's record_reader: reads copy into a span and say a read_result.
  using buffer_type = std::span<std::byte>;
  using result_type = read_result;

  reader() noexcept = default;
  // A reader of a formatted ring whose geometry `g` was validated (ring::validate).
  // scope: fence_scope::cross_process when the writer may be another process (shared
  // memory): real fences and process-shared futexes when parking; resolved once here.
  // opt.metrics: a credited reader made from it shows its counters (see the top).
  reader(detail::ring_ref<Sync> ref, const geometry& g, start_at from, fence_scope scope = fence_scope::process,
         const options& opt = {}) noexcept
      : base(std::move(ref), wait_strategy::park(), Sync::resolve_scope(scope), opt.metrics), g_(g) {
    ring* l = ref_.get();
    auto* base = reinterpret_cast<std::byte*>(l);
    meta_ = std::launder(reinterpret_cast<typename ring::meta_entry*>(base + ring::meta_offset(g)));
    payload_ = reinterpret_cast<std::uint64_t*>(base + ring::payload_offset(g));
    mask_ = g.depth - 1;
    region_mask_ = g.region_bytes - 1;
    // acquire: pairs with the writer's release store of head.
    const std::uint64_t h = l->head.head.load(std::memory_order_acquire);
    n_ = from == start_at::oldest && h >= g.depth ? h - g.depth + 1 : (from == start_at::oldest ? 1 : h + 1);
  }
  reader(const reader& o) noexcept : base() { copy_from(o); }
  reader& operator=(const reader& o) noexcept {
    if (this != &o) copy_from(o);
    return *this;
  }
  // A move copies every field but the reference (and a credited reader's entry, which stays
  // with its credited_reader): the source reads closed.
  reader(reader&&) noexcept = default;
  reader& operator=(reader&&) noexcept = default;  // closes this reader first (detail/endpoint.hpp)
  ~reader() = default;                              // nothing to tell the writer: see close()

  // ---- non-blocking -------------------------------------------------------------------
  // Copies the next message into `out`. too_small leaves it unread.
  read_result try_read(std::span<std::byte> out) noexcept {
    return poll([&](const message_info& m, std::uint64_t* words) noexcept {
      if (m.size > out.size()) return false;
      const std::size_t full = m.size / 8;
      for (std::size_t i = 0; i < full; ++i) {
        // relaxed: may race with an overwrite; dirty and the re-check reject such a copy.
        const std::uint64_t w = Sync::word(words[i]).load(std::memory_order_relaxed);
        std::memcpy(out.data() + i * 8, &w, 8);
      }
      if (const std::size_t tail = m.size % 8; tail != 0) {
        // relaxed: as above.
        const std::uint64_t w = Sync::word(words[full]).load(std::memory_order_relaxed);
        std::memcpy(out.data() + full * 8, &w, tail);
      }
      return true;
    });
  }

  // Zero-copy, validate-after-use: calls fn(const message_info&, std::span<const std::byte>)
  // on the payload in place, then validates. ok: what fn saw was exactly message info.seq;
  // anything else: fn's view was (or may have been) overwritten -- discard what fn derived.
  template <class Fn>
  read_result try_read_view(Fn&& fn) noexcept(std::is_nothrow_invocable_v<Fn&, const message_info&, std::span<const std::byte>>)
    requires std::is_invocable_v<Fn&, const message_info&, std::span<const std::byte>>
  {
    return poll([&](const message_info& m, std::uint64_t* words) {
      fn(m, std::span<const std::byte>(reinterpret_cast<const std::byte*>(words), m.size));
      return true;
    });
  }

  // ---- blocking (the wait strategy; park sleeps on the ring's bell, see the top) ---------
  // A timeout returns timed_out, a stop request cancelled; neither consumes anything.
  // read(out), read(out, stop), read_for and read_until come from
  // ringwire::detail::read_calls (detail/call_surface.hpp), over read_limited below.

  // ---- filtering and state --------------------------------------------------------------
  // The ring is mapped read-only (shm::byte_broadcast::attach_reader on a read_only segment
  // calls it): this reader never stores to the ring, so wait_strategy::park degrades to
  // spin_then_yield (parking flags the bell) and credited() throws invalid_options (a
  // credited reader stores its cursor), instead of faulting on the first store.
  void mark_read_only() noexcept { read_only_ = true; }
  // Only messages with (signature & mask) == value are delivered; the others are consumed
  // without touching their payload and counted in filtered(). mask 0 delivers everything.
  void set_filter(std::uint64_t value, std::uint64_t mask) noexcept {
    filter_value_ = value & mask;
    filter_mask_ = mask;
  }
  // Drops this reader's reference: later reads report closed. The writer is not told (a
  // lossy reader is invisible to it; a credited_reader leaves its entry itself). Idempotent.
  void close() noexcept { ref_.reset(); }

  [[nodiscard]] std::uint64_t next_seq() const noexcept { return n_; }
  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
  [[nodiscard]] std::uint64_t missed() const noexcept { return missed_; }
  [[nodiscard]] std::uint64_t filtered() const noexcept { return filtered_; }
  [[nodiscard]] const geometry& shape() const noexcept { return g_; }
  [[nodiscard]] bool attached() const noexcept { return ref_.get() != nullptr; }
  // Futex sleeps so far (wait_strategy::park).
  [[nodiscard]] std::uint64_t parks() const noexcept { return parks_; }
  [[nodiscard]] fence_scope scope() const noexcept { return scope_; }
  // A read-only view of the ring's counters (stats.hpp); empty once this reader is closed.
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

  // A credited reader starting at the next message: the writer never overwrites what it has
  // not consumed. Throws error(invalid_options) when the ring has no credits,
  // error(too_many_subscribers) when every registry entry is taken.
  [[nodiscard]] credited_reader<Sync> credited() const { return credited_reader<Sync>(*this); }

 private:
  friend class credited_reader<Sync>;
  friend class ringwire::detail::read_calls<reader<Sync>, std::span<std::byte>, read_result, Sync>;

  template <class Sink>
  read_result poll(Sink&& sink) {
    ring* const l = ref_.get();
    if (l == nullptr) return read_result(status::closed);
    // Messages found overwritten before their copy began are skipped in one run (after a
    // lap the oldest entries' payloads are usually gone too). The run is reported as one
    // lagged result when it ends, before the outcome that ends it: that entry is left
    // unconsumed for the next read, so an ok result never carries a loss (status.hpp).
    std::uint64_t dropped = 0;
    for (;;) {
      typename ring::meta_entry& e = meta_[n_ & mask_];
      // acquire: pairs with the writer's release store of the committed stamp.
      const std::uint64_t s1 = e.stamp.load(std::memory_order_acquire);
      if (s1 < ring::committed(n_)) {
        // acquire: every publish and skip happens-before the closed flag (writer::close).
        const bool closed = l->control.closed.load(std::memory_order_acquire) != 0;
        // relaxed: a hint on closed's line (no new line for the empty path); the acquire
        // load of head below orders what we conclude. A stale 0 is a poll too early (the
        // next sees it; a parking reader's re-check reads it after the fence pair); after
        // closed (acquire) it is current.
        if (l->control.skipped.load(std::memory_order_relaxed) != 0) [[unlikely]] {
          // acquire: pairs with the writer's release store of head: every commit up to h
          // is visible, so an entry k <= h without stamp 2k was skipped ("Skips" above).
          const std::uint64_t h = l->head.head.load(std::memory_order_acquire);
          if (h >= n_ && h < ring::max_seq) {
            dropped += pass(oldest_present(h));  // 0: n_ itself landed meanwhile
            continue;
          }
        }
        if (dropped != 0) return read_result(status::lagged, dropped);
        if (!closed) {
          if (metrics_) show_counters();  // caught up: the monitor's numbers are exact now
          return read_result(status::empty);
        }
        // acquire: as the first stamp load; the message may have landed before the close.
        if (e.stamp.load(std::memory_order_acquire) >= ring::committed(n_)) continue;
        return read_result(status::closed);
      }
      if (s1 > ring::committed(n_)) return lag(ring::seq_of(s1), dropped);

      message_info m;
      m.seq = n_;
      // relaxed: validated by the re-check after the acquire fence (seqlock).
      m.signature = Sync::word(e.signature).load(std::memory_order_relaxed);
      const std::uint64_t pos = Sync::word(e.pos).load(std::memory_order_relaxed);
      const std::uint64_t size_ctl = Sync::word(e.size_ctl).load(std::memory_order_relaxed);
      m.tspub = Sync::word(e.tspub).load(std::memory_order_relaxed);
      // acquire fence: keeps the field loads before the re-check; pairs with the writer's
      // release fence after its odd stamp.
      Sync::fence(std::memory_order_acquire);
      // relaxed: ordered after the field loads by the fence.
      const std::uint64_t s2 = e.stamp.load(std::memory_order_relaxed);
      if (s2 != s1) return lag(ring::seq_of(s2), dropped);
      m.size = static_cast<std::uint32_t>(size_ctl);
      m.ctl = static_cast<std::uint16_t>(size_ctl >> 32);

      if ((m.signature & filter_mask_) != filter_value_) {
        ++filtered_;
        advance();
        continue;
      }
      const std::uint64_t off = pos & region_mask_;
      if (m.size > g_.max_message || off + ring::align8(m.size) > g_.region_bytes) {
        if (dropped != 0) return read_result(status::lagged, dropped);
        advance();
        ++missed_;
        return read_result(status::corrupt, 1, m);
      }
      // relaxed: a cheap early look (it only rejects); the binding check follows the copy.
      if (l->dirty.dirty.load(std::memory_order_relaxed) > pos + g_.region_bytes) {
        ++dropped;
        ++missed_;
        advance();
        continue;
      }
      if (dropped != 0) return read_result(status::lagged, dropped);
      if (!sink(m, payload_ + (off >> 3))) return read_result(status::too_small, 0, m);
      // acquire fence: keeps the payload loads before the checks below; pairs with the
      // writer's release fences (after its dirty store and after its odd stamp).
      Sync::fence(std::memory_order_acquire);
      // relaxed: ordered after the payload loads by the fence.
      const std::uint64_t s3 = e.stamp.load(std::memory_order_relaxed);
      if (s3 != s1) return lag(ring::seq_of(s3), 0);
      // relaxed: ordered after the payload loads by the fence.
      if (l->dirty.dirty.load(std::memory_order_relaxed) > pos + g_.region_bytes) {
        // Overwritten during the copy: a loss like any other, reported as lagged.
        ++missed_;
        advance();
        return read_result(status::lagged, 1);
      }
      ++received_;
      advance();
      return read_result(status::ok, 0, m);
    }
  }

  read_result read_limited(std::span<std::byte> out, const ringwire::detail::wait_limits& given) {
    const ringwire::detail::wait_limits lim = ref_.watch(given);  // a shared-memory peer check
    for (;;) {
      read_result r = try_read(out);
      if (r.status() != status::empty) return r;
      ring* const l = ref_.get();
      // relaxed (all): a hint; the read that follows re-reads everything with its own
      // orders. When parking, ordered after the parked increment by the heavy fence.
      auto ready = [&] {
        return meta_[n_ & mask_].stamp.load(std::memory_order_relaxed) >= ring::committed(n_) ||
               l->control.closed.load(std::memory_order_relaxed) != 0 ||
               (l->control.skipped.load(std::memory_order_relaxed) != 0 &&
                l->head.head.load(std::memory_order_relaxed) >= n_);  // a skip to report
      };
      // A read-only reader cannot set the parked flag the writer reads: it polls.
      const std::uint64_t parks_before = parks_;
      const status st =
          read_only_ ? ringwire::detail::wait_with<Sync>(wait_, ringwire::detail::no_parking{}, scope_, lim, parks_, ready)
                     : ringwire::detail::wait_with<Sync>(
                           wait_, ringwire::detail::epoch_parking<Sync, false>{l->control.parked, l->control.bell, scope_},
                           scope_, lim, parks_, ready);
      if (metrics_ && parks_ != parks_before) show_counters();
      if (st == status::timed_out || st == status::cancelled) return read_result(st);
      if (st != status::ok) return read_result(status::closed);
    }
  }

  // Message n_ was replaced by message m (committed or being written), so head >= m - 1.
  // `dropped`: messages of the current run already skipped (and counted) before this lap.
  // The oldest entry that can still be valid is the window's, newest - depth + 1; on a ring
  // with skips the window may hold skipped sequences and an older message may outlive it
  // (its later twins were skipped), so there: the oldest message still in its entry.
  read_result lag(std::uint64_t m, std::uint64_t dropped) noexcept {
    ring* const l = ref_.get();
    // acquire: pairs with the writer's release store of head (and makes every commit up to
    // h visible to oldest_present's stamp loads).
    const std::uint64_t h = l->head.head.load(std::memory_order_acquire);
    const std::uint64_t newest = std::max(m, h);
    std::uint64_t oldest = newest >= g_.depth ? newest - g_.depth + 1 : 1;
    // relaxed: after head's acquire, which the flag's store precedes.
    if (l->control.skipped.load(std::memory_order_relaxed) != 0 && h >= n_ && h < ring::max_seq) [[unlikely]]
      oldest = oldest_present(h);
    if (oldest <= n_) oldest = n_ + 1;  // only hostile memory gets here: still move on
    return read_result(status::lagged, pass(oldest) + dropped);
  }

  // The oldest k in [n_, h] whose entry holds message k committed, else h + 1. Precondition:
  // n_ <= h, h loaded (acquire) from head after the writer's store, so every commit up to h
  // is visible here and a stamp below 2k means k was skipped (one writer, which stores head
  // after each commit). At most min(h - n_ + 1, depth) stamp loads, only on a ring with
  // skips and only where n_ holds nothing new or was lapped: beyond depth sequences each entry holds at
  // most one candidate, so one pass over the entries finds the oldest.
  [[nodiscard]] std::uint64_t oldest_present(std::uint64_t h) const noexcept {
    // relaxed (all): ordered after the caller's acquire of head; nothing is copied here (the
    // read that follows validates the entry it resumes at with its own seqlock).
    const auto stamp = [this](std::uint64_t k) { return meta_[k & mask_].stamp.load(std::memory_order_relaxed); };
    if (h - n_ < g_.depth) {
      for (std::uint64_t k = n_; k <= h; ++k)
        if (stamp(k) == ring::committed(k)) return k;
      return h + 1;
    }
    std::uint64_t found = h + 1;
    for (std::uint64_t i = 0; i < g_.depth; ++i) {
      const std::uint64_t st = stamp(i);
      const std::uint64_t k = st / 2;
      // Committed, in range and in its own entry (a hostile stamp may claim another).
      if (st % 2 == 0 && k >= n_ && k <= h && (k & mask_) == i) found = std::min(found, k);
    }
    return found;
  }

  // Moves to `next` (>= n_), counting the sequences passed over as missed: skipped or
  // overwritten, none of them delivered. Returns how many.
  std::uint64_t pass(std::uint64_t next) noexcept {
    const std::uint64_t k = next - n_;
    if (k == 0) return 0;
    missed_ += k;
    n_ = next;
    show_cursor();
    return k;
  }

  void advance() noexcept {
    ++n_;
    show_cursor();
  }

  void show_cursor() noexcept {
    if (ack_ == nullptr) return;
    // release: our copies of every message below n_ happen-before the writer's acquire
    // load of the cursor (its rescan), and so before it overwrites them.
    ack_->cursor.store(n_, std::memory_order_release);
    // Wakes a writer parked for credits (wait.hpp's notify: a light fence and one load of
    // its park word; an RMW and a syscall only when it is parked).
    ringwire::detail::notify<Sync>(ref_.get()->control.writer_park, scope_);
  }

  // Credited, metrics on: received() and parks() since the join, into our entry's second
  // line (slow paths only: see the top).
  void show_counters() noexcept {
    if (ack_ == nullptr) return;
    // relaxed (both): statistics on our own entry's line (we are their only writer); no
    // protocol step reads them.
    ack_->received.store(received_ - received_at_join_, std::memory_order_relaxed);
    ack_->parks.store(parks_ - parks_at_join_, std::memory_order_relaxed);
  }

  void copy_from(const reader& o) noexcept {
    ref_ = o.ref_.copy();
    g_ = o.g_;
    meta_ = o.meta_;
    payload_ = o.payload_;
    mask_ = o.mask_;
    region_mask_ = o.region_mask_;
    n_ = o.n_;
    received_ = o.received_;
    missed_ = o.missed_;
    filtered_ = o.filtered_;
    filter_value_ = o.filter_value_;
    filter_mask_ = o.filter_mask_;
    wait_ = o.wait_;
    scope_ = o.scope_;
    metrics_ = o.metrics_;
    read_only_ = o.read_only_;
    parks_ = o.parks_;
    ack_ = nullptr;  // a copy is lossy: the registry entry stays with its credited_reader
  }

  geometry g_{};
  typename ring::meta_entry* meta_ = nullptr;
  std::uint64_t* payload_ = nullptr;
  std::uint64_t mask_ = 0;
  std::uint64_t region_mask_ = 0;
  std::uint64_t n_ = 1;  // next sequence to read
  std::uint64_t received_ = 0;
  std::uint64_t missed_ = 0;
  std::uint64_t filtered_ = 0;
  std::uint64_t filter_value_ = 0;
  std::uint64_t filter_mask_ = 0;
  bool read_only_ = false;  // the ring is mapped read-only: never store to it (mark_read_only)
  std::uint64_t parks_ = 0;
  typename ring::credit_entry* ack_ = nullptr;  // credited: our registry entry
  std::uint64_t received_at_join_ = 0;  // credited: received_ and parks_ when it joined (the
  std::uint64_t parks_at_join_ = 0;     // entry's counters count from there)
};

}  // namespace ringwire::byte_broadcast
