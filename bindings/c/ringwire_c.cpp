// bindings/c/ringwire_c.cpp -- the C API over the C++ endpoints (ringwire_c.h).
// Every entry point catches everything: no exception crosses into C.
#include "ringwire/ringwire_c.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <new>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm.hpp"

namespace {

namespace shm = ringwire::shm;
namespace bb = ringwire::byte_broadcast;

thread_local rw_errc last_errc = RW_E_NONE;
thread_local std::string last_message;

rw_errc to_c(ringwire::errc e) noexcept {
  switch (e) {
    case ringwire::errc::invalid_capacity: return RW_E_INVALID_CAPACITY;
    case ringwire::errc::capacity_too_large: return RW_E_CAPACITY_TOO_LARGE;
    case ringwire::errc::already_split: return RW_E_ALREADY_SPLIT;
    case ringwire::errc::invalid_options: return RW_E_INVALID_OPTIONS;
    case ringwire::errc::too_many_subscribers: return RW_E_TOO_MANY_SUBSCRIBERS;
    case ringwire::errc::invalid_topic: return RW_E_INVALID_TOPIC;
    case ringwire::errc::publisher_exists: return RW_E_PUBLISHER_EXISTS;
    case ringwire::errc::type_mismatch: return RW_E_TYPE_MISMATCH;
    case ringwire::errc::topic_conflict: return RW_E_TOPIC_CONFLICT;
    case ringwire::errc::too_many_producers: return RW_E_TOO_MANY_PRODUCERS;
    case ringwire::errc::shm_exists: return RW_E_SHM_EXISTS;
    case ringwire::errc::shm_not_found: return RW_E_SHM_NOT_FOUND;
    case ringwire::errc::shm_permission_denied: return RW_E_SHM_PERMISSION_DENIED;
    case ringwire::errc::shm_not_ringwire: return RW_E_SHM_NOT_RINGWIRE;
    case ringwire::errc::shm_version_mismatch: return RW_E_SHM_VERSION_MISMATCH;
    case ringwire::errc::shm_kind_mismatch: return RW_E_SHM_KIND_MISMATCH;
    case ringwire::errc::shm_type_mismatch: return RW_E_SHM_TYPE_MISMATCH;
    case ringwire::errc::shm_capacity_mismatch: return RW_E_SHM_CAPACITY_MISMATCH;
    case ringwire::errc::shm_truncated: return RW_E_SHM_TRUNCATED;
    case ringwire::errc::shm_initialising: return RW_E_SHM_INITIALISING;
    case ringwire::errc::shm_corrupt: return RW_E_SHM_CORRUPT;
    case ringwire::errc::shm_already_attached: return RW_E_SHM_ALREADY_ATTACHED;
    case ringwire::errc::shm_system_error: return RW_E_SHM_SYSTEM_ERROR;
    case ringwire::errc::message_too_large: return RW_E_MESSAGE_TOO_LARGE;
    case ringwire::errc::invalid_message_type: return RW_E_INVALID_MESSAGE_TYPE;
    case ringwire::errc::ring_corrupt: return RW_E_RING_CORRUPT;
    case ringwire::errc::shm_not_a_segment: return RW_E_SHM_NOT_A_SEGMENT;
    case ringwire::errc::shm_untrusted_owner: return RW_E_SHM_UNTRUSTED_OWNER;
    case ringwire::errc::invalid_cpu: return RW_E_INVALID_CPU;
    case ringwire::errc::invalid_numa_node: return RW_E_INVALID_NUMA_NODE;
    case ringwire::errc::hugepages_unavailable: return RW_E_HUGEPAGES_UNAVAILABLE;
    case ringwire::errc::memory_lock_denied: return RW_E_MEMORY_LOCK_DENIED;
  }
  return RW_E_INTERNAL;
}

void fail(rw_errc e, const char* what) noexcept {
  last_errc = e;
  try {
    last_message = what;
  } catch (...) {
    last_message.clear();
  }
}

// A call refused because a reservation is open: a send or write then would publish past
// it or build its record where it lies (the C++ endpoints only assert this in debug builds).
bool refused_while_reserving(bool reserving, const char* call, const char* end_it) noexcept {
  if (!reserving) return false;
  last_errc = RW_E_INVALID_ARGUMENT;
  try {
    last_message = std::string(call) + ": a reservation is open (" + end_it + " first)";
  } catch (...) {
    last_message.clear();
  }
  return true;
}

// Runs fn; a ringwire::error (or anything else) becomes the thread's last error and `bad`.
template <class R, class Fn>
R guarded(R bad, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const ringwire::error& e) {
    fail(to_c(e.code()), e.what());
  } catch (const std::exception& e) {
    fail(RW_E_INTERNAL, e.what());
  } catch (...) {
    fail(RW_E_INTERNAL, "unknown exception");
  }
  return bad;
}

rw_status to_c(ringwire::status s) noexcept { return static_cast<rw_status>(static_cast<int>(s)); }
static_assert(static_cast<int>(ringwire::status::corrupt) == RW_CORRUPT, "rw_status mirrors ringwire::status");
// rw_errc mirrors ringwire::errc from 1: its last value pins the count (to_c names each).
static_assert(RW_E_MEMORY_LOCK_DENIED == static_cast<int>(ringwire::errc::memory_lock_denied) + 1,
              "rw_errc mirrors ringwire::errc one to one");

std::chrono::nanoseconds ns(uint64_t t) noexcept {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(t > INT64_MAX ? INT64_MAX : t));
}

bool null_arg(const void* p, const char* what) noexcept {
  if (p != nullptr) return false;
  fail(RW_E_INVALID_ARGUMENT, what);
  return true;
}

rw_status read_out(const bb::read_result& r, rw_bb_info* info, uint64_t* missed) noexcept {
  if (info != nullptr) *info = rw_bb_info{r.info().seq, r.info().signature, r.info().tspub, r.info().size, r.info().ctl};
  if (missed != nullptr) *missed = r.missed();
  return to_c(r.status());
}


// ---- typed kinds: elements as opaque words --------------------------------------------
//
// The C++ endpoints are templates on T and index their slots by sizeof(T), so the C API
// instantiates them for an element of W 8-byte words, W = 1 .. max_words, and picks the
// instantiation from the size the segment records. The caller's element size and type tag
// are checked here (check_typed); shm::caller_checks_tag<words<W>> makes the C++ attach
// compare size and alignment only.
constexpr std::size_t max_words = RW_MAX_ELEM_SIZE / 8;

