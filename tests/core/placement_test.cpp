// tests/core/placement_test.cpp -- thread and memory placement (ringwire/placement.hpp).
//
// Pinning is checked with sched_getaffinity / sched_getcpu, the topology against the files
// under /sys it is read from, and memory placement against what the kernel reports for the
// mapping: /proc/self/smaps (Rss after prefault, Locked after lock, KernelPageSize with huge
// pages) and /proc/self/numa_maps (the bind policy). Huge pages are reserved for the test
// when it may (root: /proc/sys/vm/nr_hugepages, restored afterwards), else skipped.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/unit_support.hpp"
#include "ringwire/broadcast.hpp"
#include "ringwire/byte_broadcast.hpp"
#include "ringwire/byte_ring.hpp"
#include "ringwire/mpmc.hpp"
#include "ringwire/mpsc.hpp"
#include "ringwire/pipeline.hpp"
#include "ringwire/placement.hpp"
#include "ringwire/shm.hpp"
#include "ringwire/spsc.hpp"

namespace {

using ringwire::errc;
using rw_test::error_code;

// ---- CPU lists ----------------------------------------------------------------------------

std::vector<int> parsed(const char* s) { return ringwire::parse_cpu_list(s).value(); }

TEST(CpuList, ParsesWhatSysWrites) {
  EXPECT_EQ(parsed(""), std::vector<int>{});
  EXPECT_EQ(parsed("\n"), std::vector<int>{});
  EXPECT_EQ(parsed("0"), std::vector<int>{0});
  EXPECT_EQ(parsed("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parsed("5-5"), std::vector<int>{5});
  EXPECT_EQ(parsed("3,1,1,0-1"), (std::vector<int>{0, 1, 3}));  // sorted, no repeats
  EXPECT_EQ(parsed("8191"), std::vector<int>{8191});
  EXPECT_EQ(parsed("0-8191").size(), 8192u);
}

TEST(CpuList, RefusesEverythingElse) {
  for (const char* bad : {"3-1", "a", "1,", ",1", "1-", "-1", "1--2", "8192", "0-8192", "99999999999999999999",
                          "0-7:2/4", " 1", "1 ,2", "1\n2", "0x1", "1,,2"}) {
    auto r = ringwire::parse_cpu_list(bad);
    ASSERT_FALSE(r) << '"' << bad << '"';
    EXPECT_EQ(r.error().code, errc::invalid_options) << bad;
    EXPECT_NE(r.error().message.find("CPU list"), std::string::npos) << r.error().message;
  }
}

TEST(Placement, ErrcNames) {
  EXPECT_STREQ(ringwire::identifier(errc::invalid_cpu), "invalid_cpu");
  EXPECT_STREQ(ringwire::identifier(errc::invalid_numa_node), "invalid_numa_node");
  EXPECT_STREQ(ringwire::identifier(errc::hugepages_unavailable), "hugepages_unavailable");
  EXPECT_STREQ(ringwire::identifier(errc::memory_lock_denied), "memory_lock_denied");
  EXPECT_STREQ(ringwire::to_string(errc::invalid_cpu), "invalid CPU");
}

// ---- pinning ------------------------------------------------------------------------------

std::vector<int> my_affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

TEST(Pin, CurrentThreadRunsOnlyThere) {
  const std::vector<int> allowed = ringwire::allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  EXPECT_EQ(allowed, my_affinity());
  std::thread([&] {  // a thread of its own, so the test's main thread keeps its mask
    for (int cpu : allowed) {
      ringwire::pin_current_thread(cpu);
      EXPECT_EQ(my_affinity(), std::vector<int>{cpu});
      EXPECT_EQ(::sched_getcpu(), cpu);  // the call migrates before it returns
    }
  }).join();
}

TEST(Pin, OtherThreadsStdAndJthread) {
  const int cpu = ringwire::allowed_cpus().back();
  std::atomic<int> go{0};
  auto body = [&] {
    // acquire: the pin happens-before this read of the mask.
    while (go.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    EXPECT_EQ(my_affinity(), std::vector<int>{cpu});
    EXPECT_EQ(::sched_getcpu(), cpu);
  };
  std::thread t(body);
  ringwire::pin(t, cpu);
  std::jthread j(body);
  ringwire::pin(j, cpu);
  go.store(1, std::memory_order_release);  // release: publishes that both pins are done
  t.join();
  j.join();
  EXPECT_EQ(error_code([&] { ringwire::pin(t, cpu); }), errc::invalid_options);  // joined: not running
}

TEST(Pin, CpusThatDoNotExistOrAreNotAllowed) {
  std::thread([] {
    const std::vector<int> before = my_affinity();
    EXPECT_EQ(error_code([] { ringwire::pin_current_thread(-1); }), errc::invalid_cpu);
    EXPECT_EQ(error_code([] { ringwire::pin_current_thread(CPU_SETSIZE); }), errc::invalid_cpu);
    const int outside = ringwire::allowed_cpus().back() + 1;  // exists or not, it is not ours
    try {
      ringwire::pin_current_thread(outside);
      ADD_FAILURE() << "pinned to a CPU outside the allowed set";
    } catch (const ringwire::error& e) {
      EXPECT_EQ(e.code(), errc::invalid_cpu);
      EXPECT_NE(std::string(e.what()).find("CPU " + std::to_string(outside)), std::string::npos) << e.what();
    }
    EXPECT_EQ(my_affinity(), before);  // a refused pin changes nothing
  }).join();
}

TEST(Pin, PipelineStageOnCpu) {
  namespace rp = ringwire::pipeline;
  const int cpu = ringwire::allowed_cpus().back();
  auto [in, out, pipe] = rp::source<int>(4)
                             .then(rp::named("where", [](int) { return ::sched_getcpu(); }).on_cpu(cpu))
                             .build();
  ASSERT_EQ(in.send(1), ringwire::status::ok);
  auto r = out.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, cpu);
  in.close();
  pipe.join();
  pipe.rethrow_if_failed();

  EXPECT_EQ(error_code([] {
              auto b = rp::source<int>(4).then(rp::named("", [](int x) { return x; }).on_cpu(CPU_SETSIZE + 5)).build();
            }),
            errc::invalid_cpu);
}

// ---- topology -----------------------------------------------------------------------------

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
int sys_int(const std::string& path) {
  const std::string s = slurp(path);
  return s.empty() ? -1 : std::stoi(s);
}

TEST(Topology, AgreesWithSys) {
  const auto topo = ringwire::topology::read();
  ASSERT_EQ(topo.cpus().size(), ringwire::allowed_cpus().size());
  for (const ringwire::cpu_info& i : topo.cpus()) {
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(i.cpu) + "/";
    EXPECT_EQ(i.core, sys_int(base + "topology/core_id"));
    EXPECT_EQ(i.package, sys_int(base + "topology/physical_package_id"));
    EXPECT_EQ(i.smt_siblings, ringwire::parse_cpu_list(slurp(base + "topology/thread_siblings_list")).value());
    for (int k = 0; k < 8; ++k) {
      const std::string idx = base + "cache/index" + std::to_string(k) + "/";
      const int level = sys_int(idx + "level");
      if (level != 2 && level != 3) continue;
      const auto want = ringwire::parse_cpu_list(slurp(idx + "shared_cpu_list")).value();
      EXPECT_EQ(level == 2 ? i.l2_shared : i.l3_shared, want) << "cpu " << i.cpu << " L" << level;
      EXPECT_EQ(topo.cpus_sharing_cache(i.cpu, level), want);  // every CPU of this machine is allowed
    }
    if (::access("/sys/devices/system/node/node0", F_OK) == 0 && i.numa_node >= 0) {
      const auto node = ringwire::parse_cpu_list(slurp("/sys/devices/system/node/node" +
                                                       std::to_string(i.numa_node) + "/cpulist")).value();
      EXPECT_TRUE(std::find(node.begin(), node.end(), i.cpu) != node.end());
    }
  }
  EXPECT_EQ(error_code([&] { (void)topo.cpus_sharing_cache(0, 1); }), errc::invalid_options);
  EXPECT_TRUE(topo.cpus_sharing_cache(100000, 3).empty());
  if (topo.cpus().size() >= 2) {
    const auto pair = topo.pick_pair();
    ASSERT_TRUE(pair);
    EXPECT_NE(pair->first, pair->second);
    EXPECT_NE(topo.find(pair->first), nullptr);
    EXPECT_NE(topo.find(pair->second), nullptr);
  }
}

// A fake /sys: the preference order of pick_pair, and files missing or garbled.
struct fake_sys {
  std::string root = "/tmp/rw_fake_sys_" + std::to_string(::getpid());
  fake_sys() { std::system(("rm -rf " + root).c_str()); }
  ~fake_sys() { std::system(("rm -rf " + root).c_str()); }
  void put(const std::string& rel, const std::string& text) const {
    const std::string path = root + "/devices/system/" + rel;
    std::system(("mkdir -p " + path.substr(0, path.rfind('/'))).c_str());
    std::ofstream(path) << text;
  }
};

TEST(Topology, PickPairPrefersSharedCacheOverSmtSiblings) {
  const std::vector<int> cpus = ringwire::allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two allowed CPUs";
  const std::string a = std::to_string(cpus[0]), b = std::to_string(cpus[1]);
  {
    fake_sys s;  // siblings of one core: the only pair there is, chosen last
    s.put("cpu/cpu" + a + "/topology/thread_siblings_list", a + "," + b + "\n");
    s.put("cpu/cpu" + b + "/topology/thread_siblings_list", a + "," + b + "\n");
    const auto t = ringwire::topology::read(s.root);
    ASSERT_TRUE(t.pick_pair());
    EXPECT_EQ(t.find(cpus[0])->smt_siblings, (std::vector<int>{cpus[0], cpus[1]}));
  }
  {
    fake_sys s;  // garbage and missing files: facts unknown, nothing thrown
    s.put("cpu/cpu" + a + "/topology/core_id", "zzz");
    s.put("cpu/cpu" + a + "/topology/thread_siblings_list", "9-1");
    s.put("cpu/cpu" + a + "/cache/index2/level", "2\n");
    s.put("cpu/cpu" + a + "/cache/index2/shared_cpu_list", a + "," + b);
    s.put("node/node3/cpulist", a);
    const auto t = ringwire::topology::read(s.root);
    const ringwire::cpu_info* i = t.find(cpus[0]);
    ASSERT_NE(i, nullptr);
    EXPECT_EQ(i->core, -1);
    EXPECT_EQ(i->package, -1);
    EXPECT_TRUE(i->smt_siblings.empty());
    EXPECT_EQ(i->numa_node, 3);
    EXPECT_EQ(t.cpus_sharing_cache(cpus[0], 2), (std::vector<int>{cpus[0], cpus[1]}));
    EXPECT_TRUE(t.cpus_sharing_cache(cpus[0], 3).empty());
    EXPECT_EQ(t.pick_pair(), (std::pair{cpus[0], cpus[1]}));
  }
  const auto none = ringwire::topology::read("/nonexistent");
  EXPECT_EQ(none.cpus().size(), cpus.size());
}

// ---- memory -------------------------------------------------------------------------------

// The smaps fields ("Size", "Rss", "Locked", "KernelPageSize", in kB) of the mapping that
// holds `p`; empty when there is none. The kernel may have merged a mapping with a neighbour
// of the same flags and policy, so tests compare what must hold of the whole: at least our
// bytes resident or locked.
std::map<std::string, long> smaps_of(const void* p) {
  std::ifstream f("/proc/self/smaps");
  std::map<std::string, long> fields;
  std::string line;
  bool in = false;
  const auto want = reinterpret_cast<std::uintptr_t>(p);
  while (std::getline(f, line)) {
    const auto dash = line.find('-');
    const auto colon = line.find(':');
    if (dash != std::string::npos && (colon == std::string::npos || dash < colon) && line.find(' ') > dash) {
      const std::uintptr_t lo = std::stoull(line.substr(0, dash), nullptr, 16);
      const std::uintptr_t hi = std::stoull(line.substr(dash + 1), nullptr, 16);
      in = lo <= want && want < hi;
      continue;
    }
    if (in && colon != std::string::npos) {
      std::istringstream v(line.substr(colon + 1));
      long kb = 0;
      if (v >> kb) fields[line.substr(0, colon)] = kb;
    }
  }
  return fields;
}
std::string numa_maps_of(const void* p) {
  std::ifstream f("/proc/self/numa_maps");
  std::ostringstream key;
  key << std::hex << reinterpret_cast<std::uintptr_t>(p) << ' ';
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key.str(), 0) == 0) return line;
  return {};
}

using block = ringwire::spsc::detail::heap_block<std::uint64_t, ringwire::std_sync>;
constexpr std::size_t big = std::size_t{4} << 20;  // elements: a 32 MiB ring
struct made {
  block* b;
  explicit made(const ringwire::memory_options& m)
      : b(ringwire::spsc::detail::make_heap_block<std::uint64_t, ringwire::std_sync>(big, 0, 1, false, m)) {}
  ~made() { b->own.release(); }
};

TEST(Memory, DefaultIsAnOrdinaryAllocation) {
  made m({});
  EXPECT_EQ(m.b->mapped_bytes, 0u);
  EXPECT_NE(m.b->own.release_all, &block::release_mapped);
}

TEST(Memory, PrefaultMakesEveryPageResident) {
  if (::access("/sys/devices/system/node/node0", F_OK) == 0) {
    made lazy(ringwire::memory_options{.numa_node = 0});  // a mapping of its own, not prefaulted
    const auto f = smaps_of(lazy.b);
    ASSERT_FALSE(f.empty());
    EXPECT_LT(f.at("Rss") * 1024, static_cast<long>(lazy.b->mapped_bytes / 2))
        << "a fresh mapping should not be resident before it is touched";
  }
  made warm(ringwire::memory_options{.prefault = true});
  const auto f = smaps_of(warm.b);
  ASSERT_FALSE(f.empty());
  EXPECT_GE(f.at("Size") * 1024, static_cast<long>(warm.b->mapped_bytes));
  EXPECT_GE(f.at("Rss") * 1024, static_cast<long>(warm.b->mapped_bytes));
}

TEST(Memory, LockHoldsEveryPage) {
  if (RINGWIRE_TEST_SANITIZED) GTEST_SKIP() << "the sanitizer runtimes intercept mlock as a no-op";
  made m(ringwire::memory_options{.lock = true});
  const auto f = smaps_of(m.b);
  ASSERT_FALSE(f.empty());
  EXPECT_GE(f.at("Locked") * 1024, static_cast<long>(m.b->mapped_bytes));
  EXPECT_GE(f.at("Rss") * 1024, static_cast<long>(m.b->mapped_bytes));
}

TEST(Memory, LockBeyondTheLimitIsDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root has CAP_IPC_LOCK: RLIMIT_MEMLOCK does not bind";
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &lim), 0);
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= big * 8) GTEST_SKIP() << "RLIMIT_MEMLOCK is large enough";
  EXPECT_EQ(error_code([] { made m(ringwire::memory_options{.lock = true}); }), errc::memory_lock_denied);
}

