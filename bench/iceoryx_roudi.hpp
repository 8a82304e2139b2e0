// bench/iceoryx_roudi.hpp -- the iceoryx daemon (iox-roudi) for one run of
// ringwire_shm_bench: found on PATH (or /usr/bin/iox-roudi), started with a configuration
// written to a private temp directory, checked ready by a probe process, stopped at the end.
//
// No iceoryx header is needed here: the probe (a forked child that registers a runtime and
// exits) is the caller's function. The daemon is this process's child:
//   - its stdout and stderr go to a log file that is unlinked as soon as RouDi runs (this
//     process keeps it open and prints its tail when RouDi fails); the config file is
//     removed once RouDi is ready, so a killed bench leaves no files behind;
//   - PR_SET_PDEATHSIG makes the kernel send it SIGTERM if the bench dies, so a crashed or
//     killed bench does not leave a RouDi holding iceoryx's fixed shared-memory names;
//   - stop() sends SIGTERM (RouDi then removes its /dev/shm segments), waits up to 5 s,
//     then SIGKILLs; an atexit handler calls stop() on every exit() path of the bench
//     process (fail_run included) and does nothing in forked children.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace bench::iceoryx {

// The first executable iox-roudi on PATH, else /usr/bin/iox-roudi if executable; "" if none.
inline std::string find_roudi() {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  std::size_t at = 0;
  while (at <= p.size()) {
    const std::size_t end = std::min(p.find(':', at), p.size());
    std::string dir = p.substr(at, end - at);
    if (dir.empty()) dir = ".";
    const std::string cand = dir + "/iox-roudi";
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    at = end + 1;
  }
  if (::access("/usr/bin/iox-roudi", X_OK) == 0) return "/usr/bin/iox-roudi";
  return {};
}

