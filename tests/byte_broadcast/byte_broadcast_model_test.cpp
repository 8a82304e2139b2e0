// Property test of ringwire::byte_broadcast against a sequential model (rapidcheck).
//
// A random geometry (depth 2..16, region 64 B..1 KiB, max_message up to region / 2), then
// a random sequence of publishes and reads on one thread, with up to three readers
// (copies made mid-stream, signature filters, small buffers, zero-copy reads). The model
// is written from the documented rules, not from the code:
//   * chunk placement: 8-aligned, contiguous, moved to the next multiple of region when it
//     would cross the end; dirty = end + region/8 whenever a chunk ends beyond dirty;
//   * with h published, a reader at n: n > h is empty (closed after close); the entry of n
//     holds the newest k <= h with k = n mod depth -- k != n is lagged with missed =
//     (h - depth + 1) - n, resuming at h - depth + 1; a filtered signature is consumed and
//     counted in filtered(); a payload with dirty > pos + region is skipped and counted
//     missed, and the run is one lagged result (missed = its length) returned before
//     whatever ends it, which stays for the next read; a buffer smaller than the size is
//     too_small and consumes nothing; otherwise ok with the exact bytes and missed 0.
// Every status, missed count, info field, payload byte and counter must match.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ringwire/byte_broadcast.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
using ringwire::status;

std::byte byte_of(std::uint64_t seq, std::size_t i) { return static_cast<std::byte>((seq * 29 + i * 13 + 7) & 0xff); }

struct msg_model {
  std::uint64_t sig = 0;
  std::uint64_t pos = 0;
  std::uint32_t size = 0;
};

struct writer_model {
  std::uint64_t region = 0;
  std::uint64_t pos = 0;
  std::uint64_t dirty = 0;
  std::vector<msg_model> msgs;  // msgs[k - 1] is message k

  void write(std::uint64_t sig, std::uint32_t size) {
    const std::uint64_t len = (size + 7u) & ~7u;
    const std::uint64_t a = (pos % region) + len > region ? (pos / region + 1) * region : pos;
    const std::uint64_t end = a + len;
    if (end > dirty) dirty = end + region / 8;
    msgs.push_back({sig, a, size});
    pos = end;
  }
};

struct reader_model {
  std::uint64_t n = 1;
  std::uint64_t received = 0, missed = 0, filtered = 0;
  std::uint64_t fvalue = 0, fmask = 0;
};

struct expected {
  ringwire::status status = ringwire::status::empty;
  std::uint64_t missed = 0;
  std::uint64_t seq = 0;
};

expected model_read(const writer_model& w, reader_model& r, std::uint64_t depth, std::size_t buf, bool closed) {
  std::uint64_t dropped = 0;
  const std::uint64_t h = w.msgs.size();
  for (;;) {
    // A run of overwritten payloads is one lagged result, before whatever ends it.
    if (r.n > h) return {dropped > 0 ? status::lagged : (closed ? status::closed : status::empty), dropped};
    const std::uint64_t holder = r.n + (h - r.n) / depth * depth;
    if (holder != r.n) {
      const std::uint64_t oldest = h - depth + 1;  // h >= depth here
      const std::uint64_t skipped = oldest - r.n;
      r.missed += skipped;
      r.n = oldest;
      return {status::lagged, skipped + dropped};
    }
    const msg_model& m = w.msgs[r.n - 1];
    if ((m.sig & r.fmask) != r.fvalue) {
      ++r.filtered;
      ++r.n;
      continue;
    }
    if (w.dirty > m.pos + w.region) {
      ++dropped;
      ++r.missed;
      ++r.n;
      continue;
    }
    if (dropped > 0) return {status::lagged, dropped};  // message r.n is the next read's
    if (m.size > buf) return {status::too_small, 0, r.n};
    ++r.received;
    return {status::ok, 0, r.n++};
  }
}

