// ringwire_shm_bench -- ringwire's SPSC channel between two processes (a shared-memory
// segment), measured by the rules of /work/shared/BENCHMARKING.md next to the kernel's
// channels and the physical floor, in one run:
//
//   (1) round trip, 8 B and 1 KiB: ping (this process) sends message i, pong (a forked
//       process) echoes it back, ping records the rdtsc difference. Rows: the floor (two
//       processes bouncing a counter through one shared cache line each way), ringwire SPSC
//       in a segment (std_sync: the park-capable endpoints, which pay a real fence per
//       publish across processes; and spin_sync: endpoints that never park), a pipe pair
//       and a Unix stream socket pair (blocking read/write, one message per call), and
//       in-process ringwire SPSC between two threads for comparison, and iceoryx 2.0
//       (two topics, ping and pong; pong takes and republishes; both busy-poll take());
//   (2) throughput, 8 B and 1 KiB: the producer streams for the run's time, then closes;
//       the consumer verifies every message and reports its count; the time runs from the
//       start until the consumer has drained. Rows: ringwire in-process (threads), ringwire
//       in a segment (std_sync and spin_sync), pipe and Unix socket (one message per
//       write(), reads of up to 64 KiB), and iceoryx 2.0 (one topic, lossless: the
//       publisher waits while the subscriber's 256-entry queue is full; a sentinel message
//       ends the stream).
//
// Every message carries its sequence number and a check word; a lost, duplicated,
// reordered or torn message fails the run and the program exits 1. The two sides are
// pinned to two CPUs (--cpus A,B; default the first two allowed).
//
// iceoryx: each iceoryx run forks two fresh processes (a process may register one
// runtime), which copy the message in (publishCopyOf) and out (take) like the other rows.
// The benchmark starts iox-roudi itself before the first iceoryx run, with a temporary
// config (two small mempools, ~70 MB of /dev/shm in all) and stops it at the end (also on
// failure; see iceoryx_roudi.hpp). The rows are skipped, with a note, when iceoryx was not
// found at configure time or iox-roudi is not on PATH, and under --smoke unless
// --iceoryx-only is given (--iceoryx-only = --filter iceoryx).
//
//   ringwire_shm_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]
//                      [--cpus A,B] [--label TEXT] [--iceoryx-only]
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "iceoryx_roudi.hpp"
#include "report.hpp"
#include "ringwire/shm.hpp"
#include "ringwire/spsc.hpp"

#ifndef RINGWIRE_BENCH_HAVE_ICEORYX
#define RINGWIRE_BENCH_HAVE_ICEORYX 0
#endif
#if RINGWIRE_BENCH_HAVE_ICEORYX
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/iceoryx_posh_types.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/popo/publisher.hpp"
#include "iceoryx_posh/popo/subscriber.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#include "iceoryx_versions.hpp"
#endif

namespace bench {
namespace {

using ringwire::status;
namespace shm = ringwire::shm;
constexpr std::size_t ring_cap = 1024;

void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: ringwire_shm_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                          [--cpus A,B] [--label TEXT] [--iceoryx-only]\n"
               "  --quick      5 reps, 0.1 s runs\n"
               "  (default)    7 reps, 0.2 s runs\n"
               "  --smoke      every row once with few messages, verifying only (CTest); no iceoryx rows\n"
               "  --iceoryx-only  only the iceoryx rows (same as --filter iceoryx; with --smoke: a quick check)\n");
  std::exit(code);
}

// ---- the two processes of a run -------------------------------------------------------------
// A shared page (MAP_SHARED before the fork) carries the start barrier and the other
// process's verdict back.
struct alignas(128) shared_ctl {
  std::atomic<int> ready{0};
  std::atomic<int> done{0};
  std::atomic<std::uint64_t> count{0};
  std::atomic<long> preempted{0};
  char err[256]{};
};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free,
              "the control page's atomics must be address-free between processes");

struct shared_page {
  shared_ctl* ctl = nullptr;
  shared_page() {
    void* p = ::mmap(nullptr, sizeof(shared_ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      std::perror("mmap");
      std::exit(1);
    }
    ctl = ::new (p) shared_ctl{};
  }
  ~shared_page() { ::munmap(ctl, sizeof(shared_ctl)); }
  shared_page(const shared_page&) = delete;
  shared_page& operator=(const shared_page&) = delete;
};

void pin_process(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)sched_setaffinity(0, sizeof(set), &set);
}

void barrier(shared_ctl& c) {
  c.ready.fetch_add(1, std::memory_order_acq_rel);
  while (c.ready.load(std::memory_order_acquire) < 2) cpu_relax();
}

// Forks; the child pins itself to CPU b, runs child_fn (which returns an error text, empty
// for success), reports and _exits. The parent runs parent_fn on a thread pinned to CPU a
// and then reaps the child. The result is the parent's sample with the child's verdict.
sample in_two_processes(const std::function<sample(shared_ctl&)>& parent_fn,
                        const std::function<std::string(shared_ctl&)>& child_fn) {
  shared_page page;
  shared_ctl& c = *page.ctl;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    sample s;
    s.ok = false;
    s.err = std::string("fork: ") + std::strerror(errno);
    return s;
  }
  if (pid == 0) {
    pin_process(g_cfg.cpus.b);
    const long sw0 = involuntary_switches();
    const std::string e = child_fn(c);
    c.preempted.store(involuntary_switches() - sw0);
    std::snprintf(c.err, sizeof c.err, "%s", e.c_str());
    c.done.store(e.empty() ? 1 : 2, std::memory_order_release);
    std::_Exit(e.empty() ? 0 : 1);
  }
  sample s;
  std::thread t([&] {
    pin_this_thread(g_cfg.cpus.a);
    const long sw0 = involuntary_switches();
    s = parent_fn(c);
    s.preempted += involuntary_switches() - sw0;
  });
  t.join();
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  s.preempted += c.preempted.load();
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    if (s.ok) s.err.clear();
    s.ok = false;
    s.err += std::string(s.err.empty() ? "" : "; ") + "child: " + (c.err[0] ? c.err : "died");
  }
  return s;
}

