// models/byte_broadcast_relacy.cpp -- the lossy byte broadcast ring under Relacy.
//
// Every scenario instantiates the real ringwire/byte_broadcast headers with `relacy_sync`:
// Relacy owns the stamps, head, dirty, closed and credit words, the seqlock fences, and --
// through Sync::word -- every metadata field and payload word, so it explores the
// interleavings and weak-memory outcomes of the shipped read validation while the writer
// overwrites what a reader is copying. (The zero-copy view hands out plain memory that the
// model's word cells do not back, so only the copying read is modelled; its validation is
// the same code path, reader::poll.)
//
// Messages are words {seq * 16 + i} for i in 0..size/8-1 (a word of another message, or of
// a never-written chunk, is wrong), with signature = seq. A reader asserts that every
// accepted message is exactly the one it expected (next_seq(): a loss is reported before,
// as a lagged result with the exact count), intact word for word, with its size; that received + missed == published at
// the end, and that the newest message is always delivered.
//
// Scenarios (thread 0 writes, thread 1 reads):
//   lossy_d2_n5        depth 2, region 64 B, 16-byte messages: 5 messages wrap the payload
//                      region and lap the metadata ring while the reader copies.
//   lossy_mixed_d2_n4  depth 2, region 64 B, sizes 24, 8, 24, 16: a chunk moved to the
//                      region's start (the skipped tail) and overwritten payloads of different sizes.
//   lossy_payload_d4_n4  depth 4, region 64 B, 32-byte messages: the payload is overwritten
//                      while its metadata entry is still intact, so only the dirty check
//                      stands between the reader and a torn copy (removing that check from
//                      reader.hpp makes this scenario fail: USER ASSERT FAILED).
//   credited_d2_n4     depth 2, region 64 B, one credited reader (joined before the writer
//                      starts): try_write spins on full; the reader gets all 4, in order.
//   credited_join_d2_n4  the credited reader joins while the writer publishes: it must get
//                      every message from its starting point on (the join's Dekker pair
//                      with the writer's rescan).
//   credited_rejoin_d2_n4  a credited reader reads one message (possibly committed before
//                      the writer's head store, leaving its cursor ahead of head), leaves,
//                      and a new one joins the same entry by credited_reader(reader, 0), as
//                      shared memory does after a claim: it must get every message from
//                      its start. The join's provisional cursor is what makes it hold: an
//                      edited copy of reader.hpp without it fails here under the
//                      context-bound search, bound 2 (USER ASSERT FAILED on a lagged read,
//                      after ~400 000 executions; the random scheduler rarely gets there),
//                      checked by hand; the real header passes all ~1 000 000 of them.
//   park_reader_n2     the park protocol (layout.hpp "Parking"): a reader blocks in read()
//                      with park(0) -- no deadline, so a lost wake-up leaves it asleep
//                      forever (Relacy: DEADLOCK) -- while the writer publishes 2 messages
//                      and closes; the reader must get both, then closed.
//   park_two_readers_n2  two parking readers on one bell: the bump-then-wake-all and the
//                      parked count must serve both (each must get both messages).
//   park_pingpong_n2   two lossy rings, pings one way, pongs back: each thread publishes on
//                      one and then blocks in read() (park(0), no deadline) on the other
//                      for the answer, so a wake-up lost on either bell leaves both
//                      threads asleep (DEADLOCK) -- the close cannot rescue it as it does
//                      in park_reader_n2.
//   park_credited_d2_n3  depth 2, one credited reader; both sides park(0) with no deadline:
//                      the writer parks for credits on writer_park and the reader's notify
//                      after each cursor store must wake it; the reader parks on the bell.
//   skip_lossy_d2 / skip_credited_d2  writer::skip (layout.hpp "Skips"), depth 2: the writer
//                      publishes 1, skips 2..3, publishes 4, skips 5..7 (more than the
//                      ring), publishes 8 and closes while the reader (lossy, or credited
//                      and joined first: try_write spins on full) reads with try_read. It
//                      never accepts a skipped sequence, every accepted message is intact
//                      and exactly next_seq(), every lagged result moves it by exactly
//                      missed(), 8 is always delivered, received + missed == 8; credited:
//                      received == 3 and missed == 5 exactly (a published message is never
//                      taken for a skipped one).
//   skip_park_pingpong  the skip's wake: thread 0 skips 2 on ring A, then blocks in read()
//                      (park(0), no deadline) on ring B; thread 1 blocks in read() on A,
//                      must get lagged with missed() == 2, then publishes on B. A skip that
//                      does not wake the parked reader (or a re-check that misses it)
//                      leaves both asleep (DEADLOCK); the close cannot rescue it.
//
// Mutants (relacy_sync.hpp):
//   1  light_fence a no-op (the writer's half of the bell's Dekker pair, and the credited
//      reader's notify): a reader re-checks before the publish lands while the writer
//      misses its parked count (park_pingpong_n2: DEADLOCK), or the writer parked for
//      credits misses the reader's cursor and the reader its notify (park_credited_d2_n3:
//      DEADLOCK), or a reader parking as the writer skips misses the skip and the writer
//      the parked flag (skip_park_pingpong: DEADLOCK);
//   2  release stores done relaxed: lossy_d2_n5 accepts a stale message, and a credited
//      reader that sees head >= n before n's committed stamp takes the published n for a
//      skipped one (skip_credited_d2: missed() > 5; USER ASSERT FAILED);
//   3  fence(acquire) a no-op: the re-check of the stamp and dirty may read older values
//      than the payload copy saw, so lossy_d2_n5 accepts a torn copy (USER ASSERT FAILED).
//
// Usage: byte_broadcast_relacy [--only NAME] [--iterations N]
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ringwire/byte_broadcast.hpp"
#include "model_main.hpp"

