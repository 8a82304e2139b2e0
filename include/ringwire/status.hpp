// ringwire/status.hpp -- the outcome of every channel operation.
//
// No operation throws for channel state. A send says `ok`, `full`, `closed`, `timed_out`
// or `cancelled`; a receive returns a `recv_result<T>` that either holds the value or says
// which of `empty`, `closed`, `timed_out` or `cancelled` happened instead. On any outcome
// but `ok` the argument of a send is left untouched: the caller still owns it. Broadcast
// subscribers add `lagged` (with the exact count in recv_result::missed()) and `evicted`;
// byte broadcast readers report the same `lagged` (read_result::missed()) and add
// `too_small` and `corrupt`, outcomes only a byte record read has.
//
// missed(). A result's missed() counts the messages that outcome lost, and is non-zero only
// for `lagged` (and `corrupt`, which skips the one impossible entry): an `ok` result always
// says 0, so a loss is never folded into a successful receive -- it comes first, as its own
// `lagged` result, and the next receive returns the message that followed the gap.
//
// seq(). An `ok` result of a family that numbers its messages (broadcast: 1, 2, 3, ... in
// publish order, never reused) carries that number; every other result, and every result
// of the other families, says 0. It shares its word with missed(): an outcome has one or
// the other, never both, so numbering costs no space in any family's result.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "ringwire/detail/defs.hpp"

namespace ringwire {

enum class status : std::uint8_t {
  ok,         // the message went in (send) or came out (receive)
  full,       // try_send: no free slot now
  empty,      // try_recv: nothing to read now
  closed,     // the other side is gone (or this endpoint was closed / moved from)
  timed_out,  // a deadline passed before the operation could complete
  cancelled,  // a std::stop_token asked the wait to stop
  lagged,     // broadcast: the publisher overwrote messages this subscriber had not read;
              // recv_result::missed() says how many, and the next receive resumes at the
              // oldest message still in the ring
  evicted,    // broadcast: the publisher dropped this subscriber for falling too far behind
  too_small,  // byte broadcast read: the caller's buffer is smaller than the message
              // (read_result::info().size says how large): nothing consumed, never truncated
  corrupt,    // byte broadcast read: the entry's size or position is impossible (hostile
              // shared memory): that entry is skipped, missed() == 1
};

inline const char* to_string(status s) noexcept {
  switch (s) {
    case status::ok: return "ok";
    case status::full: return "full";
    case status::empty: return "empty";
    case status::closed: return "closed";
    case status::timed_out: return "timed_out";
    case status::cancelled: return "cancelled";
    case status::lagged: return "lagged";
    case status::evicted: return "evicted";
    case status::too_small: return "too_small";
    case status::corrupt: return "corrupt";
  }
  return "unknown";
}

// Names the sequence number of a received message (recv_result's numbered constructor).
struct at_sequence {
  std::uint64_t value;
};

// A received value, or the reason there is none. Converts to true when it holds a value.
template <class T>
class recv_result {
 public:
  explicit recv_result(ringwire::status why) noexcept : status_(why) {}
  // status::lagged with the number of messages skipped.
  recv_result(ringwire::status why, std::uint64_t missed) noexcept : aux_(missed), status_(why) {}
  template <class... Args>
  explicit recv_result(std::in_place_t, Args&&... args)
      : value_(std::in_place, std::forward<Args>(args)...), status_(ringwire::status::ok) {}
  // A value that is message number `seq.value` of its channel.
  template <class... Args>
  recv_result(at_sequence seq, Args&&... args)
      : value_(std::in_place, std::forward<Args>(args)...), aux_(seq.value), status_(ringwire::status::ok) {}

  [[nodiscard]] explicit operator bool() const noexcept { return status_ == ringwire::status::ok; }
  [[nodiscard]] bool has_value() const noexcept { return status_ == ringwire::status::ok; }
  [[nodiscard]] ringwire::status status() const noexcept { return status_; }
  // Messages skipped by this outcome: non-zero only for status::lagged.
  [[nodiscard]] std::uint64_t missed() const noexcept { return status_ == ringwire::status::ok ? 0 : aux_; }
  // The message's sequence number: non-zero only for ok results of numbering families.
  [[nodiscard]] std::uint64_t seq() const noexcept { return status_ == ringwire::status::ok ? aux_ : 0; }

  // Precondition: has_value() (checked in debug builds).
  [[nodiscard]] T& value() & noexcept { RINGWIRE_ASSERT(value_.has_value()); return *value_; }
  [[nodiscard]] const T& value() const& noexcept { RINGWIRE_ASSERT(value_.has_value()); return *value_; }
  [[nodiscard]] T&& value() && noexcept { RINGWIRE_ASSERT(value_.has_value()); return std::move(*value_); }
  [[nodiscard]] T& operator*() & noexcept { return value(); }
  [[nodiscard]] T&& operator*() && noexcept { return std::move(*this).value(); }
  [[nodiscard]] T* operator->() noexcept { return &value(); }
  [[nodiscard]] const T* operator->() const noexcept { return &value(); }

  // The value moved out into an optional (empty on any outcome but ok).
  [[nodiscard]] std::optional<T> take() && { return std::move(value_); }

 private:
  std::optional<T> value_;
  std::uint64_t aux_ = 0;  // ok: seq(); otherwise: missed()
  ringwire::status status_;
};

}  // namespace ringwire
