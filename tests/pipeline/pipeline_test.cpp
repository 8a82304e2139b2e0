// tests/pipeline/pipeline_test.cpp -- the pipeline builder: element types through then / filter
// / fan_out / join at compile time, exact outputs and order of linear and diamond
// pipelines, backpressure through capacity-1 links, draining on close, shutdown while the
// producer is blocked and while stages are idle, an exception in a stage or a branch
// reported with its index, name and message (and the pipeline stopping), move-only
// payloads, the destructor's shutdown and join, and construction errors.
//
// Every wait that could hang on a bug is bounded: blocking receives use recv_for(generous)
// and blocking calls run under must_finish, so a lost wake-up fails instead of hanging.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringwire/pipeline.hpp"
#include "support/unit_support.hpp"

namespace {

namespace rp = ringwire::pipeline;
using ringwire::status;
using rw_test::generous;
using rw_test::must_finish;

// ---- compile-time shape -------------------------------------------------------------------

struct immovable {
  immovable() = default;
  immovable(immovable&&) = delete;
};
using twice = int (*)(int);
using sink = void (*)(int);
using needs_lvalue = int (*)(int&);
using make_immovable = immovable (*)(int);

static_assert(rp::stage_fn<twice, int>);
static_assert(rp::stage_fn<twice, long>, "convertible arguments are accepted");
static_assert(!rp::stage_fn<sink, int>, "a stage must return something");
static_assert(!rp::stage_fn<needs_lvalue, int>, "a stage receives its element as T&&");
static_assert(!rp::stage_fn<make_immovable, int>, "results travel through channels");
static_assert(!rp::stage_fn<twice, std::string>);
static_assert(rp::filter_fn<bool (*)(const int&), int>);
static_assert(!rp::filter_fn<bool (*)(std::string), int>);
static_assert(rp::join_fn<std::string (*)(int, std::string), int, std::string>);
static_assert(!rp::join_fn<std::string (*)(int, std::string), std::string, int>, "branch order matters");

// The element type follows the stages: then changes it, filter keeps it, join makes it.
using linear_t = decltype(rp::source<int>(1).then([](int x) { return std::to_string(x); }).filter([](const std::string&) {
  return true;
}).build());
static_assert(std::is_same_v<decltype(std::declval<linear_t&>().in), ringwire::spsc::sender<int>>);
static_assert(std::is_same_v<decltype(std::declval<linear_t&>().out), ringwire::spsc::receiver<std::string>>);
using diamond_t = decltype(rp::source<int>(1)
                               .fan_out([](int x) { return x; }, [](int x) { return std::to_string(x); })
                               .join([](int, std::string s) { return s.size(); })
                               .build());
static_assert(std::is_same_v<decltype(std::declval<diamond_t&>().out), ringwire::spsc::receiver<std::size_t>>);

// ---- helpers ------------------------------------------------------------------------------

int plus_one(int x) { return x + 1; }
bool is_odd(const int& x) { return x % 2 != 0; }

// Sends every value on its own thread (the pipeline's links may be smaller than the input)
// and returns how many went in.
template <class T>
std::future<std::size_t> feed(ringwire::spsc::sender<T> in, std::vector<T> values) {
  return std::async(std::launch::async, [in = std::move(in), values = std::move(values)]() mutable {
    std::size_t sent = 0;
    for (auto& v : values) {
      if (in.send(std::move(v)) != status::ok) break;
      ++sent;
    }
    in.close();  // std::async keeps the callable (and so `in`) until the future goes
    return sent;
  });
}

// Receives until closed; a receive that waits `generous` fails the test.
template <class T>
std::vector<T> drain(ringwire::spsc::receiver<T>& out) {
  std::vector<T> got;
  for (;;) {
    auto r = out.recv_for(generous);
    if (!r) {
      EXPECT_EQ(r.status(), status::closed) << "the output did not close (lost wake-up or a stuck stage)";
      return got;
    }
    got.push_back(std::move(*r));
  }
}

// prefix + to_string(x), by append: g++ 12 -O3 reports a false -Wrestrict on
// `"literal" + std::string&&`.
std::string tagged(const char* prefix, int x) {
  std::string s(prefix);
  s += std::to_string(x);
  return s;
}

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

void join_within_limit(rp::handle& pipe) {
  auto joined = std::async(std::launch::async, [&pipe] { pipe.join(); });
  must_finish(joined, "handle::join()");
}

// ---- linear pipelines ---------------------------------------------------------------------

TEST(Pipeline, LinearThenThenFilterExactOutputsInOrder) {
  auto [in, out, pipe] = rp::source<int>(8)
                             .then([](int x) { return x * 3; })
                             .then([](int x) { return std::to_string(x); })
                             .filter([](const std::string& s) { return s.back() == '1' || s.back() == '2'; })
                             .build();
  auto sent = feed(std::move(in), iota(40));
  const std::vector<std::string> got = drain(out);
  EXPECT_EQ(must_finish(sent, "feed"), 40u);
  std::vector<std::string> want;
  for (int i = 0; i < 40; ++i) {
    const std::string s = std::to_string(i * 3);
    if (s.back() == '1' || s.back() == '2') want.push_back(s);
  }
  ASSERT_EQ(want.size(), 8u);  // the filter really removes something
  EXPECT_EQ(got, want);
  join_within_limit(pipe);
  const rp::health_report h = pipe.health();
  EXPECT_EQ(h.state, rp::run_state::finished);
  EXPECT_EQ(h.stages, 3u);
  EXPECT_EQ(h.stages_running, 0u);
  EXPECT_FALSE(h.stop_requested);
  EXPECT_EQ(h.failed_stage, rp::no_stage);
  EXPECT_NO_THROW(pipe.rethrow_if_failed());
}

TEST(Pipeline, PlainFunctionsAndFunctionPointersAreStages) {
  auto [in, out, pipe] = rp::source<int>(4)
                             .then(plus_one)
                             .filter(&is_odd)
                             .fan_out(plus_one, &plus_one)
                             .join(std::plus<int>{})
                             .then(rp::named("again", plus_one))
                             .build();
  auto sent = feed(std::move(in), iota(10));
  EXPECT_EQ(drain(out), (std::vector<int>{5, 9, 13, 17, 21}));  // 2 * (x + 1 + 1) + 1 for odd x + 1
  EXPECT_EQ(must_finish(sent, "feed"), 10u);
  EXPECT_EQ(pipe.stage_names(),
            (std::vector<std::string>{"then", "filter", "fan_out", "branch 0", "branch 1", "join", "again"}));
}

TEST(Pipeline, CapacityOneLinksCarryManyMessagesInOrder) {
  constexpr int n = 8'000 / RINGWIRE_STRESS_SCALE;  // every hop parks: ~0.2 ms a message on 2 cores
  auto [in, out, pipe] = rp::source<int>(1)
                             .then([](int x) { return std::uint64_t(x) * 2 + 1; })
                             .filter([](const std::uint64_t& v) { return v % 3 != 0; })
                             .then([](std::uint64_t v) { return v + 7; })
                             .build();
  EXPECT_EQ(in.capacity(), 1u);
  EXPECT_EQ(out.capacity(), 1u);
  auto sent = feed(std::move(in), iota(n));
  std::uint64_t expect = 0;
  std::size_t count = 0;
  bool in_order = true;
  for (;;) {
    auto r = out.recv_for(generous);
    if (!r) {
      EXPECT_EQ(r.status(), status::closed);
      break;
    }
    while ((expect * 2 + 1) % 3 == 0) ++expect;
    if (*r != expect * 2 + 1 + 7) in_order = false;
    ++expect;
    ++count;
  }
  EXPECT_TRUE(in_order);
  EXPECT_EQ(must_finish(sent, "feed"), static_cast<std::size_t>(n));
  std::size_t want = 0;
  for (std::uint64_t i = 0; i < n; ++i) want += (i * 2 + 1) % 3 != 0 ? 1 : 0;
  EXPECT_EQ(count, want);
  join_within_limit(pipe);
  EXPECT_EQ(pipe.health().state, rp::run_state::finished);
}

TEST(Pipeline, ClosingTheInputDrainsEveryMessageBeforeClosed) {
  constexpr int n = 500;
  auto [in, out, pipe] = rp::source<int>(n).then([](int x) { return x + 1; }).then([](int x) { return -x; }).build();
  for (int i = 0; i < n; ++i) ASSERT_EQ(in.try_send(i), status::ok);  // all fit: nobody reads yet
  in.close();
  join_within_limit(pipe);  // the stages end without anyone reading: everything sits in `out`
  EXPECT_EQ(pipe.health().state, rp::run_state::finished);
  EXPECT_EQ(out.size_approx(), static_cast<std::size_t>(n));
  const std::vector<int> got = drain(out);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], -(i + 1));
}

