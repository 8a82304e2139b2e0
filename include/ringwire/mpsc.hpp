// ringwire/mpsc.hpp -- multi-producer / single-consumer channels built from SPSC lanes.
//
// TL;DR
//   #include <ringwire/mpsc.hpp>
//   auto [reg, rx] = ringwire::mpsc::channel<record>(1024, 8);  // 8 lanes of 1024 each
//   std::vector<std::jthread> producers;
//   for (int p = 0; p < 4; ++p)
//     producers.emplace_back([tx = reg.make_sender()]() mutable {  // one lane per sender
//       for (auto& r : records(p)) if (tx.send(std::move(r)) != ringwire::status::ok) break;
//     });                                                        // ~sender: lane recycled
//   reg.close();                          // no more producers: lets the stream end
//   while (auto r = rx.recv()) write(*r); // ends with closed once all senders are gone
//
// Ordering contract: FIFO per producer; no order across producers. A producer is a
// sender: two messages sent through one sender arrive in the order sent; messages of
// different senders interleave in an order the receiver's round-robin scan chooses, which
// says nothing about the order in which they were sent. A thread that drops its sender and
// registers again is a new producer (it may get another lane, and its new messages may
// overtake old ones still queued).
//
// A channel is a registry and max_producers lanes, each lane an SPSC ring (spsc/layout.hpp)
// in one pointer-free block (mpsc/layout.hpp):
//   registrar (mpsc/registrar.hpp)  copyable handle; make_sender() claims a lane and returns
//                                   an ordinary spsc::sender owning it (every SPSC send
//                                   operation: try_send, send(+ _for, _until, stop_token),
//                                   batches, reserve/commit). Beyond max_producers live
//                                   lanes it throws ringwire::error(too_many_producers)
//                                   (try_make_sender: nullopt).
//   receiver  (mpsc/receiver.hpp)   move-only; try_recv, recv (+ _for, _until, stop_token),
//                                   consume_up_to(max, fn), consume_all(fn),
//                                   try_recv_batch; a fair round-robin scan over the lanes.
// A lane is formatted at its first registration; when its sender is gone and the receiver
// has drained it, it is recycled for the next registration.
//
// Disconnect, enforced: when the receiver is gone every sender (and every sender made
// later) reports closed. The receiver sees closed only when every registrar copy AND every
// sender are gone and every lane is drained: a live registrar can still make senders, so
// drop (or close()) the registrars when the set of producers is complete.
//
// Waiting: one word for the receiver, whatever the number of lanes; a sender makes a wake
// syscall only when the receiver is parked, and its publish costs what an SPSC publish
// costs (see mpsc/receiver.hpp, "Parking"). Each sender waits on its own lane when full.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "ringwire/mpsc/layout.hpp"
#include "ringwire/mpsc/receiver.hpp"
#include "ringwire/mpsc/registrar.hpp"
#include "ringwire/mpsc/storage.hpp"
#include "ringwire/spsc/endpoint.hpp"
#include "ringwire/spsc/sender.hpp"

