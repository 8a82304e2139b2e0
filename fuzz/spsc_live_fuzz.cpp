// fuzz/spsc_live_fuzz.cpp -- libFuzzer: a typed SPSC channel in a shared-memory segment whose
// shared words a live hostile peer rewrites between the endpoints' calls (live_fuzz.hpp).
//
// Byte 0 picks the capacity (1 + byte % 70: powers of two and not, so the slot array is
// larger than the capacity). Then, until the input ends, one byte picks a step: a
// non-waiting call on the sender or the receiver (try_send, both batch paths, reserve +
// commit, every receive form, zero timeouts on the waiting forms), reap, a re-attach of one
// side, or a scribble over the ring (geometry, indices, close and park words, counters,
// slots) or, rarely, the segment header (the claims). Expected: no sanitizer report, no
// hang, and a receiver or sender that read an impossible index says peer_corrupt().
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "live_fuzz.hpp"
#include "ringwire/shm/spsc.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;
using T = std::uint64_t;

void run(live_fuzz::input& in) {
  const std::uint64_t cap = 1 + in.u8() % 70;
  auto seg = shm::segment::create_anonymous(shm::spsc_spec<T>(cap));
  auto map = seg.share();
  std::byte* base = map.get()->base;
  const std::size_t whole = map.get()->size;
  std::byte* chan = base + seg.info().channel_offset;
  const std::size_t chan_size = seg.info().channel_size;
  std::optional<ringwire::spsc::sender<T>> tx(shm::spsc::attach_sender<T>(seg));
  std::optional<ringwire::spsc::receiver<T>> rx(shm::spsc::attach_receiver<T>(seg));
  T next = 0;
  std::vector<T> buf(200);
  while (in.more()) {
    const std::uint8_t op = in.u8();
    const std::size_t n = in.u8();
    switch (op % 16) {
      case 0: (void)tx->try_send(next++); break;
      case 1: (void)tx->try_send_batch(std::span<const T>(buf.data(), n % buf.size())); break;
      case 2: {
        std::deque<T> d(n % 100, next);  // not contiguous: the element-by-element path
        (void)tx->try_send_batch(d);
        break;
      }
      case 3: {
        auto r = tx->reserve(n);
        for (T& v : r.span()) v = next++;
        if (op & 16) r.commit(r.size() == 0 ? 0 : n % (r.size() + 1));
        break;
      }
      case 4: (void)tx->send_for(T{next++}, std::chrono::nanoseconds(0)); break;
      case 5: {
        auto r = rx->try_recv();
        if (r) live_fuzz::g_sink = *r;
        break;
      }
      case 6: {
        T v = 0;
        (void)rx->try_recv(v);
        live_fuzz::g_sink = v;
        break;
      }
      case 7: (void)rx->consume([](T& v) { live_fuzz::g_sink = v; }, n); break;
      case 8: (void)rx->try_recv_batch(std::span<T>(buf.data(), n % buf.size())); break;
      case 9: {
        auto s = rx->read_span(n);
        for (T v : s) live_fuzz::g_sink = v;
        rx->release(s.empty() ? 0 : n % (s.size() + 1));
        break;
      }
      case 10: {
        (void)rx->poll();
        (void)rx->is_closed();
        (void)tx->is_closed();
        live_fuzz::g_sink = rx->size_approx() + tx->size_approx() + tx->make_monitor().snapshot().sent;
        (void)rx->recv_for(std::chrono::nanoseconds(0));
        break;
      }
      case 11: (void)shm::spsc::reap(seg); break;
      case 12: {
        try {  // a re-attach validates the ring again: a corrupt one is refused
          if (op & 16) {
            tx.reset();
            tx.emplace(shm::spsc::attach_sender<T>(seg));
          } else {
            rx.reset();
            rx.emplace(shm::spsc::attach_receiver<T>(seg));
          }
        } catch (const ringwire::error&) {
          if (!tx) tx.emplace();
          if (!rx) rx.emplace();
        }
        break;
      }
      case 13: live_fuzz::scribble(in, base, whole); break;
      default: live_fuzz::scribble(in, chan, chan_size); break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return live_fuzz::run_program(data, size, run);
}
