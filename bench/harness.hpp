// bench/harness.hpp -- the small measurement toolkit behind ringwire_bench: payloads that
// carry their own check, thread pinning, a calibrated TSC, an HDR-style histogram, summary
// statistics and the machine description printed at the top of every report.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace bench {

using steady = std::chrono::steady_clock;

// ---- payloads -------------------------------------------------------------------------------
// Bytes/8 words: word 0 is the sequence number, the last word a check derived from it (for
// the 8-byte payload the one word is both). Trivially copyable, default constructible
// (some peers need that).
template <std::size_t Bytes>
struct msg {
  static_assert(Bytes % 8 == 0 && Bytes >= 8);
  static constexpr std::size_t words = Bytes / 8;
  std::uint64_t w[words];
};

constexpr std::uint64_t check_of(std::uint64_t seq) noexcept {
  return seq * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}

// A template message with a non-trivial body, so a copy really moves every byte.
template <class T>
T message_template() {
  T m{};
  for (std::size_t i = 0; i < T::words; ++i) m.w[i] = 0x0101010101010101ull * (i & 0xff);
  return m;
}

template <class T>
inline void stamp(T& m, std::uint64_t seq) noexcept {
  m.w[0] = seq;
  if constexpr (T::words > 1) m.w[T::words - 1] = check_of(seq);
}

template <class T>
inline bool verify(const T& m, std::uint64_t seq) noexcept {
  if (m.w[0] != seq) return false;
  if constexpr (T::words > 1) return m.w[T::words - 1] == check_of(seq);
  return true;
}

// ---- spinning ---------------------------------------------------------------------------------
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  asm volatile("" ::: "memory");
#endif
}

// Set by --smoke: spinning threads yield now and then, so the smoke test makes progress
// when ctest runs it on a loaded machine. Never set while measuring.
inline bool g_yield_while_spinning = false;

// Shared stop condition of one run: a failure on one side, or the run's deadline.
struct run_control {
  std::atomic<bool> abort{false};
  steady::time_point deadline;
  std::atomic<int> ready{0};
  std::atomic<long> preempted{0};  // involuntary context switches of the run's threads
};


// A failed try_* step: pause; every 4096 steps check for abort or a blown deadline.
// Returns true when the caller must give up.
struct spinner {
  run_control* rc;
  std::uint32_t n = 0;
  bool operator()() {
    cpu_relax();
    if ((++n & 4095) == 0) {
      if (g_yield_while_spinning) sched_yield();
      if (rc->abort.load(std::memory_order_relaxed)) return true;
      if (steady::now() > rc->deadline) {
        rc->abort.store(true, std::memory_order_relaxed);
        return true;
      }
    }
    return false;
  }
};

// Involuntary context switches of the calling thread so far: a run in which a pinned
// thread was preempted measured the machine's other load, not the queue.
inline long involuntary_switches() noexcept {
  rusage u{};
  if (getrusage(RUSAGE_THREAD, &u) != 0) return 0;
  return u.ru_nivcsw;
}

// Counts the involuntary context switches of the calling thread while it lives.
struct preempt_counter {
  run_control& rc;
  long start = involuntary_switches();
  ~preempt_counter() { rc.preempted.fetch_add(involuntary_switches() - start, std::memory_order_relaxed); }
};

// Both threads of a run start together.
inline void start_barrier(run_control& rc) {
  rc.ready.fetch_add(1, std::memory_order_acq_rel);
  while (rc.ready.load(std::memory_order_acquire) < 2) cpu_relax();
}

// ---- pinning ------------------------------------------------------------------------------------
struct cpu_pair {
  int a = -1;  // producer / ping
  int b = -1;  // consumer / pong
  [[nodiscard]] bool pinned() const noexcept { return a >= 0 && b >= 0; }
};

inline std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

inline bool pin_this_thread(int cpu) {
  if (cpu < 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// ---- the TSC ----------------------------------------------------------------------------------
inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_lfence();  // keep rdtsc from running ahead of the loads before it
  const std::uint64_t t = __rdtsc();
  _mm_lfence();  // ... and the work after it from starting before it
  return t;
#else
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count());
#endif
}

