// Model-based property test of fragmented messages on ringwire::byte_ring (rapidcheck): random
// messages of random sizes (many larger than one record), written by try_write_fragmented,
// write_fragmented and write_fragmented_for(0) on one thread, read through a reassembler,
// against a sequential model, for both ring kinds.
//
// The model keeps the writer's tail and the reader's head (byte indices) and a queue of what
// the writer put in: a whole message (delivered), a message cut short by a timeout with its
// abort fragment (dropped as aborted), or -- many-to-one only, when not even the abort fit --
// without it (its stream stays open until that stream's next first fragment: restarted).
// Where each record goes, and whether it fits, is the byte accounting of layout.hpp
// (detail::run_bytes); the one-to-one writer also keeps room for an abort record after every
// non-final fragment of a waiting write. Every status, every delivered message, the head the
// reassembler releases to and the drop counters must match.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <span>
#include <stop_token>
#include <tuple>
#include <vector>

#include "ringwire/byte_ring.hpp"

namespace {

namespace br = ringwire::byte_ring;
using ringwire::status;

enum item_kind { whole, aborted, cut };  // cut: ended without an abort record

struct item {
  item_kind kind;
  bool fragmented;
  std::uint16_t stream;
  std::int32_t type;
  std::vector<std::byte> bytes;
  std::uint64_t end;  // tail index after its last record
};

std::vector<std::byte> payload(std::size_t n, std::uint64_t salt) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((salt * 29 + i * 3 + (i >> 8)) & 0xff);
  return v;
}

enum op_kind { op_try, op_wait, op_timeout, op_read, op_count };