namespace {

using ringwire::relacy_sync;
using ringwire::status;
namespace bb = ringwire::byte_broadcast;

using writer_t = bb::writer<relacy_sync>;
using reader_t = bb::reader<relacy_sync>;
using credited_t = bb::credited_reader<relacy_sync>;

constexpr std::uint64_t word_of(std::uint64_t seq, std::size_t i) { return seq * 16 + i; }

struct coverage {
  unsigned long long lagged = 0;   // lag outcomes
  unsigned long long dropped = 0;  // messages reported lost (missed() of lagged results)
  unsigned long long full = 0;     // try_write said full (credits)
  unsigned long long mid_join = 0; // credited join after the first publish
};
coverage g_cov;

// Publishes message `seq` of `size` bytes (a multiple of 8).
status publish(writer_t& w, std::uint64_t seq, std::size_t size) {
  std::array<std::uint64_t, 4> words{};
  for (std::size_t i = 0; i < size / 8; ++i) words[i] = word_of(seq, i);
  return w.try_write(seq, std::as_bytes(std::span(words.data(), size / 8)));
}

// Publishes messages 1..n of 16 bytes through try_write, yielding while a credited
// reader holds the writer back (full).
void publish_held_back(writer_t& w, std::uint64_t n) {
  for (std::uint64_t i = 1; i <= n; ++i) {
    for (;;) {
      const status st = publish(w, i, 16);
      if (st == status::ok) break;
      RL_ASSERT(st == status::full);
      ++g_cov.full;
      rl::yield(1, RL_INFO);
    }
  }
}

// Reads until closed, checking every accepted message; returns what it received.
template <class Reader>
std::uint64_t read_all(Reader& r, const std::size_t* sizes, std::uint64_t n, bool lossless) {
  std::array<std::uint64_t, 4> buf{};
  std::uint64_t got = 0, last = 0;
  for (;;) {
    const std::uint64_t expected = r.next_seq();
    buf.fill(0);
    const bb::read_result m = r.try_read(std::as_writable_bytes(std::span(buf)));
    if (lossless) RL_ASSERT(m.missed() == 0);
    if (m) {
      RL_ASSERT(m.missed() == 0);  // a loss is its own lagged result, never an ok one's
      RL_ASSERT(m.info().seq == expected);
      RL_ASSERT(m.info().seq > last && m.info().seq <= n);
      RL_ASSERT(m.info().signature == m.info().seq);
      RL_ASSERT(m.info().size == sizes[m.info().seq - 1]);
      for (std::size_t i = 0; i < m.info().size / 8; ++i) RL_ASSERT(buf[i] == word_of(m.info().seq, i));
      last = m.info().seq;
      ++got;
      continue;
    }
    if (m.status() == ringwire::status::empty) {
      rl::yield(1, RL_INFO);
      continue;
    }
    if (m.status() == ringwire::status::closed) break;
    RL_ASSERT(!lossless);
    RL_ASSERT(m.status() == ringwire::status::lagged);  // a lap or overwritten payloads
    RL_ASSERT(m.missed() > 0);
    RL_ASSERT(r.next_seq() == expected + m.missed());
    ++g_cov.lagged;
    g_cov.dropped += m.missed();
  }
  RL_ASSERT(r.received() == got);
  RL_ASSERT(r.next_seq() == n + 1);  // closed only after the last message
  RL_ASSERT(last == n);              // the newest message is always intact
  return got;
}

template <class Derived>
struct fixture : rl::test_suite<Derived, 2> {
  std::optional<writer_t> w;
  std::optional<reader_t> r;

