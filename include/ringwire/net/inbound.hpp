// ringwire/net/inbound.hpp -- other hosts' channel, republished into a local one.
//
// The inbound bridge owns the local channel's publisher (ends.hpp: a broadcast publisher or
// a byte-broadcast writer), so subscribers on this host use the ordinary API. Per received
// ZeroMQ message: decode() validates the whole frame (a malformed or truncated one is
// dropped and counted by reason, never half-delivered); then per record the gap tracker
// (frame.hpp) decides: deliver it, drop a duplicate, or first skip the g messages that
// never arrived -- the sink's skip(g), so local subscribers report them as status::lagged
// with the exact count, as on a lapped ring. A record the local channel cannot hold (a
// broadcast<T> of another size, a byte message over the ring's limit) is refused, counted
// and skipped too. A jump of more than max_gap (2^40) is not skipped: it is counted as a
// bad_sequence fault and the numbering continues from there (a hostile or broken sender
// could otherwise run the local sequence to its end). The tracker only moves past a record
// once it is in the local channel (or skipped): a put() cut short by stop leaves it undone.
//
// lossless (DEALER): the bridge grants `window` messages and acknowledges what is in the
// local channel (frame.hpp's credit) every quarter window, when its queue runs dry and as
// a heartbeat when idle -- which is how a restarted sender learns of it. A hole before a
// frame that the sender did not declare (flag_gap_before) is a loss in transit: the frame
// is dropped and a credit with the resend flag asks for everything after what was
// delivered; a malformed frame too. A gated local channel makes put() wait for the slowest
// local subscriber, so the bridge stops reading, the sender's window fills, and the remote
// publisher is held back: end-to-end backpressure. resume (two counters persisted beside
// the local channel, e.g. a segment's, stored after every record) lets a restarted receiver
// continue where its predecessor delivered, without duplicates.
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

