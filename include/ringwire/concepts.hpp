// ringwire/concepts.hpp -- what every endpoint of a kind can do, as concepts.
//
// Generic code (a pipeline stage, a bridge, a test) takes "a sender of T" rather than one
// family's sender. Every typed endpoint satisfies one of these: spsc sender / receiver,
// spsc line_sender / line_receiver, the mpsc receiver (its senders are spsc senders), mpmc
// sender / receiver, broadcast publisher / shared_publisher / subscriber, and the bus's
// topic endpoints. tests/core/call_surface_test.cpp asserts each one; the byte families' tests
// assert the byte-record concepts below.
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
//
// Byte records (byte_ring, byte_broadcast):
//   record_writer<W>  try_write / write / write(stop_token) / write_for / write_until of one
//                     record (a tag and a byte span), each returning a status; close();
//                     is_closed(). W::tag_type is what a record is tagged with: byte_ring's
//                     type id (std::int32_t), byte_broadcast's signature (std::uint64_t).
//   record_reader<R>  try_read / read / read(stop_token) / read_for / read_until into an
//                     R::buffer_type&, each returning an R::result_type; close().
//                     buffer_type: byte_ring's record_view (a view into the ring, valid
//                     until release()), byte_broadcast's std::span<std::byte> (a copy);
//                     result_type: a record_outcome.
//   record_outcome<T> ringwire::status itself, or a result that says status() and converts
//                     to true when ok (byte_broadcast::read_result); status_of(r) reads
//                     either.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <span>
#include <stop_token>
#include <utility>

#include "ringwire/detail/deadline.hpp"
#include "ringwire/status.hpp"

namespace ringwire {

// Typed messages

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

// Byte records

// The status of an outcome, whether it is a bare status or a result class.
constexpr status status_of(status s) noexcept { return s; }
template <class R>
  requires requires(const R& r) {
    { r.status() } -> std::same_as<status>;
  }
constexpr status status_of(const R& r) noexcept {
  return r.status();
}

template <class T>
concept record_outcome = std::same_as<T, status> || requires(const T& r) {
  { status_of(r) } -> std::same_as<status>;
  static_cast<bool>(r);
};

template <class W>
concept record_writer =
    std::movable<W> && requires(W& w, const W& cw, typename W::tag_type tag, std::span<const std::byte> bytes,
                                std::stop_token stop, std::chrono::nanoseconds timeout,
                                detail::clock::time_point deadline) {
      { w.try_write(tag, bytes) } -> std::same_as<status>;
      { w.write(tag, bytes) } -> std::same_as<status>;
      { w.write(tag, bytes, stop) } -> std::same_as<status>;
      { w.write_for(tag, bytes, timeout) } -> std::same_as<status>;
      { w.write_until(tag, bytes, deadline) } -> std::same_as<status>;
      w.close();
      { cw.is_closed() } -> std::same_as<bool>;
    };

template <class R>
concept record_reader =
    std::movable<R> && record_outcome<typename R::result_type> &&
    requires(R& r, typename R::buffer_type& out, std::stop_token stop, std::chrono::nanoseconds timeout,
             detail::clock::time_point deadline) {
      { r.try_read(out) } -> std::same_as<typename R::result_type>;
      { r.read(out) } -> std::same_as<typename R::result_type>;
      { r.read(out, stop) } -> std::same_as<typename R::result_type>;
      { r.read_for(out, timeout) } -> std::same_as<typename R::result_type>;
      { r.read_until(out, deadline) } -> std::same_as<typename R::result_type>;
      r.close();
    };

}  // namespace ringwire
