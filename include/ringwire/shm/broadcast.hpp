// ringwire/shm/broadcast.hpp -- one publisher, many subscribers, across processes.
//
// The ring in a segment is the very broadcast::layout an in-process channel uses (seqlock
// slots, subscriber registry; broadcast/layout.hpp), and the endpoints are the very
// ringwire::broadcast::publisher<T> and subscriber<T>: only the storage differs, as for
// shm/spsc.hpp. An attached endpoint counts on a process-local `attachment` (shm/claim.hpp)
// holding its claim word and a reference to the mapping; dropping the endpoint releases
// the claim, and with the segment object gone too, leaves the segment. The endpoints are
// made with the segment's fence scope (shm::detail::endpoint_scope: cross_process, or
// cross_process_asymmetric when every process registered for the global membarrier), so
// their park words -- the publisher's in the control block, each subscriber's in its
// registry entry -- are process-shared futex words and a parked peer in another process is
// woken.
//
// Claims (one 64-bit claim word each, shm/claim.hpp):
//   publisher      the header's live.sender_claim. One publisher at a time: a second attach
//                  while a live process holds it is shm_already_attached; a dead holder's
//                  claim is taken over.
//   subscriber i   endpoint_claim(i) in the claims block, paired with registry entry i.
//                  The claim is the lock on the entry: a subscriber first takes a claim
//                  (a free one, else one whose holder is dead), then joins at exactly that
//                  entry (the registry's join protocol, replacing whatever a dead holder
//                  left there); only the claim's holder, or a process reaping that claim,
//                  writes the entry's state -- besides the publisher's eviction CAS. A
//                  subscriber frees its entry first and releases its claim after (its
//                  destructor, then the attachment's), so a free claim never has a live
//                  entry behind it that someone still owns.
//
// Re-attach. A publisher starts after the ring's head, so sequence numbers never go back.
// Writing message n is: stamp 2n-1, payload, stamp 2n, head = n (broadcast/layout.hpp). A
// publisher that died after its commit but before its head store left message n complete:
// the next one adopts it (head = n) rather than writing n again, which would take the
// stamp from 2n back to 2n-1 and let a reader that copied the old n accept a mix of both
// (an ABA on the stamp). One that died mid-write left the stamp odd, 2n-1: no reader ever
// accepts that slot as n (it waits for 2n), and the next publisher writes message n into it
// again, from 2n-1 to 2n. Attaching a publisher clears the closed flag, so after a clean
// detach (or a reap) the subscribers that are still attached carry on.
//
// Close semantics are the in-process ones: closing or destroying the publisher sets the
// ring's closed flag; subscribers drain what is committed, then see closed. A subscriber's
// close frees its entry at once (a lossless publisher stops waiting on it).
//
// reap(seg), from any process that has the segment joined, as often as it likes: a dead
// publisher's claim is released and the ring closed as a clean detach would (subscribers
// drain, then see closed; parked ones are woken); each dead subscriber's entry is freed
// and its claim released, and a parked publisher woken, so a lossless publisher blocked on
// it carries on. A claim is reaped only when its process is gone (or a zombie, or its pid
// reused: claim_alive); a live process is never reaped, however slow. Reaping CASes the
// claim to "reaping by me" first, so two reapers never both act on one claim, and a reaper
// that dies half-way leaves a claim the next reap takes up again.
//
// Known limit: a subscriber counts itself in the registry's `parked` hint while it waits in
// recv(). reap() takes a dead subscriber's count back when its park word says it was
// asleep (the usual place to be killed), but one killed in the few instructions between
// counting and sleeping (or after waking and before uncounting) leaves the hint one too
// high: the publisher then loads the registry's park words after every publish (loads
// only, no syscall) until the channel is re-created.
//
// TL;DR
//   // process A
//   auto seg = ringwire::shm::segment::create("/ticks", ringwire::shm::broadcast_spec<tick>(4096, 16));
//   auto pub = ringwire::shm::broadcast::attach_publisher<tick>(seg);   // a ringwire::broadcast::publisher<tick>
//   for (const tick& t : feed) pub.send(t);
//   // processes B, C, ...
//   auto seg = ringwire::shm::segment::open("/ticks", ringwire::shm::broadcast_spec<tick>(4096, 16),
//                                           {.wait = std::chrono::seconds(5)});
//   auto sub = ringwire::shm::broadcast::attach_subscriber<tick>(seg);  // a ringwire::broadcast::subscriber<tick>
//   while (auto r = sub.recv()) handle(*r);     // lossy: also status::lagged; ends when A detaches
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/broadcast/publisher.hpp"
#include "ringwire/broadcast/shm_contract.hpp"
#include "ringwire/broadcast/storage.hpp"
#include "ringwire/broadcast/subscriber.hpp"
#include "ringwire/shm/claim.hpp"
#include "ringwire/shm/doorbell.hpp"
#include "ringwire/shm/segment.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::shm::broadcast {

