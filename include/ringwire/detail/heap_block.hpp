// ringwire/detail/heap_block.hpp -- the one allocation a heap channel lives in.
//
//   [owner | padding to Align | layout ...]
//
// The owner (counted_ref.hpp) counts the handles; the last one to let go calls
// release_all, which runs `Teardown` on the layout (destroying whatever elements it still
// holds, each exactly once) and frees the block. Nothing here is touched on a send or a
// receive: only when a handle is made or dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "ringwire/detail/counted_ref.hpp"

namespace ringwire::detail {

// The Teardown of a layout that holds no objects with destructors (bytes, trivially
// copyable payloads).
template <class Layout>
void nothing_to_destroy(Layout& /*unused*/) noexcept {}

template <class Layout, class Sync, std::size_t Align, void (*Teardown)(Layout&) noexcept = &nothing_to_destroy<Layout>>
struct heap_block {
  owner<Sync> own;  // first member: release_all casts back from it

  static constexpr std::size_t block_align = Align;
  static constexpr std::size_t layout_offset = (sizeof(owner<Sync>) + Align - 1) / Align * Align;

  Layout* ring() noexcept {
    return std::launder(reinterpret_cast<Layout*>(reinterpret_cast<std::byte*>(this) + layout_offset));
  }

  static void release_all(owner<Sync>* o) noexcept {
    auto* self = reinterpret_cast<heap_block*>(o);
    Teardown(*self->ring());
    self->~heap_block();
    // unsized: clang 14 does not enable sized deallocation by default.
    ::operator delete(static_cast<void*>(self), std::align_val_t{block_align});
  }

  // Allocates room for a layout of `ring_bytes` (already validated by the layout's
  // footprint(): format must not throw), formats it with format(void* at) and returns the
  // block holding `refs` references. Throws ringwire::error (capacity_too_large, naming
  // `capacity`) when the memory cannot be had.
  template <class Format>
  static heap_block* create(std::size_t ring_bytes, std::uint64_t capacity, std::uint32_t refs, Format&& format) {
    void* mem = allocate_block(layout_offset + ring_bytes, block_align, capacity);
    auto* self = ::new (mem) heap_block{};
    self->own.release_all = &release_all;
    // relaxed: the block is not yet shared with any other thread.
    self->own.refs.store(refs, std::memory_order_relaxed);
    format(static_cast<void*>(reinterpret_cast<std::byte*>(mem) + layout_offset));
    return self;
  }
};

}  // namespace ringwire::detail
