// ringwire/shm/mpsc.hpp -- an MPSC lanes channel between processes.
//
// The segment holds the very mpsc::layout an in-process channel uses (lane descriptors and
// max_producers SPSC lanes), and the endpoints are the very ringwire::mpsc::sender<T> (an
// spsc::sender owning one lane) and ringwire::mpsc::receiver<T>. What shared memory adds
// is who holds what, so that processes can come, go and crash:
//
//   - each lane i has a claim word in the segment's claims block (shm/claim.hpp): the pid
//     and start time of the process whose sender owns it. attach_sender takes the claim
//     of a lane first (CAS from 0, or over a dead holder) and only then touches the lane's
//     descriptor with the in-process registration protocol (mpsc/registrar.hpp:
//     try_claim, publish_lane); a lane whose descriptor cannot be claimed (its old sender's
//     messages are not drained yet) is released again and the next lane tried. Holding the
//     claim word is what makes a descriptor left "claimed" by a dead process safe to
//     finish: only that process could have been between claim and publish.
//   - the receiver claims the header's receiver_claim (one receiver at a time).
//   - registrars: the segment holds the one registrar (format_segment), so the receiver
//     never sees the stream end because producers left: producer processes come and go.
//     close_producers(seg) drops that registrar once; then the receiver sees closed when
//     every lane is drained and free, and no lane can be attached any more.
//
// Crash recovery, without a daemon. A producer that dies mid-send never advanced its
// lane's tail past the message it was writing, so that message is simply not there; every
// committed one is. reap(seg), from any process, finds lanes whose claim names a dead
// process and closes them as a clean sender close would (sender_closed, a wake for the
// receiver): the receiver drains what the dead producer committed, then recycles the
// lane. A dead receiver is closed the same way (every lane's receiver_closed, a wake for
// each parked sender), so no producer waits for ever on a full lane; a new receiver may
// attach and resume (its attach clears those flags). attach_sender also takes over a dead
// lane by itself. A live process is never reaped, however slow.
//
// TL;DR
//   auto seg = shm::segment::create("/logs", shm::mpsc_spec<entry>(4096, 8));      // 8 lanes
//   auto rx = shm::mpsc::attach_receiver<entry>(seg);                                // consumer
//   // in each producer process:
//   auto seg = shm::segment::open("/logs", shm::mpsc_spec<entry>(), {.wait = 5s});
//   auto tx = shm::mpsc::attach_sender<entry>(seg);   // its own lane: FIFO per producer
//   tx.send(e);
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "ringwire/mpsc.hpp"
#include "ringwire/mpsc/receiver.hpp"
#include "ringwire/mpsc/registrar.hpp"
#include "ringwire/mpsc/shm_contract.hpp"
#include "ringwire/shm/claim.hpp"
#include "ringwire/shm/doorbell.hpp"
#include "ringwire/shm/segment.hpp"
#include "ringwire/spsc/sender.hpp"