  void before() {
    ringwire::model::payload_words.reset();
    ringwire::model::model_clock::now = {};
    auto [wr, rd] = bb::channel<relacy_sync>(Derived::shape());
    w.emplace(std::move(wr));
    r.emplace(std::move(rd));
  }
  void after() {
    r.reset();
    w.reset();
    ringwire::model::payload_words.reset();
  }
};

// ---- lossy -----------------------------------------------------------------------------

template <std::uint64_t Depth, std::size_t... Sizes>
struct lossy : fixture<lossy<Depth, Sizes...>> {
  static constexpr std::size_t sizes[] = {Sizes...};
  static constexpr std::uint64_t n = sizeof...(Sizes);
  static bb::geometry shape() { return {Depth, 64, 32, 0}; }

  void thread(unsigned index) {
    if (index == 0) {
      for (std::uint64_t i = 1; i <= n; ++i) RL_ASSERT(publish(*this->w, i, sizes[i - 1]) == status::ok);
      this->w.reset();  // ~writer: close
      return;
    }
    reader_t& r = *this->r;
    read_all(r, sizes, n, false);
    RL_ASSERT(r.received() + r.missed() == n);
  }
};

// ---- credits ---------------------------------------------------------------------------

template <bool JoinLate>
struct credited : fixture<credited<JoinLate>> {
  static constexpr std::size_t sizes[] = {16, 16, 16, 16};
  static constexpr std::uint64_t n = 4;
  static bb::geometry shape() { return {2, 64, 16, 1}; }
  std::optional<credited_t> c;

  void before() {
    fixture<credited<JoinLate>>::before();
    if (!JoinLate) c.emplace(this->r->credited());
  }
  void after() {
    c.reset();
    fixture<credited<JoinLate>>::after();
  }

  void thread(unsigned index) {
    if (index == 0) {
      publish_held_back(*this->w, n);
      this->w.reset();
      return;
    }
    if (JoinLate) c.emplace(this->r->credited());
    const std::uint64_t start = c->next_seq();
    if (start > 1) ++g_cov.mid_join;
    if (start > n) {  // joined after the last message: nothing to read
      std::array<std::uint64_t, 4> buf{};
      for (;;) {
        const bb::read_result m = c->try_read(std::as_writable_bytes(std::span(buf)));
        if (m.status() == ringwire::status::closed) break;
        RL_ASSERT(m.status() == ringwire::status::empty);
        rl::yield(1, RL_INFO);
      }
      return;
    }
    const std::uint64_t got = read_all(*c, sizes, n, true);
    RL_ASSERT(got == n + 1 - start);
    RL_ASSERT(c->missed() == 0);
  }
};

// A credited reader at entry 0 reads one message and leaves; another joins entry 0.
struct credited_rejoin : fixture<credited_rejoin> {
  static constexpr std::size_t sizes[] = {16, 16, 16, 16};
  static constexpr std::uint64_t n = 4;
  static bb::geometry shape() { return {2, 64, 16, 1}; }
  std::optional<credited_t> c;

  void before() {
    fixture<credited_rejoin>::before();
    c.emplace(this->r->credited());
  }
  void after() {
    c.reset();
    fixture<credited_rejoin>::after();
  }

