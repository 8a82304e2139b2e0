// ringwire/shm/byte_ring.hpp -- byte rings (variable-length typed records) between processes.
//
// The segment holds the very byte_ring::layout a heap ring uses, and the endpoints are the
// very byte_ring::writer, shared_writer and reader. Shared memory adds who holds what:
//
//   one-to-one   the writer claims the header's sender_claim, the reader its receiver_claim
//                (one of each at a time). Detaching the writer closes the stream for the
//                reader once drained, as on the heap; attaching a writer reopens it (the
//                ring's open-writer count goes back to 1), attaching a reader clears
//                reader_closed. A reservation never committed is never visible: the tail
//                moves only at commit.
//   many-to-one  each writer process attaches with a claim word of its own (the segment's
//                claims block) and counts once in the ring's open-writer count, however
//                many copies of its shared_writer its threads make; the segment itself holds
//                one more, dropped by close_writers(), so the reader sees the end only when
//                the producers say so and every writer process has detached. A writer's
//                in-progress headers carry its claim index + 1 in their type half.
//
// Crash recovery. reap(seg), from any process, closes endpoints whose claim names a dead
// process: a dead one-to-one writer (as its detach would), a dead reader (writers see
// closed), a dead many-to-one writer (its open-writer count is dropped, and its claim word
// becomes "abandoned": bit 31 set, pid 0, bits 32..63 the low half of the ring's tail when
// it was reaped). A many-to-one writer killed between claiming room and committing leaves
// an in-progress record that would stop the reader for ever; recover(seg, reader) -- to be
// called by the reader's process, e.g. when a read times out -- reaps, then turns every
// in-progress record at the read position whose writer is dead or abandoned into padding
// (skipping exactly the uncommitted record: nothing committed is lost, nothing torn is
// read), and frees an abandoned claim once the reader has passed the tail recorded in it,
// since no record of the dead writer can lie beyond it. An attach never takes a dead or
// abandoned claim over directly (it reaps it and moves on), so a new writer never carries
// a dead one's tag while its records may still be ahead of the reader.
//
// Killed between claim and header (many-to-one). A writer killed between its claim (the
// CAS on tail) and its "-length" header store leaves a zero header below the tail. Every
// writer handle announces the room it is about to claim in its writer span (segment
// words after the claims block; shared_writer.hpp, announce()) before the CAS, so
// recover() pads such a header up to the nearest end among the abandoned claims' spans
// that cover it, and waits while another claim's span covers it (detail::orphan_end;
// models/shm_skip.pml). A reader killed in the middle of release()'s zeroing leaves zero
// headers between head and the head it was releasing up to (layout consumer.releasing,
// stored before the zeroing): the next attach_reader finishes that release
// (reader::finish_interrupted_release). (One-to-one readers here do not zero:
// reader::keep_consumed_bytes; their successor reads the unreleased records again.)
//
// TL;DR
//   auto seg = shm::segment::create("/log", shm::byte_ring_spec(1 << 20, byte_ring::ring_kind::many_to_one, 8));
//   auto rx = shm::byte_ring::attach_reader(seg);
//   // in each producer process:
//   auto w = shm::byte_ring::attach_shared_writer(seg);      // copy it for more threads
//   w.try_write(7, bytes);
//   // consumer:  while (rx.read_for(r, 1s) != status::closed) { if (ok) use(r); else shm::byte_ring::recover(seg, rx); }
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "ringwire/byte_ring/reader.hpp"
#include "ringwire/byte_ring/shm_contract.hpp"
#include "ringwire/byte_ring/writer.hpp"
#include "ringwire/shm/claim.hpp"
#include "ringwire/shm/doorbell.hpp"
#include "ringwire/shm/segment.hpp"

namespace ringwire::shm::byte_ring {

using ringwire::byte_ring::ring_kind;

namespace detail {

using ring = ringwire::byte_ring::layout<std_sync>;

// A many-to-one writer process's hold: its claim and its one open-writer count.
struct writer_attachment {
  ringwire::detail::owner<std_sync> own;  // first member: release_all casts back
  shm::detail::mapping_ref map;
  shm::detail::claim_t* claim;
  ring* r;
  ringwire::detail::fence_scope scope;
  ringwire::byte_ring::detail::span_pool<std_sync> spans;  // the claim's writer spans

