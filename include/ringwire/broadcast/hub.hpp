// ringwire/broadcast/hub.hpp -- what makes subscribers (and subscriber groups) of one
// broadcast channel: the channel's memory and the options its subscribers are made with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "ringwire/broadcast/group.hpp"
#include "ringwire/broadcast/stats.hpp"
#include "ringwire/broadcast/storage.hpp"
#include "ringwire/broadcast/subscriber.hpp"

namespace ringwire::broadcast {

// Makes subscribers. Copyable (each copy keeps the channel's memory alive); thread-safe:
// any thread may subscribe at any time, also after the publisher closed.
template <class T, class Sync = std_sync>
class hub {
 public:
  // scope: the subscribers' fence scope (cross_process when the publisher may be another
  // process: a ring in caller memory shared between processes, attach.hpp).
  hub(detail::ring_ref<Sync> ref, const options& opt, fence_scope scope = fence_scope::process) noexcept
      : ref_(std::move(ref)), opt_(opt), scope_(scope) {}
  hub(const hub& o) noexcept : ref_(o.ref_.copy()), opt_(o.opt_), scope_(o.scope_) {}
  hub& operator=(const hub& o) noexcept {
    if (this != &o) {
      ref_ = o.ref_.copy();
      opt_ = o.opt_;
      scope_ = o.scope_;
    }
    return *this;
  }
  hub(hub&&) noexcept = default;
  hub& operator=(hub&&) noexcept = default;

  // A subscriber that receives every message published after this call. Throws
  // ringwire::error (too_many_subscribers) when max_subscribers are live.
  [[nodiscard]] subscriber<T, Sync> subscribe() const { return subscriber<T, Sync>(ref_.copy(), opt_, false, scope_); }
  // A subscriber that first replays the live window: the last min(published, capacity)
  // messages (see the gated-policy caveat at the top of subscriber.hpp).
  [[nodiscard]] subscriber<T, Sync> subscribe_from_oldest() const {
    return subscriber<T, Sync>(ref_.copy(), opt_, true, scope_);
  }
  // `members` consumers behind one subscriber, starting at the next message (group.hpp).
  // Throws ringwire::error: invalid_options for zero members, too_many_subscribers.
  [[nodiscard]] subscriber_group<T, Sync> subscribe_group(std::uint32_t members) const {
    return subscriber_group<T, Sync>(ref_.copy(), opt_, false, members, scope_);
  }
  [[nodiscard]] std::size_t capacity() const noexcept {
    return ref_.get() == nullptr ? 0 : static_cast<std::size_t>(ref_.get()->geometry.capacity);
  }
  // The channel as its memory says (stats.hpp): the producers' counters and every
  // subscriber's position, lag and counters. Only loads. An empty hub: a default stats.
  [[nodiscard]] broadcast::stats stats() const {
    return ref_.get() == nullptr ? broadcast::stats{} : detail::read_stats(detail::ring_geometry<Sync>(ref_.get()));
  }
  // The same numbers for another thread (stats.hpp, detail/monitor.hpp).
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 private:
  detail::ring_ref<Sync> ref_;
  options opt_;
  fence_scope scope_ = fence_scope::process;
};

}  // namespace ringwire::broadcast
