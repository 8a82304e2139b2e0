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
// Both: reserve(n) -> claim (status(), bytes(): exactly n bytes), fill it, then commit(type) (all
// n bytes), commit(type, used) (the first `used` bytes) or abort(); one reservation at a time.
// try_write(type, bytes) copies a whole message. A payload above max_payload() throws
// ringwire::error(message_too_large) and a type below 1 throws invalid_message_type (caller
// bugs; the ring is unchanged); channel state comes back as a status: ok, full (try_*),
// closed (the reader is gone, or this writer is closed / moved from), timed_out, cancelled.
//
// The base they share, and fragmented writes (write_fragmented and friends, members of
// both): write_ops.hpp. shared_writer lives in shared_writer.hpp, included at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include "ringwire/byte_ring/write_ops.hpp"

namespace ringwire::byte_ring {

// ---- one-to-one ------------------------------------------------------------------------
template <class Sync = std_sync>
class writer : public detail::writer_base<Sync, writer<Sync>>, public detail::write_ops<writer<Sync>, Sync> {
  using base = detail::writer_base<Sync, writer<Sync>>;
  friend class detail::write_ops<writer<Sync>, Sync>;

 public:
  using detail::write_ops<writer<Sync>, Sync>::commit;
  static constexpr bool many_writers = false;  // the ring's only writer (its counters: a plain bump)
  writer() noexcept = default;
  // Over a layout of kind one_to_one. Adopts the open-writer count format() set. scope:
  // fence_scope::cross_process when the reader may be in another process.
  explicit writer(ring_ref<Sync> ref, const options& opt = {}, fence_scope scope = fence_scope::process) noexcept
      : base(std::move(ref), opt, scope) {
    RINGWIRE_ASSERT(this->ref_.get()->kind() == ring_kind::one_to_one);
    // acquire: a writer made over memory another writer used before (shared memory).
    tail_ = this->ref_.get()->producer.tail.load(std::memory_order_acquire);
  }
  writer(writer&&) noexcept = default;
  writer& operator=(writer&&) noexcept = default;  // closes this writer first (detail/endpoint.hpp)
  ~writer() { close(); }

  // n contiguous writable bytes (n <= max_payload(), 0 allowed), or full / closed.
  claim try_reserve(std::size_t n) {
    RINGWIRE_ASSERT(!reserving_);
    if (!this->check_size(n)) return {};
    std::uint64_t pad = 0;
    if (const status st = make_room(detail::align8(header_bytes + n), pad); st != status::ok) [[unlikely]]
      return {st, {}};
    reserving_ = true;
    res_pad_ = pad;
    res_n_ = n;
    const std::uint64_t start = (tail_ + pad) & this->mask_;
    return {ringwire::status::ok, {this->data_ + start + header_bytes, n}};
  }

  // Copies `bytes` in as one record of `type` (>= 1): ok, full, closed. The reservation's
  // steps without its bookkeeping (the copying write is the common case: fewer stores and
  // branches per message). Throws invalid_message_type / message_too_large, writing nothing.
  status try_write(std::int32_t type, std::span<const std::byte> bytes) {
    RINGWIRE_ASSERT(!reserving_);
    detail::check_type(type);
    if (!this->check_size(bytes.size())) return status::closed;
    const std::uint64_t length = header_bytes + bytes.size();
    std::uint64_t pad = 0;
    if (const status st = make_room(detail::align8(length), pad); st != status::ok) [[unlikely]] return st;
    const std::uint64_t start = (tail_ + pad) & this->mask_;
    if (!bytes.empty()) detail::copy_payload(this->data_ + start + header_bytes, bytes.data(), bytes.size());
    // relaxed: published by tail's release store in publish().
    this->header_store(start, detail::pack(static_cast<std::int32_t>(length), type), std::memory_order_relaxed);
    publish(tail_ + pad + detail::align8(length));
    return status::ok;
  }


