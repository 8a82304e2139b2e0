// The collector's loop, the OTLP JSON encoding and the two exporters (span_collector/collector.hpp).
#include "span_collector/collector.hpp"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "ringwire/error.hpp"

namespace span_collector {

namespace {

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(2 * N, '0');
  for (std::size_t i = 0; i < N; ++i) {
    s[2 * i] = digits[b[i] >> 4];
    s[2 * i + 1] = digits[b[i] & 15];
  }
  return s;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

template <std::size_t N>
std::string_view cstr(const char (&a)[N]) {
  return {a, ::strnlen(a, N)};
}

// proto3 JSON: a double is a number, except the non-finite ones, which are strings.
nlohmann::json double_value(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

nlohmann::json any_value(const attribute& a) {
  switch (a.type) {
    case value_type::string: return {{"stringValue", cstr(a.value.s)}};
    case value_type::int64: return {{"intValue", std::to_string(a.value.i)}};  // int64: a string
    case value_type::float64: return {{"doubleValue", double_value(a.value.d)}};
    case value_type::boolean: return {{"boolValue", a.value.b}};
    case value_type::none: break;
  }
  return nlohmann::json::object();  // an empty AnyValue
}

nlohmann::json encode_span(const span& s) {
  nlohmann::json attrs = nlohmann::json::array();
  for (std::size_t i = 0; i < s.attribute_count && i < max_attributes; ++i)
    attrs.push_back({{"key", cstr(s.attributes[i].key)}, {"value", any_value(s.attributes[i])}});
  // The record lost text to its fixed sizes: say so, so a reader does not trust a cut name.
  if (s.flags != 0)
    attrs.push_back({{"key", "span_collector.truncated"}, {"value", {{"intValue", std::to_string(s.flags)}}}});
  nlohmann::json j = {{"traceId", hex(s.trace_id)},
                      {"spanId", hex(s.span_id)},
                      {"name", s.name_view()},
                      {"kind", static_cast<int>(s.kind)},
                      {"startTimeUnixNano", std::to_string(s.start_ns)},
                      {"endTimeUnixNano", std::to_string(s.end_ns)},
                      {"attributes", std::move(attrs)}};
  if (!all_zero(s.parent_id)) j["parentSpanId"] = hex(s.parent_id);
  if (s.dropped_attributes != 0) j["droppedAttributesCount"] = s.dropped_attributes;
  nlohmann::json status = {{"code", static_cast<int>(s.status)}};
  if (s.status_message[0] != '\0') status["message"] = cstr(s.status_message);
  j["status"] = std::move(status);
  return j;
}

class http_exporter final : public exporter {
 public:
  http_exporter(const std::string& url, std::chrono::milliseconds timeout) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (scheme == std::string::npos || url.compare(0, scheme, "http") != 0)
      throw ringwire::error(ringwire::errc::invalid_options, "endpoint must be http://host:port/path, got " + url);
    base_ = slash == std::string::npos ? url : url.substr(0, slash);
    path_ = slash == std::string::npos ? "/v1/traces" : url.substr(slash);
    client_ = std::make_unique<httplib::Client>(base_);
    if (!client_->is_valid()) throw ringwire::error(ringwire::errc::invalid_options, "bad endpoint " + url);
    const auto sec = static_cast<time_t>(timeout.count() / 1000);
    const auto usec = static_cast<time_t>(timeout.count() % 1000 * 1000);
    client_->set_connection_timeout(sec, usec);
    client_->set_read_timeout(sec, usec);
    client_->set_write_timeout(sec, usec);
  }

  export_result send(const std::string& body) override {
    const httplib::Result r = client_->Post(path_, body, "application/json");
    if (!r) return export_result::retry;  // refused, reset, timed out: the receiver may come back
    const int s = r->status;
    if (s >= 200 && s < 300) return export_result::ok;
    // OTLP/HTTP: 429, 502, 503, 504 are retryable; any other failure is not.
    if (s == 429 || s == 502 || s == 503 || s == 504) return export_result::retry;
    return export_result::fatal;
  }

 private:
  std::string base_, path_;
  std::unique_ptr<httplib::Client> client_;
};

class file_exporter final : public exporter {
 public:
  explicit file_exporter(const std::string& path) : out_(path, std::ios::app) {
    if (!out_) throw ringwire::error(ringwire::errc::invalid_options, "cannot open " + path + " for appending");
  }
  export_result send(const std::string& body) override {
    out_ << body << '\n';
    out_.flush();
    if (out_) return export_result::ok;
    out_.clear();  // a full disk may drain: try again later
    return export_result::retry;
  }

