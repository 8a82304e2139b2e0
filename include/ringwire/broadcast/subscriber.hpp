// ringwire/broadcast/subscriber.hpp -- one reader of a broadcast channel.
//
// A subscriber is move-only and used by one thread at a time; any number may exist (up to
// options::max_subscribers at once), joining and leaving from any thread while the
// publisher runs. Its hot state -- the next sequence n, its slot index, its counters --
// lives in the endpoint. A receive reads one slot with the seqlock of layout.hpp and
// compares its stamp with 2n:
//   2n        the message: copy, re-check, done;
//   below 2n  not yet published: empty (or, once the publisher is closed and the slot is
//             still not there, closed);
//   above 2n  overwritten (the stamp of message m = n + k * capacity, or its write in
//             progress): lossy -> status::lagged with the exact count, resuming at the
//             oldest message of the live window; evict -> status::evicted (a live entry
//             is never overwritten under evict, so this subscriber must have been dropped).
// Skips (publisher::skip): when the stamp is not 2n and the ring's skipped flag is set, a
// receive passes the skipped run as one status::lagged with its exact count, on every
// policy (skip.hpp has the protocol).
// Gated policies (lossless, evict) show the publisher their cursor (a release store on the
// subscriber's own registry line, then SPSC's notify: the light half of the asymmetric
// fence and one load of the publisher's park word); lossy never does. Evict shows it after
// every receive. Lossless shows it after every capacity/8 receives and whenever a receive
// finds nothing new: the publisher then sees progress in steps instead of every message
// (its cached room grows by a step per rescan, and the cursor's line stops bouncing
// between the two cores on every message), and a caught-up or parking subscriber has
// always shown its true cursor, so a waiting publisher is never left waiting on a stale
// one while the subscriber waits for it. A stale cursor is never ahead of the real one,
// so it only makes the gate stricter.
//
// Joining (hub::subscribe). See the registry protocol in layout.hpp. subscribe() starts at
// the message after the head it reads; subscribe_from_oldest() at the oldest message of
// the live window, head - capacity + 1. Under a gated policy the publisher's next publish
// (head + 1) may not have seen the new entry yet -- through a concurrent race, or simply
// because its cached room still allows head + 1 and it only rescans past that -- and then
// it overwrites exactly that oldest message; a from-oldest subscriber that finds its very
// first message overwritten therefore skips it, and that one case is not counted in
// missed(). So a from-oldest join under a gated policy replays capacity - 1 messages, or
// capacity when no publish overtakes it. (Known gap: resetting the cache on join would
// close it.)
//
// Reading in place: try_recv_with(fn) / recv_with(fn) hand fn a slot_view (slot_view.hpp)
// instead of copying the message; the loads are the same relaxed atomic loads, followed by
// the same re-check, so the protocol is unchanged. Every ok result carries the message's
// sequence number (recv_result::seq()). The hub that makes subscribers: hub.hpp.
//
// Counters: received() + missed() == sequences (messages and publisher skips) from the
// starting point up to the last one this subscriber consumed or skipped, exactly (lossy);
// under lossless missed() counts only the publisher's skips and what latest() skipped on
// purpose.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/broadcast/drain.hpp"
#include "ringwire/broadcast/registry.hpp"
#include "ringwire/broadcast/skip.hpp"
#include "ringwire/broadcast/slot_view.hpp"
#include "ringwire/broadcast/stats.hpp"
#include "ringwire/broadcast/storage.hpp"
#include "ringwire/detail/call_surface.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::broadcast {

template <class T, class Sync>
class hub;

// Selects the observer constructor of subscriber (see there).
struct observe_only_t {
  explicit observe_only_t() = default;
};
inline constexpr observe_only_t observe_only{};

