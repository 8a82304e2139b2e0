// ringwire/broadcast/publisher.hpp -- the single producing end of a broadcast channel.
//
// Move-only: one thread at a time publishes. Its hot state (its sequence, its slot index,
// the gate's cached room) lives in the endpoint. One publish is: a seqlock write of one
// slot (layout.hpp), a release store of head, then one light fence and two loads on lines
// that change only when a subscriber joins or parks (`epoch`, `parked`): no
// read-modify-write and no syscall unless a subscriber is actually parked. Gating
// (lossless, evict) is producer_state.hpp's, shared with the multi-producer
// shared_publisher.hpp.
//
// Outcomes: ok; full (try_send, gated policies); closed (this publisher was closed or
// moved from); timed_out / cancelled (send_for / send_until / send with a stop token).
//
// Skipping (skip(g)): the sequence advances by g and no slot is written -- for a bridge
// that republishes a remote channel and must pass a remote gap on as one. Every subscriber
// then counts exactly g more missed, reported as status::lagged with the count as on a
// lapped ring, whatever the policy (a skipped message never existed here, so even a
// lossless subscriber misses it), and never receives a skipped sequence. One store of a
// sticky flag, the head store and the after-commit step: nothing is added to a publish.
// The reader's side and the gate's: layout.hpp (Skips), producer_state.hpp.
// The blocking calls come from detail::send_calls (detail/call_surface.hpp), over
// emplace_limited.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/broadcast/producer_state.hpp"
#include "ringwire/broadcast/slot_view.hpp"
#include "ringwire/broadcast/stats.hpp"
#include "ringwire/broadcast/storage.hpp"
#include "ringwire/detail/call_surface.hpp"
#include "ringwire/status.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::broadcast {