template <std::size_t W>
struct words {
  std::uint64_t w[W];
};

}  // namespace

template <std::size_t W>
struct ringwire::shm::caller_checks_tag<words<W>> : std::true_type {};

namespace {

void check_elem_size(std::uint32_t elem_size) {
  if (elem_size == 0 || elem_size % 8 != 0 || elem_size > RW_MAX_ELEM_SIZE)
    throw ringwire::error(ringwire::errc::invalid_options,
                          "elem_size " + std::to_string(elem_size) + ": the C API carries elements of 8 .. " +
                              std::to_string(RW_MAX_ELEM_SIZE) + " bytes, a multiple of 8");
}

// Throws unless the segment holds `kind` with elements the C API can carry, of the caller's
// size (its buffers hold that many bytes) and, when the caller names one, the caller's tag.
// Returns the element's size in words.
std::size_t check_typed(const shm::segment& seg, shm::channel_kind kind, std::uint32_t elem_size, std::uint64_t tag) {
  if (!seg.joined()) throw ringwire::error(ringwire::errc::invalid_options, "the segment handle was never joined");
  const shm::identity& id = seg.info();
  if (id.kind != kind)
    throw ringwire::error(ringwire::errc::shm_kind_mismatch,
                          "the segment holds a channel of kind " + std::to_string(static_cast<unsigned>(id.kind)) +
                              ", not " + std::to_string(static_cast<unsigned>(kind)));
  check_elem_size(elem_size);  // what words<W> can be; the segment's must be exactly that
  if (id.slot_size != elem_size || id.slot_align != 8)
    throw ringwire::error(ringwire::errc::shm_type_mismatch,
                          "the segment's elements are " + std::to_string(id.slot_size) + " bytes aligned to " +
                              std::to_string(id.slot_align) + "; the caller's are " + std::to_string(elem_size) +
                              " bytes, and the C API carries elements aligned to 8");
  if (tag != 0 && tag != id.type_tag)
    throw ringwire::error(ringwire::errc::shm_type_mismatch, "the segment's type tag is " +
                                                                 std::to_string(id.type_tag) + ", the caller's " +
                                                                 std::to_string(tag));
  return id.slot_size / 8;
}

// Makes Impl<W> (a subclass of Base) for the segment's element size: one table entry per W.
template <class Base, template <std::size_t> class Impl, std::size_t... I>
Base* make_sized(std::size_t w, const shm::segment& seg, std::index_sequence<I...>) {
  using maker = Base* (*)(const shm::segment&);
  static constexpr maker table[] = {+[](const shm::segment& s) -> Base* { return new Impl<I + 1>(s); }...};
  return table[w - 1](seg);
}
template <class Base, template <std::size_t> class Impl>
Base* make_typed(const shm::segment& seg, shm::channel_kind kind, std::uint32_t elem_size, std::uint64_t tag) {
  return make_sized<Base, Impl>(check_typed(seg, kind, elem_size, tag), seg, std::make_index_sequence<max_words>{});
}


// A typed spec with the caller's size and tag (alignment 8): what a C++ peer's
// spec_for<T>() records when sizeof(T) == elem_size, alignof(T) == 8 and its tag matches.
shm::channel_spec typed_spec(shm::channel_spec s, std::uint32_t elem_size, std::uint64_t tag) {
  check_elem_size(elem_size);
  s.slot_size = elem_size;
  s.slot_align = 8;
  s.type_tag = tag;
  return s;
}

rw_segment* create_segment(const char* name, const shm::channel_spec& spec);

}  // namespace

struct rw_segment {
  shm::segment seg;
};
struct rw_bb_writer {
  bb::writer<> w;
};
struct rw_bb_reader {
  std::variant<bb::reader<>, bb::credited_reader<>> r;
};

// The typed endpoints: a C handle is the abstract base; its implementation is the C++
// endpoint for words<W> (make_typed).
struct rw_spsc_sender {
  virtual ~rw_spsc_sender() = default;
  virtual ringwire::status try_send(const void* e) = 0;
  virtual ringwire::status send_for(const void* e, std::chrono::nanoseconds d) = 0;
  virtual std::size_t try_send_n(const void* e, std::size_t n) = 0;
  virtual ringwire::status reserve(std::size_t n, void** slots, std::size_t* granted) = 0;
  virtual void commit(std::size_t k) = 0;
  virtual bool reserving() const noexcept = 0;
  virtual std::size_t reserved() const noexcept = 0;
};
struct rw_spsc_receiver {
  virtual ~rw_spsc_receiver() = default;
  // Every receive ends the last read_span (span_len = 0): release(k) after it would count
  // from a head that has moved.
  virtual ringwire::status try_recv(void* out) = 0;
  virtual ringwire::status recv_for(void* out, std::chrono::nanoseconds d) = 0;
  virtual std::size_t try_recv_n(void* out, std::size_t max) = 0;
  virtual ringwire::status read_span(const void** first, std::size_t* n) = 0;
  virtual void release(std::size_t k) = 0;
  std::size_t span_len = 0;  // the last read_span's length, for release's check
};
struct rw_mpsc_sender {
  virtual ~rw_mpsc_sender() = default;
  virtual ringwire::status try_send(const void* e) = 0;
  virtual ringwire::status send_for(const void* e, std::chrono::nanoseconds d) = 0;
};
struct rw_mpsc_receiver {
  virtual ~rw_mpsc_receiver() = default;
  virtual ringwire::status try_recv(void* out) = 0;
  virtual ringwire::status recv_for(void* out, std::chrono::nanoseconds d) = 0;
};
struct rw_bc_publisher {
  virtual ~rw_bc_publisher() = default;
  virtual ringwire::status try_send(const void* e) = 0;
  virtual ringwire::status send_for(const void* e, std::chrono::nanoseconds d) = 0;
};
struct rw_bc_subscriber {
  virtual ~rw_bc_subscriber() = default;
  virtual ringwire::recv_result<bool> try_recv(void* out) = 0;
  virtual ringwire::recv_result<bool> recv_for(void* out, std::chrono::nanoseconds d) = 0;
};
struct rw_br_writer {
  std::variant<ringwire::byte_ring::writer<>, ringwire::byte_ring::shared_writer<>> w;
  bool reserving = false;
};
struct rw_br_reader {
  ringwire::byte_ring::reader<> r;
  const rw_segment* seg;  // the handle it was attached from (rw_br_recover's check)
};

