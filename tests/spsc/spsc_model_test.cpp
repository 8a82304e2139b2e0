// Model-based property test of ringwire::spsc (rapidcheck, rc::state).
//
// A random capacity (1..17) and start index (anywhere, or within a few dozen of 2^64 or of
// 0), then a random sequence of commands run on one thread against a real channel and a
// sequential model (a std::deque plus the two indices). Every status, every count and every
// received value must match the model; so must capacity(), size_approx(), is_closed() and
// a monitor's snapshot. The element type counts its live instances: after every command
// the channel holds exactly the queued elements (none once both ends are closed), and
// after each run nothing is left alive.
//
// The model follows the layout's documented caching (spsc/layout.hpp): the receiver
// re-reads the sender's tail only when its cached copy says empty, so the batch reads
// (consume, try_recv_batch, read_span) return at most what that last look saw. The
// sender's results do not depend on its cache: it re-reads whenever it would fall short.
//
// Default: 3000 command sequences per property (RC_PARAMS="max_success=N" for more; a
// failure prints the RC_PARAMS that replays it).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iterator>
#include <ostream>
#include <cstddef>
#include <ranges>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "support/counted_item.hpp"
#include "support/unsized_range.hpp"
#include "ringwire/spsc.hpp"

namespace {

namespace spsc = ringwire::spsc;
using ringwire::status;

using rw_test::counted;

// ---- the model ---------------------------------------------------------------------------

struct model {
  std::uint64_t capacity = 1;
  std::uint64_t slot_count = 1;  // capacity rounded up to a power of two
  std::uint64_t start = 0;
  std::uint64_t head = 0;     // index of the oldest queued element
  std::uint64_t tail = 0;     // index one past the newest
  std::uint64_t rx_seen = 0;  // the receiver's cached copy of tail
  std::deque<std::uint64_t> q;
  bool tx_open = true;
  bool rx_open = true;
  std::uint64_t next = 0;  // value of the next element a command makes
  bool heap = true;        // heap channel: freed with its last endpoint; inline: by its owner

  [[nodiscard]] std::uint64_t size() const noexcept { return q.size(); }
  [[nodiscard]] std::uint64_t room() const noexcept { return capacity - size(); }
  [[nodiscard]] bool can_send() const noexcept { return tx_open && rx_open; }
  [[nodiscard]] bool both_closed() const noexcept { return !tx_open && !rx_open; }
  // A heap channel releases its memory and every queued element with its last endpoint; an
  // inline channel keeps them until the object itself is destroyed.
  [[nodiscard]] bool gone() const noexcept { return heap && both_closed(); }

  void push(std::uint64_t v) {
    q.push_back(v);
    ++tail;
  }
  void pop(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) q.pop_front();
    head += n;
  }
  // The receiver looks at tail (refill()): something to read, empty, or closed for good.
  status refill() {
    rx_seen = tail;
    if (rx_seen != head) return status::ok;
    return tx_open ? status::empty : status::closed;
  }
  // What the receiver's cache shows it; refills first when the cache says empty.
  // Returns how many it can read now (0 with why != ok when none).
  std::uint64_t visible(status& why) {
    why = status::ok;
    if (!rx_open) return why = status::closed, 0;
    if (head == rx_seen) {
      why = refill();
      if (why != status::ok) return 0;
    }
    return rx_seen - head;
  }
  // The send outcome of one element that finds no room: full, or closed.
  [[nodiscard]] status send_status() const noexcept {
    if (!can_send()) return status::closed;
    return size() == capacity ? status::full : status::ok;
  }
};

struct sut {
  spsc::sender<counted> tx;
  spsc::receiver<counted> rx;
};

using command = rc::state::Command<model, sut>;

// After every command: the channel holds exactly the queued elements, or nothing once gone.
void check_live(const model& m, long extra = 0) {
  RC_ASSERT(counted::live - extra == (m.gone() ? 0 : static_cast<long>(m.size())));
  RC_ASSERT(counted::bad == 0L);
}

const char* name(status s) { return ringwire::to_string(s); }

// ---- sends -------------------------------------------------------------------------------

// try_send (move or copy) / try_emplace / send_for(0) / send(stopped token).
struct send_one final : command {
  enum class how { try_move, try_copy, try_emplace, send_for_zero, send_stopped };
  how h = static_cast<how>(*rc::gen::inRange(0, 5));

