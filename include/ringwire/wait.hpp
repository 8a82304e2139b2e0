// ringwire/wait.hpp -- how an endpoint waits, and how the other side wakes it.
//
// TL;DR
//   auto [tx, rx] = ringwire::spsc::channel<int>(1024);
//   rx.set_wait(ringwire::wait_strategy::park(/*spins=*/256));   // the default
//   auto r = rx.recv_for(std::chrono::milliseconds(5));          // spins, then sleeps
//
// Strategies, chosen per endpoint, used only when an operation must wait:
//   busy_spin()          spin with the CPU's pause hint; lowest latency, burns a core.
//   spin_then_yield(n)   n pause-spins, then sched_yield() in a loop.
//   backoff(n, cap)      n pause-spins, then sleeps doubling from 1 us up to cap.
//   park(n)              n pause-spins, then a futex sleep until the other side makes
//                        progress, closes, the deadline passes or a stop is requested.
//
// Parking protocol. Each side owns one 32-bit park word that lives in the channel layout
// (0 = running, 1 = parked). The waiter:
//     word = parked;  heavy_fence();  if (condition now true) { word = running; done }
//     futex_wait(word, parked, deadline);  word = running;  re-check
// The progressing side, after the store that publishes its progress (an index):
//     light_fence();  if (peer word == parked && exchange(peer word, running) == parked) futex_wake
// The two fences form a Dekker pair, so either the waiter sees the progress or the
// progressing side sees the parked word; the exchange changes the word before the wake,
// so a waiter between its re-check and its futex_wait finds the word changed and the
// kernel refuses to sleep. Hence no wake-up is lost, and the progressing side makes a wake
// syscall only when the other side is actually parked. light_fence() is a compiler barrier
// when membarrier is available (see detail/asymmetric_fence.hpp): the fast path pays one
// L1-resident load and a predictable branch, no fence and no read-modify-write.
// models/spsc_relacy.cpp checks this protocol under Relacy with real fences on both sides.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>

#include "ringwire/detail/futex.hpp"
#include "ringwire/status.hpp"
#include "ringwire/sync.hpp"

namespace ringwire {

class wait_strategy {
 public:
  enum class kind : std::uint8_t { busy_spin, spin_then_yield, backoff, park };

  static constexpr wait_strategy busy_spin() noexcept { return {kind::busy_spin, 0, {}}; }
  static constexpr wait_strategy spin_then_yield(std::uint32_t spins = 256) noexcept {
    return {kind::spin_then_yield, spins, {}};
  }
  static constexpr wait_strategy backoff(std::uint32_t spins = 256,
                                         std::chrono::microseconds max_sleep = std::chrono::milliseconds(1)) noexcept {
    return {kind::backoff, spins, max_sleep};
  }
  static constexpr wait_strategy park(std::uint32_t spins = 256) noexcept { return {kind::park, spins, {}}; }

  [[nodiscard]] constexpr kind which() const noexcept { return kind_; }
  [[nodiscard]] constexpr std::uint32_t spins() const noexcept { return spins_; }
  [[nodiscard]] constexpr std::chrono::microseconds max_sleep() const noexcept { return max_sleep_; }