namespace {

// The timed calls try once before they wait: a message (or room) that is already there then
// costs no clock read and no deadline -- about a third of a C API receive that found one.
// The try's outcome stands unless it says "nothing yet" (empty / full).
inline bool nothing_yet(ringwire::status s) noexcept { return s == ringwire::status::empty || s == ringwire::status::full; }
template <class R>
ringwire::status status_of(const R& r) noexcept {
  if constexpr (std::is_same_v<R, ringwire::status>) return r; else return r.status();
}
template <class R, class Timed>
R first_try(R tried, Timed&& timed) {
  if (!nothing_yet(status_of(tried))) return tried;
  return timed();
}

// An element moves between the caller's bytes and a slot by memcpy: words<W> is trivially
// copyable and the caller's buffer need not be aligned.
template <std::size_t W>
words<W> load(const void* p) noexcept {
  words<W> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// recv_result<T> -> the C outcome, the value copied to out on ok.
template <class T>
ringwire::recv_result<bool> copy_out(ringwire::recv_result<T>&& r, void* out) noexcept {
  if (!r.has_value()) return ringwire::recv_result<bool>(r.status(), r.missed());
  std::memcpy(out, &r.value(), sizeof(T));
  return ringwire::recv_result<bool>(std::in_place, true);
}

template <std::size_t W>
struct spsc_sender_impl final : rw_spsc_sender {
  using T = words<W>;
  explicit spsc_sender_impl(const shm::segment& seg) : tx(shm::spsc::attach_sender<T>(seg)) {}
  ringwire::status try_send(const void* e) override { return tx.try_send(load<W>(e)); }
  ringwire::status send_for(const void* e, std::chrono::nanoseconds d) override {
    const T v = load<W>(e);
    return first_try(tx.try_send(v), [&] { return tx.send_for(v, d); });
  }
  std::size_t try_send_n(const void* e, std::size_t n) override {
    // The batch path copies trivially copyable T from contiguous memory; the caller's bytes
    // may be unaligned, so go through a reservation (two memcpy at most, as the batch does).
    std::size_t sent = 0;
    const auto* src = static_cast<const std::byte*>(e);
    while (sent < n) {
      auto res = tx.reserve(n - sent);
      if (res.status() != ringwire::status::ok || res.size() == 0) break;
      std::memcpy(static_cast<void*>(res.span().data()), src + sent * sizeof(T), res.size() * sizeof(T));
      sent += res.size();
      res.commit(res.size());
    }
    return sent;
  }
  ringwire::status reserve(std::size_t n, void** slots, std::size_t* granted) override {
    res.emplace(tx.reserve(n));
    const ringwire::status s = res->status();
    *granted = s == ringwire::status::ok ? res->size() : 0;
    *slots = *granted != 0 ? static_cast<void*>(res->span().data()) : nullptr;
    if (*granted == 0) res.reset();
    return s;
  }
  void commit(std::size_t k) override {
    if (k == 0) res->abandon(); else res->commit(k);
    res.reset();
  }
  bool reserving() const noexcept override { return res.has_value(); }
  std::size_t reserved() const noexcept override { return res.has_value() ? res->size() : 0; }
  ringwire::spsc::sender<T> tx;
  std::optional<ringwire::spsc::reservation<T, ringwire::std_sync>> res;
};

template <std::size_t W>
struct spsc_receiver_impl final : rw_spsc_receiver {
  using T = words<W>;
  explicit spsc_receiver_impl(const shm::segment& seg) : rx(shm::spsc::attach_receiver<T>(seg)) {}
  ringwire::status try_recv(void* out) override {
    span_len = 0;
    return copy_out(rx.try_recv(), out).status();
  }
  ringwire::status recv_for(void* out, std::chrono::nanoseconds d) override {
    span_len = 0;
    return first_try(copy_out(rx.try_recv(), out), [&] { return copy_out(rx.recv_for(d), out); }).status();
  }
  std::size_t try_recv_n(void* out, std::size_t max) override {
    span_len = 0;
    // consume() takes what the cached tail shows; go on until max or nothing is queued.
    auto* dst = static_cast<std::byte*>(out);
    std::size_t got = 0;
    while (got < max) {
      const std::size_t k = rx.consume([&dst](T& v) { std::memcpy(dst, &v, sizeof v); dst += sizeof v; }, max - got);
      if (k == 0) break;
      got += k;
    }
    return got;
  }
  ringwire::status read_span(const void** first, std::size_t* n) override {
    const std::span<T> sp = rx.read_span();
    span_len = sp.size();
    *first = sp.empty() ? nullptr : static_cast<const void*>(sp.data());
    *n = sp.size();
    return sp.empty() ? rx.poll() : ringwire::status::ok;
  }
  void release(std::size_t k) override {
    rx.release(k);
    span_len = 0;
  }
  ringwire::spsc::receiver<T> rx;
};

template <std::size_t W>
struct mpsc_sender_impl final : rw_mpsc_sender {
  using T = words<W>;
  explicit mpsc_sender_impl(const shm::segment& seg) : tx(shm::mpsc::attach_sender<T>(seg)) {}
  ringwire::status try_send(const void* e) override { return tx.try_send(load<W>(e)); }
  ringwire::status send_for(const void* e, std::chrono::nanoseconds d) override {
    const T v = load<W>(e);
    return first_try(tx.try_send(v), [&] { return tx.send_for(v, d); });
  }
  ringwire::mpsc::sender<T> tx;
};

template <std::size_t W>
struct mpsc_receiver_impl final : rw_mpsc_receiver {
  using T = words<W>;
  explicit mpsc_receiver_impl(const shm::segment& seg) : rx(shm::mpsc::attach_receiver<T>(seg)) {}
  ringwire::status try_recv(void* out) override { return copy_out(rx.try_recv(), out).status(); }
  ringwire::status recv_for(void* out, std::chrono::nanoseconds d) override {
    return first_try(copy_out(rx.try_recv(), out), [&] { return copy_out(rx.recv_for(d), out); }).status();
  }
  ringwire::mpsc::receiver<T> rx;
};

template <std::size_t W>
struct bc_publisher_impl final : rw_bc_publisher {
  using T = words<W>;
  explicit bc_publisher_impl(const shm::segment& seg) : p(shm::broadcast::attach_publisher<T>(seg)) {}
  ringwire::status try_send(const void* e) override { return p.try_send(load<W>(e)); }
  ringwire::status send_for(const void* e, std::chrono::nanoseconds d) override {
    const T v = load<W>(e);
    return first_try(p.try_send(v), [&] { return p.send_for(v, d); });
  }
  ringwire::broadcast::publisher<T> p;
};

template <std::size_t W>
struct bc_subscriber_impl final : rw_bc_subscriber {
  using T = words<W>;
  explicit bc_subscriber_impl(const shm::segment& seg) : s(shm::broadcast::attach_subscriber<T>(seg)) {}
  ringwire::recv_result<bool> try_recv(void* out) override { return copy_out(s.try_recv(), out); }
  ringwire::recv_result<bool> recv_for(void* out, std::chrono::nanoseconds d) override {
    return first_try(copy_out(s.try_recv(), out), [&] { return copy_out(s.recv_for(d), out); });
  }
  ringwire::broadcast::subscriber<T> s;
};

bool open_reservation(const rw_spsc_sender* tx, const char* call) noexcept {
  return refused_while_reserving(tx->reserving(), call, "rw_spsc_commit it");
}

rw_status recv_out(const ringwire::recv_result<bool>& r, uint64_t* missed) noexcept {
  if (missed != nullptr) *missed = r.missed();
  return to_c(r.status());
}

}  // namespace

extern "C" {

rw_errc rw_last_errc(void) { return last_errc; }
const char* rw_last_error(void) { return last_message.c_str(); }

const char* rw_status_name(int s) {
  if (s == RW_ERROR) return "error";
  if (s < RW_OK || s > RW_CORRUPT) return "unknown";
  return ringwire::to_string(static_cast<ringwire::status>(s));
}

const char* rw_version(void) { return RINGWIRE_C_VERSION; }
int rw_abi_version(void) { return RW_ABI_VERSION; }

rw_segment* rw_bb_create(const char* name, const rw_bb_geometry* g) {
  if (null_arg(g, "rw_bb_create: geometry is NULL")) return nullptr;
  return guarded<rw_segment*>(nullptr, [&] {
    const bb::geometry geo{g->depth, g->region_bytes, g->max_message, g->max_credited};
    return create_segment(name, shm::byte_broadcast_spec(geo));
  });
}

rw_segment* rw_bb_open(const char* name) {
  rw_segment* seg = rw_open(name);
  if (seg == nullptr || seg->seg.info().kind == shm::channel_kind::byte_broadcast) return seg;
  fail(RW_E_SHM_KIND_MISMATCH, "rw_bb_open: the segment does not hold a byte-broadcast channel");
  rw_segment_close(seg);
  return nullptr;
}

rw_segment* rw_open(const char* name) {
  if (null_arg(name, "rw_open: name is NULL")) return nullptr;
  return guarded<rw_segment*>(nullptr, [&] {
    // The recorded geometry, read without joining; then a validated open expecting it.
    const shm::segment seen = shm::segment::observe(name, &shm::find_contract);
    const shm::channel_contract* c = shm::find_contract(seen.info().kind);
    if (c == nullptr) throw ringwire::error(ringwire::errc::shm_kind_mismatch, "the segment's kind is unknown to this build");
    return new rw_segment{shm::segment::open(name, shm::detail::recorded_spec(seen.info(), *c))};
  });
}

rw_segment* rw_open_fd(int fd) {
  return guarded<rw_segment*>(nullptr, [&] {
    // The recorded geometry from the header's bytes; then a validated open expecting it.
    alignas(64) unsigned char head[shm::header_size];
    const ssize_t n = ::pread(fd, head, sizeof head, 0);
    if (n < 0)
      throw ringwire::error(ringwire::errc::shm_system_error,
                            "reading descriptor " + std::to_string(fd) + ": " + std::strerror(errno));
    const shm::identity id = shm::detail::read_identity(head, static_cast<std::size_t>(n));
    const shm::channel_contract* c = shm::find_contract(id.kind);
    if (c == nullptr) throw ringwire::error(ringwire::errc::shm_kind_mismatch, "the segment's kind is unknown to this build");
    return new rw_segment{shm::segment::open_fd(fd, shm::detail::recorded_spec(id, *c))};
  });
}

int rw_segment_fd(const rw_segment* seg) {
  if (null_arg(seg, "rw_segment_fd: segment is NULL")) return -1;
  return seg->seg.fd();
}

int rw_segment_describe(const rw_segment* seg, rw_segment_info* out) {
  if (null_arg(seg, "rw_segment_describe: segment is NULL") || null_arg(out, "rw_segment_describe: out is NULL"))
    return -1;
  return guarded(-1, [&] {
    const shm::identity& id = seg->seg.info();
    *out = rw_segment_info{static_cast<rw_kind>(id.kind), id.capacity, id.slot_size, id.slot_align, id.type_tag,
                           id.endpoints, id.policy, 0, seg->seg.creator_pid()};
    const bool bytes = id.kind == shm::channel_kind::byte_ring || id.kind == shm::channel_kind::byte_broadcast;
    if (bytes) out->elem_size = out->elem_align = 0, out->type_tag = 0;  // the ring format's own, not an element's
    if (id.kind == shm::channel_kind::byte_broadcast) out->region_bytes = shm::byte_broadcast::geometry_of(seg->seg).region_bytes;
    return 0;
  });
}

int rw_reap(rw_segment* seg) {
  if (null_arg(seg, "rw_reap: segment is NULL")) return -1;
  return guarded(-1, [&] {
    const shm::segment& g = seg->seg;
    switch (g.info().kind) {
      case shm::channel_kind::spsc: {
        const auto r = shm::spsc::reap(g);
        return static_cast<int>((r.sender_pid != 0 ? 1 : 0) + (r.receiver_pid != 0 ? 1 : 0));
      }
      case shm::channel_kind::mpsc: {
        const auto r = shm::mpsc::reap(g);
        return static_cast<int>(r.lanes + (r.receiver_pid != 0 ? 1u : 0u));
      }
      case shm::channel_kind::broadcast: {
        const auto r = shm::broadcast::reap(g);
        return static_cast<int>(r.subscribers + (r.publisher_pid != 0 ? 1u : 0u));
      }
      case shm::channel_kind::byte_ring: {
        const auto r = shm::byte_ring::reap(g);
        return static_cast<int>(r.writers + (r.reader_pid != 0 ? 1u : 0u));
      }
      case shm::channel_kind::byte_broadcast: {
        const auto r = shm::byte_broadcast::reap(g);
        return static_cast<int>((r.writer_pid != 0 ? 1u : 0u) + r.credited_readers);
      }
    }
    throw ringwire::error(ringwire::errc::shm_kind_mismatch, "rw_reap: unknown kind");
  });
}

long rw_segment_counters(const rw_segment* seg, rw_counter* out, size_t cap) {
  if (null_arg(seg, "rw_segment_counters: segment is NULL") || (cap != 0 && null_arg(out, "rw_segment_counters: out is NULL")))
    return -1;
  return guarded(-1L, [&] {
    const shm::channel_description d = shm::describe(seg->seg);
    std::size_t n = 0;
    // Keys are string literals of the kinds' describe() (null-terminated string_views).
    auto put = [&](const char* role, std::uint32_t index, std::string_view key, std::uint64_t value) {
      if (n < cap) out[n] = rw_counter{role, index, key.data(), value};
      ++n;
    };
    for (const auto& i : d.state) put(nullptr, 0, i.key, i.value);
    for (const auto& i : d.claims) put("claims", 0, i.key, i.value);
    for (const auto& e : d.endpoints)
      for (const auto& i : e.values) put(e.role.data(), e.index, i.key, i.value);
    return static_cast<long>(n);
  });
}

int rw_bb_segment_geometry(const rw_segment* seg, rw_bb_geometry* out) {
  if (null_arg(seg, "rw_bb_segment_geometry: segment is NULL") || null_arg(out, "rw_bb_segment_geometry: out is NULL"))
    return -1;
  return guarded(-1, [&] {
    const bb::geometry g = shm::byte_broadcast::geometry_of(seg->seg);
    *out = rw_bb_geometry{g.depth, g.region_bytes, g.max_message, g.max_credited};
    return 0;
  });
}

void rw_segment_close(rw_segment* seg) { delete seg; }

int rw_unlink(const char* name) {
  if (null_arg(name, "rw_unlink: name is NULL")) return -1;
  return guarded(-1, [&] { return shm::segment::unlink(name) ? 1 : 0; });
}

int rw_bb_reap(rw_segment* seg) { return rw_reap(seg); }

rw_bb_writer* rw_bb_writer_attach(rw_segment* seg) {
  if (null_arg(seg, "rw_bb_writer_attach: segment is NULL")) return nullptr;
  return guarded<rw_bb_writer*>(nullptr, [&] { return new rw_bb_writer{shm::byte_broadcast::attach_writer(seg->seg)}; });
}

rw_status rw_bb_try_write(rw_bb_writer* w, uint64_t signature, const void* data, size_t size) {
  if (null_arg(w, "rw_bb_try_write: writer is NULL") || (size != 0 && null_arg(data, "rw_bb_try_write: data is NULL")))
    return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    return to_c(w->w.try_write(signature, {static_cast<const std::byte*>(data), size}));
  });
}

