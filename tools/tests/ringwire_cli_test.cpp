// tools/tests/ringwire_cli_test.cpp -- the `ringwire` command as a user runs it: the built
// binary, its exit status, its output (the --json documents parsed, the text checked for
// what a person looks for), against segments this test makes of every kind and against the
// publishing example (examples/ipc_pubsub.cpp) running as its own process, killed with
// SIGKILL and then cleaned up.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm/broadcast.hpp"
#include "ringwire/shm/byte_broadcast.hpp"
#include "ringwire/shm/byte_ring.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "ringwire/shm/spsc.hpp"

namespace {

namespace shm = ringwire::shm;
using json = nlohmann::json;
using namespace std::chrono_literals;

struct result {
  int status = -1;  // exit status
  std::string out;  // stdout (stderr goes to the test's log)
};

// Runs `ringwire ARGS` and collects its stdout and exit status.
result run(const std::string& args) {
  const std::string cmd = std::string(RINGWIRE_CLI) + " " + args;
  FILE* p = ::popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr) << cmd;
  result r;
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int w = ::pclose(p);
  r.status = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
  return r;
}

json parse(const result& r) {
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not one JSON document: " << e.what() << "\n" << r.out;
    return json{};
  }
}

std::string unique(const char* what) { return "/rw_cli_" + std::string(what) + "_" + std::to_string(::getpid()); }

// The ls entry named `name`, or null.
json find_entry(const json& ls, const std::string& name) {
  for (const auto& e : ls["segments"])
    if (e["name"] == name) return e;
  return json{};
}

// Removes the names a test made (also when it fails half-way).
struct name_guard {
  std::vector<std::string> names;
  explicit name_guard(std::string n = {}) {
    if (!n.empty()) names.push_back(std::move(n));
  }
  name_guard(const name_guard&) = delete;
  name_guard& operator=(const name_guard&) = delete;
  ~name_guard() {
    for (const auto& n : names) (void)shm::segment::unlink(n);
  }
};

TEST(RingwireCli, UsageErrorsAndHelp) {
  EXPECT_EQ(run("").status, 2);                  // a subcommand is required
  EXPECT_EQ(run("stat").status, 2);              // stat needs a name
  EXPECT_EQ(run("stat /x --interval 0").status, 2);  // out of range
  EXPECT_EQ(run("frobnicate").status, 2);
  const result h = run("--help");
  EXPECT_EQ(h.status, 0);
  for (const char* cmd : {"ls", "stat", "inspect", "clean"}) EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd;
}

TEST(RingwireCli, EmptyDirectory) {
  char dir[] = "/tmp/rw_cli_empty_XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const result text = run(std::string("ls --dir ") + dir);
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("no ringwire segments"), std::string::npos) << text.out;
  const json j = parse(run(std::string("--json ls --dir ") + dir));
  EXPECT_EQ(j["schema"], "ringwire.ls/1");
  EXPECT_TRUE(j["segments"].empty());
  const json c = parse(run(std::string("--json clean --dir ") + dir));
  EXPECT_TRUE(c["removed"].empty());
  ::rmdir(dir);
}

