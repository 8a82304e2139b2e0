// fuzz/shm_segment_fuzz.cpp -- libFuzzer over shared-memory segment validation.
//
// Every input becomes segment images, each written to a memfd of exactly its size and
// opened with segment::open_fd -- the real path a process takes -- expecting each kind
// (spsc with several element types, mpsc, broadcast, both byte rings, the byte broadcast
// ring). An image must either be refused with a ringwire::error or be safe to use: when it
// opens, the harness attaches the kind's endpoints and drives its receive and send paths
// (spsc: every one, until empty and full; mpsc: receive, send, reap; byte rings: read,
// write, recover; byte broadcast: lossy and credited reads, copying and zero-copy, writes,
// reap), so AddressSanitizer sees any read or write the validated geometry does not allow.
// Broadcast images are validated only. The three images per input:
//   1. the bytes as given (mostly refused early: the magic, the version, the checksum);
//   2. the same bytes with the header checksum recomputed, so mutations reach the
//      structural checks behind it;
//   3. a valid segment edited by the input: byte 0 holds flags (bit 0: recompute the
//      checksum; bit 1: truncate to the length in bytes 1-2; bits 2-7 modulo 5: which
//      segment -- spsc<u64> capacity 100, mpsc<u64> 3 lanes with messages queued, a
//      one-to-one byte ring with records, a many-to-one one with a record in progress, a
//      byte broadcast ring (depth 16, 1 KiB region, 2 credit entries) that has wrapped), then
//      (offset u16, value u8) triples overwrite bytes anywhere, the ring's indices and
//      geometry included.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "ringwire/shm.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;

struct wide {  // a 64-byte element
  std::uint64_t w[8];
};

template <class T>
void exercise(const shm::segment& seg) {
  try {
    auto rx = shm::spsc::attach_receiver<T>(seg);
    auto tx = shm::spsc::attach_sender<T>(seg);
    const std::uint64_t cap = seg.capacity();
    // Drain whatever the image claims is queued, through every receive path.
    std::vector<T> out(8);
    (void)rx.try_recv_batch(std::span<T>(out));
    auto span = rx.read_span(3);
    volatile std::uint64_t sink = 0;
    for (const T& v : span) sink = sink + static_cast<const unsigned char*>(static_cast<const void*>(&v))[0];
    rx.release(span.size());
    (void)rx.consume([&](T& v) { sink = sink + static_cast<unsigned char*>(static_cast<void*>(&v))[0]; }, 5);
    for (std::uint64_t i = 0; i <= cap && rx.try_recv(); ++i) {
    }
    // Fill it, then empty it again.
    T v{};
    std::uint64_t sent = 0;
    while (sent <= cap && tx.try_send(v) == status::ok) ++sent;
    if (sent != cap) __builtin_trap();  // validated and drained: exactly `capacity` fit
    auto res = tx.reserve(4);           // full: nothing
    if (res.size() != 0) __builtin_trap();
    for (std::uint64_t i = 0; i < sent; ++i)
      if (!rx.try_recv()) __builtin_trap();
  } catch (const ringwire::error&) {
    // claims set in the image: shm_already_attached
  }
}

template <class T>
void exercise_mpsc(const shm::segment& seg) {
  try {
    auto rx = shm::mpsc::attach_receiver<T>(seg);
    const std::uint64_t bound = seg.capacity() * seg.info().endpoints + 1;
    for (std::uint64_t i = 0; i < bound && rx.try_recv(); ++i) {
    }
    auto tx = shm::mpsc::attach_sender<T>(seg);
    T v{};
    for (std::uint64_t i = 0; i <= seg.capacity() && tx.try_send(v) == status::ok; ++i) {
    }
    for (std::uint64_t i = 0; i < bound && rx.try_recv(); ++i) {
    }
    (void)shm::mpsc::reap(seg);
  } catch (const ringwire::error&) {
  }
}

