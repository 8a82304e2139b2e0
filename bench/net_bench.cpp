// ringwire_net_bench -- the ZeroMQ bridge (ringwire::net, issue 21) against plain ZeroMQ, by
// the rules of /work/shared/BENCHMARKING.md, over tcp and ipc on loopback:
//
//   (1) throughput, 8 B / 64 B / 1 KiB: a lossless bridge (publisher thread -> near channel
//       -> outbound -> ZeroMQ -> inbound -> far channel -> subscriber thread), batching on
//       (max_batch 4096, the default) and off (max_batch 1), beside plain ZeroMQ PUSH/PULL and
//       PUB/SUB sending the same structs, one message per zmq_send;
//   (2) round trip, 8 B: ping-pong through two bridges (lossless, and lossy = PUB/SUB), beside
//       plain ZeroMQ PUSH/PULL and PUB/SUB pairs, one message outstanding.
//
// Two "hosts" in one process: each side has its own zmq::context_t (one I/O thread), as two
// machines would, and everything of a side -- its application thread, its bridge threads and
// its context's I/O thread (ZMQ_THREAD_AFFINITY_CPU_ADD) -- is pinned to that side's CPU
// (--cpus A,B). The threads of a side share one CPU, so every wait blocks (ringwire: the
// channels' default park strategy; ZeroMQ: blocking zmq_send / zmq_recv): a spinning waiter
// would starve the thread it waits for. Both kinds of row wait the same way.
//
// Every message is verified: the receiver checks the sequence number (word 0) and the check
// word (last word) of each message, in order; a loss, duplicate or reorder fails the run and
// the program exits 1. Throughput runs send a fixed count and time the receiver from message
// count/10 to the last one; round-trip runs time `target` seconds after a warm-up.
//
//   ringwire_net_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]
//                      [--cpus A,B] [--label TEXT] [--scale=X]
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "harness.hpp"
#include "report.hpp"
#include "ringwire/broadcast.hpp"
#include "ringwire/net/inbound.hpp"

