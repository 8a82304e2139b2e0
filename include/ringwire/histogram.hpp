// ringwire/histogram.hpp -- a log-linear latency histogram that lives in any memory (a
// channel's layout, a shared-memory segment) and is read from outside while it is written.
//
// Buckets (HdrHistogram's scheme with 128 sub-buckets per power of two): a value v below 256
// has its own bucket; above, v falls in the bucket of width 2^e that holds it, where
// e = floor(log2 v) - 7, so every bucket is narrower than 1/128 of the values in it: each
// percentile is exact to better than 0.8 % (two significant digits and then some). Values are
// nanoseconds by convention, from 0 to 2^40 - 1 (about 18 minutes); larger ones are counted
// in the last bucket, and `max` keeps the largest exactly. 4352 counters: 34 KiB.
//
//   bucket:   0 .. 255         256 .. 383           384 .. 511           ...  e = 32
//   holds:    v itself         [256 + 2k, +2)       [512 + 4k, +4)            [2^39 + k 2^32, +2^32)
//
// Writing. One writer (the receiving endpoint that measures): record() adds with a relaxed
// load and store of the counter -- no read-modify-write, as every ringwire counter
// (metrics.hpp) -- and updates count, sum and max the same way. A second writer must have a
// histogram of its own. Reading. snapshot() copies the counters with relaxed loads while the
// writer goes on: every counter read is a value it really had, but the copy is not one
// instant (a record that lands mid-copy may be in its bucket and not yet in `count`, or the
// reverse), which a monitor sampling once a second never notices; percentiles are computed
// from the copied buckets alone, so they stay consistent with each other.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ringwire/sync.hpp"

namespace ringwire {

namespace histogram_scale {

inline constexpr unsigned sub_bits = 7;                           // 128 sub-buckets per power of two
inline constexpr std::uint64_t linear_limit = 2u << sub_bits;     // 256: below, one bucket per value
inline constexpr unsigned max_bits = 40;                          // values up to 2^40 - 1 ns
inline constexpr std::size_t buckets = (max_bits - sub_bits) * (std::size_t{1} << sub_bits) + linear_limit -
                                       (std::size_t{1} << sub_bits);  // 4352

// The bucket of value v (values from 2^40 on: the last bucket).
constexpr std::size_t bucket_of(std::uint64_t v) noexcept {
  if (v < linear_limit) return static_cast<std::size_t>(v);
  if (v >> max_bits != 0) return buckets - 1;
  const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1 - sub_bits;  // >= 1
  return (std::size_t{e} << sub_bits) + static_cast<std::size_t>(v >> e);     // (v >> e) in [128, 256)
}
// The smallest and the largest value bucket i holds.
constexpr std::uint64_t bucket_low(std::size_t i) noexcept {
  if (i < linear_limit) return i;
  const std::size_t e = (i >> sub_bits) - 1;
  const std::uint64_t m = (i & ((std::size_t{1} << sub_bits) - 1)) + (std::uint64_t{1} << sub_bits);
  return m << e;
}
constexpr std::uint64_t bucket_high(std::size_t i) noexcept {
  if (i < linear_limit) return i;
  const std::size_t e = (i >> sub_bits) - 1;
  return bucket_low(i) + (std::uint64_t{1} << e) - 1;
}
static_assert(bucket_of(255) == 255 && bucket_of(256) == 256 && bucket_low(256) == 256 && bucket_high(256) == 257);
static_assert(bucket_of((std::uint64_t{1} << max_bits) - 1) == buckets - 1);
static_assert(bucket_high(buckets - 1) == (std::uint64_t{1} << max_bits) - 1);

}  // namespace histogram_scale

// What snapshot() returns: plain numbers, the percentiles computed from them.
struct histogram_snapshot {
  std::vector<std::uint64_t> counts;  // histogram_scale::buckets of them
  std::uint64_t count = 0;            // values recorded (as counted beside the buckets)
  std::uint64_t sum = 0;              // their sum (ns), for the mean
  std::uint64_t max = 0;              // the largest, exactly

