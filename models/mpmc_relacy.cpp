// models/mpmc_relacy.cpp -- the MPMC turn protocol under the Relacy model checker.
//
// Every scenario runs the real ringwire::mpmc headers (mpmc/core.hpp, wait_room.hpp,
// endpoints.hpp, storage.hpp) with `relacy_sync`: Relacy owns the atomics (tickets, turn
// stamps, rooms, handle counts), the fences and the futex. Four threads: 0 and 1 produce,
// 2 and 3 consume. Checked in every iteration:
//
//   * no loss, no duplicate: every value pushed is popped exactly once (after());
//   * order: each consumer sees each producer's values in increasing order (a consequence
//     of the single global FIFO order);
//   * payload races: each payload keeps its value in an rl::var, so a pop reading a cell
//     whose construction does not happen-before it is a DATA RACE (the push stamp's
//     release/acquire); each cell also has a shadow rl::var that constructions and
//     destructions write and reads read, so a push reusing a cell before the previous pop's
//     move-out and destruction happen-before it races on the shadow (the pop stamp's
//     release/acquire), although the two payload objects differ;
//   * leaks and double destruction: live payload objects are counted;
//   * parking: wait_strategy::park(0) parks at once; a lost wake-up leaves a thread asleep
//     forever, which Relacy reports as a DEADLOCK.
//
// Scenarios:
//   try_2x2_cap{1,2}    try_push / try_pop in spin loops, two values per producer
//   park_2x2_cap{1,2}   push / pop parking at once (spin 0) or after one spin
//   hole_2x2_cap1       one push's constructor throws inside the queue (a hole); blocking
//                       pops must skip it and still get every value exactly once
//   timeouts_2x2_cap1   push_for / pop_for: Relacy may time out any park; retries must
//                       still deliver everything exactly once
//   close_channel_cap1  mpmc::channel: two sender copies send one value each and drop;
//                       two receivers (copies) recv until closed: exactly two values in
//                       all, then closed for both, parked or not
//   *_array             try, park and hole again on the stamp_array layout (remapped stamp
//                       array, packed payloads); the others run stamp_in_cell
//
// Mutants (models/CMakeLists.txt; see relacy_sync.hpp): RINGWIRE_MODEL_MUTANT=2 makes every
// release store relaxed (the turn stamps' publishes among them): Relacy must report a DATA
// RACE. RINGWIRE_MODEL_MUTANT=1 drops light_fence, breaking the rooms' Dekker pair: Relacy
// must report a DEADLOCK. A mutant executable exits 0 only when its failure is caught.
//
// Usage: mpmc_relacy [--only NAME] [--iterations N] [--list]

// Every std header first (see relacy_sync.hpp on include order).
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "ringwire/mpmc.hpp"

#include "model_main.hpp"

namespace {

using ringwire::relacy_sync;
using ringwire::status;
using ringwire::wait_strategy;
namespace mpmc = ringwire::mpmc;

constexpr int producers = 2;
constexpr int max_values = 8;  // per producer

// ---- the payload ---------------------------------------------------------------------

struct ring_watch {
  const std::byte* lo = nullptr;  // the cell array: a payload there lives in a cell
  const std::byte* hi = nullptr;
  std::size_t stride = 1;
  rl::var<int>* shadow = nullptr;  // one per cell
  long live = 0;
};
ring_watch g_watch;
constexpr int destroyed_mark = -1;

class payload {
 public:
  explicit payload(int v) : v_(v) {
    ++g_watch.live;
    wrote(v);
  }
  // Throws before anything is constructed: the push leaves a hole.
  struct refuse {};
  explicit payload(refuse) { throw refuse{}; }
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
    return &g_watch.shadow[static_cast<std::size_t>(p - g_watch.lo) / g_watch.stride];
  }
  void wrote(int v) {
    if (rl::var<int>* s = shadow()) (*s)(RL_INFO) = v;
  }

  rl::var<int> v_;
};

constexpr int value_of(int producer, int i) { return producer * max_values + i; }

// What the consumers saw, checked in after(). Plain: Relacy runs the simulated threads as
// fibers of one OS thread.
struct ledger {
  int times_seen[producers * max_values] = {};
  int last_from[2][producers] = {{-1, -1}, {-1, -1}};  // per consumer, per producer
  int total = 0;

  void saw(unsigned consumer, int v) {
    RL_ASSERT(v >= 0 && v < producers * max_values);
    ++times_seen[v];
    ++total;
    const int p = v / max_values;
    RL_ASSERT(v > last_from[consumer][p]);  // each producer's values in order
    last_from[consumer][p] = v;
  }
};

// ---- fixtures ------------------------------------------------------------------------

using core_t = mpmc::detail::core<payload, relacy_sync>;
// The payload's size is no multiple of 64, so automatic would pick stamp_in_cell: every
// fixture names its layout, and the *_array scenarios run the stamp array.
constexpr auto in_cell = mpmc::cell_layout::stamp_in_cell;
constexpr auto in_array = mpmc::cell_layout::stamp_array;
using block_t = mpmc::detail::heap_block<payload, relacy_sync>;
using ringwire::detail::wait_limits;

