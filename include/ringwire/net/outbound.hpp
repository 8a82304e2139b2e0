// ringwire/net/outbound.hpp -- a local channel, published to other hosts.
//
// The outbound bridge is one more subscriber of a local broadcast / byte-broadcast channel
// (ends.hpp): it never slows the local publisher more than any subscriber of the same kind
// would. Its thread (run) takes a message, then everything else already queued, up to a
// frame's limits, and sends the batch as one frame (frame.hpp) in one ZeroMQ message: when
// the local channel is quiet a frame carries one message (latency), when it is busy a
// frame carries many (throughput: one ZeroMQ message per batch instead of per message).
//
// lossy (PUB): what the local channel overwrote before the bridge read it (a lossy
// subscriber's lagged), what PUB drops at its high-water mark and what is lost while a
// receiver reconnects all show up at the receiver as gaps in the channel's sequence
// numbers, exactly counted. The bridge itself counts the first kind (counter gaps).
//
// lossless (ROUTER, credits): the source should be lossless too (a lossless-policy
// broadcast subscriber, a credited byte-broadcast reader): then nothing is lost on the way.
// The receiver grants a window (messages); the bridge keeps every frame it sent until the
// receiver acknowledges it (frame.hpp's credit: delivered up to a sequence number) and
// reads no more from the local channel while the window is full, so a slow remote side
// back-pressures the local publisher exactly as a slow local subscriber would. A new
// receiver session (the receiver restarted, or its connection was re-established) gets
// every unacknowledged frame again; the receiver drops what it already had (duplicates).
// A receiver that finds a hole between frames (a frame lost with a dropped connection, or
// refused) asks for a resend (the credit's resend flag); holes the local channel made are
// declared in the frame (flag_gap_before), so they are not asked for again. One receiver
// session at a time: credits from another receiver are ignored (counted refused) until the
// session's receiver is gone -- unreachable, disconnected, or silent for session_timeout.
// On stop the bridge reads no more and waits up to `drain` for the acknowledgements.
// Known limit: the frames in flight live in this process, so killing the outbound side
// loses them (the receiver counts them as a gap when the channel's sequence continues).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ringwire/error.hpp"
#include "ringwire/net/ends.hpp"
#include "ringwire/net/frame.hpp"
#include "ringwire/net/stats.hpp"
#include "ringwire/net/zmq_link.hpp"

namespace ringwire::net {

struct outbound_options {
  link_options link{};                        // where to bind (or connect)
  net::mode mode = net::mode::lossy;
  std::uint32_t channel = 0;                  // the frame header's channel id
  std::size_t max_frame_bytes = 64 * 1024;    // a batch's limit in bytes (raised to fit one
                                              // largest message of the source) ...
  std::uint32_t max_batch = 4096;             // ... and in messages (1: no batching)
  std::chrono::milliseconds idle{20};         // how long run() waits per poll when idle
  bool exit_on_close = true;                  // return when the local channel closes (else wait
                                              // for a new publisher: shared memory)
  // lossless: a session whose receiver sent no credit for this long may be taken over by
  // another receiver; on stop, how long to wait for the last acknowledgements.
  std::chrono::milliseconds session_timeout{1000};
  std::chrono::milliseconds drain{1000};
  std::array<std::atomic<std::uint64_t>*, counter_count> mirror{};  // stats.hpp
};

// A random, non-zero incarnation number (frame epoch, credit receiver).
inline std::uint64_t new_epoch() {
  std::random_device rd;
  std::uint64_t e = 0;
  while (e == 0) e = (std::uint64_t{rd()} << 32) ^ rd() ^
                     static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return e;
}

inline std::uint64_t wall_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

namespace detail {
// After every frame and when idle: the counters into the mirror (a segment's user
// counters, where there is one); the link's connection events into the counters when idle
// or every 64 frames (a ZeroMQ call: not one per frame under load). Returns the events.
inline zmq_link::connection_events refresh(zmq_link& link, bridge_stats& s,
                                           const std::array<std::atomic<std::uint64_t>*, counter_count>& mirror,
                                           bool idle) {
  zmq_link::connection_events e;
  if (idle) {
    e = link.events();
    if (e.up != 0) s.add(counter_index::connections, e.up);
    if (e.down != 0) s.add(counter_index::disconnections, e.down);
  }
  s.mirror(mirror.data(), counter_count);
  return e;
}
}  // namespace detail

template <source Source>
class outbound {
 public:
  // Throws ringwire::error (invalid_options): max_batch 0, or a frame that cannot hold one
  // largest message of the source within max_frame_bytes (16 MiB).
  outbound(zmq::context_t& ctx, Source src, outbound_options o)
      : src_(std::move(src)),
        opt_(checked(std::move(o), src_.max_payload())),
        link_(ctx, zmq_link::role::outbound, opt_.mode, opt_.link),
        epoch_(new_epoch()),
        scratch_(opt_.max_frame_bytes) {}