template <class W>
void run(std::uint64_t cap, bool many, const std::vector<std::tuple<int, unsigned, unsigned>>& ops, W& tx,
         br::reader<>& rx) {
  std::uint64_t tail = 0, head = 0;
  std::deque<item> q;
  bool open[3] = {false, false, false};  // the model reassembler's streams left open by a cut
  std::uint64_t n_aborted = 0, n_restarted = 0;
  br::reassembler re(1 << 20, 3);
  const std::size_t fmax = tx.max_fragment();
  RC_ASSERT(fmax == cap / 2 - 32);
  std::uint64_t salt = 0;
  std::stop_source stopped;
  stopped.request_stop();

  auto free_room = [&] { return cap - (tail - head); };
  auto fits = [&](std::initializer_list<std::size_t> payloads) {
    const std::vector<std::size_t> v(payloads);
    return br::detail::run_bytes(tail, cap, v.size(), [&](std::size_t i) { return v[i]; }) <= free_room();
  };
  auto advance = [&](std::size_t payload_bytes) {
    tail += br::detail::run_bytes(tail, cap, 1, [&](std::size_t) { return payload_bytes; });
  };

  for (const auto& [k, a, b] : ops) {
    const std::size_t size = a % (3 * cap);
    const std::size_t fsize = (b & 1) ? 0 : 1 + (b >> 1) % fmax;
    const std::size_t f = fsize == 0 ? fmax : fsize;
    const auto stream = static_cast<std::uint16_t>((b >> 8) % 3);
    const auto type = static_cast<std::int32_t>(1 + (b >> 12) % 40);
    const std::size_t count = size <= f ? 1 : (size + f - 1) / f;
    auto piece = [&](std::size_t i) {  // payload bytes of record i
      if (count == 1) return size;
      return br::fragment_header_bytes + (i + 1 < count ? f : size - f * (count - 1));
    };
    const auto kind = static_cast<op_kind>(k % op_count);
    if (kind == op_read) {
      // The model reassembler: pass over cut-short messages to the next whole one.
      std::uint64_t want_head = head;
      const item* deliver = nullptr;
      while (!q.empty()) {
        item& it = q.front();
        if (it.fragmented && open[it.stream]) ++n_restarted, open[it.stream] = false;
        want_head = it.end;
        if (it.kind == whole) {
          deliver = &it;
          break;
        }
        if (it.kind == aborted) ++n_aborted;
        if (it.kind == cut) open[it.stream] = true;
        q.pop_front();
      }
      std::vector<std::byte> got;
      std::int32_t got_type = 0;
      const status s = re.try_read(rx, [&](std::int32_t t, std::span<const std::byte> p) {
        got_type = t;
        got.assign(p.begin(), p.end());
      });
      RC_ASSERT(s == (deliver != nullptr ? status::ok : status::empty));
      if (deliver != nullptr) {
        RC_ASSERT(got_type == deliver->type);
        RC_ASSERT(got == deliver->bytes);
        q.pop_front();
      }
      head = want_head;
      RC_ASSERT(rx.position() == head);
      RC_ASSERT(re.dropped(br::drop_reason::aborted) == n_aborted);
      RC_ASSERT(re.dropped(br::drop_reason::restarted) == n_restarted);
      RC_ASSERT(re.dropped() == n_aborted + n_restarted);
      continue;
    }
    const auto bytes = payload(size, ++salt);
    std::size_t total = 0;
    bool all_fit = true;
    {
      std::vector<std::size_t> v;
      for (std::size_t i = 0; i < count; ++i) v.push_back(piece(i));
      total = br::detail::run_bytes(tail, cap, count, [&](std::size_t i) { return v[i]; });
      all_fit = total <= free_room();
    }
    if (kind == op_try || (kind == op_wait && all_fit)) {
      // The waiting form with a stop already requested: it must not need to wait (a wrong
      // writer fails the property here instead of hanging the test).
      const status s = kind == op_try ? tx.try_write_fragmented(type, bytes, stream, fsize)
                                      : tx.write_fragmented(type, bytes, stopped.get_token(), stream, fsize);
      RC_ASSERT(s == (all_fit ? status::ok : status::full));
      if (all_fit) {
        tail += total;
        q.push_back({whole, count > 1, stream, type, bytes, tail});
      }
      continue;
    }
    // write_fragmented_for(0): fragment by fragment until one does not fit.
    std::size_t written = 0;
    for (; written < count; ++written) {
      const bool last = written + 1 == count;
      const bool ok = (!many && !last) ? fits({piece(written), br::fragment_header_bytes}) : fits({piece(written)});
      if (!ok) break;
      advance(piece(written));
    }
    const status s = tx.write_fragmented_for(type, bytes, std::chrono::nanoseconds(0), stream, fsize);
    if (written == count) {
      RC_ASSERT(s == status::ok);
      q.push_back({whole, count > 1, stream, type, bytes, tail});
    } else {
      RC_ASSERT(s == status::timed_out);
      if (written > 0) {
        const bool abort_fits = fits({br::fragment_header_bytes});
        RC_ASSERT(abort_fits || many);
        if (abort_fits) advance(br::fragment_header_bytes);
        q.push_back({abort_fits ? aborted : cut, true, stream, type, {}, tail});
      }
    }
  }
  RC_ASSERT(!rx.corrupt());
  RC_TAG(n_aborted > 0 ? "aborts" : "no aborts", n_restarted > 0 ? "restarts" : "no restarts");
  // aborts are no error; a restart (a many-to-one cut without room for its abort) is
  const bool clean = static_cast<bool>(re.check());
  RC_ASSERT(clean == (n_restarted == 0));
}

const std::uint64_t caps[] = {128, 256, 1024};

RC_GTEST_PROP(ByteRingFragmentModel, OneToOneMatchesModel, ()) {
  const std::uint64_t cap = caps[*rc::gen::inRange(0, 3)];
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, unsigned, unsigned>>>(
      rc::gen::tuple(rc::gen::inRange(0, 100), rc::gen::arbitrary<unsigned>(), rc::gen::arbitrary<unsigned>()));
  auto [tx, rx] = br::one_to_one(cap);
  run(cap, false, ops, tx, rx);
}

RC_GTEST_PROP(ByteRingFragmentModel, ManyToOneMatchesModel, ()) {
  const std::uint64_t cap = caps[*rc::gen::inRange(0, 3)];
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, unsigned, unsigned>>>(
      rc::gen::tuple(rc::gen::inRange(0, 100), rc::gen::arbitrary<unsigned>(), rc::gen::arbitrary<unsigned>()));
  auto [tx, rx] = br::many_to_one(cap);
  run(cap, true, ops, tx, rx);
}

}  // namespace
