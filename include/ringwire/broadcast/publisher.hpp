// ringwire/broadcast/publisher.hpp -- the single producing end of a broadcast channel.
//
// Move-only: one thread at a time publishes. Its hot state (its sequence, its slot index,
// the lowest cursor it last saw) lives in the endpoint. One publish is: a seqlock write of
// one slot (layout.hpp), a release store of head, then one light fence and two loads on
// lines that change only when a subscriber joins or parks (`epoch`, `parked`): no
// read-modify-write and no syscall unless a subscriber is actually parked.
//
// Gating (lossless, evict). The publisher may write message s only if every live
// subscriber's cursor c satisfies s - c < capacity (its oldest unread message would be
// overwritten otherwise). It caches room_until_ = min(c) + capacity - 1 and rescans the
// registry only when s passes it or `epoch` says someone joined. Evict: a rescan marks
// every live subscriber more than evict_lag behind as evicted (a CAS on its state, so a
// subscriber leaving at the same moment wins) and stops waiting on it; since evict_lag <
// capacity, an evict publisher never waits at all. A lossless publisher with no live
// subscriber never waits either.
//
// Outcomes: ok; full (try_publish, gated policies); closed (this publisher was closed or
// moved from); timed_out / cancelled (publish_for / publish with a stop token).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/broadcast/storage.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::broadcast {

template <class T, class Sync = std_sync>
class publisher {
  static_assert(detail::payload_check<T>::ok);
  using ring = layout<Sync>;

 public:
  using value_type = T;

  publisher() noexcept = default;
  publisher(detail::ring_ref<Sync> ref, const options& opt) noexcept
      : ref_(std::move(ref)), wait_(opt.publisher_wait), scope_(Sync::resolve_scope(fence_scope::process)) {
    auto* l = ref_.get();
    capacity_ = l->geometry.capacity;
    gated_ = l->mode() != policy::lossy;
    room_until_ = gated_ ? 0 : ~std::uint64_t{0};  // lossy: never rescans
    // relaxed: endpoints are made before they are handed to their threads.
    seq_ = l->publisher.head.load(std::memory_order_relaxed);
    index_ = (seq_ + 1) % capacity_;
  }
  publisher(publisher&& o) noexcept { steal(o); }
  publisher& operator=(publisher&& o) noexcept {
    if (this != &o) {
      close();
      steal(o);
    }
    return *this;
  }
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;
  ~publisher() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  // ok, or full (gated policies: the slowest live subscriber is a whole ring behind), or closed.
  status try_publish(const T& v) noexcept {
    if (ref_.get() == nullptr) return status::closed;
    if (seq_ + 1 > room_until_ && !has_room(seq_ + 1)) return status::full;
    write(detail::to_words(v));
    return status::ok;
  }

  // ---- blocking (the publisher's wait strategy; lossy never waits) ---------------------
  status publish(const T& v) { return publish_until(v, {}); }
  status publish(const T& v, std::stop_token stop) { return publish_until(v, {ringwire::detail::no_deadline, &stop}); }
  template <class Rep, class Period>
  status publish_for(const T& v, std::chrono::duration<Rep, Period> timeout) {
    return publish_until(v, {Sync::now() + timeout, nullptr});
  }

  // Calls fn(T&) on a value-initialised local T, then publishes it: the ring is written
  // only through the seqlock, never handed out, so fn cannot tear a slot. Needs a default-
  // constructible T; a payload that is expensive to build should be built outside.
  template <class Fn>
  status publish_with(Fn&& fn)
    requires std::is_default_constructible_v<T> && std::is_invocable_v<Fn&, T&>
  {
    T v{};
    fn(v);
    return publish(v);
  }

  // Publishes every message of `batch` in order (each is its own seqlock write, so
  // subscribers see them as soon as each commits). Returns how many went in: all of them,
  // or fewer if this publisher is closed.
  std::size_t publish_batch(std::span<const T> batch) {
    std::size_t n = 0;
    for (const T& v : batch) {
      if (publish(v) != status::ok) break;
      ++n;
    }
    return n;
  }

