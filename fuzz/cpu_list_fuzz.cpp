// fuzz/cpu_list_fuzz.cpp -- libFuzzer: arbitrary bytes as a /sys CPU list ("0-3,8,10-11"),
// parsed by parse_cpu_list (placement/cpu_list.hpp). The input lives in an allocation of
// exactly its size, so AddressSanitizer reports any read past it. A list that parses must
// be ascending, without repeats, below max_cpu_count, and parse back to itself when
// written out again; one that fails must say invalid_options.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ringwire/placement/cpu_list.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<char> owned(data, data + size);  // exactly `size` bytes: no terminator to lean on
  const auto r = ringwire::parse_cpu_list(std::string_view(owned.data(), owned.size()));
  if (!r) {
    if (r.error().code != ringwire::errc::invalid_options) std::abort();
    return 0;
  }
  std::string again;
  for (std::size_t i = 0; i < r->size(); ++i) {
    const int c = (*r)[i];
    if (c < 0 || c >= ringwire::max_cpu_count || (i > 0 && (*r)[i - 1] >= c)) std::abort();
    if (i > 0) again += ',';
    again += std::to_string(c);
  }
  const auto back = ringwire::parse_cpu_list(again);
  if (!back || *back != *r) std::abort();
  return 0;
}
