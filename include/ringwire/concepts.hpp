// ringwire/concepts.hpp -- the published concepts every endpoint satisfies, so that generic
// code (a bridge between two channels, a test harness, a benchmark) can take any endpoint of
// a role without naming its family. Includable on its own: it names no family header; each
// family's endpoints are checked against these concepts in its tests.
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
