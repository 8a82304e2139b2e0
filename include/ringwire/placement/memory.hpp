// ringwire/placement/memory.hpp -- where a channel's memory lives: huge pages, locked in RAM,
// faulted in up front, on one NUMA node.
//
// A large ring's first lap otherwise pays a page fault per 4 KiB page it touches (the
// kernel zeroes each on demand), a TLB miss per page afterwards, and may have its pages
// swapped out or placed on the far node. memory_options asks for each remedy when the
// channel is made; the default asks for none and costs nothing (the heap block is then an
// ordinary aligned operator new, exactly as without this header). Nothing here runs on a
// send or a receive.
#pragma once

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "ringwire/error.hpp"

namespace ringwire {

// What memory_options::hugepages does when no huge page can be had.
enum class hugepage_fallback {
  error,          // fail with errc::hugepages_unavailable
  regular_pages,  // use ordinary pages instead (the other options still apply)
};

struct memory_options {
  // Back the memory with huge pages (2 MiB on x86-64, hugetlbfs's default size): heap
  // channels mmap MAP_HUGETLB, anonymous segments memfd_create(MFD_HUGETLB). They come from
  // the pool reserved in /proc/sys/vm/nr_hugepages; an empty pool is hugepages_unavailable,
  // or ordinary pages when `fallback` says so. The size is rounded up to whole huge pages.
  bool hugepages = false;
  hugepage_fallback fallback = hugepage_fallback::error;
  // mlock the memory: never swapped out, every page resident from the start. Fails with
  // memory_lock_denied when RLIMIT_MEMLOCK (ulimit -l) is too small and the process lacks
  // CAP_IPC_LOCK.
  bool lock = false;
  // Touch every page when the channel is made (one zero written per page), so the first lap
  // takes no page fault.
  bool prefault = false;
  // Bind the memory to this NUMA node (mbind MPOL_BIND, the raw syscall: no libnuma); -1:
  // the kernel's default policy. A node that does not exist is invalid_numa_node.
  int numa_node = -1;

  // Whether any option is set: only then does the memory need a mapping of its own.
  [[nodiscard]] bool any() const noexcept { return hugepages || lock || prefault || numa_node >= 0; }
};

namespace detail {

inline std::size_t page_size() noexcept {
  static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}
// hugetlbfs's default huge page size ("Hugepagesize:" of /proc/meminfo; 2 MiB when unread).
inline std::size_t huge_page_size() noexcept {
  static const std::size_t p = [] {
    std::size_t kb = 0;
    if (FILE* f = std::fopen("/proc/meminfo", "r")) {
      char line[128];
      while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::sscanf(line, "Hugepagesize: %zu kB", &kb) == 1) break;
      std::fclose(f);
    }
    return kb != 0 ? kb * 1024 : std::size_t{2} << 20;
  }();
  return p;
}
inline std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

inline std::string hugepage_advice(std::size_t bytes) {
  return "no huge pages for " + std::to_string(bytes) + " bytes: reserve them (echo N > /proc/sys/vm/nr_hugepages, " +
         std::to_string(huge_page_size() >> 10) + " kB each) or set memory_options::fallback = regular_pages";
}

// Applies numa_node, prefault and lock to [p, p + bytes) (page-aligned, not yet written):
// the binding first, so the pages prefault and lock then fault in land on the node. Throws
// invalid_numa_node, memory_lock_denied (errors name `what`).
inline void place_pages(void* p, std::size_t bytes, const memory_options& opt, const std::string& what) {
  if (opt.numa_node >= 0) {
    constexpr int bits = 8 * sizeof(unsigned long);
    if (opt.numa_node >= 1024 || ::access(("/sys/devices/system/node/node" + std::to_string(opt.numa_node)).c_str(), F_OK) != 0)
      throw error(errc::invalid_numa_node, what + ": NUMA node " + std::to_string(opt.numa_node) + " does not exist");
    unsigned long mask[1024 / bits] = {};
    mask[opt.numa_node / bits] = 1UL << (opt.numa_node % bits);
    constexpr long mpol_bind = 2;  // MPOL_BIND of <linux/mempolicy.h>
    // maxnode 1025: the kernel reads maxnode - 1 bits, so 1025 covers nodes 0..1023 (the mask's
    // size); flags 0UL: the variadic syscall() must receive a full unsigned long.
    if (::syscall(SYS_mbind, p, bytes, mpol_bind, mask, 1025UL, 0UL) != 0) {
      const int e = errno;
      const char* why = e == EPERM    ? " (refused: a container's seccomp profile without CAP_SYS_NICE?)"
                        : e == ENOSYS ? " (this kernel has no NUMA support)"
                                      : "";
      throw error(e == EINVAL ? errc::invalid_numa_node : errc::invalid_options,
                  what + ": mbind to NUMA node " + std::to_string(opt.numa_node) + ": " + std::strerror(e) + why);
    }
  }
  if (opt.prefault) {
    auto* b = static_cast<volatile unsigned char*>(p);  // volatile: each store must reach its page
    for (std::size_t off = 0; off < bytes; off += page_size()) b[off] = 0;
  }
  if (opt.lock && ::mlock(p, bytes) != 0) {
    const int e = errno;
    rlimit lim{};
    ::getrlimit(RLIMIT_MEMLOCK, &lim);
    throw error(e == ENOMEM || e == EPERM || e == EAGAIN ? errc::memory_lock_denied : errc::invalid_options,
                what + ": mlock of " + std::to_string(bytes) + " bytes: " + std::strerror(e) +
                    " (RLIMIT_MEMLOCK " + (lim.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(lim.rlim_cur)) +
                    " bytes; raise ulimit -l or grant CAP_IPC_LOCK)");
  }
}

// A private anonymous mapping of at least `bytes`, placed as `opt` says: what a heap channel
// lives in when opt.any(). `mapped` receives the length to munmap. Throws
// hugepages_unavailable, invalid_numa_node, memory_lock_denied, capacity_too_large.
inline void* map_placed(std::size_t bytes, const memory_options& opt, std::size_t& mapped) {
  const std::string what = "channel memory";
  void* p = MAP_FAILED;
  if (opt.hugepages) {
    mapped = round_up(bytes, huge_page_size());
    p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p == MAP_FAILED && opt.fallback == hugepage_fallback::error) {
      const int e = errno;  // before anything below allocates
      throw error(errc::hugepages_unavailable, hugepage_advice(mapped) + " (" + std::strerror(e) + ")");
    }
  }
  if (p == MAP_FAILED) {
    mapped = round_up(bytes, page_size());
    p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      const int e = errno;  // before anything below allocates
      throw error(errc::capacity_too_large, "cannot map " + std::to_string(mapped) + " bytes: " + std::strerror(e));
    }
  }
  try {
    place_pages(p, mapped, opt, what);
  } catch (...) {
    ::munmap(p, mapped);
    throw;
  }
  return p;
}

}  // namespace detail
}  // namespace ringwire
