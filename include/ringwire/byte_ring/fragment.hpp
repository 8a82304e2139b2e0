// ringwire/byte_ring/fragment.hpp -- joins fragment records (layout.hpp, type -2) back into
// whole messages on the reading side.
//
//   reassembler re(/*max_message=*/1 << 24, /*max_streams=*/8);
//   re.read(rx, [](std::int32_t type, std::span<const std::byte> msg) { handle(type, msg); });
//
// A reassembler sits between a reader and the code that handles messages. Ordinary records
// go through zero-copy: fn sees the view into the ring, released when fn returns. Each
// fragment record is copied into its stream's buffer and released at once (the writer gets
// the room back while the message is still incomplete); fn sees the whole message, from that
// buffer, when its eom fragment arrives. One call delivers at most one message: ok; or the
// reader's empty (try_read, possibly after consuming fragments), closed, timed_out,
// cancelled. Each open stream owns one buffer that grows up to max_message bytes and is
// kept for reuse: the only allocations, and only on the fragmented path.
//
// Streams are keyed by the fragment header's stream id alone (writers fragmenting at once
// must use distinct ids). Everything a correct writer cannot produce -- or that a timed-out
// or dead writer leaves -- is dropped, never delivered truncated or mixed, and counted by
// reason (drop_reason; dropped() is the sum):
//   aborted          an abort fragment closed the stream's open message (its writer timed
//                    out or was cancelled mid-message); not an error
//   unfinished       the reader reported closed while the message was open; not an error
//   no_start         a fragment without som (continuation, eom or abort) for a stream with
//                    nothing open: that fragment is dropped
//   restarted        a som for a stream whose message is open: the open message is dropped
//                    and the new one starts (also what a writer that died mid-message
//                    leaves behind when its successor reuses the stream id)
//   malformed        a fragment with user type < 1, unknown flag bits, or another user type
//                    than its open message: the fragment and the stream's open message
//   too_large        the message would exceed max_message (or its buffer could not grow:
//                    the bad_alloc propagates after the drop is counted): it is dropped and
//                    its remaining fragments are skipped silently up to its eom (or abort /
//                    next som)
//   too_many_streams a som for a new stream while max_streams streams are open (or
//                    skipping): the message is refused; its later fragments, finding nothing
//                    open, count as no_start
// check() reports the first drop that is an error (all but aborted and unfinished):
// errc::message_too_large, errc::too_many_producers, or errc::ring_corrupt for the sequence
// errors; the reassembler keeps working after any drop. A plain record larger than
// max_message is still delivered (it is not copied; the ring bounds it).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "ringwire/byte_ring/layout.hpp"
#include "ringwire/byte_ring/reader.hpp"

namespace ringwire::byte_ring {

enum class drop_reason : std::uint8_t {
  none,
  aborted,
  unfinished,
  no_start,
  restarted,
  malformed,
  too_large,
  too_many_streams,
};
inline constexpr std::size_t drop_reason_count = 8;

inline const char* to_string(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::none: return "none";
    case drop_reason::aborted: return "aborted";
    case drop_reason::unfinished: return "unfinished";
    case drop_reason::no_start: return "fragment without a start";
    case drop_reason::restarted: return "message restarted while open";
    case drop_reason::malformed: return "malformed fragment";
    case drop_reason::too_large: return "message too large";
    case drop_reason::too_many_streams: return "too many open streams";
  }
  return "unknown";
}

class reassembler {
 public:
  // max_message: the largest fragmented message delivered (bytes); max_streams (>= 1): how
  // many streams may have a message open at once. Throws ringwire::error(invalid_options)
  // for max_streams 0.
  reassembler(std::size_t max_message, std::size_t max_streams) : max_message_(max_message), max_streams_(max_streams) {
    if (max_streams == 0) throw error(errc::invalid_options, "reassembler needs max_streams >= 1");
  }

  // Consumes records until one message is delivered to fn(type, bytes) (ok) or the reader
  // has nothing (empty) / is closed. If fn throws, the message counts as delivered.
  template <class Sync, class Fn>
  status try_read(reader<Sync>& rx, Fn&& fn) {
    return run(rx, fn, [&](record_view& r) { return rx.try_read(r); });
  }
  // Blocking forms: wait by the reader's wait strategy, across fragments.
  template <class Sync, class Fn>
  status read(reader<Sync>& rx, Fn&& fn) {
    return run(rx, fn, [&](record_view& r) { return rx.read(r); });
  }
  template <class Sync, class Fn>
  status read(reader<Sync>& rx, Fn&& fn, std::stop_token stop) {
    return run(rx, fn, [&](record_view& r) { return rx.read(r, stop); });
  }
  template <class Sync, class Fn, class Rep, class Period>
  status read_for(reader<Sync>& rx, Fn&& fn, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = ringwire::detail::deadline_after(std::chrono::steady_clock::now(), timeout);
    return run(rx, fn, [&](record_view& r) {
      const auto now = std::chrono::steady_clock::now();
      return rx.read_for(r, now < deadline ? deadline - now : std::chrono::steady_clock::duration::zero());
    });
  }

