// The ZeroMQ bridge in one process: outbound and inbound on threads, over tcp on 127.0.0.1
// (an ephemeral port) -- modes, batching, gap accounting, backpressure, malformed frames,
// receiver restarts. bridge_process_stress_test.cpp does the same across processes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "ringwire/net/inbound.hpp"
#include "ringwire/net/outbound.hpp"
#include "bridge/bridge_support.hpp"

namespace {

namespace net = ringwire::net;
namespace bc = ringwire::broadcast;
using ringwire::status;
using namespace std::chrono_literals;
using bridge_test::make_tick;
using bridge_test::mul;
using bridge_test::tally;
using bridge_test::tick;

net::outbound_options out_opts(net::mode m) {
  net::outbound_options o;
  o.link.address = "tcp://127.0.0.1:*";
  o.mode = m;
  o.idle = 5ms;
  o.drain = 50ms;  // the tests end with frames nobody will acknowledge
  return o;
}

net::inbound_options in_opts(const std::string& address, net::mode m) {
  net::inbound_options o;
  o.link.address = address;
  o.mode = m;
  o.heartbeat = 20ms;
  return o;
}

TEST(Bridge, LossyDeliversAndAccountsForEveryMessage) {
  zmq::context_t ctx;
  auto near = bc::channel<tick>(4096);  // not a structured binding: lambdas capture pub
  auto& pub = near.first;
  auto& near_hub = near.second;
  net::outbound out(ctx, net::broadcast_source<tick>(near_hub.subscribe()), out_opts(net::mode::lossy));
  auto [far_pub, far_hub] = bc::channel<tick>(1 << 16);
  auto far_sub = far_hub.subscribe();
  net::inbound in(ctx, net::broadcast_sink<tick>(std::move(far_pub)), in_opts(out.address(), net::mode::lossy));

  std::jthread out_thread([&](std::stop_token st) { out.run(st); });
  std::jthread in_thread([&](std::stop_token st) { in.run(st); });

  // The far side reads on its own thread, checking every message as it arrives.
  std::atomic<std::uint64_t> seen{0};
  std::atomic<std::uint64_t> total{~std::uint64_t{0}};
  tally t;
  std::jthread reader([&] {
    while (t.last < total.load()) {
      auto r = far_sub.recv_for(2s);
      if (!r && r.status() != status::lagged) {
        t.fail(std::string("far subscriber: ") + ringwire::to_string(r.status()) + " at " + std::to_string(t.last));
        return;
      }
      t.on(r);
      seen.store(t.received);
    }
  });
  // PUB/SUB's slow joiner: publish until the far side has seen something, then the rest.
  std::uint64_t n = 0;
  while (seen.load() == 0) {
    ++n;
    ASSERT_EQ(pub.try_send(make_tick(n)), status::ok);
    std::this_thread::sleep_for(100us);
  }
  const std::uint64_t end = n + 100000;
  total.store(end);
  for (++n; n <= end; ++n) {
    ASSERT_EQ(pub.try_send(make_tick(n)), status::ok);
    if ((n & 63) == 0) std::this_thread::sleep_for(20us);  // a rate the loopback keeps up with
  }
  reader.join();
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_TRUE(t.exact()) << t.received << " + " << t.missed << " != " << t.last - t.first + 1;
  out_thread.request_stop();
  out_thread.join();
  const auto os = out.stats();
  EXPECT_GE(os[net::counter_index::messages], end - t.first + 1 - os[net::counter_index::gaps]);
  // Batching: under load frames carry several messages.
  EXPECT_LT(os[net::counter_index::frames], os[net::counter_index::messages]);
  in_thread.request_stop();
  in_thread.join();
  const auto is = in.stats();
  // Every number from the first to the last went into the far channel or was skipped
  // there; its subscriber received it or was told it missed it (remote gaps and its own lag).
  EXPECT_EQ(is[net::counter_index::messages] + is[net::counter_index::gaps], t.received + t.missed);
  EXPECT_LE(is[net::counter_index::gaps], t.missed);
  EXPECT_EQ(is[net::counter_index::faults], 0u);
}

TEST(Bridge, LosslessDeliversEverythingInOrderUnderBackpressure) {
  zmq::context_t ctx;
  const bc::options lossless{.policy = bc::policy::lossless};
  auto near = bc::channel<tick>(256, lossless);  // not a structured binding: lambdas capture pub
  auto& pub = near.first;
  auto& near_hub = near.second;
  net::outbound_options oo = out_opts(net::mode::lossless);
  oo.max_batch = 64;
  net::outbound out(ctx, net::broadcast_source<tick>(near_hub.subscribe()), oo);
  auto [far_pub, far_hub] = bc::channel<tick>(256, lossless);
  auto far_sub = far_hub.subscribe();
  net::inbound_options io = in_opts(out.address(), net::mode::lossless);
  io.window = 512;
  net::inbound in(ctx, net::broadcast_sink<tick>(std::move(far_pub)), io);
  std::jthread out_thread([&](std::stop_token st) { out.run(st); });
  std::jthread in_thread([&](std::stop_token st) { in.run(st); });

  // Nobody reads on the far side yet: the far ring (256), the window (512) and the near
  // ring (256) fill, and then the near publisher is held back.
  std::uint64_t n = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const status st = pub.try_send(make_tick(n + 1));
    if (st == status::full) {
      std::this_thread::sleep_for(50ms);
      if (pub.try_send(make_tick(n + 1)) == status::full) break;
      ++n;
      continue;
    }
    ASSERT_EQ(st, status::ok);
    ++n;
  }
  ASSERT_LT(n, 256u + 512 + 256 + 64 + 8) << "the near publisher was never held back";
  EXPECT_GE(out.stats()[net::counter_index::credit_waits], 1u);

