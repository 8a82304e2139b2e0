// ringwire/byte_ring/storage.hpp -- who owns the memory a byte ring's layout lives in.
//
//   heap      one aligned allocation [owner | layout | data]; every endpoint holds a counted
//             reference and the last to let go frees it (records are bytes: nothing to
//             destroy). Made by byte_ring::one_to_one() / many_to_one().
//   borrowed  any memory formatted with layout::format() or validated with layout::attach()
//             (a shared-memory segment, a static buffer): endpoints are made over
//             ring_ref(layout, nullptr) and the memory must outlive them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "ringwire/byte_ring/layout.hpp"
#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/detail/heap_block.hpp"

namespace ringwire::byte_ring {

// A counted (heap) or borrowed (owner nullptr) reference to a byte ring layout.
template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

namespace detail {

template <class Sync>
using heap_block = ringwire::detail::heap_block<layout<Sync>, Sync, layout<Sync>::alignment>;

// Allocates and formats; the block holds `refs` references.
template <class Sync>
heap_block<Sync>* make_heap_block(std::uint64_t capacity, ring_kind kind, std::uint32_t refs,
                                  const memory_options& mem = {}) {
  const std::size_t bytes = layout<Sync>::footprint(capacity);
  return heap_block<Sync>::create(bytes, capacity, refs,
                                  [&](void* at) { layout<Sync>::format(at, bytes, capacity, kind); }, mem);
}

}  // namespace detail
}  // namespace ringwire::byte_ring
