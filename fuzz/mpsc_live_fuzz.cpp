// fuzz/mpsc_live_fuzz.cpp -- libFuzzer: an MPSC lanes channel in a shared-memory segment whose
// shared words a live hostile peer rewrites between the endpoints' calls (live_fuzz.hpp).
//
// Bytes 0-1 pick the lane capacity (1 + byte % 40) and the lanes (1 + byte % 4). Then,
// until the input ends, one byte picks a step: a non-waiting call on one of three senders
// (try_send, a batch) or on the receiver (try_recv, try_recv_batch, consume_up_to, is_closed,
// recv_for with a zero timeout), reap, a re-attach of a sender or the receiver, or a
// scribble over the channel (geometry, receiver and registry words, lane descriptors, each
// lane's ring header and slots) or, rarely, the segment header (the claims). Expected: no
// sanitizer report, no hang, every call a status or an error.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "live_fuzz.hpp"
#include "ringwire/shm/mpsc.hpp"

namespace {

namespace shm = ringwire::shm;
using T = std::uint64_t;

template <class E, class Attach>
void reattach(std::optional<E>& e, Attach&& attach) {
  e.reset();
  try {
    e.emplace(attach());
  } catch (const ringwire::error&) {
    e.emplace();  // refused (a corrupt channel, every lane taken): a closed endpoint
  }
}

void run(live_fuzz::input& in) {
  const std::uint64_t cap = 1 + in.u8() % 40;
  const std::uint32_t lanes = 1 + in.u8() % 4;
  auto seg = shm::segment::create_anonymous(shm::mpsc_spec<T>(cap, lanes));
  auto map = seg.share();
  std::byte* base = map.get()->base;
  const std::size_t whole = map.get()->size;
  std::byte* chan = base + seg.info().channel_offset;
  const std::size_t chan_size = seg.info().channel_size;
  std::optional<ringwire::mpsc::receiver<T>> rx;
  reattach(rx, [&] { return shm::mpsc::attach_receiver<T>(seg); });
  std::optional<ringwire::mpsc::sender<T>> tx[3];
  for (auto& t : tx) reattach(t, [&] { return shm::mpsc::attach_sender<T>(seg); });
  T next = 0;
  std::vector<T> buf(64);
  while (in.more()) {
    const std::uint8_t op = in.u8();
    auto& t = tx[(op >> 4) % 3];
    switch (op % 16) {
      case 0: (void)t->try_send(next++); break;
      case 1: (void)t->try_send_batch(std::span<const T>(buf.data(), in.u8() % buf.size())); break;
      case 2: (void)t->send_for(T{next++}, std::chrono::nanoseconds(0)); break;
      case 3: {
        auto r = rx->try_recv();
        if (r) live_fuzz::g_sink = *r;
        break;
      }
      case 4: (void)rx->try_recv_batch(std::span<T>(buf.data(), in.u8() % buf.size())); break;
      case 5: (void)rx->consume_up_to(in.u8(), [](T& v) { live_fuzz::g_sink = v; }); break;
      case 6:
        (void)rx->is_closed();
        live_fuzz::g_sink = rx->size_approx();
        break;
      case 7: (void)rx->recv_for(std::chrono::nanoseconds(0)); break;
      case 8: (void)shm::mpsc::reap(seg); break;
      case 9:
        if (op & 16) reattach(rx, [&] { return shm::mpsc::attach_receiver<T>(seg); });
        else reattach(tx[(op >> 5) % 3], [&] { return shm::mpsc::attach_sender<T>(seg); });
        break;
      case 10: t->close(); break;
      case 11: live_fuzz::scribble(in, base, whole); break;
      default: live_fuzz::scribble(in, chan, chan_size); break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return live_fuzz::run_program(data, size, run);
}
