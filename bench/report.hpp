// bench/report.hpp -- what ringwire_bench and ringwire_broadcast_bench share around the
// measurements: the configuration and command line, the report output (stdout + --markdown),
// rows and the interleaved table runner, the round-trip latency run and its cache-line floor,
// the latency table body and the common lines of the machine header.
//
// Each benchmark is one translation unit that includes this header once; the globals below
// are that program's state.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "ringwire/detail/defs.hpp"  // RINGWIRE_CHECKS

#ifndef RINGWIRE_BENCH_FLAGS
#define RINGWIRE_BENCH_FLAGS "unknown"
#endif

namespace bench {

// "message #i: expected ...": the failure text of a message that carries the wrong sequence.
inline std::string seq_error(std::uint64_t i, std::uint64_t got) {
  std::ostringstream o;
  o << "message #" << i << ": expected sequence " << i << ", got " << got << " (or a bad check word): lost, duplicated or reordered";
  return o.str();
}

// ---- configuration ----------------------------------------------------------------------------
struct config {
  std::string prog;  // the program's name, for messages on stderr
  bool quick = false;
  bool smoke = false;
  int reps = 7;
  std::string filter;
  std::string markdown;
  std::string label;
  std::string command;
  cpu_pair cpus;
  double target_s = 0.2;        // wall time of one timed run
  double run_timeout_s = 15.0;  // a run that takes longer is a failure (a stall)
  double tsc_per_ns = 1.0;
  std::uint64_t lat_warm = 10000;  // round trips not recorded at the start of a latency run
  std::vector<std::size_t> caps{1024, 65536};  // ringwire_bench only
  std::vector<std::size_t> batches{64, 1024};  // ringwire_bench only; 1024 only where capacity >= 4096
  std::string aborted_note = "run aborted (stall or timeout)";  // a failed run that gave no reason
  // The failure text when a latency echo carries the wrong sequence: (round trip, sequence seen).
  std::function<std::string(std::uint64_t, std::uint64_t)> echo_error = seq_error;
};

inline config g_cfg;
inline std::string g_md;  // everything printed to stdout, for --markdown
inline int g_runs = 0, g_preempted_runs = 0;  // over the whole report

inline void out(const std::string& s) {
  std::fputs(s.c_str(), stdout);
  std::fflush(stdout);
  g_md += s;
}

inline void progress(const std::string& s) {
  std::fprintf(stderr, "%s\n", s.c_str());
  std::fflush(stderr);
}

[[noreturn]] inline void fail_run(const std::string& table, const std::string& row, const std::string& why) {
  const std::string m = "\n**FAILED** [" + table + "] " + row + ": " + why + "\n";
  std::fputs(m.c_str(), stdout);
  std::fprintf(stderr, "%s: FAILED [%s] %s: %s\n", g_cfg.prog.c_str(), table.c_str(), row.c_str(), why.c_str());
  if (!g_cfg.markdown.empty()) {
    std::ofstream f(g_cfg.markdown);
    f << g_md << m;
  }
  std::exit(1);
}

inline steady::time_point deadline_from_now() {
  return steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(g_cfg.run_timeout_s));
}

inline std::string payload_name(std::size_t b) { return b >= 1024 ? std::to_string(b / 1024) + " KiB" : std::to_string(b) + " B"; }

// The options both programs take; `extra` may claim one more (it returns true when it did).
// Then the --smoke / --quick presets, --reps, and the two CPUs to pin to.
inline void configure(int argc, char** argv, void (*usage)(int), const std::function<bool(const std::string&)>& extra = {}) {
  auto& c = g_cfg;
  int reps = -1;
  c.command = c.prog;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    c.command += " " + a;
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      c.command += std::string(" ") + argv[i + 1];
      return argv[++i];
    };
    if (a == "--quick") c.quick = true;
    else if (a == "--smoke") c.smoke = true;
    else if (a == "--reps") reps = std::atoi(value().c_str());
    else if (a == "--filter") c.filter = value();
    else if (a == "--markdown") c.markdown = value();
    else if (a == "--label") c.label = value();
    else if (a == "--cpus") {
      const std::string v = value();
      if (std::sscanf(v.c_str(), "%d,%d", &c.cpus.a, &c.cpus.b) != 2) usage(2);
    } else if (a == "--help" || a == "-h") usage(0);
    else if (extra && extra(a)) continue;
    else {
      std::fprintf(stderr, "unknown argument: %s\n", a.c_str());
      usage(2);
    }
  }
  if (c.smoke) {
    c.reps = 1;
    c.caps = {1024};
    c.batches = {64};
    c.target_s = 0.005;
    c.lat_warm = 200;
    c.run_timeout_s = 8;
    g_yield_while_spinning = true;
  } else if (c.quick) {
    c.reps = 5;
    c.caps = {1024};
    c.batches = {64};
    c.target_s = 0.1;
  }
  if (reps > 0) c.reps = reps;
  if (!c.smoke && c.reps < 5)
    std::fprintf(stderr, "%s: note: fewer than 5 reps (%d); BENCHMARKING.md asks for >= 5\n", c.prog.c_str(), c.reps);
  if (!c.cpus.pinned()) {
    const auto cpus = allowed_cpus();
    if (cpus.size() >= 2) c.cpus = {cpus[0], cpus[1]};
    else std::fprintf(stderr, "%s: fewer than two CPUs available: threads are not pinned\n", c.prog.c_str());
  }
}

