// ringwire/shm/os.hpp -- the operating-system layer under shared-memory segments: names,
// opening an object without trusting it, mapping, process liveness, and passing an
// anonymous segment's descriptor over a Unix socket. Nothing here knows the segment
// format (shm/header.hpp) or any channel kind; shm/segment.hpp builds joins on it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ringwire/error.hpp"

namespace ringwire::shm {

// Who may own a named segment this process opens. A name under /dev/shm is a file any local
// user can create first, with any bytes and mode 0666: joining it hands that user the
// channel (what is received, what the process's waits do). By default only a segment owned
// by this process's effective uid is trusted; name other owners here (a service account,
// a group of cooperating users) to trust them too.
struct trusted_owners {
  std::vector<uid_t> uids = {};  // owners trusted besides the effective uid
  std::vector<gid_t> gids = {};  // owning groups trusted (every member of one can create such a file)

  [[nodiscard]] bool trusts(uid_t uid, gid_t gid) const noexcept {
    return uid == ::geteuid() || std::find(uids.begin(), uids.end(), uid) != uids.end() ||
           std::find(gids.begin(), gids.end(), gid) != gids.end();
  }
};

namespace detail {


[[noreturn]] inline void fail_errno(errc code, const std::string& what, int err) {
  throw error(code, what + ": " + std::strerror(err));
}

// The errc for an errno from shm_open / open.
inline errc open_errc(int e) noexcept {
  switch (e) {
    case ENOENT: return errc::shm_not_found;
    case EACCES:
    case EPERM: return errc::shm_permission_denied;
    case EEXIST: return errc::shm_exists;
    case EINVAL:
    case ENAMETOOLONG: return errc::invalid_options;
    case ELOOP:   // O_NOFOLLOW met a symbolic link
    case ENXIO:   // a socket (or a device without a driver)
    case EISDIR:  // a directory, opened for writing or unlinked
      return errc::shm_not_a_segment;
    default: return errc::shm_system_error;
  }
}

// POSIX names: "/" then 1..254 characters, none of them '/', and not "/." or "/.." (the
// shared-memory directory itself and its parent).
inline void check_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 255 || name[0] != '/' || name.find('/', 1) != std::string_view::npos ||
      name.find('\0') != std::string_view::npos || name == "/." || name == "/..")
    throw error(errc::invalid_options, "segment name \"" + std::string(name) +
                                           "\" must be '/' followed by 1 to 254 characters, no '/', not . or ..");
}

// A create mode: permission bits only (setuid, setgid and sticky mean nothing for shared
// memory but would be applied as given).
inline void check_mode(mode_t mode) {
  if ((mode & ~mode_t{0777}) != 0)
    throw error(errc::invalid_options, "create_options::mode " + std::to_string(mode) +
                                           " (decimal) has bits outside 0777 (setuid, setgid, sticky or type bits)");
}

// What a name that is not a regular file is, for the message.
inline const char* file_type(mode_t m) noexcept {
  return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) || S_ISBLK(m) ? "a device"
         : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link" : "not a regular file";
}

// fstat of a segment's descriptor; anything but a regular file (what shm_open and
// memfd_create make) is shm_not_a_segment, before a byte of it is read or mapped.
inline struct stat stat_segment(int fd, const std::string& what) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) fail_errno(errc::shm_system_error, "fstat of " + what, errno);
  if (!S_ISREG(st.st_mode))
    throw error(errc::shm_not_a_segment, what + " is " + file_type(st.st_mode) + ", not a shared-memory object");
  return st;
}

// Opens the named object without ever blocking or following a link: O_NONBLOCK, so a FIFO
// planted at the name opens at once (it is then refused) instead of waiting in the kernel
// for a writer; O_NOFOLLOW (glibc adds it too), so a symbolic link is ELOOP; O_NOCTTY, so a
// terminal never becomes ours. O_NONBLOCK stays set: it changes nothing for a regular
// file's mmap. Then refuses what is not a regular file, or whose owner `trusted` does not
// trust, before reading anything. Returns the descriptor (the caller closes it).
inline int open_object(const std::string& name, int access, const trusted_owners& trusted, struct stat& st) {
  const int fd = ::shm_open(name.c_str(), access | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0) {
    const int e = errno;
    // EINVAL for a name check_name passed: glibc's shm_open turns a directory's EISDIR into it.
    if (e == EINVAL) fail_errno(errc::shm_not_a_segment, "opening segment " + name + " (a directory)", EISDIR);
    fail_errno(open_errc(e), "opening segment " + name + (e == ELOOP ? " (a symbolic link)" : ""), e);
  }
  try {
    st = stat_segment(fd, "segment " + name);
    if (!trusted.trusts(st.st_uid, st.st_gid))
      throw error(errc::shm_untrusted_owner,
                  "segment " + name + " is owned by uid " + std::to_string(st.st_uid) + " (gid " +
                      std::to_string(st.st_gid) + "), not by this process's effective uid " +
                      std::to_string(::geteuid()) + ": its owner controls its bytes; trust it with open_options::trusted");
  } catch (...) {
    ::close(fd);
    throw;
  }
  return fd;
}

