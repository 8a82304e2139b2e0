// tests/shm/shm_mpsc_process_stress_test.cpp -- MPSC lanes between processes, at volume
// and under kill -9.
//
// Volume: three producer processes (fork) each attach a lane of one segment and send 3.4
// million records (10.2 million in all in release; a quarter under the sanitizers); the
// parent receives and checks every record: per-producer FIFO (each producer's sequence
// arrives 0, 1, 2, ... exactly once), every word intact, and the stream ends (closed) only
// after close_producers and the last lane drained. The endpoints park (the default
// strategy), so cross-process wakes run on every starved receive.
//
// Crashes: two steady producer processes send throughout while, round after round, a
// third producer process ("incarnation" k, with its own producer id) is started, sends as
// fast as it can and is killed with SIGKILL at a random moment. Before each send it has
// counted the sends that succeeded (a shared counter), so when it dies it had committed
// either that many records or one more. Odd rounds reap() the dead lane; even rounds leave
// it to the next incarnation's attach, which takes the dead claim over. At the end every
// incarnation's records must have arrived exactly once, in order and intact, their count
// equal to the counter or one more -- nothing torn, duplicated, reordered or lost -- and
// the steady producers' streams complete.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "support/shm_support.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;
using namespace std::chrono_literals;

struct record {
  std::uint32_t producer;
  std::uint32_t pad;
  std::uint64_t seq;
  std::array<std::uint64_t, 2> check;  // both derived from (producer, seq): a torn copy fails
};
record make_record(std::uint32_t p, std::uint64_t seq) {
  const std::uint64_t k = (std::uint64_t{p} << 40) ^ seq;
  return record{p, 0, seq, {k * 0x9e3779b97f4a7c15ull, ~k * 0xbf58476d1ce4e5b9ull}};
}
bool intact(const record& r) {
  const record want = make_record(r.producer, r.seq);
  return r.check == want.check && r.pad == 0;
}

// Per-producer order and integrity, checked as records arrive.
struct checker {
  std::map<std::uint32_t, std::uint64_t> next;
  std::uint64_t total = 0;
  bool take(const record& r) {
    if (!intact(r)) {
      ADD_FAILURE() << "torn record from producer " << r.producer << " seq " << r.seq;
      return false;
    }
    std::uint64_t& n = next[r.producer];
    if (r.seq != n) {
      ADD_FAILURE() << "producer " << r.producer << ": got seq " << r.seq << ", expected " << n;
      return false;
    }
    ++n;
    ++total;
    return true;
  }
};

using ShmMpscProcessStress = shm_test::named;