  // Sends until stop is requested (or the local channel closes, with exit_on_close; a
  // lossless bridge first waits until everything sent was acknowledged, or stop). A
  // lossless bridge asked to stop reads no more and waits up to `drain` for the receiver
  // to acknowledge what it has sent.
  void run(std::stop_token stop) {
    while (!stop.stop_requested() && !link_.terminated() && !evicted_) {
      if (opt_.mode == mode::lossless && !serve_receiver()) continue;
      if (!pending_ && !take(src_.pull_for(opt_.idle))) {
        if (closed_) {
          if (opt_.exit_on_close && (opt_.mode == mode::lossy || unacked_.empty())) break;
          if (opt_.exit_on_close) continue;  // lossless: still waiting for acknowledgements
          std::this_thread::sleep_for(opt_.idle);  // a shared-memory channel: a new publisher
        }
        refresh(true);
        continue;
      }
      if (pending_) send_batch();
    }
    if (opt_.mode == mode::lossless) drain();
    refresh(true);
  }

  [[nodiscard]] bridge_snapshot stats() const noexcept { return stats_.snapshot(); }
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
  [[nodiscard]] std::string address() const { return link_.bound_address(); }
  Source& source() noexcept { return src_; }

 private:
  static outbound_options checked(outbound_options o, std::size_t max_payload) {
    if (o.max_batch == 0) throw error(errc::invalid_options, "outbound bridge: max_batch must be at least 1");
    const std::size_t one = frame_header_bytes + record_bytes(max_payload);
    if (one > max_frame_bytes)
      throw error(errc::invalid_options, "outbound bridge: the source's largest message (" + std::to_string(max_payload) +
                                             " bytes) does not fit a frame of at most 16 MiB");
    o.max_frame_bytes = std::clamp(o.max_frame_bytes, one, max_frame_bytes);
    return o;
  }

  // One pull's outcome: true when a message is now pending.
  bool take(const pulled& p) noexcept {
    switch (p.what) {
      case status::ok:
        pending_ = true;
        closed_ = false;  // a shared-memory channel's new publisher: data again
        msg_ = p;
        return true;
      case status::lagged: stats_.add(counter_index::gaps, p.missed); return false;
      case status::closed: closed_ = true; return false;
      case status::evicted: evicted_ = true; return false;  // for good: run() ends
      default: return false;  // empty, timed_out
    }
  }

  // The pending message and whatever else is queued (up to the frame's and, lossless, the
  // window's limits) as one frame. A frame whose first record does not follow the previous
  // frame's last says so (flag_gap_before): the hole is the local channel's, not transit's.
  void send_batch() {
    std::uint32_t limit = opt_.max_batch;
    if (opt_.mode == mode::lossless) limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(limit, window_ - in_flight_));
    frame_writer w(scratch_);
    const bool hole = framed_seq_ != 0 && msg_.seq != framed_seq_ + 1;
    w.begin(opt_.channel, epoch_, hole ? flag_gap_before : 0);
    const std::uint64_t now = wall_ns();  // one clock read per batch: the time it left the channel
    std::uint64_t bytes = 0;
    while (pending_ && w.count() < limit) {
      if (!w.add(msg_.seq, now, msg_.bytes)) break;  // the next frame takes it (a frame holds
                                                      // any one message: checked())
      bytes += msg_.bytes.size();
      framed_seq_ = msg_.seq;
      pending_ = false;
      if (w.count() < limit) take(src_.try_pull());
    }
    if (w.count() == 0) return;
    const std::span<const std::byte> frame = w.finish();
    const std::uint32_t n = w.count();
    if (opt_.mode == mode::lossy) {
      (void)link_.send(frame);  // PUB: never blocks; a drop at the HWM is the receiver's gap
    } else {
      std::vector<std::byte> copy = spare();
      copy.assign(frame.begin(), frame.end());
      unacked_.push_back({std::move(copy), framed_seq_, n});
      in_flight_ += n;
      send_unsent();
    }
    stats_.add(counter_index::frames);
    stats_.add(counter_index::messages, n);
    stats_.add(counter_index::bytes, bytes);
    refresh(++frames_since_events_ >= 64);
  }

  // ---- lossless ----------------------------------------------------------------------------

  struct sent_frame {
    std::vector<std::byte> bytes;
    std::uint64_t last_seq;
    std::uint32_t count;
  };

  std::vector<std::byte> spare() {
    if (free_.empty()) return {};
    std::vector<std::byte> v = std::move(free_.back());
    free_.pop_back();
    return v;
  }

