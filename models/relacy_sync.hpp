// models/relacy_sync.hpp -- ringwire's `Sync` policy on Relacy's simulated machine.
//
// `relacy_sync` gives the real channel headers (ringwire/spsc*.hpp, ringwire/wait.hpp)
// Relacy's atomics, fences and futex, so Relacy checks the protocol code that ships:
//
//   atomic<T>          a thin adapter over rl::atomic<T> with std::atomic's member
//                      functions and std::memory_order arguments (mapped one to one onto
//                      rl::memory_order). Each call passes the *caller's* file and line to
//                      Relacy (through __builtin_FILE/__builtin_LINE default arguments), so
//                      a failure history points into ringwire's headers. Default
//                      construction stores T{} (relaxed), as std::atomic value-initialises
//                      since C++20: the layout's park words and flags rely on it.
//   light_fence,       a seq_cst fence each. That is the contract of the asymmetric fence:
//   heavy_fence        membarrier() makes the light side's compiler barrier act as a full
//                      fence whenever the heavy side runs (detail/asymmetric_fence.hpp).
//   full_fence         a seq_cst fence.
//   park / unpark_all  Relacy's own futex emulation (rl_int_futex_impl in
//                      relacy/stdlib/pthread.hpp), restated for a 32-bit unsigned word: a
//                      seq_cst fence, then the value check with preemption disabled and the
//                      enqueue on the word's wait set, so "word == expected, then sleep" is
//                      atomic with respect to unpark_all, exactly as the kernel's hash-bucket
//                      lock makes it. The wait allows spurious wake-ups; with a deadline it is
//                      a timed wait that Relacy may end with a timeout (park returns false).
//                      unpark_all is a seq_cst fence and a wake of every waiter (and, like the
//                      kernel, a happens-before edge from waker to wakee; the indices'
//                      release/acquire is therefore checked on its own by the scenarios that
//                      never park, and by interleavings in which nobody sleeps).
//   cpu_relax, yield,  rl::yield: tells the scheduler this thread is spinning, so spin and
//   sleep_for          back-off loops terminate (and an endless one is a livelock).
//   now                model_clock::now: a fixed instant (the epoch), so deadlines never
//                      expire by themselves; only a timed park that Relacy chooses to time out
//                      moves it, to that park's deadline (which is what ETIMEDOUT means).
//   prepare            no-op (there is no membarrier to register).
//   resolve_scope      the scope unchanged: every scope gets the same seq_cst fences.
//
// Mutants (to prove the model can fail; see models/CMakeLists.txt):
//   RINGWIRE_MODEL_MUTANT=1  light_fence is a no-op: the Dekker pair of the park protocol
//                            is broken and a wake-up can be lost (Relacy: DEADLOCK).
//   RINGWIRE_MODEL_MUTANT=2  every release store is performed relaxed (the indices' publish
//                            stores among them): payload reads race (Relacy: DATA RACE).
//
// Allocation. Relacy replaces the global operator new/delete(void*) with inline
// definitions; a sized delete would bypass them, so models build with
// -fno-sized-deallocation (models/CMakeLists.txt).
//
// Include order. ringwire (and every std header it needs) is included *before* Relacy:
// relacy.hpp defines `new`, `delete`, `malloc`, `free`, `memory_order_*`, `assert`,
// `errno`, `$` and the pthread/Win32 names as macros, and ringwire's templates must be
// tokenised without them. The allocation and memory_order_* macros are undefined again
// below so the model code can use the ordinary names; `assert`, `errno`, `$` and the
// pthread/Win32 macros stay Relacy's (the model uses RL_ASSERT and RL_INFO).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "ringwire/spsc.hpp"
#include "ringwire/sync.hpp"
#include "ringwire/wait.hpp"

// RL_GC: Relacy reclaims its per-object bookkeeping at the end of every iteration instead
// of reporting atomics that were never destroyed. ringwire formats a layout into raw memory
// and, the layout being trivially destructible with std::atomic, never runs its destructor;
// with rl::atomic members that would be reported as an "atomic leak". Payload leaks are
// still caught: the model counts live payload objects itself.
#ifndef RL_GC
#define RL_GC 1
#endif
#include <relacy/relacy.hpp>

#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst

#ifndef RINGWIRE_MODEL_MUTANT
#define RINGWIRE_MODEL_MUTANT 0
#endif

