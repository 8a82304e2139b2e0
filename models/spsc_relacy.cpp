// models/spsc_relacy.cpp -- the SPSC channel under the Relacy model checker.
//
// Every scenario instantiates the real ringwire::spsc headers with `relacy_sync`
// (relacy_sync.hpp): Relacy owns the atomics, the fences and the futex, and explores
// interleavings and weak-memory outcomes of the shipped protocol code. The payload is
// checked for data races in both directions of the ownership hand-off:
//
//   * each payload holds its value in an rl::var, so reading a slot that the sender's
//     construction does not happen-before is a data race (tail's release/acquire);
//   * each slot of the ring under test has a shadow rl::var: constructing into a slot
//     writes it, reading from a slot reads it, destroying a slot writes it. A sender that
//     reuses a slot before the receiver's move-out and destruction happen-before it races
//     on the shadow (head's release/acquire), although the two payload objects differ.
//
// Scenarios (two threads each: thread 0 sends, thread 1 receives):
//   try_fifo_*       try_send / try_recv, capacities 1, 2 and 3, FIFO and values intact;
//                    one starts the indices just below 2^64 to cross the wrap.
//   park_*           send / recv with wait_strategy::park(0) (park at once) and park(1): both
//                    sides park and must be woken; a lost wake-up is a Relacy DEADLOCK.
//   close_sender     the sender sends k messages and is destroyed while the receiver may be
//                    parked in recv(): the receiver gets exactly k, then status::closed.
//   close_receiver   the receiver takes one message and is destroyed while the sender may be
//                    parked in send() on a full channel: send returns status::closed.
//   timeouts         send_for / recv_for; Relacy may time out any timed park: timed-out
//                    calls are retried, and every message must still arrive once, in order.
//   batch            try_send_batch and reserve + commit against consume and
//                    read_span + release (partial releases included).
//   heap_drop        a heap channel (reference-counted block): the receiver drops its
//                    endpoint early; whoever lets go last destroys what is still queued.
//
// By default each scenario runs under the random scheduler (200k-500k iterations), then,
// where the table gives a bound, under Relacy's context-bound scheduler, which explores
// every execution with at most that many preemptions (bounds 2-5: 7k to 1.2M executions
// each). The whole run takes about 25 s (Release, g++ 12, one core).
//
// Usage: spsc_relacy [--only NAME] [--search random|bound|full] [--iterations N] [--bound K]
//                    [--list]
// Every scenario prints the futex activity it produced (sleeps, wake-ups, spurious
// wake-ups, timeouts; and how often a close had to wake a parked peer): a coverage report
// showing that the parking paths are really exercised.
//
// A mutant build (-DRINGWIRE_MODEL_MUTANT=1 or 2, see relacy_sync.hpp) runs the scenario
// that must catch that mutant and succeeds only if Relacy reports the expected failure
// (DEADLOCK for 1, DATA RACE for 2): CI shows that the model detects the bug it guards.

// Every std header first: relacy_sync.hpp includes Relacy, whose macros (assert, errno,
// pthread and Win32 names) must not reach a std header tokenised after it.
#include <array>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "model_main.hpp"

