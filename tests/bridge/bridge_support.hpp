// What the bridge tests share: the message, the far side's checks, a raw frame sender.
#pragma once

#include <zmq.hpp>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ringwire/net/frame.hpp"
#include "ringwire/status.hpp"

namespace bridge_test {

struct tick {
  std::uint64_t seq;    // the sender's own count, 1, 2, 3, ... (= the sending channel's seq)
  std::uint64_t check;  // seq * mul: a torn or misplaced payload shows
};
inline constexpr std::uint64_t mul = 0x9E3779B97F4A7C15ull;
inline tick make_tick(std::uint64_t i) { return tick{i, i * mul}; }

// What a far-side subscriber saw, every message checked as it arrives.
struct tally {
  std::uint64_t received = 0, missed = 0, first = 0, last = 0;
  std::uint64_t offset = 0;  // remote seq - local seq: constant when remote gaps are skipped locally
  bool ok = true;
  std::string why;

  void on(const ringwire::recv_result<tick>& r) {
    if (r.status() == ringwire::status::lagged) {
      missed += r.missed();
      return;
    }
    const tick& t = r.value();
    if (t.check != t.seq * mul) fail("torn payload at " + std::to_string(t.seq));
    if (received + missed == 0) {
      first = t.seq;
      offset = t.seq - r.seq();
    } else {
      if (t.seq <= last) fail("out of order: " + std::to_string(t.seq) + " after " + std::to_string(last));
      if (t.seq - r.seq() != offset) fail("local and remote numbering drifted at " + std::to_string(t.seq));
    }
    last = t.seq;
    ++received;
  }
  void fail(const std::string& w) {
    if (ok) why = w;
    ok = false;
  }
  // Every number from the first received to the last is accounted for exactly once.
  [[nodiscard]] bool exact() const { return received + missed == last - first + 1; }
};

// A hand-driven sender: a PUB socket that sends frames made here (or any bytes).
class raw_sender {
 public:
  explicit raw_sender(zmq::context_t& ctx) : sock_(ctx, zmq::socket_type::pub) { sock_.bind("tcp://127.0.0.1:*"); }
  [[nodiscard]] std::string address() const { return sock_.get(zmq::sockopt::last_endpoint); }

  // One frame of one record: tick seq in a payload of `size` bytes (truncated or zero-padded).
  std::vector<std::byte> frame(std::uint64_t epoch, std::uint64_t seq, std::size_t size = sizeof(tick)) {
    ringwire::net::frame_writer w(buf_);
    w.begin(1, epoch);
    std::vector<std::byte> payload(size);
    const tick v = make_tick(seq);
    std::memcpy(payload.data(), &v, size < sizeof v ? size : sizeof v);
    w.add(seq, 0, payload);
    const auto f = w.finish();
    return {f.begin(), f.end()};
  }
  void send(const std::vector<std::byte>& b) { sock_.send(zmq::buffer(b.data(), b.size()), zmq::send_flags::none); }
  void send(std::uint64_t epoch, std::uint64_t seq) { send(frame(epoch, seq)); }

 private:
  zmq::socket_t sock_;
  std::vector<std::byte> buf_ = std::vector<std::byte>(4096);
};

}  // namespace bridge_test
