// A market-data hand-off: a feed thread publishes quotes in batches straight into the
// ring (zero-copy reserve/commit), a strategy thread consumes them in place and keeps a
// running mid-price per instrument. Both sides park when idle, so neither burns a core
// while the feed is quiet; a monitor reads the channel's counters from the main thread.
//
//   build/release/examples/spsc_quotes [messages]
#include <ringwire/ringwire.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

struct quote {
  std::uint64_t seq;
  std::uint32_t instrument;
  std::uint32_t bid_ticks;
  std::uint32_t ask_ticks;
  std::uint32_t size;
};

int main(int argc, char** argv) {
  const std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  constexpr std::uint32_t instruments = 16;

  ringwire::spsc::options opt;
  opt.metrics = true;  // count full/empty events and parks for the monitor below
  auto [tx, rx] = ringwire::spsc::channel<quote>(4096, opt);
  auto mon = tx.make_monitor();

  std::jthread feed([tx = std::move(tx), total]() mutable {
    std::uint64_t seq = 0;
    while (seq < total) {
      auto slots = tx.reserve(256);  // contiguous raw slots in the ring
      if (slots.status() == ringwire::status::closed) return;
      if (slots.empty()) {           // full: let the strategy catch up (parks if needed)
        std::this_thread::yield();
        continue;
      }
      std::size_t written = 0;
      for (auto& q : slots.span()) {
        if (seq == total) break;
        const auto inst = static_cast<std::uint32_t>(seq % instruments);
        q = quote{seq, inst, 10'000 + inst, 10'002 + inst, 100};
        ++seq;
        ++written;
      }
      slots.commit(written);  // one index store publishes the whole batch
    }
  });  // the feed's sender is destroyed when it returns: the strategy then sees closed

  std::array<double, instruments> mid{};
  std::uint64_t received = 0;
  std::uint64_t expect = 0;
  for (;;) {
    if (rx.wait_readable() != ringwire::status::ok) break;  // closed and drained
    received += rx.consume([&](const quote& q) {
      if (q.seq != expect) {
        std::fprintf(stderr, "out of order: got %llu, expected %llu\n", static_cast<unsigned long long>(q.seq),
                     static_cast<unsigned long long>(expect));
        std::exit(1);
      }
      ++expect;
      mid[q.instrument] = (q.bid_ticks + q.ask_ticks) / 2.0;
    });
  }

  const auto s = mon.snapshot();
  std::printf("received %llu quotes in order; mid[0] = %.1f ticks\n", static_cast<unsigned long long>(received), mid[0]);
  std::printf("channel: capacity %llu, sent %llu, high water %llu, full events %llu, consumer parks %llu\n",
              static_cast<unsigned long long>(s.capacity), static_cast<unsigned long long>(s.sent),
              static_cast<unsigned long long>(s.high_water), static_cast<unsigned long long>(s.full_events),
              static_cast<unsigned long long>(s.receiver_parks));
  return received == total ? 0 : 1;
}
