// ringwire/shm/spsc.hpp -- an SPSC channel between two processes.
//
// The ring in a segment is the very spsc::layout an in-process channel uses, and the
// endpoints are the very ringwire::spsc::sender<T> and receiver<T>: only the storage
// differs. Where a heap channel's endpoints count on a heap block, an attached endpoint
// counts on a small process-local `attachment` that holds this side's claim and a
// reference to the mapping; the last reference releases the claim (re-attach works) and,
// with the segment object gone too, leaves the segment. The send and receive paths are
// the same instructions; what differs is the fence scope the endpoint resolved when it
// was made -- fence_scope::cross_process, because membarrier reaches only this process's
// threads: a real seq_cst fence on each publish while the park strategy is in use, and
// process-shared futex words, so a parked peer in the other process is woken and only a
// parked one costs a syscall (wait.hpp). An endpoint whose strategy never parks
// (spin_sync) pays neither.
//
// Each side is attached by one endpoint at a time: a claim word in the header holds the
// attaching process's pid (a compare-and-swap from 0); a second attach is
// shm_already_attached naming the holder; destroying or closing the endpoint releases it.
// Attaching a side clears that side's closed flag, so after a clean detach a new sender
// (or receiver) carries on where the old one stopped, with the messages still queued.
//
// Close semantics are the in-process ones: when the sender detaches (destroyed, closed,
// moved-over) the receiver drains what is queued, then sees closed; when the receiver
// detaches, sends report closed. Before the first receiver attaches the sender may fill
// the ring: nothing is closed yet.
//
// TL;DR
//   // process A
//   auto seg = ringwire::shm::segment::create("/ticks", ringwire::shm::spsc_spec<tick>(4096));
//   auto tx = ringwire::shm::spsc::attach_sender<tick>(seg);          // a ringwire::spsc::sender<tick>
//   for (const tick& t : feed) if (tx.send(t) != ringwire::status::ok) break;
//   // process B
//   auto seg = ringwire::shm::segment::open("/ticks", ringwire::shm::spsc_spec<tick>(4096),
//                                           {.wait = std::chrono::seconds(5)});
//   auto rx = ringwire::shm::spsc::attach_receiver<tick>(seg);        // a ringwire::spsc::receiver<tick>
//   while (auto r = rx.recv()) handle(*r);                            // ends when A detaches
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>

#include "ringwire/shm/layout.hpp"
#include "ringwire/shm/segment.hpp"
#include "ringwire/spsc/receiver.hpp"
#include "ringwire/spsc/sender.hpp"

namespace ringwire::shm::spsc {

namespace detail {

// One attached endpoint's (or monitor's) hold on a segment: this side's claim and the
// mapping. The first member is the owner the endpoint counts on.
template <class Sync>
struct attachment {
  ringwire::detail::owner<Sync> own;
  shm::detail::mapping_ref map;
  std::atomic<std::uint32_t>* claim;  // null: a monitor claims nothing

