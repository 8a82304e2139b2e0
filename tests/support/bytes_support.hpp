// tests/support/bytes_support.hpp -- helpers the byte-record tests (byte_ring,
// byte_broadcast) share: comparing payloads, expecting a ringwire::error with a given code,
// and generic code over the byte-record concepts.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <span>

#include "ringwire/concepts.hpp"
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

// Generic code over concepts.hpp: writes one record through any record_writer, then reads
// one through any record_reader into `out`; the first outcome that is not ok, or ok.
template <ringwire::record_writer W, ringwire::record_reader R>
ringwire::status write_then_read(W& w, R& r, typename W::tag_type tag, std::span<const std::byte> bytes,
                                 typename R::buffer_type& out) {
  constexpr auto limit = std::chrono::seconds(10);
  if (const ringwire::status s = w.write_for(tag, bytes, limit); s != ringwire::status::ok) return s;
  return ringwire::status_of(r.read_for(out, limit));
}

}  // namespace bytes_test