TEST(Memory, NumaNodeBinds) {
  if (::access("/sys/devices/system/node/node0", F_OK) != 0) GTEST_SKIP() << "no NUMA nodes in /sys";
  made m(ringwire::memory_options{.prefault = true, .numa_node = 0});
  const std::string line = numa_maps_of(m.b);
  EXPECT_NE(line.find("bind:0"), std::string::npos) << line;
  EXPECT_NE(line.find("N0="), std::string::npos) << line;
  if (::access("/sys/devices/system/node/node1", F_OK) != 0) {
    EXPECT_EQ(error_code([] { made n(ringwire::memory_options{.numa_node = 1}); }), errc::invalid_numa_node);
  }
  EXPECT_EQ(error_code([] { made n(ringwire::memory_options{.numa_node = 5000}); }), errc::invalid_numa_node);
}

// Reserves `pages` huge pages while it lives (root only), restoring the old count after.
struct hugepage_reservation {
  long before = -1;
  bool ok = false;
  explicit hugepage_reservation(long pages) {
    before = std::stol(slurp("/proc/sys/vm/nr_hugepages").empty() ? "-1" : slurp("/proc/sys/vm/nr_hugepages"));
    if (::geteuid() != 0 || before < 0) return;
    std::ofstream("/proc/sys/vm/nr_hugepages") << before + pages;
    ok = std::stol(slurp("/proc/sys/vm/nr_hugepages")) >= before + pages;
  }
  ~hugepage_reservation() {
    if (before >= 0 && ::geteuid() == 0) std::ofstream("/proc/sys/vm/nr_hugepages") << before;
  }
};

