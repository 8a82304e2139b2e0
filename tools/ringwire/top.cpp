// tools/ringwire/top.cpp -- `ringwire top`: every segment, refreshed, one line each, in a
// full-screen view on plain ANSI escapes (no curses: one less library, and a dumb terminal
// or a tmux pane shows it the same way).
//
// Each refresh takes the census (shm/census.hpp) and, for every intact segment, a describe()
// snapshot through a read-only mapping (shm::observe, kept open between refreshes and
// dropped when the name goes). Per segment: its progress counter's rate (broadcast and byte
// broadcast: published; spsc and byte rings: tail), its backlog (broadcast: the slowest
// subscriber's lag; spsc, mpsc: queued; byte ring: used bytes), who made it and whether that
// process lives, and for channels that keep a latency histogram the p99 of the messages
// released over the interval. A segment with a backlog that made no progress over the interval is STALLED
// (its receiver is stuck or dead); one whose creator died is DEAD; both are shown in red.
// Keys: s cycles the sort (rate, backlog, name), q (or Ctrl-C) quits.
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm/census.hpp"

namespace ringwire_tool {

namespace shm = ringwire::shm;

namespace {

volatile sig_atomic_t interrupted = 0;
void on_signal(int) { interrupted = 1; }

// The terminal in raw mode (no echo, no line buffering) while top runs; restored on exit.
class raw_terminal {
 public:
  raw_terminal() {
    if (::isatty(STDIN_FILENO) == 0 || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    std::fputs("\x1b[?25l", stdout);  // hide the cursor
  }
  ~raw_terminal() {
    std::fputs("\x1b[?25h\n", stdout);
    std::fflush(stdout);
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// The key pressed within `wait`, or nothing.
std::optional<char> key_within(std::chrono::milliseconds wait) {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0 || (p.revents & POLLIN) == 0) return std::nullopt;
  char c = 0;
  if (::read(STDIN_FILENO, &c, 1) != 1) return std::nullopt;
  return c;
}

std::optional<std::uint64_t> item(const shm::channel_description& d, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto v = d.value(k)) return v;
  return std::nullopt;
}

// The progress counter and the backlog of a kind's describe() (see the top of this file).
std::optional<std::uint64_t> progress_of(const shm::channel_description& d) { return item(d, {"published", "tail"}); }
std::optional<std::uint64_t> backlog_of(const shm::channel_description& d) {
  return item(d, {"max_lag", "queued", "used_bytes"});
}

struct row {
  std::string name, kind, state;
  std::optional<double> rate;
  std::optional<std::uint64_t> backlog;
  std::optional<std::uint64_t> p99;  // latency over the interval, channels that keep it
  std::uint32_t creator = 0;
  bool creator_alive = false;
  std::uint32_t attached = 0;
  bool alarm = false;  // stalled or dead: shown in red
};

enum class sort_by { rate, backlog, name };
const char* to_string(sort_by s) { return s == sort_by::rate ? "rate" : s == sort_by::backlog ? "backlog" : "name"; }

struct watched {
  shm::segment seg;
  std::optional<std::uint64_t> last_progress;
  std::chrono::steady_clock::time_point last_at;
  std::optional<ringwire::histogram_snapshot> last_latency;
};

std::vector<row> refresh(const common_options& c, std::map<std::string, watched>& open) {
  shm::open_options opt;
  for (const std::uint32_t uid : c.trust) opt.trusted.uids.push_back(static_cast<uid_t>(uid));
  std::vector<row> rows;
  std::map<std::string, watched> still;
  for (const auto& e : shm::list_segments(c.dir)) {
    row r;
    r.name = e.name;
    if (!e.intact) {
      r.kind = "?";
      r.state = e.version != shm::layout_version ? fmt::format("version {}", e.version) : "unreadable";
      rows.push_back(r);
      continue;
    }
    r.kind = shm::to_string(e.kind);
    r.creator = e.creator_pid;
    r.creator_alive = e.creator_alive;
    r.attached = (e.sender_alive ? 1u : 0u) + (e.receiver_alive ? 1u : 0u) + e.endpoints_alive;
    auto it = open.find(e.name);
    try {
      if (it == open.end()) it = open.emplace(e.name, watched{shm::segment::observe(e.name, &shm::find_contract, opt), {}, {}, {}}).first;
      watched& w = it->second;
      const auto now = std::chrono::steady_clock::now();
      const shm::channel_description d = shm::describe(w.seg);
      const auto progress = progress_of(d);
      r.backlog = backlog_of(d);
      if (progress && w.last_progress) {
        const double dt = std::chrono::duration<double>(now - w.last_at).count();
        r.rate = dt > 0 ? (static_cast<double>(*progress) - static_cast<double>(*w.last_progress)) / dt : 0.0;
      }
      const bool stalled = r.rate && *r.rate == 0.0 && r.backlog && *r.backlog != 0;
      r.state = e.abandoned() ? "DEAD" : stalled ? "STALLED" : "ok";
      r.alarm = e.abandoned() || stalled || !e.creator_alive;
      if (d.latency) {
        const ringwire::histogram_snapshot recent = w.last_latency ? d.latency->since(*w.last_latency) : *d.latency;
        if (recent.total() != 0) r.p99 = recent.value_at(0.99);
      }
      w.last_latency = d.latency;
      w.last_progress = progress;
      w.last_at = now;
      still.emplace(e.name, std::move(w));
    } catch (const ringwire::error& err) {
      r.state = ringwire::identifier(err.code());
      r.alarm = true;
    }
    rows.push_back(r);
  }
  open = std::move(still);  // names that went are dropped (their mappings with them)
  return rows;
}

void draw(const std::vector<row>& rows, sort_by sort, double interval_s, const std::string& dir) {
  std::string out = "\x1b[H\x1b[2J";  // home, clear
  out += fmt::format("ringwire top  {}  every {:.1f} s  sort: {}  ({} segments)   s: sort  q: quit\n\n", dir,
                     interval_s, to_string(sort), rows.size());
  out += fmt::format("\x1b[1m{:<28} {:<15} {:>14} {:>12} {:>10} {:<16} {:>8}  {}\x1b[0m\n", "NAME", "KIND", "RATE/s",
                     "BACKLOG", "P99", "CREATOR", "ATTACHED", "STATE");
  for (const row& r : rows) {
    const std::string rate = r.rate ? fmt::format("{:.0f}", *r.rate) : "-";
    const std::string backlog = r.backlog ? fmt::format("{}", *r.backlog) : "-";
    const std::string p99 = r.p99 ? human_ns(*r.p99) : "-";
    const std::string creator = r.creator == 0 ? "-" : fmt::format("{} {}", r.creator, r.creator_alive ? "alive" : "dead");
    out += fmt::format("{}{:<28} {:<15} {:>14} {:>12} {:>10} {:<16} {:>8}  {}{}\n", r.alarm ? "\x1b[31m" : "", r.name,
                       r.kind, rate, backlog, p99, creator, r.attached, r.state, r.alarm ? "\x1b[0m" : "");
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

int run_top(const common_options& c, const top_options& o) {
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);
  raw_terminal term;
  sort_by sort = o.sort == "backlog" ? sort_by::backlog : o.sort == "name" ? sort_by::name : sort_by::rate;
  std::map<std::string, watched> open;
  const auto interval = std::chrono::milliseconds(static_cast<long>(o.interval_s * 1000));
  for (int n = 0; (o.iterations == 0 || n < o.iterations) && interrupted == 0; ++n) {
    std::vector<row> rows = refresh(c, open);
    std::stable_sort(rows.begin(), rows.end(), [sort](const row& a, const row& b) {
      if (sort == sort_by::name) return a.name < b.name;
      if (sort == sort_by::backlog) return a.backlog.value_or(0) > b.backlog.value_or(0);
      return a.rate.value_or(-1) > b.rate.value_or(-1);
    });
    draw(rows, sort, o.interval_s, c.dir);
    // Wait out the interval, answering keys as they come.
    const auto until = std::chrono::steady_clock::now() + interval;
    bool redraw = false;
    while (!redraw && interrupted == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      const auto k = key_within(left);
      if (!k) continue;
      if (*k == 'q' || *k == 'Q') return exit_ok;
      if (*k == 's' || *k == 'S') {
        sort = sort == sort_by::rate ? sort_by::backlog : sort == sort_by::backlog ? sort_by::name : sort_by::rate;
        redraw = true;  // show the new order at once (the rates wait for the next interval)
      }
    }
  }
  return exit_ok;
}

}  // namespace ringwire_tool
