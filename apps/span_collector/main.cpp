// span_collector -- collects spans from a shared-memory MPSC segment (threads of any number
// of producer processes, one lane each) and exports them as OTLP/HTTP JSON or to a file.
//
//   span_collector --segment /spans --lanes 16 --endpoint http://127.0.0.1:4318/v1/traces
//   span_collector --file spans.jsonl --demo-producers 4 --seconds 3    # with fake work
//   span_collector --produce --segment /spans --threads 4 --seconds 3   # a producer process
//
// SIGINT / SIGTERM stop the producers, then the collector flushes and prints its counters.
// The segment's user counters 0..4 are received, exported, dropped, batches, retries
// (`ringwire stat /spans` shows them).
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "span_collector/collector.hpp"

namespace {

namespace sc = span_collector;
namespace shm = ringwire::shm;

std::atomic<bool> g_signalled{false};  // lock-free: safe to store from a signal handler

extern "C" void on_signal(int) { g_signalled.store(true, std::memory_order_relaxed); }  // relaxed: polled

// "200ms", "2s", "500us" or a plain number of milliseconds.
std::chrono::milliseconds parse_duration(const std::string& s) {
  std::size_t used = 0;
  const double v = std::stod(s, &used);
  const std::string unit = s.substr(used);
  double ms = v;
  if (unit == "s") ms = v * 1000;
  else if (unit == "us") ms = v / 1000;
  else if (!unit.empty() && unit != "ms") throw CLI::ValidationError("duration", "unit must be ms, s or us: " + s);
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

// Fake work: a request span with two nested children, a few attributes each.
std::uint64_t instrument_fake_work(sc::handle& h, std::uint64_t i) {
  auto req = h.start("GET /orders/{id}", sc::span_kind::server);
  req.set_attribute("http.request.method", "GET");
  req.set_attribute("http.response.status_code", 200);
  {
    auto db = h.start("SELECT orders", sc::span_kind::client);
    db.set_attribute("db.system", "postgresql");
    db.set_attribute("db.rows", static_cast<std::int64_t>(i % 17));
  }
  {
    auto render = h.start("render");
    render.set_attribute("cache.hit", i % 3 == 0);
    if (i % 101 == 0) render.set_status(sc::status_code::error, "template missing");
  }
  return 3;
}

// Threads that instrument fake work until `stop`; returns {sent, dropped}.
std::pair<std::uint64_t, std::uint64_t> run_producers(sc::tracer& t, int threads, const std::atomic<bool>& stop,
                                                      std::chrono::microseconds pause) {
  std::atomic<std::uint64_t> sent{0}, dropped{0};
  {
    std::vector<std::jthread> ts;
    for (int k = 0; k < threads; ++k)
      ts.emplace_back([&] {
        std::optional<sc::handle> made;
        try {
          made.emplace(t.make_handle());
        } catch (const ringwire::error& e) {  // every lane taken: this thread sits out
          std::fprintf(stderr, "span_collector: a producer thread got no lane: %s\n", e.what());
          return;
        }
        sc::handle& h = *made;
        // relaxed: a flag polled between spans; nothing is read through it.
        for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          instrument_fake_work(h, i);
          if (pause.count() > 0) std::this_thread::sleep_for(pause);
        }
        sent.fetch_add(h.sent(), std::memory_order_relaxed);  // relaxed: read after join
        dropped.fetch_add(h.dropped(), std::memory_order_relaxed);
      });
  }
  return {sent.load(std::memory_order_relaxed), dropped.load(std::memory_order_relaxed)};  // relaxed: joined
}

// Stops when signalled or after `seconds` (0: only when signalled).
void wait_for_end(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  // relaxed: set by the signal handler, polled.
  while (!g_signalled.load(std::memory_order_relaxed) && (seconds <= 0 || std::chrono::steady_clock::now() < end))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"span_collector: spans from ringwire MPSC lanes to OTLP/HTTP JSON"};
  std::string segment = "/spans", endpoint = "http://127.0.0.1:4318/v1/traces", file, max_age = "200ms";
  std::uint32_t lanes = 16;
  std::uint64_t lane_capacity = 4096, batch = 512, budget_mb = 64;
  int demo = 0, threads = 4;
  double seconds = 0;
  std::int64_t pause_us = 100;
  bool produce = false;
  app.add_option("--segment", segment, "shared-memory segment name")->capture_default_str();
  app.add_option("--lanes", lanes, "producer lanes (threads of all producer processes)")->capture_default_str();
  app.add_option("--lane-capacity", lane_capacity, "spans per lane")->capture_default_str();
  auto* ep = app.add_option("--endpoint", endpoint, "OTLP/HTTP traces URL")->capture_default_str();
  app.add_option("--file", file, "write one OTLP JSON request per line here instead")->excludes(ep);
  app.add_option("--batch", batch, "spans per request")->capture_default_str();
  app.add_option("--max-age", max_age, "a partial batch is sent this old (ms, s, us)")->capture_default_str();
  app.add_option("--budget-mb", budget_mb, "memory for batches waiting for the exporter")->capture_default_str();
  app.add_option("--demo-producers", demo, "threads instrumenting fake work into the segment");
  app.add_option("--seconds", seconds, "run this long (0: until SIGINT/SIGTERM)");
  app.add_flag("--produce", produce, "be a producer process of an existing segment");
  app.add_option("--threads", threads, "producer threads with --produce")->capture_default_str();
  app.add_option("--pause-us", pause_us, "pause between units of fake work")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  try {
    const auto pause = std::chrono::microseconds(pause_us);
    if (produce) {
      auto seg = shm::segment::open(segment, sc::segment_spec(0, 0), {.wait = std::chrono::seconds(5)});
      sc::tracer t(seg);
      std::atomic<bool> stop{false};
      std::jthread timer([&] {
        wait_for_end(seconds);
        stop.store(true, std::memory_order_relaxed);  // relaxed: polled by the producers
      });
      const auto [sent, dropped] = run_producers(t, threads, stop, pause);
      fmt::print("span_collector --produce: sent {} dropped {} (lane full)\n", sent, dropped);
      return 0;
    }

    sc::collector_options opt;
    opt.batch = batch;
    opt.max_age = parse_duration(max_age);
    opt.budget_bytes = budget_mb << 20;
    auto seg = shm::segment::create(segment, sc::segment_spec(lane_capacity, lanes));
    std::vector<sc::collector::receiver> rx;
    rx.push_back(shm::mpsc::attach_receiver<sc::span>(seg));
    auto out =
        file.empty() ? sc::make_http_exporter(endpoint, std::chrono::milliseconds(2000)) : sc::make_file_exporter(file);
    sc::collector c(std::move(rx), *out, opt);
    std::vector<std::atomic<std::uint64_t>*> published;
    for (std::uint32_t i = 0; i < 5 && i < seg.counters(); ++i) published.push_back(&seg.counter(i));

    std::stop_source stop_collector;
    std::pair<std::uint64_t, std::uint64_t> produced{0, 0};
    std::jthread control([&] {
      std::atomic<bool> stop{false};
      std::jthread timer([&] {
        wait_for_end(seconds);
        stop.store(true, std::memory_order_relaxed);  // relaxed: polled by the producers
      });
      if (demo > 0) {
        sc::tracer t(seg);
        produced = run_producers(t, demo, stop, pause);
      }
      timer.join();
      stop_collector.request_stop();  // after the producers: the flush sees all they sent
    });
    c.run(stop_collector.get_token(), published);
    control.join();
    const auto& k = c.counters();
    // relaxed (all): the collector's thread is this one.
    fmt::print("span_collector: received {} exported {} dropped {} batches {} retries {}",
               k.received.load(std::memory_order_relaxed), k.exported.load(std::memory_order_relaxed),
               k.dropped.load(std::memory_order_relaxed), k.batches.load(std::memory_order_relaxed),
               k.retries.load(std::memory_order_relaxed));
    if (demo > 0) fmt::print(" (demo producers: sent {} dropped {} at a full lane)", produced.first, produced.second);
    fmt::print("\n");
    return k.dropped.load(std::memory_order_relaxed) == 0 ? 0 : 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "span_collector: {}\n", e.what());
    return 1;
  }
}
