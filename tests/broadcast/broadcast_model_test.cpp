// Model-based property test of ringwire::broadcast (rapidcheck, rc::state).
//
// A random capacity (1..20), registry size (max_subscribers 1..4) and slot layout (packed or
// line: the model is the same for both), then a random sequence of commands run on one
// thread against a real channel and a sequential model: every published message (so head
// h), and per subscriber its next sequence n, its start and its counters. Every status, every value, every missed() count, pending(), next_sequence(),
// received() + missed() and the publisher's published() / is_closed() must match the model
// after every command; at the end the publisher is closed and every subscriber drained.
//
// Lossy (broadcast.hpp, subscriber.hpp): with head h a subscriber at n reads message n if
// h - capacity < n <= h; n > h is empty (closed once the publisher is); n <= h - capacity
// is status::lagged with missed() = (h - capacity + 1) - n, resuming at h - capacity + 1.
//
// Lossless: try_send says full when the slowest live subscriber's *shown* cursor is a
// whole ring behind (subscribers show it every capacity/8 receives and when they catch up;
// capacities up to 20 exercise steps of 2), following the publisher's documented cache (publisher.hpp: room_until_ = min cursor +
// capacity - 1, rescanned when passed or when `epoch` says someone joined), including the
// documented from-oldest caveat (subscriber.hpp: a from-oldest joiner's very first
// message may be overwritten by the one publish that had not seen it; it is skipped and
// not counted). Independently of that cache model, a full must mean a live subscriber
// really is a ring behind, and an ok may only overwrite an unread message in that caveat.
//
// Skips (publisher::skip(g)): the head advances by g and no slot is written. The model keeps
// what each slot holds, so with head h a subscriber at n <= h whose slot does not hold n
// (skipped, or overwritten) gets status::lagged with missed() = next - n, resuming at next:
// the oldest message in [n, h] still in its slot (h + 1 if none) -- without skips that is
// exactly h - capacity + 1 above. latest() goes to the newest message still in its slot.
// The lossless gate counts a shown cursor inside the publisher's latest run of skipped
// sequences as the run's end (producer_state.hpp). A lossless lag may pass over skipped
// sequences only, never a published message.
//
// Default: 3000 command sequences per property (RC_PARAMS="max_success=N" for more; a
// failure prints the RC_PARAMS that replays it).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ostream>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "ringwire/error.hpp"

namespace {

namespace bc = ringwire::broadcast;
using ringwire::status;

struct msg {
  std::uint64_t seq;
  std::uint64_t check;
};

msg make(std::uint64_t n) { return msg{n, n * 0x9e3779b97f4a7c15ull ^ 0x5bd1e995abcdef01ull}; }

// ---- the model ---------------------------------------------------------------------------

struct sub_model {
  std::uint64_t start = 1;  // first sequence it was to read
  std::uint64_t n = 1;      // next sequence
  std::uint64_t shown = 1;  // gated: the cursor last shown to the publisher (<= n)
  std::uint64_t received = 0;
  std::uint64_t missed = 0;
  std::uint64_t first = 0;    // gated from-oldest: the first message, which may be gone (0: none)
  std::uint64_t skipped = 0;  // 1 once that first message was skipped (not counted anywhere)
  bool closed = false;        // close() called (still held by the test)
};

// What one receive gives.
struct outcome {
  status st = status::empty;
  std::uint64_t seq = 0;     // ok: the message
  std::uint64_t missed = 0;  // lagged: how many
  std::uint64_t lost = 0;    // lagged: how many of them were published messages (not skips)
};

struct model {
  std::uint64_t cap = 1;
  bc::policy pol = bc::policy::lossy;
  std::uint32_t max_subs = 4;
  std::uint64_t h = 0;  // head: newest sequence (messages are make(n) for the published n)
  bool pub_closed = false;
  std::vector<std::uint64_t> slot;  // slot i: the sequence last written into it (0: none)
  std::vector<bool> message;        // message[n]: n was published (not skipped)
  bool skips = false;               // a skip was made (the ring's flag)
  std::uint64_t skip_from = 1, skip_to = 0;  // the publisher's latest run of skipped sequences
  std::vector<sub_model> subs;
  // The gated publisher's cache (publisher.hpp).
  std::uint64_t room = 0;
  std::uint64_t epoch = 0;
  std::uint64_t epoch_seen = 0;
  // Coverage counts (tags only).
  std::uint64_t lags = 0, fulls = 0, refusals = 0, first_skips = 0, skipped_runs = 0;

