// ringwire/shm/byte_broadcast.hpp -- the lossy byte broadcast ring between processes
// (segment kind 5).
//
// The segment holds the very byte_broadcast::layout a heap ring uses (metadata ring +
// payload region, byte_broadcast/layout.hpp), and the endpoints are the very
// byte_broadcast::writer and reader. Shared memory adds who holds what:
//
//   writer           one at a time: it takes the header's sender_claim. Attaching resumes
//                    the sequence where the ring stands (the writer's constructor starts
//                    after head, its next chunk at dirty), first adopting message head + 1
//                    if its entry is already committed (a predecessor killed between its
//                    commit and its head store), and reopens the ring (closed = 0).
//                    Detaching closes it: readers drain what is still valid, then see closed.
//   lossy reader     no claim, no registry entry, no store to the segment at all: it works on
//                    a read-only mapping (open_options::read_only). Any number of them, in
//                    any process. Falling behind costs it messages, and it learns exactly
//                    how many (a status::lagged result's missed()).
//   credited reader  a lossless reader (rings formatted with max_credited > 0): it holds
//                    claim word i of the segment's claims block and with it credit entry i
//                    of the ring -- claim i is the lock on entry i, so a dead holder's entry
//                    can be found and freed. It publishes its cursor (the next sequence it
//                    has not consumed) after every read, and the writer never overwrites
//                    what a live credited reader has not consumed (writer.hpp, credits).
//
// Joining as a credited reader: take claim i (a free one, else one whose holder is dead),
// then byte_broadcast::credited_reader's join at the chosen entry i (reader.hpp): mark
// entry i live (exchange: a dead holder's entry may still be live; it is ours now, claim i
// being the lock on it), store a provisional cursor (a dead holder's may be ahead of our
// start), a full fence, read head, start at head + 1 and store that cursor (release). The
// fence is a Dekker pair with the full fence that begins the writer's first registry
// rescan after each head store -- either the rescan sees our live entry, or we read a head
// at least as new as the one before it. Both halves are real fences, so the pair holds
// across processes whatever the segment's fence mode: an asymmetric segment needs no heavy
// (membarrier) fence here, as the writer never takes the light half in its rescan. After
// each read: store the cursor (release), then wait.hpp's notify of writer_park.
// attach_credited_reader returns that byte_broadcast::credited_reader, built over a reader
// whose ring reference owns the segment attachment (and with it the claim). Leaving (its
// destructor): entry free (release), a full fence and a wake of writer_park; then its
// reader member is destroyed, dropping the attachment: the claim goes 0 (release) only
// after the entry is free.
//
// Waiting. Endpoints get the segment's fence scope, so a reader or writer that parks
// (wait_strategy::park) sleeps on a process-shared futex in the ring and is woken from
// any process: readers on the ring's bell, a writer waiting for credits on writer_park
// (layout.hpp, "Parking"). A parking reader flags the bell in the ring, so on a read-only
// mapping attach_reader marks the reader read-only (reader::mark_read_only): park then
// spins and yields instead.
//
// Crash recovery. reap(seg), from any process with a writable mapping: a claim whose
// process is dead becomes the reaper's (bit 31 set); a dead credited reader's entry is freed
// and a writer parked for its credits is woken; a dead writer's ring is closed and parked
// readers are woken (they drain every committed message, then see closed; one it was
// writing when killed has an odd stamp and is never delivered). Then the claim is 0.
//
// Caveat: a segment reader's credited() (byte_broadcast::reader) would join a credit entry
// without a claim -- use attach_credited_reader instead (on a read-only mapping credited()
// throws invalid_options).
//
// TL;DR
//   namespace bb = ringwire::byte_broadcast;
//   const bb::geometry g{.depth = 4096, .region_bytes = 1 << 22, .max_message = 64 << 10, .max_credited = 4};
//   auto seg = shm::segment::create("/md", shm::byte_broadcast_spec(g));               // writer process
//   auto w = shm::byte_broadcast::attach_writer(seg);
//   w.write(sig, bytes);
//   auto seg = shm::segment::open("/md", shm::byte_broadcast_spec(g), {.read_only = true});  // any reader
//   auto r = shm::byte_broadcast::attach_reader(seg);          // lossy
//   auto c = shm::byte_broadcast::attach_credited_reader(seg);  // lossless (writable mapping)
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/byte_broadcast/credited_reader.hpp"
#include "ringwire/byte_broadcast/reader.hpp"
#include "ringwire/byte_broadcast/shm_contract.hpp"
#include "ringwire/byte_broadcast/writer.hpp"
#include "ringwire/shm/claim.hpp"
#include "ringwire/shm/segment.hpp"

