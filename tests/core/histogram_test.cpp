// tests/core/histogram_test.cpp -- the log-linear latency histogram (histogram.hpp): its
// buckets, its percentiles against the exact quantiles of known distributions, and a reader
// copying it while the one writer records (run under TSan too).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "ringwire/histogram.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace hs = ringwire::histogram_scale;
using histogram = ringwire::latency_histogram<>;

// Zeroed memory is an empty histogram (as a fresh layout or segment gives it).
std::unique_ptr<histogram> make() { return std::make_unique<histogram>(); }

// The exact value at quantile q of sorted values: the ceil(q n)-th smallest.
std::uint64_t exact(const std::vector<std::uint64_t>& sorted, double q) {
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))));
  return sorted[rank - 1];
}

// The histogram's value is the top of the exact value's bucket: never below it, and above
// it by less than 1/128 of it.
void expect_close(std::uint64_t got, std::uint64_t want, const char* what) {
  EXPECT_GE(got, want) << what;
  EXPECT_LE(static_cast<double>(got - want), static_cast<double>(want) / 128.0 + 1.0) << what << ": " << got << " vs " << want;
}

TEST(Histogram, BucketsCoverEveryValueNarrowly) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v < 5000; ++v) values.push_back(v);
  for (int i = 0; i < 200000; ++i) values.push_back(rng() >> (rng() % 64));
  for (const std::uint64_t v : values) {
    const std::size_t b = hs::bucket_of(v);
    ASSERT_LT(b, hs::buckets);
    if (v >> hs::max_bits != 0) {
      EXPECT_EQ(b, hs::buckets - 1) << v;
      continue;
    }
    ASSERT_LE(hs::bucket_low(b), v) << v;
    ASSERT_GE(hs::bucket_high(b), v) << v;
    ASSERT_LT(static_cast<double>(hs::bucket_high(b) - hs::bucket_low(b)), static_cast<double>(v) / 128.0 + 1.0) << v;
  }
  // Buckets tile the range: each starts right after the previous one ends.
  for (std::size_t i = 1; i < hs::buckets; ++i) ASSERT_EQ(hs::bucket_low(i), hs::bucket_high(i - 1) + 1) << i;
}

TEST(Histogram, UniformOneToOneHundredThousand) {
  auto h = make();
  for (std::uint64_t v = 1; v <= 100000; ++v) h->record(v);
  const ringwire::histogram_snapshot s = h->snapshot();
  EXPECT_EQ(s.count, 100000u);
  EXPECT_EQ(s.total(), 100000u);
  EXPECT_EQ(s.max, 100000u);
  EXPECT_DOUBLE_EQ(s.mean(), 50000.5);
  expect_close(s.value_at(0.50), 50000, "p50");
  expect_close(s.value_at(0.90), 90000, "p90");
  expect_close(s.value_at(0.99), 99000, "p99");
  expect_close(s.value_at(0.999), 99900, "p99.9");
  EXPECT_EQ(s.value_at(1.0), 100000u) << "p100 is the max exactly";
  EXPECT_EQ(s.value_at(0.00001), 1u);
}

TEST(Histogram, LogNormalLatenciesAgainstTheExactQuantiles) {
  // A latency-like distribution: median ~ 2 us, a long tail into milliseconds.
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(std::log(2000.0), 1.2);
  auto h = make();
  std::vector<std::uint64_t> all;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    all.push_back(v);
    h->record(v);
  }
  std::sort(all.begin(), all.end());
  const ringwire::histogram_snapshot s = h->snapshot();
  for (const double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) expect_close(s.value_at(q), exact(all, q), "quantile");
  EXPECT_EQ(s.max, all.back());
  EXPECT_EQ(s.value_at(1.0), all.back());
}

TEST(Histogram, EmptyAndHugeValues) {
  auto h = make();
  EXPECT_EQ(h->snapshot().value_at(0.99), 0u);
  EXPECT_EQ(h->snapshot().mean(), 0.0);
  const std::uint64_t huge = std::uint64_t{1} << 50;  // beyond the scale: the last bucket, max exact
  h->record(huge);
  h->record(3);
  const auto s = h->snapshot();
  EXPECT_EQ(s.counts[hs::buckets - 1], 1u);
  EXPECT_EQ(s.counts[3], 1u);
  EXPECT_EQ(s.max, huge);
  EXPECT_EQ(s.value_at(1.0), huge);
  EXPECT_EQ(s.value_at(0.5), 3u);
}

// One writer records while a reader copies: every copy is sane (counts never fall, the
// percentiles ordered, nothing above max), and the last copy is exact. Under TSan the
// relaxed words must show no race.
TEST(Histogram, AReaderCopiesWhileTheWriterRecords) {
  auto h = make();
  const std::uint64_t n = 400000 / RINGWIRE_STRESS_SCALE;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::mt19937_64 rng(3);
    for (std::uint64_t i = 0; i < n; ++i) h->record(rng() % 1000000);
    done.store(true, std::memory_order_release);
  });
  std::uint64_t last_total = 0;
  int copies = 0;
  while (!done.load(std::memory_order_acquire) || copies == 0) {
    const ringwire::histogram_snapshot s = h->snapshot();
    const std::uint64_t t = s.total();
    EXPECT_GE(t, last_total);
    last_total = t;
    const std::uint64_t p50 = s.value_at(0.5), p99 = s.value_at(0.99);
    EXPECT_LE(p50, p99);
    EXPECT_LE(p99, s.max);  // a percentile is never above the largest value recorded
    ++copies;
  }
  writer.join();
  const auto s = h->snapshot();
  EXPECT_EQ(s.total(), n);
  EXPECT_EQ(s.count, n);
  EXPECT_GT(copies, 0);
}

}  // namespace
