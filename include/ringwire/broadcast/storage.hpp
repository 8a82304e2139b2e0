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
#include "ringwire/detail/heap_block.hpp"
#include "ringwire/placement/memory.hpp"
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
  wait_strategy sender_wait = wait_strategy::park();    // publishers; lossless / evict only
  wait_strategy receiver_wait = wait_strategy::park();  // subscribers: recv(), recv_for(), ...
  // Count slow-path events in the channel's memory, readable from outside (stats.hpp,
  // `ringwire stat`): the producers' full events, parks, evictions and wake rounds, and each
  // subscriber's received / missed / parks / empty events, shown with its cursor every
  // capacity/8 receives and whenever it catches up, lags or parks. Off: a gated subscriber
  // still shows its cursor (the gate needs it), nothing else is written.
  bool metrics = false;
  // Where a heap channel's memory lives (placement/memory.hpp); default: an ordinary
  // allocation. Ignored by shared-memory storage (shm::create_options::memory instead).
  memory_options memory = {};
};

namespace detail {

using ringwire::detail::owner;

// A counted reference to a broadcast layout.
template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

template <class Sync>
using heap_block = ringwire::detail::heap_block<layout<Sync>, Sync, ringwire::detail::hot_block>;

// The evict lag format() records for `opt` (automatic: capacity - 1). Throws ringwire::error
// (invalid_options) for an evict lag not below the capacity.
inline std::uint64_t evict_lag_of(std::uint64_t capacity, const options& opt) {
  std::uint64_t lag = opt.evict_lag;
  if (opt.policy == policy::evict) {
    if (lag == options::automatic) lag = capacity == 0 ? 0 : capacity - 1;
    if (capacity != 0 && lag >= capacity)
      throw error(errc::invalid_options, "evict_lag " + std::to_string(lag) + " must be below the capacity " +
                                             std::to_string(capacity));
  }
  return lag;
}

// Validates the options, allocates and formats; the block holds `refs` references.
template <class Sync>
heap_block<Sync>* make_heap_block(std::uint64_t capacity, std::size_t payload_size, const options& opt,
                                  std::uint32_t refs, bool multi_producer = false) {
  const std::uint64_t lag = evict_lag_of(capacity, opt);
  const std::size_t bytes = layout<Sync>::footprint(capacity, payload_size, opt.max_subscribers, opt.slot_layout);
  return heap_block<Sync>::create(bytes, capacity, refs, [&](void* at) {
    layout<Sync>::format(at, capacity, payload_size, opt.max_subscribers, opt.policy, lag, opt.slot_layout,
                         multi_producer);
  }, opt.memory);
}

}  // namespace detail
}  // namespace ringwire::broadcast