TEST(Memory, HugepagesUnavailableIsAnErrorOrAFallback) {
  if (std::stol(slurp("/proc/sys/vm/nr_hugepages")) != 0) GTEST_SKIP() << "huge pages are reserved on this machine";
  EXPECT_EQ(error_code([] { made m(ringwire::memory_options{.hugepages = true}); }), errc::hugepages_unavailable);
  made m(ringwire::memory_options{.hugepages = true, .fallback = ringwire::hugepage_fallback::regular_pages,
                                  .prefault = true});
  const auto f = smaps_of(m.b);
  EXPECT_EQ(f.at("KernelPageSize"), ::sysconf(_SC_PAGESIZE) / 1024);
  EXPECT_GE(f.at("Rss") * 1024, static_cast<long>(m.b->mapped_bytes));
}

TEST(Memory, HugepagesBackTheRing) {
  hugepage_reservation r(20);  // 40 MiB: the 32 MiB ring, rounded up
  if (!r.ok) GTEST_SKIP() << "cannot reserve huge pages (not root, or the kernel refused)";
  made m(ringwire::memory_options{.hugepages = true});
  const auto f = smaps_of(m.b);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f.at("KernelPageSize") * 1024, static_cast<long>(ringwire::detail::huge_page_size()));
  EXPECT_EQ(m.b->mapped_bytes % ringwire::detail::huge_page_size(), 0u);
}

