// Properties of the bridge's frame format and gap accounting (net/frame.hpp), against plain
// models: any batch of messages round-trips through frame_writer / decode; any single
// corrupted byte either is refused with a named fault or leaves a frame that is still
// canonical; the gap tracker over a stream that the network thins out and duplicates
// delivers each surviving sequence number once, in order, and counts exactly the ones that
// never arrived.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "ringwire/net/frame.hpp"

namespace {

using namespace ringwire::net;

struct msg {
  std::uint64_t seq;
  std::uint64_t ts;
  std::string body;
};

// Messages with strictly increasing sequence numbers (gaps allowed), bodies up to 300 B.
rc::Gen<std::vector<msg>> batches() {
  return rc::gen::map(rc::gen::nonEmpty(rc::gen::container<std::vector<std::tuple<std::uint8_t, std::uint64_t, std::string>>>(
                          rc::gen::tuple(rc::gen::inRange<std::uint8_t>(1, 5), rc::gen::arbitrary<std::uint64_t>(),
                                         rc::gen::resize(300, rc::gen::arbitrary<std::string>())))),
                      [](const std::vector<std::tuple<std::uint8_t, std::uint64_t, std::string>>& raw) {
                        std::vector<msg> out;
                        std::uint64_t seq = 0;
                        for (const auto& [step, ts, body] : raw) {
                          seq += step;
                          out.push_back({seq, ts, body});
                        }
                        return out;
                      });
}

std::vector<std::byte> encode(const std::vector<msg>& ms, std::uint32_t channel, std::uint64_t epoch) {
  std::vector<std::byte> buf(frame_header_bytes + ms.size() * record_bytes(300));
  frame_writer w(buf);
  RC_ASSERT(w.begin(channel, epoch));
  for (const auto& m : ms) RC_ASSERT(w.add(m.seq, m.ts, std::as_bytes(std::span(m.body.data(), m.body.size()))));
  const auto f = w.finish();
  return {f.begin(), f.end()};
}

RC_GTEST_PROP(NetFrameModel, AnyBatchRoundTrips, ()) {
  const auto ms = *batches();
  const auto channel = *rc::gen::arbitrary<std::uint32_t>();
  const auto epoch = *rc::gen::arbitrary<std::uint64_t>();
  const auto f = encode(ms, channel, epoch);
  const auto r = decode(f, 300);
  RC_ASSERT(r.fault == frame_fault::none);
  RC_ASSERT(r.frame.header().channel == channel);
  RC_ASSERT(r.frame.header().epoch == epoch);
  std::size_t i = 0;
  r.frame.for_each([&](const record& rec) {
    RC_ASSERT(i < ms.size());
    RC_ASSERT(rec.seq == ms[i].seq);
    RC_ASSERT(rec.publish_ns == ms[i].ts);
    RC_ASSERT(std::string(reinterpret_cast<const char*>(rec.payload.data()), rec.payload.size()) == ms[i].body);
    ++i;
  });
  RC_ASSERT(i == ms.size());
  // a limit below the largest body refuses the frame, never truncates it
  std::size_t largest = 0;
  for (const auto& m : ms) largest = std::max(largest, m.body.size());
  if (largest > 0) RC_ASSERT(decode(f, largest - 1).fault == frame_fault::payload_too_large);
}

RC_GTEST_PROP(NetFrameModel, OneCorruptByteIsRefusedOrStillCanonical, ()) {
  const auto ms = *batches();
  auto f = encode(ms, 1, 2);
  const auto at = *rc::gen::inRange<std::size_t>(0, f.size());
  const auto value = *rc::gen::arbitrary<std::uint8_t>();
  RC_PRE(f[at] != std::byte{value});
  f[at] = std::byte{value};
  const auto r = decode(f, 300);
  if (!r) {
    RC_ASSERT(r.fault != frame_fault::none);
    return;
  }
  // still well-formed (a changed seq, timestamp, payload byte, channel or epoch): the
  // records written again give the same bytes
  std::vector<std::byte> again(f.size());
  frame_writer w(again);
  RC_ASSERT(w.begin(r.frame.header().channel, r.frame.header().epoch, r.frame.header().flags));
  r.frame.for_each([&](const record& rec) { RC_ASSERT(w.add(rec.seq, rec.publish_ns, rec.payload)); });
  const auto out = w.finish();
  RC_ASSERT(out.size() == f.size());
  RC_ASSERT(std::memcmp(out.data(), f.data(), f.size()) == 0);
}

// The network between a sender publishing 1..n and the tracker: drops any message, repeats
// any message it already delivered (a duplicate or a late copy), never reorders the first copies.
RC_GTEST_PROP(NetGapTrackerModel, DeliversEachSurvivorOnceAndCountsTheRest, ()) {
  const auto n = *rc::gen::inRange<std::uint64_t>(1, 400);
  std::vector<std::uint64_t> wire;
  std::set<std::uint64_t> survivors;
  for (std::uint64_t s = 1; s <= n; ++s) {
    if (*rc::gen::inRange(0, 4) == 0) continue;  // dropped
    wire.push_back(s);
    survivors.insert(s);
    if (*rc::gen::inRange(0, 8) == 0) wire.push_back(*rc::gen::elementOf(survivors));  // a stale copy
  }
  gap_tracker g;
  std::vector<std::uint64_t> delivered;
  std::uint64_t gaps = 0;
  for (const auto s : wire) {
    const auto v = g.on_record(42, s);
    RC_ASSERT(!v.restarted);
    if (v.deliver) {
      delivered.push_back(s);
      gaps += v.gap;
    }
  }
  RC_ASSERT(delivered == std::vector<std::uint64_t>(survivors.begin(), survivors.end()));
  RC_ASSERT(g.delivered() == survivors.size());
  RC_ASSERT(g.duplicates() == wire.size() - survivors.size());
  RC_ASSERT(g.missed() == gaps);
  if (!survivors.empty()) {
    // joined at the first survivor: what is missing is what lies between it and the last
    const std::uint64_t span = *survivors.rbegin() - *survivors.begin() + 1;
    RC_ASSERT(g.missed() == span - survivors.size());
  }
}

}  // namespace
