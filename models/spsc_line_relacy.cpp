// models/spsc_line_relacy.cpp -- the one-line SPSC channel (spsc/line/*.hpp) under Relacy.
//
// Every scenario instantiates the shipped line_sender / line_receiver with `relacy_sync`
// (relacy_sync.hpp), on a heap channel made through the storage layer, so Relacy explores
// the interleavings and weak-memory outcomes of the real protocol: the stamps toward the
// receiver, head toward the sender, the park protocol on both sides, disconnect, and the
// teardown of what is still queued. Data races on the element are checked both ways:
//
//   * a message holds its value in an rl::var, so a receive that the sender's
//     construction does not happen-before (the stamp's release/acquire) is a data race;
//   * each slot has a shadow rl::var, written by every construction and destruction in
//     that slot and read by every read of it: a sender that builds in a slot before the
//     receiver's move-out and destruction there happen-before it (head's release/acquire)
//     races on the shadow, although the two message objects differ.
//
// Scenarios (thread 0 sends, thread 1 receives):
//   try_fifo_*       try_send / try_recv, capacities 1, 2 and 3 (3: not a power of two; the
//                    walk wraps at the array's end), FIFO and values intact; one starts the
//                    indices just below 2^64 to cross the wrap (the stamps too).
//   park_*           send / recv with wait_strategy::park(0) and park(1): both sides park
//                    and must be woken; a lost wake-up is a Relacy DEADLOCK.
//   close_sender     the sender sends k and goes away while the receiver may be parked:
//                    the receiver gets exactly k, then closed.
//   close_receiver   the receiver takes one and goes away while the sender may be parked on
//                    a full ring: send returns closed; the rest is destroyed at teardown.
//   timeouts         send_for / recv_for, Relacy timing out any timed park; retried, every
//                    message still arrives once, in order.
//   consume_*        try_recv(T&) against consume(fn, 2): several slots freed by one head
//                    store; the sender's cached room then spans them.
//
// Each runs under the random scheduler, then (where the table gives a bound) the
// context-bound scheduler. About 15 s in all (Release, g++ 12, one core).
//
// Mutants (see models/CMakeLists.txt): 1, light_fence() a no-op: a lost wake-up
// (DEADLOCK in park_cap1_n3); 2, release stores done relaxed: the stamp no longer carries
// the construction (DATA RACE in try_fifo_cap1_n3).
//
// Usage: spsc_line_relacy [--only NAME] [--search random|bound|full] [--iterations N]
//                         [--bound K] [--list]

// Every std header first: relacy_sync.hpp includes Relacy, whose macros must not reach a
// std header tokenised after it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <utility>

#include "model_main.hpp"

namespace {

using ringwire::relacy_sync;
using ringwire::status;
using ringwire::wait_strategy;
namespace spsc = ringwire::spsc;

// ---- the element and its slots' shadows ----------------------------------------------

// The slot array of the channel under test (a heap block made in before()). Relacy runs
// the simulated threads as fibers of one OS thread, scenario after scenario: globals are
// safe.
struct slot_map {
  const std::byte* first = nullptr;  // slot 0
  const std::byte* last = nullptr;   // one past the last slot
  std::size_t stride = 0;
  rl::var<int>* shadow = nullptr;  // one per slot
  long live = 0;                   // message objects alive: leaks, double destruction
};
slot_map g_slots;

constexpr int destroyed = -1;

class message {
 public:
  explicit message(int v) : v_(v) { born(v); }
  message(message&& o) noexcept : v_(o.value()) { born(v_(RL_INFO).load()); }
  message& operator=(message&& o) noexcept {
    const int v = o.value();
    v_(RL_INFO) = v;
    mark(v);
    return *this;
  }
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message() {
    --g_slots.live;
    mark(destroyed);
  }

  // The value, read as a receiver reads it (and, in a slot, the slot's shadow with it).
  [[nodiscard]] int value() const {
    const int v = v_(RL_INFO);
    if (rl::var<int>* s = shadow()) RL_ASSERT((*s)(RL_INFO) == v);
    return v;
  }

 private:
  void born(int v) {
    ++g_slots.live;
    mark(v);
  }
  // In a slot: the slot's shadow (the element sits value_offset bytes into its slot, less
  // than a stride, so the quotient is the slot's number).
  rl::var<int>* shadow() const {
    const auto* p = reinterpret_cast<const std::byte*>(this);
    if (p < g_slots.first || p >= g_slots.last) return nullptr;
    return &g_slots.shadow[static_cast<std::size_t>(p - g_slots.first) / g_slots.stride];
  }
  void mark(int v) {
    if (rl::var<int>* s = shadow()) (*s)(RL_INFO) = v;
  }

