// tests/byte_broadcast/stress_messages.hpp -- the messages of the byte broadcast stress
// tests: message seq has signature seq, and a size (0 .. max_size) and bytes derived from
// seq, so a reader checks every accepted message byte for byte against its sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ringwire/byte_broadcast/credited_reader.hpp"
#include "ringwire/byte_broadcast/reader.hpp"

namespace bb_stress {

struct messages {
  std::size_t max_size;

  [[nodiscard]] constexpr std::size_t size_of(std::uint64_t seq) const {
    return static_cast<std::size_t>((seq * 2654435761u) % (max_size + 1));
  }
  static constexpr std::byte byte_of(std::uint64_t seq, std::size_t i) {
    return static_cast<std::byte>((seq * 0x9E3779B97F4A7C15ull >> 56) ^ (i * 31) ^ (i >> 8));
  }
  void fill(std::uint64_t seq, std::vector<std::byte>& out) const {
    out.resize(size_of(seq));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = byte_of(seq, i);
  }
  [[nodiscard]] bool intact(const ringwire::byte_broadcast::message_info& m, std::span<const std::byte> data) const {
    if (m.signature != m.seq || m.size != size_of(m.seq)) return false;
    for (std::size_t i = 0; i < m.size; ++i)
      if (data[i] != byte_of(m.seq, i)) return false;
    return true;
  }
};

}  // namespace bb_stress
