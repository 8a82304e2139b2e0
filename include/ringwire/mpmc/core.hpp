// ringwire/mpmc/core.hpp -- the MPMC turn protocol on a layout: claim, hand over, wait.
//
// `core<T, Sync>` is the protocol code every MPMC front end (mpmc::queue, mpmc::sender,
// mpmc::receiver) runs; it holds no state of its own beyond the layout's address and its
// geometry, copied once into the object so the hot path reads no shared line for them.
// It runs unchanged on both cell layouts (layout.hpp): a stamp and a payload are found
// through the same strides and remap, whichever the geometry says.
//
// Push of ticket h (lap L = h / capacity, cell h % capacity):
//   1. read head h (relaxed), then stamp(h) (acquire)
//   2. stamp == 2L      the cell is free: CAS head h -> h+1; on success construct, store
//                       stamp 2L+1 (release), notify the consumers' room. Lost CAS: retry.
//      stamp <  2L      the cell still holds lap L-1: read tail t. If h - t >= capacity, no
//                       pop has claimed that element yet: the queue is full (report full).
//                       Otherwise a pop has claimed it and is moving it out: wait for that
//                       (spin, then yield), then retry.
//      stamp >  2L      h is stale (another push took it): re-read head and retry.
// Pop of ticket t is the mirror image (stamp 2L+1 means ready; an older stamp sends it to
// head: h <= t means empty, else a push has claimed t and is constructing: wait for it).
//
// Linearization. A push takes effect at its successful CAS on head, a pop at its CAS on
// tail; the global order is the ticket order. try_push reports full only after reading
// tail = t with h - t >= capacity, where h was read from head before: head only grows, so
// at the moment t was read head - tail >= capacity held. try_pop reports empty only after
// reading head = h <= t, t read from tail before: tail only grows and never passes head, so
// at that moment head == tail. Neither ever fails because a peer is half-way through its
// copy: it waits for that copy instead (the wait is as long as T's move, long only if
// the peer thread is descheduled in the middle of it -- the price of a global FIFO order,
// paid by every ticket-based bounded MPMC queue; documented in docs/mpmc.md). That wait is
// bounded (settle(): 64 pauses and 2^16 yields), so no try_* spins for ever, even over
// corrupted stamps; past it, it reports full (empty) as if the copy had not begun. A stamp
// ahead of an index that did not move is impossible (see try_push) and ends at once.
//
// Exceptions. If T's constructor throws in a push, the ticket is already claimed: the cell
// is published as a hole (stamp 2L+1 | hole_bit), which pops skip, and the exception
// propagates; nothing was pushed. If T's move throws in a pop, the element is destroyed,
// its cell freed and the exception propagates: the pop had claimed the element, and a
// FIFO queue cannot put it back in front of later pops.
//
// Counters (mpmc/stats.hpp), with metrics on only and only where a call already left its
// fast path: a full or empty report, the parks of a wait (after it returns), a notify that
// found sleepers. Off, each of those paths tests one bool; the fast paths test nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "ringwire/mpmc/wait_room.hpp"
#include "ringwire/status.hpp"

namespace ringwire::mpmc::detail {

template <class T, class Sync>
class core {
  using stamp_t = typename layout<Sync>::stamp_t;
  using counter_t = typename Sync::template atomic<std::uint64_t>;

 public:
  core() noexcept = default;
  // metrics: count slow-path events into the layout's counters (options::metrics).
  explicit core(layout<Sync>* l, bool metrics = false) noexcept
      : l_(l),
        cells_(l->view()),
        capacity_(l->geometry.capacity),
        lap_shift_(l->geometry.lap_shift),
        scope_(Sync::resolve_scope(fence_scope::process)),
        metrics_(metrics) {}

  [[nodiscard]] layout<Sync>* ring() const noexcept { return l_; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }

