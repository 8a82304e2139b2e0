// Model-based property test of ringwire::mpsc (rapidcheck), one thread.
//
// A random lane capacity (1..6), max_producers (1..4) and start index (anywhere, or near
// 2^64), then a random sequence of up to max_size steps run against a real channel and a
// sequential model: per-lane FIFO queues, which sender owns which lane, which senders are
// gone, whether registrars and the receiver live. Checked after every step:
//   * registration succeeds exactly when the model has a lane that is free or whose sender
//     is gone and whose queue is empty (first fit), and fails with too_many_producers
//     otherwise; after the receiver left it returns a closed sender;
//   * every send's status and count (try_send, try_send_batch, reserve + commit) match the
//     lane's room; sends after the receiver left report closed;
//   * every received value is the oldest queued value of its sender (FIFO per producer),
//     and try_recv / consume_up_to / try_recv_batch take min(asked, queued) messages;
//   * try_recv is empty exactly when nothing is queued and a registrar or sender lives, and
//     closed exactly when nothing is queued and neither does;
//   * the element type counts live instances: the channel holds exactly the queued
//     elements after every step, and none once the run ends.
//
// Default: 3000 sequences of up to 150 steps (RC_PARAMS="max_success=N" for more).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "ringwire/mpsc.hpp"

namespace {

namespace mpsc = ringwire::mpsc;
using ringwire::errc;
using ringwire::status;

struct counted {
  static inline long live = 0;
  std::uint64_t v = 0;
  explicit counted(std::uint64_t x) noexcept : v(x) { ++live; }
  counted(const counted& o) noexcept : v(o.v) { ++live; }
  counted(counted&& o) noexcept : v(o.v) { ++live; }
  counted& operator=(const counted&) noexcept = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() { --live; }
};

// A value names its sender (registration number) and its place in that sender's stream.
constexpr std::uint64_t value_of(std::uint64_t sender, std::uint64_t seq) { return sender << 32 | seq; }

struct model_lane {
  std::deque<std::uint64_t> queue;
  std::optional<std::uint64_t> sender;  // registration number of its live sender
  bool used = false;                    // owned since its last recycle (sender live or gone)
};

struct model {
  std::uint64_t capacity = 1;
  std::vector<model_lane> lanes;
  bool registrar = true;
  bool receiver = true;
  [[nodiscard]] std::size_t queued() const {
    std::size_t n = 0;
    for (auto& l : lanes) n += l.queue.size();
    return n;
  }
  [[nodiscard]] bool any_sender() const {
    return std::any_of(lanes.begin(), lanes.end(), [](const model_lane& l) { return l.sender.has_value(); });
  }
  // The lane registration takes: first fit among free or gone-and-drained lanes.
  [[nodiscard]] std::optional<std::size_t> claimable() const {
    for (std::size_t i = 0; i < lanes.size(); ++i)
      if (!lanes[i].sender && lanes[i].queue.empty()) return i;
    return std::nullopt;
  }
};

struct live_sender {
  mpsc::sender<counted> tx;
  std::uint64_t id = 0;    // registration number
  std::size_t lane = 0;    // model lane (SIZE_MAX: closed at birth, the receiver was gone)
  std::uint64_t next = 0;  // next sequence number
};

RC_GTEST_PROP(MpscModel, MatchesSequentialModel, ()) {
  counted::live = 0;
  model m;
  m.capacity = *rc::gen::inRange<std::uint64_t>(1, 7).as("lane capacity");
  const auto lanes = *rc::gen::inRange<std::size_t>(1, 5).as("max_producers");
  mpsc::options opt;
  opt.start_index = *rc::gen::weightedOneOf<std::uint64_t>(
                         {{2, rc::gen::just<std::uint64_t>(0)},
                          {1, rc::gen::map(rc::gen::inRange<std::uint64_t>(1, 40),
                                           [](std::uint64_t d) { return ~std::uint64_t{0} - d; })}})
                         .as("start index");
  m.lanes.resize(lanes);
  {
    auto [reg0, rx0] = mpsc::channel<counted>(m.capacity, lanes, opt);
    std::optional<mpsc::registrar<counted>> reg(std::move(reg0));
    std::optional<mpsc::receiver<counted>> rx(std::move(rx0));
    std::vector<live_sender> senders;
    std::uint64_t registrations = 0;

    // A received value: must be the oldest queued value of its sender's lane.
    auto take = [&](std::uint64_t v) {
      auto it = std::find_if(m.lanes.begin(), m.lanes.end(),
                             [&](const model_lane& l) { return !l.queue.empty() && l.queue.front() == v; });
      RC_ASSERT(it != m.lanes.end());  // else: out of order, duplicated or invented
      it->queue.pop_front();
    };
    auto room = [&](const live_sender& s) -> std::uint64_t {
      return s.lane == SIZE_MAX || !m.receiver ? 0 : m.capacity - m.lanes[s.lane].queue.size();
    };

    const int steps = *rc::gen::inRange(1, 150).as("steps");
    for (int step = 0; step < steps; ++step) {
      const int op = *rc::gen::inRange(0, 100);
      if (op < 12) {  // register
        if (!reg) continue;
        const auto lane = m.claimable();
        auto s = reg->try_make_sender();
        if (!m.receiver) {
          RC_ASSERT(s.has_value());
          RC_ASSERT(s->is_closed());
          RC_ASSERT(s->try_send(counted(0)) == status::closed);
          continue;
        }
        RC_ASSERT(s.has_value() == lane.has_value());
        if (!lane) {
          bool threw = false;
          try {
            (void)reg->make_sender();
          } catch (const ringwire::error& e) {
            threw = e.code() == errc::too_many_producers;
          }
          RC_ASSERT(threw);
          continue;
        }
        m.lanes[*lane].sender = ++registrations;
        m.lanes[*lane].used = true;
        senders.push_back({std::move(*s), registrations, *lane, 0});
      } else if (op < 45 && !senders.empty()) {  // send, one of three ways
        auto& s = senders[*rc::gen::inRange<std::size_t>(0, senders.size())];
        const std::uint64_t can = room(s);
        const int how = *rc::gen::inRange(0, 3);
        const auto want = *rc::gen::inRange<std::uint64_t>(0, 9);
        std::uint64_t sent = 0;
        if (how == 0) {
          const status st = s.tx.try_send(counted(value_of(s.id, s.next)));
          RC_ASSERT(st == (!m.receiver || s.lane == SIZE_MAX ? status::closed : can ? status::ok : status::full));
          sent = st == status::ok ? 1 : 0;
        } else if (how == 1) {
          std::vector<counted> batch;
          for (std::uint64_t k = 0; k < want; ++k) batch.emplace_back(value_of(s.id, s.next + k));
          sent = s.tx.try_send_batch(batch);
          RC_ASSERT(sent == std::min(want, can));
        } else {
          auto r = s.tx.reserve(static_cast<std::size_t>(want));
          RC_ASSERT(r.size() <= std::min(want, can));  // contiguous: may stop at the wrap
          if (want != 0 && can != 0) RC_ASSERT(r.size() >= 1);
          const std::size_t commit = *rc::gen::inRange<std::size_t>(0, r.size() + 1);
          for (std::size_t k = 0; k < commit; ++k) r.emplace_back(value_of(s.id, s.next + k));
          r.commit();
          sent = commit;
        }
        for (std::uint64_t k = 0; k < sent; ++k) m.lanes[s.lane].queue.push_back(value_of(s.id, s.next + k));
        s.next += sent;
      } else if (op < 52 && !senders.empty()) {  // a sender leaves
        const auto k = *rc::gen::inRange<std::size_t>(0, senders.size());
        if (senders[k].lane != SIZE_MAX) m.lanes[senders[k].lane].sender.reset();
        senders.erase(senders.begin() + static_cast<std::ptrdiff_t>(k));
      } else if (op < 80 && rx) {  // receive, one of four ways
        const int how = *rc::gen::inRange(0, 4);
        const auto max = *rc::gen::inRange<std::size_t>(0, 12);
        const std::size_t before = m.queued();
        std::size_t got = 0;
        if (how == 0) {
          auto r = rx->try_recv();
          if (before != 0) {
            RC_ASSERT(r.has_value());
            take(r->v);
            got = 1;
          } else {
            RC_ASSERT(r.status() == (m.registrar || m.any_sender() ? status::empty : status::closed));
          }
        } else if (how == 1) {
          got = rx->consume_up_to(max, [&](counted& c) { take(c.v); });
        } else if (how == 2) {
          std::vector<counted> out;
          got = rx->try_recv_batch(std::back_inserter(out), max);
          RC_ASSERT(out.size() == got);
          for (auto& c : out) take(c.v);
        } else {
          got = rx->consume_all([&](counted& c) { take(c.v); });
          RC_ASSERT(got == before);
        }
        if (how != 0) RC_ASSERT(got == std::min(how == 3 ? before : max, before));
        RC_ASSERT(rx->is_closed() == (m.queued() == 0 && !m.registrar && !m.any_sender()));
      } else if (op < 84 && reg) {  // the registrar goes
        reg.reset();
        m.registrar = false;
      } else if (op < 86 && rx) {  // the receiver goes
        rx.reset();
        m.receiver = false;
        for (auto& s : senders) RC_ASSERT(s.tx.is_closed());
      }
      // The channel holds exactly the queued elements while anyone holds it; the last holder
      // to go destroys what is left.
      if (!reg && !rx && senders.empty())
        for (auto& l : m.lanes) l.queue.clear();
      RC_ASSERT(counted::live == static_cast<long>(m.queued()));
    }
  }
  RC_ASSERT(counted::live == 0);
}

}  // namespace
