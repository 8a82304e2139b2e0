// ringwire/net/frame.hpp -- the bridge's wire format (docs/bridge.md): one ZeroMQ message
// carries one frame, a batch of channel messages with their sequence numbers, publish
// timestamps and sizes; and the receiving side's sequence accounting (gap_tracker).
//
// No dependency and no I/O: the encoder writes into caller memory, the decoder reads bytes
// that came off a socket and trusts none of them (fuzzed: fuzz/net_frame_fuzz.cpp). Every
// field is little-endian; the decoder copies fields out with memcpy, so the bytes need no
// alignment.
//
//  frame header (32 bytes)
//  offset  size  field
//  ------  ----  ----------------------------------------------------------------------
//     0     4    magic        "RWN1" (0x314E5752 read as a little-endian u32)
//     4     2    version      1
//     6     2    header_size  32 (a later version may grow it; this one requires 32)
//     8     4    channel      the sender's channel id (the receiver may filter on it)
//    12     4    count        messages in the frame, >= 1
//    16     8    epoch        the sending bridge's incarnation: a random non-zero value chosen
//                             when it starts; a new epoch tells the receiver that sequence
//                             numbers may have restarted (a restart is counted, not a gap)
//    24     4    body_bytes   bytes after the header: exactly the records below
//    28     4    flags        bit 0, gap_before: the sender knows messages are missing
//                             between its previous frame's last record and this frame's
//                             first (its local channel lapped it): a receiver in lossless
//                             mode takes such a hole as a real gap, any other hole between
//                             frames as a loss in transit to be resent. Other bits: 0 (a
//                             non-zero value is refused: malformed)
//
//  then `count` records, each
//     0     8    seq          the message's sequence number in the sending channel (>= 1),
//                             strictly increasing within a frame (gaps allowed: a lossy
//                             bridge that lagged locally says so through them)
//     8     8    publish_ns   the publish timestamp (steady clock ns of the sending host), 0
//                             when unknown
//    16     4    size         payload bytes
//    20     4    reserved     0 (a non-zero value is refused)
//    24   size   payload, then zero padding to a multiple of 8 (non-zero padding is refused:
//                 a frame has one encoding)
//
// Sizes: a frame is at most max_frame_bytes (16 MiB) and a payload at most the decoder's
// `max_payload` (its caller's channel limit): anything larger is malformed, never truncated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ringwire::net {

inline constexpr std::uint32_t frame_magic = 0x314E5752u;  // "RWN1"
inline constexpr std::uint16_t frame_version = 1;
inline constexpr std::size_t frame_header_bytes = 32;
inline constexpr std::size_t record_header_bytes = 24;
inline constexpr std::size_t max_frame_bytes = std::size_t{16} << 20;

// Bytes one record of `payload` bytes takes in a frame (header + payload + padding).
constexpr std::size_t record_bytes(std::size_t payload) noexcept {
  return record_header_bytes + (payload + 7) / 8 * 8;
}

// Why a frame was refused. The inbound bridge counts each (its counters) and drops the
// frame: nothing of a malformed frame reaches the local channel, not even its valid prefix.
enum class frame_fault : std::uint8_t {
  none = 0,
  truncated_header,    // fewer than 32 bytes
  bad_magic,           // not a ringwire bridge frame
  bad_version,         // a version this build does not read
  bad_header_size,     // header_size != 32
  bad_flags,           // unknown flags, or a non-zero record reserved field
  empty,               // count == 0
  size_mismatch,       // body_bytes disagrees with the bytes received, or frame too large
  truncated_record,    // a record runs past the body
  payload_too_large,   // a record's size exceeds the decoder's max_payload
  bad_sequence,        // seq 0, or not strictly increasing within the frame
  trailing_bytes,      // bytes left after `count` records
  bad_padding,         // non-zero padding after a payload (frames are canonical)
};
inline constexpr std::size_t frame_fault_count = 13;

inline const char* to_string(frame_fault f) noexcept {
  switch (f) {
    case frame_fault::none: return "none";
    case frame_fault::truncated_header: return "truncated header";
    case frame_fault::bad_magic: return "bad magic";
    case frame_fault::bad_version: return "bad version";
    case frame_fault::bad_header_size: return "bad header size";
    case frame_fault::bad_flags: return "unknown flags or non-zero reserved bits";
    case frame_fault::empty: return "no records";
    case frame_fault::size_mismatch: return "size mismatch";
    case frame_fault::truncated_record: return "truncated record";
    case frame_fault::payload_too_large: return "payload too large";
    case frame_fault::bad_sequence: return "bad sequence";
    case frame_fault::trailing_bytes: return "trailing bytes";
    case frame_fault::bad_padding: return "non-zero padding";
  }
  return "unknown";
}