namespace ringwire::model {

// The caller's source position, for Relacy's history.
#define RINGWIRE_RL_CALLER ::rl::debug_info(__builtin_FUNCTION(), __builtin_FILE(), __builtin_LINE())

inline constexpr bool mutant_no_light_fence = RINGWIRE_MODEL_MUTANT == 1;
inline constexpr bool mutant_relaxed_release = RINGWIRE_MODEL_MUTANT == 2;

constexpr rl::memory_order to_rl(std::memory_order mo) noexcept {
  switch (mo) {
    case std::memory_order::relaxed: return rl::mo_relaxed;
    case std::memory_order::consume: return rl::mo_consume;
    case std::memory_order::acquire: return rl::mo_acquire;
    case std::memory_order::release: return rl::mo_release;
    case std::memory_order::acq_rel: return rl::mo_acq_rel;
    case std::memory_order::seq_cst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

// std::atomic's interface over rl::atomic<T>.
template <class T>
class atomic {
 public:
  using value_type = T;
  static constexpr bool is_always_lock_free = true;

  atomic(rl::debug_info info = RINGWIRE_RL_CALLER) noexcept { a_.store(T{}, rl::mo_relaxed, info); }
  atomic(T v, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept { a_.store(v, rl::mo_relaxed, info); }
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order mo = std::memory_order::seq_cst, rl::debug_info info = RINGWIRE_RL_CALLER) const noexcept {
    return a_.load(to_rl(mo), info);
  }
  void store(T v, std::memory_order mo = std::memory_order::seq_cst,
             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    if (mutant_relaxed_release && mo == std::memory_order::release) mo = std::memory_order::relaxed;
    a_.store(v, to_rl(mo), info);
  }
  T exchange(T v, std::memory_order mo = std::memory_order::seq_cst,
             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_.exchange(v, to_rl(mo), info);
  }
  T fetch_add(T v, std::memory_order mo = std::memory_order::seq_cst,
              rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_.fetch_add(v, to_rl(mo), info);
  }
  T fetch_sub(T v, std::memory_order mo = std::memory_order::seq_cst,
              rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_.fetch_sub(v, to_rl(mo), info);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order mo = std::memory_order::seq_cst,
                             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_.compare_exchange_weak(expected, desired, to_rl(mo), info);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure,
                             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_.compare_exchange_weak(expected, desired, to_rl(success), info, to_rl(failure), info);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order mo = std::memory_order::seq_cst,
                               rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_.compare_exchange_strong(expected, desired, to_rl(mo), info);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure,
                               rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_.compare_exchange_strong(expected, desired, to_rl(success), info, to_rl(failure), info);
  }

  // The simulated atomic itself, for the futex emulation.
  rl::atomic<T>& rl_atomic() noexcept { return a_; }

 private:
  mutable rl::atomic<T> a_;
};

// The time relacy_sync::now() reports. Fixed, so no deadline passes unless a timed park
// times out (relacy_sync::park) or a scenario moves it; scenarios reset it in before(), as
// Relacy needs every iteration to be replayable.
struct model_clock {
  static inline ringwire::detail::clock::time_point now{};
};

// What the parking did, summed over a scenario's iterations (a coverage report: a scenario
// meant to exercise parking must show sleeps and wake-ups). Plain counters: Relacy runs all
// simulated threads as fibers of one OS thread.
struct park_stats {
  unsigned long long would_block = 0;  // futex_wait found the word changed: did not sleep
  unsigned long long sleeps = 0;       // futex_wait went to sleep
  unsigned long long woken = 0;        // ... and was woken by unpark_all
  unsigned long long spurious = 0;     // ... and woke spuriously
  unsigned long long timeouts = 0;     // ... and timed out
  unsigned long long wakes = 0;        // unpark_all calls
  unsigned long long wakes_hit = 0;    // ... that woke a sleeper
};
inline park_stats stats;

template <class Word>
inline bool futex_wait(Word& word, std::uint32_t expected, bool timed, const rl::debug_info& info) {
  rl::context& c = rl::ctx();
  c.sched();
  c.atomic_thread_fence_seq_cst();
  std::uint32_t v;
  {
    rl::preemption_disabler pd(c);
    v = word.rl_atomic().load(rl::mo_acquire, info);
  }
  if (v != expected) {
    ++stats.would_block;
    RL_LOG("futex_wait: word changed, not sleeping");
    return true;
  }
  ++stats.sleeps;
  const rl::unpark_reason r = word.rl_atomic().wait(c, timed, /*allow_spurious_wakeup=*/true, info);
  if (r == rl::unpark_reason_normal) ++stats.woken;
  if (r == rl::unpark_reason_spurious) ++stats.spurious;
  if (r == rl::unpark_reason_timeout) ++stats.timeouts;
  return r != rl::unpark_reason_timeout;
}

template <class Word>
inline void futex_wake_all(Word& word, const rl::debug_info& info) {
  rl::context& c = rl::ctx();
  c.sched();
  c.atomic_thread_fence_seq_cst();
  ++stats.wakes;
  if (word.rl_atomic().wake(c, /*count=*/1 << 20, info) != 0) ++stats.wakes_hit;
}

}  // namespace ringwire::model

namespace ringwire {

struct relacy_sync {
  template <class T>
  using atomic = model::atomic<T>;
  static constexpr bool parks = true;

  static void prepare() noexcept {}
  // Every scope is modelled alike: both fences are seq_cst fences (see above).
  static fence_scope resolve_scope(fence_scope s) noexcept { return s; }

  static void light_fence(fence_scope, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    if constexpr (!model::mutant_no_light_fence) rl::atomic_thread_fence(rl::mo_seq_cst, info);
  }
  static void heavy_fence(fence_scope, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    rl::atomic_thread_fence(rl::mo_seq_cst, info);
  }
  static void full_fence(rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    rl::atomic_thread_fence(rl::mo_seq_cst, info);
  }
  static void cpu_relax(rl::debug_info info = RINGWIRE_RL_CALLER) noexcept { rl::yield(1, info); }

  static bool park(atomic<std::uint32_t>& word, std::uint32_t expected, detail::clock::time_point deadline,
                   fence_scope, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    const bool woken = model::futex_wait(word, expected, deadline != detail::no_deadline, info);
    // A timeout means the deadline passed: the model clock catches up with it, so the
    // caller's own deadline check agrees with the futex.
    if (!woken && model::model_clock::now < deadline) model::model_clock::now = deadline;
    return woken;
  }
  static void unpark_all(atomic<std::uint32_t>& word, fence_scope,
                         rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    model::futex_wake_all(word, info);
  }
  static void yield(rl::debug_info info = RINGWIRE_RL_CALLER) noexcept { rl::yield(1, info); }
  static void sleep_for(std::chrono::nanoseconds, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    rl::yield(1, info);
  }
  static detail::clock::time_point now() noexcept { return model::model_clock::now; }
};

}  // namespace ringwire
