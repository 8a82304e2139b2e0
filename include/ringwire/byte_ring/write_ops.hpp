// ringwire/byte_ring/write_ops.hpp -- what both writer kinds of a byte ring share
// (writer.hpp: one-to-one, shared_writer.hpp: many-to-one): the geometry and wait settings
// (writer_base), the waiting reserves, the copying writes and the fragmented writes built
// on each kind's own try_reserve / reserve_until / commit_record (write_ops, CRTP).
//
// Fragmented writes (layout.hpp's fragment records; fragment.hpp reassembles them):
// write_fragmented(type, bytes, stream, fragment_size) sends a message of any length. One of
// at most `fragment_size` bytes (default and maximum max_fragment() = max_payload() - 24) goes
// as one ordinary record of `type`, exactly as write() would; a longer one as
// ceil(size / fragment_size) fragment records (som on the first, eom on the last), all
// pieces fragment_size bytes but the last. Once its first fragment is committed a message is
// always finished or aborted, never left half-written by a return:
//   try_write_fragmented   all or nothing: starts only when every fragment fits in the room
//                          free now (one-to-one: checked against the reader's head;
//                          many-to-one: claimed at once by one CAS), else full. A message
//                          whose fragments exceed the ring's capacity is always full.
//   write_fragmented       waits per fragment (the writer's wait strategy).
//   write_fragmented_for / (stop_token)  may time out / be cancelled mid-message: the
//                          writer then commits an abort fragment (no bytes, flags abort) so
//                          the reassembler drops the partial message. One-to-one guarantees
//                          its room (each non-final fragment is written only when a 16-byte
//                          abort record also fits after it -- always possible in an empty
//                          ring, since a fragment record is at most capacity/2 - 16 bytes --
//                          and no one else takes room).
//                          Many-to-one cannot hold room while waiting (the reader would stall
//                          at the held claim and every writer with it), so the abort is tried
//                          without waiting; if even 16 bytes are not free it is not written,
//                          and the reassembler drops the open message when that stream's next
//                          som arrives (drop_reason::restarted) or the ring closes (unfinished).
// Stream ids: the reassembler joins fragments by stream id, so writers fragmenting at the same
// time on one many-to-one ring must use distinct ids (e.g. a thread or process index).
// Ordinary records of other writers may lie between the fragments of a message.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stop_token>
#include <utility>

#include "ringwire/byte_ring/endpoint.hpp"
#include "ringwire/byte_ring/stats.hpp"
#include "ringwire/detail/call_surface.hpp"
#include "ringwire/metrics.hpp"

namespace ringwire::byte_ring {

namespace detail {

using limits_t = ringwire::detail::wait_limits;
inline limits_t no_limits() noexcept { return {}; }
inline limits_t stop_limits(const std::stop_token* s) noexcept { return {ringwire::detail::no_deadline, s}; }
inline limits_t deadline_limits(ringwire::detail::clock::time_point d) noexcept { return {d, nullptr}; }

// Bytes a run of `count` records (payload sizes size_of(i)) takes from tail index t, wrap
// padding included; stops counting once above `cap` (such a run never fits).
template <class SizeOf>
std::uint64_t run_bytes(std::uint64_t t, std::uint64_t cap, std::size_t count, SizeOf&& size_of) noexcept {
  const std::uint64_t start = t;
  for (std::size_t i = 0; i < count && t - start <= cap; ++i) {
    const std::uint64_t rec = align8(header_bytes + size_of(i));
    const std::uint64_t to_end = cap - (t & (cap - 1));
    if (rec > to_end) t += to_end;
    t += rec;
  }
  return t - start;
}

// What writer and shared_writer share: the ring's bounds, and through detail::endpoint the
// reference, the wait settings and the close-first move assignment. Derived: the writer kind.
template <class Sync, class Derived>
class writer_base : public ringwire::detail::endpoint<Derived, ring_ref<Sync>>, public ring_bounds {
  using base = ringwire::detail::endpoint<Derived, ring_ref<Sync>>;

 public:
  using tag_type = std::int32_t;  // a record's type id (>= 1): concepts.hpp's record_writer