void exercise_bytes(const shm::segment& seg) {
  namespace br = ringwire::byte_ring;
  try {
    auto rx = shm::byte_ring::attach_reader(seg);
    br::record_view r;
    volatile std::size_t sink = 0;
    for (std::uint64_t i = 0; i < seg.capacity() / 8 + 1 && rx.try_read(r) == status::ok; ++i)
      for (std::byte b : r.payload) sink = sink + static_cast<std::size_t>(b);
    const std::byte msg[24] = {};
    if (seg.info().policy == static_cast<std::uint32_t>(br::ring_kind::one_to_one)) {
      auto tx = shm::byte_ring::attach_writer(seg);
      (void)tx.try_write(1, msg);
    } else {
      auto tx = shm::byte_ring::attach_shared_writer(seg);
      (void)tx.try_write(1, msg);
      (void)shm::byte_ring::recover(seg, rx);
    }
    for (std::uint64_t i = 0; i < seg.capacity() / 8 + 1 && rx.try_read(r) == status::ok; ++i) {
    }
  } catch (const ringwire::error&) {
  }
}

void exercise_byte_broadcast(const shm::segment& seg) {
  namespace bb = ringwire::byte_broadcast;
  const bb::geometry g = shm::byte_broadcast::geometry_of(seg);
  std::vector<std::byte> buf(g.max_message);
  volatile std::size_t sink = 0;
  // Bounded: a reader moves on at least one sequence per result that is not empty/closed.
  const std::uint64_t bound = std::min<std::uint64_t>(g.depth, 4096) * 2 + 8;
  auto drain = [&](auto& r) {
    for (std::uint64_t i = 0; i < bound; ++i) {
      const bb::read_result res = (i & 1) != 0 ? r.try_read(buf) : r.try_read_view([&](const bb::message_info& m, std::span<const std::byte> v) {
        if (v.size() != m.size) __builtin_trap();
        for (std::byte b : v) sink = sink + static_cast<std::size_t>(b);
      });
      if (res.status() == ringwire::status::ok && res.info().size > g.max_message) __builtin_trap();
      if (res.status() == ringwire::status::empty || res.status() == ringwire::status::closed) break;
    }
  };
  try {
    auto r = shm::byte_broadcast::attach_reader(seg, bb::start_at::oldest);
    drain(r);
    std::optional<shm::byte_broadcast::credited_reader<>> c;
    if (g.max_credited != 0) {
      try {
        c.emplace(shm::byte_broadcast::attach_credited_reader(seg));
      } catch (const ringwire::error&) {
        // every claim held by a (live) pid the image names
      }
    }
    {
      auto w = shm::byte_broadcast::attach_writer(seg);
      const std::byte msg[64] = {};
      for (std::uint64_t k = 0; k < 8; ++k)
        (void)w.try_write(k, std::span<const std::byte>(msg, std::min<std::uint64_t>(g.max_message, k * 9)));
    }  // detached: closed
    drain(r);
    if (c) drain(*c);
    (void)shm::byte_broadcast::reap(seg);
  } catch (const ringwire::error&) {
    // claims set in the image: shm_already_attached
  }
}

void try_image(const std::vector<unsigned char>& img) {
  const int fd = ::memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0) return;
  if (!img.empty() && ::pwrite(fd, img.data(), img.size(), 0) != static_cast<ssize_t>(img.size())) {
    ::close(fd);
    return;
  }
  using ringwire::byte_ring::ring_kind;
  const shm::channel_spec specs[] = {shm::spsc_spec<std::uint64_t>(),
                                     shm::spsc_spec<std::uint64_t>(100),
                                     shm::spsc_spec<unsigned char>(),
                                     shm::spsc_spec<wide>(),
                                     shm::mpsc_spec<std::uint64_t>(),
                                     shm::broadcast_spec<std::uint64_t>(),
                                     shm::byte_ring_spec(0, ring_kind::one_to_one),
                                     shm::byte_ring_spec(0, ring_kind::many_to_one),
                                     shm::byte_broadcast_spec({0, 0, 0, 0})};
  for (const auto& spec : specs) {
    try {
      auto seg = shm::segment::open_fd(fd, spec);
      if (seg.kind() != spec.kind) __builtin_trap();  // validation must refuse another kind
      switch (spec.kind) {
        case shm::channel_kind::spsc:
          if (spec.slot_size == 1) exercise<unsigned char>(seg);
          else if (spec.slot_size == 64) exercise<wide>(seg);
          else exercise<std::uint64_t>(seg);
          break;
        case shm::channel_kind::mpsc: exercise_mpsc<std::uint64_t>(seg); break;
        case shm::channel_kind::byte_ring: exercise_bytes(seg); break;
        case shm::channel_kind::byte_broadcast: exercise_byte_broadcast(seg); break;
        default: break;  // broadcast: validation only
      }
    } catch (const ringwire::error&) {
    }
  }
  ::close(fd);
}

