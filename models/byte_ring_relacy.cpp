// models/byte_ring_relacy.cpp -- the byte rings under the Relacy model checker.
//
// The real ringwire/byte_ring headers instantiated with `relacy_sync` (relacy_sync.hpp):
// headers are read and written through Sync::word (one Relacy atomic per header word), the
// indices, park words and writer count are Relacy atomics, and the reader's zeroing of
// consumed bytes goes word by word through Sync::word (layout.hpp, clear_words).
//
// Payload ownership is checked with one shadow rl::var per 8-byte position of the 64-byte
// data region: a writer stores the record's type into the shadow cell of its header position
// after it claimed the bytes, the reader loads it after try_read returned the record and
// compares. A commit that does not happen-before the reader's read (the header's release /
// acquire), or a claim that does not come after the reader's last read of those bytes (head's
// release / acquire), is a Relacy DATA RACE. The model's payloads are left zero (the header
// cells are made from zeroed plain words, relacy_sync.hpp "payload words").
//
// Scenarios:
//   m2o_two_writers  many-to-one, 2 writers x 4 records (sizes 0/8/16, so claims wrap with a
//                    padding record in the same CAS), one abort and one partial commit each,
//                    against a reader using try_read / release; writers spin on full. Every
//                    record arrives once, in per-writer order, then closed.
//   o2o_park         one-to-one, blocking write / read with wait_strategy::park(0) on both
//                    sides: both park, a lost wake-up is a DEADLOCK; then close -> closed.
//
// Mutants (models/byte_ring.cmake): 2 = every release store relaxed (the commit's header
// store and head's release among them): DATA RACE; 1 = light_fence a no-op: DEADLOCK.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "model_main.hpp"

namespace {

using ringwire::relacy_sync;
using ringwire::status;
using ringwire::wait_strategy;
namespace br = ringwire::byte_ring;
using layout_t = br::layout<relacy_sync>;
using ref_t = br::ring_ref<relacy_sync>;

constexpr std::uint64_t cap = 64;
constexpr std::size_t cells = cap / 8;

// Memory for one layout, 128-byte aligned by hand (Relacy's heap aligns less).
struct ring_memory {
  std::unique_ptr<std::byte[]> raw = std::make_unique<std::byte[]>(layout_t::footprint(cap) + 128);
  void* aligned() {
    auto p = reinterpret_cast<std::uintptr_t>(raw.get());
    return reinterpret_cast<void*>((p + 127) & ~std::uintptr_t{127});
  }
};

template <class Derived, int Threads>
struct ring_fixture : rl::test_suite<Derived, Threads> {
  ring_memory mem;
  layout_t* l = nullptr;
  rl::var<int> shadow[cells];

  void setup(br::ring_kind kind) {
    ringwire::model::payload_words.reset();
    ringwire::model::model_clock::now = {};
    std::memset(mem.raw.get(), 0, layout_t::footprint(cap) + 128);
    l = layout_t::format(mem.aligned(), layout_t::footprint(cap), cap, kind);
  }
  void teardown() { ringwire::model::payload_words.reset(); }

  std::size_t cell_of(const std::byte* payload) const {
    return static_cast<std::size_t>(payload - header_bytes_before() - l->data()) / 8;
  }
  static constexpr std::ptrdiff_t header_bytes_before() { return static_cast<std::ptrdiff_t>(br::header_bytes); }
};

// ---- many-to-one: claim / wrap / commit / partial commit / abort / read ------------------

constexpr int m2o_records = 4;

std::size_t m2o_size(int w, int seq) { return static_cast<std::size_t>((w + seq) % 3) * 8; }
std::int32_t m2o_type(int w, int seq) { return 1 + w * 100 + seq; }

struct m2o_two_writers : ring_fixture<m2o_two_writers, 3> {
  std::optional<br::shared_writer<relacy_sync>> w[2];
  std::optional<br::reader<relacy_sync>> rx;

  void before() {
    setup(br::ring_kind::many_to_one);
    w[0].emplace(ref_t(l, nullptr));
    w[1].emplace(*w[0]);
    rx.emplace(ref_t(l, nullptr));
  }
  void after() {
    w[0].reset();
    w[1].reset();
    rx.reset();
    teardown();
  }