  void thread(unsigned index) {
    if (index == 0) {
      publish_held_back(*this->w, n);
      this->w.reset();
      return;
    }
    std::array<std::uint64_t, 4> buf{};
    for (;;) {  // the first holder reads message 1, then leaves
      const bb::read_result m = c->try_read(std::as_writable_bytes(std::span(buf)));
      if (m) {
        RL_ASSERT(m.info().seq == 1);
        break;
      }
      RL_ASSERT(m.status() == ringwire::status::empty);
      rl::yield(1, RL_INFO);
    }
    c.reset();
    c.emplace(*this->r, 0u);  // the chosen-entry join
    const std::uint64_t start = c->next_seq();
    if (start > 2) ++g_cov.mid_join;
    if (start > n) return;  // joined after the last message
    const std::uint64_t got = read_all(*c, sizes, n, true);
    RL_ASSERT(got == n + 1 - start);
    RL_ASSERT(c->missed() == 0);
  }
};

// ---- parking ---------------------------------------------------------------------------

// Blocking reads (no deadline) until closed: every message, in order, intact.
template <class Reader>
void read_blocking(Reader& r, std::uint64_t n) {
  std::array<std::uint64_t, 4> buf{};
  for (std::uint64_t want = 1;; ++want) {
    buf.fill(0);
    const bb::read_result m = r.read(std::as_writable_bytes(std::span(buf)));
    if (m.status() == ringwire::status::closed) {
      RL_ASSERT(want == n + 1);
      break;
    }
    RL_ASSERT(m.status() == ringwire::status::ok);
    RL_ASSERT(m.missed() == 0);
    RL_ASSERT(m.info().seq == want);
    RL_ASSERT(m.info().signature == want);
    RL_ASSERT(m.info().size == 8);
    RL_ASSERT(buf[0] == word_of(want, 0));
  }
}

template <unsigned Readers, std::uint64_t N>
struct park_readers : rl::test_suite<park_readers<Readers, N>, 1 + Readers> {
  std::optional<writer_t> w;
  std::optional<reader_t> r[Readers];

  void before() {
    ringwire::model::payload_words.reset();
    ringwire::model::model_clock::now = {};
    auto [wr, rd] = bb::channel<relacy_sync>({4, 64, 16, 0});
    rd.set_wait(ringwire::wait_strategy::park(0));
    w.emplace(std::move(wr));
    for (unsigned i = 0; i < Readers; ++i) r[i].emplace(rd);
  }
  void after() {
    for (auto& x : r) x.reset();
    w.reset();
    ringwire::model::payload_words.reset();
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (std::uint64_t i = 1; i <= N; ++i) RL_ASSERT(publish(*w, i, 8) == status::ok);
      w.reset();  // ~writer: close, which rings the bell if anyone is parked
      return;
    }
    read_blocking(*r[index - 1], N);
  }
};

// Two lossy rings between two threads, every reader parking with no deadline: thread i
// writes w[i] and reads r[1 - i].
template <class Derived>
struct two_rings : rl::test_suite<Derived, 2> {
  std::optional<writer_t> w[2];
  std::optional<reader_t> r[2];  // r[i] reads w[i]'s ring

  void before() {
    ringwire::model::payload_words.reset();
    ringwire::model::model_clock::now = {};
    for (int i = 0; i < 2; ++i) {
      auto [wr, rd] = bb::channel<relacy_sync>({4, 64, 16, 0});
      rd.set_wait(ringwire::wait_strategy::park(0));
      w[i].emplace(std::move(wr));
      r[i].emplace(std::move(rd));
    }
  }
  void after() {
    for (int i = 0; i < 2; ++i) {
      r[i].reset();
      w[i].reset();
    }
    ringwire::model::payload_words.reset();
  }
};

