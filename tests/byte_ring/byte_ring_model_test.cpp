// Model-based property test of ringwire::byte_ring (rapidcheck): random operation sequences
// on one thread against a real ring and a sequential model, for both ring kinds.
//
// The model is the byte accounting of byte_ring/layout.hpp written out plainly: a deque of
// items (a record, or a padding run the reader skips), the writer's tail and the reader's
// head and cursor. A record takes align8(8 + n) bytes; when it does not fit before the end of
// the data region a padding item fills the rest; a reservation succeeds exactly when
// tail - head + padding + record <= capacity. Many-to-one adds padding items for an abort
// (the whole claim) and for the slack of a partial commit. Every status, every record (type
// and bytes) and every thrown error must match the model.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <span>
#include <tuple>
#include <vector>

#include "ringwire/byte_ring.hpp"

namespace {

namespace br = ringwire::byte_ring;
using ringwire::status;

struct item {
  bool padding;
  std::uint64_t bytes;
  std::int32_t type;
  std::vector<std::byte> payload;
};

struct model {
  std::uint64_t cap;
  bool many;
  std::uint64_t tail = 0, head = 0, cursor = 0, pending = 0;
  std::deque<item> items;

  // Bytes a reservation of n needs at the current tail: {padding, record}.
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> need(std::size_t n) const {
    const std::uint64_t rec = br::detail::align8(8 + n);
    const std::uint64_t to_end = cap - (tail & (cap - 1));
    return {rec > to_end ? to_end : 0, rec};
  }
  [[nodiscard]] bool fits(std::size_t n) const {
    auto [pad, rec] = need(n);
    return tail - head + pad + rec <= cap;
  }
};

enum op_kind { op_write, op_reserve_commit, op_reserve_abort, op_read, op_release, op_batch, op_too_large, op_count };

std::vector<std::byte> payload(std::size_t n, std::uint64_t salt) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((salt * 13 + i) & 0xff);
  return v;
}

template <class W>
void run(std::uint64_t cap, bool many, const std::vector<std::tuple<int, unsigned, unsigned>>& ops, W& tx,
         br::reader<>& rx) {
  model m{cap, many, 0, 0, 0, 0, {}};
  std::uint64_t salt = 0;
  const std::size_t maxp = tx.max_payload();
  RC_ASSERT(maxp == cap / 2 - 8);

  auto reserve_and = [&](std::size_t n, bool commit, std::size_t used, std::int32_t type) {
    const bool fits = m.fits(n);
    br::claim c = tx.try_reserve(n);
    RC_ASSERT((c.status() == status::ok) == fits);
    if (!fits) {
      RC_ASSERT(c.status() == status::full);
      return;
    }
    RC_ASSERT(c.bytes().size() == n);
    auto [pad, rec] = m.need(n);
    const auto bytes = payload(used, ++salt);
    if (commit && used != 0) std::memcpy(c.bytes().data(), bytes.data(), used);
    if (pad != 0 && (commit || many)) m.items.push_back({true, pad, 0, {}});
    if (commit) {
      tx.commit(type, used);
      const std::uint64_t rec_used = br::detail::align8(8 + used);
      m.items.push_back({false, rec_used, type, bytes});
      if (many && rec_used != rec) m.items.push_back({true, rec - rec_used, 0, {}});
      m.tail += pad + (many ? rec : rec_used);
    } else {
      tx.abort();
      if (many) {
        m.items.push_back({true, rec, 0, {}});
        m.tail += pad + rec;
      }
    }
  };

  auto model_read = [&](item& out) -> bool {
    while (!m.items.empty()) {
      item it = std::move(m.items.front());
      m.items.pop_front();
      m.cursor += it.bytes;
      if (!it.padding) {
        out = std::move(it);
        ++m.pending;
        return true;
      }
    }
    return false;
  };

  for (const auto& [k, a, b] : ops) {
    const std::size_t n = a % (maxp + 1);
    const auto type = static_cast<std::int32_t>(1 + b % 50);
    switch (k % op_count) {
      case op_write: {
        const bool fits = m.fits(n);
        const auto bytes = payload(n, ++salt);
        auto [pad, rec] = m.need(n);
        const status s = tx.try_write(type, bytes);
        RC_ASSERT(s == (fits ? status::ok : status::full));
        if (fits) {
          if (pad != 0) m.items.push_back({true, pad, 0, {}});
          m.items.push_back({false, rec, type, bytes});
          m.tail += pad + rec;
        }
        break;
      }
      case op_reserve_commit: reserve_and(n, true, b % (n + 1), type); break;
      case op_reserve_abort: reserve_and(n, false, 0, type); break;
      case op_read: {
        br::record_view r;
        const status s = rx.try_read(r);
        item want;
        if (model_read(want)) {
          RC_ASSERT(s == status::ok);
          RC_ASSERT(r.type == want.type);
          RC_ASSERT(r.payload.size() == want.payload.size());
          // computed first: RC_ASSERT's expression capture does not short-circuit ||.
          const bool same = want.payload.empty() ||
                            std::memcmp(r.payload.data(), want.payload.data(), want.payload.size()) == 0;
          RC_ASSERT(same);
        } else {
          RC_ASSERT(s == status::empty);
          if (m.pending == 0) m.head = m.cursor;  // padding alone is given back at once
        }
        break;
      }
      case op_release:
        rx.release();
        m.head = m.cursor;
        m.pending = 0;
        break;
      case op_batch: {
        const std::size_t limit = b % 5;
        std::vector<item> want;
        item it;
        while (want.size() < limit && model_read(it)) want.push_back(it);
        std::size_t i = 0;
        bool ok = true;
        const std::size_t got = rx.read_batch(limit, [&](std::int32_t t, std::span<const std::byte> p) {
          if (i >= want.size() || t != want[i].type || p.size() != want[i].payload.size() ||
              (!p.empty() && std::memcmp(p.data(), want[i].payload.data(), p.size()) != 0)) {
            ok = false;
          }
          ++i;
        });
        RC_ASSERT(ok);
        RC_ASSERT(got == want.size());
        m.head = m.cursor;
        m.pending = 0;
        break;
      }
      case op_too_large: {
        bool thrown = false;
        try {
          (void)tx.try_write(type, payload(maxp + 1 + a % 64, 0));
        } catch (const ringwire::error& e) {
          thrown = e.code() == ringwire::errc::message_too_large;
        }
        RC_ASSERT(thrown);
        break;
      }
      default: break;
    }
    RC_ASSERT(!rx.corrupt());
  }
}

const std::uint64_t caps[] = {64, 128, 256, 1024};

RC_GTEST_PROP(ByteRingModel, OneToOneMatchesModel, ()) {
  const std::uint64_t cap = caps[*rc::gen::inRange(0, 4)];
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, unsigned, unsigned>>>(
      rc::gen::tuple(rc::gen::inRange(0, 100), rc::gen::arbitrary<unsigned>(), rc::gen::arbitrary<unsigned>()));
  auto [tx, rx] = br::one_to_one(cap);
  run(cap, false, ops, tx, rx);
}

RC_GTEST_PROP(ByteRingModel, ManyToOneMatchesModel, ()) {
  const std::uint64_t cap = caps[*rc::gen::inRange(0, 4)];
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, unsigned, unsigned>>>(
      rc::gen::tuple(rc::gen::inRange(0, 100), rc::gen::arbitrary<unsigned>(), rc::gen::arbitrary<unsigned>()));
  auto [tx, rx] = br::many_to_one(cap);
  run(cap, true, ops, tx, rx);
}

}  // namespace
