// ringwire/byte_ring/reader.hpp -- the reading end of a byte ring (either kind).
//
// The reader keeps two indices of its own: `cursor` (the next record to read) and `head`
// (the first byte not yet given back). try_read() hands out a view of the record at the
// cursor and advances it; the bytes stay the reader's -- the views valid -- until release()
// stores head = cursor with release, after zeroing them (layout.hpp). So a
// batch of records costs one index store. read_batch(limit, fn) is the one-call form.
//
// Every header is validated before use (layout.hpp, "Hostile memory"): an impossible one
// makes the reader sticky-corrupt -- every read then reports status::closed, corrupt() is
// true and check() returns errc::ring_corrupt -- and no byte outside the data region is
// ever read. Fragment records (type == fragment_type, layout.hpp) come out like any other:
// a reader that does not reassemble sees them; fragment.hpp's reassembler joins them into
// messages. Outcomes otherwise: ok, empty (try_*), closed (every writer gone and the ring
// drained, or this reader closed / moved from), timed_out, cancelled.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <utility>

#include "ringwire/byte_ring/endpoint.hpp"
#include "ringwire/byte_ring/stats.hpp"
#include "ringwire/byte_ring/writer.hpp"
#include "ringwire/detail/call_surface.hpp"
#include "ringwire/metrics.hpp"

namespace ringwire::byte_ring {

template <class Sync = std_sync>
class reader : public ringwire::detail::endpoint<reader<Sync>, ring_ref<Sync>>,
               public detail::ring_bounds,
               public ringwire::detail::read_calls<reader<Sync>, record_view&, status, Sync> {
  using base = ringwire::detail::endpoint<reader<Sync>, ring_ref<Sync>>;
  using base::metrics_, base::ref_, base::scope_, base::wait_;

 public:
  // concepts.hpp's record_reader: reads fill a record_view and say a status.
  using buffer_type = record_view;
  using result_type = status;

  reader() noexcept = default;
  // Over a layout of either kind. scope: fence_scope::cross_process when a writer may be in
  // another process.
  explicit reader(ring_ref<Sync> ref, const options& opt = {}, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt.receiver_wait, Sync::resolve_scope(scope), opt.metrics) {
    auto* l = ref_.get();
    take_bounds(*l);
    many_ = l->kind() == ring_kind::many_to_one;
    // acquire (both): a reader made over memory used before (a late attach) sees the records.
    head_ = cursor_ = l->consumer.head.load(std::memory_order_acquire);
    tail_cache_ = l->producer.tail.load(std::memory_order_acquire);
    if (tail_cache_ - head_ > cap_ || (head_ | tail_cache_) % record_align != 0) corrupt_ = true;
  }
  reader(reader&&) noexcept = default;
  reader& operator=(reader&&) noexcept = default;  // closes this reader first (detail/endpoint.hpp)
  ~reader() { close(); }

  // The next record, or empty / closed. The view stays valid until release().
  status try_read(record_view& out) noexcept {
    if (data_ == nullptr) return status::closed;
    const status s = next(out);
    // Only padding was consumed: give it back now, or writers could wait for it.
    if (s != status::ok && pending_ == 0 && cursor_ != head_ && !corrupt_) release();
    return s;
  }

  // Gives back every record read since the last release (their views end here).
  void release() noexcept {
    if (cursor_ == head_ || data_ == nullptr) return;
    if (zero_consumed_) {  // layout.hpp: many-to-one needs it; one-to-one is faster with it
      // relaxed: read only by a successor reader after this one died (it takes the reader
      // claim with acquire after a reap); see finish_interrupted_release().
      if (many_) ref_.get()->consumer.releasing.store(cursor_, std::memory_order_relaxed);
      const std::uint64_t n = cursor_ - head_;
      const std::uint64_t pos = head_ & mask_;
      const std::uint64_t first = n < cap_ - pos ? n : cap_ - pos;
      detail::clear_words<Sync>(data_ + pos, first);
      detail::clear_words<Sync>(data_, n - first);
    }
    head_ = cursor_;
    pending_ = 0;
    auto* l = ref_.get();
    // release: our reads (and the zeroing) of the records before head happen-before a
    // writer's acquire load of head that lets it overwrite them.
    l->consumer.head.store(head_, std::memory_order_release);
    notify_writers(l);
  }

  // Calls fn(type, payload) for up to `limit` records in order, then releases them all with
  // one index store. Returns how many. If fn throws, the records up to and including the
  // throwing one are consumed. It re-reads the writers' tail at most once, when the records
  // known from the last read of it run out: a batch takes what was published when that
  // read happened, so a reader that keeps up with its writer loads the writer's index line
  // once per batch, not twice (every such load pulls the line away from the writer).
  template <class Fn>
  std::size_t read_batch(std::size_t limit, Fn&& fn) {
    std::size_t n = 0;
    struct release_on_exit {
      reader* self;
      ~release_on_exit() { self->release(); }
    } guard{this};
    record_view r;
    bool may_refill = true;
    while (n < limit && data_ != nullptr) {
      if (cursor_ == tail_cache_) {
        if (!may_refill) break;
        may_refill = false;
      }
      if (next(r) != status::ok) break;
      ++n;
      fn(r.type, r.payload);
    }
    return n;
  }

  // Blocking reads (the reader's wait strategy). If it has to wait, a blocking read first
  // releases the records read before it (their views end), so writers can use the room.
  // read(out), read(out, stop), read_for and read_until come from
  // ringwire::detail::read_calls (detail/call_surface.hpp), over read_limited below.

  // For a reader that waits in its own event loop on a shared-memory doorbell
  // (shm/doorbell.hpp, shm::byte_ring::make_doorbell): releases what was read (as a
  // blocking read does before it waits), then arms the reader's park word so that the next
  // commit or the last writer's close rings the doorbell. Returns false when a record or
  // the close is already there (read instead of waiting); true: wait for the doorbell. Arm
  // again after every wake.
  bool arm_doorbell() noexcept {
    static_assert(Sync::parks, "a doorbell needs writers that check for a parked reader: use std_sync");
    if (data_ == nullptr) return false;
    release();
    if (readable()) return false;
    auto& word = ref_.get()->producer.reader_park;
    // relaxed: published to the writers by the heavy fence below (wait.hpp's Dekker pair).
    word.store(ringwire::detail::parked_bell, std::memory_order_relaxed);
    Sync::heavy_fence(scope_);
    if (!readable()) return true;
    // relaxed: our own word; a waker's exchange may reset it too, harmlessly.
    word.store(ringwire::detail::running, std::memory_order_relaxed);
    return false;
  }

  // Closes the reading side: writers see closed. Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = ref_.get();
    if (l == nullptr) return;
    // release: orders our last reads of the ring before the flag.
    l->producer.reader_closed.store(1, std::memory_order_release);
    ringwire::detail::notify_close<Sync>(l->consumer.writer_park, scope_);
    ref_.reset();
    data_ = nullptr;
  }