namespace detail {

using shm::detail::attachment;
using shm::detail::claim_alive;
using shm::detail::claim_t;
using shm::detail::my_claim;
using shm::detail::take_claim;

template <class Sync>
using ring = ringwire::broadcast::layout<Sync>;
template <class Sync>
using ring_ref = ringwire::broadcast::detail::ring_ref<Sync>;

using shm::detail::check_sync;

// A counted reference to the segment's ring, with an attachment that holds no claim yet.
template <class Sync>
std::pair<ring_ref<Sync>, attachment<Sync>*> share_ring(const segment& seg) {
  auto shared = shm::detail::share_channel<ring<Sync>, Sync>(seg);
  // The endpoints copy the ring's geometry (broadcast/layout.hpp, ring_geometry): check it
  // again, against the private identity, since a live peer may have rewritten it after
  // this process opened the segment.
  ringwire::broadcast::shm_contract::check_ring(shared.first.get(), seg.info(),
                                                [](const std::string& what) { throw error(errc::shm_corrupt, what); });
  return shared;
}

// A re-attached publisher's start: adopts message head + 1 if a dead predecessor committed
// it but died before storing head (see the top of this header). Needs the publisher claim.
template <class Sync>
void adopt_committed(ring<Sync>* l) noexcept {
  // acquire: the predecessor's last stores were acquired by our claim CAS already; this
  // also orders the stamp load below after the head we start from.
  const std::uint64_t h = l->publisher.head.load(std::memory_order_acquire);
  const std::uint64_t n = h + 1;
  const ringwire::broadcast::detail::slot_ref<Sync> s{l->slot(n % l->geometry.capacity)};
  // acquire: a committed stamp makes its payload stores visible before we publish head.
  if (s.stamp().load(std::memory_order_acquire) == ring<Sync>::committed(n)) {
    // release: the adopted message's commit happens-before a subscriber's acquire of head.
    l->publisher.head.store(n, std::memory_order_release);
  }
}

// Wakes every subscriber parked in the ring (a reap of the publisher): the rare path.
inline void wake_subscribers(ring<std_sync>* l, std::uint32_t entries) noexcept {
  std_sync::full_fence();  // our closed flag before the park-word loads (wait.hpp's Dekker pair)
  // acquire: entries below top were made joinable before top was raised. Clamped: a peer
  // could have scribbled on it since validation.
  const std::uint32_t top = std::min(l->joiners.top.load(std::memory_order_acquire), entries);
  for (std::uint32_t i = 0; i < top; ++i) {
    auto& word = l->subscriber(i).park;
    // relaxed: ordered after the closed flag by the fence above.
    if (word.load(std::memory_order_relaxed) != ringwire::detail::running)
      ringwire::detail::wake<std_sync>(word, fence_scope::cross_process);
  }
}

// Frees the entry of every subscriber whose process is dead, and wakes a publisher parked
// on it; how many.
inline std::uint32_t reap_subscribers(const shm::detail::mapping& m) noexcept {
  auto* l = std::launder(reinterpret_cast<ring<std_sync>*>(m.base + m.id.channel_offset));
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < m.id.endpoints; ++i) {
    claim_t& c = endpoint_claim(m.base, m.id, i);
    if (shm::detail::seize_dead(c, *m.hdr()) == 0) continue;
    auto& e = l->subscriber(i);
    // A subscriber killed while asleep in recv() (or armed for its doorbell) still counts
    // in the `parked` hint: its word says parked (parked_bell) only between its count and
    // its uncount (wait.hpp, subscriber.hpp).
    // relaxed: a dead process's word; the exchange decides against a waking publisher.
    if (e.park.exchange(ringwire::detail::running, std::memory_order_relaxed) != ringwire::detail::running) {
      // relaxed: the hint only (as the subscriber's own decrement).
      l->joiners.parked.fetch_sub(1, std::memory_order_relaxed);
    }
    // relaxed: only its generation is kept; the release store below publishes the free.
    const std::uint32_t st = e.state.load(std::memory_order_relaxed);
    // release: frees the entry as the subscriber's own close would; the publisher's
    // eviction CAS, the only other writer, then fails (or its evicted is overwritten).
    e.state.store(ring<std_sync>::with_kind(st, ring<std_sync>::free_entry), std::memory_order_release);
    // release: the free entry happens-before the next holder's acquire of the claim.
    c.store(0, std::memory_order_release);
    // A rare path: a real fence, then wake a publisher parked on the dead cursor.
    ringwire::detail::notify_close<std_sync>(l->control.publisher_park, fence_scope::cross_process);
    ++n;
  }
  return n;
}

