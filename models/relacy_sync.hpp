// models/relacy_sync.hpp -- ringwire's `Sync` policy on Relacy's simulated machine.
//
// `relacy_sync` gives the real channel headers (ringwire/spsc*.hpp, ringwire/broadcast*.hpp,
// ringwire/wait.hpp) Relacy's atomics, fences and futex, so Relacy checks the protocol code
// that ships:
//
//   atomic<T>          a thin adapter over rl::atomic<T> with std::atomic's member
//                      functions and std::memory_order arguments (mapped one to one onto
//                      rl::memory_order). Each call passes the *caller's* file and line to
//                      Relacy (through __builtin_FILE/__builtin_LINE default arguments), so
//                      a failure history points into ringwire's headers. Default
//                      construction stores T{} (relaxed), as std::atomic value-initialises
//                      since C++20: the layout's park words and flags rely on it. The
//                      rl::atomic lives in Relacy's heap and the adapter is one pointer, so
//                      Sync::atomic<uint64_t> is 8 bytes like std::atomic's (the broadcast
//                      slots place their stamp at a raw offset 8 bytes before the payload).
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
//   fence(mo)          rl::atomic_thread_fence(mo) with the caller's position (the seqlock's
//                      release fence in write_slot and acquire fence in read_slot); a relaxed
//                      fence is nothing.
//   word(w)            the 64-bit payload word at &w as a Relacy atomic: std_sync accesses the
//                      slots' plain words through std::atomic_ref, so the model gives each
//                      address its own rl atomic, made on the first access in an iteration
//                      (model::payload_words, below). It is made initialised to 0, visible
//                      to every thread, exactly what format()'s memset is; a non-zero plain
//                      word at that moment means something wrote it behind the model's back
//                      and fails the run. Scenarios call model::payload_words.reset() in
//                      before() and after().
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
//   RINGWIRE_MODEL_MUTANT=3  fence(acquire) is a no-op: the broadcast seqlock reader's re-check
//                            no longer follows its payload loads, so it accepts a copy torn
//                            by an overwrite (Relacy: USER ASSERT FAILED in the scenario's
//                            value check; the payload words are atomics, so no data race).
//   RINGWIRE_MODEL_MUTANT=4  models/wait_relacy.cpp's own: a shared park word without its
//                            generation (Relacy: DEADLOCK).
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
#include <new>
#include <optional>
#include <span>

#include "ringwire/broadcast.hpp"
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
inline constexpr bool mutant_no_acquire_fence = RINGWIRE_MODEL_MUTANT == 3;

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
//
// The object is one pointer, to an rl::atomic<T> in Relacy's heap, because an rl::atomic
// carries its store history and is far larger than the word it models, and the broadcast
// layout places its slot stamps (Sync::atomic<std::uint64_t>) at raw byte offsets, 8 bytes
// before each slot's payload: a stamp must be exactly 8 bytes, or it overlaps the payload
// and the next slot. The rl::atomic is made by the constructor inside the simulation (every
// layout is formatted in before() or in a thread) and never freed by hand: ringwire never
// runs a layout's destructor, and with RL_GC Relacy reclaims the memory, and the atomic's
// bookkeeping, when the iteration ends.
template <class T>
class atomic {
 public:
  using value_type = T;
  static constexpr bool is_always_lock_free = true;

  atomic(rl::debug_info info = RINGWIRE_RL_CALLER) noexcept : a_(new rl::atomic<T>) {
    a_->store(T{}, rl::mo_relaxed, info);
  }
  atomic(T v, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept : a_(new rl::atomic<T>) {
    a_->store(v, rl::mo_relaxed, info);
  }
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order mo = std::memory_order::seq_cst, rl::debug_info info = RINGWIRE_RL_CALLER) const noexcept {
    return a_->load(to_rl(mo), info);
  }
  void store(T v, std::memory_order mo = std::memory_order::seq_cst,
             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    if (mutant_relaxed_release && mo == std::memory_order::release) mo = std::memory_order::relaxed;
    a_->store(v, to_rl(mo), info);
  }
  T exchange(T v, std::memory_order mo = std::memory_order::seq_cst,
             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_->exchange(v, to_rl(mo), info);
  }
  T fetch_add(T v, std::memory_order mo = std::memory_order::seq_cst,
              rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_->fetch_add(v, to_rl(mo), info);
  }
  T fetch_sub(T v, std::memory_order mo = std::memory_order::seq_cst,
              rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_->fetch_sub(v, to_rl(mo), info);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order mo = std::memory_order::seq_cst,
                             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_->compare_exchange_weak(expected, desired, to_rl(mo), info);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure,
                             rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_->compare_exchange_weak(expected, desired, to_rl(success), info, to_rl(failure), info);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order mo = std::memory_order::seq_cst,
                               rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_->compare_exchange_strong(expected, desired, to_rl(mo), info);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure,
                               rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return a_->compare_exchange_strong(expected, desired, to_rl(success), info, to_rl(failure), info);
  }