// --markdown: the whole report to the file. Returns the program's exit status.
inline int write_markdown(std::ios::openmode mode = std::ios::trunc) {
  if (g_cfg.markdown.empty()) return 0;
  std::ofstream f(g_cfg.markdown, mode);
  f << g_md;
  if (!f) {
    std::fprintf(stderr, "%s: cannot write %s\n", g_cfg.prog.c_str(), g_cfg.markdown.c_str());
    return 1;
  }
  return 0;
}

// ---- one sample of one row ----------------------------------------------------------------------
struct sample {
  bool ok = true;
  std::string err;
  double secs = 0;          // timed part only
  std::uint64_t units = 0;  // messages (throughput) or round trips (latency) timed
  std::vector<double> v;    // the row's metrics, e.g. {Mmsg/s} or {p50, p99, p99.9, max} in ns
  long preempted = 0;       // involuntary context switches of the run's threads
};

enum class role { ours, peer, reference };

struct row {
  std::string name;
  role who;
  std::function<sample(double)> run;         // argument: seconds to time (warm-up is extra)
  std::vector<std::vector<double>> results;  // [metric][rep]
  std::vector<std::uint64_t> units;          // units timed per rep
  int preempted_runs = 0;                    // reps whose threads were preempted
};

inline std::string describe_failure(const sample& s) { return s.err.empty() ? g_cfg.aborted_note : s.err; }

// ---- running a table ---------------------------------------------------------------------------------
inline bool wanted(const std::string& table, const std::string& name) {
  if (g_cfg.filter.empty()) return true;
  return (table + " " + name).find(g_cfg.filter) != std::string::npos;
}

inline std::vector<row> filtered(std::vector<row> rows, const std::string& table) {
  std::vector<row> keep;
  for (auto& r : rows)
    if (wanted(table, r.name)) keep.push_back(std::move(r));
  return keep;
}

// One warm-up round (every row once, half the time, not reported: first-touch of the
// allocator, code and TLBs, and a first verification), then the reps interleaved:
// A B C ... A B C ...
inline void run_table(const std::string& table, std::vector<row>& rows, std::size_t metrics) {
  if (!g_cfg.smoke) progress("[" + table + "] warm-up round");
  for (auto& r : rows) {
    if (g_cfg.smoke) break;  // one verified run per row is all the smoke test needs
    const sample s = r.run(g_cfg.target_s / 2);
    if (!s.ok) fail_run(table, r.name, "warm-up run: " + describe_failure(s));
  }
  for (auto& r : rows) r.results.assign(metrics, {});
  for (int rep = 0; rep < g_cfg.reps; ++rep) {
    progress("[" + table + "] rep " + std::to_string(rep + 1) + "/" + std::to_string(g_cfg.reps));
    for (auto& r : rows) {
      const sample s = r.run(g_cfg.target_s);
      if (!s.ok) fail_run(table, r.name, "rep " + std::to_string(rep + 1) + ": " + describe_failure(s));
      for (std::size_t k = 0; k < metrics && k < s.v.size(); ++k) r.results[k].push_back(s.v[k]);
      r.units.push_back(s.units);
      ++g_runs;
      if (s.preempted > 0) ++r.preempted_runs, ++g_preempted_runs;
    }
  }
}

// "k/N": reps in which a pinned thread of the run was involuntarily switched out (another
// process wanted the CPU). Numbers from such runs measure the machine's load.
inline std::string preempted(const row& r) {
  return std::to_string(r.preempted_runs) + "/" + std::to_string(r.units.size());
}

inline std::string reps_note() {
  return std::to_string(g_cfg.reps) + " reps interleaved, median [min–max]";
}