// Every heap family's factory takes the options and its channel works over the placed memory.
TEST(Memory, FamiliesAcceptTheOptions) {
  const ringwire::memory_options mem{.prefault = true};
  {
    ringwire::spsc::options o;
    o.memory = mem;
    auto [tx, rx] = ringwire::spsc::channel<int>(1024, o);
    ASSERT_EQ(tx.try_send(7), ringwire::status::ok);
    EXPECT_EQ(*rx.try_recv(), 7);
  }
  {
    ringwire::mpsc::options o;
    o.memory = mem;
    auto [reg, rx] = ringwire::mpsc::channel<int>(64, 2, o);
    auto tx = reg.make_sender();
    ASSERT_EQ(tx.try_send(8), ringwire::status::ok);
    EXPECT_EQ(*rx.try_recv(), 8);
  }
  {
    ringwire::broadcast::options o;
    o.memory = mem;
    auto [pub, hub] = ringwire::broadcast::channel<int>(64, o);
    auto sub = hub.subscribe();
    ASSERT_EQ(pub.try_send(9), ringwire::status::ok);
    EXPECT_EQ(*sub.try_recv(), 9);
  }
  {
    ringwire::mpmc::options o;
    o.memory = mem;
    auto [tx, rx] = ringwire::mpmc::channel<int>(64, o);
    ASSERT_EQ(tx.try_send(10), ringwire::status::ok);
    EXPECT_EQ(*rx.try_recv(), 10);
    ringwire::mpmc::queue<int> q(64, o);
    ASSERT_EQ(q.try_push(11), ringwire::status::ok);
    EXPECT_EQ(*q.try_pop(), 11);
  }
  {
    ringwire::spsc::line_options o;
    o.memory = mem;
    auto [tx, rx] = ringwire::spsc::line_channel<int>(64, o);
    ASSERT_EQ(tx.try_send(12), ringwire::status::ok);
    EXPECT_EQ(*rx.try_recv(), 12);
  }
  {
    ringwire::byte_ring::options o;
    o.memory = mem;
    auto [w, r] = ringwire::byte_ring::one_to_one(4096, o);
    auto [w2, r2] = ringwire::byte_ring::many_to_one(4096, o);
  }
  {
    ringwire::byte_broadcast::options o;
    o.memory = mem;
    auto [w, r] = ringwire::byte_broadcast::channel(ringwire::byte_broadcast::geometry{}, o);
  }
  EXPECT_EQ(error_code([] {
              ringwire::spsc::options o;
              o.memory.numa_node = 4096;
              (void)ringwire::spsc::channel<int>(8, o);
            }),
            errc::invalid_numa_node);
}

