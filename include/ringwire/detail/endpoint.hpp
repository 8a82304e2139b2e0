// ringwire/detail/endpoint.hpp -- what every endpoint of every family has in common: a
// reference to its channel's memory, its wait strategy, its fence scope and its metrics
// flag, and one lifecycle:
//
//   made       from a reference (a counted heap handle or a shared-memory attachment)
//   copied     never (the reference is move-only), unless an endpoint writes its own copy
//   moved      by the compiler, member by member: the source is left closed
//   assigned   close() first, then member by member (a channel is never dropped silently)
//   destroyed  close(), written in each endpoint as `~X() { close(); }`
//
// The destructor cannot live here: a base is destroyed after the members of the class
// derived from it, and close() needs those members (the peer's park word, the fence scope)
// to say goodbye to the peer.
//
// The moved-from source reports closed because its reference is empty (counted_ref resets
// on a move) and because every field a fast path tests is a reset_on_move: zero capacity,
// null slots, equal indices send each operation to its slow path, which finds no reference
// and says closed. A field a move may simply copy (a geometry, a configuration) stays plain.
//
// Nothing here is touched on a send or a receive except through the plain fields it wraps;
// reset_on_move has the size and layout of its value and compiles to the same loads and
// stores (scripts/callgrind.sh counts the same instructions per operation).
#pragma once

#include <type_traits>
#include <utility>

#include "ringwire/wait.hpp"

namespace ringwire::detail {

// A value that a move takes, leaving the source at its default (T{}): zero, null, false.
// Otherwise it reads and writes like the T it holds, so an endpoint's hot fields keep their
// names and their arithmetic while the endpoint's move constructor is `= default`.
template <class T>
class reset_on_move {
  static_assert(std::is_trivially_copyable_v<T>, "a hot field: a number, a pointer, a flag or a small struct");

 public:
  constexpr reset_on_move() noexcept = default;
  // Explicit: `cond ? x : field` then has one type, T.
  constexpr explicit reset_on_move(T v) noexcept : v_(v) {}
  constexpr reset_on_move(reset_on_move&& o) noexcept : v_(std::exchange(o.v_, T{})) {}
  // Safe on itself: the value is read before the source is reset.
  constexpr reset_on_move& operator=(reset_on_move&& o) noexcept {
    v_ = std::exchange(o.v_, T{});
    return *this;
  }
  // Copies only between fields of one endpoint (`a_ = b_ = 0`); endpoints are move-only.
  constexpr reset_on_move(const reset_on_move&) noexcept = default;
  constexpr reset_on_move& operator=(const reset_on_move&) noexcept = default;
  constexpr reset_on_move& operator=(T v) noexcept {
    v_ = v;
    return *this;
  }
  ~reset_on_move() = default;

  constexpr operator T&() noexcept { return v_; }  // NOLINT(google-explicit-constructor)
  constexpr operator const T&() const noexcept { return v_; }  // NOLINT(google-explicit-constructor)
  [[nodiscard]] constexpr T& get() noexcept { return v_; }
  [[nodiscard]] constexpr const T& get() const noexcept { return v_; }
  constexpr T operator->() const noexcept
    requires std::is_pointer_v<T>
  {
    return v_;
  }

  // The built-in compound assignments apply no conversion to their left operand.
  template <class U>
  constexpr reset_on_move& operator+=(const U& u) noexcept {
    v_ += u;
    return *this;
  }
  template <class U>
  constexpr reset_on_move& operator-=(const U& u) noexcept {
    v_ -= u;
    return *this;
  }

 private:
  T v_{};
};

// Runs Derived's close() before Derived's defaulted move assignment moves its members (a
// base is assigned before the members): the channel this endpoint held is closed while all
// of Derived's fields still describe it. Empty; copying it does nothing.
template <class Derived>
class close_before_move_assign {
 protected:
  close_before_move_assign() noexcept = default;
  close_before_move_assign(const close_before_move_assign&) noexcept = default;
  close_before_move_assign(close_before_move_assign&&) noexcept = default;
  close_before_move_assign& operator=(const close_before_move_assign&) noexcept = default;
  close_before_move_assign& operator=(close_before_move_assign&& o) noexcept {
    if (this != &o) static_cast<Derived&>(*this).close();
    return *this;
  }
  ~close_before_move_assign() = default;
};

// What every endpoint keeps of its channel: the reference (a detail::counted_ref, or any
// move-only handle that a move empties in its source), the wait strategy, the fence scope
// and the metrics flag. A move takes the reference and copies the settings.
template <class Ref>
class endpoint_state {
 public:
  void set_wait(const wait_strategy& w) noexcept { wait_ = w; }
  [[nodiscard]] const wait_strategy& wait() const noexcept { return wait_; }

 protected:
  endpoint_state() noexcept = default;
  // scope: already resolved by the endpoint's Sync (Sync::resolve_scope), decided once.
  endpoint_state(Ref ref, const wait_strategy& w, fence_scope scope, bool metrics = false) noexcept
      : ref_(std::move(ref)), wait_(w), scope_(scope), metrics_(metrics) {}
  endpoint_state(endpoint_state&&) noexcept = default;
  endpoint_state& operator=(endpoint_state&&) noexcept = default;
  endpoint_state(const endpoint_state&) = delete;
  endpoint_state& operator=(const endpoint_state&) = delete;
  ~endpoint_state() = default;

  Ref ref_;
  wait_strategy wait_ = wait_strategy::park();
  fence_scope scope_ = fence_scope::process;
  bool metrics_ = false;  // count slow-path events (metrics.hpp)
};

// The base of every endpoint (CRTP: Derived is the endpoint, with a noexcept close()): the
// state above with the lifecycle at the top of this header.
template <class Derived, class Ref>
class endpoint : public close_before_move_assign<Derived>, public endpoint_state<Ref> {
 protected:
  endpoint() noexcept = default;
  endpoint(Ref ref, const wait_strategy& w, fence_scope scope, bool metrics = false) noexcept
      : endpoint_state<Ref>(std::move(ref), w, scope, metrics) {}
};

}  // namespace ringwire::detail