TEST_F(ShmMpscProcessStress, ThreeProducerProcessesTenMillionRecords) {
  const std::uint64_t per = rw_test::scaled(3'400'000);
  const auto n = name("mpsc3");
  auto seg = shm::segment::create(n, shm::mpsc_spec<record>(1024, 4));
  auto rx = shm::mpsc::attach_receiver<record>(seg);
  std::vector<pid_t> kids;
  for (std::uint32_t p = 0; p < 3; ++p)
    kids.push_back(shm_test::spawn(
        [&, p] {
          auto s = shm::segment::open(n, shm::mpsc_spec<record>(1024, 4));
          auto tx = shm::mpsc::attach_sender<record>(s);
          for (std::uint64_t i = 0; i < per; ++i)
            if (tx.send(make_record(p, i)) != status::ok) return 10;
          return 0;
        },
        300));
  checker c;
  const auto start = std::chrono::steady_clock::now();
  while (c.total < 3 * per) {
    auto r = rx.recv_for(30s);
    ASSERT_TRUE(r) << "stalled after " << c.total << " records";
    ASSERT_TRUE(c.take(*r));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (pid_t k : kids) EXPECT_EQ(shm_test::wait_child(k), 0);
  EXPECT_TRUE(shm::mpsc::close_producers(seg));
  EXPECT_EQ(rx.recv_for(10s).status(), status::closed);
  for (std::uint32_t p = 0; p < 3; ++p) EXPECT_EQ(c.next[p], per);
  std::printf("%llu records from 3 processes in %.2f s (%.1f M/s)\n", static_cast<unsigned long long>(c.total), secs,
              static_cast<double>(c.total) / secs / 1e6);
}

TEST_F(ShmMpscProcessStress, KillAProducerAtRandomPointsManyTimes) {
  const int rounds = RINGWIRE_STRESS_SCALE > 1 ? 8 : 24;
  const std::uint64_t steady_per = rw_test::scaled(400'000);
  const auto n = name("mpsckill");
  // Lanes: two steady producers, the live incarnation, and one spare while a dead one drains.
  auto seg = shm::segment::create(n, shm::mpsc_spec<record>(256, 4), {.counters = 64});
  auto rx = shm::mpsc::attach_receiver<record>(seg);
  std::vector<pid_t> steady;
  for (std::uint32_t p = 0; p < 2; ++p)
    steady.push_back(shm_test::spawn(
        [&, p] {
          auto s = shm::segment::open(n, shm::mpsc_spec<record>());
          auto tx = shm::mpsc::attach_sender<record>(s);
          for (std::uint64_t i = 0; i < steady_per; ++i) {
            if (tx.send(make_record(p, i)) != status::ok) return 10;
            if (i % 4096 == 0) std::this_thread::yield();  // leave the incarnations room
          }
          return 0;
        },
        300));
  checker c;
  const auto drain_for = [&](std::chrono::microseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    do {
      while (auto r = rx.try_recv())
        if (!c.take(*r)) return false;
      std::this_thread::yield();
    } while (std::chrono::steady_clock::now() < until);
    return true;
  };
  std::mt19937_64 rng(0xc0ffee);
  int reaped = 0;
  for (int k = 0; k < rounds; ++k) {
    const std::uint32_t id = 100 + static_cast<std::uint32_t>(k);
    auto& sent = seg.counter(static_cast<std::uint32_t>(k));
    int attached[2];
    ASSERT_EQ(::pipe(attached), 0);
    const pid_t pid = shm_test::spawn([&] {
      auto s = shm::segment::open(n, shm::mpsc_spec<record>());
      auto tx = shm::mpsc::attach_sender<record>(s);
      (void)!::write(attached[1], "a", 1);
      for (std::uint64_t i = 0;; ++i) {
        if (tx.send(make_record(id, i)) != status::ok) return 10;
        // relaxed: read by the parent only after this process is dead and reaped.
        sent.store(i + 1, std::memory_order_relaxed);
      }
    });
    char ch;
    ASSERT_EQ(::read(attached[0], &ch, 1), 1) << "incarnation " << k << " did not attach";
    ::close(attached[0]);
    ::close(attached[1]);
    ASSERT_TRUE(drain_for(std::chrono::microseconds(200 + rng() % 5000)));
    ::kill(pid, SIGKILL);
    ASSERT_EQ(shm_test::wait_child(pid), 128 + SIGKILL);
    if (k % 2 == 1) reaped += static_cast<int>(shm::mpsc::reap(seg).lanes);
  }
  for (pid_t p : steady) {
    while (true) {  // keep draining while the steady producers finish
      int st = 0;
      const pid_t w = ::waitpid(p, &st, WNOHANG);
      if (w == p) {
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        break;
      }
      ASSERT_TRUE(drain_for(1ms));
    }
  }
  reaped += static_cast<int>(shm::mpsc::reap(seg).lanes);  // the last incarnation, if still claimed
  EXPECT_TRUE(shm::mpsc::close_producers(seg));
  while (true) {
    auto r = rx.recv_for(10s);
    if (!r) {
      EXPECT_EQ(r.status(), status::closed);
      break;
    }
    ASSERT_TRUE(c.take(*r));
  }
  for (std::uint32_t p = 0; p < 2; ++p) EXPECT_EQ(c.next[p], steady_per) << "steady producer " << p;
  std::uint64_t from_killed = 0;
  for (int k = 0; k < rounds; ++k) {
    const std::uint64_t committed = seg.counter(static_cast<std::uint32_t>(k)).load(std::memory_order_relaxed);
    const std::uint64_t got = c.next[100 + static_cast<std::uint32_t>(k)];
    EXPECT_TRUE(got == committed || got == committed + 1)
        << "incarnation " << k << ": received " << got << ", its counter says " << committed;
    from_killed += got;
  }
  EXPECT_GT(reaped, 0);
  std::printf("%d incarnations killed (%d lanes reaped, the rest taken over), %llu of their records verified\n",
              rounds, reaped, static_cast<unsigned long long>(from_killed));
}

}  // namespace
