// tests/support/byte_ring_kinds.hpp -- both byte ring kinds for typed tests:
// P::make(capacity, options) returns {writer, reader} of one_to_one or many_to_one.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

#include "ringwire/byte_ring.hpp"

namespace bytes_test {

struct one_to_one_kind {
  static auto make(std::size_t cap, const ringwire::byte_ring::options& o = {}) {
    return ringwire::byte_ring::one_to_one(cap, o);
  }
};
struct many_to_one_kind {
  static auto make(std::size_t cap, const ringwire::byte_ring::options& o = {}) {
    return ringwire::byte_ring::many_to_one(cap, o);
  }
};
using byte_ring_kinds = ::testing::Types<one_to_one_kind, many_to_one_kind>;

}  // namespace bytes_test