  // Many-to-one in shared memory (shm/byte_ring.hpp): when the record at the read position
  // is still in progress ("-length" header) and dead(tag) says the writer whose tag its
  // header carries is gone, turns it into a committed padding record of the same size, so
  // reads go on past it. Safe against live writers: only the record's own writer ever
  // stores its header, and dead() vouches that it never will. Returns whether it did.
  //
  // When the header at the read position is still 0 although the tail is past it (a writer
  // claimed the room and had not stored its "in progress" header yet), orphan_end(position)
  // answers: the end of the room a dead writer claimed there (every byte of it is still
  // zero: a writer stores nothing in its claim before that header), or the position itself
  // when no dead writer's claim is known to cover it (a live writer may own it). The room
  // up to that end (and at most to the end of the region) becomes a committed padding
  // record, by a CAS from 0, so a header stored meanwhile is never overwritten.
  template <class Dead, class OrphanEnd>
  bool skip_abandoned(Dead&& dead, OrphanEnd&& orphan_end) noexcept {
    if (ref_.get() == nullptr || !many_ || corrupt_) return false;
    if (cursor_ == tail_cache_ && (refill() != status::ok || cursor_ == tail_cache_)) return false;
    const std::uint64_t pos = cursor_ & mask_;
    auto word = Sync::word(detail::header_at(data_, pos));
    // acquire: as in next().
    std::uint64_t h = word.load(std::memory_order_acquire);
    if (h == 0) {
      const std::uint64_t room = orphan_end(cursor_) - cursor_;
      if (room == 0 || room > tail_cache_ - cursor_) return false;  // unknown, or past what the tail covers
      if (room % record_align != 0) return (void)fail(), false;
      const std::uint64_t size = room < cap_ - pos ? room : cap_ - pos;
      // relaxed: as below (the reader alone reads the padding it makes).
      const bool done = word.compare_exchange_strong(h, detail::pack(static_cast<std::int32_t>(size), padding_type),
                                                     std::memory_order_relaxed, std::memory_order_relaxed);
      skipped_ += done ? 1 : 0;
      return done;
    }
    const std::int32_t length = detail::length_of(h);
    const std::int32_t tag = detail::type_of(h);
    if (length >= 0 || tag <= 0) return false;
    const std::uint64_t size = static_cast<std::uint64_t>(-static_cast<std::int64_t>(length));
    if (size < header_bytes || detail::align8(size) > cap_ - pos || detail::align8(size) > tail_cache_ - cursor_)
      return (void)fail(), false;  // a claim cannot be larger than what the tail covers
    if (!dead(tag)) return false;
    // relaxed: the reader itself is the only one to read the new header (next()).
    const bool done = word.compare_exchange_strong(h, detail::pack(static_cast<std::int32_t>(size), padding_type),
                                                   std::memory_order_relaxed, std::memory_order_relaxed);
    skipped_ += done ? 1 : 0;
    return done;
  }

