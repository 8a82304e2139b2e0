// tests/support/counted_item.hpp -- the element of the SPSC and MPMC property tests: counts
// its live instances, remembers whether it was moved from, and carries a canary against use
// (or destruction) after destruction; one constructor can refuse (throw), for emplace's
// exception paths. Single-threaded tests only (plain counters).
#pragma once

#include <cstdint>
#include <stdexcept>

namespace rw_test {

struct counted {
  static constexpr std::uint64_t alive = 0xa11ce5a11ce5a11cull;
  static inline long live = 0;
  static inline long bad = 0;  // destructions of objects that were not alive

  std::uint64_t v = ~std::uint64_t{0};
  bool moved_from = false;
  std::uint64_t canary = alive;

  counted() noexcept { ++live; }
  explicit counted(std::uint64_t x) noexcept : v(x) { ++live; }
  counted(std::uint64_t x, bool refuse) : v(x) {
    if (refuse) throw std::runtime_error("counted: refused");
    ++live;
  }
  counted(const counted& o) noexcept : v(o.v), moved_from(o.moved_from) { ++live; }
  counted(counted&& o) noexcept : v(o.v), moved_from(o.moved_from) {
    o.moved_from = true;
    ++live;
  }
  counted& operator=(const counted& o) noexcept {
    v = o.v;
    moved_from = o.moved_from;
    return *this;
  }
  counted& operator=(counted&& o) noexcept {
    v = o.v;
    moved_from = o.moved_from;
    o.moved_from = true;
    return *this;
  }
  ~counted() {
    if (canary != alive) ++bad;
    canary = 0;
    --live;
  }
  // A queued or received element: alive, not moved from, holding the value sent.
  [[nodiscard]] bool is(std::uint64_t x) const noexcept { return canary == alive && !moved_from && v == x; }
};

}  // namespace rw_test
