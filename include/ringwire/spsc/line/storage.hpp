// ringwire/spsc/line/storage.hpp -- the options a line channel is made with, and who owns
// its memory.
//
// One storage: a heap block [owner | layout | slots] (detail/heap_block.hpp), referenced by
// the sender and the receiver; the last to let go destroys the elements still queued
// (each exactly once) and frees the block. No inline_channel and no shared-memory kind
// (docs/spsc.md, "The one-line variant", says why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "ringwire/detail/heap_block.hpp"
#include "ringwire/spsc/line/layout.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::spsc {

// Per-channel settings, fixed when the channel is made.
struct line_options {
  wait_strategy sender_wait = wait_strategy::park();
  wait_strategy receiver_wait = wait_strategy::park();
  std::uint64_t start_index = 0;  // first index; tests start near 2^64 to cross the wrap
  memory_options memory = {};     // where the heap memory lives (placement/memory.hpp); default: ordinary
};

namespace detail {

// Destroys the elements still queued: from the receiver's final head, while the stamps say
// "message here" (line/layout.hpp, "Stamps"); at most a ring's worth. Called by the last
// holder, when both endpoints are gone, so nothing moves any more.
template <class T, class Sync>
void destroy_line_queued(line_layout<Sync>& l) noexcept {
  if constexpr (!std::is_trivially_destructible_v<T>) {
    const std::uint64_t cap = l.geometry.capacity;
    // acquire: the receiver's last head store and the sender's last stamps happen-before
    // this teardown through the owner count; the loads take no more than that.
    std::uint64_t i = l.consumer.head.load(std::memory_order_acquire);
    std::uint64_t k = (i - l.geometry.start_index) % cap;  // the one division: teardown only
    for (std::uint64_t n = 0; n < cap; ++n) {
      std::byte* s = l.slot(k);
      if (line_layout<Sync>::stamp(s).load(std::memory_order_acquire) != i) break;
      std::launder(reinterpret_cast<T*>(s + l.geometry.value_offset))->~T();
      ++i;
      k = k + 1 == cap ? 0 : k + 1;
    }
  }
}

template <class T, class Sync>
using line_heap_block = ringwire::detail::heap_block<line_layout<Sync>, Sync, line_layout<Sync>::align(alignof(T)),
                                                     &destroy_line_queued<T, Sync>>;

// A counted reference to a line layout.
template <class Sync>
using line_ref = ringwire::detail::counted_ref<line_layout<Sync>, Sync>;

// Allocates and formats a heap line channel for T; the block holds `refs` references.
// Throws ringwire::error for a capacity of zero or one that cannot be allocated.
template <class T, class Sync>
line_heap_block<T, Sync>* make_line_block(std::uint64_t capacity, std::uint64_t start_index, std::uint32_t refs,
                                          const memory_options& mem = {}) {
  const std::size_t bytes = line_layout<Sync>::footprint(capacity, sizeof(T), alignof(T));
  return line_heap_block<T, Sync>::create(bytes, capacity, refs, [&](void* at) {
    line_layout<Sync>::format(at, capacity, sizeof(T), alignof(T), start_index);
  }, mem);
}

}  // namespace detail
}  // namespace ringwire::spsc