TEST(Pipeline, MoveOnlyPayloadThroughLinearStages) {
  auto [in, out, pipe] = rp::source<std::unique_ptr<int>>(2)
                             .then([](std::unique_ptr<int> p) {
                               *p *= 10;
                               return p;
                             })
                             .filter([](const std::unique_ptr<int>& p) { return *p % 20 == 0; })
                             .then([](std::unique_ptr<int>&& p) { return std::make_unique<std::string>(std::to_string(*p)); })
                             .build();
  auto producer = std::async(std::launch::async, [in = std::move(in)]() mutable {
    for (int i = 0; i < 100; ++i)
      if (in.send(std::make_unique<int>(i)) != status::ok) return false;
    in.close();
    return true;
  });
  std::vector<std::string> got;
  for (auto& p : drain(out)) got.push_back(*p);
  EXPECT_TRUE(must_finish(producer, "producer"));
  std::vector<std::string> want;
  for (int i = 0; i < 100; i += 2) want.push_back(std::to_string(i * 10));
  EXPECT_EQ(got, want);
}

// ---- diamonds -----------------------------------------------------------------------------

TEST(Pipeline, DiamondCombinesTheIthOutputOfEveryBranchInBranchOrder) {
  auto [in, out, pipe] = rp::source<int>(3)
                             .then([](int x) { return x + 100; })
                             .fan_out([](int x) { return tagged("a", x); },
                                      [](int x) { return x * x; },
                                      [](int x) -> std::optional<int> {  // a filtering branch: a marker per input
                                        if (x % 4 == 0) return std::nullopt;
                                        return -x;
                                      })
                             .join([](std::string a, int sq, std::optional<int> neg) {
                               return a + "|" + std::to_string(sq) + "|" + (neg ? std::to_string(*neg) : "dropped");
                             })
                             .filter([](const std::string& s) { return s.find("dropped") == std::string::npos; })
                             .build();
  auto sent = feed(std::move(in), iota(64));
  const std::vector<std::string> got = drain(out);
  EXPECT_EQ(must_finish(sent, "feed"), 64u);
  std::vector<std::string> want;
  for (int i = 0; i < 64; ++i) {
    const int x = i + 100;
    if (x % 4 == 0) continue;
    want.push_back(tagged("a", x) + "|" + std::to_string(x * x) + "|" + std::to_string(-x));
  }
  ASSERT_EQ(want.size(), 48u);
  EXPECT_EQ(got, want);
  join_within_limit(pipe);
  EXPECT_EQ(pipe.health().state, rp::run_state::finished);
  // then, the copying stage, three branches, join, filter
  EXPECT_EQ(pipe.stage_names(),
            (std::vector<std::string>{"then", "fan_out", "branch 0", "branch 1", "branch 2", "join", "filter"}));
}

