// models/wait_relacy.cpp -- the one waiting loop (wait.hpp's wait_with) under Relacy, with
// each parking policy, apart from any channel.
//
// Every blocking call of every family ends in detail::wait_with; the families' models
// (spsc, mpsc, mpmc, broadcast, byte_broadcast) run it inside their protocols. This model
// runs the loop alone, against the smallest waker each policy has in the library, so a
// change to the loop or to a policy is checked once, here, for every family at once:
//
//   word_*         one park word (word_parking; SPSC, line, broadcast subscriber): the
//                  waker publishes, light_fence, reads the word and wakes when parked
//                  (detail::notify). Exclusive (one waiter) and shared (two waiters on one
//                  word, as a broadcast channel's several producers).
//   epoch_count_*  sleepers + epoch (epoch_parking<Sync, true>; MPMC's wait room): the
//                  waker reads the sleeper count after light_fence and bumps the epoch.
//                  One and two waiters.
//   epoch_flag_*   a parked flag + bell (epoch_parking<Sync, false>; byte broadcast
//                  readers): the waker clears the flag with an exchange and rings. Two
//                  waiters, and a waker that publishes twice.
//   timed          a waiter with a deadline: Relacy may time any park out; the waiter then
//                  sees timed_out or the progress, never a lost one.
//
// In each, the waker writes a payload (an rl::var: a plain, non-atomic variable) before it
// publishes progress with a release store; a waiter that returns ok reads it. A lost
// wake-up is a Relacy DEADLOCK (the waiter sleeps for ever); a waiter that returns ok
// without the progress happening-before its read is a DATA RACE.
//
// Mutant 1 (light_fence a no-op, relacy_sync.hpp) must be caught: DEADLOCK in word_exclusive.
// Mutant 4 (a shared word without its generation) must be caught: DEADLOCK in word_shared_2.
//
// Usage: wait_relacy [--only NAME] [--search random|bound|full] [--iterations N] [--bound K] [--list]

// Every std header first (see spsc_relacy.cpp).
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>

#include "model_main.hpp"
#include "ringwire/wait.hpp"

namespace {

using ringwire::fence_scope;
using ringwire::status;
using ringwire::wait_strategy;
using ringwire::relacy_sync;
namespace rd = ringwire::detail;

template <class V>
using atomic = relacy_sync::atomic<V>;

// What every scenario shares: the progress word, the payload it publishes, and the words
// of the parking policies. Made in before(): a model atomic must be created inside the
// simulation (relacy_sync.hpp).
struct shared_progress {
  atomic<std::uint32_t> progress{0};
  rl::var<int> payload;
  atomic<std::uint32_t> word{rd::running};  // word_parking
  atomic<std::uint32_t> registration{0};    // epoch_parking: sleepers, or the parked flag
  atomic<std::uint32_t> epoch{0};           // epoch_parking: the futex word (MPMC epoch, bell)

