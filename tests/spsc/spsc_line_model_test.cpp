// Model-based property test of ringwire::spsc::line_channel (rapidcheck, rc::state), in the
// style of spsc_model_test.cpp.
//
// A random capacity (1..17, any value: the line channel does not round) and start index
// (anywhere, or within a few dozen of 2^64 or of 0), then a random sequence of commands run
// on one thread against a real channel and a sequential model (a std::deque and two
// flags). Every status, every count and every received value must match the model; so
// must capacity() and both is_closed(). The receiver reads each slot's stamp, so nothing
// it returns depends on a cache; the sender caches head but re-reads it whenever the cache
// says full, so its results do not either. The element counts its live instances: after
// every command the channel holds exactly the queued elements (none once both ends are
// closed), and after each run nothing is left alive.
//
// Default: 3000 command sequences (RC_PARAMS="max_success=N" for more; a failure prints
// the RC_PARAMS that replays it).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <ostream>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "ringwire/spsc.hpp"
#include "support/counted_item.hpp"

namespace {

namespace spsc = ringwire::spsc;
using ringwire::status;

using item = rw_test::counted;  // tests/support/counted_item.hpp

// ---- the model -----------------------------------------------------------------------

struct model {
  std::uint64_t capacity = 1;
  std::deque<std::uint64_t> q;
  bool tx_open = true;
  bool rx_open = true;
  std::uint64_t next = 0;  // the value of the next element a command makes

  [[nodiscard]] bool can_send() const noexcept { return tx_open && rx_open; }
  // Heap memory (and every queued element) goes with the last endpoint.
  [[nodiscard]] bool gone() const noexcept { return !tx_open && !rx_open; }
  // What a receive finds: ok (something queued), empty, or closed.
  [[nodiscard]] status recv_status() const noexcept {
    if (!rx_open) return status::closed;
    if (!q.empty()) return status::ok;
    return tx_open ? status::empty : status::closed;
  }
};

struct sut {
  spsc::line_sender<item> tx;
  spsc::line_receiver<item> rx;
};

using command = rc::state::Command<model, sut>;

void check_live(const model& m, long extra = 0) {
  RC_ASSERT(item::live - extra == (m.gone() ? 0L : static_cast<long>(m.q.size())));
  RC_ASSERT(item::bad == 0L);
}

std::string name(status s) { return ringwire::to_string(s); }

// try_send (move or copy) / try_emplace / send_for(0) / send(stopped token).
struct send_one final : command {
  int how = *rc::gen::inRange(0, 5);

  status expect(model& m) const {
    status s = !m.can_send() ? status::closed : m.q.size() == m.capacity ? status::full : status::ok;
    if (s == status::ok) m.q.push_back(m.next);
    ++m.next;
    if (s == status::full && how == 3) s = status::timed_out;
    if (s == status::full && how == 4) s = status::cancelled;
    return s;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const std::uint64_t v = s0.next;
    const status want = expect(m);
    item c(v);
    std::stop_source stop;
    stop.request_stop();
    const status got = how == 0   ? s.tx.try_send(std::move(c))
                       : how == 1 ? s.tx.try_send(std::as_const(c))
                       : how == 2 ? s.tx.try_emplace(v)
                       : how == 3 ? s.tx.send_for(std::move(c), std::chrono::microseconds(0))
                                  : s.tx.send(std::move(c), stop.get_token());
    RC_ASSERT(name(got) == name(want));
    // A send that did not go in leaves its argument untouched; a copy always does.
    RC_ASSERT(c.is(v) == (got != status::ok || how == 1 || how == 2));
    check_live(m, 1);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_send(move)", "try_send(copy)", "try_emplace", "send_for(0)",
                                        "send(stopped)"};
    os << names[how];
  }
};

// try_recv() / try_recv(T&) / recv_for(0) / recv(stopped token).
struct recv_one final : command {
  int how = *rc::gen::inRange(0, 4);

  status expect(model& m, std::uint64_t& v) const {
    status s = m.recv_status();
    if (s == status::ok) {
      v = m.q.front();
      m.q.pop_front();
    }
    if (s == status::empty && how == 2) s = status::timed_out;
    if (s == status::empty && how == 3) s = status::cancelled;
    return s;
  }
  void apply(model& m) const override {
    std::uint64_t v = 0;
    (void)expect(m, v);
  }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    std::uint64_t v = 0;
    const status want = expect(m, v);
    if (how == 1) {
      item out(~std::uint64_t{0});
      RC_ASSERT(name(s.rx.try_recv(out)) == name(want));
      RC_ASSERT(out.is(want == status::ok ? v : ~std::uint64_t{0}));
      check_live(m, 1);
      return;
    }
    std::stop_source stop;
    stop.request_stop();
    auto r = how == 0 ? s.rx.try_recv() : how == 2 ? s.rx.recv_for(std::chrono::microseconds(0)) : s.rx.recv(stop.get_token());
    RC_ASSERT(name(r.status()) == name(want));
    if (r) RC_ASSERT(r->is(v));
    check_live(m, r ? 1 : 0);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_recv", "try_recv(T&)", "recv_for(0)", "recv(stopped)"};
    os << names[how];
  }
};