TEST(Pipeline, DiamondWithUnevenBranchSpeedsStaysAligned) {
  constexpr int n = 1'000;
  auto [in, out, pipe] = rp::source<int>(1)
                             .fan_out(
                                 [](int x) {
                                   if (x % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
                                   return x;
                                 },
                                 [](int x) { return std::int64_t(x) * 3; })
                             .join([](int a, std::int64_t b) { return b - 3 * std::int64_t(a); })  // 0 when aligned
                             .build();
  auto sent = feed(std::move(in), iota(n));
  const std::vector<std::int64_t> got = drain(out);
  EXPECT_EQ(must_finish(sent, "feed"), static_cast<std::size_t>(n));
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], 0) << "branches out of step at " << i;
}

TEST(Pipeline, NamedStagesAreReportedByIndex) {
  auto [in, out, pipe] = rp::source<int>(4)
                             .then(rp::named("parse", [](int x) { return x; }))
                             .fan_out(rp::named("left", [](int x) { return x; }), [](int x) { return x; })
                             .join(rp::named("merge", [](int a, int b) { return a + b; }))
                             .filter(rp::named("", [](const int&) { return true; }))  // empty: the default name
                             .build();
  EXPECT_EQ(pipe.stage_names(),
            (std::vector<std::string>{"parse", "fan_out", "left", "branch 1", "merge", "filter"}));
  EXPECT_EQ(pipe.health().state, rp::run_state::running);
  EXPECT_EQ(pipe.health().stages_running, 6u);
}

