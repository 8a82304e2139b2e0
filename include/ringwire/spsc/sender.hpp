// ringwire/spsc/sender.hpp -- the producing end of an SPSC channel.
//
// One thread at a time may use a sender (it is move-only, so the type system hands it from
// thread to thread rather than sharing it). Its hot state -- the slot array, the mask, its
// own tail and its cached copy of the receiver's head -- lives in the endpoint object, on
// the producer's core; the shared layout is touched with one release store of `tail` per
// publish and one load of the consumer's park word, both on the producer's own block.
//
// Outcomes: ok, full (try_*), closed (the receiver is gone, or this sender was closed or
// moved from), timed_out, cancelled. On any outcome but ok a send leaves its argument
// untouched. If T's constructor or move throws, nothing is published and the exception
// propagates: the channel is unchanged (strong guarantee).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/detail/call_surface.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/spsc/endpoint.hpp"

namespace ringwire::spsc {

template <class T, class Sync>
class reservation;

template <class T, class Sync = std_sync>
class sender : public ringwire::detail::endpoint<sender<T, Sync>, detail::ring_ref<Sync>>,
               public ringwire::detail::send_calls<sender<T, Sync>, T, Sync> {
  using base = ringwire::detail::endpoint<sender<T, Sync>, detail::ring_ref<Sync>>;
  using base::metrics_, base::ref_, base::scope_, base::wait_;
  static_assert(std::is_nothrow_destructible_v<T>, "channel elements must have a non-throwing destructor");
  static_assert(std::is_move_constructible_v<T> || std::is_copy_constructible_v<T>,
                "channel elements must be movable");

 public:
  using value_type = T;

  sender() noexcept = default;
  // scope: fence_scope::cross_process when the peer may be another process (a shared-memory
  // segment, shm/spsc.hpp): real fences on both sides and process-shared futexes.
  sender(detail::ring_ref<Sync> ref, const options& opt, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt.sender_wait, Sync::resolve_scope(scope), opt.metrics) {
    auto* l = ref_.get();
    slots_ = std::launder(reinterpret_cast<T*>(l->slots()));
    mask_ = l->geometry.slot_count - 1;
    capacity_ = l->geometry.capacity;
    stamps_ = l->stamps();  // null: latency off (layout.hpp "Latency")
    // relaxed: endpoints are made before they are handed to their threads (an MPSC lane's
    // previous sender is gone, its last store acquired by the registration's claim).
    tail_ = l->producer.tail.load(std::memory_order_relaxed);
    // acquire: an MPSC lane's receiver may be releasing slots as this sender is made.
    head_cache_ = l->consumer.head.load(std::memory_order_acquire);
    if (tail_ - head_cache_ > capacity_) [[unlikely]] distrust_peer();  // see refresh()
    // Resolved once, while the layout is as validated: a process that later rewrites the
    // geometry of a ring in shared memory cannot redirect our wakes.
    receiver_word_ = &l->receiver_park_word();
  }
  sender(sender&&) noexcept = default;
  sender& operator=(sender&&) noexcept = default;  // closes this sender first (detail/endpoint.hpp)
  ~sender() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  status try_send(const T& v) { return try_emplace(v); }
  status try_send(T&& v) { return try_emplace(std::move(v)); }

  // Constructs the element in its slot from args.
  template <class... Args>
  status try_emplace(Args&&... args) {
    RINGWIRE_ASSERT(!reserving_);
    if (tail_ - head_cache_ == capacity_) [[unlikely]] {
      if (!refresh(1)) return full_or_closed();
    }
    auto* const l = ref_.get();
    // relaxed: no data flows through the flag; it only stops new sends.
    if (l->producer.receiver_closed.load(std::memory_order_relaxed) != 0) [[unlikely]] return status::closed;
    // Locals: the element's stores may alias this endpoint's fields, so nothing is
    // re-read from it after the construction.
    const std::uint64_t next = tail_ + 1;
    ::new (static_cast<void*>(slots_ + (tail_ & mask_))) T(std::forward<Args>(args)...);
    publish(l, next);
    return status::ok;
  }

  // Moves (iter_move) elements of r into the channel until it is full or r ends, with one
  // publish for all of them. Returns how many went in; those were moved from. If a move
  // throws, the elements before it are published and the exception propagates.
  template <std::ranges::input_range R>
  std::size_t try_send_batch(R&& r) {
    auto first = std::ranges::begin(r);
    return send_some(first, std::ranges::end(r));
  }

  // ---- blocking (the endpoint's wait strategy) -----------------------------------------
  // send(v), send(v, stop), send_for, send_until and emplace(args...) come from
  // detail::send_calls (detail/call_surface.hpp), over emplace_limited below.

  // Sends every element of r, waiting for room as needed. Returns how many went in: all of
  // them, or fewer if the receiver closed (or the stop token fired) first.
  template <std::ranges::input_range R>
  std::size_t send_batch(R&& r, std::stop_token stop = {}) {
    auto first = std::ranges::begin(r);
    const auto last = std::ranges::end(r);
    const auto lim = ringwire::detail::limits_stop(stop);
    std::size_t total = 0;
    while (first != last) {
      total += send_some(first, last);
      if (first == last) break;
      // is_closed(): wait_for_room() reports ok once the receiver is gone; without it this loops forever.
      if (is_closed() || wait_for_room(lim) != status::ok) break;
    }
    return total;
  }

  // ---- zero-copy -----------------------------------------------------------------------
  // Up to n contiguous raw slots to construct in place, then commit. See reservation.
  reservation<T, Sync> reserve(std::size_t n);

  // ---- state ---------------------------------------------------------------------------
  // Closes the sending side: the receiver drains what was sent, then sees closed. Later
  // sends report closed. Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = ref_.get();
    if (l == nullptr) return;
    // release: every publish happens-before the receiver's acquire load of the flag, so a
    // receiver that sees closed and then re-reads tail sees every message.
    l->consumer.sender_closed.store(1, std::memory_order_release);
    if constexpr (Sync::parks) {  // as detail::notify_close, through wake_receiver
      Sync::full_fence();
      wake_receiver(l);
    }
    ref_.reset();
    slots_ = nullptr;
    stamps_ = nullptr;
    capacity_ = tail_ = head_cache_ = 0;  // every later operation takes the slow path to closed
  }

