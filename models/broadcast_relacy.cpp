// models/broadcast_relacy.cpp -- the broadcast channel under the Relacy model checker.
//
// Every scenario instantiates the real ringwire::broadcast headers with `relacy_sync`
// (relacy_sync.hpp): Relacy owns the atomics, the fences, the futex and -- through
// Sync::word -- every payload word of every slot, so it explores the interleavings and
// weak-memory outcomes of the shipped seqlock, gating, registry and parking code.
//
// The payload is two words {seq, ~seq}: a copy torn between two messages, or a copy of a
// message other than the one the subscriber asked for (its next_sequence()), fails the
// scenario's RL_ASSERT. (There is no rl::var to race on: the seqlock's payload accesses are
// atomics by design, so a broken seqlock shows as an accepted wrong value, not a data race.)
//
// Scenarios (thread 0 publishes, thread 1 subscribes, unless said otherwise):
//   lossy_try_*       lossy, try_publish / try_recv, capacities 1 and 2: every accepted
//                     value intact and exactly the expected sequence, strictly increasing;
//                     after the close the subscriber drains, sees closed, and received +
//                     missed == published, the last value being the last published.
//   lossy_park_*      the same with publish / recv and park(0): a parked subscriber is woken
//                     by a publish (the `parked` hint) or by the close (else DEADLOCK).
//   lossless_park_*   lossless, publish / recv with park(0) on both sides: every message
//                     exactly once, in order, then closed; both sides park; a lost wake-up
//                     is a DEADLOCK; the close wakes a parked subscriber. Capacity 16 runs
//                     the subscriber's batched cursor (shown every capacity / 8 receives).
//   *_line            lossy_try and lossless_park with line slots (every slot on its own
//                     64-byte line); every other scenario uses packed slots.
//   join_*            lossless: the subscriber thread calls hub.subscribe() while the
//                     publisher publishes into a ring of 1 or 2: it must then receive every
//                     message from its next_sequence() to the last, none lost (the registry
//                     Dekker: the joiner's epoch bump + heavy fence against the publisher's
//                     light fence + epoch load after each head store). _try spins on
//                     try_publish / try_recv (nobody parks, so only the registry can fail);
//                     _park uses publish / recv with park(0).
//   leave_*           lossless, capacity 1: the subscriber reads 0 or 1 message and is
//                     destroyed while the publisher may be parked on its cursor: the
//                     publisher must be woken and publish everything.
//   evict_try_*       evict (evict_lag = capacity - 1): the publisher's try_publish is never
//                     full; the subscriber reads consecutive intact messages and then either
//                     sees every message and closed, or status::evicted for good.
//   evict_lazy_*      evict: the subscriber reads only after the publisher has finished
//                     (capacity + 1 messages), so it must be evicted: status::evicted, twice.
//   evict_park_*      evict with recv and park(0): as evict_try, and no deadlock.
//   mp_*              multi-producer (mpmc_channel): threads 0 and 1 are two copies of one
//                     shared_publisher, thread 2 subscribes. Messages carry (producer,
//                     count): no accepted torn value, each producer's messages in its order,
//                     tickets (next_sequence()) strictly increasing and the last ticket
//                     received; lossless: every ticket exactly once, in order; lossy:
//                     received + missed == total published. The channel closes with the
//                     second copy. mp_join_*: lossless, the subscriber joins while both
//                     producers publish and must get every ticket from its start on (the
//                     registry Dekker with several producers, including the light fence
//                     at the start of a multi-producer rescan).
//   skip_*            publisher::skip: the publisher publishes 1, skips 2..3, publishes 4,
//                     skips capacity + 1 sequences (more than the ring) and publishes the
//                     last, then closes, while the subscriber reads (try_recv spinning, or
//                     recv parked). The subscriber never accepts a skipped sequence (every
//                     accepted value intact and exactly its next_sequence(), which is never
//                     a skipped one), every lag moves it by exactly missed(), it never waits
//                     for ever (a parked one is woken by a skip: else DEADLOCK), and at the
//                     end received + missed == the last sequence; lossless: received ==
//                     the messages published and missed == the sequences skipped, exactly.
//                     skip_wake_park: lossless, the publisher publishes 1, skips 3 and then
//                     waits for the subscriber to report the lag before it closes: only the
//                     skip's own wake-up can free a parked subscriber (else a hang).
//
// By default each scenario runs under the random scheduler, then, where the table gives a
// bound, under Relacy's context-bound scheduler (every execution with at most that many
// preemptions); the three-thread gated scenarios get the random scheduler only (even
// bound 1 takes minutes). The whole run takes about 45 s (Release, g++ 12, one idle core).
// Every scenario prints its coverage counters: how often the interesting outcome happened
// (lags, joins in mid-stream, evictions, a close waking a sleeper, ...) and the futex
// activity, so a scenario that stopped exercising its path shows.
//
// Usage: broadcast_relacy [--only NAME] [--search random|bound|full] [--iterations N]
//                         [--bound K] [--list]
//
// Mutant builds (-DRINGWIRE_MODEL_MUTANT=N, see relacy_sync.hpp) run the scenarios that
// must catch that mutant and succeed only if Relacy reports the expected failure in each:
//   3 (fence(acquire) a no-op)  lossy_try_cap1_n3 and lossy_try_cap2_n4_line: USER ASSERT
//                               FAILED (a torn / wrong copy accepted);
//   1 (light_fence a no-op)     join_try_cap1_n3: USER ASSERT FAILED (the publisher misses
//                               the joiner and overwrites its first message: status lagged
//                               under lossless), and lossless_park_cap1_n3 and
//                               skip_lossless_park_cap2 and skip_wake_park: DEADLOCK (a
//                               subscriber parked before a skip is not woken by it; in
//                               skip_wake_park it may show as LIVELOCK: the publisher polls
//                               for room while that subscriber sleeps);
//   2 (release stores relaxed)  skip_lossless_try_cap2: USER ASSERT FAILED (among them the
//                               head store of publish: a subscriber that sees head >= n
//                               before n's stamp takes the published n for a skipped one,
//                               so missed() exceeds the skips).

