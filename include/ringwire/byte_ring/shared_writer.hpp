// ringwire/byte_ring/shared_writer.hpp -- the many-to-one writing end of a byte ring:
// shared_writer<Sync>, copyable, one copy per writing thread (or process). The protocol
// (claim by CAS on tail, "-length" in-progress header, commit by a release store of the
// header) is in layout.hpp; what both writer kinds share, in write_ops.hpp and writer.hpp's
// top comment.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "ringwire/byte_ring/write_ops.hpp"

namespace ringwire::byte_ring {

namespace detail {

// The writer spans of one writer process in shared memory (shm/byte_ring.hpp): `count`
// spans of two words each (start, end), `stride` bytes apart, and which of them this
// process's handles hold. The pool itself is process-local (the attachment owns it); only
// the spans are shared. Each shared_writer handle holds one span for its lifetime, so the
// threads of one process never overwrite each other's announcements.
template <class Sync>
struct span_pool {
  using atomic_word = typename Sync::template atomic<std::uint64_t>;
  std::byte* first = nullptr;
  std::size_t stride = 0;
  std::uint32_t count = 0;  // <= 64
  std::atomic<std::uint64_t> used{0};  // bit k: span k is held by a handle

  atomic_word* span(std::uint32_t k) const noexcept {
    return std::launder(reinterpret_cast<atomic_word*>(first + std::size_t{k} * stride));
  }
  // A free span, or null when every span is held.
  atomic_word* take() noexcept {
    // relaxed: a starting guess for the CAS.
    std::uint64_t u = used.load(std::memory_order_relaxed);
    for (;;) {
      const auto k = static_cast<std::uint32_t>(std::countr_one(u));
      if (k >= count) return nullptr;
      // acquire: the previous holder's last announcement (its stores to the span, and the
      // tail CAS they preceded) happens-before ours, so our first start is >= its end.
      if (used.compare_exchange_weak(u, u | std::uint64_t{1} << k, std::memory_order_acquire,
                                     std::memory_order_relaxed))
        return span(k);
    }
  }
  void give(atomic_word* s) noexcept {
    const auto k = static_cast<std::uint32_t>((reinterpret_cast<std::byte*>(s) - first) / static_cast<std::ptrdiff_t>(stride));
    // release: pairs with take()'s acquire.
    used.fetch_and(~(std::uint64_t{1} << k), std::memory_order_release);
  }
};

}  // namespace detail

// ---- many-to-one -----------------------------------------------------------------------
template <class Sync = std_sync>
class shared_writer : public detail::writer_base<Sync, shared_writer<Sync>>,
                      public detail::write_ops<shared_writer<Sync>, Sync> {
  using base = detail::writer_base<Sync, shared_writer<Sync>>;
  friend class detail::write_ops<shared_writer<Sync>, Sync>;

 public:
  using atomic_word = typename Sync::template atomic<std::uint64_t>;
  using detail::write_ops<shared_writer<Sync>, Sync>::commit;
  static constexpr bool many_writers = true;  // copies share the writers' counters (a relaxed fetch_add)
  shared_writer() noexcept = default;
  // Over a layout of kind many_to_one: the first handle adopts the open-writer count that
  // format() set to 1; make more by copying (each copy counts as one open writer).
  explicit shared_writer(ring_ref<Sync> ref, const options& opt = {}, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt, scope) {
    RINGWIRE_ASSERT(this->ref_.get()->kind() == ring_kind::many_to_one);
  }
  // For shared memory (shm/byte_ring.hpp): `tag` (>= 1) marks this writer's records while
  // they are in progress (the type half of their "-length" header), so a reader can tell
  // whose claim a dead process left behind; `pool` holds the process's writer spans: this
  // handle and each copy take one (two words, start and end) to announce the room each
  // claim is about to take before the tail moves, so a claim whose writer dies before its
  // header store is attributable too (see announce()); uncounted: neither this handle nor
  // its copies touch the open-writer count -- the attachment they all count on holds one
  // for them. Throws too_many_producers when the pool has no free span.
  shared_writer(ring_ref<Sync> ref, const options& opt, fence_scope scope, std::int32_t tag, bool counted,
                detail::span_pool<Sync>* pool)
      : base(std::move(ref), opt, scope), tag_(tag), counted_(counted) {
    RINGWIRE_ASSERT(this->ref_.get()->kind() == ring_kind::many_to_one);
    take_span(pool);
  }
  // A copy of a shared-memory writer takes a span of its own: throws too_many_producers when
  // the process's handles hold every one (shm::byte_ring::spans_per_writer). Heap copies
  // never throw.
  shared_writer(const shared_writer& o) : base() { copy_from(o); }
  shared_writer& operator=(const shared_writer& o) {
    if (this != &o) {
      close();
      copy_from(o);
    }
    return *this;
  }
  shared_writer(shared_writer&&) noexcept = default;
  shared_writer& operator=(shared_writer&&) noexcept = default;  // closes this writer first (detail/endpoint.hpp)
  ~shared_writer() { close(); }

  claim try_reserve(std::size_t n) {
    RINGWIRE_ASSERT(!reserving_);
    if (!this->check_size(n)) return {};
    if (this->reader_gone()) [[unlikely]] return {};
    auto& tail = this->ref_.get()->producer.tail;
    const std::uint64_t rec = detail::align8(header_bytes + n);
    // relaxed: only a starting guess for the CAS, which re-validates it.
    std::uint64_t t = tail.load(std::memory_order_relaxed);
    bool refreshed = false;
    for (;;) {
      const std::uint64_t pos = t & this->mask_;
      const std::uint64_t to_end = this->cap_ - pos;
      const std::uint64_t pad = rec > to_end ? to_end : 0;
      // t >= head_cache_ (head is loaded before tail below, and tail only grows).
      if (t - this->head_cache_ > this->cap_ - (pad + rec)) {
        if (refreshed) return {this->full_or_closed(), {}};
        refresh();
        t = tail.load(std::memory_order_relaxed);  // relaxed: as above; loaded after head
        refreshed = true;
        continue;
      }
      announce(t, t + pad + rec);
      // release (success): the announced span happens-before the acquire load of tail by
      // any process that finds the tail past it (a recovering reader); the records
      // themselves are published by each header's release store. The bytes it claims were
      // freed by the reader's release of head, acquired by refresh(). relaxed (failure):
      // only a new guess.
      if (tail.compare_exchange_weak(t, t + pad + rec, std::memory_order_release, std::memory_order_relaxed)) {
        if (pad != 0) {
          // release: a committed (positive) header, like every commit; the reader skips it.
          this->header_store(pos, detail::pack(static_cast<std::int32_t>(pad), padding_type),
                             std::memory_order_release);
        }
        res_start_ = (t + pad) & this->mask_;
        res_rec_ = rec;
        res_n_ = n;
        reserving_ = true;
        // relaxed: "in progress" is only ever read as "not ready"; no data hangs on it.
        this->header_store(res_start_, detail::pack(-static_cast<std::int32_t>(header_bytes + n), tag_),
                           std::memory_order_relaxed);
        return {status::ok, {this->data_ + res_start_ + header_bytes, n}};
      }
      if (span_ != nullptr) [[unlikely]] retract();
    }
  }


  void commit(std::int32_t type, std::size_t used) {
    detail::check_type(type);
    commit_record(type, used);
  }
  // Turns the claimed space into padding the reader skips (it must still be released in
  // order: the claim cannot be undone once other writers claimed after it).
  void abort() noexcept {
    if (!reserving_) return;
    // release: as a commit (the reader zeroes and reuses the bytes after skipping them).
    this->header_store(res_start_, detail::pack(static_cast<std::int32_t>(res_rec_), padding_type),
                       std::memory_order_release);
    reserving_ = false;
    this->notify_reader();
  }


  // Closes this handle (an open reservation is aborted). The reader sees closed once every
  // handle is closed and the ring drained. Idempotent; also done by the destructor.
  void close() noexcept {
    if (this->ref_.get() == nullptr) return;
    abort();
    if (counted_) this->drop_writer();
    if (pool_ != nullptr) pool_->give(std::exchange(span_, nullptr));  // before the pool's owner may go
    pool_ = nullptr;
    this->ref_.reset();
    this->data_ = nullptr;
    this->cap_ = this->max_payload_ = this->head_cache_ = 0;
  }

 private:
  // commit() without the type check (fragment records carry type -2).
  void commit_record(std::int32_t type, std::size_t used) {
    RINGWIRE_ASSERT(reserving_);
    if (used > res_n_) [[unlikely]] detail::throw_too_large(used, res_n_);
    const std::uint64_t rec_used = detail::align8(header_bytes + used);
    if (rec_used != res_rec_) {
      // release: the slack becomes a committed padding record before the record itself, so
      // the reader's acquire of the record's header also sees this one.
      this->header_store(res_start_ + rec_used,
                         detail::pack(static_cast<std::int32_t>(res_rec_ - rec_used), padding_type),
                         std::memory_order_release);
    }
    // release: the payload stores happen-before the reader's acquire load of this header.
    this->header_store(res_start_, detail::pack(static_cast<std::int32_t>(header_bytes + used), type),
                       std::memory_order_release);
    reserving_ = false;
    this->notify_reader();
  }

  // Fragmented writes (write_ops). Claims room for the records of sizes size_of(0..count-1)
  // (with their wrap padding) by one CAS -- all of them or none -- then stores their padding
  // (committed) and "in progress" headers at once, so a writer process that dies mid-run
  // leaves records shm::byte_ring::recover can skip. run_next() hands them out in order.
  template <class SizeOf>
  status try_claim_run(std::size_t count, SizeOf&& size_of) {
    RINGWIRE_ASSERT(!reserving_);
    if (this->data_ == nullptr || this->reader_gone()) return status::closed;
    auto& tail = this->ref_.get()->producer.tail;
    // relaxed: only a starting guess for the CAS, which re-validates it.
    std::uint64_t t = tail.load(std::memory_order_relaxed);
    bool refreshed = false;
    for (;;) {
      const std::uint64_t need = detail::run_bytes(t, this->cap_, count, size_of);
      if (need > this->cap_ || t - this->head_cache_ > this->cap_ - need) {
        if (refreshed) return this->full_or_closed();
        refresh();
        t = tail.load(std::memory_order_relaxed);  // relaxed: as above; loaded after head
        refreshed = true;
        continue;
      }
      announce(t, t + need);
      // release / relaxed: as in try_reserve (the span before the tail; refresh() acquired head).
      if (tail.compare_exchange_weak(t, t + need, std::memory_order_release, std::memory_order_relaxed)) break;
      if (span_ != nullptr) [[unlikely]] retract();
    }
    run_at_ = t;
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t rec = detail::align8(header_bytes + size_of(i));
      std::uint64_t pos = t & this->mask_;
      if (rec > this->cap_ - pos) {
        // release: a committed padding header, as in try_reserve.
        this->header_store(pos, detail::pack(static_cast<std::int32_t>(this->cap_ - pos), padding_type),
                           std::memory_order_release);
        t += this->cap_ - pos;
        pos = 0;
      }
      // relaxed: "in progress" is only ever read as "not ready", as in try_reserve.
      this->header_store(pos, detail::pack(-static_cast<std::int32_t>(header_bytes + size_of(i)), tag_),
                         std::memory_order_relaxed);
      t += rec;
    }
    return status::ok;
  }
  claim run_next(std::size_t n) {
    RINGWIRE_ASSERT(!reserving_);
    const std::uint64_t rec = detail::align8(header_bytes + n);
    std::uint64_t pos = run_at_ & this->mask_;
    if (rec > this->cap_ - pos) {  // the padding was stored by try_claim_run
      run_at_ += this->cap_ - pos;
      pos = 0;
    }
    run_at_ += rec;
    res_start_ = pos;
    res_rec_ = rec;
    res_n_ = n;
    reserving_ = true;
    return {status::ok, {this->data_ + pos + header_bytes, n}};
  }
  // Holding room while waiting could stall the reader at the held claim (and every writer
  // with it), so many-to-one keeps no abort room: a plain reserve.
  claim reserve_fragment_until(std::size_t n, bool /*keep_abort_room*/, const detail::limits_t& lim) {
    return reserve_until(n, lim);
  }