namespace {

using ringwire::relacy_sync;
using ringwire::status;
using ringwire::wait_strategy;
namespace spsc = ringwire::spsc;

// ---- the payload ---------------------------------------------------------------------

// What the payload knows about the ring under test. Relacy runs all simulated threads as
// fibers of one OS thread, and scenarios one after another, so plain globals are safe.
struct ring_watch {
  const std::byte* lo = nullptr;  // the inline channel's bytes: any payload there is a slot
  const std::byte* hi = nullptr;
  rl::var<int>* shadow = nullptr;  // one cell per slot
  std::size_t cells = 0;
  long live = 0;  // payload objects alive, to catch leaks and double destruction
};
ring_watch g_watch;

constexpr int destroyed_mark = -1;

// Coverage: iterations in which the call that returned status::closed had gone to sleep
// first, i.e. the close itself had to wake a parked peer.
unsigned long long g_closed_after_sleep = 0;

// Runs f(); counts it in g_closed_after_sleep when it slept and returned closed.
template <class F>
auto note_closed_after_sleep(F&& f) {
  const auto sleeps = ringwire::model::stats.sleeps;
  auto result = f();
  status s;
  if constexpr (std::is_same_v<decltype(result), status>) {
    s = result;
  } else {
    s = result.status();
  }
  if (s == status::closed && ringwire::model::stats.sleeps != sleeps) ++g_closed_after_sleep;
  return result;
}

class payload {
 public:
  explicit payload(int v) : v_(v) {
    ++g_watch.live;
    wrote(v);
  }
  payload(payload&& o) noexcept : v_(o.get()) {
    ++g_watch.live;
    wrote(v_(RL_INFO).load());
  }
  payload& operator=(payload&& o) noexcept {
    const int v = o.get();
    v_(RL_INFO) = v;
    wrote(v);
    return *this;
  }
  payload(const payload&) = delete;
  payload& operator=(const payload&) = delete;
  ~payload() {
    --g_watch.live;
    if (rl::var<int>* s = shadow()) (*s)(RL_INFO) = destroyed_mark;
  }

  // The value, read as the channel's consumer reads it.
  [[nodiscard]] int get() const {
    const int v = v_(RL_INFO);
    if (rl::var<int>* s = shadow()) {
      const int seen = (*s)(RL_INFO);
      RL_ASSERT(seen == v);
    }
    return v;
  }

 private:
  rl::var<int>* shadow() const {
    const auto* p = reinterpret_cast<const std::byte*>(this);
    if (p < g_watch.lo || p >= g_watch.hi) return nullptr;
    // Slots are consecutive, sizeof(payload) apart, so their quotients are consecutive.
    const auto q = static_cast<std::size_t>(p - g_watch.lo) / sizeof(payload);
    return &g_watch.shadow[q % g_watch.cells];
  }
  void wrote(int v) {
    if (rl::var<int>* s = shadow()) (*s)(RL_INFO) = v;
  }

  rl::var<int> v_;
};

// ---- fixtures ------------------------------------------------------------------------

using tx_t = spsc::sender<payload, relacy_sync>;
using rx_t = spsc::receiver<payload, relacy_sync>;

// Destroyed last (first member): every payload must be gone by then.
struct live_check {
  ~live_check() {
    RL_ASSERT(g_watch.live == 0);
    g_watch = ring_watch{};
  }
};

// Two threads on an inline channel of capacity Cap. Derived provides static options opts()
// and thread(unsigned).
template <class Derived, std::size_t Cap>
struct inline_fixture : rl::test_suite<Derived, 2> {
  using chan_t = spsc::inline_channel<payload, Cap, relacy_sync>;
  static constexpr std::size_t shadow_cells = 8;
  static_assert(std::bit_ceil(Cap) <= shadow_cells);

  live_check check;
  rl::var<int> shadow[shadow_cells];
  // Heap-allocated: Relacy mallocs the test object, which does not honour the channel's
  // 128-byte alignment.
  std::unique_ptr<chan_t> chan = std::make_unique<chan_t>();
  std::optional<tx_t> tx;
  std::optional<rx_t> rx;