namespace ringwire::shm::mpsc {

namespace detail {

template <class Sync>
using lanes = ringwire::mpsc::layout<Sync>;

// Closes lane i of a process that is gone, as its sender's close would, when this process
// holds (or is reaping) the lane's claim. A descriptor left claimed (the dead process was
// between claim and publish) is published first, so the receiver's recycling applies.
template <class Sync>
void close_dead_lane(lanes<Sync>& l, std::uint64_t i, ringwire::detail::fence_scope scope) {
  auto& d = l.lane_descriptor(i);
  // acquire: the dead process's descriptor and ring work happen-before ours (its claim was
  // taken over with acquire too).
  const std::uint32_t s = d.state.load(std::memory_order_acquire);
  if (ringwire::mpsc::lane_kind(s) == ringwire::mpsc::lane_claimed) {
    (void)ringwire::mpsc::detail::publish_lane(l, i, s, scope);
  } else if (ringwire::mpsc::lane_kind(s) != ringwire::mpsc::lane_owned) {
    return;  // free: nothing was left behind
  }
  auto& ring = l.lane_ring(i);
  // release: the dead sender's last tail (its process is gone, so complete) is ordered
  // before the flag, which the receiver acquires before its last look at the tail.
  ring.consumer.sender_closed.store(1, std::memory_order_release);
  ringwire::detail::notify_close<Sync>(l.receiver.receiver_park, scope);
}

// Closes the channel for a receiver that is gone, as its close() would.
template <class Sync>
void close_dead_receiver(lanes<Sync>& l, ringwire::detail::fence_scope scope) {
  // relaxed: ordered by the fence below, which pairs with publish_lane's (registrar.hpp).
  l.receiver.receiver_closed.store(1, std::memory_order_relaxed);
  Sync::full_fence();
  for (std::uint64_t i = 0; i < l.max_producers(); ++i) {
    // acquire: a formatted lane's ring is ready.
    if (l.lane_descriptor(i).formatted.load(std::memory_order_acquire) == 0) continue;
    auto& ring = l.lane_ring(i);
    // relaxed: the notify below fences before it reads the sender's park word.
    ring.producer.receiver_closed.store(1, std::memory_order_relaxed);
    ringwire::detail::notify_close<Sync>(ring.consumer.producer_park, scope);
  }
}

// Reaps every lane whose sender's process is dead (close_dead_lane); how many. The reap
// paths fence for real (notify_close, publish_lane), so the plain cross-process scope
// serves whatever the segment's fence mode.
inline std::uint32_t reap_lanes(const shm::detail::mapping& m) noexcept {
  auto& l = *std::launder(reinterpret_cast<lanes<std_sync>*>(m.base + m.id.channel_offset));
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < m.id.endpoints; ++i) {
    shm::detail::claim_t& c = shm::endpoint_claim(m.base, m.id, i);
    if (shm::detail::seize_dead(c, *m.hdr()) == 0) continue;
    close_dead_lane(l, i, fence_scope::cross_process);
    shm::detail::release_claim(c);
    ++n;
  }
  return n;
}

// Reaps the receiver if its process is dead (close_dead_receiver); its pid, or 0.
inline std::uint32_t reap_receiver(const shm::detail::mapping& m) noexcept {
  auto& l = *std::launder(reinterpret_cast<lanes<std_sync>*>(m.base + m.id.channel_offset));
  shm::detail::claim_t& rc = m.hdr()->live.receiver_claim;
  const std::uint64_t v = shm::detail::seize_dead(rc, *m.hdr());
  if (v == 0) return 0;
  close_dead_receiver(l, fence_scope::cross_process);
  shm::detail::release_claim(rc);
  return claim_pid(v);
}

// The peer checks (wait.hpp): a sender's looks at the receiver, the receiver's at every lane.
inline bool check_receiver(const shm::detail::mapping& m) noexcept { return reap_receiver(m) != 0; }
inline bool check_lanes(const shm::detail::mapping& m) noexcept { return reap_lanes(m) != 0; }

// The receiver copies the lanes' geometry and a sender's lane is found through it: check it
// again at attach, against the private identity, since a live peer may have rewritten it
// after this process opened the segment. Throws shm_corrupt.
template <class Sync>
void recheck_geometry(const lanes<Sync>& l, const identity& id) {
  ringwire::mpsc::shm_contract::check_geometry(&l, id,
                                               [](const std::string& what) { throw error(errc::shm_corrupt, what); });
}

// False when lane i was formatted but its ring no longer has the geometry and indices the
// identity gives it (a live peer rewrote them): the sender copies them, so such a lane is
// never handed out (the receiver skips it too, mpsc/receiver.hpp lane_intact).
template <class Sync>
bool lane_usable(lanes<Sync>& l, std::uint32_t i, const identity& id) {
  // acquire: a lane formatted by another process is read after its format.
  if (l.lane_descriptor(i).formatted.load(std::memory_order_acquire) == 0) return true;
  auto* lane = reinterpret_cast<std::byte*>(&l.lane_ring(i));
  const auto park = reinterpret_cast<std::byte*>(&l.receiver.receiver_park) - lane;
  bool ok = true;
  ringwire::spsc::shm_contract::check_ring(lane, id.capacity, id.slot_size, id.slot_align,
                                           static_cast<std::int64_t>(park),
                                           ringwire::spsc::shm_contract::latency(id.policy), [&ok](const std::string&) { ok = false; });
  return ok;
}

}  // namespace detail