  [[nodiscard]] bool gated() const noexcept { return pol != bc::policy::lossy; }
  [[nodiscard]] std::uint32_t live() const noexcept {
    std::uint32_t k = 0;
    for (const auto& s : subs) k += s.closed ? 0 : 1;
    return k;
  }
  // Gated subscribers show their cursor every `show_every()` receives and when a receive
  // finds nothing new (subscriber.hpp); evict on every receive.
  [[nodiscard]] std::uint64_t show_every() const noexcept {
    return pol == bc::policy::lossless ? std::max<std::uint64_t>(1, cap / 8) : 1;
  }
  // The cursor the gate uses: inside the latest skipped run, the run's end (producer_state.hpp).
  [[nodiscard]] std::uint64_t gate_cursor(std::uint64_t c) const noexcept {
    return c >= skip_from && c <= skip_to ? skip_to + 1 : c;
  }
  // Some live subscriber's shown cursor is a whole ring behind message s (s - shown >= capacity).
  [[nodiscard]] bool truly_blocked(std::uint64_t s) const noexcept {
    for (const auto& x : subs)
      if (!x.closed && s >= gate_cursor(x.shown) && s - gate_cursor(x.shown) >= cap) return true;
    return false;
  }
  // The oldest (newest) message in [n, h] still in its slot, or 0.
  [[nodiscard]] std::uint64_t present(std::uint64_t n, bool newest) const noexcept {
    std::uint64_t found = 0;
    for (std::uint64_t k = n; k <= h; ++k)
      if (slot[k % cap] == k && (found == 0 || newest)) found = k;
    return found;
  }
  void moved(sub_model& x) const noexcept {  // jump(): shown at once when gated
    if (gated()) x.shown = x.n;
  }
  bool has_room(std::uint64_t s) {
    epoch_seen = epoch;
    std::uint64_t low = s;
    bool any = false;
    for (const auto& x : subs) {
      if (x.closed) continue;
      const std::uint64_t c = gate_cursor(x.shown);
      if (!any || c < low) low = c;
      any = true;
    }
    room = any ? low + cap - 1 : s + cap - 1;
    return s <= room;
  }
  // One publish attempt that does not wait: ok, full or closed.
  status try_send() {
    if (pub_closed) return status::closed;
    const std::uint64_t s = h + 1;
    if (gated() && s > room && !has_room(s)) return ++fulls, status::full;
    ++h;
    slot[h % cap] = h;
    message.resize(h + 1);
    message[h] = true;
    if (gated() && epoch != epoch_seen) room = 0;
    return status::ok;
  }
  // publisher::skip(g): no slot written, never waits.
  status skip(std::uint64_t g) {
    if (pub_closed) return status::closed;
    if (g == 0) return status::ok;
    skips = true;
    if (h + 1 != skip_to + 1) skip_from = h + 1;
    skip_to = h + g;
    h += g;
    message.resize(h + 1);
    if (gated() && epoch != epoch_seen) room = 0;
    return status::ok;
  }
  // Whether a publish would not wait (without changing the model).
  [[nodiscard]] bool publish_ready() const {
    model c = *this;
    return c.try_send() != status::full;
  }
  // Returns false (and changes nothing) when the registry is full.
  bool subscribe(bool from_oldest) {
    if (live() == max_subs) return ++refusals, false;
    sub_model x;
    x.n = x.start = x.shown = from_oldest ? (h >= cap ? h - cap + 1 : 1) : h + 1;
    if (gated() && from_oldest && h >= cap) x.first = x.n;
    subs.push_back(x);
    ++epoch;
    return true;
  }
  outcome try_recv(sub_model& x) {
    if (x.closed) return {status::closed, 0, 0};
    for (;;) {
      if (x.n > h) {
        if (!pub_closed) moved(x);  // caught up: the cursor is shown
        return {pub_closed ? status::closed : status::empty, 0, 0};
      }
      const std::uint64_t m = slot[x.n % cap];  // what the slot of n holds
      if (m == x.n) {
        ++x.received;
        ++x.n;
        if (gated() && x.n - x.shown >= show_every()) x.shown = x.n;
        return {status::ok, x.n - 1, 0};
      }
      if (m > x.n && x.first == x.n) {  // the documented from-oldest skip
        x.first = 0;
        x.skipped = 1;
        ++first_skips;
        ++x.n;
        moved(x);
        continue;
      }
      // n is gone: skipped, or overwritten. Without skips, present() is h - capacity + 1.
      const std::uint64_t p = present(x.n, false);
      const std::uint64_t oldest = p != 0 ? p : h + 1;
      const std::uint64_t k = oldest - x.n;
      std::uint64_t lost = 0;
      for (std::uint64_t i = x.n; i < oldest; ++i) lost += message[i] ? 1 : 0;
      if (m < x.n) ++skipped_runs;
      x.missed += k;
      x.n = oldest;
      moved(x);
      ++lags;
      return {status::lagged, 0, k, lost};
    }
  }
  outcome latest(sub_model& x) {
    if (!x.closed && h >= x.n) {
      std::uint64_t to = h;
      if (skips) {
        const std::uint64_t p = present(x.n, true);
        to = p != 0 ? p : h + 1;
      }
      if (to > x.n) {
        x.missed += to - x.n;
        x.n = to;
        moved(x);
      }
    }
    return try_recv(x);
  }
  [[nodiscard]] std::uint64_t pending(const sub_model& x) const noexcept {
    if (x.closed || h < x.n) return 0;
    return std::min(h - x.n + 1, cap);
  }
};

struct sut {
  bc::publisher<msg> pub;
  bc::hub<msg> hub;
  std::vector<bc::subscriber<msg>> subs;
};

using command = rc::state::Command<model, sut>;

const char* name(status s) { return ringwire::to_string(s); }

void check_result(const ringwire::recv_result<msg>& r, const outcome& want, const model& m) {
  RC_ASSERT(std::string(name(r.status())) == name(want.st));
  RC_ASSERT(r.missed() == want.missed);
  if (want.st == status::ok) {
    RC_ASSERT(r->seq == want.seq);
    RC_ASSERT(r->check == make(want.seq).check);
  }
  // Lossless never loses a message it promised: a lag passes over skipped sequences only.
  if (m.pol == bc::policy::lossless) RC_ASSERT(want.st != status::lagged || want.lost == 0);
}

// After every command: every observable of every endpoint.
void check_all(const model& m, const sut& s) {
  RC_ASSERT(s.pub.published() == m.h);
  RC_ASSERT(s.pub.is_closed() == m.pub_closed);
  RC_ASSERT(s.pub.capacity() == m.cap);
  RC_ASSERT(s.hub.capacity() == m.cap);
  RC_ASSERT(s.subs.size() == m.subs.size());
  for (std::size_t i = 0; i < m.subs.size(); ++i) {
    const auto& x = m.subs[i];
    const auto& r = s.subs[i];
    RC_ASSERT(r.next_sequence() == x.n);
    RC_ASSERT(r.received() == x.received);
    RC_ASSERT(r.missed() == x.missed);
    RC_ASSERT(r.pending() == m.pending(x));
    // received() + missed() == messages from the start to the last one consumed or skipped.
    RC_ASSERT(r.received() + r.missed() + x.skipped == x.n - x.start);
    if (m.pol == bc::policy::lossless) RC_ASSERT(x.missed <= x.n - x.start);  // only latest() skips
  }
}

// ---- publisher commands ------------------------------------------------------------------

struct publish_one final : command {
  enum class how { publish, try_publish, publish_with, publish_for_zero, publish_stopped };
  how hw = static_cast<how>(*rc::gen::inRange(0, 5));

