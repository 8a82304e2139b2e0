// ringwire/spsc/receiver.hpp -- the consuming end of an SPSC channel.
//
// Mirror image of the sender: its own head and a cached copy of the sender's tail live in
// the endpoint; the layout is touched with one release store of `head` per release (one
// per batch for consume(), try_recv_batch() and release(k)) and one load of the producer's
// park word.
//
// Outcomes: a value, or empty (try_*), closed (the sender is gone and every message it
// sent has been received; or this receiver was closed or moved from), timed_out,
// cancelled. If T's move constructor throws while receiving, the element stays queued
// (strong guarantee).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/detail/call_surface.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/spsc/endpoint.hpp"
#include "ringwire/status.hpp"

namespace ringwire::spsc {

template <class T, class Sync = std_sync>
class receiver : public ringwire::detail::endpoint<receiver<T, Sync>, detail::ring_ref<Sync>>,
                 public ringwire::detail::recv_calls<receiver<T, Sync>, T, Sync> {
  using base = ringwire::detail::endpoint<receiver<T, Sync>, detail::ring_ref<Sync>>;
  using base::metrics_, base::ref_, base::scope_, base::wait_;

 public:
  using value_type = T;

  receiver() noexcept = default;
  // scope: fence_scope::cross_process when the peer may be another process (a shared-memory
  // segment, shm/spsc.hpp): real fences on both sides and process-shared futexes.
  receiver(detail::ring_ref<Sync> ref, const options& opt, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt.receiver_wait, Sync::resolve_scope(scope), opt.metrics) {
    auto* l = ref_.get();
    slots_ = std::launder(reinterpret_cast<T*>(l->slots()));
    mask_ = l->geometry.slot_count - 1;
    stamps_ = l->stamps();  // both null: latency off (layout.hpp "Latency")
    latency_ = l->latency();
    // relaxed: we are head's only writer (an MPSC receiver's earlier view of a lane is on
    // this thread).
    head_ = l->consumer.head.load(std::memory_order_relaxed);
    // An MPSC receiver makes a lane's view while the lane's sender may already be
    // publishing; load_tail's acquire makes the constructions before it visible.
    tail_cache_ = load_tail(l);
  }
  receiver(receiver&&) noexcept = default;
  receiver& operator=(receiver&&) noexcept = default;  // closes this receiver first (detail/endpoint.hpp)
  ~receiver() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  recv_result<T> try_recv() {
    if (head_ == tail_cache_) [[unlikely]] {
      const status s = refill();
      if (s != status::ok) return recv_result<T>(s);
    }
    return pop_front();  // a prvalue: built in the caller's result, never moved again
  }

  // Move-assigns the oldest element to `out`: ok, empty or closed. One move and no
  // recv_result, so it suits large T and reused buffers. If the assignment throws, the
  // element stays queued.
  status try_recv(T& out)
    requires std::is_move_assignable_v<T>
  {
    if (head_ == tail_cache_) [[unlikely]] {
      const status s = refill();
      if (s != status::ok) return s;
    }
    T& slot = slots_[head_ & mask_];
    out = std::move(slot);
    slot.~T();
    release_to(head_ + 1);
    return status::ok;
  }

  // Calls fn(T&) on up to `max` queued elements in order (fn may move from them), then
  // destroys them and frees their slots with one index store. Returns how many. If fn
  // throws, the elements before the throwing one are consumed and the rest stay queued.
  template <class Fn>
  std::size_t consume(Fn&& fn, std::size_t max = SIZE_MAX) {
    if (max == 0) return 0;
    if (head_ == tail_cache_) [[unlikely]] {
      if (refill() != status::ok) return 0;
    }
    const std::uint64_t avail = tail_cache_ - head_;
    const std::uint64_t n = avail < max ? avail : max;
    std::uint64_t done = 0;
    struct release_on_exit {
      receiver* self;
      const std::uint64_t* count;
      ~release_on_exit() {
        if (*count != 0) self->release_to(self->head_ + *count);
      }
    } guard{this, &done};
    for (; done < n; ++done) {
      T& slot = slots_[(head_ + done) & mask_];
      std::invoke(fn, slot);
      slot.~T();
    }
    return static_cast<std::size_t>(n);
  }

  // Moves up to `max` elements to out (an output iterator) with one index store. Returns
  // how many.
  template <class OutIt>
  std::size_t try_recv_batch(OutIt out, std::size_t max) {
    if constexpr (std::is_trivially_copyable_v<T> && detail::contiguous_into<OutIt, T>) {
      return copy_out(std::to_address(out), max);
    } else {
      return consume([&out](T& v) { *out = std::move(v); ++out; }, max);
    }
  }
  // Moves up to out.size() elements into the (constructed) elements of out.
  std::size_t try_recv_batch(std::span<T> out) { return try_recv_batch(out.begin(), out.size()); }

  // The contiguous run of queued elements starting at the oldest (possibly only part of
  // what is queued, when it wraps the end of the array), up to max. The elements stay
  // owned by the channel; read or move from them, then release(k) the first k. The span is
  // valid until release() or the next receive on this endpoint.
  std::span<T> read_span(std::size_t max = SIZE_MAX) {
    if (head_ == tail_cache_) [[unlikely]] {
      if (refill() != status::ok) return {};
    }
    const std::uint64_t avail = tail_cache_ - head_;
    const std::uint64_t to_end = mask_ + 1 - (head_ & mask_);
    std::uint64_t n = avail < to_end ? avail : to_end;
    if (n > max) n = max;
    span_len_ = n;
    return {slots_ + (head_ & mask_), static_cast<std::size_t>(n)};
  }
  // Destroys the first k elements of the last read_span() and frees their slots.
  // Precondition: k <= that span's size (checked in debug builds).
  void release(std::size_t k) noexcept {
    RINGWIRE_ASSERT(k <= span_len_);
    for (std::uint64_t i = 0; i < k; ++i) slots_[(head_ + i) & mask_].~T();
    span_len_ = 0;
    if (k != 0) release_to(head_ + k);
  }

  // ok when at least one element is queued, else empty or closed; never waits and takes
  // nothing (it re-reads the sender's tail only when the cached copy says empty). The MPSC
  // receiver polls its lanes with it.
  [[nodiscard]] status poll() noexcept { return head_ != tail_cache_ ? status::ok : refill(); }

  // ---- blocking (the endpoint's wait strategy) -----------------------------------------
  // recv(), recv(stop), recv_for and recv_until come from detail::recv_calls
  // (detail/call_surface.hpp), over recv_limited below.

  // Waits until something is queued (or closed / timed out / cancelled) without taking it.
  status wait_readable(std::stop_token stop = {}) {
    const status s = wait_for_data({ringwire::detail::no_deadline, &stop});
    // A sender's close also ends the wait: drained, that is closed, not ok (or callers spin).
    return s != status::ok || head_ != tail_cache_ ? s : refill();
  }

  // For a receiver that waits in its own event loop on a shared-memory doorbell
  // (shm/doorbell.hpp, shm::spsc::make_doorbell): arms this receiver's park word so that
  // the next publish or close rings the doorbell. Returns false when a message or the close
  // is already there (receive instead of waiting); true: wait for the doorbell. Arm again
  // after every wake. A plain channel's receiver only (an MPSC receiver has its own).
  bool arm_doorbell() noexcept {
    static_assert(Sync::parks, "a doorbell needs senders that check for a parked receiver: use std_sync");
    if (head_ != tail_cache_ || refill() != status::empty) return false;
    auto& word = ref_.get()->producer.consumer_park;
    // relaxed: published to the sender by the heavy fence below (wait.hpp's Dekker pair).
    word.store(ringwire::detail::parked_bell, std::memory_order_relaxed);
    Sync::heavy_fence(scope_);
    if (refill() == status::empty) return true;
    // relaxed: our own word; a waker's exchange may reset it too, harmlessly.
    word.store(ringwire::detail::running, std::memory_order_relaxed);
    return false;
  }

  // ---- state ---------------------------------------------------------------------------
  // Closes the receiving side: later sends report closed; queued elements are destroyed
  // when the channel's memory is released. Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = ref_.get();
    if (l == nullptr) return;
    // release: orders our last slot reads before the flag (the sender stops on it).
    l->producer.receiver_closed.store(1, std::memory_order_release);
    ringwire::detail::notify_close<Sync>(l->consumer.producer_park, scope_);
    ref_.reset();
    slots_ = nullptr;
    stamps_ = nullptr;
    latency_ = nullptr;
    head_ = tail_cache_ = 0;
  }

