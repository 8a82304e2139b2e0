// ringwire/spsc/line/receiver.hpp -- the consuming end of a line channel.
//
// Mirror image of the line sender. A receive, on its fast path: one acquire load of the
// stamp of its slot (the line the element is on, so the element comes with it), the move
// out and destruction, the release store of head (its own line, which the sender reads
// only when its room runs out), and the park check (light fence + one load of
// producer_park, the same line as head). It never reads anything the sender writes on
// every send except that slot.
//
// Outcomes: a value, or empty (try_*), closed (the sender is gone and every message it
// sent has been received; or this receiver was closed or moved from), timed_out,
// cancelled. If T's move constructor throws while receiving, the element stays queued.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/detail/call_surface.hpp"
#include "ringwire/spsc/line/endpoint.hpp"
#include "ringwire/status.hpp"

namespace ringwire::spsc {

template <class T, class Sync = std_sync>
class line_receiver : public detail::line_endpoint<T, Sync, line_receiver<T, Sync>>,
                      public ringwire::detail::recv_calls<line_receiver<T, Sync>, T, Sync> {
  using base = detail::line_endpoint<T, Sync, line_receiver<T, Sync>>;

 public:
  using value_type = T;

  line_receiver() noexcept = default;
  line_receiver(detail::line_ref<Sync> ref, const line_options& opt) noexcept : base(std::move(ref), opt.receiver_wait) {}
  line_receiver(line_receiver&&) noexcept = default;
  line_receiver& operator=(line_receiver&&) noexcept = default;  // closes this receiver first (detail/endpoint.hpp)
  ~line_receiver() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  recv_result<T> try_recv() {
    const status s = poll();
    if (s != status::ok) [[unlikely]] return recv_result<T>(s);
    return pop_front();  // a prvalue: built in the caller's result, never moved again
  }

  // Move-assigns the oldest element to `out`: ok, empty or closed. One move and no
  // recv_result. If the assignment throws, the element stays queued.
  status try_recv(T& out)
    requires std::is_move_assignable_v<T>
  {
    const status s = poll();
    if (s != status::ok) [[unlikely]] return s;
    out = std::move(*this->value());
    release_front();
    return status::ok;
  }

  // Calls fn(T&) on up to `max` elements that are there now, in order (fn may move from
  // them), destroying each after it, then frees their slots with one head store. Returns
  // how many. If fn throws, the elements before the throwing one are consumed and the rest
  // stay queued.
  template <class Fn>
  std::size_t consume(Fn&& fn, std::size_t max = SIZE_MAX) {
    std::size_t n = 0;
    struct publish_on_exit {
      line_receiver* self;
      const std::size_t* count;
      ~publish_on_exit() {
        if (*count != 0) self->publish_head();
      }
    } guard{this, &n};
    for (; n < max && this->at_ != nullptr && arrived(); ++n) {
      std::invoke(fn, *this->value());
      this->value()->~T();
      this->step();
    }
    return n;
  }

  // ok when the next message is there, else empty or closed; never waits, takes nothing.
  [[nodiscard]] status poll() noexcept {
    if (this->at_ == nullptr) [[unlikely]] return status::closed;
    if (arrived()) [[likely]] return status::ok;
    return empty_or_closed();
  }

  // ---- blocking (the endpoint's wait strategy) -----------------------------------------
  // recv(), recv(stop), recv_for and recv_until come from detail::recv_calls
  // (detail/call_surface.hpp), over recv_limited below.

  // ---- state ---------------------------------------------------------------------------
  // Closes the receiving side: later sends report closed; queued elements are destroyed
  // when the channel's memory is released. Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = this->ref_.get();
    if (l == nullptr) return;
    // release: orders our last slot reads (and head, stored by every receive) before the
    // flag the sender stops on.
    l->producer.receiver_closed.store(1, std::memory_order_release);
    ringwire::detail::notify_close<Sync>(l->consumer.producer_park, this->scope_);
    this->detach();
  }

  // True when nothing more will arrive: the sender is gone and everything it sent has been
  // received (or this receiver is closed).
  [[nodiscard]] bool is_closed() noexcept { return poll() == status::closed; }

 private:
  friend class ringwire::detail::recv_calls<line_receiver<T, Sync>, T, Sync>;
  using limits_t = ringwire::detail::wait_limits;

  // Is message next_ in its slot? acquire: the sender's construction of it happens-before
  // our reads of it.
  [[nodiscard]] bool arrived() const noexcept {
    return this->stamp().load(std::memory_order_acquire) == this->next_;
  }

  [[gnu::noinline]] status empty_or_closed() noexcept {
    // acquire: the sender's last stamp happens-before its close, so a re-check of the slot
    // after seeing the flag sees every message it sent.
    if (this->ref_.get()->consumer.sender_closed.load(std::memory_order_acquire) != 0)
      return arrived() ? status::ok : status::closed;
    return status::empty;
  }

  // One named result and one return, so g++ and clang++ elide it (as spsc::receiver's
  // pop_front: a second move after the slot is freed would lose the element if it threw).
  recv_result<T> pop_front() {
    recv_result<T> r(std::in_place, std::move(*this->value()));  // may throw: nothing consumed yet
    release_front();
    return r;
  }

  // Destroys the element of next_ and frees its slot.
  void release_front() noexcept {
    this->value()->~T();
    this->step();
    publish_head();
  }

  void publish_head() noexcept {
    auto* l = this->ref_.get();
    // release: our moves out of and destruction of the freed slots happen-before the
    // sender's acquire load of head that lets it reuse them.
    l->consumer.head.store(this->next_, std::memory_order_release);
    ringwire::detail::notify<Sync>(l->consumer.producer_park, this->scope_);
  }

  status wait_for_data(const limits_t& lim) {
    auto* l = this->ref_.get();
    // acquire (sender_closed): as in empty_or_closed(); the flag makes a close end the wait.
    return this->wait_on(l->producer.consumer_park, lim, [&] {
      return arrived() || l->consumer.sender_closed.load(std::memory_order_acquire) != 0;
    });
  }

  recv_result<T> recv_limited(const limits_t& lim) {
    for (;;) {
      const status s = poll();
      if (s == status::ok) return pop_front();
      if (s == status::closed) return recv_result<T>(s);
      const status w = wait_for_data(lim);
      if (w != status::ok) return recv_result<T>(w);
    }
  }
};

}  // namespace ringwire::spsc
