// ringwire/net/ends.hpp -- the local ends of a bridge: what outbound reads, what inbound writes.
//
// A bridge never touches a ring itself: it reads through an ordinary subscriber / reader
// (so it is just one more subscriber of the local channel, lossy or lossless by the
// channel's policy or the reader's kind) and writes through an ordinary publisher / writer.
// These adapters give the two bridge loops (outbound.hpp, inbound.hpp) one shape over the
// channel kinds that carry messages a remote host can rebuild from bytes:
//
//   source  (outbound):  pulled try_pull()                 one message, or why not
//                        pulled pull_for(nanoseconds)      the same, waiting up to a limit
//                        max_payload()                     the largest message it can hand out
//   sink    (inbound):   bool fits(n)                      a message of n bytes can go in
//                        status put(bytes, stop)           publish one message (a gated local
//                                                          channel waits for room: the stop
//                                                          token ends the wait)
//                        status skip(g)                    g remote messages never arrived
//                        max_payload()                     the largest message it accepts
//
// broadcast<T> carries T's bytes (T trivially copyable, the same layout on both hosts:
// same compiler ABI, little-endian); a record of another size is refused by the inbound
// side and counted (counter_index::refused) as well as skipped, so subscribers see it
// as missed. byte_broadcast carries any payload up to its ring's message limit; the
// signature and fragment flags of a byte-broadcast message are not carried in frame
// version 1 (the inbound side writes whole messages with signature 0).
//
// Gaps. Sinks turn a remote gap into the local writer's skip(g) (broadcast::publisher::skip,
// byte_broadcast::writer::skip): every local subscriber / reader reports exactly g more
// missed (status::lagged), as on a lapped ring, and the local sequence stays in step with
// the remote one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "ringwire/byte_broadcast.hpp"
#include "ringwire/status.hpp"

namespace ringwire::net {

// One try at the local channel. ok: bytes (valid until the next pull) is message `seq`;
// lagged: `missed` messages were lost locally before the next one (a lossy source);
// empty / timed_out: nothing yet; closed: the channel ended.
struct pulled {
  status what = status::empty;
  std::uint64_t seq = 0;
  std::uint64_t missed = 0;
  std::span<const std::byte> bytes;
};

// ---- broadcast<T> ------------------------------------------------------------------------

template <class T, class Sync = std_sync>
  requires std::is_trivially_copyable_v<T>
class broadcast_source {
 public:
  explicit broadcast_source(broadcast::subscriber<T, Sync> sub) noexcept : sub_(std::move(sub)) {}

  pulled try_pull() noexcept { return take(sub_.try_recv()); }
  pulled pull_for(std::chrono::nanoseconds d) { return take(sub_.recv_for(d)); }
  [[nodiscard]] std::size_t max_payload() const noexcept { return sizeof(T); }
  broadcast::subscriber<T, Sync>& endpoint() noexcept { return sub_; }

 private:
  pulled take(recv_result<T> r) noexcept {
    if (!r) return {r.status(), 0, r.missed(), {}};
    std::memcpy(&value_, &*r, sizeof(T));
    return {status::ok, r.seq(), 0, std::as_bytes(std::span<const T, 1>(&value_, 1))};
  }
  broadcast::subscriber<T, Sync> sub_;
  T value_{};
};

template <class T, class Sync = std_sync>
  requires std::is_trivially_copyable_v<T>
class broadcast_sink {
 public:
  explicit broadcast_sink(broadcast::publisher<T, Sync> pub) noexcept : pub_(std::move(pub)) {}

  // Whether a message of n bytes can be published here: exactly one T.
  [[nodiscard]] bool fits(std::size_t n) const noexcept { return n == sizeof(T); }
  // ok, closed, cancelled. Precondition: fits(bytes.size()).
  status put(std::span<const std::byte> bytes, std::stop_token stop) {
    T v;
    std::memcpy(&v, bytes.data(), sizeof(T));
    // lossy: never waits; gated: waits for the slowest local subscriber, until stop.
    return pub_.send(v, stop);
  }
  status skip(std::uint64_t g) noexcept { return pub_.skip(g); }
  [[nodiscard]] std::size_t max_payload() const noexcept { return sizeof(T); }
  broadcast::publisher<T, Sync>& endpoint() noexcept { return pub_; }

 private:
  broadcast::publisher<T, Sync> pub_;
};

// ---- byte_broadcast ----------------------------------------------------------------------

// Reader: byte_broadcast::reader (lossy) or credited_reader (lossless).
template <class Reader>
class byte_broadcast_source {
 public:
  // max_payload: the ring's largest message (byte_broadcast geometry), the buffer's size.
  byte_broadcast_source(Reader r, std::size_t max_payload) : r_(std::move(r)), buf_(max_payload) {}

  pulled try_pull() noexcept { return take(r_.try_read(std::span<std::byte>(buf_))); }
  pulled pull_for(std::chrono::nanoseconds d) { return take(r_.read_for(std::span<std::byte>(buf_), d)); }
  [[nodiscard]] std::size_t max_payload() const noexcept { return buf_.size(); }
  Reader& endpoint() noexcept { return r_; }

 private:
  pulled take(const byte_broadcast::read_result& r) noexcept {
    if (r) return {status::ok, r.info().seq, 0, std::span<const std::byte>(buf_.data(), r.info().size)};
    // corrupt: one impossible entry skipped (counted missed); too_small cannot happen with
    // a buffer of the ring's largest message, but is handled as a loss rather than a stall.
    if (r.status() == status::corrupt || r.status() == status::too_small) return {status::lagged, 0, 1, {}};
    return {r.status(), 0, r.missed(), {}};
  }
  Reader r_;
  std::vector<std::byte> buf_;
};

template <class Writer>
class byte_broadcast_sink {
 public:
  byte_broadcast_sink(Writer w, std::size_t max_payload) noexcept : w_(std::move(w)), max_(max_payload) {}

  [[nodiscard]] bool fits(std::size_t n) const noexcept { return n <= max_; }
  // ok, closed, cancelled. Precondition: fits(bytes.size()).
  status put(std::span<const std::byte> bytes, std::stop_token stop) {
    return w_.write(0, bytes, stop);
  }
  // writer::skip(g): every local reader counts exactly g more missed (status::lagged).
  status skip(std::uint64_t g) noexcept { return w_.skip(g); }
  [[nodiscard]] std::size_t max_payload() const noexcept { return max_; }
  Writer& endpoint() noexcept { return w_; }

 private:
  Writer w_;
  std::size_t max_;
};

template <class S>
concept source = requires(S& s, std::chrono::nanoseconds d) {
  { s.try_pull() } -> std::same_as<pulled>;
  { s.pull_for(d) } -> std::same_as<pulled>;
  { s.max_payload() } -> std::convertible_to<std::size_t>;
};

template <class S>
concept sink = requires(S& s, std::span<const std::byte> b, std::stop_token t, std::uint64_t g) {
  { s.fits(std::size_t{}) } -> std::same_as<bool>;
  { s.put(b, t) } -> std::same_as<status>;
  { s.skip(g) } -> std::same_as<status>;
  { s.max_payload() } -> std::convertible_to<std::size_t>;
};

}  // namespace ringwire::net