  status expect(model& m) const {
    const status s = m.send_status();
    if (s == status::ok) m.push(m.next);
    ++m.next;
    if (s == status::full && h == how::send_for_zero) return status::timed_out;
    if (s == status::full && h == how::send_stopped) return status::cancelled;
    return s;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const std::uint64_t v = s0.next;
    const status want = expect(m);
    counted c(v);
    status got = status::ok;
    switch (h) {
      case how::try_move: got = s.tx.try_send(std::move(c)); break;
      case how::try_copy: got = s.tx.try_send(std::as_const(c)); break;
      case how::try_emplace: got = s.tx.try_emplace(v); break;
      case how::send_for_zero: got = s.tx.send_for(std::move(c), std::chrono::microseconds(0)); break;
      case how::send_stopped: {
        std::stop_source stop;
        stop.request_stop();
        got = s.tx.send(std::move(c), stop.get_token());
        break;
      }
    }
    RC_ASSERT(name(got) == std::string(name(want)));
    // A send that did not go in leaves its argument untouched; a copy always does.
    if (got != status::ok || h == how::try_copy || h == how::try_emplace) RC_ASSERT(c.is(v));
    if (got == status::ok && (h == how::try_move || h == how::send_for_zero || h == how::send_stopped))
      RC_ASSERT(c.moved_from);
    check_live(m, 1);  // c
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_send(move)", "try_send(copy)", "try_emplace", "send_for(0)",
                                        "send(stopped)"};
    os << names[static_cast<int>(h)];
  }
};

// try_send_batch of a sized or unsized range; send_batch with a stopped token.
struct send_batch final : command {
  std::uint64_t len = *rc::gen::inRange<std::uint64_t>(0, 21);
  int how = *rc::gen::inRange(0, 3);  // 0 sized, 1 unsized (input range), 2 send_batch(stopped)

  std::uint64_t expect(model& m) const {
    std::uint64_t k = 0;
    if (len != 0 && m.can_send()) k = std::min(len, m.room());
    for (std::uint64_t i = 0; i < k; ++i) m.push(m.next + i);
    m.next += len;
    return k;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const std::uint64_t want = expect(m);
    std::vector<counted> buf;
    for (std::uint64_t i = 0; i < len; ++i) buf.emplace_back(s0.next + i);
    std::size_t got = 0;
    if (how == 0) {
      got = s.tx.try_send_batch(buf);
    } else if (how == 1) {
      got = s.tx.try_send_batch(rw_test::unsized(buf));
    } else {
      std::stop_source stop;
      stop.request_stop();
      got = s.tx.send_batch(buf, stop.get_token());
    }
    RC_ASSERT(got == want);
    for (std::uint64_t i = 0; i < len; ++i) {
      if (i < got) {
        RC_ASSERT(buf[i].moved_from);
      } else {
        RC_ASSERT(buf[i].is(s0.next + i));
      }
    }
    check_live(m, static_cast<long>(len));
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_send_batch(sized, ", "try_send_batch(unsized, ",
                                        "send_batch(stopped, "};
    os << names[how] << len << ")";
  }
};

// reserve(n), emplace k <= size() elements, then commit, abandon, or let the destructor
// abandon.
struct reserve final : command {
  std::uint64_t n = *rc::gen::inRange<std::uint64_t>(0, 21);
  std::uint64_t k_raw = *rc::gen::inRange<std::uint64_t>(0, 64);
  int end = *rc::gen::inRange(0, 4);  // 0, 1: commit; 2: abandon(); 3: destructor

  struct outcome {
    std::uint64_t size;
    status st;
    std::uint64_t built;
  };
  outcome expect(model& m) const {
    if (!m.can_send()) return {0, status::closed, 0};
    const std::uint64_t to_end = m.slot_count - (m.tail & (m.slot_count - 1));
    const std::uint64_t size = std::min({n, m.room(), to_end});
    const status st = size != 0 || n == 0 ? status::ok : status::full;
    const std::uint64_t built = k_raw % (size + 1);
    if (end < 2)
      for (std::uint64_t i = 0; i < built; ++i) m.push(m.next + i);
    m.next += built;
    return {size, st, built};
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const outcome want = expect(m);
    {
      auto r = s.tx.reserve(static_cast<std::size_t>(n));
      RC_ASSERT(r.size() == want.size);
      RC_ASSERT(r.empty() == (want.size == 0));
      RC_ASSERT(name(r.status()) == std::string(name(want.st)));
      for (std::uint64_t i = 0; i < want.built; ++i) RC_ASSERT(r.emplace_back(s0.next + i).is(s0.next + i));
      RC_ASSERT(r.constructed() == want.built);
      check_live(s0, static_cast<long>(want.built));  // emplaced but not yet published
      if (end < 2) {
        r.commit();
      } else if (end == 2) {
        r.abandon();
      }
    }
    check_live(m);
  }
  void show(std::ostream& os) const override {
    static const char* const ends[] = {"commit", "commit", "abandon", "destructor"};
    os << "reserve(" << n << "), emplace " << k_raw << " % (size+1), " << ends[end];
  }
};

// ---- receives ----------------------------------------------------------------------------

// try_recv / recv_for(0) / recv(stopped token).
struct recv_one final : command {
  int how = *rc::gen::inRange(0, 3);

