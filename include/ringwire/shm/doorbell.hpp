// ringwire/shm/doorbell.hpp -- a file descriptor that becomes readable when a
// shared-memory channel has something for its receiver, for a consumer that waits in its
// own epoll (poll, select, io_uring) loop instead of in ringwire.
//
// Protocol. A futex word cannot be put in an epoll set, so a receiver that waits outside
// ringwire arms its park word with parked_bell (wait.hpp) instead of parked; the senders'
// protocol is unchanged -- publish, light fence, load the word, and only when it is not
// running exchange it to running and wake -- and wake() (wait.hpp), finding parked_bell,
// also rings the doorbell (detail/doorbell_hook.hpp). The doorbell is a datagram socket in
// the abstract Unix namespace bound by the receiver's process at a name every process
// derives from the word alone: "ringwire-bell/<dev>/<inode>/<offset>" -- the segment
// object's device and inode (the same file in every process that maps it, named or
// memfd) and the word's offset in it. A waker finds which of its mappings holds the word
// (the registry below, filled as segments are mapped), and sends one byte to that name
// with MSG_DONTWAIT: nothing blocks, nothing is created on disk, a receiver process that
// died takes its name with it (a ring then finds no one: ECONNREFUSED, ignored), and a
// full socket buffer (EAGAIN) already means readable. The same Dekker pair as a futex
// park makes it lose no wake-up: the receiver stores parked_bell, fences (heavy), re-checks
// the channel; the sender stores its index, fences (light), reads the word. Either the
// receiver sees the message, or the sender sees parked_bell and rings.
//
// Cost. Nothing for a receiver that does not use it (a sender reaches the ring only from
// wake(), which runs only after its exchange found a waiter). Per wake: one futex wake (no
// sleeper) and one sendto. Same host and network namespace only (abstract socket names
// are per network namespace).
//
// TL;DR
//   auto rx = shm::spsc::attach_receiver<tick>(seg);
//   auto bell = shm::spsc::make_doorbell(seg);              // before the first arm
//   epoll_ctl(ep, EPOLL_CTL_ADD, bell.fd(), &ev);           // EPOLLIN
//   for (;;) {
//     while (auto r = rx.try_recv()) handle(*r);
//     if (rx.is_closed()) break;
//     if (rx.arm_doorbell()) { epoll_wait(ep, ...); bell.drain(); }
//   }
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ringwire/detail/doorbell_hook.hpp"
#include "ringwire/error.hpp"

namespace ringwire::shm {

namespace detail {

// The abstract socket address of the doorbell for the word at `offset` in the segment
// object (dev, ino). Returns the address length.
inline socklen_t doorbell_address(sockaddr_un& a, std::uint64_t dev, std::uint64_t ino, std::uint64_t offset) noexcept {
  std::memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  const int n = std::snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "ringwire-bell/%llx/%llx/%llx",
                              static_cast<unsigned long long>(dev), static_cast<unsigned long long>(ino),
                              static_cast<unsigned long long>(offset));
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + static_cast<std::size_t>(n));
}

// This process's segment mappings, for wakers that hold only a word's address. Cold: a
// mapping is added or removed when a process joins or leaves a segment, and looked up
// only when a wake finds a receiver armed for a doorbell.
struct mapped_range {
  std::uintptr_t base;
  std::size_t size;
  std::uint64_t dev;
  std::uint64_t ino;
};

struct doorbell_registry {
  std::mutex lock;
  std::vector<mapped_range> ranges;
  int sender_fd = -1;  // one unbound datagram socket for every ring of this process

  static doorbell_registry& get() noexcept {
    static doorbell_registry r;
    return r;
  }

  // The hook (detail/doorbell_hook.hpp): rings the doorbell of the word at `word`.
  static void ring(const void* word) noexcept {
    auto& r = get();
    const std::lock_guard<std::mutex> g(r.lock);
    const auto at = reinterpret_cast<std::uintptr_t>(word);
    for (const mapped_range& m : r.ranges) {
      if (at < m.base || at - m.base >= m.size) continue;
      if (r.sender_fd < 0) r.sender_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (r.sender_fd < 0) return;  // no socket: the receiver's own timeout must cover it
      sockaddr_un a;
      const socklen_t len = doorbell_address(a, m.dev, m.ino, at - m.base);
      const char byte = 'w';
      // Errors are all benign: ECONNREFUSED (no receiver bound: it left or died), EAGAIN
      // (its queue is full: it is readable already).
      (void)::sendto(r.sender_fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&a), len);
      return;
    }
  }
};

inline void register_mapping(const void* base, std::size_t size, std::uint64_t dev, std::uint64_t ino) {
  auto& r = doorbell_registry::get();
  {
    const std::lock_guard<std::mutex> g(r.lock);
    r.ranges.push_back(mapped_range{reinterpret_cast<std::uintptr_t>(base), size, dev, ino});
  }
  // release: the registry above happens-before a waker's acquire of the hook.
  ringwire::detail::doorbell_hook.store(&doorbell_registry::ring, std::memory_order_release);
}

inline void unregister_mapping(const void* base) noexcept {
  auto& r = doorbell_registry::get();
  const std::lock_guard<std::mutex> g(r.lock);
  for (std::size_t i = 0; i < r.ranges.size(); ++i) {
    if (r.ranges[i].base == reinterpret_cast<std::uintptr_t>(base)) {
      r.ranges[i] = r.ranges.back();
      r.ranges.pop_back();
      return;
    }
  }
}

}  // namespace detail

// The receiving process's end of a doorbell: a non-blocking datagram socket, readable
// when a sender has rung. Move-only; closing it unbinds the name. Made by
// shm::spsc::make_doorbell / shm::mpsc::make_doorbell for their receiver's word.
class doorbell {
 public:
  doorbell() noexcept = default;
  doorbell(doorbell&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  doorbell& operator=(doorbell&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  doorbell(const doorbell&) = delete;
  doorbell& operator=(const doorbell&) = delete;
  ~doorbell() { close(); }

  // Binds the doorbell of the word at `offset` in the segment object (dev, ino). Throws
  // shm_already_attached when a live process has it bound, shm_system_error otherwise.
  static doorbell bind(std::uint64_t dev, std::uint64_t ino, std::uint64_t offset) {
    doorbell d;
    d.fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (d.fd_ < 0) throw error(errc::shm_system_error, std::string("doorbell socket: ") + std::strerror(errno));
    sockaddr_un a;
    const socklen_t len = detail::doorbell_address(a, dev, ino, offset);
    if (::bind(d.fd_, reinterpret_cast<const sockaddr*>(&a), len) != 0) {
      const int e = errno;
      throw error(e == EADDRINUSE ? errc::shm_already_attached : errc::shm_system_error,
                  std::string("binding the receiver's doorbell: ") + std::strerror(e));
    }
    return d;
  }

  // For epoll / poll: readable once a sender has rung since the last drain().
  [[nodiscard]] int fd() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  // Consumes the rings (call it after the descriptor was reported readable, then receive
  // and re-arm). Returns how many there were.
  std::size_t drain() noexcept {
    std::size_t n = 0;
    char buf[64];
    while (fd_ >= 0 && ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) ++n;
    return n;
  }

  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace ringwire::shm
