// ringwire/mpmc/wait_room.hpp -- parking when many threads wait on one side.
//
// wait.hpp's park word belongs to one waiter: it stores `running` when it wakes, which with
// two waiters on one word would hide the other sleeper from the next notify (a lost
// wake-up). An MPMC side can have any number of waiters, so its park word is a room:
//
//   sleepers   how many waiters are registered (about to sleep, or asleep)
//   epoch      the futex word; every wake bumps it
//
// The waiter:
//     sleepers += 1;  heavy_fence();  e = epoch (acquire);
//     if (ready()) { sleepers -= 1; done }
//     futex_wait(epoch, e, deadline);  sleepers -= 1;  re-check
// The progressing side, after the release store that publishes its progress (a stamp):
//     light_fence();  if (sleepers != 0) { epoch += 1 (release); futex_wake_all(epoch) }
// The fences form the same Dekker pair as in wait.hpp, so either the waiter's ready() sees
// the stamp or the notifier sees sleepers != 0 and bumps the epoch. A waiter that read e
// before the bump either finds the word changed (the kernel refuses to sleep) or is asleep
// and woken; one that read the bumped epoch acquired it, so its ready() sees the stamp
// published before the bump. Nobody clears anybody else's registration, so no wake-up is
// lost, however many wait. With nobody parked, a notify is a compiler barrier (membarrier
// available) and one load of a read-mostly line: no read-modify-write, no syscall. Parked
// waiters are all woken at once and re-check (a thundering herd, only while someone sleeps).
// The epoch is 32 bits: a waiter would have to miss exactly 2^32 wakes between reading it
// and sleeping to sleep through one.
//
// The loop itself is wait.hpp's wait_with(), shared by every family; this room is its
// epoch_parking policy with a sleeper count. The non-parking strategies never touch the room.
#pragma once

#include <cstdint>

#include "ringwire/mpmc/layout.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::mpmc::detail {

using ringwire::detail::wait_limits;

// Wakes every sleeper of the room. Cold: only when a sleeper is registered, or on close.
template <class Sync>
[[gnu::noinline, gnu::cold]] void wake_room(wait_room<Sync>& room, fence_scope scope) noexcept {
  ringwire::detail::epoch_parking<Sync, true>{room.sleepers, room.epoch, scope}.wake();
}

// After the release store that publishes progress. True when a sleeper had to be woken.
template <class Sync>
inline bool notify(wait_room<Sync>& room, fence_scope scope) noexcept {
  if constexpr (!Sync::parks) return false;  // nobody ever sleeps
  Sync::light_fence(scope);
  // relaxed: ordered after the publishing store by light_fence, which pairs with the
  // waiter's heavy_fence between its registration and its re-check.
  if (room.sleepers.load(std::memory_order_relaxed) == 0) [[likely]] return false;
  wake_room<Sync>(room, scope);
  return true;
}

// After a close flag or the sealed head is stored: a rare path, so a real fence here.
template <class Sync>
inline void notify_close(wait_room<Sync>& room, fence_scope scope) noexcept {
  if constexpr (!Sync::parks) return;  // waiters poll the close state
  Sync::full_fence();
  wake_room<Sync>(room, scope);
}

// Waits until ready() (ok), the deadline (timed_out) or a stop request (cancelled), by the
// strategy ws; ready() must be side-effect free. `parks` counts futex sleeps. The loop is
// wait.hpp's (wait_with); the room is its sleepers + epoch policy.
template <class Sync, class Ready>
status wait_in(const wait_strategy& ws, wait_room<Sync>& room, fence_scope scope, const wait_limits& lim,
               std::uint64_t& parks, Ready&& ready) {
  return ringwire::detail::wait_with<Sync>(ws, ringwire::detail::epoch_parking<Sync, true>{room.sleepers, room.epoch, scope},
                                           scope, lim, parks, ready);
}

}  // namespace ringwire::mpmc::detail
