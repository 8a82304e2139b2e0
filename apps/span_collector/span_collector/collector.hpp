// span_collector/collector.hpp -- drains MPSC receivers of spans, batches them by size and
// age, encodes each batch as an OTLP/HTTP JSON ExportTraceServiceRequest and exports it
// (HTTP POST or one line of a file), retrying with capped exponential backoff and jitter
// inside a bounded memory budget: when the exporter stays down, the oldest sealed batches
// are dropped and counted, never an unbounded queue. run() returns after a stop request
// once everything drained has been exported or counted dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "span_collector/tracer.hpp"

namespace span_collector {

// ---- OTLP JSON ----------------------------------------------------------------------------
// The OTLP JSON encoding of one ExportTraceServiceRequest holding `spans` under one
// resource (service.name = service) and one scope: lowerCamelCase field names, trace and
// span ids as lowercase hex, 64-bit integers (times, intValue) as decimal strings, enums as
// integers.
std::string encode_otlp_json(std::span<const span> spans, const std::string& service);

// ---- exporters ------------------------------------------------------------------------------
enum class export_result { ok, retry, fatal };

class exporter {
 public:
  virtual ~exporter() = default;
  // Delivers one encoded request. retry: try the same body again later (network error,
  // 429, 502-504); fatal: never retry (other 4xx, 5xx): the batch is dropped.
  virtual export_result send(const std::string& body) = 0;
};

// POSTs to an OTLP/HTTP endpoint (http://host:port/path; no TLS).
std::unique_ptr<exporter> make_http_exporter(const std::string& url, std::chrono::milliseconds timeout);
// Appends one request per line to a file.
std::unique_ptr<exporter> make_file_exporter(const std::string& path);

// ---- the collector -----------------------------------------------------------------------------
struct collector_options {
  std::size_t batch = 512;                           // spans per request, at most
  std::chrono::milliseconds max_age{200};            // a partial batch is sealed this old
  std::size_t budget_bytes = 64u << 20;              // encoded batches waiting for export
  std::chrono::milliseconds backoff_initial{50};     // first retry delay
  std::chrono::milliseconds backoff_max{5000};       // cap of the doubling
  std::chrono::milliseconds shutdown_timeout{5000};  // how long the final flush may retry
  std::string service = "span_collector";            // resource service.name
};

// Every counter is a count of spans except batches and retries.
struct collector_counters {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> exported{0};
  std::atomic<std::uint64_t> dropped{0};  // over budget, refused (fatal) or not flushed in time
  std::atomic<std::uint64_t> batches{0};  // requests delivered
  std::atomic<std::uint64_t> retries{0};  // failed attempts that were retried
  std::atomic<std::uint64_t> queued_bytes{0};
};

class collector {
 public:
  using receiver = ringwire::mpsc::receiver<span>;

  collector(std::vector<receiver> sources, exporter& out, collector_options opt);

  // Drains, batches and exports until `stop` is requested (or every receiver is closed),
  // then flushes: everything drained is exported or counted dropped before it returns.
  // `published` (optional) gets the counters after every step, e.g. a segment's user
  // counters (received, exported, dropped, batches, retries), so `ringwire stat` shows them.
  void run(std::stop_token stop, std::span<std::atomic<std::uint64_t>* const> published = {});

  [[nodiscard]] const collector_counters& counters() const noexcept { return counters_; }

 private:
  using clock = std::chrono::steady_clock;
  struct sealed {
    std::string body;
    std::uint64_t spans;
  };

  std::size_t drain();                     // into open_; seals full batches
  void seal();                             // open_ -> queue_, enforcing the budget
  bool try_export(clock::time_point now);  // the oldest sealed batch, if its time has come
  void publish(std::span<std::atomic<std::uint64_t>* const> out) const;

  std::vector<receiver> sources_;
  exporter& out_;
  collector_options opt_;
  std::vector<span> open_;
  clock::time_point open_since_{};
  std::deque<sealed> queue_;
  std::size_t queued_bytes_ = 0;
  std::chrono::milliseconds backoff_{0};
  clock::time_point next_attempt_{};
  std::uint64_t jitter_ = 0x853C49E6748FEA9Bull;
  collector_counters counters_;
};

}  // namespace span_collector
