// tests/byte_ring/byte_ring_stress_test.cpp -- byte rings under real concurrency: one-to-one and
// 3-writer many-to-one with mixed sizes 0..2 KiB, zero-copy partial commits and aborts, every
// byte checked (each record's size, type and contents derive from its writer and sequence);
// and a one-to-one ring in MAP_SHARED memory between a fork()ed writer and its parent.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace br = ringwire::byte_ring;
using ringwire::status;

constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 31;
  x *= 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return x;
}
// Record `seq` of writer `w`: its size (0 .. 2048), type and bytes.
std::size_t size_of(std::uint32_t w, std::uint64_t seq) { return static_cast<std::size_t>(mix(seq * 8 + w) % 2049); }
std::int32_t type_of(std::uint32_t w, std::uint64_t seq) { return static_cast<std::int32_t>(1 + w * 1000 + seq % 997); }
std::byte byte_at(std::uint32_t w, std::uint64_t seq, std::size_t i) {
  return static_cast<std::byte>((seq * 131 + w * 17 + i * 7) & 0xff);
}
void fill(std::span<std::byte> p, std::uint32_t w, std::uint64_t seq) {
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = byte_at(w, seq, i);
}
// Which writer and sequence a record is, from its type and size alone is ambiguous, so the
// first 8 bytes (when there are 8) carry w << 40 | seq; shorter records are checked by order.
bool check(std::span<const std::byte> p, std::uint32_t w, std::uint64_t seq) {
  if (p.size() != size_of(w, seq)) return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] != byte_at(w, seq, i)) return false;
  }
  return true;
}

// Writes records 0..n-1 of writer w: a third by try_write, a third reserved larger and
// committed partially, a third after an abort; retries (spinning politely) when full.
template <class W>
void produce(W& tx, std::uint32_t w, std::uint64_t n) {
  std::vector<std::byte> buf(4096);
  for (std::uint64_t seq = 0; seq < n; ++seq) {
    const std::size_t sz = size_of(w, seq);
    const std::int32_t type = type_of(w, seq);
    switch (seq % 3) {
      case 0:
        fill({buf.data(), sz}, w, seq);
        while (tx.try_write(type, {buf.data(), sz}) != status::ok) std::this_thread::yield();
        break;
      case 1: {
        br::claim c = tx.reserve(sz + 24);
        ASSERT_TRUE(c);
        fill(c.bytes().first(sz), w, seq);
        tx.commit(type, sz);
        break;
      }
      default: {
        br::claim c = tx.reserve(sz);
        ASSERT_TRUE(c);
        tx.abort();
        c = tx.reserve(sz);
        ASSERT_TRUE(c);
        fill(c.bytes(), w, seq);
        tx.commit(type);
        break;
      }
    }
  }
}

TEST(ByteRingStress, OneToOneMixedSizes) {
  std::uint64_t n = rw_test::scaled(200'000);
  auto ch_ = br::one_to_one(1 << 16);
  auto& tx = ch_.first;
  auto& rx = ch_.second;
  std::thread t([&tx = tx, n] {
    produce(tx, 0, n);
    tx.close();
  });
  std::uint64_t seq = 0;
  std::uint64_t bad = 0;
  br::record_view r;
  while (true) {
    const std::size_t got = rx.read_batch(64, [&](std::int32_t type, std::span<const std::byte> p) {
      if (type != type_of(0, seq) || !check(p, 0, seq)) ++bad;
      ++seq;
    });
    if (got != 0) continue;
    const status s = rx.read(r);
    if (s == status::closed) break;
    ASSERT_EQ(s, status::ok);
    if (r.type != type_of(0, seq) || !check(r.payload, 0, seq)) ++bad;
    ++seq;
  }
  t.join();
  EXPECT_EQ(seq, n);
  EXPECT_EQ(bad, 0u);
  EXPECT_FALSE(rx.corrupt());
}

TEST(ByteRingStress, ManyToOneThreeWriters) {
  constexpr std::uint32_t writers = 3;
  std::uint64_t n = rw_test::scaled(100'000);
  auto ch_ = br::many_to_one(1 << 15);
  auto& w0 = ch_.first;
  auto& rx = ch_.second;
  std::vector<std::thread> threads;
  for (std::uint32_t w = 0; w < writers; ++w) {
    threads.emplace_back([tx = w0, w, n]() mutable { produce(tx, w, n); });
  }
  w0.close();
  std::vector<std::uint64_t> next(writers, 0);
  std::uint64_t bad = 0;
  std::uint64_t total = 0;
  br::record_view r;
  for (;;) {
    const status s = rx.read(r);
    if (s == status::closed) break;
    ASSERT_EQ(s, status::ok);
    const auto w = static_cast<std::uint32_t>((r.type - 1) / 1000);
    if (w >= writers) {
      ++bad;
      continue;
    }
    const std::uint64_t seq = next[w]++;
    if (r.type != type_of(w, seq) || !check(r.payload, w, seq)) ++bad;
    ++total;
    if (total % 16 == 0) rx.release();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, 0u);
  for (std::uint32_t w = 0; w < writers; ++w) EXPECT_EQ(next[w], n) << w;
  EXPECT_FALSE(rx.corrupt());
}

TEST(ByteRingStress, CrossProcessForkedWriter) {
  // 1M small-to-mid records in release builds (sizes 0..248 here: the point is the record
  // count and the process boundary), fewer under sanitizers.
  const std::uint64_t n = rw_test::scaled(1'000'000);
  using L = br::layout<>;
  const std::size_t bytes = L::footprint(1 << 16);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  L::format(mem, bytes, 1 << 16, br::ring_kind::one_to_one);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int rc = 0;
    {
      auto l = L::attach(mem, bytes, br::ring_kind::one_to_one);
      if (!l) _exit(3);
      br::writer<> tx(br::ring_ref<ringwire::std_sync>(*l, nullptr), {}, ringwire::fence_scope::cross_process);
      std::byte buf[256];
      for (std::uint64_t seq = 0; seq < n && rc == 0; ++seq) {
        const std::size_t sz = size_of(7, seq) % 249;
        for (std::size_t i = 0; i < sz; ++i) buf[i] = byte_at(7, seq, i);
        if (tx.write(type_of(7, seq), {buf, sz}) != status::ok) rc = 4;
      }
    }  // ~writer: closed
    _exit(rc);
  }
  auto l = L::attach(mem, bytes, br::ring_kind::one_to_one);
  ASSERT_TRUE(l);
  std::uint64_t seq = 0;
  std::uint64_t bad = 0;
  {
    br::reader<> rx(br::ring_ref<ringwire::std_sync>(*l, nullptr), {}, ringwire::fence_scope::cross_process);
    br::record_view r;
    for (;;) {
      const std::size_t got = rx.read_batch(128, [&](std::int32_t type, std::span<const std::byte> p) {
        const std::size_t sz = size_of(7, seq) % 249;
        bool ok = type == type_of(7, seq) && p.size() == sz;
        for (std::size_t i = 0; ok && i < sz; ++i) ok = p[i] == byte_at(7, seq, i);
        if (!ok) ++bad;
        ++seq;
      });
      if (got != 0) continue;
      const status s = rx.read(r);
      if (s != status::ok) {
        EXPECT_EQ(s, status::closed);
        break;
      }
      const std::size_t sz = size_of(7, seq) % 249;
      if (r.type != type_of(7, seq) || r.payload.size() != sz) ++bad;
      ++seq;
    }
    EXPECT_FALSE(rx.corrupt());
  }
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_EQ(seq, n);
  EXPECT_EQ(bad, 0u);
  munmap(mem, bytes);
}

}  // namespace
