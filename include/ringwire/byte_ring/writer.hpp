// ringwire/byte_ring/writer.hpp -- the writing ends of a byte ring.
//
//   writer<Sync>         one-to-one: the only writer of its ring (move-only). Its tail and
//                        its cached copy of the reader's head live in the endpoint; a publish
//                        is one relaxed header store, the payload bytes, one release store of
//                        tail and one load of the reader's park word.
//   shared_writer<Sync>  many-to-one: copyable, one copy per writing thread (or process).
//                        Each copy claims with a CAS on the shared tail and commits by a
//                        release store of the record's header (layout.hpp), so writers
//                        never wait for each other except to retry a lost CAS. The ring is
//                        closed for the reader when the last copy is closed or destroyed.
//
// Both: reserve(n) -> claim{status, span of exactly n bytes}, fill it, then commit(type) (all
// n bytes), commit(type, used) (the first `used` bytes) or abort(); one reservation at a time.
// try_write(type, bytes) copies a whole message. A payload above max_payload() throws
// ringwire::error(message_too_large) and a type below 1 throws invalid_message_type (caller
// bugs; the ring is unchanged); channel state comes back as a status: ok, full (try_*),
// closed (the reader is gone, or this writer is closed / moved from), timed_out, cancelled.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stop_token>
#include <utility>

#include "ringwire/byte_ring/endpoint.hpp"

namespace ringwire::byte_ring {

namespace detail {

using limits_t = ringwire::detail::wait_limits;
inline limits_t no_limits() noexcept { return {}; }
inline limits_t stop_limits(const std::stop_token* s) noexcept { return {ringwire::detail::no_deadline, s}; }
inline limits_t deadline_limits(ringwire::detail::clock::time_point d) noexcept { return {d, nullptr}; }

// What writer and shared_writer share: geometry copied from the layout (so a peer scribbling
// on the geometry block cannot move our bounds), the reference, the wait settings.
template <class Sync>
class writer_base {
 public:
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(cap_); }
  [[nodiscard]] std::size_t max_payload() const noexcept { return static_cast<std::size_t>(max_payload_); }
  // True when the reader is gone or this writer is closed: writes will fail.
  [[nodiscard]] bool is_closed() const noexcept { return ref_.get() == nullptr || reader_gone(); }
  void set_wait(const wait_strategy& w) noexcept { wait_ = w; }

 protected:
  writer_base() noexcept = default;
  writer_base(ring_ref<Sync> ref, const options& opt, fence_scope scope) noexcept
      : ref_(std::move(ref)), wait_(opt.writer_wait), scope_(Sync::resolve_scope(scope)) {
    auto* l = ref_.get();
    data_ = l->data();
    cap_ = l->geometry.capacity;
    mask_ = cap_ - 1;
    max_payload_ = l->geometry.max_payload;
    // acquire: the reader's releases before this endpoint was made (a late attach).
    head_cache_ = l->consumer.head.load(std::memory_order_acquire);
  }
  void steal(writer_base& o) noexcept {
    data_ = std::exchange(o.data_, nullptr);
    cap_ = std::exchange(o.cap_, 0);
    mask_ = std::exchange(o.mask_, 0);
    max_payload_ = std::exchange(o.max_payload_, 0);
    head_cache_ = std::exchange(o.head_cache_, 0);
    ref_ = std::move(o.ref_);
    wait_ = o.wait_;
    scope_ = o.scope_;
    parks_ = 0;
  }
  // The reader's flag. relaxed: no data flows through it; it only stops new writes.
  [[nodiscard]] bool reader_gone() const noexcept {
    return ref_.get()->producer.reader_closed.load(std::memory_order_relaxed) != 0;
  }
  [[nodiscard]] ringwire::status full_or_closed() const noexcept {
    return ref_.get() == nullptr || reader_gone() ? ringwire::status::closed : ringwire::status::full;
  }
  // The size check of every reserve; a closed writer (max_payload_ 0) reports closed first.
  [[nodiscard]] bool check_size(std::size_t n) const {
    if (n > max_payload_ || data_ == nullptr) [[unlikely]] {
      if (data_ == nullptr) return false;
      throw_too_large(n, max_payload_);
    }
    return true;
  }
  void header_store(std::uint64_t pos, std::uint64_t h, std::memory_order mo) noexcept {
    Sync::word(header_at(data_, pos)).store(h, mo);
  }
  void notify_reader() noexcept {
    (void)ringwire::detail::notify<Sync>(ref_.get()->producer.reader_park, scope_);
  }
  // Drops this handle's count of open writers; the last one wakes the reader to see closed.
  void drop_writer() noexcept {
    auto* l = ref_.get();
    // release: every commit of this writer happens-before the reader's acquire load that
    // sees the count reach 0 (later decrements continue the release sequence).
    if (l->consumer.writers.fetch_sub(1, std::memory_order_release) == 1) {
      ringwire::detail::notify_close<Sync>(l->producer.reader_park, scope_);
    }
  }

