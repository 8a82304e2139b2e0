// ringwire_mpmc_bench -- ringwire's MPMC queue (ringwire/mpmc.hpp) beside the MPMC queues
// Debian packages, measured by the rules of /work/shared/BENCHMARKING.md:
//
//   (1) 2 producers x 2 consumers, 8 B and 64 B payloads, capacity 1024;
//   (2) 1 -> 1, 8 B and 64 B, and 2 -> 1, 8 B, capacity 1024.
//
// Peers: atomic_queue (AtomicQueue2, MPMC mode), boost::lockfree::queue (fixed capacity),
// xenium::vyukov_bounded_queue, tbb::concurrent_bounded_queue, all bounded, and moodycamel
// ConcurrentQueue (try_enqueue into its preallocated blocks: it never allocates here, but
// it is per-producer FIFO only, not one global order, and its capacity rounds up to
// whole blocks; shown, not counted as a bounded MPMC peer). Every row goes through the same
// loop: try_push / try_pop, a pause per failed attempt and a sched_yield every 64 (the
// threads outnumber the CPUs: a pure spin would burn the time slice its peer needs).
// ringwire also gets a row with its own blocking push/pop (spin, then park), and one with
// the cell layout (mpmc/layout.hpp) that its default does not pick for the payload.
//
// Threads are not pinned: on a 2-CPU machine 2x2 and 2->1 are OVERSUBSCRIBED (the table
// headings say so); their numbers measure the queues under preemption as much as the
// queues. Every run is verified: each consumer checks every message's check word; at the
// end, per producer, the count and the sum of the sequence numbers received by all
// consumers together must equal what was sent (no loss, no duplicate). Each consumer also
// checks that each producer's sequence numbers reach it in increasing order (what one
// global FIFO order implies): a ringwire row fails on a violation; a peer's are counted and
// reported in the "out of order" column (atomic_queue's per-slot state has no lap number,
// so under preemption the consumer of a later lap can take an earlier lap's element). A
// run that fails exits 1.
//
//   ringwire_mpmc_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]
//                       [--label TEXT]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters.hpp"
#include "harness.hpp"
#include "report.hpp"
#include "ringwire/mpmc.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <boost/lockfree/queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#pragma GCC diagnostic pop

