// fuzz/byte_ring_fuzz.cpp -- libFuzzer: arbitrary bytes as a byte ring's memory, read by the
// real reader. The memory is an allocation of exactly the ring's size, so AddressSanitizer
// reports any byte read or written outside it; the reader must either return records that
// lie inside the data region or turn sticky-corrupt, never crash or loop.
//
// Byte 0 of the input picks the image:
//   bit 0 clear  a valid ring (capacity 64 << (byte 1 % 5), kind from bit 1) whose head and
//                tail (bytes 2-17, when bit 2 is set) and data region (the rest of the
//                input, repeated) are overwritten by the input;
//   bit 0 set    the input after byte 0 is the whole memory image, geometry block included,
//                and must get past attach() first.
// Each readable image is driven by try_read / read_batch / release until closed or empty,
// every payload byte touched; then a writer of the same kind writes a few records (it must
// stay inside the region too), and the reader drains again.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>

#include "ringwire/byte_ring.hpp"

namespace {

namespace br = ringwire::byte_ring;
using L = br::layout<>;
using ringwire::status;

struct buffer {
  explicit buffer(std::size_t n) : size(n), p(static_cast<std::byte*>(::operator new(n, std::align_val_t{128}))) {}
  ~buffer() { ::operator delete(p, std::align_val_t{128}); }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;
  std::size_t size;
  std::byte* p;
};

volatile unsigned g_sink;

void touch(std::span<const std::byte> payload) {
  unsigned s = 0;
  for (std::byte b : payload) s += static_cast<unsigned>(b);
  g_sink = s;
}

void drain(br::reader<>& rx) {
  br::record_view r;
  for (int i = 0; i < 4096; ++i) {
    const status s = (i % 3 == 0) ? (rx.read_batch(3, [](std::int32_t, std::span<const std::byte> p) { touch(p); }) != 0
                                         ? status::ok
                                         : status::empty)
                                  : rx.try_read(r);
    if (s == status::ok && i % 3 != 0) {
      if (r.type < 1) __builtin_trap();
      touch(r.payload);
      if (i % 5 == 0) rx.release();
    }
    if (s != status::ok) break;
  }
  rx.release();
}

template <class W>
void write_some(W& tx) {
  std::byte payload[64] = {};
  for (std::size_t n = 0; n < 40; ++n) {
    const std::size_t sz = (n * 13) % (tx.max_payload() < 64 ? tx.max_payload() + 1 : 64);
    if (tx.try_write(static_cast<std::int32_t>(n + 1), {payload, sz}) != status::ok) break;
  }
}

void exercise(L* l, std::size_t bytes) {
  auto a = L::attach(l, bytes, l->kind());
  if (!a) return;
  br::reader<> rx(br::ring_ref<ringwire::std_sync>(*a, nullptr), {}, ringwire::fence_scope::process);
  drain(rx);
  if (rx.corrupt()) return;
  if (l->kind() == br::ring_kind::one_to_one) {
    br::writer<> tx(br::ring_ref<ringwire::std_sync>(*a, nullptr));
    write_some(tx);
  } else {
    br::shared_writer<> tx(br::ring_ref<ringwire::std_sync>(*a, nullptr));
    write_some(tx);
  }
  drain(rx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  if ((mode & 1) == 0) {
    const std::uint64_t cap = std::uint64_t{64} << (data[1] % 5);
    const br::ring_kind kind = (mode & 2) ? br::ring_kind::many_to_one : br::ring_kind::one_to_one;
    buffer mem(L::footprint(cap));
    L* l = L::format(mem.p, mem.size, cap, kind);
    std::size_t at = 2;
    if ((mode & 4) && size >= at + 16) {
      std::uint64_t head = 0;
      std::uint64_t tail = 0;
      std::memcpy(&head, data + at, 8);
      std::memcpy(&tail, data + at + 8, 8);
      l->consumer.head.store(head);
      l->producer.tail.store(tail);
      at += 16;
    }
    if (size > at) {
      for (std::uint64_t i = 0; i < cap; ++i) l->data()[i] = static_cast<std::byte>(data[at + i % (size - at)]);
    }
    // writers 0 or 1 from a bit: closed and open rings both.
    l->consumer.writers.store((mode & 8) ? 0 : 1);
    exercise(l, mem.size);
  } else {
    const std::size_t n = size - 1;
    if (n < sizeof(L)) return 0;
    buffer mem(n);
    std::memcpy(mem.p, data + 1, n);
    exercise(std::launder(reinterpret_cast<L*>(mem.p)), n);
  }
  return 0;
}
