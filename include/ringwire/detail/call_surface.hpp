// ringwire/detail/call_surface.hpp -- the blocking, stop-token and timed calls of every
// endpoint, derived from the one waiting operation the endpoint writes itself.
//
// An endpoint writes two operations:
//   * its try-operation (try_send / try_recv), which never waits, and
//   * its operation-until-limits, which waits by the endpoint's wait strategy until it
//     succeeds or a limit ends the wait (a deadline, a stop token, a dead peer):
//       sender:   status         emplace_limited(const wait_limits&, Args&&... args)
//       receiver: recv_result<T> recv_limited(const wait_limits&)
// The mixins below derive the rest, so that every family spells its calls the same way
// and a fix to one form (the saturating deadline of send_for, say) is made once:
//   send(v)            emplace_limited({}, v)               recv()          recv_limited({})
//   send(v, stop)      emplace_limited({never, &stop}, v)   recv(stop)      recv_limited({never, &stop})
//   send_for(v, d)     emplace_limited({now + d}, v)        recv_for(d)     recv_limited({now + d})
//   send_until(v, t)   emplace_limited({t}, v)              recv_until(t)   recv_limited({t})
//   emplace(args...)   emplace_limited({}, args...)
//   send_with(fn)      fn fills a value-initialised local T, then send(std::move(it))
//   send_batch(r)      send(v) for each element of r in order, until one is not ok
// An endpoint with a faster batch of its own (spsc: one publish for many) declares its
// own send_batch, which hides this one.
// now + d saturates (detail/deadline.hpp), so a huge timeout waits forever instead of
// expiring at once. The calls are inline forwarders to the primitive; the non-waiting
// paths (try_send / try_recv, the ones bench/ringwire_insn.cpp counts) do not pass here.
//
// The endpoint inherits the mixin (CRTP) and befriends it, so its primitive stays private:
//   class sender : ..., public detail::send_calls<sender<T, Sync>, T, Sync> {
//     friend class detail::send_calls<sender<T, Sync>, T, Sync>;
//     template <class... Args> status emplace_limited(const wait_limits&, Args&&...);
//   };
// An endpoint must not declare a member named like a derived call (send, recv, ...): it
// would hide the mixin's overloads.
#pragma once

#include <chrono>
#include <cstddef>
#include <ranges>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/detail/deadline.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::detail {

inline wait_limits limits_stop(const std::stop_token& stop) noexcept { return {no_deadline, &stop}; }
inline wait_limits limits_until(clock::time_point deadline) noexcept { return {deadline, nullptr}; }

// True when Args is one T (any reference or cv): the argument is the value itself, not the
// arguments to construct one from. Lets a family that copies a built value into its slot
// take emplace(args...) by building the value first.
template <class T, class... Args>
inline constexpr bool is_value_of = sizeof...(Args) == 1 && (std::is_same_v<std::remove_cvref_t<Args>, T> && ...);

template <class Derived, class T, class Sync>
class send_calls {
 public:
  status send(const T& v) { return self().emplace_limited(wait_limits{}, v); }
  status send(T&& v) { return self().emplace_limited(wait_limits{}, std::move(v)); }
  status send(const T& v, std::stop_token stop) { return self().emplace_limited(limits_stop(stop), v); }
  status send(T&& v, std::stop_token stop) { return self().emplace_limited(limits_stop(stop), std::move(v)); }
  template <class Rep, class Period>
  status send_for(const T& v, std::chrono::duration<Rep, Period> timeout) {
    return send_until(v, deadline_after(Sync::now(), timeout));
  }
  template <class Rep, class Period>
  status send_for(T&& v, std::chrono::duration<Rep, Period> timeout) {
    return send_until(std::move(v), deadline_after(Sync::now(), timeout));
  }
  status send_until(const T& v, clock::time_point deadline) { return self().emplace_limited(limits_until(deadline), v); }
  status send_until(T&& v, clock::time_point deadline) {
    return self().emplace_limited(limits_until(deadline), std::move(v));
  }
  // Constructs the message from args in the channel (or, where the family copies a built
  // value into its slot, builds it first), waiting for room like send(v).
  template <class... Args>
  status emplace(Args&&... args) {
    return self().emplace_limited(wait_limits{}, std::forward<Args>(args)...);
  }
  // Calls fn(T&) on a value-initialised local T, then sends it. Needs a default-
  // constructible T.
  template <class Fn>
  status send_with(Fn&& fn)
    requires std::is_default_constructible_v<T> && std::is_invocable_v<Fn&, T&>
  {
    T v{};
    fn(v);
    return send(std::move(v));
  }
  // Sends the elements of r in order, each as send(v) would: copied where *it is an
  // lvalue, moved where it is an rvalue (std::views::as_rvalue, move iterators). Returns how
  // many went in: all of them, or fewer if one send was not ok (closed, cancelled).
  template <std::ranges::input_range R>
  std::size_t send_batch(R&& r, std::stop_token stop = {}) {
    const wait_limits lim = limits_stop(stop);
    std::size_t n = 0;
    for (auto it = std::ranges::begin(r); it != std::ranges::end(r); ++it, ++n) {
      if (self().emplace_limited(lim, *it) != status::ok) break;
    }
    return n;
  }