  // Now the far side reads: everything arrives, in order, nothing missed.
  const std::uint64_t total = 50000;
  // A failed assertion below ends the test: the stop token then ends a blocked send.
  std::jthread feeder([&](std::stop_token st) {
    for (std::uint64_t i = n + 1; i <= total; ++i) ASSERT_EQ(pub.send(make_tick(i), st), status::ok);
  });
  tally t;
  while (t.last < total) {
    auto r = far_sub.recv_for(5s);
    ASSERT_TRUE(r) << ringwire::to_string(r.status()) << " after " << t.last;
    t.on(r);
  }
  feeder.join();
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_EQ(t.first, 1u);
  EXPECT_EQ(t.received, total);
  EXPECT_EQ(t.missed, 0u);
  EXPECT_EQ(in.stats()[net::counter_index::gaps], 0u);
}

// A receiver stopped mid-stream and started again over the same local channel continues
// exactly where it was (lossless: nothing missed, nothing twice), through the resume words.
TEST(Bridge, LosslessReceiverRestartResumesWithoutLossOrDuplicates) {
  zmq::context_t ctx;
  const bc::options lossless{.policy = bc::policy::lossless};
  auto near = bc::channel<tick>(1024, lossless);  // not a structured binding: lambdas capture pub
  auto& pub = near.first;
  auto& near_hub = near.second;
  net::outbound out(ctx, net::broadcast_source<tick>(near_hub.subscribe()), out_opts(net::mode::lossless));
  // A small far ring: when the reader pauses, the inbound bridge blocks in put() and is
  // stopped there (the record it was putting must not count as delivered).
  auto [far_pub, far_hub] = bc::channel<tick>(64, lossless);
  auto far_sub = far_hub.subscribe();
  std::atomic<std::uint64_t> resume_epoch{0}, resume_seq{0};
  net::inbound_options io = in_opts(out.address(), net::mode::lossless);
  io.resume_epoch = &resume_epoch;
  io.resume_seq = &resume_seq;
  io.window = 256;
  std::jthread out_thread([&](std::stop_token st) { out.run(st); });

  const std::uint64_t total = 20000;
  std::jthread feeder([&](std::stop_token st) {
    for (std::uint64_t i = 1; i <= total; ++i) ASSERT_EQ(pub.send(make_tick(i), st), status::ok);
  });
  bc::publisher<tick> keep = std::move(far_pub);
  tally t;
  for (int round = 0; round < 4; ++round) {
    auto in = std::make_unique<net::inbound<net::broadcast_sink<tick>>>(
        ctx, net::broadcast_sink<tick>(std::move(keep)), io);
    {
      std::jthread in_thread([&](std::stop_token st) { in->run(st); });
      const std::uint64_t until = round == 3 ? total : (round + 1) * total / 4;
      while (t.last < until) {
        auto r = far_sub.recv_for(5s);
        ASSERT_TRUE(r) << ringwire::to_string(r.status()) << " after " << t.last << " in round " << round;
        t.on(r);
      }
    }  // stopped mid-stream (frames may be on the wire)
    keep = std::move(in->sink().endpoint());
  }
  feeder.join();
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_EQ(t.received, total);
  EXPECT_EQ(t.missed, 0u);
  EXPECT_EQ(out.stats()[net::counter_index::restarts], 4u);  // four receiver sessions
  EXPECT_EQ(out.stats()[net::counter_index::connections], 4u);   // each a new connection ...
  EXPECT_GE(out.stats()[net::counter_index::disconnections], 3u);  // ... and the first three closed
}

