// The C API against C++ endpoints on the same segments: what a C, Python or Rust process
// sees of a channel a C++ process made, and the other way round. Each case moves every
// message across the language boundary (threads, or a forked process for the crash case)
// and checks its content, so a layout or tag disagreement between the two sides fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "ringwire/ringwire_c.h"
#include "ringwire/shm.hpp"

namespace {

struct tick {
  std::uint64_t seq;
  double price;
  std::uint64_t check;
};
constexpr std::uint64_t tick_tag = 0x7469636b01;

struct alignas(4) narrow {  // 16 bytes aligned to 4: the C API refuses it (elements aligned to 8)
  std::uint32_t v[4];
};

tick make_tick(std::uint64_t i) { return tick{i, static_cast<double>(i) * 0.5, i * 0x9E3779B97F4A7C15ull}; }
bool tick_ok(const tick& t, std::uint64_t i) {
  return t.seq == i && t.price == static_cast<double>(i) * 0.5 && t.check == i * 0x9E3779B97F4A7C15ull;
}

std::string name_of(const char* what) { return "/rw-interop-" + std::string(what) + "-" + std::to_string(::getpid()); }

struct unlink_at_end {
  std::string name;
  ~unlink_at_end() { ringwire::shm::segment::unlink(name); }
};

}  // namespace

template <>
struct ringwire::shm::type_tag<tick> {
  static constexpr std::uint64_t value = tick_tag;
};

namespace shm = ringwire::shm;

