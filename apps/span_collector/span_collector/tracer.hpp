// span_collector/tracer.hpp -- a small tracer whose hot path is one SPSC send.
//
// TL;DR
//   auto [reg, rx] = ringwire::mpsc::channel<span_collector::span>(4096, 16);
//   span_collector::tracer t(reg);                 // or tracer(seg) for a shm::mpsc segment
//   // in each instrumented thread:
//   auto h = t.make_handle();                      // owns one MPSC lane (allocates, once)
//   {
//     auto s = h.start("GET /orders");             // a child of the thread's open span, if any
//     s.set_attribute("http.status_code", 200);
//   }                                              // ends: one try_send of a fixed-size record
//
// A span is a fixed-size, trivially copyable record (names, keys and string values in
// fixed arrays, truncated and flagged), so the same record crosses threads and processes
// (shm::mpsc segments need trivially copyable elements) and nothing on the instrumented
// thread allocates or locks: start() reads the clock and draws ids from a per-handle
// generator, end() stamps the clock and try_sends. A full lane never blocks the instrumented
// thread: the span is counted in the handle's dropped() and forgotten.
#pragma once

#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ringwire/mpsc.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "ringwire/shm/segment.hpp"

namespace span_collector {

// OTLP Span.SpanKind, same numbers as the protobuf enum (the JSON encoding uses them).
enum class span_kind : std::uint8_t {
  unspecified = 0,
  internal = 1,
  server = 2,
  client = 3,
  producer = 4,
  consumer = 5
};
// OTLP Status.StatusCode.
enum class status_code : std::uint8_t { unset = 0, ok = 1, error = 2 };
enum class value_type : std::uint8_t { none = 0, string = 1, int64 = 2, float64 = 3, boolean = 4 };

// Fixed sizes: a span is 480 bytes (static_assert below).
inline constexpr std::size_t name_size = 64;
inline constexpr std::size_t key_size = 24;
inline constexpr std::size_t string_value_size = 32;
inline constexpr std::size_t max_attributes = 5;
inline constexpr std::size_t status_message_size = 40;

// Flags a reader uses to tell that the record lost something.
inline constexpr std::uint8_t name_truncated = 1;       // the name did not fit
inline constexpr std::uint8_t attribute_truncated = 2;  // a key or string value did not fit
inline constexpr std::uint8_t message_truncated = 4;    // the status message did not fit

struct attribute {
  char key[key_size];  // NUL-terminated
  value_type type;
  union {
    std::int64_t i;
    double d;
    bool b;
    char s[string_value_size];  // NUL-terminated
  } value;
};

struct span {
  std::array<std::uint8_t, 16> trace_id;
  std::array<std::uint8_t, 8> span_id;
  std::array<std::uint8_t, 8> parent_id;  // all zero: a root span
  std::uint64_t start_ns;                 // CLOCK_REALTIME, ns since the Unix epoch
  std::uint64_t end_ns;
  char name[name_size];  // NUL-terminated
  span_kind kind;
  status_code status;
  std::uint8_t flags;                // name_truncated | attribute_truncated | message_truncated
  std::uint8_t attribute_count;      // used entries of attributes
  std::uint32_t dropped_attributes;  // set_attribute calls beyond max_attributes
  attribute attributes[max_attributes];
  char status_message[status_message_size];  // NUL-terminated

  [[nodiscard]] std::string_view name_view() const noexcept { return {name, ::strnlen(name, name_size)}; }
};
static_assert(std::is_trivially_copyable_v<span>, "a span crosses processes as bytes");
static_assert(sizeof(span) == 480, "the documented record size");

// Copies src into dst[N] NUL-terminated; true when it was cut.
template <std::size_t N>
bool copy_truncated(char (&dst)[N], std::string_view src) noexcept {
  const std::size_t n = src.size() < N ? src.size() : N - 1;
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
  return n != src.size();
}

// CLOCK_REALTIME in ns: a vDSO call, no syscall, what OTLP's *UnixNano fields want.
inline std::uint64_t now_unix_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

using lane = ringwire::mpsc::sender<span>;

class handle;

// An open span: set attributes and status, then it ends (is stamped and sent) on
// destruction or end(). Lives on the instrumented thread's stack.
class scoped_span {
 public:
  // Not movable: the handle points at this record as the thread's open span (start()
  // returns a prvalue, so `auto s = h.start(...)` builds it in place).
  scoped_span(scoped_span&&) = delete;
  scoped_span& operator=(scoped_span&&) = delete;
  ~scoped_span() { end(); }

