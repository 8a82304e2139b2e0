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
// A word several waiters share (word_sharing::shared, below) carries a generation above the
// state bits, so that one waiter's `parked` is never mistaken for another's.
// models/spsc_relacy.cpp checks this protocol under Relacy with real fences on both sides;
// models/wait_relacy.cpp checks the loop and each parking policy alone.
//
// Peer check. An endpoint over shared memory waits on a process that may be killed, and a
// dead process neither progresses nor closes. Such an endpoint's owner carries a check
// (shm/claim.hpp) that looks at the process(es) holding the other side (pid + start time)
// and, when one is dead, reaps it as shm::<kind>::reap would: closes its side, which
// ready() then sees. wait_until runs it every wait_strategy::peer_check() (1 s by default)
// while waiting, and only then: never in the first spin phase, never on a call that did not
// have to wait. A parked waiter sleeps in slices of that interval (one futex return per
// interval, then a few /proc reads); spinning, yielding and backing-off waiters look at the
// clock they already read. A heap endpoint has no check: nothing changes for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <type_traits>

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

  // The same strategy with another peer check interval (see the top; shared-memory
  // endpoints only): a waiting call notices a dead peer within about `every`. Zero or
  // less: never check (the call waits for its deadline, or for a reap by someone else).
  [[nodiscard]] constexpr wait_strategy with_peer_check(std::chrono::nanoseconds every) const noexcept {
    wait_strategy w = *this;
    w.peer_check_ = every;
    return w;
  }

  [[nodiscard]] constexpr kind which() const noexcept { return kind_; }
  [[nodiscard]] constexpr std::uint32_t spins() const noexcept { return spins_; }
  [[nodiscard]] constexpr std::chrono::microseconds max_sleep() const noexcept { return max_sleep_; }
  [[nodiscard]] constexpr std::chrono::nanoseconds peer_check() const noexcept { return peer_check_; }

 private:
  constexpr wait_strategy(kind k, std::uint32_t spins, std::chrono::microseconds cap) noexcept
      : kind_(k), spins_(spins), max_sleep_(cap) {}
  kind kind_;
  std::uint32_t spins_;
  std::chrono::microseconds max_sleep_;
  std::chrono::nanoseconds peer_check_ = std::chrono::seconds(1);
};