// ---- the kernel's byte streams -----------------------------------------------------------------
// Blocking byte streams: a pipe or a socket pair. write_all / read_all handle short calls.
bool write_all(int fd, const void* p, std::size_t n) {
  const auto* b = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t k = ::write(fd, b, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    b += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}
bool read_all(int fd, void* p, std::size_t n) {
  auto* b = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t k = ::read(fd, b, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    b += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

enum class stream_kind { pipe, unix_socket };

// Two unidirectional byte streams: [0] ping -> pong, [1] pong -> ping. fds[i][0] reads.
struct stream_pair {
  int fds[2][2]{{-1, -1}, {-1, -1}};
  explicit stream_pair(stream_kind k) {
    for (auto& f : fds) {
      const int rc = k == stream_kind::pipe ? ::pipe(f) : ::socketpair(AF_UNIX, SOCK_STREAM, 0, f);
      if (rc != 0) {
        std::perror("pipe/socketpair");
        std::exit(1);
      }
    }
  }
  ~stream_pair() {
    for (auto& f : fds)
      for (int& d : f)
        if (d >= 0) ::close(d);
  }
  stream_pair(const stream_pair&) = delete;
  stream_pair& operator=(const stream_pair&) = delete;
  // For a socket pair both ends are bidirectional; used one way here like a pipe.
  [[nodiscard]] int writer(int dir) const noexcept { return fds[dir][1]; }
  [[nodiscard]] int reader(int dir) const noexcept { return fds[dir][0]; }
};

// ---- round trip --------------------------------------------------------------------------------
// Ping loop shared by every transport: send(i), recv(echo), record, until the time is up;
// then send the sentinel. send/recv return false on a stall or a broken stream.
template <class T, class Send, class Recv>
sample ping_loop(double target, shared_ctl& c, Send&& send, Recv&& recv) {
  barrier(c);
  histogram h;
  sample s;
  T m{}, r{};
  steady::time_point t0{};
  std::uint64_t i = 0;
  for (;; ++i) {
    if (i == g_cfg.lat_warm) t0 = steady::now();
    if (time_up(i, t0, target)) break;
    stamp(m, i);
    const std::uint64_t a = ticks();
    if (!send(m) || !recv(r)) {
      s.ok = false;
      s.err = "ping: stalled or broken at round trip #" + std::to_string(i);
      return s;
    }
    const std::uint64_t b = ticks();
    if (!verify(r, i)) {
      s.ok = false;
      s.err = seq_error(i, r.w[0]);
      return s;
    }
    if (i >= g_cfg.lat_warm) h.add(b - a);
  }
  const double secs = std::chrono::duration<double>(steady::now() - t0).count();
  stamp(m, sentinel);
  if (!send(m)) {
    s.ok = false;
    s.err = "ping: stalled sending the sentinel";
    return s;
  }
  return latency_sample(h, secs);
}

template <class T, class Send, class Recv>
std::string pong_loop(shared_ctl& c, Send&& send, Recv&& recv) {
  barrier(c);
  T r{};
  for (std::uint64_t i = 0;; ++i) {
    if (!recv(r)) return "pong: stalled or broken waiting for round trip #" + std::to_string(i);
    if (r.w[0] == sentinel) return {};
    if (!send(r)) return "pong: stalled echoing round trip #" + std::to_string(i);
  }
}

// Spins on a try_* until it succeeds, or the run's timeout passes (false). The clock is
// read only after 4096 failed attempts: a round trip is a few hundred nanoseconds, and a
// clock read per call would be a measurable part of it.
template <class F>
bool spin_until(F&& attempt) {
  steady::time_point deadline{};
  for (std::uint32_t n = 1;; ++n) {
    if (attempt()) return true;
    cpu_relax();
    if ((n & 4095) == 0) {
      if (g_yield_while_spinning) sched_yield();
      if (deadline == steady::time_point{}) {
        deadline = deadline_from_now();
      } else if (steady::now() > deadline) {
        return false;
      }
    }
  }
}

template <class T, class Sync>
sample shm_latency(double target) {
  auto ab = shm::segment::create_anonymous(shm::spsc_spec<T>(ring_cap));
  auto ba = shm::segment::create_anonymous(shm::spsc_spec<T>(ring_cap));
  return in_two_processes(
      [&](shared_ctl& c) {
        auto tx = shm::spsc::attach_sender<T, Sync>(ab);
        auto rx = shm::spsc::attach_receiver<T, Sync>(ba);
        return ping_loop<T>(target, c, [&](const T& m) { return spin_until([&] { return tx.try_send(m) == status::ok; }); },
                            [&](T& out) { return spin_until([&] { return rx.try_recv(out) == status::ok; }); });
      },
      [&](shared_ctl& c) {
        auto rx = shm::spsc::attach_receiver<T, Sync>(ab);
        auto tx = shm::spsc::attach_sender<T, Sync>(ba);
        return pong_loop<T>(c, [&](const T& m) { return spin_until([&] { return tx.try_send(m) == status::ok; }); },
                            [&](T& out) { return spin_until([&] { return rx.try_recv(out) == status::ok; }); });
      });
}

// The same ping-pong over two lossy broadcast rings with one subscriber each: the sequence
// lives in the slot itself (the seqlock stamp beside the payload), so the subscriber polls
// the slot and a small message crosses as one cache line -- the SPSC ring moves the slot
// and then the index that publishes it.
template <class T, class Sync>
sample shm_broadcast_latency(double target) {
  using ringwire::broadcast::policy;
  auto ab = shm::segment::create_anonymous(shm::broadcast_spec<T>(ring_cap, 1, policy::lossy));
  auto ba = shm::segment::create_anonymous(shm::broadcast_spec<T>(ring_cap, 1, policy::lossy));
  const auto recv_into = [](auto& rx, T& out) {
    return spin_until([&] {
      auto r = rx.try_recv();
      if (!r) return false;
      out = *r;
      return true;
    });
  };
  return in_two_processes(
      [&](shared_ctl& c) {
        auto rx = shm::broadcast::attach_subscriber<T, Sync>(ba);  // joined before the barrier
        auto tx = shm::broadcast::attach_publisher<T, Sync>(ab);
        return ping_loop<T>(target, c, [&](const T& m) { return tx.try_send(m) == status::ok; },
                            [&](T& out) { return recv_into(rx, out); });
      },
      [&](shared_ctl& c) {
        auto rx = shm::broadcast::attach_subscriber<T, Sync>(ab);
        auto tx = shm::broadcast::attach_publisher<T, Sync>(ba);
        return pong_loop<T>(c, [&](const T& m) { return tx.try_send(m) == status::ok; },
                            [&](T& out) { return recv_into(rx, out); });
      });
}

template <class T>
sample stream_latency(double target, stream_kind k) {
  stream_pair sp(k);
  return in_two_processes(
      [&](shared_ctl& c) {
        return ping_loop<T>(target, c, [&](const T& m) { return write_all(sp.writer(0), &m, sizeof m); },
                            [&](T& out) { return read_all(sp.reader(1), &out, sizeof out); });
      },
      [&](shared_ctl& c) {
        return pong_loop<T>(c, [&](const T& m) { return write_all(sp.writer(1), &m, sizeof m); },
                            [&](T& out) { return read_all(sp.reader(0), &out, sizeof out); });
      });
}

// The floor between processes: one shared cache line each way, nothing else.
sample floor_latency(double target) {
  struct alignas(128) lines {
    std::atomic<std::uint64_t> a{0};
    alignas(128) std::atomic<std::uint64_t> b{0};
  };
  void* p = ::mmap(nullptr, sizeof(lines), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::exit(1);
  auto* l = ::new (p) lines{};
  sample s = in_two_processes(
      [&](shared_ctl& c) {
        barrier(c);
        histogram h;
        steady::time_point t0{};
        std::uint64_t i = 1;
        for (;; ++i) {
          if (i == g_cfg.lat_warm) t0 = steady::now();
          if (time_up(i, t0, target)) break;
          const std::uint64_t t = ticks();
          l->a.store(i, std::memory_order_release);
          if (!spin_until([&] { return l->b.load(std::memory_order_acquire) == i; })) {
            sample f;
            f.ok = false;
            f.err = "floor ping-pong stalled";
            return f;
          }
          const std::uint64_t u = ticks();
          if (i >= g_cfg.lat_warm) h.add(u - t);
        }
        const double secs = std::chrono::duration<double>(steady::now() - t0).count();
        l->a.store(sentinel, std::memory_order_release);
        return latency_sample(h, secs);
      },
      [&](shared_ctl& c) -> std::string {
        barrier(c);
        for (std::uint64_t i = 1;; ++i) {
          std::uint64_t x = 0;
          if (!spin_until([&] { return (x = l->a.load(std::memory_order_acquire)) == i || x == sentinel; }))
            return "floor pong stalled";
          if (x == sentinel) return {};
          l->b.store(i, std::memory_order_release);
        }
      });
  ::munmap(p, sizeof(lines));
  return s;
}

// In-process SPSC between two threads, for comparison with the cross-process rows.
template <class T>
sample inproc_latency(double target) {
  auto [ab_tx, ab_rx] = ringwire::spsc::channel<T>(ring_cap);
  auto [ba_tx, ba_rx] = ringwire::spsc::channel<T>(ring_cap);
  shared_ctl c;
  std::string pong_err;
  // (Init-captures: clang 14 does not let a lambda capture a structured binding.)
  std::thread pong([&, &ba_tx = ba_tx, &ab_rx = ab_rx] {
    pin_this_thread(g_cfg.cpus.b);
    pong_err = pong_loop<T>(c, [&](const T& m) { return spin_until([&] { return ba_tx.try_send(m) == status::ok; }); },
                            [&](T& out) { return spin_until([&] { return ab_rx.try_recv(out) == status::ok; }); });
  });
  sample s;
  std::thread ping([&, &ab_tx = ab_tx, &ba_rx = ba_rx] {
    pin_this_thread(g_cfg.cpus.a);
    const long sw0 = involuntary_switches();
    s = ping_loop<T>(target, c, [&](const T& m) { return spin_until([&] { return ab_tx.try_send(m) == status::ok; }); },
                     [&](T& out) { return spin_until([&] { return ba_rx.try_recv(out) == status::ok; }); });
    s.preempted += involuntary_switches() - sw0;
  });
  ping.join();
  pong.join();
  if (!pong_err.empty()) {
    s.ok = false;
    s.err += "; " + pong_err;
  }
  return s;
}

// ---- throughput -------------------------------------------------------------------------------
// The producer streams until `target` seconds have passed, then closes; the consumer
// verifies each message in order, stores its count and sets done; the producer's clock stops
// when it sees done (the drain is included). v = {Mmsg/s, GiB/s}.
sample rate_sample(std::uint64_t n, double secs, std::size_t bytes) {
  sample s;
  s.secs = secs;
  s.units = n;
  const double mps = static_cast<double>(n) / secs;
  s.v = {mps / 1e6, mps * static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0)};
  return s;
}

template <class T, class Send, class Close>
sample produce(double target, shared_ctl& c, Send&& send, Close&& close) {
  barrier(c);
  T m{};
  const auto t0 = steady::now();
  const auto stop = t0 + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(target));
  std::uint64_t i = 0;
  for (;; ++i) {
    if ((i & 255) == 0 && steady::now() >= stop) break;
    stamp(m, i);
    if (!send(m)) {
      sample f;
      f.ok = false;
      f.err = "producer: stalled or broken at message #" + std::to_string(i);
      return f;
    }
  }
  close();
  if (!spin_until([&] { return c.done.load(std::memory_order_acquire) != 0; })) {
    sample f;
    f.ok = false;
    f.err = "producer: the consumer never finished";
    return f;
  }
  const double secs = std::chrono::duration<double>(steady::now() - t0).count();
  if (c.done.load() != 1) {
    sample f;
    f.ok = false;
    f.err = c.err;
    return f;
  }
  if (c.count.load() != i) {
    sample f;
    f.ok = false;
    f.err = "sent " + std::to_string(i) + ", the consumer verified " + std::to_string(c.count.load());
    return f;
  }
  return rate_sample(i, secs, sizeof(T));
}

// The consumer of a ringwire receiver: recv until closed, verifying. Reports in c.
template <class T, class Rx>
std::string consume_ring(shared_ctl& c, Rx& rx) {
  barrier(c);
  T m{};
  std::uint64_t i = 0;
  const auto deadline = deadline_from_now();
  for (std::uint32_t n = 1;;) {
    const status st = rx.try_recv(m);
    if (st == status::ok) {
      if (!verify(m, i)) return seq_error(i, m.w[0]);
      ++i;
      continue;
    }
    if (st == status::closed) break;
    cpu_relax();
    if ((++n & 4095) == 0 && steady::now() > deadline) return "consumer: stalled at message #" + std::to_string(i);
  }
  c.count.store(i);
  return {};
}

template <class T, class Sync>
sample shm_throughput(double target) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<T>(ring_cap));
  return in_two_processes(
      [&](shared_ctl& c) {
        auto tx = shm::spsc::attach_sender<T, Sync>(seg);
        return produce<T>(target, c, [&](const T& m) { return spin_until([&] { return tx.try_send(m) == status::ok; }); },
                          [&] { tx.close(); });
      },
      [&](shared_ctl& c) {
        auto rx = shm::spsc::attach_receiver<T, Sync>(seg);
        return consume_ring<T>(c, rx);
      });
}