  void set_attribute(std::string_view key, std::string_view v) noexcept {
    if (attribute* a = slot(key)) {
      a->type = value_type::string;
      if (copy_truncated(a->value.s, v)) rec_.flags |= attribute_truncated;
    }
  }
  void set_attribute(std::string_view key, const char* v) noexcept { set_attribute(key, std::string_view(v)); }
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) void set_attribute(std::string_view key, I v) noexcept {
    if (attribute* a = slot(key)) {
      a->type = value_type::int64;
      a->value.i = static_cast<std::int64_t>(v);
    }
  }
  void set_attribute(std::string_view key, double v) noexcept {
    if (attribute* a = slot(key)) {
      a->type = value_type::float64;
      a->value.d = v;
    }
  }
  void set_attribute(std::string_view key, bool v) noexcept {
    if (attribute* a = slot(key)) {
      a->type = value_type::boolean;
      a->value.b = v;
    }
  }
  void set_status(status_code c, std::string_view message = {}) noexcept {
    rec_.status = c;
    if (copy_truncated(rec_.status_message, message)) rec_.flags |= message_truncated;
  }
  void set_kind(span_kind k) noexcept { rec_.kind = k; }

  [[nodiscard]] const span& record() const noexcept { return rec_; }

  // Stamps the end time and sends the record (once; later calls do nothing).
  inline void end() noexcept;

 private:
  friend class handle;
  scoped_span(handle* h, std::string_view name, span_kind kind) noexcept;

  attribute* slot(std::string_view key) noexcept {
    if (rec_.attribute_count == max_attributes) {
      ++rec_.dropped_attributes;
      return nullptr;
    }
    attribute* a = &rec_.attributes[rec_.attribute_count++];
    if (copy_truncated(a->key, key)) rec_.flags |= attribute_truncated;
    return a;
  }

  handle* h_;
  span rec_;
  // The next open span outward on this thread (the handle's chain of open spans, innermost
  // first). Kept current by end(): a span that ends unlinks itself wherever it is.
  scoped_span* outer_;
};

// One thread's tracer: owns one lane of the collector's MPSC channel (in-process or in a
// segment) and the thread's open-span stack. Not shared between threads; move-only.
class handle {
 public:
  explicit handle(lane tx) : tx_(std::move(tx)) {
    std::random_device rd;  // seeds only: one read per handle, never on the hot path
    rng_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) ^ static_cast<std::uint64_t>(::gettid());
    if (rng_ == 0) rng_ = 0x9E3779B97F4A7C15ull;
  }
  // A move takes the open spans along (they re-point at the new handle). Assigning over a
  // handle abandons its own open spans: they end without being sent.
  handle(handle&& o) noexcept
      : tx_(std::move(o.tx_)), rng_(o.rng_), open_(std::exchange(o.open_, nullptr)), sent_(o.sent_),
        dropped_(o.dropped_) {
    adopt_open_spans();
  }
  handle& operator=(handle&& o) noexcept {
    if (this != &o) {
      abandon_open_spans();
      tx_ = std::move(o.tx_);
      rng_ = o.rng_;
      open_ = std::exchange(o.open_, nullptr);
      sent_ = o.sent_;
      dropped_ = o.dropped_;
      adopt_open_spans();
    }
    return *this;
  }
  ~handle() { abandon_open_spans(); }

  // A span named `name`, a child of this thread's innermost open span (a new trace when
  // none is open). No allocation, no lock, no syscall.
  [[nodiscard]] scoped_span start(std::string_view name, span_kind kind = span_kind::internal) noexcept {
    return scoped_span(this, name, kind);
  }

  [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }
  // Spans lost because the lane was full (the collector is behind) or closed.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  friend class scoped_span;

  // xorshift64*: ids need to be unique, not secret.
  std::uint64_t next_id() noexcept {
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545F4914F6CDD1Dull;
  }

  void finish(const span& s) noexcept {
    if (tx_.try_send(s) == ringwire::status::ok) ++sent_;
    else ++dropped_;
  }

  inline void adopt_open_spans() noexcept;
  inline void abandon_open_spans() noexcept;

  lane tx_;
  std::uint64_t rng_ = 0;
  scoped_span* open_ = nullptr;  // innermost open span of this thread (chain: outer_)
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
};

