// ringwire/byte_ring/endpoint.hpp -- what the byte ring's writers and reader share: options,
// the outcome types, the ring's bounds, and the argument checks that throw (a record that can never fit, a
// reserved type id: caller bugs, reported as ringwire::error, never truncated or dropped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ringwire/byte_ring/storage.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/placement/memory.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::byte_ring {

// The wait strategies of a ring's endpoints, named by role as in every ringwire family:
// sender_wait for the writers (waiting for room), receiver_wait for the reader; metrics:
// each endpoint counts its slow-path events in the ring (layout.hpp "Counters", stats.hpp).
struct options {
  wait_strategy sender_wait = wait_strategy::park();
  wait_strategy receiver_wait = wait_strategy::park();
  bool metrics = false;
  // Where a heap ring's memory lives (placement/memory.hpp), read by one_to_one and
  // many_to_one only; default: an ordinary allocation.
  memory_options memory = {};
};

// The outcome of a reserve: status::ok with bytes() (exactly the size asked for, contiguous
// in the ring), or full / closed / timed_out / cancelled with an empty span.
class claim {
 public:
  claim() noexcept = default;  // closed, no bytes
  claim(ringwire::status why, std::span<std::byte> bytes) noexcept : bytes_(bytes), status_(why) {}

  [[nodiscard]] explicit operator bool() const noexcept { return status_ == ringwire::status::ok; }
  [[nodiscard]] ringwire::status status() const noexcept { return status_; }
  // The reserved bytes: valid until the commit or abort that ends this reservation.
  [[nodiscard]] std::span<std::byte> bytes() const noexcept { return bytes_; }

 private:
  std::span<std::byte> bytes_;
  ringwire::status status_ = ringwire::status::closed;
};

// One record as the reader sees it: its type id (>= 1, or fragment_type for a piece of a
// fragmented message: fragment.hpp) and payload, a view into the ring that stays valid
// until the reader's next release() (or the end of read_batch's callback).
struct record_view {
  std::int32_t type = 0;
  std::span<const std::byte> payload;
};

namespace detail {

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_too_large(std::size_t n, std::uint64_t max) {
  throw error(errc::message_too_large,
              "record payload of " + std::to_string(n) + " bytes exceeds this ring's maximum of " + std::to_string(max));
}
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_bad_type(std::int32_t type) {
  throw error(errc::invalid_message_type,
              "message type " + std::to_string(type) + " is reserved (types must be >= 1)");
}
inline void check_type(std::int32_t type) {
  if (type < 1) [[unlikely]] throw_bad_type(type);
}

// The ring's bounds, copied from the layout when an endpoint is made, so a peer scribbling
// on the geometry block cannot move them. A move leaves them zero in the source: its
// operations take their slow paths, which find it closed.
class ring_bounds {
 public:
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(cap_); }
  [[nodiscard]] std::size_t max_payload() const noexcept { return static_cast<std::size_t>(max_payload_); }

 protected:
  template <class Layout>
  void take_bounds(Layout& l) noexcept {
    data_ = l.data();
    cap_ = l.geometry.capacity;
    mask_ = cap_ - 1;
    max_payload_ = l.geometry.max_payload;
  }

  ringwire::detail::reset_on_move<std::byte*> data_;
  ringwire::detail::reset_on_move<std::uint64_t> cap_;
  ringwire::detail::reset_on_move<std::uint64_t> mask_;
  ringwire::detail::reset_on_move<std::uint64_t> max_payload_;
};

}  // namespace detail
}  // namespace ringwire::byte_ring