  // Messages and stray fragments dropped, in all and per reason.
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 1; i < drop_reason_count; ++i) n += counts_[i];
    return n;
  }
  [[nodiscard]] std::uint64_t dropped(drop_reason r) const noexcept { return counts_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] drop_reason last_drop() const noexcept { return last_; }
  // The first error-drop (see the top comment), else success.
  [[nodiscard]] result<void> check() const {
    if (first_error_ == drop_reason::none) return {};
    const errc code = first_error_ == drop_reason::too_large          ? errc::message_too_large
                      : first_error_ == drop_reason::too_many_streams ? errc::too_many_producers
                                                                      : errc::ring_corrupt;
    return result<void>(code, std::string("byte ring reassembler dropped a message: ") + to_string(first_error_));
  }
  // Streams with a message open (or being skipped) now.
  [[nodiscard]] std::size_t open_streams() const noexcept {
    std::size_t n = 0;
    for (const auto& s : streams_) n += s.state != idle ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::size_t max_message() const noexcept { return max_message_; }
  // Drops every open message (counted as unfinished), e.g. after a reader was replaced.
  void reset() noexcept {
    for (auto& s : streams_) close_stream(s, s.state == open ? drop_reason::unfinished : drop_reason::none);
  }

 private:
  enum state_t : std::uint8_t { idle, open, skipping };
  struct stream {
    std::uint16_t id = 0;
    state_t state = idle;
    std::int32_t type = 0;
    std::vector<std::byte> bytes;
  };

  void drop(drop_reason r) noexcept {
    ++counts_[static_cast<std::size_t>(r)];
    last_ = r;
    if (first_error_ == drop_reason::none && r != drop_reason::aborted && r != drop_reason::unfinished) first_error_ = r;
  }
  void close_stream(stream& s, drop_reason why) noexcept {
    if (why != drop_reason::none) drop(why);
    s.state = idle;
    s.bytes.clear();  // keeps the capacity for the next message
  }
  stream* find(std::uint16_t id) noexcept {
    for (auto& s : streams_)
      if (s.state != idle && s.id == id) return &s;
    return nullptr;
  }
  stream* start(std::uint16_t id) {
    for (auto& s : streams_)
      if (s.state == idle) return (s.id = id, &s);
    if (streams_.size() >= max_streams_) return nullptr;
    streams_.emplace_back();
    streams_.back().id = id;
    return &streams_.back();
  }

  // Takes one fragment (payload >= 8 bytes: the reader checked). Returns the stream whose
  // message it completed, or nullptr.
  stream* take(std::span<const std::byte> p) {
    if (p.size() < fragment_header_bytes) {  // the reader already refuses these: defence only
      drop(drop_reason::malformed);
      return nullptr;
    }
    const fragment_header h = get_fragment_header(p.data());
    const std::span<const std::byte> piece = p.subspan(fragment_header_bytes);
    stream* s = find(h.stream);
    const bool other_type = s != nullptr && s->state == open && s->type != h.type && (h.flags & frag_som) == 0;
    if (h.type < 1 || (h.flags & ~frag_known_flags) != 0 || other_type) {
      if (s != nullptr) close_stream(*s, drop_reason::none);  // counted once, as malformed
      drop(drop_reason::malformed);
      return nullptr;
    }
    if ((h.flags & frag_abort) != 0) {
      if (s == nullptr) drop(drop_reason::no_start);
      else close_stream(*s, s->state == open ? drop_reason::aborted : drop_reason::none);
      return nullptr;
    }
    if ((h.flags & frag_som) != 0) {
      if (s != nullptr) close_stream(*s, s->state == open ? drop_reason::restarted : drop_reason::none);
      s = start(h.stream);
      if (s == nullptr) {
        drop(drop_reason::too_many_streams);
        return nullptr;
      }
      s->state = open;
      s->type = h.type;
    } else if (s == nullptr) {
      drop(drop_reason::no_start);
      return nullptr;
    }
    if (s->state == open) {
      if (piece.size() > max_message_ - s->bytes.size()) {
        drop(drop_reason::too_large);
        s->bytes.clear();
        s->state = skipping;
      } else {
        try {
          s->bytes.insert(s->bytes.end(), piece.begin(), piece.end());
        } catch (...) {  // no memory: this piece is consumed and lost, so the message must
          drop(drop_reason::too_large);  // never be delivered (the rest is skipped to its eom)
          s->bytes.clear();
          s->state = skipping;
          throw;
        }
      }
    }
    if ((h.flags & frag_eom) != 0) {
      if (s->state == open) return s;
      close_stream(*s, drop_reason::none);  // the end of a skipped message
    }
    return nullptr;
  }

  template <class Sync, class Fn, class Next>
  status run(reader<Sync>& rx, Fn& fn, Next&& next) {
    for (;;) {
      record_view r;
      const status st = next(r);
      if (st != status::ok) {
        if (st == status::closed) reset();
        return st;
      }
      if (r.type != fragment_type) {
        struct release_on_exit {
          reader<Sync>& rx;
          ~release_on_exit() { rx.release(); }
        } guard{rx};
        fn(r.type, r.payload);
        return status::ok;
      }
      stream* done = take(r.payload);
      rx.release();  // copied: the room goes back to the writers now
      if (done != nullptr) {
        struct close_on_exit {
          reassembler& self;
          stream& s;
          ~close_on_exit() { self.close_stream(s, drop_reason::none); }
        } guard{*this, *done};
        fn(done->type, std::span<const std::byte>(done->bytes.data(), done->bytes.size()));
        return status::ok;
      }
    }
  }

  std::size_t max_message_;
  std::size_t max_streams_;
  std::vector<stream> streams_;
  std::array<std::uint64_t, drop_reason_count> counts_{};
  drop_reason last_ = drop_reason::none;
  drop_reason first_error_ = drop_reason::none;
};

}  // namespace ringwire::byte_ring
