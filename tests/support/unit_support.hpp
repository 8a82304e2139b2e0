// tests/support/unit_support.hpp -- helpers shared by the unit tests (header only: the glob in
// tests/CMakeLists.txt turns every tests/<family>/*.cpp into its own executable).
#pragma once

#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <ranges>
#include <cstddef>
#include <future>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>

#include "ringwire/error.hpp"
#include "ringwire/status.hpp"
#include "support/unsized_range.hpp"

#ifndef RINGWIRE_STRESS_SCALE
#define RINGWIRE_STRESS_SCALE 1
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RINGWIRE_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RINGWIRE_TEST_SANITIZED 1
#endif
#endif
#ifndef RINGWIRE_TEST_SANITIZED
#define RINGWIRE_TEST_SANITIZED 0
#endif

// Readable gtest failure messages for statuses ("closed", not "1-byte object <03>").
namespace ringwire {
inline void PrintTo(status s, std::ostream* os) { *os << to_string(s); }
}  // namespace ringwire

namespace rw_test {

using namespace std::chrono_literals;

// Failure detection only: a wait that should end promptly gets this long before the test
// calls it a lost wake-up. Never used to assert that something was fast.
inline constexpr auto generous = std::chrono::seconds(30);

// ---- element types --------------------------------------------------------------------

// Records every live instance by address, so a double destruction, or the destruction of a
// slot that was never constructed, is caught exactly (not by luck of a sanitizer).
struct registry {
  std::mutex m;
  std::unordered_set<const void*> live;
  std::atomic<long> constructed{0};
  std::atomic<long> destroyed{0};
  std::atomic<long> copies{0};
  std::atomic<long> moves{0};
  std::atomic<long> bad_destroys{0};  // destroyed something not live

  void born(const void* p) {
    std::lock_guard lk(m);
    if (!live.insert(p).second) bad_destroys.fetch_add(1);  // constructed over a live object
    constructed.fetch_add(1);
  }
  void died(const void* p) {
    std::lock_guard lk(m);
    if (live.erase(p) != 1) bad_destroys.fetch_add(1);
    destroyed.fetch_add(1);
  }
  long alive() {
    std::lock_guard lk(m);
    return static_cast<long>(live.size());
  }
  void reset() {
    std::lock_guard lk(m);
    live.clear();
    constructed = destroyed = copies = moves = bad_destroys = 0;
  }
};

inline registry& reg() {
  static registry r;
  return r;
}

// Throws from its copy or move constructor when throw_countdown reaches zero: set it to n
// and the (n+1)-th copy/move from now throws; -1 disables. Tests that use it are
// single-threaded.
inline int throw_countdown = -1;

struct tracked {
  int value;

  explicit tracked(int v) : value(v) { reg().born(this); }
  tracked(const tracked& o) : value(o.value) {
    maybe_throw();
    reg().copies.fetch_add(1);
    reg().born(this);
  }
  tracked(tracked&& o) : value(o.value) {
    maybe_throw();  // before touching o: a failed move leaves the source as it was
    o.value = -1;
    reg().moves.fetch_add(1);
    reg().born(this);
  }
  tracked& operator=(const tracked& o) {
    value = o.value;
    return *this;
  }
  tracked& operator=(tracked&& o) noexcept {
    value = o.value;
    o.value = -1;
    return *this;
  }
  ~tracked() { reg().died(this); }

