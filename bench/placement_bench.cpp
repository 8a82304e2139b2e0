// ringwire_placement_bench -- what memory_options (ringwire/placement/memory.hpp) change on
// a large SPSC ring's first lap: one thread makes a channel of 64 MiB (8 Mi 8-byte
// messages), pushes `capacity` messages into it (every slot touched for the first time),
// drains it, and pushes a second lap (the pages now resident), for each option set:
//
//   default      an ordinary allocation: the first lap faults each 4 KiB page in
//   prefault     a zero written per page when the channel is made
//   lock         mlock (faults every page in, pins it)
//   hugepages    MAP_HUGETLB (needs /proc/sys/vm/nr_hugepages reserved: this program never
//                reserves them; the row says "unavailable" instead)
//   huge+prefault
//
// Columns: create (ms, the channel factory call), lap 1 and lap 2 (ns per message), the
// median of --reps runs. Single-threaded on purpose: the page faults are the producer's,
// and a consumer would only add its own noise to what is measured.
//
//   ringwire_placement_bench [--smoke] [--reps N] [--mib M]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ringwire/placement.hpp"
#include "ringwire/spsc.hpp"

namespace {

using clk = std::chrono::steady_clock;

double ms_since(clk::time_point t) { return std::chrono::duration<double, std::milli>(clk::now() - t).count(); }

struct row {
  const char* name;
  ringwire::memory_options mem;
};

struct times {
  double create_ms, lap1_ns, lap2_ns;
};

// One run; false when the options cannot be had (huge pages not reserved).
bool run_once(std::size_t capacity, const ringwire::memory_options& mem, times& out) {
  ringwire::spsc::options o;
  o.memory = mem;
  const auto t0 = clk::now();
  std::pair<ringwire::spsc::sender<std::uint64_t>, ringwire::spsc::receiver<std::uint64_t>> ch;
  try {
    ch = ringwire::spsc::channel<std::uint64_t>(capacity, o);
  } catch (const ringwire::error& e) {
    if (e.code() == ringwire::errc::hugepages_unavailable || e.code() == ringwire::errc::memory_lock_denied) return false;
    throw;
  }
  out.create_ms = ms_since(t0);
  auto& [tx, rx] = ch;
  auto lap = [&](std::uint64_t base) {
    const auto t = clk::now();
    for (std::uint64_t i = 0; i < capacity; ++i)
      if (tx.try_send(base + i) != ringwire::status::ok) std::abort();
    const double ns = std::chrono::duration<double, std::nano>(clk::now() - t).count() / static_cast<double>(capacity);
    std::uint64_t want = base;
    const std::size_t got = rx.consume([&](std::uint64_t v) {
      if (v != want++) std::abort();  // every message checked, in order
    }, capacity);
    if (got != capacity) std::abort();
    return ns;
  };
  out.lap1_ns = lap(0);
  out.lap2_ns = lap(capacity);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  std::size_t mib = 64;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      reps = 1;
      mib = 1;
    } else if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
      mib = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
    } else {
      std::fprintf(stderr, "usage: %s [--smoke] [--reps N] [--mib M]\n", argv[0]);
      return 2;
    }
  }
  const std::size_t capacity = (mib << 20) / sizeof(std::uint64_t);
  const row rows[] = {
      {"default", {}},
      {"prefault", {.prefault = true}},
      {"lock", {.lock = true}},
      {"hugepages", {.hugepages = true}},
      {"huge+prefault", {.hugepages = true, .prefault = true}},
  };
  std::printf("SPSC<uint64_t> of %zu MiB (%zu messages), single thread, median of %d\n", mib, capacity, reps);
  std::printf("%-14s %10s %12s %12s\n", "memory", "create ms", "lap 1 ns/msg", "lap 2 ns/msg");
  for (const row& r : rows) {
    std::vector<times> runs;
    for (int k = 0; k < reps; ++k) {
      times t{};
      if (!run_once(capacity, r.mem, t)) break;
      runs.push_back(t);
    }
    if (runs.empty()) {
      std::printf("%-14s %10s   (unavailable: reserve huge pages / raise RLIMIT_MEMLOCK)\n", r.name, "-");
      continue;
    }
    auto median = [&](double times::*f) {
      std::vector<double> v;
      for (const times& t : runs) v.push_back(t.*f);
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("%-14s %10.2f %12.2f %12.2f\n", r.name, median(&times::create_ms), median(&times::lap1_ns),
                median(&times::lap2_ns));
  }
  return 0;
}