// The sending side: a sender owning a lane of its own (exactly an mpsc::sender, i.e. an
// spsc::sender). Any number of processes and threads may attach, up to the segment's
// lanes. Throws ringwire::error: too_many_producers (every lane has a live sender or
// undrained messages), shm_kind_mismatch, shm_type_mismatch, invalid_options (seg not
// joined, or close_producers() was called). When no receiver is attached (it detached, or
// was reaped) the sender reports closed, as in one process.
template <class T, class Sync = std_sync>
ringwire::mpsc::sender<T, Sync> attach_sender(const segment& seg, const ringwire::spsc::options& opt = {}) {
  const ringwire::detail::fence_scope scope = shm::detail::begin_attach<T, Sync>(seg, ringwire::mpsc::shm_kind);
  shm::detail::mapping_ref map = seg.share();
  auto& l = *shm::detail::channel_of<detail::lanes<Sync>>(map);
  detail::recheck_geometry(l, seg.info());
  // acquire: a close_producers() that happened stays visible (nothing more may attach).
  if (l.registry.registrars.load(std::memory_order_acquire) == 0)
    throw error(errc::invalid_options, "the channel's producers were closed (close_producers): no lane may attach");
  const identity id = seg.info();
  std::byte* base = map.get()->base;
  auto* a = shm::detail::attachment<Sync>::make(std::move(map));
  ringwire::detail::counted_ref<detail::lanes<Sync>, Sync> hold(&l, &a->own);  // releases `a`
  for (std::uint32_t i = 0; i < id.endpoints; ++i) {
    shm::detail::claim_t& c = shm::endpoint_claim(base, id, i);
    // relaxed: a hint; take_claim decides with a CAS.
    if (const std::uint64_t v = c.load(std::memory_order_relaxed); v != 0 && claim_pid(v) == claim_pid(shm::detail::my_claim()))
      continue;  // another endpoint of this process holds it
    const std::uint64_t before = c.load(std::memory_order_relaxed);  // relaxed: as above
    if (shm::detail::take_claim(c) != 0) continue;  // a live process holds it
    if (before != 0) detail::close_dead_lane(l, i, scope);  // we took it over from the dead
    std::uint32_t claimed = 0;
    // acquire (inside): the descriptor protocol of the in-process registrar.
    const std::uint32_t s = l.lane_descriptor(i).state.load(std::memory_order_acquire);
    const bool ours_already = ringwire::mpsc::lane_kind(s) == ringwire::mpsc::lane_claimed;
    if (ours_already) claimed = s;  // left claimed by a dead process whose claim we now hold
    if (!detail::lane_usable(l, i, id) || (!ours_already && !ringwire::mpsc::detail::try_claim(l, i, claimed))) {
      shm::detail::release_claim(c);  // not drained yet (or corrupt): try the next lane
      continue;
    }
    auto& ring = ringwire::mpsc::detail::publish_lane(l, i, claimed, scope);
    a->claim = &c;  // released with the attachment, after the sender's close
    shm::detail::watch_peer<&detail::check_receiver>(a);  // its waits look at the receiver
    a->own.retain();  // the sender's reference; `hold` drops its own at return
    return ringwire::mpsc::sender<T, Sync>(ringwire::spsc::detail::ring_ref<Sync>(&ring, &a->own), opt, scope);
  }
  throw error(errc::too_many_producers, "all " + std::to_string(id.endpoints) +
                                            " lanes of the segment have a live sender (or undrained messages)");
}

// The receiving side (one at a time). Throws shm_already_attached (a live process holds
// it), shm_kind_mismatch, shm_type_mismatch, invalid_options. Re-attaching after a clean
// detach or a reap resumes: the lanes' queued messages are still there.
template <class T, class Sync = std_sync>
ringwire::mpsc::receiver<T, Sync> attach_receiver(const segment& seg, const ringwire::spsc::options& opt = {}) {
  const ringwire::detail::fence_scope scope = shm::detail::begin_attach<T, Sync>(seg, ringwire::mpsc::shm_kind);
  shm::detail::mapping_ref map = seg.share();
  auto& l = *shm::detail::channel_of<detail::lanes<Sync>>(map);
  detail::recheck_geometry(l, seg.info());
  shm::detail::claim_t& c = map.get()->hdr()->live.receiver_claim;
  auto* a = shm::detail::attachment<Sync>::make(std::move(map));
  ringwire::detail::counted_ref<detail::lanes<Sync>, Sync> ref(&l, &a->own);  // releases `a`
  if (const std::uint32_t holder = shm::detail::take_claim(c); holder != 0)
    shm::detail::refuse_attached("receiver", holder);
  a->claim = &c;
  shm::detail::watch_peer<&detail::check_lanes>(a);  // its waits look at the senders
  // Reopen: a previous receiver's close (or reap) closed every lane for their senders.
  // relaxed: the flags carry no data; senders re-read them on their slow paths.
  l.receiver.receiver_closed.store(0, std::memory_order_relaxed);
  for (std::uint64_t i = 0; i < l.max_producers(); ++i)
    // acquire: a formatted lane's ring is ready.
    if (l.lane_descriptor(i).formatted.load(std::memory_order_acquire) != 0)
      l.lane_ring(i).producer.receiver_closed.store(0, std::memory_order_relaxed);  // relaxed: as above
  return ringwire::mpsc::receiver<T, Sync>(std::move(ref), opt, scope);
}