  rl::var<int> v_;
};

using tx_t = spsc::line_sender<message, relacy_sync>;
using rx_t = spsc::line_receiver<message, relacy_sync>;

// ---- the fixture ---------------------------------------------------------------------

constexpr std::size_t max_slots = 4;

// Destroyed last (first member): every message must be gone by then.
struct live_check {
  ~live_check() {
    RL_ASSERT(g_slots.live == 0);
    g_slots = slot_map{};
  }
};

// Two threads on a heap line channel of capacity Cap whose indices start at Start, with
// park(Spins) on both sides. Derived provides thread(unsigned). The endpoints the threads
// did not close go in after(); whoever lets go last destroys what is queued.
template <class Derived, std::size_t Cap, std::uint32_t Spins = 0, std::uint64_t Start = 0>
struct fixture : rl::test_suite<Derived, 2> {
  static_assert(Cap <= max_slots);
  live_check check;
  rl::var<int> shadow[max_slots];
  std::optional<tx_t> tx;
  std::optional<rx_t> rx;

  void before() {
    ringwire::model::model_clock::now = {};
    spsc::line_options o;
    o.sender_wait = wait_strategy::park(Spins);
    o.receiver_wait = wait_strategy::park(Spins);
    o.start_index = Start;
    auto* block = spsc::detail::make_line_block<message, relacy_sync>(Cap, Start, /*refs=*/2);
    auto* l = block->ring();
    g_slots = slot_map{l->slot(0), l->slot(Cap), static_cast<std::size_t>(l->geometry.slot_stride), shadow, 0};
    tx.emplace(spsc::detail::line_ref<relacy_sync>(l, &block->own), o);
    rx.emplace(spsc::detail::line_ref<relacy_sync>(l, &block->own), o);
  }
  void after() {
    tx.reset();
    rx.reset();
  }
};

// Spin on a non-blocking call, telling Relacy this thread is waiting.
inline void spin() { rl::yield(1, RL_INFO); }

// ---- scenarios -----------------------------------------------------------------------

template <std::size_t Cap, int N, std::uint64_t Start>
struct try_fifo : fixture<try_fifo<Cap, N, Start>, Cap, 0, Start> {
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= N; ++i) {
        status s;
        while ((s = this->tx->try_send(message(i))) == status::full) spin();
        RL_ASSERT(s == status::ok);
      }
      return;
    }
    for (int i = 1; i <= N; ++i) {
      for (;;) {
        auto r = this->rx->try_recv();
        if (r) {
          RL_ASSERT(r->value() == i);
          break;
        }
        RL_ASSERT(r.status() == status::empty);
        spin();
      }
    }
    RL_ASSERT(this->rx->try_recv().status() == status::empty);
  }
};

template <std::size_t Cap, int N, std::uint32_t Spins>
struct park_pingpong : fixture<park_pingpong<Cap, N, Spins>, Cap, Spins> {
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= N; ++i) RL_ASSERT(this->tx->send(message(i)) == status::ok);
      return;
    }
    for (int i = 1; i <= N; ++i) {
      auto r = this->rx->recv();
      RL_ASSERT(r.has_value());
      if (r) RL_ASSERT(r->value() == i);
    }
  }
};

template <std::size_t Cap, int K>
struct close_sender : fixture<close_sender<Cap, K>, Cap> {
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= K; ++i) RL_ASSERT(this->tx->send(message(i)) == status::ok);
      this->tx.reset();  // ~line_sender: close + wake
      return;
    }
    int got = 0;
    for (;;) {
      auto r = this->rx->recv();
      if (!r) {
        RL_ASSERT(r.status() == status::closed);
        break;
      }
      RL_ASSERT(r->value() == ++got);
    }
    RL_ASSERT(got == K);
    RL_ASSERT(this->rx->try_recv().status() == status::closed);
    RL_ASSERT(this->rx->is_closed());
  }
};