  // True when the receiver is gone or this sender is closed: sends will fail.
  [[nodiscard]] bool is_closed() const noexcept { return ref_.get() == nullptr || receiver_gone(); }
  // True when the receiver's index was once impossible (a ring in shared memory written by a
  // corrupt or hostile process): the sender reports closed from then on (see refresh()).
  [[nodiscard]] bool peer_corrupt() const noexcept { return peer_corrupt_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(capacity_); }
  // Messages queued, as this side last saw them (exact once the receiver is idle).
  [[nodiscard]] std::size_t size_approx() const noexcept {
    auto* l = ref_.get();
    // acquire: pairs with the receiver's release of head (a plain observation).
    return l == nullptr ? 0 : static_cast<std::size_t>(tail_ - l->consumer.head.load(std::memory_order_acquire));
  }
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 private:
  friend class reservation<T, Sync>;
  friend class ringwire::detail::send_calls<sender<T, Sync>, T, Sync>;
  using limits_t = ringwire::detail::wait_limits;

  // The receiver's flag, or a receiver found corrupt. relaxed: no data flows through the
  // flag; it only stops new sends.
  [[nodiscard]] bool receiver_gone() const noexcept {
    return peer_corrupt_ || ref_.get()->producer.receiver_closed.load(std::memory_order_relaxed) != 0;
  }