// A heap block and the protocol on it, four threads. Derived provides thread(unsigned).
template <class Derived, std::size_t Cap, int N, mpmc::cell_layout Cells>
struct core_fixture : rl::test_suite<Derived, 4> {
  static constexpr int per_producer = N;
  static_assert(N <= max_values);
  rl::var<int> shadow[Cap];
  block_t* block = nullptr;
  std::optional<core_t> q;
  ledger book;

  void before() {
    ringwire::model::model_clock::now = {};
    block = mpmc::detail::make_heap_block<payload, relacy_sync>(Cap, /*refs=*/1, Cells);
    auto* l = block->ring();
    RL_ASSERT(l->geometry.cells == static_cast<std::uint32_t>(Cells));
    g_watch = ring_watch{};
    g_watch.lo = l->payload(0);
    g_watch.hi = l->payload(Cap);
    g_watch.stride = l->geometry.payload_stride;
    g_watch.shadow = shadow;
    q.emplace(l, /*metrics=*/true);  // the counting code runs in every scenario
    book = ledger{};
  }
  void after() {
    RL_ASSERT(book.total == producers * N);
    for (int p = 0; p < producers; ++p)
      for (int i = 0; i < N; ++i) RL_ASSERT(book.times_seen[value_of(p, i)] == 1);
    q.reset();
    block->own.release();  // destroys what is left: nothing, here
    RL_ASSERT(g_watch.live == 0);
    g_watch = ring_watch{};
  }
};

// Spin on a non-blocking call, telling Relacy this thread is waiting.
inline void spin() { rl::yield(1, RL_INFO); }

// ---- try_push / try_pop ----------------------------------------------------------------

template <std::size_t Cap, int N, mpmc::cell_layout Cells = in_cell>
struct try_2x2 : core_fixture<try_2x2<Cap, N, Cells>, Cap, N, Cells> {
  void thread(unsigned index) {
    if (index < producers) {
      for (int i = 0; i < N; ++i) {
        for (;;) {
          const status s = this->q->try_push(payload(value_of(static_cast<int>(index), i)));
          if (s == status::ok) break;
          RL_ASSERT(s == status::full);
          spin();
        }
      }
    } else {
      for (int i = 0; i < N; ++i) {
        for (;;) {
          auto r = this->q->try_pop();
          if (r) {
            this->book.saw(index - producers, r->get());
            break;
          }
          RL_ASSERT(r.status() == status::empty);
          spin();
        }
      }
    }
  }
};

// ---- push / pop, parking -----------------------------------------------------------------

template <std::size_t Cap, int N, std::uint32_t Spins, mpmc::cell_layout Cells = in_cell>
struct park_2x2 : core_fixture<park_2x2<Cap, N, Spins, Cells>, Cap, N, Cells> {
  void thread(unsigned index) {
    const wait_strategy ws = wait_strategy::park(Spins);
    std::uint64_t parks = 0;
    if (index < producers) {
      for (int i = 0; i < N; ++i)
        RL_ASSERT(this->q->push_until(ws, wait_limits{}, parks, payload(value_of(static_cast<int>(index), i))) ==
                  status::ok);
    } else {
      for (int i = 0; i < N; ++i) {
        auto r = this->q->pop_until(ws, wait_limits{}, parks);
        RL_ASSERT(r.has_value());
        if (r) this->book.saw(index - producers, r->get());
      }
    }
    parks_of[index] = parks;
  }
  // The counters (options::metrics) hold exactly the parks the threads took, per side.
  void after() {
    this->core_fixture<park_2x2<Cap, N, Spins, Cells>, Cap, N, Cells>::after();
    const auto s = mpmc::detail::stats_reader<relacy_sync>::read(*this->block->ring());
    RL_ASSERT(s.producer_parks == parks_of[0] + parks_of[1]);
    RL_ASSERT(s.consumer_parks == parks_of[2] + parks_of[3]);
  }
  std::uint64_t parks_of[4] = {};
};

// ---- a throwing constructor: the hole ------------------------------------------------------

// Producer 0's first push throws inside the queue (its ticket becomes a hole); the
// consumers, parking at once, must skip it and still get every real value exactly once.
template <std::size_t Cap, mpmc::cell_layout Cells = in_cell>
struct hole_2x2 : core_fixture<hole_2x2<Cap, Cells>, Cap, 1, Cells> {
  void thread(unsigned index) {
    const wait_strategy ws = wait_strategy::park(0);
    std::uint64_t parks = 0;
    if (index < producers) {
      if (index == 0) {
        bool threw = false;
        try {
          (void)this->q->push_until(ws, wait_limits{}, parks, payload::refuse{});
        } catch (const payload::refuse&) {
          threw = true;
        }
        RL_ASSERT(threw);
      }
      RL_ASSERT(this->q->push_until(ws, wait_limits{}, parks, payload(value_of(static_cast<int>(index), 0))) ==
                status::ok);
    } else {
      auto r = this->q->pop_until(ws, wait_limits{}, parks);
      RL_ASSERT(r.has_value());
      if (r) this->book.saw(index - producers, r->get());
    }
  }
};