namespace ringwire::shm::byte_broadcast {

using ringwire::byte_broadcast::geometry;
using ringwire::byte_broadcast::options;
using ringwire::byte_broadcast::read_result;
using ringwire::byte_broadcast::start_at;

namespace detail {

using shm::detail::attachment;
using shm::detail::claim_t;

template <class Sync>
using ring = ringwire::byte_broadcast::layout<Sync>;
template <class Sync>
using ring_ref = ringwire::byte_broadcast::detail::ring_ref<Sync>;

using shm::detail::check_sync;

// Throws unless `seg` is joined and holds a byte broadcast ring (and, for `writable`, is
// mapped writable).
inline void check(const segment& seg, bool writable) {
  if (writable) shm::detail::require_writable(seg, "attaching");
  if (!seg.joined()) throw error(errc::invalid_options, "attaching to a segment that was left or never joined");
  shm::detail::require_kind(seg, ringwire::byte_broadcast::shm_kind);
}

// A counted reference to the segment's ring, with an attachment that holds no claim yet.
template <class Sync>
std::pair<ring_ref<Sync>, attachment<Sync>*> share_ring(const segment& seg) {
  return shm::detail::share_channel<ring<Sync>, Sync>(seg);
}

// The endpoints get the segment's fence scope (process-shared futexes, the fences the
// segment's fence mode asks for) where their constructors take one; without it they use
// real fences and never park, which pairs with anything.
template <class Sync>
ringwire::byte_broadcast::writer<Sync> make_writer(ring_ref<Sync> ref, [[maybe_unused]] fence_scope scope,
                                                   const options& opt) {
  using W = ringwire::byte_broadcast::writer<Sync>;
  if constexpr (std::is_constructible_v<W, ring_ref<Sync>, fence_scope, const options&>)
    return W(std::move(ref), scope, opt);
  else return W(std::move(ref));
}
template <class Sync>
ringwire::byte_broadcast::reader<Sync> make_reader(ring_ref<Sync> ref, const geometry& g, start_at from,
                                                   [[maybe_unused]] fence_scope scope, const options& opt) {
  using R = ringwire::byte_broadcast::reader<Sync>;
  if constexpr (std::is_constructible_v<R, ring_ref<Sync>, const geometry&, start_at, fence_scope, const options&>)
    return R(std::move(ref), g, from, scope, opt);
  else return R(std::move(ref), g, from);
}

// Whether the ring has park words (layout version 2: readers park on `bell`, flagged in
// `parked`; a writer waiting for credits parks on `writer_park`).
template <class L>
concept has_park_words = requires(L& l) {
  l.control.parked;
  l.control.bell;
  l.control.writer_park;
};

// Wakes every reader parked on the ring's bell (a reap of the writer: the rare path).
template <class Sync>
void ring_bell(ring<Sync>* l, fence_scope scope) noexcept {
  if constexpr (has_park_words<ring<Sync>> && Sync::parks) {
    Sync::full_fence();  // our closed flag before the parked load (the Dekker pair, layout.hpp)
    // relaxed: ordered after the closed store by the fence.
    if (l->control.parked.load(std::memory_order_relaxed) == 0) return;
    // relaxed: clears the flag for the sleepers this ring wakes (layout.hpp "Parking").
    if (l->control.parked.exchange(0, std::memory_order_relaxed) == 0) return;
    // release: a reader whose bell load sees the bump sees the closed flag in its re-check.
    l->control.bell.fetch_add(1, std::memory_order_release);
    Sync::unpark_all(l->control.bell, scope);
  } else {
    (void)l;
    (void)scope;
  }
}

// Wakes a writer parked for credits after freeing a dead reader's entry (reap: a rare
// path, so a real fence; the live readers' own notify is in byte_broadcast/reader.hpp).
template <class Sync>
void notify_writer(ring<Sync>* l, fence_scope scope) noexcept {
  if constexpr (has_park_words<ring<Sync>>) {
    ringwire::detail::notify_close<Sync>(l->control.writer_park, scope);
  } else {
    (void)l;
    (void)scope;
  }
}

// Adopts message head + 1 if a dead predecessor committed it but died before storing head.
// Needs the writer claim. `depth` is the validated one.
template <class Sync>
void adopt_committed(ring<Sync>* l, std::uint64_t depth) noexcept {
  // acquire: the predecessor's stores were acquired by our claim CAS already; this orders
  // the stamp load after the head we start from.
  const std::uint64_t n = l->head.head.load(std::memory_order_acquire) + 1;
  // acquire: a committed stamp makes its entry and payload stores visible before our head.
  if (l->meta(n & (depth - 1)).stamp.load(std::memory_order_acquire) == ring<Sync>::committed(n)) {
    // release: the adopted message's commit happens-before a reader's acquire of head.
    l->head.head.store(n, std::memory_order_release);
  }
}

// Frees the entry of every credited reader whose process is dead; how many.
inline std::uint32_t reap_readers(const shm::detail::mapping& m) noexcept {
  auto* l = std::launder(reinterpret_cast<ring<std_sync>*>(m.base + m.id.channel_offset));
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < m.id.endpoints; ++i) {
    claim_t& c = endpoint_claim(m.base, m.id, i);
    if (shm::detail::seize_dead(c, *m.hdr()) == 0) continue;
    // release: frees the entry as the reader's own leave would; the writer's next rescan
    // (it polls: nothing to wake) no longer counts the dead cursor.
    l->credit(i).state.store(ring<std_sync>::credit_free, std::memory_order_release);
    // release: the free entry happens-before the next holder's acquire of the claim.
    c.store(0, std::memory_order_release);
    // A writer parked on the dead cursor: a real fence, then a wake (process-shared).
    notify_writer<std_sync>(l, fence_scope::cross_process);
    ++n;
  }
  return n;
}

// Closes the ring if the writer's process is dead, as its detach would; its pid, or 0.
inline std::uint32_t reap_writer(const shm::detail::mapping& m) noexcept {
  auto* l = std::launder(reinterpret_cast<ring<std_sync>*>(m.base + m.id.channel_offset));
  claim_t& wc = m.hdr()->live.sender_claim;
  const std::uint64_t dead = shm::detail::seize_dead(wc, *m.hdr());
  if (dead == 0) return 0;
  // acquire: the dead writer's last head store (and every commit before it) happens-
  // before our closed flag, so a reader that acquires the flag sees those commits.
  (void)l->head.head.load(std::memory_order_acquire);
  // release: pairs with the readers' acquire of the flag (reader.hpp, poll).
  l->control.closed.store(1, std::memory_order_release);
  ring_bell<std_sync>(l, fence_scope::cross_process);  // readers parked on the bell
  // release: the close happens-before the next writer's acquire of the claim, so its
  // reopening comes after our close, never before.
  wc.store(0, std::memory_order_release);
  return claim_pid(dead);
}

// The peer checks (wait.hpp): the writer's looks at the credited readers, a reader's at
// the writer.
inline bool check_readers(const shm::detail::mapping& m) noexcept { return reap_readers(m) != 0; }
inline bool check_writer(const shm::detail::mapping& m) noexcept { return reap_writer(m) != 0; }

}  // namespace detail

