// Stress tests for ringwire::pipeline: a diamond of seven stage threads plus a producer and
// a consumer, on a two-core machine, so every link parks and wakes all the time.
//
//   msg --check--> msg --fan_out--+--> a: mix(seq)                        --+--> join --> filter --> out
//                                 +--> b: drop every 5th (std::optional)  --+   (checks alignment,
//                                 +--> c: the message's checksum          --+    combines)
//
// The message is 64 bytes: a sequence number, six words derived from it and a checksum, so
// a copy that mixed two messages fails. Every stage checks what it can and throws on a
// mismatch (which the pipeline reports as a failure, so a bug cannot hide as a drop). The
// consumer checks every output: exact order, exact values, and an order-sensitive running
// checksum against one computed on the side.
//
//   Lossless        random link capacities 1..64: every expected output, in order, exactly.
//   RandomShutdown  shutdown at a random point: what arrived is exactly a prefix of the
//                   expected outputs (nothing lost or reordered before the stop), the
//                   producer and consumer are released, health() says stopped.
//   RandomFailure   a random stage throws at a random message: the output is a prefix of
//                   what precedes it, health() names that stage and its message.
//
// RINGWIRE_STRESS_SEED=<n> replays a run (the seed is printed on every failure). Sizes
// divide by RINGWIRE_STRESS_SCALE under sanitizers; timeouts are failure detection only.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <optional>
#include <random>
#include <stdexcept>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ringwire/pipeline.hpp"
#include "support/stress_scale.hpp"
#include "support/stress_seed.hpp"