  template <class Ready>
  ringwire::status wait_room(const limits_t& lim, ringwire::detail::word_sharing sharing, Ready&& ready) {
    auto* l = ref_.get();
    if (l == nullptr) return ringwire::status::closed;
    return ringwire::detail::wait_until<Sync>(wait_, l->consumer.writer_park, scope_, lim, parks_,
                                              std::forward<Ready>(ready), sharing);
  }

  std::byte* data_ = nullptr;
  std::uint64_t cap_ = 0;
  std::uint64_t mask_ = 0;
  std::uint64_t max_payload_ = 0;
  std::uint64_t head_cache_ = 0;  // the reader's head as last read (acquire)
  ring_ref<Sync> ref_;
  wait_strategy wait_ = wait_strategy::park();
  fence_scope scope_ = fence_scope::process;
  std::uint64_t parks_ = 0;
};

// What both writer kinds build the same way on their own try_reserve(n),
// reserve_until(n, limits), commit(type, used) and res_n_ (the bytes reserved): the
// waiting reserves, commit of the whole reservation, and the copying writes.
template <class Derived, class Sync>
class write_ops {
 public:
  // n contiguous writable bytes, waiting for room by the writer's wait strategy: ok, or
  // closed / timed_out / cancelled.
  claim reserve(std::size_t n) { return self().reserve_until(n, no_limits()); }
  claim reserve(std::size_t n, std::stop_token stop) { return self().reserve_until(n, stop_limits(&stop)); }
  template <class Rep, class Period>
  claim reserve_for(std::size_t n, std::chrono::duration<Rep, Period> timeout) {
    return self().reserve_until(n, deadline_limits(Sync::now() + timeout));
  }
  // Publishes the whole reservation as one record of `type` (>= 1).
  void commit(std::int32_t type) { self().commit(type, static_cast<std::size_t>(self().res_n_)); }

  // Copies `bytes` in as one record of `type` (>= 1): ok, full, closed; throws
  // invalid_message_type or message_too_large without writing anything.
  status try_write(std::int32_t type, std::span<const std::byte> bytes) {
    check_type(type);
    const claim c = self().try_reserve(bytes.size());
    if (!c) return c.status;
    return copy_commit(type, bytes, c);
  }
  // The same, waiting for room by the writer's wait strategy.
  status write(std::int32_t type, std::span<const std::byte> bytes) { return write_until(type, bytes, no_limits()); }
  status write(std::int32_t type, std::span<const std::byte> bytes, std::stop_token stop) {
    return write_until(type, bytes, stop_limits(&stop));
  }
  template <class Rep, class Period>
  status write_for(std::int32_t type, std::span<const std::byte> bytes, std::chrono::duration<Rep, Period> timeout) {
    return write_until(type, bytes, deadline_limits(Sync::now() + timeout));
  }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  status write_until(std::int32_t type, std::span<const std::byte> bytes, const limits_t& lim) {
    check_type(type);
    const claim c = self().reserve_until(bytes.size(), lim);
    if (!c) return c.status;
    return copy_commit(type, bytes, c);
  }
  status copy_commit(std::int32_t type, std::span<const std::byte> bytes, const claim& c) {
    if (!bytes.empty()) std::memcpy(c.bytes.data(), bytes.data(), bytes.size());
    self().commit(type);
    return status::ok;
  }
};

}  // namespace detail

// ---- one-to-one ------------------------------------------------------------------------
template <class Sync = std_sync>
class writer : public detail::writer_base<Sync>, public detail::write_ops<writer<Sync>, Sync> {
  using base = detail::writer_base<Sync>;
  friend class detail::write_ops<writer<Sync>, Sync>;