// Segment kind 5, the byte broadcast ring, with one credited (lossless) reader in the other
// process: each message is one publish of its bytes (copied into the payload region) and
// one copying read. Depth ring_cap, a region of ring_cap messages (at least 64 bytes).
template <class T>
sample shm_byte_broadcast_throughput(double target) {
  namespace bb = ringwire::byte_broadcast;
  const std::uint64_t bytes = (sizeof(T) + 7) / 8 * 8;
  const bb::geometry g{ring_cap, std::bit_ceil(std::max<std::uint64_t>(ring_cap * bytes, 64)), sizeof(T), 1};
  auto seg = shm::segment::create_anonymous(shm::byte_broadcast_spec(g));
  return in_two_processes(
      [&](shared_ctl& c) {
        auto w = shm::byte_broadcast::attach_writer(seg);
        return produce<T>(
            target, c,
            [&](const T& m) {
              const auto p = std::as_bytes(std::span<const T, 1>(&m, 1));
              return spin_until([&] { return w.try_write(0, p) == status::ok; });
            },
            [&] { w.close(); });
      },
      [&](shared_ctl& c) -> std::string {
        auto rx = shm::byte_broadcast::attach_credited_reader(seg);
        barrier(c);
        T m{};
        std::uint64_t i = 0;
        const auto deadline = deadline_from_now();
        for (std::uint32_t n = 1;;) {
          const bb::read_result r = rx.try_read(std::as_writable_bytes(std::span<T, 1>(&m, 1)));
          if (r.status() == ringwire::status::ok) {
            if (r.info().size != sizeof(T) || !verify(m, i)) return seq_error(i, m.w[0]);
            ++i;
            continue;
          }
          if (r.status() == ringwire::status::closed) break;
          if (r.status() != ringwire::status::empty)
            return std::string("consumer: ") + ringwire::to_string(r.status()) + " at message #" + std::to_string(i);
          cpu_relax();
          if ((++n & 4095) == 0 && steady::now() > deadline) return "consumer: stalled at message #" + std::to_string(i);
        }
        c.count.store(i);
        return {};
      });
}

