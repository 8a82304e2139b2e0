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
// stay inside the region too), and the reader drains again. Bit 4 of byte 0 reads the image
// through a reassembler instead (small limits: 300 bytes, 2 streams, so every drop reason is
// reachable); every delivered message is touched and must be within the limit or come from a
// plain record, and the writer then also writes fragmented messages (try_ and timed ones).
// Bit 0 clear with bit 5 set instead forges well-framed sequences of plain and fragment
// records from the input (forge_sequences) and reads them through a reassembler.
#include <chrono>
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
      if (r.type < 1 && r.type != br::fragment_type) __builtin_trap();
      if (r.type == br::fragment_type && r.payload.size() < br::fragment_header_bytes) __builtin_trap();
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

constexpr std::size_t reassembly_limit = 300;

void drain_reassembled(br::reassembler& re, br::reader<>& rx) {
  for (int i = 0; i < 4096; ++i) {
    bool fine = true;
    const status s = re.try_read(rx, [&](std::int32_t type, std::span<const std::byte> msg) {
      if (type < 1) fine = false;
      // a message above the limit can only be one plain record (at most max_payload)
      if (msg.size() > reassembly_limit && msg.size() > rx.max_payload()) fine = false;
      touch(msg);
    });
    if (!fine) __builtin_trap();
    if (s != status::ok) break;
  }
  if (re.open_streams() > 2) __builtin_trap();
}

template <class W>
void write_fragmented_some(W& tx) {
  if (tx.max_fragment() == 0) return;  // a 64-byte ring does not fragment
  std::byte payload[700] = {};
  for (std::size_t n = 0; n < 12; ++n) {
    const std::size_t sz = (n * 97) % sizeof(payload);
    const auto stream = static_cast<std::uint16_t>(n % 3);
    const std::size_t fsize = n % 2 == 0 ? 0 : 1 + n % tx.max_fragment();
    const status s = n % 4 == 3
                         ? tx.write_fragmented_for(static_cast<std::int32_t>(n + 1), {payload, sz},
                                                   std::chrono::nanoseconds(0), stream, fsize)
                         : tx.try_write_fragmented(static_cast<std::int32_t>(n + 1), {payload, sz}, stream, fsize);
    if (s == status::closed) break;
  }
}

void exercise(L* l, std::size_t bytes, bool reassemble) {
  auto a = L::attach(l, bytes, l->kind());
  if (!a) return;
  br::reader<> rx(br::ring_ref<ringwire::std_sync>(*a, nullptr), {}, ringwire::fence_scope::process);
  br::reassembler re(reassembly_limit, 2);
  if (reassemble) drain_reassembled(re, rx);
  else drain(rx);
  if (rx.corrupt()) return;
  if (l->kind() == br::ring_kind::one_to_one) {
    br::writer<> tx(br::ring_ref<ringwire::std_sync>(*a, nullptr));
    write_some(tx);
    if (reassemble) write_fragmented_some(tx);
  } else {
    br::shared_writer<> tx(br::ring_ref<ringwire::std_sync>(*a, nullptr));
    write_some(tx);
    if (reassemble) write_fragmented_some(tx);
  }
  if (reassemble) drain_reassembled(re, rx);
  else drain(rx);
}

// Structured sequences for the reassembler: every 4 input bytes a, b, c, d become one record
// laid straight into a one-to-one ring (valid framing, wrap padding included): a plain record
// (a % 4 == 0) or a fragment with flags b & 7 (b & 15, unknown bit 8 included, when b's top
// nibble is all ones), stream c % 4, user type 1 + d % 2 (0, invalid, when d is 0) and a piece
// of (a >> 2) % 48 bytes. Whenever the ring is full it
// is drained through the reassembler (300 bytes, 2 streams), so every drop reason is reached.
void forge_sequences(const std::uint8_t* data, std::size_t size) {
  const std::uint64_t cap = 512;
  buffer mem(L::footprint(cap));
  L* l = L::format(mem.p, mem.size, cap, br::ring_kind::one_to_one);
  br::reader<> rx(br::ring_ref<ringwire::std_sync>(l, nullptr));
  br::reassembler re(reassembly_limit, 2);
  std::uint64_t tail = 0;
  for (std::size_t at = 0; at + 4 <= size; at += 4) {
    const std::uint8_t a = data[at], b = data[at + 1], c = data[at + 2], d = data[at + 3];
    const bool plain = a % 4 == 0;
    const std::size_t piece = (a >> 2) % 48;
    const std::size_t payload = plain ? piece : br::fragment_header_bytes + piece;
    const std::uint64_t rec = br::detail::align8(br::header_bytes + payload);
    for (int attempt = 0; attempt < 2; ++attempt) {
      const std::uint64_t to_end = cap - (tail & (cap - 1));
      const std::uint64_t pad = rec > to_end ? to_end : 0;
      const std::uint64_t head = l->consumer.head.load();
      if (tail + pad + rec - head > cap) {
        drain_reassembled(re, rx);
        continue;
      }
      if (pad != 0) {
        const std::uint64_t h = br::detail::pack(static_cast<std::int32_t>(pad), br::padding_type);
        std::memcpy(l->data() + (tail & (cap - 1)), &h, 8);
        tail += pad;
      }
      std::byte* p = l->data() + (tail & (cap - 1));
      const std::uint64_t h = br::detail::pack(static_cast<std::int32_t>(br::header_bytes + payload),
                                               plain ? 1 + b % 5 : br::fragment_type);
      std::memcpy(p, &h, 8);
      if (!plain) {
        const auto flags = static_cast<std::uint16_t>((b & 0xf0) == 0xf0 ? (b & 15) : (b & 7));
        br::put_fragment_header(p + 8, {d == 0 ? 0 : 1 + d % 2, flags, static_cast<std::uint16_t>(c % 4)});
      }
      std::memset(p + 8 + (plain ? 0 : 8), a, piece);
      tail += rec;
      l->producer.tail.store(tail, std::memory_order_release);
      break;
    }
  }
  drain_reassembled(re, rx);
  l->consumer.writers.store(0);  // closed: open messages end as unfinished
  drain_reassembled(re, rx);
  if (rx.corrupt() || re.open_streams() != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  if ((mode & 0x21) == 0x20) {
    forge_sequences(data + 1, size - 1);
    return 0;
  }
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
    exercise(l, mem.size, (mode & 16) != 0);
  } else {
    const std::size_t n = size - 1;
    if (n < sizeof(L)) return 0;
    buffer mem(n);
    std::memcpy(mem.p, data + 1, n);
    exercise(std::launder(reinterpret_cast<L*>(mem.p)), n, (mode & 16) != 0);
  }
  return 0;
}
