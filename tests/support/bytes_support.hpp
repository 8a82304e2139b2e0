// tests/support/bytes_support.hpp -- helpers the byte-ring tests share: comparing payloads
// and expecting a ringwire::error with a given code.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <span>

#include "ringwire/error.hpp"

namespace bytes_test {

inline bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// fn() must throw ringwire::error with `code`.
template <class Fn>
void expect_errc(ringwire::errc code, Fn&& fn) {
  try {
    fn();
    ADD_FAILURE() << "no ringwire::error thrown";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
  }
}

}  // namespace bytes_test
