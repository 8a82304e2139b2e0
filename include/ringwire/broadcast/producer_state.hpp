// ringwire/broadcast/producer_state.hpp -- what every producing end of a broadcast channel
// keeps and does besides writing slots: the gate (may message s be written yet?), the
// wake-up of parked subscribers, and the join check after each commit.
//
// One producer_state lives in each publisher (publisher.hpp) and in each copy of a
// shared_publisher (shared_publisher.hpp); it is used by one thread at a time.
//
// Gating (lossless, evict). Message s may be written only if every live subscriber's
// cursor c satisfies s - c < capacity (its oldest unread message would be overwritten
// otherwise). The producer caches room_until = min(c) + capacity - 1 and rescans the
// registry only when s passes it or `epoch` says someone joined. Evict: a rescan marks
// every live subscriber more than evict_lag behind as evicted (a CAS on its state, so a
// subscriber leaving at the same moment wins) and stops waiting on it; since evict_lag <
// capacity, an evict producer never waits at all. With no live subscriber nobody waits.
//
// Skips (publisher::skip, layout.hpp). The gate counts sequences, skipped ones included,
// with one exception: a cursor inside the latest run of skipped sequences [from, to]
// counts as to + 1. Such a subscriber has read everything before the run and the run holds
// no message, so no slot it still needs is overwritten; without the exception a caught-up
// subscriber would be a whole skip behind until its next poll (evict would drop it, and
// lossless would wait for it). A cursor before the run is behind by the run as well (an
// earlier run is not remembered: only stricter). The subscriber may then find the slot of
// a skipped sequence overwritten; its skip path counts that sequence as skipped.
//
// Several producers (shared_publisher) each keep their own cache. A rescan starts with a
// light fence: another producer's claim that happens-before the rescan (through a
// subscriber's cursor) is then ordered before the registry loads, so a joiner whose head
// load missed that claim is seen by the rescan (the joiner's heavy fence pairs with it).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ringwire/broadcast/storage.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::broadcast::detail {

// The reference, wait strategy and scope are the endpoint state every endpoint keeps
// (detail/endpoint.hpp); the publishers hold this as a member and close it themselves.
template <class Sync>
class producer_state : public ringwire::detail::endpoint_state<ring_ref<Sync>> {
  using base = ringwire::detail::endpoint_state<ring_ref<Sync>>;
  using base::ref_, base::scope_, base::wait_, base::metrics_;
  using ring = layout<Sync>;

 public:
  producer_state() noexcept = default;
  // scope: fence_scope::cross_process (or _asymmetric) when subscribers may be other
  // processes (a shared-memory segment, shm/broadcast.hpp): process-shared futexes.
  producer_state(ring_ref<Sync> ref, const options& opt, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt.sender_wait, Sync::resolve_scope(scope), opt.metrics) {
    auto* l = ref_.get();
    geo_ = ring_geometry<Sync>(l);
    capacity_ = geo_.capacity;
    gated_ = geo_.mode != policy::lossy;
    room_until_ = gated_ ? 0 : ~std::uint64_t{0};  // lossy: never rescans
  }
  producer_state(const producer_state& o) noexcept
      : base(o.ref_.copy(), o.wait_, o.scope_, o.metrics_), geo_(o.geo_), capacity_(o.capacity_), gated_(o.gated_) {
    room_until_ = gated_ ? 0 : ~std::uint64_t{0};  // a fresh cache: rescans before its first write
  }
  producer_state(producer_state&&) noexcept = default;
  producer_state& operator=(producer_state&&) noexcept = default;
  producer_state& operator=(const producer_state&) = delete;

