// tests/shm/shm_doorbell_test.cpp -- receivers that wait in their own epoll loop: the
// doorbell descriptor becomes readable for every publish, close and new lane that follows
// an arm_doorbell(), across processes, and no wake-up is lost (every epoll_wait has a
// generous timeout that a lost ring would hit, failing the test).
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "ringwire/shm/byte_ring.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using ringwire::status;
using namespace std::chrono_literals;

// An epoll set watching one descriptor.
struct poller {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  explicit poller(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    EXPECT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  }
  ~poller() { ::close(ep); }
  // True when the descriptor became readable within the timeout.
  bool wait(int timeout_ms) const {
    epoll_event ev{};
    return ::epoll_wait(ep, &ev, 1, timeout_ms) == 1;
  }
};

using ShmDoorbell = shm_test::named;

TEST_F(ShmDoorbell, ArmingWithAMessageQueuedSaysReceiveFirst) {
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(16));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  auto bell = shm::spsc::make_doorbell(seg);
  ASSERT_TRUE(bell);
  EXPECT_EQ(shm_test::error_of([&] { (void)shm::spsc::make_doorbell(seg); }), errc::shm_already_attached);
  ASSERT_EQ(tx.try_send(1), status::ok);
  EXPECT_FALSE(rx.arm_doorbell());  // a message is there: no wait
  EXPECT_EQ(*rx.try_recv(), 1u);
  EXPECT_TRUE(rx.arm_doorbell());  // empty: armed
  poller p(bell.fd());
  EXPECT_FALSE(p.wait(0));  // nothing rang yet
  ASSERT_EQ(tx.try_send(2), status::ok);
  EXPECT_TRUE(p.wait(5000));  // the publish rang
  EXPECT_EQ(bell.drain(), 1u);
  EXPECT_EQ(*rx.try_recv(), 2u);
  ASSERT_EQ(tx.try_send(3), status::ok);  // not armed: no ring (the fast path stays quiet)
  EXPECT_FALSE(p.wait(0));
  EXPECT_EQ(*rx.try_recv(), 3u);
  EXPECT_TRUE(rx.arm_doorbell());
  tx.close();  // the close rings too
  EXPECT_TRUE(p.wait(5000));
  bell.drain();
  EXPECT_EQ(rx.try_recv().status(), status::closed);
  EXPECT_FALSE(rx.arm_doorbell());
}