namespace detail {

inline constexpr std::uint32_t running = 0;
inline constexpr std::uint32_t parked = 1;
// Armed for a waiter outside ringwire (an epoll loop on a shared-memory doorbell): wakers
// treat it as parked and also ring the doorbell (detail/doorbell_hook.hpp).
inline constexpr std::uint32_t parked_bell = 2;
// The low two bits of a park word are its state (above); the rest is a generation that only
// a shared word's waiters advance (word_sharing), so an exclusive word is always 0, 1 or 2.
inline constexpr std::uint32_t state_mask = 3;
[[nodiscard]] constexpr bool is_parked(std::uint32_t word) noexcept { return (word & state_mask) != running; }

// A shared-memory endpoint's look at its peer process(es) (see the top): reap(ctx) is true
// when it found one dead and closed its side. Null: none (a heap endpoint).
struct peer_check {
  bool (*reap)(void* ctx) noexcept = nullptr;
  void* ctx = nullptr;
};

// What bounds a wait: an absolute deadline (steady_clock), an optional stop token, and the
// endpoint's peer check (set by the endpoint, from its owner: counted_ref::watch).
struct wait_limits {
  clock::time_point deadline = no_deadline;
  const std::stop_token* stop = nullptr;
  peer_check peer{};
};

// Wakes a parked peer. Cold: reached only when the peer's word said parked.
template <class Sync>
[[gnu::noinline, gnu::cold]] bool wake(typename Sync::template atomic<std::uint32_t>& word,
                                       fence_scope scope) noexcept {
  // relaxed (load and CAS): only the kernel's value check reads the word and the futex
  // syscall orders it; the payload itself travels through the index's release/acquire pair.
  // The CAS clears the state and keeps the generation (word_sharing): the word changes, so a
  // waiter between its re-check and its futex_wait finds it changed.
  std::uint32_t was = word.load(std::memory_order_relaxed);
  do {
    if (!is_parked(was)) return false;
  } while (!word.compare_exchange_weak(was, was & ~state_mask, std::memory_order_relaxed));
  Sync::unpark_all(word, scope);
  if constexpr (requires { Sync::ring_doorbell(word); }) {
    if ((was & state_mask) == parked_bell) [[unlikely]] Sync::ring_doorbell(word);
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
  if (!is_parked(peer_word.load(std::memory_order_relaxed))) [[likely]] return false;
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

// The peer check of one wait: due every `every` after the wait began, off when the limits
// carry none or the interval is not positive (then it costs one branch per clock read).
template <class Sync>
class peer_watch {
 public:
  peer_watch(const wait_limits& lim, std::chrono::nanoseconds every) noexcept : check_(lim.peer), every_(every) {
    if (check_.reap == nullptr || every_ <= every_.zero()) return;
    const clock::time_point now = Sync::now();
    next_ = every_ < no_deadline - now ? now + every_ : no_deadline;  // saturated: never due
  }
  // When the next check is due (no_deadline: never), to cut a park's sleep into slices.
  [[nodiscard]] clock::time_point due() const noexcept { return next_; }
  [[nodiscard]] bool on() const noexcept { return next_ != no_deadline; }
  // Runs the check if it is due at `now`; true when it reaped a dead peer.
  bool poll(clock::time_point now) noexcept {
    if (now < next_) return false;
    next_ = every_ < no_deadline - now ? now + every_ : no_deadline;
    return check_.reap(check_.ctx);
  }

 private:
  peer_check check_;
  std::chrono::nanoseconds every_;
  clock::time_point next_ = no_deadline;
};

// limit_reached, plus the peer check when it is due (one clock read for both). `reaped`:
// set when the check closed a dead peer's side, so the caller re-checks ready() first.
template <class Sync>
inline std::optional<status> limit_reached(const wait_limits& lim, peer_watch<Sync>& watch, bool& reaped) noexcept {
  reaped = false;
  if (!watch.on()) return limit_reached<Sync>(lim);
  if (lim.stop != nullptr && lim.stop->stop_requested()) return status::cancelled;
  const clock::time_point now = Sync::now();
  reaped = watch.poll(now);
  if (!reaped && lim.deadline != no_deadline && now >= lim.deadline) return status::timed_out;
  return std::nullopt;
}

// Waits until ready() is true (returns status::ok), the deadline passes (timed_out) or a
// stop is requested (cancelled). ready() must be cheap and side-effect free apart from
// refreshing caches; it is called again after every wake. `parks` counts futex sleeps.
//
// A word has one waiter (word_sharing::exclusive: the waiter resets it to running when it
// leaves, so the waker's next notify costs no syscall) or several (word_sharing::shared:
// the gated producers of one broadcast channel, the writers of one byte ring). Shared, a
// waiter never writes running -- another waiter may be asleep on the word -- so only a
// waker's CAS resets the state, and that CAS is always followed by a wake of every sleeper.
// The price is one wake syscall with nobody asleep after a wait that ended without one.
//
// Shared, each announce also advances the generation (bits above state_mask) and the waiter
// sleeps on exactly the value it wrote. Without it a wake-up is lost: waiter A announces
// (parked), re-checks, is about to sleep; the waker resets the word to running and wakes
// nobody; waiter B announces parked again, finds its room and leaves without retracting;
// A's futex_wait(parked) now sleeps although its room is there. With the generation, B
// wrote a different value and the kernel refuses A's sleep (models/wait_relacy.cpp,
// word_shared_2, found this).
enum class word_sharing : bool { exclusive, shared };

// The first phase of every strategy: up to `spins` pause-spins polling ready(), checking
// the limits (and, given a watch, the peer) every 64 (a clock read costs ~20 ns: not every
// spin). ok, a limit's status, or nullopt when the spins ran out.
template <class Sync, class Ready>
std::optional<status> spin_phase(std::uint32_t spins, const wait_limits& lim, Ready& ready,
                                 peer_watch<Sync>* watch = nullptr) {
  constexpr std::uint32_t check_every = 64;
  for (std::uint32_t i = 0; i < spins; ++i) {
    if (ready()) return status::ok;
    Sync::cpu_relax();
    if (i % check_every == check_every - 1) {
      bool reaped = false;
      if (auto s = watch == nullptr ? limit_reached<Sync>(lim) : limit_reached<Sync>(lim, *watch, reaped)) return s;
    }
  }
  return std::nullopt;
}

// A blocking operation derived from its try_ form: attempt() until it reports something
// other than `busy` (full for a send), with wait() -- ok: try again; anything else ends the
// call with that status -- between the attempts.
template <class Attempt, class Wait>
status retry_while(status busy, Attempt&& attempt, Wait&& wait) {
  for (;;) {
    const status s = attempt();
    if (s != busy) return s;
    const status w = wait();
    if (w != status::ok) return w;
  }
}

// ---- parking policies ------------------------------------------------------------------
// How a waiter tells the other side "I am about to sleep", which futex word it sleeps on and
// with which value, and how it wakes itself for a stop request. wait_with() runs every
// policy through the same loop:
//     announce();  heavy_fence();  e = expected();  if (ready()) { retract(); done }
//     futex_wait(futex(), e, deadline);  retract();  re-check
// A policy is a small object over words in the layout:
//   word_parking      one park word: `running`/`parked` (wait.hpp's protocol above). Exclusive
//                     (one waiter resets it when it leaves) or shared (only wakers reset it).
//   epoch_parking     a registration (a sleeper count, or a flag) plus an epoch that every wake
//                     bumps: any number of waiters on one side (mpmc/wait_room.hpp: sleepers +
//                     epoch; byte_broadcast/layout.hpp: parked flag + bell).
//   no_parking        the endpoint cannot write a word the other side reads (a read-only
//                     mapping): `park` degrades to yielding, as for a Sync that never parks.
// The MPSC receiver's lane flags are a policy of its own (mpsc/receiver.hpp): the shared word
// plus one flag per lane.

template <class Sync>
struct word_parking {
  typename Sync::template atomic<std::uint32_t>& word;
  word_sharing sharing = word_sharing::exclusive;
  fence_scope scope = fence_scope::process;

  static constexpr bool can_park = true;
  std::uint32_t announced = parked;  // what the last announce wrote: the futex's expected value

  [[nodiscard]] typename Sync::template atomic<std::uint32_t>& futex() const noexcept { return word; }
  void announce() noexcept {
    if (sharing == word_sharing::exclusive) {
      // relaxed: ordered before the re-check by the heavy fence (the Dekker pair above).
      word.store(parked, std::memory_order_relaxed);
      return;
    }
    // relaxed (load and CAS): as the exclusive store; the CAS keeps another waiter's
    // generation step from being undone. Next generation, state parked.
    std::uint32_t w = word.load(std::memory_order_relaxed);
    do {
      announced = ((w | state_mask) + 1) | parked;
    } while (!word.compare_exchange_weak(w, announced, std::memory_order_relaxed));
  }
  [[nodiscard]] std::uint32_t expected() const noexcept { return announced; }
  void retract() const noexcept {
    // relaxed: our own word; a concurrent waker's exchange may also reset it, harmlessly.
    // Shared: never, another waiter may be asleep on it (see word_sharing).
    if (sharing == word_sharing::exclusive) word.store(running, std::memory_order_relaxed);
  }
  void wake() const noexcept { ringwire::detail::wake<Sync>(word, scope); }
};

// Registration + epoch. With a counter (Counted): announce increments it, retract decrements
// it, and the epoch is read after the heavy fence. With a flag: announce reads the epoch first
// and then sets the flag, which the waker clears; retract leaves it. Both orders are sound: a
// bump the waiter misses changes the futex word (the kernel refuses to sleep), and a bump it
// sees was made (release) after the progress its re-check then sees (acquire).
template <class Sync, bool Counted>
struct epoch_parking {
  typename Sync::template atomic<std::uint32_t>& registration;  // sleepers, or the parked flag
  typename Sync::template atomic<std::uint32_t>& epoch;
  fence_scope scope = fence_scope::process;
  std::uint32_t seen = 0;

  static constexpr bool can_park = true;
  [[nodiscard]] typename Sync::template atomic<std::uint32_t>& futex() const noexcept { return epoch; }
  void announce() noexcept {
    if constexpr (Counted) {
      // relaxed: ordered before the re-check by the heavy fence.
      registration.fetch_add(1, std::memory_order_relaxed);
    } else {
      // acquire: a bump we see was made after the progress (or stop) that caused it.
      seen = epoch.load(std::memory_order_acquire);
      // relaxed: ordered before the re-check by the heavy fence. A flag: every pass stores it
      // again, since a waker that rang for earlier progress has cleared it.
      registration.store(1, std::memory_order_relaxed);
    }
  }
  [[nodiscard]] std::uint32_t expected() noexcept {
    // acquire: pairs with the waker's release bump, for a waiter that reads a bumped epoch.
    if constexpr (Counted) seen = epoch.load(std::memory_order_acquire);
    return seen;
  }
  void retract() const noexcept {
    // relaxed: a stale registration only costs a waker one needless wake.
    if constexpr (Counted) registration.fetch_sub(1, std::memory_order_relaxed);
  }
  // Wakes every sleeper (they re-check; the others sleep again). release: a waiter whose
  // epoch load sees this bump sees what was published (or the stop request) before it.
  void wake() const noexcept {
    epoch.fetch_add(1, std::memory_order_release);
    Sync::unpark_all(epoch, scope);
  }
};

struct no_parking {
  static constexpr bool can_park = false;
};

// Waits until ready() is true (ok), a limit is reached (timed_out, cancelled), by the
// strategy ws, parking through `parking` (a policy above). The one waiting loop: every
// blocking call of every family ends here. ready() must be cheap and side-effect free apart
// from refreshing caches; it is called again after every wake. `parks` counts futex sleeps.
template <class Sync, class Parking, class Ready>
status wait_with(const wait_strategy& ws, Parking&& parking, fence_scope scope, const wait_limits& lim,
                 std::uint64_t& parks, Ready&& ready) {
  using policy = std::remove_cvref_t<Parking>;
  if (auto s = spin_phase<Sync>(ws.spins(), lim, ready)) return *s;
  // From here the call really waits: the peer check runs (when the endpoint has one).
  peer_watch<Sync> watch(lim, ws.peer_check());
  bool reaped = false;  // the check closed a dead peer: re-check ready() (the loops do)

  switch (ws.which()) {
    case wait_strategy::kind::busy_spin:
      for (;;) {
        if (auto s = spin_phase<Sync>(~std::uint32_t{0}, lim, ready, &watch)) return *s;
      }
    case wait_strategy::kind::spin_then_yield:
      for (;;) {
        if (ready()) return status::ok;
        if (auto s = limit_reached<Sync>(lim, watch, reaped)) return *s;
        if (!reaped) Sync::yield();
      }
    case wait_strategy::kind::backoff: {
      std::chrono::nanoseconds nap = std::chrono::microseconds(1);
      for (;;) {
        if (ready()) return status::ok;
        if (auto s = limit_reached<Sync>(lim, watch, reaped)) return *s;
        if (reaped) continue;
        Sync::sleep_for(nap);
        if (nap < ws.max_sleep()) nap *= 2;
      }
    }
    case wait_strategy::kind::park:
      if constexpr (!Sync::parks || !policy::can_park) {  // nobody can sleep: park degrades to yield
        for (;;) {
          if (ready()) return status::ok;
          if (auto s = limit_reached<Sync>(lim, watch, reaped)) return *s;
          if (!reaped) Sync::yield();
        }
      }
      break;
  }

  if constexpr (Sync::parks && policy::can_park) {
    // A stop request must reach a parked thread: the callback wakes it through the policy.
    auto wake_me = [&parking]() noexcept { parking.wake(); };
    std::optional<std::stop_callback<decltype(wake_me)>> on_stop;
    if (lim.stop != nullptr && lim.stop->stop_possible()) on_stop.emplace(*lim.stop, wake_me);

    for (;;) {
      parking.announce();
      Sync::heavy_fence(scope);
      const std::uint32_t expect = parking.expected();
      const bool done = ready();
      reaped = false;
      const std::optional<status> limit = done ? std::nullopt : limit_reached<Sync>(lim, watch, reaped);
      if (!done && !limit && !reaped) {  // reaped: the peer's side closed, re-check first
        ++parks;
        // Sleeps until the deadline or, with a peer check, its next turn (a slice).
        Sync::park(parking.futex(), expect, watch.due() < lim.deadline ? watch.due() : lim.deadline, scope);
      }
      parking.retract();
      if (done) return status::ok;
      if (limit) return *limit;
      // A wake that raced in after the sleep only costs a spurious re-check.
      if (ready()) return status::ok;
    }
  }
  return status::closed;  // unreachable: every strategy returns above
}

// wait_with on one park word (word_parking): the waiting of every single-waiter side.
template <class Sync, class Ready>
status wait_until(const wait_strategy& ws, typename Sync::template atomic<std::uint32_t>& my_word,
                  fence_scope scope, const wait_limits& lim, std::uint64_t& parks, Ready&& ready,
                  word_sharing sharing = word_sharing::exclusive) {
  return wait_with<Sync>(ws, word_parking<Sync>{my_word, sharing, scope}, scope, lim, parks, ready);
}

}  // namespace detail
}  // namespace ringwire