  status expect(model& m, std::uint64_t& value) const {
    status why;
    if (m.visible(why) == 0) {
      if (why == status::empty && how == 1) return status::timed_out;
      if (why == status::empty && how == 2) return status::cancelled;
      return why;
    }
    value = m.q.front();
    m.pop(1);
    return status::ok;
  }
  void apply(model& m) const override {
    std::uint64_t v = 0;
    (void)expect(m, v);
  }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    std::uint64_t v = 0;
    const status want = expect(m, v);
    std::stop_source stop;
    stop.request_stop();
    auto r = how == 0 ? s.rx.try_recv()
             : how == 1 ? s.rx.recv_for(std::chrono::microseconds(0))
                        : s.rx.recv(stop.get_token());
    RC_ASSERT(name(r.status()) == std::string(name(want)));
    RC_ASSERT(r.has_value() == (want == status::ok));
    if (r) RC_ASSERT(r->is(v));
    check_live(m, r ? 1 : 0);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_recv", "recv_for(0)", "recv(stopped)"};
    os << names[how];
  }
};

std::uint64_t gen_max() {
  return *rc::gen::weightedOneOf<std::uint64_t>(
      {{4, rc::gen::inRange<std::uint64_t>(0, 21)}, {1, rc::gen::just<std::uint64_t>(SIZE_MAX)}});
}

// consume(fn, max) (fn sometimes moves from the elements) and the two try_recv_batch
// overloads: all one path, so one model.
struct recv_batch final : command {
  std::uint64_t max = gen_max();
  int how = *rc::gen::inRange(0, 4);  // 0 consume, 1 consume+move, 2 batch(iterator), 3 batch(span)

  std::vector<std::uint64_t> expect(model& m, std::uint64_t max_used) const {
    std::vector<std::uint64_t> vals;
    if (max_used == 0) return vals;  // returns before looking at anything
    status why;
    const std::uint64_t n = std::min(m.visible(why), max_used);
    vals.assign(m.q.begin(), m.q.begin() + static_cast<std::ptrdiff_t>(n));
    m.pop(n);
    return vals;
  }
  // The span overload reads into a buffer of max elements: keep that small.
  [[nodiscard]] std::uint64_t used_max() const noexcept { return how == 3 ? std::min<std::uint64_t>(max, 20) : max; }
  void apply(model& m) const override { (void)expect(m, used_max()); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const std::uint64_t mx = used_max();
    const std::vector<std::uint64_t> want = expect(m, mx);
    std::vector<counted> out;
    std::size_t got = 0;
    if (how <= 1) {
      std::size_t i = 0;
      bool ok = true;
      got = s.rx.consume(
          [&](counted& c) {
            ok = ok && i < want.size() && c.is(want[i]);
            if (how == 1) out.push_back(std::move(c));  // fn may move from the element
            ++i;
          },
          static_cast<std::size_t>(mx));
      RC_ASSERT(ok);
      RC_ASSERT(i == got);
      if (how == 1) RC_ASSERT(out.size() == got);
      out.clear();
    } else if (how == 2) {
      got = s.rx.try_recv_batch(std::back_inserter(out), static_cast<std::size_t>(mx));
      RC_ASSERT(out.size() == got);
    } else {
      out.resize(static_cast<std::size_t>(mx));
      got = s.rx.try_recv_batch(std::span<counted>(out));
    }
    RC_ASSERT(got == want.size());
    if (how >= 2)
      for (std::size_t i = 0; i < got; ++i) RC_ASSERT(out[i].is(want[i]));
    check_live(m, static_cast<long>(out.size()));
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"consume(", "consume+move(", "try_recv_batch(iter, ", "try_recv_batch(span, "};
    os << names[how] << (max == SIZE_MAX ? std::string("SIZE_MAX") : std::to_string(max)) << ")";
  }
};