 protected:
  send_calls() noexcept = default;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

template <class Derived, class T, class Sync>
class recv_calls {
 public:
  recv_result<T> recv() { return self().recv_limited(wait_limits{}); }
  recv_result<T> recv(std::stop_token stop) { return self().recv_limited(limits_stop(stop)); }
  template <class Rep, class Period>
  recv_result<T> recv_for(std::chrono::duration<Rep, Period> timeout) {
    return recv_until(deadline_after(Sync::now(), timeout));
  }
  recv_result<T> recv_until(clock::time_point deadline) { return self().recv_limited(limits_until(deadline)); }

 protected:
  recv_calls() noexcept = default;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

// The byte-record families (byte_ring, byte_broadcast) in the same way: a writer writes
// try_write and write_limited(tag, bytes, limits, extra...), a reader try_read and
// read_limited(out, limits); these derive
//   write(tag, bytes, extra...)           read(out)
//   write(tag, bytes, stop, extra...)     read(out, stop)
//   write_for(tag, bytes, d, extra...)    read_for(out, d)
//   write_until(tag, bytes, t, extra...)  read_until(out, t)
// `extra` is what a family adds after the limits (byte_broadcast: the ctl bits, defaulted
// by its write_limited); at most one.
template <class Derived, class Tag, class Sync>
class write_calls {
 public:
  template <class... Extra>
    requires(sizeof...(Extra) <= 1)
  status write(Tag tag, std::span<const std::byte> bytes, Extra... extra) {
    return self().write_limited(tag, bytes, wait_limits{}, extra...);
  }
  template <class... Extra>
    requires(sizeof...(Extra) <= 1)
  status write(Tag tag, std::span<const std::byte> bytes, std::stop_token stop, Extra... extra) {
    return self().write_limited(tag, bytes, limits_stop(stop), extra...);
  }
  template <class Rep, class Period, class... Extra>
    requires(sizeof...(Extra) <= 1)
  status write_for(Tag tag, std::span<const std::byte> bytes, std::chrono::duration<Rep, Period> timeout,
                   Extra... extra) {
    return self().write_limited(tag, bytes, limits_until(deadline_after(Sync::now(), timeout)), extra...);
  }
  template <class... Extra>
    requires(sizeof...(Extra) <= 1)
  status write_until(Tag tag, std::span<const std::byte> bytes, clock::time_point deadline, Extra... extra) {
    return self().write_limited(tag, bytes, limits_until(deadline), extra...);
  }

 protected:
  write_calls() noexcept = default;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

template <class Derived, class Buffer, class Result, class Sync>
class read_calls {
 public:
  Result read(Buffer out) { return self().read_limited(out, wait_limits{}); }
  Result read(Buffer out, std::stop_token stop) { return self().read_limited(out, limits_stop(stop)); }
  template <class Rep, class Period>
  Result read_for(Buffer out, std::chrono::duration<Rep, Period> timeout) {
    return read_until(out, deadline_after(Sync::now(), timeout));
  }
  Result read_until(Buffer out, clock::time_point deadline) { return self().read_limited(out, limits_until(deadline)); }

 protected:
  read_calls() noexcept = default;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace ringwire::detail
