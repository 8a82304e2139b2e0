// bindings/c/ringwire_c.cpp -- the C API over the C++ endpoints (ringwire_c.h).
// Every entry point catches everything: no exception crosses into C.
#include "ringwire/ringwire_c.h"

#include <chrono>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
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

extern "C" {

rw_errc rw_last_errc(void) { return last_errc; }
const char* rw_last_error(void) { return last_message.c_str(); }

const char* rw_status_name(rw_status s) {
  if (s == RW_ERROR) return "error";
  if (s < RW_OK || s > RW_CORRUPT) return "unknown";
  return ringwire::to_string(static_cast<ringwire::status>(s));
}

rw_segment* rw_bb_create(const char* name, const rw_bb_geometry* g) {
  if (null_arg(name, "rw_bb_create: name is NULL") || null_arg(g, "rw_bb_create: geometry is NULL")) return nullptr;
  return guarded<rw_segment*>(nullptr, [&] {
    const bb::geometry geo{g->depth, g->region_bytes, g->max_message, g->max_credited};
    return new rw_segment{shm::segment::create(name, shm::byte_broadcast_spec(geo), {.unlink = shm::unlink_policy::never})};
  });
}

rw_segment* rw_bb_open(const char* name) {
  if (null_arg(name, "rw_bb_open: name is NULL")) return nullptr;
  return guarded<rw_segment*>(nullptr, [&] {
    const bb::geometry geo = shm::byte_broadcast::geometry_of(shm::segment::observe(name, &shm::find_contract));
    return new rw_segment{shm::segment::open(name, shm::byte_broadcast_spec(geo))};
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

int rw_bb_reap(rw_segment* seg) {
  if (null_arg(seg, "rw_bb_reap: segment is NULL")) return -1;
  return guarded(-1, [&] {
    const auto r = shm::byte_broadcast::reap(seg->seg);
    return static_cast<int>((r.writer_pid != 0 ? 1u : 0u) + r.credited_readers);
  });
}

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
    return to_c(w->w.write_for(signature, {static_cast<const std::byte*>(data), size}, ns(timeout_ns)));
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
    return read_out(std::visit([&](auto& rd) { return rd.read_for(out, ns(timeout_ns)); }, r->r), info, missed);
  });
}

void rw_bb_reader_close(rw_bb_reader* r) { delete r; }

}  // extern "C"