// read_span(max), check it, release(k <= its size).
struct read_span final : command {
  std::uint64_t max = gen_max();
  std::uint64_t k_raw = *rc::gen::inRange<std::uint64_t>(0, 64);

  std::vector<std::uint64_t> expect(model& m, std::uint64_t& k) const {
    status why;
    std::uint64_t n = m.visible(why);  // read_span looks even for max == 0
    const std::uint64_t to_end = m.slot_count - (m.head & (m.slot_count - 1));
    n = std::min({n, to_end, max});
    std::vector<std::uint64_t> vals(m.q.begin(), m.q.begin() + static_cast<std::ptrdiff_t>(n));
    k = k_raw % (n + 1);
    m.pop(k);
    return vals;
  }
  void apply(model& m) const override {
    std::uint64_t k = 0;
    (void)expect(m, k);
  }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    std::uint64_t k = 0;
    const std::vector<std::uint64_t> want = expect(m, k);
    std::span<counted> sp = s.rx.read_span(static_cast<std::size_t>(max));
    RC_ASSERT(sp.size() == want.size());
    for (std::size_t i = 0; i < sp.size(); ++i) RC_ASSERT(sp[i].is(want[i]));
    s.rx.release(static_cast<std::size_t>(k));
    check_live(m);
  }
  void show(std::ostream& os) const override {
    os << "read_span(" << (max == SIZE_MAX ? std::string("SIZE_MAX") : std::to_string(max)) << "), release "
       << k_raw << " % (size+1)";
  }
};

// wait_readable(stopped token): ok when something is queued, closed when the sender is gone
// and everything was received, otherwise cancelled.
struct wait_readable final : command {
  status expect(model& m) const {
    if (!m.rx_open) return status::closed;
    if (m.head != m.rx_seen) return status::ok;  // the cache already shows data
    if (m.tail != m.head || !m.tx_open) return m.refill();
    return status::cancelled;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const status want = expect(m);
    std::stop_source stop;
    stop.request_stop();
    const status got = s.rx.wait_readable(stop.get_token());
    RC_ASSERT(name(got) == std::string(name(want)));
    check_live(m);
  }
  void show(std::ostream& os) const override { os << "wait_readable(stopped)"; }
};

// ---- state -------------------------------------------------------------------------------

struct close_sender final : command {
  void apply(model& m) const override { m.tx_open = false; }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    apply(m);
    s.tx.close();
    RC_ASSERT(s.tx.is_closed());
    RC_ASSERT(s.tx.capacity() == 0u);
    RC_ASSERT(s.tx.size_approx() == 0u);
    check_live(m);
  }
  void show(std::ostream& os) const override { os << "sender.close()"; }
};

struct close_receiver final : command {
  void apply(model& m) const override { m.rx_open = false; }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    apply(m);
    s.rx.close();
    RC_ASSERT(s.rx.is_closed());
    RC_ASSERT(s.rx.capacity() == 0u);
    RC_ASSERT(s.rx.size_approx() == 0u);
    check_live(m);
  }
  void show(std::ostream& os) const override { os << "receiver.close()"; }
};

// capacity(), size_approx(), sender is_closed() and a monitor's snapshot: no state change.
struct observe final : command {
  void run(const model& m, sut& s) const override {
    RC_ASSERT(s.tx.capacity() == (m.tx_open ? m.capacity : 0));
    RC_ASSERT(s.rx.capacity() == (m.rx_open ? m.capacity : 0));
    RC_ASSERT(s.tx.size_approx() == (m.tx_open ? m.size() : 0));
    RC_ASSERT(s.rx.size_approx() == (m.rx_open ? m.size() : 0));
    RC_ASSERT(s.tx.is_closed() == !m.can_send());
    if (!m.both_closed()) {
      const auto st = (m.tx_open ? s.tx.make_monitor() : s.rx.make_monitor()).snapshot();
      RC_ASSERT(st.capacity == m.capacity);
      RC_ASSERT(st.sent == m.tail - m.start);
      RC_ASSERT(st.received == m.head - m.start);
      RC_ASSERT(st.queued() == m.size());
      RC_ASSERT(st.sender_closed == !m.tx_open);
      RC_ASSERT(st.receiver_closed == !m.rx_open);
    }
    check_live(m);
  }
  void show(std::ostream& os) const override { os << "observe"; }
};