namespace {

using namespace std::chrono_literals;
namespace rp = ringwire::pipeline;
using ringwire::status;
using rw_test::scaled;

constexpr auto kLong = 30s;  // failure detection only

using rw_test::base_seed;

// Streams every argument into one string (g++ 12 -O3 reports a false -Wrestrict on
// `"literal" + std::string&&`, so no operator+ chains).
template <class... A>
std::string str(const A&... a) {
  std::ostringstream os;
  (os << ... << a);
  return os.str();
}

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

struct msg {
  std::array<std::uint64_t, 8> w;
};
static_assert(sizeof(msg) == 64);

msg make(std::uint64_t seq) {
  msg m{};
  m.w[0] = seq;
  std::uint64_t sum = seq;
  for (std::size_t i = 1; i < 7; ++i) {
    m.w[i] = mix(seq * 8 + i);
    sum = mix(sum ^ m.w[i]);
  }
  m.w[7] = sum;
  return m;
}

void check(const msg& m, const char* where) {
  if (make(m.w[0]).w != m.w) throw std::logic_error(str("torn or corrupted message in ", where));
}

struct result {
  std::uint64_t seq;
  std::uint64_t value;
};

// What the pipeline should output for input seq, if anything.
std::optional<result> expected(std::uint64_t seq) {
  if (seq % 5 == 0) return std::nullopt;
  return result{seq, mix(seq) ^ make(seq).w[7]};
}

// Stage indices: check 0, fan_out 1, a 2, b 3, c 4, join 5, filter 6.
constexpr std::size_t kStages = 7;
constexpr std::array<std::size_t, 5> kUserStages = {0, 2, 3, 4, 5};  // those that run a function

struct run_outcome {
  std::vector<result> got;
  status out_end = status::ok;
  std::size_t sent = 0;
  status in_end = status::ok;
};

// Builds the diamond. `fail_stage`/`fail_at`: the stage that throws at that sequence number
// (no_stage: none).
auto build(std::size_t capacity, std::size_t fail_stage, std::uint64_t fail_at) {
  auto fail = [fail_stage, fail_at](std::size_t stage, std::uint64_t seq) {
    if (stage == fail_stage && seq == fail_at) throw std::runtime_error(str("planned failure at ", seq));
  };
  return rp::source<msg>(capacity)
      .then(rp::named("check",
                      [fail](msg m) {
                        check(m, "check");
                        fail(0, m.w[0]);
                        return m;
                      }))
      .fan_out(
          [fail](msg m) {
            check(m, "branch a");
            fail(2, m.w[0]);
            return std::pair{m.w[0], mix(m.w[0])};
          },
          [fail](const msg& m) -> std::optional<std::uint64_t> {
            check(m, "branch b");
            fail(3, m.w[0]);
            if (m.w[0] % 5 == 0) return std::nullopt;  // the marker keeps the join aligned
            return m.w[0];
          },
          [fail](msg m) {
            check(m, "branch c");
            fail(4, m.w[0]);
            return std::pair{m.w[0], m.w[7]};
          })
      .join([fail](std::pair<std::uint64_t, std::uint64_t> a, std::optional<std::uint64_t> b,
                   std::pair<std::uint64_t, std::uint64_t> c) {
        if (a.first != c.first || (b && *b != a.first)) throw std::logic_error("join: branches out of step");
        fail(5, a.first);
        return std::pair{b.has_value(), result{a.first, a.second ^ c.second}};
      })
      .filter([](const std::pair<bool, result>& r) { return r.first; })
      .build();
}

// Feeds `total` messages (closing the input afterwards unless told to keep it open) and
// collects every output until closed. `on_output(k)` runs after the k-th output.
template <class Built, class OnOutput>
run_outcome run(Built& b, std::uint64_t total, OnOutput on_output) {
  auto producer = std::async(std::launch::async, [in = std::move(b.in), total]() mutable {
    std::pair<std::size_t, status> r{0, status::ok};
    for (std::uint64_t seq = 0; seq < total; ++seq) {
      r.second = in.send(make(seq));
      if (r.second != status::ok) return r;
      ++r.first;
    }
    in.close();
    return r;
  });
  run_outcome o;
  for (;;) {
    auto r = b.out.recv_for(kLong);
    if (!r) {
      o.out_end = r.status();
      break;
    }
    o.got.push_back(r->second);
    on_output(o.got.size());
  }
  if (producer.wait_for(kLong) != std::future_status::ready) {
    ADD_FAILURE() << "the producer was never released";
    std::abort();  // a blocked thread cannot be cancelled
  }
  std::tie(o.sent, o.in_end) = producer.get();
  return o;
}

// The outputs are exactly the first got.size() expected ones, in order.
void expect_prefix(const std::vector<result>& got, std::uint64_t total) {
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < got.size(); ++i, ++seq) {
    while (seq < total && !expected(seq)) ++seq;
    ASSERT_LT(seq, total) << "more outputs than inputs";
    const result want = *expected(seq);
    ASSERT_EQ(got[i].seq, want.seq) << "output " << i << " out of order or missing";
    ASSERT_EQ(got[i].value, want.value) << "output " << i << " has a wrong value";
  }
}

std::size_t expected_count(std::uint64_t total) {
  std::size_t n = 0;
  for (std::uint64_t s = 0; s < total; ++s) n += expected(s) ? 1 : 0;
  return n;
}

void join_or_abort(rp::handle& pipe) {
  auto joined = std::async(std::launch::async, [&pipe] { pipe.join(); });
  if (joined.wait_for(kLong) != std::future_status::ready) {
    ADD_FAILURE() << "handle::join() hung";
    std::abort();
  }
}