  // Many-to-one in shared memory (shm::byte_ring::attach_reader): a previous reader killed
  // in the middle of release()'s zeroing left zero headers between head and the head it
  // was releasing up to (records it had already consumed); finishes that release, so this
  // reader starts after them instead of waiting at a zero header no writer will fill.
  // Returns the bytes it released.
  std::uint64_t finish_interrupted_release() noexcept {
    auto* l = ref_.get();
    if (l == nullptr || !many_ || corrupt_) return 0;
    // relaxed: stored by the dead reader before its zeroing; our attach acquired its claim.
    const std::uint64_t to = l->consumer.releasing.load(std::memory_order_relaxed);
    const std::uint64_t n = to - head_;
    if (n == 0 || n > tail_cache_ - head_ || n % record_align != 0) return 0;  // none, or not plausible
    const std::uint64_t pos = head_ & mask_;
    const std::uint64_t first = n < cap_ - pos ? n : cap_ - pos;
    detail::clear_words<Sync>(data_ + pos, first);
    detail::clear_words<Sync>(data_, n - first);
    head_ = cursor_ = to;
    // release: as in release().
    l->consumer.head.store(head_, std::memory_order_release);
    notify_writers(l);
    return n;
  }

  // Many-to-one in shared memory: recovery run from inside the reader's own waits
  // (shm::byte_ring::attach_reader installs it). Whenever the segment's reaped-endpoint
  // count (`reaped`, a word of the mapping) has moved since the last look -- a dead writer
  // was reaped, by this reader's peer check or by anyone -- a waiting read runs `run`
  // (what shm::byte_ring::recover does after its reap: skip what dead writers left at the
  // read position, free claims read past), so a reader needs no recover() loop of its own.
  // Costs one load of that word per readiness check while waiting; nothing when not waiting.
  struct auto_recovery {
    // Skips and frees as recover() does; `pending`: an abandoned claim is not yet read past
    // (its room may still lie ahead), so the next readiness check runs it again.
    std::size_t (*run)(const auto_recovery&, reader&, bool& pending) noexcept = nullptr;
    const typename Sync::template atomic<std::uint32_t>* reaped = nullptr;
    std::byte* base = nullptr;                 // the mapping
    alignas(8) unsigned char identity[128]{};  // the segment's identity (a private copy)
  };
  void set_auto_recovery(const auto_recovery& r) noexcept {
    recovery_ = r;
    // relaxed: a hint; one look at the first wait whatever it says (a writer may have died
    // before this reader attached).
    reaped_seen_ = r.reaped->load(std::memory_order_relaxed) - 1;
  }

  // For a reader that runs shm::byte_ring::recover() itself, on its own schedule, and wants
  // its waits to end at what dead writers left instead.
  void disable_auto_recovery() noexcept { recovery_ = auto_recovery{}; }

