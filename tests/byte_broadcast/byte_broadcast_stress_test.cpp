// Stress tests for ringwire::byte_broadcast (run under TSan too).
//
// ThreeReaders: one writer publishes N messages of mixed sizes (0 .. 2 KiB) into a ring
// with credits; a credited reader must receive every one, a fast and a slow lossy reader
// lose some. Every message carries its sequence as the signature and a size and content
// derived from it, so each accepted message is checked byte for byte (a torn or stale copy
// fails), in order (exactly the sequence the reader expected), and at the end
// received + missed == N for every reader.
//
// ParkingReadersBurstThenPause: every endpoint parks (wait_strategy::park): the writer
// publishes bursts and pauses between them, so the readers (credited, fast lossy, slow
// lossy) fall asleep on the bell and are woken hundreds of times, and the credited writer
// parks whenever the slow credited reader holds it back. Every read is bounded by
// read_for with a generous timeout: a timed_out result (a lost wake-up) fails the test.
//
// ForkedWriter: the same over mmap(MAP_SHARED | MAP_ANONYMOUS) memory between two
// processes: the child attaches as the writer, the parent reads (credited and lossy); all
// with fence_scope::cross_process and parking (process-shared futexes).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_broadcast.hpp"
#include "stress_messages.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
using ringwire::status;

constexpr std::size_t max_size = 2048;

constexpr bb_stress::messages msgs{max_size};

// Reads until closed; returns false at the first wrong message. `slow` naps now and then.
struct tally {
  std::uint64_t received = 0, missed = 0, last = 0, lags = 0;
  bool ok = true;
};

// A blocking read that never hangs: a wake-up lost for this long is a failure (timed_out).
constexpr auto no_hang = std::chrono::seconds(20);

