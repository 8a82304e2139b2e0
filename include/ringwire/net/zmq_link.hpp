// ringwire/net/zmq_link.hpp -- the engine: the only part of the bridge that names ZeroMQ.
//
// The bridge loops (outbound.hpp, inbound.hpp) see a link through a few calls: send a frame
// (to the current peer, lossless) or a credit (inbound, lossless), wait for and take one
// received message, the peer it came from, and the connections made and lost. Another engine (NNG, Aeron) replaces this
// file: frames, credits, the gap tracker and the local ends stay as they are
// (docs/bridge.md, "Another engine").
//
// Sockets by mode and side (the outbound side binds or connects, as the user says):
//   lossy      outbound PUB  -> inbound SUB (subscribed to everything). PUB never blocks:
//              at its high-water mark (per subscriber) it drops, which the receiver's
//              sequence accounting counts as a gap; ZeroMQ reconnects by itself.
//   lossless   outbound ROUTER <-> inbound DEALER. The DEALER sends credits (frame.hpp);
//              the ROUTER sends frames to the peer whose credit it holds, with
//              ZMQ_ROUTER_MANDATORY so a full or vanished peer is an error, never a silent
//              drop: the frame stays unacknowledged and is sent again.
// Sends never block (ZMQ_DONTWAIT): a bridge thread must keep reading its local channel
// (lossy) or its credits (lossless).
#pragma once

#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ringwire::net {

enum class mode : std::uint8_t { lossy, lossless };

struct link_options {
  std::string address;         // a ZeroMQ endpoint: tcp://127.0.0.1:5556, ipc:///tmp/x.sock
  bool bind = true;            // bind (the usual for outbound) or connect
  int send_hwm = 1000;         // ZMQ_SNDHWM / ZMQ_RCVHWM, in ZeroMQ messages (frames)
  int recv_hwm = 1000;
  int reconnect_ms = 100;      // ZMQ_RECONNECT_IVL
  int linger_ms = 0;           // ZMQ_LINGER: what an unclean close may still send
};

class zmq_link {
 public:
  enum class role : std::uint8_t { outbound, inbound };
  enum class sent : std::uint8_t { ok, would_block, unreachable };

