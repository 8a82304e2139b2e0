// ringwire/mpsc/receiver.hpp -- the one consuming end of an MPSC lanes channel.
//
// The receiver keeps one spsc::receiver per lane it has seen formatted (its "view" of that
// ring: its own head and a cached tail, in this object), and a list of those lanes in the
// order it discovered them. Every receive scans that list round-robin from a cursor that
// moves past the last lane served, so no lane can starve another whatever the bound passed
// to consume_up_to: a lane with messages is served within (lanes - 1) calls.
//
// Ordering: FIFO per producer (each lane is an SPSC ring), no order across producers.
//
// Recycling. When a lane's view reports closed (its sender is gone and it is drained),
// the receiver re-checks the descriptor in protocol order (state, then sender_closed, then
// tail == head) and frees the lane (CAS owned -> free), so a later registration reuses it.
//
// Closed. The receiver sees closed when no registrar is left, every lane is free (so no
// sender is left) and everything was received. Registrars and senders see its close.
//
// Parking (wait_strategy::park). The receiver sleeps on one word, receiver_park, for all
// lanes; each known lane's own consumer_park word is the receiver's flag "parked" for it:
//     receiver_park = parked;  every known lane's flag = parked (release);  heavy_fence();
//     if (any lane has data, a lane appeared, or the channel ended) { unarm; done }
//     futex_wait(receiver_park, parked);  unarm;  re-check
// A sender's publish pays exactly the SPSC fast path (light_fence, one load of its lane's
// flag); only when the flag says parked does it exchange the flag and wake receiver_park
// (spsc::sender::wake_receiver): a syscall only when the receiver is actually parked. The
// flag store is a release after receiver_park's, so a sender that takes a flag armed for
// this park also sees this park's receiver_park and cannot skip the wake. Registration,
// a sender's close and the last registrar's drop wake receiver_park after a full fence.
//
// Memory. The per-lane state (a view per lane, the discovery order) is two arrays of
// max_producers entries, allocated when the receiver is made; an inline channel
// (mpsc.hpp) lends arrays of its own instead (lane_space), so nothing is ever allocated.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ringwire/detail/call_surface.hpp"
#include "ringwire/detail/endpoint.hpp"
#include "ringwire/mpsc/stats.hpp"
#include "ringwire/mpsc/storage.hpp"
#include "ringwire/spsc/receiver.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::mpsc {

