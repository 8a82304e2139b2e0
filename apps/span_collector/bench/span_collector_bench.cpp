// span_collector_bench -- what tracing costs the instrumented thread (ns per span: start,
// two attributes, end) and how many spans per second one collector thread takes in, with
// 1, 2 and 4 producer threads: ringwire MPSC lanes against a mutex-protected std::vector
// (the collector swaps the vector out under the lock), in the same run. Threads are pinned
// round-robin over the allowed CPUs (bench/harness.hpp). --quick: a short smoke pass.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/harness.hpp"
#include "span_collector/tracer.hpp"

namespace {

namespace sc = span_collector;
using clock_type = std::chrono::steady_clock;

// The baseline: the same span record, built the same way, appended under a mutex.
struct mutex_collector {
  std::mutex m;
  std::vector<sc::span> spans;
  void add(const sc::span& s) {
    std::lock_guard g(m);
    spans.push_back(s);
  }
  std::size_t take(std::vector<sc::span>& out) {
    out.clear();
    std::lock_guard g(m);
    spans.swap(out);
    return out.size();
  }
};

// One unit of instrumentation: a span with two attributes, built like scoped_span does.
inline sc::span make_record(std::uint64_t i) {
  sc::span s{};
  s.start_ns = sc::now_unix_ns();
  std::memcpy(s.span_id.data(), &i, 8);
  sc::copy_truncated(s.name, "work");
  s.attribute_count = 2;
  sc::copy_truncated(s.attributes[0].key, "i");
  s.attributes[0].type = sc::value_type::int64;
  s.attributes[0].value.i = static_cast<std::int64_t>(i);
  sc::copy_truncated(s.attributes[1].key, "ok");
  s.attributes[1].type = sc::value_type::boolean;
  s.attributes[1].value.b = true;
  s.end_ns = sc::now_unix_ns();
  return s;
}

struct result {
  double spans_per_s;
  double ns_per_span;  // on the instrumented threads, mean
  std::uint64_t dropped;
};

void pin(std::size_t k) {
  static const std::vector<int> cpus = bench::allowed_cpus();
  if (!cpus.empty()) bench::pin_this_thread(cpus[k % cpus.size()]);
}

// producers x per_producer spans through ringwire lanes; one collector thread drains.
result run_ringwire(int producers, std::uint64_t per_producer) {
  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(1 << 14, static_cast<std::size_t>(producers));
  sc::tracer t(reg);
  std::atomic<int> done{0};
  std::atomic<std::uint64_t> ns{0}, dropped{0};
  std::uint64_t got = 0;
  const auto t0 = clock_type::now();
  {
    std::vector<std::jthread> ts;
    for (int p = 0; p < producers; ++p)
      ts.emplace_back([&, p] {
        pin(static_cast<std::size_t>(p) + 1);
        sc::handle h = t.make_handle();
        const auto a = clock_type::now();
        for (std::uint64_t i = 0; i < per_producer; ++i) {
          auto s = h.start("work");
          s.set_attribute("i", static_cast<std::int64_t>(i));
          s.set_attribute("ok", true);
        }
        // relaxed (all): tallies read after the joins.
        ns.fetch_add(static_cast<std::uint64_t>((clock_type::now() - a).count()), std::memory_order_relaxed);
        dropped.fetch_add(h.dropped(), std::memory_order_relaxed);
        done.fetch_add(1, std::memory_order_release);  // release: the last sends before it
      });
    pin(0);
    // acquire: after the last producer's release, one more drain sees everything it sent.
    for (bool last = false; !last;) {
      last = done.load(std::memory_order_acquire) == producers;
      got += rx.consume_all([](sc::span& s) { asm volatile("" : : "r"(&s) : "memory"); });
    }
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  const auto total = static_cast<double>(per_producer) * producers;
  // relaxed: the threads were joined.
  return {static_cast<double>(got) / secs, static_cast<double>(ns.load(std::memory_order_relaxed)) / total,
          dropped.load(std::memory_order_relaxed)};
}

result run_mutex(int producers, std::uint64_t per_producer) {
  mutex_collector mc;
  std::atomic<int> done{0};
  std::atomic<std::uint64_t> ns{0};
  std::uint64_t got = 0;
  std::vector<sc::span> out;
  const auto t0 = clock_type::now();
  {
    std::vector<std::jthread> ts;
    for (int p = 0; p < producers; ++p)
      ts.emplace_back([&, p] {
        pin(static_cast<std::size_t>(p) + 1);
        const auto a = clock_type::now();
        for (std::uint64_t i = 0; i < per_producer; ++i) mc.add(make_record(i));
        ns.fetch_add(static_cast<std::uint64_t>((clock_type::now() - a).count()),
                     std::memory_order_relaxed);       // relaxed: tally
        done.fetch_add(1, std::memory_order_release);  // release: its adds before it
      });
    pin(0);
    for (bool last = false; !last;) {
      last = done.load(std::memory_order_acquire) == producers;  // acquire: pairs with the release
      got += mc.take(out);
    }
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  const auto total = static_cast<double>(per_producer) * producers;
  return {static_cast<double>(got) / secs, static_cast<double>(ns.load(std::memory_order_relaxed)) / total,
          0};  // relaxed: joined
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::uint64_t per_producer = quick ? 20'000 : 2'000'000;
  const int rounds = quick ? 1 : 5;
  std::printf("span_collector_bench: %zu-byte spans, %llu per producer, median of %d interleaved rounds; CPUs allowed: %zu\n",
              sizeof(sc::span), static_cast<unsigned long long>(per_producer), rounds, bench::allowed_cpus().size());
  std::printf("%-10s %-9s %14s %12s %10s\n", "collector", "producers", "spans/s", "ns/span", "dropped");
  // Interleaved (ringwire, mutex, ringwire, ...), the median round by spans/s reported.
  const auto median = [](std::vector<result> v) {
    std::sort(v.begin(), v.end(), [](const result& x, const result& y) { return x.spans_per_s < y.spans_per_s; });
    return v[v.size() / 2];
  };
  for (int producers : {1, 2, 4}) {
    std::vector<result> rs, ms;
    for (int r = 0; r < rounds; ++r) {
      rs.push_back(run_ringwire(producers, per_producer));
      ms.push_back(run_mutex(producers, per_producer));
    }
    const result med_r = median(rs), med_m = median(ms);
    std::printf("%-10s %-9d %14.0f %12.1f %10llu\n", "ringwire", producers, med_r.spans_per_s, med_r.ns_per_span,
                static_cast<unsigned long long>(med_r.dropped));
    std::printf("%-10s %-9d %14.0f %12.1f %10s\n", "mutex+vec", producers, med_m.spans_per_s, med_m.ns_per_span, "-");
  }
  return 0;
}
