// ringwire/detail/monitor.hpp -- the one shape of every family's monitor.
//
// A monitor is a copyable, read-only handle on a channel's memory for a thread that only
// watches (a metrics exporter, a UI, a test): it holds a counted reference (a heap channel
// stays allocated while a monitor holds it; a shared-memory channel through its attachment,
// which claims no side), and snapshot() reads the family's counters with relaxed loads into
// the family's plain snapshot type. It never writes, so it never disturbs the endpoints
// beyond the cache lines it reads. Every endpoint (and a broadcast hub) has make_monitor();
// shm::<family>::make_monitor(seg) makes one on a segment without attaching a side.
//
// A family supplies its Reader: a class with a static `read(const Layout&)` returning the
// snapshot (spsc: channel_stats; broadcast: broadcast::stats ...). A monitor made empty,
// moved from, or on a closed endpoint returns a default snapshot.
#pragma once

#include <utility>

#include "ringwire/detail/counted_ref.hpp"

namespace ringwire::detail {

template <class Layout, class Sync, class Reader>
class monitor {
 public:
  using snapshot_type = decltype(Reader::read(std::declval<const Layout&>()));

  monitor() noexcept = default;
  explicit monitor(counted_ref<Layout, Sync> r) noexcept : ref_(std::move(r)) {}
  monitor(const monitor& o) noexcept : ref_(o.ref_.copy()) {}
  monitor& operator=(const monitor& o) noexcept {
    if (this != &o) ref_ = o.ref_.copy();
    return *this;
  }
  monitor(monitor&&) noexcept = default;
  monitor& operator=(monitor&&) noexcept = default;
  ~monitor() = default;

  [[nodiscard]] snapshot_type snapshot() const {
    const Layout* l = ref_.get();
    return l == nullptr ? snapshot_type{} : Reader::read(*l);
  }

 protected:
  [[nodiscard]] const Layout* layout() const noexcept { return ref_.get(); }

 private:
  counted_ref<Layout, Sync> ref_;
};

}  // namespace ringwire::detail