  // The simulated atomic itself, for the futex emulation.
  rl::atomic<T>& rl_atomic() noexcept { return *a_; }

 private:
  rl::atomic<T>* a_;  // in Relacy's heap: reclaimed when the iteration ends (RL_GC)
};
static_assert(sizeof(atomic<std::uint64_t>) == sizeof(std::uint64_t),
              "broadcast slots place a Sync::atomic<uint64_t> stamp 8 bytes before the payload");

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

// ---- payload words (Sync::word) -------------------------------------------------------
//
// The broadcast slots' payload is plain uint64_t memory that std_sync reads and writes
// through std::atomic_ref. Relacy has no atomic_ref, so each word address gets its own
// simulated atomic, made lazily on its first access in an iteration and kept in a fixed
// table (no allocation inside the simulation; a linear search over a handful of words).
//
// Lifetime. Relacy may make an atomic at any point of an iteration (it is registered with
// the running context, and a strong-initialised one gets an initial value every thread
// may read, with no happens-before needed: the model of a value written before the
// threads started). With RL_GC, Relacy reclaims every atomic's bookkeeping when the
// iteration ends, so a cell must never outlive its iteration: reset() forgets the table
// (no destructor runs; Relacy reclaims the bookkeeping itself) and scenarios call it in
// before() -- also after an iteration that failed and never reached after() -- and after().
class word_table {
 public:
  using cell = rl::generic_atomic<std::uint64_t, /*strong_init=*/true>;
  static constexpr std::size_t max_words = 64;

  cell& at(std::uint64_t& w, const rl::debug_info& info) {
    for (std::size_t i = 0; i < used_; ++i) {
      if (keys_[i] == &w) return *cell_at(i);
    }
    // Every payload word is zeroed by format() and then touched only through word():
    // a non-zero word here was written behind the model's back (or the table was not reset).
    RL_ASSERT_IMPL(w == 0, rl::test_result_user_assert_failed, "payload word written outside Sync::word", info);
    RL_ASSERT_IMPL(used_ < max_words, rl::test_result_user_assert_failed, "word_table full: raise max_words", info);
    keys_[used_] = &w;
    cell* c = ::new (static_cast<void*>(storage_[used_])) cell();
    ++used_;
    return *c;
  }
  void reset() noexcept { used_ = 0; }
  [[nodiscard]] std::size_t size() const noexcept { return used_; }

 private:
  cell* cell_at(std::size_t i) noexcept { return std::launder(reinterpret_cast<cell*>(storage_[i])); }

  std::uint64_t* keys_[max_words] = {};
  alignas(cell) unsigned char storage_[max_words][sizeof(cell)];
  std::size_t used_ = 0;
};
// Plain global: Relacy runs all simulated threads as fibers of one OS thread.
inline word_table payload_words;

// What Sync::word returns: std::atomic_ref's load and store.
class word_ref {
 public:
  explicit word_ref(word_table::cell& c) noexcept : c_(&c) {}
  std::uint64_t load(std::memory_order mo = std::memory_order::seq_cst,
                     rl::debug_info info = RINGWIRE_RL_CALLER) const noexcept {
    return c_->load(to_rl(mo), info);
  }
  void store(std::uint64_t v, std::memory_order mo = std::memory_order::seq_cst,
             rl::debug_info info = RINGWIRE_RL_CALLER) const noexcept {
    if (mutant_relaxed_release && mo == std::memory_order::release) mo = std::memory_order::relaxed;
    c_->store(v, to_rl(mo), info);
  }

 private:
  word_table::cell* c_;
};

}  // namespace ringwire::model

namespace ringwire {

struct relacy_sync {
  template <class T>
  using atomic = model::atomic<T>;
  static constexpr bool parks = true;
  // payload_words asserts a word reads zero when first seen (a stray plain write shows up),
  // so formats must zero the payload even where the shipped code leaves it as it is.
  static constexpr bool zero_payload = true;

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
  static void fence(std::memory_order mo, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    if (mo == std::memory_order::relaxed) return;
    if (model::mutant_no_acquire_fence && mo == std::memory_order::acquire) return;
    rl::atomic_thread_fence(model::to_rl(mo), info);
  }
  static model::word_ref word(std::uint64_t& w, rl::debug_info info = RINGWIRE_RL_CALLER) noexcept {
    return model::word_ref(model::payload_words.at(w, info));
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