// A hand-driven sender (bridge_support.hpp) into a lossy inbound bridge and a small far
// channel, with one subscriber.
struct raw_rig {
  zmq::context_t ctx;
  bridge_test::raw_sender raw{ctx};
  std::pair<bc::publisher<tick>, bc::hub<tick>> far = bc::channel<tick>(64);
  bc::subscriber<tick> far_sub = far.second.subscribe();
  net::inbound<net::broadcast_sink<tick>> in{ctx, net::broadcast_sink<tick>(std::move(far.first)),
                                             in_opts(raw.address(), net::mode::lossy)};
  std::jthread thread{[this](std::stop_token st) { in.run(st); }};
  tally t;

  // PUB/SUB's slow joiner: good frames of `epoch` until one arrives; the last seq sent.
  std::uint64_t warm_up(std::uint64_t epoch) {
    std::uint64_t seq = 0;
    while (t.received == 0) {
      raw.send(epoch, ++seq);
      if (auto r = far_sub.recv_for(5ms); r) t.on(r);
    }
    return seq;
  }
};

// Frames from a hostile or broken sender: dropped whole, counted by reason, the local
// channel untouched; the good frames around them are delivered.
TEST(Bridge, MalformedFramesAreDroppedAndCounted) {
  raw_rig rig;
  auto& raw = rig.raw;
  auto& far_sub = rig.far_sub;
  auto& in = rig.in;
  tally& t = rig.t;
  const std::uint64_t epoch = 42;
  std::uint64_t seq = rig.warm_up(epoch);
  const auto before = in.stats();
  auto truncated = raw.frame(epoch, seq + 1);
  truncated.resize(truncated.size() - 3);
  raw.send(truncated);                                       // size_mismatch
  raw.send(std::vector<std::byte>(10, std::byte{0x52}));     // truncated_header
  auto bad_magic = raw.frame(epoch, seq + 1);
  bad_magic[0] = std::byte{0};
  raw.send(bad_magic);                                       // bad_magic
  raw.send(epoch, seq + 1);                                  // good
  raw.send(raw.frame(epoch, seq + 2, 4 * sizeof(tick)));     // too large for a tick: refused, skipped
  raw.send(raw.frame(epoch, seq + 3, 8));                    // too small for a tick: refused, skipped
  raw.send(epoch, seq + 4);                                  // good
  while (t.last < seq + 4) {
    auto r = far_sub.recv_for(2s);
    ASSERT_TRUE(r || r.status() == status::lagged) << ringwire::to_string(r.status());
    t.on(r);
  }
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_EQ(t.missed, 2u);  // the refused records are gaps the subscriber sees
  EXPECT_TRUE(t.exact());
  const auto s = in.stats();
  auto fault = [&](net::frame_fault f) {
    return s.faults[static_cast<std::size_t>(f)] - before.faults[static_cast<std::size_t>(f)];
  };
  EXPECT_EQ(fault(net::frame_fault::size_mismatch), 1u);
  EXPECT_EQ(fault(net::frame_fault::truncated_header), 1u);
  EXPECT_EQ(fault(net::frame_fault::bad_magic), 1u);
  EXPECT_EQ(s[net::counter_index::faults] - before[net::counter_index::faults], 3u);
  EXPECT_EQ(s[net::counter_index::refused], 2u);
  EXPECT_EQ(s[net::counter_index::duplicates], 0u);
}

