// fuzz/broadcast_live_fuzz.cpp -- libFuzzer: a broadcast ring in a shared-memory segment whose
// shared words a live hostile peer rewrites between the endpoints' calls (live_fuzz.hpp).
//
// Bytes 0-2 pick the capacity (1 + byte % 40), the registry size (1 + byte % 4) and the
// policy (lossy, lossless, evict with a lag below the capacity). Then, until the input
// ends, one byte picks a step: a non-waiting call on the publisher or on one of three
// subscribers (a plain one, one from the oldest, an observer): try_publish, publish_for and
// recv_for with zero timeouts, try_recv, recv_batch, drain, latest, pending, arm_doorbell;
// reap; a re-attach of an endpoint; or a scribble over the ring (geometry, head, control
// and joiners words, registry entries, stamps and payloads) or, rarely, the segment header
// (the claims). Expected: no sanitizer report, no hang, every call a status or an error.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "live_fuzz.hpp"
#include "ringwire/shm/broadcast.hpp"

namespace {

namespace shm = ringwire::shm;
namespace bc = ringwire::broadcast;
using T = std::uint64_t;

void attach_subscriber(std::optional<bc::subscriber<T>>& s, const shm::segment& seg, int which) {
  s.reset();
  try {
    if (which == 0) s.emplace(shm::broadcast::attach_subscriber<T>(seg));
    if (which == 1) s.emplace(shm::broadcast::attach_subscriber_from_oldest<T>(seg));
    if (which == 2) s.emplace(shm::broadcast::attach_observer<T>(seg, {}, true));
  } catch (const ringwire::error&) {
    s.emplace();  // refused (a corrupt ring, a full registry): a closed endpoint
  }
}

void attach_publisher(std::optional<bc::publisher<T>>& p, const shm::segment& seg) {
  p.reset();
  try {
    p.emplace(shm::broadcast::attach_publisher<T>(seg));
  } catch (const ringwire::error&) {
  }
}

void run(live_fuzz::input& in) {
  const std::uint64_t cap = 1 + in.u8() % 40;
  const std::uint32_t subs = 1 + in.u8() % 4;
  const std::uint8_t pol = in.u8() % 3;
  const auto policy = static_cast<bc::policy>(pol);
  const std::uint64_t lag = policy == bc::policy::evict && cap >= 2 ? cap / 2 : 0;
  auto seg = shm::segment::create_anonymous(shm::broadcast_spec<T>(cap, subs, policy, lag));
  auto map = seg.share();
  std::byte* base = map.get()->base;
  const std::size_t whole = map.get()->size;
  std::byte* chan = base + seg.info().channel_offset;
  const std::size_t chan_size = seg.info().channel_size;
  std::optional<bc::publisher<T>> pub;
  attach_publisher(pub, seg);
  std::optional<bc::subscriber<T>> sub[3];
  for (int i = 0; i < 3; ++i) attach_subscriber(sub[i], seg, i);
  T next = 1;
  std::vector<T> buf(64);
  while (in.more()) {
    const std::uint8_t op = in.u8();
    auto& s = sub[(op >> 4) % 3];
    switch (op % 16) {
      case 0:
        if (pub) (void)pub->try_send(next++);
        break;
      case 1:
        if (pub) (void)pub->send_for(next++, std::chrono::nanoseconds(0));
        break;
      case 2: {
        auto r = s->try_recv();
        if (r) live_fuzz::g_sink = *r;
        break;
      }
      case 3: (void)s->recv_batch(std::span<T>(buf.data(), 1 + in.u8() % buf.size())); break;
      case 4:
        for (const T& v : s->drain()) live_fuzz::g_sink = v;
        break;
      case 5: {
        auto r = s->latest();
        if (r) live_fuzz::g_sink = *r;
        break;
      }
      case 6: live_fuzz::g_sink = s->pending() + s->missed() + s->received(); break;
      case 7: (void)s->recv_for(std::chrono::nanoseconds(0)); break;
      case 8: (void)s->arm_doorbell(); break;
      case 9: (void)shm::broadcast::reap(seg); break;
      case 10:
        if (op & 16) attach_publisher(pub, seg);
        else attach_subscriber(sub[(op >> 5) % 3], seg, (op >> 5) % 3);
        break;
      case 11:
        if (op & 16) {
          if (pub) pub->close();
        } else {
          s->close();
        }
        break;
      case 12: live_fuzz::scribble(in, base, whole); break;
      default: live_fuzz::scribble(in, chan, chan_size); break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return live_fuzz::run_program(data, size, run);
}
