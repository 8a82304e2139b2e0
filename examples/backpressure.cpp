// Backpressure on a lossless topic: an order-entry thread publishes as fast as it can to a
// topic declared lossless with a small ring, and a slow audit consumer reads it. Lossless
// means the publisher is held back instead of overwriting: try_send says `full` while
// the slowest subscriber is a whole ring behind, and send() then waits (parks) until
// that subscriber reads. The example measures how often the publisher was refused and how
// long it waited, and passes only if it really was held back and the slow consumer (and a
// fast one beside it) received every message, in order, with nothing missed.
//
//   build/release/examples/backpressure [messages]
#include <ringwire/bus.hpp>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

struct order {
  std::uint64_t seq;  // from 1
  std::uint32_t account;
  std::uint32_t quantity;
  double price;
};

namespace {

struct consumer_report {
  std::uint64_t received = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t missed = 0;
  ringwire::status end = ringwire::status::ok;
};

// Receives until the topic closes, checking the sequence; pauses every `every` messages.
consumer_report consume(ringwire::topic_subscriber<order>& sub, std::uint64_t every, std::chrono::microseconds pause) {
  consumer_report rep;
  std::uint64_t expected = 1;
  for (;;) {
    auto r = sub.recv_for(std::chrono::seconds(30));  // a bound that only turns a bug into a failure
    if (!r) {
      rep.end = r.status();
      break;
    }
    if (r->seq != expected) ++rep.out_of_order;
    expected = r->seq + 1;
    ++rep.received;
    if (every != 0 && rep.received % every == 0) std::this_thread::sleep_for(pause);
  }
  rep.missed = sub.missed();
  return rep;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000;

  ringwire::bus<order> bus;  // default topics are lossy; "orders" is declared lossless
  ringwire::topic_options lossless;
  lossless.capacity = 64;
  lossless.channel.policy = ringwire::broadcast::policy::lossless;
  bus.create("orders", lossless).value();

  auto slow = bus.subscribe("orders").value();  // subscribed before the first publish
  auto fast = bus.subscribe("orders").value();

  std::uint64_t refused = 0;  // try_send said full
  std::chrono::nanoseconds waited{0}, longest{0};
  consumer_report slow_rep, fast_rep;
  const auto start = std::chrono::steady_clock::now();
  {
    std::jthread slow_thread([&] { slow_rep = consume(slow, 100, std::chrono::microseconds(1000)); });
    std::jthread fast_thread([&] { fast_rep = consume(fast, 0, {}); });
    auto pub = bus.publisher("orders").value();
    for (std::uint64_t seq = 1; seq <= total; ++seq) {
      const order o{seq, static_cast<std::uint32_t>(seq % 97), 10, 100.0 + static_cast<double>(seq % 50)};
      const auto st = pub.try_send(o);
      if (st == ringwire::status::ok) continue;
      if (st != ringwire::status::full) {
        std::fprintf(stderr, "FAIL: try_send said %s\n", ringwire::to_string(st));
        return 1;
      }
      ++refused;  // held back: wait until the slowest subscriber makes room
      const auto t0 = std::chrono::steady_clock::now();
      const auto waited_st = pub.send_for(o, std::chrono::seconds(30));
      const auto dt = std::chrono::steady_clock::now() - t0;
      if (waited_st != ringwire::status::ok) {
        std::fprintf(stderr, "FAIL: send_for said %s\n", ringwire::to_string(waited_st));
        return 1;
      }
      waited += dt;
      if (dt > longest) longest = dt;
    }
    pub.close();  // the consumers drain what is left, then see closed
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const auto ms = [](std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("published %" PRIu64 " orders through a lossless topic of capacity %zu in %.3f s\n", total,
              lossless.capacity, secs);
  std::printf("publisher held back %" PRIu64 " times (try_send: full); waited %.1f ms in all, %.3f ms at most\n",
              refused, ms(waited), ms(longest));
  std::printf("slow consumer: received %" PRIu64 ", out of order %" PRIu64 ", missed %" PRIu64 ", ended %s\n",
              slow_rep.received, slow_rep.out_of_order, slow_rep.missed, ringwire::to_string(slow_rep.end));
  std::printf("fast consumer: received %" PRIu64 ", out of order %" PRIu64 ", missed %" PRIu64 ", ended %s\n",
              fast_rep.received, fast_rep.out_of_order, fast_rep.missed, ringwire::to_string(fast_rep.end));

  bool ok = true;
  for (const auto* rep : {&slow_rep, &fast_rep})
    ok = ok && rep->received == total && rep->out_of_order == 0 && rep->missed == 0 &&
         rep->end == ringwire::status::closed;
  if (!ok) {
    std::fprintf(stderr, "FAIL: a consumer did not receive every order in order\n");
    return 1;
  }
  if (refused == 0) {
    std::fprintf(stderr, "FAIL: the publisher was never held back by the slow consumer\n");
    return 1;
  }
  std::printf("lossless: every order delivered in order; the slow consumer set the pace\n");
  return 0;
}