// ---- shared memory ------------------------------------------------------------------------

const void* base_of(const ringwire::shm::segment& s) { return s.share().get()->base; }

TEST(ShmMemory, PrefaultLockAndNodeApplyToTheSegment) {
  ringwire::shm::create_options o;
  o.memory = {.lock = true, .prefault = true, .numa_node = 0};
  if (::access("/sys/devices/system/node/node0", F_OK) != 0) o.memory.numa_node = -1;
  auto seg = ringwire::shm::segment::create_anonymous(ringwire::shm::spsc_spec<std::uint64_t>(1 << 20), o);
  const auto f = smaps_of(base_of(seg));
  ASSERT_FALSE(f.empty());
  const auto mapped = static_cast<long>(ringwire::detail::round_up(seg.size(), ringwire::detail::page_size()));
  EXPECT_EQ(f.at("Size") * 1024, mapped);  // a shared file mapping: never merged
  EXPECT_EQ(f.at("Rss") * 1024, mapped);
  if (!RINGWIRE_TEST_SANITIZED) {  // the sanitizer runtimes intercept mlock as a no-op
    EXPECT_EQ(f.at("Locked") * 1024, mapped);
  }
  if (o.memory.numa_node == 0) {
    EXPECT_NE(numa_maps_of(base_of(seg)).find("bind:0"), std::string::npos);
  }
}