rw_status rw_bb_write_for(rw_bb_writer* w, uint64_t signature, const void* data, size_t size, uint64_t timeout_ns) {
  if (null_arg(w, "rw_bb_write_for: writer is NULL") || (size != 0 && null_arg(data, "rw_bb_write_for: data is NULL")))
    return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(data), size);
    return to_c(first_try(w->w.try_write(signature, bytes), [&] { return w->w.write_for(signature, bytes, ns(timeout_ns)); }));
  });
}

rw_status rw_bb_skip(rw_bb_writer* w, uint64_t g) {
  if (null_arg(w, "rw_bb_skip: writer is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(w->w.skip(g)); });
}

void rw_bb_writer_close(rw_bb_writer* w) { delete w; }

rw_bb_reader* rw_bb_reader_attach(rw_segment* seg, int credited) {
  if (null_arg(seg, "rw_bb_reader_attach: segment is NULL")) return nullptr;
  return guarded<rw_bb_reader*>(nullptr, [&] {
    if (credited != 0) return new rw_bb_reader{shm::byte_broadcast::attach_credited_reader(seg->seg)};
    return new rw_bb_reader{shm::byte_broadcast::attach_reader(seg->seg)};
  });
}

rw_status rw_bb_try_read(rw_bb_reader* r, void* buf, size_t cap, rw_bb_info* info, uint64_t* missed) {
  if (null_arg(r, "rw_bb_try_read: reader is NULL") || (cap != 0 && null_arg(buf, "rw_bb_try_read: buffer is NULL")))
    return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    const std::span<std::byte> out(static_cast<std::byte*>(buf), cap);
    return read_out(std::visit([&](auto& rd) { return rd.try_read(out); }, r->r), info, missed);
  });
}