// One segment of every kind: ls lists each with its kind and capacity, stat observes each
// (whatever its kind, validated as an opener would) and inspect calls each valid.
TEST(RingwireCli, EveryKindIsListedObservedAndValid) {
  struct made {
    std::string name;
    const char* kind;
    std::uint64_t capacity;
  };
  const std::vector<std::pair<const char*, shm::channel_spec>> specs = {
      {"spsc", shm::spsc_spec<std::uint64_t>(64)},
      {"mpsc", shm::mpsc_spec<std::uint64_t>(32, 4)},
      {"broadcast", shm::broadcast_spec<std::uint64_t>(128, 4)},
      {"byte_ring", shm::byte_ring_spec(4096)},
      {"byte_broadcast", shm::byte_broadcast_spec({16, 4096, 256, 2})},
  };
  std::vector<shm::segment> segments;
  name_guard guards;
  std::vector<made> all;
  for (const auto& [kind, spec] : specs) {
    const std::string name = unique(kind);
    guards.names.push_back(name);
    segments.push_back(shm::segment::create(name, spec));
    all.push_back({name, kind, segments.back().capacity()});
  }
  const json ls = parse(run("--json ls"));
  for (const made& m : all) {
    const json e = find_entry(ls, m.name);
    ASSERT_FALSE(e.is_null()) << m.name;
    EXPECT_EQ(e["kind"], m.kind);
    EXPECT_EQ(e["capacity"], m.capacity);
    EXPECT_EQ(e["creator"]["pid"], static_cast<std::uint32_t>(::getpid()));
    EXPECT_TRUE(e["creator"]["alive"].get<bool>());
    EXPECT_EQ(e["state"], "in use");
    EXPECT_FALSE(e["abandoned"].get<bool>());

    const result st = run("--json stat " + m.name + " --interval 0.05");
    EXPECT_EQ(st.status, 0) << m.name;
    const json s = parse(st);
    EXPECT_EQ(s["schema"], "ringwire.stat/1");
    EXPECT_EQ(s["kind"], m.kind);
    EXPECT_EQ(s["capacity"], m.capacity);
    EXPECT_FALSE(s["state"].empty()) << m.name;

    const result in = run("--json inspect " + m.name);
    EXPECT_EQ(in.status, 0) << in.out;
    const json i = parse(in);
    EXPECT_TRUE(i["verdict"]["valid"].get<bool>()) << in.out;
    EXPECT_EQ(i["kind"], m.kind);
  }
  // The text listing names every segment with its kind.
  const result text = run("ls");
  for (const made& m : all) {
    const auto at = text.out.find(m.name + " ");
    ASSERT_NE(at, std::string::npos) << text.out;
    EXPECT_NE(text.out.find(m.kind, at), std::string::npos);
  }
  // Looking changed nothing: still one join (ours).
  for (const auto& seg : segments) EXPECT_EQ(seg.joined_count(), 1u);
}

