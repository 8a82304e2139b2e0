// ringwire/mpsc/registrar.hpp -- the handle that registers producers on an MPSC channel.
//
// make_sender() claims a free lane (or formats a never-used one) and returns the
// spsc::sender that owns it. Registrars are copyable and may be used from any thread at
// once: claiming is a compare-exchange on the lane's descriptor. The registrar's existence
// keeps the channel open: the receiver sees closed only when every registrar copy AND
// every sender are gone and every lane is drained (a live registrar could still make a
// sender, so "no senders right now" is not the end of the stream).
//
// Costs: registration is the slow path (a scan of the descriptors, a CAS, a fence); a copy
// or drop of a registrar is one atomic RMW on the registry block. Nothing here touches a
// sender's or the receiver's hot path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "ringwire/mpsc/stats.hpp"
#include "ringwire/mpsc/storage.hpp"
#include "ringwire/spsc/sender.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::mpsc {

// What registration does to lane descriptors; shared by the registrar and the Relacy model.
namespace detail {

// Claims lane i if it is free, or owned by a sender that is gone and drained (recycling a
// lane the receiver has not looked at since). Returns true with `state` the claimed value.
template <class Sync>
bool try_claim(layout<Sync>& l, std::uint64_t i, std::uint32_t& state) noexcept {
  auto& d = l.lane_descriptor(i);
  // relaxed: only a hint of what to try; the CAS below decides, with acquire.
  std::uint32_t s = d.state.load(std::memory_order_relaxed);
  if (lane_kind(s) == lane_owned) {
    // acquire: the formatter's release; then the old sender's close and the receiver's head
    // store, so "gone and drained" is read from the latest values (see layout.hpp).
    if (d.formatted.load(std::memory_order_acquire) == 0) return false;
    auto& ring = l.lane_ring(i);
    if (ring.consumer.sender_closed.load(std::memory_order_acquire) == 0) return false;
    // acquire (both): the old sender's last publish and the receiver's last release.
    if (ring.producer.tail.load(std::memory_order_acquire) != ring.consumer.head.load(std::memory_order_acquire))
      return false;
  } else if (lane_kind(s) != lane_free) {
    return false;
  }
  const std::uint32_t claimed = lane_state(lane_generation(s) + 1, lane_claimed);
  // acq_rel: acquire the previous owner's and the receiver's work on the lane (the
  // receiver frees it with release); release is for the generation's single order.
  if (!d.state.compare_exchange_strong(s, claimed, std::memory_order_acq_rel, std::memory_order_relaxed))
    return false;
  state = claimed;
  return true;
}

// Prepares claimed lane i for a new sender and publishes it as owned. Returns its ring.
template <class Sync>
spsc::layout<Sync>& publish_lane(layout<Sync>& l, std::uint64_t i, std::uint32_t claimed, fence_scope scope) {
  auto& d = l.lane_descriptor(i);
  spsc::layout<Sync>* ring;
  // relaxed: our CAS acquired the lane, and with it every earlier store of formatted.
  if (d.formatted.load(std::memory_order_relaxed) == 0) {
    ring = &l.format_lane(i);
    // release: the receiver reads the ring only after acquiring this.
    d.formatted.store(1, std::memory_order_release);
    // relaxed: a hint that makes the receiver look for the lane; it then acquires formatted.
    l.registry.lanes_formatted.fetch_add(1, std::memory_order_relaxed);
  } else {
    ring = &l.lane_ring(i);
    // relaxed: published by the release store of owned below.
    ring->consumer.sender_closed.store(0, std::memory_order_relaxed);
  }
  // release: the ring's preparation happens-before anyone who acquires owned.
  d.state.store(lane_state(lane_generation(claimed), lane_owned), std::memory_order_release);
  // Dekker with the receiver: it stores receiver_closed or receiver_park, fences, then reads
  // descriptors; we stored the descriptor, fence, then read its words. One of us sees the
  // other: a closing receiver closes this lane too, a parked one learns of a new lane.
  Sync::full_fence();
  // relaxed: ordered by the fence above.
  if (l.receiver.receiver_closed.load(std::memory_order_relaxed) != 0)
    ring->producer.receiver_closed.store(1, std::memory_order_relaxed);  // relaxed: as the receiver's own flag
  if constexpr (Sync::parks) {
    // relaxed: ordered by the fence above; wake() exchanges before its syscall.
    if (l.receiver.receiver_park.load(std::memory_order_relaxed) != ringwire::detail::running)
      ringwire::detail::wake<Sync>(l.receiver.receiver_park, scope);
  }
  return *ring;
}

}  // namespace detail