TEST(ShmMemory, Hugepages) {
  ringwire::shm::create_options o;
  o.memory.hugepages = true;
  const auto spec = ringwire::shm::spsc_spec<std::uint64_t>(1 << 16);
  EXPECT_EQ(error_code([&] { (void)ringwire::shm::segment::create("/rw_placement_huge", spec, o); }),
            errc::invalid_options);
  if (std::stol(slurp("/proc/sys/vm/nr_hugepages")) == 0) {
    EXPECT_EQ(error_code([&] { (void)ringwire::shm::segment::create_anonymous(spec, o); }), errc::hugepages_unavailable);
    o.memory.fallback = ringwire::hugepage_fallback::regular_pages;
    auto seg = ringwire::shm::segment::create_anonymous(spec, o);
    EXPECT_EQ(smaps_of(base_of(seg)).at("KernelPageSize"), ::sysconf(_SC_PAGESIZE) / 1024);
    o.memory.fallback = ringwire::hugepage_fallback::error;
  }
  hugepage_reservation r(2);
  if (!r.ok) GTEST_SKIP() << "cannot reserve huge pages (not root, or the kernel refused)";
  auto seg = ringwire::shm::segment::create_anonymous(spec, o);
  EXPECT_EQ(seg.size() % ringwire::detail::huge_page_size(), 0u);
  EXPECT_EQ(smaps_of(base_of(seg)).at("KernelPageSize") * 1024, static_cast<long>(ringwire::detail::huge_page_size()));
  auto peer = ringwire::shm::segment::open_fd(seg.fd(), spec);  // an opener accepts the rounded size
  EXPECT_EQ(peer.size(), seg.size());
}

}  // namespace