namespace detail {
template <class U>
U load_le(const std::byte* p) noexcept {
  U v;
  std::memcpy(&v, p, sizeof v);  // x86 and ARM Linux are little-endian (static_assert below)
  return v;
}
template <class U>
void store_le(std::byte* p, U v) noexcept {
  std::memcpy(p, &v, sizeof v);
}
}  // namespace detail

// One decoded message: views into the frame's bytes (valid while they are).
struct record {
  std::uint64_t seq;
  std::uint64_t publish_ns;
  std::span<const std::byte> payload;
};

inline constexpr std::uint32_t flag_gap_before = 1;  // the header's flags (above)

struct frame_header {
  std::uint32_t channel;
  std::uint32_t count;
  std::uint64_t epoch;
  std::uint32_t flags = 0;
};

struct decode_result;
[[nodiscard]] inline decode_result decode(std::span<const std::byte> in, std::size_t max_payload) noexcept;

// A frame that passed decode(): its header, and its records in order. Only decode() makes
// one with records (for_each trusts what decode validated).
class frame_view {
 public:
  frame_view() = default;
  [[nodiscard]] const frame_header& header() const noexcept { return header_; }

  // Calls fn(record) for each record, in order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    std::size_t at = frame_header_bytes;
    for (std::uint32_t i = 0; i < header_.count; ++i) {
      const std::byte* p = bytes_.data() + at;
      const auto size = detail::load_le<std::uint32_t>(p + 16);
      fn(record{detail::load_le<std::uint64_t>(p), detail::load_le<std::uint64_t>(p + 8),
                bytes_.subspan(at + record_header_bytes, size)});
      at += record_bytes(size);
    }
  }

 private:
  friend decode_result decode(std::span<const std::byte>, std::size_t) noexcept;
  frame_view(frame_header h, std::span<const std::byte> b) noexcept : header_(h), bytes_(b) {}
  frame_header header_{};
  std::span<const std::byte> bytes_;
};

struct decode_result {
  frame_fault fault = frame_fault::none;
  frame_view frame;  // meaningful when fault == none
  [[nodiscard]] explicit operator bool() const noexcept { return fault == frame_fault::none; }
};

// Validates a whole frame (every record) before anything is handed out: either all of it
// is well-formed, or the fault says what is not. max_payload: the largest payload the
// caller accepts (its channel's message limit).
[[nodiscard]] inline decode_result decode(std::span<const std::byte> in, std::size_t max_payload) noexcept {
  using detail::load_le;
  const auto fail = [](frame_fault f) { return decode_result{f, {}}; };
  if (in.size() < frame_header_bytes) return fail(frame_fault::truncated_header);
  const std::byte* h = in.data();
  if (load_le<std::uint32_t>(h) != frame_magic) return fail(frame_fault::bad_magic);
  if (load_le<std::uint16_t>(h + 4) != frame_version) return fail(frame_fault::bad_version);
  if (load_le<std::uint16_t>(h + 6) != frame_header_bytes) return fail(frame_fault::bad_header_size);
  if ((load_le<std::uint32_t>(h + 28) & ~flag_gap_before) != 0) return fail(frame_fault::bad_flags);
  const frame_header hdr{load_le<std::uint32_t>(h + 8), load_le<std::uint32_t>(h + 12), load_le<std::uint64_t>(h + 16),
                         load_le<std::uint32_t>(h + 28)};
  if (hdr.count == 0) return fail(frame_fault::empty);
  const std::uint32_t body = load_le<std::uint32_t>(h + 24);
  if (in.size() > max_frame_bytes || body != in.size() - frame_header_bytes) return fail(frame_fault::size_mismatch);
  std::size_t at = frame_header_bytes;
  std::uint64_t last_seq = 0;
  for (std::uint32_t i = 0; i < hdr.count; ++i) {
    if (in.size() - at < record_header_bytes) return fail(frame_fault::truncated_record);
    const std::byte* p = in.data() + at;
    const auto seq = load_le<std::uint64_t>(p);
    const auto size = load_le<std::uint32_t>(p + 16);
    if (load_le<std::uint32_t>(p + 20) != 0) return fail(frame_fault::bad_flags);
    if (seq == 0 || seq <= last_seq) return fail(frame_fault::bad_sequence);
    if (size > max_payload) return fail(frame_fault::payload_too_large);
    // size <= max_frame_bytes here or the next test fails: no overflow in record_bytes.
    if (size > in.size() || record_bytes(size) > in.size() - at) return fail(frame_fault::truncated_record);
    for (std::size_t i = record_header_bytes + size; i < record_bytes(size); ++i)
      if (p[i] != std::byte{0}) return fail(frame_fault::bad_padding);
    last_seq = seq;
    at += record_bytes(size);
  }
  if (at != in.size()) return fail(frame_fault::trailing_bytes);
  return decode_result{frame_fault::none, frame_view(hdr, in)};
}

