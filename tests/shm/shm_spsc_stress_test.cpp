// tests/shm/shm_spsc_stress_test.cpp -- SPSC between two processes, at volume: 10
// million messages each way in release (a quarter under the sanitizers), every one
// checked in order against a per-message hash, and a checksum over all of them compared
// across the process boundary. The endpoints park (the default strategy), so the
// cross-process futex wake path runs thousands of times.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/shm_support.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;

using shm_test::mix;

struct record {
  std::uint64_t seq;
  std::uint64_t hash;  // mix(seq)
  std::array<std::uint64_t, 6> pad;
};

using ShmSpscStress = shm_test::named;

// The child sends mix(i) one message at a time; the parent receives and checks each.
TEST_F(ShmSpscStress, TenMillionSingleMessagesChildToParent) {
  const std::uint64_t total = rw_test::scaled(10'000'000);
  const auto n = name("stress1");
  auto seg = shm::segment::create(n, shm::spsc_spec<std::uint64_t>(1024));
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  const pid_t pid = shm_test::spawn(
      [&] {
        auto s = shm::segment::open(n, shm::spsc_spec<std::uint64_t>(1024));
        auto tx = shm::spsc::attach_sender<std::uint64_t>(s);
        std::uint64_t sum = 0;
        for (std::uint64_t i = 0; i < total; ++i) {
          const std::uint64_t v = mix(i);
          sum += v;
          if (tx.send(v) != status::ok) return 10;
        }
        s.counter(0).store(sum, std::memory_order_relaxed);  // before the close publishes it
        return 0;
      },
      300);
  std::uint64_t got = 0, sum = 0;
  while (auto r = rx.recv()) {
    ASSERT_EQ(*r, mix(got)) << "message " << got;
    sum += *r;
    ++got;
  }
  EXPECT_EQ(rx.recv().status(), status::closed);
  EXPECT_EQ(shm_test::wait_child(pid), 0);
  EXPECT_EQ(got, total);
  EXPECT_EQ(seg.counter(0).load(), sum);
}

// The parent sends 64-byte records in batches; the child consumes them in place.
TEST_F(ShmSpscStress, TenMillionRecordsInBatchesParentToChild) {
  const std::uint64_t total = rw_test::scaled(10'000'000);
  const auto n = name("stress2");
  auto seg = shm::segment::create(n, shm::spsc_spec<record>(4096));
  const pid_t pid = shm_test::spawn(
      [&] {
        auto s = shm::segment::open(n, shm::spsc_spec<record>(4096));
        auto rx = shm::spsc::attach_receiver<record>(s);
        std::uint64_t next = 0, sum = 0;
        bool bad = false;
        while (rx.wait_readable() == status::ok) {
          rx.consume([&](record& r) {
            bad = bad || r.seq != next || r.hash != mix(next) || r.pad[next % 6] != next;
            sum += r.hash;
            ++next;
          });
          if (bad) return 10;
        }
        s.counter(1).store(sum, std::memory_order_relaxed);
        return next == total ? 0 : 11;
      },
      300);
  std::uint64_t sum = 0;
  {
    auto tx = shm::spsc::attach_sender<record>(seg);
    std::vector<record> batch(64);
    for (std::uint64_t seq = 0; seq < total;) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(batch.size(), total - seq));
      for (std::size_t j = 0; j < k; ++j, ++seq) {
        batch[j] = record{seq, mix(seq), {}};
        batch[j].pad[seq % 6] = seq;
        sum += batch[j].hash;
      }
      ASSERT_EQ(tx.send_batch(std::span<record>(batch.data(), k)), k);
    }
  }
  EXPECT_EQ(shm_test::wait_child(pid), 0);
  EXPECT_EQ(seg.counter(1).load(), sum);
}

}  // namespace