  shared_progress() { payload($) = 0; }
  // The waker's publish: payload, then the release store of progress.
  void publish(std::uint32_t n) {
    payload($) = static_cast<int>(n);
    // release: the payload happens-before a waiter's acquire load that sees n.
    progress.store(n, std::memory_order_release);
  }
  // A waiter's ready(): progress reached `want`.
  [[nodiscard]] bool reached(std::uint32_t want) {
    // acquire: pairs with publish's release store.
    return progress.load(std::memory_order_acquire) >= want;
  }
  // A waiter that returned ok reads the payload: a race unless publish happens-before it.
  void consume() { RL_ASSERT(payload($) != 0); }
};

// The fixture every scenario derives from: the shared state, remade for each iteration.
template <class Derived, int Threads>
struct fixture : rl::test_suite<Derived, Threads> {
  std::optional<shared_progress> st;
  void before() {
    st.emplace();
    ringwire::model::model_clock::now = {};
  }
  void after() { st.reset(); }
};

// Waits for progress >= want through `policy`, parking at once (park(0)), with no limits
// unless given; returns what wait_with said.
template <class Policy>
status wait_for(shared_progress& s, Policy&& policy, std::uint32_t want, const rd::wait_limits& lim = {}) {
  std::uint64_t parks = 0;
  return rd::wait_with<relacy_sync>(wait_strategy::park(0), std::forward<Policy>(policy), fence_scope::process, lim,
                                    parks, [&] { return s.reached(want); });
}

// ---- word_parking ------------------------------------------------------------------------
#if RINGWIRE_MODEL_MUTANT == 4
// Mutant 4 (this model's own): a shared word without its generation (wait.hpp,
// word_sharing), as it was before this model found the lost wake-up: every waiter
// announces plain `parked` and sleeps on it.
struct word_policy : rd::word_parking<relacy_sync> {
  void announce() noexcept { word.store(rd::parked, std::memory_order_relaxed); }  // relaxed: as wait.hpp
  [[nodiscard]] std::uint32_t expected() const noexcept { return rd::parked; }
};
#else
using word_policy = rd::word_parking<relacy_sync>;
#endif

// Timed: the waiter has a deadline. Relacy may time out its park: it then returns timed_out
// (the model's clock moves to the deadline) or, if the progress is there by its re-check,
// ok. Either way it never returns ok without the progress, and never sleeps through it.
template <int Waiters, rd::word_sharing Sharing, bool Timed = false>
struct word_park : fixture<word_park<Waiters, Sharing, Timed>, Waiters + 1> {
  void thread(unsigned index) {
    shared_progress& s = *this->st;
    if (index == 0) {
      s.publish(1);
      rd::notify<relacy_sync>(s.word, fence_scope::process);
      return;
    }
    rd::wait_limits lim;
    if (Timed) lim.deadline = relacy_sync::now() + std::chrono::milliseconds(5);
    const status r = wait_for(s, word_policy{s.word, Sharing, fence_scope::process}, 1, lim);
    RL_ASSERT(r == status::ok || (Timed && r == status::timed_out));
    if (r == status::ok) s.consume();
  }
};

// ---- epoch_parking with a sleeper count (MPMC's wait room) -------------------------------
template <int Waiters>
struct epoch_count : fixture<epoch_count<Waiters>, Waiters + 1> {
  void thread(unsigned index) {
    shared_progress& s = *this->st;
    rd::epoch_parking<relacy_sync, true> policy{s.registration, s.epoch, fence_scope::process};
    if (index == 0) {
      s.publish(1);
      // The waker of mpmc/wait_room.hpp's notify: light_fence, then the sleeper count.
      relacy_sync::light_fence(fence_scope::process);
      // relaxed: ordered after the publish by light_fence (pairs with the waiter's heavy fence).
      if (s.registration.load(std::memory_order_relaxed) != 0) policy.wake();
      return;
    }
    const status r = wait_for(s, policy, 1);
    RL_ASSERT(r == status::ok);
    s.consume();
  }
};

// ---- epoch_parking with a flag (byte broadcast's parked + bell) --------------------------
// The waker publishes `Publishes` times (each waiter waits for the last), ringing as the
// byte broadcast writer does: light_fence; if parked, exchange it to 0 and bump the bell.
template <int Waiters, int Publishes>
struct epoch_flag : fixture<epoch_flag<Waiters, Publishes>, Waiters + 1> {
  void thread(unsigned index) {
    shared_progress& s = *this->st;
    atomic<std::uint32_t>& parked = s.registration;
    atomic<std::uint32_t>& bell = s.epoch;
    if (index == 0) {
      for (std::uint32_t n = 1; n <= Publishes; ++n) {
        s.publish(n);
        relacy_sync::light_fence(fence_scope::process);
        // relaxed: as in byte_broadcast/writer.hpp's ring_bell (the heavy fence on the
        // reader's side orders its flag store before its re-check).
        if (parked.load(std::memory_order_relaxed) != 0 && parked.exchange(0, std::memory_order_relaxed) != 0) {
          // release: a waiter whose bell load sees the bump sees the publish before it.
          bell.fetch_add(1, std::memory_order_release);
          relacy_sync::unpark_all(bell, fence_scope::process);
        }
      }
      return;
    }
    const status r = wait_for(s, rd::epoch_parking<relacy_sync, false>{parked, bell, fence_scope::process}, Publishes);
    RL_ASSERT(r == status::ok);
    s.consume();
  }
};

using ringwire::model::run_one;
using ringwire::model::scenario;

constexpr scenario all_scenarios[] = {
    {"word_exclusive", &run_one<word_park<1, rd::word_sharing::exclusive>>, 200'000, 4},
    // Three threads: random scheduler only (a context bound of 2 runs past 90 M schedules).
    {"word_shared_2", &run_one<word_park<2, rd::word_sharing::shared>>, 500'000, 0},
    {"epoch_count_1", &run_one<epoch_count<1>>, 200'000, 4},
    {"epoch_count_2", &run_one<epoch_count<2>>, 500'000, 0},
    {"epoch_flag_2", &run_one<epoch_flag<2, 1>>, 500'000, 0},
    {"epoch_flag_1_twice", &run_one<epoch_flag<1, 2>>, 200'000, 3},
    {"timed", &run_one<word_park<1, rd::word_sharing::exclusive, true>>, 200'000, 4},
};

#if RINGWIRE_MODEL_MUTANT == 0
constexpr std::span<const ringwire::model::expectation> mutant_failures{};
#elif RINGWIRE_MODEL_MUTANT == 1
constexpr ringwire::model::expectation mutant_failures[] = {{"word_exclusive", rl::test_result_deadlock}};
#elif RINGWIRE_MODEL_MUTANT == 4
constexpr ringwire::model::expectation mutant_failures[] = {{"word_shared_2", rl::test_result_deadlock}};
#else
#error "wait_relacy has no scenario for this mutant"
#endif

}  // namespace

int main(int argc, char** argv) { return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures); }
