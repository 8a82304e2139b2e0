// ringwire/detail/doorbell_hook.hpp -- how a wake reaches a receiver that waits outside
// ringwire (in its own epoll loop) instead of on its futex word.
//
// A receiver that waits in epoll arms its park word with parked_bell (wait.hpp) instead of
// parked. A waker's exchange of the word returns that value, and then -- besides the futex
// wake, which finds no sleeper -- the waker rings the word's doorbell through this hook.
// Only shared-memory segments have doorbells (shm/doorbell.hpp installs the hook when the
// first segment is mapped; until then it is null and never called), so the hook is a
// process-wide function pointer: wait.hpp needs no knowledge of segments, and a program
// that never maps one pays nothing -- the check sits behind the exchange that already
// found a sleeper, on the cold wake path.
#pragma once

#include <atomic>

namespace ringwire::detail {

using doorbell_ringer = void (*)(const void* word) noexcept;

// Set once by shm/doorbell.hpp (release), read by wakers (acquire).
inline std::atomic<doorbell_ringer> doorbell_hook{nullptr};

inline void ring_doorbell(const void* word) noexcept {
  // acquire: the installer's registry set-up happens-before our call through it.
  if (const doorbell_ringer ring = doorbell_hook.load(std::memory_order_acquire)) ring(word);
}

}  // namespace ringwire::detail