// Closes the ring if the publisher's process is dead, as its detach would; its pid, or 0.
inline std::uint32_t reap_publisher(const shm::detail::mapping& m) noexcept {
  auto* l = std::launder(reinterpret_cast<ring<std_sync>*>(m.base + m.id.channel_offset));
  claim_t& pc = m.hdr()->live.sender_claim;
  const std::uint64_t dead = shm::detail::seize_dead(pc, *m.hdr());
  if (dead == 0) return 0;
  // acquire: the dead publisher's last head store (and the commits before it) is ordered
  // before our closed flag, so a subscriber that acquires the flag sees every commit.
  (void)l->publisher.head.load(std::memory_order_acquire);
  // release: pairs with the subscribers' acquire of the flag (subscriber::try_recv).
  l->control.closed.store(1, std::memory_order_release);
  // release: the close happens-before the next publisher's acquire of the claim, so its
  // reopening (it clears the flag) comes after our close, never before.
  pc.store(0, std::memory_order_release);
  wake_subscribers(l, m.id.endpoints);
  return claim_pid(dead);
}

// The peer checks (wait.hpp): a publisher's looks at the subscribers, a subscriber's at
// the publisher.
inline bool check_subscribers(const shm::detail::mapping& m) noexcept { return reap_subscribers(m) != 0; }
inline bool check_publisher(const shm::detail::mapping& m) noexcept { return reap_publisher(m) != 0; }

template <class T, class Sync>
ringwire::broadcast::subscriber<T, Sync> attach_subscriber(const segment& seg, const ringwire::broadcast::options& opt,
                                                           bool from_oldest) {
  const fence_scope scope = shm::detail::begin_attach<T, Sync>(seg, ringwire::broadcast::shm_kind);
  const identity& id = seg.info();
  auto [ref, a] = share_ring<Sync>(seg);
  std::byte* const base = a->map.get()->base;
  // Two passes: free claims first (a load each), then takeover of dead holders (each a
  // look at /proc): attach is a rare path, but a registry may be large.
  for (const bool takeover : {false, true}) {
    for (std::uint32_t i = 0; i < id.endpoints; ++i) {
      claim_t& c = endpoint_claim(base, id, i);
      // relaxed: a guess; take_claim's CAS decides (and acquires).
      if (!takeover && c.load(std::memory_order_relaxed) != 0) continue;
      if (take_claim(c) != 0) continue;  // a live holder (or a live reaper)
      a->claim = &c;  // ours now: released with the attachment, after the entry is freed
      shm::detail::watch_peer<&check_publisher>(a);  // its waits look at the publisher
      return ringwire::broadcast::subscriber<T, Sync>(std::move(ref), opt, from_oldest, scope, i);
    }
  }
  throw error(errc::too_many_subscribers, "all " + std::to_string(id.endpoints) +
                                              " subscriber entries of the segment are held by live processes");
}

}  // namespace detail

// What reap() released: the dead publisher's pid (0: none), and how many dead subscribers.
struct reaped {
  std::uint32_t publisher_pid = 0;
  std::uint32_t subscribers = 0;
  explicit operator bool() const noexcept { return publisher_pid != 0 || subscribers != 0; }
};

// The publishing end of the segment's broadcast ring (the policy is the segment's; opt's
// policy, max_subscribers and evict_lag are ignored, its wait strategies used). Throws
// ringwire::error: shm_kind_mismatch, shm_type_mismatch (T is not the segment's element
// type), shm_already_attached (a live process holds the publisher claim), invalid_options
// (seg not joined), shm_system_error (the segment's fence mode cannot be had here).
template <class T, class Sync = std_sync>
ringwire::broadcast::publisher<T, Sync> attach_publisher(const segment& seg,
                                                         const ringwire::broadcast::options& opt = {}) {
  const fence_scope scope = shm::detail::begin_attach<T, Sync>(seg, ringwire::broadcast::shm_kind);
  auto [ref, a] = detail::share_ring<Sync>(seg);
  detail::claim_t& claim = a->map.get()->hdr()->live.sender_claim;
  if (const std::uint32_t holder = detail::take_claim(claim); holder != 0) shm::detail::refuse_attached("publisher", holder);
  a->claim = &claim;  // ours now: released with the attachment, after the publisher's close
  shm::detail::watch_peer<&detail::check_subscribers>(a);  // its waits look at the subscribers
  auto* l = ref.get();
  detail::adopt_committed(l);
  // relaxed: no data flows through the flag; subscribers re-read it on their slow paths.
  l->control.closed.store(0, std::memory_order_relaxed);
  return ringwire::broadcast::publisher<T, Sync>(std::move(ref), opt, scope);
}

