// ringwire/byte_broadcast/credited_reader.hpp -- a reader of a byte broadcast ring that the
// writer waits for (lossless), over the lossy reader of reader.hpp.
//
// Credited readers (credited_reader, move-only) also publish their cursor -- the next
// sequence they have not consumed -- in a registry entry after every message (and after
// passing skipped sequences), so a writer with credits never overwrites what they have not
// read (writer.hpp); lagged reaches them only for skipped sequences. Joining: take an entry
// -- the first free one (CAS from free), or one the caller chose and guarantees no live
// reader holds (exchange to live: a lock of the caller's own, such as a shared memory
// claim, makes it ours even if a dead holder left it live) -- store a provisional cursor
// (head + 1 as of then: the entry's old one may be ahead of where we will start), full
// fence, read head, start at head + 1 and store that cursor. The full fence is a
// Dekker pair with the full fence that begins the writer's first rescan after each head
// store: either that rescan sees our live entry, or we read a head at least as new as the
// one before it. After every cursor store a credited reader takes a light fence and loads
// the writer's park word (wait.hpp's notify: a compiler barrier and one load of the
// read-mostly control line while the writer runs), waking a writer parked for credits.
// Leaving: entry free (release), full fence, wake the writer's park word.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "ringwire/byte_broadcast/reader.hpp"

