// ringwire/detail/heap_block.hpp -- the one allocation a heap channel lives in.
//
//   [owner | padding to Align | layout ...]
//
// The owner (counted_ref.hpp) counts the handles; the last one to let go calls
// release_all, which runs `Teardown` on the layout (destroying whatever elements it still
// holds, each exactly once) and frees the block. Nothing here is touched on a send or a
// receive: only when a handle is made or dropped.
//
// The block is an aligned operator new, or, when the channel's memory_options ask for
// anything (placement/memory.hpp), a mapping of its own placed as they say; the owner's
// release_all is then release_mapped, so the default path tests nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/placement/memory.hpp"

namespace ringwire::detail {

// The Teardown of a layout that holds no objects with destructors (bytes, trivially
// copyable payloads).
template <class Layout>
void nothing_to_destroy(Layout& /*unused*/) noexcept {}

template <class Layout, class Sync, std::size_t Align, void (*Teardown)(Layout&) noexcept = &nothing_to_destroy<Layout>>
struct heap_block {
  owner<Sync> own;  // first member: release_all casts back from it
  std::size_t mapped_bytes = 0;  // the mapping's length (release_mapped); 0: operator new

  static constexpr std::size_t block_align = Align;
  static constexpr std::size_t layout_offset = (sizeof(owner<Sync>) + sizeof(std::size_t) + Align - 1) / Align * Align;

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
  static void release_mapped(owner<Sync>* o) noexcept {
    auto* self = reinterpret_cast<heap_block*>(o);
    const std::size_t bytes = self->mapped_bytes;
    Teardown(*self->ring());
    self->~heap_block();
    ::munmap(static_cast<void*>(self), bytes);
  }

  // Allocates room for a layout of `ring_bytes` (already validated by the layout's
  // footprint(): format must not throw), formats it with format(void* at) and returns the
  // block holding `refs` references, placed as `mem_opt` says. Throws ringwire::error
  // (capacity_too_large, naming `capacity`) when the memory cannot be had, and
  // memory_options' errors (hugepages_unavailable, memory_lock_denied, invalid_numa_node).
  template <class Format>
  static heap_block* create(std::size_t ring_bytes, std::uint64_t capacity, std::uint32_t refs, Format&& format,
                            const memory_options& mem_opt = {}) {
    const std::size_t bytes = layout_offset + ring_bytes;
    // A mapping is page-aligned: enough for every Align up to a page (an over-aligned T
    // keeps operator new, and its channel cannot be placed).
    if (Align > 4096 && mem_opt.any())
      throw error(errc::invalid_options, "memory_options need an element alignment of at most 4096 bytes, not " +
                                             std::to_string(Align));
    std::size_t mapped = 0;
    void* mem = nullptr;
    if (mem_opt.any()) {
      check_footprint(bytes, "capacity " + std::to_string(capacity));
      mem = map_placed(bytes, mem_opt, mapped);
    } else {
      mem = allocate_block(bytes, block_align, capacity);
    }
    auto* self = ::new (mem) heap_block{};
    self->mapped_bytes = mapped;
    self->own.release_all = mapped != 0 ? &release_mapped : &release_all;
    // relaxed: the block is not yet shared with any other thread.
    self->own.refs.store(refs, std::memory_order_relaxed);
    format(static_cast<void*>(reinterpret_cast<std::byte*>(mem) + layout_offset));
    return self;
  }
};

}  // namespace ringwire::detail
