// fuzz/byte_broadcast_fuzz.cpp -- libFuzzer: arbitrary bytes as a byte broadcast ring's
// memory, fed to readers. Nothing may crash, hang or touch a byte outside the memory
// (AddressSanitizer: every image lives in an allocation of exactly its size). Three images
// per input:
//   1. the bytes as given, through attach_reader (mostly refused: magic, version, geometry,
//      offsets against the size);
//   2. a valid ring (depth 8, 512-byte region, a few messages of mixed sizes) edited by the
//      input before the attach: byte 0 picks the truncation (bit 0: cut to bytes 1-2 as a
//      length), then (offset u16, value u8) triples overwrite bytes anywhere, header included;
//   3. the same edits applied *after* a reader attached to the valid ring: the hostile peer
//      that rewrites stamps, positions, sizes, head and dirty under a validated reader, which
//      must then rely on its own copy of the geometry and its per-message bounds checks.
// Each attached reader is driven through every read path: copying reads into buffers of
// several sizes, zero-copy views (every byte of the view is touched), signature filters,
// both starting points, and a credited join.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include "ringwire/byte_broadcast.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;

struct image {
  std::byte* mem;
  std::size_t size;
  explicit image(std::size_t n) : mem(static_cast<std::byte*>(::operator new(n == 0 ? 1 : n, std::align_val_t{128}))), size(n) {}
  image(const image&) = delete;
  image& operator=(const image&) = delete;
  ~image() { ::operator delete(mem, std::align_val_t{128}); }
};

void drive(bb::reader<>& r) {
  std::vector<std::byte> big(r.shape().max_message), small(7);
  volatile unsigned sink = 0;
  for (int i = 0; i < 48; ++i) {
    bb::read_result m;
    switch (i % 4) {
      case 0: m = r.try_read(big); break;
      case 1: m = r.try_read(small); break;
      case 2:
        m = r.try_read_view([&](const bb::message_info&, std::span<const std::byte> v) {
          for (std::byte b : v) sink = sink + static_cast<unsigned>(b);
        });
        break;
      default: m = r.try_read(std::span<std::byte>()); break;
    }
    if (m.status() == ringwire::status::empty || m.status() == ringwire::status::closed) break;
    if (i == 20) r.set_filter(1, 1);
  }
}

void read_all_ways(const std::byte* mem, std::size_t size) {
  for (bb::start_at from : {bb::start_at::next, bb::start_at::oldest}) {
    try {
      bb::reader<> r = bb::attach_reader(mem, size, from);
      drive(r);
    } catch (const ringwire::error&) {
    }
  }
}

void edit(std::byte* mem, std::size_t size, const std::uint8_t* data, std::size_t n) {
  for (std::size_t i = 0; i + 3 <= n; i += 3) {
    const std::size_t off = (std::size_t{data[i]} | std::size_t{data[i + 1]} << 8) % size;
    mem[off] = static_cast<std::byte>(data[i + 2]);
  }
}

constexpr bb::geometry shape{8, 512, 200, 2};

void publish_some(std::byte* mem, std::size_t size) {
  bb::format(mem, size, shape);
  auto w = bb::attach_writer(mem, size);
  std::vector<std::byte> payload(200, std::byte{0x5a});
  for (std::size_t i = 0; i < 11; ++i) (void)w.try_write(i, std::span(payload).first((i * 37) % 201));
  // ~writer closes the ring
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t n) {
  {  // 1. raw bytes
    image raw(n);
    if (n != 0) std::memcpy(raw.mem, data, n);
    read_all_ways(raw.mem, n);
  }
  const std::size_t full = bb::layout<>::footprint(shape);
  if (n == 0) return 0;
  {  // 2. a valid ring edited before the attach (optionally truncated)
    std::size_t size = full;
    if ((data[0] & 1) != 0 && n >= 3) size = (std::size_t{data[1]} | std::size_t{data[2]} << 8) % (full + 1);
    image ring(full);
    publish_some(ring.mem, full);
    edit(ring.mem, full, data + 1, n - 1);
    image cut(size);
    std::memcpy(cut.mem, ring.mem, size);
    read_all_ways(cut.mem, size);
  }
  {  // 3. edits under readers that attached to the valid ring
    image ring(full);
    publish_some(ring.mem, full);
    bb::reader<> next = bb::attach_reader(ring.mem, full);
    bb::reader<> oldest = bb::attach_reader(ring.mem, full, bb::start_at::oldest);
    edit(ring.mem, full, data + 1, n - 1);
    drive(next);
    drive(oldest);
    try {
      auto c = oldest.credited();
      std::vector<std::byte> out(200);
      for (int i = 0; i < 16; ++i) (void)c.try_read(out);
    } catch (const ringwire::error&) {
    }
  }
  return 0;
}