  void before() {
    g_watch.lo = reinterpret_cast<const std::byte*>(chan.get());
    g_watch.hi = g_watch.lo + sizeof(chan_t);
    g_watch.shadow = shadow;
    g_watch.cells = shadow_cells;
    g_watch.live = 0;
    ringwire::model::model_clock::now = {};
    auto [t, r] = chan->split(Derived::opts());
    tx.emplace(std::move(t));
    rx.emplace(std::move(r));
  }
  void after() {
    // Each scenario's threads close what they close; the rest goes here, before the
    // channel (the inline channel must outlive its endpoints).
    tx.reset();
    rx.reset();
  }
};

spsc::options park_opts(std::uint32_t spins, std::uint64_t start = 0) {
  spsc::options o;
  o.sender_wait = wait_strategy::park(spins);
  o.receiver_wait = wait_strategy::park(spins);
  o.start_index = start;
  return o;
}

// Spin on a non-blocking call, telling Relacy this thread is waiting.
inline void spin() { rl::yield(1, RL_INFO); }

// ---- 1. try_send / try_recv ----------------------------------------------------------

template <std::size_t Cap, int N, std::uint64_t Start>
struct try_fifo : inline_fixture<try_fifo<Cap, N, Start>, Cap> {
  static spsc::options opts() { return park_opts(0, Start); }
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= N; ++i) {
        for (;;) {
          const status s = this->tx->try_send(payload(i));
          if (s == status::ok) break;
          RL_ASSERT(s == status::full);
          spin();
        }
      }
    } else {
      for (int i = 1; i <= N; ++i) {
        for (;;) {
          auto r = this->rx->try_recv();
          if (r) {
            RL_ASSERT(r->get() == i);
            break;
          }
          RL_ASSERT(r.status() == status::empty);
          spin();
        }
      }
      RL_ASSERT(this->rx->try_recv().status() == status::empty);
    }
  }
};

// ---- 2. send / recv, parking ---------------------------------------------------------

template <std::size_t Cap, int N, std::uint32_t Spins>
struct park_pingpong : inline_fixture<park_pingpong<Cap, N, Spins>, Cap> {
  static spsc::options opts() { return park_opts(Spins); }
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= N; ++i) RL_ASSERT(this->tx->send(payload(i)) == status::ok);
    } else {
      for (int i = 1; i <= N; ++i) {
        auto r = this->rx->recv();
        RL_ASSERT(r.has_value());
        if (r) RL_ASSERT(r->get() == i);
      }
    }
  }
};

// ---- 3. close ------------------------------------------------------------------------

// The sender sends K and goes away; the receiver, parked or not, drains K then sees closed.
template <std::size_t Cap, int K>
struct close_sender : inline_fixture<close_sender<Cap, K>, Cap> {
  static spsc::options opts() { return park_opts(0); }
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= K; ++i) RL_ASSERT(this->tx->send(payload(i)) == status::ok);
      this->tx.reset();  // ~sender: close + wake
    } else {
      int got = 0;
      for (;;) {
        auto r = note_closed_after_sleep([this] { return this->rx->recv(); });
        if (!r) {
          RL_ASSERT(r.status() == status::closed);
          break;
        }
        RL_ASSERT(r->get() == ++got);
      }
      RL_ASSERT(got == K);
      RL_ASSERT(this->rx->recv().status() == status::closed);
      RL_ASSERT(this->rx->is_closed());
    }
  }
};

// The receiver takes one message and goes away; the sender, parked on a full channel or
// not, gets closed. With capacity Cap at most Cap + 1 sends can succeed.
template <std::size_t Cap>
struct close_receiver : inline_fixture<close_receiver<Cap>, Cap> {
  static spsc::options opts() { return park_opts(0); }
  void thread(unsigned index) {
    if (index == 0) {
      constexpr int attempts = static_cast<int>(Cap) + 2;
      int ok = 0;
      status s = status::ok;
      for (int i = 1; i <= attempts; ++i) {
        s = note_closed_after_sleep([this, i] { return this->tx->send(payload(i)); });
        if (s != status::ok) break;
        ++ok;
      }
      RL_ASSERT(s == status::closed);
      RL_ASSERT(ok >= 1 && ok <= static_cast<int>(Cap) + 1);
      RL_ASSERT(this->tx->try_send(payload(99)) == status::closed);
      RL_ASSERT(this->tx->is_closed());
    } else {
      auto r = this->rx->recv();
      RL_ASSERT(r.has_value());
      if (r) RL_ASSERT(r->get() == 1);
      this->rx.reset();  // ~receiver: close + wake; the queued rest is destroyed with the channel
    }
  }
};

// ---- timeouts -----------------------------------------------------------------------