  // Takes the receiver's credits; sends what the session has not had yet. False when the
  // bridge cannot read from its channel now (no receiver, window full, frames waiting for
  // room in ZeroMQ): it has waited for a credit (or room) instead.
  bool serve_receiver() {
    // Credits: every 16th pass, or at once while there is no session or half the window is
    // in flight (a credit comes per quarter window: one zmq_recv per frame would only find
    // nothing).
    if (!session_ || in_flight_ * 2 >= window_ || ++passes_ % 16 == 0)
      while (link_.try_receive()) on_credit();
    send_unsent();
    const bool blocked = !session_ || in_flight_ >= window_ || unsent_ < unacked_.size() ||
                         (closed_ && !pending_);
    if (!blocked) {
      stalled_ = false;
      return true;
    }
    if (session_ && in_flight_ >= window_ && !stalled_) {
      stalled_ = true;
      stats_.add(counter_index::credit_waits);
    }
    if (closed_ && !pending_ && unacked_.empty()) return true;  // run() decides what closed means
    // Frames refused for room (would_block): wake when there is room, or a credit comes.
    // Not otherwise: a ROUTER is writable whenever any peer has room.
    if (link_.receive(opt_.idle, session_ && send_blocked_)) on_credit();
    if (refresh(true).down != 0) session_ = false;  // the next credit starts a session: resend
    return false;
  }

  void on_credit() {
    credit c;
    if (!decode_credit(link_.message(), c)) {
      stats_.fault(frame_fault::bad_magic);  // not a credit: counted, ignored
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool same = session_ && link_.peer() == peer_ && c.receiver == receiver_;
    if (!same) {
      // Another receiver while ours is alive: ignored -- unless ZeroMQ has meanwhile
      // reported a connection lost (ours, restarted: take the new one at once).
      if (session_ && now - heard_ < opt_.session_timeout && refresh(true).down == 0) {
        stats_.add(counter_index::refused);
        return;
      }
      session_ = true;
      peer_ = link_.peer();
      receiver_ = c.receiver;
      stats_.add(counter_index::restarts);
    }
    heard_ = now;
    acknowledge(c);
    window_ = c.window;
    if (!same || (c.flags & credit_resend) != 0) {
      // Everything still unacknowledged goes (again) to this session, in order.
      stats_.add(counter_index::resent, unsent_);
      unsent_ = 0;
    }
  }

  void acknowledge(const credit& c) {
    if (c.sender != epoch_) return;  // the receiver has nothing of ours
    while (!unacked_.empty() && unacked_.front().last_seq <= c.delivered) {
      in_flight_ -= unacked_.front().count;
      free_.push_back(std::move(unacked_.front().bytes));
      unacked_.pop_front();
      if (unsent_ > 0) --unsent_;
    }
  }

  void send_unsent() {
    send_blocked_ = false;
    while (session_ && unsent_ < unacked_.size()) {
      switch (link_.send(unacked_[unsent_].bytes, &peer_)) {
        case zmq_link::sent::ok: ++unsent_; break;
        case zmq_link::sent::would_block: send_blocked_ = true; return;
        case zmq_link::sent::unreachable: session_ = false; return;  // wait for the next credit
      }
    }
  }

  // After stop: no more reading; the acknowledgements of what was sent, for up to `drain`.
  void drain() {
    const auto until = std::chrono::steady_clock::now() + opt_.drain;
    while (!unacked_.empty() && !link_.terminated() && std::chrono::steady_clock::now() < until) {
      while (link_.try_receive()) on_credit();
      send_unsent();
      if (unacked_.empty()) break;
      if (link_.receive(std::chrono::milliseconds(10), session_ && send_blocked_)) on_credit();
    }
  }

  zmq_link::connection_events refresh(bool idle) {
    if (idle) frames_since_events_ = 0;
    return detail::refresh(link_, stats_, opt_.mirror, idle);
  }

  Source src_;
  outbound_options opt_;
  zmq_link link_;
  std::uint64_t epoch_;
  std::vector<std::byte> scratch_;
  pulled msg_{};
  std::uint64_t framed_seq_ = 0;  // the last record put in a frame
  std::uint32_t frames_since_events_ = 0;
  std::uint32_t passes_ = 0;  // serve_receiver calls (lossless)
  bool pending_ = false;
  bool closed_ = false;
  bool evicted_ = false;
  bridge_stats stats_;
  // lossless
  std::deque<sent_frame> unacked_;
  std::vector<std::vector<std::byte>> free_;  // frame buffers to reuse: no allocation per frame
  std::size_t unsent_ = 0;                    // unacked_[0, unsent_) went to the current session
  std::uint64_t in_flight_ = 0;               // messages in unacked_
  std::uint64_t window_ = 0;
  std::vector<std::byte> peer_;
  std::uint64_t receiver_ = 0;
  std::chrono::steady_clock::time_point heard_{};  // the session's last credit
  bool session_ = false;
  bool stalled_ = false;
  bool send_blocked_ = false;  // the last send found no room (would_block)
};

}  // namespace ringwire::net