  // Re-reads head; true when at least `need` slots are free. Slow path. An honest receiver
  // keeps 0 <= tail - head <= capacity; a ring in shared memory can also be written by a
  // corrupt or hostile process, and believing a larger distance would make the free room
  // wrap to a huge number and a batch copy run past the slot array. Such a head marks the
  // endpoint peer_corrupt (sticky): it then reports closed and writes no slot.
  [[gnu::noinline]] bool refresh(std::uint64_t need) noexcept {
    auto* l = ref_.get();
    if (l == nullptr) return false;
    // acquire: the receiver's moves out of and destruction of slots before `head`
    // happen-before we construct into them again.
    head_cache_ = l->consumer.head.load(std::memory_order_acquire);
    const std::uint64_t used = tail_ - head_cache_;
    if (used > capacity_ || peer_corrupt_) [[unlikely]] return distrust_peer(), false;
    if (metrics_) ringwire::detail::raise_to(l->producer_stats.high_water, used);
    return capacity_ - used >= need;
  }

  // The receiver's head was impossible: from now on the ring looks full to every fast path
  // (so each send comes to refresh(), which says no) and closed to every slow one.
  [[gnu::cold]] void distrust_peer() noexcept {
    peer_corrupt_ = true;
    head_cache_ = tail_ - capacity_;
  }

  // Why a send found no room. Counts the full event (metrics on).
  [[nodiscard]] status full_or_closed() noexcept {
    if (ref_.get() == nullptr || receiver_gone()) return status::closed;
    if (metrics_) ringwire::detail::bump(ref_.get()->producer_stats.full_events);
    return status::full;
  }

  void publish(std::uint64_t new_tail) noexcept { publish(ref_.get(), new_tail); }
  void publish(layout<Sync>* l, std::uint64_t new_tail) noexcept {
    if (stamps_ != nullptr) [[unlikely]] stamp(new_tail);
    tail_ = new_tail;
    // release: the constructions into the slots before new_tail happen-before the
    // receiver's acquire load that observes it.
    l->producer.tail.store(new_tail, std::memory_order_release);
    if constexpr (Sync::parks) {  // detail::notify (wait.hpp), whose cold half is wake_receiver
      Sync::light_fence(scope_);
      // relaxed: ordered after the publishing store by light_fence, which pairs with the
      // parker's heavy_fence between its `word = parked` and its re-check.
      if (l->producer.consumer_park.load(std::memory_order_relaxed) != ringwire::detail::running) [[unlikely]] {
        wake_receiver(l);
      }
    }
  }

  // One clock read for all the slots this publish makes visible (layout.hpp "Latency").
  // Out of line: latency is opt-in, and inlined here it crowded the hot path (callgrind:
  // +37 instructions per push+pop with latency off).
  [[gnu::noinline]] void stamp(std::uint64_t new_tail) noexcept {
    const std::uint64_t now = latency_clock_ns();
    for (std::uint64_t i = tail_; i != new_tail; ++i) stamps_[i & mask_] = now;
  }

  // The receiver's park word for this ring said parked. A plain channel's receiver sleeps on
  // that word; an MPSC lane's receiver sleeps on one word for all lanes and the lane's word
  // is its per-lane flag (layout.hpp, "Where the receiver sleeps"): clear the flag, then
  // wake the shared word -- a syscall only if that word still says parked.
  [[gnu::noinline, gnu::cold]] void wake_receiver(layout<Sync>* l) noexcept {
    auto& flag = l->producer.consumer_park;
    auto& word = *receiver_word_;
    // acquire: the MPSC receiver sets its shared word before this flag (with release), so
    // having taken the flag we see the shared word's parked value too (mpsc/receiver.hpp).
    if (&word != &flag && flag.exchange(ringwire::detail::running, std::memory_order_acquire) ==
                              ringwire::detail::running) {
      return;
    }
    if (ringwire::detail::wake<Sync>(word, scope_) && metrics_) ringwire::detail::bump(l->producer_stats.wakes_sent);
  }

  // A batch that can be copied as bytes: trivially copyable T from contiguous memory.
  template <class It, class Sent>
  static constexpr bool copyable_block =
      std::is_trivially_copyable_v<T> && detail::contiguous_from<It, T> && std::sized_sentinel_for<Sent, It>;