  // One-to-one only: release() gives consumed bytes back as they are instead of zeroing
  // them (shm::byte_ring::attach_reader does this: a reader killed in the middle of the
  // zeroing would leave its successor zero headers below the tail, which a one-to-one ring
  // cannot tell from corruption). Many-to-one readers always zero (their protocol needs it).
  void keep_consumed_bytes() noexcept { zero_consumed_ = many_; }

  // Records (or claimed room) of dead writers this reader turned into padding, through
  // recover() or its own waits (auto_recovery).
  [[nodiscard]] std::uint64_t skipped_abandoned() const noexcept { return skipped_; }

  // Bytes read so far (a free-running byte index: the position of the next record).
  [[nodiscard]] std::uint64_t position() const noexcept { return cursor_; }

  // A read-only view of the ring's counters (stats.hpp); empty once this reader is closed.
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

  // True when the ring failed validation (sticky).
  [[nodiscard]] bool corrupt() const noexcept { return corrupt_; }
  // errc::ring_corrupt once corrupt(), else success.
  [[nodiscard]] result<void> check() const {
    if (!corrupt_) return {};
    return result<void>(errc::ring_corrupt, "byte ring reader found an impossible header or index");
  }

 private:
  friend class ringwire::detail::read_calls<reader<Sync>, record_view&, status, Sync>;
  [[gnu::cold, gnu::noinline]] status fail() noexcept {
    corrupt_ = true;
    return status::closed;
  }

  // Re-reads tail and validates it against head and the cursor. ok / empty / closed.
  status refill() noexcept {
    auto* l = ref_.get();
    // acquire: one-to-one, the writer's header and payload stores before tail happen-before
    // our reads; many-to-one, only a bound (each header carries its own release).
    tail_cache_ = l->producer.tail.load(std::memory_order_acquire);
    if (tail_cache_ - head_ > cap_ || tail_cache_ - cursor_ > cap_ || tail_cache_ % record_align != 0) return fail();
    return status::ok;
  }

  [[gnu::noinline]] status empty_or_closed() noexcept {
    // acquire: pairs with every writer's release decrement, so their commits are visible.
    if (ref_.get()->consumer.writers.load(std::memory_order_acquire) != 0) return empty();
    if (refill() != status::ok) return status::closed;
    return tail_cache_ != cursor_ ? status::ok : status::closed;
  }

  // A read that found nothing after re-reading tail (or, many-to-one, a record not yet
  // committed at the cursor). Counts the empty event (metrics on).
  status empty() noexcept {
    if (metrics_) ringwire::detail::bump(ref_.get()->consumer.empty_events);  // the only reader: relaxed load + store
    return status::empty;
  }

  // After a store of head: wakes writers parked for room (wait.hpp's notify), counting the
  // wake (metrics on).
  void notify_writers(layout<Sync>* l) noexcept {
    if (ringwire::detail::notify<Sync>(l->consumer.writer_park, scope_)) [[unlikely]] {
      if (metrics_) ringwire::detail::bump(l->consumer.writer_wakes);  // the only reader: relaxed load + store
    }
  }

