// ringwire/byte_broadcast/writer.hpp -- the one writer of a byte broadcast ring.
//
// Move-only; one thread at a time publishes. One publish of message n, `size` bytes:
//   1. place the chunk: a = pos_, moved to the next multiple of region_bytes if the 8-aligned
//      chunk would cross the region's end; b = a + align8(size);
//   2. if b > dirty: dirty = b + region/8 (relaxed) and fence(release)   (layout.hpp);
//   3. the payload as relaxed 64-bit word stores (Sync::word);
//   4. the entry's seqlock write: stamp 2n-1, fence(release), signature / pos / size|ctl /
//      tspub as relaxed word stores, stamp 2n (release);
//   5. head = n (release): read by readers only when they join or resynchronise.
// No read-modify-write, no syscall, no wait: a lossy writer never looks at its readers.
//
// Credits (geometry::max_credited > 0). A credited reader publishes its cursor (the next
// sequence it has not consumed) in its registry entry. The writer caches the limits the
// slowest live cursor c allowed at its last registry scan
//   credit_seq = c + depth - 1,   credit_end = pos(c) + region - region/8
// (none when every credited reader has consumed everything; pos(c) is message c's stream
// position, read back from the writer's own entry; region/8 is the dirty step, layout.hpp)
// and rescans only when a publish would pass them (Firedancer's fctl "refresh when
// exhausted") or the cadence seq + depth/2, pos + region/2 of the last scan. The cadence
// bounds how far the writer runs between two scans, so a reader that joins in between
// (claims its entry, full fence, reads head, starts after it) is seen before any message
// from its starting point can be overwritten: each scan begins with a full fence after the
// writer's last head store, a Dekker pair with the joiner's fence (either the joiner reads
// that head, or the scan sees the joiner).
// try_publish then says status::full instead of overwriting; publish() waits by its
// wait strategy (spin, yield or back off: the writer never parks, so readers never wake it).
//
// Errors. A payload above max_message throws ringwire::error(errc::message_too_large) and
// publishes nothing: a message is never truncated. After close() every publish says closed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::byte_broadcast {

namespace detail {

template <class Sync>
using ring_ref = ringwire::detail::counted_ref<layout<Sync>, Sync>;

// Polls ready() with the strategy's spins, then yields or backs off (park degrades to
// spin_then_yield: nothing in this ring ever wakes a sleeper). ok, timed_out or cancelled.
template <class Sync, class Ready>
status poll_until(const wait_strategy& ws, const ringwire::detail::wait_limits& lim, Ready&& ready) {
  for (std::uint32_t i = 0;; ++i) {
    if (ready()) return status::ok;
    if (i % 64 == 63) {
      if (auto s = ringwire::detail::limit_reached<Sync>(lim)) return *s;
    }
    if (i < ws.spins() || ws.which() == wait_strategy::kind::busy_spin) {
      Sync::cpu_relax();
    } else if (ws.which() == wait_strategy::kind::backoff) {
      const std::uint32_t doublings = std::min<std::uint32_t>(i - ws.spins(), 20);
      Sync::sleep_for(std::min<std::chrono::nanoseconds>(ws.max_sleep(), std::chrono::microseconds(1ll << doublings)));
    } else {
      Sync::yield();
    }
  }
}

}  // namespace detail

template <class Sync = std_sync>
class writer {
  using ring = layout<Sync>;

