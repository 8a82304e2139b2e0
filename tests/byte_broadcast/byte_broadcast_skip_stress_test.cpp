// Stress test of byte_broadcast::writer::skip (run under TSan too).
//
// A writer runs a random script, fixed before the threads start: writes of sizes 0 .. 1 KiB
// (signature and content derived from the sequence) and skips of 1 .. 3 * depth sequences,
// into a small ring with credits. A lossy reader, a slow lossy reader and a credited reader
// (try_read spinning for one, parking read_for for the others) check every result:
// sequences strictly increasing and each exactly the one expected (next_seq before the
// read), every payload intact, no skipped sequence ever delivered, a lagged result moving
// the reader by exactly missed(); at the end received + missed == every sequence from its
// start to the last one. The credited reader must get every written message and count
// exactly the skipped sequences as missed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_broadcast.hpp"
#include "stress_messages.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
using ringwire::status;

constexpr std::size_t max_size = 1024;

constexpr bb_stress::messages msgs{max_size};

// The writer's script: step i writes one message (skip[i] == 0) or skips skip[i] sequences.
// written[seq] says whether seq is a message (false: skipped).
struct script {
  std::vector<std::uint64_t> skip;
  std::vector<bool> written{false};  // sequence 0 does not exist
  std::uint64_t messages = 0, skipped = 0;

  script(std::uint64_t steps, std::uint64_t depth, std::uint32_t seed) {
    std::mt19937_64 rng(seed);
    for (std::uint64_t i = 0; i < steps; ++i) {
      const bool s = rng() % 8 == 0;
      const std::uint64_t g = s ? 1 + rng() % (3 * depth) : 0;
      skip.push_back(g);
      if (g == 0) {
        written.push_back(true);
        ++messages;
      } else {
        written.insert(written.end(), g, false);
        skipped += g;
      }
    }
  }
  [[nodiscard]] std::uint64_t last() const { return written.size() - 1; }
};

struct tally {
  std::uint64_t received = 0, missed = 0, lags = 0, last = 0;
  bool ok = true;
};

constexpr auto no_hang = std::chrono::seconds(20);

template <class Reader>
tally consume(Reader& r, const script& s, bool spin, bool slow) {
  tally t;
  std::vector<std::byte> buf(max_size);
  for (std::uint64_t i = 0;; ++i) {
    if (slow && i % 32 == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    const std::uint64_t expected = r.next_seq();
    const bb::read_result m = spin ? r.try_read(buf) : r.read_for(buf, no_hang);
    if (m) {
      const std::uint64_t seq = m.info().seq;
      const bool good = m.missed() == 0 && seq == expected && seq > t.last && seq <= s.last() && s.written[seq] &&
                        msgs.intact(m.info(), buf);
      if (!good) {
        ADD_FAILURE() << "bad message " << seq << " (expected " << expected << ")";
        t.ok = false;
        return t;
      }
      t.last = seq;
      ++t.received;
      continue;
    }
    if (m.status() == status::closed) break;
    if (spin && m.status() == status::empty) {
      std::this_thread::yield();
      continue;
    }
    if (m.status() != status::lagged || m.missed() == 0 || r.next_seq() != expected + m.missed()) {
      ADD_FAILURE() << ringwire::to_string(m.status()) << " missed " << m.missed() << " at " << expected;
      t.ok = false;
      return t;
    }
    ++t.lags;
    t.missed += m.missed();
  }
  return t;
}

TEST(ByteBroadcastSkipStress, RandomWritesAndSkipsExactAccounting) {
  const std::uint64_t depth = 64;
  const script s(rw_test::scaled(200000), depth, 20261206u);
  auto [w, r] = bb::channel({.depth = depth, .region_bytes = 16 << 10, .max_message = max_size, .max_credited = 1});
  auto credited = r.credited();  // starts at 1, before the writer
  bb::reader<> spinning = r, slow = r;
  tally tc, ts, tl;
  std::thread c([&] { tc = consume(credited, s, false, true); });
  std::thread sp([&] { ts = consume(spinning, s, true, false); });
  std::thread sl([&] { tl = consume(slow, s, false, true); });
  std::vector<std::byte> msg;
  for (const std::uint64_t g : s.skip) {
    if (g != 0) {
      ASSERT_EQ(w.skip(g), status::ok);
      continue;
    }
    const std::uint64_t seq = w.published() + 1;
    msgs.fill(seq, msg);
    ASSERT_EQ(w.write(seq, msg), status::ok);
  }
  ASSERT_EQ(w.published(), s.last());
  w.close();
  c.join();
  sp.join();
  sl.join();
  for (const tally* t : {&tc, &ts, &tl}) {
    EXPECT_TRUE(t->ok);
    EXPECT_EQ(t->received + t->missed, s.last());  // every sequence from 1: read or missed
  }
  EXPECT_EQ(tc.received, s.messages);  // credited: every message, and exactly the skips missed
  EXPECT_EQ(tc.missed, s.skipped);
  EXPECT_EQ(credited.received() + credited.missed(), s.last());
  EXPECT_EQ(slow.received() + slow.missed(), s.last());
  std::printf("%llu messages, %llu skipped; credited %llu lags; spinning %llu + %llu missed (%llu lags); slow %llu + "
              "%llu missed (%llu lags); writer rescans %llu\n",
              static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.skipped),
              static_cast<unsigned long long>(tc.lags), static_cast<unsigned long long>(ts.received),
              static_cast<unsigned long long>(ts.missed), static_cast<unsigned long long>(ts.lags),
              static_cast<unsigned long long>(tl.received), static_cast<unsigned long long>(tl.missed),
              static_cast<unsigned long long>(tl.lags), static_cast<unsigned long long>(w.rescans()));
}

}  // namespace
