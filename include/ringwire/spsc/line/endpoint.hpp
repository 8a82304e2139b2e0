// ringwire/spsc/line/endpoint.hpp -- what the line sender and receiver have in common: a
// counted reference to the layout, and the walk over its slots.
//
// Each side walks the slot array on its own: its index (next_) and a pointer to that
// index's slot (at_), stepped together and wrapped at the end of the array with a compare,
// never a division. The stride and the element's offset in a slot follow from T at
// compile time (line/layout.hpp); the layout records them and the constructor checks that
// they agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "ringwire/detail/endpoint.hpp"
#include "ringwire/spsc/line/storage.hpp"

namespace ringwire::spsc::detail {

// Derived: the line sender or receiver, whose close() a move assignment runs first.
template <class T, class Sync, class Derived>
class line_endpoint : public ringwire::detail::endpoint<Derived, line_ref<Sync>> {
  using base = ringwire::detail::endpoint<Derived, line_ref<Sync>>;

  static_assert(std::is_nothrow_destructible_v<T>, "channel elements must have a non-throwing destructor");
  static_assert(std::is_move_constructible_v<T> || std::is_copy_constructible_v<T>,
                "channel elements must be movable");

 public:
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(cap_); }

 protected:
  using ring = line_layout<Sync>;
  static constexpr std::size_t stride = ring::stride(sizeof(T), alignof(T));
  static constexpr std::size_t value_at = ring::value_offset(alignof(T));

  line_endpoint() noexcept = default;
  line_endpoint(line_ref<Sync> ref, const wait_strategy& w) noexcept
      : base(std::move(ref), w, Sync::resolve_scope(fence_scope::process)) {
    auto* l = this->ref_.get();
    RINGWIRE_ASSERT(l->geometry.slot_stride == stride && l->geometry.value_offset == value_at);
    cap_ = l->geometry.capacity;
    begin_ = at_ = l->slot(0);
    end_ = l->slot(cap_);
    // A fresh channel: both sides start at start_index, in slot 0.
    next_ = l->geometry.start_index;
  }
  line_endpoint(line_endpoint&&) noexcept = default;
  line_endpoint& operator=(line_endpoint&&) noexcept = default;
  ~line_endpoint() = default;

  // The slot of index next_: its stamp and its element.
  [[nodiscard]] typename ring::template atomic<std::uint64_t>& stamp() const noexcept { return ring::stamp(at_); }
  [[nodiscard]] T* value() const noexcept { return std::launder(reinterpret_cast<T*>(at_ + value_at)); }

  // On to the next index and its slot.
  void step() noexcept {
    ++next_;
    at_ += stride;
    if (at_ == end_) at_ = begin_;
  }

  // Waits (wait.hpp) on `word` until ready(); the futex sleeps are not counted (no metrics).
  template <class Ready>
  status wait_on(typename Sync::template atomic<std::uint32_t>& word, const ringwire::detail::wait_limits& lim,
                 Ready&& ready) {
    std::uint64_t parks = 0;
    return ringwire::detail::wait_until<Sync>(this->wait_, word, this->scope_, this->ref_.watch(lim), parks, std::forward<Ready>(ready));
  }

  // After a close: no slot any more (at_ == nullptr sends every operation to its slow
  // path, which finds ref_ empty and says closed).
  void detach() noexcept {
    this->ref_.reset();
    at_ = begin_ = end_ = nullptr;
    cap_ = 0;
  }

  // Hot fields first after the base (reference, wait, scope): one cache line of the
  // endpoint holds everything a send or receive touches. A move leaves them zero in the
  // source.
  template <class V>
  using reset_on_move = ringwire::detail::reset_on_move<V>;
  reset_on_move<std::byte*> at_;     // the slot of next_
  reset_on_move<std::uint64_t> next_;  // our own index (we are its only writer)
  reset_on_move<std::byte*> begin_;
  reset_on_move<std::byte*> end_;
  reset_on_move<std::uint64_t> cap_;  // 0 once closed or moved from
};

}  // namespace ringwire::spsc::detail
