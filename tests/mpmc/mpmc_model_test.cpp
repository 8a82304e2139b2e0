// Model-based property test of ringwire::mpmc (rapidcheck, rc::state).
//
// A random capacity (1..9: power-of-two and divided geometry) and cell layout (stamp in
// cell or stamp array), then a random sequence of commands run on one thread against a real
// queue or channel and a sequential model: a deque of values and holes (a hole is what a
// push whose constructor threw leaves behind: it takes a cell until a pop skips it,
// mpmc/core.hpp), plus the close state. Channel runs
// keep several sender and receiver handles: commands copy and drop them, and act through
// any of them (or through a default-constructed, closed one once a side has none left).
// Every status and every popped value must match the model, and so must size_approx(),
// capacity() and is_closed(). The element type counts live instances: after every command
// exactly the queued elements are alive (none once a channel's last handle is gone), and
// nothing after a run.
//
// Default: 3000 command sequences per property (RC_PARAMS="max_success=N" for more).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "ringwire/mpmc.hpp"
#include "support/counted_item.hpp"

// g++ 12 at -O3 reports the element inside an engaged recv_result<counted> (a std::optional)
// as maybe uninitialized once counted's members are inlined from the shared header (a
// known false positive of -Wmaybe-uninitialized through optional's storage); the property
// itself checks every value read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

namespace mpmc = ringwire::mpmc;
using ringwire::status;

// The element (tests/support/counted_item.hpp): counts live instances, can refuse to be
// constructed.
using rw_test::counted;

// ---- the model -------------------------------------------------------------------------------

struct model {
  bool channel = false;        // channel handles, or one queue object
  std::uint64_t capacity = 1;
  std::deque<std::optional<std::uint64_t>> cells;  // queued values; nullopt = a hole
  bool sealed = false;         // queue closed, or the last sender gone
  std::size_t senders = 1;     // live sender handles (channel)
  std::size_t receivers = 1;   // live receiver handles (channel)
  std::uint64_t next = 0;

  [[nodiscard]] long elements() const {
    long n = 0;
    for (const auto& c : cells) n += c ? 1 : 0;
    return n;
  }
  // A heap channel's block (and what it holds) goes with its last handle.
  [[nodiscard]] bool gone() const noexcept { return channel && senders == 0 && receivers == 0; }
  // A push's outcome before any waiting: ok, full or closed.
  [[nodiscard]] status push_status() const noexcept {
    if (channel && (senders == 0 || receivers == 0)) return status::closed;  // closed handle / no receiver
    if (sealed) return status::closed;
    return cells.size() == capacity ? status::full : status::ok;
  }
  // A pop's outcome before any waiting, skipping (freeing) leading holes: ok, empty, closed.
  status pop_status() {
    if (channel && receivers == 0) return status::closed;  // a closed handle
    while (!cells.empty() && !cells.front()) cells.pop_front();
    if (!cells.empty()) return status::ok;
    return sealed ? status::closed : status::empty;
  }
};

struct sut {
  std::optional<mpmc::queue<counted>> q;
  std::vector<mpmc::sender<counted>> tx;
  std::vector<mpmc::receiver<counted>> rx;
  mpmc::sender<counted> closed_tx;    // default-constructed: closed
  mpmc::receiver<counted> closed_rx;

  mpmc::sender<counted>& sender(std::size_t i) { return tx.empty() ? closed_tx : tx[i % tx.size()]; }
  mpmc::receiver<counted>& receiver(std::size_t i) { return rx.empty() ? closed_rx : rx[i % rx.size()]; }
};

using command = rc::state::Command<model, sut>;

void check_live(const model& m, long extra = 0) {
  RC_ASSERT(counted::live - extra == (m.gone() ? 0L : m.elements()));
  RC_ASSERT(counted::bad == 0L);
}

const char* name(status s) { return ringwire::to_string(s); }

// ---- push ---------------------------------------------------------------------------------------

struct push_one final : command {
  enum class how { try_move, try_copy, try_emplace, push_for_zero, push_stopped, refused };
  how h = static_cast<how>(*rc::gen::inRange(0, 6));
  std::size_t handle = *rc::gen::inRange<std::size_t>(0, 4);

