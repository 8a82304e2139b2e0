// tests/support/unsized_range.hpp -- a range whose size is hidden, so try_send_batch takes
// its unsized path (elements are moved by iter_move). Hand-written because clang 14 cannot
// compile libstdc++ 12's range adaptors. Shared by the unit, stress and property tests.
#pragma once

#include <ranges>

namespace rw_test {

// [b, e) of some container, with the size hidden.
template <class It>
struct unsized_range {
  struct sentinel {
    It e{};
    friend bool operator==(const It& i, const sentinel& s) { return i == s.e; }
  };
  It b;
  It e;
  [[nodiscard]] It begin() const { return b; }
  [[nodiscard]] sentinel end() const { return {e}; }
};

template <class C>
unsized_range<typename C::iterator> unsized(C& c) {
  return {c.begin(), c.end()};
}

}  // namespace rw_test
