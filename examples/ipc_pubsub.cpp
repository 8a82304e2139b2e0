// ipc_pubsub -- one publisher process, several subscriber processes, over one broadcast
// ring in shared memory; the publisher can be killed (kill -9) and started again, and
// everything resumes.
//
// The segment holds a lossy broadcast ring (shm/broadcast.hpp): the publisher never waits
// for anyone, every subscriber reads every quote it keeps up with, and a subscriber that
// falls a whole ring behind is told exactly how many quotes it missed (status::lagged) and
// resumes at the oldest one still there -- its gaps. Crash recovery does the rest: a
// restarted publisher attaches again (taking over the dead one's claim) and continues the
// ring's sequence and the quotes' (the next quote number is reserved in a shared counter
// *before* it is published, so a crash can cost a gap, never a duplicate); a subscriber
// whose recv_for times out calls reap(), so it learns that a publisher died, drains what
// it had published, and waits for the next one.
//
// In separate terminals:
//   ipc_pubsub publish [--name /quotes] [--rate 100000] [--seconds 0]
//   ipc_pubsub subscribe [--name /quotes]        (as many as you like, up to 16 at once)
//   ringwire stat /quotes                        (every subscriber's lag, received, missed)
//   (kill -9 the publisher, start it again: the subscribers report the restart and go on)
//   ipc_pubsub clean [--name /quotes]            removes the segment
//
// Without arguments (as CTest runs it) it plays all of that itself: three subscribers, a
// publisher killed with SIGKILL after 300 ms, a second publisher that resumes and then ends
// the stream; each subscriber checks that quote numbers only ever increase (a gap is a
// miss, a repeat or a step back is an error), that every gap matches the lag the ring
// reported, and that it saw the restart. Exit code 0 only when every subscriber is
// satisfied.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/shm.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;
using steady = std::chrono::steady_clock;

struct quote {
  std::uint64_t seq;
  std::uint64_t publish_ns;  // steady clock: a host-wide clock, so latency is meaningful
  std::uint32_t publisher_pid;
  std::uint32_t symbol;
  double px;
};

constexpr std::uint64_t end_of_stream = UINT64_MAX;
constexpr std::uint32_t next_seq_counter = 0;  // the next quote number
constexpr std::size_t ring_capacity = 4096;
constexpr std::uint32_t max_subscribers = 16;

shm::channel_spec spec() {
  return shm::broadcast_spec<quote>(ring_capacity, max_subscribers, ringwire::broadcast::policy::lossy);
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count());
}

// Creates the segment, or opens it when it exists (a restarted publisher).
shm::segment create_or_open(const std::string& name) {
  try {
    return shm::segment::create(name, spec(), {.unlink = shm::unlink_policy::never});
  } catch (const ringwire::error& e) {
    if (e.code() != ringwire::errc::shm_exists) throw;
    return shm::segment::open(name, spec());
  }
}

// rate 0: as fast as possible. seconds 0: until killed (or forever). end: publish the end
// of stream when done.
int publish(const std::string& name, double rate, double seconds, bool end) {
  auto seg = create_or_open(name);
  // metrics: `ringwire stat /quotes` shows each subscriber's lag and counters (stats.hpp).
  auto pub = shm::broadcast::attach_publisher<quote>(seg, {.metrics = true});  // takes over a dead publisher's claim
  auto& next = seg.counter(next_seq_counter);
  const auto me = static_cast<std::uint32_t>(::getpid());
  std::printf("publisher %u: resuming at quote %" PRIu64 "\n", me, next.load());
  std::fflush(stdout);
  const auto t0 = steady::now();
  std::uint64_t sent = 0;
  for (;;) {
    const double elapsed = std::chrono::duration<double>(steady::now() - t0).count();
    if (seconds > 0 && elapsed >= seconds) break;
    if (rate > 0 && static_cast<double>(sent) > rate * elapsed) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    // Reserve the number first: a crash after this costs a gap, never a duplicate.
    const std::uint64_t seq = next.fetch_add(1, std::memory_order_relaxed);
    (void)pub.send(quote{seq, now_ns(), me, static_cast<std::uint32_t>(seq % 16),
                            100.0 + static_cast<double>(seq % 1000) / 100});  // lossy: never waits
    ++sent;
  }
  if (end) (void)pub.send(quote{end_of_stream, now_ns(), me, 0, 0});
  std::printf("publisher %u: published %" PRIu64 " quotes\n", me, sent);
  return 0;
}

