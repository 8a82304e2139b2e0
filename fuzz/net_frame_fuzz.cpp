// fuzz/net_frame_fuzz.cpp -- libFuzzer: arbitrary bytes as a bridge frame off the network,
// decoded by net::decode (net/frame.hpp) with the payload limit taken from the input's
// first byte. The frame lives in an allocation of exactly its size, so AddressSanitizer
// reports any read past it. A frame that decodes must be canonical: its records, written
// again by frame_writer with the same header fields, give back exactly the same bytes;
// its sequence numbers strictly increase and no payload exceeds the limit. One that fails
// names a fault (never none). The same bytes are also read as the lossless mode's credit
// message (decode_credit): one that is accepted must encode back to exactly those bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ringwire/net/frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace net = ringwire::net;
  if (size == 0) return 0;
  const std::size_t max_payload = std::size_t{data[0]} * 16;  // 0 .. 4080
  const std::vector<std::byte> frame(reinterpret_cast<const std::byte*>(data) + 1,
                                     reinterpret_cast<const std::byte*>(data) + size);
  net::credit c;
  if (net::decode_credit(frame, c)) {
    const auto b = net::encode(c);
    if (frame.size() != b.size() || std::memcmp(b.data(), frame.data(), b.size()) != 0) std::abort();
    if (c.receiver == 0 || c.window == 0) std::abort();
  }
  const auto r = net::decode(frame, max_payload);
  if (!r) {
    if (r.fault == net::frame_fault::none) std::abort();
    return 0;
  }
  std::vector<std::byte> again(frame.size() + 64);
  net::frame_writer w(again);
  if (!w.begin(r.frame.header().channel, r.frame.header().epoch, r.frame.header().flags)) std::abort();
  std::uint64_t last = 0;
  r.frame.for_each([&](const net::record& rec) {
    if (rec.seq <= last || rec.payload.size() > max_payload) std::abort();
    last = rec.seq;
    if (!w.add(rec.seq, rec.publish_ns, rec.payload)) std::abort();
  });
  if (w.count() != r.frame.header().count) std::abort();
  const auto out = w.finish();
  // The padding and reserved fields the decoder accepted must be the writer's zeros.
  if (out.size() != frame.size() || std::memcmp(out.data(), frame.data(), frame.size()) != 0) std::abort();
  return 0;
}