// w[0]: pings (thread 0 writes), w[1]: pongs (thread 1 writes).
template <std::uint64_t N>
struct park_pingpong : two_rings<park_pingpong<N>> {
  using two_rings<park_pingpong<N>>::w, two_rings<park_pingpong<N>>::r;
  void thread(unsigned index) {
    writer_t& out = *w[index];
    reader_t& in = *r[1 - index];
    std::array<std::uint64_t, 4> buf{};
    for (std::uint64_t i = 1; i <= N; ++i) {
      if (index == 0) RL_ASSERT(publish(out, i, 8) == status::ok);
      buf.fill(0);
      const bb::read_result m = in.read(std::as_writable_bytes(std::span(buf)));
      RL_ASSERT(m.status() == ringwire::status::ok);
      RL_ASSERT(m.info().seq == i);
      RL_ASSERT(buf[0] == word_of(i, 0));
      if (index == 1) RL_ASSERT(publish(out, i, 8) == status::ok);
    }
    w[index].reset();
  }
};

template <std::uint64_t N>
struct park_credited : fixture<park_credited<N>> {
  static bb::geometry shape() { return {2, 64, 16, 1}; }
  std::optional<credited_t> c;

  void before() {
    fixture<park_credited<N>>::before();
    this->r->set_wait(ringwire::wait_strategy::park(0));
    this->w->set_wait(ringwire::wait_strategy::park(0));
    c.emplace(this->r->credited());
  }
  void after() {
    c.reset();
    fixture<park_credited<N>>::after();
  }
  void thread(unsigned index) {
    if (index == 0) {
      std::array<std::uint64_t, 1> words{};
      for (std::uint64_t i = 1; i <= N; ++i) {
        words[0] = word_of(i, 0);
        RL_ASSERT(this->w->write(i, std::as_bytes(std::span(words))) == status::ok);
      }
      this->w.reset();
      return;
    }
    read_blocking(*c, N);
  }
};

// ---- skips ------------------------------------------------------------------------------

// The writer's script (see the top): 1, skip 2..3, 4, skip 5..7, 8.
constexpr std::uint64_t skip_last = 8;
constexpr bool skipped_seq(std::uint64_t n) { return n != 1 && n != 4 && n != skip_last; }

template <bool Credited>
struct skip_run : fixture<skip_run<Credited>> {
  static bb::geometry shape() { return {2, 64, 16, Credited ? 1u : 0u}; }
  std::optional<credited_t> c;

  void before() {
    fixture<skip_run<Credited>>::before();
    if (Credited) c.emplace(this->r->credited());
  }
  void after() {
    c.reset();
    fixture<skip_run<Credited>>::after();
  }
  void write(std::uint64_t seq) {
    RL_ASSERT(this->w->published() + 1 == seq);
    for (;;) {
      const status st = publish(*this->w, seq, 16);
      if (st == status::ok) return;
      RL_ASSERT(Credited && st == status::full);
      ++g_cov.full;
      rl::yield(1, RL_INFO);
    }
  }
  template <class Reader>
  void read(Reader& r) {
    std::array<std::uint64_t, 4> buf{};
    std::uint64_t last = 0;
    for (;;) {
      const std::uint64_t expected = r.next_seq();
      buf.fill(0);
      const bb::read_result m = r.try_read(std::as_writable_bytes(std::span(buf)));
      if (m) {
        RL_ASSERT(!skipped_seq(m.info().seq));
        RL_ASSERT(m.missed() == 0 && m.info().seq == expected && m.info().seq > last);
        RL_ASSERT(m.info().signature == m.info().seq && m.info().size == 16);
        for (std::size_t i = 0; i < 2; ++i) RL_ASSERT(buf[i] == word_of(m.info().seq, i));
        last = m.info().seq;
        continue;
      }
      if (m.status() == status::empty) {
        rl::yield(1, RL_INFO);
        continue;
      }
      if (m.status() == status::closed) break;
      RL_ASSERT(m.status() == status::lagged);
      RL_ASSERT(m.missed() > 0 && r.next_seq() == expected + m.missed());
      ++g_cov.lagged;
      g_cov.dropped += m.missed();
    }
    RL_ASSERT(last == skip_last);  // the newest message is always delivered
    RL_ASSERT(r.received() + r.missed() == skip_last);
    if (Credited) {
      RL_ASSERT(r.received() == 3);
      RL_ASSERT(r.missed() == 5);
    }
  }
  void thread(unsigned index) {
    if (index == 0) {
      write(1);
      RL_ASSERT(this->w->skip(2) == status::ok);
      write(4);
      RL_ASSERT(this->w->skip(3) == status::ok);
      write(skip_last);
      this->w.reset();
      return;
    }
    if (Credited) read(*c);
    else read(*this->r);
  }
};