  status expect(model& m) const {
    const status s = m.push_status();
    if (s == status::ok) m.cells.emplace_back(h == how::refused ? std::nullopt : std::optional(m.next));
    ++m.next;
    if (s == status::full && h == how::push_for_zero) return status::timed_out;
    if (s == status::full && h == how::push_stopped) return status::cancelled;
    return s;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const std::uint64_t v = s0.next;
    const status want = expect(m);
    counted c(v);
    std::stop_source stop;
    stop.request_stop();
    status got = status::ok;
    bool threw = false;
    auto& tx = s.sender(handle);
    try {
      switch (h) {
        case how::try_move: got = m.channel ? tx.try_send(std::move(c)) : s.q->try_push(std::move(c)); break;
        case how::try_copy: got = m.channel ? tx.try_send(std::as_const(c)) : s.q->try_push(std::as_const(c)); break;
        case how::try_emplace: got = m.channel ? tx.try_emplace(v) : s.q->try_emplace(v); break;
        case how::push_for_zero:
          got = m.channel ? tx.send_for(std::move(c), std::chrono::microseconds(0))
                          : s.q->push_for(std::move(c), std::chrono::microseconds(0));
          break;
        case how::push_stopped:
          got = m.channel ? tx.send(std::move(c), stop.get_token()) : s.q->push(std::move(c), stop.get_token());
          break;
        case how::refused: got = m.channel ? tx.try_emplace(v, true) : s.q->try_emplace(v, true); break;
      }
    } catch (const std::runtime_error&) {
      threw = true;
    }
    // A refused construction throws exactly when the push claimed a cell (now a hole).
    RC_ASSERT(threw == (h == how::refused && want == status::ok));
    if (!threw) RC_ASSERT(name(got) == std::string(name(want)));
    if (got != status::ok || threw || h == how::try_copy || h == how::try_emplace || h == how::refused)
      RC_ASSERT(c.is(v));  // a push that did not go in leaves its argument untouched
    check_live(m, 1);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_push(move)", "try_push(copy)", "try_emplace", "push_for(0)",
                                        "push(stopped)", "try_emplace(throws)"};
    os << names[static_cast<int>(h)] << " via " << handle;
  }
};

// ---- pop ----------------------------------------------------------------------------------------

struct pop_one final : command {
  enum class how { try_pop, try_pop_into, pop_for_zero, pop_stopped, pop };
  how h = static_cast<how>(*rc::gen::inRange(0, 5));
  std::size_t handle = *rc::gen::inRange<std::size_t>(0, 4);

  status expect(model& m, std::optional<std::uint64_t>& value) const {
    const status s = m.pop_status();
    if (s == status::ok) {
      value = m.cells.front();
      m.cells.pop_front();
    }
    if (s == status::empty && h == how::pop_for_zero) return status::timed_out;
    if (s == status::empty && h == how::pop_stopped) return status::cancelled;
    return s;
  }
  void checkPreconditions(const model& s0) const override {
    model m = s0;
    RC_PRE(h != how::pop || m.pop_status() != status::empty);  // pop() would wait forever
  }
  void apply(model& m) const override {
    std::optional<std::uint64_t> v;
    (void)expect(m, v);
  }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    std::optional<std::uint64_t> want_value;
    const status want = expect(m, want_value);
    std::stop_source stop;
    stop.request_stop();
    auto& rx = s.receiver(handle);
    if (h == how::try_pop_into) {
      counted out(~std::uint64_t{0});
      const status got = m.channel ? rx.try_recv(out) : s.q->try_pop(out);
      RC_ASSERT(name(got) == std::string(name(want)));
      RC_ASSERT(out.is(got == status::ok ? *want_value : ~std::uint64_t{0}));
      check_live(m, 1);
      return;
    }
    ringwire::recv_result<counted> r(status::empty);
    switch (h) {
      case how::try_pop: r = m.channel ? rx.try_recv() : s.q->try_pop(); break;
      case how::pop_for_zero:
        r = m.channel ? rx.recv_for(std::chrono::microseconds(0)) : s.q->pop_for(std::chrono::microseconds(0));
        break;
      case how::pop_stopped: r = m.channel ? rx.recv(stop.get_token()) : s.q->pop(stop.get_token()); break;
      case how::pop: r = m.channel ? rx.recv() : s.q->pop(); break;
      case how::try_pop_into: break;
    }
    RC_ASSERT(name(r.status()) == std::string(name(want)));
    if (r) RC_ASSERT(r->is(*want_value));
    check_live(m, r ? 1 : 0);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_pop", "try_pop(out)", "pop_for(0)", "pop(stopped)", "pop"};
    os << names[static_cast<int>(h)] << " via " << handle;
  }
};

// ---- handles and close ----------------------------------------------------------------------------