  [[nodiscard]] ring* get() const noexcept { return ref_.get(); }
  // A second counted reference (a monitor's: stats.hpp).
  [[nodiscard]] ring_ref<Sync> share() const noexcept { return ref_.copy(); }
  // The geometry copied when this state was made (layout.hpp, ring_geometry).
  [[nodiscard]] const ring_geometry<Sync>& geo() const noexcept { return geo_; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool gated() const noexcept { return gated_; }
  [[nodiscard]] fence_scope scope() const noexcept { return scope_; }
  void reset() noexcept { ref_.reset(); }

  // True when message s may be written now (rescanning when the cache says no); a no is a
  // full event (options::metrics).
  [[nodiscard]] bool may_write(std::uint64_t s) noexcept {
    if (s <= room_until_ || has_room(s)) [[likely]] return true;
    if (metrics_) count(ref_.get()->control.full_events);
    return false;
  }

  // Waits (the publisher wait strategy) until message s may be written.
  status wait_room(std::uint64_t s, const ringwire::detail::wait_limits& lim, ringwire::detail::word_sharing sharing) {
    if (may_write(s)) return status::ok;
    const std::uint64_t parks_before = parks_;
    const status st = ringwire::detail::wait_until<Sync>(wait_, ref_.get()->control.publisher_park, scope_,
                                                         ref_.watch(lim), parks_, [this, s] { return has_room(s); },
                                                         sharing);
    if (metrics_ && parks_ != parks_before) count(ref_.get()->control.producer_parks, parks_ - parks_before);
    return st;
  }

  // The publisher skipped sequences [from, to] (publisher::skip): the run the gate treats
  // as holding nothing (see the top of this header). A run that continues the last one
  // extends it.
  void skipped(std::uint64_t from, std::uint64_t to) noexcept {
    if (from != skip_to_ + 1) skip_from_ = from;
    skip_to_ = to;
  }

  // After the store that makes a message visible (the committed stamp, and for a single
  // publisher the head): wakes parked subscribers and notices joiners. No RMW, no syscall
  // unless a subscriber is parked.
  void after_commit() noexcept {
    auto* const l = ref_.get();
    Sync::light_fence(scope_);
    // relaxed: ordered after the publishing store by light_fence, which pairs with a
    // parking subscriber's heavy_fence (wait.hpp); the parked entries' words are loaded after it.
    if (l->joiners.parked.load(std::memory_order_relaxed) != 0) [[unlikely]] wake_parked();
    if (!gated_) return;
    // acquire: a changed epoch makes the joiner's live entry and cursor visible to the
    // rescan. Ordered after the publishing store by the same light fence: either the
    // joiner read a head at least this new, or the rescan before the next write sees it.
    if (l->joiners.epoch.load(std::memory_order_acquire) != epoch_seen_) [[unlikely]] room_until_ = 0;
  }

  // Wakes every parked subscriber. Cold: reached only when some subscriber is parked, and on close.
  [[gnu::noinline, gnu::cold]] void wake_parked() noexcept {
    auto* const l = ref_.get();
    if (metrics_) count(l->control.subscriber_wakes);
    // acquire: entries below top were formatted as joinable before top was raised.
    // Clamped: a peer in shared memory may have scribbled on it.
    const std::uint32_t top = std::min(l->joiners.top.load(std::memory_order_acquire), geo_.max_subscribers);
    for (std::uint32_t i = 0; i < top; ++i) {
      auto& word = geo_.subscriber(i).park;
      // relaxed: ordered after our publishing store by the caller's fence (wait.hpp).
      if (word.load(std::memory_order_relaxed) != ringwire::detail::running) ringwire::detail::wake<Sync>(word, scope_);
    }
  }

 private:
  // Rescans the registry (evicting as the policy says); true when message s may be written.
  [[gnu::noinline]] bool has_room(std::uint64_t s) noexcept {
    auto* const l = ref_.get();
    // Only several producers need it (see the top of this header); one light fence per
    // rescan, which a single publisher takes only when the ring looks full or someone joined.
    if (geo_.multi_producer) Sync::light_fence(scope_);
    // acquire: pairs with the joiners' release increments (see after_commit()).
    epoch_seen_ = l->joiners.epoch.load(std::memory_order_acquire);
    const bool evict = geo_.mode == policy::evict;
    const std::uint64_t lag_limit = geo_.evict_lag;
    std::uint64_t low = s;
    bool any = false;
    // acquire: entries below top were formatted as joinable before top was raised.
    // Clamped: a peer in shared memory may have scribbled on it.
    const std::uint32_t top = std::min(l->joiners.top.load(std::memory_order_acquire), geo_.max_subscribers);
    for (std::uint32_t i = 0; i < top; ++i) {
      auto& e = geo_.subscriber(i);
      // acquire: a live state makes the joiner's provisional cursor visible.
      std::uint32_t st = e.state.load(std::memory_order_acquire);
      if (ring::kind(st) != ring::live) continue;
      // acquire: the subscriber's copies out of the slots before its cursor happen-before
      // we overwrite them.
      std::uint64_t c = e.cursor.load(std::memory_order_acquire);
      if (c >= skip_from_ && c <= skip_to_) c = skip_to_ + 1;  // inside the skipped run: see the top
      if (evict && s - c > lag_limit) {
        // acq_rel: a leaving subscriber's free store wins over this (the CAS fails).
        if (e.state.compare_exchange_strong(st, ring::with_kind(st, ring::evicted), std::memory_order_acq_rel,
                                            std::memory_order_relaxed) &&
            metrics_)
          count(l->control.evictions);
        continue;
      }
      if (!any || c < low) low = c;
      any = true;
    }
    room_until_ = any ? low + capacity_ - 1 : s + capacity_ - 1;
    return s <= room_until_;
  }

  // One of the producers' counters (layout.hpp, control_block): shared by every producer
  // of the channel, so an RMW -- on slow paths only, and only with options::metrics.
  static void count(typename Sync::template atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    // relaxed: a statistic; nothing is published through it.
    counter.fetch_add(by, std::memory_order_relaxed);
  }

  ring_geometry<Sync> geo_;
  std::uint64_t capacity_ = 0;
  std::uint64_t room_until_ = 0;  // highest sequence writable without a rescan (0: rescan)
  std::uint64_t epoch_seen_ = 0;
  std::uint64_t parks_ = 0;
  std::uint64_t skip_from_ = 1, skip_to_ = 0;  // the latest run of skipped sequences (empty: none)
  bool gated_ = false;
};

}  // namespace ringwire::broadcast::detail
