// logging_pipeline -- many threads write structured log records through MPSC lanes to one
// writer thread, which batches them into a file.
//
// Each worker registers its own sender (one lane each, so a worker never contends with
// another) and logs records without blocking: when its lane is full the record is dropped
// and counted, as a logger on a latency-critical thread should. The writer takes up to 256
// records per consume_up_to call (the scan is fair, so a chatty worker cannot starve a
// quiet one), formats them into a buffer and writes the buffer with one fwrite. At the end
// it prints throughput and drop counts, re-reads the file and checks that it holds exactly
// the records that were not dropped, each worker's in the order it logged them. Exit code 0
// only when every count matches. The temporary file is removed.
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "ringwire/mpsc.hpp"

namespace {

enum class level : std::uint8_t { debug, info, warn, error };

struct log_record {
  std::uint64_t timestamp_ns;
  std::uint32_t worker;
  std::uint32_t seq;  // per worker
  level lvl;
  std::array<char, 32> message;
};

const char* name(level l) {
  switch (l) {
    case level::debug: return "DEBUG";
    case level::info: return "INFO";
    case level::warn: return "WARN";
    case level::error: return "ERROR";
  }
  return "?";
}

}  // namespace

int main() {
  constexpr std::uint32_t workers = 6;
  constexpr std::uint32_t records_per_worker = 100'000;
  char path[] = "/tmp/ringwire_logging_pipeline_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    std::perror("mkstemp");
    return 1;
  }
  FILE* out = fdopen(fd, "w");

  auto [reg, rx] = ringwire::mpsc::channel<log_record>(/*lane_capacity=*/4096, /*max_producers=*/workers);
  std::array<std::uint64_t, workers> dropped{};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::jthread> pool;
  for (std::uint32_t w = 0; w < workers; ++w) {
    pool.emplace_back([tx = reg.make_sender(), w, &dropped]() mutable {
      for (std::uint32_t i = 0; i < records_per_worker; ++i) {
        log_record r{static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()), w, i,
                     static_cast<level>(i % 4), {}};
        std::snprintf(r.message.data(), r.message.size(), "request %u handled", i);
        if (tx.try_send(r) != ringwire::status::ok) ++dropped[w];  // never block the worker
        if (i % 1024 == 0) std::this_thread::yield();              // a worker does other work too
      }
    });                // the sender leaves with the thread: its lane drains, then is recycled
  }
  reg.close();  // every producer is registered: the stream ends when they are all done

  std::uint64_t written = 0;
  std::uint64_t batches = 0;
  std::string buf;
  buf.reserve(256 * 96);
  for (;;) {
    buf.clear();
    const std::size_t n = rx.consume_up_to(256, [&buf](const log_record& r) {
      char line[128];
      const int len = std::snprintf(line, sizeof line, "%" PRIu64 " w%u #%u %s %s\n", r.timestamp_ns, r.worker,
                                    r.seq, name(r.lvl), r.message.data());
      buf.append(line, static_cast<std::size_t>(len));
    });
    if (n != 0) {
      std::fwrite(buf.data(), 1, buf.size(), out);
      written += n;
      ++batches;
    } else if (rx.wait_readable() == ringwire::status::closed) {
      break;  // all workers gone, every lane drained
    }
  }
  std::fclose(out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  pool.clear();

  std::uint64_t total_dropped = 0;
  for (auto d : dropped) total_dropped += d;
  const std::uint64_t logged = std::uint64_t{workers} * records_per_worker;
  std::printf("logging_pipeline: %u workers, %" PRIu64 " records logged, %" PRIu64 " written in %" PRIu64
              " batches, %" PRIu64 " dropped (lanes full), %.2f M records/s written\n",
              workers, logged, written, batches, total_dropped, static_cast<double>(written) / secs / 1e6);
  for (std::uint32_t w = 0; w < workers; ++w)
    std::printf("  worker %u: dropped %" PRIu64 "\n", w, dropped[w]);

  // Re-read the file: exactly the records not dropped, each worker's in increasing order.
  FILE* in = std::fopen(path, "r");
  std::array<std::int64_t, workers> last{};
  last.fill(-1);
  std::uint64_t lines = 0;
  bool ordered = true;
  char line[160];
  while (in != nullptr && std::fgets(line, sizeof line, in) != nullptr) {
    unsigned w = 0;
    unsigned seq = 0;
    if (std::sscanf(line, "%*u w%u #%u", &w, &seq) != 2 || w >= workers || static_cast<std::int64_t>(seq) <= last[w]) {
      ordered = false;
      continue;
    }
    last[w] = seq;
    ++lines;
  }
  if (in != nullptr) std::fclose(in);
  std::remove(path);
  const bool ok = ordered && lines == written && written + total_dropped == logged;
  std::printf("file check: %" PRIu64 " lines, per-worker order %s -> %s\n", lines, ordered ? "kept" : "BROKEN",
              ok ? "OK" : "MISMATCH");
  return ok ? 0 : 1;
}