  [[nodiscard]] bool waits() const noexcept { return hw == how::publish || hw == how::publish_with; }
  void checkPreconditions(const model& m) const override {
    // A wait would never end on one thread. Not only the model's verdict: no live
    // subscriber may really be a ring behind, so that even a publisher whose cache
    // disagreed with the model would find room on its rescan (a failure, not a hang).
    if (waits()) RC_PRE(m.pub_closed || (m.publish_ready() && !(m.gated() && m.truly_blocked(m.h + 1))));
  }
  status expect(model& m) const {
    const status st = m.try_send();
    if (st == status::full && hw == how::publish_for_zero) return status::timed_out;
    if (st == status::full && hw == how::publish_stopped) return status::cancelled;
    return st;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const status want = expect(m);
    const msg v = make(s0.h + 1);
    status got = status::ok;
    switch (hw) {
      case how::publish: got = s.pub.send(v); break;
      case how::try_publish: got = s.pub.try_send(v); break;
      case how::publish_with:
        got = s.pub.send_with([&](msg& out) {
          RC_ASSERT(out.seq == 0u);  // value-initialised
          out = v;
        });
        break;
      case how::publish_for_zero: got = s.pub.send_for(v, std::chrono::microseconds(0)); break;
      case how::publish_stopped: {
        std::stop_source stop;
        stop.request_stop();
        got = s.pub.send(v, stop.get_token());
        break;
      }
    }
    RC_ASSERT(std::string(name(got)) == name(want));
    if (s0.gated() && !s0.pub_closed) {
      const std::uint64_t sq = s0.h + 1;
      // Independently of the cache model: full means someone really is a ring behind...
      if (got != status::ok) RC_ASSERT(s0.truly_blocked(sq));
      // ...and an ok overwrites an unread message only in the documented from-oldest case
      // (the slot of a skipped sequence holds no message: overwriting it loses nothing).
      const std::uint64_t old = s0.slot[sq % s0.cap];
      if (got == status::ok && old != 0)
        for (const auto& x : s0.subs)
          if (!x.closed && old >= x.n) RC_ASSERT(x.first == old);
      // The shown cursor trails the real one by less than a step.
      for (const auto& x : s0.subs) RC_ASSERT(x.closed || x.n - x.shown < s0.show_every() || x.n == x.shown);
    }
    check_all(m, s);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"publish", "try_publish", "publish_with", "publish_for(0)",
                                        "publish(stopped)"};
    os << names[static_cast<int>(hw)];
  }
};

