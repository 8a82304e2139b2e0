// ringwire/shm/claim.hpp -- who holds an endpoint of a shared-memory channel.
//
// Every attachable endpoint of a segment -- a header side word or a claims-block word, as
// its kind's claims table says (shm/contract.hpp) -- has one 64-bit claim word: 0 (free)
// or the holding process's pid and start time (claim_word), with claim_reaping set while
// a process reaps it. Being one word, it is read and swapped whole:
// whoever decides that a claim's process is dead decided it about exactly the value it then
// compare-and-swaps, and a dead process cannot claim again, so no ABA can hand the decision
// to a live one. A process attaches by taking the claim (from free, or over a dead holder),
// and releases it when its endpoint goes; reap() of each channel kind closes a dead
// holder's endpoint as a clean detach would.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/doorbell.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/shm/segment.hpp"

namespace ringwire::shm::detail {

using claim_t = std::atomic<std::uint64_t>;

// Takes the claim for this process: from free, or over a dead holder. Returns 0, or the
// live holder's pid when refused.
inline std::uint32_t take_claim(claim_t& c) {
  const std::uint64_t mine = my_claim();
  // relaxed: only a start value for the CAS, whose acquire orders what matters.
  std::uint64_t seen = c.load(std::memory_order_relaxed);
  for (int reaping_waits = 0;;) {
    if (seen != 0 && (seen & claim_reaping) != 0 && reaping_waits++ < 10'000 && claim_alive(seen)) {
      ::sched_yield();  // a live reaper is closing the side (microseconds): wait, then retry
      // relaxed: as above.
      seen = c.load(std::memory_order_relaxed);
      continue;
    }
    if (seen != 0 && (claim_pid(seen) == claim_pid(mine) || claim_alive(seen))) return claim_pid(seen);
    // acquire: the previous holder's last stores (its index, its close) happen-before ours.
    if (c.compare_exchange_weak(seen, mine, std::memory_order_acquire, std::memory_order_relaxed)) return 0;
  }
}

// A segment's rings are made of std::atomic words (32- and 64-bit): endpoints over them
// need a Sync policy whose atomics are exactly those (std_sync, spin_sync), not a model's.
template <class Sync>
constexpr void check_sync() noexcept {
  static_assert(std::is_same_v<typename Sync::template atomic<std::uint32_t>, std::atomic<std::uint32_t>> &&
                    std::is_same_v<typename Sync::template atomic<std::uint64_t>, std::atomic<std::uint64_t>>,
                "a segment's ring is made of std::atomic words: use std_sync or spin_sync");
}

// The wait family of a segment's endpoints (live word 140): parking (std_sync) or spinning
// (spin_sync). The first endpoint attached fixes it, and one of the other family is
// refused with errc::invalid_options: a spin_sync side never looks for a parked peer, so a
// std_sync side parked on it would sleep for ever instead of failing. A read-only mapping
// cannot fix it (it only checks). Monitors and broadcast observers, which neither wait on
// a peer nor wake one, are not checked.
inline constexpr std::uint32_t wait_family_parking = 1;
inline constexpr std::uint32_t wait_family_spinning = 2;

template <class Sync>
void fix_wait_family(const segment& seg) {
  constexpr std::uint32_t mine = Sync::parks ? wait_family_parking : wait_family_spinning;
  auto& word = seg.share().get()->hdr()->live.wait_family;
  // relaxed (all): the word publishes nothing else; its one modification order is enough
  // for every process to agree on the first family.
  std::uint32_t seen = word.load(std::memory_order_relaxed);
  if (seen == 0 && !seg.read_only()) (void)word.compare_exchange_strong(seen, mine, std::memory_order_relaxed);
  if (seen == 0 || seen == mine) return;
  throw error(errc::invalid_options,
              seen == wait_family_parking
                  ? "the segment's endpoints use std_sync and may park; a spin_sync endpoint never wakes a parked "
                    "peer: attach with std_sync"
                  : "the segment's endpoints use spin_sync and never wake a parked peer; a std_sync endpoint could "
                    "sleep for ever: attach with spin_sync");
}

// The doorbell of the park word `word` inside the mapping `map` (shm/doorbell.hpp): bound
// at the word's offset in the segment object, the name every waker derives.
inline doorbell bind_doorbell(const mapping_ref& map, const void* word) {
  const auto offset = static_cast<const std::byte*>(word) - map.get()->base;
  return doorbell::bind(map.get()->dev, map.get()->ino, static_cast<std::uint64_t>(offset));
}

// Refuses an attach whose claim a live process holds (`holder`, what take_claim returned):
// errc::shm_already_attached naming the endpoint and the holder.
[[noreturn]] inline void refuse_attached(const std::string& endpoint, std::uint32_t holder) {
  throw error(errc::shm_already_attached,
              "the " + endpoint + " is attached by pid " + std::to_string(holder) +
                  (holder == static_cast<std::uint32_t>(::getpid()) ? " (this process)" : " (alive)") +
                  "; it must detach first");
}

// Takes over a claim whose process is dead, for reaping: CAS to "reaping by me" (bit 31).
// Returns the dead value, or 0 when the claim is free, alive, or was just reaped or taken
// over by someone else (the CAS failed: two reapers never both act on one claim). A seized
// claim counts in the header's reaped word (shm::reaped_endpoints) before the caller
// closes the endpoint, so whoever acquires that close sees the count.
inline std::uint64_t seize_dead(claim_t& c, header& h) noexcept {
  // relaxed: the CAS below re-checks the value and acquires.
  std::uint64_t v = c.load(std::memory_order_relaxed);
  if (v == 0 || (claim_pid(v) == 0 && (v & claim_reaping) != 0) || claim_alive(v)) return 0;
  // acquire: the dead holder's last stores happen-before our close of its endpoint.
  if (!c.compare_exchange_strong(v, my_claim() | claim_reaping, std::memory_order_acquire, std::memory_order_relaxed))
    return 0;
  // relaxed: ordered before the close's release store that follows, which publishes it.
  h.live.reaped.fetch_add(1, std::memory_order_relaxed);
  return v;
}

// Releases a claim this process holds.
inline void release_claim(claim_t& c) noexcept {
  // release: this side's last slot accesses and index stores (and the endpoint's close)
  // happen-before the next attach's acquire of the claim.
  c.store(0, std::memory_order_release);
}

// One attached endpoint's (or monitor's) hold on a segment: this side's claim and the
// mapping. The first member is the owner the endpoint counts on.
template <class Sync>
struct attachment {
  ringwire::detail::owner<Sync> own;
  shm::detail::mapping_ref map;
  claim_t* claim;  // null: a monitor claims nothing

