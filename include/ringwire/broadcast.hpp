// ringwire/broadcast.hpp -- one publisher, many subscribers: every subscriber sees every
// message (unless it falls a whole ring behind).
//
// TL;DR
//   #include <ringwire/broadcast.hpp>
//   struct tick { std::uint64_t id; double bid, ask; };          // trivially copyable
//   auto [pub, subs] = ringwire::broadcast::channel<tick>(4096);  // lossy by default
//   std::jthread reader([s = subs.subscribe()]() mutable {
//     for (;;) {
//       auto r = s.recv();                                        // parks when idle
//       if (r) handle(*r);
//       else if (r.status() == ringwire::status::lagged) note_gap(r.missed());
//       else break;                                               // closed: drained
//     }
//   });
//   for (const tick& t : feed) pub.send(t);                    // never waits (lossy)
//   pub.close();                                                  // or ~publisher
//
// The channel is a ring of `capacity` slots, each a 64-bit seqlock stamp next to the
// payload (layout.hpp has the byte map and the protocol, with the memory-model argument).
// The publisher overwrites slots in order and never reads the payload back; each
// subscriber keeps its own position and validates every copy against the stamp, so
// subscribers never write a shared line on the lossy path and never slow each other down.
//
// Policies (options::policy), for the moment the slowest subscriber is a full ring behind:
//   lossy     (default) the publisher overwrites; that subscriber's next receive says
//             status::lagged with missed() = exactly how many it lost, then resumes at
//             the oldest message still held. received() + missed() == published.
//   lossless  the publisher waits by its wait strategy (try_send: status::full) until
//             the slowest live subscriber reads. Subscribers publish their cursor in a
//             registry of 128-byte entries (options::max_subscribers, default 64); the
//             publisher caches the minimum and rescans only when the ring looks full or
//             someone joined. With no subscriber it never waits.
//   evict     as lossless, but when the ring is full every subscriber more than
//             options::evict_lag behind is dropped (its next receive: status::evicted)
//             and the publisher carries on; it never waits.
//
// Lifetimes. The publisher, every hub copy and every subscriber share one reference-
// counted heap block. Closing (or destroying) the publisher lets subscribers drain what is
// still readable, then they see closed; a parked subscriber is woken. Destroying a
// subscriber frees its registry entry at once.
//
// Messages must be trivially copyable (checked at compile time, with the reason: they are
// copied as 64-bit words with relaxed atomics and may be read while being overwritten).
// Several producers: mpmc_channel() returns a copyable shared_publisher instead (tickets
// give one global order; see shared_publisher.hpp). Shared-memory placement: shm/broadcast.hpp;
// caller-owned memory (format / attach): broadcast/attach.hpp.
// Extras: hub::subscribe_group(n), N consumers behind one cursor (group.hpp);
// subscriber::try_recv_with(fn) and publisher::publish_with(fn), reading and writing a slot
// in place (slot_view.hpp); every received message's sequence number in recv_result::seq().
// Counters (options::metrics, hub::stats, `ringwire stat`): broadcast/stats.hpp.
#pragma once

#include <cstddef>
#include <utility>

#include "ringwire/broadcast/attach.hpp"
#include "ringwire/broadcast/group.hpp"
#include "ringwire/broadcast/hub.hpp"
#include "ringwire/broadcast/layout.hpp"
#include "ringwire/broadcast/publisher.hpp"
#include "ringwire/broadcast/shared_publisher.hpp"
#include "ringwire/broadcast/slot_view.hpp"
#include "ringwire/broadcast/storage.hpp"
#include "ringwire/broadcast/subscriber.hpp"

namespace ringwire::broadcast {

// A heap channel holding the last `capacity` messages (any value >= 1). Returns the
// publisher and a copyable hub to subscribe() through. Throws ringwire::error for a
// capacity of zero or one that cannot be allocated, max_subscribers outside [1, 65536],
// or (evict) an evict_lag not below the capacity.
template <class T, class Sync = std_sync>
std::pair<publisher<T, Sync>, hub<T, Sync>> channel(std::size_t capacity, const options& opt = {}) {
  static_assert(detail::payload_check<T>::ok);
  Sync::prepare();
  auto* block = detail::make_heap_block<Sync>(capacity, sizeof(T), opt, /*refs=*/2);
  auto* l = block->ring();
  return {publisher<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt),
          hub<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt)};
}

// Several producers: as channel(), but the producing end is a copyable shared_publisher
// (one copy per producing thread; shared_publisher.hpp has the ticket protocol). The
// channel closes when the last copy is closed or destroyed.
template <class T, class Sync = std_sync>
std::pair<shared_publisher<T, Sync>, hub<T, Sync>> mpmc_channel(std::size_t capacity, const options& opt = {}) {
  static_assert(detail::payload_check<T>::ok);
  Sync::prepare();
  auto* block = detail::make_heap_block<Sync>(capacity, sizeof(T), opt, /*refs=*/2, /*multi_producer=*/true);
  auto* l = block->ring();
  // relaxed: the block is not yet shared with any other thread.
  l->control.producers.store(1, std::memory_order_relaxed);
  return {shared_publisher<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt),
          hub<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt)};
}

}  // namespace ringwire::broadcast