// receiver is_closed(): looks at tail when its cache says empty, like a receive.
struct rx_is_closed final : command {
  bool expect(model& m) const {
    if (!m.rx_open) return true;
    if (m.head != m.rx_seen) return false;
    return m.refill() == status::closed;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    RC_ASSERT(s.rx.is_closed() == expect(m));
    check_live(m);
  }
  void show(std::ostream& os) const override { os << "receiver.is_closed()"; }
};

// Repeats weight the choice: a close comes about once in 24 commands, so most sequences
// run a while on an open channel and many also exercise the closed paths.
auto commands() {
  return rc::state::gen::execOneOfWithArgs<
      send_one, send_one, send_one, send_one, send_one, send_one, send_one, send_one,  //
      send_batch, send_batch, send_batch, send_batch, send_batch, send_batch,          //
      reserve, reserve, reserve, reserve, reserve, reserve,                            //
      recv_one, recv_one, recv_one, recv_one, recv_one, recv_one, recv_one, recv_one,  //
      recv_batch, recv_batch, recv_batch, recv_batch, recv_batch, recv_batch,          //
      read_span, read_span, read_span, read_span, read_span, read_span,                //
      wait_readable, wait_readable, observe, observe, rx_is_closed, rx_is_closed,      //
      close_sender, close_receiver>();
}

RC_GTEST_PROP(SpscModel, MatchesSequentialModel, ()) {
  model m0;
  m0.capacity = *rc::gen::inRange<std::uint64_t>(1, 18).as("capacity");
  m0.slot_count = std::bit_ceil(m0.capacity);
  m0.start = *rc::gen::weightedOneOf<std::uint64_t>(
                  {{2, rc::gen::arbitrary<std::uint64_t>()},
                   {3, rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 16),
                                    [](std::uint64_t d) { return ~std::uint64_t{0} - d; })},
                   {1, rc::gen::inRange<std::uint64_t>(0, 48)}})
                  .as("start_index");
  m0.head = m0.tail = m0.rx_seen = m0.start;

  counted::live = 0;  // a failed (and so reported) case may have left some
  counted::bad = 0;
  {
    spsc::options opt;
    opt.metrics = true;
    opt.start_index = m0.start;
    auto [tx, rx] = spsc::channel<counted>(static_cast<std::size_t>(m0.capacity), opt);
    sut s{std::move(tx), std::move(rx)};
    const auto cmds = *rc::state::gen::commands(m0, commands());
    model end = m0;
    rc::state::applyAll(cmds, end);
    RC_TAG(end.tail < m0.start ? "crossed 2^64" : "no wrap");
    RC_TAG(end.tx_open ? (end.rx_open ? "both open" : "receiver closed")
                       : (end.rx_open ? "sender closed" : "both closed"));
    RC_TAG(cmds.size() < 20 ? "< 20 commands" : cmds.size() < 60 ? "20-59 commands" : ">= 60 commands");
    rc::state::runAll(cmds, m0, s);
  }
  RC_ASSERT(counted::live == 0L);
  RC_ASSERT(counted::bad == 0L);
}

// The same over an inline_channel (the ring inside the object): one capacity, same model.
RC_GTEST_PROP(SpscModel, InlineChannelMatchesSequentialModel, ()) {
  model m0;
  m0.capacity = 5;
  m0.slot_count = 8;
  m0.start = *rc::gen::element<std::uint64_t>(0, 3, ~std::uint64_t{0} - 6, ~std::uint64_t{0}).as("start_index");
  m0.head = m0.tail = m0.rx_seen = m0.start;
  m0.heap = false;
  counted::live = 0;
  counted::bad = 0;
  {
    spsc::inline_channel<counted, 5> ch;
    spsc::options opt;
    opt.start_index = m0.start;
    auto [tx, rx] = ch.split(opt);
    sut s{std::move(tx), std::move(rx)};
    rc::state::check(m0, s, commands());
  }  // the endpoints go first (declared after ch), then ch destroys what is still queued
  RC_ASSERT(counted::live == 0L);
  RC_ASSERT(counted::bad == 0L);
}

}  // namespace

// main(): tests/support/rc_main.cpp
