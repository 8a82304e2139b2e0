// The bridge's frame format (net/frame.hpp): encode / decode round trips, every fault the
// decoder names (one test per corruption), the writer's refusals, and the gap tracker's
// accounting (gaps, duplicates, restarts).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ringwire/net/frame.hpp"

namespace {

using namespace ringwire::net;
namespace net = ringwire::net;

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

struct msg {
  std::uint64_t seq;
  std::uint64_t ts;
  std::string body;
};

std::vector<std::byte> encode(const std::vector<msg>& ms, std::uint32_t channel = 7, std::uint64_t epoch = 99) {
  std::vector<std::byte> buf(1 << 16);
  frame_writer w(buf);
  EXPECT_TRUE(w.begin(channel, epoch));
  for (const auto& m : ms) EXPECT_TRUE(w.add(m.seq, m.ts, bytes_of(m.body)));
  const auto f = w.finish();
  return {f.begin(), f.end()};
}

std::vector<msg> decoded(const decode_result& r) {
  std::vector<msg> out;
  r.frame.for_each([&](const record& rec) {
    out.push_back({rec.seq, rec.publish_ns,
                   std::string(reinterpret_cast<const char*>(rec.payload.data()), rec.payload.size())});
  });
  return out;
}

template <class U>
void poke(std::vector<std::byte>& f, std::size_t at, U v) {
  std::memcpy(f.data() + at, &v, sizeof v);
}

TEST(NetFrame, RoundTripKeepsEveryFieldAndPadsToEightBytes) {
  const std::vector<msg> ms{{1, 100, "a"}, {2, 200, ""}, {5, 0, "sixteen bytes!!!"}, {6, 7, std::string(1000, 'x')}};
  const auto f = encode(ms, 42, 0xabcdef);
  EXPECT_EQ(f.size(), frame_header_bytes + record_bytes(1) + record_bytes(0) + record_bytes(16) + record_bytes(1000));
  EXPECT_EQ(f.size() % 8, 0u);
  const auto r = decode(f, 4096);
  ASSERT_TRUE(r) << to_string(r.fault);
  EXPECT_EQ(r.frame.header().channel, 42u);
  EXPECT_EQ(r.frame.header().count, 4u);
  EXPECT_EQ(r.frame.header().epoch, 0xabcdefu);
  const auto got = decoded(r);
  ASSERT_EQ(got.size(), ms.size());
  for (std::size_t i = 0; i < ms.size(); ++i) {
    EXPECT_EQ(got[i].seq, ms[i].seq);
    EXPECT_EQ(got[i].ts, ms[i].ts);
    EXPECT_EQ(got[i].body, ms[i].body);
  }
}

TEST(NetFrame, HeaderBytesAreTheDocumentedOnes) {
  const auto f = encode({{3, 4, "hi"}}, 0x01020304, 0x1122334455667788ull);
  const unsigned char expect[] = {'R', 'W', 'N', '1', 1, 0, 32, 0, 4, 3, 2, 1, 1, 0, 0, 0,
                                  0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 32, 0, 0, 0, 0, 0, 0, 0};
  ASSERT_GE(f.size(), sizeof expect);
  EXPECT_EQ(std::memcmp(f.data(), expect, sizeof expect), 0);
  // the record: seq 3, ts 4, size 2, reserved 0, "hi", 6 bytes of zero padding
  EXPECT_EQ(f.size(), 32u + 24u + 8u);
  EXPECT_EQ(static_cast<char>(f[56]), 'h');
  for (std::size_t i = 58; i < 64; ++i) EXPECT_EQ(f[i], std::byte{0});
}

TEST(NetFrame, EveryCorruptionIsNamed) {
  const auto good = encode({{1, 0, "abc"}, {2, 0, "defgh"}});
  ASSERT_TRUE(decode(good, 64));
  struct corruption {
    const char* what;
    void (*apply)(std::vector<std::byte>&);
    frame_fault expect;
  };
  const corruption cases[] = {
      {"short", [](std::vector<std::byte>& f) { f.resize(31); }, frame_fault::truncated_header},
      {"magic", [](std::vector<std::byte>& f) { f[0] = std::byte{'X'}; }, frame_fault::bad_magic},
      {"version", [](std::vector<std::byte>& f) { poke<std::uint16_t>(f, 4, 2); }, frame_fault::bad_version},
      {"header size", [](std::vector<std::byte>& f) { poke<std::uint16_t>(f, 6, 40); }, frame_fault::bad_header_size},
      {"flags", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 28, 2); }, frame_fault::bad_flags},
      {"record reserved", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 32 + 20, 1); },
       frame_fault::bad_flags},
      {"count 0", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 12, 0); }, frame_fault::empty},
      {"body bytes", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 24, 8); }, frame_fault::size_mismatch},
      {"cut short", [](std::vector<std::byte>& f) {
         f.resize(f.size() - 8);
         poke<std::uint32_t>(f, 24, static_cast<std::uint32_t>(f.size() - 32));
       }, frame_fault::truncated_record},
      {"count too high", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 12, 3); },
       frame_fault::truncated_record},
      {"count too low", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 12, 1); },
       frame_fault::trailing_bytes},
      {"size past the end", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 32 + 16, 60); },
       frame_fault::truncated_record},
      {"size over the limit", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 32 + 16, 65); },
       frame_fault::payload_too_large},
      {"huge size", [](std::vector<std::byte>& f) { poke<std::uint32_t>(f, 32 + 16, 0xffffffffu); },
       frame_fault::payload_too_large},
      {"padding", [](std::vector<std::byte>& f) { f[32 + 24 + 3] = std::byte{1}; }, frame_fault::bad_padding},
      {"seq 0", [](std::vector<std::byte>& f) { poke<std::uint64_t>(f, 32, 0); }, frame_fault::bad_sequence},
      {"seq repeated", [](std::vector<std::byte>& f) { poke<std::uint64_t>(f, 32 + 32, 1); },
       frame_fault::bad_sequence},
  };
  for (const auto& c : cases) {
    auto f = good;
    c.apply(f);
    const auto r = decode(f, 64);
    EXPECT_EQ(r.fault, c.expect) << c.what << ": got " << to_string(r.fault);
    EXPECT_FALSE(r) << c.what;
  }
  // a huge payload limit does not let a size overflow past the bounds check
  auto f = good;
  poke<std::uint32_t>(f, 32 + 16, 0xfffffff9u);
  EXPECT_EQ(decode(f, ~std::size_t{0}).fault, frame_fault::truncated_record);
}

