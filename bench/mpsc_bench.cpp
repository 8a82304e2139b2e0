// ringwire_mpsc_bench -- ringwire's MPSC lanes channel against the multi-producer queues
// Debian packages, measured by the rules of /work/shared/BENCHMARKING.md:
//
//   (1) throughput, N producers -> 1 consumer, 8 B and 64 B payloads, one message per call
//       on both sides: ringwire try_send / try_recv; moodycamel ConcurrentQueue with a
//       ProducerToken per producer and a ConsumerToken; boost::lockfree::queue (fixed
//       size); atomic_queue AtomicQueueB2 (MPMC); xenium vyukov_bounded_queue;
//       tbb::concurrent_bounded_queue;
//   (2) batch throughput, N producers -> 1 consumer, 8 B: ringwire reserve(64) + commit
//       against consume_up_to(256), next to moodycamel's bulk enqueue / dequeue with tokens
//       (the only peer with a bulk API for several producers).
//
// Every queue holds the same total: 1024 messages per producer (ringwire: one 1024-slot
// lane per producer). Each producer sends for the run's time; the consumer receives until
// every producer is done and the queue is drained, and checks every message: word 0 is
// producer << 40 | sequence, the last word a check of it; each producer's sequence must
// arrive complete and in order. A run that loses, duplicates or reorders a message fails
// the program. Rate = messages received / time from start to the last message.
//
// Threads are pinned to distinct CPUs when producers + 1 <= allowed CPUs; otherwise they
// are not pinned and the run is OVERSUBSCRIBED (said in the table heading): on a 2-CPU
// machine every producer count above 1 is, and those numbers measure the scheduler as
// much as the queue. Rows are interleaved (A B C ... A B C ...), 7 reps by default.
//
//   ringwire_mpsc_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]
//                       [--producers 1,2,4,8] [--label TEXT]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// The peers' headers are system headers; included before ringwire's for the same reason
// adapters.hpp gives (no warning from them reaches -Werror).
#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <tbb/concurrent_queue.h>
#include <xenium/vyukov_bounded_queue.hpp>

#include "harness.hpp"
#include "report.hpp"
#include "ringwire/mpsc.hpp"

