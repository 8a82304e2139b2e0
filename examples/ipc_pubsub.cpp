// ipc_pubsub -- one publisher process, several subscriber processes, over shared memory;
// the publisher can be killed (kill -9) and started again, and everything resumes.
//
// Until broadcast rings live in shared memory, the fan-out is one SPSC segment per
// subscriber ("/<name>.<i>"): the publisher offers every quote to every subscriber with
// try_send, so a slow subscriber never holds the others back -- it misses quotes, and
// sees each miss as a gap in the sequence numbers. Crash recovery does the rest: a
// restarted publisher attaches the segments again (taking over the dead one's claims) and
// continues the sequence (the next number is reserved in a shared counter *before* it is
// sent, so a crash can cost a gap, never a duplicate); a subscriber whose recv_for times out
// calls reap(), so it learns that a publisher died, drains what it had published, and
// waits for the next one.
//
// In separate terminals:
//   ipc_pubsub publish --subscribers 2 [--name /quotes] [--rate 100000] [--seconds 0]
//   ipc_pubsub subscribe 0 [--name /quotes]
//   ipc_pubsub subscribe 1
//   (kill -9 the publisher, start it again: the subscribers report the restart and go on)
//   ipc_pubsub clean [--name /quotes]      removes the segments
//
// Without arguments (as CTest runs it) it plays all of that itself: three subscribers, a
// publisher killed with SIGKILL after 300 ms, a second publisher that resumes and then ends
// the stream; each subscriber checks that sequence numbers only ever increase (a gap is a
// miss, a repeat or a step back is an error) and that it saw the restart. Exit code 0 only
// when every subscriber is satisfied.
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
constexpr std::uint32_t next_seq_counter = 0;  // in segment 0: the next sequence number
constexpr std::size_t ring_capacity = 4096;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count());
}

std::string segment_name(const std::string& base, int i) { return base + "." + std::to_string(i); }

// Creates the segment, or opens it when it exists (a restarted publisher).
shm::segment create_or_open(const std::string& name) {
  try {
    return shm::segment::create(name, shm::spsc_spec<quote>(ring_capacity), {.unlink = shm::unlink_policy::never});
  } catch (const ringwire::error& e) {
    if (e.code() != ringwire::errc::shm_exists) throw;
    return shm::segment::open(name, shm::spsc_spec<quote>(ring_capacity));
  }
}

// rate 0: as fast as possible. seconds 0: until killed (or forever). end: send the end of
// stream when done.
int publish(const std::string& base, int subscribers, double rate, double seconds, bool end) {
  std::vector<shm::segment> segs;
  std::vector<ringwire::spsc::sender<quote>> txs;
  for (int i = 0; i < subscribers; ++i) {
    segs.push_back(create_or_open(segment_name(base, i)));
    txs.push_back(shm::spsc::attach_sender<quote>(segs.back()));  // takes over a dead publisher's side
  }
  auto& next = segs[0].counter(next_seq_counter);
  const auto me = static_cast<std::uint32_t>(::getpid());
  std::printf("publisher %u: %d subscribers, resuming at sequence %" PRIu64 "\n", me, subscribers, next.load());
  std::fflush(stdout);
  std::vector<std::uint64_t> dropped(static_cast<std::size_t>(subscribers), 0);
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
    const quote q{seq, now_ns(), me, static_cast<std::uint32_t>(seq % 16), 100.0 + static_cast<double>(seq % 1000) / 100};
    for (std::size_t i = 0; i < txs.size(); ++i)
      if (txs[i].try_send(q) != status::ok) ++dropped[i];  // full (a slow subscriber) or gone
    ++sent;
  }
  if (end)
    for (auto& tx : txs) (void)tx.send_for(quote{end_of_stream, now_ns(), me, 0, 0}, std::chrono::seconds(5));
  std::printf("publisher %u: sent %" PRIu64 " quotes;", me, sent);
  for (std::size_t i = 0; i < dropped.size(); ++i) std::printf(" subscriber %zu missed %" PRIu64 ";", i, dropped[i]);
  std::printf("\n");
  return 0;
}

