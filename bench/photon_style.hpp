// bench/photon_style.hpp -- a reference ring for ringwire_broadcast_bench, written here after
// photon-ring's published design (the Rust seed in /work/shared/seeds/photon-ring.md; its
// src/slot.rs, src/ring.rs and src/channel/{publisher,subscriber}.rs), so the benchmark can
// put a ratio against that design in every run. Benchmark code, not part of the library.
//
// What it keeps from photon-ring:
//   - one slot per cache line: the stamp and the payload together, the slot aligned to 64
//     bytes (photon's `#[repr(C, align(64))] struct Slot<T> { stamp, value }`), so a slot of a
//     T up to 56 bytes is exactly one line;
//   - the stamp protocol: odd while message n is written, even once committed; a capacity
//     that is a power of two, a slot picked by `n & mask`;
//   - the publisher's cursor (its own line), stored with release after every commit and
//     read by subscribers only to size a lag; a write-intent prefetch of the next slot
//     (photon's prefetch_write_next: PREFETCHW with the prfchw target feature, PREFETCHT0
//     in a default build, as here at -O2 without -march);
//   - the subscriber's fast path reading only the slot's stamp; empty on a torn copy or a
//     write in progress; lag = (head - capacity + 1) - n from the cursor, exact;
//   - bounded mode (photon's channel_bounded with watermark 0): each subscriber stores its
//     cursor to its own line after every receive; the publisher keeps the slowest cursor it
//     last saw and scans every tracker only when that cached value says the ring is full.
// What it changes:
//   - the seqlock is ringwire's (broadcast/layout.hpp, detail::write_slot / read_slot): payload
//     words as relaxed atomics and an acquire fence before the re-check. photon re-checks with
//     an acquire *load*, which lets ARM accept a torn copy; on x86 both compile to plain
//     moves, so the comparison loses nothing by it;
//   - the trackers are a fixed array registered before the run, scanned without photon's spin
//     mutex and Weak::upgrade (two atomic read-modify-writes per tracker per scan): a scan
//     here is cheaper than photon's, so a ratio against this ring is a conservative one;
//   - tracker stores are release and scans acquire (photon: relaxed), so a subscriber's copy
//     happens-before the overwrite it allows; free on x86.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/status.hpp"

namespace bench::photon_style {

namespace rbd = ringwire::broadcast::detail;
using ring_stamps = ringwire::broadcast::layout<ringwire::std_sync>;  // committed(n), writing(n)

// A value on a line of its own (photon's Padded<T>).
template <class V>
struct alignas(64) padded {
  V v;
};

template <class T>
struct alignas(64) slot {
  std::atomic<std::uint64_t> stamp{0};
  std::uint64_t words[rbd::words_of<T>] = {};
};

template <class T>
struct ring {
  // capacity: a power of two.
  ring(std::size_t capacity, bool gated, std::size_t max_subscribers)
      : slots(std::make_unique<slot<T>[]>(capacity)), mask(capacity - 1), bounded(gated),
        trackers(std::make_unique<padded<std::atomic<std::uint64_t>>[]>(max_subscribers)) {}

  std::unique_ptr<slot<T>[]> slots;
  std::uint64_t mask;
  bool bounded;
  padded<std::atomic<std::uint64_t>> cursor{0};  // the newest committed sequence, 0: none
  std::unique_ptr<padded<std::atomic<std::uint64_t>>[]> trackers;  // bounded: each subscriber's next sequence
  std::size_t tracked = 0;  // trackers handed out (before the run: no synchronisation needed)
};

// What an endpoint's hot path touches, copied out of the ring (photon's endpoints cache the
// slot pointer, mask and cursor pointer too, to skip the Arc and Box dereferences).
template <class T>
struct ring_view {
  explicit ring_view(ring<T>& r) noexcept : slots(r.slots.get()), mask(r.mask), cursor(&r.cursor.v) {}
  [[nodiscard]] rbd::slot_ref<ringwire::std_sync> at(std::uint64_t n) const noexcept {
    return {reinterpret_cast<std::byte*>(&slots[n & mask])};
  }
  slot<T>* slots;
  std::uint64_t mask;
  std::atomic<std::uint64_t>* cursor;
};

template <class T>
class subscriber {
 public:
  explicit subscriber(std::shared_ptr<ring<T>> r) : r_(std::move(r)), view_(*r_) {
    // acquire: pairs with the publisher's release store of the cursor; starts after it.
    n_ = view_.cursor->load(std::memory_order_acquire) + 1;
    if (r_->bounded) {
      tracker_ = &r_->trackers[r_->tracked++].v;
      // relaxed: set before the run's threads start (their creation orders it).
      tracker_->store(n_, std::memory_order_relaxed);
    }
  }

