// ringwire/broadcast/shared_publisher.hpp -- the producing end of a multi-producer
// broadcast channel (broadcast::mpmc_channel): copy it, one copy per producing thread.
//
// TL;DR
//   auto [pub, subs] = ringwire::broadcast::mpmc_channel<tick>(4096);
//   std::jthread a([p = pub]() mutable { p.send(tick{...}); });   // a copy per thread
//   std::jthread b([p = pub]() mutable { p.send(tick{...}); });
//   pub.close();              // drops this copy; the channel closes with the last one
//
// Every subscriber sees one global order of messages -- the order of the tickets -- and
// each producer's messages in the order it published them.
//
// Claiming. `head` (layout.hpp) is the ticket counter here: the newest *claimed* sequence.
//   lossy:   s = head.fetch_add(1) + 1 -- one RMW; a lossy producer never waits for
//            subscribers, so a ticket is never taken back.
//   gated:   s = head + 1 claimed by CAS only after the gate (producer_state.hpp) says s
//            may be written: try_send can then answer full without holding a ticket
//            it could not use (a claimed ticket that is never written would stall every
//            subscriber at it).
// Writing. Message s lives in slot s % capacity, which message s - capacity used before.
// A producer may be descheduled between its claim and its commit, so a producer a lap
// ahead could reach the same slot while the earlier write is still in progress: two
// writers in one seqlock slot would tear it for good. So before writing, the producer
// waits until the slot's stamp is committed(s - capacity) -- the previous lap is done
// (0 for the first lap) -- with an acquire load, which also orders the previous payload
// stores before ours. Only the owner of ticket s can move the stamp past that value,
// and the owner of s + capacity waits for committed(s), so each slot has one writer at a
// time and its stamp still only grows. The wait is a spin, then yields: it lasts as long
// as another producer's unfinished write of one slot.
// Reading is unchanged (subscriber.hpp): a subscriber expecting n waits while the stamp is
// below 2n, so a later ticket committed first is not delivered before n (no reordering),
// and its lag arithmetic holds with head = the newest claim.
//
// Closing. `producers` counts the live copies; the copy that drops it to zero closes the
// channel, after which subscribers drain and see closed. Every producer's commits
// happen-before that (its acq_rel decrement continues the release sequence), and a copy
// is only ever made from a live copy, so the count never rises from zero.
//
// Each copy is one producer and is used by one thread at a time (its gate cache and
// counters are its own). Gated producers that must wait share one park word
// (word_sharing::shared in wait.hpp).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/broadcast/producer_state.hpp"
#include "ringwire/broadcast/storage.hpp"
#include "ringwire/detail/call_surface.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::broadcast {