 public:
  writer() noexcept = default;
  // Takes the writing end of a formatted ring. Resumes after whatever the ring holds: the
  // next sequence after head, the next chunk at dirty (never below any written byte).
  explicit writer(detail::ring_ref<Sync> ref) noexcept : ref_(std::move(ref)) {
    ring* l = ref_.get();
    g_ = geometry{l->header.depth, l->header.region_bytes, l->header.max_message, l->header.max_credited};
    // relaxed: endpoints are made before they are handed to their threads.
    seq_ = l->head.head.load(std::memory_order_relaxed);
    dirty_ = l->dirty.dirty.load(std::memory_order_relaxed);
    pos_ = dirty_;
    mask_ = g_.depth - 1;
    region_mask_ = g_.region_bytes - 1;
    meta_ = &l->meta(0);
    payload_ = l->payload();
    credited_ = g_.max_credited > 0;
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

  // Publishes `payload` as one message. ok, full (credits: a credited reader would lose a
  // message) or closed. Throws error(message_too_large) above max_message.
  status try_publish(std::uint64_t signature, std::span<const std::byte> payload, std::uint16_t ctl = ctl_whole) {
    if (ref_.get() == nullptr) return status::closed;
    check_size(payload.size());
    const std::uint64_t a = place(payload.size());
    if (credited_ && !may_write(a + ring::align8(payload.size()))) return status::full;
    write(signature, payload, ctl, a);
    return status::ok;
  }

  // As try_publish, but waits (wait strategy) while credits are exhausted. Lossy: never waits.
  status publish(std::uint64_t signature, std::span<const std::byte> payload, std::uint16_t ctl = ctl_whole) {
    return publish_until(signature, payload, ctl, {});
  }
  template <class Rep, class Period>
  status publish_for(std::uint64_t signature, std::span<const std::byte> payload, std::chrono::duration<Rep, Period> timeout,
                     std::uint16_t ctl = ctl_whole) {
    return publish_until(signature, payload, ctl, {Sync::now() + timeout, nullptr});
  }

  // Closes the ring: readers drain what is still valid, then see closed. Idempotent.
  void close() noexcept {
    ring* l = ref_.get();
    if (l == nullptr) return;
    // release: every publish happens-before a reader's acquire load that sees closed.
    l->control.closed.store(1, std::memory_order_release);
    ref_.reset();
  }

  [[nodiscard]] bool is_closed() const noexcept { return ref_.get() == nullptr; }
  [[nodiscard]] std::uint64_t published() const noexcept { return seq_; }
  [[nodiscard]] std::uint64_t max_message() const noexcept { return g_.max_message; }
  [[nodiscard]] std::uint64_t depth() const noexcept { return g_.depth; }
  [[nodiscard]] std::uint64_t region_bytes() const noexcept { return g_.region_bytes; }
  // Registry rescans so far (credits only): the cost of flow control.
  [[nodiscard]] std::uint64_t rescans() const noexcept { return rescans_; }
  void set_wait(const wait_strategy& w) noexcept { wait_ = w; }

 private:
  status publish_until(std::uint64_t signature, std::span<const std::byte> payload, std::uint16_t ctl,
                       const ringwire::detail::wait_limits& lim) {
    if (ref_.get() == nullptr) return status::closed;
    check_size(payload.size());
    const std::uint64_t a = place(payload.size());
    if (credited_) {
      const std::uint64_t end = a + ring::align8(payload.size());
      const status st = detail::poll_until<Sync>(wait_, lim, [&] { return may_write(end); });
      if (st != status::ok) return st;
    }
    write(signature, payload, ctl, a);
    return status::ok;
  }

  void check_size(std::size_t n) const {
    if (n > g_.max_message) [[unlikely]]
      throw error(errc::message_too_large, "payload of " + std::to_string(n) + " bytes exceeds max_message " +
                                               std::to_string(g_.max_message) + " (never truncated)");
  }

  // Where a chunk of n bytes starts: pos_, or the next region start if it would wrap.
  [[nodiscard]] std::uint64_t place(std::uint64_t n) const noexcept {
    const std::uint64_t len = ring::align8(n);
    if ((pos_ & region_mask_) + len > g_.region_bytes) return (pos_ | region_mask_) + 1;
    return pos_;
  }

  void write(std::uint64_t signature, std::span<const std::byte> payload, std::uint16_t ctl, std::uint64_t a) noexcept {
    ring* const l = ref_.get();
    const std::uint64_t n = seq_ + 1;
    const std::uint64_t len = ring::align8(payload.size());
    const std::uint64_t end = a + len;
    if (end > dirty_) {
      dirty_ = end + g_.region_bytes / 8;
      // relaxed: ordered before the payload stores by the release fence below.
      l->dirty.dirty.store(dirty_, std::memory_order_relaxed);
      // release fence: a reader whose copy saw any payload store below sees this dirty
      // (or later) after its acquire fence, and rejects the copy (layout.hpp).
      Sync::fence(std::memory_order_release);
    }
    std::uint64_t* const words = payload_ + ((a & region_mask_) >> 3);
    const std::size_t full = payload.size() / 8;
    for (std::size_t i = 0; i < full; ++i) {
      std::uint64_t w;
      std::memcpy(&w, payload.data() + i * 8, 8);
      // relaxed: may race with a reader's copy; dirty and the stamps carry the ordering.
      Sync::word(words[i]).store(w, std::memory_order_relaxed);
    }
    if (const std::size_t tail = payload.size() % 8; tail != 0) {
      std::uint64_t w = 0;
      std::memcpy(&w, payload.data() + full * 8, tail);
      // relaxed: as above.
      Sync::word(words[full]).store(w, std::memory_order_relaxed);
    }

    typename ring::meta_entry& e = meta_[n & mask_];
    // relaxed: ordered before the field stores by the release fence below.
    e.stamp.store(ring::writing(n), std::memory_order_relaxed);
    // release fence: a reader whose field load sees a store below sees this odd stamp (or
    // later) in its re-check, after its acquire fence.
    Sync::fence(std::memory_order_release);
    const auto ts = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Sync::now().time_since_epoch()).count());
    // relaxed: the stamps carry the ordering (seqlock).
    Sync::word(e.signature).store(signature, std::memory_order_relaxed);
    Sync::word(e.pos).store(a, std::memory_order_relaxed);
    Sync::word(e.size_ctl).store(ring::pack(static_cast<std::uint32_t>(payload.size()), ctl), std::memory_order_relaxed);
    Sync::word(e.tspub).store(ts, std::memory_order_relaxed);
    // release: payload and fields happen-before a reader's acquire load that sees 2n.
    e.stamp.store(ring::committed(n), std::memory_order_release);
    // release: a reader that resynchronises from head (acquire) finds message n committed.
    l->head.head.store(n, std::memory_order_release);
    seq_ = n;
    pos_ = end;
  }

  // Credits: may the next message (seq_ + 1), ending at stream byte `end`, be written?
  bool may_write(std::uint64_t end) noexcept {
    if (seq_ + 1 <= limit_seq_ && end <= limit_end_) [[likely]] return true;
    rescan();
    return seq_ + 1 <= credit_seq_ && end <= credit_end_;
  }

  // Reads the registry: credit_* are the real limits the slowest credited reader allows;
  // limit_* add the rescan cadence (the next publish past them rescans first).
  void rescan() noexcept {
    ring* const l = ref_.get();
    ++rescans_;
    // Dekker with a joining credited reader's fence (see the top of this header): after
    // our last head store, before reading the registry.
    Sync::full_fence();
    std::uint64_t c = std::numeric_limits<std::uint64_t>::max();
    for (std::uint32_t i = 0; i < g_.max_credited; ++i) {
      auto& ce = l->credit(i);
      // acquire: a live entry's cursor is read after the state that made it live.
      if (ce.state.load(std::memory_order_acquire) != ring::credit_live) continue;
      // acquire: the reader's copies of messages below its cursor happen-before our
      // overwrite of them.
      c = std::min(c, ce.cursor.load(std::memory_order_acquire));
    }
    credit_seq_ = credit_end_ = std::numeric_limits<std::uint64_t>::max();
    if (c <= seq_) {  // a credited reader has not consumed message c yet
      credit_seq_ = c + g_.depth - 1;
      if (c + g_.depth > seq_) {  // else c's entry is gone (a provisional cursor): seq blocks
        // relaxed: our own store (single writer); the entry still holds message c.
        const std::uint64_t pos_c = Sync::word(meta_[c & mask_].pos).load(std::memory_order_relaxed);
        // Less one dirty step: the dirty value a write stores (end + region/8) must not
        // pass pos(c) + region either, or the reader would reject message c as overrun.
        credit_end_ = pos_c + g_.region_bytes - g_.region_bytes / 8;
      }
    }
    // The cadence: between two rescans every write ends below pos_ + region/2, so with the
    // dirty step it stays clear of a reader that joined after this rescan (it starts at or
    // after pos_); the write that passes it rescans first and sees that reader.
    limit_seq_ = std::min(credit_seq_, seq_ + std::max<std::uint64_t>(1, g_.depth / 2));
    limit_end_ = std::min(credit_end_, pos_ + g_.region_bytes / 2);
  }

  void steal(writer& o) noexcept {
    ref_ = std::move(o.ref_);
    g_ = o.g_;
    wait_ = o.wait_;
    seq_ = o.seq_;
    pos_ = o.pos_;
    dirty_ = o.dirty_;
    mask_ = o.mask_;
    region_mask_ = o.region_mask_;
    limit_seq_ = o.limit_seq_;
    limit_end_ = o.limit_end_;
    credit_seq_ = o.credit_seq_;
    credit_end_ = o.credit_end_;
    rescans_ = o.rescans_;
    meta_ = o.meta_;
    payload_ = o.payload_;
    credited_ = o.credited_;
  }

  detail::ring_ref<Sync> ref_;
  geometry g_{};
  wait_strategy wait_ = wait_strategy::spin_then_yield();
  std::uint64_t seq_ = 0;    // newest published sequence
  std::uint64_t pos_ = 0;    // stream position after the newest chunk
  std::uint64_t dirty_ = 0;  // the dirty value last stored
  std::uint64_t mask_ = 0;
  std::uint64_t region_mask_ = 0;
  std::uint64_t limit_seq_ = 0;   // credits: newest sequence we may publish before a rescan
  std::uint64_t limit_end_ = 0;   // credits: stream byte a write may end at before a rescan
  std::uint64_t credit_seq_ = 0;  // credits: what the slowest reader allows (last rescan)
  std::uint64_t credit_end_ = 0;
  std::uint64_t rescans_ = 0;
  typename ring::meta_entry* meta_ = nullptr;
  std::uint64_t* payload_ = nullptr;
  bool credited_ = false;
};

}  // namespace ringwire::byte_broadcast