namespace bench {
namespace {

namespace bc = ringwire::broadcast;
namespace net = ringwire::net;
using ringwire::status;
using namespace std::chrono_literals;

constexpr std::size_t chan_cap = 4096;  // every ringwire channel; also the lossless window
double g_scale = 1.0;                   // --scale: multiplies the throughput message counts

enum class transport { tcp, ipc };
const char* name_of(transport t) { return t == transport::tcp ? "tcp" : "ipc"; }

// Where the binding side binds: a kernel-chosen loopback port, or a fresh socket file.
std::string bind_address(transport t) {
  static int n = 0;
  if (t == transport::tcp) return "tcp://127.0.0.1:*";
  return "ipc:///tmp/ringwire-bench-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".sock";
}

// Removes an ipc endpoint's file (ZeroMQ usually has; a crashed run leaves nothing behind).
void forget(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0) (void)std::remove(endpoint.substr(6).c_str());
}

std::chrono::milliseconds run_timeout() { return std::chrono::milliseconds(static_cast<long>(g_cfg.run_timeout_s * 1000)); }

// One side's ZeroMQ context: one I/O thread, pinned to the side's CPU before it starts (the
// I/O thread starts with the first socket).
struct host {
  zmq::context_t ctx;
  explicit host(int cpu) {
    if (cpu >= 0) zmq_ctx_set(ctx.handle(), ZMQ_THREAD_AFFINITY_CPU_ADD, cpu);
  }
};

// The first failure of a run (any thread), and the stop request it implies.
struct failure {
  std::atomic<bool> failed{false};
  std::string why;
  std::mutex m;
  void set(std::string w) {
    std::lock_guard lk(m);
    if (!failed.exchange(true)) why = std::move(w);
  }
};

std::string st(status s) { return "status " + std::to_string(static_cast<int>(s)); }

// The receiving side's clock: from message `warm` to the last of `n` (first-connection costs,
// page faults and TCP slow start excluded).
struct rx_clock {
  std::uint64_t n, warm;
  steady::time_point t0{}, t1{};
  void at(std::uint64_t i) {
    if (i == warm) t0 = steady::now();
    if (i + 1 == n) t1 = steady::now();
  }
  [[nodiscard]] double rate() const { return static_cast<double>(n - 1 - warm) / std::chrono::duration<double>(t1 - t0).count(); }
};

sample finish(failure& f, const rx_clock& c, double per_frame) {
  sample s;
  if (f.failed) {
    s.ok = false;
    s.err = f.why;
    return s;
  }
  s.units = c.n - 1 - c.warm;
  s.v = {c.rate() / 1e6, per_frame};
  return s;
}

// ---- (1) throughput: ringwire lossless bridge ------------------------------------------------
bc::options chan_options(bc::policy p) {
  bc::options o;
  o.policy = p;  // waits: the default park (spin 256, then futex), for publisher and subscribers
  return o;
}

template <class T>
sample ringwire_tp(transport tr, std::uint64_t n, std::uint32_t max_batch) {
  failure f;
  rx_clock clk{n, n / 10};
  std::string endpoint;
  double per_frame = 0;
  {
    host near_host(g_cfg.cpus.a), far_host(g_cfg.cpus.b);
    auto near = bc::channel<T>(chan_cap, chan_options(bc::policy::lossless));
    auto far = bc::channel<T>(chan_cap, chan_options(bc::policy::lossless));
    auto far_sub = far.second.subscribe();  // before anything is published
    net::outbound_options oo;
    oo.link.address = bind_address(tr);
    oo.mode = net::mode::lossless;
    oo.max_batch = max_batch;
    net::outbound out(near_host.ctx, net::broadcast_source<T>(near.second.subscribe()), oo);
    endpoint = out.address();
    net::inbound_options io;
    io.link.address = endpoint;
    io.mode = net::mode::lossless;
    io.window = chan_cap;
    net::inbound in(far_host.ctx, net::broadcast_sink<T>(std::move(far.first)), io);
    auto& pub = near.first;
    {
      std::jthread bo([&](std::stop_token s) { pin_this_thread(g_cfg.cpus.a); out.run(s); });
      std::jthread bi([&](std::stop_token s) { pin_this_thread(g_cfg.cpus.b); in.run(s); });
      std::thread prod([&] {
        pin_this_thread(g_cfg.cpus.a);
        T m = message_template<T>();
        for (std::uint64_t i = 0; i < n && !f.failed; ++i) {
          stamp(m, i);
          const status s = pub.send_for(m, run_timeout());
          if (s != status::ok) return f.set("publisher: message #" + std::to_string(i) + ": " + st(s) + " (stalled bridge?)");
        }
      });
      std::thread cons([&] {
        pin_this_thread(g_cfg.cpus.b);
        for (std::uint64_t i = 0; i < n; ++i) {
          auto r = far_sub.recv_for(run_timeout());
          if (!r) return f.set("far subscriber: waiting for message #" + std::to_string(i) + ": " + st(r.status()));
          if (!verify(*r, i)) return f.set(seq_error(i, r->w[0]));
          clk.at(i);
        }
      });
      prod.join();
      cons.join();
    }  // the bridge threads stop here (jthread: request_stop + join)
    const auto os = out.stats();
    const auto is = in.stats();
    if (!f.failed && (is[net::counter_index::gaps] != 0 || is[net::counter_index::duplicates] != 0 || is[net::counter_index::faults] != 0))
      f.set("inbound counted gaps / duplicates / faults on a lossless loopback run");
    const auto frames = os[net::counter_index::frames];
    per_frame = frames ? static_cast<double>(os[net::counter_index::messages]) / static_cast<double>(frames) : 0;
  }
  forget(endpoint);
  return finish(f, clk, per_frame);
}

// ---- (1) throughput: plain ZeroMQ ---------------------------------------------------------------
// PUSH/PULL: default high-water marks (1000): a full pipe blocks zmq_send, nothing is lost.
// PUB/SUB: SNDHWM = RCVHWM = 0 (unlimited), else PUB drops at the mark and the run could not
// be verified; and the publisher first sends empty probes until the subscriber has seen one
// (PUB drops everything sent before the subscription arrives: the slow-joiner problem).
void set_timeouts(zmq::socket_t& s) {
  const int ms = static_cast<int>(g_cfg.run_timeout_s * 1000);
  s.set(zmq::sockopt::sndtimeo, ms);
  s.set(zmq::sockopt::rcvtimeo, ms);
  s.set(zmq::sockopt::linger, 0);
}

struct zmq_pair {
  zmq::socket_t tx, rx;
  std::string endpoint;
  bool pubsub;
  // tx in context a binds, rx in context b connects.
  zmq_pair(zmq::context_t& a, zmq::context_t& b, transport tr, bool pub_sub)
      : tx(a, pub_sub ? zmq::socket_type::pub : zmq::socket_type::push),
        rx(b, pub_sub ? zmq::socket_type::sub : zmq::socket_type::pull),
        pubsub(pub_sub) {
    set_timeouts(tx);
    set_timeouts(rx);
    if (pubsub) {
      tx.set(zmq::sockopt::sndhwm, 0);
      rx.set(zmq::sockopt::rcvhwm, 0);
      rx.set(zmq::sockopt::subscribe, "");
    }
    tx.bind(bind_address(tr));
    endpoint = tx.get(zmq::sockopt::last_endpoint);
    rx.connect(endpoint);
  }
  ~zmq_pair() {
    tx.close();
    rx.close();
    forget(endpoint);
  }
  zmq_pair(const zmq_pair&) = delete;
  zmq_pair& operator=(const zmq_pair&) = delete;
};

// PUB/SUB: an empty probe every millisecond until `joined` (the receiver saw one).
bool wait_joined(zmq_pair& p, const std::atomic<bool>& joined, failure& f) {
  const auto until = steady::now() + run_timeout();
  while (!joined.load(std::memory_order_acquire)) {
    if (f.failed || steady::now() > until) return false;
    (void)p.tx.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::dontwait);
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

template <class T>
sample zmq_tp(transport tr, std::uint64_t n, bool pubsub) {
  failure f;
  rx_clock clk{n, n / 10};
  host ha(g_cfg.cpus.a), hb(g_cfg.cpus.b);
  zmq_pair p(ha.ctx, hb.ctx, tr, pubsub);
  std::atomic<bool> joined{!pubsub};
  std::thread sender([&] {
    pin_this_thread(g_cfg.cpus.a);
    if (!wait_joined(p, joined, f)) return f.set("sender: the subscriber never joined");
    T m = message_template<T>();
    for (std::uint64_t i = 0; i < n && !f.failed; ++i) {
      stamp(m, i);
      if (!p.tx.send(zmq::buffer(&m, sizeof m), zmq::send_flags::none))
        return f.set("sender: zmq_send timed out at message #" + std::to_string(i));
    }
  });
  std::thread receiver([&] {
    pin_this_thread(g_cfg.cpus.b);
    T m{};
    for (std::uint64_t i = 0; i < n;) {
      const auto r = p.rx.recv(zmq::buffer(&m, sizeof m), zmq::recv_flags::none);
      if (!r) return f.set("receiver: zmq_recv timed out waiting for message #" + std::to_string(i));
      if (r->untruncated_size == 0) {  // a PUB/SUB probe
        joined.store(true, std::memory_order_release);
        continue;
      }
      if (r->untruncated_size != sizeof m) return f.set("receiver: a message of " + std::to_string(r->untruncated_size) + " bytes");
      if (!verify(m, i)) return f.set(seq_error(i, m.w[0]));
      clk.at(i++);
    }
  });
  sender.join();
  receiver.join();
  return finish(f, clk, 1);
}

// Messages per run at each payload: ~0.3-1 s per ringwire run on the 2-vCPU VM.
std::uint64_t tp_count(std::size_t bytes) {
  if (g_cfg.smoke) return 3000;
  const double base = bytes <= 64 ? 2'000'000 : 400'000;
  return static_cast<std::uint64_t>(base * g_scale * (g_cfg.quick ? 0.5 : 1.0));
}

const char* rw_batched = "ringwire bridge, lossless, batching (max_batch 4096)";
const char* rw_single = "ringwire bridge, lossless, no batching (max_batch 1)";
const char* zmq_pushpull = "ZeroMQ PUSH/PULL";
const char* zmq_pubsub = "ZeroMQ PUB/SUB (HWM 0)";

// The median of the best plain-ZeroMQ row on metric k (lower_better: the lowest).
double best_peer(const std::vector<row>& rows, std::size_t k, bool lower_better, std::string* name = nullptr) {
  double best = 0;
  for (auto& r : rows) {
    if (r.who != role::peer) continue;
    const double v = med(&r, k);
    if (best == 0 || (lower_better ? v < best : v > best)) {
      best = v;
      if (name) *name = r.name;
    }
  }
  return best;
}

std::vector<std::string> g_verdicts;  // the target lines, repeated at the end

template <class T>
void throughput_table(transport tr) {
  const std::string table = "throughput " + payload_name(sizeof(T)) + " " + name_of(tr);
  const std::uint64_t n = tp_count(sizeof(T));
  // The warm-up round runs a quarter of the count (run_table passes it half the target time).
  auto count = [n](double t) { return t < g_cfg.target_s ? std::max<std::uint64_t>(n / 4, 100) : n; };
  std::vector<row> rows;
  rows.push_back({rw_batched, role::ours, [=](double t) { return ringwire_tp<T>(tr, count(t), 4096); }, {}, {}, 0});
  // Unbatched, the bridge moves ~20x fewer messages/s: a twentieth of the count keeps its runs
  // as long as the others'.
  rows.push_back({rw_single, role::ours, [=](double t) { return ringwire_tp<T>(tr, std::max<std::uint64_t>(count(t) / 20, 100), 1); }, {}, {}, 0});
  rows.push_back({zmq_pushpull, role::peer, [=](double t) { return zmq_tp<T>(tr, count(t), false); }, {}, {}, 0});
  rows.push_back({zmq_pubsub, role::peer, [=](double t) { return zmq_tp<T>(tr, count(t), true); }, {}, {}, 0});
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 2);
  std::string peer;
  const double best = best_peer(rows, 0, false, &peer);
  std::ostringstream o;
  o << "\n### Throughput — " << payload_name(sizeof(T)) << ", " << name_of(tr) << " loopback, " << n
    << " messages per run (the unbatched bridge: " << n / 20 << ")\n\n"
    << "Million messages/s received (higher is better), " << reps_note() << "; the receiver's clock runs from the first tenth of the "
       "messages to the last; every message verified. OVERSUBSCRIBED: sending side on CPU " << g_cfg.cpus.a
    << ", receiving side on CPU " << g_cfg.cpus.b << "; ringwire: 3 threads per CPU (application, bridge, ZeroMQ I/O), "
    << "plain ZeroMQ: 2 (application, ZeroMQ I/O). Every wait blocks.\n\n"
    << "| implementation | Mmsg/s | payload MB/s | messages per ZeroMQ message | vs best plain ZeroMQ |\n|---|---:|---:|---:|---:|\n";
  for (auto& r : rows) {
    const summary s = summarize(r.results[0]);
    o << "| " << (r.who == role::ours ? "**" + r.name + "**" : r.name) << " | " << med_range(s) << " | "
      << num(s.median * static_cast<double>(sizeof(T))) << " | " << num(med(&r, 1)) << " | "
      << (best > 0 ? ratio(s.median / best) : "—") << " |\n";
  }
  o << "\n";
  for (auto& r : rows) {
    if (r.who != role::ours || best <= 0) continue;
    const double x = med(&r) / best;
    const std::string v = "throughput " + payload_name(sizeof(T)) + " " + name_of(tr) + ": **" + r.name + "** " + ratio(x) +
                          " of " + peer + " (target ≥ 1.00×" + (r.name == rw_batched ? ", batching should beat it" : "") +
                          "): " + (x >= 1.0 ? "met" : "**MISSED**");
    o << v << "\n\n";
    g_verdicts.push_back(v);
  }
  out(o.str());
}

// ---- (2) round trip -------------------------------------------------------------------------------
// Ping stamps round trip i, reads the TSC, sends, waits for the echo, reads the TSC. Pong echoes
// what it receives. Lossy (PUB/SUB) rows first exchange probes until one comes back (what is
// sent before a subscription reaches the publisher is dropped), then drain the late probe
// echoes; probes and lost-and-skipped messages never count as round trips.
using msg8 = msg<8>;
constexpr std::uint64_t probe_base = UINT64_MAX - (1u << 20);  // probe k carries probe_base + k
enum class rx { ok, none, fail };                              // none: a timeout or a lossy skip

template <class Send, class Recv>
void ping_loop(Send&& send, Recv&& recv, bool probe, double target, histogram& h, double& secs, failure& f) {
  msg8 m{}, r{};
  if (probe) {
    const auto until = steady::now() + run_timeout();
    for (std::uint64_t k = 0;; ++k) {
      if (steady::now() > until) return f.set("ping: no probe came back");
      stamp(m, probe_base + k);
      if (!send(m)) return f.set("ping: probe send failed");
      if (recv(r, 2ms) == rx::ok) break;
    }
    while (recv(r, 50ms) != rx::none) {  // late probe echoes
    }
  }
  steady::time_point t0{};
  for (std::uint64_t i = 0;; ++i) {
    if (i == g_cfg.lat_warm) t0 = steady::now();
    if (time_up(i, t0, target)) break;
    stamp(m, i);
    const std::uint64_t a = ticks();
    if (!send(m)) return f.set("ping: send failed at round trip #" + std::to_string(i));
    for (;;) {
      const rx x = recv(r, run_timeout());
      if (x == rx::fail || f.failed) return f.set("ping: no echo of round trip #" + std::to_string(i));
      if (x == rx::ok && r.w[0] < probe_base) break;  // else a late probe or a lossy gap report
    }
    const std::uint64_t b = ticks();
    if (!verify(r, i)) return f.set(seq_error(i, r.w[0]));
    if (i >= g_cfg.lat_warm) h.add(b - a);
  }
  secs = std::chrono::duration<double>(steady::now() - t0).count();
  stamp(m, sentinel);
  (void)send(m);
}

template <class Send, class Recv>
void pong_loop(Send&& send, Recv&& recv, failure& f) {
  msg8 r{};
  for (;;) {
    const rx x = recv(r, run_timeout());
    if (f.failed) return;
    if (x == rx::fail) return f.set("pong: nothing received");
    if (x != rx::ok) continue;
    if (r.w[0] == sentinel) return;
    if (!send(r)) return f.set("pong: echo failed");
  }
}

sample rt_result(failure& f, const histogram& h, double secs) {
  if (f.failed) {
    sample s;
    s.ok = false;
    s.err = f.why;
    return s;
  }
  return latency_sample(h, secs);
}

// A subscriber's receive as ping_loop / pong_loop want it: lagged (lossy: messages lost on the
// way) is none (skipped, wait again); a timeout is none while probing, else a failure.
template <class Sub>
rx sub_recv(Sub& sub, msg8& out, std::chrono::milliseconds d, bool lossy) {
  auto r = sub.recv_for(d);
  if (r) {
    out = *r;
    return rx::ok;
  }
  if (lossy && r.status() == status::lagged) return rx::none;
  if (r.status() == status::timed_out && d < run_timeout()) return rx::none;  // probing
  return rx::fail;
}

// Ringwire: A publishes on X; bridge X (A -> B) into X'; B's subscriber of X' publishes the echo
// on Y; bridge Y (B -> A) into Y'; A's subscriber of Y' receives it. Host A (CPU a): ping, X's
// outbound, Y's inbound, context A's I/O thread; host B (CPU b): the mirror image.
sample ringwire_rt(transport tr, net::mode md, double target) {
  const bool lossy = md == net::mode::lossy;
  const bc::policy pol = lossy ? bc::policy::lossy : bc::policy::lossless;
  failure f;
  histogram h;
  double secs = 0;
  std::string ex, ey;
  {
    host ha(g_cfg.cpus.a), hb(g_cfg.cpus.b);
    auto x = bc::channel<msg8>(chan_cap, chan_options(pol));
    auto x2 = bc::channel<msg8>(chan_cap, chan_options(pol));
    auto y = bc::channel<msg8>(chan_cap, chan_options(pol));
    auto y2 = bc::channel<msg8>(chan_cap, chan_options(pol));
    auto sub_x2 = x2.second.subscribe();
    auto sub_y2 = y2.second.subscribe();
    net::outbound_options oo;
    oo.mode = md;
    oo.link.address = bind_address(tr);
    net::outbound out_x(ha.ctx, net::broadcast_source<msg8>(x.second.subscribe()), oo);
    oo.link.address = bind_address(tr);
    net::outbound out_y(hb.ctx, net::broadcast_source<msg8>(y.second.subscribe()), oo);
    ex = out_x.address(), ey = out_y.address();
    net::inbound_options io;
    io.mode = md;
    io.window = chan_cap;
    io.link.address = ex;
    net::inbound in_x(hb.ctx, net::broadcast_sink<msg8>(std::move(x2.first)), io);
    io.link.address = ey;
    net::inbound in_y(ha.ctx, net::broadcast_sink<msg8>(std::move(y2.first)), io);
    auto& pub_x = x.first;
    auto& pub_y = y.first;
    {
      std::jthread b1([&](std::stop_token s) { pin_this_thread(g_cfg.cpus.a); out_x.run(s); });
      std::jthread b2([&](std::stop_token s) { pin_this_thread(g_cfg.cpus.a); in_y.run(s); });
      std::jthread b3([&](std::stop_token s) { pin_this_thread(g_cfg.cpus.b); in_x.run(s); });
      std::jthread b4([&](std::stop_token s) { pin_this_thread(g_cfg.cpus.b); out_y.run(s); });
      auto send_x = [&](const msg8& m) { return pub_x.send_for(m, run_timeout()) == status::ok; };
      auto send_y = [&](const msg8& m) { return pub_y.send_for(m, run_timeout()) == status::ok; };
      auto recv_y2 = [&](msg8& m, std::chrono::milliseconds d) { return sub_recv(sub_y2, m, d, lossy); };
      auto recv_x2 = [&](msg8& m, std::chrono::milliseconds d) { return sub_recv(sub_x2, m, d, lossy); };
      std::thread ping([&] { pin_this_thread(g_cfg.cpus.a); ping_loop(send_x, recv_y2, lossy, target, h, secs, f); });
      std::thread pong([&] { pin_this_thread(g_cfg.cpus.b); pong_loop(send_y, recv_x2, f); });
      ping.join();
      pong.join();
    }
  }
  forget(ex);
  forget(ey);
  return rt_result(f, h, secs);
}

// Plain ZeroMQ: a PUSH/PULL (or PUB/SUB) pair each way; A's sender binds, B's connects back.
rx zmq_recv(zmq::socket_t& s, msg8& out, std::chrono::milliseconds d) {
  if (d < run_timeout()) {  // probing only: the timed loop uses the blocking receive below
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, d) <= 0) return rx::none;
  }
  const auto r = s.recv(zmq::buffer(&out, sizeof out), zmq::recv_flags::none);
  if (!r) return d < run_timeout() ? rx::none : rx::fail;
  return r->untruncated_size == sizeof out ? rx::ok : rx::fail;
}

