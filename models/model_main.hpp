// models/model_main.hpp -- the driver every Relacy model shares: the command line, the
// search passes of a scenario, the report of each run, and what a mutant build must show.
//
// A model includes this header (instead of relacy_sync.hpp, which it includes) after its
// own std headers, defines its scenarios and, per mutant, the failures that must catch it,
// and its main() is one call:
//
//   constexpr ringwire::model::scenario all_scenarios[] = {
//       {"try_fifo_cap1_n3", &ringwire::model::run_one<try_fifo<1, 3>>, 200'000, 3}, ...};
//   #if RINGWIRE_MODEL_MUTANT == 1
//   constexpr ringwire::model::expectation mutant_failures[] = {{"park_cap1_n3", rl::test_result_deadlock}};
//   #endif
//   int main(int argc, char** argv) { return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures); }
//
// Normal build (no expectations): every scenario runs under the random scheduler for its
// iterations, then, where its bound is non-zero, under Relacy's context-bound scheduler
// (every execution with at most `bound` preemptions); exit 0 when all pass. Mutant build:
// every listed scenario must fail, with the listed result (or its alternative), in one of
// its passes; exit 0 only then, so CTest shows that the model detects the seeded bug.
//
// Usage: <model> [--only NAME] [--search random|bound|full] [--iterations N] [--bound K] [--list]
// Each run prints the futex activity it produced (ringwire::model::stats) and whatever the
// model's report hook adds: coverage, showing that the interesting paths really ran.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "relacy_sync.hpp"

namespace ringwire::model {

struct scenario {
  const char* name;
  bool (*run)(rl::test_params&);
  rl::iteration_t iterations;  // random scheduler
  unsigned bound = 0;          // context-bound search; 0: random scheduler only
};

// A mutant build's promise: this scenario fails with `result` (or `alternative`).
struct expectation {
  const char* scenario;
  rl::test_result_e result;
  rl::test_result_e alternative = rl::test_result_success;  // success: none
};

// Per-model additions to each run's report: reset before it, print after it.
struct hooks {
  void (*reset)() = nullptr;
  void (*report)() = nullptr;
};

template <class Test>
bool run_one(rl::test_params& p) {
  return rl::simulate<Test>(p);
}

struct run_config {
  std::optional<rl::scheduler_type_e> search;  // default: random, then bound
  rl::iteration_t iterations = 0;              // 0: the scenario's own
  unsigned bound = 0;                          // 0: the scenario's own
};

// The passes a scenario gets under cfg.
inline std::vector<rl::test_params> passes(const scenario& s, const run_config& cfg) {
  std::vector<rl::test_params> out;
  auto add = [&](rl::scheduler_type_e t) {
    rl::test_params p;
    p.search_type = t;
    p.iteration_count = cfg.iterations != 0 ? cfg.iterations : s.iterations;
    p.context_bound = cfg.bound != 0 ? cfg.bound : (s.bound != 0 ? s.bound : 2);
    out.push_back(p);
  };
  if (cfg.search) {
    add(*cfg.search);
  } else {
    add(rl::random_scheduler_type);
    if (s.bound != 0) add(rl::fair_context_bound_scheduler_type);
  }
  return out;
}

// Runs one pass of a scenario and prints what it found and what the parking did.
inline bool run_scenario(const scenario& s, rl::test_params& p, const hooks& h) {
  stats = {};
  if (h.reset != nullptr) h.reset();
  std::printf("=== %s (%s", s.name, rl::format(p.search_type));
  if (p.search_type == rl::random_scheduler_type)
    std::printf(", %llu iterations", static_cast<unsigned long long>(p.iteration_count));
  if (p.search_type == rl::fair_context_bound_scheduler_type) std::printf(", bound %u", p.context_bound);
  std::printf(")\n");
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = s.run(p);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::printf("    %s after %llu iterations, %lld ms; futex: %llu sleeps (%llu woken, %llu spurious, %llu timed out), "
              "%llu would-block, %llu wakes (%llu hit a sleeper)\n",
              ok ? "passed" : rl::test_result_str(p.test_result), static_cast<unsigned long long>(p.stop_iteration),
              static_cast<long long>(ms), stats.sleeps, stats.woken, stats.spurious, stats.timeouts, stats.would_block,
              stats.wakes, stats.wakes_hit);
  if (h.report != nullptr) h.report();
  std::fflush(stdout);
  return ok;
}

inline int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--only NAME] [--search random|bound|full] [--iterations N] [--bound K] [--list]\n"
               "  default         every scenario, random scheduler then context-bound search\n"
               "  --search S      only this search: random, bound (exhaustive up to K preemptions)\n"
               "                  or full (exhaustive; feasible only for the smallest scenarios)\n"
               "  --iterations N  random scheduler: iterations per scenario (default: the table's)\n"
               "  --bound K       context-bound search: preemption bound (default: the table's)\n",
               argv0);
  return 2;
}

