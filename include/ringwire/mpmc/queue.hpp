// ringwire/mpmc/queue.hpp -- the MPMC queue as one shared object.
//
// `queue<T>` is used by reference from any number of threads, each of which may push and
// pop. It owns its heap block; it is neither copyable nor movable (threads hold its
// address), and must outlive every call into it. For handles with disconnect instead, see
// mpmc/endpoints.hpp.
//
// Outcomes: ok; full (try_push) and empty (try_pop) only when the queue really was full or
// empty at an instant during the call (core.hpp says why that holds); closed after close()
// (pushes at once; pops once what was queued is drained); timed_out; cancelled. A push
// that does not return ok leaves its argument untouched.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/mpmc/core.hpp"
#include "ringwire/mpmc/stats.hpp"
#include "ringwire/mpmc/storage.hpp"

namespace ringwire::mpmc {

// How waiting calls wait, where the turn stamps live (layout.hpp; automatic picks by
// sizeof(T)) and whether slow paths count events (stats.hpp), fixed when the queue or
// channel is made.
struct options {
  wait_strategy sender_wait = wait_strategy::park();    // senders, and queue::push*
  wait_strategy receiver_wait = wait_strategy::park();  // receivers, and queue::pop*
  cell_layout cells = cell_layout::automatic;
  bool metrics = false;  // count full/empty events, parks and wakes (slow paths only)
  memory_options memory = {};  // where the heap memory lives (placement/memory.hpp); default: ordinary
};

namespace detail {

template <class T>
inline constexpr bool element_ok = std::is_nothrow_destructible_v<T> && std::is_move_constructible_v<T>;

using limits = wait_limits;
inline limits no_limits() noexcept { return {}; }
inline limits limits_until(ringwire::detail::clock::time_point d) noexcept { return {d, nullptr}; }
inline limits limits_stop(const std::stop_token* s) noexcept { return {ringwire::detail::no_deadline, s}; }

}  // namespace detail

template <class T, class Sync = std_sync>
class queue {
  static_assert(detail::element_ok<T>, "queue elements must be movable with a non-throwing destructor");

 public:
  using value_type = T;

  // A queue holding at most `capacity` elements (any value >= 1; a power of two saves a
  // division per operation). Throws ringwire::error for zero or an unallocatable capacity.
  explicit queue(std::size_t capacity, const options& opt = {})
      : ref_(make(capacity, opt.cells, opt.memory)), core_(ref_.get(), opt.metrics), opt_(opt) {}
  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;

  // ---- push --------------------------------------------------------------------------
  status try_push(const T& v) { return core_.try_push(v); }
  status try_push(T&& v) { return core_.try_push(std::move(v)); }
  template <class... Args>
  status try_emplace(Args&&... args) {
    return core_.try_push(std::forward<Args>(args)...);
  }

  status push(const T& v) { return push_with(detail::no_limits(), v); }
  status push(T&& v) { return push_with(detail::no_limits(), std::move(v)); }
  status push(T&& v, std::stop_token stop) {
    return push_with(detail::limits_stop(&stop), std::move(v));
  }
  template <class Rep, class Period>
  status push_for(T&& v, std::chrono::duration<Rep, Period> timeout) {
    return push_until(std::move(v), ringwire::detail::deadline_after(Sync::now(), timeout));
  }
  status push_until(T&& v, ringwire::detail::clock::time_point deadline) {
    return push_with(detail::limits_until(deadline), std::move(v));
  }
  template <class... Args>
  status emplace(Args&&... args) {
    return push_with(detail::no_limits(), std::forward<Args>(args)...);
  }

  // ---- pop ---------------------------------------------------------------------------
  recv_result<T> try_pop() { return core_.try_pop(); }
  status try_pop(T& out) { return core_.try_pop(out); }

  recv_result<T> pop() { return pop_with(detail::no_limits()); }
  recv_result<T> pop(std::stop_token stop) {
    return pop_with(detail::limits_stop(&stop));
  }
  template <class Rep, class Period>
  recv_result<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
    return pop_until(ringwire::detail::deadline_after(Sync::now(), timeout));
  }
  recv_result<T> pop_until(ringwire::detail::clock::time_point deadline) {
    return pop_with(detail::limits_until(deadline));
  }

  // ---- state -------------------------------------------------------------------------
  // Closes the queue: pushes report closed from now on; pops drain what is queued, then
  // report closed; waiting calls wake. Idempotent.
  void close() noexcept { core_.seal(); }
  [[nodiscard]] bool is_closed() const noexcept { return core_.sending_closed(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(core_.capacity()); }
  // Elements queued at about this instant (exact when nobody is pushing or popping).
  [[nodiscard]] std::size_t size_approx() const noexcept { return core_.size_approx(); }
  // A read-only view of the counters for another thread (stats.hpp); it keeps the queue's
  // memory alive after the queue is gone.
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 private:
  static ringwire::detail::counted_ref<layout<Sync>, Sync> make(std::size_t capacity, cell_layout cells,
                                                                 const memory_options& mem) {
    Sync::prepare();
    auto* block = detail::make_heap_block<T, Sync>(capacity, /*refs=*/1, cells, mem);
    return {block->ring(), &block->own};
  }

  template <class... Args>
  status push_with(const detail::limits& lim, Args&&... args) {
    std::uint64_t parks = 0;  // this call's sleeps; the core adds them to the counters (metrics)
    return core_.push_until(opt_.sender_wait, lim, parks, std::forward<Args>(args)...);
  }
  recv_result<T> pop_with(const detail::limits& lim) {
    std::uint64_t parks = 0;
    return core_.pop_until(opt_.receiver_wait, lim, parks);
  }

  ringwire::detail::counted_ref<layout<Sync>, Sync> ref_;
  detail::core<T, Sync> core_;
  options opt_;
};

}  // namespace ringwire::mpmc
