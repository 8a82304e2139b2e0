// ringwire/mpsc/storage.hpp -- the heap block an MPSC channel lives in.
//
// One aligned allocation holding [owner | layout | descriptors | lanes]. The receiver, every
// registrar copy and every sender each hold a reference (a sender's points at its lane's
// ring but counts on this block's owner); the last to let go destroys the elements still
// queued in every formatted lane (each exactly once) and frees the block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/mpsc/layout.hpp"
#include "ringwire/spsc/storage.hpp"

namespace ringwire::mpsc::detail {

using ringwire::detail::owner;

template <class T, class Sync>
struct heap_block {
  owner<Sync> own;

  static constexpr std::size_t block_align = layout<Sync>::align(alignof(T));
  static constexpr std::size_t layout_offset = (sizeof(heap_block) + block_align - 1) / block_align * block_align;

  layout<Sync>* chan() noexcept {
    return std::launder(reinterpret_cast<layout<Sync>*>(reinterpret_cast<std::byte*>(this) + layout_offset));
  }

  static void release_all(owner<Sync>* o) noexcept {
    auto* self = reinterpret_cast<heap_block*>(o);  // `own` is the first member
    layout<Sync>* l = self->chan();
    for (std::uint64_t i = 0; i < l->max_producers(); ++i) {
      // acquire: a registrar's format of the lane happens-before we read its ring (every
      // holder's last use already happens-before this, through the owner count).
      if (l->lane_descriptor(i).formatted.load(std::memory_order_acquire) != 0)
        spsc::detail::destroy_queued<T, Sync>(l->lane_ring(i));
    }
    self->~heap_block();
    // unsized: clang 14 does not enable sized deallocation by default.
    ::operator delete(static_cast<void*>(self), std::align_val_t{block_align});
  }

  // Allocates and formats; the owner holds `refs` references, `registrars` of them
  // registrar handles.
  static heap_block* create(std::uint64_t lane_capacity, std::uint64_t max_producers, std::uint64_t start_index,
                            std::uint32_t refs, std::uint32_t registrars) {
    const std::size_t chan_bytes = layout<Sync>::footprint(lane_capacity, max_producers, sizeof(T), alignof(T));
    void* mem = ringwire::detail::allocate_block(layout_offset + chan_bytes, block_align, lane_capacity);
    auto* self = ::new (mem) heap_block{};
    self->own.release_all = &release_all;
    // relaxed: the block is not yet shared with any other thread.
    self->own.refs.store(refs, std::memory_order_relaxed);
    layout<Sync>::format(reinterpret_cast<std::byte*>(mem) + layout_offset, lane_capacity, max_producers, sizeof(T),
                         alignof(T), start_index, registrars);
    return self;
  }
};

static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::mpsc::detail