namespace bench {
namespace {

using ringwire::status;
constexpr std::size_t per_producer_cap = 1024;
std::vector<int> g_producers{1, 2, 4};

// ---- the queues, one interface: make(producers), producer(p) -> try_push, try_pop --------------

// What both ringwire rows share: the endpoints of one channel.
template <class T>
struct rw_mpsc_ends {
  struct producer {
    ringwire::mpsc::sender<T> tx;
    bool try_push(const T& v) { return tx.try_send(v) == status::ok; }
  };
  producer make_producer(int) { return {ch.first.make_sender()}; }
  void producers_made() { ch.first.close(); }
  bool try_pop(T& out) { return ch.second.try_recv(out) == status::ok; }
  std::pair<ringwire::mpsc::registrar<T>, ringwire::mpsc::receiver<T>> ch;
};

template <class T>
struct rw_mpsc : rw_mpsc_ends<T> {
  static constexpr const char* name = "ringwire mpsc lanes";
  explicit rw_mpsc(int producers)
      : rw_mpsc_ends<T>{ringwire::mpsc::channel<T>(per_producer_cap, static_cast<std::size_t>(producers))} {}
};

// The same channel with its lanes inside the object (mpsc::inline_channel: no allocation),
// 4 lanes of per_producer_cap, on the stack of the run; rows with more producers skip it.
constexpr std::size_t inline_lanes = 4;
template <class T>
struct inline_place {  // a base, so it is built before the endpoints and outlives them
  ringwire::mpsc::inline_channel<T, per_producer_cap, inline_lanes> place;
};
template <class T>
struct rw_mpsc_inline : inline_place<T>, rw_mpsc_ends<T> {
  static constexpr const char* name = "ringwire mpsc lanes, inline";
  explicit rw_mpsc_inline(int) : inline_place<T>{}, rw_mpsc_ends<T>{this->place.split()} {}
};

template <class T>
struct moodycamel_q {
  static constexpr const char* name = "moodycamel ConcurrentQueue (tokens)";
  explicit moodycamel_q(int producers)
      : q(per_producer_cap * static_cast<std::size_t>(producers), static_cast<std::size_t>(producers), 0), ctok(q) {}
  struct producer {
    moodycamel::ConcurrentQueue<T>* q;
    std::unique_ptr<moodycamel::ProducerToken> tok;
    bool try_push(const T& v) { return q->try_enqueue(*tok, v); }
  };
  producer make_producer(int) { return {&q, std::make_unique<moodycamel::ProducerToken>(q)}; }
  void producers_made() {}
  bool try_pop(T& out) { return q.try_dequeue(ctok, out); }
  moodycamel::ConcurrentQueue<T> q;
  moodycamel::ConsumerToken ctok;
};

template <class T>
struct boost_q {
  static constexpr const char* name = "boost::lockfree::queue";
  explicit boost_q(int producers) : q(per_producer_cap * static_cast<std::size_t>(producers)) {}
  struct producer {
    boost::lockfree::queue<T, boost::lockfree::fixed_sized<true>>* q;
    bool try_push(const T& v) { return q->bounded_push(v); }
  };
  producer make_producer(int) { return {&q}; }
  void producers_made() {}
  bool try_pop(T& out) { return q.pop(out); }
  boost::lockfree::queue<T, boost::lockfree::fixed_sized<true>> q;
};

template <class T>
struct atomic_q {
  static constexpr const char* name = "atomic_queue AtomicQueueB2 (MPMC)";
  explicit atomic_q(int producers) : q(static_cast<unsigned>(per_producer_cap * static_cast<std::size_t>(producers))) {}
  struct producer {
    atomic_queue::AtomicQueueB2<T>* q;
    bool try_push(const T& v) { return q->try_push(v); }
  };
  producer make_producer(int) { return {&q}; }
  void producers_made() {}
  bool try_pop(T& out) { return q.try_pop(out); }
  atomic_queue::AtomicQueueB2<T> q;
};

template <class T>
struct xenium_q {
  static constexpr const char* name = "xenium vyukov_bounded_queue";
  explicit xenium_q(int producers) : q(per_producer_cap * static_cast<std::size_t>(producers)) {}
  struct producer {
    xenium::vyukov_bounded_queue<T>* q;
    bool try_push(const T& v) { return q->try_push(v); }
  };
  producer make_producer(int) { return {&q}; }
  void producers_made() {}
  bool try_pop(T& out) { return q.try_pop(out); }
  xenium::vyukov_bounded_queue<T> q;
};

template <class T>
struct tbb_q {
  static constexpr const char* name = "tbb::concurrent_bounded_queue";
  explicit tbb_q(int producers) { q.set_capacity(static_cast<std::ptrdiff_t>(per_producer_cap) * producers); }
  struct producer {
    tbb::concurrent_bounded_queue<T>* q;
    bool try_push(const T& v) { return q->try_push(v); }
  };
  producer make_producer(int) { return {&q}; }
  void producers_made() {}
  bool try_pop(T& out) { return q.try_pop(out); }
  tbb::concurrent_bounded_queue<T> q;
};

// ---- one run --------------------------------------------------------------------------------------

// The consumer's books: per-producer next sequence. A bad producer id or check word fails
// the run. A message out of its producer's order is counted, not fatal: atomic_queue's MPMC
// mode reorders under contention (its cells carry no lap number; see docs/mpmc.md), and a
// benchmark must report that rather than abort. ringwire's per-producer FIFO is proven by
// the tests (mpsc_stress_test, the Relacy and rapidcheck models), not here.
struct books {
  std::vector<std::uint64_t> next;
  std::uint64_t reordered = 0;
  std::string err;
  template <class T>
  bool take(const T& m) {
    const std::uint64_t p = m.w[0] >> 40;
    const std::uint64_t i = m.w[0] & ((std::uint64_t{1} << 40) - 1);
    if (p >= next.size() || !verify(m, m.w[0])) {
      err = "producer " + std::to_string(p) + ": message " + std::to_string(i) + " with a broken check word";
      return false;
    }
    if (i != next[p]) ++reordered;
    next[p] = std::max(next[p], i + 1);
    return true;
  }
};

// The process's CPUs, read once in main() before any thread is pinned (a pinned thread's
// own mask, and its children's, would say one CPU).
std::vector<int> g_cpus;

// Pins the calling thread to the k-th allowed CPU when the run is not oversubscribed.
void maybe_pin(int k, int threads) {
  if (static_cast<std::size_t>(threads) <= g_cpus.size()) pin_this_thread(g_cpus[static_cast<std::size_t>(k)]);
}

// Producer p sends stamped messages for `target` seconds, `push(msg)` per step: a function
// that returns how many of the next messages went in (0 when full).
template <class T, class Q, class Consume, class Produce>
sample mp_run(double target, int producers, Consume&& consume_some, Produce&& produce_some, Q& q) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int> done{0};
  std::atomic<bool> abort{false};
  std::atomic<long> switches{0};
  std::vector<std::thread> th;
  std::vector<typename Q::producer> handles;
  for (int p = 0; p < producers; ++p) handles.push_back(q.make_producer(p));
  q.producers_made();
  const int threads = producers + 1;
  for (int p = 0; p < producers; ++p) {
    th.emplace_back([&, p] {
      maybe_pin(p + 1, threads);
      const long sw0 = involuntary_switches();
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const auto start = steady::now();
      std::uint64_t i = 0;
      std::uint32_t idle = 0;
      while (!abort.load(std::memory_order_relaxed)) {
        if ((i & 255) == 0 && steady::now() - start >= std::chrono::duration<double>(target)) break;
        const std::uint64_t n = produce_some(handles[static_cast<std::size_t>(p)], static_cast<std::uint64_t>(p), i);
        i += n;
        if (n == 0) {
          cpu_relax();
          if (g_yield_while_spinning || ++idle % 64 == 0) std::this_thread::yield();  // oversubscribed: let the consumer run
        }
      }
      switches.fetch_add(involuntary_switches() - sw0);
      done.fetch_add(1, std::memory_order_release);
    });
  }
  sample s;
  std::thread consumer([&] {  // not main: main's affinity must stay the process's
  maybe_pin(0, threads);
  const long sw0 = involuntary_switches();
  books b;
  b.next.assign(static_cast<std::size_t>(producers), 0);
  while (ready.load() != producers) std::this_thread::yield();
  const auto t0 = steady::now();
  go.store(true, std::memory_order_release);
  const auto deadline = t0 + std::chrono::duration<double>(g_cfg.run_timeout_s);
  std::uint64_t got = 0;
  bool ok = true;
  for (std::uint32_t idle = 0;;) {
    const std::uint64_t n = consume_some(q, b, ok);
    got += n;
    if (!ok) {
      abort = true;
      break;
    }
    if (n != 0) continue;
    // acquire: every producer's last push happens-before; one more look drains what it left.
    if (done.load(std::memory_order_acquire) == producers) {
      const std::uint64_t rest = consume_some(q, b, ok);
      got += rest;
      if (rest == 0 || !ok) break;
      continue;
    }
    if (steady::now() > deadline) {
      abort = true;
      ok = false;
      b.err = "timed out";
      break;
    }
    cpu_relax();
    if (g_yield_while_spinning || ++idle % 64 == 0) std::this_thread::yield();
  }
  const auto t1 = steady::now();
  s.ok = ok;
  s.err = b.err;
  s.secs = std::chrono::duration<double>(t1 - t0).count();
  s.units = got;
  s.v = {static_cast<double>(got) / s.secs / 1e6};
  switches.fetch_add(involuntary_switches() - sw0);
  });
  consumer.join();
  for (auto& t : th) t.join();
  s.preempted = switches.load();
  return s;
}

// One message per call on both sides.
template <class T, template <class> class Q>
sample single_run(double target, int producers) {
  Q<T> q(producers);
  const T tmpl = message_template<T>();
  return mp_run<T>(
      target, producers,
      [](Q<T>& q, books& b, bool& ok) -> std::uint64_t {
        T m{};
        std::uint64_t n = 0;
        for (; n < 256 && q.try_pop(m); ++n) {
          if (!b.take(m)) {
            ok = false;
            break;
          }
        }
        return n;
      },
      [&tmpl](typename Q<T>::producer& h, std::uint64_t p, std::uint64_t i) -> std::uint64_t {
        T m = tmpl;
        stamp(m, p << 40 | i);
        return h.try_push(m) ? 1 : 0;
      },
      q);
}

constexpr std::size_t batch = 64;

// ringwire: reserve(64) + commit; consume_up_to(256).
template <class T>
sample rw_batch_run(double target, int producers) {
  rw_mpsc<T> q(producers);
  const T tmpl = message_template<T>();
  return mp_run<T>(
      target, producers,
      [](rw_mpsc<T>& q, books& b, bool& ok) -> std::uint64_t {
        return q.ch.second.consume_up_to(256, [&](const T& m) {
          if (ok && !b.take(m)) ok = false;
        });
      },
      [&tmpl](typename rw_mpsc<T>::producer& h, std::uint64_t p, std::uint64_t i) -> std::uint64_t {
        auto r = h.tx.reserve(batch);
        const auto span = r.span();
        for (std::size_t k = 0; k < span.size(); ++k) {
          span[k] = tmpl;
          stamp(span[k], p << 40 | (i + k));
        }
        r.commit(span.size());
        return span.size();
      },
      q);
}

// moodycamel: enqueue_bulk(token, 64) (all or nothing: try_enqueue_bulk); try_dequeue_bulk(256).
template <class T>
sample mc_batch_run(double target, int producers) {
  moodycamel_q<T> q(producers);
  const T tmpl = message_template<T>();
  return mp_run<T>(
      target, producers,
      [](moodycamel_q<T>& q, books& b, bool& ok) -> std::uint64_t {
        T buf[256];
        const std::size_t n = q.q.try_dequeue_bulk(q.ctok, buf, 256);
        for (std::size_t k = 0; k < n && ok; ++k) ok = b.take(buf[k]);
        return n;
      },
      [&tmpl](typename moodycamel_q<T>::producer& h, std::uint64_t p, std::uint64_t i) -> std::uint64_t {
        T buf[batch];
        for (std::size_t k = 0; k < batch; ++k) {
          buf[k] = tmpl;
          stamp(buf[k], p << 40 | (i + k));
        }
        return h.q->try_enqueue_bulk(*h.tok, buf, batch) ? batch : 0;
      },
      q);
}

std::string heading_for(int producers) {
  const bool over = static_cast<std::size_t>(producers) + 1 > g_cpus.size();
  return std::to_string(producers) + (producers == 1 ? " producer" : " producers") + " -> 1 consumer" +
         (over ? " (OVERSUBSCRIBED: " + std::to_string(producers + 1) + " threads on " +
                     std::to_string(g_cpus.size()) + " CPUs, not pinned)"
               : " (pinned, one CPU each)");
}

struct ratio_line {
  std::string table;
  double ours = 0;
  double best_peer = 0;
  std::string best_name;
};
std::vector<ratio_line> g_ratios;

void print_rows(const std::string& heading, const std::vector<row>& rows, const std::string& ours) {
  std::ostringstream o;
  o << "\n### " << heading << "\n\n" << reps_note() << "; Mmsg/s received (every message verified).\n\n"
    << "| implementation | Mmsg/s | vs " << ours << " | preempted |\n|---|---:|---:|---:|\n";
  const double base = med(find_row(rows, ours));
  ratio_line rl{heading, base, 0, ""};
  for (auto& r : rows) {
    const double m = med(&r);
    if (r.who == role::peer && m > rl.best_peer) rl.best_peer = m, rl.best_name = r.name;
    o << "| " << (r.who == role::ours ? "**" + r.name + "**" : r.name) << " | " << med_range(summarize(r.results[0]))
      << " | " << (base > 0 ? ratio(m / base) : "—") << " | " << preempted(r) << " |\n";
  }
  if (rl.best_peer > 0) {
    o << "\nringwire / best peer (" << rl.best_name << "): **" << ratio(base / rl.best_peer) << "**\n";
    g_ratios.push_back(rl);
  }
  out(o.str());
}

template <class T>
void single_table(int producers) {
  const std::string table = "single " + payload_name(sizeof(T)) + ", " + std::to_string(producers) + "P";
  std::vector<row> rows;
  auto add = [&](const std::string& name, role who, sample (*fn)(double, int)) {
    rows.push_back({name, who, [fn, producers](double t) { return fn(t, producers); }, {}, {}, 0});
  };
  add(rw_mpsc<T>::name, role::ours, &single_run<T, rw_mpsc>);
  if (static_cast<std::size_t>(producers) <= inline_lanes)
    add(rw_mpsc_inline<T>::name, role::ours, &single_run<T, rw_mpsc_inline>);
  add(moodycamel_q<T>::name, role::peer, &single_run<T, moodycamel_q>);
  add(boost_q<T>::name, role::peer, &single_run<T, boost_q>);
  add(atomic_q<T>::name, role::peer, &single_run<T, atomic_q>);
  add(xenium_q<T>::name, role::peer, &single_run<T, xenium_q>);
  add(tbb_q<T>::name, role::peer, &single_run<T, tbb_q>);
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 1);
  print_rows("Throughput, " + payload_name(sizeof(T)) + ", one message per call: " + heading_for(producers), rows,
             rw_mpsc<T>::name);
}

