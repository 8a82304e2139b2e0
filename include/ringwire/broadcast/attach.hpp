// ringwire/broadcast/attach.hpp -- a typed broadcast channel in memory the caller owns
// (ichannel's with_init): a static buffer, a huge page, a mapping shared with other
// processes.
//
// TL;DR
//   namespace bc = ringwire::broadcast;
//   const std::size_t need = bc::footprint<tick>(4096);                 // bytes, 128-aligned
//   void* mem = std::aligned_alloc(bc::memory_alignment, need);         // or a mapping
//   auto [pub, subs] = bc::format<tick>(mem, need, 4096);               // the one publisher
//   // elsewhere (another thread; another process mapping the same bytes):
//   bc::hub<tick> more = bc::attach<tick>(mem, need);                   // subscribe() from it
//
// The ring is the very layout a heap channel uses (layout.hpp: offsets, no pointers), so
// it works at any address and in every process that maps it. format() writes it and
// returns the publisher and a hub; attach() validates memory someone formatted and returns
// a hub (subscribers and subscriber groups join through the registry in the memory
// itself, so any number of attaches may coexist). Both borrow the memory: it must outlive
// every endpoint made over it, and nothing frees it. format() stores the layout's magic
// last, with release, and attach() loads it with acquire, so an attach that passes has
// seen the whole format -- but the caller still orders the format before the attach
// (hand the pointer over after format returns; across processes, map after the creator
// said so).
//
// What attach() checks, each failure a ringwire::error naming the field:
//   memory     null, not memory_alignment-aligned, smaller than the header or than the
//              geometry it records                                        ring_corrupt
//   identity   magic ("RWBCAST1"), layout version                          ring_corrupt
//   T          payload size, alignment and type tag (shm::type_tag<T>: a hash of T's name
//              unless specialised) as format() recorded them              type_mismatch
//   geometry   capacity, registry size, policy, payload words, offsets, slot stride (packed
//              or line), evict lag, close flag, registry top: in range and consistent, so
//              no endpoint can be aimed outside the memory                 ring_corrupt
// Not checked: that the memory is still formatted later (the endpoints copy the geometry
// when they are made and never re-read it), nor who else writes it. One publisher only:
// format()'s. Across processes pass fence_scope::cross_process to format() and attach()
// (process-shared futexes, real fences: wait.hpp); shm/broadcast.hpp adds what this does
// not -- claims, reaping a dead process, re-attaching a publisher.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "ringwire/broadcast/hub.hpp"
#include "ringwire/broadcast/layout.hpp"
#include "ringwire/broadcast/publisher.hpp"
#include "ringwire/broadcast/storage.hpp"
#include "ringwire/error.hpp"
#include "ringwire/result.hpp"
#include "ringwire/shm/header.hpp"