  // The writer span (shared memory only; null on the heap, where no writer dies alone).
  // Before each CAS on tail the writer announces [t, t + room): a writer killed after its CAS
  // and before its "in progress" header leaves a zero header below the tail, and the span
  // is how recovery knows whose it is and how far it reaches (shm::byte_ring::recover).
  // Invariant between claims: the span is empty (end <= start) or it is a claim that
  // succeeded, whose end is <= any tail this writer loads later. So storing start first
  // (then end) never shows a span covering bytes this writer did not try to claim: the
  // pair passes through (t, old end), empty since old end <= t. A failed CAS retracts the
  // span (end = start) to restore the invariant. A stale span of a dead writer (its last
  // CAS failed and it died before retracting) can still name room another writer won;
  // recovery copes by never padding beyond the nearest end among the dead writers' spans
  // that cover the zero header, which is within the true owner's unwritten claim.
  void announce(std::uint64_t start, std::uint64_t end) noexcept {
    if (span_ == nullptr) return;
    // release (both): our previous claim's header store happens-before them, so a recovering
    // reader whose acquire load sees this announcement also sees that header (its CAS of a
    // zero header there then fails); the tail CAS's release orders both before the claim.
    span_[0].store(start, std::memory_order_release);
    span_[1].store(end, std::memory_order_release);
  }
  void retract() noexcept {
    // relaxed load: our own word. release store: as in announce(). The span becomes empty;
    // a reader that still sees the failed attempt treats it as a stale span (see above).
    span_[1].store(span_[0].load(std::memory_order_relaxed), std::memory_order_release);
  }

