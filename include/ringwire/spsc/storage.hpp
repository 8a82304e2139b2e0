// ringwire/spsc/storage.hpp -- who owns the memory a layout lives in.
//
// Two storages here; the third, a shared-memory segment, is shm/spsc.hpp's attachment.
// The endpoints do not care which:
//
//   heap     one aligned allocation holding [owner | layout | slots]. The sender, the
//            receiver and any monitors each hold a reference; the last to let go destroys
//            the elements still queued (each exactly once) and frees the block. The
//            reference count is touched only when a handle is created or dropped.
//   inline   `inline_channel<T, Capacity>`: the layout and slot array are members of an
//            object the user places (a global, a member, the stack). Its endpoints borrow
//            it, so it must outlive them (checked in debug builds); its destructor destroys
//            the elements still queued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/detail/heap_block.hpp"
#include "ringwire/spsc/layout.hpp"

namespace ringwire::spsc::detail {

using ringwire::detail::owner;

// Destroys the elements between head and tail. Called by the last holder, when both
// endpoints are gone, so the indices no longer move.
template <class T, class Sync>
void destroy_queued(layout<Sync>& l) noexcept {
  if constexpr (!std::is_trivially_destructible_v<T>) {
    // acquire: both endpoints' final stores happen-before (via the owner count or the
    // inline channel's documented lifetime) this teardown.
    const std::uint64_t tail = l.producer.tail.load(std::memory_order_acquire);
    std::uint64_t head = l.consumer.head.load(std::memory_order_acquire);
    T* slots = std::launder(reinterpret_cast<T*>(l.slots()));
    const std::uint64_t mask = l.geometry.slot_count - 1;
    for (; head != tail; ++head) slots[head & mask].~T();
  }
}

template <class T, class Sync>
using heap_block = ringwire::detail::heap_block<layout<Sync>, Sync, layout<Sync>::align(alignof(T)), &destroy_queued<T, Sync>>;

// Allocates and formats a heap channel for T; the block holds `refs` references.
template <class T, class Sync>
heap_block<T, Sync>* make_heap_block(std::uint64_t capacity, std::uint64_t start_index, std::uint32_t refs,
                                     bool latency = false, const memory_options& mem = {}) {
  const std::size_t bytes = layout<Sync>::footprint(capacity, sizeof(T), alignof(T), latency);
  return heap_block<T, Sync>::create(bytes, capacity, refs, [&](void* at) {
    layout<Sync>::format(at, capacity, sizeof(T), alignof(T), start_index, 0, latency);
  }, mem);
}

static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::spsc::detail