// idle_exit: seconds without any quote (and no publisher) after which it gives up; 0: never.
int subscribe(const std::string& name, double idle_exit, bool expect_restart = false) {
  auto seg = shm::segment::open(name, spec(), {.wait = std::chrono::seconds(10)});
  auto sub = shm::broadcast::attach_subscriber<quote>(seg, {.metrics = true});
  const auto me = static_cast<std::uint32_t>(::getpid());
  std::uint64_t received = 0, gaps = 0, missed = 0, lag_reported = 0, errors = 0, restarts = 0, window = 0;
  std::uint64_t last = UINT64_MAX, latency_sum = 0;
  std::uint32_t publisher = 0;
  auto last_report = steady::now(), last_quote = steady::now();
  for (;;) {
    auto r = sub.recv_for(std::chrono::milliseconds(100));
    if (r.status() == status::lagged) {  // overwritten before we read them: counted exactly
      lag_reported += r.missed();
      continue;
    }
    if (r) {
      const quote& q = *r;
      last_quote = steady::now();
      if (q.seq == end_of_stream) break;
      if (q.publisher_pid != publisher) {
        if (publisher != 0) {
          ++restarts;
          std::printf("subscriber %u: publisher %u took over from %u\n", me, q.publisher_pid, publisher);
        }
        publisher = q.publisher_pid;
      }
      if (last != UINT64_MAX) {
        if (q.seq <= last) {
          ++errors;
          std::printf("subscriber %u: ERROR quote %" PRIu64 " after %" PRIu64 "\n", me, q.seq, last);
        } else if (q.seq != last + 1) {
          ++gaps;
          missed += q.seq - last - 1;
        }
      }
      last = q.seq;
      ++received;
      ++window;
      latency_sum += now_ns() - q.publish_ns;
    } else if (r.status() == status::timed_out || r.status() == status::closed) {
      // Nothing for 100 ms, or the publisher detached: a dead publisher is reaped (we then
      // drain what it published and see closed); then wait for the next one.
      if (auto dead = shm::broadcast::reap(seg); dead.publisher_pid != 0)
        std::printf("subscriber %u: publisher %u died\n", me, dead.publisher_pid);
      if (r.status() == status::closed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (idle_exit > 0 && std::chrono::duration<double>(steady::now() - last_quote).count() > idle_exit) break;
    }
    if (steady::now() - last_report >= std::chrono::seconds(1)) {
      std::printf("subscriber %u: %" PRIu64 " quotes/s, %" PRIu64 " gaps (%" PRIu64 " missed), mean latency %.1f us\n", me,
                  window, gaps, missed, window ? static_cast<double>(latency_sum) / static_cast<double>(window) / 1e3 : 0.0);
      std::fflush(stdout);
      window = latency_sum = 0;
      last_report = steady::now();
    }
  }
  std::printf("subscriber %u: %" PRIu64 " quotes, %" PRIu64 " gaps (%" PRIu64 " missed, %" PRIu64
              " reported lagged), %" PRIu64 " publisher restarts, %" PRIu64 " errors\n",
              me, received, gaps, missed, lag_reported, restarts, errors);
  std::fflush(stdout);
  if (errors != 0 || received == 0) return 1;
  // A lag the ring reported is always seen as a gap of at least that size (a crash can
  // add gaps of its own: numbers reserved but never published).
  if (missed < lag_reported) return 4;
  return expect_restart && restarts == 0 ? 3 : 0;
}

void clean(const std::string& name) { (void)shm::segment::unlink(name); }

template <class F>
pid_t child(F&& f) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 99;
    try {
      rc = f();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    std::fflush(stdout);
    ::_exit(rc);
  }
  return pid;
}

int exit_code(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

// The whole story in one process tree, checked.
int demo() {
  const std::string name = "/rw-ipc-pubsub-" + std::to_string(::getpid());
  constexpr int subscribers = 3;
  { auto seg = create_or_open(name); }  // exists before anyone subscribes
  std::vector<pid_t> subs;
  for (int i = 0; i < subscribers; ++i) subs.push_back(child([&] { return subscribe(name, 5.0, true); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let them join
  const pid_t first = child([&] { return publish(name, 200'000, 0, false); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(first, SIGKILL);
  std::printf("demo: killed publisher %d with SIGKILL\n", first);
  const bool killed = exit_code(first) == 128 + SIGKILL;
  const pid_t second = child([&] { return publish(name, 200'000, 0.3, true); });
  bool ok = killed && exit_code(second) == 0;
  for (int i = 0; i < subscribers; ++i) ok = exit_code(subs[static_cast<std::size_t>(i)]) == 0 && ok;
  clean(name);
  std::printf("demo: %s\n", ok ? "every subscriber saw increasing quotes across the restart" : "FAILED");
  return ok ? 0 : 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: ipc_pubsub                                  (the self-checking demo)\n"
               "       ipc_pubsub publish [--name /quotes] [--rate R] [--seconds S]\n"
               "       ipc_pubsub subscribe [--name /quotes]\n"
               "       ipc_pubsub clean [--name /quotes]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return demo();
  const std::string mode = argv[1];
  std::string name = "/quotes";
  double rate = 100'000, seconds = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool more = i + 1 < argc;
    if (a == "--name" && more) name = argv[++i];
    else if (a == "--rate" && more) rate = std::atof(argv[++i]);
    else if (a == "--seconds" && more) seconds = std::atof(argv[++i]);
    else return usage();
  }
  try {
    if (mode == "publish") return publish(name, rate, seconds, false);
    if (mode == "subscribe") return subscribe(name, 0);
    if (mode == "clean") {
      clean(name);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ipc_pubsub: %s\n", e.what());
    return 1;
  }
  return usage();
}
