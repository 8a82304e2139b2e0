// span_collector: the tracer's hot path (no allocation), the OTLP JSON mapping, the
// collector's budget with the exporter down then up (exact counts), the shutdown flush,
// threads and two forked processes into one segment, and the requests checked by the
// OpenTelemetry project's own protobuf definitions (otlp_receiver.mjs under Node.js).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "span_collector/collector.hpp"

// Every allocation of this test program, counted (the tracer's hot path must make none).
#include "support/counting_new.hpp"

namespace {

namespace sc = span_collector;
namespace shm = ringwire::shm;
using namespace std::chrono_literals;
using json = nlohmann::json;

std::string hex_of(const std::array<std::uint8_t, 8>& b) {
  std::string s;
  for (auto x : b) s += "0123456789abcdef"[x >> 4], s += "0123456789abcdef"[x & 15];
  return s;
}

// Every span of every request line of an OTLP JSON stream.
std::vector<json> spans_of(const json& req) {
  std::vector<json> out;
  for (const auto& rs : req.at("resourceSpans"))
    for (const auto& ss : rs.at("scopeSpans"))
      for (const auto& s : ss.at("spans")) out.push_back(s);
  return out;
}

json attr(const json& span, const std::string& key) {
  for (const auto& a : span.at("attributes"))
    if (a.at("key") == key) return a.at("value");
  return nullptr;
}

// Records what it is sent; the test reads it after run() returned.
struct capture_exporter final : sc::exporter {
  std::vector<json> spans;
  sc::export_result send(const std::string& body) override {
    for (auto& s : spans_of(json::parse(body))) spans.push_back(std::move(s));
    return sc::export_result::ok;
  }
};

// Runs a collector on its own thread until stop(); its counters afterwards.
struct running_collector {
  sc::collector c;
  std::stop_source stop_src;
  std::jthread t;
  running_collector(std::vector<sc::collector::receiver> rx, sc::exporter& out, sc::collector_options opt)
      : c(std::move(rx), out, std::move(opt)), t([this] { c.run(stop_src.get_token()); }) {}
  ~running_collector() {
    if (t.joinable()) stop();  // a failed assertion must not leave run() waiting for ever
  }
  void stop() {
    stop_src.request_stop();
    t.join();
  }
  std::uint64_t get(const std::atomic<std::uint64_t>& a) const {
    return a.load(std::memory_order_relaxed);
  }  // relaxed: a tally
};

TEST(Tracer, HotPathAllocatesNothingAndNestsSpans) {
  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(1024, 2);
  sc::tracer t(reg);
  sc::handle h = t.make_handle();
  std::vector<sc::span> got;
  got.reserve(1024);
  const std::size_t before = allocations_made.load(std::memory_order_relaxed);  // relaxed: same thread
  for (int i = 0; i < 300; ++i) {
    auto outer = h.start("outer", sc::span_kind::server);
    outer.set_attribute("i", i);
    outer.set_attribute("s", std::string_view("value"));
    outer.set_attribute("d", 1.5);
    outer.set_attribute("b", true);
    auto inner = h.start("inner");
    inner.set_status(sc::status_code::error, "bad");
  }
  const std::size_t after = allocations_made.load(std::memory_order_relaxed);  // relaxed: same thread
  if (rw_test::counting_new) {
    EXPECT_EQ(after, before) << "start/set_attribute/end allocated";
  }
  rx.consume_all([&](sc::span& s) { got.push_back(s); });
  ASSERT_EQ(got.size(), 600u);
  // Inner ends first: each pair is (inner, outer), same trace, inner's parent = outer.
  for (std::size_t k = 0; k < got.size(); k += 2) {
    const sc::span& in = got[k];
    const sc::span& out = got[k + 1];
    EXPECT_EQ(in.name_view(), "inner");
    EXPECT_EQ(out.name_view(), "outer");
    EXPECT_EQ(in.trace_id, out.trace_id);
    EXPECT_EQ(in.parent_id, out.span_id);
    EXPECT_EQ(out.parent_id, (std::array<std::uint8_t, 8>{}));
    EXPECT_LE(out.start_ns, in.start_ns);
    EXPECT_LE(in.end_ns, out.end_ns);
    EXPECT_EQ(out.attribute_count, 4);
    EXPECT_EQ(out.attributes[0].value.i, static_cast<std::int64_t>(k / 2));
  }
  EXPECT_NE(got[0].trace_id, got[2].trace_id) << "a new root span starts a new trace";
  EXPECT_EQ(h.sent(), 600u);
}

// Spans ended out of order (an outer one first, or interleaved) leave no ended span in the
// handle's chain: a later span takes the innermost span still open as its parent, and a
// root span after everything ended starts a fresh, non-zero trace.
TEST(Tracer, SpansEndedOutOfOrderLeaveAConsistentChain) {
  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(64, 1);
  sc::tracer t(reg);
  sc::handle h = t.make_handle();
  {
    auto a = h.start("a");
    auto b = h.start("b");
    auto c = h.start("c");
    b.end();               // the middle one ends first
    auto d = h.start("d");  // child of c, the innermost still open
    c.end();
    auto e = h.start("e");  // child of d
    d.end();
    e.end();
    auto f = h.start("f");  // child of a, the only one left open
  }
  {
    auto o = h.start("o");
    {
      auto i = h.start("i");
      o.end();  // the outer one first
    }
    auto r = h.start("r");  // everything ended: a new root
  }
  std::vector<sc::span> got;
  rx.consume_all([&](sc::span& s) { got.push_back(s); });
  ASSERT_EQ(got.size(), 9u);
  std::map<std::string, sc::span> by;
  for (const auto& x : got) by[std::string(x.name_view())] = x;
  const std::array<std::uint8_t, 8> root{};
  EXPECT_EQ(by["a"].parent_id, root);
  EXPECT_EQ(by["b"].parent_id, by["a"].span_id);
  EXPECT_EQ(by["c"].parent_id, by["b"].span_id);
  EXPECT_EQ(by["d"].parent_id, by["c"].span_id);
  EXPECT_EQ(by["e"].parent_id, by["d"].span_id);
  EXPECT_EQ(by["f"].parent_id, by["a"].span_id);
  for (const char* n : {"b", "c", "d", "e", "f"}) EXPECT_EQ(by[n].trace_id, by["a"].trace_id) << n;
  EXPECT_EQ(by["i"].parent_id, by["o"].span_id);
  EXPECT_EQ(by["r"].parent_id, root) << "every span had ended: r is a root";
  EXPECT_NE(by["r"].trace_id, by["o"].trace_id);
  EXPECT_NE(by["r"].trace_id, (std::array<std::uint8_t, 16>{}));
  EXPECT_EQ(h.dropped(), 0u);
}

// A handle moved while spans are open takes them along: they end through the new handle.
TEST(Tracer, MovingAHandleTakesItsOpenSpansAlong) {
  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(64, 1);
  sc::tracer t(reg);
  std::optional<sc::handle> h1(t.make_handle());
  std::optional<sc::handle> h2;
  {
    auto outer = h1->start("outer");
    h2.emplace(std::move(*h1));
    h1.reset();
    auto inner = h2->start("inner");  // still a child of outer
  }
  std::vector<sc::span> got;
  rx.consume_all([&](sc::span& s) { got.push_back(s); });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].name_view(), "inner");
  EXPECT_EQ(got[1].name_view(), "outer");
  EXPECT_EQ(got[0].parent_id, got[1].span_id);
  EXPECT_EQ(h2->sent(), 2u);
  EXPECT_EQ(h2->dropped(), 0u);
}

