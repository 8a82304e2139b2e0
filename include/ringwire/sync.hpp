// ringwire/sync.hpp -- the synchronisation policy every channel is templated on.
//
// A channel's protocol code never names std::atomic, a fence or a futex directly: it asks
// its `Sync` policy. `std_sync` (the default) is the real thing. The Relacy models in
// models/ substitute a policy whose atomics, fences and parking are Relacy's, so the model
// checker runs the very protocol code that ships, not a transcription of it.
//
// A policy provides:
//   template <class T> using atomic        an atomic with std::atomic's member functions
//   resolve_scope(scope)                    the scope an endpoint keeps (decided once)
//   light_fence(scope) / heavy_fence(scope) the two halves of a store-load (Dekker) fence;
//                                           light on the hot side, heavy on the parking side
//   full_fence()                            a seq_cst fence, for rare paths (close)
//   fence(order)                            std::atomic_thread_fence (the seqlock's two
//                                           fences, broadcast/layout.hpp)
//   word(w)                                 a 64-bit payload word of plain memory seen as
//                                           an atomic (std::atomic_ref for std_sync), so
//                                           seqlock copies are race-free and a model can
//                                           track them
//   cpu_relax()                             one spin-wait step
//   park(word, expected, deadline, scope)   sleep while word == expected; false on timeout
//   unpark_all(word, scope)                 wake every sleeper on word
//   ring_doorbell(word)                     (optional) wake a waiter outside ringwire
//   yield() / sleep_for(ns)                 for the yield and backoff strategies
//   prepare()                               once per channel creation (fence registration)
//   parks                                   false: no side ever sleeps in the kernel, so
//                                           progress never checks for a sleeper
//   zero_payload                            (optional) true: formats zero payload memory
//                                           they would otherwise leave as it is, because
//                                           the policy's word() expects a word to read
//                                           zero on its first access (the Relacy model
//                                           tracks each word from there)
//
// `spin_sync` is std_sync without parking: for endpoints that only ever busy-spin, spin
// then yield, or back off, it removes the park check (a fence-scope test and a load of the
// peer's park word) from every send and receive; wait_strategy::park() degrades to
// spin_then_yield() on it.
#pragma once

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "ringwire/detail/asymmetric_fence.hpp"
#include "ringwire/detail/defs.hpp"
#include "ringwire/detail/doorbell_hook.hpp"
#include "ringwire/detail/futex.hpp"

namespace ringwire {

using detail::fence_scope;

struct std_sync {
  template <class T>
  using atomic = std::atomic<T>;
  static constexpr bool parks = true;

  static void prepare() noexcept { detail::asymmetric_fence::init(); }
  static fence_scope resolve_scope(fence_scope s) noexcept { return detail::asymmetric_fence::resolve(s); }
  static void light_fence(fence_scope s) noexcept { detail::asymmetric_fence::light(s); }
  static void heavy_fence(fence_scope s) noexcept { detail::asymmetric_fence::heavy(s); }
  static void full_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
  static void fence(std::memory_order mo) noexcept { std::atomic_thread_fence(mo); }
  static std::atomic_ref<std::uint64_t> word(std::uint64_t& w) noexcept { return std::atomic_ref<std::uint64_t>(w); }
  static void cpu_relax() noexcept { detail::cpu_relax(); }

  static bool park(atomic<std::uint32_t>& word, std::uint32_t expected,
                   detail::clock::time_point deadline, fence_scope s) noexcept {
    return detail::futex_wait(word, expected, deadline, detail::is_cross_process(s));
  }
  static void unpark_all(atomic<std::uint32_t>& word, fence_scope s) noexcept {
    detail::futex_wake_all(word, detail::is_cross_process(s));
  }
  // The word was armed for an external waiter (wait.hpp, parked_bell): ring its doorbell.
  static void ring_doorbell(atomic<std::uint32_t>& word) noexcept { detail::ring_doorbell(&word); }
  static void yield() noexcept { sched_yield(); }
  static void sleep_for(std::chrono::nanoseconds d) noexcept { std::this_thread::sleep_for(d); }
  static detail::clock::time_point now() noexcept { return detail::clock::now(); }
};

struct spin_sync : std_sync {
  static constexpr bool parks = false;
};

}  // namespace ringwire