namespace ringwire::mpsc {

// Per-channel settings: the SPSC options, applied to every lane (sender_wait for each
// sender, receiver_wait for the receiver, start_index for every lane's indices).
using options = spsc::options;

// A sender owns one lane: exactly an SPSC sender.
template <class T, class Sync = std_sync>
using sender = spsc::sender<T, Sync>;

namespace detail {

// The two endpoints of a freshly created block (which holds two references and one
// registrar). Used by channel() and by the Relacy model, which needs the block's address.
template <class T, class Sync>
std::pair<registrar<T, Sync>, receiver<T, Sync>> endpoints(heap_block<T, Sync>* block, const options& opt) {
  auto* l = block->ring();
  return {registrar<T, Sync>(ringwire::detail::counted_ref<layout<Sync>, Sync>(l, &block->own), &block->own, opt),
          receiver<T, Sync>(ringwire::detail::counted_ref<layout<Sync>, Sync>(l, &block->own), opt)};
}

}  // namespace detail

// A heap channel of max_producers lanes holding at most lane_capacity elements each.
// Returns {registrar, receiver}. Throws ringwire::error for a lane capacity of zero or too
// large, or max_producers of zero or above layout<>::max_max_producers.
template <class T, class Sync = std_sync>
std::pair<registrar<T, Sync>, receiver<T, Sync>> channel(std::size_t lane_capacity, std::size_t max_producers,
                                                         const options& opt = {}) {
  static_assert(std::is_nothrow_destructible_v<T>, "channel elements must have a non-throwing destructor");
  Sync::prepare();
  return detail::endpoints<T, Sync>(detail::make_heap_block<T, Sync>(lane_capacity, max_producers, opt.start_index,
                                                              /*refs=*/2, /*registrars=*/1, opt.latency,
                                                              opt.memory),
                           opt);
}

// An MPSC channel whose lane capacity and lane count are compile-time constants and whose
// lanes are stored inside this object: no allocation at all, in a global, a member, or on
// the stack of the thread that owns the workers (ringmpsc-rs's StackChannel). The same
// layout, registrar, senders and receiver as channel(): split() hands them out once, and
// they borrow this object, which must outlive every one of them (checked in debug builds),
// and the receiver keeps its per-lane state here too (receiver::lane_space);
// its destructor destroys the elements still queued. No latency histogram (options::latency
// is refused: there is no room for one).
template <class T, std::size_t LaneCapacity, std::size_t MaxProducers, class Sync = std_sync>
class inline_channel {
  static_assert(LaneCapacity >= 1, "an inline MPSC channel needs a lane capacity of at least 1");
  static_assert(LaneCapacity <= spsc::layout<Sync>::max_capacity, "inline MPSC lane capacity exceeds 2^48");
  static_assert(MaxProducers >= 1 && MaxProducers <= layout<Sync>::max_max_producers,
                "an inline MPSC channel has 1 to 4096 lanes");
  static_assert(std::is_nothrow_destructible_v<T>, "channel elements must have a non-throwing destructor");
  using lanes = layout<Sync>;
  static constexpr std::size_t align = lanes::align(alignof(T));
  // layout::footprint, at compile time: the lanes after the descriptors, each a ring of
  // bit_ceil(LaneCapacity) slots (split() checks it against the runtime formula).
  static constexpr std::size_t lane_stride = lanes::round_up(
      spsc::layout<Sync>::slots_offset(alignof(T)) + std::bit_ceil(LaneCapacity) * sizeof(T), align);
  static constexpr std::size_t bytes = lanes::lanes_offset(MaxProducers, alignof(T)) + MaxProducers * lane_stride;

 public:
  inline_channel() { Sync::prepare(); }
  inline_channel(const inline_channel&) = delete;
  inline_channel& operator=(const inline_channel&) = delete;
  ~inline_channel() {
    if (!split_) return;
    auto* l = std::launder(reinterpret_cast<lanes*>(storage_.data()));
    // relaxed (all): the endpoints must already be gone (their destructors ran on this
    // thread or were joined), which is exactly what this checks.
    RINGWIRE_ASSERT(l->receiver.receiver_closed.load(std::memory_order_relaxed) != 0 &&
                    l->registry.registrars.load(std::memory_order_relaxed) == 0);
    for (std::uint64_t i = 0; i < MaxProducers; ++i)
      RINGWIRE_ASSERT(l->lane_descriptor(i).formatted.load(std::memory_order_relaxed) == 0 ||
                      l->lane_ring(i).consumer.sender_closed.load(std::memory_order_relaxed) != 0);
    detail::destroy_queued<T, Sync>(*l);
  }

  [[nodiscard]] static constexpr std::size_t lane_capacity() noexcept { return LaneCapacity; }
  [[nodiscard]] static constexpr std::size_t max_producers() noexcept { return MaxProducers; }

  // Formats the lanes and returns {registrar, receiver}. Throws ringwire::error:
  // already_split when called twice, invalid_options for options::latency.
  std::pair<registrar<T, Sync>, receiver<T, Sync>> split(const options& opt = {}) {
    if (split_) throw error(errc::already_split, "mpsc::inline_channel::split() may be called once");
    if (opt.latency)
      throw error(errc::invalid_options, "an inline MPSC channel has no room for latency histograms: use channel()");
    RINGWIRE_ASSERT(lanes::footprint(LaneCapacity, MaxProducers, sizeof(T), alignof(T)) == bytes);
    split_ = true;
    auto* l = lanes::format(storage_.data(), LaneCapacity, MaxProducers, sizeof(T), alignof(T), opt.start_index,
                            /*registrars=*/1);
    using ref = ringwire::detail::counted_ref<lanes, Sync>;
    return {registrar<T, Sync>(ref(l, nullptr), nullptr, opt), receiver<T, Sync>(ref(l, nullptr), opt, space_)};
  }

 private:
  alignas(align) std::array<std::byte, bytes> storage_;
  typename receiver<T, Sync>::template lane_space<MaxProducers> space_;  // the receiver's per-lane state
  bool split_ = false;
};

}  // namespace ringwire::mpsc