// idle_exit: seconds without any quote (and no publisher) after which it gives up; 0: never.
int subscribe(const std::string& base, int id, double idle_exit, bool expect_restart = false) {
  auto seg = shm::segment::open(segment_name(base, id), shm::spsc_spec<quote>(ring_capacity),
                                {.wait = std::chrono::seconds(10)});
  auto rx = shm::spsc::attach_receiver<quote>(seg);
  std::uint64_t received = 0, gaps = 0, missed = 0, errors = 0, restarts = 0, window = 0;
  std::uint64_t last = UINT64_MAX, latency_sum = 0;
  std::uint32_t publisher = 0;
  auto last_report = steady::now(), last_quote = steady::now();
  for (;;) {
    auto r = rx.recv_for(std::chrono::milliseconds(100));
    if (r) {
      const quote& q = *r;
      last_quote = steady::now();
      if (q.seq == end_of_stream) break;
      if (q.publisher_pid != publisher) {
        if (publisher != 0) {
          ++restarts;
          std::printf("subscriber %d: publisher %u took over from %u\n", id, q.publisher_pid, publisher);
        }
        publisher = q.publisher_pid;
      }
      if (last != UINT64_MAX) {
        if (q.seq <= last) {
          ++errors;
          std::printf("subscriber %d: ERROR sequence %" PRIu64 " after %" PRIu64 "\n", id, q.seq, last);
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
      if (auto dead = shm::spsc::reap(seg)) std::printf("subscriber %d: publisher %u died\n", id, dead.sender_pid);
      if (r.status() == status::closed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (idle_exit > 0 && std::chrono::duration<double>(steady::now() - last_quote).count() > idle_exit) break;
    }
    if (steady::now() - last_report >= std::chrono::seconds(1)) {
      std::printf("subscriber %d: %" PRIu64 " quotes/s, %" PRIu64 " gaps (%" PRIu64 " missed), mean latency %.1f us\n", id,
                  window, gaps, missed, window ? static_cast<double>(latency_sum) / static_cast<double>(window) / 1e3 : 0.0);
      std::fflush(stdout);
      window = latency_sum = 0;
      last_report = steady::now();
    }
  }
  std::printf("subscriber %d: %" PRIu64 " quotes, %" PRIu64 " gaps (%" PRIu64 " missed), %" PRIu64
              " publisher restarts, %" PRIu64 " errors\n",
              id, received, gaps, missed, restarts, errors);
  std::fflush(stdout);
  if (errors != 0 || received == 0) return 1;
  return expect_restart && restarts == 0 ? 3 : 0;
}

void clean(const std::string& base, int subscribers) {
  for (int i = 0; i < subscribers; ++i) (void)shm::segment::unlink(segment_name(base, i));
}

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
  const std::string base = "/rw-ipc-pubsub-" + std::to_string(::getpid());
  constexpr int subscribers = 3;
  // The segments exist before anyone subscribes (the first publisher would create them too).
  for (int i = 0; i < subscribers; ++i) (void)create_or_open(segment_name(base, i));
  std::vector<pid_t> subs;
  for (int i = 0; i < subscribers; ++i) subs.push_back(child([&, i] { return subscribe(base, i, 5.0, true); }));
  const pid_t first = child([&] { return publish(base, subscribers, 200'000, 0, false); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(first, SIGKILL);
  std::printf("demo: killed publisher %d with SIGKILL\n", first);
  const bool killed = exit_code(first) == 128 + SIGKILL;
  const pid_t second = child([&] { return publish(base, subscribers, 200'000, 0.3, true); });
  bool ok = killed && exit_code(second) == 0;
  for (int i = 0; i < subscribers; ++i) ok = exit_code(subs[static_cast<std::size_t>(i)]) == 0 && ok;
  clean(base, subscribers);
  std::printf("demo: %s\n", ok ? "every subscriber saw increasing sequences across the restart" : "FAILED");
  return ok ? 0 : 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: ipc_pubsub                                  (the self-checking demo)\n"
               "       ipc_pubsub publish --subscribers N [--name /quotes] [--rate R] [--seconds S]\n"
               "       ipc_pubsub subscribe ID [--name /quotes]\n"
               "       ipc_pubsub clean [--subscribers N] [--name /quotes]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return demo();
  const std::string mode = argv[1];
  std::string name = "/quotes";
  int subscribers = 1, id = -1;
  double rate = 100'000, seconds = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool more = i + 1 < argc;
    if (a == "--name" && more) name = argv[++i];
    else if (a == "--subscribers" && more) subscribers = std::atoi(argv[++i]);
    else if (a == "--rate" && more) rate = std::atof(argv[++i]);
    else if (a == "--seconds" && more) seconds = std::atof(argv[++i]);
    else if (mode == "subscribe" && id < 0) id = std::atoi(a.c_str());
    else return usage();
  }
  try {
    if (mode == "publish" && subscribers > 0) return publish(name, subscribers, rate, seconds, false);
    if (mode == "subscribe" && id >= 0) return subscribe(name, id, 0);
    if (mode == "clean") {
      clean(name, subscribers);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ipc_pubsub: %s\n", e.what());
    return 1;
  }
  return usage();
}
