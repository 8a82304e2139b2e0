// The ZeroMQ bridge between processes on 127.0.0.1: the sending side is another process
// (this test binary run again with RINGWIRE_BRIDGE_CHILD set: exec, not a bare fork, since
// the parent has threads and ZeroMQ contexts), the receiving side this one.
//   - lossless: 1,000,000 messages, every one in order, none missed;
//   - lossy with the high-water marks forced to 1 and the receiver stopped and started
//     again mid-stream: received + missed == published, exactly, per subscriber;
//   - the sending bridge killed with SIGKILL and started again over a shared-memory channel
//     that outlives it: the restart is seen, the messages lost meanwhile are counted.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "ringwire/net/inbound.hpp"
#include "ringwire/net/outbound.hpp"
#include "ringwire/shm.hpp"
#include "bridge/bridge_support.hpp"
#include "support/loopback.hpp"

namespace {

namespace net = ringwire::net;
namespace bc = ringwire::broadcast;
namespace shm = ringwire::shm;
using ringwire::status;
using namespace std::chrono_literals;
using bridge_test::make_tick;
using bridge_test::mul;
using bridge_test::tally;
using bridge_test::tick;

constexpr std::size_t shm_capacity = 4096;

shm::channel_spec tick_spec() { return shm::broadcast_spec<tick>(shm_capacity, 8, bc::policy::lossy); }

std::uint64_t env_u64(const char* name) { return std::strtoull(std::getenv(name), nullptr, 10); }

// ---- the sending processes ------------------------------------------------------------------

// A lossless channel of `n` ticks, bridged (ROUTER) until everything was acknowledged.
int lossless_source(const std::string& address, std::uint64_t n) {
  zmq::context_t ctx;
  auto near = bc::channel<tick>(1024, {.policy = bc::policy::lossless});  // not a structured binding: lambdas capture pub
  auto& pub = near.first;
  auto& hub = near.second;
  net::outbound_options o;
  o.link.address = address;
  o.mode = net::mode::lossless;
  net::outbound out(ctx, net::broadcast_source<tick>(hub.subscribe()), o);
  std::jthread feeder([&pub, n](std::stop_token st) {
    for (std::uint64_t i = 1; i <= n && pub.send(make_tick(i), st) == status::ok; ++i) {
    }
    pub.close();
  });
  out.run(std::stop_token{});  // returns when closed and acknowledged
  return 0;
}

// A lossy channel published flat out; the bridge's PUB holds one frame (HWM 1) and sends
// one message per frame, so ZeroMQ drops. Runs until killed.
int lossy_source(const std::string& address) {
  zmq::context_t ctx;
  auto near = bc::channel<tick>(1024);  // not a structured binding: lambdas capture pub
  auto& pub = near.first;
  auto& hub = near.second;
  net::outbound_options o;
  o.link.address = address;
  o.link.send_hwm = 1;
  o.max_batch = 1;
  net::outbound out(ctx, net::broadcast_source<tick>(hub.subscribe()), o);
  std::jthread feeder([&pub](std::stop_token st) {
    for (std::uint64_t i = 1; !st.stop_requested(); ++i) {
      pub.try_send(make_tick(i));
      if ((i & 63) == 0) std::this_thread::sleep_for(100us);
    }
  });
  out.run(std::stop_token{});
  return 0;
}

// The outbound bridge of a shared-memory channel published by another process.
int shm_outbound(const std::string& segment, const std::string& address) {
  zmq::context_t ctx;
  auto seg = shm::segment::open(segment, tick_spec());
  net::outbound_options o;
  o.link.address = address;
  o.exit_on_close = false;
  net::outbound out(ctx, net::broadcast_source<tick>(shm::broadcast::attach_subscriber<tick>(seg)), o);
  out.run(std::stop_token{});
  return 0;
}

const int child_role = [] {
  const char* role = std::getenv("RINGWIRE_BRIDGE_CHILD");
  if (role == nullptr) return 0;
  const std::string r = role;
  const std::string address = std::getenv("RINGWIRE_BRIDGE_ADDRESS");
  int rc = 2;
  try {
    if (r == "lossless") rc = lossless_source(address, env_u64("RINGWIRE_BRIDGE_COUNT"));
    if (r == "lossy") rc = lossy_source(address);
    if (r == "shm") rc = shm_outbound(std::getenv("RINGWIRE_BRIDGE_SEGMENT"), address);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %s: %s\n", role, e.what());
    rc = 3;
  }
  std::fflush(nullptr);
  _exit(rc);
}();

// ---- the receiving side ---------------------------------------------------------------------

// Runs this binary again as a sending process.
pid_t spawn_child(const std::vector<std::string>& env) {
  const pid_t pid = ringwire_test::spawn_process("/proc/self/exe", {}, env);
  EXPECT_NE(pid, 0);
  return pid;
}

TEST(BridgeProcesses, LosslessMillionMessagesArriveInOrder) {
  const std::uint64_t n = 1'000'000 / RINGWIRE_STRESS_SCALE;
  const std::string address = ringwire_test::free_tcp_address();
  const pid_t child = spawn_child({"RINGWIRE_BRIDGE_CHILD=lossless", "RINGWIRE_BRIDGE_ADDRESS=" + address,
                                   "RINGWIRE_BRIDGE_COUNT=" + std::to_string(n)});
  zmq::context_t ctx;
  auto [far_pub, far_hub] = bc::channel<tick>(4096, {.policy = bc::policy::lossless});
  auto far_sub = far_hub.subscribe();
  net::inbound_options io;
  io.link.address = address;
  io.mode = net::mode::lossless;
  net::inbound in(ctx, net::broadcast_sink<tick>(std::move(far_pub)), io);
  std::jthread in_thread([&](std::stop_token st) { in.run(st); });
  tally t;
  while (t.last < n) {
    auto r = far_sub.recv_for(10s);
    ASSERT_TRUE(r) << ringwire::to_string(r.status()) << " after " << t.last;
    t.on(r);
  }
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_EQ(t.first, 1u);
  EXPECT_EQ(t.received, n);
  EXPECT_EQ(t.missed, 0u);
  EXPECT_EQ(ringwire_test::wait_process(child), 0);  // it exits once everything was acknowledged
  const auto s = in.stats();
  EXPECT_EQ(s[net::counter_index::messages], n);
  EXPECT_EQ(s[net::counter_index::gaps], 0u);
  EXPECT_EQ(s[net::counter_index::faults], 0u);
  std::printf("lossless: %llu messages in %llu frames\n", static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(s[net::counter_index::frames]));
}

TEST(BridgeProcesses, LossyAccountsExactlyWithLowHighWaterMarksAndReceiverRestarts) {
  const std::string address = ringwire_test::free_tcp_address();
  const pid_t child = spawn_child({"RINGWIRE_BRIDGE_CHILD=lossy", "RINGWIRE_BRIDGE_ADDRESS=" + address});
  zmq::context_t ctx;
  auto [far_pub, far_hub] = bc::channel<tick>(1 << 16);
  auto far_sub = far_hub.subscribe();
  std::atomic<std::uint64_t> resume_epoch{0}, resume_seq{0};
  net::inbound_options io;
  io.link.address = address;
  io.link.recv_hwm = 1;
  io.resume_epoch = &resume_epoch;
  io.resume_seq = &resume_seq;
  bc::publisher<tick> keep = std::move(far_pub);
  tally t;
  std::uint64_t gaps = 0;
  for (int round = 0; round < 3; ++round) {
    {
      net::inbound in(ctx, net::broadcast_sink<tick>(std::move(keep)), io);
      {
        std::jthread in_thread([&](std::stop_token st) { in.run(st); });
        const auto until = std::chrono::steady_clock::now() + 300ms;
        while (std::chrono::steady_clock::now() < until) {
          auto r = far_sub.recv_for(2s);
          ASSERT_TRUE(r || r.status() == status::lagged) << ringwire::to_string(r.status());
          t.on(r);
        }
      }
      gaps += in.stats()[net::counter_index::gaps];
      keep = std::move(in.sink().endpoint());
    }
    std::this_thread::sleep_for(50ms);  // stopped: the sender goes on
  }
  keep.close();
  for (;;) {  // what the last round delivered and the subscriber has not read yet
    auto r = far_sub.try_recv();
    if (r.status() == status::closed) break;
    ASSERT_TRUE(r || r.status() == status::lagged) << ringwire::to_string(r.status());
    t.on(r);
  }
  ::kill(child, SIGKILL);
  ringwire_test::wait_process(child);
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_TRUE(t.exact()) << t.received << " received + " << t.missed << " missed != " << t.last - t.first + 1;
  EXPECT_GT(t.received, 0u);
  EXPECT_GT(gaps, 0u) << "the stopped receiver and the high-water marks of 1 lost nothing: the test proved nothing";
  std::printf("lossy: %llu received, %llu missed (%llu remote gaps)\n", static_cast<unsigned long long>(t.received),
              static_cast<unsigned long long>(t.missed), static_cast<unsigned long long>(gaps));
}

TEST(BridgeProcesses, SendingBridgeKilledAndRestartedIsCounted) {
  const std::string name = "/rw-bridge-kill-" + std::to_string(::getpid());
  auto seg = shm::segment::create(name, tick_spec(), {.unlink = shm::unlink_policy::on_creator_exit});
  auto pub = shm::broadcast::attach_publisher<tick>(seg);
  const std::string address = "ipc:///tmp/rw-bridge-kill-" + std::to_string(::getpid()) + ".sock";
  const std::vector<std::string> env = {"RINGWIRE_BRIDGE_CHILD=shm", "RINGWIRE_BRIDGE_ADDRESS=" + address,
                                        "RINGWIRE_BRIDGE_SEGMENT=" + name};
  pid_t child = spawn_child(env);

  zmq::context_t ctx;
  auto [far_pub, far_hub] = bc::channel<tick>(1 << 16);
  auto far_sub = far_hub.subscribe();
  net::inbound_options io;
  io.link.address = address;
  net::inbound in(ctx, net::broadcast_sink<tick>(std::move(far_pub)), io);
  std::jthread in_thread([&](std::stop_token st) { in.run(st); });
  std::atomic<bool> done{false};
  std::jthread feeder([&] {
    for (std::uint64_t i = 1; !done.load(); ++i) {
      pub.try_send(make_tick(i));
      std::this_thread::sleep_for(20us);
    }
  });
  tally t;
  auto read_for = [&](std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      auto r = far_sub.recv_for(100ms);
      if (r || r.status() == status::lagged) t.on(r);
    }
  };
  read_for(400ms);
  const std::uint64_t before = t.received;
  ::kill(child, SIGKILL);
  EXPECT_EQ(ringwire_test::wait_process(child), 128 + SIGKILL);
  read_for(100ms);
  child = spawn_child(env);  // a new incarnation: a new epoch, the channel's sequence goes on
  read_for(600ms);
  done.store(true);
  feeder.join();
  ::kill(child, SIGKILL);
  ringwire_test::wait_process(child);
  in_thread.request_stop();
  in_thread.join();
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_GT(before, 0u);
  EXPECT_GT(t.received, before) << "nothing arrived after the restart";
  EXPECT_TRUE(t.exact()) << t.received << " received + " << t.missed << " missed != " << t.last - t.first + 1;
  const auto s = in.stats();
  EXPECT_EQ(s[net::counter_index::restarts], 1u);
  EXPECT_GE(s[net::counter_index::connections], 2u);  // ZeroMQ reconnected to the new sender
  EXPECT_GE(s[net::counter_index::disconnections], 1u);
  EXPECT_GT(s[net::counter_index::gaps], 0u) << "messages published while no bridge ran must be a counted gap";
  EXPECT_EQ(s[net::counter_index::faults], 0u);
}

}  // namespace