template <class T, class Sync = std_sync>
class registrar {
 public:
  using sender_type = spsc::sender<T, Sync>;

  registrar() noexcept = default;
  registrar(ringwire::detail::counted_ref<layout<Sync>, Sync> ref, ringwire::detail::owner<Sync>* own,
            const spsc::options& opt) noexcept
      : ref_(std::move(ref)), own_(own), opt_(opt), scope_(Sync::resolve_scope(fence_scope::process)) {}
  registrar(const registrar& o) noexcept : ref_(o.ref_.copy()), own_(o.own_), opt_(o.opt_), scope_(o.scope_) {
    // relaxed: made from a live registrar, whose count already keeps the channel open.
    if (auto* l = ref_.get()) l->registry.registrars.fetch_add(1, std::memory_order_relaxed);
  }
  registrar& operator=(const registrar& o) noexcept {
    if (this != &o) *this = registrar(o);
    return *this;
  }
  registrar(registrar&& o) noexcept
      : ref_(std::move(o.ref_)), own_(std::exchange(o.own_, nullptr)), opt_(o.opt_), scope_(o.scope_) {}
  registrar& operator=(registrar&& o) noexcept {
    if (this != &o) {
      close();
      ref_ = std::move(o.ref_);
      own_ = std::exchange(o.own_, nullptr);
      opt_ = o.opt_;
      scope_ = o.scope_;
    }
    return *this;
  }
  ~registrar() { close(); }

  // A sender owning a lane of its own. Throws ringwire::error(errc::too_many_producers)
  // when all max_producers lanes have live senders (or hold undrained messages of gone
  // ones). If the receiver is gone, returns a closed sender (every send reports closed).
  sender_type make_sender() {
    if (auto s = try_make_sender()) return std::move(*s);
    throw error(errc::too_many_producers,
                "all " + std::to_string(max_producers()) + " lanes have a sender (or undrained messages)");
  }

  // As make_sender(), but nullopt instead of the error. A closed or moved-from registrar
  // returns a closed sender.
  std::optional<sender_type> try_make_sender() {
    auto* l = ref_.get();
    // acquire: a receiver that is gone stays gone; nothing to claim for it.
    if (l == nullptr || l->receiver.receiver_closed.load(std::memory_order_acquire) != 0) return sender_type{};
    for (std::uint64_t i = 0; i < l->max_producers(); ++i) {
      std::uint32_t claimed = 0;
      if (!detail::try_claim(*l, i, claimed)) continue;
      auto& ring = detail::publish_lane(*l, i, claimed, scope_);
      if (own_ != nullptr) own_->retain();  // null: an inline channel, borrowed (mpsc.hpp)
      return sender_type(spsc::detail::ring_ref<Sync>(&ring, own_), opt_);
    }
    return std::nullopt;
  }

  // Drops this handle (the destructor does it too). When the last registrar and the last
  // sender are gone, the receiver sees closed once it has drained the lanes.
  void close() noexcept {
    auto* l = ref_.get();
    if (l == nullptr) return;
    // acq_rel: everything this registrar did happens-before the receiver's acquire of zero.
    if (l->registry.registrars.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if constexpr (Sync::parks) {  // the receiver may be parked waiting for the end
        Sync::full_fence();
        ringwire::detail::wake<Sync>(l->receiver.receiver_park, scope_);
      }
    }
    ref_.reset();
    own_ = nullptr;
  }

  [[nodiscard]] std::size_t max_producers() const noexcept {
    return ref_.get() == nullptr ? 0 : static_cast<std::size_t>(ref_.get()->max_producers());
  }
  [[nodiscard]] std::size_t lane_capacity() const noexcept {
    return ref_.get() == nullptr ? 0 : static_cast<std::size_t>(ref_.get()->geometry.lane_capacity);
  }
  // Lanes claimed or owned right now (a snapshot; recycling happens as the receiver drains).
  [[nodiscard]] std::size_t lanes_in_use() const noexcept {
    auto* l = ref_.get();
    std::size_t n = 0;
    if (l == nullptr) return 0;
    for (std::uint64_t i = 0; i < l->max_producers(); ++i)
      // relaxed: a snapshot for observers.
      n += lane_kind(l->lane_descriptor(i).state.load(std::memory_order_relaxed)) != lane_free ? 1 : 0;
    return n;
  }

  // The channel's counters, per lane and in all, for another thread (stats.hpp).
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 private:
  ringwire::detail::counted_ref<layout<Sync>, Sync> ref_;
  ringwire::detail::owner<Sync>* own_ = nullptr;  // kept alive by ref_
  spsc::options opt_;
  fence_scope scope_ = fence_scope::process;
};

}  // namespace ringwire::mpsc