// A subscriber registered in the segment's registry, receiving every message published
// after it joined. Throws as attach_publisher, and too_many_subscribers when every entry's
// claim is held by a live process.
template <class T, class Sync = std_sync>
ringwire::broadcast::subscriber<T, Sync> attach_subscriber(const segment& seg,
                                                           const ringwire::broadcast::options& opt = {}) {
  return detail::attach_subscriber<T, Sync>(seg, opt, false);
}

// As attach_subscriber, but first replaying the live window (hub::subscribe_from_oldest,
// with its caveat for gated policies: subscriber.hpp).
template <class T, class Sync = std_sync>
ringwire::broadcast::subscriber<T, Sync> attach_subscriber_from_oldest(const segment& seg,
                                                                       const ringwire::broadcast::options& opt = {}) {
  return detail::attach_subscriber<T, Sync>(seg, opt, true);
}

// An observer: reads every message it keeps up with, without joining the registry or
// taking a claim, so it writes nothing to the segment -- open the segment with
// open_options::read_only and it cannot. It never holds the publisher back, on any policy:
// when it falls a ring behind it gets status::lagged with the exact count (subscriber.hpp,
// observe_only). It does not park (spin, yield or back off). from_oldest: start with the
// live window. Throws shm_kind_mismatch, shm_type_mismatch, invalid_options.
template <class T, class Sync = std_sync>
ringwire::broadcast::subscriber<T, Sync> attach_observer(const segment& seg, const ringwire::broadcast::options& opt = {},
                                                         bool from_oldest = false) {
  shm::detail::check_sync<Sync>();
  shm::detail::check_channel<T>(seg, ringwire::broadcast::shm_kind);
  const fence_scope scope = shm::detail::endpoint_scope(seg.info());
  auto [ref, a] = detail::share_ring<Sync>(seg);
  // No claim: the attachment holds only the mapping. Its waits look at the publisher when
  // the mapping is writable (a read-only one cannot close the ring).
  shm::detail::watch_peer<&detail::check_publisher>(a);
  return ringwire::broadcast::subscriber<T, Sync>(std::move(ref), opt, from_oldest, scope,
                                                  ringwire::broadcast::observe_only);
}

// A read-only view of the channel's counters (broadcast/stats.hpp, what hub::stats gives):
// claims nothing, any number of them. The slow-path counters count only endpoints made
// with options::metrics. Throws shm_kind_mismatch, invalid_options (seg not joined).
template <class Sync = std_sync>
ringwire::broadcast::monitor<Sync> make_monitor(const segment& seg) {
  shm::detail::check_sync<Sync>();
  if (!seg.joined()) throw error(errc::invalid_options, "a monitor for a segment that was left or never joined");
  shm::detail::require_kind(seg, ringwire::broadcast::shm_kind);
  return ringwire::broadcast::monitor<Sync>(detail::share_ring<Sync>(seg).first);
}

// The doorbell of subscriber `sub` of the segment (shm/doorbell.hpp): a descriptor for its
// process's epoll loop, readable when a publish or close follows sub.arm_doorbell(). Bind
// it before the first arm. Throws shm_kind_mismatch, invalid_options (an observer has no
// entry to ring), shm_already_attached, shm_system_error.
template <class T, class Sync>
doorbell make_doorbell(const segment& seg, const ringwire::broadcast::subscriber<T, Sync>& sub) {
  shm::detail::check_channel<T>(seg, ringwire::broadcast::shm_kind);
  const std::uint32_t entry = sub.registry_entry();
  if (entry >= seg.info().endpoints)
    throw error(errc::invalid_options, "a doorbell needs a registered subscriber (an observer cannot be rung)");
  const shm::detail::mapping_ref map = seg.share();
  auto* l = shm::detail::channel_of<detail::ring<std_sync>>(map);
  return shm::detail::bind_doorbell(map, &l->subscriber(entry).park);
}

// Crash recovery without a daemon (see the top of this header). Throws shm_kind_mismatch
// for a segment that is not broadcast, invalid_options for one not joined.
inline reaped reap(const segment& seg) {
  const shm::detail::mapping_ref map = shm::detail::begin_reap(seg, ringwire::broadcast::shm_kind);
  reaped out;
  out.subscribers = detail::reap_subscribers(*map.get());
  out.publisher_pid = detail::reap_publisher(*map.get());
  return out;
}

}  // namespace ringwire::shm::broadcast