// w[0]: ring A (thread 0 skips), w[1]: ring B (thread 1 answers).
struct skip_park_pingpong : two_rings<skip_park_pingpong> {
  void thread(unsigned index) {
    std::array<std::uint64_t, 4> buf{};
    if (index == 0) {
      RL_ASSERT(w[0]->skip(2) == status::ok);
      const bb::read_result m = r[1]->read(std::as_writable_bytes(std::span(buf)));
      RL_ASSERT(m.status() == status::ok && m.info().seq == 1 && buf[0] == word_of(1, 0));
    } else {
      const bb::read_result m = r[0]->read(std::as_writable_bytes(std::span(buf)));
      RL_ASSERT(m.status() == status::lagged && m.missed() == 2 && r[0]->next_seq() == 3);
      ++g_cov.lagged;
      RL_ASSERT(publish(*w[1], 1, 8) == status::ok);
    }
    w[index].reset();
  }
};

// ---- driver (models/model_main.hpp) ---------------------------------------------------

using ringwire::model::run_one;
constexpr rl::iteration_t k = 1'000;
constexpr ringwire::model::scenario all_scenarios[] = {
    {"lossy_d2_n5", &run_one<lossy<2, 16, 16, 16, 16, 16>>, 150 * k},
    {"lossy_mixed_d2_n4", &run_one<lossy<2, 24, 8, 24, 16>>, 150 * k},
    {"lossy_payload_d4_n4", &run_one<lossy<4, 32, 32, 32, 32>>, 150 * k},
    {"credited_d2_n4", &run_one<credited<false>>, 100 * k},
    {"credited_join_d2_n4", &run_one<credited<true>>, 100 * k},
    {"credited_rejoin_d2_n4", &run_one<credited_rejoin>, 50 * k, 2},
    {"park_reader_n2", &run_one<park_readers<1, 2>>, 200 * k, 2},
    {"park_two_readers_n2", &run_one<park_readers<2, 2>>, 100 * k},
    {"park_pingpong_n2", &run_one<park_pingpong<2>>, 200 * k, 1},
    {"park_credited_d2_n3", &run_one<park_credited<3>>, 300 * k, 1},
    {"skip_lossy_d2", &run_one<skip_run<false>>, 100 * k, 2},
    {"skip_credited_d2", &run_one<skip_run<true>>, 100 * k, 2},
    {"skip_park_pingpong", &run_one<skip_park_pingpong>, 100 * k, 1},
};

#if RINGWIRE_MODEL_MUTANT == 0
constexpr std::span<const ringwire::model::expectation> mutant_failures{};
#elif RINGWIRE_MODEL_MUTANT == 1
// No light fence: a parked reader misses the publish and the writer misses the reader.
constexpr ringwire::model::expectation mutant_failures[] = {{"park_pingpong_n2", rl::test_result_deadlock},
                                                            {"park_credited_d2_n3", rl::test_result_deadlock},
                                                            {"skip_park_pingpong", rl::test_result_deadlock}};
#elif RINGWIRE_MODEL_MUTANT == 2
// A stale message accepted (lossy_d2_n5); a published message taken for a skipped one
// (skip_credited_d2). USER ASSERT FAILED both.
constexpr ringwire::model::expectation mutant_failures[] = {{"lossy_d2_n5", rl::test_result_user_assert_failed},
                                                            {"skip_credited_d2", rl::test_result_user_assert_failed}};
#elif RINGWIRE_MODEL_MUTANT == 3
// A torn message accepted (USER ASSERT FAILED).
constexpr ringwire::model::expectation mutant_failures[] = {{"lossy_d2_n5", rl::test_result_user_assert_failed}};
#else
#error "no byte_broadcast expectation for this RINGWIRE_MODEL_MUTANT"
#endif

}  // namespace

int main(int argc, char** argv) {
  return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures,
                                     {[] { g_cov = {}; }, [] {
                                        std::printf("    coverage: %llu lagged results, %llu messages lost, %llu full, "
                                                    "%llu mid-stream joins\n",
                                                    g_cov.lagged, g_cov.dropped, g_cov.full, g_cov.mid_join);
                                      }});
}