  template <class It, class Sent>
  std::size_t send_some(It& first, const Sent& last) {
    RINGWIRE_ASSERT(!reserving_);
    std::uint64_t want = capacity_;  // unsized: fill up, not just the cached room, so re-read head unless all free
    if constexpr (std::sized_sentinel_for<Sent, It>) {
      const auto left = static_cast<std::uint64_t>(last - first);
      if (left == 0) return 0;
      want = left < capacity_ ? left : capacity_;
    }
    if (capacity_ - (tail_ - head_cache_) < want) [[unlikely]] {
      if (!refresh(want) && tail_ - head_cache_ == capacity_) {
        (void)full_or_closed();
        return 0;
      }
    }
    // ref_ check: a closed or moved-from sender with a sized range gets here with want == 0.
    if (ref_.get() == nullptr || receiver_gone()) [[unlikely]] return 0;
    const std::uint64_t room = capacity_ - (tail_ - head_cache_);
    if constexpr (copyable_block<It, Sent>) {
      // Trivially copyable elements from contiguous memory: at most two memcpy (the run
      // may wrap the end of the array), like a bulk copy, then one publish.
      const auto left = static_cast<std::uint64_t>(last - first);
      const std::uint64_t n = left < room ? left : room;
      const std::uint64_t at = tail_ & mask_;
      const std::uint64_t to_end = mask_ + 1 - at;
      const std::uint64_t head_part = n < to_end ? n : to_end;
      const T* src = std::to_address(first);
      std::memcpy(static_cast<void*>(slots_ + at), src, static_cast<std::size_t>(head_part) * sizeof(T));
      std::memcpy(static_cast<void*>(slots_), src + head_part, static_cast<std::size_t>(n - head_part) * sizeof(T));
      first += static_cast<std::iter_difference_t<It>>(n);
      publish(tail_ + n);
      return static_cast<std::size_t>(n);
    }
    std::uint64_t n = 0;
    // If a construction throws, publish what was built before it, then rethrow.
    struct publish_on_exit {
      sender* self;
      const std::uint64_t* count;
      ~publish_on_exit() {
        if (*count != 0) self->publish(self->tail_ + *count);
      }
    } guard{this, &n};
    for (; n < room && first != last; ++first, ++n) {
      ::new (static_cast<void*>(slots_ + ((tail_ + n) & mask_))) T(std::ranges::iter_move(first));
    }
    return static_cast<std::size_t>(n);
  }

  status wait_for_room(const limits_t& lim) {
    auto* l = ref_.get();
    if (l == nullptr) return status::closed;
    const status s = ringwire::detail::wait_until<Sync>(wait_, l->consumer.producer_park, scope_, ref_.watch(lim), parks_, [&] {
      return refresh(1) || receiver_gone();
    });
    if (metrics_ && parks_ != 0) {
      ringwire::detail::bump(l->producer_stats.parks, parks_);
      parks_ = 0;
    }
    return s;
  }

  template <class... Args>
  status emplace_limited(const limits_t& lim, Args&&... args) {
    // try_emplace consumes its arguments only when it says ok: forwarding them again is safe.
    return ringwire::detail::retry_while(
        status::full, [&] { return try_emplace(std::forward<Args>(args)...); }, [&] { return wait_for_room(lim); });
  }

  // Hot fields first after the base (reference, wait, scope, metrics): one cache line of
  // the endpoint holds everything a send touches. A move leaves them zero in the source.
  template <class V>
  using reset_on_move = ringwire::detail::reset_on_move<V>;
  reset_on_move<T*> slots_;
  reset_on_move<std::uint64_t> mask_;
  reset_on_move<std::uint64_t> capacity_;    // 0 once closed or moved from: every send goes slow
  reset_on_move<std::uint64_t> tail_;        // our own index (we are its only writer)
  reset_on_move<std::uint64_t> head_cache_;  // the receiver's head as last read
  reset_on_move<bool> reserving_;
  reset_on_move<bool> peer_corrupt_;  // the receiver's head was impossible once: see refresh()
  reset_on_move<std::uint64_t> parks_;
  reset_on_move<typename Sync::template atomic<std::uint32_t>*> receiver_word_;  // see the constructor
  reset_on_move<std::uint64_t*> stamps_;  // the layout's publish stamps; null: latency off
};