// ---- shutdown -----------------------------------------------------------------------------

TEST(Pipeline, ShutdownReleasesAProducerBlockedOnAFullPipeline) {
  auto [in, out, pipe] = rp::source<int>(1).then([](int x) { return x; }).then([](int x) { return x; }).build();
  std::atomic<pid_t> producer_tid{0};
  auto producer = std::async(std::launch::async, [&producer_tid, in = std::move(in)]() mutable {
    producer_tid = rw_test::this_tid();
    int sent = 0;
    for (;;) {  // nobody reads `out`: the links fill up and the send blocks
      const status s = in.send(sent);
      if (s != status::ok) return std::pair{s, sent};
      ++sent;
    }
  });
  ASSERT_TRUE(rw_test::wait_until_parked(producer_tid)) << "the producer never blocked";
  pipe.shutdown();
  const auto [why, sent] = must_finish(producer, "producer blocked on a full input");
  EXPECT_EQ(why, status::closed);
  // 3 links of capacity 1 plus one message in each of the 2 stages' hands, at most.
  EXPECT_GE(sent, 1);
  EXPECT_LE(sent, 5);
  join_within_limit(pipe);
  const rp::health_report h = pipe.health();
  EXPECT_EQ(h.state, rp::run_state::stopped);
  EXPECT_TRUE(h.stop_requested);
  // What reached `out` before the stop is still readable, in order; then closed.
  const std::vector<int> got = drain(out);
  ASSERT_LE(got.size(), 1u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], static_cast<int>(i));
}

TEST(Pipeline, ShutdownStopsIdleStagesPromptly) {
  auto [in, out, pipe] = rp::source<int>(16)
                             .then([](int x) { return x; })
                             .fan_out([](int x) { return x; }, [](int x) { return x; })
                             .join([](int a, int b) { return a + b; })
                             .build();
  ASSERT_EQ(in.send(20), status::ok);
  auto first = out.recv_for(generous);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 40);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the stages go idle (parked)
  EXPECT_EQ(pipe.health().state, rp::run_state::running);
  pipe.shutdown();
  join_within_limit(pipe);
  EXPECT_EQ(pipe.health().state, rp::run_state::stopped);
  EXPECT_EQ(pipe.health().stages_running, 0u);
  EXPECT_EQ(in.send(1), status::closed);
  EXPECT_EQ(out.recv_for(generous).status(), status::closed);
}

TEST(Pipeline, DroppingTheOutputStopsThePipelineAndTheProducer) {
  auto built = rp::source<int>(2).then([](int x) { return x; }).build();
  auto producer = std::async(std::launch::async, [in = std::move(built.in)]() mutable {
    for (int i = 0;; ++i)
      if (in.send(i) != status::ok) return i;
  });
  built.out.close();
  EXPECT_GE(must_finish(producer, "producer after the output closed"), 0);
  join_within_limit(built.pipe);
  EXPECT_EQ(built.pipe.health().state, rp::run_state::stopped);
}