TEST(NetFrame, WriterRefusesWhatDoesNotFitOrGoesBackwards) {
  std::vector<std::byte> buf(frame_header_bytes + record_bytes(8) + record_bytes(3));
  frame_writer w(buf);
  ASSERT_TRUE(w.begin(1, 1));
  EXPECT_FALSE(w.add(0, 0, bytes_of("x"))) << "seq 0";
  EXPECT_TRUE(w.add(10, 0, bytes_of("12345678")));
  EXPECT_FALSE(w.add(10, 0, bytes_of("x"))) << "not increasing";
  EXPECT_FALSE(w.add(11, 0, bytes_of("123456789"))) << "no room";
  EXPECT_TRUE(w.add(12, 0, bytes_of("abc")));
  EXPECT_FALSE(w.add(13, 0, bytes_of(""))) << "full";
  EXPECT_EQ(w.count(), 2u);
  const auto f = w.finish();
  EXPECT_EQ(f.size(), buf.size());
  ASSERT_TRUE(decode(f, 8));
  std::vector<std::byte> tiny(16);
  frame_writer t(tiny);
  EXPECT_FALSE(t.begin(1, 1));
}

TEST(NetGapTracker, CountsGapsDuplicatesAndRestartsExactly) {
  gap_tracker g;
  auto v = g.on_record(5, 10);  // joins mid-stream: nothing before is missing
  EXPECT_TRUE(v.deliver);
  EXPECT_EQ(v.gap, 0u);
  EXPECT_FALSE(v.restarted);
  v = g.on_record(5, 11);
  EXPECT_EQ(v.gap, 0u);
  v = g.on_record(5, 15);  // 12, 13, 14 lost
  EXPECT_TRUE(v.deliver);
  EXPECT_EQ(v.gap, 3u);
  v = g.on_record(5, 13);  // late or duplicated: dropped
  EXPECT_FALSE(v.deliver);
  v = g.on_record(5, 15);
  EXPECT_FALSE(v.deliver);
  v = g.on_record(6, 20);  // sender restarted, resuming a channel that outlived it: 16..19 lost
  EXPECT_TRUE(v.deliver);
  EXPECT_TRUE(v.restarted);
  EXPECT_EQ(v.gap, 4u);
  v = g.on_record(7, 1);  // sender restarted over a fresh channel: the sequence starts over
  EXPECT_TRUE(v.deliver);
  EXPECT_TRUE(v.restarted);
  EXPECT_EQ(v.gap, 0u);
  v = g.on_record(7, 2);
  EXPECT_EQ(v.gap, 0u);
  EXPECT_EQ(g.delivered(), 6u);
  EXPECT_EQ(g.missed(), 7u);
  EXPECT_EQ(g.duplicates(), 2u);
  EXPECT_EQ(g.restarts(), 2u);
  EXPECT_EQ(g.last_seq(), 2u);
}