template <class T, class Sync = std_sync>
class subscriber : public ringwire::detail::endpoint<subscriber<T, Sync>, detail::ring_ref<Sync>>,
                   public ringwire::detail::recv_calls<subscriber<T, Sync>, T, Sync> {
  using base = ringwire::detail::endpoint<subscriber<T, Sync>, detail::ring_ref<Sync>>;
  using base::ref_, base::scope_, base::wait_, base::metrics_;
  static_assert(detail::payload_check<T>::ok);
  using ring = layout<Sync>;

 public:
  using value_type = T;

  subscriber() noexcept = default;

  // Joins (what hub::subscribe does; see above). Throws ringwire::error
  // (too_many_subscribers) when no registry entry is free. `scope`: fence_scope::
  // cross_process (or _asymmetric) when the publisher may be another process. `entry`:
  // any_entry claims the first free entry; an index joins at that entry, which the caller
  // holds exclusively by other means (shm/broadcast.hpp: the entry's claim word), replacing
  // whatever state a dead previous holder left in it.
  static constexpr std::uint32_t any_entry = ~std::uint32_t{0};
  subscriber(detail::ring_ref<Sync> ref, const options& opt, bool from_oldest,
             fence_scope scope = fence_scope::process, std::uint32_t entry = any_entry);

  // An observer: reads the ring without joining its registry, so it writes nothing to the
  // channel's memory -- it works on a read-only mapping (shm::broadcast::attach_observer).
  // It never holds a publisher back, whatever the policy, so on any policy it reads like a
  // lossy subscriber (status::lagged with the exact count when it falls a ring behind).
  // It cannot park (parking announces itself in the registry): a park strategy waits with
  // spin_then_yield instead.
  subscriber(detail::ring_ref<Sync> ref, const options& opt, bool from_oldest, fence_scope scope, observe_only_t)
      : base(std::move(ref), opt.receiver_wait, Sync::resolve_scope(scope)), observer_(true) {
    if (wait_.which() == wait_strategy::kind::park) wait_ = wait_strategy::spin_then_yield(wait_.spins());
    auto* const l = ref_.get();
    geo_ = detail::ring_geometry<Sync>(l);
    const std::uint64_t cap = geo_.capacity;
    // acquire: pairs with the publisher's release store of head.
    const std::uint64_t h = l->publisher.head.load(std::memory_order_acquire);
    n_ = from_oldest ? (h >= cap ? h - cap + 1 : 1) : h + 1;
    index_ = n_ % cap;
  }

  subscriber(subscriber&&) noexcept = default;
  subscriber& operator=(subscriber&&) noexcept = default;  // closes this subscriber first (detail/endpoint.hpp)
  ~subscriber() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  // A value (its number in seq()), or empty, lagged (missed() on the result), evicted or closed.
  recv_result<T> try_recv() noexcept {
    using words = std::array<std::uint64_t, detail::words_of<T>>;
    return receive<recv_result<T>>(
        [](detail::slot_ref<Sync> slot) noexcept {
          words w;
          for (std::size_t i = 0; i < w.size(); ++i) {
            // relaxed: may race with an overwrite; receive()'s re-check rejects such a copy.
            w[i] = Sync::word(slot.words()[i]).load(std::memory_order_relaxed);
          }
          return w;
        },
        [](const words& w, std::uint64_t n) noexcept { return recv_result<T>(at_sequence{n}, detail::from_words<T>(w)); });
  }

  // Zero-copy: calls fn(const slot_view<T, Sync>&) on the slot itself (slot_view.hpp: its
  // reads are relaxed atomic loads of only the words fn touches), then re-checks the stamp.
  // ok: fn's result, valid as of message seq(); if the slot was overwritten meanwhile, fn's
  // result is discarded and the outcome is what try_recv() says for an overwrite (lossy:
  // lagged with the exact count; evict: evicted). Every other outcome as try_recv(). fn
  // must return what it computed (a void fn could not be told its reads were torn) and
  // must not act on what it reads before that verdict: the values may mix two messages.
  // fn runs at most once per call, except in the one from-oldest skip (see the top of this
  // header), where it runs again for the next message.
  // What fn may do with the values it reads: keep them, or compute from them, as long as
  // every bit pattern of what it reads is a value of its type (integers, floating point,
  // byte arrays; not bool, enums, pointers, variants or anything with an invariant) and it
  // neither throws nor acts (I/O, branches into other state) on them: a torn mix is only
  // known to be one after fn returns. And fn must not use this subscriber (receive, close,
  // move): checked (RINGWIRE_CHECKS).
  template <class Fn>
    requires std::is_invocable_v<Fn&, const slot_view<T, Sync>&>
  auto try_recv_with(Fn&& fn) noexcept(
      std::is_nothrow_invocable_r_v<std::decay_t<std::invoke_result_t<Fn&, const slot_view<T, Sync>&>>, Fn&,
                                    const slot_view<T, Sync>&> &&
      std::is_nothrow_move_constructible_v<std::decay_t<std::invoke_result_t<Fn&, const slot_view<T, Sync>&>>>) {
    using R = std::decay_t<std::invoke_result_t<Fn&, const slot_view<T, Sync>&>>;
    static_assert(!std::is_void_v<R>,
                  "try_recv_with: fn must return what it read; its reads count only once the stamp is re-checked");
    return receive<recv_result<R>>([this, &fn](detail::slot_ref<Sync> slot) -> R {
                                     const ringwire::detail::reentry_mark in_fn(in_fn_);
                                     return fn(slot_view<T, Sync>(slot.words()));
                                   },
                                   [](R&& r, std::uint64_t n) { return recv_result<R>(at_sequence{n}, std::move(r)); });
  }

  // Copies up to out.size() messages without waiting; a lag is absorbed (counted in
  // missed()) and copying resumes at the oldest message. Stops at empty, closed or evicted.
  std::size_t recv_batch(std::span<T> out) noexcept {
    std::size_t k = 0;
    while (k < out.size()) {
      auto r = try_recv();
      if (r) {
        out[k++] = *r;
      } else if (r.status() != status::lagged) {
        break;
      }
    }
    return k;
  }

  // A draining range over what is readable now, without waiting (drain.hpp):
  //   for (const tick& t : sub.drain()) handle(t);
  using drain_range = broadcast::drain_range<subscriber, T>;
  [[nodiscard]] drain_range drain() noexcept { return drain_range(*this); }

  // Skips to the newest published message and receives it (the skipped ones count in
  // missed()). Empty when nothing newer than the last received message exists. With
  // publisher skips: the newest message still in the ring, and when the sequences up to
  // head were all skipped, empty (or closed) after counting them.
  recv_result<T> latest() noexcept {
    auto* const l = ref_.get();
    if (l != nullptr) {
      // acquire: pairs with the publisher's release store of head (and makes every commit up
      // to h visible to present_message()).
      const std::uint64_t h = l->publisher.head.load(std::memory_order_acquire);
      std::uint64_t m = h;
      // relaxed: after head's acquire, which the flag's store precedes.
      if (h >= n_ && l->control.skipped.load(std::memory_order_relaxed) != 0) [[unlikely]] {
        const std::uint64_t p = detail::present_message(geo_, n_, h, true);
        m = p != 0 ? p : h + 1;
      }
      if (m > n_) {
        missed_ += m - n_;
        jump(l, m);
      }
    }
    return try_recv();
  }

  // ---- blocking (the subscriber's wait strategy) ---------------------------------------
  // recv(), recv(stop), recv_for and recv_until come from detail::recv_calls
  // (detail/call_surface.hpp), over recv_limited below.

  // try_recv_with(fn), waiting by the wait strategy while there is nothing to read.
  template <class Fn>
  auto recv_with(Fn&& fn) {
    return wait_for([this, &fn] { return try_recv_with(fn); }, ringwire::detail::wait_limits{});
  }
  template <class Fn>
  auto recv_with(Fn&& fn, std::stop_token stop) {
    return wait_for([this, &fn] { return try_recv_with(fn); }, ringwire::detail::limits_stop(stop));
  }

  // ---- state ---------------------------------------------------------------------------
  // Messages readable now (at most capacity; more were published if a lag is pending).
  [[nodiscard]] std::uint64_t pending() const noexcept {
    auto* const l = ref_.get();
    if (l == nullptr) return 0;
    // acquire: pairs with the publisher's release store of head (an observation).
    const std::uint64_t h = l->publisher.head.load(std::memory_order_acquire);
    return h < n_ ? 0 : std::min(h - n_ + 1, geo_.capacity);
  }
  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
  [[nodiscard]] std::uint64_t missed() const noexcept { return missed_; }
  // The sequence number of the next message this subscriber will read (first is 1).
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return n_; }
  // An observer cannot park (see its constructor): park becomes spin_then_yield.
  void set_wait(const wait_strategy& w) noexcept {
    wait_ = observer_ && w.which() == wait_strategy::kind::park ? wait_strategy::spin_then_yield(w.spins()) : w;
  }

  // For a subscriber that waits in its own event loop on a shared-memory doorbell
  // (shm::broadcast::make_doorbell): counts itself parked and arms its entry's park word,
  // so that the next publish or close rings the doorbell. Returns false when a message (or
  // the close, or an eviction) is already there -- receive instead of waiting; true: wait
  // for the doorbell. The next receive disarms it; arm again before each wait. Not for an
  // observer (it has no entry): false.
  bool arm_doorbell() noexcept {
    static_assert(Sync::parks, "a doorbell needs a publisher that checks for parked subscribers: use std_sync");
    auto* const l = ref_.get();
    if (l == nullptr || observer_) return false;
    if (armed_) disarm(l);
    // relaxed: the hint, ordered before the heavy fence below (as wait_recv's).
    l->joiners.parked.fetch_add(1, std::memory_order_relaxed);
    // relaxed: published to the publisher by the heavy fence (wait.hpp's Dekker pair).
    geo_.subscriber(entry_).park.store(ringwire::detail::parked_bell, std::memory_order_relaxed);
    armed_ = true;
    Sync::heavy_fence(scope_);
    if (!readable(l)) return true;
    disarm(l);
    return false;
  }
  // True when the ring once held a stamp no publisher could have written (a ring in shared
  // memory written by a corrupt or hostile process): the subscriber closed itself then.
  [[nodiscard]] bool peer_corrupt() const noexcept { return peer_corrupt_; }
  // The registry entry this subscriber holds (an observer: none, ~0).
  [[nodiscard]] std::uint32_t registry_entry() const noexcept { return observer_ ? ~std::uint32_t{0} : entry_; }
  // The whole channel's counters for another thread (stats.hpp, detail/monitor.hpp).
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

  // Leaves the channel: frees the registry entry at once (a lossless publisher stops
  // waiting on it). Idempotent; also done by the destructor.
  void close() noexcept {
    RINGWIRE_ASSERT(!in_fn_ && "recv_with's fn must not close its own subscriber");
    auto* l = ref_.get();
    if (l == nullptr) return;
    if (observer_) {  // no entry to free
      ref_.reset();
      return;
    }
    if (armed_) disarm(l);
    auto& e = geo_.subscriber(entry_);
    // release: our last copies out of the ring happen-before a publisher that sees the
    // entry free and overwrites them. A concurrent eviction CAS expects live and fails.
    e.state.store(ring::with_kind(state_, ring::free_entry), std::memory_order_release);
    if (gated_) {
      Sync::full_fence();  // rare path: a real fence against a parking publisher
      ringwire::detail::wake<Sync>(l->control.publisher_park, scope_);
    }
    ref_.reset();
  }

 private:
  friend class ringwire::detail::recv_calls<subscriber<T, Sync>, T, Sync>;
  friend class hub<T, Sync>;

  // Joins: claims a registry entry (throws ringwire::error when none is free), see above.
  void join(bool from_oldest, std::uint32_t entry) {
    auto* const l = ref_.get();
    geo_ = detail::ring_geometry<Sync>(l);
    const std::uint64_t cap = geo_.capacity;
    gated_ = geo_.mode != policy::lossy;
    evict_ = geo_.mode == policy::evict;
    // Lossless shows its cursor every capacity/8 receives (see the top of this header);
    // evict on every receive, so the eviction distance is measured exactly; lossy only with
    // metrics, for monitors, every capacity/8.
    shows_ = gated_ || metrics_;
    show_every_ = geo_.mode == policy::evict ? 1 : std::max<std::uint64_t>(1, cap / 8);
    const auto start = [&](std::uint64_t h) { return from_oldest ? (h >= cap ? h - cap + 1 : 1) : h + 1; };
    // acquire: pairs with the publisher's release store of head.
    const std::uint64_t provisional = start(l->publisher.head.load(std::memory_order_acquire));
    // registry.hpp; without an entry this subscriber is closed (its reference dropped).
    const ring_claim c = [&] {
      try { return detail::claim_entry<Sync>(l, geo_, entry, any_entry); } catch (...) { ref_.reset(); throw; }
    }();
    state_ = c.state;
    entry_ = c.index;
    auto& e = geo_.subscriber(entry_);
    // relaxed: published by the release store of live below.
    e.cursor.store(provisional, std::memory_order_relaxed);
    // relaxed (all four): statistics; a monitor may read a previous occupant's for a moment.
    e.received.store(0, std::memory_order_relaxed);
    e.missed.store(0, std::memory_order_relaxed);
    e.parks.store(0, std::memory_order_relaxed);
    e.empty_events.store(0, std::memory_order_relaxed);
    e.park.store(ringwire::detail::running, std::memory_order_relaxed);
    state_ = ring::with_kind(state_, ring::live);
    // release: a publisher that sees live sees the provisional cursor (never ahead of the
    // one we settle on, so gating on it is only stricter).
    e.state.store(state_, std::memory_order_release);
    // release: a publisher that sees the new epoch (acquire) sees the live entry.
    l->joiners.epoch.fetch_add(1, std::memory_order_release);
    // Dekker with the publisher's light fence after each head store (layout.hpp).
    Sync::heavy_fence(scope_);
    // acquire: pairs with the publisher's release store of head.
    const std::uint64_t h = l->publisher.head.load(std::memory_order_acquire);
    n_ = start(h);
    index_ = n_ % cap;
    if (gated_ && from_oldest && h >= cap) first_ = n_;
    // A publisher may already be parked on our provisional cursor: settle and wake it.
    if (shows_) show(l);
  }

  // One receive: the outcomes of the top of this header. `load(slot)` makes the payload
  // loads of message n_'s slot (relaxed atomics) and returns what it read; receive()
  // re-checks the stamp and, if it held, returns make(read, n). try_recv and try_recv_with
  // differ only in those two.
  template <class Result, class Load, class Make>
  Result receive(Load&& load, Make&& make) noexcept(noexcept(load(std::declval<detail::slot_ref<Sync>>()))) {
    RINGWIRE_ASSERT(!in_fn_ && "recv_with's fn must not receive on its own subscriber");
    auto* const l = ref_.get();
    if (l == nullptr) return Result(status::closed);
    if (armed_) [[unlikely]] disarm(l);
    if (evict_) {
      // relaxed: our own entry; a stale live only delays the verdict to the overwrite check.
      if (evicted_ || ring::kind(geo_.subscriber(entry_).state.load(std::memory_order_relaxed)) == ring::evicted) {
        evicted_ = true;
        return Result(status::evicted);
      }
    }
    for (;;) {
      const detail::slot_ref<Sync> slot{geo_.slot(index_)};
      // acquire: pairs with the publisher's release store of the committed stamp.
      std::uint64_t s1 = slot.stamp().load(std::memory_order_acquire);
      if (s1 == ring::committed(n_)) {
        auto v = load(slot);
        const std::uint64_t s2 = detail::recheck<Sync>(slot);
        if (s2 == s1) [[likely]] {
          const std::uint64_t n = n_;
          advance(l);
          return make(std::move(v), n);
        }
        s1 = s2;  // overwritten while we read
      } else if (s1 < ring::committed(n_)) {
        // acquire: every publish happens-before the closed flag (see publisher::close), so
        // the re-read below sees the last message if there was one.
        const bool closed = l->control.closed.load(std::memory_order_acquire) != 0;
        // relaxed: a hint on closed's line; skipped_run()'s acquire of head orders what it
        // concludes. A stale 0 is a poll too early: the next sees it, and a parking one's
        // readable() reads it after the Dekker fence. After closed (acquire) it is current.
        if (l->control.skipped.load(std::memory_order_relaxed) != 0) [[unlikely]] {
          if (const std::uint64_t k = skipped_run(l); k != 0) return Result(status::lagged, k);
        }
        if (!closed) {
          // Caught up: a lossless publisher may be waiting on a cursor we have not shown yet;
          // with metrics, the empty events are shown every show_every_ of them too.
          if (metrics_) ++empty_events_;
          if (shows_ && (cursor_shown_ != n_ || empty_events_ - empty_shown_ >= show_every_)) show(l);
          return Result(status::empty);
        }
        // acquire: as above.
        if (slot.stamp().load(std::memory_order_acquire) >= ring::committed(n_)) continue;
        return Result(status::closed);
      }
      if (first_ == n_) {  // the one overwrite a from-oldest join may see (see above)
        first_ = 0;
        jump(l, n_ + 1);
        continue;
      }
      // A gated ring overwrites a sequence a live subscriber has not passed only if it was
      // skipped (producer_state.hpp); under evict, only once the eviction CAS is visible
      // (relaxed: the overwriting stamp was acquired after it).
      // relaxed (skipped): as on the empty path above.
      if (gated_ && l->control.skipped.load(std::memory_order_relaxed) != 0 &&
          !(evict_ && ring::kind(geo_.subscriber(entry_).state.load(std::memory_order_relaxed)) == ring::evicted))
          [[unlikely]] {
        if (const std::uint64_t k = skipped_run(l); k != 0) return Result(status::lagged, k);
        // The head that skipped n_ is not visible yet: an odd (in-progress) stamp is stored
        // relaxed, so it does not carry it. The next poll finds it.
        return Result(status::empty);
      }
      if (evict_) {
        evicted_ = true;
        return Result(status::evicted);
      }
      // lossless never overwrites a live cursor (lagged() takes it for corruption); an
      // observer has none
      const lag_outcome o = lagged(l, ring::seq_of(s1));
      return Result(o.why, o.missed);
    }
  }

  recv_result<T> recv_limited(const ringwire::detail::wait_limits& lim) {
    return wait_for([this] { return try_recv(); }, lim);
  }

  // Repeats `try_once` (a non-waiting receive) until it finds something other than empty,
  // waiting by the wait strategy in between, or a limit ends the wait.
  template <class Try>
  auto wait_for(Try&& try_once, const ringwire::detail::wait_limits& lim) -> decltype(try_once()) {
    for (;;) {
      auto r = try_once();
      if (r.status() != status::empty) return r;
      auto* const l = ref_.get();
      const bool parks = wait_.which() == wait_strategy::kind::park;
      // relaxed: a hint that makes the publisher look at the park words; ordered before
      // the heavy fence inside wait_until (wait.hpp). Only parking waiters need it.
      if (parks) l->joiners.parked.fetch_add(1, std::memory_order_relaxed);
      const std::uint64_t parks_before = parks_;
      const status st = ringwire::detail::wait_until<Sync>(
          wait_, geo_.subscriber(entry_).park, scope_, ref_.watch(lim), parks_, [this, l] { return readable(l); });
      // relaxed: the hint only.
      if (parks) l->joiners.parked.fetch_sub(1, std::memory_order_relaxed);
      if (metrics_ && shows_ && parks_ != parks_before) show(l);  // a monitor sees the sleep
      if (st != status::ok) return decltype(try_once())(st);
    }
  }

  // Whether a receive would find something other than empty (cheap: loads only). relaxed
  // (all): ordered after the park store by the caller's heavy fence; the receive that
  // follows re-reads everything with its own orders.
  bool readable(ring* l) const noexcept {
    const detail::slot_ref<Sync> slot{geo_.slot(index_)};
    return slot.stamp().load(std::memory_order_relaxed) >= ring::committed(n_) ||
           l->control.closed.load(std::memory_order_relaxed) != 0 ||
           (l->control.skipped.load(std::memory_order_relaxed) != 0 &&
            l->publisher.head.load(std::memory_order_relaxed) >= n_) ||  // a skip to report
           (evict_ && ring::kind(geo_.subscriber(entry_).state.load(std::memory_order_relaxed)) == ring::evicted);
  }

  // Undoes arm_doorbell: the entry's word back to running, the parked hint down.
  void disarm(ring* l) noexcept {
    armed_ = false;
    // relaxed: our own word (a waker's exchange may also have reset it), and the hint.
    geo_.subscriber(entry_).park.store(ringwire::detail::running, std::memory_order_relaxed);
    l->joiners.parked.fetch_sub(1, std::memory_order_relaxed);
  }

  void advance(ring* l) noexcept {
    ++received_;
    ++n_;
    index_ = index_ + 1 == geo_.capacity ? 0 : index_ + 1;
    if (shows_ && n_ - cursor_shown_ >= show_every_) show(l);
  }

  void jump(ring* l, std::uint64_t n) noexcept {
    n_ = n;
    index_ = n % geo_.capacity;
    if (shows_) show(l);
  }

  // Shows our cursor (the gate's, gated policies) and, with metrics, our counters in our
  // registry entry. Gated: then wakes a publisher parked on the cursor.
  void show(ring* l) noexcept {
    cursor_shown_ = n_;
    auto& e = geo_.subscriber(entry_);
    if (metrics_) {
      empty_shown_ = empty_events_;
      // relaxed (all four): statistics on our own line; nothing is published through them.
      e.received.store(received_, std::memory_order_relaxed);
      e.missed.store(missed_, std::memory_order_relaxed);
      e.parks.store(parks_, std::memory_order_relaxed);
      e.empty_events.store(empty_events_, std::memory_order_relaxed);
    }
    // release: our copies out of the slots before n_ happen-before the publisher's
    // acquire load of the cursor, so it never overwrites a slot we are reading.
    e.cursor.store(n_, std::memory_order_release);
    // The Dekker half that pairs with a parking publisher's heavy fence (wait.hpp): a
    // compiler barrier and one load while membarrier is available.
    if (gated_) ringwire::detail::notify<Sync>(l->control.publisher_park, scope_);
  }

  // The stamp of n_ is not 2n_ and the ring has skips: passes the skipped run if head says
  // there is one (skip.hpp, resume_point), counted in missed(); how many (0: none, or n_
  // holds its message now and the caller re-reads it).
  std::uint64_t skipped_run(ring* l) noexcept {
    // acquire: pairs with the publisher's release store of head: every commit up to h is
    // visible to resume_point()'s stamp loads.
    const std::uint64_t h = l->publisher.head.load(std::memory_order_acquire);
    if (h < n_) return 0;
    const std::uint64_t k = detail::resume_point(geo_, n_, h) - n_;
    missed_ += k;
    if (k != 0) jump(l, n_ + k);
    return k;
  }

  // Lossy: message n was overwritten by message m (committed or in progress), so head >= m.
  // Resume at the oldest message of the live window (with publisher skips: the oldest
  // message still in its slot) and report how many were skipped.
  // An honest m is n plus a whole number of laps (m > n, same slot), so the jump moves
  // forward, and a gated subscriber is never overwritten; a stamp that says otherwise was
  // written by a corrupt or hostile process in shared memory, and believing it could jump
  // back and lag for ever inside recv_batch() or drain(). Such a stamp closes the subscriber
  // for good (peer_corrupt()). Both tests are needed: m - n_ alone wraps when m < n_ (a
  // hostile stamp of all ones has seq_of 0). With m >= n_ + capacity the resume point below
  // is past n_, and each stamp can move us at most once, so lags always end.
  struct lag_outcome {
    status why;
    std::uint64_t missed;
  };
  lag_outcome lagged(ring* l, std::uint64_t m) noexcept {
    if (m <= n_ || m - n_ < geo_.capacity || gated_) [[unlikely]] {
      peer_corrupt_ = true;
      close();
      return {status::closed, 0};
    }
    // acquire: pairs with the publisher's release store of head (and makes every commit up
    // to h visible to resume_point()).
    const std::uint64_t h = l->publisher.head.load(std::memory_order_acquire);
    std::uint64_t oldest = std::max(m, h) - geo_.capacity + 1;
    // relaxed: after head's acquire, which the flag's store precedes. With skips the window
    // may hold skipped sequences and an older message may outlive it: resume at the oldest
    // message still in its slot (one lag report for the overwrite and the skip together).
    // Only with h >= n_: m's stamp may be an odd one, stored relaxed, which does not carry
    // the head before it (then the window above, from m, as without skips).
    if (h >= n_ && l->control.skipped.load(std::memory_order_relaxed) != 0) [[unlikely]] {
      const std::uint64_t r = detail::resume_point(geo_, n_, h);
      oldest = r > n_ ? r : h + 1;
    }
    const std::uint64_t skipped = oldest - n_;
    missed_ += skipped;
    jump(l, oldest);
    return {status::lagged, skipped};
  }

  // A move copies these (the source is closed by its empty reference) but armed_.
  detail::ring_geometry<Sync> geo_;  // copied when joining (layout.hpp): never re-read from the ring
  std::uint64_t n_ = 0;      // next sequence to read
  std::uint64_t index_ = 0;  // its slot
  std::uint64_t first_ = 0;  // from-oldest under a gated policy: the message that may be gone
  std::uint64_t received_ = 0;
  std::uint64_t missed_ = 0;
  std::uint64_t parks_ = 0;
  std::uint64_t empty_events_ = 0;  // metrics only
  std::uint64_t empty_shown_ = 0;   // empty_events_ as last shown
  std::uint64_t cursor_shown_ = 0;  // the cursor value last stored in our registry entry
  std::uint64_t show_every_ = 1;    // store the cursor after this many receives (when shows_)
  std::uint32_t entry_ = 0;  // registry index
  std::uint32_t state_ = 0;  // our entry's state word (generation | live)
  bool gated_ = false;
  bool shows_ = false;  // gated, or metrics: show() the cursor (and counters) in our entry
  bool evict_ = false;
  bool evicted_ = false;
  bool observer_ = false;  // not in the registry (observe_only)
  ringwire::detail::reset_on_move<bool> armed_;  // arm_doorbell counted us parked
  bool peer_corrupt_ = false;  // an impossible stamp closed us: see lagged()
  bool in_fn_ = false;  // try_recv_with's fn is running (the re-entry check)
};

template <class T, class Sync>
subscriber<T, Sync>::subscriber(detail::ring_ref<Sync> ref, const options& opt, bool from_oldest, fence_scope scope,
                                std::uint32_t entry)
    : base(std::move(ref), opt.receiver_wait, Sync::resolve_scope(scope), opt.metrics) {
  join(from_oldest, entry);
}

}  // namespace ringwire::broadcast
