// bindings/python/bench/bench_writer.cpp -- the C++ side of bench_recv.py: a process that
// publishes into a segment the Python side created (and is already reading), through the
// ordinary C++ endpoints, so the measurement is Python receiving from a C++ peer.
//
//   rwpy_bench_writer bb NAME COUNT SIZE   byte broadcast: COUNT messages of SIZE bytes
//                                          (SIZE >= 8): bytes 0..7 the sequence number
//                                          (1..COUNT, little-endian), signature = the same
//   rwpy_bench_writer bc NAME COUNT        typed broadcast of rec {u64 seq, u64 check}
//                                          (check = seq * 0x9E3779B97F4A7C15), type tag
//                                          0x7277707962656e63 ("rwpybenc")
//
// Writes block (a credited reader, a lossless policy): the Python reader sets the pace.
// Closes at the end (the reader sees Closed) and exits 0; 1 with a message on an error.
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

int run_bb(const std::string& name, std::uint64_t count, std::size_t size) {
  if (size < 8) throw std::invalid_argument("SIZE must be at least 8");
  const auto geo = shm::byte_broadcast::geometry_of(shm::observe(name));
  auto seg = shm::segment::open(name, shm::byte_broadcast_spec(geo));
  auto w = shm::byte_broadcast::attach_writer(seg);
  std::vector<std::byte> msg(size, std::byte{0x5a});
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    std::memcpy(msg.data(), &seq, sizeof seq);  // x86-64 and aarch64 Linux: little-endian
    const ringwire::status s = w.write(seq, msg);
    if (s != ringwire::status::ok) {
      std::fprintf(stderr, "rwpy_bench_writer: write %llu: %s\n", static_cast<unsigned long long>(seq), ringwire::to_string(s));
      return 1;
    }
  }
  w.close();
  return 0;
}

int run_bc(const std::string& name, std::uint64_t count) {
  const shm::identity id = shm::observe(name).info();
  auto seg = shm::segment::open(
      name, shm::broadcast_spec<rec>(id.capacity, id.endpoints, static_cast<ringwire::broadcast::policy>(id.policy)));
  auto p = shm::broadcast::attach_publisher<rec>(seg);
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    const ringwire::status s = p.send(rec{seq, seq * 0x9E3779B97F4A7C15ULL});
    if (s != ringwire::status::ok) {
      std::fprintf(stderr, "rwpy_bench_writer: send %llu: %s\n", static_cast<unsigned long long>(seq), ringwire::to_string(s));
      return 1;
    }
  }
  p.close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "bb" && argc == 5) return run_bb(argv[2], std::stoull(argv[3]), std::stoull(argv[4]));
    if (mode == "bc" && argc == 4) return run_bc(argv[2], std::stoull(argv[3]));
    std::fprintf(stderr, "usage: rwpy_bench_writer bb NAME COUNT SIZE | bc NAME COUNT\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rwpy_bench_writer: %s\n", e.what());
    return 1;
  }
}
