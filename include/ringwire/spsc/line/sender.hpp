// ringwire/spsc/line/sender.hpp -- the producing end of a line channel.
//
// One thread at a time (move-only, like spsc::sender). A send, on its fast path:
//   its cached room (next_ != limit_, endpoint fields), the receiver_closed flag (relaxed,
//   the producer block), the construction in the slot, the release store of the slot's
//   stamp, and the park check (light fence + one load of consumer_park, the same line as
//   receiver_closed). No read of head until the cached room runs out: then one acquire load
//   of head refills the room to the whole distance the receiver has freed.
//
// Outcomes: ok, full (try_*), closed (the receiver is gone, or this sender was closed or
// moved from), timed_out, cancelled. On any outcome but ok the argument is untouched. If
// T's constructor throws, nothing is published and the exception propagates.
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <utility>

#include "ringwire/detail/call_surface.hpp"
#include "ringwire/spsc/line/endpoint.hpp"

namespace ringwire::spsc {

template <class T, class Sync = std_sync>
class line_sender : public detail::line_endpoint<T, Sync, line_sender<T, Sync>>,
                    public ringwire::detail::send_calls<line_sender<T, Sync>, T, Sync> {
  using base = detail::line_endpoint<T, Sync, line_sender<T, Sync>>;

 public:
  using value_type = T;

  line_sender() noexcept = default;
  line_sender(detail::line_ref<Sync> ref, const line_options& opt) noexcept : base(std::move(ref), opt.sender_wait) {
    limit_ = this->next_;  // no room known yet: the first send reads head
  }
  line_sender(line_sender&&) noexcept = default;
  line_sender& operator=(line_sender&&) noexcept = default;  // closes this sender first (detail/endpoint.hpp)
  ~line_sender() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  status try_send(const T& v) { return try_emplace(v); }
  status try_send(T&& v) { return try_emplace(std::move(v)); }

  // Constructs the element in its slot from args.
  template <class... Args>
  status try_emplace(Args&&... args) {
    if (this->next_ == limit_) [[unlikely]] {
      if (!refresh()) return full_or_closed();
    }
    auto* const l = this->ref_.get();
    // relaxed: no data flows through the flag; it only stops new sends.
    if (l->producer.receiver_closed.load(std::memory_order_relaxed) != 0) [[unlikely]] return status::closed;
    // Locals: the element's stores may alias this endpoint's fields, so nothing is
    // re-read from it between the construction and the stamp.
    auto& stamp = this->stamp();
    const std::uint64_t i = this->next_;
    ::new (static_cast<void*>(this->value())) T(std::forward<Args>(args)...);
    // release: the construction happens-before the receiver's acquire load that sees i.
    stamp.store(i, std::memory_order_release);
    this->step();
    ringwire::detail::notify<Sync>(l->producer.consumer_park, this->scope_);
    return status::ok;
  }

  // ---- blocking (the endpoint's wait strategy) -----------------------------------------
  // send(v), send(v, stop), send_for, send_until and emplace(args...) come from
  // detail::send_calls (detail/call_surface.hpp), over emplace_limited below.

  // ---- state ---------------------------------------------------------------------------
  // Closes the sending side: the receiver drains what was sent, then sees closed. Later
  // sends report closed. Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = this->ref_.get();
    if (l == nullptr) return;
    // release: every stamp store happens-before the receiver's acquire load of the flag, so
    // a receiver that sees closed and then re-reads its slot's stamp sees every message.
    l->consumer.sender_closed.store(1, std::memory_order_release);
    ringwire::detail::notify_close<Sync>(l->producer.consumer_park, this->scope_);
    this->detach();
    limit_ = this->next_;  // every later send takes the slow path, which says closed
  }

  // True when the receiver is gone or this sender is closed: sends will fail.
  [[nodiscard]] bool is_closed() const noexcept { return this->ref_.get() == nullptr || receiver_gone(); }

 private:
  friend class ringwire::detail::send_calls<line_sender<T, Sync>, T, Sync>;
  using limits_t = ringwire::detail::wait_limits;

  // relaxed: no data flows through the flag; it only stops new sends.
  [[nodiscard]] bool receiver_gone() const noexcept {
    return this->ref_.get()->producer.receiver_closed.load(std::memory_order_relaxed) != 0;
  }

  // Re-reads head; true when at least one slot is free. Slow path: once a lap while the
  // receiver keeps up.
  [[gnu::noinline]] bool refresh() noexcept {
    auto* l = this->ref_.get();
    if (l == nullptr) return false;
    // acquire: the receiver's moves out of and destruction of the slots before head
    // happen-before we construct into them again.
    const std::uint64_t head = l->consumer.head.load(std::memory_order_acquire);
    RINGWIRE_ASSERT(this->next_ - head <= this->cap_);
    limit_ = head + this->cap_;
    return limit_ != this->next_;
  }

  [[nodiscard]] status full_or_closed() const noexcept {
    return this->ref_.get() == nullptr || receiver_gone() ? status::closed : status::full;
  }

  status wait_for_room(const limits_t& lim) {
    auto* l = this->ref_.get();
    if (l == nullptr) return status::closed;
    return this->wait_on(l->consumer.producer_park, lim, [&] { return refresh() || receiver_gone(); });
  }

  template <class... Args>
  status emplace_limited(const limits_t& lim, Args&&... args) {
    // try_emplace consumes its arguments only when it says ok: forwarding them again is safe.
    return ringwire::detail::retry_while(
        status::full, [&] { return try_emplace(std::forward<Args>(args)...); }, [&] { return wait_for_room(lim); });
  }

  ringwire::detail::reset_on_move<std::uint64_t> limit_;  // next_ may go up to (not including) this: head as last read + capacity
};

}  // namespace ringwire::spsc
