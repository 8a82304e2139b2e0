// tools/ringwire/export.cpp -- `ringwire export`: every segment's numbers in the Prometheus
// text exposition format (version 0.0.4), served over HTTP at /metrics, or printed once.
//
// HTTP comes from cpp-httplib (Debian libcpp-httplib-dev): one small, mature server we only
// ask to answer GET /metrics, whereas prometheus-cpp would bring its own registry, which
// wants metrics declared up front -- ours appear and vanish with segments, so the page is
// generated from a fresh census on every scrape, as node_exporter's textfile collector or
// AeronStat would read it. Nothing is cached between scrapes; each scrape maps each segment
// read-only (shm::observe), never joins it, and unmaps it.
//
// Names follow Prometheus conventions: `ringwire_` prefix, base units, `_total` on counters,
// labels segment and kind (and index for per-endpoint rows):
//   ringwire_segment_info{segment,kind,creator_pid}  1
//   ringwire_segment_size_bytes, ringwire_segment_joined, ringwire_creator_alive,
//   ringwire_segment_abandoned, ringwire_segment_attached
//   ringwire_messages_published_total   broadcast, byte broadcast, MPSC: published; SPSC: tail
//   ringwire_messages_consumed_total    MPSC: consumed; SPSC: head
//   ringwire_<key>_total                the kinds' event counters (full_events, parks, ...)
//   ringwire_<key>                      every other describe() item, a gauge
//   ringwire_<role>_<key>{...,index}    per-endpoint rows (a broadcast subscriber's lag ...)
//   ringwire_latency_seconds{...,quantile}, _sum, _count   a summary of the publish-to-release
//                                       delay, channels that keep a latency histogram: the
//                                       percentiles since the channel was made (a summary,
//                                       not a histogram: 4352 buckets per channel would
//                                       swamp a scrape, and the quantiles are exact to 1 %)
#include <httplib.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm/census.hpp"