TEST(Pipeline, DestructorShutsDownAndJoins) {
  auto witness = std::make_shared<int>(0);
  std::future<std::pair<status, int>> producer;
  {
    auto [in, out, pipe] = rp::source<int>(1)
                               .then([witness](int x) { return x + *witness; })  // the stage owns a copy
                               .then([witness](int x) { return x + *witness; })
                               .build();
    EXPECT_EQ(witness.use_count(), 3);
    std::atomic<pid_t> tid{0};
    producer = std::async(std::launch::async, [&tid, in = std::move(in)]() mutable {
      tid = rw_test::this_tid();
      for (int i = 0;; ++i)
        if (const status s = in.send(i); s != status::ok) return std::pair{s, i};
    });
    ASSERT_TRUE(rw_test::wait_until_parked(tid));
    auto destroyed = std::async(std::launch::async, [p = std::move(pipe)]() mutable { rp::handle gone = std::move(p); });
    must_finish(destroyed, "handle destructor");
    // Joined: every stage (and the function objects it owned) is gone.
    EXPECT_EQ(witness.use_count(), 1);
  }
  EXPECT_EQ(must_finish(producer, "producer").first, status::closed);
}

TEST(Pipeline, MovedFromHandleIsEmptyAndMoveAssignmentStopsTheOldPipeline) {
  auto a = rp::source<int>(4).then([](int x) { return x; }).build();
  auto b = rp::source<int>(4).then([](int x) { return x; }).build();
  rp::handle h = std::move(a.pipe);
  EXPECT_EQ(a.pipe.health().stages, 0u);  // moved from: a documented, empty state
  EXPECT_EQ(a.pipe.health().state, rp::run_state::finished);
  EXPECT_NO_THROW(a.pipe.join());
  h = std::move(b.pipe);  // the first pipeline is shut down and joined here
  EXPECT_EQ(a.in.send(1), status::closed);
  EXPECT_EQ(h.health().state, rp::run_state::running);
}

// ---- failures -----------------------------------------------------------------------------

TEST(Pipeline, ExceptionInTheMiddleStageIsReportedAndStopsEverything) {
  auto [in, out, pipe] = rp::source<int>(2)
                             .then([](int x) { return x + 1; })
                             .then(rp::named("validate",
                                             [](int x) {
                                               if (x == 50) throw std::invalid_argument("bad value 50");
                                               return x * 2;
                                             }))
                             .then([](int x) { return x; })
                             .build();
  auto producer = std::async(std::launch::async, [in = std::move(in)]() mutable {
    for (int i = 0;; ++i)  // never closes by itself: only the failure ends this
      if (in.send(i) != status::ok) return i;
  });
  const std::vector<int> got = drain(out);
  EXPECT_GE(must_finish(producer, "producer after a stage failed"), 50);
  join_within_limit(pipe);
  // A prefix of the exact outputs (the stop may discard what was still in flight).
  ASSERT_LE(got.size(), 49u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], static_cast<int>(i + 1) * 2);
  const rp::health_report h = pipe.health();
  EXPECT_EQ(h.state, rp::run_state::failed);
  EXPECT_EQ(h.failed_stage, 1u);
  EXPECT_EQ(h.failed_stage_name, "validate");
  EXPECT_EQ(h.what, "bad value 50");
  EXPECT_TRUE(h.stop_requested);
  EXPECT_EQ(h.stages_running, 0u);
  try {
    pipe.rethrow_if_failed();
    ADD_FAILURE() << "rethrow_if_failed() did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad value 50");
  }
}

