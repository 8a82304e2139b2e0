// A downstream use of ringwire::net (the ZeroMQ bridge): a frame round trip through a
// PUB/SUB pair of links in one process, built against the installed or added package.
#include <chrono>
#include <cstdio>
#include <vector>

#include "ringwire/net/zmq_link.hpp"
#include "ringwire/net/frame.hpp"

int main() {
  namespace net = ringwire::net;
  zmq::context_t ctx;
  net::zmq_link pub(ctx, net::zmq_link::role::outbound, net::mode::lossy, {.address = "inproc://consumer"});
  net::zmq_link sub(ctx, net::zmq_link::role::inbound, net::mode::lossy, {.address = "inproc://consumer", .bind = false});
  std::vector<std::byte> buf(256);
  net::frame_writer w(buf);
  w.begin(1, 7);
  const std::byte payload[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
  w.add(1, 0, payload);
  const auto frame = w.finish();
  for (int i = 0; i < 200; ++i) {  // PUB/SUB: send until the subscription has arrived
    pub.send(frame);
    if (sub.receive(std::chrono::milliseconds(10))) {
      const auto r = net::decode(sub.message(), 16);
      return r && r.frame.header().count == 1 ? 0 : 1;
    }
  }
  std::puts("no frame arrived");
  return 1;
}