// The model's main(). `mutant_failures` empty: a normal build.
inline int run_models(int argc, char** argv, std::span<const scenario> all, std::span<const expectation> mutant_failures,
                      const hooks& h = {}) {
  run_config cfg;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--iterations") == 0 && has_value) {
      cfg.iterations = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--only") == 0 && has_value) {
      only = argv[++i];
    } else if (std::strcmp(argv[i], "--search") == 0 && has_value) {
      const std::string v = argv[++i];
      if (v == "random") {
        cfg.search = rl::random_scheduler_type;
      } else if (v == "bound") {
        cfg.search = rl::fair_context_bound_scheduler_type;
      } else if (v == "full") {
        cfg.search = rl::fair_full_search_scheduler_type;
      } else {
        return usage(argv[0]);
      }
    } else if (std::strcmp(argv[i], "--bound") == 0 && has_value) {
      cfg.bound = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--list") == 0) {
      for (const auto& s : all) std::printf("%s\n", s.name);
      return 0;
    } else {
      return usage(argv[0]);
    }
  }

  if (mutant_failures.empty()) {
    int failed = 0;
    int ran = 0;
    for (const auto& s : all) {
      if (!only.empty() && only != s.name) continue;
      for (rl::test_params& p : passes(s, cfg)) {
        ++ran;
        if (!run_scenario(s, p, h)) ++failed;
      }
    }
    if (ran == 0) {
      std::printf("no scenario named '%s'\n", only.c_str());
      return 2;
    }
    std::printf("%d of %d runs passed\n", ran - failed, ran);
    return failed == 0 ? 0 : 1;
  }

  // A mutant: every scenario that guards against it must fail, and for the right reason.
  // Each gets its passes in turn (random, then bounded) until one reports a failure.
  int survived = 0;
  for (const auto& e : mutant_failures) {
    if (!only.empty() && only != e.scenario) continue;
    const scenario* s = nullptr;
    for (const auto& c : all)
      if (std::strcmp(c.name, e.scenario) == 0) s = &c;
    if (s == nullptr) {
      std::printf("no scenario named '%s'\n", e.scenario);
      return 2;
    }
    std::printf("=== mutant %d: expecting Relacy to report %s in %s\n", RINGWIRE_MODEL_MUTANT,
                rl::test_result_str(e.result), s->name);
    bool caught = false;
    for (rl::test_params& p : passes(*s, cfg)) {
      if (run_scenario(*s, p, h)) continue;
      const bool right = p.test_result == e.result ||
                         (e.alternative != rl::test_result_success && p.test_result == e.alternative);
      if (!right) {
        std::printf("=== mutant failed for the wrong reason: %s (expected %s)\n", rl::test_result_str(p.test_result),
                    rl::test_result_str(e.result));
        return 1;
      }
      std::printf("=== MUTANT DETECTED at iteration %llu: %s, as expected\n",
                  static_cast<unsigned long long>(p.stop_iteration), rl::test_result_str(p.test_result));
      caught = true;
      break;
    }
    if (!caught) {
      std::printf("=== MUTANT SURVIVED in %s: nothing found; the model is too weak to catch this bug\n", s->name);
      ++survived;
    }
  }
  return survived == 0 ? 0 : 1;
}

}  // namespace ringwire::model
