// Stress test for broadcast::publisher::skip: one publisher thread making random publishes
// and skips (some longer than the ring) and two subscriber threads, on each policy. The
// payload is its sequence number, words derived from it and a checksum (a torn copy fails
// it). Every subscriber checks: each received message is intact and carries the result's
// seq(); sequences strictly increase, each exactly one past the previous or exactly
// `missed` further after a lag; no skipped sequence is ever received; at the end received
// + missed == every sequence the publisher advanced over (published + skipped) from the
// subscriber's start -- and under lossless, received == published and missed == skipped
// exactly. One subscriber is slow (yields between receives) and parks; the other spins
// then yields, so both the parked wake-up and the polling skip path are exercised.
// Evict: a subscriber may be dropped; its checks then hold up to the eviction.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "support/stress_scale.hpp"

namespace {

using namespace std::chrono_literals;
namespace bc = ringwire::broadcast;
using ringwire::status;

constexpr auto kLong = 30s;  // failure detection only

struct msg {
  std::array<std::uint64_t, 3> w;  // seq, mix(seq), checksum
};

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}
msg make(std::uint64_t seq) { return msg{{seq, mix(seq * 3 + 1), mix(seq ^ mix(seq * 3 + 1))}}; }

struct tally {
  std::uint64_t received = 0, missed = 0, last = 0;
  bool evicted = false;
  std::vector<std::uint64_t> seqs;  // every received sequence, checked against the skips at the end
};

// Reads until closed (or evicted), checking each outcome as it comes (see the top).
tally read_all(bc::subscriber<msg>& s, bool slow) {
  tally t;
  std::uint64_t expect = s.next_sequence();
  for (;;) {
    auto r = s.recv_for(kLong);
    if (r) {
      EXPECT_EQ(r->w, make(r->w[0]).w) << "torn or forged copy at " << r.seq();
      EXPECT_EQ(r.seq(), r->w[0]);
      EXPECT_EQ(r.seq(), expect) << "not the next sequence";
      expect = r.seq() + 1;
      ++t.received;
      t.seqs.push_back(r.seq());
      if (slow && r.seq() % 7 == 0) std::this_thread::yield();
    } else if (r.status() == status::lagged) {
      EXPECT_GT(r.missed(), 0u);
      t.missed += r.missed();
      expect += r.missed();
    } else if (r.status() == status::evicted) {
      t.evicted = true;
      break;
    } else {
      EXPECT_EQ(r.status(), status::closed) << "a receive waited 30 s: lost wake-up or a hang";
      break;
    }
    if (::testing::Test::HasFailure()) break;
  }
  t.last = expect - 1;
  EXPECT_EQ(t.received, s.received());
  EXPECT_EQ(t.missed, s.missed());
  return t;
}

void run(bc::policy p) {
  // Evict: a wider ring and shorter skips, so that a subscriber usually outlives a while of
  // skipping (one behind a skip is behind by it too: producer_state.hpp).
  const bool evict = p == bc::policy::evict;
  const std::size_t cap = evict ? 64 : 8;
  const std::uint64_t max_skip = evict ? 8 : 3 * cap;
  bc::options o;
  o.policy = p;
  o.max_subscribers = 4;
  if (evict) o.evict_lag = cap - 1;
  auto [pub, subs] = bc::channel<msg>(cap, o);
  pub.set_wait(ringwire::wait_strategy::park(64));
  auto slow = subs.subscribe();
  auto fast = subs.subscribe();
  slow.set_wait(ringwire::wait_strategy::park(16));
  fast.set_wait(ringwire::wait_strategy::spin_then_yield(64));

  const std::uint64_t steps = rw_test::scaled(200'000);
  std::vector<std::uint8_t> skipped;  // skipped[seq]: written by the publisher, read after join
  std::uint64_t published = 0;
  tally ts, tf;
  std::thread reader_slow([&] { ts = read_all(slow, true); });
  std::thread reader_fast([&] { tf = read_all(fast, false); });
  std::mt19937_64 rng(0x5eed + static_cast<unsigned>(p));
  skipped.push_back(0);  // sequence 0 does not exist
  for (std::uint64_t i = 0; i < steps; ++i) {
    const std::uint64_t roll = rng() % 64;
    if (roll < 6) {  // a skip: 1 .. max_skip (3 * capacity: laps too)
      const std::uint64_t g = 1 + rng() % max_skip;
      ASSERT_EQ(pub.skip(g), status::ok);
      skipped.resize(skipped.size() + g, 1);
    } else {
      ASSERT_EQ(pub.send(make(pub.published() + 1)), status::ok);
      skipped.push_back(0);
      ++published;
    }
    if (roll == 63 || (evict && roll < 16)) std::this_thread::yield();
  }
  const std::uint64_t total = pub.published();
  ASSERT_EQ(skipped.size(), total + 1);
  pub.close();
  reader_slow.join();
  reader_fast.join();

  std::printf("published %llu, skipped %llu; slow: received %llu missed %llu%s; fast: received %llu missed %llu%s\n",
              static_cast<unsigned long long>(published), static_cast<unsigned long long>(total - published),
              static_cast<unsigned long long>(ts.received), static_cast<unsigned long long>(ts.missed),
              ts.evicted ? " (evicted)" : "", static_cast<unsigned long long>(tf.received),
              static_cast<unsigned long long>(tf.missed), tf.evicted ? " (evicted)" : "");
  for (const tally* t : {&ts, &tf}) {
    for (const std::uint64_t s : t->seqs) ASSERT_EQ(skipped[s], 0) << "skipped sequence " << s << " was received";
    if (t->evicted) {
      EXPECT_EQ(p, bc::policy::evict);
      EXPECT_EQ(t->received + t->missed, t->last) << "up to the eviction";
      continue;
    }
    EXPECT_EQ(t->last, total) << "drained to the end before closed";
    EXPECT_EQ(t->received + t->missed, total) << "every sequence accounted for";
    if (p == bc::policy::lossless) {
      EXPECT_EQ(t->received, published);
      EXPECT_EQ(t->missed, total - published) << "lossless misses exactly the skips";
    }
  }
}

TEST(BroadcastSkipStress, Lossy) { run(bc::policy::lossy); }
TEST(BroadcastSkipStress, Lossless) { run(bc::policy::lossless); }
TEST(BroadcastSkipStress, Evict) { run(bc::policy::evict); }

}  // namespace
