// bridge_market_data -- market data published on one host, carried over ZeroMQ, consumed by
// subscribers of a shared-memory channel on another host (ringwire::net, docs/bridge.md).
//
//   host A:  quote publisher -> /md-a (shm broadcast, lossy) -> outbound bridge (PUB, tcp)
//   host B:  inbound bridge (SUB) -> /md-b (shm broadcast, lossy) -> any number of subscriber
//            processes, each using the ordinary shm::broadcast subscriber API
//
// Quotes lost on the way (ZeroMQ's high-water mark, a reconnect, a bridge restart) reach
// host B's subscribers as status::lagged with the exact count, like any lapped ring: the
// inbound bridge skips the missing sequence numbers in /md-b (publisher::skip).
//
// By hand, in four terminals (two "hosts" on one machine):
//   bridge_market_data publish --bind tcp://127.0.0.1:5556 [--count N] [--rate R]
//   bridge_market_data receive --connect tcp://127.0.0.1:5556 --to /md-b
//   bridge_market_data subscribe --name /md-b        (as many as you like)
//   ringwire stat /md-b                               (the bridge's counters: gaps, frames...)
// Without arguments (as CTest runs it) it plays all of it with processes on 127.0.0.1: a
// publisher of 200,000 quotes, a receiver, two subscribers that check every quote (numbers
// only increase; every number is received or reported missed, exactly) and exit 0 when the
// end-of-stream quote arrives.
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

#include "ringwire/net/inbound.hpp"
#include "ringwire/net/outbound.hpp"
#include "ringwire/shm.hpp"

