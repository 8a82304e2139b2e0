// ringwire/detail/defs.hpp -- platform facts in one place.
//
// Cache-line geometry, the CPU's spin-wait hint and the debug assertion macro. Everything
// architecture-specific that a protocol header needs lives here, so the protocol headers
// read the same on every target.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ringwire::detail {

// One cache line on the targets we build for (x86-64, aarch64 outside Apple M-series).
inline constexpr std::size_t cache_line = 64;

// Independent hot state is separated by two lines, not one: Intel's adjacent-line
// prefetcher pulls lines in 128-byte pairs, so two indices 64 bytes apart still
// false-share through the prefetcher (the same reason Agrona pads to 128).
inline constexpr std::size_t hot_block = 128;

// The spin-wait hint: `pause` on x86 (lets the sibling hyperthread run and avoids the
// memory-order mis-speculation flush when the awaited line changes), `yield` on ARM.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "ringwire: precondition failed: %s (%s:%d)\n", expr, file, line);
  std::abort();
}

// A sync policy's optional `zero_payload` (sync.hpp): formats zero payload memory they
// would otherwise leave untouched.
template <class Sync>
inline constexpr bool zero_payload_v = requires { requires Sync::zero_payload; };

}  // namespace ringwire::detail

// Precondition checks that cost something on a hot path: on in debug builds, off under
// NDEBUG unless RINGWIRE_CHECKS=1 forces them on.
#if !defined(RINGWIRE_CHECKS)
#if defined(NDEBUG)
#define RINGWIRE_CHECKS 0
#else
#define RINGWIRE_CHECKS 1
#endif
#endif

#if RINGWIRE_CHECKS
#define RINGWIRE_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::ringwire::detail::assert_fail(#expr, __FILE__, __LINE__))
#else
#define RINGWIRE_ASSERT(expr) static_cast<void>(0)
#endif

namespace ringwire::detail {

// Marks `flag` true for the scope of a call into user code (publish_with's and recv_with's
// fn), so that a re-entry into the same endpoint can be RINGWIRE_ASSERTed; in a build
// without checks it does nothing at all (no store on the hot path).
class reentry_mark {
 public:
  explicit reentry_mark(bool& flag) noexcept {
    if constexpr (RINGWIRE_CHECKS != 0) {
      flag_ = &flag;
      flag = true;
    }
  }
  ~reentry_mark() {
    if constexpr (RINGWIRE_CHECKS != 0) *flag_ = false;
  }
  reentry_mark(const reentry_mark&) = delete;
  reentry_mark& operator=(const reentry_mark&) = delete;

 private:
  bool* flag_ = nullptr;
};

}  // namespace ringwire::detail