  static void maybe_throw() {
    if (throw_countdown >= 0 && throw_countdown-- == 0) throw std::runtime_error("tracked: copy/move refused");
  }
};

// Resets the registry before a test and checks the books after it: every construction was
// matched by exactly one destruction of a live object.
class counted : public ::testing::Test {
 protected:
  void SetUp() override {
    reg().reset();
    throw_countdown = -1;
  }
  void TearDown() override {
    throw_countdown = -1;
    EXPECT_EQ(reg().bad_destroys.load(), 0) << "double destruction or destruction of a raw slot";
    EXPECT_EQ(reg().alive(), 0) << "leaked elements";
    EXPECT_EQ(reg().constructed.load(), reg().destroyed.load());
  }
};

// ---- ranges without a size --------------------------------------------------------------
// clang++ 14 cannot compile libstdc++ 12's view_interface-based views (iota | filter,
// subrange), so these stand in for them: input ranges whose sentinel has no operator-.

// The ints [first, last) through a single-pass input iterator, like a generator.
struct counting_range {
  struct iterator {
    using iterator_concept = std::input_iterator_tag;
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    int v = 0;
    int operator*() const { return v; }
    iterator& operator++() {
      ++v;
      return *this;
    }
    void operator++(int) { ++v; }
  };
  struct sentinel {
    int end = 0;
    friend bool operator==(const iterator& i, const sentinel& s) { return i.v == s.end; }
  };
  int first = 0;
  int last = 0;
  [[nodiscard]] iterator begin() const { return {first}; }
  [[nodiscard]] sentinel end() const { return {last}; }
};


static_assert(std::ranges::input_range<counting_range> && !std::ranges::sized_range<counting_range>);
static_assert(!std::ranges::forward_range<counting_range>);

// ---- observing a parked thread ----------------------------------------------------------

inline pid_t this_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// True when thread `tid` of this process is asleep in a private FUTEX_WAIT_BITSET (the
// kind of wait ringwire's park() makes), on any word value: an MPMC room's epoch, a shared
// park word's generation. Read from /proc/self/task/<tid>/syscall: "<nr> <addr> <op> <val> ...".
inline bool asleep_in_futex(pid_t tid, bool on_parked_word = false) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long nr = -1;
  std::string addr, op, val;
  if (!(f >> nr >> addr >> op >> val)) return false;
  return nr == SYS_futex && op == "0x89" && (!on_parked_word || val == "0x1");
}
// The same on a word holding 1 (parked): an exclusive park word (wait.hpp).
inline bool parked_in_futex(pid_t tid) { return asleep_in_futex(tid, true); }

// Whether /proc lets us see other threads' syscalls (it does on Linux unless locked down).
inline bool can_observe_parking() {
  static const bool ok = [] {
    std::ifstream f("/proc/self/task/" + std::to_string(this_tid()) + "/syscall");
    long nr = -1;
    return static_cast<bool>(f >> nr);
  }();
  return ok;
}

// Waits until the thread whose id is published in `tid` is asleep in a futex wait (with
// on_parked_word: on a word holding 1). Returns false after `generous` (a lost or missing
// park). Where /proc cannot tell, it sleeps a little and returns true: the caller's test
// still checks the outcome, only not that a park really happened (tests that count parks
// skip first: can_observe_parking()).
inline bool wait_until_asleep(const std::atomic<pid_t>& tid, bool on_parked_word = false) {
  const auto deadline = std::chrono::steady_clock::now() + generous;
  while (tid.load() == 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(100us);
  }
  if (!can_observe_parking()) {
    std::this_thread::sleep_for(50ms);
    return true;
  }
  while (!asleep_in_futex(tid.load(), on_parked_word)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}
inline bool wait_until_parked(const std::atomic<pid_t>& tid) { return wait_until_asleep(tid, true); }

// Waits for a thread to have started its blocking call (for the spinning strategies, which
// have nothing for /proc to see): its id is published, then a short pause lets it reach
// the wait. Correctness never depends on the pause, only on how much of the wait it covers.
inline void wait_until_started(const std::atomic<pid_t>& tid) {
  while (tid.load() == 0) std::this_thread::sleep_for(100us);
  std::this_thread::sleep_for(20ms);
}

// The errc of the ringwire::error that f throws; a test failure when it throws none.
template <class F>
ringwire::errc error_code(F&& f) {
  try {
    f();
  } catch (const ringwire::error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no ringwire::error thrown";
  return ringwire::errc::invalid_options;
}

// A call that must finish: if it has not after `generous`, the test fails loudly instead of
// hanging the suite (a blocked thread cannot be cancelled, so this aborts).
template <class R>
R must_finish(std::future<R>& f, const char* what) {
  if (f.wait_for(generous) != std::future_status::ready) {
    ADD_FAILURE() << what << " did not return within " << generous.count() << " s (lost wake-up or livelock)";
    std::fprintf(stderr, "%s: still blocked after %lld s, aborting\n", what,
                 static_cast<long long>(generous.count()));
    std::fflush(stderr);
    std::abort();
  }
  return f.get();
}

}  // namespace rw_test
