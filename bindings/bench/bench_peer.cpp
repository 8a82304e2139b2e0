// bindings/bench/bench_peer.cpp -- the C++ side of the bindings benchmark
// (bindings_bench.py): the writer every reader is measured against, and the C++ reader the
// other languages are compared with. The driver creates the segment; this program opens it.
//
//   ringwire_bindings_bench_peer write-bb NAME COUNT SIZE   byte broadcast: COUNT messages of
//                            SIZE bytes (>= 8): bytes 0..7 the sequence number (1..COUNT,
//                            little-endian), the rest 0x5a; signature = the same number
//   ringwire_bindings_bench_peer write-bc NAME COUNT        typed broadcast of rec {u64 seq,
//                            u64 check} (check = seq * 0x9E3779B97F4A7C15), type tag
//                            0x7277707962656e63 ("rwpybenc")
//   ringwire_bindings_bench_peer read-bb NAME COUNT         a credited reader of the first
//   ringwire_bindings_bench_peer read-bc NAME COUNT         a subscriber of the second
//
// Writes block (a credited reader, a lossless policy): the reader sets the pace. A writer
// closes at the end (the reader sees closed) and exits 0. A reader prints "ready" once
// attached, checks every message, and prints "received N seconds S" (first message to last)
// at the end. Exit 1 with a message on an error or a wrong message.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "ringwire/shm.hpp"

namespace shm = ringwire::shm;

struct alignas(8) rec {
  std::uint64_t seq;
  std::uint64_t check;
};

template <>
struct ringwire::shm::type_tag<rec> {
  static constexpr std::uint64_t value = 0x7277707962656e63ULL;
};

namespace {

int write_bb(const std::string& name, std::uint64_t count, std::size_t size) {
  if (size < 8) throw std::invalid_argument("SIZE must be at least 8");
  const auto geo = shm::byte_broadcast::geometry_of(shm::observe(name));
  auto seg = shm::segment::open(name, shm::byte_broadcast_spec(geo));
  auto w = shm::byte_broadcast::attach_writer(seg);
  std::vector<std::byte> msg(size, std::byte{0x5a});
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    std::memcpy(msg.data(), &seq, sizeof seq);  // x86-64 and aarch64 Linux: little-endian
    const ringwire::status s = w.write(seq, msg);
    if (s != ringwire::status::ok) {
      std::fprintf(stderr, "bench_peer: write %llu: %s\n", static_cast<unsigned long long>(seq), ringwire::to_string(s));
      return 1;
    }
  }
  w.close();
  return 0;
}

int write_bc(const std::string& name, std::uint64_t count) {
  const shm::identity id = shm::observe(name).info();
  auto seg = shm::segment::open(
      name, shm::broadcast_spec<rec>(id.capacity, id.endpoints, static_cast<ringwire::broadcast::policy>(id.policy)));
  auto p = shm::broadcast::attach_publisher<rec>(seg);
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    const ringwire::status s = p.send(rec{seq, seq * 0x9E3779B97F4A7C15ULL});
    if (s != ringwire::status::ok) {
      std::fprintf(stderr, "bench_peer: send %llu: %s\n", static_cast<unsigned long long>(seq), ringwire::to_string(s));
      return 1;
    }
  }
  p.close();
  return 0;
}

using clock = std::chrono::steady_clock;

// The reader's verdict: every message arrived, in order, and the rate's time base.
int report(std::uint64_t count, std::uint64_t n, clock::time_point first, clock::time_point last) {
  if (n != count) {
    std::fprintf(stderr, "bench_peer: received %llu of %llu\n", static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(count));
    return 1;
  }
  std::printf("received %llu seconds %.9f\n", static_cast<unsigned long long>(n),
              std::chrono::duration<double>(last - first).count());
  return 0;
}

int wrong(const char* what, std::uint64_t n) {
  std::fprintf(stderr, "bench_peer: message %llu: %s\n", static_cast<unsigned long long>(n), what);
  return 1;
}

int read_bb(const std::string& name, std::uint64_t count) {
  const auto geo = shm::byte_broadcast::geometry_of(shm::observe(name));
  auto seg = shm::segment::open(name, shm::byte_broadcast_spec(geo));
  auto r = shm::byte_broadcast::attach_credited_reader(seg);
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<std::byte> buf(geo.max_message);
  std::uint64_t n = 0;
  clock::time_point first{}, last{};
  for (;;) {
    const auto res = r.read(buf);
    if (res.status() == ringwire::status::closed) break;
    if (res.status() != ringwire::status::ok) return wrong(ringwire::to_string(res.status()), n + 1);
    last = clock::now();
    if (n == 0) first = last;
    std::uint64_t seq = 0;
    std::memcpy(&seq, buf.data(), sizeof seq);
    if (seq != ++n) return wrong("out of sequence", n);
  }
  return report(count, n, first, last);
}

int read_bc(const std::string& name, std::uint64_t count) {
  const shm::identity id = shm::observe(name).info();
  auto seg = shm::segment::open(
      name, shm::broadcast_spec<rec>(id.capacity, id.endpoints, static_cast<ringwire::broadcast::policy>(id.policy)));
  auto s = shm::broadcast::attach_subscriber<rec>(seg);
  std::printf("ready\n");
  std::fflush(stdout);
  std::uint64_t n = 0;
  clock::time_point first{}, last{};
  for (;;) {
    auto r = s.recv();
    if (r.status() == ringwire::status::closed) break;
    if (!r) return wrong(ringwire::to_string(r.status()), n + 1);
    last = clock::now();
    if (n == 0) first = last;
    ++n;
    if (r->seq != n || r->check != n * 0x9E3779B97F4A7C15ULL) return wrong("out of sequence or a bad check", n);
  }
  return report(count, n, first, last);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write-bb" && argc == 5) return write_bb(argv[2], std::stoull(argv[3]), std::stoull(argv[4]));
    if (mode == "write-bc" && argc == 4) return write_bc(argv[2], std::stoull(argv[3]));
    if (mode == "read-bb" && argc == 4) return read_bb(argv[2], std::stoull(argv[3]));
    if (mode == "read-bc" && argc == 4) return read_bc(argv[2], std::stoull(argv[3]));
    std::fprintf(stderr,
                 "usage: ringwire_bindings_bench_peer write-bb NAME COUNT SIZE | write-bc NAME COUNT | read-bb NAME COUNT "
                 "| read-bc NAME COUNT\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_peer: %s\n", e.what());
    return 1;
  }
}