namespace ringwire_tool {

namespace shm = ringwire::shm;

namespace {

// describe() keys that only ever grow: exported as counters (`_total`).
bool is_counter(std::string_view key) {
  static const std::set<std::string_view> counters = {
      "full_events",    "empty_events", "producer_parks", "evictions", "subscriber_wakes", "received",
      "missed",         "parks",        "wakes",          "published", "sender_parks",     "receiver_parks",
      "sender_wakes",   "receiver_wakes", "writer_parks", "reader_wakes", "reader_parks", "writer_wakes",
      "credit_waits"};
  return counters.count(key) != 0;
}

// Label values escaped as the exposition format wants (backslash, quote, newline).
std::string escape(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// One metric family: its type, help and samples, printed together (the format wants a
// family's samples in one group after its # HELP and # TYPE).
struct family {
  const char* type;
  std::string help;
  std::vector<std::string> samples;
};

class page {
 public:
  void add(const std::string& name, const char* type, const std::string& help, const std::string& labels, double v) {
    family& f = families_[name];
    if (f.type == nullptr) {
      f.type = type;
      f.help = help;
    }
    f.samples.push_back(fmt::format("{}{{{}}} {}", name, labels, v));
  }
  void add(const std::string& name, const char* type, const std::string& help, const std::string& labels,
           std::uint64_t v) {
    family& f = families_[name];
    if (f.type == nullptr) {
      f.type = type;
      f.help = help;
    }
    f.samples.push_back(fmt::format("{}{{{}}} {}", name, labels, v));
  }
  // A sample named otherwise (a summary's _sum and _count) in family `name`'s group.
  template <class V>
  void add_to(const std::string& name, const std::string& sample, const std::string& labels, V v) {
    families_[name].samples.push_back(fmt::format("{}{{{}}} {}", sample, labels, v));
  }
  [[nodiscard]] std::string text() const {
    std::string out;
    for (const auto& [name, f] : families_) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
      for (const auto& s : f.samples) out += s + "\n";
    }
    return out;
  }

 private:
  std::map<std::string, family> families_;
};

// A describe() item as a metric: its name, type and help.
void add_item(page& p, const std::string& prefix, std::string_view kind, std::string_view key, const std::string& labels,
              std::uint64_t value) {
  if (key == "published" && prefix == "ringwire_") {
    p.add("ringwire_messages_published_total", "counter", "Messages made visible to receivers.", labels, value);
    return;
  }
  if (key == "consumed" && prefix == "ringwire_") {
    p.add("ringwire_messages_consumed_total", "counter", "Messages the receiver released.", labels, value);
    return;
  }
  if (kind == "spsc" && prefix == "ringwire_" && (key == "tail" || key == "head")) {
    if (key == "tail")
      p.add("ringwire_messages_published_total", "counter", "Messages made visible to receivers.", labels, value);
    else
      p.add("ringwire_messages_consumed_total", "counter", "Messages the receiver released.", labels, value);
    return;
  }
  const std::string name = prefix + std::string(key);
  if (is_counter(key)) {
    p.add(name + "_total", "counter", fmt::format("The channel's {} counter (describe(), docs/tools.md).", key), labels,
          value);
  } else {
    p.add(name, "gauge", fmt::format("The channel's {} (describe(), docs/tools.md).", key), labels, value);
  }
}

// A latency histogram as a Prometheus summary, in seconds.
void add_latency(page& p, const std::string& labels, const ringwire::histogram_snapshot& h) {
  const std::string help = "Publish-to-release delay of the channel's messages (latency histogram).";
  for (const double q : latency_quantiles)
    p.add("ringwire_latency_seconds", "summary", help, fmt::format("{},quantile=\"{}\"", labels, q),
          static_cast<double>(h.value_at(q)) / 1e9);
  // The _sum and _count samples belong to the family: the page prints them in its group.
  p.add_to("ringwire_latency_seconds", "ringwire_latency_seconds_sum", labels, static_cast<double>(h.sum) / 1e9);
  p.add_to("ringwire_latency_seconds", "ringwire_latency_seconds_count", labels, h.total());
}

}  // namespace

std::string metrics_page(const common_options& c) {
  shm::open_options opt;
  for (const std::uint32_t uid : c.trust) opt.trusted.uids.push_back(static_cast<uid_t>(uid));
  page p;
  std::uint64_t readable = 0, unreadable = 0;
  for (const auto& e : shm::list_segments(c.dir)) {
    if (!e.intact) {
      ++unreadable;
      continue;
    }
    const std::string kind = shm::to_string(e.kind);
    const std::string labels = fmt::format("segment=\"{}\",kind=\"{}\"", escape(e.name), kind);
    shm::channel_description d;
    try {
      const shm::segment seg = shm::segment::observe(e.name, &shm::find_contract, opt);
      d = shm::describe(seg);
    } catch (const ringwire::error&) {
      ++unreadable;  // not ours, vanished, corrupt: counted, not exported
      continue;
    }
    ++readable;
    p.add("ringwire_segment_info", "gauge", "A ringwire segment (value 1); its creator in a label.",
          fmt::format("{},creator_pid=\"{}\"", labels, e.creator_pid), std::uint64_t{1});
    p.add("ringwire_segment_size_bytes", "gauge", "Bytes of the segment.", labels, e.size);
    p.add("ringwire_segment_joined", "gauge", "Processes that joined the segment (its join count).", labels,
          std::uint64_t{e.joined});
    p.add("ringwire_creator_alive", "gauge", "1 while the creating process runs.", labels,
          std::uint64_t{e.creator_alive ? 1u : 0u});
    p.add("ringwire_segment_abandoned", "gauge", "1 when no live process made, joined or is attached to it.", labels,
          std::uint64_t{e.abandoned() ? 1u : 0u});
    p.add("ringwire_segment_attached", "gauge", "Claims (sides, entries, lanes) held by live processes.", labels,
          std::uint64_t{(e.sender_alive ? 1u : 0u) + (e.receiver_alive ? 1u : 0u) + e.endpoints_alive});
    for (const auto& i : d.state) add_item(p, "ringwire_", kind, i.key, labels, i.value);
    if (d.latency) add_latency(p, labels, *d.latency);
    for (const auto& row : d.endpoints) {
      const std::string row_labels = fmt::format("{},index=\"{}\"", labels, row.index);
      for (const auto& v : row.values)
        add_item(p, fmt::format("ringwire_{}_", row.role), kind, v.key, row_labels, v.value);
    }
  }
  p.add("ringwire_exporter_segments", "gauge", "Segments this scrape read, and those it could not.", "state=\"read\"",
        readable);
  p.add("ringwire_exporter_segments", "gauge", "Segments this scrape read, and those it could not.",
        "state=\"unreadable\"", unreadable);
  return p.text();
}

int run_export(const common_options& c, const export_options& o) {
  if (o.once) {
    const std::string text = metrics_page(c);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return exit_ok;
  }
  const auto colon = o.listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "ringwire export: --listen wants HOST:PORT, not '%s'\n", o.listen.c_str());
    return exit_usage;
  }
  const std::string host = o.listen.substr(0, colon);
  const int port = std::stoi(o.listen.substr(colon + 1));
  httplib::Server server;
  server.Get("/metrics", [&c](const httplib::Request&, httplib::Response& res) {
    try {
      res.set_content(metrics_page(c), "text/plain; version=0.0.4; charset=utf-8");
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(std::string("ringwire export: ") + e.what() + "\n", "text/plain");
    }
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html><body><a href=\"/metrics\">/metrics</a></body></html>\n", "text/html");
  });
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "ringwire export: cannot listen on %s\n", o.listen.c_str());
    return exit_failed;
  }
  // The address it serves, first line on stdout (port 0 picks a free one: scripts read it).
  std::printf("listening on http://%s:%d/metrics\n", host.c_str(), bound);
  std::fflush(stdout);
  return server.listen_after_bind() ? exit_ok : exit_failed;
}

}  // namespace ringwire_tool