sample zmq_rt(transport tr, bool pubsub, double target) {
  failure f;
  histogram h;
  double secs = 0;
  host ha(g_cfg.cpus.a), hb(g_cfg.cpus.b);
  zmq_pair ab(ha.ctx, hb.ctx, tr, pubsub);  // A -> B
  zmq_pair ba(hb.ctx, ha.ctx, tr, pubsub);  // B -> A
  auto send_ab = [&](const msg8& m) { return ab.tx.send(zmq::buffer(&m, sizeof m), zmq::send_flags::none).has_value(); };
  auto send_ba = [&](const msg8& m) { return ba.tx.send(zmq::buffer(&m, sizeof m), zmq::send_flags::none).has_value(); };
  auto recv_a = [&](msg8& m, std::chrono::milliseconds d) { return zmq_recv(ba.rx, m, d); };
  auto recv_b = [&](msg8& m, std::chrono::milliseconds d) { return zmq_recv(ab.rx, m, d); };
  std::thread ping([&] { pin_this_thread(g_cfg.cpus.a); ping_loop(send_ab, recv_a, pubsub, target, h, secs, f); });
  std::thread pong([&] { pin_this_thread(g_cfg.cpus.b); pong_loop(send_ba, recv_b, f); });
  ping.join();
  pong.join();
  return rt_result(f, h, secs);
}