// Every std header first: relacy_sync.hpp includes Relacy, whose macros (assert, errno,
// pthread and Win32 names) must not reach a std header tokenised after it.
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "model_main.hpp"

namespace {

using ringwire::relacy_sync;
using ringwire::status;
using ringwire::wait_strategy;
namespace bc = ringwire::broadcast;

// ---- the payload ---------------------------------------------------------------------

// Two words: a copy mixing two messages fails intact(); a whole copy of the wrong message
// fails the sequence check. The all-zero content of a never-written slot is not intact.
struct msg {
  std::uint64_t seq;
  std::uint64_t check;
};
constexpr msg make(std::uint64_t seq) { return {seq, ~seq}; }
constexpr bool intact(const msg& m) { return m.check == ~m.seq; }

// Multi-producer messages: seq = producer << 32 | count (count from 1).
constexpr std::uint64_t mp_seq(unsigned producer, std::uint64_t count) {
  return std::uint64_t{producer} << 32 | count;
}

using pub_t = bc::publisher<msg, relacy_sync>;
using hub_t = bc::hub<msg, relacy_sync>;
using sub_t = bc::subscriber<msg, relacy_sync>;
using shared_pub_t = bc::shared_publisher<msg, relacy_sync>;

// ---- coverage ------------------------------------------------------------------------

// Counted over a scenario's iterations (plain globals: Relacy runs every simulated thread
// as a fiber of one OS thread). What each counter means depends on the scenario; run_scenario
// prints the non-zero ones.
struct coverage {
  unsigned long long lagged = 0;              // lossy: lag outcomes seen
  unsigned long long mid_join = 0;            // join: started after message 1 but before the end
  unsigned long long late_join = 0;           // join: started after the last message
  unsigned long long evicted = 0;             // evict: iterations ending in status::evicted
  unsigned long long completed = 0;           // evict: iterations that received everything
  unsigned long long closed_after_sleep = 0;  // the call that returned closed had slept first
  unsigned long long pub_slept = 0;           // the publisher's publish() went to sleep
};
coverage g_cov;

// Runs f() (a recv); counts it in closed_after_sleep when it slept and returned closed.
template <class F>
auto note_closed_after_sleep(F&& f) {
  const auto sleeps = ringwire::model::stats.sleeps;
  auto r = f();
  if (r.status() == status::closed && ringwire::model::stats.sleeps != sleeps) ++g_cov.closed_after_sleep;
  return r;
}

// Spin on a non-blocking call, telling Relacy this thread is waiting.
inline void spin() { rl::yield(1, RL_INFO); }

// ---- fixtures ------------------------------------------------------------------------

// Packed slots unless said otherwise (named, not automatic: the default may change, and
// both layouts must stay covered).
bc::options opts(bc::policy p, wait_strategy w = wait_strategy::park(0),
                 bc::slot_layout slots = bc::slot_layout::packed) {
  bc::options o;
  o.policy = p;
  o.slot_layout = slots;
  o.max_subscribers = 2;
  o.sender_wait = w;
  o.receiver_wait = w;
  return o;
}

// One channel per iteration, made in before(). Derived provides `static constexpr
// std::size_t capacity`, `static constexpr bool subscribed` (subscribe in before(): the
// subscriber exists before anything is published) and `static bc::options options()`.
template <class Derived, unsigned Threads>
struct fixture : rl::test_suite<Derived, Threads> {
  std::optional<pub_t> pub;
  std::optional<hub_t> hub;
  std::optional<sub_t> sub;