// TSC ticks per nanosecond, measured against steady_clock over `ms` milliseconds.
inline double calibrate_tsc(int ms) {
#if defined(__x86_64__) || defined(__i386__)
  const auto s0 = steady::now();
  const std::uint64_t t0 = ticks();
  while (steady::now() - s0 < std::chrono::milliseconds(ms)) {
  }
  const auto s1 = steady::now();
  const std::uint64_t t1 = ticks();
  const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(s1 - s0).count());
  return static_cast<double>(t1 - t0) / ns;
#else
  (void)ms;
  return 1.0;
#endif
}

// ---- HDR-style log-linear histogram ---------------------------------------------------------
// Values below 2^S are exact; above, every power of two is split into 2^(S-1) equal
// buckets, so a reported percentile is within 1/2^(S-1) (0.8 % for S = 8) of the truth.
class histogram {
 public:
  static constexpr int S = 8;
  static constexpr std::uint64_t half = 1ull << (S - 1);
  static constexpr std::size_t buckets = (1u << S) + 64 * half;

  histogram() : counts_(buckets, 0) {}

  void add(std::uint64_t v) noexcept {
    ++counts_[index(v)];
    ++total_;
    if (v > max_) max_ = v;
  }
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }

  // The value at quantile q in [0, 1] (midpoint of its bucket, capped at the max seen).
  [[nodiscard]] double quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
    if (target < 1) target = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
      seen += counts_[i];
      if (seen >= target) return std::min(mid(i), static_cast<double>(max_));
    }
    return static_cast<double>(max_);
  }

 private:
  static std::size_t index(std::uint64_t v) noexcept {
    if (v < (1ull << S)) return static_cast<std::size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - (S - 1);  // >= 1
    const std::uint64_t top = v >> shift;  // in [half, 2*half)
    return static_cast<std::size_t>((1ull << S) + static_cast<std::uint64_t>(shift - 1) * half + (top - half));
  }
  static double mid(std::size_t i) noexcept {
    if (i < (1u << S)) return static_cast<double>(i);
    const std::size_t j = i - (1u << S);
    const int shift = static_cast<int>(j / half) + 1;
    const std::uint64_t top = half + j % half;
    const double lo = static_cast<double>(top << shift);
    return lo + static_cast<double>((1ull << shift) - 1) / 2.0;
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

// ---- statistics --------------------------------------------------------------------------------
struct summary {
  double median = 0, min = 0, max = 0;
  std::size_t n = 0;
};

inline summary summarize(std::vector<double> v) {
  summary s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  const std::size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  return s;
}

// Three significant digits, no exponent for the ranges we print.
inline std::string num(double x) {
  char buf[64];
  const double a = std::fabs(x);
  if (a >= 1000) std::snprintf(buf, sizeof buf, "%.0f", x);
  else if (a >= 100) std::snprintf(buf, sizeof buf, "%.0f", x);
  else if (a >= 10) std::snprintf(buf, sizeof buf, "%.1f", x);
  else if (a >= 1) std::snprintf(buf, sizeof buf, "%.2f", x);
  else std::snprintf(buf, sizeof buf, "%.3f", x);
  return buf;
}

inline std::string med_range(const summary& s) {
  return num(s.median) + " [" + num(s.min) + "–" + num(s.max) + "]";
}

inline std::string ratio(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f×", x);
  return buf;
}

// ---- the machine -----------------------------------------------------------------------------------
inline std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto p = line.find(':');
      if (p != std::string::npos) return line.substr(p + 2);
    }
  }
  return "unknown";
}

inline bool cpu_flag(const char* flag) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("flags", 0) == 0) return (" " + line + " ").find(std::string(" ") + flag + " ") != std::string::npos;
  }
  return false;
}

inline std::string kernel() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

inline std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

}  // namespace bench