  // True when the reader is gone or this writer is closed: writes will fail.
  [[nodiscard]] bool is_closed() const noexcept { return ref_.get() == nullptr || reader_gone(); }
  // A read-only view of the ring's counters (stats.hpp); empty once this writer is closed.
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 protected:
  writer_base() noexcept = default;
  writer_base(ring_ref<Sync> ref, const options& opt, fence_scope scope) noexcept
      : base(std::move(ref), opt.sender_wait, Sync::resolve_scope(scope), opt.metrics) {
    auto* l = ref_.get();
    take_bounds(*l);
    // acquire: the reader's releases before this endpoint was made (a late attach).
    head_cache_ = l->consumer.head.load(std::memory_order_acquire);
  }
  // The reader's flag. relaxed: no data flows through it; it only stops new writes.
  [[nodiscard]] bool reader_gone() const noexcept {
    return ref_.get()->producer.reader_closed.load(std::memory_order_relaxed) != 0;
  }
  // Why a reserve found no room after re-reading head. Counts the full event (metrics on).
  [[nodiscard]] ringwire::status full_or_closed() noexcept {
    if (ref_.get() == nullptr || reader_gone()) return ringwire::status::closed;
    if (metrics_) count(ref_.get()->producer.full_events);
    return ringwire::status::full;
  }
  // Adds to one of the writers' counters (layout.hpp "Counters"): slow paths, metrics only.
  void count(typename layout<Sync>::template atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    if constexpr (Derived::many_writers) {
      // relaxed: a statistic no protocol step reads; several writers (threads, processes)
      // add to it, so a read-modify-write.
      counter.fetch_add(by, std::memory_order_relaxed);
    } else {
      ringwire::detail::bump(counter, by);  // the only writer: a relaxed load and store
    }
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
    auto* l = ref_.get();
    if (ringwire::detail::notify<Sync>(l->producer.reader_park, scope_)) [[unlikely]] {
      if (metrics_) count(l->producer.reader_wakes);
    }
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
    const ringwire::status s = ringwire::detail::wait_until<Sync>(wait_, l->consumer.writer_park, scope_, ref_.watch(lim),
                                                                  parks_, std::forward<Ready>(ready), sharing);
    if (metrics_ && parks_ != 0) {
      count(l->producer.writer_parks, parks_);
      parks_ = 0;
    }
    return s;
  }

  using base::metrics_, base::ref_, base::scope_, base::wait_;
  // A move leaves these zero in the source, as the bounds.
  template <class V>
  using reset_on_move = ringwire::detail::reset_on_move<V>;
  reset_on_move<std::uint64_t> head_cache_;  // the reader's head as last read (acquire)
  reset_on_move<std::uint64_t> parks_;  // futex sleeps not yet added to writer_parks
};

// What both writer kinds build the same way on their own try_reserve(n),
// reserve_until(n, limits), commit(type, used) and res_n_ (the bytes reserved): the
// waiting reserves, commit of the whole reservation, and the copying writes.
template <class Derived, class Sync>
class write_ops : public ringwire::detail::write_calls<Derived, std::int32_t, Sync> {
  friend class ringwire::detail::write_calls<Derived, std::int32_t, Sync>;

 public:
  // n contiguous writable bytes, waiting for room by the writer's wait strategy: ok, or
  // closed / timed_out / cancelled.
  claim reserve(std::size_t n) { return self().reserve_until(n, no_limits()); }
  claim reserve(std::size_t n, std::stop_token stop) { return self().reserve_until(n, stop_limits(&stop)); }
  template <class Rep, class Period>
  claim reserve_for(std::size_t n, std::chrono::duration<Rep, Period> timeout) {
    return self().reserve_until(n, deadline_limits(ringwire::detail::deadline_after(Sync::now(), timeout)));
  }
  // Publishes the whole reservation as one record of `type` (>= 1).
  void commit(std::int32_t type) { self().commit(type, static_cast<std::size_t>(self().res_n_)); }

  // Copies `bytes` in as one record of `type` (>= 1): ok, full, closed; throws
  // invalid_message_type or message_too_large without writing anything.
  status try_write(std::int32_t type, std::span<const std::byte> bytes) {
    check_type(type);
    const claim c = self().try_reserve(bytes.size());
    if (!c) return c.status();
    return copy_commit(type, bytes, c);
  }
  // The same, waiting for room by the writer's wait strategy: write(type, bytes),
  // write(type, bytes, stop), write_for and write_until come from
  // ringwire::detail::write_calls (detail/call_surface.hpp), over write_limited below.