  // True when nothing more will arrive: the sender is gone and everything it sent has been
  // received (or this receiver is closed).
  [[nodiscard]] bool is_closed() {
    if (head_ != tail_cache_) return false;
    return refill() == status::closed;
  }
  // True when the sender's index was once impossible (a ring in shared memory written by a
  // corrupt or hostile process): the receiver reports closed from then on.
  [[nodiscard]] bool peer_corrupt() const noexcept { return peer_corrupt_; }
  [[nodiscard]] std::size_t capacity() const noexcept {
    return ref_.get() == nullptr ? 0 : static_cast<std::size_t>(ref_.get()->geometry.capacity);
  }
  [[nodiscard]] std::size_t size_approx() const noexcept {
    auto* l = ref_.get();
    // acquire: pairs with the sender's release of tail (a plain observation).
    return l == nullptr ? 0 : static_cast<std::size_t>(l->producer.tail.load(std::memory_order_acquire) - head_);
  }
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 private:
  friend class ringwire::detail::recv_calls<receiver<T, Sync>, T, Sync>;
  using limits_t = ringwire::detail::wait_limits;

  // Re-reads tail. ok: something is queued; empty; or closed (sender gone and drained).
  // Inline: a consumer that keeps up comes here on most receives.
  status refill() noexcept {
    auto* l = ref_.get();
    if (l == nullptr) [[unlikely]] return status::closed;
    tail_cache_ = load_tail(l);
    if (tail_cache_ != head_) [[likely]] return status::ok;
    return empty_or_closed(l);
  }