 private:
  std::ofstream out_;
};

}  // namespace

std::string encode_otlp_json(std::span<const span> spans, const std::string& service) {
  nlohmann::json list = nlohmann::json::array();
  for (const span& s : spans) list.push_back(encode_span(s));
  const nlohmann::json req = {
      {"resourceSpans",
       {{{"resource", {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", service}}}}}}}},
         {"scopeSpans",
          {{{"scope", {{"name", "ringwire.span_collector"}, {"version", "0.1.0"}}}, {"spans", std::move(list)}}}}}}}};
  // A name cut in the middle of a UTF-8 sequence must not make the request invalid JSON.
  return req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::unique_ptr<exporter> make_http_exporter(const std::string& url, std::chrono::milliseconds timeout) {
  return std::make_unique<http_exporter>(url, timeout);
}
std::unique_ptr<exporter> make_file_exporter(const std::string& path) { return std::make_unique<file_exporter>(path); }

collector::collector(std::vector<receiver> sources, exporter& out, collector_options opt)
    : sources_(std::move(sources)), out_(out), opt_(std::move(opt)) {
  // Each collector its own jitter sequence, so collectors that fail together do not retry
  // in step.
  std::random_device rd;
  jitter_ ^= static_cast<std::uint64_t>(rd()) << 32 | rd();
  if (opt_.batch == 0) throw ringwire::error(ringwire::errc::invalid_options, "batch size must be at least 1");
  if (opt_.backoff_initial.count() <= 0 || opt_.backoff_max < opt_.backoff_initial)
    throw ringwire::error(ringwire::errc::invalid_options,
                          "backoff must be positive and its cap at least the first delay");
  open_.reserve(opt_.batch);
}

std::size_t collector::drain() {
  std::size_t total = 0;
  // A bound per step, so a flood cannot starve exports and the age check.
  const std::size_t step_max = 4 * opt_.batch;
  for (bool progress = true; progress && total < step_max;) {
    progress = false;
    for (receiver& rx : sources_) {
      if (open_.empty()) open_since_ = clock::now();
      const std::size_t n = rx.consume_up_to(opt_.batch - open_.size(), [this](span& s) { open_.push_back(s); });
      total += n;
      progress |= n != 0;
      if (open_.size() == opt_.batch) seal();
    }
  }
  // relaxed (all counters): statistics for people and tests; nothing is read through them.
  counters_.received.fetch_add(total, std::memory_order_relaxed);
  return total;
}

void collector::seal() {
  if (open_.empty()) return;
  sealed b{encode_otlp_json(open_, opt_.service), open_.size()};
  open_.clear();
  // A batch larger than the whole budget can never be held: it alone is dropped (before
  // anything queued is evicted for it).
  if (b.body.size() > opt_.budget_bytes) {
    counters_.dropped.fetch_add(b.spans, std::memory_order_relaxed);
    return;
  }
  // The budget holds whole batches: drop the oldest until the new one fits.
  while (!queue_.empty() && queued_bytes_ + b.body.size() > opt_.budget_bytes) {
    counters_.dropped.fetch_add(queue_.front().spans, std::memory_order_relaxed);
    queued_bytes_ -= queue_.front().body.size();
    queue_.pop_front();
  }
  queued_bytes_ += b.body.size();
  queue_.push_back(std::move(b));
  counters_.queued_bytes.store(queued_bytes_, std::memory_order_relaxed);
}

bool collector::try_export(clock::time_point now) {
  if (queue_.empty() || now < next_attempt_) return false;
  sealed& b = queue_.front();
  const export_result r = out_.send(b.body);
  if (r == export_result::retry) {
    counters_.retries.fetch_add(1, std::memory_order_relaxed);
    backoff_ = backoff_.count() == 0 ? opt_.backoff_initial : std::min(2 * backoff_, opt_.backoff_max);
    // Full jitter over the upper half: retries of many collectors do not line up.
    jitter_ = jitter_ * 6364136223846793005ull + 1442695040888963407ull;
    const auto half = std::max<std::int64_t>(1, backoff_.count() / 2);
    next_attempt_ =
        clock::now() +
        std::chrono::milliseconds(half + static_cast<std::int64_t>((jitter_ >> 33) % static_cast<std::uint64_t>(half)));
    return false;
  }
  if (r == export_result::ok) {
    counters_.exported.fetch_add(b.spans, std::memory_order_relaxed);
    counters_.batches.fetch_add(1, std::memory_order_relaxed);
  } else {
    counters_.dropped.fetch_add(b.spans, std::memory_order_relaxed);
  }
  backoff_ = std::chrono::milliseconds(0);
  queued_bytes_ -= b.body.size();
  queue_.pop_front();
  counters_.queued_bytes.store(queued_bytes_, std::memory_order_relaxed);
  return true;
}

void collector::publish(std::span<std::atomic<std::uint64_t>* const> out) const {
  const std::atomic<std::uint64_t>* in[] = {&counters_.received, &counters_.exported, &counters_.dropped,
                                            &counters_.batches, &counters_.retries};
  for (std::size_t i = 0; i < out.size() && i < std::size(in); ++i)
    // relaxed: a snapshot for `ringwire stat`; nothing is read through it.
    out[i]->store(in[i]->load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void collector::run(std::stop_token stop, std::span<std::atomic<std::uint64_t>* const> published) {
  while (!stop.stop_requested()) {
    const std::size_t n = drain();
    const auto now = clock::now();
    if (!open_.empty() && now - open_since_ >= opt_.max_age) seal();
    const bool sent = try_export(now);
    publish(published);
    // Idle: the lanes are empty and nothing is due; 1 ms bounds both the added latency and
    // the cost of polling (a futex wait over several receivers would need one thread each).
    if (n == 0 && !sent) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Flush: everything queued in the lanes now, then every batch, retrying until the deadline
  // (which also bounds the drain, should producers still be sending).
  const auto deadline = clock::now() + opt_.shutdown_timeout;
  while (drain() != 0 && clock::now() < deadline) {
  }
  seal();
  while (!queue_.empty() && clock::now() < deadline)
    if (!try_export(clock::now())) std::this_thread::sleep_until(std::min(next_attempt_, deadline));
  for (const sealed& b : queue_) counters_.dropped.fetch_add(b.spans, std::memory_order_relaxed);
  queue_.clear();
  queued_bytes_ = 0;
  counters_.queued_bytes.store(0, std::memory_order_relaxed);
  publish(published);
}

}  // namespace span_collector