// send_for / recv_for: Relacy may time out any timed park (the model clock then jumps to
// its deadline). A timed-out operation returns timed_out and leaves the channel as it was;
// retrying must still deliver every message once, in order, and no wake-up may be lost
// to a waiter that gave up.
template <std::size_t Cap, int N>
struct timeouts : inline_fixture<timeouts<Cap, N>, Cap> {
  static spsc::options opts() { return park_opts(0); }
  void thread(unsigned index) {
    constexpr auto patience = std::chrono::hours(1);
    if (index == 0) {
      for (int i = 1; i <= N; ++i) {
        payload p(i);
        status s;
        while ((s = this->tx->send_for(std::move(p), patience)) == status::timed_out) {
        }
        RL_ASSERT(s == status::ok);
      }
    } else {
      for (int i = 1; i <= N; ++i) {
        for (;;) {
          auto r = this->rx->recv_for(patience);
          if (r) {
            RL_ASSERT(r->get() == i);
            break;
          }
          RL_ASSERT(r.status() == status::timed_out);
        }
      }
    }
  }
};

// ---- 4. batches and zero-copy --------------------------------------------------------

// payload(1) ... payload(N), built in place (no allocation inside the simulation).
template <int... I>
std::array<payload, sizeof...(I)> numbered(std::integer_sequence<int, I...>) {
  return {payload(I + 1)...};
}

template <std::size_t Cap, int N>
struct batch : inline_fixture<batch<Cap, N>, Cap> {
  static spsc::options opts() { return park_opts(0); }
  void thread(unsigned index) {
    if (index == 0) {
      auto src = numbered(std::make_integer_sequence<int, N>{});
      int next = 0;
      bool use_batch = true;
      while (next < N) {
        std::size_t n = 0;
        if (use_batch) {
          const std::size_t want = N - next < 2 ? static_cast<std::size_t>(N - next) : 2;
          n = this->tx->try_send_batch(std::span<payload>(src.data() + next, want));
        } else {
          auto res = this->tx->reserve(static_cast<std::size_t>(N - next));
          RL_ASSERT(res.status() == status::ok || res.status() == status::full);
          for (std::size_t i = 0; i < res.size(); ++i) res.emplace_back(next + 1 + static_cast<int>(i));
          res.commit();
          n = res.size();
        }
        use_batch = !use_batch;
        next += static_cast<int>(n);
        if (n == 0) spin();
      }
    } else {
      int seen = 0;
      bool use_consume = true;
      while (seen < N) {
        std::size_t n = 0;
        if (use_consume) {
          n = this->rx->consume([&seen](payload& p) { RL_ASSERT(p.get() == ++seen); }, 2);
        } else {
          const auto sp = this->rx->read_span();
          for (std::size_t i = 0; i < sp.size(); ++i) RL_ASSERT(sp[i].get() == seen + 1 + static_cast<int>(i));
          n = sp.size() > 1 ? sp.size() - 1 : sp.size();  // release part of a longer span
          this->rx->release(n);
          seen += static_cast<int>(n);
        }
        use_consume = !use_consume;
        if (n == 0) spin();
      }
      RL_ASSERT(seen == N);
    }
  }
};

// ---- heap channel: the reference-counted block ---------------------------------------

struct heap_drop : rl::test_suite<heap_drop, 2> {
  live_check check;
  std::optional<tx_t> tx;
  std::optional<rx_t> rx;

  void before() {
    g_watch = ring_watch{};
    ringwire::model::model_clock::now = {};
    auto [t, r] = spsc::channel<payload, relacy_sync>(2, park_opts(0));
    tx.emplace(std::move(t));
    rx.emplace(std::move(r));
  }
  void thread(unsigned index) {
    if (index == 0) {
      bool closed = false;
      for (int i = 1; i <= 3; ++i) {
        const status s = this->tx->try_send(payload(i));
        if (i == 1) RL_ASSERT(s == status::ok);  // the receiver stays until it has message 1
        if (closed) RL_ASSERT(s == status::closed);  // closed is final
        RL_ASSERT(s == status::ok || s == status::full || s == status::closed);
        closed = s == status::closed;
      }
      tx.reset();
    } else {
      for (;;) {
        auto r = this->rx->try_recv();
        if (r) {
          RL_ASSERT(r->get() == 1);
          break;
        }
        spin();
      }
      rx.reset();  // early: the sender may still be sending
    }
  }
};

