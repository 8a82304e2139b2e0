// ringwire/mpmc.hpp -- a bounded, linearizable multi-producer / multi-consumer queue.
//
// TL;DR
//   #include <ringwire/mpmc.hpp>
//   ringwire::mpmc::queue<job> q(1024);                 // holds at most exactly 1024
//   // any thread:                                      // any thread:
//   if (q.push(std::move(j)) != ringwire::status::ok)   while (auto r = q.pop()) run(*r);
//     return;  // closed                                // ends with closed, after draining
//   q.close();                                          // pushes fail, pops drain, waiters wake
//
//   auto [tx, rx] = ringwire::mpmc::channel<job>(1024); // copyable handles with disconnect:
//   std::jthread a([tx] () mutable { tx.send(make()); });   // the channel closes for the
//   std::jthread b([rx] () mutable { while (auto r = rx.recv()) run(*r); });  // receivers when
//                                                       // the last sender goes, and vice versa
//
// One global FIFO order (the order of the tickets, see mpmc/core.hpp), any movable T,
// bounded by exactly the capacity asked for (any value >= 1). Per-cell turn stamps and
// 64-bit tickets, as in Vyukov's bounded queue, rigtorp's MPMCQueue and atomic_queue; no
// double-width CAS. try_push reports full and try_pop empty only when the queue was full or
// empty at an instant during the call -- never because another thread is half-way through
// its copy (they wait for that copy instead; docs/mpmc.md has the exact argument).
//
// A queue is three layers, like spsc.hpp's:
//   layout     (mpmc/layout.hpp)      tickets, turn stamps, waiting rooms, pointer-free
//   storage    (mpmc/storage.hpp)     the heap block, destroying what is left at the end
//   front ends (mpmc/queue.hpp)       queue<T>: one shared object, close()
//              (mpmc/endpoints.hpp)   sender<T> / receiver<T>: copyable, close on last drop
// with the protocol itself in mpmc/core.hpp and many-waiter parking in mpmc/wait_room.hpp.
// Counters (options::metrics, slow paths only) and the monitor that reads them from another
// thread (make_monitor() on a queue or a handle): mpmc/stats.hpp.
//
// Waiting calls (push, pop, send, recv, their _for/_until/stop_token forms) wait by a
// wait_strategy (wait.hpp; park by default: a bounded spin, then a futex sleep). A push or
// pop wakes sleepers with one syscall only when someone is parked; otherwise it pays a
// compiler barrier and one load of a read-mostly line.
#pragma once

#include <cstddef>
#include <utility>

#include "ringwire/mpmc/core.hpp"
#include "ringwire/mpmc/endpoints.hpp"
#include "ringwire/mpmc/layout.hpp"
#include "ringwire/mpmc/queue.hpp"
#include "ringwire/mpmc/stats.hpp"
#include "ringwire/mpmc/storage.hpp"

namespace ringwire::mpmc {

// A heap channel holding at most `capacity` elements (any value >= 1): one sender and one
// receiver, both copyable. Throws ringwire::error for a capacity of zero or one that cannot
// be allocated.
template <class T, class Sync = std_sync>
std::pair<sender<T, Sync>, receiver<T, Sync>> channel(std::size_t capacity, const options& opt = {}) {
  Sync::prepare();
  auto* block = detail::make_heap_block<T, Sync>(capacity, /*refs=*/2, opt.cells, opt.memory);
  auto* l = block->ring();
  // relaxed: the block is not yet shared with any other thread.
  l->rooms.senders.store(1, std::memory_order_relaxed);
  l->rooms.receivers.store(1, std::memory_order_relaxed);
  return {sender<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt.sender_wait, opt.metrics),
          receiver<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt.receiver_wait, opt.metrics)};
}

}  // namespace ringwire::mpmc