  static void release_all(ringwire::detail::owner<Sync>* o) noexcept {
    auto* a = reinterpret_cast<attachment*>(o);
    // release: this side's last slot accesses and index stores (and the endpoint's close)
    // happen-before the next attach's acquire of the claim.
    if (a->claim != nullptr) a->claim->store(0, std::memory_order_release);
    delete a;  // drops the mapping reference
  }
};

enum class side { sender, receiver, monitor };

template <class T, class Sync>
ringwire::spsc::detail::ring_ref<Sync> attach(const segment& seg, side which) {
  static_assert(std::is_trivially_copyable_v<T>,
                "shared-memory channels carry bytes: T must be trivially copyable");
  static_assert(std::is_same_v<typename Sync::template atomic<std::uint32_t>, std::atomic<std::uint32_t>>,
                "a segment's ring is made of std::atomic words: use std_sync or spin_sync");
  if (!seg.joined()) throw error(errc::invalid_options, "attaching to a segment that was left or never joined");
  const identity& id = seg.info();
  if (id.kind != channel_kind::spsc)
    throw error(errc::shm_kind_mismatch, std::string("the segment holds a ") + to_string(id.kind) + " channel, not spsc");
  const channel_spec want = spsc_spec<T>();
  if (id.slot_size != want.slot_size || id.slot_align != want.slot_align || id.type_tag != want.type_tag)
    throw error(errc::shm_type_mismatch, "the segment's elements are " + std::to_string(id.slot_size) +
                                             " bytes aligned to " + std::to_string(id.slot_align) + " with type tag " +
                                             std::to_string(id.type_tag) + "; T is " + std::to_string(want.slot_size) +
                                             " / " + std::to_string(want.slot_align) + " / " +
                                             std::to_string(want.type_tag));
  shm::detail::mapping_ref map = seg.share();
  header* h = map.get()->hdr();
  auto* ring = std::launder(reinterpret_cast<ringwire::spsc::layout<Sync>*>(map.get()->base + id.channel_offset));
  std::atomic<std::uint32_t>* claim = which == side::sender     ? &h->live.sender_claim
                                      : which == side::receiver ? &h->live.receiver_claim
                                                                : nullptr;
  auto* a = new attachment<Sync>{{}, std::move(map), claim};
  a->own.release_all = &attachment<Sync>::release_all;
  // relaxed: the attachment is not yet shared with another thread.
  a->own.refs.store(1, std::memory_order_relaxed);
  ringwire::spsc::detail::ring_ref<Sync> ref(ring, &a->own);  // from here it releases `a`
  if (claim != nullptr) {
    const auto me = static_cast<std::uint32_t>(::getpid());
    std::uint32_t holder = 0;
    // acquire: the previous holder's stores (its index, its close) happen-before ours.
    if (!claim->compare_exchange_strong(holder, me, std::memory_order_acquire, std::memory_order_relaxed)) {
      a->claim = nullptr;  // not ours to release
      throw error(errc::shm_already_attached,
                  std::string("the ") + (which == side::sender ? "sender" : "receiver") +
                      " side is attached by pid " + std::to_string(holder) +
                      (holder == me ? " (this process)" : "") + "; it must detach first");
    }
    // relaxed: no data flows through the flags; the peer re-reads them on its slow paths.
    if (which == side::sender) ring->consumer.sender_closed.store(0, std::memory_order_relaxed);
    if (which == side::receiver) ring->producer.receiver_closed.store(0, std::memory_order_relaxed);
  }
  return ref;
}

}  // namespace detail

// The sending side of the segment's SPSC ring. Throws ringwire::error: shm_kind_mismatch,
// shm_type_mismatch (T is not the segment's element type), shm_already_attached,
// invalid_options (seg not joined). opt.start_index is ignored (the creator's spec set it).
template <class T, class Sync = std_sync>
ringwire::spsc::sender<T, Sync> attach_sender(const segment& seg, const ringwire::spsc::options& opt = {}) {
  return ringwire::spsc::sender<T, Sync>(detail::attach<T, Sync>(seg, detail::side::sender), opt,
                                         fence_scope::cross_process);
}

// The receiving side. Throws as attach_sender.
template <class T, class Sync = std_sync>
ringwire::spsc::receiver<T, Sync> attach_receiver(const segment& seg, const ringwire::spsc::options& opt = {}) {
  return ringwire::spsc::receiver<T, Sync>(detail::attach<T, Sync>(seg, detail::side::receiver), opt,
                                           fence_scope::cross_process);
}

// A read-only view of the ring's counters (claims nothing; any number of them). Its
// sent/received counts are exact; the slow-path counters count only endpoints made with
// options::metrics.
template <class T, class Sync = std_sync>
ringwire::spsc::monitor<Sync> make_monitor(const segment& seg) {
  return ringwire::spsc::monitor<Sync>(detail::attach<T, Sync>(seg, detail::side::monitor));
}

}  // namespace ringwire::shm::spsc
