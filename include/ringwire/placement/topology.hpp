// ringwire/placement/topology.hpp -- which CPUs share a core, a cache, a package, a node.
//
// Read from /sys (no libhwloc): per CPU, topology/{core_id,physical_package_id,
// thread_siblings_list} and cache/index*/{level,shared_cpu_list}; per node,
// node*/cpulist. Every file is optional: one that is missing or unreadable leaves its
// fact unknown (-1, an empty list), never an exception. The CPUs listed are those
// allowed_cpus() names (this process may run on them), or cpu0..cpuN found under /sys
// when that call fails.
//
//   auto topo = ringwire::topology::read();
//   auto [a, b] = topo.pick_pair();          // two CPUs sharing L2/L3, not SMT siblings
//   ringwire::pin(producer, a); ringwire::pin(consumer, b);
#pragma once

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ringwire/placement/affinity.hpp"
#include "ringwire/placement/cpu_list.hpp"

namespace ringwire {

// What /sys says about one CPU; -1 or empty where it says nothing.
struct cpu_info {
  int cpu = -1;
  int core = -1;      // core_id (unique within its package only)
  int package = -1;   // physical_package_id
  int numa_node = -1; // the node whose cpulist names it
  std::vector<int> smt_siblings;  // thread_siblings_list, itself included
  std::vector<int> l2_shared;     // shared_cpu_list of its level-2 cache, itself included
  std::vector<int> l3_shared;     // of its level-3 cache
};

class topology {
 public:
  // Reads the machine's topology under `sys_root` (tests point it at a fake tree).
  static topology read(const std::string& sys_root = "/sys") {
    topology t;
    const std::string cpu_dir = sys_root + "/devices/system/cpu/";
    std::vector<int> cpus = allowed_cpus();
    if (cpus.empty()) {
      if (auto present = parse_cpu_list(read_text(cpu_dir + "present"))) cpus = *present;
    }
    std::vector<std::vector<int>> nodes;
    for (int n = 0; n < max_nodes; ++n) {
      auto list = parse_cpu_list(read_text(sys_root + "/devices/system/node/node" + std::to_string(n) + "/cpulist"));
      nodes.push_back(list ? *list : std::vector<int>{});
    }
    for (int c : cpus) {
      cpu_info i;
      i.cpu = c;
      const std::string base = cpu_dir + "cpu" + std::to_string(c) + "/";
      i.core = read_int(base + "topology/core_id");
      i.package = read_int(base + "topology/physical_package_id");
      i.smt_siblings = read_list(base + "topology/thread_siblings_list");
      for (int n = 0; n < max_nodes; ++n)
        if (std::binary_search(nodes[static_cast<std::size_t>(n)].begin(), nodes[static_cast<std::size_t>(n)].end(), c))
          i.numa_node = n;
      for (int k = 0; k < max_cache_indices; ++k) {
        const std::string idx = base + "cache/index" + std::to_string(k) + "/";
        const int level = read_int(idx + "level");
        if (level == 2) i.l2_shared = read_list(idx + "shared_cpu_list");
        if (level == 3) i.l3_shared = read_list(idx + "shared_cpu_list");
      }
      t.cpus_.push_back(std::move(i));
    }
    return t;
  }

  [[nodiscard]] const std::vector<cpu_info>& cpus() const noexcept { return cpus_; }
  // The facts about `cpu`, or nullptr when it is not listed.
  [[nodiscard]] const cpu_info* find(int cpu) const noexcept {
    for (const cpu_info& i : cpus_)
      if (i.cpu == cpu) return &i;
    return nullptr;
  }

  // The listed CPUs sharing `cpu`'s cache of `level` (2 or 3), `cpu` included; empty when
  // unknown. Throws invalid_options for another level.
  [[nodiscard]] std::vector<int> cpus_sharing_cache(int cpu, int level) const {
    if (level != 2 && level != 3)
      throw error(errc::invalid_options, "cpus_sharing_cache: level " + std::to_string(level) + " (2 or 3)");
    const cpu_info* i = find(cpu);
    if (i == nullptr) return {};
    const std::vector<int>& all = level == 2 ? i->l2_shared : i->l3_shared;
    std::vector<int> out;
    for (int c : all)
      if (find(c) != nullptr) out.push_back(c);
    return out;
  }

  // Two different CPUs for a producer / consumer pair, best first: sharing an L2 but not a
  // core (not SMT siblings), then sharing an L3 but not a core, then any two that are not
  // SMT siblings, then any two. nullopt with fewer than two CPUs.
  [[nodiscard]] std::optional<std::pair<int, int>> pick_pair() const {
    using list = std::vector<int> cpu_info::*;
    const list tiers[] = {&cpu_info::l2_shared, &cpu_info::l3_shared, nullptr, nullptr};
    for (int tier = 0; tier < 4; ++tier)
      for (const cpu_info& a : cpus_)
        for (const cpu_info& b : cpus_) {
          if (b.cpu <= a.cpu) continue;
          const list shared = tiers[tier];
          if (shared != nullptr && !contains(a.*shared, b.cpu)) continue;
          if (tier < 3 && contains(a.smt_siblings, b.cpu)) continue;
          return std::pair{a.cpu, b.cpu};
        }
    return std::nullopt;
  }

 private:
  static constexpr int max_nodes = 64;          // node0..node63 probed
  static constexpr int max_cache_indices = 8;  // index0..index7 probed

  static bool contains(const std::vector<int>& v, int c) { return std::binary_search(v.begin(), v.end(), c); }
  static std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::ostringstream s;
    if (f) s << f.rdbuf();
    return s.str();
  }
  static std::vector<int> read_list(const std::string& path) {
    auto r = parse_cpu_list(read_text(path));
    return r ? *r : std::vector<int>{};
  }
  static int read_int(const std::string& path) {
    const std::string s = read_text(path);
    int v = 0;
    std::size_t n = 0;
    for (; n < s.size() && n < 9 && s[n] >= '0' && s[n] <= '9'; ++n) v = v * 10 + (s[n] - '0');
    return n == 0 ? -1 : v;
  }

  std::vector<cpu_info> cpus_;
};

}  // namespace ringwire