  zmq_link(zmq::context_t& ctx, role r, mode m, const link_options& o)
      : sock_(ctx, type_of(r, m)), monitor_(ctx, zmq::socket_type::pair), role_(r), mode_(m) {
    // Connection events (counted by events()): ZeroMQ reports them on an inproc PAIR socket.
    // A name used once per process: an address would be reused by the next link while
    // ZeroMQ's reaper may still hold the old endpoint.
    static std::atomic<std::uint64_t> links{0};
    // relaxed: only uniqueness matters.
    const std::string events_at = "inproc://ringwire-link-" + std::to_string(links.fetch_add(1, std::memory_order_relaxed));
    if (zmq_socket_monitor(sock_.handle(), events_at.c_str(),
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
      throw zmq::error_t();
    monitor_.connect(events_at);
    sock_.set(zmq::sockopt::sndhwm, o.send_hwm);
    sock_.set(zmq::sockopt::rcvhwm, o.recv_hwm);
    sock_.set(zmq::sockopt::reconnect_ivl, o.reconnect_ms);
    sock_.set(zmq::sockopt::linger, o.linger_ms);
    if (r == role::inbound && m == mode::lossy) sock_.set(zmq::sockopt::subscribe, "");
    if (r == role::outbound && m == mode::lossless) sock_.set(zmq::sockopt::router_mandatory, 1);
    if (o.bind) {
      sock_.bind(o.address);
    } else {
      sock_.connect(o.address);
    }
  }

  // The endpoint actually bound (tcp://127.0.0.1:* resolves to a port).
  [[nodiscard]] std::string bound_address() const { return sock_.get(zmq::sockopt::last_endpoint); }

  // Outbound: one frame. Lossy: to every subscriber (PUB). Lossless: to `peer`.
  // would_block also when interrupted (EINTR) or when the context is ending (terminated()).
  sent send(std::span<const std::byte> frame, const std::vector<std::byte>* peer = nullptr) {
    try {
      if (peer != nullptr) {
        if (!sock_.send(zmq::buffer(peer->data(), peer->size()), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
          return sent::would_block;
      }
      return sock_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait) ? sent::ok
                                                                                           : sent::would_block;
    } catch (const zmq::error_t& e) {
      if (e.num() == EHOSTUNREACH) return sent::unreachable;
      absorb(e);
      return sent::would_block;
    }
  }

  // Waits up to `timeout` for one message; true with it in message() (and, on a ROUTER,
  // its sender in peer()). Multi-part messages other than ROUTER's [peer, body] are
  // drained and refused (false, refused() counts them). or_writable: also return (false)
  // as soon as a send would not block. A signal (EINTR) is a timeout; a terminating
  // context sets terminated().
  bool receive(std::chrono::milliseconds timeout, bool or_writable = false) {
    if (take()) return true;  // under load a message is already queued: no poll call
    zmq::pollitem_t item{sock_.handle(), 0, static_cast<short>(ZMQ_POLLIN | (or_writable ? ZMQ_POLLOUT : 0)), 0};
    try {
      if (zmq::poll(&item, 1, timeout) <= 0 || (item.revents & ZMQ_POLLIN) == 0) return false;
    } catch (const zmq::error_t& e) {
      absorb(e);
      return false;
    }
    return take();
  }
  // Without waiting.
  bool try_receive() { return take(); }
  // The context is being terminated (zmq_ctx_term from another thread): the bridge ends.
  [[nodiscard]] bool terminated() const noexcept { return terminated_; }

  [[nodiscard]] std::span<const std::byte> message() const noexcept {
    return {static_cast<const std::byte*>(msg_.data()), msg_.size()};
  }
  [[nodiscard]] const std::vector<std::byte>& peer() const noexcept { return peer_; }
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }

  // Connections established (connected or accepted, re-connections included) and lost
  // since the last call, from the socket's monitor. Never waits.
  struct connection_events {
    std::uint64_t up = 0, down = 0;
  };
  connection_events events() {
    connection_events e;
    zmq::message_t head, where;
    while (recv_quietly(monitor_, head)) {
      if (head.more()) (void)recv_quietly(monitor_, where);  // the endpoint: not needed (queued with its head)
      if (head.size() < 2) continue;
      std::uint16_t id = 0;
      std::memcpy(&id, head.data(), 2);  // ZeroMQ's event frame: u16 event id, u32 value
      if (id == ZMQ_EVENT_CONNECTED || id == ZMQ_EVENT_ACCEPTED) ++e.up;
      if (id == ZMQ_EVENT_DISCONNECTED) ++e.down;
    }
    return e;
  }

 private:
  static zmq::socket_type type_of(role r, mode m) noexcept {
    if (m == mode::lossy) return r == role::outbound ? zmq::socket_type::pub : zmq::socket_type::sub;
    return r == role::outbound ? zmq::socket_type::router : zmq::socket_type::dealer;
  }

  // EINTR: nothing happened; ETERM: the context ends; anything else is a bug: rethrown.
  void absorb(const zmq::error_t& e) {
    if (e.num() == ETERM) {
      terminated_ = true;
      return;
    }
    if (e.num() != EINTR) throw;
  }
  bool recv_quietly(zmq::socket_t& s, zmq::message_t& m) {
    try {
      return s.recv(m, zmq::recv_flags::dontwait).has_value();
    } catch (const zmq::error_t& e) {
      absorb(e);
      return false;
    }
  }

  bool take() {
    const bool routed = role_ == role::outbound && mode_ == mode::lossless;
    if (!recv_quietly(sock_, msg_)) return false;
    if (routed) {
      const auto* p = static_cast<const std::byte*>(msg_.data());
      peer_.assign(p, p + msg_.size());
      if (!msg_.more()) return refuse();  // a routing id alone: cannot happen from a DEALER
      if (!recv_quietly(sock_, msg_)) return false;  // the body of a message queued whole (atomic multipart)
    }
    if (msg_.more()) return refuse();
    return true;
  }
  bool refuse() {
    while (msg_.more() && recv_quietly(sock_, msg_)) {
    }
    ++refused_;
    return false;
  }

  zmq::socket_t sock_;
  zmq::socket_t monitor_;
  zmq::message_t msg_;
  std::vector<std::byte> peer_;
  std::uint64_t refused_ = 0;
  bool terminated_ = false;
  role role_;
  mode mode_;
};

}  // namespace ringwire::net