// A C++ publisher (lossless) and a C subscriber: every message, in order.
TEST(CApiInterop, CppPublisherCSubscriber) {
  const unlink_at_end n{name_of("bc")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::broadcast_spec<tick>(64, 4, ringwire::broadcast::policy::lossless));
  rw_segment* cseg = rw_open(n.name.c_str());
  ASSERT_NE(cseg, nullptr) << rw_last_error();
  rw_segment_info info{};
  ASSERT_EQ(rw_segment_describe(cseg, &info), 0);
  EXPECT_EQ(info.kind, RW_KIND_BROADCAST);
  EXPECT_EQ(info.elem_size, sizeof(tick));
  EXPECT_EQ(info.type_tag, tick_tag);
  EXPECT_EQ(rw_bc_subscriber_attach(cseg, sizeof(tick), tick_tag + 1), nullptr);
  EXPECT_EQ(rw_last_errc(), RW_E_SHM_TYPE_MISMATCH);
  rw_bc_subscriber* sub = rw_bc_subscriber_attach(cseg, sizeof(tick), tick_tag);
  ASSERT_NE(sub, nullptr) << rw_last_error();
  constexpr std::uint64_t count = 100000 / RINGWIRE_STRESS_SCALE;
  std::thread pub([&seg] {
    auto p = shm::broadcast::attach_publisher<tick>(seg);
    for (std::uint64_t i = 0; i < count; ++i) ASSERT_EQ(p.send(make_tick(i)), ringwire::status::ok);
  });
  std::uint64_t next = 0, bad = 0;
  for (;;) {
    tick t{};
    std::uint64_t missed = 0;
    const rw_status s = rw_bc_recv_for(sub, &t, 5'000'000'000u, &missed);
    if (s == RW_CLOSED) break;
    ASSERT_EQ(s, RW_OK) << rw_status_name(s);
    if (!tick_ok(t, next)) ++bad;
    ++next;
  }
  pub.join();
  EXPECT_EQ(next, count);
  EXPECT_EQ(bad, 0u);
  rw_bc_subscriber_close(sub);
  rw_segment_close(cseg);
}

// A C sender into a segment the C API made, a C++ receiver that opens it by its typed spec:
// the C API records the same geometry and tag a C++ creator would.
TEST(CApiInterop, CSenderCppReceiver) {
  const unlink_at_end n{name_of("spsc")};
  shm::segment::unlink(n.name);
  rw_segment* cseg = rw_spsc_create(n.name.c_str(), 128, sizeof(tick), tick_tag);
  ASSERT_NE(cseg, nullptr) << rw_last_error();
  auto seg = shm::segment::open(n.name, shm::spsc_spec<tick>(128));
  auto rx = shm::spsc::attach_receiver<tick>(seg);
  constexpr std::uint64_t count = 100000 / RINGWIRE_STRESS_SCALE;
  std::thread tx_thread([cseg] {
    rw_spsc_sender* tx = rw_spsc_sender_attach(cseg, sizeof(tick), tick_tag);
    ASSERT_NE(tx, nullptr) << rw_last_error();
    for (std::uint64_t i = 0; i < count;) {
      if (i % 3 == 0) {  // zero-copy every third round
        void* slots = nullptr;
        std::size_t granted = 0;
        ASSERT_EQ(rw_spsc_reserve(tx, 7, &slots, &granted) == RW_ERROR, false);
        if (granted == 0) continue;
        const std::size_t k = std::min<std::size_t>(granted, count - i);
        for (std::size_t j = 0; j < k; ++j) static_cast<tick*>(slots)[j] = make_tick(i + j);
        ASSERT_EQ(rw_spsc_commit(tx, k), RW_OK);
        i += k;
      } else {
        const tick t = make_tick(i);
        ASSERT_EQ(rw_spsc_send_for(tx, &t, 5'000'000'000u), RW_OK);
        ++i;
      }
    }
    rw_spsc_sender_close(tx);
  });
  std::uint64_t next = 0, bad = 0;
  while (auto r = rx.recv_for(std::chrono::seconds(5))) {
    if (!tick_ok(*r, next)) ++bad;
    ++next;
  }
  tx_thread.join();
  EXPECT_EQ(next, count);
  EXPECT_EQ(bad, 0u);
  // A C++ opener naming another type is refused by the tag the C API recorded.
  EXPECT_THROW((void)shm::segment::open(n.name, shm::spsc_spec<std::uint64_t[3]>(128)), ringwire::error);
  rw_segment_close(cseg);
}

// C and C++ senders on lanes of one MPSC channel, a C++ receiver: FIFO per producer.
TEST(CApiInterop, MixedMpscProducers) {
  const unlink_at_end n{name_of("mpsc")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::mpsc_spec<tick>(64, 4));
  auto rx = shm::mpsc::attach_receiver<tick>(seg);
  rw_segment* cseg = rw_open(n.name.c_str());
  ASSERT_NE(cseg, nullptr) << rw_last_error();
  constexpr std::uint64_t count = 50000 / RINGWIRE_STRESS_SCALE;
  std::thread c_side([cseg] {
    rw_mpsc_sender* tx = rw_mpsc_sender_attach(cseg, sizeof(tick), tick_tag);
    ASSERT_NE(tx, nullptr) << rw_last_error();
    for (std::uint64_t i = 0; i < count; ++i) {
      const tick t = make_tick(i);
      ASSERT_EQ(rw_mpsc_send_for(tx, &t, 5'000'000'000u), RW_OK);
    }
    rw_mpsc_sender_close(tx);
  });
  std::thread cpp_side([&seg] {
    auto tx = shm::mpsc::attach_sender<tick>(seg);
    for (std::uint64_t i = 0; i < count; ++i) ASSERT_EQ(tx.send(make_tick(1'000'000'000 + i)), ringwire::status::ok);
  });
  std::uint64_t next_c = 0, next_cpp = 1'000'000'000, bad = 0;
  for (std::uint64_t got = 0; got < 2 * count; ++got) {
    auto r = rx.recv_for(std::chrono::seconds(5));
    ASSERT_TRUE(r) << ringwire::to_string(r.status());
    std::uint64_t& next = r->seq < 1'000'000'000 ? next_c : next_cpp;
    if (!tick_ok(*r, next)) ++bad;
    ++next;
  }
  c_side.join();
  cpp_side.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(next_c, count);
  rw_segment_close(cseg);
}

// A C writer of a byte ring, a C++ reader: records of every length, many laps.
TEST(CApiInterop, CByteRingWriterCppReader) {
  const unlink_at_end n{name_of("br")};
  shm::segment::unlink(n.name);
  rw_segment* cseg = rw_br_create(n.name.c_str(), 1 << 14, 0, 0);
  ASSERT_NE(cseg, nullptr) << rw_last_error();
  auto seg = shm::segment::open(n.name, shm::byte_ring_spec(1 << 14));
  auto rx = shm::byte_ring::attach_reader(seg);
  constexpr std::uint64_t count = 20000 / RINGWIRE_STRESS_SCALE;
  std::thread writer([cseg] {
    rw_br_writer* w = rw_br_writer_attach(cseg);
    ASSERT_NE(w, nullptr) << rw_last_error();
    std::string payload;
    for (std::uint64_t i = 0; i < count; ++i) {
      payload.assign(i % 500, static_cast<char>(i & 0xff));
      ASSERT_EQ(rw_br_write_for(w, static_cast<std::int32_t>(1 + i % 9), payload.data(), payload.size(), 5'000'000'000u),
                RW_OK);
    }
    rw_br_writer_close(w);
  });
  std::uint64_t next = 0, bad = 0;
  ringwire::byte_ring::record_view v;
  while (rx.read_for(v, std::chrono::seconds(5)) == ringwire::status::ok) {
    bool same = v.type == static_cast<std::int32_t>(1 + next % 9) && v.payload.size() == next % 500;
    for (std::byte b : v.payload) same = same && b == static_cast<std::byte>(next & 0xff);
    if (!same) ++bad;
    ++next;
  }
  writer.join();
  EXPECT_EQ(next, count);
  EXPECT_EQ(bad, 0u);
  rw_segment_close(cseg);
}

// Elements the C API cannot carry are refused with a reason, not misread.
TEST(CApiInterop, NarrowElementsRefused) {
  const unlink_at_end n{name_of("narrow")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::spsc_spec<narrow>(16));
  rw_segment* cseg = rw_open(n.name.c_str());
  ASSERT_NE(cseg, nullptr) << rw_last_error();
  EXPECT_EQ(rw_spsc_receiver_attach(cseg, sizeof(narrow), 0), nullptr);
  EXPECT_EQ(rw_last_errc(), RW_E_SHM_TYPE_MISMATCH);
  EXPECT_NE(std::string(rw_last_error()).find("aligned to 4"), std::string::npos) << rw_last_error();
  rw_segment_close(cseg);
}

// A process that sent through the C API is killed with SIGKILL while attached: the C++
// side reaps it, drains what it sent, sees the end of the stream, and a new C sender
// attaches to the lane it left.
TEST(CApiInterop, KilledCSenderReapedFromCpp) {
  const unlink_at_end n{name_of("kill")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::spsc_spec<tick>(64));
  auto rx = shm::spsc::attach_receiver<tick>(seg);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    rw_segment* cseg = rw_open(n.name.c_str());
    rw_spsc_sender* tx = cseg != nullptr ? rw_spsc_sender_attach(cseg, sizeof(tick), tick_tag) : nullptr;
    if (tx == nullptr) ::_exit(2);
    for (std::uint64_t i = 0; i < 10; ++i) {
      const tick t = make_tick(i);
      if (rw_spsc_try_send(tx, &t) != RW_OK) ::_exit(3);
    }
    const char one = 1;
    (void)!::write(ready[1], &one, 1);
    for (;;) ::pause();  // killed while attached
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFSIGNALED(st));
  const auto reaped = shm::spsc::reap(seg);
  EXPECT_EQ(reaped.sender_pid, static_cast<std::uint32_t>(child));
  for (std::uint64_t i = 0; i < 10; ++i) {
    auto r = rx.try_recv();
    ASSERT_TRUE(r);
    EXPECT_TRUE(tick_ok(*r, i));
  }
  EXPECT_EQ(rx.try_recv().status(), ringwire::status::closed);
  rw_segment* cseg = rw_open(n.name.c_str());
  ASSERT_NE(cseg, nullptr) << rw_last_error();
  rw_spsc_sender* tx = rw_spsc_sender_attach(cseg, sizeof(tick), tick_tag);
  ASSERT_NE(tx, nullptr) << rw_last_error();
  const tick t = make_tick(10);
  EXPECT_EQ(rw_spsc_try_send(tx, &t), RW_OK);
  auto r = rx.recv_for(std::chrono::seconds(5));
  ASSERT_TRUE(r);
  EXPECT_TRUE(tick_ok(*r, 10));
  rw_spsc_sender_close(tx);
  rw_segment_close(cseg);
}