  void before() {
    ringwire::model::payload_words.reset();
    ringwire::model::model_clock::now = {};
    auto [p, h] = bc::channel<msg, relacy_sync>(Derived::capacity, Derived::options());
    pub.emplace(std::move(p));
    hub.emplace(std::move(h));
    if constexpr (Derived::subscribed) sub.emplace(hub->subscribe());
  }
  void after() {
    sub.reset();
    pub.reset();
    hub.reset();  // the last reference frees the block
    ringwire::model::payload_words.reset();
  }
};

// What a subscriber saw: every accepted value intact, exactly the one it asked for, and
// strictly increasing.
struct reader {
  std::uint64_t last = 0;
  std::uint64_t got = 0;

  void take(const msg& m, std::uint64_t expected) {
    RL_ASSERT(intact(m));
    RL_ASSERT(m.seq == expected);
    RL_ASSERT(m.seq > last);
    last = m.seq;
    ++got;
  }
};

// Reads until closed or evicted and returns which: every value checked by `check`, then
// by rd.take against the next_sequence() it was asked for; every lag moves
// next_sequence() by exactly missed(). Park: recv() (park(0)); else try_recv() spinning.
template <bool Park, class Check>
status read_to_end(sub_t& s, reader& rd, Check check) {
  for (;;) {
    const std::uint64_t expected = s.next_sequence();
    auto r = Park ? note_closed_after_sleep([&s] { return s.recv(); }) : s.try_recv();
    if (r) {
      check(*r);
      rd.take(*r, expected);
      continue;
    }
    if (r.status() == status::lagged) {
      ++g_cov.lagged;
      RL_ASSERT(r.missed() > 0);
      RL_ASSERT(s.next_sequence() == expected + r.missed());
      continue;
    }
    if (!Park && r.status() == status::empty) {
      spin();
      continue;
    }
    return r.status();
  }
}

// ---- 1. lossy ------------------------------------------------------------------------

template <std::size_t Cap, std::uint64_t N, bool Park, bc::slot_layout Slots = bc::slot_layout::packed>
struct lossy : fixture<lossy<Cap, N, Park, Slots>, 2> {
  static constexpr std::size_t capacity = Cap;
  static constexpr bool subscribed = true;
  static bc::options options() { return opts(bc::policy::lossy, wait_strategy::park(0), Slots); }

  void thread(unsigned index) {
    if (index == 0) {
      for (std::uint64_t i = 1; i <= N; ++i) {
        // Lossy never waits and is never full.
        RL_ASSERT((Park ? this->pub->send(make(i)) : this->pub->try_send(make(i))) == status::ok);
      }
      RL_ASSERT(this->pub->published() == N);
      this->pub.reset();  // ~publisher: close + wake
      return;
    }
    sub_t& s = *this->sub;
    reader rd;
    RL_ASSERT(read_to_end<Park>(s, rd, [](const msg&) {}) == status::closed);
    RL_ASSERT(rd.got == s.received());
    RL_ASSERT(s.received() + s.missed() == N);
    RL_ASSERT(rd.last == N);  // the newest message is never overwritten
    RL_ASSERT(s.try_recv().status() == status::closed);
  }
};

// ---- 2. lossless, parking ------------------------------------------------------------

template <std::size_t Cap, std::uint64_t N, bc::slot_layout Slots = bc::slot_layout::packed>
struct lossless_park : fixture<lossless_park<Cap, N, Slots>, 2> {
  static constexpr std::size_t capacity = Cap;
  static constexpr bool subscribed = true;
  static bc::options options() { return opts(bc::policy::lossless, wait_strategy::park(0), Slots); }