  // The sender's tail, or head_ when it is impossible. An honest sender keeps
  // 0 <= tail - head <= slot count; a ring in shared memory can also be written by a
  // corrupt or hostile process, and believing a larger distance would make a batch copy
  // run past the slot array. Such a tail marks the endpoint peer_corrupt (sticky): it
  // then reports closed and reads no slot.
  std::uint64_t load_tail(layout<Sync>* l) noexcept {
    // acquire: the sender's constructions into slots before `tail` happen-before our reads.
    const std::uint64_t t = l->producer.tail.load(std::memory_order_acquire);
    if (t - head_ > mask_ + 1 || peer_corrupt_) [[unlikely]] {
      peer_corrupt_ = true;
      return head_;
    }
    return t;
  }

  [[gnu::noinline]] status empty_or_closed(layout<Sync>* l) noexcept {
    if (peer_corrupt_) [[unlikely]] return status::closed;
    // acquire: the sender's last publish happens-before its close, so a re-read of tail
    // after seeing the flag sees every message it sent.
    if (l->consumer.sender_closed.load(std::memory_order_acquire) != 0) {
      tail_cache_ = load_tail(l);
      return tail_cache_ != head_ ? status::ok : status::closed;
    }
    if (metrics_) ringwire::detail::bump(l->consumer_stats.empty_events);
    return status::empty;
  }

