// fuzz/live_fuzz.hpp -- what the *_live_fuzz harnesses share: the input read as a stream of
// small numbers, and a hostile peer's scribble over a channel's shared words.
//
// Each live harness builds a real channel, attaches real endpoints and then runs a program
// the input spells: every step is either one non-waiting call on an endpoint or one
// scribble -- a store over the channel's shared memory (indices, stamps, claims, registry
// entries, lane headers, cell sequences, slots) as a live process with write access could
// make it between any two calls. The expectation is the same for every kind: no access
// outside the memory (AddressSanitizer: the heap storage is exactly its footprint, a segment
// is exactly its mapping), no undefined behaviour, no call that never returns (libFuzzer's
// -timeout), and every call ends in a status or a ringwire::error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ringwire/error.hpp"

namespace live_fuzz {

// The input as a stream: reads past its end give 0, so every program is well formed.
class input {
 public:
  input(const std::uint8_t* p, std::size_t n) noexcept : p_(p), n_(n) {}
  [[nodiscard]] bool more() const noexcept { return at_ < n_; }
  std::uint8_t u8() noexcept { return at_ < n_ ? p_[at_++] : 0; }
  std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint64_t u64() noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{u8()} << (8 * i);
    return v;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t at_ = 0;
};

// One hostile store into [base, base + size) (size > 0): a word that a peer could own (an
// index, a stamp, a sequence, a claim) nudged by a small signed step, so that it lands near
// the values the protocol checks against; a whole word of input; or a single byte. Word
// stores are 8-byte aligned, as every shared word is.
inline void scribble(input& in, std::byte* base, std::size_t size) {
  const std::uint8_t how = in.u8();
  const std::size_t words = size / 8;
  if (words == 0 || how % 4 == 3) {
    base[(std::size_t{in.u16()} | std::size_t{in.u8()} << 16) % size] = static_cast<std::byte>(in.u8());
    return;
  }
  std::byte* w = base + 8 * ((std::size_t{in.u16()} | std::size_t{in.u8()} << 16) % words);
  std::uint64_t v = 0;
  std::memcpy(&v, w, 8);
  switch (how % 4) {
    case 0: v += static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(in.u8()))); break;
    case 1: v = in.u64(); break;
    default: v ^= std::uint64_t{1} << (in.u8() % 64); break;
  }
  std::memcpy(w, &v, 8);
}

volatile std::uint64_t g_sink;

// The body of a shared-memory harness's LLVMFuzzerTestOneInput: runs the program the input
// spells; a ringwire::error (a corrupt segment refused by a re-attach or a reap) is an
// expected outcome, like a status.
template <class Run>
int run_program(const std::uint8_t* data, std::size_t size, Run&& run) {
  input in(data, size);
  try {
    run(in);
  } catch (const ringwire::error&) {
  }
  return 0;
}

}  // namespace live_fuzz