  void thread(unsigned index) {
    if (index == 0) {
      for (std::uint64_t i = 1; i <= N; ++i) {
        const auto sleeps = ringwire::model::stats.sleeps;
        RL_ASSERT(this->pub->send(make(i)) == status::ok);
        if (ringwire::model::stats.sleeps != sleeps) ++g_cov.pub_slept;
      }
      this->pub.reset();
      return;
    }
    sub_t& s = *this->sub;
    reader rd;
    for (std::uint64_t i = 1; i <= N; ++i) {
      auto r = s.recv();
      RL_ASSERT(r.has_value());
      rd.take(*r, i);
    }
    RL_ASSERT(note_closed_after_sleep([&s] { return s.recv(); }).status() == status::closed);
    RL_ASSERT(s.received() == N && s.missed() == 0);
  }
};

// ---- 3. joining and leaving ----------------------------------------------------------

// The subscriber joins while the publisher publishes; it must get everything from where
// it starts. Park: publish / recv with park(0); else try_publish / try_recv spinning.
template <std::size_t Cap, std::uint64_t N, bool Park>
struct join : fixture<join<Cap, N, Park>, 2> {
  static constexpr std::size_t capacity = Cap;
  static constexpr bool subscribed = false;
  static bc::options options() { return opts(bc::policy::lossless); }

  void thread(unsigned index) {
    if (index == 0) {
      for (std::uint64_t i = 1; i <= N; ++i) {
        if (Park) {
          RL_ASSERT(this->pub->send(make(i)) == status::ok);
          continue;
        }
        for (;;) {
          const status st = this->pub->try_send(make(i));
          if (st == status::ok) break;
          RL_ASSERT(st == status::full);
          spin();
        }
      }
      this->pub.reset();
      return;
    }
    sub_t s = this->hub->subscribe();
    const std::uint64_t start = s.next_sequence();
    RL_ASSERT(start >= 1 && start <= N + 1);
    if (start > 1 && start <= N) ++g_cov.mid_join;
    if (start == N + 1) ++g_cov.late_join;
    reader rd;
    for (std::uint64_t want = start;;) {
      auto r = Park ? s.recv() : s.try_recv();
      if (r) {
        rd.take(*r, want++);
        continue;
      }
      if (!Park && r.status() == status::empty) {
        spin();
        continue;
      }
      // lagged here means the publisher overwrote a message this live subscriber had not read.
      RL_ASSERT(r.status() == status::closed);
      break;
    }
    RL_ASSERT(rd.got == N + 1 - start);
    RL_ASSERT(s.missed() == 0);
  }  // ~subscriber: leaves
};

// The subscriber reads `Reads` messages and leaves while the publisher may be parked on it.
template <std::size_t Cap, std::uint64_t N, std::uint64_t Reads>
struct leave : fixture<leave<Cap, N, Reads>, 2> {
  static constexpr std::size_t capacity = Cap;
  static constexpr bool subscribed = true;
  static bc::options options() { return opts(bc::policy::lossless); }

  void thread(unsigned index) {
    if (index == 0) {
      for (std::uint64_t i = 1; i <= N; ++i) {
        const auto sleeps = ringwire::model::stats.sleeps;
        RL_ASSERT(this->pub->send(make(i)) == status::ok);
        if (ringwire::model::stats.sleeps != sleeps) ++g_cov.pub_slept;
      }
      RL_ASSERT(this->pub->published() == N);
      this->pub.reset();
      return;
    }
    // Spinning lowers this thread's priority under the random scheduler, so the publisher
    // usually gets to park on the full ring before the leave (without this, Relacy's
    // random scheduler almost never lets it: the leave is one step, the park ten).
    for (int i = 0; i < 3; ++i) spin();
    reader rd;
    for (std::uint64_t i = 1; i <= Reads; ++i) {
      auto r = this->sub->recv();
      RL_ASSERT(r.has_value());
      rd.take(*r, i);
    }
    this->sub.reset();  // ~subscriber: frees the entry and wakes the publisher
  }
};

// ---- 4. evict ------------------------------------------------------------------------

// Mode: 0 try_recv spinning, 1 recv with park(0), 2 lazy (reads only once the publisher is done).
template <std::size_t Cap, std::uint64_t N, int Mode>
struct evict : fixture<evict<Cap, N, Mode>, 2> {
  static constexpr std::size_t capacity = Cap;
  static constexpr bool subscribed = true;
  static bc::options options() { return opts(bc::policy::evict); }
  static_assert(Mode != 2 || N > Cap, "a lazy subscriber must fall more than evict_lag behind");