// Builds one frame in caller memory: begin(), add() until it says no room (or the batch
// is complete), finish(). The buffer must outlive the writer; nothing is allocated.
class frame_writer {
 public:
  explicit frame_writer(std::span<std::byte> buffer) noexcept : buf_(buffer) {}

  // Starts a frame for `channel` from incarnation `epoch` (non-zero). False if the buffer
  // cannot hold even the header.
  bool begin(std::uint32_t channel, std::uint64_t epoch, std::uint32_t flags = 0) noexcept {
    flags_ = flags & flag_gap_before;
    count_ = 0;
    at_ = frame_header_bytes;
    last_seq_ = 0;
    channel_ = channel;
    epoch_ = epoch;
    return buf_.size() >= frame_header_bytes;
  }

  // Appends one message. False (nothing written) when it does not fit in the buffer (or
  // in max_frame_bytes), or when seq is 0 or not above the previous record's: the caller
  // sends this frame and starts another.
  bool add(std::uint64_t seq, std::uint64_t publish_ns, std::span<const std::byte> payload) noexcept {
    const std::size_t need = record_bytes(payload.size());
    const std::size_t limit = buf_.size() < max_frame_bytes ? buf_.size() : max_frame_bytes;
    if (payload.size() > 0xffffffffu || need > limit - at_ || seq == 0 || seq <= last_seq_) return false;
    std::byte* p = buf_.data() + at_;
    detail::store_le<std::uint64_t>(p, seq);
    detail::store_le<std::uint64_t>(p + 8, publish_ns);
    detail::store_le<std::uint32_t>(p + 16, static_cast<std::uint32_t>(payload.size()));
    detail::store_le<std::uint32_t>(p + 20, 0);
    if (!payload.empty()) std::memcpy(p + record_header_bytes, payload.data(), payload.size());
    std::memset(p + record_header_bytes + payload.size(), 0, need - record_header_bytes - payload.size());
    at_ += need;
    last_seq_ = seq;
    ++count_;
    return true;
  }

  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return at_; }

  // Writes the header; the frame is buffer[0, bytes()). Precondition: count() >= 1.
  std::span<const std::byte> finish() noexcept {
    std::byte* h = buf_.data();
    detail::store_le<std::uint32_t>(h, frame_magic);
    detail::store_le<std::uint16_t>(h + 4, frame_version);
    detail::store_le<std::uint16_t>(h + 6, static_cast<std::uint16_t>(frame_header_bytes));
    detail::store_le<std::uint32_t>(h + 8, channel_);
    detail::store_le<std::uint32_t>(h + 12, count_);
    detail::store_le<std::uint64_t>(h + 16, epoch_);
    detail::store_le<std::uint32_t>(h + 24, static_cast<std::uint32_t>(at_ - frame_header_bytes));
    detail::store_le<std::uint32_t>(h + 28, flags_);
    return {buf_.data(), at_};
  }

 private:
  std::span<std::byte> buf_;
  std::size_t at_ = frame_header_bytes;
  std::uint32_t count_ = 0;
  std::uint32_t channel_ = 0;
  std::uint32_t flags_ = 0;
  std::uint64_t epoch_ = 0;
  std::uint64_t last_seq_ = 0;
};

// The receiving side's sequence accounting, per (channel, sender): what each arriving
// record means. A record is delivered when its seq is past the last delivered one; the
// difference minus one is the gap (messages the sender published that never arrived:
// dropped at a ZeroMQ high-water mark, during a reconnect, or lagged by a lossy outbound
// bridge), exact because the sequence numbers are the sending channel's. A record at or
// below the last delivered seq is a duplicate (dropped, counted). A new epoch is a sender
// restart: counted, and the sequence starts over from the first record of that epoch
// (nothing before it is known to be missing: counted as a gap only if the sender says so
// through its sequence).
class gap_tracker {
 public:
  struct verdict {
    bool deliver;        // hand the record to the local channel
    std::uint64_t gap;   // messages missing just before this one (0 normally)
    bool restarted;      // the first record of a new sender epoch
  };

  verdict on_record(std::uint64_t epoch, std::uint64_t seq) noexcept {
    verdict v{true, 0, false};
    if (epoch != epoch_) {
      v.restarted = epoch_ != 0;
      restarts_ += v.restarted ? 1 : 0;
      epoch_ = epoch;
      // A bridge resumes a channel that outlives it (a shm segment) where the channel is:
      // the first seq of the epoch is compared with what came before only when the
      // sequence continues (seq > last): then the gap is real and counted.
      if (seq > last_ && last_ != 0) v.gap = seq - last_ - 1;
      last_ = seq;
    } else if (seq > last_) {
      v.gap = last_ == 0 ? 0 : seq - last_ - 1;
      last_ = seq;
    } else {
      v.deliver = false;
      ++duplicates_;
      return v;
    }
    gaps_ += v.gap;
    ++delivered_;
    return v;
  }