inline const row* find_row(const std::vector<row>& rows, const std::string& name) {
  for (auto& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}

// Median over the reps of one metric of a row (0 for no row).
inline double med(const row* r, std::size_t metric = 0) { return r ? summarize(r->results[metric]).median : 0; }

// ---- latency --------------------------------------------------------------------------------------
// Ping stamps message i, takes rdtsc, pushes it to queue A, spins until pong's echo arrives
// on queue B, takes rdtsc again and records the difference. The first lat_warm round trips
// are not recorded; after `target` seconds ping sends a sentinel that ends pong.
using msg8 = msg<8>;
constexpr std::size_t lat_cap = 1024;
constexpr std::uint64_t sentinel = UINT64_MAX;

inline sample latency_sample(const histogram& h, double secs) {
  sample s;
  const double k = 1.0 / g_cfg.tsc_per_ns;
  s.secs = secs;
  s.units = h.total();
  s.v = {h.quantile(0.50) * k, h.quantile(0.99) * k, h.quantile(0.999) * k, static_cast<double>(h.max()) * k};
  return s;
}

// true once `target` seconds have passed since t0 (checked every 256 round trips).
inline bool time_up(std::uint64_t i, steady::time_point t0, double target) {
  return i > g_cfg.lat_warm && (i & 255) == 0 && steady::now() - t0 >= std::chrono::duration<double>(target);
}

// Q: the adapter interface of adapters.hpp (try_push / try_pop), default constructible.
template <class Q>
sample latency_run(double target) {
  auto qa = std::make_unique<Q>();  // ping -> pong
  auto qb = std::make_unique<Q>();  // pong -> ping
  run_control rc;
  rc.deadline = deadline_from_now();
  histogram h;
  sample s;
  double secs = 0;
  std::string pong_err;
  auto stall = [&](std::string why) {
    if (s.ok) {
      s.ok = false;
      s.err = std::move(why);
    }
  };
  std::thread ping([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    msg8 m{}, r{};
    steady::time_point t0{};
    for (std::uint64_t i = 0;; ++i) {
      if (i == g_cfg.lat_warm) t0 = steady::now();
      if (time_up(i, t0, target)) break;
      stamp(m, i);
      const std::uint64_t a = ticks();
      while (!qa->try_push(m))
        if (sp()) return stall("ping: stalled pushing round trip #" + std::to_string(i));
      while (!qb->try_pop(r))
        if (sp()) return stall("ping: stalled waiting for the echo of round trip #" + std::to_string(i) + " (lost message?)");
      const std::uint64_t b = ticks();
      if (!verify(r, i)) {
        s.ok = false;
        s.err = g_cfg.echo_error(i, r.w[0]);
        rc.abort.store(true);
        return;
      }
      if (i >= g_cfg.lat_warm) h.add(b - a);
    }
    secs = std::chrono::duration<double>(steady::now() - t0).count();
    stamp(m, sentinel);
    while (!qa->try_push(m))
      if (sp()) return stall("ping: stalled pushing the final sentinel");
  });
  std::thread pong([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    msg8 r{};
    for (std::uint64_t i = 0;; ++i) {
      while (!qa->try_pop(r)) {
        if (sp()) {
          pong_err = "pong: stalled waiting for round trip #" + std::to_string(i);
          return;
        }
      }
      if (r.w[0] == sentinel) break;
      while (!qb->try_push(r)) {
        if (sp()) {
          pong_err = "pong: stalled echoing round trip #" + std::to_string(i);
          return;
        }
      }
    }
  });
  ping.join();
  pong.join();
  if (!s.ok) {
    if (!pong_err.empty()) s.err += "; " + pong_err;
    return s;
  }
  if (rc.abort.load()) {
    s.ok = false;
    s.err = "run aborted: " + (pong_err.empty() ? std::string("deadline passed") : pong_err);
    return s;
  }
  sample o = latency_sample(h, secs);
  o.preempted = rc.preempted.load();
  return o;
}

// The floor: one cache line each way, each written by one thread, nothing else.
inline sample floor_run(double target) {
  struct alignas(128) line {
    std::atomic<std::uint64_t> v{0};
  };
  auto a = std::make_unique<line>();
  auto b = std::make_unique<line>();
  run_control rc;
  rc.deadline = deadline_from_now();
  histogram h;
  double secs = 0;
  std::thread ping([&] {
    pin_this_thread(g_cfg.cpus.a);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    steady::time_point t0{};
    for (std::uint64_t i = 1;; ++i) {
      if (i == g_cfg.lat_warm) t0 = steady::now();
      if (time_up(i, t0, target)) break;
      const std::uint64_t t = ticks();
      a->v.store(i, std::memory_order_release);
      while (b->v.load(std::memory_order_acquire) != i)
        if (sp()) return;
      const std::uint64_t u = ticks();
      if (i >= g_cfg.lat_warm) h.add(u - t);
    }
    secs = std::chrono::duration<double>(steady::now() - t0).count();
    a->v.store(sentinel, std::memory_order_release);
  });
  std::thread pong([&] {
    pin_this_thread(g_cfg.cpus.b);
    preempt_counter pc{rc};
    start_barrier(rc);
    spinner sp{&rc};
    for (std::uint64_t i = 1;; ++i) {
      std::uint64_t x;
      while ((x = a->v.load(std::memory_order_acquire)) != i) {
        if (x == sentinel) return;
        if (sp()) return;
      }
      b->v.store(i, std::memory_order_release);
    }
  });
  ping.join();
  pong.join();
  if (rc.abort.load()) {
    sample s;
    s.ok = false;
    s.err = "floor ping-pong stalled";
    return s;
  }
  sample o = latency_sample(h, secs);
  o.preempted = rc.preempted.load();
  return o;
}

template <template <class, std::size_t> class Q>
row lat_row(role who) {
  row r;
  r.name = Q<msg8, lat_cap>::name;
  r.who = who;
  r.run = [](double t) { return latency_run<Q<msg8, lat_cap>>(t); };
  return r;
}

inline row floor_row() {
  row f;
  f.name = "floor: cache-line ping-pong";
  f.who = role::reference;
  f.run = [](double t) { return floor_run(t); };
  return f;
}

// The p50s a latency table's footer compares: the base row, the floor, the best peer.
struct latency_p50s {
  double base = 0, floor = 0, peer = 0;
  std::string peer_name;  // empty: no peer row
};

// The heading, the note (`note_extra` appended to the common sentence) and the table of a
// round-trip latency table, ratios against `base` (column "p50 vs <base_label>") and `floor`.
inline latency_p50s print_latency_rows(std::ostringstream& o, const std::string& heading, const std::string& note_extra,
                                       const std::string& base_label, const row* base, const row* floor,
                                       const std::vector<row>& rows) {
  o << "\n### " << heading << "\n\n";
  o << "Round trip in ns (lower is better), " << reps_note()
    << " of each percentile over the reps; max = worst round trip of any rep." << note_extra << "\n\n";
  o << "| implementation | p50 | p99 | p99.9 | max | p50 vs " << base_label
    << " | p50 / floor | preempted |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
  latency_p50s p;
  p.base = med(base);
  p.floor = med(floor);
  for (auto& r : rows) {
    const summary p50 = summarize(r.results[0]);
    const summary p99 = summarize(r.results[1]);
    const summary p999 = summarize(r.results[2]);
    const summary mx = summarize(r.results[3]);
    const std::string name = r.who == role::ours ? "**" + r.name + "**" : r.name;
    o << "| " << name << " | " << med_range(p50) << " | " << med_range(p99) << " | " << med_range(p999) << " | " << num(mx.max)
      << " | " << (p.base > 0 ? ratio(p50.median / p.base) : "—") << " | " << (p.floor > 0 ? ratio(p50.median / p.floor) : "—")
      << " | " << preempted(r) << " |\n";
    if (r.who == role::peer && (p.peer_name.empty() || p50.median < p.peer)) p.peer = p50.median, p.peer_name = r.name;
  }
  o << "\n";
  return p;
}

// ---- the header --------------------------------------------------------------------------------------
inline std::string read_first_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

// The first lines of the machine header: date, command, label, CPU.
inline void header_start(std::ostringstream& o) {
  o << "- date: " << now_utc() << "\n";
  o << "- command: `" << g_cfg.command << "`\n";
  if (!g_cfg.label.empty()) o << "- label: " << g_cfg.label << "\n";
  o << "- CPU: " << cpu_model() << "; " << std::thread::hardware_concurrency() << " online CPUs, " << allowed_cpus().size()
    << " in this process's affinity mask\n";
}

inline void header_not_pinned(std::ostringstream& o) {
  o << "- threads NOT pinned (fewer than two CPUs available): numbers are not meaningful\n";
}

// Kernel and load, compiler and flags (`flags_note` after the flags), and the start of the TSC
// line (the caller ends it).
inline void header_system(std::ostringstream& o, const char* flags_note) {
  o << "- kernel: " << kernel() << "; load average at start: " << read_first_line("/proc/loadavg") << "\n";
#if defined(__clang__)
  o << "- compiler: clang++ " << __clang_version__;
#elif defined(__GNUC__)
  o << "- compiler: g++ " << __VERSION__;
#else
  o << "- compiler: " << __VERSION__;
#endif
  o << "; flags: `" << RINGWIRE_BENCH_FLAGS << "`" << flags_note
#if defined(NDEBUG)
    << " (NDEBUG"
#else
    << " (assertions ON"
#endif
    << ", RINGWIRE_CHECKS=" << RINGWIRE_CHECKS << ")\n";
  char tsc[64];
  std::snprintf(tsc, sizeof tsc, "%.3f", g_cfg.tsc_per_ns);
  o << "- TSC: " << tsc << " GHz (calibrated against steady_clock)";
}

}  // namespace bench