// ---- driver --------------------------------------------------------------------------

// ---- driver (models/model_main.hpp) ---------------------------------------------------
// Each scenario runs twice by default: the random scheduler for `iterations` iterations,
// then, where `bound` is non-zero, Relacy's context-bound scheduler, which explores
// exhaustively every execution with at most `bound` preemptions (and every choice of value
// a load may read and of spurious wake-up along them). The bounds are what finishes in a
// few seconds on a 2-core machine.
using ringwire::model::run_one;
using scenario = ringwire::model::scenario;

constexpr rl::iteration_t k = 1'000;
constexpr scenario all_scenarios[] = {
#if RINGWIRE_MODEL_MUTANT == 0
    {"try_fifo_cap1_n3", &run_one<try_fifo<1, 3, 0>>, 200 * k, 4},
    {"try_fifo_cap2_n4_wrap", &run_one<try_fifo<2, 4, ~std::uint64_t{0} - 1>>, 200 * k, 3},
    {"try_fifo_cap3_n4", &run_one<try_fifo<3, 4, 0>>, 200 * k, 4},
    {"park_cap1_n3", &run_one<park_pingpong<1, 3, 0>>, 500 * k, 2},
    {"park_cap2_n4_spin1", &run_one<park_pingpong<2, 4, 1>>, 300 * k, 2},
    {"close_sender_cap1_k2", &run_one<close_sender<1, 2>>, 500 * k, 2},
    {"close_sender_cap2_k0", &run_one<close_sender<2, 0>>, 200 * k, 5},
    {"close_receiver_cap1", &run_one<close_receiver<1>>, 300 * k, 3},
    {"close_receiver_cap2", &run_one<close_receiver<2>>, 300 * k, 3},
    {"timeouts_cap1_n3", &run_one<timeouts<1, 3>>, 500 * k, 0},  // bound 1 alone: 4.6M runs
    {"batch_cap2_n5", &run_one<batch<2, 5>>, 200 * k, 3},
    {"batch_cap3_n6", &run_one<batch<3, 6>>, 200 * k, 3},
    {"heap_drop_cap2", &run_one<heap_drop>, 200 * k, 4},
#elif RINGWIRE_MODEL_MUTANT == 1
    {"park_cap1_n3", &run_one<park_pingpong<1, 3, 0>>, 500 * k, 0},
    {"close_sender_cap1_k2", &run_one<close_sender<1, 2>>, 500 * k, 0},
#elif RINGWIRE_MODEL_MUTANT == 2
    {"try_fifo_cap1_n3", &run_one<try_fifo<1, 3, 0>>, 200 * k, 0},
    {"batch_cap2_n5", &run_one<batch<2, 5>>, 200 * k, 0},
#endif
};

#if RINGWIRE_MODEL_MUTANT == 0
constexpr std::span<const ringwire::model::expectation> mutant_failures{};
#elif RINGWIRE_MODEL_MUTANT == 1
constexpr ringwire::model::expectation mutant_failures[] = {{"park_cap1_n3", rl::test_result_deadlock}};
#elif RINGWIRE_MODEL_MUTANT == 2
constexpr ringwire::model::expectation mutant_failures[] = {{"try_fifo_cap1_n3", rl::test_result_data_race}};
#else
#error "unknown RINGWIRE_MODEL_MUTANT"
#endif

constexpr ringwire::model::hooks closed_after_sleep_report{
    [] { g_closed_after_sleep = 0; },
    [] { std::printf("    closed after a sleep: %llu\n", g_closed_after_sleep); }};

}  // namespace

int main(int argc, char** argv) {
  return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures, closed_after_sleep_report);
}