  static void release_all(ringwire::detail::owner<std_sync>* o) noexcept {
    auto* a = reinterpret_cast<writer_attachment*>(o);
    // release: every commit and abort of this process's writers happens-before the reader's
    // acquire load that sees the count reach 0.
    if (a->r->consumer.writers.fetch_sub(1, std::memory_order_release) == 1)
      ringwire::detail::notify_close<std_sync>(a->r->producer.reader_park, a->scope);
    shm::detail::release_claim(*a->claim);  // after the count: a new writer counts anew
    delete a;
  }
};

inline void check(const segment& seg, ring_kind kind) {
  shm::detail::require_writable(seg, "using the byte ring");
  shm::detail::require_kind(seg, ringwire::byte_ring::shm_kind);
  const identity& id = seg.info();
  if (id.policy != static_cast<std::uint32_t>(kind))
    throw error(errc::shm_kind_mismatch, std::string("the segment's byte ring is ") +
                                             (id.policy == 1 ? "one-to-one" : "many-to-one") + ", not " +
                                             (kind == ring_kind::one_to_one ? "one-to-one" : "many-to-one"));
}

// An abandoned many-to-one claim (see the top): no process, bit 31, the tail's low half.
constexpr std::uint64_t abandoned_claim(std::uint64_t tail) noexcept { return (tail & 0xffff'ffffu) << 32 | claim_reaping; }
constexpr bool is_abandoned(std::uint64_t v) noexcept { return claim_pid(v) == 0 && (v & claim_reaping) != 0; }

// Closes the endpoint a dead process held through claim `c` of the segment whose header is
// `h`; true when `c` named a dead process and we (not a concurrent reaper or attach) closed
// it. An abandoned claim is not a process: left alone.
inline bool reap_claim(shm::detail::claim_t& c, header& h, ring& r, bool many_writer, bool reader_side,
                       ringwire::detail::fence_scope scope) noexcept {
  if (shm::detail::seize_dead(c, h) == 0) return false;
  if (reader_side) {
    // release: pairs with the writers' acquire of the flag.
    r.producer.reader_closed.store(1, std::memory_order_release);
    ringwire::detail::notify_close<std_sync>(r.consumer.writer_park, scope);
    shm::detail::release_claim(c);
    return true;
  }
  if (many_writer) {
    // release: as a detach's drop of its count (the wake below covers a last one).
    r.consumer.writers.fetch_sub(1, std::memory_order_release);
    // relaxed: the tail only bounds where the dead writer's records can lie.
    const std::uint64_t tail = r.producer.tail.load(std::memory_order_relaxed);
    // release: our count drop happens-before whoever frees the abandoned claim.
    c.store(abandoned_claim(tail), std::memory_order_release);
  } else {
    // release: the dead writer's commits (complete: it is gone) before the reader's acquire.
    r.consumer.writers.store(0, std::memory_order_release);
    shm::detail::release_claim(c);
  }
  ringwire::detail::notify_close<std_sync>(r.producer.reader_park, scope);  // the reader may be waiting on it
  return true;
}

// The peer checks (wait.hpp): a writer's waits look at the reader, the reader's at the
// writer(s), as reap() would. Reaping only: an in-progress record a dead many-to-one writer
// left at the read position is still recover()'s to skip (it moves the reader's position,
// which the check does not hold), so a reader that sees timed_out calls recover().
inline bool check_reader(const shm::detail::mapping& m) noexcept {
  auto* r = std::launder(reinterpret_cast<ring*>(m.base + m.id.channel_offset));
  return reap_claim(m.hdr()->live.receiver_claim, *m.hdr(), *r, false, true, fence_scope::cross_process);
}
inline bool check_writers(const shm::detail::mapping& m) noexcept {
  auto* r = std::launder(reinterpret_cast<ring*>(m.base + m.id.channel_offset));
  if (m.id.policy != static_cast<std::uint32_t>(ring_kind::many_to_one))
    return reap_claim(m.hdr()->live.sender_claim, *m.hdr(), *r, false, false, fence_scope::cross_process);
  bool any = false;
  for (std::uint32_t i = 0; i < m.id.endpoints; ++i)
    any = reap_claim(shm::endpoint_claim(m.base, m.id, i), *m.hdr(), *r, true, false, fence_scope::cross_process) || any;
  return any;
}

// A zero header at byte position `at`, below the tail (reader::skip_abandoned): the end of
// the room a dead writer claimed there, or `at` when that is not known. Every writer handle
// announces the room it is about to claim in its writer span before its CAS on the tail
// (byte_ring/shared_writer.hpp, announce()), so the claim covering `at` is in some span:
//   - a span of a claim not abandoned covers `at`: a live (or not yet reaped) writer may
//     own it and store its header any moment -- not known;
//   - else the nearest end among the abandoned claims' spans that cover `at`. A dead
//     writer's span may be stale (its last CAS failed, then it died), naming room another
//     writer won; but the true owner's span is among them and its room is unwritten from
//     `at` on, so padding up to the nearest end never reaches past it. What remains of the
//     owner's room is found the same way at the next position.
// Spans are read with acquire (announce() stores them with release): a live writer's span
// that moved on means its header at `at` is visible, and the caller's CAS from 0 fails.
inline std::uint64_t orphan_end(std::byte* base, const identity& id, std::uint64_t at) noexcept {
  auto covers = [at](std::uint64_t start, std::uint64_t end) {
    return static_cast<std::int64_t>(at - start) >= 0 && static_cast<std::int64_t>(end - at) > 0;
  };
  std::uint64_t nearest = at;
  for (std::uint32_t i = 0; i < id.endpoints; ++i) {
    // acquire: the reaper's abandoned value (after its count drop), as in recover().
    const bool abandoned = is_abandoned(shm::endpoint_claim(base, id, i).load(std::memory_order_acquire));
    for (std::uint32_t k = 0; k < ringwire::byte_ring::shm_contract::spans_per_writer; ++k) {
      auto* w = shm::byte_ring_writer_span(base, id, i, k);
      // acquire (both): see above.
      const std::uint64_t start = w[0].load(std::memory_order_acquire);
      const std::uint64_t end = w[1].load(std::memory_order_acquire);
      if (!covers(start, end)) continue;
      if (!abandoned) return at;
      if (nearest == at || static_cast<std::int64_t>(end - nearest) < 0) nearest = end;
    }
  }
  return nearest;
}

inline std::size_t recover_reaped(std::byte* base, const identity& id, ringwire::byte_ring::reader<std_sync>& rx,
                                  bool& pending) noexcept;
inline std::size_t auto_recover(const ringwire::byte_ring::reader<std_sync>::auto_recovery& r,
                                ringwire::byte_ring::reader<std_sync>& rx, bool& pending) noexcept;

}  // namespace detail

// The writer of a one-to-one segment. Throws shm_kind_mismatch (another kind, or a
// many-to-one ring), shm_already_attached, invalid_options (seg not joined).
template <class Sync = std_sync>
ringwire::byte_ring::writer<Sync> attach_writer(const segment& seg, const ringwire::byte_ring::options& opt = {}) {
  shm::detail::check_sync<Sync>();
  detail::check(seg, ring_kind::one_to_one);
  const auto scope = shm::detail::endpoint_scope(seg.info());
  shm::detail::fix_wait_family<Sync>(seg);
  shm::detail::mapping_ref map = seg.share();
  auto* r = shm::detail::channel_of<ringwire::byte_ring::layout<Sync>>(map);
  shm::detail::claim_t& c = map.get()->hdr()->live.sender_claim;
  auto* a = shm::detail::attachment<Sync>::make(std::move(map));
  ringwire::byte_ring::ring_ref<Sync> ref(r, &a->own);  // releases `a`
  if (const std::uint32_t holder = shm::detail::take_claim(c); holder != 0) shm::detail::refuse_attached("writer", holder);
  a->claim = &c;
  shm::detail::watch_peer<&detail::check_reader>(a);  // its waits look at the reader
  // relaxed: reopens the stream (a detached writer dropped it to 0); the reader re-reads
  // the count on its slow path, and our commits carry their own release.
  r->consumer.writers.store(1, std::memory_order_relaxed);
  return ringwire::byte_ring::writer<Sync>(std::move(ref), opt, scope);
}

// A writer of a many-to-one segment for this process (copy it for more threads: the copies
// share this process's claim). Throws too_many_producers (every claim is held by a live
// process or still abandoned), shm_kind_mismatch, invalid_options (not joined, or
// close_writers() was called).
inline ringwire::byte_ring::shared_writer<std_sync> attach_shared_writer(const segment& seg,
                                                                         const ringwire::byte_ring::options& opt = {}) {
  detail::check(seg, ring_kind::many_to_one);
  const auto scope = shm::detail::endpoint_scope(seg.info());
  shm::detail::fix_wait_family<std_sync>(seg);
  shm::detail::mapping_ref map = seg.share();
  auto* r = shm::detail::channel_of<detail::ring>(map);
  header* h = map.get()->hdr();
  // acquire: a close_writers() stays visible.
  if (h->live.stream_closed.load(std::memory_order_acquire) != 0)
    throw error(errc::invalid_options, "the ring's writers were closed (close_writers): no writer may attach");
  const identity id = seg.info();
  std::byte* base = map.get()->base;
  const std::uint64_t mine = shm::detail::my_claim();
  for (std::uint32_t i = 0; i < id.endpoints; ++i) {
    shm::detail::claim_t& c = shm::endpoint_claim(base, id, i);
    if (detail::reap_claim(c, *h, *r, /*many_writer=*/true, /*reader_side=*/false, scope)) continue;  // dead: now abandoned
    std::uint64_t zero = 0;
    // acquire: the previous holder's release of the claim (after its count drop).
    if (!c.compare_exchange_strong(zero, mine, std::memory_order_acquire, std::memory_order_relaxed)) continue;
    // Empty every span of the claim: a previous holder's last claims lie behind the reader
    // (an abandoned claim is freed only once the reader passed them), so its spans only
    // name old room; emptied, they cannot look like ours. relaxed: ordered before our first
    // announcement's tail CAS (release) like the announcement itself.
    for (std::uint32_t k = 0; k < ringwire::byte_ring::shm_contract::spans_per_writer; ++k) {
      auto* w = shm::byte_ring_writer_span(base, id, i, k);
      w[1].store(w[0].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    // relaxed: the count is >= 1 while the segment holds its own; our records publish
    // themselves (each header's release).
    r->consumer.writers.fetch_add(1, std::memory_order_relaxed);
    auto* a = new detail::writer_attachment{{}, std::move(map), &c, r, scope, {}};
    a->spans.first = reinterpret_cast<std::byte*>(shm::byte_ring_writer_span(base, id, i, 0));
    a->spans.stride = ringwire::byte_ring::shm_contract::writer_span_stride;
    a->spans.count = ringwire::byte_ring::shm_contract::spans_per_writer;
    a->own.release_all = &detail::writer_attachment::release_all;
    shm::detail::watch_peer<&detail::check_reader>(a);  // its waits look at the reader
    // relaxed: not yet shared.
    a->own.refs.store(1, std::memory_order_relaxed);
    return ringwire::byte_ring::shared_writer<std_sync>(ringwire::byte_ring::ring_ref<std_sync>(r, &a->own), opt,
                                                        scope, static_cast<std::int32_t>(i + 1), /*counted=*/false,
                                                        &a->spans);
  }
  throw error(errc::too_many_producers, "all " + std::to_string(id.endpoints) +
                                            " writer claims of the ring are held by live processes (or abandoned "
                                            "records are not yet read past)");
}

// The reader (one at a time), for either kind. Throws shm_kind_mismatch,
// shm_already_attached, invalid_options. Re-attaching resumes where the last reader
// released.
template <class Sync = std_sync>
ringwire::byte_ring::reader<Sync> attach_reader(const segment& seg, const ringwire::byte_ring::options& opt = {}) {
  shm::detail::check_sync<Sync>();
  shm::detail::require_writable(seg, "attaching");
  detail::check(seg, static_cast<ring_kind>(seg.info().policy));
  const auto scope = shm::detail::endpoint_scope(seg.info());
  shm::detail::fix_wait_family<Sync>(seg);
  shm::detail::mapping_ref map = seg.share();
  auto* r = shm::detail::channel_of<ringwire::byte_ring::layout<Sync>>(map);
  shm::detail::claim_t& c = map.get()->hdr()->live.receiver_claim;
  auto* a = shm::detail::attachment<Sync>::make(std::move(map));
  ringwire::byte_ring::ring_ref<Sync> ref(r, &a->own);
  if (const std::uint32_t holder = shm::detail::take_claim(c); holder != 0) shm::detail::refuse_attached("reader", holder);
  a->claim = &c;
  shm::detail::watch_peer<&detail::check_writers>(a);  // its waits look at the writer(s)
  // relaxed: reopens the ring for writers, who re-read the flag on their slow paths.
  r->producer.reader_closed.store(0, std::memory_order_relaxed);
  ringwire::byte_ring::reader<Sync> rx(std::move(ref), opt, scope);
  // One-to-one: no zeroing on release, so a reader killed mid-release leaves its successor
  // the records again, never zero headers below the tail (reader::keep_consumed_bytes).
  rx.keep_consumed_bytes();
  // Many-to-one: finish a release a killed predecessor was zeroing (reader.hpp), and skip
  // what dead writers leave from inside the reader's waits (auto_recovery: its peer check
  // reaps them, the reaped count moves, the wait runs recover's skip).
  (void)rx.finish_interrupted_release();
  if constexpr (std::is_same_v<Sync, std_sync>) {
    if (seg.info().policy == static_cast<std::uint32_t>(ring_kind::many_to_one)) {
      typename ringwire::byte_ring::reader<Sync>::auto_recovery rec;
      rec.run = &detail::auto_recover;
      rec.reaped = &seg.share().get()->hdr()->live.reaped;
      rec.base = seg.share().get()->base;
      const identity id = seg.info();
      std::memcpy(rec.identity, &id, sizeof id);
      rx.set_auto_recovery(rec);
    }
  }
  return rx;
}

// The doorbell of the segment's reader (shm/doorbell.hpp): a descriptor for the reading
// process's epoll loop, readable when a commit or the writers' end follows the reader's
// arm_doorbell(). Either kind. Bind it before the first arm_doorbell(). Throws
// shm_kind_mismatch, shm_already_attached (bound by a live process), shm_system_error,
// invalid_options.
inline doorbell make_doorbell(const segment& seg) {
  if (!seg.joined()) throw error(errc::invalid_options, "a doorbell for a segment that was left or never joined");
  detail::check(seg, static_cast<ring_kind>(seg.info().policy));
  const shm::detail::mapping_ref map = seg.share();
  auto* r = shm::detail::channel_of<detail::ring>(map);
  return shm::detail::bind_doorbell(map, &r->producer.reader_park);
}

// A read-only view of the ring's counters (byte_ring/stats.hpp), either kind: claims
// nothing, writes nothing (a read-only mapping will do), any number of them. written/read
// bytes are exact; the slow-path counters count only endpoints made with
// options::metrics. Throws shm_kind_mismatch, invalid_options (seg not joined).
template <class Sync = std_sync>
ringwire::byte_ring::monitor<Sync> make_monitor(const segment& seg) {
  shm::detail::check_sync<Sync>();
  if (!seg.joined()) throw error(errc::invalid_options, "a monitor for a segment that was left or never joined");
  shm::detail::require_kind(seg, ringwire::byte_ring::shm_kind);
  return ringwire::byte_ring::monitor<Sync>(
      shm::detail::share_channel<ringwire::byte_ring::layout<Sync>, Sync>(seg).first);
}

// Many-to-one: ends the stream (once). The reader sees closed when every writer process
// has detached (or was reaped) and the ring is drained; attaching writers is refused from
// now. Returns false when already closed.
inline bool close_writers(const segment& seg) {
  detail::check(seg, ring_kind::many_to_one);
  shm::detail::mapping_ref map = seg.share();
  std::uint32_t zero = 0;
  // acq_rel: once only, ordered with attaches that check the flag.
  if (!map.get()->hdr()->live.stream_closed.compare_exchange_strong(zero, 1, std::memory_order_acq_rel))
    return false;
  auto* r = shm::detail::channel_of<detail::ring>(map);
  // release: as a writer's detach.
  r->consumer.writers.fetch_sub(1, std::memory_order_release);
  ringwire::detail::notify_close<std_sync>(r->producer.reader_park, shm::detail::endpoint_scope(seg.info()));
  return true;
}

// What reap() closed.
struct reaped {
  std::uint32_t writers = 0;       // writers of dead processes
  std::uint32_t reader_pid = 0;    // the dead reader's pid, 0: none
  explicit operator bool() const noexcept { return writers != 0 || reader_pid != 0; }
};

// Closes every endpoint whose process is dead (see the top). Any process, any time.
inline reaped reap(const segment& seg) {
  shm::detail::require_writable(seg, "reaping");
  const identity id = seg.info();
  detail::check(seg, static_cast<ring_kind>(id.policy));
  const auto scope = shm::detail::endpoint_scope(id);
  shm::detail::mapping_ref map = seg.share();
  auto* r = shm::detail::channel_of<detail::ring>(map);
  header* h = map.get()->hdr();
  reaped out;
  const bool many = id.policy == static_cast<std::uint32_t>(ring_kind::many_to_one);
  if (many) {
    for (std::uint32_t i = 0; i < id.endpoints; ++i)
      out.writers += detail::reap_claim(shm::endpoint_claim(map.get()->base, id, i), *h, *r, true, false, scope) ? 1 : 0;
  } else {
    out.writers += detail::reap_claim(h->live.sender_claim, *h, *r, false, false, scope) ? 1 : 0;
  }
  // relaxed: the pid for the report; reap_claim decides with its CAS.
  const std::uint64_t rv = h->live.receiver_claim.load(std::memory_order_relaxed);
  if (detail::reap_claim(h->live.receiver_claim, *h, *r, false, true, scope)) out.reader_pid = claim_pid(rv);
  return out;
}

// Many-to-one, from the reader's process: reaps, skips the in-progress records of dead
// writers at the read position, and frees abandoned claims the reader has read past.
// Returns how many records it skipped. Call it when a read waits longer than a writer
// ever takes to commit (a timeout), or periodically.
inline std::size_t recover(const segment& seg, ringwire::byte_ring::reader<std_sync>& rx) {
  detail::check(seg, ring_kind::many_to_one);
  (void)reap(seg);
  const shm::detail::mapping_ref map = seg.share();
  bool pending = false;
  return detail::recover_reaped(map.get()->base, seg.info(), rx, pending);
}

namespace detail {

// recover() after its reap: skips what dead writers left at the read position, frees the
// abandoned claims read past (`pending`: one is not read past yet). Also the reader's
// auto_recovery (attach_reader).
inline std::size_t recover_reaped(std::byte* base, const identity& id, ringwire::byte_ring::reader<std_sync>& rx,
                                  bool& pending) noexcept {
  std::size_t skipped = 0;
  auto dead = [&](std::int32_t tag) {
    if (tag < 1 || static_cast<std::uint32_t>(tag) > id.endpoints) return false;
    // acquire: the reaper's abandoned value is stored after its count drop.
    const std::uint64_t v = shm::endpoint_claim(base, id, static_cast<std::uint32_t>(tag - 1)).load(std::memory_order_acquire);
    // Abandoned: its owner died. Free (0) or held by a live process: a writer that
    // detached cleanly left no record in progress, and no attach reuses an abandoned claim
    // before the reader is past its records -- so only a dead owner leaves one here.
    return detail::is_abandoned(v);
  };
  auto orphan_end = [&](std::uint64_t at) { return detail::orphan_end(base, id, at); };
  while (rx.skip_abandoned(dead, orphan_end)) ++skipped;
  // Free the abandoned claims whose records all lie behind the read position.
  const std::uint64_t at = rx.position();
  for (std::uint32_t i = 0; i < id.endpoints; ++i) {
    shm::detail::claim_t& c = shm::endpoint_claim(base, id, i);
    // acquire: as above.
    std::uint64_t v = c.load(std::memory_order_acquire);
    if (!detail::is_abandoned(v)) continue;
    const auto left = static_cast<std::int32_t>(static_cast<std::uint32_t>(v >> 32) - static_cast<std::uint32_t>(at));
    if (left > 0) {
      pending = true;
      continue;
    }
    // Empty the dead writer's spans first: a stale one (a failed last CAS) may reach past
    // its recorded tail, and a free claim's span that covers a zero header makes
    // orphan_end() wait. relaxed: nobody else writes an abandoned claim's spans; the
    // release below publishes these stores with the claim.
    for (std::uint32_t k = 0; k < ringwire::byte_ring::shm_contract::spans_per_writer; ++k) {
      auto* w = shm::byte_ring_writer_span(base, id, i, k);
      w[1].store(w[0].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    // release: our reads past the dead writer's records happen-before the next attach.
    c.compare_exchange_strong(v, 0, std::memory_order_release, std::memory_order_relaxed);
  }
  return skipped;
}

inline std::size_t auto_recover(const ringwire::byte_ring::reader<std_sync>::auto_recovery& r,
                                ringwire::byte_ring::reader<std_sync>& rx, bool& pending) noexcept {
  identity id;
  std::memcpy(&id, r.identity, sizeof id);
  return recover_reaped(r.base, id, rx, pending);
}

}  // namespace detail

}  // namespace ringwire::shm::byte_ring