// A producer process sends with random pauses; the parent waits only in epoll. Every one
// of the messages and the close must arrive, each wait well within its timeout.
TEST_F(ShmDoorbell, SpscAcrossProcessesLosesNoWakeUp) {
  constexpr std::uint64_t total = 20'000;
  const auto n = name("bell");
  auto seg = shm::segment::create(n, shm::spsc_spec<std::uint64_t>(64));
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  auto bell = shm::spsc::make_doorbell(seg);
  poller p(bell.fd());
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, shm::spsc_spec<std::uint64_t>(64));
    auto tx = shm::spsc::attach_sender<std::uint64_t>(s);
    std::mt19937 rng(7);
    for (std::uint64_t i = 0; i < total; ++i) {
      if (tx.send(i) != status::ok) return 10;
      if (rng() % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    }
    return 0;  // detaching closes: the last ring
  });
  std::uint64_t got = 0, waits = 0;
  for (;;) {
    auto r = rx.try_recv();
    if (r) {
      ASSERT_EQ(*r, got);
      ++got;
      continue;
    }
    if (r.status() == status::closed) break;
    if (!rx.arm_doorbell()) continue;
    ASSERT_TRUE(p.wait(10'000)) << "lost wake-up after " << got << " messages";
    bell.drain();
    ++waits;
  }
  EXPECT_EQ(got, total);
  EXPECT_GT(waits, 0u);
  EXPECT_EQ(shm_test::wait_child(child), 0);
}

// MPSC: lanes appearing while armed, publishes on any lane, and close_producers all ring.
TEST_F(ShmDoorbell, MpscRingsForLanesMessagesAndTheEnd) {
  constexpr std::uint64_t per = 5'000;
  const auto n = name("bellmp");
  auto seg = shm::segment::create(n, shm::mpsc_spec<std::uint64_t>(32, 4));
  auto rx = shm::mpsc::attach_receiver<std::uint64_t>(seg);
  auto bell = shm::mpsc::make_doorbell(seg);
  poller p(bell.fd());
  std::vector<pid_t> kids;
  for (std::uint64_t k = 0; k < 3; ++k)
    kids.push_back(shm_test::spawn([&, k] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * k));  // lanes appear while armed
      auto s = shm::segment::open(n, shm::mpsc_spec<std::uint64_t>());
      auto tx = shm::mpsc::attach_sender<std::uint64_t>(s);
      for (std::uint64_t i = 0; i < per; ++i) {
        if (tx.send(k << 32 | i) != status::ok) return 10;
        if (i % 97 == 0) std::this_thread::sleep_for(50us);
      }
      return 0;
    }));
  std::vector<std::uint64_t> next(3, 0);
  std::uint64_t got = 0;
  bool closed_sent = false;
  for (;;) {
    auto r = rx.try_recv();
    if (r) {
      const std::uint64_t k = *r >> 32;
      ASSERT_LT(k, 3u);
      ASSERT_EQ(*r & 0xffff'ffffu, next[k]++);
      ++got;
      if (got == 3 * per && !closed_sent) {
        for (pid_t c : kids) ASSERT_EQ(shm_test::wait_child(c), 0);
        EXPECT_TRUE(shm::mpsc::close_producers(seg));  // from "another process" as far as rx knows
        closed_sent = true;
      }
      continue;
    }
    if (r.status() == status::closed) break;
    if (!rx.arm_doorbell()) continue;
    ASSERT_TRUE(p.wait(10'000)) << "lost wake-up after " << got << " messages";
    bell.drain();
  }
  EXPECT_EQ(got, 3 * per);
}

// Broadcast: a subscriber that waits only in epoll, a lossless publisher in another
// process publishing with random pauses, then closing.
TEST_F(ShmDoorbell, BroadcastSubscriberLosesNoWakeUp) {
  constexpr std::uint64_t total = 20'000;
  const auto n = name("bellbc");
  const auto spec = shm::broadcast_spec<std::uint64_t>(64, 2, ringwire::broadcast::policy::lossless);
  auto seg = shm::segment::create(n, spec);
  auto sub = shm::broadcast::attach_subscriber<std::uint64_t>(seg);
  auto bell = shm::broadcast::make_doorbell(seg, sub);
  poller p(bell.fd());
  const pid_t child = shm_test::spawn([&] {
    auto s = shm::segment::open(n, spec);
    auto pub = shm::broadcast::attach_publisher<std::uint64_t>(s);
    std::mt19937 rng(11);
    for (std::uint64_t i = 1; i <= total; ++i) {
      if (pub.send(i) != status::ok) return 10;
      if (rng() % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    }
    return 0;  // detaching closes: the last ring
  });
  std::uint64_t got = 0, waits = 0;
  for (;;) {
    auto r = sub.try_recv();
    if (r) {
      ASSERT_EQ(*r, got + 1);
      ++got;
      continue;
    }
    if (r.status() == status::closed) break;
    ASSERT_EQ(r.status(), status::empty);
    if (!sub.arm_doorbell()) continue;
    ASSERT_TRUE(p.wait(10'000)) << "lost wake-up after " << got << " messages";
    bell.drain();
    ++waits;
  }
  EXPECT_EQ(got, total);
  EXPECT_GT(waits, 0u);
  EXPECT_EQ(shm_test::wait_child(child), 0);
}

// Byte rings: the reader arms, commits and the writer's close ring, and arming first
// releases what was read.
TEST_F(ShmDoorbell, ByteRingArmingWithARecordQueuedSaysReadFirst) {
  namespace sbr = shm::byte_ring;
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(4096, sbr::ring_kind::one_to_one));
  auto tx = sbr::attach_writer(seg);
  auto rx = sbr::attach_reader(seg);
  auto bell = sbr::make_doorbell(seg);
  ASSERT_TRUE(bell);
  EXPECT_EQ(shm_test::error_of([&] { (void)sbr::make_doorbell(seg); }), errc::shm_already_attached);
  const std::uint64_t v = 42;
  const auto bytes = std::as_bytes(std::span(&v, 1));
  ringwire::byte_ring::record_view r;
  ASSERT_EQ(tx.try_write(1, bytes), status::ok);
  EXPECT_FALSE(rx.arm_doorbell());  // a record is there: no wait
  ASSERT_EQ(rx.try_read(r), status::ok);
  EXPECT_TRUE(rx.arm_doorbell());  // empty: armed, and the record was released
  poller p(bell.fd());
  EXPECT_FALSE(p.wait(0));
  // Fill the ring: only possible when the armed reader gave its record back.
  std::size_t wrote = 0;
  while (tx.try_write(2, bytes) == status::ok) ++wrote;
  EXPECT_EQ(wrote, 4096u / 16);  // every 16-byte record of the ring
  EXPECT_TRUE(p.wait(5000));  // the first commit rang
  EXPECT_EQ(bell.drain(), 1u);  // once: the later commits found the reader running
  for (std::size_t i = 0; i < wrote; ++i) ASSERT_EQ(rx.try_read(r), status::ok) << i;
  EXPECT_TRUE(rx.arm_doorbell());
  tx.close();  // the writer's close rings too
  EXPECT_TRUE(p.wait(5000));
  bell.drain();
  EXPECT_EQ(rx.try_read(r), status::closed);
  EXPECT_FALSE(rx.arm_doorbell());
}

// Many-to-one: two writer processes committing mixed sizes with random pauses, the reader
// waiting only in epoll; every record in per-writer order, then the end rings.
TEST_F(ShmDoorbell, ByteRingManyToOneAcrossProcessesLosesNoWakeUp) {
  namespace sbr = shm::byte_ring;
  constexpr std::uint64_t per = 5'000;
  const auto n = name("bellbr");
  const auto spec = shm::byte_ring_spec(1 << 12, sbr::ring_kind::many_to_one, 4);
  auto seg = shm::segment::create(n, spec);
  auto rx = sbr::attach_reader(seg);
  auto bell = sbr::make_doorbell(seg);
  poller p(bell.fd());
  std::vector<pid_t> kids;
  for (std::uint64_t k = 0; k < 2; ++k)
    kids.push_back(shm_test::spawn([&, k] {
      auto s = shm::segment::open(n, spec);
      auto w = sbr::attach_shared_writer(s);
      std::mt19937 rng(static_cast<unsigned>(13 + k));
      std::vector<std::uint64_t> words(1 + k * 20);  // 8 or 168 bytes
      for (std::uint64_t i = 0; i < per; ++i) {
        words.assign(words.size(), k << 32 | i);
        if (w.write(static_cast<std::int32_t>(1 + k), std::as_bytes(std::span(words))) != status::ok) return 10;
        if (rng() % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
      }
      return 0;
    }));
  std::vector<std::uint64_t> next(2, 0);
  std::uint64_t got = 0, waits = 0;
  bool closed_sent = false;
  ringwire::byte_ring::record_view r;
  for (;;) {
    const status s = rx.try_read(r);
    if (s == status::ok) {
      const auto k = static_cast<std::uint64_t>(r.type - 1);
      ASSERT_LT(k, 2u);
      ASSERT_EQ(r.payload.size(), 8 * (1 + k * 20));
      std::uint64_t first = 0, last = 0;
      std::memcpy(&first, r.payload.data(), 8);
      std::memcpy(&last, r.payload.data() + r.payload.size() - 8, 8);
      ASSERT_EQ(first, k << 32 | next[k]);
      ASSERT_EQ(last, first);
      ++next[k];
      if (++got == 2 * per && !closed_sent) {
        for (pid_t c : kids) ASSERT_EQ(shm_test::wait_child(c), 0);
        EXPECT_TRUE(sbr::close_writers(seg));  // the end: rings if armed
        closed_sent = true;
      }
      continue;
    }
    if (s == status::closed) break;
    ASSERT_EQ(s, status::empty);
    if (!rx.arm_doorbell()) continue;
    ASSERT_TRUE(p.wait(10'000)) << "lost wake-up after " << got << " records";
    bell.drain();
    ++waits;
  }
  EXPECT_EQ(got, 2 * per);
  EXPECT_GT(waits, 0u);
  EXPECT_FALSE(rx.corrupt());
}

}  // namespace