// publish_batch of len messages; gated: only as many as go in without waiting.
struct publish_batch final : command {
  std::uint64_t len = *rc::gen::inRange<std::uint64_t>(0, 13);

  [[nodiscard]] std::uint64_t doable(const model& m) const {
    if (m.pub_closed || !m.gated()) return len;
    model c = m;
    std::uint64_t k = 0;
    // As publish_one: stop before a real ring-behind subscriber too (a failure, not a hang).
    while (k < len && !c.truly_blocked(c.h + 1) && c.try_send() == status::ok) ++k;
    return k;
  }
  std::uint64_t expect(model& m, std::uint64_t k) const {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < k; ++i) n += m.try_send() == status::ok ? 1 : 0;
    return n;
  }
  void apply(model& m) const override { (void)expect(m, doable(m)); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const std::uint64_t k = doable(s0);
    const std::uint64_t want = expect(m, k);
    std::vector<msg> buf;
    for (std::uint64_t i = 0; i < k; ++i) buf.push_back(make(s0.h + 1 + i));
    const std::size_t got = s.pub.send_batch(std::span<const msg>(buf));
    RC_ASSERT(got == want);
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << "publish_batch(" << len << ")"; }
};

struct close_publisher final : command {
  void apply(model& m) const override { m.pub_closed = true; }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    apply(m);
    s.pub.close();
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << "publisher.close()"; }
};

// publisher::skip(g): up to more than two rings of the largest capacity.
struct skip final : command {
  std::uint64_t g = *rc::gen::inRange<std::uint64_t>(0, 48);
  void apply(model& m) const override { (void)m.skip(g); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const status want = m.skip(g);
    RC_ASSERT(std::string(name(s.pub.skip(g))) == name(want));
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << "publisher.skip(" << g << ")"; }
};

// ---- joining and leaving -----------------------------------------------------------------

struct subscribe final : command {
  bool from_oldest = *rc::gen::arbitrary<bool>();

  void apply(model& m) const override { (void)m.subscribe(from_oldest); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const bool want = m.subscribe(from_oldest);
    bool threw = false;
    try {
      s.subs.push_back(from_oldest ? s.hub.subscribe_from_oldest() : s.hub.subscribe());
    } catch (const ringwire::error& e) {
      threw = true;
      RC_ASSERT(e.code() == ringwire::errc::too_many_subscribers);
    }
    RC_ASSERT(threw == !want);
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << (from_oldest ? "subscribe_from_oldest()" : "subscribe()"); }
};

