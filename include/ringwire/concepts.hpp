// ringwire/concepts.hpp -- what every endpoint of a kind can do, as concepts.
//
// Generic code (a pipeline stage, a bridge, a test) takes "a sender of T" rather than one
// family's sender. Every typed endpoint satisfies one of these: spsc sender / receiver,
// spsc line_sender / line_receiver, the mpsc receiver (its senders are spsc senders), mpmc
// sender / receiver, broadcast publisher / shared_publisher / subscriber, and the bus's
// topic endpoints. tests/core/concepts_test.cpp asserts each one.
//
// The calls are the same in every family (detail/call_surface.hpp derives the waiting ones
// from each endpoint's operation-until-limits):
//   sender:   try_send(v) never waits: ok, full or closed.
//             send(v), send(v, stop), send_for(v, d), send_until(v, t) wait by the
//             endpoint's wait strategy: ok, closed, cancelled or timed_out.
//             close(), is_closed().
//   receiver: try_recv() never waits: a recv_result<T> (ok with the value, or empty, closed,
//             and in broadcast lagged with missed() or evicted).
//             recv(), recv(stop), recv_for(d), recv_until(t) wait: ok, closed, cancelled,
//             timed_out (and broadcast's lagged / evicted).
//             close().
// The outcome is always a ringwire::status (status.hpp), for a receive inside the
// recv_result with the value, and a loss is always status::lagged with its exact count in
// missed().
#pragma once

#include <chrono>
#include <concepts>
#include <stop_token>
#include <utility>

#include "ringwire/status.hpp"

namespace ringwire {

template <class S, class T>
concept sender_of = std::move_constructible<S> &&
    requires(S& s, T&& v, const T& cv, std::stop_token stop, std::chrono::nanoseconds d,
             std::chrono::steady_clock::time_point t) {
      { s.try_send(cv) } -> std::same_as<status>;
      { s.try_send(std::move(v)) } -> std::same_as<status>;
      { s.send(cv) } -> std::same_as<status>;
      { s.send(std::move(v)) } -> std::same_as<status>;
      { s.send(std::move(v), stop) } -> std::same_as<status>;
      { s.send_for(std::move(v), d) } -> std::same_as<status>;
      { s.send_until(std::move(v), t) } -> std::same_as<status>;
      { s.is_closed() } -> std::same_as<bool>;
      s.close();
    };

template <class R, class T>
concept receiver_of = std::move_constructible<R> &&
    requires(R& r, std::stop_token stop, std::chrono::nanoseconds d, std::chrono::steady_clock::time_point t) {
      { r.try_recv() } -> std::same_as<recv_result<T>>;
      { r.recv() } -> std::same_as<recv_result<T>>;
      { r.recv(stop) } -> std::same_as<recv_result<T>>;
      { r.recv_for(d) } -> std::same_as<recv_result<T>>;
      { r.recv_until(t) } -> std::same_as<recv_result<T>>;
      r.close();
    };

}  // namespace ringwire