  rl::atomic<int> done;

  void before() {
    fixture<evict, 2>::before();
    done.store(0, rl::mo_relaxed, RL_INFO);
  }

  void thread(unsigned index) {
    if (index == 0) {
      // evict_lag < capacity: the publisher never waits, so try_publish is never full.
      for (std::uint64_t i = 1; i <= N; ++i) RL_ASSERT(this->pub->try_send(make(i)) == status::ok);
      this->pub.reset();
      done.store(1, rl::mo_release, RL_INFO);
      return;
    }
    sub_t& s = *this->sub;
    if (Mode == 2) {
      while (done.load(rl::mo_acquire, RL_INFO) == 0) spin();
      RL_ASSERT(s.try_recv().status() == status::evicted);
      RL_ASSERT(s.recv().status() == status::evicted);
      ++g_cov.evicted;
      return;
    }
    reader rd;
    for (;;) {
      const std::uint64_t expected = s.next_sequence();
      auto r = Mode == 1 ? note_closed_after_sleep([&s] { return s.recv(); }) : s.try_recv();
      if (r) {
        rd.take(*r, expected);
        RL_ASSERT(rd.got == r->seq);  // evict never skips: consecutive from 1
        continue;
      }
      if (Mode == 0 && r.status() == status::empty) {
        spin();
        continue;
      }
      if (r.status() == status::evicted) {
        RL_ASSERT(s.try_recv().status() == status::evicted);  // for good
        ++g_cov.evicted;
        break;
      }
      RL_ASSERT(r.status() == status::closed);  // never lagged under evict
      RL_ASSERT(rd.got == N);
      ++g_cov.completed;
      break;
    }
    RL_ASSERT(s.missed() == 0);
  }
};

// ---- 5. several producers (mpmc_channel) ---------------------------------------------

// Threads 0 and 1 each own a copy of the shared_publisher and publish K messages;
// thread 2 subscribes: in before() (it sees every ticket), or, with Join, in its thread
// while the producers publish (it must see every ticket from its next_sequence() on).
// Park: publish / recv with park(0); else try_publish / try_recv spinning.
template <std::size_t Cap, std::uint64_t K, bc::policy Policy, bool Park, bool Join = false>
struct mp : rl::test_suite<mp<Cap, K, Policy, Park, Join>, 3> {
  static constexpr bool lossless = Policy == bc::policy::lossless;
  static_assert(lossless || !Join, "a lossy joiner proves nothing about the registry");
  std::optional<shared_pub_t> pubs[2];
  std::optional<hub_t> hub;
  std::optional<sub_t> sub;

  void before() {
    ringwire::model::payload_words.reset();
    ringwire::model::model_clock::now = {};
    auto [p, h] = bc::mpmc_channel<msg, relacy_sync>(Cap, opts(Policy));
    pubs[1].emplace(p);  // the second producer: a copy
    pubs[0].emplace(std::move(p));
    hub.emplace(std::move(h));
    if (!Join) sub.emplace(hub->subscribe());
  }
  void after() {
    sub.reset();
    pubs[0].reset();
    pubs[1].reset();
    hub.reset();
    ringwire::model::payload_words.reset();
  }