namespace ringwire::broadcast {

// The alignment format() and attach() need.
inline constexpr std::size_t memory_alignment = ringwire::detail::hot_block;

// Bytes a channel of `capacity` messages of T with `opt` needs (its registry and slot
// layout). Throws ringwire::error as channel() does for bad options.
template <class T, class Sync = std_sync>
std::size_t footprint(std::size_t capacity, const options& opt = {}) {
  static_assert(detail::payload_check<T>::ok);
  return layout<Sync>::footprint(capacity, sizeof(T), opt.max_subscribers, opt.slot_layout);
}

// Formats `bytes` of caller memory at `mem` as an empty channel of `capacity` messages
// (options as channel(): policy, registry size, evict lag, slot layout; waits and metrics
// for the endpoints returned). Returns the publisher and a hub. Throws ringwire::error:
// invalid_capacity for memory smaller than footprint<T>(capacity, opt) (the message says
// how much), invalid_options for memory not memory_alignment-aligned, and channel()'s
// errors for bad options. Every byte up to the footprint is overwritten.
template <class T, class Sync = std_sync>
std::pair<publisher<T, Sync>, hub<T, Sync>> format(void* mem, std::size_t bytes, std::size_t capacity,
                                                   const options& opt = {},
                                                   fence_scope scope = fence_scope::process) {
  const std::size_t need = footprint<T, Sync>(capacity, opt);
  if (bytes < need)
    throw error(errc::invalid_capacity, "a broadcast ring of " + std::to_string(capacity) + " messages of " +
                                            std::to_string(sizeof(T)) + " bytes needs " + std::to_string(need) +
                                            " bytes, not " + std::to_string(bytes));
  if (mem == nullptr || reinterpret_cast<std::uintptr_t>(mem) % memory_alignment != 0)
    throw error(errc::invalid_options, "broadcast ring memory must be " + std::to_string(memory_alignment) +
                                           "-byte aligned");
  Sync::prepare();
  auto* l = layout<Sync>::format(mem, capacity, sizeof(T), opt.max_subscribers, opt.policy,
                                 detail::evict_lag_of(capacity, opt), opt.slot_layout, /*multi_producer=*/false,
                                 /*zeroed=*/false,
                                 {static_cast<std::uint32_t>(alignof(T)), shm::type_tag<T>::value});
  return {publisher<T, Sync>(detail::ring_ref<Sync>(l, nullptr), opt, scope),
          hub<T, Sync>(detail::ring_ref<Sync>(l, nullptr), opt, scope)};
}

namespace detail {

// What is wrong with memory attach() was given (see the top of this header), or nothing.
// Plain loads of a copy of the geometry, and two relaxed atomic loads: the memory may be
// hostile, and nothing is read through a value before it is checked.
template <class T, class Sync>
std::optional<error_info> attach_problem(void* mem, std::size_t bytes) {
  using ring = layout<Sync>;
  using std::to_string;
  const auto corrupt = [](const std::string& why) {
    return std::optional<error_info>(error_info{errc::ring_corrupt, "broadcast attach: " + why});
  };
  if (mem == nullptr || reinterpret_cast<std::uintptr_t>(mem) % memory_alignment != 0)
    return corrupt("memory not " + to_string(memory_alignment) + "-byte aligned");
  if (bytes < sizeof(ring)) return corrupt("memory of " + to_string(bytes) + " bytes is smaller than the header");
  auto* l = std::launder(static_cast<ring*>(mem));
  // acquire: pairs with format()'s release store of the magic, its last write.
  if (std::atomic_ref<std::uint64_t>(l->geometry.magic).load(std::memory_order_acquire) != ring::magic_value)
    return corrupt("bad magic: not a formatted broadcast ring");
  typename ring::geometry_block g;
  std::memcpy(&g, &l->geometry, sizeof g);
  if (g.version != ring::version_value) return corrupt("layout version " + to_string(g.version) + ", this build reads " +
                                                         to_string(ring::version_value));
  // The type before the geometry: another T fails as such, not on its slot stride.
  const std::uint64_t tag = shm::type_tag<T>::value;
  if (g.payload_size != sizeof(T) || g.payload_align != alignof(T) || g.type_tag != tag)
    return error_info{errc::type_mismatch, "broadcast attach: the ring holds " + to_string(g.payload_size) +
                                               "-byte messages aligned to " + to_string(g.payload_align) +
                                               " with type tag " + to_string(g.type_tag) + "; T is " +
                                               to_string(sizeof(T)) + " / " + to_string(alignof(T)) + " / " +
                                               to_string(tag)};
  if (g.capacity == 0 || g.capacity > ring::max_capacity) return corrupt("capacity " + to_string(g.capacity));
  if (g.max_subscribers == 0 || g.max_subscribers > ring::max_registry)
    return corrupt("registry of " + to_string(g.max_subscribers) + " entries");
  if (g.policy > static_cast<std::uint32_t>(policy::evict)) return corrupt("policy " + to_string(g.policy));
  if (g.payload_words != words_of<T> || g.registry_offset != ring::registry_offset() ||
      g.slots_offset != ring::slots_offset(g.max_subscribers) || g.multi_producer > 1)
    return corrupt("geometry fields disagree with each other");
  const slot_layout slots =
      g.slot_stride == ring::stride(sizeof(T), slot_layout::line) ? slot_layout::line : slot_layout::packed;
  if (g.slot_stride != ring::stride(sizeof(T), slots)) return corrupt("slot stride " + to_string(g.slot_stride));
  if (g.policy == static_cast<std::uint32_t>(policy::evict) && g.evict_lag >= g.capacity)
    return corrupt("evict lag " + to_string(g.evict_lag) + " not below the capacity");
  std::size_t need = 0;
  try {
    need = ring::footprint(g.capacity, sizeof(T), g.max_subscribers, slots);
  } catch (const error&) {  // a capacity whose ring cannot be addressed: not one format() wrote
    return corrupt("capacity " + to_string(g.capacity) + " cannot be addressed");
  }
  if (bytes < need)
    return corrupt("memory truncated: the ring needs " + to_string(need) + " bytes, not " + to_string(bytes));
  // relaxed (both): values that must be in range; nothing is read through them.
  if (l->control.closed.load(std::memory_order_relaxed) > 1) return corrupt("the publisher's close flag");
  if (l->joiners.top.load(std::memory_order_relaxed) > g.max_subscribers) return corrupt("the registry's top entry");
  return std::nullopt;
}

}  // namespace detail

// A hub over caller memory that format() (of this T) prepared, possibly in another process:
// validated first (see the top of this header; ringwire::error on any failure). `opt`
// gives the subscribers' waits and metrics; the policy, registry size and slot layout are
// the ones format() recorded.
template <class T, class Sync = std_sync>
hub<T, Sync> attach(void* mem, std::size_t bytes, const options& opt = {}, fence_scope scope = fence_scope::process) {
  static_assert(detail::payload_check<T>::ok);
  if (const auto problem = detail::attach_problem<T, Sync>(mem, bytes)) problem->raise();
  Sync::prepare();
  return hub<T, Sync>(detail::ring_ref<Sync>(std::launder(static_cast<layout<Sync>*>(mem)), nullptr), opt, scope);
}

}  // namespace ringwire::broadcast
