// tests/support/broadcast_support.hpp -- what the broadcast unit tests share: options with a
// policy, and draining a subscriber of what is readable now.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ringwire/broadcast.hpp"

namespace bc_test {

inline ringwire::broadcast::options with(ringwire::broadcast::policy p, std::uint32_t max_subs = 64) {
  ringwire::broadcast::options o;
  o.policy = p;
  o.max_subscribers = max_subs;
  return o;
}

// Receives everything readable now; fails on anything but a value or `empty`.
template <class T>
std::vector<T> drain(ringwire::broadcast::subscriber<T>& s) {
  std::vector<T> out;
  for (;;) {
    auto r = s.try_recv();
    if (!r) {
      EXPECT_EQ(r.status(), ringwire::status::empty);
      return out;
    }
    out.push_back(*r);
  }
}

}  // namespace bc_test