// Field 22 of /proc/<pid>/stat: the process's start time in clock ticks after boot, which
// with the pid identifies a process across pid reuse. 0 when unreadable.
inline std::uint64_t process_start_time(pid_t pid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may contain spaces and ')'
  if (p == nullptr) return 0;
  for (int field = 2; field < 22 && *p != '\0'; ++p)
    if (*p == ' ') ++field;
  return std::strtoull(p, nullptr, 10);
}

// Whether the process (pid, start time) still runs. A zombie (exited, not yet reaped by its
// parent) is dead: it will never touch the segment again. start == 0: unknown, the pid
// alone decides. A pid we may not signal (EPERM) exists.
inline bool process_alive(pid_t pid, std::uint64_t start) noexcept {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno != ENOENT;  // no /proc: trust kill()
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return true;  // unreadable: do not declare it dead
  const char state = p[2];
  if (state == 'Z' || state == 'X' || state == 'x') return false;
  return start == 0 || process_start_time(pid) == start;
}

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Removes `name` only if it still names the object (dev, ino): a name removed and reused
// by someone else since is left alone.
inline void unlink_if_same(const std::string& name, dev_t dev, ino_t ino) noexcept {
  // O_NONBLOCK | O_NOFOLLOW: a FIFO or link planted at the name since must not block a leave.
  const int fd = ::shm_open(name.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) return;
  struct stat st{};
  const bool same = ::fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  ::close(fd);
  if (same) ::shm_unlink(name.c_str());
}

// Closes a descriptor and unmaps on scope exit unless disarmed (failure paths).
struct os_guard {
  int fd = -1;
  void* base = nullptr;
  std::size_t size = 0;
  std::string unlink_name;
  ~os_guard() {
    if (base != nullptr) ::munmap(base, size);
    if (fd >= 0) ::close(fd);
    if (!unlink_name.empty()) ::shm_unlink(unlink_name.c_str());
  }
};

inline std::byte* map_fd(int fd, std::size_t size, bool read_only = false) {
  void* p = ::mmap(nullptr, size, read_only ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) fail_errno(errc::shm_system_error, "mmap of " + std::to_string(size) + " bytes", errno);
  return static_cast<std::byte*>(p);
}

// The message send_fd sends and receive_fd reads: one byte of data and room for one
// descriptor (SCM_RIGHTS). msg points into the object itself, so it is neither copied nor
// moved.
struct fd_message {
  explicit fd_message(char b) noexcept : byte(b) {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  fd_message(const fd_message&) = delete;
  fd_message& operator=(const fd_message&) = delete;

  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
};

}  // namespace detail

// ---- passing an anonymous segment's descriptor over a Unix socket (SCM_RIGHTS) --------

// Sends `fd` (and one byte) over the connected Unix socket `sock`. Throws shm_system_error.
inline void send_fd(int sock, int fd) {
  detail::fd_message m('R');
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = ::sendmsg(sock, &m.msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != 1) detail::fail_errno(errc::shm_system_error, "sending a descriptor", n < 0 ? errno : EPIPE);
}

// Receives a descriptor sent with send_fd (close-on-exec); the caller owns it. Throws
// shm_system_error, also when the peer closed the socket or sent no descriptor.
inline int receive_fd(int sock) {
  detail::fd_message m(0);
  ssize_t n;
  do n = ::recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) detail::fail_errno(errc::shm_system_error, "receiving a descriptor", errno);
  const cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  if (n == 0 || c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int)))
    throw error(errc::shm_system_error, "receiving a descriptor: the peer sent none");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

}  // namespace ringwire::shm
