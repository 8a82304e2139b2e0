// tests/support/stress_scale.hpp -- stress sizes shrink under the sanitizers: the build
// defines RINGWIRE_STRESS_SCALE (4 there, 1 otherwise) and tests ask for scaled(n).
#pragma once

#include <cstdint>

#ifndef RINGWIRE_STRESS_SCALE
#define RINGWIRE_STRESS_SCALE 1
#endif

namespace rw_test {

inline constexpr std::uint64_t stress_scale = RINGWIRE_STRESS_SCALE;
constexpr std::uint64_t scaled(std::uint64_t n) { return n / stress_scale > 0 ? n / stress_scale : 1; }

}  // namespace rw_test