// Waits for `pid` until `seconds` pass. Returns true and sets *status when it exited; false
// on timeout (the child still runs). Polls every 20 ms: the waiter never competes with the
// pinned processes of a run for long.
inline bool wait_child(pid_t pid, double seconds, int* status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      *status = 0;
      return true;  // not our child any more (already reaped): nothing to wait for
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// SIGKILL and reap (for a child that did not finish in time).
inline void kill_child(pid_t pid) {
  ::kill(pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
}

class roudi_daemon {
 public:
  roudi_daemon() = default;
  roudi_daemon(const roudi_daemon&) = delete;
  roudi_daemon& operator=(const roudi_daemon&) = delete;
  ~roudi_daemon() {
    stop();
    if (atexit_target() == this) atexit_target() = nullptr;
  }

  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

  // Starts `exe -c <tmpdir>/roudi.toml -l warning` with `config_toml` as the file, then runs
  // `probe` (which must return 0 once a runtime registered) in forked children until one
  // succeeds, for at most `ready_s` seconds. Returns "" on success, else why not (and the
  // daemon is stopped).
  std::string start(const std::string& exe, const std::string& config_toml, const std::function<int()>& probe,
                    double ready_s = 20.0) {
    if (running()) return {};
    char tmpl[] = "/tmp/ringwire-iox-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
    dir_ = tmpl;
    {
      std::ofstream f(dir_ + "/roudi.toml");
      f << config_toml;
      if (!f) return cleanup_with("cannot write " + dir_ + "/roudi.toml");
    }
    const std::string cfg = dir_ + "/roudi.toml";
    const std::string log = dir_ + "/roudi.log";
    const int log_fd = ::open(log.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) return cleanup_with("cannot create " + log);
    log_fd_ = log_fd;
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return cleanup_log_and_files(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) std::_Exit(127);  // the bench died before prctl took effect
      ::dup2(log_fd, STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copies
      ::dup2(log_fd, STDERR_FILENO);
      const int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
      ::execl(exe.c_str(), exe.c_str(), "-c", cfg.c_str(), "-l", "warning", static_cast<char*>(nullptr));
      std::fprintf(stderr, "exec %s: %s\n", exe.c_str(), std::strerror(errno));
      std::_Exit(127);
    }
    pid_ = pid;
    owner_ = parent;
    register_atexit();
    // The log lives on as the open file RouDi writes and log_fd_ reads; nothing is left on
    // disk if the bench is killed later (RouDi reads its config at start: removed when ready).
    ::unlink(log.c_str());

    // Ready when a runtime can register: a probe child blocks in the registration until
    // RouDi answers, so one probe normally suffices; it is retried if it fails early.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(ready_s);
    for (;;) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return cleanup_log_and_files("iox-roudi exited at start (status " + std::to_string(st) +
                                     "; another RouDi running?); its log:\n" + log_tail());
      }
      const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return stop_with("iox-roudi not ready after " + std::to_string(static_cast<int>(ready_s)) + " s; its log:\n" + log_tail());
      std::fflush(nullptr);
      const pid_t probe_pid = ::fork();
      if (probe_pid < 0) return stop_with(std::string("fork: ") + std::strerror(errno));
      if (probe_pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        std::exit(probe());  // exit(): the runtime unregisters from RouDi on the way out
      }
      int pst = 0;
      if (!wait_child(probe_pid, left, &pst)) {
        kill_child(probe_pid);
        continue;  // the deadline check above reports it
      }
      if (WIFEXITED(pst) && WEXITSTATUS(pst) == 0) {
        // The probe may have registered with another RouDi, while ours failed to take the
        // single-RouDi lock and died: check that ours still runs.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
          pid_ = -1;
          return cleanup_log_and_files("iox-roudi exited at start (another RouDi is running?); its log:\n" + log_tail());
        }
        remove_files();
        return {};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // SIGTERM, wait up to 5 s, then SIGKILL; removes the temp directory. Only the process that
  // started the daemon stops it (forked children inherit this object and its atexit hook).
  void stop() noexcept {
    if (::getpid() != owner_) return;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      if (!wait_child(pid_, 5.0, &st)) {
        kill_child(pid_);
        std::fprintf(stderr, "iox-roudi did not stop within 5 s of SIGTERM: killed\n");
      } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        std::fprintf(stderr, "iox-roudi ended with wait status %d; its log:\n%s\n", st, log_tail().c_str());
      }
      pid_ = -1;
    }
    remove_files();
    if (log_fd_ >= 0) ::close(log_fd_);
    log_fd_ = -1;
  }

  // The last lines of RouDi's log (for failure messages).
  [[nodiscard]] std::string log_tail(std::size_t max_chars = 2000) const {
    std::string s;
    if (log_fd_ >= 0) {
      struct stat st {};
      if (::fstat(log_fd_, &st) == 0 && st.st_size > 0) {
        const auto size = static_cast<std::size_t>(st.st_size);
        const std::size_t n = std::min(size, max_chars);
        s.resize(n);
        const ssize_t got = ::pread(log_fd_, s.data(), n, static_cast<off_t>(size - n));
        s.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
        if (n < size) s = "..." + s;
      }
    }
    return s.empty() ? std::string("(empty)") : s;
  }

 private:
  std::string cleanup_with(std::string why) {
    remove_files();
    return why;
  }
  std::string stop_with(std::string why) {
    stop();
    return why;
  }
  void remove_files() noexcept {
    if (dir_.empty()) return;
    ::unlink((dir_ + "/roudi.toml").c_str());
    ::unlink((dir_ + "/roudi.log").c_str());
    ::rmdir(dir_.c_str());
    dir_.clear();
  }
  std::string cleanup_log_and_files(std::string why) {
    remove_files();
    if (log_fd_ >= 0) ::close(log_fd_);
    log_fd_ = -1;
    return why;
  }
  static roudi_daemon*& atexit_target() noexcept {
    static roudi_daemon* self = nullptr;
    return self;
  }
  void register_atexit() {
    static bool registered = false;
    atexit_target() = this;
    if (!registered) {
      registered = true;
      std::atexit([] {
        if (atexit_target() != nullptr) atexit_target()->stop();
      });
    }
  }

  pid_t pid_ = -1;
  pid_t owner_ = -1;
  int log_fd_ = -1;  // RouDi's stdout+stderr (unlinked once it runs)
  std::string dir_;
};

}  // namespace bench::iceoryx