namespace bench {
namespace {

using ringwire::status;
constexpr std::size_t cap = 1024;

// ---- adapters (the interface of adapters.hpp, safe from any number of threads) -------------

// `Cells` automatic: the layout a user gets (default_cell_layout); the other one gets a row
// of its own (mpmc_table), so every run measures both.
template <ringwire::mpmc::cell_layout Cells>
struct ringwire_cells {
  template <class T, std::size_t C>
  struct alignas(128) q_t {
    bool try_push(const T& v) { return q.try_push(v) == status::ok; }
    bool try_pop(T& out) { return q.try_pop(out) == status::ok; }
    ringwire::mpmc::queue<T> q{C, ringwire::mpmc::options{.cells = Cells}};
  };
};
template <class T, std::size_t C>
using ringwire_mpmc_q = ringwire_cells<ringwire::mpmc::cell_layout::automatic>::q_t<T, C>;

// AtomicQueue2 <T, SIZE, MINIMIZE_CONTENTION, MAXIMIZE_THROUGHPUT, TOTAL_ORDER, SPSC=false>:
// the MPMC mode (CAS on head/tail, per-slot state byte).
template <class T, std::size_t C>
struct alignas(128) atomic_queue_mpmc_q {
  static constexpr const char* name = "atomic_queue (MPMC)";
  bool try_push(const T& v) { return q.try_push(v); }
  bool try_pop(T& out) { return q.try_pop(out); }
  atomic_queue::AtomicQueue2<T, static_cast<unsigned>(C), true, true, false, false> q;
};

template <class T, std::size_t C>
struct alignas(128) boost_mpmc_q {
  static constexpr const char* name = "boost lockfree::queue";
  bool try_push(const T& v) { return q.bounded_push(v); }
  bool try_pop(T& out) { return q.pop(out); }
  boost::lockfree::queue<T, boost::lockfree::capacity<C>> q;
};

template <class T, std::size_t C>
struct alignas(128) moodycamel_q {
  static constexpr const char* name = "moodycamel ConcurrentQueue (unbounded design)";
  bool try_push(const T& v) { return q.try_enqueue(v); }
  bool try_pop(T& out) { return q.try_dequeue(out); }
  moodycamel::ConcurrentQueue<T> q{C};
};

// ---- one run --------------------------------------------------------------------------------

constexpr int seq_bits = 40;
constexpr std::uint64_t seq_mask = (std::uint64_t{1} << seq_bits) - 1;

// What one consumer saw, on its own cache lines.
struct alignas(128) consumer_tally {
  std::atomic<std::uint64_t> popped{0};  // published for the others' termination check
  std::vector<std::uint64_t> last, count, sum;
  std::uint64_t reorders = 0;  // a producer's message arriving after a later one of its own
  std::string err;
};

// A failed attempt: pause, and yield every 64 (more threads than CPUs).
struct patience {
  std::uint32_t n = 0;
  void operator()() {
    cpu_relax();
    if ((++n & 63) == 0) sched_yield();
  }
};

// Q: an adapter. Blocking: ringwire's own push/pop (the adapter's q), ended by close().
// strict: a reordering fails the run (ringwire promises one global FIFO order); otherwise
// it is counted and reported (a peer that does not promise it under preemption).
template <class Q, class T, bool Blocking = false>
sample mpmc_run(double target, int producers, int consumers, bool strict) {
  auto q = std::make_unique<Q>();
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<bool> producers_done{false};
  std::atomic<bool> abort{false};
  std::vector<std::uint64_t> sent(static_cast<std::size_t>(producers), 0);
  std::vector<consumer_tally> tallies(static_cast<std::size_t>(consumers));
  std::atomic<long> switches{0};
  const auto deadline = deadline_from_now();
  std::vector<std::thread> th;

  for (int p = 0; p < producers; ++p) {
    th.emplace_back([&, p] {
      const long sw0 = involuntary_switches();
      T msg = message_template<T>();
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      const auto start = steady::now();
      std::uint64_t i = 0;
      for (;;) {
        if ((i & 255) == 0 && steady::now() - start >= std::chrono::duration<double>(target)) break;
        ++i;
        stamp(msg, static_cast<std::uint64_t>(p) << seq_bits | i);
        if constexpr (Blocking) {
          if (q->q.push(msg) != status::ok) break;
        } else {
          patience wait;
          while (!q->try_push(msg)) {
            wait();
            if ((wait.n & 4095) == 0 && (abort.load() || steady::now() > deadline)) {
              abort = true;
              break;
            }
          }
        }
        if (abort.load()) break;
      }
      sent[static_cast<std::size_t>(p)] = i;
      switches.fetch_add(involuntary_switches() - sw0);
    });
  }
  const std::size_t np = static_cast<std::size_t>(producers);
  for (int c = 0; c < consumers; ++c) {
    th.emplace_back([&, c] {
      const long sw0 = involuntary_switches();
      consumer_tally& me = tallies[static_cast<std::size_t>(c)];
      me.last.assign(np, 0);
      me.count.assign(np, 0);
      me.sum.assign(np, 0);
      T m{};
      std::uint64_t popped = 0;
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      patience wait;
      auto take = [&](const T& v) {
        const std::uint64_t p = v.w[0] >> seq_bits, i = v.w[0] & seq_mask;
        if (p >= np || i == me.last[p] || (strict && i < me.last[p]) || !verify(v, v.w[0])) {
          me.err = "consumer " + std::to_string(c) + ": producer " + std::to_string(p) + " message " +
                   std::to_string(i) + " after " + std::to_string(p < np ? me.last[p] : 0) + " (or a bad check word)";
          abort = true;
          return false;
        }
        if (i < me.last[p]) {
          ++me.reorders;
        } else {
          me.last[p] = i;
        }
        ++me.count[p];
        me.sum[p] += i;
        // relaxed: read only by the termination check below, after producers_done.
        me.popped.store(++popped, std::memory_order_relaxed);
        return true;
      };
      for (;;) {
        if constexpr (Blocking) {
          auto r = q->q.pop();
          if (!r || !take(*r)) break;
          continue;
        } else {
          if (q->try_pop(m)) {
            if (!take(m)) break;
            continue;
          }
          wait();
          if (producers_done.load()) {
            std::uint64_t total_sent = 0, total_popped = 0;
            for (auto s : sent) total_sent += s;
            for (auto& t : tallies) total_popped += t.popped.load(std::memory_order_relaxed);
            if (total_popped >= total_sent) break;
          }
          if ((wait.n & 4095) == 0 && (abort.load() || steady::now() > deadline)) {
            abort = true;
            break;
          }
        }
      }
      switches.fetch_add(involuntary_switches() - sw0);
    });
  }
  while (ready.load() < producers + consumers) std::this_thread::yield();
  const auto t0 = steady::now();
  go = true;
  for (std::size_t k = 0; k < np; ++k) th[k].join();
  producers_done = true;
  if constexpr (Blocking) q->q.close();  // consumers drain, then see closed
  for (std::size_t k = np; k < th.size(); ++k) th[k].join();
  const auto t1 = steady::now();

  sample s;
  std::uint64_t total = 0;
  std::uint64_t reorders = 0;
  for (auto& t : tallies) reorders += t.reorders;
  for (std::size_t p = 0; p < np; ++p) {
    std::uint64_t n = 0, sum = 0;
    for (auto& t : tallies) {
      if (!t.err.empty() && s.ok) s.ok = false, s.err = t.err;
      n += t.count[p];
      sum += t.sum[p];
    }
    const std::uint64_t want = sent[p];
    if (s.ok && (n != want || sum != want * (want + 1) / 2))
      s.ok = false, s.err = "producer " + std::to_string(p) + ": sent " + std::to_string(want) + ", received " +
                            std::to_string(n) + " (sequence sum " + std::to_string(sum) + ")";
    total += want;
  }
  if (s.ok && abort.load()) s.ok = false, s.err = "aborted (stall or timeout)";
  s.secs = std::chrono::duration<double>(t1 - t0).count();
  s.units = total;
  s.v = {static_cast<double>(total) / s.secs / 1e6, static_cast<double>(reorders)};
  s.preempted = switches.load();
  return s;
}

template <template <class, std::size_t> class Q, class T, bool Blocking = false>
row mpmc_row(const std::string& name, role who, int producers, int consumers) {
  row r;
  r.name = name;
  r.who = who;
  const bool strict = who == role::ours;
  r.run = [producers, consumers, strict](double t) {
    return mpmc_run<Q<T, cap>, T, Blocking>(t, producers, consumers, strict);
  };
  return r;
}

// ---- tables ----------------------------------------------------------------------------------

const char* const best_bounded[] = {"atomic_queue (MPMC)", "boost lockfree::queue", "xenium vyukov (MPMC)",
                                    "tbb concurrent_bounded_queue"};

template <class T>
void mpmc_table(int producers, int consumers, bool blocking_row) {
  const std::string shape = std::to_string(producers) + "x" + std::to_string(consumers);
  const std::string table = "mpmc " + shape + " " + payload_name(sizeof(T));
  std::vector<row> rows;
  rows.push_back(mpmc_row<ringwire_mpmc_q, T>("ringwire mpmc", role::ours, producers, consumers));
  if (blocking_row)
    rows.push_back(mpmc_row<ringwire_mpmc_q, T, true>("ringwire mpmc push/pop (park)", role::ours, producers, consumers));
  using ringwire::mpmc::cell_layout;
  if (ringwire::mpmc::default_cell_layout(sizeof(T)) == cell_layout::stamp_array)
    rows.push_back(mpmc_row<ringwire_cells<cell_layout::stamp_in_cell>::q_t, T>("ringwire mpmc (stamp in cell)",
                                                                                  role::ours, producers, consumers));
  else
    rows.push_back(mpmc_row<ringwire_cells<cell_layout::stamp_array>::q_t, T>("ringwire mpmc (stamp array)",
                                                                                role::ours, producers, consumers));
  rows.push_back(mpmc_row<atomic_queue_mpmc_q, T>("atomic_queue (MPMC)", role::peer, producers, consumers));
  rows.push_back(mpmc_row<boost_mpmc_q, T>("boost lockfree::queue", role::peer, producers, consumers));
  rows.push_back(mpmc_row<xenium_q, T>("xenium vyukov (MPMC)", role::peer, producers, consumers));
  rows.push_back(mpmc_row<tbb_q, T>("tbb concurrent_bounded_queue", role::peer, producers, consumers));
  rows.push_back(mpmc_row<moodycamel_q, T>("moodycamel ConcurrentQueue (unbounded design)", role::reference, producers,
                                           consumers));
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 2);

