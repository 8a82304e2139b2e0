// ringwire/byte_ring/endpoint.hpp -- what the byte ring's writers and reader share: options,
// the outcome types, and the argument checks that throw (a record that can never fit, a
// reserved type id: caller bugs, reported as ringwire::error, never truncated or dropped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ringwire/byte_ring/storage.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::byte_ring {

struct options {
  wait_strategy writer_wait = wait_strategy::park();
  wait_strategy reader_wait = wait_strategy::park();
};

// The outcome of a reserve: status::ok with `bytes` (exactly the size asked for, contiguous
// in the ring), or full / closed / timed_out / cancelled with an empty span.
struct claim {
  ringwire::status status = ringwire::status::closed;
  std::span<std::byte> bytes;
  [[nodiscard]] explicit operator bool() const noexcept { return status == ringwire::status::ok; }
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

}  // namespace detail
}  // namespace ringwire::byte_ring
