// ringwire/placement.hpp -- thread and memory placement: pinning threads to CPUs, reading
// which CPUs share caches, and placing a channel's memory (huge pages, mlock, prefault,
// NUMA node). docs/placement.md has the whole story and the measured effect.
//
// TL;DR
//   auto topo = ringwire::topology::read();
//   auto pair = topo.pick_pair();                       // share L2/L3, not SMT siblings
//   ringwire::spsc::options o;
//   o.memory = {.prefault = true, .numa_node = topo.find(pair->first)->numa_node};
//   auto [tx, rx] = ringwire::spsc::channel<tick>(1 << 20, o);
//   std::jthread producer([&] { ringwire::pin_current_thread(pair->first); ... });
//   std::jthread consumer(...); ringwire::pin(consumer, pair->second);
//
// Setup calls only: each makes syscalls and may throw ringwire::error (invalid_cpu,
// invalid_numa_node, hugepages_unavailable, memory_lock_denied); nothing here is on a send
// or receive path.
#pragma once

#include "ringwire/placement/affinity.hpp"
#include "ringwire/placement/cpu_list.hpp"
#include "ringwire/placement/memory.hpp"
#include "ringwire/placement/topology.hpp"