  // try_recv_batch for trivially copyable T into contiguous memory: at most two memcpy (the
  // run may wrap the end of the array), then one index store.
  std::size_t copy_out(T* dst, std::size_t max) noexcept {
    if (max == 0) return 0;
    if (head_ == tail_cache_) [[unlikely]] {
      if (refill() != status::ok) return 0;
    }
    const std::uint64_t avail = tail_cache_ - head_;
    const std::uint64_t n = avail < max ? avail : max;
    const std::uint64_t at = head_ & mask_;
    const std::uint64_t to_end = mask_ + 1 - at;
    const std::uint64_t head_part = n < to_end ? n : to_end;
    std::memcpy(static_cast<void*>(dst), slots_ + at, static_cast<std::size_t>(head_part) * sizeof(T));
    std::memcpy(static_cast<void*>(dst + head_part), slots_, static_cast<std::size_t>(n - head_part) * sizeof(T));
    release_to(head_ + n);
    return static_cast<std::size_t>(n);
  }

  // One named result and one return, so g++ and clang++ elide it (NRVO): inlined in
  // try_recv() beside its early return they did not, and moved the result a second time
  // after the slot was freed, so a throwing move lost the element.
  recv_result<T> pop_front() {
    T& slot = slots_[head_ & mask_];
    recv_result<T> r(std::in_place, std::move(slot));  // may throw: nothing consumed yet
    slot.~T();
    release_to(head_ + 1);
    return r;
  }

  void release_to(std::uint64_t new_head) noexcept {
    auto* l = ref_.get();
    if (latency_ != nullptr) [[unlikely]] record_latency(new_head);
    head_ = new_head;
    // release: our moves out of and destruction of the freed slots happen-before the
    // sender's acquire load of head that lets it reuse them.
    l->consumer.head.store(new_head, std::memory_order_release);
    if (ringwire::detail::notify<Sync>(l->consumer.producer_park, scope_)) [[unlikely]] {
      if (metrics_) ringwire::detail::bump(l->consumer_stats.wakes_sent);
    }
  }

  // One clock read for all the slots this release frees, each stamp read before head is
  // released (after, the sender may reuse it): layout.hpp "Latency".
  // Out of line: see sender::stamp.
  [[gnu::noinline]] void record_latency(std::uint64_t new_head) noexcept {
    const std::uint64_t now = latency_clock_ns();
    for (std::uint64_t i = head_; i != new_head; ++i) latency_->record_since(stamps_[i & mask_], now);
  }

  status wait_for_data(const limits_t& lim) {
    auto* l = ref_.get();
    if (l == nullptr) return status::closed;
    if (head_ != tail_cache_) return status::ok;
    const status s = ringwire::detail::wait_until<Sync>(wait_, l->producer.consumer_park, scope_, ref_.watch(lim), parks_, [&] {
      // acquire: as in refill(); the flag read makes a close visible to a waiter.
      return l->producer.tail.load(std::memory_order_acquire) != head_ ||
             l->consumer.sender_closed.load(std::memory_order_acquire) != 0;
    });
    if (metrics_ && parks_ != 0) {
      ringwire::detail::bump(l->consumer_stats.parks, parks_);
      parks_ = 0;
    }
    return s;
  }

  recv_result<T> recv_limited(const limits_t& lim) {
    for (;;) {
      if (head_ == tail_cache_) {
        const status s = refill();
        if (s == status::closed) return recv_result<T>(s);
        if (s == status::empty) {
          const status w = wait_for_data(lim);
          if (w != status::ok) return recv_result<T>(w);
          continue;
        }
      }
      return try_recv();
    }
  }

  template <class V>
  using reset_on_move = ringwire::detail::reset_on_move<V>;
  reset_on_move<T*> slots_;
  reset_on_move<std::uint64_t> mask_;
  reset_on_move<std::uint64_t> head_;        // our own index (we are its only writer)
  reset_on_move<std::uint64_t> tail_cache_;  // the sender's tail as last read
  reset_on_move<std::uint64_t> parks_;
  reset_on_move<std::uint64_t> span_len_;  // size of the last read_span(), for release()'s check
  reset_on_move<bool> peer_corrupt_;       // the sender's tail was impossible once: see load_tail()
  reset_on_move<const std::uint64_t*> stamps_;       // the layout's publish stamps; null: latency off
  reset_on_move<latency_histogram<Sync>*> latency_;  // the layout's histogram; we are its one writer
};

}  // namespace ringwire::spsc