template <class T, class Sync = std_sync>
class receiver
    : public ringwire::detail::endpoint<receiver<T, Sync>, ringwire::detail::counted_ref<layout<Sync>, Sync>>,
      public ringwire::detail::recv_calls<receiver<T, Sync>, T, Sync> {
  using base = ringwire::detail::endpoint<receiver<T, Sync>, ringwire::detail::counted_ref<layout<Sync>, Sync>>;
  using base::ref_, base::scope_, base::wait_;
  using lane_rx = spsc::receiver<T, Sync>;
  struct view;

 public:
  using value_type = T;

  // Room for the per-lane state of a channel of up to MaxProducers lanes, for a receiver
  // that must not allocate (mpsc::inline_channel keeps one beside its lanes).
  template <std::size_t MaxProducers>
  class lane_space {
    friend class receiver;
    std::array<view, MaxProducers> views_;
    std::array<std::uint32_t, MaxProducers> order_;
  };

  receiver() noexcept = default;
  // scope: fence_scope::cross_process when senders may be other processes (shm/mpsc.hpp).
  receiver(ringwire::detail::counted_ref<layout<Sync>, Sync> ref, const spsc::options& opt,
           fence_scope scope = fence_scope::process)
      : base(std::move(ref), opt.receiver_wait, Sync::resolve_scope(scope), opt.metrics),
        geo_(ref_.get()),
        owned_views_(std::make_unique<view[]>(geo_.max_producers)),
        owned_order_(std::make_unique<std::uint32_t[]>(geo_.max_producers)),
        views_(owned_views_.get()),
        order_(owned_order_.get()),
        opt_(opt) {}
  // The same over lent per-lane state (no allocation): `space` must outlive the receiver
  // and hold at least the channel's max_producers lanes (checked: invalid_options).
  template <std::size_t MaxProducers>
  receiver(ringwire::detail::counted_ref<layout<Sync>, Sync> ref, const spsc::options& opt,
           lane_space<MaxProducers>& space, fence_scope scope = fence_scope::process)
      : base(std::move(ref), opt.receiver_wait, Sync::resolve_scope(scope), opt.metrics),
        geo_(ref_.get()),
        views_(space.views_.data()),
        order_(space.order_.data()),
        opt_(opt) {
    if (geo_.max_producers > MaxProducers)
      throw error(errc::invalid_options, "an MPSC receiver's lane_space is smaller than the channel's lane count");
  }
  // A move leaves the source with no lanes and closed.
  receiver(receiver&&) noexcept = default;
  receiver& operator=(receiver&&) noexcept = default;  // closes this receiver first (detail/endpoint.hpp)
  ~receiver() { close(); }

  // ---- non-blocking -------------------------------------------------------------------
  // The next message of the next lane (round-robin), or empty, or closed.
  recv_result<T> try_recv() {
    const status s = find_ready();
    if (s != status::ok) return recv_result<T>(s);
    return views_[ready_].rx.try_recv();  // a prvalue: built in the caller's result
  }

  // Move-assigns the next message to `out`: ok, empty or closed. If the assignment
  // throws, the message stays queued.
  status try_recv(T& out)
    requires std::is_move_assignable_v<T>
  {
    const status s = find_ready();
    return s != status::ok ? s : views_[ready_].rx.try_recv(out);
  }

  // Calls fn(T&) on up to `max` messages (fn may move from them), lane by lane round-robin
  // from the cursor, each lane's run with one index store. Returns how many. If fn throws,
  // the messages before the throwing one are consumed and the rest stay queued.
  template <class Fn>
  std::size_t consume_up_to(std::size_t max, Fn&& fn) {
    return visit_lanes(max, [&fn](lane_rx& rx, std::size_t budget) { return rx.consume(fn, budget); });
  }
  // consume_up_to without a bound: everything queued in every lane now.
  template <class Fn>
  std::size_t consume_all(Fn&& fn) {
    return consume_up_to(SIZE_MAX, std::forward<Fn>(fn));
  }

  // Moves up to `max` messages to out (an output iterator). Trivially copyable T into
  // contiguous memory moves each lane's run with at most two memcpy. Returns how many.
  template <class OutIt>
  std::size_t try_recv_batch(OutIt out, std::size_t max) {
    if constexpr (std::is_trivially_copyable_v<T> && spsc::detail::contiguous_into<OutIt, T>) {
      T* dst = std::to_address(out);
      return visit_lanes(max, [&dst](lane_rx& rx, std::size_t budget) {
        const std::size_t n = rx.try_recv_batch(dst, budget);
        dst += n;
        return n;
      });
    } else {
      return consume_up_to(max, [&out](T& v) {
        *out = std::move(v);
        ++out;
      });
    }
  }
  std::size_t try_recv_batch(std::span<T> out) { return try_recv_batch(out.begin(), out.size()); }

  // ---- blocking (the receiver's wait strategy) ------------------------------------------
  // recv(), recv(stop), recv_for and recv_until come from detail::recv_calls
  // (detail/call_surface.hpp), over recv_limited below.

  // Waits until a message is queued (ok), or closed / timed_out / cancelled; takes nothing.
  status wait_readable(std::stop_token stop = {}) {
    for (;;) {
      const status s = find_ready();
      if (s != status::empty) return s;
      const status w = wait_for_data({ringwire::detail::no_deadline, &stop});
      if (w != status::ok) return w;
    }
  }

  // For a receiver that waits in its own event loop on a shared-memory doorbell
  // (shm/doorbell.hpp, shm::mpsc::make_doorbell): arms the receiver's word and every known
  // lane's flag so that the next publish, close or new lane rings the doorbell. Returns
  // false when a message or the end is already there (receive instead of waiting); true:
  // wait for the doorbell. Arm again after every wake.
  bool arm_doorbell() {
    static_assert(Sync::parks, "a doorbell needs senders that check for a parked receiver: use std_sync");
    if (ref_.get() == nullptr || find_ready() != status::empty) return false;
    auto& word = ref_.get()->receiver.receiver_park;
    // relaxed: published to senders by the flags' release stores and the heavy fence.
    word.store(ringwire::detail::parked_bell, std::memory_order_relaxed);
    arm(ringwire::detail::parked_bell);
    Sync::heavy_fence(scope_);
    if (!ready()) return true;
    // relaxed: our own word; a waker's exchange may reset it too, harmlessly.
    word.store(ringwire::detail::running, std::memory_order_relaxed);
    arm(ringwire::detail::running);
    return false;
  }

  // ---- state ---------------------------------------------------------------------------
  // Closes the channel from the receiving side: every sender (and every sender made later)
  // reports closed; queued messages are destroyed when the channel's memory is released.
  // Idempotent; also done by the destructor.
  void close() noexcept {
    auto* l = ref_.get();
    if (l == nullptr) return;
    // relaxed: ordered by the fence below, which pairs with publish_lane's (registrar.hpp).
    l->receiver.receiver_closed.store(1, std::memory_order_relaxed);
    Sync::full_fence();
    for (std::uint64_t i = 0; i < geo_.max_producers; ++i) {
      // acquire: a formatted lane's ring is ready to be written.
      if (views_[i].known || geo_.lane_descriptor(i).formatted.load(std::memory_order_acquire) != 0) {
        if (!views_[i].known && lane_intact(i))
          views_[i].rx = lane_rx(spsc::detail::ring_ref<Sync>(&geo_.lane_ring(i), nullptr), opt_, scope_);
        views_[i].rx.close();  // the lane's receiver_closed, and a wake for a parked sender
      }
    }
    // Lent views go back to empty (their lane receivers were closed just above); owned
    // ones go with their array.
    if (owned_views_ == nullptr)
      for (std::uint64_t i = 0; i < geo_.max_producers; ++i) views_.get()[i] = view{};
    owned_views_.reset();
    owned_order_.reset();
    views_ = nullptr;
    order_.clear();
    ref_.reset();
  }

  // True when nothing more will arrive (see "Closed" above) or this receiver is closed.
  [[nodiscard]] bool is_closed() { return find_ready() == status::closed; }
  [[nodiscard]] std::size_t max_producers() const noexcept {
    return ref_.get() == nullptr ? 0 : static_cast<std::size_t>(geo_.max_producers);
  }
  [[nodiscard]] std::size_t lane_capacity() const noexcept {
    return ref_.get() == nullptr ? 0 : static_cast<std::size_t>(geo_.lane_capacity);
  }
  // Messages queued in the lanes this receiver knows (exact when the senders are idle).
  [[nodiscard]] std::size_t size_approx() const noexcept {
    std::size_t n = 0;
    for (std::uint32_t i : order_) n += views_[i].rx.size_approx();
    return n;
  }

  // Every formatted lane's latency histogram, merged (spsc/layout.hpp "Latency"); nullopt
  // when the channel keeps none (options::latency, shm::with_latency). Any thread.
  [[nodiscard]] std::optional<histogram_snapshot> latency() const { return make_monitor().latency(); }
  // The channel's counters, per lane and in all, for another thread (stats.hpp).
  [[nodiscard]] monitor<Sync> make_monitor() const noexcept { return monitor<Sync>(ref_.copy()); }

 private:
  friend class ringwire::detail::recv_calls<receiver<T, Sync>, T, Sync>;
  struct view {
    lane_rx rx;          // this lane's ring, borrowed: the receiver's own reference keeps it
    bool known = false;  // formatted and in order_
    bool live = false;   // owned as far as we know; false once we recycled it
    bool bad = false;    // formatted with a foreign geometry (lane_intact): never read
  };

  // Learns of lanes formatted since the last look. True when there were new ones.
  bool discover() {
    bool found = false;
    for (std::uint64_t i = 0; i < geo_.max_producers && order_.size() < geo_.max_producers; ++i) {
      // acquire: pairs with publish_lane's release; the ring is formatted.
      if (views_[i].known || geo_.lane_descriptor(i).formatted.load(std::memory_order_acquire) == 0) continue;
      if (views_[i].bad) continue;
      if (!lane_intact(i)) {  // never read (a corrupt peer in shared memory), never counted new
        views_[i].bad = true;
        continue;
      }
      views_[i].rx = lane_rx(spsc::detail::ring_ref<Sync>(&geo_.lane_ring(i), nullptr), opt_, scope_);
      views_[i].known = true;
      views_[i].live = true;
      order_.push_back(static_cast<std::uint32_t>(i));
      found = true;
    }
    return found;
  }

  // Whether lane i's ring has the geometry format_lane gives it. Always so in one process;
  // in shared memory another process formatted it, and a receiver must never follow a
  // foreign slots_offset or capacity out of the segment. Once per lane, on discovery.
  bool lane_intact(std::uint64_t i) noexcept {
    auto* l = ref_.get();
    const auto& g = geo_.lane_ring(i).geometry;
    const auto park = reinterpret_cast<std::byte*>(&l->receiver.receiver_park) - geo_.lane_memory(i);
    using ring = spsc::layout<Sync>;
    const auto [stamps, histogram] =
        geo_.latency ? std::pair{ring::stamps_offset(geo_.lane_capacity, geo_.slot_size, geo_.slot_align),
                                 ring::histogram_offset(geo_.lane_capacity, geo_.slot_size, geo_.slot_align)}
                     : std::pair<std::size_t, std::size_t>{0, 0};
    return g.capacity == geo_.lane_capacity && g.slot_count == std::bit_ceil(g.capacity) &&
           g.slots_offset == ring::slots_offset(geo_.slot_align) && g.slot_size == geo_.slot_size &&
           g.slot_align == geo_.slot_align && g.receiver_park_offset == static_cast<std::int64_t>(park) &&
           g.stamps_offset == stamps && g.histogram_offset == histogram;
  }

  // A lane registered since the last look joins the scan at once, so a new producer is
  // never starved by busy ones. One load of a read-mostly word per receive.
  void look_for_new_lanes() {
    // relaxed: only a hint; discover() acquires each lane's formatted flag.
    if (ref_.get()->registry.lanes_formatted.load(std::memory_order_relaxed) > order_.size()) [[unlikely]]
      discover();
  }

  // Frees lane i if its sender is gone and it is drained. Returns true when it is free.
  bool try_recycle(std::uint32_t i) noexcept {
    auto& d = geo_.lane_descriptor(i);
    auto& ring = geo_.lane_ring(i);
    // acquire, in this order: a registrar's owned (so its reset of sender_closed is seen),
    // then the sender's close (so its last tail is seen).
    std::uint32_t s = d.state.load(std::memory_order_acquire);
    if (lane_kind(s) == lane_free) return true;
    if (lane_kind(s) != lane_owned || ring.consumer.sender_closed.load(std::memory_order_acquire) == 0) return false;
    // acquire: the sender's last publish; head is ours.
    if (ring.producer.tail.load(std::memory_order_acquire) != ring.consumer.head.load(std::memory_order_relaxed))
      return false;
    // acq_rel: our reads and destructions of the lane happen-before the next claim.
    return d.state.compare_exchange_strong(s, lane_state(lane_generation(s), lane_free), std::memory_order_acq_rel,
                                           std::memory_order_relaxed);
  }

  // Has lane i come back to life (a registrar made it owned again)?
  bool revived(std::uint32_t i) noexcept {
    // acquire: as in try_recycle.
    const std::uint32_t s = geo_.lane_descriptor(i).state.load(std::memory_order_acquire);
    return lane_kind(s) != lane_free;
  }

  // Polls lane i: ok when it has messages; empty otherwise (closed lanes are recycled).
  status poll_lane(std::uint32_t i) {
    view& v = views_[i];
    if (!v.live) {
      if (!revived(i)) return status::empty;
      v.live = true;
    }
    const status s = v.rx.poll();
    if (s == status::closed && try_recycle(i)) v.live = false;
    return s == status::ok ? status::ok : status::empty;
  }

  // No registrar left and every lane free: nothing more can come. Slow path.
  bool ended() {
    auto* l = ref_.get();
    // acquire: every registration by a dropped registrar happens-before what we read next.
    if (l->registry.registrars.load(std::memory_order_acquire) != 0) return false;
    discover();
    for (std::uint32_t i : order_) {
      if (views_[i].live && (views_[i].rx.poll() == status::ok || !try_recycle(i))) return false;
      views_[i].live = false;
    }
    for (std::uint64_t i = 0; i < geo_.max_producers; ++i) {
      // acquire: a lane claimed but not yet formatted is still in use.
      if (lane_kind(geo_.lane_descriptor(i).state.load(std::memory_order_acquire)) != lane_free) return false;
    }
    return true;
  }

  // Finds the next lane with a message (round-robin from the cursor) into ready_: ok, or
  // empty, or closed.
  status find_ready() {
    if (ref_.get() == nullptr) return status::closed;
    look_for_new_lanes();
    for (int pass = 0; pass < 2; ++pass) {
      const std::size_t n = order_.size();
      std::size_t at = cursor_ < n ? cursor_.get() : 0;  // get(): a size_t, not the int of `: 0`
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint32_t lane = order_[at];
        if (++at == n) at = 0;
        if (poll_lane(lane) == status::ok) {
          cursor_ = at;  // the next receive starts after this lane
          ready_ = lane;
          return status::ok;
        }
      }
      if (!discover()) break;
    }
    return ended() ? status::closed : status::empty;
  }

  // Calls per_lane(rx, budget) -> count on lanes round-robin from the cursor, at most two
  // rounds, until `max` messages are taken; the cursor moves past the last lane served. (A
  // lane's view hands out what its last look at the tail saw, so one round may fall short
  // of what is queued; two bound the call when producers keep pace with it.)
  template <class PerLane>
  std::size_t visit_lanes(std::size_t max, PerLane&& per_lane) {
    if (max == 0 || ref_.get() == nullptr) return 0;
    look_for_new_lanes();
    std::size_t total = 0;
    for (int pass = 0; pass < 2 && total == 0; ++pass) {
      const std::size_t n = order_.size();
      std::size_t at = cursor_ < n ? cursor_.get() : 0;  // get(): a size_t, not the int of `: 0`
      for (std::size_t visit = 0; visit < 2 * n && total < max; ++visit) {
        const std::uint32_t lane = order_[at];
        if (++at == n) at = 0;
        if (poll_lane(lane) != status::ok) continue;
        total += per_lane(views_[lane].rx, max - total);
        cursor_ = at;
      }
      if (total != 0 || !discover()) break;
    }
    return total;
  }

  // Anything to look at: a message, a lane recycled or revived, a new lane, or the
  // channel's end. A lane whose end cannot be recycled yet (a registrar is claiming it) is
  // not: that registrar wakes us when it publishes the lane, and spinning on it here could
  // keep a preempted registrar off the CPU.
  bool ready() {
    for (std::uint32_t i : order_) {
      view& v = views_[i];
      if (!v.live) {
        if (revived(i)) return true;
        continue;
      }
      const status s = v.rx.poll();
      if (s == status::ok) return true;
      if (s == status::closed && try_recycle(i)) {
        v.live = false;
        return true;
      }
    }
    for (std::uint64_t i = 0; i < geo_.max_producers; ++i) {
      // acquire: as in discover().
      if (!views_[i].known && !views_[i].bad &&
          geo_.lane_descriptor(i).formatted.load(std::memory_order_acquire) != 0)
        return true;
    }
    return ended();
  }

  // Sets (parked) or clears (running) the lanes' flags: see "Parking" above.
  void arm(std::uint32_t v) noexcept {
    // release (parked, parked_bell): orders our receiver_park store before the flag, for a
    // sender that takes the flag with acquire. relaxed (running): clearing only saves
    // senders a wake.
    const auto mo = v != ringwire::detail::running ? std::memory_order_release : std::memory_order_relaxed;
    for (std::uint32_t i : order_) geo_.lane_ring(i).producer.consumer_park.store(v, mo);
  }

  // wait.hpp's loop with this receiver's policy: the shared word, plus every known lane's
  // flag (see "Parking" above).
  struct lane_parking {
    receiver& self;
    typename Sync::template atomic<std::uint32_t>& word;

    static constexpr bool can_park = true;
    [[nodiscard]] typename Sync::template atomic<std::uint32_t>& futex() const noexcept { return word; }
    void announce() const noexcept {
      // relaxed: published to senders by the flags' release stores and the heavy fence.
      word.store(ringwire::detail::parked, std::memory_order_relaxed);
      self.arm(ringwire::detail::parked);
    }
    [[nodiscard]] std::uint32_t expected() const noexcept { return ringwire::detail::parked; }
    void retract() const noexcept {
      // relaxed: our own word; a waker's exchange may also reset it, harmlessly.
      word.store(ringwire::detail::running, std::memory_order_relaxed);
      self.arm(ringwire::detail::running);
    }
    void wake() const noexcept { ringwire::detail::wake<Sync>(word, self.scope_); }
  };

  status wait_for_data(const ringwire::detail::wait_limits& given) {
    auto* l = ref_.get();
    const ringwire::detail::wait_limits lim = ref_.watch(given);  // a shared-memory peer check
    return ringwire::detail::wait_with<Sync>(wait_, lane_parking{*this, l->receiver.receiver_park}, scope_, lim,
                                             parks_, [this] { return ready(); });
  }

  recv_result<T> recv_limited(const ringwire::detail::wait_limits& lim) {
    for (;;) {
      const status s = find_ready();
      if (s == status::ok) return views_[ready_].rx.try_recv();
      if (s == status::closed) return recv_result<T>(s);
      const status w = wait_for_data(lim);
      if (w != status::ok) return recv_result<T>(w);
    }
  }

  lanes_geometry<Sync> geo_;          // copied when made (layout.hpp): never re-read from the lanes
  // The known lanes in discovery order (the scan's ring), over an array of max_producers.
  class lane_order {
   public:
    lane_order() noexcept = default;
    explicit lane_order(std::uint32_t* at) noexcept : at_(at) {}
    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    std::uint32_t operator[](std::size_t k) const noexcept { return at_.get()[k]; }
    const std::uint32_t* begin() const noexcept { return at_.get(); }
    const std::uint32_t* end() const noexcept { return at_.get() + n_.get(); }
    void push_back(std::uint32_t lane) noexcept { at_.get()[n_.get()++] = lane; }
    void clear() noexcept { n_ = 0; }

   private:
    ringwire::detail::reset_on_move<std::uint32_t*> at_;
    ringwire::detail::reset_on_move<std::size_t> n_;
  };

  std::unique_ptr<view[]> owned_views_;             // null when lent (lane_space)
  std::unique_ptr<std::uint32_t[]> owned_order_;    // null when lent
  ringwire::detail::reset_on_move<view*> views_;    // one per lane, indexed by lane
  lane_order order_;
  ringwire::detail::reset_on_move<std::size_t> cursor_;    // position in order_ where the next scan starts
  ringwire::detail::reset_on_move<std::uint32_t> ready_;   // the lane find_ready() found
  spsc::options opt_;
  ringwire::detail::reset_on_move<std::uint64_t> parks_;
};

}  // namespace ringwire::mpsc