void latency_table(transport tr) {
  const std::string table = std::string("round trip 8 B ") + name_of(tr);
  std::vector<row> rows;
  rows.push_back({"ringwire bridge, lossless", role::ours, [=](double t) { return ringwire_rt(tr, net::mode::lossless, t); }, {}, {}, 0});
  rows.push_back({"ringwire bridge, lossy (PUB/SUB)", role::ours, [=](double t) { return ringwire_rt(tr, net::mode::lossy, t); }, {}, {}, 0});
  rows.push_back({zmq_pushpull, role::peer, [=](double t) { return zmq_rt(tr, false, t); }, {}, {}, 0});
  rows.push_back({"ZeroMQ PUB/SUB", role::peer, [=](double t) { return zmq_rt(tr, true, t); }, {}, {}, 0});
  rows = filtered(std::move(rows), table);
  if (rows.empty()) return;
  run_table(table, rows, 4);
  std::string peer;
  const double best50 = best_peer(rows, 0, true, &peer);
  const double best99 = best_peer(rows, 1, true);
  std::ostringstream o;
  o << "\n### Round trip — 8 B, " << name_of(tr) << " loopback, ping side CPU " << g_cfg.cpus.a << " ⇄ pong side CPU "
    << g_cfg.cpus.b << "\n\n"
    << "Round trip in µs (lower is better), " << reps_note() << " of each percentile; max = worst of any rep; "
    << g_cfg.lat_warm << " round trips of warm-up per run, then ~" << num(g_cfg.target_s) << " s timed. One message "
    << "outstanding. OVERSUBSCRIBED: ringwire has 4 threads per CPU (application, two bridges, ZeroMQ I/O), plain "
    << "ZeroMQ 2 (application, ZeroMQ I/O); every wait blocks.\n\n"
    << "| implementation | p50 | p99 | p99.9 | max | p50 vs best plain | p99 vs best plain |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (auto& r : rows) {
    auto us = [&](std::size_t k) {
      summary s = summarize(r.results[k]);
      s.median /= 1000, s.min /= 1000, s.max /= 1000;
      return s;
    };
    o << "| " << (r.who == role::ours ? "**" + r.name + "**" : r.name) << " | " << med_range(us(0)) << " | "
      << med_range(us(1)) << " | " << med_range(us(2)) << " | " << num(us(3).max) << " | "
      << (best50 > 0 ? ratio(med(&r, 0) / best50) : "—") << " | " << (best99 > 0 ? ratio(med(&r, 1) / best99) : "—") << " |\n";
  }
  o << "\n";
  for (auto& r : rows) {
    if (r.who != role::ours || best50 <= 0) continue;
    const double x = med(&r, 0) / best50;
    const std::string v = std::string("round trip ") + name_of(tr) + ": **" + r.name + "** p50 " + ratio(x) + " of " + peer +
                          " (target ≤ 1.20×): " + (x <= 1.2 ? "met" : "**MISSED**");
    o << v << "\n\n";
    g_verdicts.push_back(v);
  }
  out(o.str());
}

