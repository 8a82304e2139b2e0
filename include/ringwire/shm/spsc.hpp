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

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "ringwire/shm/claim.hpp"
#include "ringwire/shm/doorbell.hpp"
#include "ringwire/shm/segment.hpp"
#include "ringwire/spsc/receiver.hpp"
#include "ringwire/spsc/sender.hpp"
#include "ringwire/spsc/shm_contract.hpp"

namespace ringwire::shm::spsc {

namespace detail {

using shm::detail::attachment;
using shm::detail::claim_t;
using shm::detail::claim_alive;
using shm::detail::my_claim;
using shm::detail::release_claim;
using shm::detail::take_claim;

inline claim_t* side_claim(header* h, bool sender) noexcept {
  return sender ? &h->live.sender_claim : &h->live.receiver_claim;
}

enum class side { sender, receiver, monitor };

// Reaps one side (sender: true) when its claim names a dead process: closes it as a clean
// detach would and wakes the other side. Returns the dead pid, 0 when it reaped nothing.
inline std::uint32_t reap_side(const shm::detail::mapping& m, bool sender) noexcept {
  auto* ring = std::launder(reinterpret_cast<ringwire::spsc::layout<std_sync>*>(m.base + m.id.channel_offset));
  claim_t& c = *side_claim(m.hdr(), sender);
  const std::uint64_t v = shm::detail::seize_dead(c, *m.hdr());
  if (v == 0) return 0;
  if (sender) {
    // acquire: the dead sender's last tail store (complete: the process is gone) is
    // ordered before our closed flag, so the receiver that reads the flag with acquire
    // and then re-reads tail sees every message it published.
    (void)ring->producer.tail.load(std::memory_order_acquire);
    // release: see above.
    ring->consumer.sender_closed.store(1, std::memory_order_release);
  } else {
    // acquire/release: as above, for the dead receiver's last head.
    (void)ring->consumer.head.load(std::memory_order_acquire);
    ring->producer.receiver_closed.store(1, std::memory_order_release);
  }
  // release: the closed flag happens-before the next attach's acquire of the claim, so a
  // new endpoint's reopening (it clears the flag) comes after our close, never before.
  c.store(0, std::memory_order_release);
  // A rare path: a real fence, then wake the other side if it sleeps (wait.hpp). A plain
  // channel's receiver parks on consumer_park (attach checked receiver_park_offset == 0);
  // the offset is not read again here, so a peer that rewrote it cannot aim this wake
  // outside the mapping.
  auto& peer_word = sender ? ring->producer.consumer_park : ring->consumer.producer_park;
  ringwire::detail::notify_close<std_sync>(peer_word, fence_scope::cross_process);
  return claim_pid(v);
}
// The peer checks (wait.hpp): a receiver's looks at the sender, a sender's at the receiver.
inline bool reap_sender(const shm::detail::mapping& m) noexcept { return reap_side(m, true) != 0; }
inline bool reap_receiver(const shm::detail::mapping& m) noexcept { return reap_side(m, false) != 0; }

template <class T, class Sync>
ringwire::spsc::detail::ring_ref<Sync> attach(const segment& seg, side which) {
  shm::detail::check_sync<Sync>();
  shm::detail::check_attach<T>(seg, ringwire::spsc::shm_kind);
  if (which != side::monitor) shm::detail::fix_wait_family<Sync>(seg);
  const identity& id = seg.info();
  shm::detail::mapping_ref map = seg.share();
  header* h = map.get()->hdr();
  auto* ring = std::launder(reinterpret_cast<ringwire::spsc::layout<Sync>*>(map.get()->base + id.channel_offset));
  // The endpoints copy the ring's geometry: check it again, against the private identity,
  // since a live peer may have rewritten it after this process opened the segment.
  ringwire::spsc::shm_contract::check_ring(ring, id.capacity, id.slot_size, id.slot_align, 0,
                                           ringwire::spsc::shm_contract::latency(id.policy),
                                           [](const std::string& what) { throw error(errc::shm_corrupt, what); });
  claim_t* claim = which == side::monitor ? nullptr : side_claim(h, which == side::sender);
  auto* a = attachment<Sync>::make(std::move(map));
  ringwire::spsc::detail::ring_ref<Sync> ref(ring, &a->own);  // from here it releases `a`
  if (claim != nullptr) {
    if (const std::uint32_t holder = take_claim(*claim); holder != 0)
      shm::detail::refuse_attached(which == side::sender ? "sender side" : "receiver side", holder);
    a->claim = claim;  // ours now: released with the attachment
    // The peer check of its waits: the other side's claim.
    if (which == side::sender) shm::detail::watch_peer<&reap_receiver>(a);
    if (which == side::receiver) shm::detail::watch_peer<&reap_sender>(a);
    // relaxed: no data flows through the flags; the peer re-reads them on its slow paths.
    if (which == side::sender) ring->consumer.sender_closed.store(0, std::memory_order_relaxed);
    if (which == side::receiver) ring->producer.receiver_closed.store(0, std::memory_order_relaxed);
  }
  return ref;
}

}  // namespace detail

// What reap() released: the pids of dead endpoints, 0 for a side that was free or alive.
struct reaped {
  std::uint32_t sender_pid = 0;
  std::uint32_t receiver_pid = 0;
  explicit operator bool() const noexcept { return sender_pid != 0 || receiver_pid != 0; }
};

// Crash recovery without a daemon. Any process that has the segment joined may call it,
// as often as it likes (a receiver whose recv_for timed out, a supervisor, a monitor): for
// each side whose claim names a dead process (gone, a zombie, or its pid reused: see
// docs/shm-layout.md) it releases the claim, closes that side as a clean detach would, and
// wakes the other side, which then sees what a clean detach shows: a receiver drains what
// the dead sender had published (a message it had not committed was never visible) and
// then gets closed; a sender gets closed instead of waiting for ever on a full ring. A
// live process is never reaped, however slow. A new endpoint may then attach the side and
// carry on (attach also takes over a dead claim by itself). Throws shm_kind_mismatch for a
// segment that is not spsc, invalid_options for one not joined.
inline reaped reap(const segment& seg) {
  const shm::detail::mapping_ref map = shm::detail::begin_reap(seg, ringwire::spsc::shm_kind);
  return {detail::reap_side(*map.get(), true), detail::reap_side(*map.get(), false)};
}

// The sending side of the segment's SPSC ring. Throws ringwire::error: shm_kind_mismatch,
// shm_type_mismatch (T is not the segment's element type), shm_already_attached,
// invalid_options (seg not joined). opt.start_index is ignored (the creator's spec set it).
template <class T, class Sync = std_sync>
ringwire::spsc::sender<T, Sync> attach_sender(const segment& seg, const ringwire::spsc::options& opt = {}) {
  auto ref = detail::attach<T, Sync>(seg, detail::side::sender);  // checks seg first
  return ringwire::spsc::sender<T, Sync>(std::move(ref), opt, shm::detail::endpoint_scope(seg.info()));
}

// The receiving side. Throws as attach_sender.
template <class T, class Sync = std_sync>
ringwire::spsc::receiver<T, Sync> attach_receiver(const segment& seg, const ringwire::spsc::options& opt = {}) {
  auto ref = detail::attach<T, Sync>(seg, detail::side::receiver);  // checks seg first
  return ringwire::spsc::receiver<T, Sync>(std::move(ref), opt, shm::detail::endpoint_scope(seg.info()));
}

// The doorbell of the segment's receiver (shm/doorbell.hpp): a descriptor for the receiving
// process's epoll loop, readable when a publish or close follows the receiver's
// arm_doorbell(). Bind it before the first arm_doorbell(). Throws shm_kind_mismatch,
// shm_already_attached (bound by a live process), shm_system_error, invalid_options.
inline doorbell make_doorbell(const segment& seg) {
  if (!seg.joined()) throw error(errc::invalid_options, "a doorbell for a segment that was left or never joined");
  shm::detail::require_kind(seg, ringwire::spsc::shm_kind);
  const shm::detail::mapping_ref map = seg.share();
  auto* ring = shm::detail::channel_of<ringwire::spsc::layout<std_sync>>(map);
  return shm::detail::bind_doorbell(map, &ring->producer.consumer_park);
}

// A read-only view of the ring's counters (claims nothing; any number of them). Its
// sent/received counts are exact; the slow-path counters count only endpoints made with
// options::metrics.
template <class T, class Sync = std_sync>
ringwire::spsc::monitor<Sync> make_monitor(const segment& seg) {
  return ringwire::spsc::monitor<Sync>(detail::attach<T, Sync>(seg, detail::side::monitor));
}

}  // namespace ringwire::shm::spsc