// Channel: copy or drop a sender or a receiver. Queue: close().
struct handles final : command {
  int what = *rc::gen::inRange(0, 4);  // 0 copy sender, 1 drop sender, 2 copy receiver, 3 drop receiver
  std::size_t which = *rc::gen::inRange<std::size_t>(0, 4);

  void apply(model& m) const override {
    if (!m.channel) {
      m.sealed = true;
      return;
    }
    switch (what) {
      case 0: m.senders += m.senders > 0 ? 1 : 0; break;
      case 1:
        if (m.senders > 0 && --m.senders == 0) m.sealed = true;
        break;
      case 2: m.receivers += m.receivers > 0 ? 1 : 0; break;
      case 3: m.receivers -= m.receivers > 0 ? 1 : 0; break;
    }
    if (m.gone()) m.cells.clear();  // destroyed with the block
  }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    apply(m);
    if (!m.channel) {
      s.q->close();
      RC_ASSERT(s.q->is_closed());
    } else {
      switch (what) {
        case 0:
          if (!s.tx.empty()) s.tx.push_back(s.tx[which % s.tx.size()]);
          break;
        case 1:
          if (!s.tx.empty()) s.tx.erase(s.tx.begin() + static_cast<std::ptrdiff_t>(which % s.tx.size()));
          break;
        case 2:
          if (!s.rx.empty()) s.rx.push_back(s.rx[which % s.rx.size()]);
          break;
        case 3:
          if (!s.rx.empty()) s.rx.erase(s.rx.begin() + static_cast<std::ptrdiff_t>(which % s.rx.size()));
          break;
      }
      RC_ASSERT(s.tx.size() == m.senders);
      RC_ASSERT(s.rx.size() == m.receivers);
      for (auto& r : s.rx) RC_ASSERT(r.is_closed() == m.sealed);
      for (auto& t : s.tx) RC_ASSERT(t.is_closed() == (m.receivers == 0));
    }
    check_live(m);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"copy sender", "drop sender", "copy receiver", "drop receiver"};
    os << names[what] << " " << which << " (queue: close)";
  }
};

struct observe final : command {
  void apply(model&) const override {}
  void run(const model& m, sut& s) const override {
    if (!m.channel) {
      RC_ASSERT(s.q->size_approx() == m.cells.size());  // holes included: they take cells
      RC_ASSERT(s.q->capacity() == m.capacity);
      RC_ASSERT(s.q->is_closed() == m.sealed);
    } else {
      if (!s.tx.empty()) {
        RC_ASSERT(s.tx.front().size_approx() == (m.gone() ? 0 : m.cells.size()));
        RC_ASSERT(s.tx.front().capacity() == m.capacity);
      }
      if (!s.rx.empty()) RC_ASSERT(s.rx.front().size_approx() == m.cells.size());
    }
    check_live(m);
  }
  void show(std::ostream& os) const override { os << "observe"; }
};

auto commands() {
  return rc::state::gen::execOneOfWithArgs<push_one, push_one, push_one, push_one, push_one, push_one,  //
                                           pop_one, pop_one, pop_one, pop_one, pop_one, pop_one,        //
                                           observe, observe, handles>();
}

template <bool Channel>
void run_property() {
  model m0;
  m0.channel = Channel;
  m0.capacity = *rc::gen::inRange<std::uint64_t>(1, 10).as("capacity");
  const mpmc::options opt{.cells = *rc::gen::arbitrary<bool>().as("stamp array") ? mpmc::cell_layout::stamp_array
                                                                                  : mpmc::cell_layout::stamp_in_cell};
  counted::live = 0;  // a failed (and so reported) case may have left some
  counted::bad = 0;
  {
    sut s;
    if constexpr (Channel) {
      auto [tx, rx] = mpmc::channel<counted>(static_cast<std::size_t>(m0.capacity), opt);
      s.tx.push_back(std::move(tx));
      s.rx.push_back(std::move(rx));
    } else {
      s.q.emplace(static_cast<std::size_t>(m0.capacity), opt);
    }
    const auto cmds = *rc::state::gen::commands(m0, commands());
    model end = m0;
    rc::state::applyAll(cmds, end);
    RC_TAG(end.sealed ? "closed" : "open");
    rc::state::runAll(cmds, m0, s);
  }
  RC_ASSERT(counted::live == 0L);
  RC_ASSERT(counted::bad == 0L);
}

RC_GTEST_PROP(MpmcModel, QueueMatchesSequentialModel, ()) { run_property<false>(); }
RC_GTEST_PROP(MpmcModel, ChannelMatchesSequentialModel, ()) { run_property<true>(); }

}  // namespace

// main(): tests/support/rc_main.cpp