// The largest remote gap turned into a local skip (see above).
inline constexpr std::uint64_t max_gap = std::uint64_t{1} << 40;

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
    if (opt_.window == 0) throw error(errc::invalid_options, "inbound bridge: window must be at least 1");
    if (resumes()) {
      // relaxed: written by a predecessor that has exited (or by this thread).
      tracker_.resume(opt_.resume_epoch->load(std::memory_order_relaxed),
                      opt_.resume_seq->load(std::memory_order_relaxed));
      stored_epoch_ = tracker_.epoch();
    }
  }

  // Receives until stop is requested or the local channel is closed.
  //
  // Credits (lossless) go back when a quarter of the window was delivered since the last
  // one, on a sender's new epoch, on a hole (with the resend flag), and every heartbeat:
  // never one per frame, so an unbatched stream does not carry a credit back per message,
  // and the sender never waits on one it needs (its window cannot fill before a quarter of
  // it was delivered here). A quiet stream's last messages are acknowledged by the next
  // heartbeat.
  void run(std::stop_token stop) {
    const bool lossless = opt_.mode == mode::lossless;
    const std::uint64_t credit_every = std::max<std::uint64_t>(1, opt_.window / 4);
    const auto wait = lossless ? opt_.heartbeat : std::chrono::milliseconds(50);
    if (lossless) send_credit();
    while (!stop.stop_requested() && !local_closed_ && !link_.terminated()) {
      bool got = link_.try_receive();  // under load a frame is already queued: no poll call
      if (!got) {
        // Idle: the connection events every 10 ms at most (a ZeroMQ call each).
        const auto now = std::chrono::steady_clock::now();
        const bool events = now - events_polled_ >= std::chrono::milliseconds(10);
        if (events) events_polled_ = now;
        detail::refresh(link_, stats_, opt_.mirror, events);
        got = link_.receive(wait);
      }
      if (got) on_frame(link_.message(), stop);
      if (!lossless || stop.stop_requested()) continue;  // nothing cut short is acknowledged
      const auto now = std::chrono::steady_clock::now();
      if (hole_ && now - asked_ >= opt_.heartbeat) hole_ = false;  // still missing: may ask again
      if (resend_due_ || tracker_.last_seq() - credited_seq_ >= credit_every || tracker_.epoch() != credited_epoch_ ||
          now - last_credit_ >= opt_.heartbeat)
        send_credit();
    }
    detail::refresh(link_, stats_, opt_.mirror, true);
  }

  // One received ZeroMQ message (run() calls it; public for tests and other engines).
  void on_frame(std::span<const std::byte> bytes, std::stop_token stop) {
    // The frame's own limit, not the channel's: a record the channel cannot take is refused
    // alone (fits() below), the rest of the frame is delivered.
    const decode_result r = decode(bytes, max_frame_bytes);
    if (!r) {
      stats_.fault(r.fault);
      if (opt_.mode == mode::lossless) ask_resend();  // whatever it was, it is missing here
      detail::refresh(link_, stats_, opt_.mirror, false);
      return;
    }
    const frame_header& h = r.frame.header();
    std::uint64_t delivered = 0, payload = 0;
    bool first = true, stopped = false;
    r.frame.for_each([&](const record& m) {
      const bool at_start = std::exchange(first, false);
      if (stopped || local_closed_) return;
      const gap_tracker before = tracker_;
      const gap_tracker::verdict v = tracker_.on_record(h.epoch, m.seq);
      if (!v.deliver) {
        stats_.add(counter_index::duplicates);
        return;
      }
      if (at_start && v.gap != 0 && !v.restarted && opt_.mode == mode::lossless && (h.flags & flag_gap_before) == 0) {
        tracker_ = before;  // a frame before this one was lost in transit: have it sent again
        stopped = true;
        ask_resend();
        return;
      }
      if (v.restarted) stats_.add(counter_index::restarts);
      if (v.gap > max_gap) {
        stats_.fault(frame_fault::bad_sequence);  // not skipped: the numbering goes on from here
      } else if (v.gap != 0) {
        stats_.add(counter_index::gaps, v.gap);
        (void)dst_.skip(v.gap);
      }
      if (!dst_.fits(m.payload.size())) {
        stats_.add(counter_index::refused);
        (void)dst_.skip(1);
      } else if (const status st = dst_.put(m.payload, stop); st != status::ok) {
        // cancelled (stop) or closed: this record is not in the channel. What was skipped
        // before it is (the channel's sequence moved), so the tracker stops just before it.
        tracker_.resume(h.epoch, m.seq - 1);
        local_closed_ = st == status::closed;
        stopped = true;
        return;
      } else {
        ++delivered;
        payload += m.payload.size();
      }
      hole_ = false;
      remember();
    });
    stats_.add(counter_index::frames);
    stats_.add(counter_index::messages, delivered);
    stats_.add(counter_index::bytes, payload);
    detail::refresh(link_, stats_, opt_.mirror, false);
  }

  [[nodiscard]] bridge_snapshot stats() const noexcept { return stats_.snapshot(); }
  [[nodiscard]] const gap_tracker& tracker() const noexcept { return tracker_; }
  [[nodiscard]] std::string address() const { return link_.bound_address(); }
  Sink& sink() noexcept { return dst_; }

 private:
  [[nodiscard]] bool resumes() const noexcept { return opt_.resume_epoch != nullptr && opt_.resume_seq != nullptr; }

  // The resume words after every record in the channel: a receiver killed mid-frame
  // resumes exactly after the last record it put there.
  void remember() noexcept {
    if (!resumes()) return;
    // relaxed (both): read only by a later incarnation of this bridge, after this one is gone.
    if (tracker_.epoch() != stored_epoch_) {
      stored_epoch_ = tracker_.epoch();
      opt_.resume_epoch->store(stored_epoch_, std::memory_order_relaxed);
    }
    opt_.resume_seq->store(tracker_.last_seq(), std::memory_order_relaxed);
  }

  // A hole: one resend request per heartbeat at most (frames already on the way would
  // otherwise each ask for everything again).
  void ask_resend() {
    if (hole_) return;
    hole_ = true;
    resend_due_ = true;
    asked_ = std::chrono::steady_clock::now();
    stats_.add(counter_index::resent);  // inbound: resend requests
  }
  void send_credit() {
    const std::uint32_t flags = resend_due_ ? credit_resend : 0;
    const auto b = encode(credit{receiver_, tracker_.epoch(), tracker_.last_seq(), opt_.window, flags});
    if (link_.send(b) == zmq_link::sent::ok) {  // would_block: the next chance sends it again
      credited_seq_ = tracker_.last_seq();
      credited_epoch_ = tracker_.epoch();
      last_credit_ = std::chrono::steady_clock::now();
      resend_due_ = false;
    }
  }

  Sink dst_;
  inbound_options opt_;
  zmq_link link_;
  std::uint64_t receiver_;
  gap_tracker tracker_;
  bridge_stats stats_;
  bool local_closed_ = false;
  bool hole_ = false;        // lossless: a resend was asked for and nothing was delivered since
  bool resend_due_ = false;  // ... and the credit carrying the request is not sent yet
  std::chrono::steady_clock::time_point asked_{}, last_credit_{}, events_polled_{};
  std::uint64_t credited_seq_ = 0, credited_epoch_ = 0;  // what the last credit sent acknowledged
  std::uint64_t stored_epoch_ = 0;                       // resume_epoch as last stored
};

}  // namespace ringwire::net