rw_status rw_bb_read_for(rw_bb_reader* r, void* buf, size_t cap, uint64_t timeout_ns, rw_bb_info* info,
                         uint64_t* missed) {
  if (null_arg(r, "rw_bb_read_for: reader is NULL") || (cap != 0 && null_arg(buf, "rw_bb_read_for: buffer is NULL")))
    return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    const std::span<std::byte> out(static_cast<std::byte*>(buf), cap);
    return read_out(std::visit([&](auto& rd) { return first_try(rd.try_read(out), [&] { return rd.read_for(out, ns(timeout_ns)); }); }, r->r),
                    info, missed);
  });
}

void rw_bb_reader_close(rw_bb_reader* r) { delete r; }

// ---- typed kinds ------------------------------------------------------------------------

rw_segment* rw_spsc_create(const char* name, uint64_t capacity, uint32_t elem_size, uint64_t type_tag) {
  return guarded<rw_segment*>(nullptr, [&] {
    return create_segment(name, typed_spec(shm::spsc_spec<words<1>>(capacity), elem_size, type_tag));
  });
}

rw_segment* rw_mpsc_create(const char* name, uint64_t lane_capacity, uint32_t max_producers, uint32_t elem_size,
                           uint64_t type_tag) {
  return guarded<rw_segment*>(nullptr, [&] {
    return create_segment(name, typed_spec(shm::mpsc_spec<words<1>>(lane_capacity, max_producers), elem_size, type_tag));
  });
}

