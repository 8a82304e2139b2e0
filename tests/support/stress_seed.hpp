// tests/support/stress_seed.hpp -- the seed of a stress run and the mixer that derives
// payload words from sequence numbers.
//
// base_seed(): random per process, or RINGWIRE_STRESS_SEED=<n> to replay a run (tests
// print the seed on every failure). splitmix(x): SplitMix64's finaliser, a cheap bijection.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>

namespace rw_test {

inline std::uint64_t base_seed() {
  static const std::uint64_t seed = [] {
    if (const char* s = std::getenv("RINGWIRE_STRESS_SEED")) return std::uint64_t{std::strtoull(s, nullptr, 0)};
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }();
  return seed;
}

constexpr std::uint64_t splitmix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace rw_test