// A restarted receiver resumes from the persisted (epoch, last): what it already delivered
// is a duplicate, a hole after it a gap, another sender epoch a restart as usual.
TEST(NetGapTracker, ResumeContinuesWherePredecessorDelivered) {
  net::gap_tracker g;
  g.resume(9, 100);
  EXPECT_EQ(g.last_seq(), 100u);
  EXPECT_FALSE(g.on_record(9, 99).deliver);
  EXPECT_FALSE(g.on_record(9, 100).deliver);
  auto v = g.on_record(9, 103);
  EXPECT_TRUE(v.deliver);
  EXPECT_FALSE(v.restarted);
  EXPECT_EQ(v.gap, 2u);
  EXPECT_EQ(g.duplicates(), 2u);
  net::gap_tracker fresh;
  fresh.resume(0, 55);  // nothing delivered yet: no sequence to continue
  v = fresh.on_record(3, 7);
  EXPECT_TRUE(v.deliver);
  EXPECT_FALSE(v.restarted);
  EXPECT_EQ(v.gap, 0u);
}

TEST(NetCredit, RoundTripsAndRefusesEveryBadField) {
  const net::credit c{0x1111, 0x2222, 77, 512};
  const auto b = net::encode(c);
  ASSERT_EQ(b.size(), 40u);
  EXPECT_EQ(std::memcmp(b.data(), "RWC1", 4), 0);
  net::credit d;
  ASSERT_TRUE(net::decode_credit(b, d));
  EXPECT_EQ(d.receiver, c.receiver);
  EXPECT_EQ(d.sender, c.sender);
  EXPECT_EQ(d.delivered, c.delivered);
  EXPECT_EQ(d.window, c.window);
  auto refused = [&](auto&& mutate) {
    auto x = b;
    mutate(x);
    net::credit out;
    return !net::decode_credit(x, out);
  };
  EXPECT_TRUE(refused([](auto& x) { x[0] = std::byte{0}; }));                           // magic
  EXPECT_TRUE(refused([](auto& x) { x[4] = std::byte{2}; }));                           // version
  EXPECT_TRUE(refused([](auto& x) { x[6] = std::byte{41}; }));                          // size field
  EXPECT_TRUE(refused([](auto& x) { std::memset(x.data() + 8, 0, 8); }));               // receiver 0
  EXPECT_TRUE(refused([](auto& x) { std::memset(x.data() + 32, 0, 4); }));              // window 0
  EXPECT_TRUE(refused([](auto& x) { x[36] = std::byte{2}; }));                          // unknown flag
  EXPECT_TRUE(refused([](auto& x) { std::memset(x.data() + 16, 0, 8); }));              // seq without epoch
  net::credit out;
  EXPECT_FALSE(net::decode_credit(std::span(b.data(), 39), out));                       // truncated
  std::vector<std::byte> longer(b.begin(), b.end());
  longer.push_back(std::byte{0});
  EXPECT_FALSE(net::decode_credit(longer, out));                                        // trailing bytes
}

// The header's gap_before flag and the credit's resend flag round-trip; unknown bits do not.
TEST(NetFrame, FlagsRoundTrip) {
  std::vector<std::byte> buf(256);
  net::frame_writer w(buf);
  ASSERT_TRUE(w.begin(3, 9, net::flag_gap_before | 0x80));  // unknown bits are not written
  const std::byte p[1] = {std::byte{7}};
  ASSERT_TRUE(w.add(5, 0, p));
  const auto f = w.finish();
  const auto r = net::decode(f, 16);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.frame.header().flags, net::flag_gap_before);
  net::credit c;
  ASSERT_TRUE(net::decode_credit(net::encode(net::credit{1, 2, 3, 4, net::credit_resend}), c));
  EXPECT_EQ(c.flags, net::credit_resend);
}

}  // namespace