rw_segment* rw_bc_create(const char* name, uint64_t capacity, uint32_t max_subscribers, uint32_t policy,
                         uint32_t elem_size, uint64_t type_tag) {
  if (policy != RW_BC_LOSSY && policy != RW_BC_LOSSLESS && policy != RW_BC_EVICT) {
    fail(RW_E_INVALID_OPTIONS, "rw_bc_create: policy is not RW_BC_LOSSY, RW_BC_LOSSLESS or RW_BC_EVICT");
    return nullptr;
  }
  return guarded<rw_segment*>(nullptr, [&] {
    const auto pol = static_cast<ringwire::broadcast::policy>(policy);
    return create_segment(name, typed_spec(shm::broadcast_spec<words<1>>(capacity, max_subscribers, pol), elem_size, type_tag));
  });
}

rw_spsc_sender* rw_spsc_sender_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag) {
  if (null_arg(seg, "rw_spsc_sender_attach: segment is NULL")) return nullptr;
  return guarded<rw_spsc_sender*>(nullptr, [&] {
    return make_typed<rw_spsc_sender, spsc_sender_impl>(seg->seg, shm::channel_kind::spsc, elem_size, type_tag);
  });
}

rw_status rw_spsc_try_send(rw_spsc_sender* tx, const void* elem) {
  if (null_arg(tx, "rw_spsc_try_send: sender is NULL") || null_arg(elem, "rw_spsc_try_send: elem is NULL")) return RW_ERROR;
  if (open_reservation(tx, "rw_spsc_try_send")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(tx->try_send(elem)); });
}

rw_status rw_spsc_send_for(rw_spsc_sender* tx, const void* elem, uint64_t timeout_ns) {
  if (null_arg(tx, "rw_spsc_send_for: sender is NULL") || null_arg(elem, "rw_spsc_send_for: elem is NULL")) return RW_ERROR;
  if (open_reservation(tx, "rw_spsc_send_for")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(tx->send_for(elem, ns(timeout_ns))); });
}

size_t rw_spsc_try_send_n(rw_spsc_sender* tx, const void* elems, size_t n) {
  if (null_arg(tx, "rw_spsc_try_send_n: sender is NULL") || (n != 0 && null_arg(elems, "rw_spsc_try_send_n: elems is NULL")))
    return 0;
  if (open_reservation(tx, "rw_spsc_try_send_n")) return 0;
  return guarded<size_t>(0, [&] { return tx->try_send_n(elems, n); });
}

rw_status rw_spsc_reserve(rw_spsc_sender* tx, size_t n, void** slots, size_t* granted) {
  if (null_arg(tx, "rw_spsc_reserve: sender is NULL") || null_arg(slots, "rw_spsc_reserve: slots is NULL") ||
      null_arg(granted, "rw_spsc_reserve: granted is NULL"))
    return RW_ERROR;
  if (open_reservation(tx, "rw_spsc_reserve")) return RW_ERROR;
  if (n == 0) {
    fail(RW_E_INVALID_ARGUMENT, "rw_spsc_reserve: n is 0");
    return RW_ERROR;
  }
  return guarded(RW_ERROR, [&] { return to_c(tx->reserve(n, slots, granted)); });
}

rw_status rw_spsc_commit(rw_spsc_sender* tx, size_t k) {
  if (null_arg(tx, "rw_spsc_commit: sender is NULL")) return RW_ERROR;
  if (!tx->reserving()) {
    fail(RW_E_INVALID_ARGUMENT, "rw_spsc_commit: no reservation is open");
    return RW_ERROR;
  }
  // Publishing more than was granted would hand the receiver slots nobody wrote.
  if (k > tx->reserved()) {
    fail(RW_E_INVALID_ARGUMENT, "rw_spsc_commit: k exceeds the slots granted (the reservation stays open)");
    return RW_ERROR;
  }
  return guarded(RW_ERROR, [&] {
    tx->commit(k);
    return RW_OK;
  });
}

void rw_spsc_sender_close(rw_spsc_sender* tx) { delete tx; }

rw_spsc_receiver* rw_spsc_receiver_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag) {
  if (null_arg(seg, "rw_spsc_receiver_attach: segment is NULL")) return nullptr;
  return guarded<rw_spsc_receiver*>(nullptr, [&] {
    return make_typed<rw_spsc_receiver, spsc_receiver_impl>(seg->seg, shm::channel_kind::spsc, elem_size, type_tag);
  });
}