// With capacity Cap at most Cap + 1 sends succeed (the receiver takes one).
template <std::size_t Cap>
struct close_receiver : fixture<close_receiver<Cap>, Cap> {
  void thread(unsigned index) {
    if (index == 0) {
      int ok = 0;
      status s = status::ok;
      for (int i = 1; i <= static_cast<int>(Cap) + 2 && s == status::ok; ++i) {
        s = this->tx->send(message(i));
        if (s == status::ok) ++ok;
      }
      RL_ASSERT(s == status::closed);
      RL_ASSERT(ok >= 1 && ok <= static_cast<int>(Cap) + 1);
      RL_ASSERT(this->tx->try_send(message(99)) == status::closed);
      RL_ASSERT(this->tx->is_closed());
      return;
    }
    auto r = this->rx->recv();
    RL_ASSERT(r.has_value());
    if (r) RL_ASSERT(r->value() == 1);
    this->rx.reset();  // ~line_receiver: close + wake; the rest is destroyed at teardown
  }
};

template <std::size_t Cap, int N>
struct timeouts : fixture<timeouts<Cap, N>, Cap> {
  void thread(unsigned index) {
    constexpr auto patience = std::chrono::hours(1);
    if (index == 0) {
      for (int i = 1; i <= N; ++i) {
        message m(i);
        status s;
        while ((s = this->tx->send_for(std::move(m), patience)) == status::timed_out) {
        }
        RL_ASSERT(s == status::ok);
      }
      return;
    }
    for (int i = 1; i <= N; ++i) {
      for (;;) {
        auto r = this->rx->recv_for(patience);
        if (r) {
          RL_ASSERT(r->value() == i);
          break;
        }
        RL_ASSERT(r.status() == status::timed_out);
      }
    }
  }
};

// try_recv(T&) and consume(fn, 2) in turn against try_send.
template <std::size_t Cap, int N>
struct consume_batches : fixture<consume_batches<Cap, N>, Cap> {
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= N; ++i)
        while (this->tx->try_send(message(i)) != status::ok) spin();
      return;
    }
    int seen = 0;
    bool batch = true;
    message out(0);
    while (seen < N) {
      std::size_t n = 0;
      if (batch) {
        n = this->rx->consume([&seen](message& m) { RL_ASSERT(m.value() == ++seen); }, 2);
      } else if (this->rx->try_recv(out) == status::ok) {
        RL_ASSERT(out.value() == ++seen);
        n = 1;
      }
      batch = !batch;
      if (n == 0) spin();
    }
  }
};

// ---- driver (models/model_main.hpp) ----------------------------------------------------
using ringwire::model::run_one;
using scenario = ringwire::model::scenario;

constexpr rl::iteration_t k = 1'000;
constexpr scenario all_scenarios[] = {
#if RINGWIRE_MODEL_MUTANT == 0
    {"try_fifo_cap1_n3", &run_one<try_fifo<1, 3, 0>>, 200 * k, 3},
    {"try_fifo_cap2_n4_wrap", &run_one<try_fifo<2, 4, ~std::uint64_t{0} - 1>>, 200 * k, 3},
    {"try_fifo_cap3_n5", &run_one<try_fifo<3, 5, 0>>, 200 * k, 3},
    {"park_cap1_n3", &run_one<park_pingpong<1, 3, 0>>, 200 * k, 2},
    {"park_cap2_n4_spin1", &run_one<park_pingpong<2, 4, 1>>, 300 * k, 2},
    {"close_sender_cap1_k2", &run_one<close_sender<1, 2>>, 300 * k, 2},
    {"close_sender_cap2_k0", &run_one<close_sender<2, 0>>, 100 * k, 4},
    {"close_receiver_cap1", &run_one<close_receiver<1>>, 200 * k, 3},
    {"close_receiver_cap2", &run_one<close_receiver<2>>, 200 * k, 2},
    {"timeouts_cap1_n3", &run_one<timeouts<1, 3>>, 200 * k, 0},
    {"consume_cap2_n5", &run_one<consume_batches<2, 5>>, 200 * k, 3},
    {"consume_cap3_n6", &run_one<consume_batches<3, 6>>, 200 * k, 2},
#elif RINGWIRE_MODEL_MUTANT == 1
    {"park_cap1_n3", &run_one<park_pingpong<1, 3, 0>>, 300 * k, 0},
#elif RINGWIRE_MODEL_MUTANT == 2
    {"try_fifo_cap1_n3", &run_one<try_fifo<1, 3, 0>>, 200 * k, 0},
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

}  // namespace

int main(int argc, char** argv) {
  return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures);
}
