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
//     too_small and consumes nothing; otherwise ok with the exact bytes and missed 0;
//   * skips (writer::skip(g)): g sequences that write no entry and move no payload. Once
//     the ring has skipped, "present(k)" means k was written and no later written message
//     shares its entry; a reader at n <= h whose entry holds nothing new (no written k >= n
//     there) passes to the oldest present message in [n, h] (h + 1: none), counting the
//     sequences passed over as missed in the current run; a lap resumes there too (the
//     window's h - depth + 1 only on a ring that never skipped).
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
  bool written = true;  // false: a skipped sequence
};

struct writer_model {
  std::uint64_t region = 0;
  std::uint64_t pos = 0;
  std::uint64_t dirty = 0;
  std::vector<msg_model> msgs;  // msgs[k - 1] is message k
  bool skipped = false;         // the ring has skipped (the writer's sticky flag)

  void skip(std::uint64_t g) {
    if (g != 0) skipped = true;
    msgs.insert(msgs.end(), g, msg_model{0, 0, 0, false});
  }
  // The newest written k <= h in n's entry (k = n mod depth), or 0 for none.
  [[nodiscard]] std::uint64_t holder(std::uint64_t n, std::uint64_t depth) const {
    const std::uint64_t h = msgs.size();
    for (std::uint64_t k = n + (h - n) / depth * depth; k >= 1; k -= depth) {
      if (msgs[k - 1].written) return k;
      if (k <= depth) break;
    }
    return 0;
  }
  // The oldest k in [n, h] written and still in its entry, or h + 1.
  [[nodiscard]] std::uint64_t oldest_present(std::uint64_t n, std::uint64_t depth) const {
    const std::uint64_t h = msgs.size();
    for (std::uint64_t k = n; k <= h; ++k)
      if (holder(k, depth) == k) return k;
    return h + 1;
  }

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
    const std::uint64_t holder = w.holder(r.n, depth);
    if (holder > r.n) {
      const std::uint64_t oldest = w.skipped ? w.oldest_present(r.n, depth) : h - depth + 1;  // h >= depth here
      const std::uint64_t skipped = oldest - r.n;
      r.missed += skipped;
      r.n = oldest;
      return {status::lagged, skipped + dropped};
    }
    if (holder < r.n) {  // nothing new in n's entry with n <= h: n was skipped
      const std::uint64_t next = w.oldest_present(r.n, depth);
      dropped += next - r.n;
      r.missed += next - r.n;
      r.n = next;
      continue;
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
    const int op = *rc::gen::inRange(0, 11);
    const std::size_t i = *rc::gen::inRange<std::size_t>(0, readers.size());
    if (op == 10 && !closed) {  // skip, up to two rings' worth
      const std::uint64_t g = *rc::gen::inRange<std::uint64_t>(0, 2 * depth + 2);
      RC_ASSERT(w.skip(g) == ringwire::status::ok);
      wm.skip(g);
    } else if (op <= 3 && !closed) {  // publish
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

// Credits: a credited reader, random writes (try_write), skips and reads. The credited
// reader must get every message that went in, in order, byte for byte, and a skipped run
// at its cursor as one lagged result of exactly the run up to the next message (or head).
// try_write may say full only while the credited reader has an unread message, and must
// say full when the next sequence is a whole metadata ring past the first message at or
// after its cursor (skipped sequences before that message hold nothing to protect; the
// writer's gate is stricter where it does not know the run, writer.hpp "Skips").
RC_GTEST_PROP(ByteBroadcastModel, CreditedReaderLosesNothing, ()) {
  const std::uint64_t depth = std::uint64_t{1} << *rc::gen::inRange(1, 5);
  const std::uint64_t region = std::uint64_t{1} << *rc::gen::inRange(6, 11);
  const std::uint64_t max_message = *rc::gen::inRange<std::uint64_t>(0, region / 2 + 1);
  auto [w, r] = bb::channel(bb::geometry{depth, region, max_message, 1});
  auto credited = r.credited();
  std::vector<bool> written{false};  // written[k]: sequence k is a message (false: skipped)
  std::vector<std::uint32_t> sizes{0};
  std::uint64_t received = 0, missed = 0;
  const auto seq = [&] { return written.size() - 1; };
  const int steps = *rc::gen::inRange(1, 150);
  std::vector<std::byte> out(max_message);
  for (int step = 0; step < steps; ++step) {
    const std::uint64_t c = credited.next_seq();
    const int op = *rc::gen::inRange(0, 8);
    if (op == 0) {
      const std::uint64_t g = *rc::gen::inRange<std::uint64_t>(0, 2 * depth + 2);
      RC_ASSERT(w.skip(g) == ringwire::status::ok);
      written.insert(written.end(), g, false);
      sizes.insert(sizes.end(), g, 0);
    } else if (op <= 3) {
      const auto size = static_cast<std::uint32_t>(*rc::gen::inRange<std::uint64_t>(0, max_message + 1));
      const std::uint64_t n = seq() + 1;
      std::vector<std::byte> data(size);
      for (std::size_t k = 0; k < size; ++k) data[k] = byte_of(n, k);
      const ringwire::status st = w.try_write(7, data);
      std::uint64_t held = c;  // the first message at or after the cursor (seq() + 1: none)
      while (held <= seq() && !written[held]) ++held;
      if (st == ringwire::status::ok) {
        RC_ASSERT(held > seq() || n < held + depth);
        written.push_back(true);
        sizes.push_back(size);
      } else {
        RC_ASSERT(st == ringwire::status::full);
        RC_ASSERT(held <= seq());  // an unread message
      }
    } else {
      const bb::read_result got = credited.try_read(out);
      if (c > seq()) {
        RC_ASSERT(got.status() == status::empty);
        continue;
      }
      if (!written[c]) {
        std::uint64_t next = c;
        while (next <= seq() && !written[next]) ++next;
        RC_ASSERT(got.status() == status::lagged);
        RC_ASSERT(got.missed() == next - c);
        RC_ASSERT(credited.next_seq() == next);
        missed += next - c;
        continue;
      }
      RC_ASSERT(got.status() == status::ok);
      RC_ASSERT(got.missed() == 0u);
      RC_ASSERT(got.info().seq == c);
      RC_ASSERT(got.info().size == sizes[c]);
      for (std::size_t k = 0; k < got.info().size; ++k) RC_ASSERT(out[k] == byte_of(c, k));
      ++received;
    }
  }
  RC_ASSERT(credited.missed() == missed);
  RC_ASSERT(credited.received() == received);
}

}  // namespace