  [[gnu::always_inline]] status next(record_view& out) noexcept {
    for (;;) {
      if (corrupt_) return status::closed;
      if (cursor_ == tail_cache_) {
        if (refill() != status::ok) return status::closed;
        if (cursor_ == tail_cache_) {
          const status s = empty_or_closed();
          if (s != status::ok) return s;
        }
      }
      const std::uint64_t pos = cursor_ & mask_;
      // acquire: many-to-one, pairs with the writer's release store of the committed header.
      std::uint64_t h = Sync::word(detail::header_at(data_, pos)).load(std::memory_order_acquire);
      if (detail::length_of(h) <= 0) {
        // one-to-one: below tail every record is committed.
        if (!many_) return fail();
        // acquire: as in empty_or_closed().
        if (ref_.get()->consumer.writers.load(std::memory_order_acquire) != 0) return empty();
        // Every writer is gone, so every claim was committed or aborted before that: look
        // again (acquire: as above); a header still not committed is impossible -- unless a
        // writer process died with it in progress (its tag is set: shared memory), which
        // only shm::byte_ring::recover can skip.
        h = Sync::word(detail::header_at(data_, pos)).load(std::memory_order_acquire);
        if (detail::length_of(h) < 0 && detail::type_of(h) > 0) return empty();
        if (detail::length_of(h) <= 0) return fail();
      }
      const auto length = static_cast<std::uint64_t>(detail::length_of(h));
      const std::uint64_t rec = detail::align8(length);
      if (length < header_bytes || rec > cap_ - pos) return fail();
      if (rec > tail_cache_ - cursor_) {
        // A committed header implies its claim: the tail must cover it.
        if (refill() != status::ok || rec > tail_cache_ - cursor_) return fail();
      }
      const std::int32_t type = detail::type_of(h);
      if (type == padding_type) {
        cursor_ += rec;
        continue;
      }
      if (type < 1 || length - header_bytes > max_payload_) [[unlikely]] {
        // A fragment record (layout.hpp) is handed out like any record; it must hold its
        // own 8-byte header.
        if (type != fragment_type || length - header_bytes > max_payload_ ||
            length < header_bytes + fragment_header_bytes)
          return fail();
      }
      out = record_view{type, {data_ + pos + header_bytes, static_cast<std::size_t>(length - header_bytes)}};
      cursor_ += rec;
      ++pending_;
      return status::ok;
    }
  }

  // True when a read may succeed (or must report closed): cheap, no side effects but loads.
  bool readable() noexcept {
    if (corrupt_) return true;
    auto* l = ref_.get();
    // acquire: as in empty_or_closed().
    if (l->consumer.writers.load(std::memory_order_acquire) == 0) return true;
    if (!many_) {
      // acquire: as in refill().
      return l->producer.tail.load(std::memory_order_acquire) != cursor_;
    }
    // acquire: as in next(). The header at the cursor is zero until claimed and committed.
    return detail::length_of(Sync::word(detail::header_at(data_, cursor_ & mask_)).load(std::memory_order_acquire)) > 0;
  }

  status read_limited(record_view& out, const detail::limits_t& lim) {
    for (;;) {
      if (data_ == nullptr) return status::closed;
      const status s = next(out);
      if (s != status::empty) return s;
      release();
      auto* l = ref_.get();
      const status w = ringwire::detail::wait_until<Sync>(wait_, l->producer.reader_park, scope_, ref_.watch(lim), parks_,
                                                          [&] { return readable() || recovered(); });
      if (metrics_ && parks_ != 0) {
        ringwire::detail::bump(l->consumer.reader_parks, parks_);  // the only reader: relaxed load + store
        parks_ = 0;
      }
      if (w != status::ok) return w;
    }
  }

  // auto_recovery's step: true when it skipped something (the read goes on past it).
  bool recovered() noexcept {
    const auto_recovery& rec = recovery_;
    if (rec.run == nullptr) return false;
    // relaxed: a hint that a reap happened; run() acquires the claims it acts on.
    const std::uint32_t now = rec.reaped->load(std::memory_order_relaxed);
    if (now == reaped_seen_) [[likely]] return false;
    bool pending = false;
    const std::size_t skipped = rec.run(rec, *this, pending);
    if (!pending) reaped_seen_ = now;
    return skipped != 0;
  }

  // A move leaves these zero in the source, as the bounds, but the plain ones, which it copies.
  template <class V>
  using reset_on_move = ringwire::detail::reset_on_move<V>;
  reset_on_move<std::uint64_t> head_;        // released up to here (we are its only writer)
  reset_on_move<std::uint64_t> cursor_;      // read up to here
  reset_on_move<std::uint64_t> tail_cache_;  // the writers' tail as last read
  reset_on_move<std::uint64_t> pending_;     // records handed out since the last release
  bool many_ = false;
  bool zero_consumed_ = true;  // release() zeroes what it gives back (keep_consumed_bytes)
  reset_on_move<bool> corrupt_;
  reset_on_move<std::uint64_t> parks_;  // futex sleeps not yet added to reader_parks
  reset_on_move<auto_recovery> recovery_;
  std::uint32_t reaped_seen_ = 0;
  reset_on_move<std::uint64_t> skipped_;  // skipped_abandoned()
};

}  // namespace ringwire::byte_ring