// Lossless: a hole between frames that the sender did not declare is a frame lost in
// transit: the receiver delivers nothing past it and asks for a resend (the credit's
// resend flag); once the missing frame comes, everything is delivered in order, nothing
// missed. A hole the sender declares (flag_gap_before: its own channel lapped it) is a gap.
TEST(Bridge, LosslessReceiverAsksForWhatWasLostInTransit) {
  zmq::context_t ctx;
  zmq::socket_t router(ctx, zmq::socket_type::router);  // a hand-driven lossless sender
  router.bind("tcp://127.0.0.1:*");
  auto [far_pub, far_hub] = bc::channel<tick>(64);
  auto far_sub = far_hub.subscribe();
  net::inbound_options io = in_opts(router.get(zmq::sockopt::last_endpoint), net::mode::lossless);
  net::inbound in(ctx, net::broadcast_sink<tick>(std::move(far_pub)), io);
  std::jthread in_thread([&](std::stop_token st) { in.run(st); });

  // The receiver's first credit gives its routing id.
  auto next_credit = [&](zmq::message_t& peer) {
    zmq::message_t body;
    EXPECT_TRUE(router.recv(peer, zmq::recv_flags::none));
    EXPECT_TRUE(router.recv(body, zmq::recv_flags::none));
    net::credit c;
    EXPECT_TRUE(net::decode_credit({static_cast<const std::byte*>(body.data()), body.size()}, c));
    return c;
  };
  zmq::message_t peer;
  net::credit c = next_credit(peer);
  EXPECT_EQ(c.flags, 0u);
  const std::string id(static_cast<const char*>(peer.data()), peer.size());
  std::vector<std::byte> buf(4096);
  auto send = [&](std::uint64_t seq, std::uint32_t flags) {
    net::frame_writer w(buf);
    w.begin(1, 77, flags);
    const tick v = make_tick(seq);
    w.add(seq, 0, std::as_bytes(std::span(&v, 1)));
    const auto f = w.finish();
    router.send(zmq::buffer(id), zmq::send_flags::sndmore);
    router.send(zmq::buffer(f.data(), f.size()), zmq::send_flags::none);
  };
  send(1, 0);
  send(2, 0);
  send(4, 0);  // frame 3 "lost"
  bool asked = false;
  for (int i = 0; i < 50 && !asked; ++i) asked = (next_credit(peer).flags & net::credit_resend) != 0;
  ASSERT_TRUE(asked) << "no resend request for the hole";
  send(3, 0);  // the resend, then what followed it
  send(4, 0);
  send(9, net::flag_gap_before);  // 5..8 never existed at the sender: a real gap
  tally t;
  while (t.last < 9) {
    auto r = far_sub.recv_for(2s);
    ASSERT_TRUE(r || r.status() == status::lagged) << ringwire::to_string(r.status()) << " after " << t.last;
    t.on(r);
  }
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_EQ(t.first, 1u);
  EXPECT_EQ(t.received, 5u);  // 1 2 3 4 9
  EXPECT_EQ(t.missed, 4u);    // 5..8, declared
  const auto s = in.stats();
  EXPECT_GE(s[net::counter_index::resent], 1u);  // resend requests
  EXPECT_EQ(s[net::counter_index::gaps], 4u);
}

// A duplicate (a sender's resend, a reconnect replay) is dropped; a new sender epoch whose
// sequence continues counts the numbers it skipped as a gap.
TEST(Bridge, DuplicatesAndSenderRestartsAreAccounted) {
  raw_rig rig;
  auto& raw = rig.raw;
  auto& far_sub = rig.far_sub;
  auto& in = rig.in;
  tally& t = rig.t;
  const std::uint64_t seq = rig.warm_up(7);
  raw.send(7, seq);      // duplicate
  raw.send(7, seq + 1);
  raw.send(8, seq + 5);  // restarted sender, sequence continued: 3 missing
  raw.send(8, seq + 6);
  while (t.last < seq + 6) {
    auto r = far_sub.recv_for(2s);
    ASSERT_TRUE(r || r.status() == status::lagged) << ringwire::to_string(r.status());
    t.on(r);
  }
  EXPECT_TRUE(t.ok) << t.why;
  EXPECT_EQ(t.missed, 3u);
  EXPECT_TRUE(t.exact());
  const auto s = in.stats();
  EXPECT_EQ(s[net::counter_index::duplicates], 1u);
  EXPECT_EQ(s[net::counter_index::restarts], 1u);
  EXPECT_EQ(s[net::counter_index::gaps], 3u);
}

}  // namespace
