// ringwire/placement/affinity.hpp -- pinning a thread to one CPU.
//
// A producer and its consumer on two CPUs that share a cache (topology.hpp, pick_pair) pass
// each message through that cache instead of through memory, and a pinned thread is never
// migrated away from the lines it keeps warm. Pinning is a setup call: it makes a syscall
// and is never on a send or receive path.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/error.hpp"
#include "ringwire/placement/cpu_list.hpp"

namespace ringwire {

// The CPUs this process may run on: the process's (its main thread's) affinity mask, which
// taskset, a cgroup's cpuset or a container's limit set; ascending. Empty when the call fails.
inline std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(::getpid(), sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

namespace detail {

// Throws invalid_cpu unless `cpu` exists on this machine (configured CPUs). Whether this
// process may run there is the kernel's to say, when pinning (a thread already pinned
// elsewhere does not narrow what another may be pinned to).
inline void check_cpu(int cpu) {
  const long configured = ::sysconf(_SC_NPROCESSORS_CONF);
  if (cpu < 0 || cpu >= CPU_SETSIZE || (configured > 0 && cpu >= configured))
    throw error(errc::invalid_cpu, "CPU " + std::to_string(cpu) + " does not exist (this machine has CPUs 0 to " +
                                       std::to_string(configured - 1) + ")");
}

inline void pin_native(pthread_t t, int cpu) {
  check_cpu(cpu);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int e = ::pthread_setaffinity_np(t, sizeof set, &set);
  if (e == EINVAL) {  // no CPU of the mask is one this process may use (cpuset, offline)
    std::string list;
    for (int c : allowed_cpus()) {
      if (!list.empty()) list += ',';  // appended apart: a false -Wrestrict in g++ 12 otherwise
      list += std::to_string(c);
    }
    throw error(errc::invalid_cpu, "CPU " + std::to_string(cpu) +
                                       " is not one this process may run on (offline, or outside its cpuset; "
                                       "the process's mask: " + list + ")");
  }
  if (e != 0)
    throw error(errc::invalid_options, "pthread_setaffinity_np to CPU " + std::to_string(cpu) + ": " + std::strerror(e));
}

}  // namespace detail

// Pins the calling thread to `cpu`. Throws ringwire::error(invalid_cpu) when the CPU does
// not exist or the kernel refuses it (offline, outside the process's cpuset), naming the
// process's mask (allowed_cpus()).
inline void pin_current_thread(int cpu) { detail::pin_native(::pthread_self(), cpu); }

// Pins a running thread to `cpu` (it must be joinable: started and not joined). Throws as
// pin_current_thread, and invalid_options for a thread that is not joinable. The thread must
// still be running: glibc pins through the thread's kernel id, which the kernel clears when
// the thread exits, and an id of 0 means the *calling* thread, so pinning a thread that has
// finished but is not yet joined pins the caller instead. Where that can happen, call
// pin_current_thread from inside the thread.
inline void pin(std::thread& t, int cpu) {
  if (!t.joinable()) throw error(errc::invalid_options, "pin: the thread is not running");
  detail::pin_native(t.native_handle(), cpu);
}
inline void pin(std::jthread& t, int cpu) {
  if (!t.joinable()) throw error(errc::invalid_options, "pin: the thread is not running");
  detail::pin_native(t.native_handle(), cpu);
}

}  // namespace ringwire
