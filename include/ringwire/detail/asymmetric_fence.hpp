// ringwire/detail/asymmetric_fence.hpp -- a Dekker fence whose cost sits on the slow side.
//
// Parking needs a store-load barrier on both sides: the waiter stores "I am parked" and then
// loads the index it waits on; the other side stores the index and then loads "is anyone
// parked". With a plain seq_cst fence on each side, every send and every receive would pay
// an `mfence` (about 30 cycles on x86) to support a waiter that is almost never there.
//
// `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` makes every running thread of this process
// execute a full barrier before the call returns. So the waiter (slow path) calls
// `heavy()` = membarrier, and the progressing side (fast path) calls `light()` = a compiler
// barrier only: together they order exactly like two seq_cst fences (the same contract as
// folly's asymmetricThreadFenceLight/Heavy). If the kernel refuses membarrier (seccomp, a
// kernel older than 4.14) both sides fall back to real seq_cst fences, decided once per
// process before the first channel exists.
//
// membarrier's private command reaches only threads of this process. Across processes the
// global command (`MEMBARRIER_CMD_GLOBAL_EXPEDITED`) does the same for every process that
// registered for it: a shared-memory channel whose processes all registered (the segment
// records it, shm/spsc.hpp) uses `cross_process_asymmetric`; otherwise real fences on both
// sides (`cross_process`). An endpoint resolves its scope once, when it is made
// (`resolve`), so the fast side tests one byte of its own state instead of a process-wide
// flag.
#pragma once

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace ringwire::detail {

// The values are chosen so that bit 0 says "real fences on the fast side": light() is one
// bit test on the endpoint's own byte.
enum class fence_scope : unsigned char {
  process = 0,         // peers are threads of this process and membarrier works: asymmetric
  process_fenced = 1,  // peers are threads of this process, membarrier refused: fences both sides
  cross_process_asymmetric = 2,  // peers are processes that all registered for the global
                                 // expedited membarrier: asymmetric, process-shared futexes
  cross_process = 3,             // peers may be other processes: fences both sides, process-shared futexes
};

// Whether futex words must be process-shared for this scope.
constexpr bool is_cross_process(fence_scope s) noexcept {
  return s == fence_scope::cross_process || s == fence_scope::cross_process_asymmetric;
}

class asymmetric_fence {
 public:
  // Registers this process for expedited membarrier. Called when a channel is created;
  // idempotent and thread-safe (a function-local static), never on a hot path.
  static void init() noexcept {
    static const bool ok = [] {
      const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
      const bool have = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
      // relaxed: published before any channel (and so any light()/heavy() caller) exists;
      // the channel's hand-off to other threads carries it.
      membarrier_ok().store(have, std::memory_order_relaxed);
      return have;
    }();
    (void)ok;
  }

  // The scope an endpoint should use for `wanted`: process only when membarrier works.
  static fence_scope resolve(fence_scope wanted) noexcept {
    // relaxed: a read-mostly flag written once before any channel existed (see init()).
    if (wanted == fence_scope::process && !membarrier_ok().load(std::memory_order_relaxed)) {
      return fence_scope::process_fenced;
    }
    return wanted;
  }

  // Registers this process for the global expedited membarrier, which makes its threads
  // take part in the heavy fence of any registered process. True when it works here.
  // Idempotent and thread-safe; called when a shared-memory segment is made or attached.
  static bool init_global() noexcept {
    static const bool ok = [] {
      const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
      return cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
             syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
    }();
    return ok;
  }

  // Fast side: a compiler barrier for a resolved asymmetric scope, else a real fence.
  static void light(fence_scope scope) noexcept {
    if ((static_cast<unsigned>(scope) & 1U) == 0) [[likely]] {  // process, cross_process_asymmetric
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }
  }

  // Slow side: forces a full barrier on every running thread of the process.
  static void heavy(fence_scope scope) noexcept {
    if (scope == fence_scope::process) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
      // Registration succeeded in init(), so a failure here is transient (the kernel's
      // cpumask allocation): retry, because without the barrier the light side is unordered.
      while (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) sched_yield();
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else if (scope == fence_scope::cross_process_asymmetric) {
      // Every registered process's running threads: the peer's, whichever process it is in.
      std::atomic_signal_fence(std::memory_order_seq_cst);
      while (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) != 0) sched_yield();
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }
  }

  static bool uses_membarrier() noexcept {
    // relaxed: written once in init(), before any channel exists (see there).
    return membarrier_ok().load(std::memory_order_relaxed);
  }

 private:
  static std::atomic<bool>& membarrier_ok() noexcept {
    static std::atomic<bool> flag{false};
    return flag;
  }
};

}  // namespace ringwire::detail