RC_GTEST_PROP(ByteBroadcastModel, ReadersSeeExactlyWhatTheModelSays, ()) {
  const std::uint64_t depth = std::uint64_t{1} << *rc::gen::inRange(1, 5);
  const std::uint64_t region = std::uint64_t{1} << *rc::gen::inRange(6, 11);
  const std::uint64_t max_message = *rc::gen::inRange<std::uint64_t>(0, region / 2 + 1);
  auto [w, r0] = bb::channel(bb::geometry{depth, region, max_message, 0});
  writer_model wm{region, 0, 0, {}};
  std::vector<bb::reader<>> readers{r0};
  std::vector<reader_model> models{reader_model{}};
  bool closed = false;

  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 10);
    const std::size_t i = *rc::gen::inRange<std::size_t>(0, readers.size());
    if (op <= 3 && !closed) {  // publish
      const auto size = static_cast<std::uint32_t>(*rc::gen::inRange<std::uint64_t>(0, max_message + 1));
      const std::uint64_t sig = *rc::gen::inRange<std::uint64_t>(0, 4);
      const std::uint64_t seq = wm.msgs.size() + 1;
      std::vector<std::byte> data(size);
      for (std::size_t k = 0; k < size; ++k) data[k] = byte_of(seq, k);
      RC_ASSERT(w.try_write(sig, data) == ringwire::status::ok);
      wm.write(sig, size);
    } else if (op <= 6) {  // copying read, sometimes into a buffer that may be too small
      const bool small = *rc::gen::inRange(0, 4) == 0;
      const std::size_t buf = small ? *rc::gen::inRange<std::size_t>(0, max_message + 1) : max_message;
      std::vector<std::byte> out(buf);
      const expected e = model_read(wm, models[i], depth, buf, closed);
      const bb::read_result got = readers[i].try_read(out);
      RC_ASSERT(got.status() == e.status);
      RC_ASSERT(got.missed() == e.missed);
      if (e.status == status::ok || e.status == status::too_small) {
        const msg_model& m = wm.msgs[e.seq - 1];
        RC_ASSERT(got.info().seq == e.seq);
        RC_ASSERT(got.info().size == m.size);
        RC_ASSERT(got.info().signature == m.sig);
        if (e.status == status::ok)
          for (std::size_t k = 0; k < m.size; ++k) RC_ASSERT(out[k] == byte_of(e.seq, k));
      }
    } else if (op == 7) {  // zero-copy read
      const expected e = model_read(wm, models[i], depth, max_message, closed);
      std::vector<std::byte> seen;
      const bb::read_result got = readers[i].try_read_view(
          [&](const bb::message_info&, std::span<const std::byte> v) { seen.assign(v.begin(), v.end()); });
      RC_ASSERT(got.status() == e.status);
      RC_ASSERT(got.missed() == e.missed);
      if (e.status == status::ok) {
        RC_ASSERT(seen.size() == wm.msgs[e.seq - 1].size);
        for (std::size_t k = 0; k < seen.size(); ++k) RC_ASSERT(seen[k] == byte_of(e.seq, k));
      }
    } else if (op == 8 && readers.size() < 3) {  // a copy of a reader, at its position
      bb::reader<> copy = readers[i];
      const reader_model copy_model = models[i];
      readers.push_back(copy);
      models.push_back(copy_model);
    } else if (op == 9) {  // a filter on the signature's low bit
      const std::uint64_t value = *rc::gen::inRange<std::uint64_t>(0, 2);
      const std::uint64_t mask = *rc::gen::inRange<std::uint64_t>(0, 2);
      readers[i].set_filter(value, mask);
      models[i].fvalue = value & mask;
      models[i].fmask = mask;
    }
    RC_ASSERT(readers[i].next_seq() == models[i].n);
    RC_ASSERT(readers[i].received() == models[i].received);
    RC_ASSERT(readers[i].missed() == models[i].missed);
    RC_ASSERT(readers[i].filtered() == models[i].filtered);
    if (step == steps - 1 && !closed) {
      w.close();
      closed = true;
      step = std::max(0, steps - 1 - 8);  // a few more reads after the close
    }
  }
  // Drain: every reader ends closed, having accounted for every message from its start.
  for (std::size_t i = 0; i < readers.size(); ++i) {
    for (int guard = 0; guard < 1000; ++guard) {
      std::vector<std::byte> out(max_message);
      const expected e = model_read(wm, models[i], depth, max_message, true);
      const bb::read_result got = readers[i].try_read(out);
      RC_ASSERT(got.status() == e.status);
      RC_ASSERT(got.missed() == e.missed);
      if (got.status() == status::closed) break;
    }
    RC_ASSERT(readers[i].next_seq() == wm.msgs.size() + 1);
  }
}

// Credits: a credited reader and a lossy one, random writes (try_write) and reads.
// The credited reader must get every message that went in, in order, byte for byte, and
// never lagged; try_write may say full only while the credited reader has
// unread messages, and must say full when it has a whole metadata ring unread.
RC_GTEST_PROP(ByteBroadcastModel, CreditedReaderLosesNothing, ()) {
  const std::uint64_t depth = std::uint64_t{1} << *rc::gen::inRange(1, 5);
  const std::uint64_t region = std::uint64_t{1} << *rc::gen::inRange(6, 11);
  const std::uint64_t max_message = *rc::gen::inRange<std::uint64_t>(0, region / 2 + 1);
  auto [w, r] = bb::channel(bb::geometry{depth, region, max_message, 1});
  auto credited = r.credited();
  std::uint64_t published = 0, consumed = 0;
  std::vector<std::uint32_t> sizes;
  const int steps = *rc::gen::inRange(1, 150);
  std::vector<std::byte> out(max_message);
  for (int step = 0; step < steps; ++step) {
    if (*rc::gen::inRange(0, 2) == 0) {
      const auto size = static_cast<std::uint32_t>(*rc::gen::inRange<std::uint64_t>(0, max_message + 1));
      std::vector<std::byte> data(size);
      for (std::size_t k = 0; k < size; ++k) data[k] = byte_of(published + 1, k);
      const ringwire::status st = w.try_write(7, data);
      const std::uint64_t pending = published - consumed;
      if (st == ringwire::status::ok) {
        RC_ASSERT(pending < depth);
        ++published;
        sizes.push_back(size);
      } else {
        RC_ASSERT(st == ringwire::status::full);
        RC_ASSERT(pending > 0);
      }
    } else {
      const bb::read_result got = credited.try_read(out);
      if (consumed == published) {
        RC_ASSERT(got.status() == status::empty);
        continue;
      }
      RC_ASSERT(got.status() == status::ok);
      RC_ASSERT(got.missed() == 0u);
      RC_ASSERT(got.info().seq == consumed + 1);
      RC_ASSERT(got.info().size == sizes[consumed]);
      for (std::size_t k = 0; k < got.info().size; ++k) RC_ASSERT(out[k] == byte_of(got.info().seq, k));
      ++consumed;
    }
  }
  RC_ASSERT(credited.missed() == 0u);
  RC_ASSERT(credited.received() == consumed);
}

}  // namespace