TEST(RingwireCli, InspectGivesTheErrcTheLibraryWouldGive) {
  const std::string name = unique("corrupt");
  name_guard guard{name};
  { auto seg = shm::segment::create(name, shm::spsc_spec<std::uint32_t>(16), {.unlink = shm::unlink_policy::never}); }
  // The header says another capacity than its checksum covers.
  const int fd = ::open(("/dev/shm" + name).c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::uint64_t capacity = 32;
  ASSERT_EQ(::pwrite(fd, &capacity, sizeof capacity, 32), static_cast<ssize_t>(sizeof capacity));
  ::close(fd);
  const result in = run("--json inspect " + name);
  EXPECT_EQ(in.status, 3) << in.out;
  const json i = parse(in);
  EXPECT_FALSE(i["verdict"]["valid"].get<bool>());
  EXPECT_EQ(i["verdict"]["errc"], "shm_corrupt");
  bool saw_capacity = false;
  for (const auto& f : i["header"]) {
    if (f["field"] == "capacity") {
      EXPECT_EQ(f["offset"], 32);
      EXPECT_EQ(f["value"], 32);
      saw_capacity = true;
    }
    if (f["field"] == "checksum") {
      EXPECT_EQ(f["note"], "DOES NOT MATCH");
    }
  }
  EXPECT_TRUE(saw_capacity);
  const result text = run("inspect " + name);
  EXPECT_EQ(text.status, 3);
  EXPECT_NE(text.out.find("checksum"), std::string::npos);
  EXPECT_NE(text.out.find("INVALID"), std::string::npos) << text.out;
  // stat refuses it with the same code, as segment::open would.
  EXPECT_EQ(run("stat " + name).status, 1);

  const result missing = run("--json inspect /rw_cli_no_such_segment");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(parse(missing)["verdict"]["errc"], "shm_not_found");
  EXPECT_EQ(run("stat /rw_cli_no_such_segment").status, 1);
}

#ifdef RINGWIRE_PUBLISHER
// The publishing example as its own process: ls shows it alive, stat shows its rate,
// inspect calls it valid; killed with SIGKILL it is dead and abandoned, clean --dry-run
// names it and removes nothing, clean removes it.
TEST(RingwireCli, AgainstARunningPublisherThenItsCrash) {
  const std::string name = unique("quotes");
  name_guard guard{name};
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl(RINGWIRE_PUBLISHER, RINGWIRE_PUBLISHER, "publish", "--name", name.c_str(), "--rate", "20000", "--seconds",
            "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  json entry;
  for (int i = 0; i < 500 && entry.is_null(); ++i) {
    std::this_thread::sleep_for(10ms);
    const json ls = parse(run("--json ls"));
    entry = find_entry(ls, name);
    if (!entry.is_null() && entry["state"] != "in use") entry = json{};  // still being formatted
  }
  ASSERT_FALSE(entry.is_null()) << "the publisher never made " << name;
  const pid_t reader = ::fork();
  ASSERT_GE(reader, 0);
  if (reader == 0) {
    ::execl(RINGWIRE_PUBLISHER, RINGWIRE_PUBLISHER, "subscribe", "--name", name.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  EXPECT_EQ(entry["kind"], "broadcast");
  EXPECT_EQ(entry["creator"]["pid"], static_cast<std::uint32_t>(child));
  EXPECT_TRUE(entry["creator"]["alive"].get<bool>());

  const result st = run("--json stat " + name + " --interval 0.3 --count 2");
  EXPECT_EQ(st.status, 0);
  int reports = 0;
  std::size_t from = 0;
  while (from < st.out.size()) {
    const std::size_t nl = st.out.find('\n', from);
    const json s = json::parse(st.out.substr(from, nl - from));
    ++reports;
    bool rated = false;
    for (const auto& item : s["state"])
      if (item["key"] == "published") {
        EXPECT_GT(item["value"].get<std::uint64_t>(), 0u);
        EXPECT_GT(item["per_second"].get<double>(), 0.0) << "the publisher publishes";
        rated = true;
      }
    EXPECT_TRUE(rated) << s.dump();
    // The subscriber (metrics on in the example) shows its entry: cursor, lag, received.
    bool subscriber_seen = false;
    for (const auto& row : s["endpoints"]) {
      if (row["role"] != "subscriber") continue;
      for (const auto& v : row["values"])
        if (v["key"] == "received" && v["value"].get<std::uint64_t>() > 0) subscriber_seen = true;
    }
    if (reports == 2) {
      EXPECT_TRUE(subscriber_seen) << s.dump();
    }
    if (nl == std::string::npos) break;
    from = nl + 1;
  }
  EXPECT_EQ(reports, 2);
  const result text = run("stat " + name + " --interval 0.1");
  EXPECT_NE(text.out.find("published"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("/s"), std::string::npos);

  EXPECT_EQ(run("inspect " + name).status, 0);

  ::kill(child, SIGKILL);
  ::kill(reader, SIGKILL);
  int w = 0;
  ::waitpid(child, &w, 0);
  ::waitpid(reader, &w, 0);
  const json after = find_entry(parse(run("--json ls")), name);
  ASSERT_FALSE(after.is_null());
  EXPECT_FALSE(after["creator"]["alive"].get<bool>());
  EXPECT_TRUE(after["abandoned"].get<bool>()) << after.dump();
  EXPECT_EQ(after["state"], "abandoned");

  const json dry = parse(run("--json clean --dry-run"));
  bool named = false;
  for (const auto& r : dry["removed"]) named = named || r["name"] == name;
  EXPECT_TRUE(named) << dry.dump();
  EXPECT_FALSE(find_entry(parse(run("--json ls")), name).is_null()) << "a dry run removed it";

  const result cleaned = run("clean");
  EXPECT_EQ(cleaned.status, 0);
  EXPECT_NE(cleaned.out.find("removed " + name), std::string::npos) << cleaned.out;
  EXPECT_NE(cleaned.out.find("dead"), std::string::npos) << cleaned.out;
  EXPECT_TRUE(find_entry(parse(run("--json ls")), name).is_null());
}
#endif

// `ringwire top` in a tmux pane, driven as a person would: it lists the segment, marks it
// STALLED (a backlog and no progress over the interval: a subscriber that stopped reading),
// re-sorts on `s` and quits on `q`.
TEST(RingwireCli, TopInTmux) {
  if (std::system("command -v tmux > /dev/null 2>&1") != 0) GTEST_SKIP() << "tmux is not installed";
  const std::string name = unique("top");
  name_guard guard{name};
  auto seg = shm::segment::create(name, shm::broadcast_spec<std::uint64_t>(16, 2, ringwire::broadcast::policy::lossless));
  auto pub = shm::broadcast::attach_publisher<std::uint64_t>(seg);
  auto sub = shm::broadcast::attach_subscriber<std::uint64_t>(seg);  // never reads
  for (std::uint64_t i = 1; i <= 3; ++i) ASSERT_EQ(pub.try_send(i), ringwire::status::ok);

  const std::string tmux = "tmux -L rw_cli_" + std::to_string(::getpid());
  const std::string pane = " -t top";
  ASSERT_EQ(std::system((tmux + " new-session -d -s top -x 200 -y 50 '" + RINGWIRE_CLI + " top -i 0.2'").c_str()), 0);
  auto screen = [&] {
    std::string out;
    FILE* p = ::popen((tmux + " capture-pane -p" + pane).c_str(), "r");
    if (p == nullptr) return out;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    ::pclose(p);
    return out;
  };
  auto line_of = [](const std::string& text, const std::string& what) {
    const auto at = text.find(what);
    if (at == std::string::npos) return std::string();
    const auto end = text.find('\n', at);
    return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
  };
  std::string row;
  for (int i = 0; i < 100 && row.find("STALLED") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    row = line_of(screen(), name + " ");
  }
  EXPECT_NE(row.find("broadcast"), std::string::npos) << screen();
  EXPECT_NE(row.find("STALLED"), std::string::npos) << screen();
  EXPECT_NE(row.find(" 3 "), std::string::npos) << "backlog 3: " << row;
  EXPECT_NE(screen().find("sort: rate"), std::string::npos);
  EXPECT_NE(screen().find(" P99 "), std::string::npos) << "the latency column";

  ASSERT_EQ(std::system((tmux + " send-keys" + pane + " s").c_str()), 0);
  bool resorted = false;
  for (int i = 0; i < 40 && !resorted; ++i) {
    std::this_thread::sleep_for(50ms);
    resorted = screen().find("sort: backlog") != std::string::npos;
  }
  EXPECT_TRUE(resorted) << screen();

  ASSERT_EQ(std::system((tmux + " send-keys" + pane + " q").c_str()), 0);
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) {
    std::this_thread::sleep_for(50ms);
    gone = std::system((tmux + " has-session" + pane + " > /dev/null 2>&1").c_str()) != 0;
  }
  EXPECT_TRUE(gone) << "top did not quit on q";
  (void)std::system((tmux + " kill-server > /dev/null 2>&1").c_str());
}

// `ringwire export`: a scrape with curl while a channel runs, the page validated by
// promtool (Prometheus's own checker), the values exact.
TEST(RingwireCli, ExportServesAPageThatPromtoolAccepts) {
  if (std::system("command -v curl > /dev/null 2>&1 && command -v promtool > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "curl or promtool (Debian prometheus) is not installed";
  const std::string name = unique("export");
  name_guard guard{name};
  auto seg = shm::segment::create(name, shm::broadcast_spec<std::uint64_t>(16, 2, ringwire::broadcast::policy::lossy));
  ringwire::broadcast::options metered;
  metered.metrics = true;
  auto pub = shm::broadcast::attach_publisher<std::uint64_t>(seg, metered);
  auto sub = shm::broadcast::attach_subscriber<std::uint64_t>(seg, metered);
  for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_EQ(pub.try_send(i), ringwire::status::ok);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sub.try_recv().has_value());
  ASSERT_EQ(sub.try_recv().status(), ringwire::status::empty);
  // A channel with a latency histogram: its summary must pass promtool too.
  const std::string timed = unique("export_latency");
  guard.names.push_back(timed);
  auto tseg = shm::segment::create(timed, shm::with_latency(shm::spsc_spec<std::uint64_t>(8)));
  auto ttx = shm::spsc::attach_sender<std::uint64_t>(tseg);
  auto trx = shm::spsc::attach_receiver<std::uint64_t>(tseg);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(ttx.try_send(i), ringwire::status::ok);
  std::this_thread::sleep_for(2ms);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(trx.try_recv().has_value());

  // The exporter on a free port; its first line says which.
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t server = ::fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::execl(RINGWIRE_CLI, RINGWIRE_CLI, "export", "--listen", "127.0.0.1:0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string first;
  char ch = 0;
  while (::read(out[0], &ch, 1) == 1 && ch != '\n') first += ch;
  ::close(out[0]);
  const auto at = first.find("http://");
  ASSERT_NE(at, std::string::npos) << first;
  const std::string url = first.substr(at);
  const std::string file = "/tmp/rw_cli_metrics_" + std::to_string(::getpid()) + ".txt";
  const int curl = std::system(("curl -sf " + url + " -o " + file).c_str());
  ::kill(server, SIGTERM);
  int w = 0;
  ::waitpid(server, &w, 0);
  ASSERT_EQ(curl, 0) << url;
  EXPECT_EQ(std::system(("promtool check metrics < " + file).c_str()), 0) << "promtool refused the page";

  std::string page;
  if (FILE* f = std::fopen(file.c_str(), "r")) {
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) page.append(buf.data(), n);
    std::fclose(f);
  }
  std::remove(file.c_str());
  const std::string labels = "{segment=\"" + name + "\",kind=\"broadcast\"}";
  EXPECT_NE(page.find("ringwire_messages_published_total" + labels + " 5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("# TYPE ringwire_messages_published_total counter"), std::string::npos);
  EXPECT_NE(page.find("ringwire_creator_alive" + labels + " 1\n"), std::string::npos);
  EXPECT_NE(page.find("ringwire_subscriber_received_total{segment=\"" + name + "\",kind=\"broadcast\",index=\"0\"} 5\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("ringwire_subscriber_lag{segment=\"" + name + "\",kind=\"broadcast\",index=\"0\"} 0\n"),
            std::string::npos);

  const std::string tlabels = "segment=\"" + timed + "\",kind=\"spsc\"";
  EXPECT_NE(page.find("# TYPE ringwire_latency_seconds summary"), std::string::npos) << page;
  EXPECT_NE(page.find("ringwire_latency_seconds_count{" + tlabels + "} 3\n"), std::string::npos) << page;
  const auto p50 = page.find("ringwire_latency_seconds{" + tlabels + ",quantile=\"0.5\"} ");
  ASSERT_NE(p50, std::string::npos) << page;
  const double p50_s = std::stod(page.substr(p50 + page.substr(p50).find("} ") + 2));
  EXPECT_GE(p50_s, 0.002) << "the messages waited at least the 2 ms slept";
  EXPECT_LT(p50_s, 10.0);

  // --once prints the same page to stdout.
  const result once = run("export --once");
  EXPECT_EQ(once.status, 0);
  EXPECT_NE(once.out.find("ringwire_messages_published_total" + labels + " 5\n"), std::string::npos);
}

// A channel that keeps a latency histogram: stat gives its percentiles, since the channel
// was made and over the interval (JSON and text).
TEST(RingwireCli, StatShowsLatencyPercentiles) {
  const std::string name = unique("stat_latency");
  name_guard guard{name};
  auto seg = shm::segment::create(name, shm::with_latency(shm::spsc_spec<std::uint64_t>(16)));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(tx.try_send(i), ringwire::status::ok);
  std::this_thread::sleep_for(3ms);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(rx.try_recv().has_value());

  const json j = parse(run("--json stat " + name + " -i 0.05"));
  ASSERT_TRUE(j["latency"].is_object()) << j.dump();
  EXPECT_EQ(j["latency"]["count"], 4u);
  EXPECT_GE(j["latency"]["p50_ns"].get<std::uint64_t>(), 3'000'000u);
  EXPECT_GE(j["latency"]["max_ns"].get<std::uint64_t>(), j["latency"]["p99_ns"].get<std::uint64_t>());
  EXPECT_EQ(j["latency"]["interval"]["count"], 0u) << "nothing was released during the interval";
  const result text = run("stat " + name + " -i 0.05");
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("latency (publish to release), all: 4 messages  p50 "), std::string::npos) << text.out;

  // Without a histogram the field is null.
  const std::string plain = unique("stat_nolatency");
  guard.names.push_back(plain);
  auto pseg = shm::segment::create(plain, shm::spsc_spec<std::uint64_t>(16));
  EXPECT_TRUE(parse(run("--json stat " + plain + " -i 0.01"))["latency"].is_null());
}

// The per-endpoint rows of the kinds that have endpoints of their own: an MPSC lane with
// its ring's numbers (and the totals), a byte broadcast credited reader with its lag.
TEST(RingwireCli, StatShowsLanesAndCreditedReaders) {
  name_guard guards;
  const std::string lanes = unique("lanes"), credits = unique("credits");
  guards.names = {lanes, credits};
  auto mseg = shm::segment::create(lanes, shm::mpsc_spec<std::uint64_t>(8, 2));
  auto rx = shm::mpsc::attach_receiver<std::uint64_t>(mseg);
  auto tx = shm::mpsc::attach_sender<std::uint64_t>(mseg);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(tx.try_send(i), ringwire::status::ok);
  auto bseg = shm::segment::create(credits, shm::byte_broadcast_spec({16, 4096, 256, 2}));
  auto w = shm::byte_broadcast::attach_writer(bseg);
  auto reader = shm::byte_broadcast::attach_credited_reader(bseg);
  const std::uint64_t word = 7;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(w.try_write(1, std::as_bytes(std::span<const std::uint64_t>(&word, 1))), ringwire::status::ok);

  auto value = [](const json& values, const char* key) {
    for (const auto& v : values)
      if (v["key"] == key) return v["value"].get<std::uint64_t>();
    return ~std::uint64_t{0};
  };
  const json m = parse(run("--json stat " + lanes + " -i 0.05"));
  EXPECT_EQ(value(m["state"], "published"), 3u) << m.dump();
  EXPECT_EQ(value(m["state"], "queued"), 3u);
  ASSERT_EQ(m["endpoints"].size(), 1u) << m.dump();
  EXPECT_EQ(m["endpoints"][0]["role"], "lane");
  EXPECT_EQ(value(m["endpoints"][0]["values"], "tail"), 3u);
  EXPECT_EQ(value(m["endpoints"][0]["values"], "queued"), 3u);

  const json b = parse(run("--json stat " + credits + " -i 0.05"));
  EXPECT_EQ(value(b["state"], "published"), 4u) << b.dump();
  EXPECT_EQ(value(b["state"], "max_lag"), 4u);
  ASSERT_EQ(b["endpoints"].size(), 1u) << b.dump();
  EXPECT_EQ(b["endpoints"][0]["role"], "credited_reader");
  EXPECT_EQ(value(b["endpoints"][0]["values"], "lag"), 4u);
}

}  // namespace