inline scoped_span::scoped_span(handle* h, std::string_view name, span_kind kind) noexcept
    : h_(h), rec_{}, outer_(h->open_) {
  if (outer_ != nullptr) {
    rec_.trace_id = outer_->rec_.trace_id;
    rec_.parent_id = outer_->rec_.span_id;
  } else {
    const std::uint64_t a = h->next_id(), b = h->next_id();
    std::memcpy(rec_.trace_id.data(), &a, 8);
    std::memcpy(rec_.trace_id.data() + 8, &b, 8);
  }
  const std::uint64_t id = h->next_id();
  std::memcpy(rec_.span_id.data(), &id, 8);
  if (copy_truncated(rec_.name, name)) rec_.flags |= name_truncated;
  rec_.kind = kind;
  h->open_ = this;
  rec_.start_ns = now_unix_ns();
}

inline void scoped_span::end() noexcept {
  if (h_ == nullptr) return;
  rec_.end_ns = now_unix_ns();
  // Unlink from the chain of open spans: usually the innermost (spans end innermost first);
  // one ended early (end() on an outer span, or interleaved spans) is found by a walk from
  // the innermost, so no open span ever points at an ended one, and spans started later
  // take the innermost span still open as their parent.
  if (h_->open_ == this) {
    h_->open_ = outer_;
  } else {
    for (scoped_span* s = h_->open_; s != nullptr; s = s->outer_) {
      if (s->outer_ == this) {
        s->outer_ = outer_;
        break;
      }
    }
  }
  outer_ = nullptr;
  h_->finish(rec_);
  h_ = nullptr;
}

inline void handle::adopt_open_spans() noexcept {
  for (scoped_span* s = open_; s != nullptr; s = s->outer_) s->h_ = this;
}
inline void handle::abandon_open_spans() noexcept {
  for (scoped_span* s = std::exchange(open_, nullptr); s != nullptr;) {
    scoped_span* const next = std::exchange(s->outer_, nullptr);
    s->h_ = nullptr;  // its end() does nothing: the lane is gone
    s = next;
  }
}

// Where handles get their lanes: an in-process channel's registrar, or a shm::mpsc segment
// (each handle attaches a lane of it: threads of any number of processes, up to its lanes).
class tracer {
 public:
  explicit tracer(ringwire::mpsc::registrar<span> reg) : reg_(std::move(reg)) {}
  // Borrows the segment, which must outlive the tracer (its handles hold their own
  // references to the mapping).
  explicit tracer(const ringwire::shm::segment& seg) : seg_(&seg) {}

  // A handle for the calling thread. Throws ringwire::error(too_many_producers) when every
  // lane is taken, as the channel does.
  [[nodiscard]] handle make_handle() {
    if (seg_ != nullptr) return handle(ringwire::shm::mpsc::attach_sender<span>(*seg_));
    return handle(reg_.make_sender());
  }

 private:
  ringwire::mpsc::registrar<span> reg_{};
  const ringwire::shm::segment* seg_ = nullptr;
};

// The segment spec a collector creates and producer processes open.
inline ringwire::shm::channel_spec segment_spec(std::uint64_t lane_capacity, std::uint32_t lanes) {
  return ringwire::shm::mpsc_spec<span>(lane_capacity, lanes);
}

}  // namespace span_collector
