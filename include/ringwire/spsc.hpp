// ringwire/spsc.hpp -- single-producer / single-consumer channels.
//
// TL;DR
//   #include <ringwire/spsc.hpp>
//   auto [tx, rx] = ringwire::spsc::channel<order>(1024);    // capacity: exactly 1024
//   std::jthread producer([tx = std::move(tx)]() mutable {
//     for (auto& o : orders) if (tx.send(std::move(o)) != ringwire::status::ok) break;
//   });                                                      // ~sender closes the channel
//   while (auto r = rx.recv()) handle(*r);                   // ends with status::closed
//
// A channel is three layers:
//   layout    (spsc/layout.hpp)   the shared state: indices, park words, close flags,
//                                 counters and slots, pointer-free so it can live in any
//                                 memory, with its byte map and protocol documented there;
//   storage   (spsc/storage.hpp)  who owns that memory: a heap block, an inline_channel
//                                 object, or a shared-memory segment;
//   endpoints (spsc/sender.hpp, spsc/receiver.hpp)  move-only handles, one per side, so
//                                 the single-producer single-consumer contract is a type.
//
// Choosing an API (all on the same channel):
//   try_send / try_recv            one message, never waits
//   send / recv (+ _for, _until,   one message, waits by the endpoint's wait strategy
//     stop_token)                  (wait.hpp; park by default: never burns a core unless
//                                  you choose busy_spin)
//   try_send_batch / send_batch    many messages, one publish
//   consume(fn, max) /             many messages, one index store
//     try_recv_batch
//   reserve(n) + commit /          zero-copy: construct in place in the ring, or read in
//     read_span + release(k)       place from it
//
// The one-line variant, for the lowest single-message latency (spsc/line/layout.hpp):
//   auto [tx, rx] = ringwire::spsc::line_channel<order>(1024);  // line_sender / line_receiver
// Each slot carries a stamp beside the element, so a receive reads one cache line, not
// two; it keeps move-only T, exact capacity, disconnect and every wait strategy, and gives
// up batches on the sending side, the zero-copy spans, monitors and metrics, inline and
// shared-memory storage (docs/spsc.md, "The one-line variant").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "ringwire/spsc/layout.hpp"
#include "ringwire/spsc/line/receiver.hpp"
#include "ringwire/spsc/line/sender.hpp"
#include "ringwire/spsc/receiver.hpp"
#include "ringwire/spsc/sender.hpp"
#include "ringwire/spsc/storage.hpp"

namespace ringwire::spsc {

// A heap channel holding at most `capacity` elements (any value >= 1). Throws
// ringwire::error for a capacity of zero or one that cannot be allocated.
template <class T, class Sync = std_sync>
std::pair<sender<T, Sync>, receiver<T, Sync>> channel(std::size_t capacity, const options& opt = {}) {
  Sync::prepare();
  auto* block = detail::make_heap_block<T, Sync>(capacity, opt.start_index, /*refs=*/2, opt.latency, opt.memory);
  auto* l = block->ring();
  return {sender<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt),
          receiver<T, Sync>(detail::ring_ref<Sync>(l, &block->own), opt)};
}

// A heap line channel holding at most `capacity` elements (any value >= 1, exactly: the
// slot array is not rounded). Throws ringwire::error for a capacity of zero or one that
// cannot be allocated.
template <class T, class Sync = std_sync>
std::pair<line_sender<T, Sync>, line_receiver<T, Sync>> line_channel(std::size_t capacity,
                                                                     const line_options& opt = {}) {
  Sync::prepare();
  auto* block = detail::make_line_block<T, Sync>(capacity, opt.start_index, /*refs=*/2, opt.memory);
  auto* l = block->ring();
  return {line_sender<T, Sync>(detail::line_ref<Sync>(l, &block->own), opt),
          line_receiver<T, Sync>(detail::line_ref<Sync>(l, &block->own), opt)};
}

// A channel whose capacity is a compile-time constant and whose ring is stored inside this
// object: no allocation at all. Place it where it outlives both endpoints (a global, a
// member of the object that owns both threads); split() hands out the endpoints once.
// Destroying it while an endpoint is still open aborts in debug builds.
template <class T, std::size_t Capacity, class Sync = std_sync>
class inline_channel {
  static_assert(Capacity >= 1, "an inline_channel needs a capacity of at least 1");
  static_assert(Capacity <= layout<Sync>::max_capacity, "inline_channel capacity exceeds 2^48");
  using ring = layout<Sync>;
  static constexpr std::size_t slot_count = std::bit_ceil(Capacity);
  static constexpr std::size_t bytes = ring::slots_offset(alignof(T)) + slot_count * sizeof(T);

 public:
  inline_channel() { Sync::prepare(); }
  inline_channel(const inline_channel&) = delete;
  inline_channel& operator=(const inline_channel&) = delete;
  ~inline_channel() {
    if (split_) {
      auto* l = std::launder(reinterpret_cast<ring*>(storage_.data()));
      // relaxed: the endpoints must already be gone (their destructors ran on this thread
      // or were joined), which is exactly what this checks.
      RINGWIRE_ASSERT(l->consumer.sender_closed.load(std::memory_order_relaxed) != 0 &&
                      l->producer.receiver_closed.load(std::memory_order_relaxed) != 0);
      detail::destroy_queued<T, Sync>(*l);
    }
  }

  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }

  // Formats the ring and returns its two endpoints. Throws ringwire::error if called twice.
  std::pair<sender<T, Sync>, receiver<T, Sync>> split(const options& opt = {}) {
    if (split_) throw error(errc::already_split, "inline_channel::split() may be called once");
    if (opt.latency)
      throw error(errc::invalid_options, "an inline_channel has no room for a latency histogram: use channel()");
    split_ = true;
    auto* l = ring::format(storage_.data(), Capacity, sizeof(T), alignof(T), opt.start_index);
    return {sender<T, Sync>(detail::ring_ref<Sync>(l, nullptr), opt),
            receiver<T, Sync>(detail::ring_ref<Sync>(l, nullptr), opt)};
  }

 private:
  alignas(ring::align(alignof(T))) std::array<std::byte, bytes> storage_;
  bool split_ = false;
};

}  // namespace ringwire::spsc