template <class T, class Sync = std_sync>
class publisher : public ringwire::detail::close_before_move_assign<publisher<T, Sync>>,
                  public ringwire::detail::send_calls<publisher<T, Sync>, T, Sync> {
  static_assert(detail::payload_check<T>::ok);
  using ring = layout<Sync>;

 public:
  using value_type = T;

  publisher() noexcept = default;
  // Starts after the layout's head, so a publisher re-attached to a shared-memory ring
  // (shm/broadcast.hpp) carries the sequence on. scope: fence_scope::cross_process (or
  // _asymmetric) when subscribers may be other processes.
  publisher(detail::ring_ref<Sync> ref, const options& opt, fence_scope scope = fence_scope::process) noexcept
      : state_(std::move(ref), opt, scope) {
    // relaxed: endpoints are made before they are handed to their threads (a re-attached
    // one's predecessor's head store was acquired through the attach's claim).
    seq_ = state_.get()->publisher.head.load(std::memory_order_relaxed);
    index_ = (seq_ + 1) % state_.capacity();
  }
  // A move copies the sequence: the source is closed by its empty reference.
  publisher(publisher&&) noexcept = default;
  publisher& operator=(publisher&&) noexcept = default;  // closes this publisher first (detail/endpoint.hpp)
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;
  ~publisher() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  // ok, or full (gated policies: the slowest live subscriber is a whole ring behind), or closed.
  status try_send(const T& v) noexcept { return put(nullptr, copy_of(v)); }

  // ---- blocking (the publisher's wait strategy; lossy never waits) ---------------------
  // send(v), send(v, stop), send_for, send_until, emplace(args...), send_with(fn) and
  // send_batch(range) come from detail::send_calls, over emplace_limited below. send_with
  // fills a value-initialised local T that is then written through the seqlock (publish_with
  // below writes the slot in place instead). send_batch: each message is its own
  // seqlock write, visible to subscribers as soon as it commits.

  // ---- in place (slot_view.hpp) ---------------------------------------------------------
  // Zero-copy: fn(slot_writer<T, Sync>&) writes the next slot itself, between the odd and
  // the even stamp, as send writes it; nothing is copied from a local T. The slot holds the
  // message of one lap earlier (zeros on the first lap; after an fn that threw, what it had
  // written): fn sets every field, or calls
  // clear() or set(value) first. Waits for room as send(v) does (lossless: the slowest
  // subscriber; lossy and evict never wait): ok or closed. If fn throws, the exception
  // propagates and nothing is published: the slot is left mid-write (its odd stamp), which
  // no subscriber accepts, and the next publish writes the same sequence number into it.
  template <class Fn>
    requires std::is_invocable_v<Fn&, slot_writer<T, Sync>&>
  status publish_with(Fn&& fn) {
    const ringwire::detail::wait_limits forever{};
    return put(&forever, in_place(fn));
  }
  // As publish_with, never waiting: full (gated policies) instead, fn not called.
  template <class Fn>
    requires std::is_invocable_v<Fn&, slot_writer<T, Sync>&>
  status try_publish_with(Fn&& fn) {
    return put(nullptr, in_place(fn));
  }

  // ---- skipping (see the top of this header) ------------------------------------------
  // Advances the sequence by g without writing a message: subscribers see sequences
  // published() + 1 .. published() + g as missed (status::lagged, exact count). Never waits
  // and needs no room, under every policy: it writes no slot. The next publish then waits
  // (lossless) or evicts (evict) as if the g sequences had been messages, except that a
  // subscriber which had read everything before them is not held behind by them
  // (producer_state.hpp). ok (g == 0: nothing done), or closed. Precondition:
  // published() + g does not overflow 64 bits (checked: RINGWIRE_CHECKS).
  status skip(std::uint64_t g) noexcept {
    RINGWIRE_ASSERT(!in_fn_ && "publish_with's fn must not skip on its own publisher");
    RINGWIRE_ASSERT(g <= ~std::uint64_t{0} - seq_ && "skip: the sequence would wrap");
    auto* const l = state_.get();
    if (l == nullptr) return status::closed;
    if (g == 0) return status::ok;
    // relaxed: a subscriber acts on it only after an acquire load of the head stored below
    // (release), or after the Dekker pair of a parked one (after_commit's fence).
    l->control.skipped.store(1, std::memory_order_relaxed);
    state_.skipped(seq_ + 1, seq_ + g);
    seq_ += g;
    index_ = (seq_ + 1) % state_.capacity();
    // release: the flag and every earlier commit happen-before a subscriber's acquire load
    // of head, from which it concludes that a stamp below 2n (n <= head) was skipped.
    l->publisher.head.store(seq_, std::memory_order_release);
    state_.after_commit();
    return status::ok;
  }

  // ---- state ---------------------------------------------------------------------------
  // Closes the channel: subscribers drain what is still in the ring, then see closed.
  // Idempotent; also done by the destructor.
  void close() noexcept {
    RINGWIRE_ASSERT(!in_fn_ && "publish_with's fn must not close its own publisher");
    auto* l = state_.get();
    if (l == nullptr) return;
    // release: every publish happens-before a subscriber's acquire load of the flag, so a
    // subscriber that sees closed and then re-reads its slot sees every message.
    l->control.closed.store(1, std::memory_order_release);
    Sync::full_fence();  // rare path: a real fence against every parking subscriber
    state_.wake_parked();
    state_.reset();
  }

  [[nodiscard]] bool is_closed() const noexcept { return state_.get() == nullptr; }
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(state_.capacity()); }
  // The newest sequence number: messages published so far plus the sequences skipped.
  [[nodiscard]] std::uint64_t published() const noexcept { return seq_; }
  // The channel as its memory says (stats.hpp; hub::stats). A closed publisher: default.
  [[nodiscard]] broadcast::stats stats() const {
    return state_.get() == nullptr ? broadcast::stats{} : detail::read_stats(state_.geo());
  }
  // A monitor of the channel's counters (stats.hpp): the same numbers as stats(), for
  // another thread.
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(state_.share()); }
  void set_wait(const wait_strategy& w) noexcept { state_.set_wait(w); }

 private:
  friend class ringwire::detail::send_calls<publisher<T, Sync>, T, Sync>;

  status emplace_limited(const ringwire::detail::wait_limits& lim, const T& v) { return put(&lim, copy_of(v)); }
  // emplace(args...): the value is built here, then written as above.
  template <class... Args>
    requires(!ringwire::detail::is_value_of<T, Args...>)
  status emplace_limited(const ringwire::detail::wait_limits& lim, Args&&... args) {
    return emplace_limited(lim, T(std::forward<Args>(args)...));
  }

  // The two ways to write a slot (`write_slot(slot, s)`: the whole seqlock write of
  // message s): a copy of v, or fn in place.
  static auto copy_of(const T& v) noexcept {
    return [w = detail::to_words(v)](detail::slot_ref<Sync> slot, std::uint64_t s) noexcept {
      detail::write_slot<Sync>(slot, s, w);
    };
  }
  // fn must not use this publisher (send, publish_with, close, move): the slot is mid-write
  // and a nested publish would write the same sequence into it. Checked (RINGWIRE_CHECKS).
  template <class Fn>
  auto in_place(Fn& fn) noexcept {
    return [this, &fn](detail::slot_ref<Sync> slot, std::uint64_t s) {
      detail::begin_write<Sync>(slot, s);
      slot_writer<T, Sync> w(slot.words());
      const ringwire::detail::reentry_mark in_fn(in_fn_);
      fn(w);  // a throw leaves the odd stamp: see publish_with
      detail::end_write<Sync>(slot, s);
    };
  }

  // Every publish: closed; room for message seq_ + 1 (lim: waited for by the wait strategy;
  // null: checked once, full); then the write and the commit.
  template <class WriteSlot>
  status put(const ringwire::detail::wait_limits* lim, WriteSlot&& write_slot) {
    RINGWIRE_ASSERT(!in_fn_ && "publish_with's fn must not publish on its own publisher");
    if (state_.get() == nullptr) return status::closed;
    if (lim == nullptr) {
      if (!state_.may_write(seq_ + 1)) return status::full;
    } else if (const status st = state_.wait_room(seq_ + 1, *lim, ringwire::detail::word_sharing::exclusive);
               st != status::ok) {
      return st;
    }
    auto* const l = state_.get();
    const std::uint64_t s = seq_ + 1;
    write_slot(detail::slot_ref<Sync>{state_.geo().slot(index_)}, s);
    seq_ = s;
    index_ = index_ + 1 == state_.capacity() ? 0 : index_ + 1;
    // release: the slot's commit happens-before a subscriber's acquire load of head (its
    // slow paths: lag, latest, pending, joining).
    l->publisher.head.store(s, std::memory_order_release);
    state_.after_commit();
    return status::ok;
  }

  detail::producer_state<Sync> state_;
  std::uint64_t seq_ = 0;    // newest published sequence
  std::uint64_t index_ = 0;  // slot of seq_ + 1
  bool in_fn_ = false;       // publish_with's fn is running (the re-entry check)
};

}  // namespace ringwire::broadcast
