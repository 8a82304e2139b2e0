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

namespace ringwire::byte_ring {

// A counted (heap) or borrowed (owner nullptr) reference to a byte ring layout.
template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

namespace detail {

template <class Sync>
struct heap_block {
  ringwire::detail::owner<Sync> own;

  static constexpr std::size_t block_align = layout<Sync>::alignment;
  static constexpr std::size_t layout_offset = (sizeof(heap_block) + block_align - 1) / block_align * block_align;

  layout<Sync>* ring() noexcept {
    return std::launder(reinterpret_cast<layout<Sync>*>(reinterpret_cast<std::byte*>(this) + layout_offset));
  }

  static void release_all(ringwire::detail::owner<Sync>* o) noexcept {
    auto* self = reinterpret_cast<heap_block*>(o);  // `own` is the first member
    self->~heap_block();
    // unsized: clang 14 does not enable sized deallocation by default.
    ::operator delete(static_cast<void*>(self), std::align_val_t{block_align});
  }

  // Allocates and formats; the returned owner holds `refs` references.
  static heap_block* create(std::uint64_t capacity, ring_kind kind, std::uint32_t refs) {
    const std::size_t ring_bytes = layout<Sync>::footprint(capacity);
    void* mem = ringwire::detail::allocate_block(layout_offset + ring_bytes, block_align, capacity);
    auto* self = ::new (mem) heap_block{};
    self->own.release_all = &release_all;
    // relaxed: the block is not yet shared with any other thread.
    self->own.refs.store(refs, std::memory_order_relaxed);
    layout<Sync>::format(reinterpret_cast<std::byte*>(mem) + layout_offset, ring_bytes, capacity, kind);
    return self;
  }
};

}  // namespace detail
}  // namespace ringwire::byte_ring