  ringwire::recv_result<T> try_recv() noexcept {
    const rbd::slot_ref<ringwire::std_sync> s = view_.at(n_);
    // acquire: pairs with the publisher's release store of the committed stamp.
    const std::uint64_t s1 = s.stamp().load(std::memory_order_acquire);
    if (s1 == ring_stamps::committed(n_)) {
      std::array<std::uint64_t, rbd::words_of<T>> w;
      if (rbd::read_slot<ringwire::std_sync>(s, w) != s1) return ringwire::recv_result<T>(ringwire::status::empty);
      advance(n_ + 1);
      ++received_;
      return ringwire::recv_result<T>(std::in_place, rbd::from_words<T>(w));
    }
    // Written (odd), not yet written, or torn: photon says empty, the caller retries.
    if ((s1 & 1) != 0 || s1 < ring_stamps::committed(n_)) return ringwire::recv_result<T>(ringwire::status::empty);
    // Overwritten: the cursor sizes the lag. acquire: pairs with its release store.
    const std::uint64_t head = view_.cursor->load(std::memory_order_acquire);
    const std::uint64_t cap = view_.mask + 1;
    // Not a lap behind by the cursor yet: it is stored after the stamp, so it may lag it.
    if (head < cap || n_ > head - cap) return ringwire::recv_result<T>(ringwire::status::empty);
    const std::uint64_t oldest = head - cap + 1, skipped = oldest - n_;
    advance(oldest);
    missed_ += skipped;
    return ringwire::recv_result<T>(ringwire::status::lagged, skipped);
  }

  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
  [[nodiscard]] std::uint64_t missed() const noexcept { return missed_; }

 private:
  void advance(std::uint64_t n) noexcept {
    n_ = n;
    // release: our copy of every earlier slot happens-before the publisher's overwrite of it.
    if (tracker_ != nullptr) tracker_->store(n_, std::memory_order_release);
  }

  std::shared_ptr<ring<T>> r_;
  ring_view<T> view_;
  std::atomic<std::uint64_t>* tracker_ = nullptr;
  std::uint64_t n_ = 1;
  std::uint64_t received_ = 0, missed_ = 0;
};

template <class T>
class publisher {
 public:
  explicit publisher(std::shared_ptr<ring<T>> r) : r_(std::move(r)), view_(*r_), bounded_(r_->bounded) {}

  ringwire::status try_send(const T& v) noexcept {
    if (bounded_ && !has_room()) return ringwire::status::full;
    // photon's prefetch_write_next: every line of the next slot, with write intent.
    const auto* next = reinterpret_cast<const char*>(&view_.slots[(n_ + 1) & view_.mask]);
    for (std::size_t line = 0; line < sizeof(slot<T>); line += 64) __builtin_prefetch(next + line, 1);
    rbd::write_slot<ringwire::std_sync>(view_.at(n_), n_, rbd::to_words(v));
    // release: the commit happens-before a subscriber's acquire of the cursor (lag sizing).
    view_.cursor->store(n_, std::memory_order_release);
    ++n_;
    return ringwire::status::ok;
  }

 private:
  // photon's has_room: trust the cached slowest cursor until it says the ring is full,
  // then scan every tracker. No subscriber: never full.
  bool has_room() noexcept {
    const std::uint64_t cap = view_.mask + 1;
    if (n_ < slowest_ + cap) return true;
    if (r_->tracked == 0) return true;
    std::uint64_t low = ~std::uint64_t{0};
    for (std::size_t i = 0; i < r_->tracked; ++i) {
      // acquire: pairs with the subscriber's release store, so its copies are done.
      low = std::min(low, r_->trackers[i].v.load(std::memory_order_acquire));
    }
    slowest_ = low;
    return n_ < slowest_ + cap;
  }

  std::shared_ptr<ring<T>> r_;
  ring_view<T> view_;
  bool bounded_;
  std::uint64_t n_ = 1;        // the next sequence to write
  std::uint64_t slowest_ = 1;  // the slowest cursor seen at the last scan
};

// A ring of `capacity` slots (a power of two) with one subscriber, joined before anything is
// published. bounded: the publisher never laps it (try_publish says full); else lossy.
template <class T>
std::pair<publisher<T>, subscriber<T>> channel(std::size_t capacity, bool bounded) {
  auto r = std::make_shared<ring<T>>(std::bit_ceil(capacity), bounded, 1);
  subscriber<T> s(r);
  return {publisher<T>(std::move(r)), std::move(s)};
}

}  // namespace bench::photon_style