  void write_one(int me, int seq, bool abort_first, bool partial) {
    auto& tx = *w[me];
    const std::size_t n = m2o_size(me, seq);
    for (;;) {
      br::claim c = tx.try_reserve(partial ? n + 8 : n);
      if (c.status() == status::full) {
        relacy_sync::yield();
        continue;
      }
      RL_ASSERT(c.status() == status::ok);
      if (abort_first) {
        tx.abort();
        abort_first = false;
        continue;
      }
      shadow[cell_of(c.bytes().data())](RL_INFO) = m2o_type(me, seq);
      tx.commit(m2o_type(me, seq), n);
      return;
    }
  }

  void thread(unsigned index) {
    if (index < 2) {
      const int me = static_cast<int>(index);
      for (int seq = 0; seq < m2o_records; ++seq) write_one(me, seq, seq == 1, seq == 2);
      w[me].reset();  // the last one closes the ring
      return;
    }
    int next[2] = {0, 0};
    br::record_view r;
    for (;;) {
      const status s = rx->try_read(r);
      if (s == status::empty) {
        rx->release();
        relacy_sync::yield();
        continue;
      }
      if (s == status::closed) break;
      const int who = (r.type - 1) / 100;
      RL_ASSERT(who == 0 || who == 1);
      const int seq = next[who]++;
      RL_ASSERT(r.type == m2o_type(who, seq));
      RL_ASSERT(r.payload.size() == m2o_size(who, seq));
      const int seen = shadow[cell_of(r.payload.data())](RL_INFO);
      RL_ASSERT(seen == r.type);
      rx->release();
    }
    RL_ASSERT(!rx->corrupt());
    RL_ASSERT(next[0] == m2o_records && next[1] == m2o_records);
  }
};

// ---- one-to-one: publish / release / park / close -----------------------------------------

constexpr int o2o_records = 5;
std::size_t o2o_size(int seq) { return static_cast<std::size_t>(seq % 3) * 8; }

struct o2o_park : ring_fixture<o2o_park, 2> {
  std::optional<br::writer<relacy_sync>> tx;
  std::optional<br::reader<relacy_sync>> rx;

  void before() {
    setup(br::ring_kind::one_to_one);
    br::options o;
    o.sender_wait = wait_strategy::park(0);
    o.receiver_wait = wait_strategy::park(0);
    tx.emplace(ref_t(l, nullptr), o);
    rx.emplace(ref_t(l, nullptr), o);
  }
  void after() {
    tx.reset();
    rx.reset();
    teardown();
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int seq = 0; seq < o2o_records; ++seq) {
        br::claim c = tx->reserve(o2o_size(seq));
        RL_ASSERT(c.status() == status::ok);
        shadow[cell_of(c.bytes().data())](RL_INFO) = seq + 1;
        tx->commit(seq + 1);
      }
      tx.reset();
      return;
    }
    br::record_view r;
    for (int seq = 0; seq < o2o_records; ++seq) {
      RL_ASSERT(rx->read(r) == status::ok);
      RL_ASSERT(r.type == seq + 1);
      RL_ASSERT(r.payload.size() == o2o_size(seq));
      const int seen = shadow[cell_of(r.payload.data())](RL_INFO);
      RL_ASSERT(seen == seq + 1);
      if (seq % 2 == 1) rx->release();  // also hold two records at once
    }
    RL_ASSERT(rx->read(r) == status::closed);
    RL_ASSERT(!rx->corrupt());
  }
};

// ---- driver (models/model_main.hpp) ---------------------------------------------------

using ringwire::model::run_one;
constexpr ringwire::model::scenario all_scenarios[] = {
    {"m2o_two_writers", &run_one<m2o_two_writers>, 400'000},
    {"o2o_park", &run_one<o2o_park>, 300'000},
};

#if RINGWIRE_MODEL_MUTANT == 0
constexpr std::span<const ringwire::model::expectation> mutant_failures{};
#elif RINGWIRE_MODEL_MUTANT == 1
constexpr ringwire::model::expectation mutant_failures[] = {{"o2o_park", rl::test_result_deadlock}};
#elif RINGWIRE_MODEL_MUTANT == 2
// A payload read whose write does not happen-before it: a data race, or an uninitialised
// read when the slot was never written in that execution.
constexpr ringwire::model::expectation mutant_failures[] = {
    {"m2o_two_writers", rl::test_result_data_race, rl::test_result_unitialized_access}};
#else
#error "unknown RINGWIRE_MODEL_MUTANT"
#endif

}  // namespace

int main(int argc, char** argv) { return ringwire::model::run_models(argc, argv, all_scenarios, mutant_failures); }