  static void release_all(ringwire::detail::owner<Sync>* o) noexcept {
    auto* a = reinterpret_cast<attachment*>(o);
    if (a->claim != nullptr) release_claim(*a->claim);
    delete a;  // drops the mapping reference
  }

  // A new attachment holding one reference to `map` and no claim yet (the caller stores
  // the claim once taken, so that the attachment releases it).
  static attachment* make(mapping_ref map) {
    auto* a = new attachment{{}, std::move(map), nullptr};
    a->own.release_all = &release_all;
    // relaxed: the attachment is not yet shared with another thread.
    a->own.refs.store(1, std::memory_order_relaxed);
    return a;
  }
};

// Gives the endpoint over attachment A (its first member the owner) a peer check (wait.hpp,
// "Peer check"): reap(mapping) seizes the claims of the endpoint's peer(s) whose process is
// dead, closes their endpoints as shm::<kind>::reap does, and says whether it closed one.
// A read-only mapping (an observer's) gets none: it may not write the closed flags.
template <class A, bool (*Reap)(const mapping&) noexcept>
bool check_peer_of(void* self) noexcept {
  return Reap(*reinterpret_cast<A*>(self)->map.get());  // `own` is A's first member
}
template <auto Reap, class A>
void watch_peer(A* a) noexcept {
  if (!a->map.get()->read_only) a->own.check_peer = &check_peer_of<A, Reap>;
}

// The segment's channel, of layout type L, after the checks of the attach functions.
template <class L>
L* channel_of(const mapping_ref& map) noexcept {
  return std::launder(reinterpret_cast<L*>(map.get()->base + map.get()->id.channel_offset));
}

// A counted reference to the segment's channel (a layout L), with an attachment that holds
// no claim yet: the endpoint made over it keeps the mapping, and its last reference
// releases the attachment (and the claim the caller may store in it).
template <class L, class Sync>
std::pair<ringwire::detail::counted_ref<L, Sync>, attachment<Sync>*> share_channel(const segment& seg) {
  mapping_ref map = seg.share();
  auto* l = channel_of<L>(map);
  auto* a = attachment<Sync>::make(std::move(map));
  return {ringwire::detail::counted_ref<L, Sync>(l, &a->own), a};  // from here the ref releases `a`
}

// Throws invalid_options unless `seg` is joined and mapped writable (`what`: the action).
inline void require_writable(const segment& seg, const char* what) {
  if (!seg.joined()) throw error(errc::invalid_options, std::string(what) + ": the segment was left or never joined");
  if (seg.read_only())
    throw error(errc::invalid_options, std::string(what) + ": the segment is mapped read-only (only observers attach)");
}

// Throws shm_kind_mismatch unless the joined `seg` holds a channel of kind `kind`.
inline void require_kind(const segment& seg, const channel_contract& kind) {
  if (seg.kind() != kind.kind)
    throw error(errc::shm_kind_mismatch,
                std::string("the segment holds a ") + seg.contract().name + " channel, not " + kind.name);
}

template <class T>
void check_channel(const segment& seg, const channel_contract& kind);

// Throws unless `seg` is joined, writable and holds a channel of kind `kind` (its
// contract) whose elements are T.
template <class T>
void check_attach(const segment& seg, const channel_contract& kind) {
  require_writable(seg, "attaching");
  check_channel<T>(seg, kind);
}

// Throws unless `seg` is joined and holds a channel of kind `kind` (its contract) whose
// elements are T.
template <class T>
void check_channel(const segment& seg, const channel_contract& kind) {
  static_assert(std::is_trivially_copyable_v<T>,
                "shared-memory channels carry bytes: T must be trivially copyable");
  if (!seg.joined()) throw error(errc::invalid_options, "attaching to a segment that was left or never joined");
  require_kind(seg, kind);
  const identity& id = seg.info();
  const channel_spec want = element_spec<T>(kind, 0);
  const bool tag_ok = caller_checks_tag<T>::value || id.type_tag == want.type_tag;
  if (id.slot_size != want.slot_size || id.slot_align != want.slot_align || !tag_ok)
    throw error(errc::shm_type_mismatch, "the segment's elements are " + std::to_string(id.slot_size) +
                                             " bytes aligned to " + std::to_string(id.slot_align) + " with type tag " +
                                             std::to_string(id.type_tag) + "; T is " + std::to_string(want.slot_size) +
                                             " / " + std::to_string(want.slot_align) + " / " +
                                             std::to_string(want.type_tag));
}

// What an attach of a claiming endpoint (a sender, receiver, publisher or subscriber) does
// first: checks the Sync, the segment and T (check_attach), takes the fence scope of this
// process's endpoints (endpoint_scope), then fixes or checks the wait family. Returns the
// scope.
template <class T, class Sync>
ringwire::detail::fence_scope begin_attach(const segment& seg, const channel_contract& kind) {
  check_sync<Sync>();
  check_attach<T>(seg, kind);
  const ringwire::detail::fence_scope scope = endpoint_scope(seg.info());
  fix_wait_family<Sync>(seg);
  return scope;
}

// What every reap() does first: throws unless `seg` is joined, writable and holds a channel
// of kind `kind`; then the mapping the reap works on.
inline mapping_ref begin_reap(const segment& seg, const channel_contract& kind) {
  require_writable(seg, "reaping");
  require_kind(seg, kind);
  return seg.share();
}

}  // namespace ringwire::shm::detail

namespace ringwire::shm {

// How many endpoints of the segment were found dead and reaped since it was created: by
// any process's reap() or recover(), or by a waiting endpoint's peer check (wait.hpp). A
// close that comes with a grown count is a crash, not a detach: read it when an endpoint
// attaches and again when it reports closed. The count grows before the reaped endpoint's
// close is stored, so a call that saw the close sees the count. Throws invalid_options
// (seg not joined).
inline std::uint32_t reaped_endpoints(const segment& seg) {
  if (!seg.joined()) throw error(errc::invalid_options, "reaped_endpoints: the segment was left or never joined");
  // relaxed: see above; the close's acquire, or nothing, orders it.
  return seg.share().get()->hdr()->live.reaped.load(std::memory_order_relaxed);
}

}  // namespace ringwire::shm