TEST(PipelineStress, DiamondDeliversEveryMessageInOrderAtEveryCapacity) {
  SCOPED_TRACE(str("RINGWIRE_STRESS_SEED=", base_seed()));
  std::mt19937_64 rng(base_seed());
  constexpr std::array<std::size_t, 6> capacities = {1, 2, 3, 7, 16, 64};
  const std::uint64_t total = scaled(6'000);
  for (std::size_t round = 0; round < 4; ++round) {
    const std::size_t capacity = capacities[rng() % capacities.size()];
    SCOPED_TRACE(str("capacity ", capacity));
    auto b = build(capacity, rp::no_stage, 0);
    const run_outcome o = run(b, total, [](std::size_t) {});
    EXPECT_EQ(o.out_end, status::closed);
    EXPECT_EQ(o.sent, total);
    ASSERT_EQ(o.got.size(), expected_count(total));
    expect_prefix(o.got, total);
    // An order-sensitive checksum over every output, against the same over the expectation.
    std::uint64_t sum = 0, want = 0;
    for (const result& r : o.got) sum = mix(sum ^ r.value) + r.seq;
    for (std::uint64_t s = 0; s < total; ++s)
      if (auto e = expected(s)) want = mix(want ^ e->value) + e->seq;
    EXPECT_EQ(sum, want);
    join_or_abort(b.pipe);
    const rp::health_report h = b.pipe.health();
    EXPECT_EQ(h.state, rp::run_state::finished) << h.what;
    EXPECT_EQ(h.stages, kStages);
  }
}

TEST(PipelineStress, RandomShutdownLeavesAnExactPrefixAndReleasesEveryone) {
  SCOPED_TRACE(str("RINGWIRE_STRESS_SEED=", base_seed()));
  std::mt19937_64 rng(base_seed() ^ 1);
  const std::uint64_t total = scaled(2'000);
  for (std::size_t round = 0; round < 12; ++round) {
    const std::size_t capacity = 1 + rng() % 8;
    const std::size_t stop_after = rng() % (expected_count(total) + expected_count(total) / 4);  // sometimes never
    SCOPED_TRACE(str("capacity ", capacity, ", shutdown after output ", stop_after));
    auto b = build(capacity, rp::no_stage, 0);
    if (stop_after == 0) b.pipe.shutdown();
    const run_outcome o = run(b, total, [&](std::size_t k) {
      if (k == stop_after) b.pipe.shutdown();
    });
    EXPECT_EQ(o.out_end, status::closed);
    expect_prefix(o.got, total);
    join_or_abort(b.pipe);
    const rp::health_report h = b.pipe.health();
    EXPECT_EQ(h.stages_running, 0u);
    if (o.got.size() == expected_count(total) && o.sent == total) {
      // Finished before (or while) the stop arrived: either ending is right.
      EXPECT_TRUE(h.state == rp::run_state::finished || h.state == rp::run_state::stopped) << rp::to_string(h.state);
    } else {
      EXPECT_EQ(h.state, rp::run_state::stopped);
      // After the stop: what the output link held, plus one the last stage had in hand.
      EXPECT_LE(o.got.size(), stop_after + capacity + 1) << "outputs kept flowing after the shutdown";
    }
    EXPECT_FALSE(h.failed()) << h.what;
  }
}

TEST(PipelineStress, RandomFailureIsReportedAndStopsThePipeline) {
  SCOPED_TRACE(str("RINGWIRE_STRESS_SEED=", base_seed()));
  std::mt19937_64 rng(base_seed() ^ 2);
  const std::uint64_t total = scaled(2'000);
  for (std::size_t round = 0; round < 12; ++round) {
    const std::size_t capacity = 1 + rng() % 8;
    const std::size_t stage = kUserStages[rng() % kUserStages.size()];
    const std::uint64_t at = rng() % total;
    SCOPED_TRACE(str("capacity ", capacity, ", stage ", stage, " throws at ", at));
    auto b = build(capacity, stage, at);
    const run_outcome o = run(b, total, [](std::size_t) {});
    EXPECT_EQ(o.out_end, status::closed);
    expect_prefix(o.got, total);
    for (const result& r : o.got) ASSERT_LT(r.seq, at) << "an output at or after the failing message";
    join_or_abort(b.pipe);
    const rp::health_report h = b.pipe.health();
    EXPECT_EQ(h.state, rp::run_state::failed);
    EXPECT_EQ(h.failed_stage, stage);
    EXPECT_EQ(h.what, str("planned failure at ", at));
    EXPECT_EQ(h.stages_running, 0u);
    EXPECT_THROW(b.pipe.rethrow_if_failed(), std::runtime_error);
  }
}

}  // namespace