// A command on subscriber (which % count).
struct on_sub : command {
  std::size_t which = *rc::gen::inRange<std::size_t>(0, 64);
  void checkPreconditions(const model& m) const override { RC_PRE(!m.subs.empty()); }
  [[nodiscard]] std::size_t at(const model& m) const noexcept { return which % m.subs.size(); }
};

struct drop_sub final : on_sub {
  void apply(model& m) const override { m.subs.erase(m.subs.begin() + static_cast<std::ptrdiff_t>(at(m))); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    s.subs.erase(s.subs.begin() + static_cast<std::ptrdiff_t>(at(s0)));  // moves the later ones
    apply(m);
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << "drop subscriber #" << which; }
};

struct close_sub final : on_sub {
  void apply(model& m) const override { m.subs[at(m)].closed = true; }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    apply(m);
    s.subs[at(s0)].close();
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << "subscriber #" << which << ".close()"; }
};

// ---- receiving ---------------------------------------------------------------------------

struct recv_one final : on_sub {
  enum class how { try_recv, recv_for_zero, recv_stopped, recv };
  how hw = static_cast<how>(*rc::gen::inRange(0, 4));

  void checkPreconditions(const model& m) const override {
    on_sub::checkPreconditions(m);
    if (hw == how::recv) {  // a wait would never end on one thread
      model c = m;
      RC_PRE(c.try_recv(c.subs[at(c)]).st != status::empty);
    }
  }
  outcome expect(model& m) const {
    outcome o = m.try_recv(m.subs[at(m)]);
    if (o.st == status::empty && hw == how::recv_for_zero) o.st = status::timed_out;
    if (o.st == status::empty && hw == how::recv_stopped) o.st = status::cancelled;
    return o;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const outcome want = expect(m);
    auto& r = s.subs[at(s0)];
    switch (hw) {
      case how::try_recv: check_result(r.try_recv(), want, m); break;
      case how::recv_for_zero: check_result(r.recv_for(std::chrono::microseconds(0)), want, m); break;
      case how::recv_stopped: {
        std::stop_source stop;
        stop.request_stop();
        check_result(r.recv(stop.get_token()), want, m);
        break;
      }
      case how::recv: check_result(r.recv(), want, m); break;
    }
    check_all(m, s);
  }
  void show(std::ostream& os) const override {
    static const char* const names[] = {"try_recv", "recv_for(0)", "recv(stopped)", "recv"};
    os << "subscriber #" << which << "." << names[static_cast<int>(hw)];
  }
};

struct recv_batch final : on_sub {
  std::size_t len = *rc::gen::inRange<std::size_t>(0, 13);

  std::vector<std::uint64_t> expect(model& m) const {
    std::vector<std::uint64_t> out;
    auto& x = m.subs[at(m)];
    while (out.size() < len) {
      const outcome o = m.try_recv(x);
      if (o.st == status::ok) {
        out.push_back(o.seq);
      } else if (o.st != status::lagged) {
        break;
      }
    }
    return out;
  }
  void apply(model& m) const override { (void)expect(m); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const auto want = expect(m);
    std::vector<msg> buf(len, msg{~std::uint64_t{0}, 0});
    const std::size_t got = s.subs[at(s0)].recv_batch(std::span<msg>(buf));
    RC_ASSERT(got == want.size());
    for (std::size_t i = 0; i < got; ++i) {
      RC_ASSERT(buf[i].seq == want[i]);
      RC_ASSERT(buf[i].check == make(want[i]).check);
    }
    for (std::size_t i = got; i < len; ++i) RC_ASSERT(buf[i].seq == ~std::uint64_t{0});  // untouched
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << "subscriber #" << which << ".recv_batch(" << len << ")"; }
};

struct latest final : on_sub {
  void apply(model& m) const override { (void)m.latest(m.subs[at(m)]); }
  void run(const model& s0, sut& s) const override {
    model m = s0;
    const outcome want = m.latest(m.subs[at(m)]);
    check_result(s.subs[at(s0)].latest(), want, m);
    check_all(m, s);
  }
  void show(std::ostream& os) const override { os << "subscriber #" << which << ".latest()"; }
};