  void thread(unsigned index) {
    if (index < 2) {
      shared_pub_t& p = *pubs[index];
      for (std::uint64_t i = 1; i <= K; ++i) {
        const msg m = make(mp_seq(index, i));
        if (Park) {
          RL_ASSERT(p.send(m) == status::ok);
          continue;
        }
        for (;;) {
          const status st = p.try_send(m);
          if (st == status::ok) break;
          RL_ASSERT(lossless && st == status::full);
          spin();
        }
      }
      RL_ASSERT(p.published() == K);
      pubs[index].reset();  // the second copy to go closes the channel
      return;
    }
    if (Join) sub.emplace(hub->subscribe());
    sub_t& s = *sub;
    const std::uint64_t start = s.next_sequence();
    RL_ASSERT(start >= 1 && start <= 2 * K + 1);
    if (start > 1 && start <= 2 * K) ++g_cov.mid_join;
    if (start == 2 * K + 1) ++g_cov.late_join;
    std::uint64_t last[2] = {0, 0};  // per producer: the last count received
    std::uint64_t last_ticket = 0;
    std::uint64_t got = 0;
    for (;;) {
      const std::uint64_t ticket = s.next_sequence();
      auto r = Park ? note_closed_after_sleep([&s] { return s.recv(); }) : s.try_recv();
      if (r) {
        RL_ASSERT(intact(*r));
        const auto producer = static_cast<unsigned>(r->seq >> 32);
        const std::uint64_t count = r->seq & 0xffffffffu;
        RL_ASSERT(producer < 2 && count >= 1 && count <= K);
        RL_ASSERT(count > last[producer]);  // each producer's order
        // Lossless, nothing lost: consecutive per producer (from 1 unless we joined late).
        if (lossless && (!Join || last[producer] != 0)) RL_ASSERT(count == last[producer] + 1);
        RL_ASSERT(ticket > last_ticket);
        if (lossless) RL_ASSERT(ticket == start + got);  // every ticket, in order
        last[producer] = count;
        last_ticket = ticket;
        ++got;
        continue;
      }
      if (r.status() == status::lagged) {
        RL_ASSERT(!lossless && r.missed() > 0);
        RL_ASSERT(s.next_sequence() == ticket + r.missed());
        ++g_cov.lagged;
        continue;
      }
      if (!Park && r.status() == status::empty) {
        spin();
        continue;
      }
      RL_ASSERT(r.status() == status::closed);
      break;
    }
    RL_ASSERT(got == s.received());
    RL_ASSERT(s.received() + s.missed() == 2 * K + 1 - start);
    RL_ASSERT(s.next_sequence() == 2 * K + 1);
    if (start <= 2 * K) RL_ASSERT(last_ticket == 2 * K);  // the newest is never overwritten
    if (lossless) RL_ASSERT(got == 2 * K + 1 - start && s.missed() == 0);
    RL_ASSERT(s.try_recv().status() == status::closed);
  }
};

// ---- 6. skips ------------------------------------------------------------------------

// The publisher's script (see the top): publish 1, skip 2, publish, skip Cap + 1, publish.
// skipped_seq(n): whether n is one of the skipped sequences.
template <std::size_t Cap>
struct skip_script {
  static constexpr std::uint64_t last = 1 + 2 + 1 + (Cap + 1) + 1;
  static constexpr std::uint64_t published = 3;
  static constexpr bool skipped_seq(std::uint64_t n) { return n != 1 && n != 4 && n != last; }
};

template <std::size_t Cap, bc::policy Policy, bool Park>
struct skip : fixture<skip<Cap, Policy, Park>, 2> {
  static constexpr std::size_t capacity = Cap;
  static constexpr bool subscribed = true;
  static bc::options options() { return opts(Policy); }
  using script = skip_script<Cap>;

  void publish(std::uint64_t n) {
    RL_ASSERT(this->pub->published() + 1 == n);
    if (Park) {
      RL_ASSERT(this->pub->send(make(n)) == status::ok);
      return;
    }
    for (;;) {
      const status st = this->pub->try_send(make(n));
      if (st == status::ok) return;
      RL_ASSERT(Policy == bc::policy::lossless && st == status::full);
      spin();
    }
  }