  // ---- push --------------------------------------------------------------------------
  template <class... Args>
  status try_push(Args&&... args) {
    // relaxed: the head value only names a candidate cell; its stamp's acquire carries data.
    std::uint64_t h = l_->producer.head.load(std::memory_order_relaxed);
    // relaxed: no data flows through the flag; it only stops new pushes.
    if (l_->producer.receivers_gone.load(std::memory_order_relaxed) != 0) [[unlikely]] return status::closed;
    std::uint32_t waited = 0;
    for (;;) {
      if ((h & sealed_bit) != 0) [[unlikely]] return status::closed;
      const std::uint64_t lap = lap_of(h);
      stamp_t& stamp = stamp_of(h);
      // acquire: the pop that freed this cell (moved out, destroyed) happens-before our
      // construction into it.
      const std::uint64_t s = stamp.load(std::memory_order_acquire);
      if (s == 2 * lap) [[likely]] {
        // relaxed: the CAS only decides who owns ticket h; the stamp carries the data.
        if (l_->producer.head.compare_exchange_weak(h, h + 1, std::memory_order_relaxed,
                                                    std::memory_order_relaxed)) [[likely]] {
          construct(stamp, payload_of(h), lap, std::forward<Args>(args)...);
          return status::ok;
        }
        continue;  // h now holds the current head
      }
      if (static_cast<std::int64_t>((s & ~hole_bit) - 2 * lap) < 0) {
        // acquire: with the head read before it, justifies "full" (see above).
        const std::uint64_t t = l_->consumer.tail.load(std::memory_order_acquire);
        if (static_cast<std::int64_t>(h - t) >= static_cast<std::int64_t>(capacity_)) return report_full();
        if (!settle(waited)) return report_full();  // a pop owns the cell's element and is moving it out
      } else {
        // A stamp past 2L: ticket h's push stored it (release) after taking h, so head has
        // moved; one that has not was never written by a push (corrupted memory): no cell
        // is free for us.
        const std::uint64_t seen = h;
        // relaxed: as above; ordered after the stamp's acquire, which makes the claim visible.
        h = l_->producer.head.load(std::memory_order_relaxed);
        if (h == seen) [[unlikely]] return report_full();
        continue;
      }
      // relaxed: as above.
      h = l_->producer.head.load(std::memory_order_relaxed);
    }
  }

  // True when a push may succeed now, or the queue closed: the producers' wait predicate.
  [[nodiscard]] bool push_ready() const noexcept {
    // relaxed (all three): a hint for the waiter; try_push re-reads with the right orders,
    // and the wait room's fences order these loads after the registration.
    const std::uint64_t h = l_->producer.head.load(std::memory_order_relaxed);
    if ((h & sealed_bit) != 0 || l_->producer.receivers_gone.load(std::memory_order_relaxed) != 0) return true;
    const std::uint64_t s = stamp_of(h).load(std::memory_order_relaxed);
    return static_cast<std::int64_t>((s & ~hole_bit) - 2 * lap_of(h)) >= 0;
  }

  // `parks` counts this call's futex sleeps (the caller's running total); with metrics they
  // are added to producer_parks after each wait.
  template <class... Args>
  status push_until(const wait_strategy& ws, const wait_limits& lim, std::uint64_t& parks, Args&&... args) {
    for (;;) {
      const status s = try_push(std::forward<Args>(args)...);  // consumes args only on ok
      if (s != status::full) return s;
      const std::uint64_t before = parks;
      const status w = wait_in<Sync>(ws, l_->rooms.producers, scope_, lim, parks, [this] { return push_ready(); });
      if (metrics_ && parks != before) count(counters().producer_parks, parks - before);
      if (w != status::ok) return w;
    }
  }

  // ---- pop ---------------------------------------------------------------------------
  // The element of a claimed ticket; on destruction (after the caller moved the value out,
  // or while an exception propagates) destroys it, frees the cell and notifies.
  class claimed {
   public:
    claimed(core& c, std::uint64_t t) noexcept : c_(c), t_(t) {}
    claimed(const claimed&) = delete;
    claimed& operator=(const claimed&) = delete;
    ~claimed() {
      value().~T();
      c_.free_cell(t_);
    }
    [[nodiscard]] T& value() const noexcept { return *c_.payload_of(t_); }

   private:
    core& c_;
    std::uint64_t t_;
  };

  recv_result<T> try_pop() {
    std::uint64_t t = 0;
    const status s = claim_pop(t);
    if (s != status::ok) return recv_result<T>(s);
    const claimed slot(*this, t);
    return recv_result<T>(std::in_place, std::move(slot.value()));  // then ~claimed frees
  }

  // Move-assigns into out; out is untouched unless the result is ok.
  status try_pop(T& out) {
    std::uint64_t t = 0;
    const status s = claim_pop(t);
    if (s != status::ok) return s;
    const claimed slot(*this, t);
    out = std::move(slot.value());
    return status::ok;
  }

  // True when a pop may succeed now, or the sending side is sealed: the consumers' predicate.
  [[nodiscard]] bool pop_ready() const noexcept {
    // relaxed (all three): a hint, as in push_ready().
    const std::uint64_t t = l_->consumer.tail.load(std::memory_order_relaxed);
    if ((l_->producer.head.load(std::memory_order_relaxed) & sealed_bit) != 0) return true;
    const std::uint64_t s = stamp_of(t).load(std::memory_order_relaxed);
    return static_cast<std::int64_t>((s & ~hole_bit) - (2 * lap_of(t) + 1)) >= 0;
  }