// Repeats weight the choice: a publisher close comes about once in 40 commands.
auto commands() {
  return rc::state::gen::execOneOfWithArgs<
      publish_one, publish_one, publish_one, publish_one, publish_one, publish_one, publish_one, publish_one,  //
      publish_batch, publish_batch, publish_batch, publish_batch,                                              //
      skip, skip, skip,                                                                                        //
      subscribe, subscribe, subscribe, subscribe,                                                              //
      drop_sub, drop_sub, close_sub,                                                                           //
      recv_one, recv_one, recv_one, recv_one, recv_one, recv_one, recv_one, recv_one, recv_one, recv_one,      //
      recv_batch, recv_batch, recv_batch, recv_batch, recv_batch,                                              //
      latest, latest, close_publisher>();
}

void run_property(bc::policy pol) {
  model m0;
  m0.pol = pol;
  // Up to 20: lossless capacities from 16 show the cursor every 2 receives.
  m0.cap = *rc::gen::inRange<std::uint64_t>(1, 21).as("capacity");
  m0.max_subs = *rc::gen::inRange<std::uint32_t>(1, 5).as("max_subscribers");
  m0.slot.assign(m0.cap, 0);
  m0.message.assign(1, false);
  // The model knows nothing of slot layouts: each must behave exactly alike.
  const bool line = *rc::gen::arbitrary<bool>().as("line slots (else packed)");
  const auto cmds = *rc::state::gen::commands(m0, commands());
  model end = m0;
  rc::state::applyAll(cmds, end);
  RC_TAG(end.pub_closed ? "publisher closed" : "publisher open");
  if (pol == bc::policy::lossy) {
    RC_TAG(end.lags != 0 ? "lagged" : "no lag");
  } else {
    RC_TAG(end.fulls != 0 ? "full" : "never full");
    RC_TAG(end.first_skips != 0 ? "from-oldest skip" : "no from-oldest skip");
  }
  RC_TAG(end.refusals != 0 ? "registry full" : "registry never full");
  RC_TAG(end.skipped_runs != 0 ? "skipped run received" : "no skipped run received");
  RC_TAG(line ? "line slots" : "packed slots");

  bc::options opt;
  opt.policy = pol;
  opt.max_subscribers = m0.max_subs;
  opt.slot_layout = line ? bc::slot_layout::line : bc::slot_layout::packed;
  auto [pub, hub] = bc::channel<msg>(static_cast<std::size_t>(m0.cap), opt);
  sut s{std::move(pub), std::move(hub), {}};
  rc::state::runAll(cmds, m0, s);

  // The end: close the publisher, drain every subscriber; each must account for every
  // message from its start to the head.
  model m = end;
  m.pub_closed = true;
  s.pub.close();
  for (std::size_t i = 0; i < m.subs.size(); ++i) {
    auto& x = m.subs[i];
    for (int guard = 0;; ++guard) {
      RC_ASSERT(guard < 100000);
      const outcome want = m.try_recv(x);
      check_result(s.subs[i].try_recv(), want, m);
      if (want.st == status::closed) break;
      RC_ASSERT(want.st != status::empty);
    }
    if (!x.closed) {
      RC_ASSERT(x.n == std::max(m.h + 1, x.start));
      RC_ASSERT(s.subs[i].received() + s.subs[i].missed() + x.skipped == m.h + 1 - std::min(m.h + 1, x.start));
    }
  }
  check_all(m, s);
}

RC_GTEST_PROP(BroadcastModel, LossyMatchesSequentialModel, ()) { run_property(bc::policy::lossy); }

RC_GTEST_PROP(BroadcastModel, LosslessMatchesSequentialModel, ()) { run_property(bc::policy::lossless); }

// The registry: max_subscribers live at once, a further subscribe throws
// too_many_subscribers, and a freed entry (closed or destroyed subscriber) is reusable.
TEST(BroadcastModel, RegistryLimit) {
  bc::options opt;
  opt.max_subscribers = 2;
  auto [pub, hub] = bc::channel<msg>(4, opt);
  auto a = hub.subscribe();
  auto b = hub.subscribe_from_oldest();
  try {
    (void)hub.subscribe();
    FAIL() << "a third subscriber joined a registry of 2";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), ringwire::errc::too_many_subscribers);
  }
  a.close();
  auto c = hub.subscribe();
  EXPECT_EQ(pub.send(make(1)), status::ok);
  auto r = c.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq, 1u);
}

}  // namespace

// main(): tests/support/rc_main.cpp
