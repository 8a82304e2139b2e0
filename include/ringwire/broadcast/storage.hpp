// ringwire/broadcast/storage.hpp -- the options a broadcast channel is made with, and the
// heap block its layout lives in.
//
// One aligned allocation holding [owner | layout | registry | slots], reference-counted
// by the publisher, every hub copy and every subscriber (detail/counted_ref.hpp: the count
// is touched only when a handle is made or dropped). The last holder frees it; the
// payload is trivially copyable, so nothing else needs destroying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <utility>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::broadcast {

// Per-channel settings, fixed when the channel is made.
struct options {
  broadcast::policy policy = policy::lossy;
  std::uint32_t max_subscribers = 64;  // registry entries: live subscribers at once
  // evict policy: a subscriber more than this many messages behind is dropped when the
  // ring is full. Must be below the capacity; `automatic` means capacity - 1.
  static constexpr std::uint64_t automatic = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t evict_lag = automatic;
  // How densely slots are packed (layout.hpp, slot_layout: packed small slots share cache
  // lines, line slots own theirs); automatic: automatic_slot_layout.
  broadcast::slot_layout slot_layout = slot_layout::automatic;
  wait_strategy publisher_wait = wait_strategy::park();   // lossless / evict only
  wait_strategy subscriber_wait = wait_strategy::park();  // recv(), recv_for(), ...
};

namespace detail {

using ringwire::detail::owner;

// A counted reference to a broadcast layout.
template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

template <class Sync>
struct heap_block {
  owner<Sync> own;

  static constexpr std::size_t block_align = ringwire::detail::hot_block;
  static constexpr std::size_t layout_offset = (sizeof(heap_block) + block_align - 1) / block_align * block_align;

  layout<Sync>* ring() noexcept {
    return std::launder(reinterpret_cast<layout<Sync>*>(reinterpret_cast<std::byte*>(this) + layout_offset));
  }

  static void release_all(owner<Sync>* o) noexcept {
    auto* self = reinterpret_cast<heap_block*>(o);  // `own` is the first member
    self->~heap_block();
    // unsized: clang 14 does not enable sized deallocation by default.
    ::operator delete(static_cast<void*>(self), std::align_val_t{block_align});
  }

  // Validates the options, allocates and formats; the returned owner holds `refs` references.
  static heap_block* create(std::uint64_t capacity, std::size_t payload_size, const options& opt, std::uint32_t refs,
                            bool multi_producer = false) {
    std::uint64_t lag = opt.evict_lag;
    if (opt.policy == policy::evict) {
      if (lag == options::automatic) lag = capacity == 0 ? 0 : capacity - 1;
      if (capacity != 0 && lag >= capacity)
        throw error(errc::invalid_options, "evict_lag " + std::to_string(lag) + " must be below the capacity " +
                                               std::to_string(capacity));
    }
    const std::size_t bytes =
        layout_offset + layout<Sync>::footprint(capacity, payload_size, opt.max_subscribers, opt.slot_layout);
    void* mem = ringwire::detail::allocate_block(bytes, block_align, capacity);
    auto* self = ::new (mem) heap_block{};
    self->own.release_all = &release_all;
    // relaxed: the block is not yet shared with any other thread.
    self->own.refs.store(refs, std::memory_order_relaxed);
    layout<Sync>::format(reinterpret_cast<std::byte*>(mem) + layout_offset, capacity, payload_size,
                         opt.max_subscribers, opt.policy, lag, opt.slot_layout, multi_producer);
    return self;
  }
};

}  // namespace detail
}  // namespace ringwire::broadcast