template <class Reader>
tally consume(Reader& r, bool slow) {
  tally t;
  std::vector<std::byte> buf(max_size);
  for (std::uint64_t i = 0;; ++i) {
    if (slow && i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    const std::uint64_t expected = r.next_seq();
    const bb::read_result m = r.read_for(buf, no_hang);
    if (m) {
      if (m.missed() != 0 || m.info().seq != expected || m.info().seq <= t.last || !msgs.intact(m.info(), buf)) {
        t.ok = false;
        return t;
      }
      t.last = m.info().seq;
      ++t.received;
      continue;
    }
    if (m.status() == status::closed) break;
    if (m.status() != status::lagged || r.next_seq() != expected + m.missed()) {
      t.ok = false;  // timed_out after a blocking read, too_small or corrupt: never here
      return t;
    }
    ++t.lags;  // a lap, or payloads overwritten before the copy: the exact count
    t.missed += m.missed();
  }
  return t;
}

TEST(ByteBroadcastStress, ThreeReadersMixedSizes) {
  const std::uint64_t n = rw_test::scaled(100000);
  auto [w, r] = bb::channel({.depth = 256, .region_bytes = 64 << 10, .max_message = max_size, .max_credited = 2});
  auto credited = r.credited();
  bb::reader<> fast = r, slow = r;
  tally tc, tf, ts;
  std::thread c([&] { tc = consume(credited, false); });
  std::thread f([&] { tf = consume(fast, false); });
  std::thread s([&] { ts = consume(slow, true); });
  std::vector<std::byte> msg;
  for (std::uint64_t i = 1; i <= n; ++i) {
    msgs.fill(i, msg);
    ASSERT_EQ(w.write(i, msg), status::ok);
  }
  w.close();
  c.join();
  f.join();
  s.join();
  for (const tally* t : {&tc, &tf, &ts}) {
    EXPECT_TRUE(t->ok);
    EXPECT_EQ(t->received + t->missed, n);
  }
  EXPECT_EQ(tc.received, n);  // credited: nothing lost
  EXPECT_EQ(tc.missed, 0u);
  EXPECT_EQ(ts.last, n);
  EXPECT_EQ(credited.received(), n);
  EXPECT_EQ(slow.received() + slow.missed(), n);
  std::printf("credited %llu; fast %llu + %llu missed (%llu lags); slow %llu + %llu missed (%llu lags); "
              "writer rescans %llu\n",
              static_cast<unsigned long long>(tc.received), static_cast<unsigned long long>(tf.received),
              static_cast<unsigned long long>(tf.missed), static_cast<unsigned long long>(tf.lags),
              static_cast<unsigned long long>(ts.received), static_cast<unsigned long long>(ts.missed),
              static_cast<unsigned long long>(ts.lags), static_cast<unsigned long long>(w.rescans()));
}

TEST(ByteBroadcastStress, LossyOnlyWriterNeverWaits) {
  // A shallow metadata ring over a roomy region: laps of the metadata, not payload
  // overwritten payloads, are what the readers meet here.
  const std::uint64_t n = rw_test::scaled(100000);
  auto [w, r] = bb::channel({.depth = 16, .region_bytes = 64 << 10, .max_message = max_size, .max_credited = 0});
  bb::reader<> a = r, b = r;
  tally ta, tb;
  std::thread t([&] { ta = consume(a, false); });
  std::thread u([&] { tb = consume(b, true); });
  std::vector<std::byte> msg;
  for (std::uint64_t i = 1; i <= n; ++i) {
    msgs.fill(i, msg);
    ASSERT_EQ(w.try_write(i, msg), status::ok);
  }
  w.close();
  t.join();
  u.join();
  for (const tally* x : {&ta, &tb}) {
    EXPECT_TRUE(x->ok);
    EXPECT_EQ(x->received + x->missed, n);
    EXPECT_EQ(x->last, n);
  }
  std::printf("lossy: %llu + %llu missed (%llu lags); slow %llu + %llu missed (%llu lags)\n",
              static_cast<unsigned long long>(ta.received), static_cast<unsigned long long>(ta.missed),
              static_cast<unsigned long long>(ta.lags), static_cast<unsigned long long>(tb.received),
              static_cast<unsigned long long>(tb.missed), static_cast<unsigned long long>(tb.lags));
}

TEST(ByteBroadcastStress, ParkingReadersBurstThenPause) {
  constexpr std::uint64_t burst = 64;
  const std::uint64_t n = rw_test::scaled(24000) / burst * burst;
  auto [w, r] = bb::channel({.depth = 128, .region_bytes = 32 << 10, .max_message = max_size, .max_credited = 1});
  const auto park = ringwire::wait_strategy::park(64);
  r.set_wait(park);
  w.set_wait(park);
  auto credited = r.credited();
  bb::reader<> fast = r, slow = r;
  tally tc, tf, ts;
  std::thread c([&] { tc = consume(credited, false); });
  std::thread f([&] { tf = consume(fast, false); });
  std::thread s([&] { ts = consume(slow, true); });
  std::vector<std::byte> msg;
  for (std::uint64_t i = 1; i <= n; ++i) {
    msgs.fill(i, msg);
    ASSERT_EQ(w.write_for(i, msg, no_hang), status::ok) << "the writer was never woken at " << i;
    // A pause after every burst: long enough for the readers to spin out and park.
    if (i % burst == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  w.close();
  c.join();
  f.join();
  s.join();
  for (const tally* t : {&tc, &tf, &ts}) {
    EXPECT_TRUE(t->ok);
    EXPECT_EQ(t->received + t->missed, n);
    EXPECT_EQ(t->last, n);
  }
  EXPECT_EQ(tc.received, n);
  EXPECT_EQ(tc.missed, 0u);
  // The pauses make them sleep: the test exercises the futex, not the spin phase.
  EXPECT_GT(credited.parks() + fast.parks() + slow.parks(), 0u);
  EXPECT_GT(w.wakes(), 0u);
  std::printf("parking: credited %llu, fast %llu + %llu missed, slow %llu + %llu missed; reader sleeps %llu/%llu/%llu; "
              "writer wakes %llu, writer sleeps %llu, rescans %llu (fenced %llu)\n",
              static_cast<unsigned long long>(tc.received), static_cast<unsigned long long>(tf.received),
              static_cast<unsigned long long>(tf.missed), static_cast<unsigned long long>(ts.received),
              static_cast<unsigned long long>(ts.missed), static_cast<unsigned long long>(credited.parks()),
              static_cast<unsigned long long>(fast.parks()), static_cast<unsigned long long>(slow.parks()),
              static_cast<unsigned long long>(w.wakes()), static_cast<unsigned long long>(w.parks()),
              static_cast<unsigned long long>(w.rescans()), static_cast<unsigned long long>(w.fenced_rescans()));
}

TEST(ByteBroadcastStress, ForkedWriterOverSharedMemory) {
  const std::uint64_t n = rw_test::scaled(40000);
  const bb::geometry g{.depth = 128, .region_bytes = 32 << 10, .max_message = max_size, .max_credited = 1};
  const std::size_t bytes = bb::layout<>::footprint(g);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  bb::format(mem, bytes, g);
  constexpr auto xp = ringwire::fence_scope::cross_process;
  const auto park = ringwire::wait_strategy::park(64);
  bb::reader<> lossy = bb::attach_reader(mem, bytes, bb::start_at::next, xp);  // starts at message 1
  lossy.set_wait(park);
  auto credited = lossy.credited();  // joins before the writer starts; parks too
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int rc = 0;
    {
      auto w = bb::attach_writer(mem, bytes, xp);
      w.set_wait(park);
      std::vector<std::byte> msg;
      for (std::uint64_t i = 1; i <= n && rc == 0; ++i) {
        msgs.fill(i, msg);
        if (w.write_for(i, msg, no_hang) != status::ok) rc = 3;
        if (i % 512 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));  // let them park
      }
    }  // ~writer closes the ring
    std::_Exit(rc);
  }
  tally tl;
  std::thread t([&] { tl = consume(lossy, false); });
  const tally tc = consume(credited, false);
  t.join();
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT_TRUE(tc.ok);
  EXPECT_EQ(tc.received, n);
  EXPECT_TRUE(tl.ok);
  EXPECT_EQ(tl.received + tl.missed, n);
  credited = {};
  munmap(mem, bytes);
}

}  // namespace