 public:
  using detail::write_ops<writer<Sync>, Sync>::commit;
  writer() noexcept = default;
  // Over a layout of kind one_to_one. Adopts the open-writer count format() set. scope:
  // fence_scope::cross_process when the reader may be in another process.
  explicit writer(ring_ref<Sync> ref, const options& opt = {}, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt, scope) {
    RINGWIRE_ASSERT(this->ref_.get()->kind() == ring_kind::one_to_one);
    // acquire: a writer made over memory another writer used before (shared memory).
    tail_ = this->ref_.get()->producer.tail.load(std::memory_order_acquire);
  }
  writer(writer&& o) noexcept { steal(o); }
  writer& operator=(writer&& o) noexcept {
    if (this != &o) {
      close();
      steal(o);
    }
    return *this;
  }
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;
  ~writer() { close(); }

  // n contiguous writable bytes (n <= max_payload(), 0 allowed), or full / closed.
  claim try_reserve(std::size_t n) {
    RINGWIRE_ASSERT(!reserving_);
    if (!this->check_size(n)) return {};
    const std::uint64_t rec = detail::align8(header_bytes + n);
    const std::uint64_t pos = tail_ & this->mask_;
    const std::uint64_t to_end = this->cap_ - pos;
    const std::uint64_t pad = rec > to_end ? to_end : 0;
    if (this->cap_ - (tail_ - this->head_cache_) < pad + rec) [[unlikely]] {
      if (!refresh(pad + rec)) return {this->full_or_closed(), {}};
    }
    if (this->reader_gone()) [[unlikely]] return {};
    if (pad != 0) {
      // relaxed: published with the record by tail's release store in commit().
      this->header_store(pos, detail::pack(static_cast<std::int32_t>(pad), padding_type), std::memory_order_relaxed);
    }
    reserving_ = true;
    res_pad_ = pad;
    res_n_ = n;
    const std::uint64_t start = (tail_ + pad) & this->mask_;
    return {ringwire::status::ok, {this->data_ + start + header_bytes, n}};
  }


  // Publishes the reservation as one record of `type` (>= 1) with all n bytes / the first
  // `used` (<= n) bytes. Throws invalid_message_type (reservation kept) for type < 1.
  void commit(std::int32_t type, std::size_t used) {
    RINGWIRE_ASSERT(reserving_);
    detail::check_type(type);
    if (used > res_n_) [[unlikely]] detail::throw_too_large(used, res_n_);
    const std::uint64_t start = (tail_ + res_pad_) & this->mask_;
    const auto length = static_cast<std::int32_t>(header_bytes + used);
    // relaxed: published by tail's release store just below.
    this->header_store(start, detail::pack(length, type), std::memory_order_relaxed);
    reserving_ = false;
    publish(tail_ + res_pad_ + detail::align8(header_bytes + used));
  }
  // Drops the reservation: nothing is published.
  void abort() noexcept { reserving_ = false; }


  // Closes the writing side: the reader drains what was committed, then sees closed. An open
  // reservation is dropped. Idempotent; also done by the destructor.
  void close() noexcept {
    if (this->ref_.get() == nullptr) return;
    reserving_ = false;
    this->drop_writer();
    this->ref_.reset();
    this->data_ = nullptr;
    this->cap_ = this->max_payload_ = this->head_cache_ = tail_ = 0;
  }

 private:
  // Re-reads head; true when `need` bytes are free. A head ahead of the tail (only a hostile
  // peer writes that) reads as full.
  bool refresh(std::uint64_t need) noexcept {
    auto* l = this->ref_.get();
    if (l == nullptr) return false;
    // acquire: the reader's last reads of the bytes before head happen-before our overwrite.
    this->head_cache_ = l->consumer.head.load(std::memory_order_acquire);
    const std::uint64_t used = tail_ - this->head_cache_;
    return used <= this->cap_ && this->cap_ - used >= need;
  }

  void publish(std::uint64_t new_tail) noexcept {
    tail_ = new_tail;
    // release: the header and payload stores before it happen-before the reader's acquire
    // load of tail that observes it.
    this->ref_.get()->producer.tail.store(new_tail, std::memory_order_release);
    this->notify_reader();
  }

  claim reserve_until(std::size_t n, const detail::limits_t& lim) {
    for (;;) {
      claim c = try_reserve(n);
      if (c.status != status::full) return c;
      const std::uint64_t rec = detail::align8(header_bytes + n);
      const std::uint64_t to_end = this->cap_ - (tail_ & this->mask_);
      const std::uint64_t need = rec > to_end ? to_end + rec : rec;
      const status w = this->wait_room(lim, ringwire::detail::word_sharing::exclusive,
                                       [&] { return refresh(need) || this->reader_gone(); });
      if (w != status::ok) return {w, {}};
    }
  }


