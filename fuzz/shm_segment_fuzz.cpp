// fuzz/shm_segment_fuzz.cpp -- libFuzzer over shared-memory segment validation.
//
// Every input becomes segment images, each written to a memfd of exactly its size and
// opened with segment::open_fd -- the real path a process takes -- expecting each kind and
// several element types. An image must either be refused with a ringwire::error or be
// safe to use: when it opens, the harness attaches both SPSC endpoints and drives every
// receive and send path until empty and full, so AddressSanitizer sees any read or write
// the validated geometry does not allow. The three images per input:
//   1. the bytes as given (mostly refused early: the magic, the version, the checksum);
//   2. the same bytes with the header checksum recomputed, so mutations reach the
//      structural checks behind it;
//   3. a valid segment (spsc<u64>, capacity 100) edited by the input: byte 0 holds flags
//      (bit 0: recompute the checksum; bit 1: truncate to the length in bytes 1-2), then
//      (offset u16, value u8) triples overwrite bytes anywhere, the ring's indices and
//      geometry included.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
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

void try_image(const std::vector<unsigned char>& img) {
  const int fd = ::memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0) return;
  if (!img.empty() && ::pwrite(fd, img.data(), img.size(), 0) != static_cast<ssize_t>(img.size())) {
    ::close(fd);
    return;
  }
  auto any_u64 = shm::spsc_spec<std::uint64_t>();
  auto mpsc = any_u64;
  mpsc.kind = shm::channel_kind::mpsc;
  auto broadcast = any_u64;
  broadcast.kind = shm::channel_kind::broadcast;
  const shm::channel_spec specs[] = {any_u64, shm::spsc_spec<std::uint64_t>(100), shm::spsc_spec<unsigned char>(),
                                     shm::spsc_spec<wide>(), mpsc, broadcast};
  for (const auto& spec : specs) {
    try {
      auto seg = shm::segment::open_fd(fd, spec);
      if (spec.kind != shm::channel_kind::spsc) __builtin_trap();  // validation must refuse the kind
      if (spec.slot_size == 1) exercise<unsigned char>(seg);
      else if (spec.slot_size == 64) exercise<wide>(seg);
      else exercise<std::uint64_t>(seg);
    } catch (const ringwire::error&) {
    }
  }
  ::close(fd);
}

const std::vector<unsigned char>& template_image() {
  static const std::vector<unsigned char> img = [] {
    shm::create_options o;
    o.counters = 1;
    auto seg = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(100), o);
    std::vector<unsigned char> b(seg.size());
    if (::pread(seg.fd(), b.data(), b.size(), 0) != static_cast<ssize_t>(b.size())) __builtin_trap();
    return b;
  }();
  return img;
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
    std::vector<unsigned char> img = template_image();
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