namespace ringwire::byte_broadcast {

// A reader the writer waits for (credits). Move-only: it owns one registry entry, freed
// when it is destroyed. Reads exactly like reader; lagged happens to it only for the
// writer's skipped sequences (missed() counts exactly those), never for a message.
template <class Sync = std_sync>
class credited_reader
    : public ringwire::detail::read_calls<credited_reader<Sync>, std::span<std::byte>, read_result, Sync> {
  using ring = layout<Sync>;

 public:
  using buffer_type = typename reader<Sync>::buffer_type;
  using result_type = typename reader<Sync>::result_type;

  credited_reader() noexcept = default;
  // Joins at the first free registry entry. Throws error(invalid_options) when `base` is
  // not attached or the ring has no credits, error(too_many_subscribers) when every entry
  // is taken.
  explicit credited_reader(const reader<Sync>& base) : r_(base) {
    ring* const l = joinable();
    for (std::uint32_t i = 0; i < r_.g_.max_credited; ++i) {
      auto& ce = l->credit(i);
      std::uint32_t expected = ring::credit_free;
      // acq_rel: claims the entry against other joiners (see join for its old cursor).
      if (ce.state.compare_exchange_strong(expected, ring::credit_live, std::memory_order_acq_rel)) {
        join(l, i);
        return;
      }
    }
    throw error(errc::too_many_subscribers, "every credited reader entry is taken");
  }
  // Joins at registry entry `entry`, whatever its state: the caller guarantees that no
  // live reader holds it (a lock of its own, e.g. the shared memory claim of that entry,
  // shm/byte_broadcast.hpp), so a dead holder's entry left live is taken over. Throws
  // error(invalid_options) when `base` is not attached, the ring has no credits or
  // entry >= max_credited.
  credited_reader(const reader<Sync>& base, std::uint32_t entry) : r_(base) {
    ring* const l = joinable();
    if (entry >= r_.g_.max_credited)
      throw error(errc::invalid_options, "credited reader entry " + std::to_string(entry) + " out of range (max_credited " +
                                             std::to_string(r_.g_.max_credited) + ")");
    // acq_rel: ours by the caller's guarantee (a dead holder may have left it live);
    // acquire orders our cursor stores after a previous holder's (see join for its cursor).
    l->credit(entry).state.exchange(ring::credit_live, std::memory_order_acq_rel);
    join(l, entry);
  }
  credited_reader(credited_reader&& o) noexcept : r_(std::move(o.r_)), entry_(o.entry_) { o.r_.ack_ = nullptr; }
  credited_reader& operator=(credited_reader&& o) noexcept {
    if (this != &o) {
      leave();
      r_ = std::move(o.r_);
      entry_ = o.entry_;
      o.r_.ack_ = nullptr;
    }
    return *this;
  }
  credited_reader(const credited_reader&) = delete;
  credited_reader& operator=(const credited_reader&) = delete;
  ~credited_reader() { leave(); }

  read_result try_read(std::span<std::byte> out) noexcept { return r_.try_read(out); }
  template <class Fn>
  read_result try_read_view(Fn&& fn) {
    return r_.try_read_view(std::forward<Fn>(fn));
  }
  // read(out), read(out, stop), read_for and read_until: ringwire::detail::read_calls, over
  // the inner reader's read_limited.
  // Frees the registry entry (the writer stops waiting for this reader) and drops the
  // ring: later reads report closed. Idempotent; also done by the destructor.
  void close() noexcept {
    leave();
    r_.close();
  }
  void set_filter(std::uint64_t value, std::uint64_t mask) noexcept { r_.set_filter(value, mask); }
  void set_wait(const wait_strategy& w) noexcept { r_.set_wait(w); }
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return r_.next_seq(); }
  [[nodiscard]] std::uint64_t received() const noexcept { return r_.received(); }
  [[nodiscard]] std::uint64_t missed() const noexcept { return r_.missed(); }
  [[nodiscard]] std::uint64_t filtered() const noexcept { return r_.filtered(); }
  [[nodiscard]] std::uint64_t parks() const noexcept { return r_.parks(); }
  [[nodiscard]] const geometry& shape() const noexcept { return r_.shape(); }
  [[nodiscard]] fence_scope scope() const noexcept { return r_.scope(); }
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return r_.make_monitor(); }
  // Whether it holds a registry entry (false once moved from or default-constructed).
  [[nodiscard]] bool attached() const noexcept { return r_.ack_ != nullptr; }
  // The registry entry it holds (meaningful while attached()).
  [[nodiscard]] std::uint32_t entry() const noexcept { return entry_; }

 private:
  friend class ringwire::detail::read_calls<credited_reader<Sync>, std::span<std::byte>, read_result, Sync>;
  read_result read_limited(std::span<std::byte> out, const ringwire::detail::wait_limits& lim) {
    return r_.read_limited(out, lim);
  }
  // The ring, once `base` is known to be attached to a ring with credits.
  ring* joinable() const {
    ring* const l = r_.ref_.get();
    if (l == nullptr) throw error(errc::invalid_options, "the reader is not attached");
    if (r_.g_.max_credited == 0) throw error(errc::invalid_options, "the ring was formatted without credits");
    if (r_.read_only_) throw error(errc::invalid_options, "a credited reader writes its cursor: the ring is mapped read-only");
    return l;
  }

  // The join, once entry i is live and ours. Nothing here throws: no entry is left live
  // behind. The entry's old cursor (a previous holder's, or a dead one's) may be AHEAD of
  // where we start: a holder that read message m between its commit and the writer's head
  // store left m + 1 while head may still read m - 1. So first a provisional cursor that
  // cannot be ahead, head + 1 as of now (the head can only grow before our start): a
  // writer that reads it, or any cursor up to our real one, only waits.
  void join(ring* l, std::uint32_t i) noexcept {
    r_.ack_ = &l->credit(i);  // credits_offset() is a constant: no shared offset is trusted
    entry_ = i;
    // The entry's counters start at zero for us (a previous holder's stay otherwise).
    // relaxed (both): statistics; the entry is ours, and no protocol step reads them.
    r_.received_at_join_ = r_.received_;
    r_.parks_at_join_ = r_.parks_;
    r_.ack_->received.store(0, std::memory_order_relaxed);
    r_.ack_->parks.store(0, std::memory_order_relaxed);
    // relaxed (both): ordered before the writer's cursor loads by the fence pair below.
    r_.ack_->cursor.store(l->head.head.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // Dekker with the writer's rescan fence (writer.hpp: the first rescan after a head
    // store begins with Sync::full_fence()): either that rescan (and every later one) sees
    // our live entry and at least the provisional cursor, or we read a head at least as
    // new as the one before it (and the rescan cadence keeps the writer clear of our start
    // until a later rescan sees us). Both sides take a real fence, so this holds for every
    // fence_scope: no heavy fence is needed.
    Sync::full_fence();
    // acquire: pairs with the writer's release store of head.
    r_.n_ = l->head.head.load(std::memory_order_acquire) + 1;
    r_.show_cursor();  // release store of the cursor, then notify the writer
  }

  void leave() noexcept {
    if (r_.ack_ == nullptr) return;
    // release: our last copies happen-before a writer that sees the entry free.
    r_.ack_->state.store(ring::credit_free, std::memory_order_release);
    r_.ack_ = nullptr;
    if constexpr (Sync::parks) {
      // A rare path: a real fence against a writer parked for our credits, then wake it.
      Sync::full_fence();
      ringwire::detail::wake<Sync>(r_.ref_.get()->control.writer_park, r_.scope_);
    }
  }

  reader<Sync> r_;  // owns the ring reference: dropped after leave() (member destruction)
  std::uint32_t entry_ = 0;
};

}  // namespace ringwire::byte_broadcast