namespace {

namespace shm = ringwire::shm;
namespace net = ringwire::net;
namespace bc = ringwire::broadcast;
using ringwire::status;
using namespace std::chrono_literals;

struct quote {
  std::uint64_t number;  // 1, 2, 3, ...; end_of_stream ends it
  std::uint32_t symbol;
  std::uint32_t size;
  double bid, ask;
};
constexpr std::uint64_t end_of_stream = UINT64_MAX;

shm::channel_spec spec() { return shm::broadcast_spec<quote>(8192, 16, bc::policy::lossy); }

std::string arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

// Host A: quotes into its own segment, and the outbound bridge reading that segment.
int publish(const std::string& bind, std::uint64_t count, std::uint64_t rate) {
  const std::string name = "/md-a-" + std::to_string(::getpid());
  auto seg = shm::segment::create(name, spec(), {.unlink = shm::unlink_policy::on_creator_exit});
  auto pub = shm::broadcast::attach_publisher<quote>(seg);
  zmq::context_t ctx;
  net::outbound_options o;
  o.link.address = bind;
  net::outbound out(ctx, net::broadcast_source<quote>(shm::broadcast::attach_subscriber<quote>(seg)), o);
  std::jthread bridge([&out](std::stop_token st) { out.run(st); });
  std::this_thread::sleep_for(300ms);  // subscribers connect (PUB/SUB drops until they do)
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 1; i <= count; ++i) {
    const double mid = 100.0 + static_cast<double>(i % 1000) * 0.01;
    pub.send(quote{i, static_cast<std::uint32_t>(i % 64), 100, mid - 0.005, mid + 0.005});
    if (rate != 0 && i % 256 == 0) std::this_thread::sleep_until(start + std::chrono::nanoseconds(i * 1'000'000'000 / rate));
  }
  // The end, repeated: a lossy path may drop any one of them.
  for (int i = 0; i < 100; ++i) {
    pub.send(quote{end_of_stream, 0, 0, 0, 0});
    std::this_thread::sleep_for(20ms);
  }
  bridge.request_stop();
  bridge.join();
  const auto s = out.stats();
  std::printf("publisher: %" PRIu64 " quotes in %" PRIu64 " frames\n", s[net::counter_index::messages],
              s[net::counter_index::frames]);
  return 0;
}

// Host B: the inbound bridge writing the segment its subscribers read, with its counters
// in the segment's user counters (`ringwire stat`).
int receive(const std::string& connect, const std::string& name) {
  auto seg = shm::segment::create(name, spec(), {.unlink = shm::unlink_policy::on_creator_exit, .counters = 16});
  zmq::context_t ctx;
  net::inbound_options o;
  o.link.address = connect;
  for (std::uint32_t i = 0; i < net::counter_count; ++i) o.mirror[i] = &seg.counter(i);
  net::inbound in(ctx, net::broadcast_sink<quote>(shm::broadcast::attach_publisher<quote>(seg)), o);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before run()'s threads; taken by sigwait below
  std::jthread bridge([&in](std::stop_token st) { in.run(st); });
  int sig = 0;
  sigwait(&set, &sig);
  bridge.request_stop();
  bridge.join();
  const auto s = in.stats();
  std::printf("receiver: %" PRIu64 " quotes, %" PRIu64 " missing (skipped), %" PRIu64 " faults\n",
              s[net::counter_index::messages], s[net::counter_index::gaps], s[net::counter_index::faults]);
  return 0;
}

// A subscriber on host B: the ordinary shared-memory API. Exit 0 when every quote number
// from its first to the last was received or reported missed, in order.
int subscribe(const std::string& name) {
  auto seg = shm::segment::open(name, spec(), {.wait = 10s});
  auto sub = shm::broadcast::attach_subscriber<quote>(seg);
  std::uint64_t received = 0, missed = 0, first = 0, last = 0, first_seq = 0, end_seq = 0;
  for (;;) {
    auto r = sub.recv_for(10s);
    if (r.status() == status::lagged) {
      missed += r.missed();
      continue;
    }
    if (!r) {
      std::fprintf(stderr, "subscriber: %s\n", ringwire::to_string(r.status()));
      return 1;
    }
    if (r->number == end_of_stream) {
      end_seq = r.seq();
      break;
    }
    if (received + missed == 0) {
      first = r->number;
      first_seq = r.seq();
    } else if (r->number <= last || r->number - r.seq() != first - first_seq) {
      // Host B's ring numbers its messages as host A's did (a skipped number for each lost one).
      std::fprintf(stderr, "subscriber: quote %" PRIu64 " after %" PRIu64 " (ring seq %" PRIu64 ")\n", r->number,
                   last, r.seq());
      return 1;
    }
    if (r->ask <= r->bid) return 1;
    last = r->number;
    ++received;
  }
  // Every message of the ring from our first quote to the end marker was received or
  // reported missed, exactly once (missed includes quotes lost after `last`).
  const bool exact = received > 0 && received + missed == end_seq - first_seq;
  std::printf("subscriber %d: %" PRIu64 " received, %" PRIu64 " missed, quotes %" PRIu64 "..%" PRIu64 ": %s\n",
              ::getpid(), received, missed, first, last, exact ? "every quote accounted for" : "LOST QUOTES");
  return exact ? 0 : 1;
}

pid_t start(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// The whole story with processes, on an ipc endpoint unique to this run.
int demo() {
  const std::string id = std::to_string(::getpid());
  const std::string address = "ipc:///tmp/ringwire-md-" + id + ".sock";
  const std::string name = "/md-b-" + id;
  const pid_t receiver = start({"receive", "--connect", address, "--to", name});
  std::this_thread::sleep_for(200ms);
  const pid_t sub1 = start({"subscribe", "--name", name});
  const pid_t sub2 = start({"subscribe", "--name", name});
  std::this_thread::sleep_for(300ms);
  const pid_t publisher = start({"publish", "--bind", address, "--count", "200000", "--rate", "400000"});
  const int s1 = wait_for(sub1), s2 = wait_for(sub2), p = wait_for(publisher);
  ::kill(receiver, SIGTERM);
  const int r = wait_for(receiver);
  ::unlink(("/tmp/ringwire-md-" + id + ".sock").c_str());
  std::printf("demo: publisher %d, receiver %d, subscribers %d %d\n", p, r, s1, s2);
  return (p | r | s1 | s2) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "publish")
      return publish(arg(argc, argv, "--bind", "tcp://127.0.0.1:5556"), std::stoull(arg(argc, argv, "--count", "1000000")),
                     std::stoull(arg(argc, argv, "--rate", "1000000")));
    if (cmd == "receive")
      return receive(arg(argc, argv, "--connect", "tcp://127.0.0.1:5556"), arg(argc, argv, "--to", "/md-b"));
    if (cmd == "subscribe") return subscribe(arg(argc, argv, "--name", "/md-b"));
    if (cmd.empty()) return demo();
    std::fprintf(stderr, "usage: bridge_market_data [publish|receive|subscribe] [options]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bridge_market_data: %s\n", e.what());
    return 1;
  }
}