// ---- timeouts ------------------------------------------------------------------------------

// An hour from the model clock's now (which a timed-out park moves to its deadline).
wait_limits patience() { return {ringwire::model::model_clock::now + std::chrono::hours(1), nullptr}; }

template <std::size_t Cap, int N>
struct timeouts_2x2 : core_fixture<timeouts_2x2<Cap, N>, Cap, N, in_cell> {
  void thread(unsigned index) {
    const wait_strategy ws = wait_strategy::park(0);
    std::uint64_t parks = 0;
    if (index < producers) {
      for (int i = 0; i < N; ++i) {
        payload p(value_of(static_cast<int>(index), i));
        status s;
        while ((s = this->q->push_until(ws, patience(), parks, std::move(p))) == status::timed_out) {
        }
        RL_ASSERT(s == status::ok);
      }
    } else {
      for (int i = 0; i < N; ++i) {
        for (;;) {
          auto r = this->q->pop_until(ws, patience(), parks);
          if (r) {
            this->book.saw(index - producers, r->get());
            break;
          }
          RL_ASSERT(r.status() == status::timed_out);
        }
      }
    }
  }
};

// ---- the channel: copies, disconnect --------------------------------------------------------

struct close_channel : rl::test_suite<close_channel, 4> {
  using tx_t = mpmc::sender<payload, relacy_sync>;
  using rx_t = mpmc::receiver<payload, relacy_sync>;
  std::optional<tx_t> tx[2];
  std::optional<rx_t> rx[2];
  ledger book;
  int closed_seen = 0;

  void before() {
    ringwire::model::model_clock::now = {};
    g_watch = ring_watch{};
    book = ledger{};
    closed_seen = 0;
    auto [t, r] = mpmc::channel<payload, relacy_sync>(1, mpmc::options{wait_strategy::park(0), wait_strategy::park(0)});
    tx[1].emplace(t);  // copies: the channel counts two senders and two receivers
    rx[1].emplace(r);
    tx[0].emplace(std::move(t));
    rx[0].emplace(std::move(r));
  }
  void thread(unsigned index) {
    if (index < producers) {
      RL_ASSERT(tx[index]->send(payload(value_of(static_cast<int>(index), 0))) == status::ok);
      tx[index].reset();  // the second to go seals the channel
    } else {
      rx_t& me = *rx[index - producers];
      for (;;) {
        auto r = me.recv();
        if (!r) {
          RL_ASSERT(r.status() == status::closed);
          break;
        }
        book.saw(index - producers, r->get());
      }
      RL_ASSERT(me.recv().status() == status::closed);
      RL_ASSERT(me.is_closed());
      ++closed_seen;
    }
  }
  void after() {
    RL_ASSERT(book.total == 2 && closed_seen == 2);
    RL_ASSERT(book.times_seen[value_of(0, 0)] == 1 && book.times_seen[value_of(1, 0)] == 1);
    rx[0].reset();
    rx[1].reset();
    RL_ASSERT(g_watch.live == 0);
  }
};

// ---- driver (models/model_main.hpp) -----------------------------------------------------

using ringwire::model::run_one;
constexpr rl::iteration_t k = 1'000;
constexpr ringwire::model::scenario all_scenarios[] = {
    {"try_2x2_cap1", &run_one<try_2x2<1, 2>>, 200 * k},
    {"try_2x2_cap2", &run_one<try_2x2<2, 2>>, 200 * k},
    {"park_2x2_cap1", &run_one<park_2x2<1, 2, 0>>, 200 * k},
    {"park_2x2_cap2_spin1", &run_one<park_2x2<2, 2, 1>>, 200 * k},
    {"hole_2x2_cap1", &run_one<hole_2x2<1>>, 200 * k},
    {"timeouts_2x2_cap1", &run_one<timeouts_2x2<1, 1>>, 200 * k},
    {"close_channel_cap1", &run_one<close_channel>, 200 * k},
    {"try_2x2_cap2_array", &run_one<try_2x2<2, 2, in_array>>, 200 * k},
    {"park_2x2_cap1_array", &run_one<park_2x2<1, 2, 0, in_array>>, 100 * k},
    {"hole_2x2_cap2_array", &run_one<hole_2x2<2, in_array>>, 100 * k},
};

#if RINGWIRE_MODEL_MUTANT == 0
constexpr std::span<const ringwire::model::expectation> mutant_failures{};
#elif RINGWIRE_MODEL_MUTANT == 1
constexpr ringwire::model::expectation mutant_failures[] = {{"park_2x2_cap1", rl::test_result_deadlock},
                                                            {"park_2x2_cap1_array", rl::test_result_deadlock}};
#elif RINGWIRE_MODEL_MUTANT == 2
constexpr ringwire::model::expectation mutant_failures[] = {{"try_2x2_cap1", rl::test_result_data_race},
                                                            {"try_2x2_cap2_array", rl::test_result_data_race}};
#else
#error "unknown RINGWIRE_MODEL_MUTANT"
#endif

}  // namespace

int main(int argc, char** argv) { return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures); }