template <class T>
sample inproc_throughput(double target) {
  auto [tx, rx] = ringwire::spsc::channel<T>(ring_cap);
  shared_ctl c;
  std::string err;
  std::thread consumer([&, &rx = rx] {
    pin_this_thread(g_cfg.cpus.b);
    err = consume_ring<T>(c, rx);
    std::snprintf(c.err, sizeof c.err, "%s", err.c_str());
    c.done.store(err.empty() ? 1 : 2, std::memory_order_release);
  });
  sample s;
  std::thread producer([&, &tx = tx] {
    pin_this_thread(g_cfg.cpus.a);
    const long sw0 = involuntary_switches();
    s = produce<T>(target, c, [&](const T& m) { return spin_until([&] { return tx.try_send(m) == status::ok; }); },
                   [&] { tx.close(); });
    s.preempted += involuntary_switches() - sw0;
  });
  producer.join();
  consumer.join();
  return s;
}

// A byte stream: one message per write(); the consumer reads up to 64 KiB at a time and
// verifies each whole message, carrying a partial one over to the next read.
template <class T>
sample stream_throughput(double target, stream_kind k) {
  stream_pair sp(k);
  return in_two_processes(
      [&](shared_ctl& c) {
        ::close(sp.fds[0][0]);  // the reader's end is the child's
        sp.fds[0][0] = -1;
        return produce<T>(target, c, [&](const T& m) { return write_all(sp.writer(0), &m, sizeof m); },
                          [&] {
                            ::close(sp.fds[0][1]);
                            sp.fds[0][1] = -1;
                          });
      },
      [&](shared_ctl& c) -> std::string {
        ::close(sp.fds[0][1]);  // or the read below never sees end of stream
        barrier(c);
        std::vector<char> buf(65536 + sizeof(T));
        std::size_t have = 0;
        std::uint64_t i = 0;
        for (;;) {
          const ssize_t n = ::read(sp.reader(0), buf.data() + have, 65536);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return std::string("read: ") + std::strerror(errno);
          if (n == 0) break;
          have += static_cast<std::size_t>(n);
          std::size_t at = 0;
          for (; have - at >= sizeof(T); at += sizeof(T)) {
            T m;
            std::memcpy(&m, buf.data() + at, sizeof m);
            if (!verify(m, i)) return seq_error(i, m.w[0]);
            ++i;
          }
          std::memmove(buf.data(), buf.data() + at, have - at);
          have -= at;
        }
        if (have != 0) return "a partial message at end of stream";
        c.count.store(i);
        return {};
      });
}


