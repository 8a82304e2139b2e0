// fuzz/mpmc_live_fuzz.cpp -- libFuzzer: an MPMC queue's layout in heap storage of exactly its
// footprint, driven through the real protocol code (mpmc::detail::core, what mpmc::queue and
// the channel endpoints run) while its shared words are rewritten between calls
// (live_fuzz.hpp). MPMC has no shared-memory family, so this is memory corrupted by a bug
// elsewhere in the process rather than a hostile process; the expectation is the same.
//
// Byte 0 picks the capacity (1 + byte % 40: powers of two use a mask and a shift, the others
// a division) and the cell layout (byte / 40 odd: the stamp array, its remapped stamps and
// packed payloads; else stamps in the cells). Then, until the input ends, one byte picks a step: try_push, both try_pop
// forms, push_ready, size_approx, seal, close_receiving, or a scribble over the layout
// (geometry, head with its sealed bit, tail, the waiting rooms, every cell's stamp and
// payload). Expected: no sanitizer report, no hang (every try_* ends: settle() is bounded),
// every call a status.
#include <cstddef>
#include <cstdint>
#include <new>

#include "live_fuzz.hpp"
#include "ringwire/mpmc/core.hpp"

namespace {

using T = std::uint64_t;
using L = ringwire::mpmc::layout<>;

struct buffer {
  explicit buffer(std::size_t n) : size(n), p(static_cast<std::byte*>(::operator new(n, std::align_val_t{128}))) {}
  ~buffer() { ::operator delete(p, std::align_val_t{128}); }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;
  std::size_t size;
  std::byte* p;
};

void run(live_fuzz::input& in) {
  const std::uint8_t shape = in.u8();
  const std::uint64_t cap = 1 + shape % 40;
  const auto cells = (shape / 40) % 2 != 0 ? ringwire::mpmc::cell_layout::stamp_array
                                           : ringwire::mpmc::cell_layout::stamp_in_cell;
  buffer mem(L::footprint(cap, sizeof(T), alignof(T), cells));
  L* l = L::format(mem.p, cap, sizeof(T), alignof(T), cells);
  ringwire::mpmc::detail::core<T, ringwire::std_sync> q(l);
  T next = 0;
  while (in.more()) {
    const std::uint8_t op = in.u8();
    switch (op % 10) {
      case 0:
      case 1: (void)q.try_push(next++); break;
      case 2: {
        auto r = q.try_pop();
        if (r) live_fuzz::g_sink = *r;
        break;
      }
      case 3: {
        T v = 0;
        (void)q.try_pop(v);
        live_fuzz::g_sink = v;
        break;
      }
      case 4: live_fuzz::g_sink = q.size_approx() + (q.push_ready() ? 1 : 0); break;
      case 5:
        if (op & 16) q.seal();
        else q.close_receiving();
        break;
      default: live_fuzz::scribble(in, mem.p, mem.size); break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  live_fuzz::input in(data, size);
  run(in);
  return 0;
}