template <class T, class Sync = std_sync>
class shared_publisher : public ringwire::detail::close_before_move_assign<shared_publisher<T, Sync>>,
                         public ringwire::detail::send_calls<shared_publisher<T, Sync>, T, Sync> {
  static_assert(detail::payload_check<T>::ok);
  using ring = layout<Sync>;

 public:
  using value_type = T;

  shared_publisher() noexcept = default;
  // Takes over one producer count already held for it (mpmc_channel sets the count to 1).
  shared_publisher(detail::ring_ref<Sync> ref, const options& opt) noexcept : state_(std::move(ref), opt) { init(); }
  shared_publisher(const shared_publisher& o) noexcept : state_(o.state_) {
    if (auto* l = state_.get()) {
      // relaxed: a new count is made from a live one, so it never rises from zero; the
      // decrements order what matters (see close()).
      l->control.producers.fetch_add(1, std::memory_order_relaxed);
      init();
    }
  }
  shared_publisher(shared_publisher&&) noexcept = default;
  shared_publisher& operator=(const shared_publisher& o) {
    if (this != &o) *this = shared_publisher(o);
    return *this;
  }
  shared_publisher& operator=(shared_publisher&&) noexcept = default;  // closes this copy first (detail/endpoint.hpp)
  ~shared_publisher() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  // ok, or full (gated policies: the slowest live subscriber is a whole ring behind), or
  // closed (this copy was closed or moved from).
  status try_send(const T& v) noexcept {
    auto* const l = state_.get();
    if (l == nullptr) return status::closed;
    std::uint64_t s = 0;
    if (!state_.gated()) {
      s = claim_one(l);
    } else {
      // relaxed: a guess for the CAS below, which decides.
      std::uint64_t c = l->publisher.head.load(std::memory_order_relaxed);
      for (;;) {
        if (!state_.may_write(c + 1)) return status::full;
        // relaxed: the ticket needs atomicity only; the slot's stamp orders the data and
        // after_commit's light fence orders the claim before the join check.
        if (l->publisher.head.compare_exchange_weak(c, c + 1, std::memory_order_relaxed, std::memory_order_relaxed)) break;
      }
      s = c + 1;
    }
    write(s, detail::to_words(v));
    return status::ok;
  }

  // ---- blocking (the publisher's wait strategy; lossy never waits for subscribers) ----
  // send(v), send(v, stop), send_for, send_until, emplace(args...) and send_with(fn) come
  // from detail::send_calls (detail/call_surface.hpp), over emplace_limited below.

  // Publishes `batch` in order. Lossy: one ticket claim for the whole batch, so its
  // messages are consecutive in the global order. Gated: one claim per message (other
  // producers' messages may interleave). Returns how many went in (fewer only if closed).
  // This send_batch hides send_calls' one-by-one batch. The stop token ends a gated
  // batch's wait (lossy never waits).
  std::size_t send_batch(std::span<const T> batch, std::stop_token stop = {}) {
    auto* const l = state_.get();
    if (l == nullptr || batch.empty()) return 0;
    if (state_.gated()) {
      std::size_t n = 0;
      for (const T& v : batch) {
        if (this->send(v, stop) != status::ok) break;
        ++n;
      }
      return n;
    }
    // relaxed: as in claim_one().
    const std::uint64_t first = l->publisher.head.fetch_add(batch.size(), std::memory_order_relaxed) + 1;
    for (std::size_t i = 0; i < batch.size(); ++i) write(first + i, detail::to_words(batch[i]));
    return batch.size();
  }

  // ---- state ---------------------------------------------------------------------------
  // Drops this producer. The last one closes the channel: subscribers drain what is still
  // readable, then see closed. Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = state_.get();
    if (l == nullptr) return;
    // acq_rel: release orders our commits before the count's drop; acquire (for the last
    // one) takes every other producer's commits along before it closes.
    if (l->control.producers.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // release: every publish happens-before a subscriber's acquire load of the flag.
      l->control.closed.store(1, std::memory_order_release);
      Sync::full_fence();  // rare path: a real fence against every parking subscriber
      state_.wake_parked();
    }
    state_.reset();
  }

  [[nodiscard]] bool is_closed() const noexcept { return state_.get() == nullptr; }
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(state_.capacity()); }
  // Messages published through this copy.
  [[nodiscard]] std::uint64_t published() const noexcept { return published_; }
  // The channel's counters for another thread (stats.hpp, detail/monitor.hpp).
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(state_.share()); }
  // Producers (copies) alive now: an observation.
  [[nodiscard]] std::uint32_t producers() const noexcept {
    auto* l = state_.get();
    // relaxed: an observation.
    return l == nullptr ? 0 : l->control.producers.load(std::memory_order_relaxed);
  }
  void set_wait(const wait_strategy& w) noexcept { state_.set_wait(w); }

 private:
  void init() noexcept {
    const std::uint64_t cap = state_.capacity();
    pow2_ = std::has_single_bit(cap);
  }

  // relaxed: the ticket needs atomicity only (see try_send).
  std::uint64_t claim_one(ring* l) noexcept { return l->publisher.head.fetch_add(1, std::memory_order_relaxed) + 1; }

  friend class ringwire::detail::send_calls<shared_publisher<T, Sync>, T, Sync>;

  status emplace_limited(const ringwire::detail::wait_limits& lim, const T& v) {
    auto* const l = state_.get();
    if (l == nullptr) return status::closed;
    if (!state_.gated()) {
      write(claim_one(l), detail::to_words(v));
      return status::ok;
    }
    for (;;) {
      const status st = try_send(v);
      if (st != status::full) return st;
      // relaxed: a hint for the wait; the claim re-reads head.
      const std::uint64_t next = l->publisher.head.load(std::memory_order_relaxed) + 1;
      const status w = state_.wait_room(next, lim, ringwire::detail::word_sharing::shared);
      if (w != status::ok) return w;
    }
  }
  // emplace(args...): the value is built here, then written as above.
  template <class... Args>
    requires(!ringwire::detail::is_value_of<T, Args...>)
  status emplace_limited(const ringwire::detail::wait_limits& lim, Args&&... args) {
    return emplace_limited(lim, T(std::forward<Args>(args)...));
  }

  void write(std::uint64_t s, const std::array<std::uint64_t, detail::words_of<T>>& w) noexcept {
    const std::uint64_t cap = state_.capacity();
    const detail::slot_ref<Sync> slot{state_.geo().slot(pow2_ ? (s & (cap - 1)) : s % cap)};
    const std::uint64_t previous = s > cap ? ring::committed(s - cap) : 0;
    // acquire: the previous lap's payload stores happen-before ours (one writer per slot).
    std::uint64_t st = slot.stamp().load(std::memory_order_acquire);
    for (std::uint32_t spins = 0; st != previous; ++spins) {
      RINGWIRE_ASSERT(st < previous);  // only ticket s moves the stamp past `previous`
      if (spins < 1024) {
        Sync::cpu_relax();
      } else {
        Sync::yield();  // the previous writer was descheduled mid-write
      }
      // acquire: as above.
      st = slot.stamp().load(std::memory_order_acquire);
    }
    detail::write_slot<Sync>(slot, s, w);
    ++published_;
    state_.after_commit();
  }

  detail::producer_state<Sync> state_;
  bool pow2_ = false;  // capacity is a power of two: slot = s & (capacity - 1), no division
  std::uint64_t published_ = 0;
};

}  // namespace ringwire::broadcast