  void steal(writer& o) noexcept {
    base::steal(o);
    tail_ = std::exchange(o.tail_, 0);
    res_pad_ = std::exchange(o.res_pad_, 0);
    res_n_ = std::exchange(o.res_n_, 0);
    reserving_ = std::exchange(o.reserving_, false);
  }

  std::uint64_t tail_ = 0;     // our own index (we are its only writer)
  std::uint64_t res_pad_ = 0;  // padding before the reserved record (0 unless it wrapped)
  std::uint64_t res_n_ = 0;    // payload bytes reserved
  bool reserving_ = false;
};

// ---- many-to-one -----------------------------------------------------------------------
template <class Sync = std_sync>
class shared_writer : public detail::writer_base<Sync>, public detail::write_ops<shared_writer<Sync>, Sync> {
  using base = detail::writer_base<Sync>;
  friend class detail::write_ops<shared_writer<Sync>, Sync>;

 public:
  using detail::write_ops<shared_writer<Sync>, Sync>::commit;
  shared_writer() noexcept = default;
  // Over a layout of kind many_to_one: the first handle adopts the open-writer count that
  // format() set to 1; make more by copying (each copy counts as one open writer).
  explicit shared_writer(ring_ref<Sync> ref, const options& opt = {}, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt, scope) {
    RINGWIRE_ASSERT(this->ref_.get()->kind() == ring_kind::many_to_one);
  }
  // For shared memory (shm/byte_ring.hpp): `tag` (>= 1) marks this writer's records while
  // they are in progress (the type half of their "-length" header), so a reader can tell
  // whose claim a dead process left behind; uncounted: neither this handle nor its copies
  // touch the open-writer count -- the attachment they all count on holds one for them.
  shared_writer(ring_ref<Sync> ref, const options& opt, fence_scope scope, std::int32_t tag, bool counted) noexcept
      : base(std::move(ref), opt, scope), tag_(tag), counted_(counted) {
    RINGWIRE_ASSERT(this->ref_.get()->kind() == ring_kind::many_to_one);
  }
  shared_writer(const shared_writer& o) noexcept : base() { copy_from(o); }
  shared_writer& operator=(const shared_writer& o) noexcept {
    if (this != &o) {
      close();
      copy_from(o);
    }
    return *this;
  }
  shared_writer(shared_writer&& o) noexcept { steal(o); }
  shared_writer& operator=(shared_writer&& o) noexcept {
    if (this != &o) {
      close();
      steal(o);
    }
    return *this;
  }
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
      // relaxed: the claim publishes nothing (each header's release store does); the bytes
      // it claims were freed by the reader's release of head, acquired by refresh().
      if (tail.compare_exchange_weak(t, t + pad + rec, std::memory_order_relaxed, std::memory_order_relaxed)) {
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
    }
  }


  void commit(std::int32_t type, std::size_t used) {
    RINGWIRE_ASSERT(reserving_);
    detail::check_type(type);
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
    this->ref_.reset();
    this->data_ = nullptr;
    this->cap_ = this->max_payload_ = this->head_cache_ = 0;
  }

 private:
  void refresh() noexcept {
    // acquire: the reader's reads and zeroing of the bytes before head happen-before our
    // writes into them.
    this->head_cache_ = this->ref_.get()->consumer.head.load(std::memory_order_acquire);
  }

  claim reserve_until(std::size_t n, const detail::limits_t& lim) {
    for (;;) {
      claim c = try_reserve(n);
      if (c.status != status::full) return c;
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


  void copy_from(const shared_writer& o) noexcept {
    auto* l = o.ref_.get();
    if (l == nullptr) return;
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
  }
  void steal(shared_writer& o) noexcept {
    base::steal(o);
    res_start_ = std::exchange(o.res_start_, 0);
    res_rec_ = std::exchange(o.res_rec_, 0);
    res_n_ = std::exchange(o.res_n_, 0);
    reserving_ = std::exchange(o.reserving_, false);
    tag_ = o.tag_;
    counted_ = o.counted_;
  }

  std::int32_t tag_ = 0;         // the type half of an in-progress header
  bool counted_ = true;          // counts in the layout's open writers
  std::uint64_t res_start_ = 0;  // data offset of the reserved record's header
  std::uint64_t res_rec_ = 0;    // bytes claimed for it (aligned)
  std::uint64_t res_n_ = 0;      // payload bytes reserved
  bool reserving_ = false;
};

}  // namespace ringwire::byte_ring
