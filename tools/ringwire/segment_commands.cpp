// tools/ringwire/segment_commands.cpp -- `ringwire stat` and `ringwire inspect`: one segment,
// mapped read-only and never joined.
//
// stat observes the segment (shm::observe: validated as fully as an opener would, whatever
// its kind) and takes describe() snapshots `interval` apart: every state word and user
// counter with its rate. inspect maps the object read-only without validating first, prints
// the header field by field (docs/shm-layout.md: offset, field, value) and then the verdict:
// validate_recorded's errc, the one segment::open would give an opener that expects exactly
// what the header says.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "ringwire/channel_kinds.hpp"
#include "ringwire/error.hpp"
#include "ringwire/shm/segment.hpp"

namespace ringwire_tool {

namespace shm = ringwire::shm;

namespace {

shm::trusted_owners trusted_of(const common_options& c) {
  shm::trusted_owners t;
  for (const std::uint32_t uid : c.trust) t.uids.push_back(static_cast<uid_t>(uid));
  return t;
}

// One describe() snapshot and the user counters, with the time it was taken.
struct snapshot {
  std::chrono::steady_clock::time_point at;
  shm::channel_description d;
  std::vector<std::uint64_t> counters;
};

snapshot take(const shm::segment& seg) {
  snapshot s{std::chrono::steady_clock::now(), shm::describe(seg), {}};
  for (std::uint32_t i = 0; i < seg.counters(); ++i)
    // relaxed: a snapshot for people; nothing is read through the counter.
    s.counters.push_back(seg.counter(i).load(std::memory_order_relaxed));
  return s;
}

// The row of the same endpoint in an earlier snapshot, or null (it joined since).
const shm::channel_description::endpoint_row* matching(const snapshot& s, const shm::channel_description::endpoint_row& r) {
  for (const auto& e : s.d.endpoints)
    if (e.role == r.role && e.index == r.index) return &e;
  return nullptr;
}

double rate(std::uint64_t before, std::uint64_t now, double seconds) {
  return (static_cast<double>(now) - static_cast<double>(before)) / seconds;
}

void report(const shm::segment& seg, const snapshot& a, const snapshot& b, bool json) {
  const double dt = std::chrono::duration<double>(b.at - a.at).count();
  const shm::identity& id = seg.info();
  const bool creator_alive = shm::detail::process_alive(static_cast<pid_t>(id.creator_pid), id.creator_start);
  if (json) {
    nlohmann::json state = nlohmann::json::array();
    for (std::size_t i = 0; i < b.d.state.size(); ++i) {
      const std::uint64_t before = i < a.d.state.size() ? a.d.state[i].value : b.d.state[i].value;
      state.push_back({{"key", std::string(b.d.state[i].key)},
                       {"value", b.d.state[i].value},
                       {"per_second", rate(before, b.d.state[i].value, dt)}});
    }
    nlohmann::json claims = nlohmann::json::array();
    for (const auto& c : b.d.claims) claims.push_back({{"role", std::string(c.key)}, {"held", c.value}});
    nlohmann::json endpoints = nlohmann::json::array();
    for (const auto& row : b.d.endpoints) {
      const auto* was = matching(a, row);
      nlohmann::json values = nlohmann::json::array();
      for (std::size_t i = 0; i < row.values.size(); ++i) {
        const std::uint64_t before = was != nullptr && i < was->values.size() ? was->values[i].value : row.values[i].value;
        values.push_back({{"key", std::string(row.values[i].key)},
                          {"value", row.values[i].value},
                          {"per_second", rate(before, row.values[i].value, dt)}});
      }
      endpoints.push_back({{"role", std::string(row.role)}, {"index", row.index}, {"values", values}});
    }
    // Publish-to-release delay (ns): since the channel was made, and over this interval.
    nlohmann::json latency = nullptr;
    if (b.d.latency) {
      latency = latency_json(*b.d.latency);
      latency["interval"] = latency_json(a.d.latency ? b.d.latency->since(*a.d.latency) : *b.d.latency);
    }
    nlohmann::json counters = nlohmann::json::array();
    for (std::size_t i = 0; i < b.counters.size(); ++i)
      counters.push_back({{"index", i}, {"value", b.counters[i]}, {"per_second", rate(a.counters[i], b.counters[i], dt)}});
    print_json({{"schema", "ringwire.stat/1"},
                {"name", seg.name()},
                {"kind", std::string(b.d.kind)},
                {"capacity", id.capacity},
                {"slot_size", id.slot_size},
                {"creator", {{"pid", id.creator_pid}, {"alive", creator_alive}}},
                {"joined", seg.joined_count()},
                {"interval_s", dt},
                {"state", state},
                {"claims", claims},
                {"endpoints", endpoints},
                {"latency", latency},
                {"counters", counters}});
    return;
  }
  fmt::print("{}  {}  capacity {}  slot {} B  creator {} ({})  joined {}  over {:.2f} s\n", seg.name(), b.d.kind,
             id.capacity, id.slot_size, id.creator_pid, creator_alive ? "alive" : "dead", seg.joined_count(), dt);
  // A rate only where the value moved: the constants (capacity, policy) stay quiet.
  auto line = [dt](const std::string& key, std::uint64_t before, std::uint64_t now) {
    if (before == now) {
      fmt::print("  {:<22} {:>20}\n", key, now);
    } else {
      fmt::print("  {:<22} {:>20} {:>16.1f}/s\n", key, now, rate(before, now, dt));
    }
  };
  for (std::size_t i = 0; i < b.d.state.size(); ++i)
    line(std::string(b.d.state[i].key), i < a.d.state.size() ? a.d.state[i].value : b.d.state[i].value,
         b.d.state[i].value);
  for (const auto& c : b.d.claims) fmt::print("  {:<22} {:>20} attached\n", c.key, c.value);
  for (const auto& row : b.d.endpoints) {
    fmt::print("  {} {}:\n", row.role, row.index);
    const auto* was = matching(a, row);
    for (std::size_t i = 0; i < row.values.size(); ++i)
      line("  " + std::string(row.values[i].key),
           was != nullptr && i < was->values.size() ? was->values[i].value : row.values[i].value, row.values[i].value);
  }
  for (std::size_t i = 0; i < b.counters.size(); ++i)
    if (b.counters[i] != 0 || a.counters[i] != 0) line(fmt::format("counter[{}]", i), a.counters[i], b.counters[i]);
  if (b.d.latency) {
    fmt::print("  latency (publish to release), all: {}\n", latency_text(*b.d.latency));
    if (a.d.latency && dt > 0)
      fmt::print("  latency over the interval:        {}\n", latency_text(b.d.latency->since(*a.d.latency)));
  }
  std::fflush(stdout);
}

// ---- inspect ---------------------------------------------------------------------------

// A read-only mapping of the whole object, unmapped on scope exit.
struct read_only_map {
  const std::byte* base = nullptr;
  std::size_t size = 0;
  ~read_only_map() {
    if (base != nullptr) ::munmap(const_cast<std::byte*>(base), size);
  }
};

struct field {
  std::size_t offset;
  const char* name;
  std::uint64_t value;
  std::string note;
};

std::vector<field> identity_fields(const shm::identity& id) {
  const char* kind = shm::to_string(id.kind);
  return {
      {0, "magic", 0, std::string(reinterpret_cast<const char*>(id.magic), 8) == "RINGWIRE" ? "RINGWIRE" : "(not RINGWIRE)"},
      {8, "version", id.version, fmt::format("this build reads {}", shm::layout_version)},
      {12, "header_bytes", id.header_bytes, ""},
      {16, "kind", static_cast<std::uint32_t>(id.kind), kind},
      {20, "unlink", static_cast<std::uint32_t>(id.unlink), unlink_name(id.unlink)},
      {24, "segment_size", id.segment_size, human_bytes(id.segment_size)},
      {32, "capacity", id.capacity, ""},
      {40, "slot_count", id.slot_count, ""},
      {48, "slot_size", id.slot_size, ""},
      {52, "slot_align", id.slot_align, ""},
      {56, "type_tag", id.type_tag, ""},
      {64, "counters_offset", id.counters_offset, ""},
      {72, "counters_count", id.counters_count, ""},
      {76, "fence_mode", id.fence_mode, id.fence_mode == 1 ? "membarrier_global" : "fenced"},
      {80, "channel_offset", id.channel_offset, ""},
      {88, "channel_size", id.channel_size, human_bytes(id.channel_size)},
      {96, "creator_pid", id.creator_pid,
       shm::detail::process_alive(static_cast<pid_t>(id.creator_pid), id.creator_start) ? "alive" : "dead"},
      {100, "endpoints", id.endpoints, ""},
      {104, "creator_start", id.creator_start, "clock ticks after boot"},
      {112, "policy", id.policy,
       (id.kind == shm::channel_kind::spsc || id.kind == shm::channel_kind::mpsc) && (id.policy & shm::latency_flag) != 0
           ? "latency histogram"
           : ""},
      {116, "region_shift", id.region_shift, ""},
      {120, "checksum", id.checksum, shm::detail::checksum(id) == id.checksum ? "matches" : "DOES NOT MATCH"},
  };
}

std::vector<field> live_fields(const shm::header& h) {
  const shm::live_words& l = h.live;
  // relaxed (all): a snapshot for people; nothing is read through these words.
  const std::uint64_t s = l.sender_claim.load(std::memory_order_relaxed);
  const std::uint64_t r = l.receiver_claim.load(std::memory_order_relaxed);
  auto claim_note = [](std::uint64_t c) {
    return c == 0 ? std::string("none")
                  : fmt::format("pid {} {}", shm::claim_pid(c), shm::detail::claim_alive(c) ? "alive" : "dead");
  };
  std::uint32_t joiners = 0, joiners_alive = 0;
  for (const auto& j : l.joiners) {
    const std::uint64_t v = j.load(std::memory_order_relaxed);
    joiners += v != 0;
    joiners_alive += shm::detail::claim_alive(v);
  }
  const std::uint32_t init = l.init_state.load(std::memory_order_relaxed);
  return {
      {128, "init_state", init, init == shm::init_ready ? "ready" : "formatting"},
      {132, "joined", l.joined.load(std::memory_order_relaxed), ""},
      {136, "stream_closed", l.stream_closed.load(std::memory_order_relaxed), ""},
      {140, "wait_family", l.wait_family.load(std::memory_order_relaxed), ""},
      {144, "heartbeat", l.heartbeat.load(std::memory_order_relaxed), "CLOCK_MONOTONIC ns"},
      {152, "sender_claim", s, claim_note(s)},
      {160, "receiver_claim", r, claim_note(r)},
      {168, "joiners_unrecorded", l.joiners_unrecorded.load(std::memory_order_relaxed), ""},
      {172, "reaped", l.reaped.load(std::memory_order_relaxed), ""},
      {256, "joiners", joiners, fmt::format("{} alive", joiners_alive)},
  };
}

}  // namespace

int run_stat(const common_options& c, const stat_options& o) {
  shm::open_options opt;
  opt.trusted = trusted_of(c);
  const shm::segment seg = shm::observe(o.name, opt);
  const auto interval = std::chrono::duration<double>(o.interval_s);
  snapshot before = take(seg);
  for (int n = 0; o.count == 0 || n < o.count; ++n) {
    std::this_thread::sleep_for(interval);
    snapshot now = take(seg);
    report(seg, before, now, c.json);
    before = std::move(now);
  }
  return exit_ok;
}

int run_inspect(const common_options& c, const std::string& name) {
  nlohmann::json doc = {{"schema", "ringwire.inspect/1"}, {"name", name}};
  auto fail = [&](ringwire::errc code, const std::string& what, int status) {
    doc["verdict"] = {{"valid", false}, {"errc", ringwire::identifier(code)}, {"message", what}};
    if (c.json) {
      print_json(doc);
    } else {
      fmt::print("verdict: INVALID: {} ({}): {}\n", ringwire::to_string(code), ringwire::identifier(code), what);
    }
    return status;
  };
  read_only_map map;
  try {
    shm::detail::check_name(name);
    struct stat st {};
    const int fd = shm::detail::open_object(name, O_RDONLY, trusted_of(c), st);
    map.size = static_cast<std::size_t>(st.st_size);
    if (map.size != 0) {
      try {
        map.base = shm::detail::map_fd(fd, map.size, /*read_only=*/true);
      } catch (...) {
        ::close(fd);
        throw;
      }
    }
    ::close(fd);
  } catch (const ringwire::error& e) {
    return fail(e.code(), e.what(), exit_failed);  // not even readable: not a verdict on its bytes
  }
  doc["size"] = map.size;
  if (!c.json) fmt::print("{}  {} bytes\n", name, map.size);
  if (map.size >= shm::header_size) {
    const auto* h = std::launder(reinterpret_cast<const shm::header*>(map.base));
    shm::identity id;
    std::memcpy(&id, map.base, sizeof id);  // a private copy: a peer cannot change it while we print
    nlohmann::json fields = nlohmann::json::array();
    if (!c.json) fmt::print("{:>6}  {:<20} {:>22}  {}\n", "OFFSET", "FIELD", "VALUE", "");
    for (const auto& group : {identity_fields(id), live_fields(*h)}) {
      for (const field& f : group) {
        fields.push_back({{"offset", f.offset}, {"field", f.name}, {"value", f.value}, {"note", f.note}});
        if (!c.json) fmt::print("{:>6}  {:<20} {:>22}  {}\n", f.offset, f.name, f.value, f.note);
      }
    }
    doc["header"] = fields;
  }
  try {
    const shm::identity id = shm::validate_recorded(map.base, map.size, &shm::find_contract);
    const shm::channel_description d = shm::describe_channel(map.base, id, *shm::find_contract(id.kind));
    nlohmann::json state = nlohmann::json::array();
    for (const auto& i : d.state) state.push_back({{"key", std::string(i.key)}, {"value", i.value}});
    nlohmann::json endpoints = nlohmann::json::array();
    for (const auto& row : d.endpoints) {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& v : row.values) values.push_back({{"key", std::string(v.key)}, {"value", v.value}});
      endpoints.push_back({{"role", std::string(row.role)}, {"index", row.index}, {"values", values}});
    }
    doc["kind"] = std::string(d.kind);
    doc["state"] = state;
    doc["endpoints"] = endpoints;
    doc["verdict"] = {{"valid", true}};
    if (c.json) {
      print_json(doc);
    } else {
      fmt::print("channel ({}):\n", d.kind);
      for (const auto& i : d.state) fmt::print("  {:<22} {:>20}\n", i.key, i.value);
      for (const auto& row : d.endpoints) {
        fmt::print("  {} {}:\n", row.role, row.index);
        for (const auto& v : row.values) fmt::print("    {:<20} {:>20}\n", v.key, v.value);
      }
      fmt::print("verdict: valid\n");
    }
    return exit_ok;
  } catch (const ringwire::error& e) {
    return fail(e.code(), e.what(), exit_invalid);
  }
}

}  // namespace ringwire_tool