  // As push_until's wait; with metrics the sleeps are added to consumer_parks.
  status wait_for_item(const wait_strategy& ws, const wait_limits& lim, std::uint64_t& parks) {
    const std::uint64_t before = parks;
    const status w = wait_in<Sync>(ws, l_->rooms.consumers, scope_, lim, parks, [this] { return pop_ready(); });
    if (metrics_ && parks != before) count(counters().consumer_parks, parks - before);
    return w;
  }

  recv_result<T> pop_until(const wait_strategy& ws, const wait_limits& lim, std::uint64_t& parks) {
    for (;;) {
      std::uint64_t t = 0;
      const status s = claim_pop(t);
      if (s == status::ok) {
        const claimed slot(*this, t);
        return recv_result<T>(std::in_place, std::move(slot.value()));
      }
      if (s != status::empty) return recv_result<T>(s);
      const status w = wait_for_item(ws, lim, parks);
      if (w != status::ok) return recv_result<T>(w);
    }
  }

  // ---- state -------------------------------------------------------------------------
  // Closes the sending side: later pushes report closed; pops drain, then report closed.
  void seal() noexcept {
    // relaxed: only a start value for the CAS.
    std::uint64_t h = l_->producer.head.load(std::memory_order_relaxed);
    // release: a pop that reads the sealed head (acquire) and finds nothing left reports
    // closed; the seal follows every push ticket in head's modification order anyway.
    while ((h & sealed_bit) == 0 &&
           !l_->producer.head.compare_exchange_weak(h, h | sealed_bit, std::memory_order_release,
                                                    std::memory_order_relaxed)) {
    }
    notify_close<Sync>(l_->rooms.consumers, scope_);
    notify_close<Sync>(l_->rooms.producers, scope_);  // blocked pushes report closed
  }

  // Closes the receiving side: pushes report closed (what is queued stays until the end).
  void close_receiving() noexcept {
    // relaxed: no data flows through the flag; notify_close's fence orders it before wakes.
    l_->producer.receivers_gone.store(1, std::memory_order_relaxed);
    notify_close<Sync>(l_->rooms.producers, scope_);
  }

  [[nodiscard]] bool sending_closed() const noexcept {
    // relaxed: an observation; no data is read through it.
    return (l_->producer.head.load(std::memory_order_relaxed) & sealed_bit) != 0;
  }
  [[nodiscard]] bool receiving_closed() const noexcept {
    // relaxed: as above.
    return l_->producer.receivers_gone.load(std::memory_order_relaxed) != 0;
  }

  // Elements claimed by pushes and not yet by pops (holes included), at two nearby instants.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // acquire (both): a plain observation, ordered after what this thread did before.
    const std::uint64_t t = l_->consumer.tail.load(std::memory_order_acquire);
    const std::uint64_t h = l_->producer.head.load(std::memory_order_acquire) & ~sealed_bit;
    const auto n = static_cast<std::int64_t>(h - t);
    return n <= 0 ? 0 : static_cast<std::size_t>(n > static_cast<std::int64_t>(capacity_) ? capacity_ : n);
  }

 private:
  [[nodiscard]] std::uint64_t lap_of(std::uint64_t ticket) const noexcept {
    return lap_shift_ != layout<Sync>::divide ? ticket >> lap_shift_ : ticket / capacity_;
  }
  [[nodiscard]] std::uint64_t cell_of(std::uint64_t ticket) const noexcept {
    return lap_shift_ != layout<Sync>::divide ? ticket & (capacity_ - 1) : ticket % capacity_;
  }
  [[nodiscard]] stamp_t& stamp_of(std::uint64_t ticket) const noexcept { return cells_.stamp(cell_of(ticket)); }
  [[nodiscard]] T* payload_of(std::uint64_t ticket) const noexcept {
    return std::launder(reinterpret_cast<T*>(cells_.payload(cell_of(ticket))));
  }

  // Waits, inside a try_*, for a peer that owns the cell and is half-way through its copy:
  // pause first, then yield so a descheduled peer can run. False once the wait has lasted
  // max_settle rounds (2^16 yields, a tenth of a second or more): the try_* then reports full (empty) --
  // "not now" -- rather than spin for ever. Only a peer stopped in the middle of its copy
  // for that long, or a stamp left behind for good by memory corrupted elsewhere in the
  // process, gets there.
  bool settle(std::uint32_t& waited) const noexcept {
    constexpr std::uint32_t spins_before_yield = 64;
    constexpr std::uint32_t max_settle = spins_before_yield + (1u << 16);
    if (waited >= max_settle) return false;
    if (waited++ < spins_before_yield) {
      Sync::cpu_relax();
    } else {
      Sync::yield();
    }
    return true;
  }

