// tests/shm/shm_crash_stress_test.cpp -- SPSC in a segment survives kill -9 of either
// side at random points, many times.
//
// Producer kills: a child process attaches the sender (taking over the claim the previous,
// killed child left, or finding it released by reap()), resumes the sequence at the ring's
// sent count, and sends 64-byte records (every word derived from the sequence number, so a
// torn record is caught) until the parent kills it after a random time. The parent receives
// throughout and checks, after each kill, that it got exactly the records the ring says were
// published, in order, intact: nothing torn, duplicated or lost; then either reaps (the
// receiver must drain and see closed) or leaves the dead claim for the next child.
//
// Consumer kills: the parent sends; a child attaches the receiver, resumes at the ring's
// received count and checks every record, and is killed at a random time (it flags any bad
// record in a shared counter before that). The parent's blocked send must end in closed
// after reap(), never hang; the next child carries on. At the end the parent drains the rest
// itself: every record published is seen exactly once across all the consumers.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

#include "ringwire/ringwire.hpp"
#include "support/shm_support.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;

struct record {
  std::array<std::uint64_t, 8> w;
};

record make_record(std::uint64_t seq) {
  record r{};
  for (std::size_t i = 0; i < r.w.size(); ++i) r.w[i] = seq * 0x9e3779b97f4a7c15ull + i;
  return r;
}
bool intact(const record& r, std::uint64_t seq) {
  for (std::size_t i = 0; i < r.w.size(); ++i)
    if (r.w[i] != seq * 0x9e3779b97f4a7c15ull + i) return false;
  return true;
}

constexpr std::uint64_t ring_capacity = 256;
constexpr std::uint32_t bad_record_counter = 0;

int rounds() { return RINGWIRE_STRESS_SCALE > 1 ? 12 : 40; }

// The child says "attached" through a pipe, so every kill lands after the attach (a kill
// before it would leave nothing to recover).
struct attached_signal {
  int fd[2]{-1, -1};
  attached_signal() { EXPECT_EQ(::pipe(fd), 0); }
  ~attached_signal() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  void notify() const { (void)!::write(fd[1], "a", 1); }
  bool wait() const {
    char c = 0;
    return ::read(fd[0], &c, 1) == 1;
  }
};

TEST(ShmCrashStress, KillTheProducerAtRandomPointsManyTimes) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<record>(ring_capacity));
  auto rx = shm::spsc::attach_receiver<record>(seg);
  auto mon = shm::spsc::make_monitor<record>(seg);
  std::mt19937_64 rng(0x5eed);
  std::uint64_t expected = 0;
  int reaped = 0, taken_over = 0;
  for (int round = 0; round < rounds(); ++round) {
    attached_signal attached;
    const pid_t pid = shm_test::spawn([&] {
      auto tx = shm::spsc::attach_sender<record>(seg);  // takes over a dead claim if left
      attached.notify();
      for (std::uint64_t seq = shm::spsc::make_monitor<record>(seg).snapshot().sent;; ++seq)
        if (tx.send(make_record(seq)) != status::ok) return 10;
    });
    ASSERT_TRUE(attached.wait()) << "round " << round << ": the child did not attach";
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 4000);
    record r{};
    while (std::chrono::steady_clock::now() < until) {
      if (rx.try_recv(r) != status::ok) continue;
      ASSERT_TRUE(intact(r, expected)) << "round " << round << ": record " << expected << " torn or out of order";
      ++expected;
    }
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_EQ(shm_test::wait_child(pid), 128 + SIGKILL) << "round " << round;
    const bool reap = round % 2 == 0;
    if (reap) {
      ASSERT_EQ(shm::spsc::reap(seg).sender_pid, static_cast<std::uint32_t>(pid)) << "round " << round;
      ++reaped;
    } else {
      ++taken_over;
    }
    // Drain: with the claim reaped the receiver must end in closed, else in empty.
    for (;;) {
      const status s = rx.try_recv(r);
      if (s != status::ok) {
        ASSERT_EQ(s, reap ? status::closed : status::empty) << "round " << round;
        break;
      }
      ASSERT_TRUE(intact(r, expected)) << "round " << round << ": record " << expected << " torn or out of order";
      ++expected;
    }
    ASSERT_EQ(expected, mon.snapshot().sent) << "round " << round << ": a published record was lost";
  }
  EXPECT_EQ(reaped + taken_over, rounds());
  EXPECT_GT(expected, 0u);
}

TEST(ShmCrashStress, KillTheConsumerAtRandomPointsManyTimes) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<record>(ring_capacity));
  auto tx = shm::spsc::attach_sender<record>(seg);
  auto mon = shm::spsc::make_monitor<record>(seg);
  std::mt19937_64 rng(0xc0ffee);
  std::uint64_t seq = 0;
  int closed_sends = 0;
  for (int round = 0; round < rounds(); ++round) {
    attached_signal attached;
    const pid_t pid = shm_test::spawn([&] {
      auto rx = shm::spsc::attach_receiver<record>(seg);  // takes over a dead claim if left
      attached.notify();
      for (std::uint64_t want = shm::spsc::make_monitor<record>(seg).snapshot().received;; ++want) {
        auto r = rx.recv();
        if (!r) return 10;
        if (!intact(*r, want)) {
          seg.counter(bad_record_counter).fetch_add(1);
          return 11;
        }
      }
    });
    ASSERT_TRUE(attached.wait()) << "round " << round << ": the child did not attach";
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 4000);
    while (std::chrono::steady_clock::now() < until) {
      const status s = tx.send_for(make_record(seq), std::chrono::milliseconds(50));
      if (s == status::ok) ++seq;
    }
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_EQ(shm_test::wait_child(pid), 128 + SIGKILL) << "round " << round;
    if (round % 2 == 0) {
      // Fill the ring, so the next send blocks on the dead consumer; reap must end it.
      while (tx.try_send(make_record(seq)) == status::ok) ++seq;
      status end = status::ok;
      std::thread blocked([&] { end = tx.send_for(make_record(seq), std::chrono::seconds(20)); });
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ASSERT_EQ(shm::spsc::reap(seg).receiver_pid, static_cast<std::uint32_t>(pid)) << "round " << round;
      blocked.join();
      ASSERT_EQ(end, status::closed) << "round " << round;
      ++closed_sends;
    }
    ASSERT_EQ(seg.counter(bad_record_counter).load(), 0u) << "round " << round << ": a consumer saw a bad record";
  }
  EXPECT_EQ(closed_sends, (rounds() + 1) / 2);
  // Everything published and not yet taken by a killed consumer is still there, in order.
  auto rx = shm::spsc::attach_receiver<record>(seg);
  std::uint64_t want = mon.snapshot().received;
  record r{};
  while (rx.try_recv(r) == status::ok) {
    ASSERT_TRUE(intact(r, want)) << "record " << want;
    ++want;
  }
  EXPECT_EQ(want, seq);
  EXPECT_EQ(want, mon.snapshot().sent);
}

}  // namespace
