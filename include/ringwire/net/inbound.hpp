// ringwire/net/inbound.hpp -- other hosts' channel, republished into a local one.
//
// The inbound bridge owns the local channel's publisher (ends.hpp: a broadcast publisher or
// a byte-broadcast writer), so subscribers on this host use the ordinary API. Per received
// ZeroMQ message: decode() validates the whole frame (a malformed or truncated one is
// dropped and counted by reason, never half-delivered); then per record the gap tracker
// (frame.hpp) decides: deliver it, drop a duplicate, or first skip the g messages that
// never arrived -- the sink's skip(g), so local broadcast subscribers report them as
// status::lagged with the exact count, as on a lapped ring. A record the local channel
// cannot hold (a broadcast<T> of another size) is refused, counted and skipped too.
//
// lossless (DEALER): the bridge grants `window` messages and acknowledges each frame once
// its records are in the local channel (frame.hpp's credit), and sends the same credit as
// a heartbeat when idle -- which is how a restarted sender learns of it. A gated local
// channel makes put() wait for the slowest local subscriber, so the bridge stops reading,
// the sender's window fills, and the remote publisher is held back: end-to-end
// backpressure. resume (two counters persisted beside the local channel, e.g. a segment's)
// lets a restarted receiver continue where its predecessor delivered, without duplicates.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <utility>

#include "ringwire/net/ends.hpp"
#include "ringwire/net/frame.hpp"
#include "ringwire/net/outbound.hpp"
#include "ringwire/net/stats.hpp"
#include "ringwire/net/zmq_link.hpp"

namespace ringwire::net {

struct inbound_options {
  link_options link{.address = {}, .bind = false};  // where to connect (or bind)
  net::mode mode = net::mode::lossy;
  std::uint32_t window = 4096;                // lossless: messages the sender may have in flight
  std::chrono::milliseconds heartbeat{100};   // lossless: credit repeated this often when idle
  // Where the last delivered (sender epoch, seq) is kept across restarts of this bridge;
  // both or neither (e.g. &seg.counter(k), &seg.counter(k + 1)).
  std::atomic<std::uint64_t>* resume_epoch = nullptr;
  std::atomic<std::uint64_t>* resume_seq = nullptr;
  std::array<std::atomic<std::uint64_t>*, counter_count> mirror{};  // stats.hpp
};

template <sink Sink>
class inbound {
 public:
  inbound(zmq::context_t& ctx, Sink dst, inbound_options o)
      : dst_(std::move(dst)),
        opt_(std::move(o)),
        link_(ctx, zmq_link::role::inbound, opt_.mode, opt_.link),
        receiver_(new_epoch()) {
    if (opt_.resume_epoch != nullptr && opt_.resume_seq != nullptr) {
      // relaxed: written by a predecessor that has exited (or by this thread).
      tracker_.resume(opt_.resume_epoch->load(std::memory_order_relaxed),
                      opt_.resume_seq->load(std::memory_order_relaxed));
    }
  }

  // Receives until stop is requested or the local channel is closed.
  //
  // Credits (lossless) go back when a quarter of the window was delivered since the last
  // one, when the queue runs dry (the sender hears at once what a quiet stream delivered),
  // on a sender's new epoch, and every heartbeat: never one per frame, so an unbatched
  // stream does not carry a credit back per message, and the sender never waits on one it
  // needs (its window cannot fill before a quarter of it was delivered here).
  void run(std::stop_token stop) {
    const bool lossless = opt_.mode == mode::lossless;
    const std::uint64_t credit_every = std::max<std::uint64_t>(1, opt_.window / 4);
    const auto wait = lossless ? opt_.heartbeat : std::chrono::milliseconds(50);
    if (lossless) send_credit();
    auto last_credit = std::chrono::steady_clock::now();
    while (!stop.stop_requested() && !local_closed_) {
      bool got = link_.try_receive();  // under load a frame is already queued: no poll call
      if (!got) {
        if (lossless && owed()) {
          send_credit();
          last_credit = std::chrono::steady_clock::now();
        }
        detail::refresh(link_, stats_, opt_.mirror, true);
        got = link_.receive(wait);
      }
      if (got) on_frame(link_.message(), stop);
      if (lossless) {
        const auto now = std::chrono::steady_clock::now();
        if (tracker_.last_seq() - credited_seq_ >= credit_every || tracker_.epoch() != credited_epoch_ ||
            now - last_credit >= opt_.heartbeat) {
          send_credit();
          last_credit = now;
        }
      }
    }
    detail::refresh(link_, stats_, opt_.mirror, true);
  }

  // One received ZeroMQ message (run() calls it; public for tests and other engines).
  void on_frame(std::span<const std::byte> bytes, std::stop_token stop) {
    const decode_result r = decode(bytes, dst_.max_payload());
    if (!r) {
      stats_.fault(r.fault);
      detail::refresh(link_, stats_, opt_.mirror, false);
      return;
    }
    const std::uint64_t epoch = r.frame.header().epoch;
    std::uint64_t delivered = 0, payload = 0;
    r.frame.for_each([&](const record& m) {
      if (local_closed_) return;
      const gap_tracker::verdict v = tracker_.on_record(epoch, m.seq);
      if (v.restarted) stats_.add(counter_index::restarts);
      if (!v.deliver) {
        stats_.add(counter_index::duplicates);
        return;
      }
      if (v.gap != 0) {
        stats_.add(counter_index::gaps, v.gap);
        (void)dst_.skip(v.gap);
      }
      if (!dst_.fits(m.payload.size())) {
        stats_.add(counter_index::refused);
        (void)dst_.skip(1);
        return;
      }
      const status st = dst_.put(m.payload, stop);
      if (st != status::ok) {
        local_closed_ = st == status::closed;  // cancelled: stop was requested
        return;
      }
      ++delivered;
      payload += m.payload.size();
    });
    stats_.add(counter_index::frames);
    stats_.add(counter_index::messages, delivered);
    stats_.add(counter_index::bytes, payload);
    if (opt_.resume_epoch != nullptr && opt_.resume_seq != nullptr) {
      // relaxed: read only by a later incarnation of this bridge, after this one is gone.
      opt_.resume_epoch->store(tracker_.epoch(), std::memory_order_relaxed);
      opt_.resume_seq->store(tracker_.last_seq(), std::memory_order_relaxed);
    }
    detail::refresh(link_, stats_, opt_.mirror, false);
  }

  [[nodiscard]] bridge_snapshot stats() const noexcept { return stats_.snapshot(); }
  [[nodiscard]] const gap_tracker& tracker() const noexcept { return tracker_; }
  [[nodiscard]] std::string address() const { return link_.bound_address(); }
  Sink& sink() noexcept { return dst_; }

 private:
  // Delivered something the last credit sent does not acknowledge.
  [[nodiscard]] bool owed() const noexcept {
    return tracker_.last_seq() != credited_seq_ || tracker_.epoch() != credited_epoch_;
  }
  void send_credit() {
    const auto b = encode(credit{receiver_, tracker_.epoch(), tracker_.last_seq(), opt_.window});
    if (link_.send(b) == zmq_link::sent::ok) {  // would_block: the next chance sends it again
      credited_seq_ = tracker_.last_seq();
      credited_epoch_ = tracker_.epoch();
    }
  }

  Sink dst_;
  inbound_options opt_;
  zmq_link link_;
  std::uint64_t receiver_;
  gap_tracker tracker_;
  bridge_stats stats_;
  bool local_closed_ = false;
  std::uint64_t credited_seq_ = 0, credited_epoch_ = 0;  // what the last credit sent acknowledged
};

}  // namespace ringwire::net