// ---- the header ----------------------------------------------------------------------------------------
void print_header() {
  std::ostringstream o;
  o << "\n## ringwire net (ZeroMQ bridge) benchmarks" << (g_cfg.smoke ? " (SMOKE: correctness only, numbers meaningless)" : "")
    << "\n\n";
  header_start(o);
  if (g_cfg.cpus.pinned())
    o << "- two hosts in one process, each with its own ZeroMQ context (1 I/O thread): the sending / ping side's "
         "threads and I/O thread pinned to CPU "
      << g_cfg.cpus.a << ", the receiving / pong side's to CPU " << g_cfg.cpus.b << "\n";
  else
    header_not_pinned(o);
  header_system(o, "");
  o << "\n- ZeroMQ " << ZMQ_VERSION_MAJOR << "." << ZMQ_VERSION_MINOR << "." << ZMQ_VERSION_PATCH
    << " (cppzmq); ringwire channels: capacity " << chan_cap << ", default park waits; lossless window " << chan_cap
    << " messages\n";
  o << "- method: " << g_cfg.reps << " repetitions, rows interleaved within each table; one unreported warm-up round "
       "first; every message verified (sequence + check word, in order)\n";
  out(o.str());
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: ringwire_net_bench [--quick | --smoke] [--reps N] [--filter SUBSTR] [--markdown FILE]\n"
               "                          [--cpus A,B] [--label TEXT] [--scale=X]\n"
               "  --quick      5 reps, half the messages\n"
               "  (default)    7 reps; throughput: 2e6 messages (8 B, 64 B) / 4e5 (1 KiB) per run (unbatched\n"
               "               bridge: a twentieth); round trip: 0.5 s timed per run\n"
               "  --smoke      every row once with few messages, verifying only (CTest)\n"
               "  --reps N     repetitions per row (at least 5 to report)\n"
               "  --filter S   only rows whose \"<table> <row>\" contains S (tables: throughput <size> <tcp|ipc>,\n"
               "               round trip 8 B <tcp|ipc>)\n"
               "  --markdown F also write the report to F\n"
               "  --cpus A,B   the sending / receiving side's CPU (default: the first two allowed)\n"
               "  --label T    a line for the header\n"
               "  --scale=X    multiply the throughput message counts by X\n");
  std::exit(rc);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  auto& c = g_cfg;
  c.prog = "ringwire_net_bench";
  configure(argc, argv, usage, [](const std::string& a) {
    if (a.rfind("--scale=", 0) != 0) return false;
    g_scale = std::atof(a.c_str() + 8);
    return g_scale > 0;
  });
  // Round trips over loopback take tens of µs: fewer warm-up round trips than the in-process
  // benches, a longer timed window for the tail.
  if (!c.smoke) {
    c.lat_warm = 1000;
    c.target_s = c.quick ? 0.25 : 0.5;
  } else {
    c.lat_warm = 100;
    c.target_s = 0.02;
  }
  c.tsc_per_ns = calibrate_tsc(c.smoke ? 20 : 200);
  const auto t0 = steady::now();
  print_header();
  for (transport tr : {transport::tcp, transport::ipc}) {
    throughput_table<msg<8>>(tr);
    throughput_table<msg<64>>(tr);
    throughput_table<msg<1024>>(tr);
  }
  for (transport tr : {transport::tcp, transport::ipc}) latency_table(tr);
  std::string sum = "\n### Targets (issue 21)\n\n";
  for (auto& v : g_verdicts) sum += "- " + v + "\n";
  out(sum + "\n_total net benchmark time: " + num(std::chrono::duration<double>(steady::now() - t0).count()) + " s_\n");
  return write_markdown();
}
