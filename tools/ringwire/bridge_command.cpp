// tools/ringwire/bridge_command.cpp -- `ringwire bridge out|in`: a byte-broadcast segment to
// and from other hosts over ZeroMQ (ringwire::net; docs/bridge.md), without writing code.
//
//   ringwire bridge out /md --bind tcp://0.0.0.0:5556 [--lossless] [--batch N]
//       reads the segment as one more reader (lossy, or a credited reader with --lossless)
//       and publishes every message; runs until SIGINT / SIGTERM, across restarts of the
//       segment's writer.
//   ringwire bridge in tcp://host:5556 --to /md [--lossless] [--window N]
//       [--depth N --region BYTES --max-message BYTES]  (when it creates the segment)
//       receives and writes into the segment (created when missing, else opened: its writer
//       claim must be free); remote gaps, restarts, duplicates and refused frames are
//       counted in the segment's user counters 0-11 (shown by `ringwire stat`), and the
//       last delivered (epoch, seq) in counters 12-13, so a restarted `bridge in` resumes
//       without duplicates.
// Byte broadcast because a segment of it is self-describing: any payload up to its message
// limit, no compile-time type. Typed broadcast<T> channels are bridged through the library
// (net::broadcast_source<T> / broadcast_sink<T>; examples/bridge/market_data.cpp).
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <stop_token>
#include <thread>

#include <fmt/core.h>

#include "commands.hpp"
#include "ringwire/channel_kinds.hpp"
#include "ringwire/net/inbound.hpp"
#include "ringwire/net/outbound.hpp"
#include "ringwire/shm.hpp"

namespace ringwire_tool {

namespace {

namespace net = ringwire::net;
namespace shm = ringwire::shm;
namespace bb = ringwire::byte_broadcast;

std::stop_source g_stop;

// SIGINT / SIGTERM end the bridge cleanly: blocked in every thread (before ZeroMQ starts
// its I/O threads, which inherit the mask) and taken by one thread with sigwait, which
// requests the stop -- nothing runs in a signal handler.
std::jthread install_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return std::jthread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    g_stop.request_stop();
  });
}

// The signal thread waits in sigwait: a run that ends by itself (an error) wakes it so the
// process can exit.
struct signal_guard {
  std::jthread thread = install_signals();
  ~signal_guard() {
    if (!g_stop.stop_requested()) pthread_kill(thread.native_handle(), SIGTERM);
  }
};

// The segment's counters k.. for the bridge's (stats.hpp order), where it has them.
template <class Options>
void mirror_into(const shm::segment& seg, Options& o) {
  for (std::uint32_t i = 0; i < net::counter_count && i < seg.counters(); ++i) o.mirror[i] = &seg.counter(i);
}

void report(const char* side, const net::bridge_snapshot& s) {
  fmt::print(stderr, "ringwire bridge {}:", side);
  for (std::uint32_t i = 0; i < net::counter_count; ++i)
    fmt::print(stderr, " {}={}", net::to_string(static_cast<net::counter_index>(i)), s.values[i]);
  fmt::print(stderr, "\n");
}

template <class Bridge>
void run_until_signal(Bridge& b, const char* side, bool verbose) {
  std::jthread ticker;
  if (verbose) {
    ticker = std::jthread([&b, side](std::stop_token st) {
      while (!st.stop_requested() && !g_stop.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        report(side, b.stats());
      }
    });
  }
  b.run(g_stop.get_token());
  report(side, b.stats());
}

}  // namespace

int run_bridge_out(const common_options& common, const bridge_options& o) {
  const signal_guard signals;
  // The ring's geometry as its header records it: opened for real with exactly that.
  shm::open_options oo;
  oo.trusted.uids.assign(common.trust.begin(), common.trust.end());
  const bb::geometry g = shm::byte_broadcast::geometry_of(shm::segment::observe(o.segment, &shm::find_contract, oo));
  auto seg = shm::segment::open(o.segment, shm::byte_broadcast_spec(g), oo);
  zmq::context_t ctx;
  net::outbound_options opt;
  opt.link.address = o.address;
  opt.link.bind = !o.connect;
  opt.link.send_hwm = o.hwm;
  opt.mode = o.lossless ? net::mode::lossless : net::mode::lossy;
  opt.max_batch = o.batch;
  opt.channel = o.channel;
  opt.exit_on_close = false;  // the segment's writer may restart
  if (o.lossless) {
    net::outbound out(ctx, net::byte_broadcast_source(shm::byte_broadcast::attach_credited_reader(seg), g.max_message), opt);
    if (!common.json) fmt::print(stderr, "ringwire bridge out: {} -> {} (lossless)\n", o.segment, out.address());
    run_until_signal(out, "out", o.verbose);
  } else {
    net::outbound out(ctx, net::byte_broadcast_source(shm::byte_broadcast::attach_reader(seg), g.max_message), opt);
    if (!common.json) fmt::print(stderr, "ringwire bridge out: {} -> {} (lossy)\n", o.segment, out.address());
    run_until_signal(out, "out", o.verbose);
  }
  return exit_ok;
}

int run_bridge_in(const common_options& common, const bridge_options& o) {
  const signal_guard signals;
  const bb::geometry g{.depth = o.depth, .region_bytes = o.region, .max_message = o.max_message,
                       .max_credited = o.max_credited};
  shm::open_options oo;
  oo.trusted.uids.assign(common.trust.begin(), common.trust.end());
  auto seg = [&] {
    try {
      shm::create_options co;
      co.unlink = shm::unlink_policy::never;
      co.counters = net::counter_count + 2;
      return shm::segment::create(o.segment, shm::byte_broadcast_spec(g), co);
    } catch (const ringwire::error& e) {
      if (e.code() != ringwire::errc::shm_exists) throw;
      const bb::geometry have =
          shm::byte_broadcast::geometry_of(shm::segment::observe(o.segment, &shm::find_contract, oo));
      return shm::segment::open(o.segment, shm::byte_broadcast_spec(have), oo);
    }
  }();
  const bb::geometry have = shm::byte_broadcast::geometry_of(seg);
  zmq::context_t ctx;
  net::inbound_options opt;
  opt.link.address = o.address;
  opt.link.bind = o.bind;
  opt.link.recv_hwm = o.hwm;
  opt.mode = o.lossless ? net::mode::lossless : net::mode::lossy;
  opt.window = o.window;
  mirror_into(seg, opt);
  if (seg.counters() >= net::counter_count + 2) {
    opt.resume_epoch = &seg.counter(net::counter_count);
    opt.resume_seq = &seg.counter(net::counter_count + 1);
  }
  net::inbound in(ctx, net::byte_broadcast_sink(shm::byte_broadcast::attach_writer(seg), have.max_message), opt);
  if (!common.json)
    fmt::print(stderr, "ringwire bridge in: {} -> {} ({})\n", o.address, o.segment, o.lossless ? "lossless" : "lossy");
  run_until_signal(in, "in", o.verbose);
  return exit_ok;
}

}  // namespace ringwire_tool