// A read-only view of the lanes' counters (mpsc/stats.hpp): claims nothing, any number of
// them. The slow-path counters count only endpoints made with options::metrics. Throws
// shm_kind_mismatch, shm_corrupt (the lanes' geometry was rewritten), invalid_options.
template <class Sync = std_sync>
ringwire::mpsc::monitor<Sync> make_monitor(const segment& seg) {
  shm::detail::check_sync<Sync>();
  if (!seg.joined()) throw error(errc::invalid_options, "a monitor for a segment that was left or never joined");
  shm::detail::require_kind(seg, ringwire::mpsc::shm_kind);
  shm::detail::mapping_ref map = seg.share();
  auto& l = *shm::detail::channel_of<detail::lanes<Sync>>(map);
  detail::recheck_geometry(l, seg.info());
  auto* a = shm::detail::attachment<Sync>::make(std::move(map));
  return ringwire::mpsc::monitor<Sync>(ringwire::detail::counted_ref<detail::lanes<Sync>, Sync>(&l, &a->own));
}

// Ends the stream: drops the segment's registrar, once. The receiver then sees closed when
// every sender has detached and every lane is drained; attach_sender is refused from now.
// Returns false when it was already closed. Throws shm_kind_mismatch, invalid_options.
inline bool close_producers(const segment& seg) {
  shm::detail::require_writable(seg, "closing producers");
  shm::detail::require_kind(seg, ringwire::mpsc::shm_kind);
  shm::detail::mapping_ref map = seg.share();
  auto& l = *shm::detail::channel_of<detail::lanes<std_sync>>(map);
  std::uint32_t one = 1;
  // acq_rel: every registration before it happens-before the receiver's acquire of zero.
  if (!l.registry.registrars.compare_exchange_strong(one, 0, std::memory_order_acq_rel, std::memory_order_relaxed))
    return false;
  ringwire::detail::notify_close<std_sync>(l.receiver.receiver_park, shm::detail::endpoint_scope(seg.info()));
  return true;
}

// The doorbell of the segment's receiver (shm/doorbell.hpp), rung by any lane's publish or
// close, a new lane and close_producers, after the receiver's arm_doorbell(). Throws as
// shm::spsc::make_doorbell.
inline doorbell make_doorbell(const segment& seg) {
  if (!seg.joined()) throw error(errc::invalid_options, "a doorbell for a segment that was left or never joined");
  shm::detail::require_kind(seg, ringwire::mpsc::shm_kind);
  const shm::detail::mapping_ref map = seg.share();
  auto& l = *shm::detail::channel_of<detail::lanes<std_sync>>(map);
  return shm::detail::bind_doorbell(map, &l.receiver.receiver_park);
}

// What reap() released.
struct reaped {
  std::uint32_t lanes = 0;         // lanes whose sender's process was dead
  std::uint32_t receiver_pid = 0;  // the dead receiver's pid, 0: none
  explicit operator bool() const noexcept { return lanes != 0 || receiver_pid != 0; }
};

// Crash recovery (see the top): closes every endpoint whose claim names a dead process.
// Any process that has the segment joined may call it, as often as it likes. Throws
// shm_kind_mismatch, invalid_options.
inline reaped reap(const segment& seg) {
  const shm::detail::mapping_ref map = shm::detail::begin_reap(seg, ringwire::mpsc::shm_kind);
  reaped out;
  out.lanes = detail::reap_lanes(*map.get());
  out.receiver_pid = detail::reap_receiver(*map.get());
  return out;
}

}  // namespace ringwire::shm::mpsc
