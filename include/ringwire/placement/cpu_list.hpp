// ringwire/placement/cpu_list.hpp -- the kernel's CPU list syntax ("0-3,8,10-11"), as /sys
// writes it (cpulist, shared_cpu_list, thread_siblings_list, node*/cpulist).
//
// The bytes come from outside the program (a file under /sys, a container's fake of it, a
// command line), so the parser trusts none of them: every number is bounded by
// max_cpu_count before anything is allocated, a range must go up, and whatever is not
// digits, '-', ',' or trailing white space is invalid_options. Fuzzed by
// fuzz/cpu_list_fuzz.cpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ringwire/result.hpp"

namespace ringwire {

// CPU numbers at or above this are refused: the kernel's own ceiling (CONFIG_NR_CPUS is at
// most 8192), so a hostile "0-4000000000" cannot ask for 16 GB of vector.
inline constexpr int max_cpu_count = 8192;

// The CPUs a list names, ascending, without repeats. "" and "\n" name none. Fails with
// invalid_options naming the offending text: a number missing, too large (>= max_cpu_count),
// a range going down ("3-1"), or any other character (the "0-7:2/4" stride form included:
// /sys never writes it).
inline result<std::vector<int>> parse_cpu_list(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::vector<int> cpus;
  if (text.empty()) return cpus;
  auto bad = [&](const char* why) {
    return error_info{errc::invalid_options,
                      "CPU list \"" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "...\"" : "\"") + ": " + why};
  };
  std::size_t i = 0;
  // One number at i, advancing i; -1 when there is none or it is out of range.
  auto number = [&]() -> int {
    const std::size_t start = i;
    long v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + (text[i] - '0');
      if (v >= max_cpu_count) return -1;
      ++i;
    }
    return i == start ? -1 : static_cast<int>(v);
  };
  std::vector<bool> seen(max_cpu_count, false);  // 1 KiB: bounds the output at max_cpu_count entries
  for (;;) {
    const int lo = number();
    if (lo < 0) return bad("expected a CPU number below 8192");
    int hi = lo;
    if (i < text.size() && text[i] == '-') {
      ++i;
      hi = number();
      if (hi < 0) return bad("expected a CPU number below 8192 after '-'");
      if (hi < lo) return bad("a range must go up");
    }
    for (int c = lo; c <= hi; ++c) seen[static_cast<std::size_t>(c)] = true;
    if (i == text.size()) break;
    if (text[i] != ',') return bad("expected ',' between entries");
    ++i;
  }
  for (int c = 0; c < max_cpu_count; ++c)
    if (seen[static_cast<std::size_t>(c)]) cpus.push_back(c);
  return cpus;
}

}  // namespace ringwire