  const int threads = producers + consumers;
  const unsigned ncpu = std::thread::hardware_concurrency();
  std::ostringstream o;
  o << "\n### MPMC " << producers << " producer" << (producers == 1 ? "" : "s") << " × " << consumers << " consumer"
    << (consumers == 1 ? "" : "s") << " — payload " << payload_name(sizeof(T)) << ", capacity " << cap
    << ", threads NOT pinned"
    << (static_cast<unsigned>(threads) > ncpu
            ? " — OVERSUBSCRIBED: " + std::to_string(threads) + " threads on " + std::to_string(ncpu) + " CPUs"
            : "")
    << "\n\nMillion messages/s through the queue, all producers together (higher is better), " << reps_note()
    << ". try_push / try_pop with pause, sched_yield every 64 failed attempts, for every row; every message verified "
    << "(no loss, no duplicate). \"out of order\": messages a consumer received after a later message of the same "
    << "producer, summed over the reps (a FIFO queue has none; ringwire's rows fail on one). \"ringwire mpmc\" runs "
    << "the default cell layout for this payload ("
    << (ringwire::mpmc::default_cell_layout(sizeof(T)) == ringwire::mpmc::cell_layout::stamp_array ? "stamp array"
                                                                                                : "stamp in cell")
    << "); the row named after the other layout runs that one.\n\n"
    << "| implementation | Mmsg/s | vs ringwire mpmc | out of order | preempted |\n|---|---:|---:|---:|---:|\n";
  const double ours = med(find_row(rows, "ringwire mpmc"));
  double best = 0;
  std::string best_name = "—";
  for (const char* n : best_bounded) {
    const double m = med(find_row(rows, n));
    if (m > best) best = m, best_name = n;
  }
  for (auto& r : rows) {
    o << "| " << (r.who == role::ours ? "**" + r.name + "**" : r.name) << " | " << med_range(summarize(r.results[0]))
      << " | " << (ours > 0 ? ratio(med(&r) / ours) : "—") << " | "
      << static_cast<std::uint64_t>(std::accumulate(r.results[1].begin(), r.results[1].end(), 0.0)) << " | "
      << preempted(r) << " |\n";
  }
  if (ours > 0 && best > 0)
    o << "\nringwire mpmc (try_*) / best bounded MPMC peer (" << best_name << "): **" << ratio(ours / best)
      << "** (medians of this run; target ≥ 1.00)\n";
  out(o.str());
}

void print_header() {
  std::ostringstream o;
  o << "\n## ringwire MPMC benchmarks" << (g_cfg.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "")
    << "\n\n";
  header_start(o);
  o << "- threads not pinned: the scheduler places them (each table's heading says when they outnumber the CPUs); "
    << "\"preempted\" counts reps with any involuntary switch, which includes the harness's own sched_yield calls\n";
  header_system(o, "");
  o << "\n";
  o << "- method: " << g_cfg.reps << " repetitions, rows interleaved; one unreported warm-up round first; producers "
    << "run ~" << num(g_cfg.target_s) << " s, then the consumers drain; every run verified (check word, per-producer "
    << "order at each consumer, per-producer count and sequence sum over all consumers)\n";
  out(o.str());
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: ringwire_mpmc_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                           [--label TEXT]\n"
               "  --quick      5 reps, 0.1 s runs\n"
               "  (default)    7 reps, 0.2 s runs (about 2 minutes)\n"
               "  --smoke      every row once with few messages, verifying only (CTest)\n"
               "  --reps N     repetitions per row (at least 5 to report)\n"
               "  --filter S   only rows whose \"<table> <row>\" contains S\n"
               "               (tables: mpmc 2x2 8 B, mpmc 2x2 64 B, mpmc 1x1 8 B, mpmc 1x1 64 B,\n"
               "                mpmc 2x1 8 B)\n"
               "  --markdown F also write the report to F\n"
               "  --label T    a line for the header\n");
  std::exit(rc);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  c.prog = "ringwire_mpmc_bench";
  configure(argc, argv, usage);
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 200);
  const auto t0 = steady::now();
  print_header();
  mpmc_table<msg<8>>(2, 2, true);
  mpmc_table<msg<64>>(2, 2, true);
  mpmc_table<msg<8>>(1, 1, false);
  mpmc_table<msg<64>>(1, 1, false);
  mpmc_table<msg<8>>(2, 1, false);
  out("\n_total MPMC benchmark time: " + num(std::chrono::duration<double>(steady::now() - t0).count()) + " s_\n");
  if (g_runs > 0 && g_preempted_runs * 10 > g_runs)
    out("\n**Note: " + std::to_string(g_preempted_runs) + " of " + std::to_string(g_runs) +
        " runs had a thread involuntarily switched out** (expected when oversubscribed: compare ratios, not "
        "absolute numbers).\n");
  return write_markdown();
}