// ---- iceoryx ----------------------------------------------------------------------------------
// iceoryx 2.0 publish/subscribe between two processes, both forked from this one for each run
// (PoshRuntime::initRuntime may be called once per process, and this process never
// registers, so interleaved repetitions each get two fresh processes). RouDi is started
// lazily before the first iceoryx run (iceoryx_roudi.hpp) and stopped at the end.
//
// Both sides copy like every other row: send = Publisher<T>::publishCopyOf (loan a chunk,
// copy the message in, publish), receive = take() and copy the message out, busy-polling
// take() (no WaitSet). Every topic is lossless: the publisher waits for its subscriber
// (ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER) and the subscriber's queue blocks the producer
// when full (QueueFullPolicy::BLOCK_PRODUCER, capacity iox::MAX_SUBSCRIBER_QUEUE_CAPACITY).
// Each run has its own topic names, so a run never connects to a previous run's ports.

// Why the iceoryx rows are not run ("" = they are).
std::string g_iceoryx_skip;
bool g_iceoryx_only = false;
std::string g_roudi_exe;

// RouDi's mempools: one for the 8-byte messages, one for 1 KiB (+ the chunk header); 2048
// chunks each (a topic holds at most queue + loans ~ 270).
constexpr std::size_t ice_small_chunk = 128, ice_large_chunk = 1280, ice_chunks = 2048;

iceoryx::roudi_daemon& roudi() {
  static iceoryx::roudi_daemon d;
  return d;
}

// Decided once in main, before the tables.
void decide_iceoryx() {
  if (g_cfg.smoke && !g_iceoryx_only) {
    g_iceoryx_skip = "not run under --smoke (RouDi may not be allowed where CTest runs; --smoke --iceoryx-only runs them)";
  } else if (!RINGWIRE_BENCH_HAVE_ICEORYX) {
    g_iceoryx_skip = "skipped: iceoryx_posh was not found when the benchmark was configured";
  } else {
    g_roudi_exe = iceoryx::find_roudi();
    if (g_roudi_exe.empty()) g_iceoryx_skip = "skipped: iox-roudi not found on PATH or at /usr/bin/iox-roudi";
  }
  if (!g_iceoryx_skip.empty() && (g_iceoryx_only || wanted("", "iceoryx")))
    progress(g_cfg.prog + ": iceoryx rows " + g_iceoryx_skip);
}

#if RINGWIRE_BENCH_HAVE_ICEORYX
static_assert(sizeof(iox::mepoo::ChunkHeader) + sizeof(msg<8>) <= ice_small_chunk &&
                  sizeof(iox::mepoo::ChunkHeader) + sizeof(msg<1024>) <= ice_large_chunk,
              "RouDi's mempools must hold a chunk header and a message");

std::uint64_t g_ice_run = 0;  // numbers the runs: part of every topic name

// The TOML file RouDi is started with (-c).
std::string roudi_toml() {
  std::ostringstream t;
  t << "[general]\nversion = 1\n\n[[segment]]\n";
  for (std::size_t size : {ice_small_chunk, ice_large_chunk})
    t << "\n[[segment.mempool]]\nsize = " << size << "\ncount = " << ice_chunks << "\n";
  return t.str();
}

// In a freshly forked child: die with the bench, pin, quiet iceoryx's log, register.
// (The probe that waits for RouDi to come up logs errors only: "RouDi not found - waiting"
// is expected there.)
void ice_child_start(int cpu, const char* role, iox::log::LogLevel level = iox::log::LogLevel::kWarn) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  pin_process(cpu);
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(level, iox::log::LogLevelOutput::kHideLogLevel);
  const std::string name = std::string("ringwire-shm-bench-") + role + "-" + std::to_string(::getpid());
  iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name));
}

iox::capro::ServiceDescription ice_topic(const char* event, std::size_t bytes) {
  const std::string instance = "bench" + std::to_string(::getppid()) + "-run" + std::to_string(g_ice_run);
  const std::string ev = std::string(event) + std::to_string(bytes);
  return {"ringwire_shm", iox::capro::IdString_t(iox::cxx::TruncateToCapacity, instance),
          iox::capro::IdString_t(iox::cxx::TruncateToCapacity, ev)};
}

iox::popo::PublisherOptions ice_pub_options() {
  iox::popo::PublisherOptions o;
  o.historyCapacity = 0;
  o.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
  return o;
}

iox::popo::SubscriberOptions ice_sub_options() {
  iox::popo::SubscriberOptions o;
  o.queueCapacity = iox::MAX_SUBSCRIBER_QUEUE_CAPACITY;
  o.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
  return o;
}

