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
//       in-process ringwire SPSC between two threads for comparison;
//   (2) throughput, 8 B and 1 KiB: the producer streams for the run's time, then closes;
//       the consumer verifies every message and reports its count; the time runs from the
//       start until the consumer has drained. Rows: ringwire in-process (threads), ringwire
//       in a segment (std_sync and spin_sync), pipe and Unix socket (one message per
//       write(), reads of up to 64 KiB).
//
// Every message carries its sequence number and a check word; a lost, duplicated,
// reordered or torn message fails the run and the program exits 1. The two sides are
// pinned to two CPUs (--cpus A,B; default the first two allowed). iceoryx is not measured
// here yet (see docs/benchmarks.md).
//
//   ringwire_shm_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]
//                      [--cpus A,B] [--label TEXT]
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "report.hpp"
#include "ringwire/shm.hpp"
#include "ringwire/spsc.hpp"

namespace bench {
namespace {

using ringwire::status;
namespace shm = ringwire::shm;
constexpr std::size_t ring_cap = 1024;

void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: ringwire_shm_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                          [--cpus A,B] [--label TEXT]\n"
               "  --quick      5 reps, 0.1 s runs\n"
               "  (default)    7 reps, 0.2 s runs\n"
               "  --smoke      every row once with few messages, verifying only (CTest)\n");
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
  std::thread pong([&] {
    pin_this_thread(g_cfg.cpus.b);
    pong_err = pong_loop<T>(c, [&](const T& m) { return spin_until([&] { return ba_tx.try_send(m) == status::ok; }); },
                            [&](T& out) { return spin_until([&] { return ab_rx.try_recv(out) == status::ok; }); });
  });
  sample s;
  std::thread ping([&] {
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
  rows.push_back(make_row("ringwire spsc in-process (threads)", role::reference, [](double t) { return inproc_latency<T>(t); }));
  rows.push_back(make_row("pipe (blocking)", role::peer, [](double t) { return stream_latency<T>(t, stream_kind::pipe); }));
  rows.push_back(make_row("unix stream socket (blocking)", role::peer,
                          [](double t) { return stream_latency<T>(t, stream_kind::unix_socket); }));
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
  if (p.base > 0 && p.peer > 0)
    g_targets.push_back({table + ": best kernel channel (" + p.peer_name + ") p50 / shm std_sync", p.peer / p.base, "(info)"});
}

template <class T>
void throughput_table() {
  const std::string table = "throughput " + payload_name(sizeof(T));
  std::vector<row> rows;
  rows.push_back(make_row("ringwire spsc in-process (threads)", role::ours, [](double t) { return inproc_throughput<T>(t); }));
  rows.push_back(make_row("ringwire shm spsc (std_sync)", role::ours, [](double t) { return shm_throughput<T, ringwire::std_sync>(t); }));
  rows.push_back(make_row("ringwire shm spsc (spin_sync)", role::ours, [](double t) { return shm_throughput<T, ringwire::spin_sync>(t); }));
  rows.push_back(make_row("pipe (one write per message)", role::peer, [](double t) { return stream_throughput<T>(t, stream_kind::pipe); }));
  rows.push_back(make_row("unix stream socket (one write per message)", role::peer,
                          [](double t) { return stream_throughput<T>(t, stream_kind::unix_socket); }));
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
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  c.prog = "ringwire_shm_bench";
  configure(argc, argv, usage);
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 100);

  std::ostringstream o;
  o << "\n## ringwire shared-memory benchmarks" << (c.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "")
    << "\n\n";
  header_start(o);
  header_system(o, "");
  out(o.str());

  latency_table<msg<8>>();
  latency_table<msg<1024>>();
  throughput_table<msg<8>>();
  throughput_table<msg<1024>>();

  std::ostringstream s;
  s << "\n### Summary (medians, same run)\n\n| comparison | value | target |\n|---|---:|---:|\n";
  for (auto& t : g_targets) s << "| " << t.what << " | " << ratio(t.value) << " | " << t.goal << " |\n";
  out(s.str());
  return write_markdown();
}
