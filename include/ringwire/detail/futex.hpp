// ringwire/detail/futex.hpp -- the Linux futex, the one syscall ringwire's parking uses.
//
// `futex_wait(word, expected, deadline)` sleeps only while *word == expected, checked by the
// kernel under its bucket lock, so a waker that changes the word before calling
// `futex_wake` can never be missed. Deadlines are absolute CLOCK_MONOTONIC times, which is
// what std::chrono::steady_clock reads on Linux. `shared` selects a process-shared futex
// (keyed by physical page) for words that live in shared memory; private futexes skip the
// mm lookup and are the default for in-process channels.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>

#include "ringwire/detail/deadline.hpp"

namespace ringwire::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "futex words must be plain 32-bit words");

inline std::uint32_t* futex_addr(std::atomic<std::uint32_t>& word) noexcept {
  return reinterpret_cast<std::uint32_t*>(&word);
}

// Returns false when the deadline passed; true on a wake, a value mismatch or a signal
// (the caller re-checks its condition in every case).
inline bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       clock::time_point deadline, bool shared) noexcept {
  const int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
  timespec ts{};
  timespec* tsp = nullptr;
  if (deadline != no_deadline) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    if (ns <= 0) return false;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  const long rc = syscall(SYS_futex, futex_addr(word), op, expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

inline void futex_wake_all(std::atomic<std::uint32_t>& word, bool shared) noexcept {
  const int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
  syscall(SYS_futex, futex_addr(word), op, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace ringwire::detail