  // The largest piece one fragment record carries: max_payload() - 24 = capacity/2 - 32 (the
  // fragment header, and room for a 16-byte abort record after the fragment even when it
  // starts the lap behind a padding record: see the top comment). 0 once closed, and for a
  // 64-byte ring (too small to fragment: messages above max_payload() throw there).
  [[nodiscard]] std::size_t max_fragment() const noexcept {
    const std::size_t m = self_c().max_payload();
    return m > fragment_header_bytes + abort_record ? m - fragment_header_bytes - abort_record : 0;
  }
  // Writes `bytes` (any length) as one message of `type` (>= 1), fragmented when longer than
  // fragment_size (0: max_fragment()); see the top comment. ok, full (nothing written),
  // closed. Throws invalid_message_type, or message_too_large for fragment_size above
  // max_fragment(), before writing anything.
  status try_write_fragmented(std::int32_t type, std::span<const std::byte> bytes, std::uint16_t stream = 0,
                              std::size_t fragment_size = 0) {
    const std::size_t f = fragment_size_for(type, fragment_size, bytes.size());
    if (f == 0) return status::closed;
    if (bytes.size() <= f) return try_write(type, bytes);
    const std::size_t count = (bytes.size() + f - 1) / f;
    const auto size_of = [&](std::size_t i) { return fragment_header_bytes + piece(bytes.size(), f, i); };
    const status s = self().try_claim_run(count, size_of);
    if (s != status::ok) return s;
    for (std::size_t i = 0; i < count; ++i) {
      const claim c = self().run_next(size_of(i));
      if (!c) return c.status();  // only when the reader left meanwhile (one-to-one)
      fill_fragment(c, type, bytes, f, i, count, stream);
    }
    return status::ok;
  }
  // The same, waiting for room for each fragment by the writer's wait strategy.
  status write_fragmented(std::int32_t type, std::span<const std::byte> bytes, std::uint16_t stream = 0,
                          std::size_t fragment_size = 0) {
    return write_fragmented_until(type, bytes, stream, fragment_size, no_limits());
  }
  // Cancelled by `stop` mid-message: an abort fragment is committed (top comment).
  status write_fragmented(std::int32_t type, std::span<const std::byte> bytes, std::stop_token stop,
                          std::uint16_t stream = 0, std::size_t fragment_size = 0) {
    return write_fragmented_until(type, bytes, stream, fragment_size, stop_limits(&stop));
  }
  // Timed out mid-message: an abort fragment is committed (top comment); returns timed_out.
  template <class Rep, class Period>
  status write_fragmented_for(std::int32_t type, std::span<const std::byte> bytes,
                              std::chrono::duration<Rep, Period> timeout, std::uint16_t stream = 0,
                              std::size_t fragment_size = 0) {
    return write_fragmented_until(type, bytes, stream, fragment_size, deadline_limits(ringwire::detail::deadline_after(Sync::now(), timeout)));
  }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  const Derived& self_c() const noexcept { return static_cast<const Derived&>(*this); }

  static constexpr std::size_t abort_record = header_bytes + fragment_header_bytes;

  // The chosen piece size (0: the writer is closed). Throws for a bad type or size.
  std::size_t fragment_size_for(std::int32_t type, std::size_t fragment_size, std::size_t message) const {
    check_type(type);
    if (self_c().max_payload() == 0) return 0;
    const std::size_t max = max_fragment();
    if (fragment_size > max || (max == 0 && message > self_c().max_payload()))
      throw_too_large(max == 0 ? message : fragment_size, max == 0 ? self_c().max_payload() : max);
    if (max == 0) return self_c().max_payload();  // a 64-byte ring: plain records only
    return fragment_size == 0 ? max : fragment_size;
  }
  // Bytes of piece i of a message of n bytes cut into pieces of f.
  static std::size_t piece(std::size_t n, std::size_t f, std::size_t i) noexcept {
    const std::size_t at = i * f;
    return n - at < f ? n - at : f;
  }
  // Writes fragment i's header and piece into the claim and commits it.
  void fill_fragment(const claim& c, std::int32_t type, std::span<const std::byte> bytes, std::size_t f,
                     std::size_t i, std::size_t count, std::uint16_t stream) {
    const std::size_t n = piece(bytes.size(), f, i);
    std::uint16_t flags = 0;
    if (i == 0) flags |= frag_som;
    if (i + 1 == count) flags |= frag_eom;
    put_fragment_header(c.bytes().data(), {type, flags, stream});
    copy_payload(c.bytes().data() + fragment_header_bytes, bytes.data() + i * f, n);
    self().commit_record(fragment_type, fragment_header_bytes + n);
  }
  status write_fragmented_until(std::int32_t type, std::span<const std::byte> bytes, std::uint16_t stream,
                                std::size_t fragment_size, const limits_t& lim) {
    const std::size_t f = fragment_size_for(type, fragment_size, bytes.size());
    if (f == 0) return status::closed;
    if (bytes.size() <= f) return write_limited(type, bytes, lim);
    const std::size_t count = (bytes.size() + f - 1) / f;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t n = fragment_header_bytes + piece(bytes.size(), f, i);
      const claim c = self().reserve_fragment_until(n, /*keep_abort_room=*/i + 1 < count, lim);
      if (!c) {
        if (i != 0 && (c.status() == status::timed_out || c.status() == status::cancelled)) write_abort(type, stream);
        return c.status();
      }
      fill_fragment(c, type, bytes, f, i, count, stream);
    }
    return status::ok;
  }
  // Commits an abort fragment for `stream` if there is room now (see the top comment).
  void write_abort(std::int32_t type, std::uint16_t stream) {
    const claim c = self().try_reserve(fragment_header_bytes);
    if (!c) return;
    put_fragment_header(c.bytes().data(), {type, frag_abort, stream});
    self().commit_record(fragment_type, fragment_header_bytes);
  }

  status write_limited(std::int32_t type, std::span<const std::byte> bytes, const limits_t& lim) {
    check_type(type);
    const claim c = self().reserve_until(bytes.size(), lim);
    if (!c) return c.status();
    return copy_commit(type, bytes, c);
  }
  status copy_commit(std::int32_t type, std::span<const std::byte> bytes, const claim& c) {
    if (!bytes.empty()) copy_payload(c.bytes().data(), bytes.data(), bytes.size());
    self().commit(type);
    return status::ok;
  }
};

}  // namespace detail

}  // namespace ringwire::byte_ring
