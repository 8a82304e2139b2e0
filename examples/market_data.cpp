// Market data over a topic bus: one feed thread publishes quotes for four instruments, each
// on its own topic; three desks subscribe. Every quote carries its topic's sequence number
// and every subscriber checks it, so a gap is seen twice: by the subscriber's own check
// and by the channel's lag report (status::lagged with missed()). The topics are lossy --
// the feed never waits -- so the deliberately slow "logger" desk falls behind and loses
// quotes; the example passes only if every gap a subscriber saw is one the channel
// reported, no subscriber saw a gap the channel did not report, and every subscriber got
// the last quote of every topic.
//
//   build/release/examples/market_data [quotes per topic]
#include <ringwire/bus.hpp>

#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <string>
#include <thread>
#include <vector>

struct quote {  // a plain struct: trivially copyable, copied through the seqlock slots
  std::uint64_t seq;  // per topic, from 1
  std::uint32_t instrument;
  std::uint32_t size;
  double bid;
  double ask;
};

namespace {

constexpr std::array<const char*, 4> instruments = {"EURUSD", "GBPUSD", "USDJPY", "XAUUSD"};

// One subscription as a desk sees it: its own sequence check against the channel's word.
struct feed_view {
  const char* topic;
  ringwire::topic_subscriber<quote> sub;
  std::uint64_t expected = 1;     // the next sequence number this desk should see
  std::uint64_t received = 0;
  std::uint64_t gaps = 0;         // quotes missing by the desk's own sequence check
  std::uint64_t lag_reports = 0;  // quotes the channel said were lost (sum of missed())
  std::uint64_t misordered = 0;   // a sequence number going backwards: never expected
  bool closed = false;

  // Handles one receive outcome; returns false when nothing was there.
  bool take(ringwire::recv_result<quote> r) {
    if (r) {
      const quote& q = *r;
      if (q.seq > expected) gaps += q.seq - expected;
      if (q.seq < expected) ++misordered;
      expected = q.seq + 1;
      ++received;
      return true;
    }
    switch (r.status()) {
      case ringwire::status::lagged: lag_reports += r.missed(); return true;
      case ringwire::status::closed: closed = true; return false;
      default: return false;  // empty
    }
  }
};

struct desk {
  const char* name;
  std::vector<feed_view> feeds;
  std::chrono::microseconds pause{0};  // a slow consumer: pauses every 256 quotes

  void run() {
    std::uint64_t since_pause = 0;
    for (;;) {
      bool any = false, all_closed = true;
      for (auto& f : feeds) {
        if (f.closed) continue;
        all_closed = false;
        if (f.take(f.sub.try_recv())) {
          any = true;
          if (pause.count() != 0 && ++since_pause % 256 == 0) std::this_thread::sleep_for(pause);
        }
      }
      if (all_closed) return;
      if (!any) std::this_thread::yield();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t per_topic = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 50'000;

  ringwire::topic_options defaults;
  defaults.capacity = 512;  // lossy by default: the feed never waits for a slow desk
  ringwire::bus<quote> bus(defaults);

  // The desks subscribe before the feed starts: subscribing makes each topic on first
  // use, and the feed's publisher() then takes that very channel, so sequence 1 is the
  // first thing every desk can see.
  std::array<desk, 3> desks = {desk{"strategy", {}, {}}, desk{"risk", {}, {}},
                               desk{"logger", {}, std::chrono::microseconds(500)}};
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    desks[0].feeds.push_back({instruments[i], bus.subscribe(instruments[i]).value()});
    if (i % 2 == 0) desks[1].feeds.push_back({instruments[i], bus.subscribe(instruments[i]).value()});
    desks[2].feeds.push_back({instruments[i], bus.subscribe(instruments[i]).value()});
  }

  std::vector<ringwire::topic_publisher<quote>> pubs;
  for (const char* name : instruments) pubs.push_back(bus.publisher(name).value());
  // A second feed handler for a topic that already has one is refused, not interleaved.
  auto duplicate = bus.publisher(instruments[0]);
  if (duplicate || duplicate.error().code != ringwire::errc::publisher_exists) {
    std::fprintf(stderr, "FAIL: a second publisher for %s was not refused\n", instruments[0]);
    return 1;
  }
  std::printf("second feed for %s refused: %s\n", instruments[0], duplicate.error().message.c_str());
  for (const auto& t : bus.topics())
    std::printf("topic %-7s capacity %zu, generation %" PRIu64 ", publisher %s, %u subscribers\n", t.name.c_str(),
                t.options.capacity, t.generation, t.publisher_live ? "live" : "none", t.subscribers);

  const auto start = std::chrono::steady_clock::now();
  {
    std::latch running(desks.size() + 1);  // the feed starts once every desk is polling
    std::vector<std::jthread> threads;     // declared after the latch: joined before it dies
    for (auto& d : desks)
      threads.emplace_back([&d, &running] {
        running.count_down();
        d.run();
      });
    threads.emplace_back([&pubs, per_topic, &running] {
      running.arrive_and_wait();
      // Bursts of 32 quotes per instrument, then a short quiet spell, as a feed arrives.
      for (std::uint64_t seq = 1; seq <= per_topic; ++seq) {
        for (std::uint32_t i = 0; i < pubs.size(); ++i)
          pubs[i].send(quote{seq, i, 100, 1.0 + i + static_cast<double>(seq % 100) * 1e-4,
                                1.0002 + i + static_cast<double>(seq % 100) * 1e-4});
        if (seq % 32 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      for (auto& p : pubs) p.close();  // the desks drain, then see closed
    });
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  bool ok = true;
  std::uint64_t total_gaps = 0;
  for (const auto& d : desks) {
    for (const auto& f : d.feeds) {
      const bool explained = f.gaps == f.lag_reports;
      const bool complete = f.expected == per_topic + 1 && f.received + f.gaps == per_topic;
      std::printf("%-8s %-7s received %7" PRIu64 "  gaps (own check) %6" PRIu64 "  lag reported %6" PRIu64
                  "  %s\n",
                  d.name, f.topic, f.received, f.gaps, f.lag_reports,
                  explained && complete && f.misordered == 0 ? "ok" : "MISMATCH");
      if (!explained || !complete || f.misordered != 0) ok = false;
      total_gaps += f.gaps;
    }
  }
  std::printf("%" PRIu64 " quotes on %zu topics in %.3f s; slow desks lost %" PRIu64 " quotes\n",
              per_topic * instruments.size(), instruments.size(), secs, total_gaps);
  if (!ok) {
    std::fprintf(stderr, "FAIL: a subscriber saw a gap the channel did not report, or missed the end\n");
    return 1;
  }
  std::printf("every gap a subscriber saw was reported by the channel, and every desk got the last quote\n");
  return 0;
}