template <class T>
void batch_table(int producers) {
  const std::string table = "batch " + payload_name(sizeof(T)) + ", " + std::to_string(producers) + "P";
  std::vector<row> rows;
  rows.push_back({"ringwire mpsc reserve(64)+commit / consume_up_to(256)", role::ours,
                  [producers](double t) { return rw_batch_run<T>(t, producers); }, {}, {}, 0});
  rows.push_back({"moodycamel try_enqueue_bulk(64) / try_dequeue_bulk(256), tokens", role::peer,
                  [producers](double t) { return mc_batch_run<T>(t, producers); }, {}, {}, 0});
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 1);
  print_rows("Batch throughput, " + payload_name(sizeof(T)) + ": " + heading_for(producers), rows, rows[0].name);
}

void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: ringwire_mpsc_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                           [--producers 1,2,4,8] [--label TEXT]\n"
               "  --smoke          every row once with few messages, verifying only (CTest)\n"
               "  --quick          5 reps, shorter runs\n"
               "  --producers L    producer counts, comma-separated (default 1,2,4)\n");
  std::exit(code);
}

// Takes --producers L / --producers=L out of argv (configure() knows only single words).
void take_producers(int& argc, char** argv) {
  int w = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string list;
    if (a == "--producers") {
      if (i + 1 >= argc) usage(2);
      list = argv[++i];
    } else if (a.rfind("--producers=", 0) == 0) {
      list = a.substr(std::strlen("--producers="));
    } else {
      argv[w++] = argv[i];
      continue;
    }
    g_producers.clear();
    std::stringstream in(list);
    for (std::string n; std::getline(in, n, ',');) {
      const int v = std::atoi(n.c_str());
      if (v < 1 || v > 64) usage(2);
      g_producers.push_back(v);
    }
    if (g_producers.empty()) usage(2);
  }
  argc = w;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  c.prog = "ringwire_mpsc_bench";
  g_cpus = allowed_cpus();
  std::string producers_arg;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--producers") == 0 && i + 1 < argc) producers_arg = std::string(" --producers ") + argv[i + 1];
    if (std::strncmp(argv[i], "--producers=", 12) == 0) producers_arg = std::string(" ") + argv[i];
  }
  take_producers(argc, argv);
  configure(argc, argv, usage);
  c.command += producers_arg;
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 100);

  std::ostringstream o;
  o << "\n## ringwire MPSC lanes benchmarks" << (c.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "")
    << "\n\n";
  header_start(o);
  header_system(o, "");
  o << "\n- queues hold " << per_producer_cap << " messages per producer; producer counts:";
  for (int p : g_producers) o << " " << p;
  o << "\n";
  out(o.str());

  for (int p : g_producers) single_table<msg<8>>(p);
  for (int p : g_producers) single_table<msg<64>>(p);
  for (int p : g_producers) batch_table<msg<8>>(p);

  std::ostringstream s;
  s << "\n### Summary: ringwire MPSC lanes / best peer (medians, same run)\n\n| table | ratio | best peer |\n|---|---:|---|\n";
  for (auto& r : g_ratios) s << "| " << r.table << " | " << ratio(r.ours / r.best_peer) << " | " << r.best_name << " |\n";
  s << "\nTarget: >= 2.00x the best peer at 2 producers (single-message tables).\n";
  out(s.str());
  return write_markdown();
}