// Waits (sleeping, up to 10 s) until RouDi connected the given ports: each subscriber
// subscribed, each publisher has a subscriber. Returns "" or why not.
template <class... Ports>
std::string ice_wait_connected(const Ports&... ports) {
  auto connected = [](const auto& p) {
    if constexpr (requires { p.hasSubscribers(); }) return p.hasSubscribers();
    else return p.getSubscriptionState() == iox::SubscribeState::SUBSCRIBED;
  };
  const auto deadline = steady::now() + std::chrono::seconds(10);
  while (!(connected(ports) && ...)) {
    if (steady::now() > deadline) return "iceoryx: ports not connected by RouDi after 10 s";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return {};
}

template <class T>
bool ice_send(iox::popo::Publisher<T>& tx, const T& m) {
  // publishCopyOf loans a chunk (fails only if the mempool is exhausted: retried until the
  // run's timeout), copies m in and publishes; it waits inside while the queue is full.
  return spin_until([&] { return !tx.publishCopyOf(m).has_error(); });
}

template <class T>
bool ice_try_take(iox::popo::Subscriber<T>& rx, T& out) {
  auto r = rx.take();
  if (r.has_error()) return false;  // NO_CHUNK_AVAILABLE (no chunk is held, so never the other error)
  out = *r.value();
  return true;  // the sample (and its chunk) is released here
}

// Forks the two sides of an iceoryx run: the pong/consumer process on CPU b, the
// ping/producer process on CPU a; each registers its own runtime. The ping side's sample
// comes back through the shared page. A side that fails ends the other; a run that outlives
// its limit is killed and fails.
struct ice_verdict {
  int ok = 0;
  double secs = 0;
  std::uint64_t units = 0;
  std::size_t nv = 0;
  double v[4]{};
  long preempted = 0;
  char err[256]{};
};
struct alignas(128) ice_page {
  shared_ctl ctl;
  ice_verdict ping;
};

sample in_two_iceoryx_processes(double target, const std::function<sample(shared_ctl&)>& ping_fn,
                                const std::function<std::string(shared_ctl&)>& pong_fn) {
  auto failed = [](std::string why) {
    sample f;
    f.ok = false;
    f.err = std::move(why);
    return f;
  };
  if (!roudi().running()) {
    progress("starting " + g_roudi_exe);
    const std::string e = roudi().start(g_roudi_exe, roudi_toml(), [] {
      ice_child_start(-1, "probe", iox::log::LogLevel::kError);
      return 0;
    });
    if (!e.empty()) return failed(e);
  }
  void* mem = ::mmap(nullptr, sizeof(ice_page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return failed(std::string("mmap: ") + std::strerror(errno));
  auto* page = ::new (mem) ice_page{};
  shared_ctl& c = page->ctl;
  ++g_ice_run;
  std::fflush(nullptr);
  const pid_t pong = ::fork();
  if (pong == 0) {
    ice_child_start(g_cfg.cpus.b, "pong");
    const long sw0 = involuntary_switches();
    const std::string e = pong_fn(c);
    c.preempted.store(involuntary_switches() - sw0);
    std::snprintf(c.err, sizeof c.err, "%s", e.c_str());
    c.done.store(e.empty() ? 1 : 2, std::memory_order_release);
    std::exit(e.empty() ? 0 : 1);  // exit(), not _Exit(): the runtime unregisters from RouDi
  }
  const pid_t ping = pong < 0 ? -1 : ::fork();
  if (ping == 0) {
    ice_child_start(g_cfg.cpus.a, "ping");
    const long sw0 = involuntary_switches();
    sample r = ping_fn(c);
    ice_verdict& v = page->ping;
    v.ok = r.ok ? 1 : 0;
    v.secs = r.secs;
    v.units = r.units;
    v.nv = std::min<std::size_t>(r.v.size(), 4);
    for (std::size_t k = 0; k < v.nv; ++k) v.v[k] = r.v[k];
    v.preempted = r.preempted + involuntary_switches() - sw0;
    std::snprintf(v.err, sizeof v.err, "%s", r.err.c_str());
    std::exit(r.ok ? 0 : 1);
  }
  sample s;
  if (pong < 0 || ping < 0) {
    s = failed(std::string("fork: ") + std::strerror(errno));
    if (pong > 0) iceoryx::kill_child(pong);
  } else {
    // Both sides exit on their own (the ping side after the sentinel, the pong side when it
    // sees it); the limit covers registration, connection, the run and both stall timeouts.
    const double limit = 20.0 + target + 2 * g_cfg.run_timeout_s;
    const auto deadline = steady::now() + std::chrono::duration<double>(limit);
    pid_t live[2] = {ping, pong};
    int status[2] = {0, 0};
    bool timed_out = false;
    for (int left = 2; left > 0;) {
      for (int k = 0; k < 2; ++k) {
        if (live[k] < 0) continue;
        int st = 0;
        const pid_t r = ::waitpid(live[k], &st, WNOHANG);
        if (r == live[k] || (r < 0 && errno != EINTR)) {
          status[k] = st;
          live[k] = -1;
          --left;
          const bool bad = !WIFEXITED(st) || WEXITSTATUS(st) != 0;
          if (bad && live[1 - k] > 0) {  // the other side would wait for it forever
            iceoryx::kill_child(live[1 - k]);
            status[1 - k] = -1;
            live[1 - k] = -1;
            --left;
          }
        }
      }
      if (left == 0) break;
      if (steady::now() > deadline) {
        timed_out = true;
        for (pid_t& p : live)
          if (p > 0) iceoryx::kill_child(p), p = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const ice_verdict& v = page->ping;
    s.ok = v.ok == 1;
    s.secs = v.secs;
    s.units = v.units;
    s.v.assign(v.v, v.v + v.nv);
    s.preempted = v.preempted + c.preempted.load();
    s.err = v.err;
    // How a side ended, when not with exit status 0 ("" when it did).
    auto ending = [](int st) -> std::string {
      if (st == -1) return "killed by the benchmark after the other side failed";
      if (WIFSIGNALED(st)) return std::string("killed by signal ") + std::to_string(WTERMSIG(st));
      if (WIFEXITED(st) && WEXITSTATUS(st) != 0) return "exit status " + std::to_string(WEXITSTATUS(st));
      return {};
    };
    auto add = [&](const std::string& e) {
      s.ok = false;
      s.err += (s.err.empty() ? "" : "; ") + e;
    };
    if (timed_out) add("iceoryx run killed after " + num(limit) + " s");
    // A side that did not exit() is still registered with RouDi, and RouDi 2.0 aborts when
    // asked to stop while it believes such a process alive (leaving its /dev/shm segments
    // behind). Its monitoring drops a process whose keep-alives stop after
    // PROCESS_KEEP_ALIVE_TIMEOUT (1.5 s): wait that out (the run failed; the bench ends).
    if (timed_out || status[0] == -1 || status[1] == -1 || WIFSIGNALED(status[0]) || WIFSIGNALED(status[1]))
      std::this_thread::sleep_for(std::chrono::milliseconds(500) +
                                  std::chrono::nanoseconds(iox::runtime::PROCESS_KEEP_ALIVE_TIMEOUT.toNanoseconds()));
    if (const std::string e = ending(status[0]); !e.empty() && page->ping.err[0] == 0) add("ping process: " + e);
    if (const std::string e = ending(status[1]); !e.empty()) add("pong process: " + (c.err[0] ? std::string(c.err) : e));
  }
  ::munmap(mem, sizeof(ice_page));
  return s;
}

template <class T>
sample iceoryx_latency(double target) {
  return in_two_iceoryx_processes(
      target,
      [&](shared_ctl& c) -> sample {
        iox::popo::Publisher<T> tx(ice_topic("ping", sizeof(T)), ice_pub_options());
        iox::popo::Subscriber<T> rx(ice_topic("pong", sizeof(T)), ice_sub_options());
        if (std::string e = ice_wait_connected(tx, rx); !e.empty()) {
          sample f;
          f.ok = false;
          f.err = "ping: " + e;
          return f;
        }
        sample r = ping_loop<T>(target, c, [&](const T& m) { return ice_send(tx, m); },
                                [&](T& out) { return spin_until([&] { return ice_try_take(rx, out); }); });
        // Keep the ports until pong has taken the sentinel and finished (sleeping: the run's
        // clock has stopped).
        const auto deadline = deadline_from_now();
        while (r.ok && c.done.load(std::memory_order_acquire) == 0 && steady::now() < deadline)
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        return r;
      },
      [&](shared_ctl& c) -> std::string {
        iox::popo::Subscriber<T> rx(ice_topic("ping", sizeof(T)), ice_sub_options());
        iox::popo::Publisher<T> tx(ice_topic("pong", sizeof(T)), ice_pub_options());
        if (std::string e = ice_wait_connected(tx, rx); !e.empty()) return "pong: " + e;
        return pong_loop<T>(c, [&](const T& m) { return ice_send(tx, m); },
                            [&](T& out) { return spin_until([&] { return ice_try_take(rx, out); }); });
      });
}

template <class T>
sample iceoryx_throughput(double target) {
  return in_two_iceoryx_processes(
      target,
      [&](shared_ctl& c) -> sample {
        iox::popo::Publisher<T> tx(ice_topic("stream", sizeof(T)), ice_pub_options());
        if (std::string e = ice_wait_connected(tx); !e.empty()) {
          sample f;
          f.ok = false;
          f.err = "producer: " + e;
          return f;
        }
        // The end of the stream is a sentinel message (iceoryx has no close).
        return produce<T>(target, c, [&](const T& m) { return ice_send(tx, m); },
                          [&] {
                            T m{};
                            stamp(m, sentinel);
                            (void)ice_send(tx, m);
                          });
      },
      [&](shared_ctl& c) -> std::string {
        iox::popo::Subscriber<T> rx(ice_topic("stream", sizeof(T)), ice_sub_options());
        if (std::string e = ice_wait_connected(rx); !e.empty()) return "consumer: " + e;
        barrier(c);
        T m{};
        std::uint64_t i = 0;
        const auto deadline = deadline_from_now();
        for (std::uint32_t n = 1;;) {
          if (ice_try_take(rx, m)) {
            if (m.w[0] == sentinel) break;
            if (!verify(m, i)) return seq_error(i, m.w[0]);
            ++i;
            continue;
          }
          cpu_relax();
          if ((++n & 4095) == 0) {
            if (g_yield_while_spinning) sched_yield();
            if (steady::now() > deadline) return "consumer: stalled at message #" + std::to_string(i);
          }
        }
        if (rx.hasMissedData()) return "consumer: iceoryx reports missed data";
        c.count.store(i);
        return {};
      });
}
#endif  // RINGWIRE_BENCH_HAVE_ICEORYX

constexpr const char* ice_latency_row_name = "iceoryx 2.0 pub/sub (busy-poll take)";
constexpr const char* ice_throughput_row_name = "iceoryx 2.0 pub/sub (blocking, queue 256)";

// ---- tables -----------------------------------------------------------------------------------
struct target_line {
  std::string what;
  double value = 0;
  std::string goal;
};
std::vector<target_line> g_targets;

row make_row(std::string name, role who, std::function<sample(double)> run) {
  row r;
  r.name = std::move(name);
  r.who = who;
  r.run = std::move(run);
  return r;
}

row floor_row_processes() { return make_row("floor: cache-line ping-pong between processes", role::reference, floor_latency); }

template <class T>
void latency_table() {
  const std::string table = "round trip " + payload_name(sizeof(T));
  std::vector<row> rows;
  rows.push_back(floor_row_processes());
  rows.push_back(make_row("ringwire shm spsc (std_sync)", role::ours, [](double t) { return shm_latency<T, ringwire::std_sync>(t); }));
  rows.push_back(make_row("ringwire shm spsc (spin_sync)", role::ours, [](double t) { return shm_latency<T, ringwire::spin_sync>(t); }));
  rows.push_back(make_row("ringwire shm broadcast, 1 subscriber (std_sync)", role::ours,
                          [](double t) { return shm_broadcast_latency<T, ringwire::std_sync>(t); }));
  rows.push_back(make_row("ringwire shm broadcast, 1 subscriber (spin_sync)", role::ours,
                          [](double t) { return shm_broadcast_latency<T, ringwire::spin_sync>(t); }));
  rows.push_back(make_row("ringwire spsc in-process (threads)", role::reference, [](double t) { return inproc_latency<T>(t); }));
  rows.push_back(make_row("pipe (blocking)", role::peer, [](double t) { return stream_latency<T>(t, stream_kind::pipe); }));
  rows.push_back(make_row("unix stream socket (blocking)", role::peer,
                          [](double t) { return stream_latency<T>(t, stream_kind::unix_socket); }));
#if RINGWIRE_BENCH_HAVE_ICEORYX
  if (g_iceoryx_skip.empty())
    rows.push_back(make_row(ice_latency_row_name, role::peer, [](double t) { return iceoryx_latency<T>(t); }));
#endif
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 4);
  std::ostringstream o;
  const row* base = find_row(rows, "ringwire shm spsc (std_sync)");
  const row* floor = find_row(rows, "floor: cache-line ping-pong between processes");
  const latency_p50s p = print_latency_rows(
      o, "Round trip between two processes — " + payload_name(sizeof(T)) + " messages, ring capacity " + std::to_string(ring_cap),
      " Ping and pong are two processes pinned to two CPUs (the in-process row: two threads).", "shm std_sync", base,
      floor, rows);
  out(o.str());
  if (p.floor > 0 && p.base > 0)
    g_targets.push_back({table + ": shm std_sync p50 / floor", p.base / p.floor, "<= 1.20"});
  const row* spin = find_row(rows, "ringwire shm spsc (spin_sync)");
  if (p.floor > 0 && spin != nullptr)
    g_targets.push_back({table + ": shm spin_sync p50 / floor", med(spin) / p.floor, "<= 1.20"});
  for (const char* name : {"ringwire shm broadcast, 1 subscriber (std_sync)", "ringwire shm broadcast, 1 subscriber (spin_sync)"})
    if (const row* b = find_row(rows, name); b != nullptr && p.floor > 0)
      g_targets.push_back({table + ": " + std::string(name).substr(9) + " p50 / floor", med(b) / p.floor, "<= 1.20"});
  const row* kernel = nullptr;  // the faster kernel channel (print_latency_rows' best peer may be iceoryx)
  for (const char* name : {"pipe (blocking)", "unix stream socket (blocking)"})
    if (const row* r = find_row(rows, name); r != nullptr && (kernel == nullptr || med(r) < med(kernel))) kernel = r;
  if (p.base > 0 && kernel != nullptr)
    g_targets.push_back({table + ": best kernel channel (" + kernel->name + ") p50 / shm std_sync", med(kernel) / p.base, "(info)"});
  if (const row* ice = find_row(rows, ice_latency_row_name)) {
    if (p.base > 0) g_targets.push_back({table + ": iceoryx p50 / shm std_sync", med(ice) / p.base, "(info)"});
    if (spin != nullptr) g_targets.push_back({table + ": iceoryx p50 / shm spin_sync", med(ice) / med(spin), "(info)"});
    if (p.floor > 0) g_targets.push_back({table + ": iceoryx p50 / floor", med(ice) / p.floor, "(info)"});
  }
}

template <class T>
void throughput_table() {
  const std::string table = "throughput " + payload_name(sizeof(T));
  std::vector<row> rows;
  rows.push_back(make_row("ringwire spsc in-process (threads)", role::ours, [](double t) { return inproc_throughput<T>(t); }));
  rows.push_back(make_row("ringwire shm spsc (std_sync)", role::ours, [](double t) { return shm_throughput<T, ringwire::std_sync>(t); }));
  rows.push_back(make_row("ringwire shm spsc (spin_sync)", role::ours, [](double t) { return shm_throughput<T, ringwire::spin_sync>(t); }));
  rows.push_back(make_row("ringwire shm byte broadcast, 1 credited reader", role::ours,
                          [](double t) { return shm_byte_broadcast_throughput<T>(t); }));
  rows.push_back(make_row("pipe (one write per message)", role::peer, [](double t) { return stream_throughput<T>(t, stream_kind::pipe); }));
  rows.push_back(make_row("unix stream socket (one write per message)", role::peer,
                          [](double t) { return stream_throughput<T>(t, stream_kind::unix_socket); }));
#if RINGWIRE_BENCH_HAVE_ICEORYX
  if (g_iceoryx_skip.empty())
    rows.push_back(make_row(ice_throughput_row_name, role::peer, [](double t) { return iceoryx_throughput<T>(t); }));
#endif
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 2);
  std::ostringstream o;
  o << "\n### Throughput between two processes — " << payload_name(sizeof(T)) << " messages, ring capacity " << ring_cap
    << "\n\nMillion messages/s and GiB/s (higher is better), " << reps_note()
    << ". The producer streams for the run's time, then closes; the clock stops when the consumer has verified "
       "the last message.\n\n| implementation | Mmsg/s | GiB/s | vs in-process | preempted |\n|---|---:|---:|---:|---:|\n";
  const double inproc = med(find_row(rows, "ringwire spsc in-process (threads)"));
  for (auto& r : rows) {
    o << "| " << (r.who == role::ours ? "**" + r.name + "**" : r.name) << " | " << med_range(summarize(r.results[0])) << " | "
      << med_range(summarize(r.results[1])) << " | " << (inproc > 0 ? ratio(med(&r) / inproc) : "—") << " | " << preempted(r)
      << " |\n";
  }
  out(o.str());
  for (const char* name : {"ringwire shm spsc (std_sync)", "ringwire shm spsc (spin_sync)"}) {
    const row* r = find_row(rows, name);
    if (r != nullptr && inproc > 0)
      g_targets.push_back({table + ": " + name + " / in-process", med(r) / inproc, ">= 0.95"});
  }
  if (const row* ice = find_row(rows, ice_throughput_row_name)) {
    for (const char* name : {"ringwire shm spsc (std_sync)", "ringwire shm spsc (spin_sync)"}) {
      const row* r = find_row(rows, name);
      if (r != nullptr && med(ice) > 0)
        g_targets.push_back({table + ": " + std::string(name) + " / iceoryx", med(r) / med(ice), "(info)"});
    }
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  c.prog = "ringwire_shm_bench";
  configure(argc, argv, usage, [](const std::string& a) {
    if (a != "--iceoryx-only") return false;
    g_iceoryx_only = true;
    return true;
  });
  if (g_iceoryx_only) c.filter = "iceoryx";
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 100);
  decide_iceoryx();

  std::ostringstream o;
  o << "\n## ringwire shared-memory benchmarks" << (c.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "")
    << "\n\n";
  header_start(o);
  header_system(o, "");
  o << "\n- iceoryx: ";
  if (!g_iceoryx_skip.empty()) {
    o << g_iceoryx_skip;
  } else {
#if RINGWIRE_BENCH_HAVE_ICEORYX
    o << ICEORYX_LATEST_RELEASE_VERSION;
#endif
    o << ", RouDi `" << g_roudi_exe << "` started by the benchmark; mempools " << ice_chunks << " × " << ice_small_chunk
      << " B and " << ice_chunks << " × " << ice_large_chunk
      << " B; publisher WAIT_FOR_CONSUMER, subscriber BLOCK_PRODUCER with queue 256; busy-polled take()";
  }
  o << "\n";
  out(o.str());

  latency_table<msg<8>>();
  latency_table<msg<1024>>();
  throughput_table<msg<8>>();
  throughput_table<msg<1024>>();

  std::ostringstream s;
  s << "\n### Summary (medians, same run)\n\n| comparison | value | target |\n|---|---:|---:|\n";
  for (auto& t : g_targets) s << "| " << t.what << " | " << ratio(t.value) << " | " << t.goal << " |\n";
  out(s.str());
  roudi().stop();
  return write_markdown();
}