  // Publishes the reservation as one record of `type` (>= 1) with all n bytes / the first
  // `used` (<= n) bytes. Throws invalid_message_type (reservation kept) for type < 1.
  void commit(std::int32_t type, std::size_t used) {
    detail::check_type(type);
    commit_record(type, used);
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
  // Room for a record of `rec` bytes at the tail: ok with `pad` = the padding record needed
  // before it (0 unless it would cross the end; written here), or full / closed.
  status make_room(std::uint64_t rec, std::uint64_t& pad) noexcept {
    const std::uint64_t pos = tail_ & this->mask_;
    const std::uint64_t to_end = this->cap_ - pos;
    pad = rec > to_end ? to_end : 0;
    if (this->cap_ - (tail_ - this->head_cache_) < pad + rec) [[unlikely]] {
      if (!refresh(pad + rec)) return this->full_or_closed();
    }
    if (this->reader_gone()) [[unlikely]] return status::closed;
    if (pad != 0) {
      // relaxed: published with the record by tail's release store in publish().
      this->header_store(pos, detail::pack(static_cast<std::int32_t>(pad), padding_type), std::memory_order_relaxed);
    }
    return status::ok;
  }

  // commit() without the type check (fragment records carry type -2).
  void commit_record(std::int32_t type, std::size_t used) {
    RINGWIRE_ASSERT(reserving_);
    if (used > res_n_) [[unlikely]] detail::throw_too_large(used, res_n_);
    const std::uint64_t start = (tail_ + res_pad_) & this->mask_;
    const auto length = static_cast<std::int32_t>(header_bytes + used);
    // relaxed: published by tail's release store just below.
    this->header_store(start, detail::pack(length, type), std::memory_order_relaxed);
    reserving_ = false;
    publish(tail_ + res_pad_ + detail::align8(header_bytes + used));
  }

  // Fragmented writes (write_ops). All-or-nothing: ok when the records of sizes
  // size_of(0..count-1) all fit from the tail now; the sole writer is the only one to take
  // room, so each run_next() then succeeds (unless the reader leaves: closed).
  template <class SizeOf>
  status try_claim_run(std::size_t count, SizeOf&& size_of) {
    if (this->data_ == nullptr) return status::closed;
    const std::uint64_t need = detail::run_bytes(tail_, this->cap_, count, size_of);
    if (need > this->cap_ - (tail_ - this->head_cache_)) {
      if (!refresh(need)) return this->full_or_closed();
    }
    if (this->reader_gone()) return status::closed;
    return status::ok;
  }
  claim run_next(std::size_t n) { return try_reserve(n); }
  // One fragment record of payload n; with keep_abort_room, only once a 16-byte abort record
  // also fits after it, so a later timeout can always commit the abort.
  claim reserve_fragment_until(std::size_t n, bool keep_abort_room, const detail::limits_t& lim) {
    if (!keep_abort_room) return reserve_until(n, lim);
    const auto size_of = [n](std::size_t i) { return i == 0 ? n : fragment_header_bytes; };
    for (;;) {
      const status s = try_claim_run(2, size_of);
      if (s == status::ok) return try_reserve(n);
      if (s != status::full) return {s, {}};
      const std::uint64_t need = detail::run_bytes(tail_, this->cap_, 2, size_of);
      const status w = this->wait_room(lim, ringwire::detail::word_sharing::exclusive,
                                       [&] { return refresh(need) || this->reader_gone(); });
      if (w != status::ok) return {w, {}};
    }
  }

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
      if (c.status() != status::full) return c;
      const std::uint64_t rec = detail::align8(header_bytes + n);
      const std::uint64_t to_end = this->cap_ - (tail_ & this->mask_);
      const std::uint64_t need = rec > to_end ? to_end + rec : rec;
      const status w = this->wait_room(lim, ringwire::detail::word_sharing::exclusive,
                                       [&] { return refresh(need) || this->reader_gone(); });
      if (w != status::ok) return {w, {}};
    }
  }


  template <class V>
  using reset_on_move = typename base::template reset_on_move<V>;
  reset_on_move<std::uint64_t> tail_;     // our own index (we are its only writer)
  reset_on_move<std::uint64_t> res_pad_;  // padding before the reserved record (0 unless it wrapped)
  reset_on_move<std::uint64_t> res_n_;    // payload bytes reserved
  reset_on_move<bool> reserving_;
};

}  // namespace ringwire::byte_ring

#include "ringwire/byte_ring/shared_writer.hpp"