// The ring's geometry, as the segment's validated identity records it.
inline geometry geometry_of(const segment& seg) {
  detail::check(seg, false);
  return ringwire::byte_broadcast::shm_contract::geometry_of(seg.info());
}

// The writer (one at a time). Resumes the sequence; reopens a closed ring. Throws
// ringwire::error: shm_kind_mismatch, shm_already_attached (a live process holds the writer
// claim), invalid_options (not joined, or read-only), shm_system_error (the segment's
// fence mode cannot be had in this process).
template <class Sync = std_sync>
ringwire::byte_broadcast::writer<Sync> attach_writer(const segment& seg, const options& opt = {}) {
  shm::detail::check_sync<Sync>();
  detail::check(seg, true);
  const fence_scope scope = shm::detail::endpoint_scope(seg.info());
  shm::detail::fix_wait_family<Sync>(seg);
  auto [ref, a] = detail::share_ring<Sync>(seg);
  detail::claim_t& claim = a->map.get()->hdr()->live.sender_claim;
  if (const std::uint32_t holder = shm::detail::take_claim(claim); holder != 0)
    shm::detail::refuse_attached("byte broadcast writer", holder);
  a->claim = &claim;  // ours now: released with the attachment, after the writer's close
  shm::detail::watch_peer<&detail::check_readers>(a);  // its waits look at the credited readers
  auto* l = ref.get();
  // The writer takes its geometry from the ring's own header: checked again now, against
  // the identity validated at open (a peer may have written it since).
  ringwire::byte_broadcast::shm_contract::check_ring(l, seg.info());  // a live peer may have rewritten it
  detail::adopt_committed(l, seg.info().capacity);
  // relaxed: no data flows through the flag; readers re-read it whenever they find no
  // message, and our commits carry their own release.
  l->control.closed.store(0, std::memory_order_relaxed);
  return detail::make_writer<Sync>(std::move(ref), scope, opt);
}

