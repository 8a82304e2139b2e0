// tools/ringwire/commands.hpp -- the subcommands of the `ringwire` command and what they
// share. Each command prints for people by default and, with --json, one JSON document per
// report (schemas in docs/tools.md), and returns the process's exit status:
//   0 done; 1 a segment could not be read (not found, not ours, not ringwire...);
//   2 bad usage (CLI11); 3 `inspect` read the segment and found it invalid.
// No command writes to a segment; `clean` only removes names of abandoned ones -- except
// `bridge in`, which is the writer of the segment it feeds (bridge_command.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ringwire/histogram.hpp"
#include "ringwire/shm/header.hpp"

namespace ringwire_tool {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_invalid = 3;

struct common_options {
  bool json = false;
  std::string dir = "/dev/shm";     // where POSIX shared memory lives
  std::vector<std::uint32_t> trust;  // owners trusted besides the effective uid
};

struct stat_options {
  std::string name;
  double interval_s = 1.0;  // between the two snapshots a rate is taken over
  int count = 1;            // reports; 0: until interrupted
};

struct clean_options {
  bool dry_run = false;
};

struct export_options {
  std::string listen = "127.0.0.1:9464";  // HOST:PORT; port 0: any free one (printed)
  bool once = false;                      // print the page to stdout and exit
};

struct top_options {
  double interval_s = 1.0;
  std::string sort = "rate";  // rate, backlog, name
  int iterations = 0;         // refreshes; 0: until q
};

// `ringwire bridge out|in` (bridge_command.cpp; only where ringwire::net was built).
struct bridge_options {
  std::string segment;           // "/name": a byte-broadcast segment
  std::string address;           // a ZeroMQ endpoint
  bool connect = false;          // out: connect instead of bind
  bool bind = false;             // in: bind instead of connect
  bool lossless = false;         // DEALER/ROUTER with credits instead of PUB/SUB
  bool verbose = false;          // counters on stderr every second
  std::uint32_t batch = 4096;    // out: messages per frame at most
  std::uint32_t channel = 0;     // out: the frames' channel id
  std::uint32_t window = 4096;   // in, lossless: messages in flight
  int hwm = 1000;                // ZeroMQ high-water mark (frames)
  // in, when it creates the segment: the byte-broadcast geometry.
  std::uint64_t depth = 4096;
  std::uint64_t region = 4u << 20;
  std::uint64_t max_message = 64u << 10;
  std::uint32_t max_credited = 4;
};
int run_bridge_out(const common_options& c, const bridge_options& o);
int run_bridge_in(const common_options& c, const bridge_options& o);

int run_ls(const common_options& c);
int run_clean(const common_options& c, const clean_options& o);
int run_stat(const common_options& c, const stat_options& o);
int run_inspect(const common_options& c, const std::string& name);
int run_top(const common_options& c, const top_options& o);
int run_export(const common_options& c, const export_options& o);
// Every segment's numbers in the Prometheus text format (export.cpp).
std::string metrics_page(const common_options& c);

// "1.5 MiB", "512 B": sizes for people.
std::string human_bytes(std::uint64_t n);
// The unlink policy's name ("on_last_close").
const char* unlink_name(ringwire::shm::unlink_policy p);
// One JSON document on its own line (stdout).
void print_json(const nlohmann::json& j);
// "850 ns", "12.3 us", "4.56 ms": durations for people.
std::string human_ns(std::uint64_t ns);
// A latency histogram's count, mean and percentiles (docs/tools.md "latency"): as JSON
// (count, mean_ns, p50_ns, p90_ns, p99_ns, p999_ns, max_ns) and as one line for people.
nlohmann::json latency_json(const ringwire::histogram_snapshot& h);
std::string latency_text(const ringwire::histogram_snapshot& h);
// The quantiles every tool reports.
inline constexpr double latency_quantiles[] = {0.5, 0.9, 0.99, 0.999};

}  // namespace ringwire_tool
