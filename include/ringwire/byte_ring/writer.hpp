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
      if (!c) return c.status;  // only when the reader left meanwhile (one-to-one)
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
    return write_fragmented_until(type, bytes, stream, fragment_size, deadline_limits(Sync::now() + timeout));
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
    put_fragment_header(c.bytes.data(), {type, flags, stream});
    std::memcpy(c.bytes.data() + fragment_header_bytes, bytes.data() + i * f, n);
    self().commit_record(fragment_type, fragment_header_bytes + n);
  }
  status write_fragmented_until(std::int32_t type, std::span<const std::byte> bytes, std::uint16_t stream,
                                std::size_t fragment_size, const limits_t& lim) {
    const std::size_t f = fragment_size_for(type, fragment_size, bytes.size());
    if (f == 0) return status::closed;
    if (bytes.size() <= f) return write_until(type, bytes, lim);
    const std::size_t count = (bytes.size() + f - 1) / f;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t n = fragment_header_bytes + piece(bytes.size(), f, i);
      const claim c = self().reserve_fragment_until(n, /*keep_abort_room=*/i + 1 < count, lim);
      if (!c) {
        if (i != 0 && (c.status == status::timed_out || c.status == status::cancelled)) write_abort(type, stream);
        return c.status;
      }
      fill_fragment(c, type, bytes, f, i, count, stream);
    }
    return status::ok;
  }
  // Commits an abort fragment for `stream` if there is room now (see the top comment).
  void write_abort(std::int32_t type, std::uint16_t stream) {
    const claim c = self().try_reserve(fragment_header_bytes);
    if (!c) return;
    put_fragment_header(c.bytes.data(), {type, frag_abort, stream});
    self().commit_record(fragment_type, fragment_header_bytes);
  }

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
    if (!bytes.empty()) std::memcpy(this->data_ + start + header_bytes, bytes.data(), bytes.size());
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
      // relaxed: as in try_reserve (the claim publishes nothing; refresh() acquired head).
      if (tail.compare_exchange_weak(t, t + need, std::memory_order_relaxed, std::memory_order_relaxed)) break;
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
  std::uint64_t run_at_ = 0;     // try_claim_run: the tail index of the run's next record
  bool reserving_ = false;
};

}  // namespace ringwire::byte_ring