// A lossy reader: no claim, no entry, no store -- it works on a read-only mapping (as long
// as it does not park: wait_strategy::park counts it in the ring). Starts at the next
// message (start_at::next) or the oldest one the ring may still hold. Its bounds come from
// the validated identity. Throws shm_kind_mismatch, invalid_options, shm_system_error
// (the segment's fence mode cannot be had in this process).
template <class Sync = std_sync>
ringwire::byte_broadcast::reader<Sync> attach_reader(const segment& seg, start_at from = start_at::next,
                                                     const options& opt = {}) {
  shm::detail::check_sync<Sync>();
  detail::check(seg, false);
  const fence_scope scope = shm::detail::endpoint_scope(seg.info());
  shm::detail::fix_wait_family<Sync>(seg);
  auto [ref, a] = detail::share_ring<Sync>(seg);
  // No claim: the attachment holds only the mapping. Its waits look at the writer when the
  // mapping is writable (a read-only one cannot close the ring).
  shm::detail::watch_peer<&detail::check_writer>(a);
  auto r = detail::make_reader<Sync>(std::move(ref), ringwire::byte_broadcast::shm_contract::geometry_of(seg.info()),
                                     from, scope, opt);
  if (seg.read_only()) r.mark_read_only();  // park spins instead, credited() throws: no store
  return r;
}

// A credited (lossless) reader holding claim i and credit entry i of the segment (see the
// top): byte_broadcast::credited_reader itself (entry() is i). Move-only; destroying it
// frees the entry, then the claim. While its writer uses credits, lagged does
// not happen.
template <class Sync = std_sync>
using credited_reader = ringwire::byte_broadcast::credited_reader<Sync>;

// A credited reader starting at the next message. Throws shm_kind_mismatch,
// invalid_options (not joined, read-only, or a ring without credits), too_many_subscribers
// (every claim is held by a live process), shm_system_error (fence mode).
template <class Sync = std_sync>
credited_reader<Sync> attach_credited_reader(const segment& seg, const options& opt = {}) {
  shm::detail::check_sync<Sync>();
  detail::check(seg, true);
  const identity& id = seg.info();
  if (id.endpoints == 0)
    throw error(errc::invalid_options, "the segment's byte broadcast ring was created without credited readers "
                                       "(max_credited 0)");
  const fence_scope scope = shm::detail::endpoint_scope(id);
  shm::detail::fix_wait_family<Sync>(seg);
  auto [ref, a] = detail::share_ring<Sync>(seg);
  std::byte* const base = a->map.get()->base;
  // Two passes: free claims first (a load each), then takeover of dead holders (each a look
  // at /proc).
  for (const bool takeover : {false, true}) {
    for (std::uint32_t i = 0; i < id.endpoints; ++i) {
      detail::claim_t& c = endpoint_claim(base, id, i);
      // relaxed: a guess; take_claim's CAS decides (and acquires).
      if (!takeover && c.load(std::memory_order_relaxed) != 0) continue;
      if (shm::detail::take_claim(c) != 0) continue;  // a live holder (or a live reaper)
      a->claim = &c;  // ours now: released with the attachment, after the entry is freed
      shm::detail::watch_peer<&detail::check_writer>(a);  // its waits look at the writer
      // The reader's ring reference owns the attachment: the credited reader keeps a copy of
      // it, which it drops after freeing the entry; this one is dropped on return. (Should
      // the join throw, the attachment is dropped with both, and the claim with it.)
      const auto base = detail::make_reader<Sync>(
          std::move(ref), ringwire::byte_broadcast::shm_contract::geometry_of(id), start_at::next, scope, opt);
      return credited_reader<Sync>(base, i);
    }
  }
  throw error(errc::too_many_subscribers, "all " + std::to_string(id.endpoints) +
                                              " credited reader entries of the segment are held by live processes");
}

// A read-only view of the ring's counters (byte_broadcast/stats.hpp): claims nothing, writes
// nothing (a read-only mapping will do), any number of them. The head, close flag and
// credited cursors are exact; the slow-path counters count only endpoints made with
// options::metrics. Throws shm_kind_mismatch, invalid_options (seg not joined).
template <class Sync = std_sync>
ringwire::byte_broadcast::monitor<Sync> make_monitor(const segment& seg) {
  shm::detail::check_sync<Sync>();
  detail::check(seg, false);
  return ringwire::byte_broadcast::monitor<Sync>(detail::share_ring<Sync>(seg).first);
}

// What reap() released: the dead writer's pid (0: none), and how many dead credited readers.
struct reaped {
  std::uint32_t writer_pid = 0;
  std::uint32_t credited_readers = 0;
  explicit operator bool() const noexcept { return writer_pid != 0 || credited_readers != 0; }
};

// Crash recovery without a daemon (see the top). Throws shm_kind_mismatch,
// invalid_options (not joined, or read-only).
inline reaped reap(const segment& seg) {
  shm::detail::require_writable(seg, "reaping");
  detail::check(seg, true);
  const shm::detail::mapping_ref map = seg.share();
  reaped out;
  out.credited_readers = detail::reap_readers(*map.get());
  out.writer_pid = detail::reap_writer(*map.get());
  return out;
}

}  // namespace ringwire::shm::byte_broadcast