TEST(Tracer, TruncatesAndFlagsAndCountsDroppedAttributes) {
  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(4, 1);
  sc::tracer t(reg);
  sc::handle h = t.make_handle();
  {
    auto s = h.start(std::string(200, 'n'));
    for (int i = 0; i < 8; ++i) s.set_attribute("k", i);
  }
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name_view().size(), sc::name_size - 1);
  EXPECT_TRUE(r->flags & sc::name_truncated);
  EXPECT_EQ(r->attribute_count, sc::max_attributes);
  EXPECT_EQ(r->dropped_attributes, 8 - sc::max_attributes);
  // A full lane drops, counted, never blocks.
  for (int i = 0; i < 10; ++i) auto s = h.start("x");
  EXPECT_EQ(h.sent(), 5u);
  EXPECT_EQ(h.dropped(), 6u);
}

TEST(OtlpJson, FollowsTheOtlpJsonMapping) {
  sc::span s{};
  for (std::uint8_t i = 0; i < 16; ++i) s.trace_id[i] = static_cast<std::uint8_t>(i * 17);
  s.span_id = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3};
  s.start_ns = 1'700'000'000'123'456'789ull;
  s.end_ns = s.start_ns + 42;
  sc::copy_truncated(s.name, "GET /x \"quoted\"");
  s.kind = sc::span_kind::client;
  s.status = sc::status_code::error;
  sc::copy_truncated(s.status_message, "boom");
  s.attribute_count = 4;
  sc::copy_truncated(s.attributes[0].key, "str");
  s.attributes[0].type = sc::value_type::string;
  sc::copy_truncated(s.attributes[0].value.s, "v");
  sc::copy_truncated(s.attributes[1].key, "int");
  s.attributes[1].type = sc::value_type::int64;
  s.attributes[1].value.i = -9'000'000'000'000'000'000ll;
  sc::copy_truncated(s.attributes[2].key, "dbl");
  s.attributes[2].type = sc::value_type::float64;
  s.attributes[2].value.d = 0.25;
  sc::copy_truncated(s.attributes[3].key, "bool");
  s.attributes[3].type = sc::value_type::boolean;
  s.attributes[3].value.b = true;
  const json req = json::parse(sc::encode_otlp_json(std::span(&s, 1), "svc"));
  const json& rs = req.at("resourceSpans").at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue"), "svc");
  const json j = spans_of(req).at(0);
  EXPECT_EQ(j.at("traceId"), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(j.at("spanId"), "deadbeef00010203");
  EXPECT_FALSE(j.contains("parentSpanId")) << "a root span has no parent id";
  EXPECT_EQ(j.at("name"), "GET /x \"quoted\"");
  EXPECT_EQ(j.at("kind"), 3);
  EXPECT_EQ(j.at("startTimeUnixNano"), "1700000000123456789");
  EXPECT_EQ(j.at("endTimeUnixNano"), "1700000000123456831");
  EXPECT_EQ(attr(j, "str"), json({{"stringValue", "v"}}));
  EXPECT_EQ(attr(j, "int"), json({{"intValue", "-9000000000000000000"}}));
  EXPECT_EQ(attr(j, "dbl"), json({{"doubleValue", 0.25}}));
  EXPECT_EQ(attr(j, "bool"), json({{"boolValue", true}}));
  EXPECT_EQ(j.at("status"), json({{"code", 2}, {"message", "boom"}}));
}