  void thread(unsigned index) {
    if (index == 0) {
      publish(1);
      RL_ASSERT(this->pub->skip(2) == status::ok);  // 2, 3
      publish(4);
      RL_ASSERT(this->pub->skip(Cap + 1) == status::ok);  // more than the ring
      publish(script::last);
      RL_ASSERT(this->pub->published() == script::last);
      this->pub.reset();
      return;
    }
    sub_t& s = *this->sub;
    reader rd;
    const status end = read_to_end<Park>(s, rd, [](const msg& m) { RL_ASSERT(!script::skipped_seq(m.seq)); });
    if (end == status::evicted) {  // evict: behind a skip is behind by it too
      RL_ASSERT(Policy == bc::policy::evict);
      RL_ASSERT(s.received() + s.missed() == s.next_sequence() - 1);
      ++g_cov.evicted;
      return;
    }
    RL_ASSERT(end == status::closed);
    if (Policy == bc::policy::evict) ++g_cov.completed;
    RL_ASSERT(rd.got == s.received());
    RL_ASSERT(s.received() + s.missed() == script::last);
    RL_ASSERT(rd.last == script::last);  // the newest message is never overwritten
    if (Policy == bc::policy::lossless) {
      RL_ASSERT(s.received() == script::published);
      RL_ASSERT(s.missed() == script::last - script::published);
    }
  }
};

// A skip is the last thing before the publisher waits: only the skip's own wake-up (and
// readable() saying yes to it) gets the parked subscriber out. The publisher closes only
// once the subscriber reported the lag, so a lost or ignored wake-up is a hang.
struct skip_wake : fixture<skip_wake, 2> {
  static constexpr std::size_t capacity = 2;
  static constexpr bool subscribed = true;
  static bc::options options() { return opts(bc::policy::lossless); }
  rl::atomic<int> reported;

  void before() {
    fixture<skip_wake, 2>::before();
    reported.store(0, rl::mo_relaxed, RL_INFO);
  }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(this->pub->send(make(1)) == status::ok);
      RL_ASSERT(this->pub->skip(3) == status::ok);
      while (reported.load(rl::mo_acquire, RL_INFO) == 0) spin();
      this->pub.reset();
      return;
    }
    sub_t& s = *this->sub;
    auto r = s.recv();
    RL_ASSERT(r && r->seq == 1 && intact(*r));
    r = note_closed_after_sleep([&s] { return s.recv(); });
    RL_ASSERT(r.status() == status::lagged && r.missed() == 3);
    ++g_cov.lagged;
    reported.store(1, rl::mo_release, RL_INFO);
    RL_ASSERT(s.recv().status() == status::closed);
    RL_ASSERT(s.received() == 1 && s.missed() == 3);
  }
};

// ---- driver --------------------------------------------------------------------------

// ---- driver (models/model_main.hpp) ---------------------------------------------------
// Each scenario runs twice by default: the random scheduler for `iterations` iterations,
// then, where `bound` is non-zero, Relacy's context-bound scheduler, which explores
// exhaustively every execution with at most `bound` preemptions.
using ringwire::model::run_one;
using scenario = ringwire::model::scenario;

