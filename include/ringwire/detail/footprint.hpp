// ringwire/detail/footprint.hpp -- refusing a channel the machine cannot hold, before
// anything is allocated or a segment is sized.
//
// The documented maximum capacities (SPSC 2^48, MPMC 2^40, ...) are addressing limits: they
// keep index and byte arithmetic far from overflow. On top of them, every heap block
// (allocate_block) and every shared-memory segment (segment_footprint) checks its footprint
// against the machine's physical memory, read once: a larger block would abort the process
// under ASan/TSan, or be overcommitted and fault later.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "ringwire/error.hpp"

namespace ringwire::detail {

// Bytes of physical memory (sysconf), read once; 0 when unknown (then nothing is refused).
inline std::uint64_t physical_memory() noexcept {
  static const std::uint64_t bytes = [] {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
  }();
  return bytes;
}

// Throws ringwire::error(capacity_too_large) naming `what` when `bytes` exceed physical memory.
inline void check_footprint(std::size_t bytes, const std::string& what) {
  const std::uint64_t ram = physical_memory();
  if (ram != 0 && bytes > ram)
    throw error(errc::capacity_too_large, what + " needs " + std::to_string(bytes) +
                                              " bytes, more than this machine's physical memory (" +
                                              std::to_string(ram) + " bytes)");
}

// Bytes of a layout: `head` bytes, then `capacity` slots of `stride` bytes. Throws
// ringwire::error for a capacity of zero (invalid_capacity), above `max_capacity` (whose
// name, "2^48", the message gives), or whose array cannot be addressed
// (capacity_too_large). `slot` names a slot in that message ("slots", "cells").
inline std::size_t array_footprint(std::uint64_t capacity, std::uint64_t max_capacity, const char* max_name,
                                   std::size_t head, std::size_t stride, const char* slot = "slots") {
  if (capacity == 0) throw error(errc::invalid_capacity, "capacity must be at least 1");
  if (capacity > max_capacity)
    throw error(errc::capacity_too_large, "capacity " + std::to_string(capacity) + " exceeds " + max_name);
  if (capacity > (std::numeric_limits<std::size_t>::max() - head) / stride)
    throw error(errc::capacity_too_large, "capacity " + std::to_string(capacity) + " of " + std::to_string(stride) +
                                              "-byte " + slot + " overflows the address space");
  return head + static_cast<std::size_t>(capacity) * stride;
}

}  // namespace ringwire::detail