// Valid segments of each kind, with messages queued (their endpoints detached, so the
// images hold no claims), for the mutations to start from.
std::vector<unsigned char> image_of(const shm::segment& seg) {
  std::vector<unsigned char> b(seg.size());
  if (::pread(seg.fd(), b.data(), b.size(), 0) != static_cast<ssize_t>(b.size())) __builtin_trap();
  return b;
}

const std::vector<unsigned char>& template_image(unsigned which) {
  using ringwire::byte_ring::ring_kind;
  static const std::vector<unsigned char> imgs[5] = {
      [] {
        shm::create_options o;
        o.counters = 1;
        auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(100), o);
        return image_of(seg);
      }(),
      [] {
        shm::create_options o;
        o.counters = 1;
        auto seg = shm::segment::create_anonymous(shm::mpsc_spec<std::uint64_t>(16, 3), o);
        {
          auto a = shm::mpsc::attach_sender<std::uint64_t>(seg);
          auto b = shm::mpsc::attach_sender<std::uint64_t>(seg);
          for (std::uint64_t i = 0; i < 5; ++i) (void)a.try_send(i), (void)b.try_send(i);
        }
        return image_of(seg);
      }(),
      [] {
        shm::create_options o;
        o.counters = 1;
        auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1024), o);
        {
          auto w = shm::byte_ring::attach_writer(seg);
          const std::byte msg[40] = {};
          for (int i = 0; i < 8; ++i) (void)w.try_write(1 + i, std::span<const std::byte>(msg, static_cast<std::size_t>(i) * 5));
        }
        return image_of(seg);
      }(),
      [] {
        shm::create_options o;
        o.counters = 1;
        auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(1024, ring_kind::many_to_one, 2), o);
        {
          auto w = shm::byte_ring::attach_shared_writer(seg);
          const std::byte msg[40] = {};
          for (int i = 0; i < 8; ++i) (void)w.try_write(1 + i, std::span<const std::byte>(msg, static_cast<std::size_t>(i) * 5));
          auto c = w.try_reserve(16);  // copied while in progress (its claim is this process's)
          (void)c;
          return image_of(seg);
        }
      }(),
      [] {
        shm::create_options o;
        o.counters = 1;
        auto seg = shm::segment::create_anonymous(shm::byte_broadcast_spec({16, 1024, 256, 2}), o);
        {
          auto w = shm::byte_broadcast::attach_writer(seg);
          auto c = shm::byte_broadcast::attach_credited_reader(seg);
          std::vector<std::byte> out(256);
          const std::byte msg[200] = {};
          for (std::uint64_t k = 0; k < 40; ++k) {  // wraps the metadata ring and the region
            (void)w.try_write(k, std::span<const std::byte>(msg, static_cast<std::size_t>(k * 13 % 200)));
            (void)c.try_read(out);
          }
        }
        return image_of(seg);
      }(),
  };
  return imgs[which % 5];
}

void fix_checksum(std::vector<unsigned char>& b) {
  if (b.size() < sizeof(shm::identity)) return;
  shm::identity id;
  std::memcpy(&id, b.data(), sizeof id);
  id.checksum = shm::detail::checksum(id);
  std::memcpy(b.data(), &id, sizeof id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<unsigned char> raw(data, data + size);
  try_image(raw);
  if (size >= sizeof(shm::identity)) {
    fix_checksum(raw);
    try_image(raw);
  }
  if (size >= 1) {
    std::vector<unsigned char> img = template_image(data[0] >> 2);
    std::size_t at = 1;
    if ((data[0] & 2) != 0 && size >= 3) {
      const std::size_t len = (std::size_t{data[1]} | std::size_t{data[2]} << 8) % (img.size() + 1);
      img.resize(len);
      at = 3;
    }
    for (; at + 3 <= size && !img.empty(); at += 3) {
      const std::size_t off = (std::size_t{data[at]} | std::size_t{data[at + 1]} << 8) % img.size();
      img[off] = data[at + 2];
    }
    if ((data[0] & 1) != 0) fix_checksum(img);
    try_image(img);
  }
  return 0;
}
