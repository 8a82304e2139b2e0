// tests/support/shm_support.hpp -- helpers for the shared-memory tests: unique segment names
// that are removed afterwards, segment images in memfds, child processes.
#pragma once

// RINGWIRE_TSAN: 1 under ThreadSanitizer. TSan sees no edge between processes, so a forked
// process that runs several threads over shared memory gets false reports: tests then keep
// one thread per process (g++ spells the check __SANITIZE_THREAD__, clang __has_feature).
#if defined(__SANITIZE_THREAD__)
#define RINGWIRE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RINGWIRE_TSAN 1
#endif
#endif
#ifndef RINGWIRE_TSAN
#define RINGWIRE_TSAN 0
#endif

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ringwire/shm.hpp"

namespace shm_test {

// A per-message check word for payloads (splitmix64's finaliser).
constexpr std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// "/rw-<pid>-<n>-<tag>": unique per process and call, so parallel test runs never collide.
inline std::string unique_name(const std::string& tag) {
  static int n = 0;
  return "/rw-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + tag;
}

// A test fixture that unlinks every name it handed out.
class named : public ::testing::Test {
 protected:
  std::string name(const std::string& tag) {
    names_.push_back(unique_name(tag));
    return names_.back();
  }
  void TearDown() override {
    for (const auto& n : names_) ::shm_unlink(n.c_str());
  }

 private:
  std::vector<std::string> names_;
};

// The code of the error f() throws, or nullopt when it throws nothing.
template <class F>
std::optional<ringwire::errc> error_of(F&& f) {
  try {
    f();
  } catch (const ringwire::error& e) {
    return e.code();
  }
  return std::nullopt;
}

// A memfd holding exactly `bytes` (the caller closes it).
inline int image_fd(const std::vector<unsigned char>& bytes) {
  const int fd = ::memfd_create("rw-image", MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (!bytes.empty() && ::pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The bytes of a segment (read through its descriptor).
inline std::vector<unsigned char> image_of(const ringwire::shm::segment& seg) {
  std::vector<unsigned char> b(seg.size());
  const ssize_t n = ::pread(seg.fd(), b.data(), b.size(), 0);
  if (n != static_cast<ssize_t>(b.size())) b.clear();
  return b;
}

// Opens `bytes` as a segment expecting `spec`; the error code, or nullopt on success.
inline std::optional<ringwire::errc> open_image(const std::vector<unsigned char>& bytes,
                                                const ringwire::shm::channel_spec& spec) {
  const int fd = image_fd(bytes);
  EXPECT_GE(fd, 0);
  auto e = error_of([&] { (void)ringwire::shm::segment::open_fd(fd, spec); });
  ::close(fd);
  return e;
}

inline void recompute_checksum(std::vector<unsigned char>& b) {
  ringwire::shm::identity id;
  std::memcpy(&id, b.data(), sizeof id);
  id.checksum = ringwire::shm::detail::checksum(id);
  std::memcpy(b.data(), &id, sizeof id);
}

template <class V>
void poke(std::vector<unsigned char>& b, std::size_t at, V v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

// Runs fn in a child process; its return value is the child's exit code. The child
// never returns into the test framework, and dies after `limit_s` seconds if it hangs.
inline pid_t spawn(const std::function<int()>& fn, unsigned limit_s = 120) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(limit_s);
    int rc = 99;
    try {
      rc = fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      rc = 98;
    }
    std::fflush(stderr);
    ::_exit(rc);
  }
  return pid;
}

// A pipe the child writes one byte to when it is ready; the parent waits for it.
struct ready_pipe {
  int fd[2]{-1, -1};
  ready_pipe() { EXPECT_EQ(::pipe(fd), 0); }
  ~ready_pipe() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  ready_pipe(const ready_pipe&) = delete;
  ready_pipe& operator=(const ready_pipe&) = delete;
  void signal() const { (void)!::write(fd[1], "r", 1); }
  bool wait() const {
    char c = 0;
    return ::read(fd[0], &c, 1) == 1;
  }
};

// The child's exit code, or 128 + signal when it was killed.
inline int wait_child(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -2;
}

}  // namespace shm_test