// Contiguous raw slots obtained from sender::reserve(n): construct elements in them, then
// commit to publish. Destroying a reservation without committing publishes nothing and
// destroys whatever was emplaced (an abandoned reservation is not a leak). The sender may
// not send while a reservation is open (checked in debug builds).
//
//   auto r = tx.reserve(64);                  // r.size() <= 64, 0 when full or closed
//   for (std::size_t i = 0; i < r.size(); ++i) r.emplace_back(make(i));
//   r.commit();
//
// For trivially copyable T, write through span() and commit(k) the first k instead.
template <class T, class Sync>
class reservation {
 public:
  reservation(reservation&& o) noexcept
      : tx_(std::exchange(o.tx_, nullptr)), first_(o.first_), size_(o.size_), built_(o.built_), status_(o.status_) {}
  reservation& operator=(reservation&&) = delete;
  reservation(const reservation&) = delete;
  reservation& operator=(const reservation&) = delete;
  ~reservation() { abandon(); }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  // ok when slots were reserved, otherwise full or closed.
  [[nodiscard]] ringwire::status status() const noexcept { return status_; }
  [[nodiscard]] std::size_t constructed() const noexcept { return built_; }

  // Constructs the next slot in place. Precondition: constructed() < size().
  template <class... Args>
  T& emplace_back(Args&&... args) {
    RINGWIRE_ASSERT(tx_ != nullptr && built_ < size_);
    T* p = ::new (static_cast<void*>(first_ + built_)) T(std::forward<Args>(args)...);
    ++built_;
    return *p;
  }

  // Publishes the emplaced elements.
  void commit() noexcept { finish(built_); }

  // Trivially copyable T: the slots as a span to write directly, and commit(k) to publish
  // the first k of them (k <= size()).
  [[nodiscard]] std::span<T> span() noexcept
    requires std::is_trivially_copyable_v<T>
  {
    return {first_, size_};
  }
  void commit(std::size_t k) noexcept
    requires std::is_trivially_copyable_v<T>
  {
    RINGWIRE_ASSERT(k <= size_);
    finish(k);
  }

  // Publishes nothing; destroys what was emplaced.
  void abandon() noexcept {
    if (tx_ == nullptr) return;
    for (std::size_t i = 0; i < built_; ++i) first_[i].~T();
    built_ = 0;
    finish(0);
  }

 private:
  friend class sender<T, Sync>;
  reservation(sender<T, Sync>* tx, T* first, std::size_t n, ringwire::status s) noexcept
      : tx_(tx), first_(first), size_(n), status_(s) {
    if (tx_ != nullptr) tx_->reserving_ = true;
  }
  void finish(std::size_t k) noexcept {
    if (tx_ == nullptr) return;
    tx_->reserving_ = false;
    if (k != 0) tx_->publish(tx_->tail_ + k);
    tx_ = nullptr;
  }

  sender<T, Sync>* tx_;
  T* first_;
  std::size_t size_;
  std::size_t built_ = 0;
  ringwire::status status_;
};

template <class T, class Sync>
reservation<T, Sync> sender<T, Sync>::reserve(std::size_t n) {
  RINGWIRE_ASSERT(!reserving_);
  const std::uint64_t want = n < capacity_ ? n : capacity_;
  if (capacity_ - (tail_ - head_cache_) < want || want == 0) [[unlikely]] {
    refresh(want == 0 ? 1 : want);
  }
  if (ref_.get() == nullptr || receiver_gone()) return reservation<T, Sync>(nullptr, nullptr, 0, status::closed);
  const std::uint64_t room = capacity_ - (tail_ - head_cache_);
  const std::uint64_t to_end = mask_ + 1 - (tail_ & mask_);
  std::uint64_t k = n < room ? n : room;
  if (k > to_end) k = to_end;
  if (k == 0) return reservation<T, Sync>(nullptr, nullptr, 0, n == 0 ? status::ok : status::full);
  return reservation<T, Sync>(this, slots_ + (tail_ & mask_), static_cast<std::size_t>(k), status::ok);
}

}  // namespace ringwire::spsc
