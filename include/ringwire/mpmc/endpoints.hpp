// ringwire/mpmc/endpoints.hpp -- copyable sender and receiver handles with disconnect.
//
// mpmc::channel<T>(capacity) returns one sender and one receiver; copy either as often as
// there are threads to give one to. Each handle holds a counted reference to the heap block
// (so the memory lives as long as any handle) and counts itself in the layout's `senders`
// or `receivers`:
//   * when the last sender goes (destroyed or close()d), the sending side is sealed:
//     receivers drain what was sent, then see closed; waiting receivers wake;
//   * when the last receiver goes, sends report closed; waiting senders wake. What is
//     still queued is destroyed with the block, when the last handle of either kind goes.
// A handle itself is used by one thread at a time (copies are cheap: one counter increment
// each for the block and the side); the queue under it takes any number of both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <utility>

#include "ringwire/detail/call_surface.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/mpmc/queue.hpp"

namespace ringwire::mpmc {

namespace detail {

template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

// What a sender and a receiver share: the protocol, which of the layout's handle counts is
// this side's, and through ringwire::detail::endpoint the block reference and the wait
// strategy (and the close-first move assignment).
template <class T, class Sync, bool Sending>
class endpoint : public ringwire::detail::endpoint<endpoint<T, Sync, Sending>, ring_ref<Sync>> {
  using base = ringwire::detail::endpoint<endpoint<T, Sync, Sending>, ring_ref<Sync>>;

 public:
  endpoint() noexcept = default;
  endpoint(ring_ref<Sync> ref, const wait_strategy& ws, bool metrics = false) noexcept
      : base(std::move(ref), ws, fence_scope::process, metrics), core_(ref_.get(), metrics) {}
  endpoint(const endpoint& o) noexcept : base(o.ref_.copy(), o.wait_, o.scope_, o.metrics_), core_(o.core_) {
    // relaxed: a new handle is made from a live one, which keeps the side open meanwhile.
    if (ref_.get() != nullptr) count().fetch_add(1, std::memory_order_relaxed);
  }
  endpoint(endpoint&&) noexcept = default;
  endpoint& operator=(const endpoint& o) noexcept {
    if (this != &o) *this = endpoint(o);
    return *this;
  }
  endpoint& operator=(endpoint&&) noexcept = default;  // closes this handle first (detail/endpoint.hpp)
  ~endpoint() { close(); }

  // Lets go of this handle; the side closes when it was the last one. Idempotent.
  void close() noexcept {
    if (ref_.get() == nullptr) return;
    // acq_rel: every handle's operations happen-before the close by the last one to leave.
    if (count().fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if constexpr (Sending) {
        core_.seal();
      } else {
        core_.close_receiving();
      }
    }
    core_ = core<T, Sync>{};
    ref_.reset();
  }

  [[nodiscard]] std::size_t capacity() const noexcept {
    return ref_.get() == nullptr ? 0 : static_cast<std::size_t>(core_.capacity());
  }
  [[nodiscard]] std::size_t size_approx() const noexcept { return ref_.get() == nullptr ? 0 : core_.size_approx(); }
  // A read-only view of the channel's counters for another thread (stats.hpp); it keeps the
  // memory alive. On a closed handle, an empty monitor (its snapshot is all zeros).
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 protected:
  auto& count() const noexcept {
    if constexpr (Sending) {
      return ref_.get()->rooms.senders;
    } else {
      return ref_.get()->rooms.receivers;
    }
  }

  using base::ref_, base::scope_, base::wait_;
  // Plain, so a move copies it: wrapped in reset_on_move, a send + receive pair measured 3
  // instructions more (g++ 12, callgrind). The source is closed by its empty reference,
  // which every operation checks before it touches the core.
  core<T, Sync> core_;
};

}  // namespace detail

template <class T, class Sync = std_sync>
class sender : public detail::endpoint<T, Sync, true>,
               public ringwire::detail::send_calls<sender<T, Sync>, T, Sync> {
  static_assert(detail::element_ok<T>, "channel elements must be movable with a non-throwing destructor");
  using base = detail::endpoint<T, Sync, true>;

 public:
  using value_type = T;
  using base::base;

  status try_send(const T& v) { return try_emplace(v); }
  status try_send(T&& v) { return try_emplace(std::move(v)); }
  template <class... Args>
  status try_emplace(Args&&... args) {
    if (this->ref_.get() == nullptr) [[unlikely]] return status::closed;
    return this->core_.try_push(std::forward<Args>(args)...);
  }

  // ---- blocking (the endpoint's wait strategy) -----------------------------------------
  // send(v), send(v, stop), send_for, send_until and emplace(args...) come from
  // detail::send_calls (detail/call_surface.hpp), over emplace_limited below.

  // True when this handle is closed or every receiver is gone: sends will fail.
  [[nodiscard]] bool is_closed() const noexcept {
    return this->ref_.get() == nullptr || this->core_.receiving_closed();
  }

 private:
  friend class ringwire::detail::send_calls<sender<T, Sync>, T, Sync>;
  template <class... Args>
  status emplace_limited(const ringwire::detail::wait_limits& lim, Args&&... args) {
    if (this->ref_.get() == nullptr) [[unlikely]] return status::closed;
    std::uint64_t parks = 0;  // this call's sleeps; the core adds them to the counters (metrics)
    return this->core_.push_until(this->wait_, lim, parks, std::forward<Args>(args)...);
  }
};

template <class T, class Sync = std_sync>
class receiver : public detail::endpoint<T, Sync, false>,
                 public ringwire::detail::recv_calls<receiver<T, Sync>, T, Sync> {
  static_assert(detail::element_ok<T>, "channel elements must be movable with a non-throwing destructor");
  using base = detail::endpoint<T, Sync, false>;

 public:
  using value_type = T;
  using base::base;

  recv_result<T> try_recv() {
    if (this->ref_.get() == nullptr) [[unlikely]] return recv_result<T>(status::closed);
    return this->core_.try_pop();
  }
  status try_recv(T& out) {
    if (this->ref_.get() == nullptr) [[unlikely]] return status::closed;
    return this->core_.try_pop(out);
  }
  // ---- blocking (the endpoint's wait strategy) -----------------------------------------
  // recv(), recv(stop), recv_for and recv_until come from detail::recv_calls
  // (detail/call_surface.hpp), over recv_limited below.

  // True when this handle is closed, or every sender is gone (there may still be messages
  // to drain: recv reports closed only after them).
  [[nodiscard]] bool is_closed() const noexcept {
    return this->ref_.get() == nullptr || this->core_.sending_closed();
  }

 private:
  friend class ringwire::detail::recv_calls<receiver<T, Sync>, T, Sync>;
  recv_result<T> recv_limited(const ringwire::detail::wait_limits& lim) {
    if (this->ref_.get() == nullptr) [[unlikely]] return recv_result<T>(status::closed);
    std::uint64_t parks = 0;
    return this->core_.pop_until(this->wait_, lim, parks);
  }
};

}  // namespace ringwire::mpmc