// An OTLP/HTTP receiver in this process: 503 while `down`, then 200, counting spans.
struct fake_receiver {
  httplib::Server srv;
  std::atomic<bool> down{true};
  std::atomic<std::uint64_t> spans{0}, refused{0};
  int port = 0;
  std::jthread t;
  fake_receiver() {
    srv.Post("/v1/traces", [this](const httplib::Request& rq, httplib::Response& rs) {
      // relaxed (all): tallies and a switch the test flips; the HTTP exchange orders them.
      if (down.load(std::memory_order_relaxed)) {
        refused.fetch_add(1, std::memory_order_relaxed);
        rs.status = 503;
        return;
      }
      spans.fetch_add(spans_of(json::parse(rq.body)).size(), std::memory_order_relaxed);
      rs.set_content("{}", "application/json");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    t = std::jthread([this] { srv.listen_after_bind(); });
  }
  ~fake_receiver() { srv.stop(); }
};

TEST(Collector, ExporterDownThenUpLosesOnlyWhatExceedsTheBudget) {
  fake_receiver rcv;
  ASSERT_GT(rcv.port, 0);
  constexpr std::size_t batch = 100, produced = 4000;
  // Every span encodes to the same size (no per-span values), so the budget of 5.5 batches
  // holds exactly 5: everything sealed beyond that is dropped, oldest first.
  auto make_spans = [](ringwire::mpsc::registrar<sc::span> reg, std::size_t n) {
    sc::tracer t(std::move(reg));
    sc::handle h = t.make_handle();
    for (std::size_t i = 0; i < n; ++i) {
      auto s = h.start("work");
      s.set_attribute("phase", "down-then-up");
    }
  };
  auto [sample_reg, sample_rx] = ringwire::mpsc::channel<sc::span>(batch, 1);
  make_spans(sample_reg, batch);
  std::vector<sc::span> sample;
  sample_rx.consume_all([&](sc::span& s) { sample.push_back(s); });
  const std::size_t one = sc::encode_otlp_json(sample, "test").size();
  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(produced, 1);
  make_spans(reg, produced);
  sc::collector_options opt;
  opt.batch = batch;
  opt.max_age = 60s;  // only full batches: the counts below are exact
  opt.budget_bytes = one * 11 / 2;
  opt.backoff_initial = 2ms;
  opt.backoff_max = 20ms;
  opt.service = "test";
  auto out = sc::make_http_exporter("http://127.0.0.1:" + std::to_string(rcv.port) + "/v1/traces", 1000ms);
  std::vector<sc::collector::receiver> sources;
  sources.push_back(std::move(rx));
  running_collector c(std::move(sources), *out, opt);
  const auto& k = c.c.counters();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  // Down: everything is drained and sealed, the budget keeps 5 batches, retries go on.
  while ((c.get(k.received) < produced || c.get(k.retries) < 3) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  ASSERT_EQ(c.get(k.received), produced);
  EXPECT_EQ(c.get(k.dropped), produced - 5 * batch);
  EXPECT_LE(c.get(k.queued_bytes), opt.budget_bytes);
  rcv.down.store(false, std::memory_order_relaxed);  // relaxed: the next request reads it
  while (c.get(k.exported) + c.get(k.dropped) < produced && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  c.stop();
  EXPECT_EQ(c.get(k.exported), 5 * batch);
  EXPECT_EQ(c.get(k.exported) + c.get(k.dropped), produced);
  EXPECT_EQ(rcv.spans.load(std::memory_order_relaxed), c.get(k.exported));  // relaxed: server stopped
  EXPECT_GE(c.get(k.retries), 3u);
  EXPECT_EQ(c.get(k.retries), rcv.refused.load(std::memory_order_relaxed));  // relaxed: as above
  EXPECT_EQ(c.get(k.batches), 5u);
}

TEST(Collector, ShutdownFlushesEverythingToTheFile) {
  const auto path = std::filesystem::temp_directory_path() / ("span_collector_flush_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(2048, 2);
  auto out = sc::make_file_exporter(path.string());
  sc::collector_options opt;
  opt.batch = 512;
  opt.max_age = 60s;  // nothing would leave before shutdown but the full batches
  std::vector<sc::collector::receiver> sources;
  sources.push_back(std::move(rx));
  running_collector c(std::move(sources), *out, opt);
  {
    sc::tracer t(reg);
    sc::handle h = t.make_handle();
    for (int i = 0; i < 1000; ++i) auto s = h.start("flush me");
  }
  c.stop();
  std::ifstream in(path);
  std::size_t lines = 0, spans = 0;
  for (std::string line; std::getline(in, line); ++lines) spans += spans_of(json::parse(line)).size();
  EXPECT_EQ(spans, 1000u);
  EXPECT_EQ(lines, 2u) << "one full batch of 512, the rest flushed at shutdown";
  EXPECT_EQ(c.get(c.c.counters().exported), 1000u);
  EXPECT_EQ(c.get(c.c.counters().dropped), 0u);
  std::filesystem::remove(path);
}

// Fake work tagged with who made it, checked span by span.
void produce_tagged(sc::handle& h, std::int64_t proc, std::int64_t thread, int n) {
  for (int i = 0; i < n; ++i) {
    auto s = h.start("tagged");
    s.set_attribute("proc", proc);
    s.set_attribute("thread", thread);
    s.set_attribute("seq", static_cast<std::int64_t>(i));
  }
}

TEST(Collector, ThreadsOfThreeProcessesIntoOneSegment) {
  constexpr int per_thread = 2000, threads = 3;
  const std::string name = "/span_collector_test_" + std::to_string(::getpid());
  shm::segment::unlink(name);
  auto seg = shm::segment::create(name, sc::segment_spec(per_thread, 16));
  std::vector<pid_t> kids;
  for (int p = 1; p <= 2; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        const auto mine = shm::segment::open(name, sc::segment_spec(0, 0), {.wait = 5s});
        sc::tracer t(mine);
        std::vector<std::jthread> ts;
        std::atomic<std::uint64_t> dropped{0};
        for (int k = 0; k < threads; ++k)
          ts.emplace_back([&, k] {
            sc::handle h = t.make_handle();
            produce_tagged(h, p, k, per_thread);
            dropped.fetch_add(h.dropped(), std::memory_order_relaxed);  // relaxed: read after join
          });
        ts.clear();
        rc = dropped.load(std::memory_order_relaxed) == 0 ? 0 : 2;  // relaxed: joined
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    kids.push_back(pid);
  }
  capture_exporter cap;
  sc::collector_options opt;
  opt.batch = 256;
  opt.max_age = 5ms;
  std::vector<sc::collector::receiver> sources;
  sources.push_back(shm::mpsc::attach_receiver<sc::span>(seg));
  running_collector c(std::move(sources), cap, opt);
  {
    sc::tracer t(seg);
    std::vector<std::jthread> ts;
    for (int k = 0; k < threads; ++k)
      ts.emplace_back([&, k] {
        sc::handle h = t.make_handle();
        produce_tagged(h, 0, k, per_thread);
      });
  }
  for (pid_t pid : kids) {
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "producer process " << pid << " status " << st;
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (c.get(c.c.counters().received) < 3u * threads * per_thread && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  c.stop();
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::int64_t>> seen;
  for (const json& s : cap.spans)
    seen[{std::stoll(attr(s, "proc").at("intValue").get<std::string>()),
          std::stoll(attr(s, "thread").at("intValue").get<std::string>())}]
        .push_back(std::stoll(attr(s, "seq").at("intValue").get<std::string>()));
  ASSERT_EQ(seen.size(), 9u);
  for (const auto& [who, seqs] : seen) {
    ASSERT_EQ(seqs.size(), static_cast<std::size_t>(per_thread)) << who.first << "/" << who.second;
    for (int i = 0; i < per_thread; ++i) ASSERT_EQ(seqs[static_cast<std::size_t>(i)], i) << "FIFO per producer";
  }
  EXPECT_EQ(c.get(c.c.counters().dropped), 0u);
}

// The program as a user runs it: demo producers into its segment, SIGINT, a flushed file.
TEST(Program, SigintStopsProducersAndFlushesTheFile) {
  const std::string tag = std::to_string(::getpid());
  const auto file = std::filesystem::temp_directory_path() / ("span_collector_prog_" + tag + ".jsonl");
  std::filesystem::remove(file);
  const std::string segment = "/span_collector_prog_" + tag;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(SPAN_COLLECTOR_BIN, SPAN_COLLECTOR_BIN, "--segment", segment.c_str(), "--file", file.c_str(),
            "--demo-producers", "2", "--max-age", "60s", "--batch", "100000", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The segment is created after the signal handlers are installed: wait for it.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!std::filesystem::exists("/dev/shm" + segment) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  // A batch of 100000 and an age of 60 s: only the shutdown flush wrote the file.
  std::ifstream in(file);
  std::size_t lines = 0, spans = 0;
  for (std::string line; std::getline(in, line); ++lines) spans += spans_of(json::parse(line)).size();
  EXPECT_EQ(lines, 1u);
  EXPECT_GT(spans, 0u);
  std::filesystem::remove(file);
}

TEST(OtlpReceiver, OfficialProtobufDefinitionsAcceptEverySpan) {
  const std::string node = SPAN_COLLECTOR_NODE;
  if (node.empty() || node.find("NOTFOUND") != std::string::npos) GTEST_SKIP() << "node is not installed";
  ASSERT_TRUE(std::filesystem::exists(std::string(SPAN_COLLECTOR_NODE_MODULES) + "/@opentelemetry/otlp-transformer"))
      << "npm packages missing: run scripts/setup.sh (installs them into build/npm)";
  const auto dir = std::filesystem::temp_directory_path() / ("span_collector_otlp_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto out_file = dir / "spans.jsonl", port_file = dir / "port";
  const pid_t node_pid = ::fork();
  ASSERT_GE(node_pid, 0);
  if (node_pid == 0) {
    ::execl(node.c_str(), node.c_str(), SPAN_COLLECTOR_RECEIVER, "--port", "0", "--out", out_file.c_str(),
            "--port-file", port_file.c_str(), "--modules", SPAN_COLLECTOR_NODE_MODULES, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!std::filesystem::exists(port_file) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(50ms);  // the port file is written whole, but give it a moment
  std::string port;
  std::ifstream(port_file) >> port;
  ASSERT_FALSE(port.empty()) << "the receiver did not start";

  auto [reg, rx] = ringwire::mpsc::channel<sc::span>(4096, 4);
  auto out = sc::make_http_exporter("http://127.0.0.1:" + port + "/v1/traces", 2000ms);
  sc::collector_options opt;
  opt.batch = 64;
  opt.max_age = 10ms;
  opt.service = "otlp-check";
  std::vector<sc::collector::receiver> sources;
  sources.push_back(std::move(rx));
  running_collector c(std::move(sources), *out, opt);
  constexpr int threads = 2, units = 150;
  std::map<std::string, std::string> parent_of;  // span id -> expected parent, from the records
  const std::uint64_t t0 = sc::now_unix_ns();
  {
    sc::tracer t(reg);
    std::vector<std::jthread> ts;
    std::mutex m;  // the test's bookkeeping only, not the tracer's
    for (int k = 0; k < threads; ++k)
      ts.emplace_back([&, k] {
        sc::handle h = t.make_handle();
        for (int i = 0; i < units; ++i) {
          auto req = h.start("GET /unit", sc::span_kind::server);
          req.set_attribute("thread", k);
          req.set_attribute("unit", i);
          req.set_attribute("ratio", i / 4.0);
          req.set_attribute("even", i % 2 == 0);
          req.set_attribute("text", "é ünïcode \"quoted\"\n");
          auto child = h.start(std::string(100, 'c'), sc::span_kind::client);
          child.set_status(sc::status_code::error, "failed");
          std::lock_guard g(m);
          parent_of[hex_of(child.record().span_id)] = hex_of(req.record().span_id);
          parent_of[hex_of(req.record().span_id)] = "";
        }
      });
  }
  const std::uint64_t t1 = sc::now_unix_ns();
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (c.get(c.c.counters().exported) + c.get(c.c.counters().dropped) < 2u * threads * units &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  c.stop();
  ::kill(node_pid, SIGTERM);
  int st = 0;
  ::waitpid(node_pid, &st, 0);
  EXPECT_EQ(c.get(c.c.counters().exported), 2u * threads * units);
  std::ifstream in(out_file);
  std::set<std::string> ids;
  std::set<std::pair<std::int64_t, std::int64_t>> units_seen;
  for (std::string line; std::getline(in, line);) {
    const json s = json::parse(line);
    ASSERT_FALSE(s.contains("error")) << s.at("error");
    EXPECT_EQ(s.at("service"), "otlp-check");
    const std::string id = s.at("spanId");
    ASSERT_TRUE(parent_of.count(id)) << "unknown span " << id;
    EXPECT_TRUE(ids.insert(id).second) << "span " << id << " twice";
    const std::uint64_t start = std::stoull(s.at("startTimeUnixNano").get<std::string>());
    const std::uint64_t end = std::stoull(s.at("endTimeUnixNano").get<std::string>());
    EXPECT_LE(t0, start);
    EXPECT_LE(start, end);
    EXPECT_LE(end, t1);
    EXPECT_EQ(s.at("traceId").get<std::string>().size(), 32u);
    if (parent_of[id].empty()) {
      EXPECT_FALSE(s.contains("parentSpanId"));
      EXPECT_EQ(s.at("name"), "GET /unit");
      EXPECT_EQ(s.at("kind"), 2);
      const auto unit = std::stoll(attr(s, "unit").at("intValue").get<std::string>());
      units_seen.insert({std::stoll(attr(s, "thread").at("intValue").get<std::string>()), unit});
      EXPECT_EQ(attr(s, "ratio").at("doubleValue").get<double>(), static_cast<double>(unit) / 4.0);
      EXPECT_EQ(attr(s, "even").at("boolValue").get<bool>(), unit % 2 == 0);
      EXPECT_EQ(attr(s, "text").at("stringValue"), "é ünïcode \"quoted\"\n");
    } else {
      EXPECT_EQ(s.at("parentSpanId"), parent_of[id]);
      EXPECT_EQ(s.at("name"), std::string(sc::name_size - 1, 'c'));
      EXPECT_EQ(s.at("kind"), 3);
      EXPECT_EQ(s.at("status"), json({{"code", 2}, {"message", "failed"}}));
      EXPECT_EQ(attr(s, "span_collector.truncated").at("intValue"), std::to_string(sc::name_truncated));
    }
  }
  EXPECT_EQ(ids.size(), 2u * threads * units);
  EXPECT_EQ(units_seen.size(), static_cast<std::size_t>(threads * units));
  std::filesystem::remove_all(dir);
}

}  // namespace
