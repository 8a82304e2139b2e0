// `ringwire bridge out` and `ringwire bridge in` as a user runs them: two processes of the
// real binary carry a byte-broadcast segment to another segment over tcp on 127.0.0.1.
// Lossless: every message arrives, in order, byte for byte, and a writer faster than the
// far reader is held back (never a gap). Lossy: what arrives is in order and the far
// segment's counters account for every message (received + gaps == published). Both
// bridges end cleanly on SIGTERM (exit status 0).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/net/stats.hpp"
#include "ringwire/shm.hpp"
#include "support/loopback.hpp"

namespace {

namespace shm = ringwire::shm;
namespace bb = ringwire::byte_broadcast;
using ringwire::status;
using namespace std::chrono_literals;

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = ringwire_test::spawn_process(RINGWIRE_CLI, args);
  EXPECT_NE(pid, 0);
  return pid;
}

int stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  return ringwire_test::wait_process(pid);
}

// Message i: 8 to 300 bytes, i itself first, then bytes that are a function of i and their
// position.
std::vector<std::byte> message(std::uint64_t i) {
  std::vector<std::byte> m(8 + (i * 7919) % 293);
  std::memcpy(m.data(), &i, 8);
  for (std::size_t k = 8; k < m.size(); ++k) m[k] = static_cast<std::byte>((i * 31 + k) & 0xff);
  return m;
}
std::uint64_t index_of(const std::vector<std::byte>& buf) {
  std::uint64_t i = 0;
  std::memcpy(&i, buf.data(), 8);
  return i;
}

// Waits until the named segment exists and can be opened.
shm::segment open_when_there(const std::string& name) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    try {
      const bb::geometry g = shm::byte_broadcast::geometry_of(shm::segment::observe(name, &shm::find_contract));
      return shm::segment::open(name, shm::byte_broadcast_spec(g));
    } catch (const ringwire::error&) {
      if (std::chrono::steady_clock::now() > until) throw;
      std::this_thread::sleep_for(20ms);
    }
  }
}

struct names {
  std::string src, dst;
  names() {
    const std::string pid = std::to_string(::getpid());
    src = "/rw-bridge-src-" + pid;
    dst = "/rw-bridge-dst-" + pid;
  }
  ~names() {
    shm::segment::unlink(src);
    shm::segment::unlink(dst);
  }
};

TEST(RingwireBridge, LosslessCarriesEveryMessageInOrder) {
  const names n;
  const bb::geometry g{.depth = 256, .region_bytes = 1 << 16, .max_message = 4096, .max_credited = 2};
  auto src = shm::segment::create(n.src, shm::byte_broadcast_spec(g));
  auto writer = shm::byte_broadcast::attach_writer(src);
  const std::string address = ringwire_test::free_tcp_address();
  const pid_t out = spawn({"bridge", "out", n.src, "--bind", address, "--lossless"});
  const pid_t in = spawn({"bridge", "in", address, "--to", n.dst, "--lossless", "--window", "512"});
  auto dst = open_when_there(n.dst);
  auto reader = shm::byte_broadcast::attach_credited_reader(dst);
  std::this_thread::sleep_for(200ms);  // both bridges have joined (the credited reader on src)

  const std::uint64_t total = 20000;
  std::jthread feeder([&](std::stop_token st) {  // a failed assertion below: the token ends a blocked write
    for (std::uint64_t i = 1; i <= total; ++i) ASSERT_EQ(writer.write(i, message(i), st), status::ok);
  });
  std::vector<std::byte> buf(4096);
  for (std::uint64_t i = 1; i <= total; ++i) {
    const auto r = reader.read_for(buf, 10s);
    ASSERT_TRUE(r) << ringwire::to_string(r.status()) << " at message " << i;
    const auto want = message(i);
    ASSERT_EQ(r.info().size, want.size()) << "message " << i;
    ASSERT_TRUE(std::equal(want.begin(), want.end(), buf.begin())) << "message " << i;
  }
  feeder.join();
  EXPECT_EQ(stop(out), 0);
  EXPECT_EQ(stop(in), 0);
  // The far segment's counters (bridge in: stats.hpp order): messages, gaps.
  EXPECT_EQ(dst.counter(0).load(), total);
  EXPECT_EQ(dst.counter(3).load(), 0u);
  EXPECT_GE(dst.counter(static_cast<std::uint32_t>(ringwire::net::counter_index::connections)).load(), 1u);
}

TEST(RingwireBridge, LossyAccountsForEveryMessage) {
  const names n;
  const bb::geometry g{.depth = 1024, .region_bytes = 1 << 18, .max_message = 4096, .max_credited = 0};
  auto src = shm::segment::create(n.src, shm::byte_broadcast_spec(g));
  auto writer = shm::byte_broadcast::attach_writer(src);
  const std::string address = ringwire_test::free_tcp_address();
  const pid_t out = spawn({"bridge", "out", n.src, "--bind", address, "--hwm", "4"});
  const pid_t in = spawn({"bridge", "in", address, "--to", n.dst, "--hwm", "4", "--max-credited", "0"});
  auto dst = open_when_there(n.dst);
  auto reader = shm::byte_broadcast::attach_reader(dst);
  // PUB/SUB's slow joiner: write until the far side has something.
  std::vector<std::byte> buf(4096);
  std::uint64_t i = 0, first = 0, last = 0, received = 0, missed = 0;
  while (received == 0) {
    ++i;
    ASSERT_EQ(writer.write(i, message(i)), status::ok);
    const auto r = reader.read_for(buf, 1ms);
    if (r) {
      first = last = index_of(buf);
      received = 1;
    }
  }
  const std::uint64_t end = i + 50000;
  std::jthread feeder([&] {
    for (std::uint64_t k = i + 1; k <= end; ++k) {
      ASSERT_EQ(writer.write(k, message(k)), status::ok);
      if ((k & 255) == 0) std::this_thread::sleep_for(100us);
    }
  });
  feeder.join();
  std::this_thread::sleep_for(300ms);  // the tail is delivered
  EXPECT_EQ(stop(out), 0);
  EXPECT_EQ(stop(in), 0);
  for (;;) {
    const auto r = reader.try_read(buf);
    if (r.status() == status::lagged) {
      missed += r.missed();
      continue;
    }
    if (!r) break;
    const std::uint64_t k = index_of(buf);
    const auto want = message(k);
    ASSERT_GT(k, last) << "out of order";
    ASSERT_TRUE(r.info().size == want.size() && std::equal(want.begin(), want.end(), buf.begin())) << k;
    last = k;
    ++received;
  }
  // The far side got every remote message from the first it received to the last it
  // delivered (the resume seq after the bridge's counters: the source writer's sequence
  // number == i) or counted it as a gap (counter 3): exactly. Its local reader, read
  // mostly at the end, received some and was told how many it missed (lagged): the
  // remote gaps (writer::skip) and its own lag, together everything from its start.
  const std::uint64_t delivered = dst.counter(0).load(), gaps = dst.counter(3).load();
  const std::uint64_t last_remote = dst.counter(ringwire::net::counter_count + 1).load();
  EXPECT_GT(delivered, 0u);
  EXPECT_EQ(delivered + gaps, last_remote - first + 1) << "messages went missing without being counted";
  EXPECT_EQ(received + missed, delivered + gaps) << "the far segment's reader saw " << received << " + " << missed;
}

}  // namespace
