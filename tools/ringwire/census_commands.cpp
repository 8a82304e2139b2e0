// tools/ringwire/census_commands.cpp -- `ringwire ls` and `ringwire clean`: the census of
// shm/census.hpp (headers read with pread, nothing mapped or joined), printed.
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm/census.hpp"

namespace ringwire_tool {

namespace shm = ringwire::shm;

std::string human_bytes(std::uint64_t n) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) return fmt::format("{} B", n);
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string human_ns(std::uint64_t ns) {
  if (ns < 1000) return fmt::format("{} ns", ns);
  const double v = static_cast<double>(ns);
  if (ns < 1'000'000) return fmt::format("{:.1f} us", v / 1e3);
  if (ns < 1'000'000'000) return fmt::format("{:.2f} ms", v / 1e6);
  return fmt::format("{:.2f} s", v / 1e9);
}

nlohmann::json latency_json(const ringwire::histogram_snapshot& h) {
  return {{"count", h.total()},         {"mean_ns", h.mean()},           {"p50_ns", h.value_at(0.5)},
          {"p90_ns", h.value_at(0.9)},  {"p99_ns", h.value_at(0.99)},    {"p999_ns", h.value_at(0.999)},
          {"max_ns", h.max}};
}

std::string latency_text(const ringwire::histogram_snapshot& h) {
  if (h.total() == 0) return "no messages";
  return fmt::format("{} messages  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}", h.total(), human_ns(h.value_at(0.5)),
                     human_ns(h.value_at(0.9)), human_ns(h.value_at(0.99)), human_ns(h.value_at(0.999)),
                     human_ns(h.max));
}

const char* unlink_name(shm::unlink_policy p) {
  switch (p) {
    case shm::unlink_policy::never: return "never";
    case shm::unlink_policy::on_last_close: return "on_last_close";
    case shm::unlink_policy::on_creator_exit: return "on_creator_exit";
  }
  return "unknown";
}

void print_json(const nlohmann::json& j) {
  const std::string s = j.dump();
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

namespace {

// What the segment is to an operator, in one word or two.
std::string state_of(const shm::segment_entry& e) {
  if (!e.intact) {
    return e.version != shm::layout_version ? fmt::format("layout version {}", e.version)
                                            : std::string("initialising or corrupt");
  }
  return e.abandoned() ? "abandoned" : "in use";
}

// Why the census calls it abandoned (segment_entry::abandoned's two cases).
std::string why_abandoned(const shm::segment_entry& e) {
  if (e.count_held_by_dead())
    return fmt::format("its join count ({}) is held up only by dead processes", e.joined);
  return fmt::format("its creator (pid {}) is dead and no live process has it joined or attached", e.creator_pid);
}

nlohmann::json to_json(const shm::segment_entry& e) {
  nlohmann::json j = {{"name", e.name},
                      {"size", e.size},
                      {"version", e.version},
                      {"intact", e.intact},
                      {"owner_uid", e.owner_uid},
                      {"owner_gid", e.owner_gid},
                      {"state", state_of(e)}};
  if (!e.intact) return j;
  j["kind"] = shm::to_string(e.kind);
  j["unlink"] = unlink_name(e.unlink);
  j["capacity"] = e.capacity;
  j["slot_size"] = e.slot_size;
  j["creator"] = {{"pid", e.creator_pid}, {"alive", e.creator_alive}};
  j["joined"] = e.joined;
  j["holders"] = {{"recorded", e.holders}, {"alive", e.holders_alive}, {"unrecorded", e.holders_unrecorded}};
  j["sender"] = {{"pid", e.sender_pid}, {"alive", e.sender_alive}};
  j["receiver"] = {{"pid", e.receiver_pid}, {"alive", e.receiver_alive}};
  j["endpoints"] = {{"words", e.endpoints}, {"alive", e.endpoints_alive}};
  j["abandoned"] = e.abandoned();
  if (e.abandoned()) j["why"] = why_abandoned(e);
  return j;
}

std::string pid_cell(std::uint32_t pid, bool alive) {
  return pid == 0 ? std::string("-") : fmt::format("{} {}", pid, alive ? "alive" : "dead");
}

}  // namespace

int run_ls(const common_options& c) {
  const std::vector<shm::segment_entry> all = shm::list_segments(c.dir);
  if (c.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : all) list.push_back(to_json(e));
    print_json({{"schema", "ringwire.ls/1"}, {"dir", c.dir}, {"segments", list}});
    return exit_ok;
  }
  if (all.empty()) {
    fmt::print("no ringwire segments in {}\n", c.dir);
    return exit_ok;
  }
  fmt::print("{:<24} {:<15} {:>10} {:>9} {:<14} {:<14} {:<14} {:>6} {:>11}  {}\n", "NAME", "KIND", "SIZE",
             "CAPACITY", "CREATOR", "SENDER", "RECEIVER", "JOINED", "ENDPOINTS", "STATE");
  for (const auto& e : all) {
    if (!e.intact) {
      fmt::print("{:<24} {:<15} {:>10} {:>9} {:<14} {:<14} {:<14} {:>6} {:>11}  {}\n", e.name, "?",
                 human_bytes(e.size), "?", "?", "?", "?", "?", "?", state_of(e));
      continue;
    }
    fmt::print("{:<24} {:<15} {:>10} {:>9} {:<14} {:<14} {:<14} {:>6} {:>11}  {}\n", e.name, shm::to_string(e.kind),
               human_bytes(e.size), e.capacity, pid_cell(e.creator_pid, e.creator_alive),
               pid_cell(e.sender_pid, e.sender_alive), pid_cell(e.receiver_pid, e.receiver_alive), e.joined,
               e.endpoints == 0 ? std::string("-") : fmt::format("{}/{} alive", e.endpoints_alive, e.endpoints),
               state_of(e));
  }
  return exit_ok;
}

int run_clean(const common_options& c, const clean_options& o) {
  shm::trusted_owners trusted;
  for (const std::uint32_t uid : c.trust) trusted.uids.push_back(static_cast<uid_t>(uid));
  // The census first, for the reasons; the removal judges every segment again itself.
  std::vector<shm::segment_entry> abandoned;
  for (const auto& e : shm::list_segments(c.dir))
    if (e.abandoned() && trusted.trusts(e.owner_uid, e.owner_gid)) abandoned.push_back(e);
  std::vector<std::string> removed;
  if (!o.dry_run) removed = shm::remove_abandoned_segments(c.dir, trusted);

  auto was_removed = [&](const std::string& name) {
    for (const auto& r : removed)
      if (r == name) return true;
    return false;
  };
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : abandoned) {
    if (!o.dry_run && !was_removed(e.name)) continue;  // judged alive again, or gone already
    list.push_back({{"name", e.name}, {"kind", shm::to_string(e.kind)}, {"size", e.size}, {"why", why_abandoned(e)}});
  }
  if (c.json) {
    print_json({{"schema", "ringwire.clean/1"}, {"dir", c.dir}, {"dry_run", o.dry_run}, {"removed", list}});
    return exit_ok;
  }
  if (list.empty()) {
    fmt::print("nothing to remove in {}\n", c.dir);
    return exit_ok;
  }
  for (const auto& r : list)
    fmt::print("{} {} ({}, {}): {}\n", o.dry_run ? "would remove" : "removed", r["name"].get<std::string>(),
               r["kind"].get<std::string>(), human_bytes(r["size"].get<std::uint64_t>()), r["why"].get<std::string>());
  return exit_ok;
}

}  // namespace ringwire_tool