TEST(Pipeline, ExceptionInABranchIsReportedWithItsIndex) {
  auto [in, out, pipe] = rp::source<int>(4)
                             .then([](int x) { return x; })
                             .fan_out([](int x) { return x; },
                                      rp::named("enrich b",
                                                [](int x) {
                                                  if (x == 7) throw std::runtime_error("branch b refused 7");
                                                  return x;
                                                }))
                             .join([](int a, int b) { return a + b; })
                             .build();
  auto sent = feed(std::move(in), iota(1000));  // closes the input too: failure must still win
  const std::vector<int> got = drain(out);
  EXPECT_LT(must_finish(sent, "feed"), 1000u);
  join_within_limit(pipe);
  ASSERT_LE(got.size(), 7u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], 2 * static_cast<int>(i));
  const rp::health_report h = pipe.health();
  EXPECT_EQ(h.state, rp::run_state::failed);
  EXPECT_EQ(h.failed_stage, 3u);  // then, fan_out, branch 0, [enrich b], join
  EXPECT_EQ(h.failed_stage_name, "enrich b");
  EXPECT_EQ(h.what, "branch b refused 7");
  EXPECT_THROW(pipe.rethrow_if_failed(), std::runtime_error);
}

TEST(Pipeline, ExceptionInTheJoinAndNonStandardExceptionsAreReported) {
  auto [in, out, pipe] = rp::source<int>(1)
                             .fan_out([](int x) { return x; }, [](int x) { return x; })
                             .join([](int a, int) -> int {
                               if (a == 3) throw 42;
                               return a;
                             })
                             .build();
  auto sent = feed(std::move(in), iota(100));
  const std::vector<int> got = drain(out);
  (void)must_finish(sent, "feed");
  join_within_limit(pipe);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));  // the join's own outputs before it threw
  const rp::health_report h = pipe.health();
  EXPECT_EQ(h.failed_stage, 3u);
  EXPECT_EQ(h.failed_stage_name, "join");
  EXPECT_EQ(h.what, "an exception not derived from std::exception");
  EXPECT_THROW(pipe.rethrow_if_failed(), int);
}

TEST(Pipeline, ExceptionFromAFilterIsReported) {
  auto [in, out, pipe] = rp::source<int>(8)
                             .filter([](const int& x) {
                               if (x == 0) throw std::out_of_range("zero");
                               return true;
                             })
                             .build();
  ASSERT_EQ(in.send(0), status::ok);
  EXPECT_EQ(out.recv_for(generous).status(), status::closed);
  // The failure is recorded before the failing stage closes its links: seeing closed on the
  // output means health() already says failed, joined or not.
  EXPECT_EQ(pipe.health().state, rp::run_state::failed);
  join_within_limit(pipe);
  EXPECT_EQ(pipe.health().failed_stage, 0u);
  EXPECT_EQ(pipe.health().what, "zero");
  EXPECT_EQ(in.send(1), status::closed);
}

// ---- construction errors ------------------------------------------------------------------

// A stage function whose move throws once armed: build() fails after the first stage has
// started, which must then be shut down and joined before the exception leaves.
struct explosive {
  const bool* armed;
  explicit explosive(const bool* a) : armed(a) {}
  explosive(const explosive& o) = delete;
  explosive(explosive&& o) : armed(o.armed) {
    if (*armed) throw std::runtime_error("move refused");
  }
  int operator()(int x) const { return x; }
};

TEST(Pipeline, BuildFailingHalfwayStopsTheStagesItStarted) {
  auto witness = std::make_shared<int>(0);
  bool armed = false;
  auto b = rp::source<int>(4).then([witness](int x) { return x + *witness; }).then(explosive(&armed));
  armed = true;
  auto attempt = std::async(std::launch::async, [&b] {
    try {
      (void)std::move(b).build();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  });
  EXPECT_EQ(must_finish(attempt, "a build() that throws"), "move refused");
  EXPECT_EQ(witness.use_count(), 1) << "the first stage was not joined (or its function leaked)";
}

TEST(Pipeline, ZeroCapacityIsAnError) {
  try {
    (void)rp::source<int>(0);
    ADD_FAILURE() << "no error for capacity 0";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::invalid_capacity);
  }
  EXPECT_THROW((void)rp::source<int>(std::size_t{1} << 60).then([](int x) { return x; }).build(), ringwire::error);
}

}  // namespace
