// ringwire/detail/deadline.hpp -- the clock every wait reads, and timeouts turned into
// deadlines without overflow.
//
// Every `*_for(timeout)` call computes its deadline here, never as `now + timeout`: that sum
// overflows for a long timeout (nanoseconds::max(), hours::max(); signed overflow, so UB)
// and typically wraps into the past, which made such a wait return timed_out at once.
// deadline_after(now, timeout) saturates instead:
//   timeout <= 0 (or NaN)               now: already expired, one check and timed_out
//   now + timeout past the clock's end  no_deadline: the wait is bounded by nothing else
//   otherwise                           now + timeout, exact to the nanosecond (floating or
//                                       non-decimal periods: to within a nanosecond)
// The caller passes `now` (Sync::now()), so a model's clock works as well as the real one.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <ratio>
#include <type_traits>

namespace ringwire::detail {

using clock = std::chrono::steady_clock;
inline constexpr clock::time_point no_deadline = clock::time_point::max();

template <class Rep, class Period>
constexpr clock::time_point deadline_after(clock::time_point now, std::chrono::duration<Rep, Period> timeout) noexcept {
  using ns = clock::duration;
  static_assert(std::is_same_v<ns::period, std::nano>, "the clock counts nanoseconds on every target");
  if (!(timeout > timeout.zero())) return now;
  if (now >= no_deadline) return no_deadline;
  // Nanoseconds left before the clock's last instant; all of them when now is before its
  // epoch (then now + any ns count fits).
  const ns::rep room = now.time_since_epoch().count() < 0 ? std::numeric_limits<ns::rep>::max()
                                                           : (no_deadline - now).count();
  using per_tick = std::ratio_divide<Period, std::nano>;  // nanoseconds per tick of the timeout
  if constexpr (std::is_integral_v<Rep> && per_tick::den == 1) {
    // Whole nanoseconds per tick: compare in ticks, so the conversion cannot overflow.
    if (static_cast<std::uintmax_t>(timeout.count()) > static_cast<std::uintmax_t>(room / per_tick::num))
      return no_deadline;
    return now + ns(static_cast<ns::rep>(timeout.count()) * per_tick::num);
  } else if constexpr (std::is_integral_v<Rep> && per_tick::num == 1) {
    // Several ticks per nanosecond: the division only shrinks the count.
    const std::uintmax_t step = static_cast<std::uintmax_t>(timeout.count()) / per_tick::den;
    if (step > static_cast<std::uintmax_t>(room)) return no_deadline;
    return now + ns(static_cast<ns::rep>(step));
  } else {
    // A floating count or a period like 1/3 s: compare in long double, which holds every
    // 64-bit count exactly on the targets (x86-64: 64 digits, aarch64: 113).
    static_assert(std::numeric_limits<long double>::digits >= 64, "long double must hold a 64-bit count");
    const long double t = static_cast<long double>(timeout.count()) * per_tick::num / per_tick::den;
    if (!(t < static_cast<long double>(room))) return no_deadline;  // also +inf
    return now + ns(static_cast<ns::rep>(t));
  }
}

}  // namespace ringwire::detail