  // ---- state ---------------------------------------------------------------------------
  // Closes the channel: subscribers drain what is still in the ring, then see closed.
  // Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = ref_.get();
    if (l == nullptr) return;
    // release: every publish happens-before a subscriber's acquire load of the flag, so a
    // subscriber that sees closed and then re-reads its slot sees every message.
    l->publisher.closed.store(1, std::memory_order_release);
    Sync::full_fence();  // rare path: a real fence against every parking subscriber
    wake_parked(l);
    ref_.reset();
  }

  [[nodiscard]] bool is_closed() const noexcept { return ref_.get() == nullptr; }
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(capacity_); }
  // Messages published so far (the newest sequence number).
  [[nodiscard]] std::uint64_t published() const noexcept { return seq_; }
  void set_wait(const wait_strategy& w) noexcept { wait_ = w; }

 private:
  status publish_until(const T& v, const ringwire::detail::wait_limits& lim) {
    auto* l = ref_.get();
    if (l == nullptr) return status::closed;
    const std::uint64_t s = seq_ + 1;
    if (s > room_until_ && !has_room(s)) {
      const status st = ringwire::detail::wait_until<Sync>(wait_, l->publisher.publisher_park, scope_, lim, parks_,
                                                           [this, s] { return has_room(s); });
      if (st != status::ok) return st;
    }
    write(detail::to_words(v));
    return status::ok;
  }

  void write(const std::array<std::uint64_t, detail::words_of<T>>& w) noexcept {
    auto* const l = ref_.get();
    const std::uint64_t s = seq_ + 1;
    detail::write_slot<Sync>(detail::slot_ref<Sync>{l->slot(index_)}, s, w);
    seq_ = s;
    index_ = index_ + 1 == capacity_ ? 0 : index_ + 1;
    // release: the slot's commit happens-before a subscriber's acquire load of head (its
    // slow paths: lag, latest, pending, joining).
    l->publisher.head.store(s, std::memory_order_release);
    Sync::light_fence(scope_);
    // relaxed: ordered after the head store by light_fence, which pairs with a parking
    // subscriber's heavy_fence (wait.hpp); the parked entries' words are loaded after it.
    if (l->joiners.parked.load(std::memory_order_relaxed) != 0) [[unlikely]] wake_parked(l);
    if (!gated_) return;
    // acquire: a changed epoch makes the joiner's live entry and cursor visible to the
    // rescan. Ordered after the head store by the same light fence: either the joiner
    // read this head, or the rescan before the next overwrite sees the joiner.
    if (l->joiners.epoch.load(std::memory_order_acquire) != epoch_seen_) [[unlikely]] room_until_ = 0;
  }

  // Rescans the registry (evicting as the policy says); true when message s may be written.
  [[gnu::noinline]] bool has_room(std::uint64_t s) noexcept {
    auto* l = ref_.get();
    // acquire: pairs with the joiners' release increments (see write()).
    epoch_seen_ = l->joiners.epoch.load(std::memory_order_acquire);
    const bool evict = l->mode() == policy::evict;
    const std::uint64_t lag_limit = l->geometry.evict_lag;
    std::uint64_t low = s;
    bool any = false;
    // acquire: entries below top were formatted as joinable before top was raised.
    const std::uint32_t top = l->joiners.top.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < top; ++i) {
      auto& e = l->subscriber(i);
      // acquire: a live state makes the joiner's provisional cursor visible.
      std::uint32_t st = e.state.load(std::memory_order_acquire);
      if (ring::kind(st) != ring::live) continue;
      // acquire: the subscriber's copies out of the slots before its cursor happen-before
      // we overwrite them.
      const std::uint64_t c = e.cursor.load(std::memory_order_acquire);
      if (evict && s - c > lag_limit) {
        // acq_rel: a leaving subscriber's free store wins over this (the CAS fails).
        e.state.compare_exchange_strong(st, ring::with_kind(st, ring::evicted), std::memory_order_acq_rel,
                                        std::memory_order_relaxed);
        continue;
      }
      if (!any || c < low) low = c;
      any = true;
    }
    room_until_ = any ? low + capacity_ - 1 : s + capacity_ - 1;
    return s <= room_until_;
  }

  // Wakes every parked subscriber. Cold: reached only when some subscriber is parked.
  [[gnu::noinline, gnu::cold]] void wake_parked(ring* l) noexcept {
    // acquire: entries below top are formatted (see has_room()).
    const std::uint32_t top = l->joiners.top.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < top; ++i) {
      auto& word = l->subscriber(i).park;
      // relaxed: ordered after our publishing store by the caller's fence (wait.hpp).
      if (word.load(std::memory_order_relaxed) != ringwire::detail::running) ringwire::detail::wake<Sync>(word, scope_);
    }
  }

  void steal(publisher& o) noexcept {
    ref_ = std::move(o.ref_);
    wait_ = o.wait_;
    scope_ = o.scope_;
    capacity_ = o.capacity_;
    seq_ = o.seq_;
    index_ = o.index_;
    room_until_ = o.room_until_;
    epoch_seen_ = o.epoch_seen_;
    parks_ = o.parks_;
    gated_ = o.gated_;
  }

  detail::ring_ref<Sync> ref_;
  wait_strategy wait_ = wait_strategy::park();
  fence_scope scope_ = fence_scope::process;
  std::uint64_t capacity_ = 0;
  std::uint64_t seq_ = 0;         // newest published sequence
  std::uint64_t index_ = 0;       // slot of seq_ + 1
  std::uint64_t room_until_ = 0;  // highest sequence writable without a rescan (0: rescan)
  std::uint64_t epoch_seen_ = 0;
  std::uint64_t parks_ = 0;
  bool gated_ = false;
};

}  // namespace ringwire::broadcast
