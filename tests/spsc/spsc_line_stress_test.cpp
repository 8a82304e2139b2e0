// Stress tests for ringwire::spsc::line_channel: one producer thread, one consumer thread,
// every message checked for its exact sequence and payload, every run for its exact count.
//
// Each side picks an operation per message from what its mode allows (spin: try_send /
// try_recv(T&) / try_recv; park: send_for / recv_for with park(0..4), so both sides fall
// asleep all the time; mixed: everything, consume(fn, k) included) and now and then
// pauses, so the other side finds the ring full or empty and parks. Capacities 1, 3
// (not a power of two), 64 and 1000; start indices 0 and just below 2^64. Element types:
// an 8-byte word (shares its stamp's line), a 64-byte checksummed payload (two lines a
// slot) and std::unique_ptr (ownership: the sanitizers see any leak or double free). The
// disconnect tests close either side at a random point and count live elements.
//
// Sizes divide by RINGWIRE_STRESS_SCALE (4 under sanitizers). No timing is asserted;
// blocking calls take 30 s timeouts purely as failure detection.
// RINGWIRE_STRESS_SEED=<n> replays a run (the seed is printed on every failure).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "ringwire/spsc.hpp"
#include "support/stress_scale.hpp"
#include "support/stress_seed.hpp"

namespace {

using namespace std::chrono_literals;
namespace spsc = ringwire::spsc;
using ringwire::status;
using ringwire::wait_strategy;
using rw_test::scaled;

constexpr auto kLong = 30s;  // failure detection only
constexpr std::uint64_t kNearWrap = ~std::uint64_t{0} - 999;

using rw_test::base_seed;
using rw_test::splitmix;

// ---- element types: make(seq) and seq_of(v) (~0 when the payload is corrupt) ---------

struct alignas(64) wide {
  std::uint64_t w[8];
};
static_assert(sizeof(wide) == 64 && std::is_trivially_copyable_v<wide>);

template <class T>
struct element;

template <>
struct element<std::uint64_t> {
  static std::uint64_t make(std::uint64_t s) { return splitmix(s); }
  static std::uint64_t seq_of(std::uint64_t v, std::uint64_t expect) { return v == splitmix(expect) ? expect : ~expect; }
};
template <>
struct element<wide> {
  static wide make(std::uint64_t s) {
    wide p{};
    p.w[0] = s;
    for (int i = 1; i < 8; ++i) p.w[i] = splitmix(s * 8 + static_cast<std::uint64_t>(i));
    return p;
  }
  static std::uint64_t seq_of(const wide& p, std::uint64_t) {
    for (int i = 1; i < 8; ++i)
      if (p.w[i] != splitmix(p.w[0] * 8 + static_cast<std::uint64_t>(i))) return ~p.w[0];
    return p.w[0];
  }
};
template <>
struct element<std::unique_ptr<std::uint64_t>> {
  static std::unique_ptr<std::uint64_t> make(std::uint64_t s) { return std::make_unique<std::uint64_t>(s); }
  static std::uint64_t seq_of(const std::unique_ptr<std::uint64_t>& p, std::uint64_t expect) {
    return p ? *p : ~expect;
  }
};

// ---- one run -----------------------------------------------------------------------------

enum class mode { spin, park, mixed };

struct config {
  const char* name;
  std::size_t capacity;
  std::uint64_t start;
  mode m;
};

std::string describe(const config& c, std::uint64_t seed) {
  return std::string(c.name) + " seed=" + std::to_string(seed);
}

// A side's pause, now and then: lets the other side find the ring full or empty and park.
void maybe_pause(std::mt19937_64& rng) {
  const auto r = rng() % 4096;
  if (r < 4) {
    std::this_thread::sleep_for(std::chrono::microseconds(50 + r * 100));
  } else if (r < 40) {
    std::this_thread::yield();
  }
}

template <class T>
void run(const config& c, std::uint64_t seed, std::uint64_t n) {
  using el = element<T>;
  spsc::line_options o;
  o.start_index = c.start;
  const std::uint32_t spins = static_cast<std::uint32_t>(seed % 5);  // 0: park at once
  o.sender_wait = c.m == mode::spin ? wait_strategy::spin_then_yield(64) : wait_strategy::park(spins);
  o.receiver_wait = o.sender_wait;
  auto [tx, rx] = spsc::line_channel<T>(c.capacity, o);
  const std::string what = describe(c, seed);

  std::atomic<bool> failed{false};
  std::thread producer([&, tx = std::move(tx)]() mutable {
    std::mt19937_64 rng(seed);
    for (std::uint64_t i = 0; i < n && !failed.load(std::memory_order_relaxed); ++i) {
      const int op = c.m == mode::spin ? 0 : c.m == mode::park ? 1 : static_cast<int>(rng() % 3);
      status s;
      if (op == 0) {
        while ((s = tx.try_send(el::make(i))) == status::full) std::this_thread::yield();
      } else if (op == 1) {
        s = tx.send_for(el::make(i), kLong);
      } else {
        s = tx.emplace(el::make(i));
      }
      if (s != status::ok) {
        ADD_FAILURE() << what << ": send #" << i << " returned " << ringwire::to_string(s);
        failed = true;
      }
      maybe_pause(rng);
    }
  });  // ~line_sender closes the channel

  std::mt19937_64 rng(~seed);
  std::uint64_t next = 0;
  auto check = [&](const T& v) {
    const std::uint64_t got = el::seq_of(v, next);
    if (got != next && !failed.exchange(true)) ADD_FAILURE() << what << ": expected #" << next << ", got #" << got;
    ++next;
  };
  T out = el::make(~std::uint64_t{0});
  for (;;) {
    const int op = c.m == mode::spin ? static_cast<int>(rng() % 2) : c.m == mode::park ? 2 : static_cast<int>(rng() % 4);
    if (op == 0 || op == 1) {  // try_recv(T&) / try_recv()
      status s;
      if (op == 0) {
        s = rx.try_recv(out);
        if (s == status::ok) check(out);
      } else {
        auto r = rx.try_recv();
        s = r.status();
        if (r) check(*r);
      }
      if (s == status::closed) break;
      if (s == status::empty) std::this_thread::yield();
    } else if (op == 2) {
      auto r = rx.recv_for(kLong);
      if (!r) {
        if (r.status() != status::closed) ADD_FAILURE() << what << ": recv_for " << ringwire::to_string(r.status());
        break;
      }
      check(*r);
    } else if (rx.consume([&](T& v) { check(v); }, 1 + rng() % 8) == 0) {
      if (rx.is_closed()) break;
      std::this_thread::yield();
    }
    if (failed.load(std::memory_order_relaxed)) break;
    maybe_pause(rng);
  }
  producer.join();
  if (!failed) {
    EXPECT_EQ(next, n) << what;
  }
  EXPECT_EQ(rx.try_recv().status(), status::closed) << what;
}

const config configs[] = {
    {"cap1_spin", 1, 0, mode::spin},          {"cap1_park", 1, kNearWrap, mode::park},
    {"cap3_mixed", 3, kNearWrap, mode::mixed}, {"cap3_park", 3, 0, mode::park},
    {"cap64_spin", 64, kNearWrap, mode::spin}, {"cap64_mixed", 64, 0, mode::mixed},
    {"cap1000_park", 1000, 0, mode::park},    {"cap1000_mixed", 1000, kNearWrap, mode::mixed},
};

class SpscLineStress : public ::testing::TestWithParam<config> {};
INSTANTIATE_TEST_SUITE_P(All, SpscLineStress, ::testing::ValuesIn(configs),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_P(SpscLineStress, Word8ExactSequence) { run<std::uint64_t>(GetParam(), base_seed(), scaled(200'000)); }
TEST_P(SpscLineStress, Payload64ExactSequence) { run<wide>(GetParam(), base_seed() + 1, scaled(100'000)); }
TEST_P(SpscLineStress, UniquePtrExactSequence) {
  run<std::unique_ptr<std::uint64_t>>(GetParam(), base_seed() + 2, scaled(50'000));
}

// ---- disconnect --------------------------------------------------------------------------

// Counts live instances: the channel destroys exactly what it still holds at teardown.
struct tracked {
  static inline std::atomic<long> live{0};
  std::uint64_t seq;
  explicit tracked(std::uint64_t s) noexcept : seq(s) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(tracked&& o) noexcept : seq(o.seq) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(const tracked&) = delete;
  ~tracked() { live.fetch_sub(1, std::memory_order_relaxed); }
};

// Rounds of one disconnect scenario: a fresh channel of capacity 1..5 with park(0..2) on
// both sides each, handed to body(tx, rx, rng); after each, nothing may be left alive.
template <class Body>
void disconnect_rounds(std::uint64_t seed, Body&& body) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < static_cast<int>(scaled(200)); ++round) {
    SCOPED_TRACE("seed=" + std::to_string(seed) + " round " + std::to_string(round));
    tracked::live = 0;
    {
      spsc::line_options o;
      o.sender_wait = o.receiver_wait = wait_strategy::park(static_cast<std::uint32_t>(rng() % 3));
      auto [tx, rx] = spsc::line_channel<tracked>(1 + rng() % 5, o);
      body(std::move(tx), std::move(rx), rng);
    }
    EXPECT_EQ(tracked::live.load(), 0);
  }
}

// The receiver leaves at a random point while the sender keeps sending (parked on a full
// ring, often): the sender sees closed within one send of noticing, nothing leaks.
TEST(SpscLineDisconnect, ReceiverClosesAtRandomPoint) {
  disconnect_rounds(base_seed() + 3, [](auto tx, auto rx, std::mt19937_64& rng) {
    const std::uint64_t stop_after = rng() % 50;
    std::thread consumer([rx = std::move(rx), stop_after]() mutable {
      for (std::uint64_t i = 0; i < stop_after; ++i) {
        auto r = rx.recv_for(kLong);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->seq, i);
      }
    });  // ~line_receiver closes
    std::uint64_t sent = 0;
    status s;
    while ((s = tx.send_for(tracked(sent), kLong)) == status::ok) ++sent;
    EXPECT_EQ(s, status::closed);
    EXPECT_GE(sent, stop_after);
    EXPECT_TRUE(tx.is_closed());
    consumer.join();
  });
}

// The sender leaves at a random point while the receiver may be parked: every message it
// sent arrives, then closed.
TEST(SpscLineDisconnect, SenderClosesAtRandomPoint) {
  disconnect_rounds(base_seed() + 4, [](auto tx, auto rx, std::mt19937_64& rng) {
    const std::uint64_t n = rng() % 50;
    std::thread producer([tx = std::move(tx), n]() mutable {
      for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(tx.send_for(tracked(i), kLong), status::ok);
    });  // ~line_sender closes
    std::uint64_t got = 0;
    for (;;) {
      auto r = rx.recv_for(kLong);
      if (!r) {
        EXPECT_EQ(r.status(), status::closed);
        break;
      }
      ASSERT_EQ(r->seq, got++);
    }
    EXPECT_EQ(got, n);
    producer.join();
  });
}

}  // namespace