 private:
  constexpr wait_strategy(kind k, std::uint32_t spins, std::chrono::microseconds cap) noexcept
      : kind_(k), spins_(spins), max_sleep_(cap) {}
  kind kind_;
  std::uint32_t spins_;
  std::chrono::microseconds max_sleep_;
};

namespace detail {

inline constexpr std::uint32_t running = 0;
inline constexpr std::uint32_t parked = 1;
// Armed for a waiter outside ringwire (an epoll loop on a shared-memory doorbell): wakers
// treat it as parked and also ring the doorbell (detail/doorbell_hook.hpp).
inline constexpr std::uint32_t parked_bell = 2;

// What bounds a wait: an absolute deadline (steady_clock) and an optional stop token.
struct wait_limits {
  clock::time_point deadline = no_deadline;
  const std::stop_token* stop = nullptr;
};

// Wakes a parked peer. Cold: reached only when the peer's word said parked.
template <class Sync>
[[gnu::noinline, gnu::cold]] bool wake(typename Sync::template atomic<std::uint32_t>& word,
                                       fence_scope scope) noexcept {
  // relaxed: only the kernel's value check reads the word and the futex syscall orders it;
  // the payload itself travels through the index's release/acquire pair.
  const std::uint32_t was = word.exchange(running, std::memory_order_relaxed);
  if (was == running) return false;
  Sync::unpark_all(word, scope);
  if constexpr (requires { Sync::ring_doorbell(word); }) {
    if (was == parked_bell) [[unlikely]] Sync::ring_doorbell(word);
  }
  return true;
}

// Called by the progressing side right after the store that publishes its progress.
// Returns true when it had to wake the peer.
template <class Sync>
inline bool notify(typename Sync::template atomic<std::uint32_t>& peer_word, fence_scope scope) noexcept {
  if constexpr (!Sync::parks) return false;  // nobody ever sleeps: nothing to check
  Sync::light_fence(scope);
  // relaxed: ordered after the publishing store by light_fence, which pairs with the
  // parker's heavy_fence between its `word = parked` and its re-check.
  if (peer_word.load(std::memory_order_relaxed) == running) [[likely]] return false;
  return wake<Sync>(peer_word, scope);
}

// Called by a side that closes: a rare path, so a real fence on this side.
template <class Sync>
inline void notify_close(typename Sync::template atomic<std::uint32_t>& peer_word, fence_scope scope) noexcept {
  if constexpr (!Sync::parks) return;  // waiters poll the close flags
  Sync::full_fence();
  wake<Sync>(peer_word, scope);
}

template <class Sync>
inline std::optional<status> limit_reached(const wait_limits& lim) noexcept {
  if (lim.stop != nullptr && lim.stop->stop_requested()) return status::cancelled;
  if (lim.deadline != no_deadline && Sync::now() >= lim.deadline) return status::timed_out;
  return std::nullopt;
}

// Waits until ready() is true (returns status::ok), the deadline passes (timed_out) or a
// stop is requested (cancelled). ready() must be cheap and side-effect free apart from
// refreshing caches; it is called again after every wake. `parks` counts futex sleeps.
//
// A word has one waiter (word_sharing::exclusive: the waiter resets it to running when it
// leaves, so the waker's next notify costs no syscall) or several (word_sharing::shared:
// several producers of one broadcast channel). Shared, a waiter never writes running --
// another waiter may be asleep on the word -- so only a waker's exchange resets it, and
// that exchange is always followed by a wake of every sleeper: whoever sleeps on `parked`
// is woken by the next progress. The price is one wake syscall with nobody asleep after
// a wait that ended without one.
enum class word_sharing : bool { exclusive, shared };

// The first phase of every strategy: up to `spins` pause-spins polling ready(), checking
// the limits every 64 (a clock read costs ~20 ns: not every spin). ok, a limit's status,
// or nullopt when the spins ran out.
template <class Sync, class Ready>
std::optional<status> spin_phase(std::uint32_t spins, const wait_limits& lim, Ready& ready) {
  constexpr std::uint32_t check_every = 64;
  for (std::uint32_t i = 0; i < spins; ++i) {
    if (ready()) return status::ok;
    Sync::cpu_relax();
    if (i % check_every == check_every - 1) {
      if (auto s = limit_reached<Sync>(lim)) return s;
    }
  }
  return std::nullopt;
}

template <class Sync, class Ready>
status wait_until(const wait_strategy& ws, typename Sync::template atomic<std::uint32_t>& my_word,
                  fence_scope scope, const wait_limits& lim, std::uint64_t& parks, Ready&& ready,
                  word_sharing sharing = word_sharing::exclusive) {
  const bool exclusive = sharing == word_sharing::exclusive;
  if (auto s = spin_phase<Sync>(ws.spins(), lim, ready)) return *s;

  switch (ws.which()) {
    case wait_strategy::kind::busy_spin:
      for (;;) {
        if (auto s = spin_phase<Sync>(~std::uint32_t{0}, lim, ready)) return *s;
      }
    case wait_strategy::kind::spin_then_yield:
      for (;;) {
        if (ready()) return status::ok;
        if (auto s = limit_reached<Sync>(lim)) return *s;
        Sync::yield();
      }
    case wait_strategy::kind::backoff: {
      std::chrono::nanoseconds nap = std::chrono::microseconds(1);
      for (;;) {
        if (ready()) return status::ok;
        if (auto s = limit_reached<Sync>(lim)) return *s;
        Sync::sleep_for(nap);
        if (nap < ws.max_sleep()) nap *= 2;
      }
    }
    case wait_strategy::kind::park:
      if constexpr (!Sync::parks) {  // a policy that never sleeps: park degrades to yield
        for (;;) {
          if (ready()) return status::ok;
          if (auto s = limit_reached<Sync>(lim)) return *s;
          Sync::yield();
        }
      }
      break;
  }

  // A stop request must reach a parked thread: the callback wakes our own word.
  auto wake_me = [&my_word, scope]() noexcept { wake<Sync>(my_word, scope); };
  std::optional<std::stop_callback<decltype(wake_me)>> on_stop;
  if (lim.stop != nullptr && lim.stop->stop_possible()) on_stop.emplace(*lim.stop, wake_me);

  for (;;) {
    // relaxed: ordered before the re-check below by heavy_fence (see the protocol above).
    my_word.store(parked, std::memory_order_relaxed);
    Sync::heavy_fence(scope);
    const bool done = ready();
    const std::optional<status> limit = done ? std::nullopt : limit_reached<Sync>(lim);
    if (done || limit) {
      // relaxed: our own word; a concurrent waker's exchange may also reset it, harmlessly.
      if (exclusive) my_word.store(running, std::memory_order_relaxed);
      return done ? status::ok : *limit;
    }
    ++parks;
    Sync::park(my_word, parked, lim.deadline, scope);
    // relaxed: as above. A wake that raced in after this only costs a spurious re-check.
    if (exclusive) my_word.store(running, std::memory_order_relaxed);
    if (ready()) return status::ok;
  }
}

}  // namespace detail
}  // namespace ringwire