  // Continues from a previous incarnation of the receiver that had delivered `last` of
  // sender `epoch` (both persisted beside the local channel, e.g. in a segment's counters):
  // that sender's records up to `last` are then duplicates, and a later one past a hole is
  // a gap, exactly as if this tracker had seen them. Before any record.
  void resume(std::uint64_t epoch, std::uint64_t last) noexcept {
    epoch_ = epoch;
    last_ = epoch == 0 ? 0 : last;
  }

  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
  [[nodiscard]] std::uint64_t delivered() const noexcept { return delivered_; }
  [[nodiscard]] std::uint64_t missed() const noexcept { return gaps_; }
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }
  [[nodiscard]] std::uint64_t restarts() const noexcept { return restarts_; }
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_; }

 private:
  std::uint64_t epoch_ = 0;
  std::uint64_t last_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t gaps_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t restarts_ = 0;
};

// ---- the lossless mode's credit message (receiver -> sender) ------------------------------
//
// 40 bytes, little-endian, sent by the inbound side on the lossless connection when it
// starts, after each frame it has delivered, and every heartbeat while idle:
//
//   offset size field
//        0    4 magic          "RWC1"
//        4    2 version        1
//        6    2 size           40
//        8    8 receiver       the receiving bridge's incarnation (random, non-zero)
//       16    8 sender         the sender epoch `delivered` belongs to (0: none yet)
//       24    8 delivered      the last sequence number delivered to the local channel
//       32    4 window         messages the sender may have unacknowledged (>= 1)
//       36    4 flags          bit 0, resend: the receiver found a hole (a frame lost or
//                              refused in transit): send again everything after
//                              `delivered`. Other bits 0.
//
// Everything up to `delivered` (of that sender epoch) is acknowledged; a new receiver (or
// a sender epoch it does not know, or a resend flag) makes the sender resend what is not.
// Refused whole when any field is out of range, like a frame.
inline constexpr std::uint32_t credit_magic = 0x31435752u;  // "RWC1"
inline constexpr std::size_t credit_bytes = 40;

inline constexpr std::uint32_t credit_resend = 1;  // the credit's flags (above)

struct credit {
  std::uint64_t receiver = 0;
  std::uint64_t sender = 0;
  std::uint64_t delivered = 0;
  std::uint32_t window = 0;
  std::uint32_t flags = 0;
};

inline std::array<std::byte, credit_bytes> encode(const credit& c) noexcept {
  std::array<std::byte, credit_bytes> b{};
  detail::store_le<std::uint32_t>(b.data(), credit_magic);
  detail::store_le<std::uint16_t>(b.data() + 4, 1);
  detail::store_le<std::uint16_t>(b.data() + 6, static_cast<std::uint16_t>(credit_bytes));
  detail::store_le<std::uint64_t>(b.data() + 8, c.receiver);
  detail::store_le<std::uint64_t>(b.data() + 16, c.sender);
  detail::store_le<std::uint64_t>(b.data() + 24, c.delivered);
  detail::store_le<std::uint32_t>(b.data() + 32, c.window);
  detail::store_le<std::uint32_t>(b.data() + 36, c.flags & credit_resend);
  return b;
}

// The credit in `in`, or false: wrong size, magic, version, a zero receiver or window, a
// delivered seq without a sender epoch, unknown flags.
[[nodiscard]] inline bool decode_credit(std::span<const std::byte> in, credit& out) noexcept {
  if (in.size() != credit_bytes) return false;
  const std::byte* p = in.data();
  if (detail::load_le<std::uint32_t>(p) != credit_magic || detail::load_le<std::uint16_t>(p + 4) != 1 ||
      detail::load_le<std::uint16_t>(p + 6) != credit_bytes || (detail::load_le<std::uint32_t>(p + 36) & ~credit_resend) != 0)
    return false;
  const credit c{detail::load_le<std::uint64_t>(p + 8), detail::load_le<std::uint64_t>(p + 16),
                 detail::load_le<std::uint64_t>(p + 24), detail::load_le<std::uint32_t>(p + 32),
                 detail::load_le<std::uint32_t>(p + 36)};
  if (c.receiver == 0 || c.window == 0 || (c.sender == 0 && c.delivered != 0)) return false;
  out = c;
  return true;
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the frame format is little-endian; a big-endian "
                                                         "port must byte-swap in load_le / store_le");

}  // namespace ringwire::net