  [[nodiscard]] std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (const std::uint64_t c : counts) t += c;
    return t;
  }
  // The value at quantile q (0 < q <= 1): the highest value of the bucket that holds the
  // ceil(q * n)-th smallest recorded value, never above max (so p100 is the max exactly).
  // 0 when nothing was recorded.
  [[nodiscard]] std::uint64_t value_at(double q) const noexcept {
    const std::uint64_t n = total();
    if (n == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      // The last bucket also holds every value beyond the scale: only max bounds it.
      if (seen >= rank) return i + 1 == counts.size() ? max : std::min(histogram_scale::bucket_high(i), max);
    }
    return max;
  }
  [[nodiscard]] double mean() const noexcept { return count == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(count); }
  // What was recorded after `earlier` (an older snapshot of the same histogram): the
  // percentiles of one interval, as a monitor refreshing every second shows them. The max
  // of the interval is not kept: it is bounded by the top of its highest non-empty bucket.
  [[nodiscard]] histogram_snapshot since(const histogram_snapshot& earlier) const {
    histogram_snapshot d;
    d.counts.resize(counts.size());
    for (std::size_t i = 0; i < counts.size(); ++i) {
      const std::uint64_t before = i < earlier.counts.size() ? earlier.counts[i] : 0;
      d.counts[i] = counts[i] > before ? counts[i] - before : 0;
      if (d.counts[i] != 0) d.max = i + 1 == counts.size() ? max : std::min(histogram_scale::bucket_high(i), max);
    }
    d.count = count > earlier.count ? count - earlier.count : 0;
    d.sum = sum > earlier.sum ? sum - earlier.sum : 0;
    return d;
  }
  // Adds another histogram's numbers (an MPSC channel's lanes into one view).
  void merge(const histogram_snapshot& o) {
    if (counts.size() < o.counts.size()) counts.resize(o.counts.size());
    for (std::size_t i = 0; i < o.counts.size(); ++i) counts[i] += o.counts[i];
    count += o.count;
    sum += o.sum;
    max = std::max(max, o.max);
  }
};

// The clock a channel's latency stamps use: CLOCK_MONOTONIC in nanoseconds (steady_clock on
// Linux), one clock for every process on the machine, so a stamp written in one process is
// compared in another. A vDSO read, no syscall.
inline std::uint64_t latency_clock_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// The histogram itself: plain words, any memory (a layout member; zeroed memory is empty).
template <class Sync = std_sync>
struct latency_histogram {
  template <class V>
  using atomic = typename Sync::template atomic<V>;

  atomic<std::uint64_t> count;
  atomic<std::uint64_t> sum;
  atomic<std::uint64_t> max;
  atomic<std::uint64_t> counts[histogram_scale::buckets];

  // Records one value. The one writer only (see the top of this header).
  void record(std::uint64_t v) noexcept {
    auto bump = [](atomic<std::uint64_t>& c, std::uint64_t by) {
      // relaxed: single writer; a reader only needs values the counter really had.
      c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    };
    bump(counts[histogram_scale::bucket_of(v)], 1);
    bump(count, 1);
    bump(sum, v);
    // relaxed: as above.
    if (v > max.load(std::memory_order_relaxed)) max.store(v, std::memory_order_relaxed);
  }

  // Records `now - stamp` for a stamp read from a channel (0 when the stamp is ahead of now:
  // a peer in shared memory can write any stamp; it only ever skews the numbers).
  void record_since(std::uint64_t stamp, std::uint64_t now) noexcept { record(now > stamp ? now - stamp : 0); }

  // A copy of the numbers, while the writer may go on (see the top of this header).
  [[nodiscard]] histogram_snapshot snapshot() const {
    histogram_snapshot s;
    s.counts.resize(histogram_scale::buckets);
    // relaxed (all): a snapshot for monitors; nothing is read through these words.
    for (std::size_t i = 0; i < histogram_scale::buckets; ++i) s.counts[i] = counts[i].load(std::memory_order_relaxed);
    s.count = count.load(std::memory_order_relaxed);
    s.sum = sum.load(std::memory_order_relaxed);
    s.max = max.load(std::memory_order_relaxed);
    return s;
  }
};

static_assert(sizeof(latency_histogram<std_sync>) == (3 + histogram_scale::buckets) * 8,
              "a histogram is plain 64-bit words: it can live in shared memory");

}  // namespace ringwire