// consume(fn, max); fn sometimes moves from the elements.
struct consume final : command {
  std::uint64_t max = *rc::gen::weightedOneOf<std::uint64_t>(
      {{4, rc::gen::inRange<std::uint64_t>(0, 21)}, {1, rc::gen::just<std::uint64_t>(SIZE_MAX)}});
  bool move_out = *rc::gen::arbitrary<bool>();

  std::vector<std::uint64_t> expect(model& m) const {
    const std::uint64_t n = m.rx_open ? std::min<std::uint64_t>(m.q.size(), max) : 0;
    std::vector<std::uint64_t> vals(m.q.begin(), m.q.begin() + static_cast<std::ptrdiff_t>(n));
    m.q.erase(m.q.begin(), m.q.begin() + static_cast<std::ptrdiff_t>(n));
    return vals;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const std::vector<std::uint64_t> want = expect(m);
    std::vector<item> taken;
    std::size_t i = 0;
    bool in_order = true;
    const std::size_t got = s.rx.consume(
        [&](item& e) {
          in_order = in_order && i < want.size() && e.is(want[i]);
          if (move_out) taken.push_back(std::move(e));
          ++i;
        },
        static_cast<std::size_t>(max));
    RC_ASSERT(in_order);
    RC_ASSERT(got == want.size() && i == got);
    check_live(m, static_cast<long>(taken.size()));
  }
  void show(std::ostream& os) const override {
    os << "consume(" << (max == SIZE_MAX ? std::string("SIZE_MAX") : std::to_string(max)) << (move_out ? ", moving)" : ")");
  }
};

struct close_side final : command {
  bool sender = *rc::gen::arbitrary<bool>();

  void apply(model& m) const override { (sender ? m.tx_open : m.rx_open) = false; }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    apply(m);
    if (sender) {
      s.tx.close();
    } else {
      s.rx.close();
    }
    check_live(m);
  }
  void show(std::ostream& os) const override { os << (sender ? "sender.close()" : "receiver.close()"); }
};

// capacity() and both is_closed(): no state change.
struct observe final : command {
  void run(const model& m, sut& s) const override {
    RC_ASSERT(s.tx.capacity() == (m.tx_open ? m.capacity : 0));
    RC_ASSERT(s.rx.capacity() == (m.rx_open ? m.capacity : 0));
    RC_ASSERT(s.tx.is_closed() == !m.can_send());
    RC_ASSERT(s.rx.is_closed() == (m.recv_status() == status::closed));
    check_live(m);
  }
  void show(std::ostream& os) const override { os << "observe"; }
};

// Repeats weight the choice: a close comes about once in 20 commands.
auto commands() {
  return rc::state::gen::execOneOfWithArgs<send_one, send_one, send_one, send_one, send_one, send_one, send_one,
                                           send_one, recv_one, recv_one, recv_one, recv_one, recv_one, recv_one,
                                           consume, consume, consume, observe, observe, close_side>();
}

RC_GTEST_PROP(SpscLineModel, MatchesSequentialModel, ()) {
  model m0;
  m0.capacity = *rc::gen::inRange<std::uint64_t>(1, 18).as("capacity");
  const std::uint64_t start =
      *rc::gen::weightedOneOf<std::uint64_t>(
           {{2, rc::gen::arbitrary<std::uint64_t>()},
            {3, rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 16), [](std::uint64_t d) { return ~std::uint64_t{0} - d; })},
            {1, rc::gen::inRange<std::uint64_t>(0, 48)}})
           .as("start_index");
  item::live = 0;  // a failed (and so reported) case may have left some
  item::bad = 0;
  {
    spsc::line_options opt;
    opt.start_index = start;
    auto [tx, rx] = spsc::line_channel<item>(static_cast<std::size_t>(m0.capacity), opt);
    sut s{std::move(tx), std::move(rx)};
    const auto cmds = *rc::state::gen::commands(m0, commands());
    model end = m0;
    rc::state::applyAll(cmds, end);
    RC_TAG(end.tx_open ? (end.rx_open ? "both open" : "receiver closed") : (end.rx_open ? "sender closed" : "both closed"));
    RC_TAG(end.next > m0.capacity ? "lapped the ring" : "within one lap");
    rc::state::runAll(cmds, m0, s);
  }
  RC_ASSERT(item::live == 0L);
  RC_ASSERT(item::bad == 0L);
}

}  // namespace

// main(): tests/support/rc_main.cpp