rw_status rw_spsc_try_recv(rw_spsc_receiver* rx, void* out) {
  if (null_arg(rx, "rw_spsc_try_recv: receiver is NULL") || null_arg(out, "rw_spsc_try_recv: out is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(rx->try_recv(out)); });
}

rw_status rw_spsc_recv_for(rw_spsc_receiver* rx, void* out, uint64_t timeout_ns) {
  if (null_arg(rx, "rw_spsc_recv_for: receiver is NULL") || null_arg(out, "rw_spsc_recv_for: out is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(rx->recv_for(out, ns(timeout_ns))); });
}

size_t rw_spsc_try_recv_n(rw_spsc_receiver* rx, void* out, size_t max) {
  if (null_arg(rx, "rw_spsc_try_recv_n: receiver is NULL") || (max != 0 && null_arg(out, "rw_spsc_try_recv_n: out is NULL")))
    return 0;
  return guarded<size_t>(0, [&] { return rx->try_recv_n(out, max); });
}

rw_status rw_spsc_read_span(rw_spsc_receiver* rx, const void** first, size_t* n) {
  if (null_arg(rx, "rw_spsc_read_span: receiver is NULL") || null_arg(first, "rw_spsc_read_span: first is NULL") ||
      null_arg(n, "rw_spsc_read_span: n is NULL"))
    return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(rx->read_span(first, n)); });
}

rw_status rw_spsc_release(rw_spsc_receiver* rx, size_t k) {
  if (null_arg(rx, "rw_spsc_release: receiver is NULL")) return RW_ERROR;
  // Releasing more than the last span gave would free slots the sender still owns.
  if (k > rx->span_len) {
    fail(RW_E_INVALID_ARGUMENT, "rw_spsc_release: k exceeds the last rw_spsc_read_span's length");
    return RW_ERROR;
  }
  rx->release(k);
  return RW_OK;
}

void rw_spsc_receiver_close(rw_spsc_receiver* rx) { delete rx; }

rw_mpsc_sender* rw_mpsc_sender_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag) {
  if (null_arg(seg, "rw_mpsc_sender_attach: segment is NULL")) return nullptr;
  return guarded<rw_mpsc_sender*>(nullptr, [&] {
    return make_typed<rw_mpsc_sender, mpsc_sender_impl>(seg->seg, shm::channel_kind::mpsc, elem_size, type_tag);
  });
}

rw_status rw_mpsc_try_send(rw_mpsc_sender* tx, const void* elem) {
  if (null_arg(tx, "rw_mpsc_try_send: sender is NULL") || null_arg(elem, "rw_mpsc_try_send: elem is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(tx->try_send(elem)); });
}

rw_status rw_mpsc_send_for(rw_mpsc_sender* tx, const void* elem, uint64_t timeout_ns) {
  if (null_arg(tx, "rw_mpsc_send_for: sender is NULL") || null_arg(elem, "rw_mpsc_send_for: elem is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(tx->send_for(elem, ns(timeout_ns))); });
}

void rw_mpsc_sender_close(rw_mpsc_sender* tx) { delete tx; }

rw_mpsc_receiver* rw_mpsc_receiver_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag) {
  if (null_arg(seg, "rw_mpsc_receiver_attach: segment is NULL")) return nullptr;
  return guarded<rw_mpsc_receiver*>(nullptr, [&] {
    return make_typed<rw_mpsc_receiver, mpsc_receiver_impl>(seg->seg, shm::channel_kind::mpsc, elem_size, type_tag);
  });
}

rw_status rw_mpsc_try_recv(rw_mpsc_receiver* rx, void* out) {
  if (null_arg(rx, "rw_mpsc_try_recv: receiver is NULL") || null_arg(out, "rw_mpsc_try_recv: out is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(rx->try_recv(out)); });
}

rw_status rw_mpsc_recv_for(rw_mpsc_receiver* rx, void* out, uint64_t timeout_ns) {
  if (null_arg(rx, "rw_mpsc_recv_for: receiver is NULL") || null_arg(out, "rw_mpsc_recv_for: out is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(rx->recv_for(out, ns(timeout_ns))); });
}

void rw_mpsc_receiver_close(rw_mpsc_receiver* rx) { delete rx; }

int rw_mpsc_close_producers(rw_segment* seg) {
  if (null_arg(seg, "rw_mpsc_close_producers: segment is NULL")) return -1;
  return guarded(-1, [&] { return shm::mpsc::close_producers(seg->seg) ? 1 : 0; });
}

rw_bc_publisher* rw_bc_publisher_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag) {
  if (null_arg(seg, "rw_bc_publisher_attach: segment is NULL")) return nullptr;
  return guarded<rw_bc_publisher*>(nullptr, [&] {
    return make_typed<rw_bc_publisher, bc_publisher_impl>(seg->seg, shm::channel_kind::broadcast, elem_size, type_tag);
  });
}

rw_status rw_bc_try_send(rw_bc_publisher* p, const void* elem) {
  if (null_arg(p, "rw_bc_try_send: publisher is NULL") || null_arg(elem, "rw_bc_try_send: elem is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(p->try_send(elem)); });
}

rw_status rw_bc_send_for(rw_bc_publisher* p, const void* elem, uint64_t timeout_ns) {
  if (null_arg(p, "rw_bc_send_for: publisher is NULL") || null_arg(elem, "rw_bc_send_for: elem is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return to_c(p->send_for(elem, ns(timeout_ns))); });
}

void rw_bc_publisher_close(rw_bc_publisher* p) { delete p; }

rw_bc_subscriber* rw_bc_subscriber_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag) {
  if (null_arg(seg, "rw_bc_subscriber_attach: segment is NULL")) return nullptr;
  return guarded<rw_bc_subscriber*>(nullptr, [&] {
    return make_typed<rw_bc_subscriber, bc_subscriber_impl>(seg->seg, shm::channel_kind::broadcast, elem_size, type_tag);
  });
}

rw_status rw_bc_try_recv(rw_bc_subscriber* s, void* out, uint64_t* missed) {
  if (null_arg(s, "rw_bc_try_recv: subscriber is NULL") || null_arg(out, "rw_bc_try_recv: out is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return recv_out(s->try_recv(out), missed); });
}

rw_status rw_bc_recv_for(rw_bc_subscriber* s, void* out, uint64_t timeout_ns, uint64_t* missed) {
  if (null_arg(s, "rw_bc_recv_for: subscriber is NULL") || null_arg(out, "rw_bc_recv_for: out is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] { return recv_out(s->recv_for(out, ns(timeout_ns)), missed); });
}

void rw_bc_subscriber_close(rw_bc_subscriber* s) { delete s; }

// ---- byte ring ----------------------------------------------------------------------------

rw_segment* rw_br_create(const char* name, uint64_t capacity_bytes, int many_to_one, uint32_t max_writers) {
  return guarded<rw_segment*>(nullptr, [&] {
    const auto kind = many_to_one != 0 ? ringwire::byte_ring::ring_kind::many_to_one : ringwire::byte_ring::ring_kind::one_to_one;
    return create_segment(name, shm::byte_ring_spec(capacity_bytes, kind, max_writers));
  });
}

rw_br_writer* rw_br_writer_attach(rw_segment* seg) {
  if (null_arg(seg, "rw_br_writer_attach: segment is NULL")) return nullptr;
  return guarded<rw_br_writer*>(nullptr, [&] {
    if (seg->seg.info().kind == shm::channel_kind::byte_ring &&
        seg->seg.info().policy == static_cast<std::uint32_t>(ringwire::byte_ring::ring_kind::many_to_one))
      return new rw_br_writer{shm::byte_ring::attach_shared_writer(seg->seg)};
    return new rw_br_writer{shm::byte_ring::attach_writer(seg->seg)};
  });
}

namespace {
bool br_reserving(const rw_br_writer* w, const char* call) noexcept {
  return refused_while_reserving(w->reserving, call, "commit or abort it");
}
}  // namespace

rw_br_writer* rw_br_writer_clone(const rw_br_writer* w) {
  if (null_arg(w, "rw_br_writer_clone: writer is NULL")) return nullptr;
  const auto* shared = std::get_if<ringwire::byte_ring::shared_writer<>>(&w->w);
  if (shared == nullptr) {
    fail(RW_E_INVALID_ARGUMENT, "rw_br_writer_clone: a one-to-one ring has one writer");
    return nullptr;
  }
  return guarded<rw_br_writer*>(nullptr, [&] { return new rw_br_writer{*shared}; });
}

rw_status rw_br_try_write(rw_br_writer* w, int32_t type, const void* data, size_t size) {
  if (null_arg(w, "rw_br_try_write: writer is NULL") || (size != 0 && null_arg(data, "rw_br_try_write: data is NULL")) ||
      br_reserving(w, "rw_br_try_write"))
    return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(data), size);
    return to_c(std::visit([&](auto& x) { return x.try_write(type, bytes); }, w->w));
  });
}

rw_status rw_br_write_for(rw_br_writer* w, int32_t type, const void* data, size_t size, uint64_t timeout_ns) {
  if (null_arg(w, "rw_br_write_for: writer is NULL") || (size != 0 && null_arg(data, "rw_br_write_for: data is NULL")) ||
      br_reserving(w, "rw_br_write_for"))
    return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(data), size);
    return to_c(std::visit(
        [&](auto& x) { return first_try(x.try_write(type, bytes), [&] { return x.write_for(type, bytes, ns(timeout_ns)); }); },
        w->w));
  });
}

rw_status rw_br_reserve(rw_br_writer* w, size_t n, void** data) {
  if (null_arg(w, "rw_br_reserve: writer is NULL") || null_arg(data, "rw_br_reserve: data is NULL")) return RW_ERROR;
  if (br_reserving(w, "rw_br_reserve")) return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    const ringwire::byte_ring::claim c = std::visit([&](auto& x) { return x.try_reserve(n); }, w->w);
    w->reserving = c.status() == ringwire::status::ok;
    *data = w->reserving ? static_cast<void*>(c.bytes().data()) : nullptr;
    return to_c(c.status());
  });
}

rw_status rw_br_commit(rw_br_writer* w, int32_t type, size_t used) {
  if (null_arg(w, "rw_br_commit: writer is NULL")) return RW_ERROR;
  if (!w->reserving) {
    fail(RW_E_INVALID_ARGUMENT, "rw_br_commit: no reservation is open");
    return RW_ERROR;
  }
  return guarded(RW_ERROR, [&] {
    std::visit([&](auto& x) { x.commit(type, used); }, w->w);  // throws (nothing committed) on a bad type or size
    w->reserving = false;
    return RW_OK;
  });
}

rw_status rw_br_abort(rw_br_writer* w) {
  if (null_arg(w, "rw_br_abort: writer is NULL")) return RW_ERROR;
  if (!w->reserving) {
    fail(RW_E_INVALID_ARGUMENT, "rw_br_abort: no reservation is open");
    return RW_ERROR;
  }
  std::visit([](auto& x) { x.abort(); }, w->w);
  w->reserving = false;
  return RW_OK;
}

void rw_br_writer_close(rw_br_writer* w) { delete w; }

int rw_br_close_writers(rw_segment* seg) {
  if (null_arg(seg, "rw_br_close_writers: segment is NULL")) return -1;
  return guarded(-1, [&] { return shm::byte_ring::close_writers(seg->seg) ? 1 : 0; });
}

rw_br_reader* rw_br_reader_attach(rw_segment* seg) {
  if (null_arg(seg, "rw_br_reader_attach: segment is NULL")) return nullptr;
  return guarded<rw_br_reader*>(nullptr, [&] { return new rw_br_reader{shm::byte_ring::attach_reader(seg->seg), seg}; });
}

namespace {
rw_status record_out(ringwire::status s, const ringwire::byte_ring::record_view& v, rw_br_record* rec) noexcept {
  if (s == ringwire::status::ok) *rec = rw_br_record{v.type, v.payload.data(), v.payload.size()};
  return to_c(s);
}
}  // namespace

rw_status rw_br_try_read(rw_br_reader* r, rw_br_record* rec) {
  if (null_arg(r, "rw_br_try_read: reader is NULL") || null_arg(rec, "rw_br_try_read: rec is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    ringwire::byte_ring::record_view v;
    return record_out(r->r.try_read(v), v, rec);
  });
}

rw_status rw_br_read_for(rw_br_reader* r, rw_br_record* rec, uint64_t timeout_ns) {
  if (null_arg(r, "rw_br_read_for: reader is NULL") || null_arg(rec, "rw_br_read_for: rec is NULL")) return RW_ERROR;
  return guarded(RW_ERROR, [&] {
    r->r.release();  // as the header says: the records read before it are given back first
    ringwire::byte_ring::record_view v;
    return record_out(first_try(r->r.try_read(v), [&] { return r->r.read_for(v, ns(timeout_ns)); }), v, rec);
  });
}

void rw_br_release(rw_br_reader* r) {
  if (null_arg(r, "rw_br_release: reader is NULL")) return;
  r->r.release();
}

long rw_br_recover(rw_segment* seg, rw_br_reader* r) {
  if (null_arg(seg, "rw_br_recover: segment is NULL") || null_arg(r, "rw_br_recover: reader is NULL")) return -1;
  // Recovery reads one segment's claims and pads the reader's ring: they must be one channel.
  if (r->seg != seg) {
    fail(RW_E_INVALID_ARGUMENT, "rw_br_recover: the reader was attached from another segment handle");
    return -1;
  }
  return guarded(-1L, [&] { return static_cast<long>(shm::byte_ring::recover(seg->seg, r->r)); });
}

void rw_br_reader_close(rw_br_reader* r) { delete r; }

}  // extern "C"

namespace {
// A name: created exclusively, kept until rw_unlink. NULL: anonymous (memfd), shared by
// its descriptor (rw_segment_fd, rw_open_fd).
rw_segment* create_segment(const char* name, const shm::channel_spec& spec) {
  if (name == nullptr) return new rw_segment{shm::segment::create_anonymous(spec)};
  return new rw_segment{shm::segment::create(name, spec, {.unlink = shm::unlink_policy::never})};
}
}  // namespace