  void refresh() noexcept {
    // acquire: the reader's reads and zeroing of the bytes before head happen-before our
    // writes into them.
    this->head_cache_ = this->ref_.get()->consumer.head.load(std::memory_order_acquire);
  }

  claim reserve_until(std::size_t n, const detail::limits_t& lim) {
    for (;;) {
      claim c = try_reserve(n);
      if (c.status() != status::full) return c;
      const std::uint64_t rec = detail::align8(header_bytes + n);
      auto* l = this->ref_.get();
      const status w = this->wait_room(lim, ringwire::detail::word_sharing::shared, [&] {
        if (this->reader_gone()) return true;
        refresh();
        // relaxed: a hint for the retry, which re-validates with its CAS.
        const std::uint64_t t = l->producer.tail.load(std::memory_order_relaxed);
        const std::uint64_t to_end = this->cap_ - (t & this->mask_);
        const std::uint64_t need = rec > to_end ? to_end + rec : rec;
        return t - this->head_cache_ <= this->cap_ - need;
      });
      if (w != status::ok) return {w, {}};
    }
  }


  void take_span(detail::span_pool<Sync>* pool) {
    if (pool == nullptr) return;
    span_ = pool->take();
    if (span_ == nullptr)
      throw error(errc::too_many_producers, "every writer span of this process's claim is held by a handle (" +
                                                std::to_string(pool->count) + "): close a copy first");
    pool_ = pool;
  }
  void copy_from(const shared_writer& o) {
    auto* l = o.ref_.get();
    if (l == nullptr) return;
    take_span(o.pool_);  // first: it may throw, before anything is counted
    // relaxed: copied from a live handle, so the count is >= 1 and cannot reach 0 meanwhile.
    if (o.counted_) l->consumer.writers.fetch_add(1, std::memory_order_relaxed);
    tag_ = o.tag_;
    counted_ = o.counted_;
    this->ref_ = o.ref_.copy();
    this->data_ = o.data_;
    this->cap_ = o.cap_;
    this->mask_ = o.mask_;
    this->max_payload_ = o.max_payload_;
    this->head_cache_ = o.head_cache_;
    this->wait_ = o.wait_;
    this->scope_ = o.scope_;
    this->metrics_ = o.metrics_;
  }
  template <class V>
  using reset_on_move = typename base::template reset_on_move<V>;
  std::int32_t tag_ = 0;                // the type half of an in-progress header (a move copies it)
  bool counted_ = true;                 // counts in the layout's open writers (a move copies it)
  reset_on_move<atomic_word*> span_;  // shared memory: this handle's writer span (start, end)
  reset_on_move<detail::span_pool<Sync>*> pool_;  // whence span_ came (process-local)
  reset_on_move<std::uint64_t> res_start_;  // data offset of the reserved record's header
  reset_on_move<std::uint64_t> res_rec_;    // bytes claimed for it (aligned)
  reset_on_move<std::uint64_t> res_n_;      // payload bytes reserved
  reset_on_move<std::uint64_t> run_at_;     // try_claim_run: the tail index of the run's next record
  reset_on_move<bool> reserving_;
};

}  // namespace ringwire::byte_ring
