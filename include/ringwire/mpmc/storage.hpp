// ringwire/mpmc/storage.hpp -- who owns the memory an MPMC layout lives in.
//
// One storage today, the heap: one aligned allocation holding [owner | layout | cells],
// shared by a queue object or by every sender and receiver handle of a channel (and, later,
// a shared-memory segment instead). The last holder destroys the elements still queued,
// each exactly once, and frees the block. The reference count is touched only when a
// holder is made or dropped, never by a push or a pop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/mpmc/layout.hpp"

namespace ringwire::mpmc::detail {

using ringwire::detail::owner;

// Destroys the elements between tail and head (skipping holes). Called by the last holder,
// when nobody can push or pop any more, so every claimed push has published its stamp.
template <class T, class Sync>
void destroy_queued(layout<Sync>& l) noexcept {
  if constexpr (!std::is_trivially_destructible_v<T>) {
    // acquire (all): every holder's last operation happens-before this teardown through
    // the owner count's acq_rel; these loads only need to see those values.
    const std::uint64_t head = l.producer.head.load(std::memory_order_acquire) & ~sealed_bit;
    const std::uint64_t cap = l.geometry.capacity;
    for (std::uint64_t t = l.consumer.tail.load(std::memory_order_acquire); t != head; ++t) {
      if ((l.stamp(t % cap).load(std::memory_order_acquire) & hole_bit) != 0) continue;
      std::launder(reinterpret_cast<T*>(l.payload(t % cap)))->~T();
    }
  }
}

template <class T, class Sync>
struct heap_block {
  owner<Sync> own;

  static constexpr std::size_t block_align = layout<Sync>::align(alignof(T));
  static constexpr std::size_t layout_offset = (sizeof(heap_block) + block_align - 1) / block_align * block_align;

  layout<Sync>* ring() noexcept {
    return std::launder(reinterpret_cast<layout<Sync>*>(reinterpret_cast<std::byte*>(this) + layout_offset));
  }

  static void release_all(owner<Sync>* o) noexcept {
    auto* self = reinterpret_cast<heap_block*>(o);  // `own` is the first member
    destroy_queued<T, Sync>(*self->ring());
    self->~heap_block();
    // unsized: clang 14 does not enable sized deallocation by default.
    ::operator delete(static_cast<void*>(self), std::align_val_t{block_align});
  }

  // Allocates and formats; the returned owner holds `refs` references.
  static heap_block* create(std::uint64_t capacity, std::uint32_t refs, cell_layout cells) {
    const std::size_t ring_bytes = layout<Sync>::footprint(capacity, sizeof(T), alignof(T), cells);
    void* mem = ringwire::detail::allocate_block(layout_offset + ring_bytes, block_align, capacity);
    auto* self = ::new (mem) heap_block{};
    self->own.release_all = &release_all;
    // relaxed: the block is not yet shared with any other thread.
    self->own.refs.store(refs, std::memory_order_relaxed);
    layout<Sync>::format(reinterpret_cast<std::byte*>(mem) + layout_offset, capacity, sizeof(T), alignof(T), cells);
    return self;
  }
};

static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::mpmc::detail