  template <class... Args>
  void construct(stamp_t& stamp, T* at, std::uint64_t lap, Args&&... args) {
    try {
      ::new (static_cast<void*>(at)) T(std::forward<Args>(args)...);
    } catch (...) {
      // release: as below; the pop that skips the hole touches no payload, but the next
      // push into this cell must still be ordered after our (failed) use of it.
      stamp.store((2 * lap + 1) | hole_bit, std::memory_order_release);
      wake_consumers();
      throw;
    }
    // release: the construction happens-before the pop's acquire load of the stamp.
    stamp.store(2 * lap + 1, std::memory_order_release);
    wake_consumers();
  }

  // Claims the next element's ticket into t: ok, empty or closed (sealed and drained).
  // Holes are claimed and freed on the way.
  status claim_pop(std::uint64_t& t) noexcept {
    // relaxed: names a candidate cell; its stamp's acquire carries the data.
    t = l_->consumer.tail.load(std::memory_order_relaxed);
    std::uint32_t waited = 0;
    for (;;) {
      const std::uint64_t full = 2 * lap_of(t) + 1;
      // acquire: the push's construction happens-before our move out of the cell.
      const std::uint64_t s = stamp_of(t).load(std::memory_order_acquire);
      if ((s & ~hole_bit) == full) [[likely]] {
        // relaxed: the CAS only decides who owns ticket t; the stamp carries the data.
        if (l_->consumer.tail.compare_exchange_weak(t, t + 1, std::memory_order_relaxed,
                                                    std::memory_order_relaxed)) [[likely]] {
          if (s == full) [[likely]] return status::ok;
          free_cell(t);  // a hole: nothing to move out
          ++t;
        }
        continue;  // t now holds the current tail (or the ticket after the hole)
      }
      if (static_cast<std::int64_t>((s & ~hole_bit) - full) < 0) {
        // acquire: with the tail read before it, justifies "empty" (see above), and a
        // sealed head's release.
        const std::uint64_t h = l_->producer.head.load(std::memory_order_acquire);
        if (static_cast<std::int64_t>((h & ~sealed_bit) - t) <= 0)
          return (h & sealed_bit) != 0 ? status::closed : report_empty();
        if (!settle(waited)) return report_empty();  // a push owns ticket t and is constructing its element
      } else {
        // A stamp past 2L+1: ticket t's pop freed it (release) after taking t, so tail has
        // moved; one that has not was never written by a pop (corrupted memory).
        const std::uint64_t seen = t;
        // relaxed: as above; ordered after the stamp's acquire, which makes the claim visible.
        t = l_->consumer.tail.load(std::memory_order_relaxed);
        if (t == seen) [[unlikely]] return report_empty();
        continue;
      }
      // relaxed: as above.
      t = l_->consumer.tail.load(std::memory_order_relaxed);
    }
  }

  // After the pop of ticket t moved out and destroyed its element (or found a hole).
  void free_cell(std::uint64_t t) noexcept {
    // release: our move out and destruction happen-before the next push's acquire load.
    stamp_of(t).store(2 * lap_of(t) + 2, std::memory_order_release);
    if (notify<Sync>(l_->rooms.producers, scope_)) [[unlikely]] {
      if (metrics_) count(counters().producer_wakes);
    }
  }

  // After a push published its cell (an element or a hole): wakes parked pops, if any.
  void wake_consumers() noexcept {
    if (notify<Sync>(l_->rooms.consumers, scope_)) [[unlikely]] {
      if (metrics_) count(counters().consumer_wakes);
    }
  }

  // ---- counters (layout.hpp, event_counters) ---------------------------------------------
  [[nodiscard]] typename layout<Sync>::event_counters& counters() const noexcept { return l_->geometry.counters; }

  // Shared by every thread of either side: an RMW, on slow paths only, metrics only.
  static void count(counter_t& counter, std::uint64_t by = 1) noexcept {
    // relaxed: a statistic; nothing is published through it.
    counter.fetch_add(by, std::memory_order_relaxed);
  }

  // What a push reports when the queue was full (or settle() gave up): a full event.
  [[nodiscard]] status report_full() const noexcept {
    if (metrics_) count(counters().full_events);
    return status::full;
  }
  // What a pop reports when the queue was empty (or settle() gave up): an empty event.
  [[nodiscard]] status report_empty() const noexcept {
    if (metrics_) count(counters().empty_events);
    return status::empty;
  }

  layout<Sync>* l_ = nullptr;
  cells_view<stamp_t> cells_;
  std::uint64_t capacity_ = 0;
  std::uint32_t lap_shift_ = 0;
  fence_scope scope_ = fence_scope::process;
  bool metrics_ = false;  // options::metrics: count slow-path events
};

}  // namespace ringwire::mpmc::detail