using bc::policy;
constexpr rl::iteration_t k = 1'000;
constexpr scenario all_scenarios[] = {
    {"lossy_try_cap1_n3", &run_one<lossy<1, 3, false>>, 200 * k, 3},
    {"lossy_try_cap2_n4", &run_one<lossy<2, 4, false>>, 200 * k, 2},
    {"lossy_park_cap1_n3", &run_one<lossy<1, 3, true>>, 200 * k, 1},
    {"lossless_park_cap1_n3", &run_one<lossless_park<1, 3>>, 200 * k, 1},
    {"lossless_park_cap2_n4", &run_one<lossless_park<2, 4>>, 200 * k, 1},
    // capacity 16: the subscriber shows its cursor only every 2 receives (capacity / 8) or
    // when it finds nothing new; the publisher must still never wait on a stale cursor forever.
    {"lossless_park_cap16_n18", &run_one<lossless_park<16, 18>>, 20 * k, 0},
    // Line slots (every slot on its own 64-byte line): the same protocol at another
    // stride; two slots, so a wrong stride would make them overlap.
    {"lossy_try_cap2_n4_line", &run_one<lossy<2, 4, false, bc::slot_layout::line>>, 50 * k, 1},
    {"lossless_park_cap2_n4_line", &run_one<lossless_park<2, 4, bc::slot_layout::line>>, 50 * k, 1},
    {"join_try_cap1_n3", &run_one<join<1, 3, false>>, 200 * k, 2},
    {"join_try_cap2_n4", &run_one<join<2, 4, false>>, 200 * k, 1},
    {"join_park_cap1_n3", &run_one<join<1, 3, true>>, 200 * k, 1},
    {"leave_park_cap1_r0", &run_one<leave<1, 3, 0>>, 100 * k, 3},
    {"leave_park_cap1_r1", &run_one<leave<1, 3, 1>>, 100 * k, 2},
    {"evict_try_cap2_n4", &run_one<evict<2, 4, 0>>, 200 * k, 2},
    {"evict_lazy_cap2_n3", &run_one<evict<2, 3, 2>>, 50 * k, 3},
    {"evict_park_cap2_n4", &run_one<evict<2, 4, 1>>, 200 * k, 1},
    // Three threads: even bound 1 takes minutes for the gated ones, so random search only.
    {"mp_lossy_try_cap1_k2", &run_one<mp<1, 2, policy::lossy, false>>, 200 * k, 1},
    {"mp_lossy_try_cap2_k2", &run_one<mp<2, 2, policy::lossy, false>>, 200 * k, 1},
    {"mp_lossless_try_cap1_k2", &run_one<mp<1, 2, policy::lossless, false>>, 200 * k, 0},
    {"mp_lossless_park_cap2_k2", &run_one<mp<2, 2, policy::lossless, true>>, 200 * k, 0},
    {"mp_join_try_cap1_k2", &run_one<mp<1, 2, policy::lossless, false, true>>, 200 * k, 0},
    {"mp_join_try_cap2_k2", &run_one<mp<2, 2, policy::lossless, false, true>>, 200 * k, 0},
    {"mp_join_park_cap1_k2", &run_one<mp<1, 2, policy::lossless, true, true>>, 200 * k, 0},
    // Skips: bound 2 for the lossless park scenario takes minutes, so random only there.
    {"skip_lossy_try_cap2", &run_one<skip<2, policy::lossy, false>>, 100 * k, 2},
    {"skip_lossless_try_cap2", &run_one<skip<2, policy::lossless, false>>, 100 * k, 1},
    {"skip_lossless_park_cap2", &run_one<skip<2, policy::lossless, true>>, 200 * k, 0},
    {"skip_evict_park_cap2", &run_one<skip<2, policy::evict, true>>, 100 * k, 1},
    {"skip_wake_park", &run_one<skip_wake>, 100 * k, 1},
};

// Coverage of each run, after the futex line.
void report_coverage() {
  const std::pair<const char*, unsigned long long> counters[] = {
      {"lag outcomes", g_cov.lagged},
      {"joins mid-stream", g_cov.mid_join},
      {"joins after the end", g_cov.late_join},
      {"evicted", g_cov.evicted},
      {"received everything", g_cov.completed},
      {"closed after a sleep", g_cov.closed_after_sleep},
      {"publishes that slept", g_cov.pub_slept},
  };
  bool any = false;
  for (const auto& [what, n] : counters) {
    if (n == 0) continue;
    std::printf("%s%s: %llu", any ? ", " : "    coverage: ", what, n);
    any = true;
  }
  if (any) std::printf("\n");
}

// What a mutant build must produce: each listed scenario fails with this result.
#if RINGWIRE_MODEL_MUTANT == 0
constexpr std::span<const ringwire::model::expectation> mutant_failures{};
#elif RINGWIRE_MODEL_MUTANT == 1
constexpr ringwire::model::expectation mutant_failures[] = {
    {"join_try_cap1_n3", rl::test_result_user_assert_failed},
    {"lossless_park_cap1_n3", rl::test_result_deadlock},
    {"skip_lossless_park_cap2", rl::test_result_deadlock},
    // The lost wake-up shows as both sides asleep, or as the lossless publisher polling for
    // room while the subscriber it waits for sleeps for ever (Relacy: livelock).
    {"skip_wake_park", rl::test_result_deadlock, rl::test_result_livelock},
};
#elif RINGWIRE_MODEL_MUTANT == 2
constexpr ringwire::model::expectation mutant_failures[] = {
    {"skip_lossless_try_cap2", rl::test_result_user_assert_failed},
};
#elif RINGWIRE_MODEL_MUTANT == 3
constexpr ringwire::model::expectation mutant_failures[] = {
    {"lossy_try_cap1_n3", rl::test_result_user_assert_failed},
    {"lossy_try_cap2_n4_line", rl::test_result_user_assert_failed},
};
#else
#error "no broadcast expectation for this RINGWIRE_MODEL_MUTANT"
#endif

}  // namespace

int main(int argc, char** argv) {
  return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures,
                                     {[] { g_cov = {}; }, &report_coverage});
}
