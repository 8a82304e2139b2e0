// bindings/python/src/module.cpp -- the `ringwire` Python module: its exception, result
// and enum classes, Segment, and the module-level functions. The endpoints are in
// bytes.cpp (byte broadcast, byte ring) and typed.cpp (SPSC, MPSC, broadcast).
#include <cctype>
#include <cmath>
#include <string>

#include <pybind11/eval.h>

#include "common.hpp"

#ifndef RINGWIRE_PY_VERSION
#define RINGWIRE_PY_VERSION "0"
#endif

namespace rwpy {

Types& types() {
  static Types t;
  return t;
}

namespace {

// The classes a Python user subclasses, compares and reads: plain Python, run at import in
// the module's namespace (so their __module__ is "ringwire").
constexpr const char* python_classes = R"PY(
import collections as _collections

class Error(Exception):
    """A ringwire failure, one to one with the C API's rw_errc.

    errc: a ringwire.Errc member (rw_last_errc()); message: the library's words
    (rw_last_error())."""

    def __init__(self, errc, message):
        super().__init__(errc, message)
        self.errc = errc
        self.message = message

    def __str__(self):
        return f"{self.message} [{getattr(self.errc, 'name', self.errc)}]"


class Closed(EOFError):
    """The stream ended: its writer / sender / publisher closed (or every MPSC producer
    and many-to-one writer did) and everything sent before was read. Iteration ends on it."""


class Evicted(Exception):
    """An evict-policy broadcast subscriber fell more than the segment's evict lag behind and
    was dropped by the publisher; attach a new subscriber to go on."""


class TooSmall(BufferError):
    """read_into(): the next message is `size` bytes, more than the buffer; nothing was read."""

    def __init__(self, size):
        super().__init__(f"the next message is {size} bytes, more than the buffer holds")
        self.size = size


class Lagged:
    """A receive's result, not an exception: `missed` messages were lost (overwritten, or
    skipped by the writer) before the next one, which the next receive returns.
    `corrupt`: a byte-broadcast entry that could not be valid was skipped (missed == 1).
    Every lag is also added to the endpoint's `missed` total."""

    __slots__ = ("missed", "corrupt")

    def __init__(self, missed, corrupt=False):
        self.missed = missed
        self.corrupt = corrupt

    def __repr__(self):
        return f"Lagged(missed={self.missed}" + (", corrupt=True)" if self.corrupt else ")")

    def __eq__(self, other):
        return isinstance(other, Lagged) and (self.missed, self.corrupt) == (other.missed, other.corrupt)

    def __hash__(self):
        return hash((Lagged, self.missed, self.corrupt))


Counter = _collections.namedtuple("Counter", "role index key value")
Counter.__doc__ = """One of Segment.counters(): role None for channel-wide items, "claims" for the
claims held, else the endpoint's role ("subscriber", "lane", ...) and its entry's index."""

SegmentInfo = _collections.namedtuple(
    "SegmentInfo",
    "name kind capacity elem_size elem_align type_tag endpoints policy region_bytes creator_pid"
    " depth max_message max_credited")
SegmentInfo.__doc__ = """What a segment's header records (rw_segment_describe), plus the byte-broadcast
geometry (depth, max_message, max_credited; 0 for other kinds)."""
)PY";

py::object make_int_enum(py::module_& m, const char* name, std::initializer_list<std::pair<const char*, int>> members,
                         const char* doc) {
  py::list items;
  for (const auto& [n, v] : members) items.append(py::make_tuple(n, v));
  py::object e = py::module_::import("enum").attr("IntEnum")(name, items, py::arg("module") = "ringwire");
  e.attr("__doc__") = doc;
  m.attr(name) = e;
  return e;
}

PyObject* keep(const py::object& o) { return o.inc_ref().ptr(); }  // held for the process's life

}  // namespace

// ---- errors and results ----------------------------------------------------------------------

py::object errc_object(int errc) {
  try {
    return py::reinterpret_borrow<py::object>(types().Errc)(errc);
  } catch (py::error_already_set&) {  // a value this build does not name
    return py::int_(errc);
  }
}

void raise_error(int errc, const std::string& message) {
  py::object e = py::reinterpret_borrow<py::object>(types().Error)(errc_object(errc), message);
  PyErr_SetObject(types().Error, e.ptr());
  throw py::error_already_set();
}

void raise_last(const char* call) {
  const int errc = rw_last_errc();
  std::string msg = rw_last_error();
  if (msg.empty()) msg = std::string(call) + " failed";
  raise_error(errc, msg);
}

void raise_closed(const char* what) {
  PyErr_SetString(types().Closed, (std::string(what) + ": the stream is closed").c_str());
  throw py::error_already_set();
}

void raise_evicted() {
  PyErr_SetString(types().Evicted, "the subscriber was evicted (it fell more than the evict lag behind)");
  throw py::error_already_set();
}

void raise_too_small(std::uint64_t size) {
  py::object e = py::reinterpret_borrow<py::object>(types().TooSmall)(size);
  PyErr_SetObject(types().TooSmall, e.ptr());
  throw py::error_already_set();
}

void raise_value(const std::string& message) { throw py::value_error(message); }
void raise_type(const std::string& message) { throw py::type_error(message); }

py::object make_lagged(std::uint64_t missed, bool corrupt) {
  return py::reinterpret_borrow<py::object>(types().Lagged)(missed, corrupt);
}

py::object status_object(int s) {
  try {
    return py::reinterpret_borrow<py::object>(types().Status)(s);
  } catch (py::error_already_set&) {
    return py::int_(s);
  }
}

// ---- buffers and views -----------------------------------------------------------------------

InBuffer::InBuffer(const py::handle& obj) {
  if (PyBytes_Check(obj.ptr())) {  // the common case, without a buffer export
    data_ = PyBytes_AS_STRING(obj.ptr());
    size_ = static_cast<std::size_t>(PyBytes_GET_SIZE(obj.ptr()));
    return;
  }
  if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_C_CONTIGUOUS) != 0) {
    PyErr_Clear();
    raise_type(std::string("a bytes-like object (bytes, bytearray, memoryview, a contiguous array) is required, not ") +
               Py_TYPE(obj.ptr())->tp_name);
  }
  has_view_ = true;
  data_ = view_.buf;
  size_ = static_cast<std::size_t>(view_.len);
}

InBuffer::~InBuffer() {
  if (has_view_) PyBuffer_Release(&view_);
}

OutBuffer::OutBuffer(const py::handle& obj) {
  if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) {
    PyErr_Clear();
    raise_type(std::string("a writable contiguous buffer (bytearray, memoryview, numpy array) is required, not ") +
               Py_TYPE(obj.ptr())->tp_name);
  }
}

namespace {

// The _ShmView behind a buffer-protocol call, or nullptr (no Python error left set).
ShmView* shm_view_of(PyObject* o) noexcept {
  try {
    return py::handle(o).cast<ShmView*>();
  } catch (...) {
    return nullptr;
  }
}

// _ShmView's buffer procs: a one-dimensional unsigned-byte buffer, counted; none once revoked.
int shm_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  view->obj = nullptr;
  ShmView* v = shm_view_of(self);
  if (v == nullptr) {
    PyErr_SetString(PyExc_BufferError, "ringwire._ShmView: not a view");
    return -1;
  }
  if (v->revoked) {
    PyErr_SetString(PyExc_BufferError,
                    "this ringwire zero-copy view has ended (commit, abort, release or close): its memory is not yours");
    return -1;
  }
  if (PyBuffer_FillInfo(view, self, v->ptr, v->size, v->readonly ? 1 : 0, flags) != 0) return -1;
  ++v->exports;
  return 0;
}

void shm_releasebuffer(PyObject* self, Py_buffer*) {
  if (ShmView* v = shm_view_of(self)) --v->exports;
}

py::object make_exporter(const SegPtr& seg, void* ptr, py::ssize_t size, bool readonly) {
  return py::cast(ShmView{seg, ptr, size, readonly});
}

void clear_writeable(const py::object& a) noexcept {
  if (a && py::isinstance<py::array>(a))
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
}

}  // namespace

py::object shm_memoryview(const SegPtr& seg, void* ptr, std::size_t size, bool readonly) {
  py::object exporter = make_exporter(seg, ptr, static_cast<py::ssize_t>(size), readonly);
  PyObject* mv = PyMemoryView_FromObject(exporter.ptr());
  if (mv == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(mv);
}

py::array shm_array(const SegPtr& seg, const py::dtype& dt, void* ptr, std::size_t n, bool readonly) {
  const auto item = static_cast<py::ssize_t>(dt.itemsize());
  py::object base = make_exporter(seg, ptr, item * static_cast<py::ssize_t>(n), readonly);
  py::array a(dt, {static_cast<py::ssize_t>(n)}, {item}, ptr, base);
  if (readonly) clear_writeable(a);
  return a;
}

void release_views(std::vector<py::object>& views) {
  for (py::object& v : views) {
    // Revoke the exporter first (mv.obj is readable until the view is released): nothing
    // can make a new view of the record from it.
    if (PyObject* o = PyObject_GetAttrString(v.ptr(), "obj")) {
      if (ShmView* sv = shm_view_of(o)) sv->revoked = true;
      Py_DECREF(o);
    } else {
      PyErr_Clear();  // already released
    }
    PyObject* r = PyObject_CallMethod(v.ptr(), "release", nullptr);
    if (r == nullptr) {
      PyErr_Clear();  // still exported (e.g. np.frombuffer of it): it stays mapped
    } else {
      Py_DECREF(r);
    }
  }
  views.clear();
}

Lease lease_memoryview(const SegPtr& seg, void* ptr, std::size_t size) {
  Lease l;
  l.exporter = make_exporter(seg, ptr, static_cast<py::ssize_t>(size), false);
  PyObject* mv = PyMemoryView_FromObject(l.exporter.ptr());
  if (mv == nullptr) throw py::error_already_set();
  l.view = py::reinterpret_steal<py::object>(mv);
  return l;
}

Lease lease_array(const SegPtr& seg, const py::dtype& dt, void* ptr, std::size_t n) {
  Lease l;
  const auto item = static_cast<py::ssize_t>(dt.itemsize());
  l.exporter = make_exporter(seg, ptr, item * static_cast<py::ssize_t>(n), false);
  l.core = py::array(dt, {static_cast<py::ssize_t>(n)}, {item}, ptr, l.exporter);
  l.view = l.core.attr("view")();  // its base is core, as is every numpy view's of it
  return l;
}

bool lease_quiet(Lease& l) {
  if (!l) return true;
  const ShmView* sv = shm_view_of(l.exporter.ptr());
  if (sv == nullptr) return false;
  if (l.core) {
    // core's references: ours and the handed-out array's base; any more are numpy views.
    return Py_REFCNT(l.core.ptr()) <= 2 && sv->exports == 0;
  }
  PyObject* r = PyObject_CallMethod(l.view.ptr(), "release", nullptr);
  if (r == nullptr) {  // BufferError: something holds a buffer of the memoryview itself
    PyErr_Clear();
    return false;
  }
  Py_DECREF(r);
  return sv->exports == 0;  // else a memoryview sliced / made from it holds the export
}

void raise_views_alive(const char* call) {
  throw py::buffer_error(
      std::string(call) +
      ": other views of the reservation are still alive (a slice or memoryview of it, an array made from it with "
      "np.frombuffer, a numpy view of the reserved array): delete them first; the reservation stays open");
}

void end_lease(Lease& l) noexcept {
  if (!l) return;
  if (ShmView* sv = shm_view_of(l.exporter.ptr())) sv->revoked = true;
  if (l.core) {
    clear_writeable(l.core);
    clear_writeable(l.view);
  } else if (PyObject* r = PyObject_CallMethod(l.view.ptr(), "release", nullptr)) {
    Py_DECREF(r);
  } else {
    PyErr_Clear();
  }
  l = Lease{};
}

// ---- deadlines -------------------------------------------------------------------------------

Deadline Deadline::from(const py::handle& timeout) {
  if (timeout.is_none()) return forever();
  double s = 0;
  if (py::hasattr(timeout, "total_seconds")) {
    s = timeout.attr("total_seconds")().cast<double>();
  } else {
    s = py::reinterpret_borrow<py::object>(timeout).cast<double>();
  }
  if (std::isnan(s)) raise_value("timeout is NaN");
  const auto now = std::chrono::steady_clock::now();
  if (s <= 0) return Deadline(false, now);
  if (s > 1e9) return forever();  // ~31 years
  return Deadline(false, now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(s)));
}

std::uint64_t Deadline::next_slice() const {
  if (forever_) return slice_ns;
  const auto left = at_ - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  const auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
  return ns == 0 ? 1 : (ns < slice_ns ? ns : slice_ns);
}

// ---- Segment ---------------------------------------------------------------------------------

namespace {

const char* kind_name(int k) {
  switch (k) {
    case RW_KIND_SPSC: return "spsc";
    case RW_KIND_MPSC: return "mpsc";
    case RW_KIND_BROADCAST: return "broadcast";
    case RW_KIND_BYTE_RING: return "byte_ring";
    case RW_KIND_BYTE_BROADCAST: return "byte_broadcast";
    default: return "unknown";
  }
}

std::string name_arg(const std::string& name) {
  if (name.find('\0') != std::string::npos) raise_value("a segment name cannot contain NUL");
  return name;
}

Segment make_segment(rw_segment* raw, const std::string& name, const char* call, py::object dt) {
  if (raw == nullptr) raise_last(call);
  Segment s;
  s.core = std::make_shared<SegCore>(raw, name);
  if (rw_segment_describe(raw, &s.info) != 0) raise_last("rw_segment_describe");
  s.dtype = std::move(dt);
  return s;
}

// An element dtype: plain bytes only. Elements are copied from and viewed in memory another
// process writes, so a dtype holding Python objects (their bytes would be taken as PyObject
// pointers) is refused, as is a subarray dtype ('(2,)i4': numpy turns it into an extra
// dimension of its base type, so an array of it does not count elements).
py::dtype dtype_arg(const py::object& dt) {
  py::dtype d = py::dtype::from_args(dt);
  if (d.attr("hasobject").cast<bool>())
    raise_error(RW_E_INVALID_OPTIONS, "the dtype " + py::str(d).cast<std::string>() +
                                          " holds Python objects: elements must be plain bytes (numbers, "
                                          "strings, records of them)");
  if (!d.attr("subdtype").is_none())
    raise_error(RW_E_INVALID_OPTIONS, "the dtype " + py::str(d).cast<std::string>() +
                                          " is a subarray: use a structured dtype with a field of that "
                                          "shape (e.g. [('v', '(2,)i4')])");
  return d;
}

std::uint32_t elem_size_of(const py::dtype& dt) {
  const auto n = dt.itemsize();
  if (n <= 0 || n > static_cast<py::ssize_t>(RW_MAX_ELEM_SIZE) || n % 8 != 0)
    raise_error(RW_E_INVALID_OPTIONS, "the dtype's itemsize is " + std::to_string(n) + ": elements are 8 .. " +
                                          std::to_string(RW_MAX_ELEM_SIZE) + " bytes, a multiple of 8");
  return static_cast<std::uint32_t>(n);
}

std::uint32_t policy_arg(const py::handle& p) {
  if (py::isinstance<py::str>(p)) {
    std::string s = p.cast<std::string>();
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "lossy") return RW_BC_LOSSY;
    if (s == "lossless") return RW_BC_LOSSLESS;
    if (s == "evict") return RW_BC_EVICT;
    raise_value("policy '" + s + "': one of 'lossy', 'lossless', 'evict' (or ringwire.Policy)");
  }
  // An integer (a ringwire.Policy, say): rw_bc_create checks the value; one that does not
  // fit its uint32_t parameter is refused here as it would be there.
  PyObject* i = PyNumber_Index(p.ptr());  // TypeError for a non-integer
  if (i == nullptr) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
  Py_DECREF(i);
  if (v == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
  if (overflow != 0 || v < 0 || v > static_cast<long long>(UINT32_MAX))
    raise_error(RW_E_INVALID_OPTIONS, "policy " + py::str(p).cast<std::string>() + ": one of ringwire.Policy's values");
  return static_cast<std::uint32_t>(v);
}

py::object segment_info(const Segment& s) {
  const rw_segment_info& i = s.info;
  rw_bb_geometry g{};
  if (i.kind == RW_KIND_BYTE_BROADCAST && rw_bb_segment_geometry(s.get(), &g) != 0) raise_last("rw_bb_segment_geometry");
  py::object kind = py::reinterpret_borrow<py::object>(types().Kind)(static_cast<int>(i.kind));
  py::object policy = i.kind == RW_KIND_BROADCAST ? py::reinterpret_borrow<py::object>(types().Policy)(i.policy)
                                                  : py::object(py::int_(i.policy));
  py::object cls = py::reinterpret_borrow<py::object>(types().SegmentInfo);
  return cls(s.ptr()->name, kind, i.capacity, i.elem_size, i.elem_align, i.type_tag, i.endpoints, policy,
             i.region_bytes, i.creator_pid, g.depth, g.max_message, g.max_credited);
}

py::list segment_counters(const Segment& s) {
  rw_segment* seg = s.get();
  std::vector<rw_counter> out;
  long n = rw_segment_counters(seg, nullptr, 0);
  for (;;) {
    if (n < 0) raise_last("rw_segment_counters");
    out.resize(static_cast<std::size_t>(n));
    const long again = rw_segment_counters(seg, out.data(), out.size());
    if (again <= n) {
      n = again;
      break;
    }
    n = again;  // it grew between the calls (an endpoint attached): size again
  }
  if (n < 0) raise_last("rw_segment_counters");
  py::object cls = py::reinterpret_borrow<py::object>(types().Counter);
  py::list l;
  for (long k = 0; k < n; ++k) {
    const rw_counter& c = out[static_cast<std::size_t>(k)];
    py::object role = c.role == nullptr ? py::object(py::none()) : py::object(py::str(c.role));
    l.append(cls(role, c.index, py::str(c.key), c.value));
  }
  return l;
}

}  // namespace

rw_segment* Segment::get() const {
  if (!core) raise_error(RW_E_INVALID_ARGUMENT, "the segment is closed");
  return core->seg;
}

const SegPtr& Segment::ptr() const {
  get();
  return core;
}

py::dtype Segment::elem_dtype(const py::object& dt) const {
  py::dtype d = !dt.is_none()        ? dtype_arg(dt)
                : !dtype.is_none()   ? py::reinterpret_borrow<py::dtype>(dtype)
                                     : py::dtype("V" + std::to_string(info.elem_size));
  if (d.itemsize() != static_cast<py::ssize_t>(info.elem_size))
    raise_error(RW_E_SHM_TYPE_MISMATCH, "the dtype's itemsize is " + std::to_string(d.itemsize()) +
                                            ", the segment's elements are " + std::to_string(info.elem_size) +
                                            " bytes");
  return d;
}

void Segment::require_kind(std::initializer_list<rw_kind> kinds, const char* endpoint) const {
  get();
  for (rw_kind k : kinds)
    if (info.kind == k) return;
  std::string want;
  for (rw_kind k : kinds) want += std::string(want.empty() ? "" : " or ") + kind_name(k);
  raise_error(RW_E_SHM_KIND_MISMATCH, "segment '" + core->name + "' holds a " + kind_name(info.kind) + " channel; " +
                                          endpoint + "() needs a " + want + " segment");
}

}  // namespace rwpy

using namespace rwpy;

PYBIND11_MODULE(ringwire, m) {
  m.doc() = "ringwire shared-memory channels from Python (over the C API, libringwire_c).";
  m.attr("__version__") = RINGWIRE_PY_VERSION;
  // A libringwire_c of another ABI (an install from another release) is refused at import.
  if (rw_abi_version() != RW_ABI_VERSION)
    throw py::import_error("ringwire: libringwire_c has ABI " + std::to_string(rw_abi_version()) +
                           ", this module was built for ABI " + std::to_string(RW_ABI_VERSION));
  m.attr("library_version") = rw_version();
  m.attr("MAX_ELEM_SIZE") = RW_MAX_ELEM_SIZE;

  Types& t = types();
  t.Status = keep(make_int_enum(m, "Status",
                                {{"OK", RW_OK}, {"FULL", RW_FULL}, {"EMPTY", RW_EMPTY}, {"CLOSED", RW_CLOSED},
                                 {"TIMED_OUT", RW_TIMED_OUT}, {"CANCELLED", RW_CANCELLED}, {"LAGGED", RW_LAGGED},
                                 {"EVICTED", RW_EVICTED}, {"TOO_SMALL", RW_TOO_SMALL}, {"CORRUPT", RW_CORRUPT},
                                 {"ERROR", RW_ERROR}},
                                "A call's outcome (rw_status; an endpoint's last_status)."));
  t.Errc = keep(make_int_enum(
      m, "Errc",
      {{"NONE", RW_E_NONE},
       {"INVALID_CAPACITY", RW_E_INVALID_CAPACITY},
       {"CAPACITY_TOO_LARGE", RW_E_CAPACITY_TOO_LARGE},
       {"ALREADY_SPLIT", RW_E_ALREADY_SPLIT},
       {"INVALID_OPTIONS", RW_E_INVALID_OPTIONS},
       {"TOO_MANY_SUBSCRIBERS", RW_E_TOO_MANY_SUBSCRIBERS},
       {"INVALID_TOPIC", RW_E_INVALID_TOPIC},
       {"PUBLISHER_EXISTS", RW_E_PUBLISHER_EXISTS},
       {"TYPE_MISMATCH", RW_E_TYPE_MISMATCH},
       {"TOPIC_CONFLICT", RW_E_TOPIC_CONFLICT},
       {"TOO_MANY_PRODUCERS", RW_E_TOO_MANY_PRODUCERS},
       {"SHM_EXISTS", RW_E_SHM_EXISTS},
       {"SHM_NOT_FOUND", RW_E_SHM_NOT_FOUND},
       {"SHM_PERMISSION_DENIED", RW_E_SHM_PERMISSION_DENIED},
       {"SHM_NOT_RINGWIRE", RW_E_SHM_NOT_RINGWIRE},
       {"SHM_VERSION_MISMATCH", RW_E_SHM_VERSION_MISMATCH},
       {"SHM_KIND_MISMATCH", RW_E_SHM_KIND_MISMATCH},
       {"SHM_TYPE_MISMATCH", RW_E_SHM_TYPE_MISMATCH},
       {"SHM_CAPACITY_MISMATCH", RW_E_SHM_CAPACITY_MISMATCH},
       {"SHM_TRUNCATED", RW_E_SHM_TRUNCATED},
       {"SHM_INITIALISING", RW_E_SHM_INITIALISING},
       {"SHM_CORRUPT", RW_E_SHM_CORRUPT},
       {"SHM_ALREADY_ATTACHED", RW_E_SHM_ALREADY_ATTACHED},
       {"SHM_SYSTEM_ERROR", RW_E_SHM_SYSTEM_ERROR},
       {"MESSAGE_TOO_LARGE", RW_E_MESSAGE_TOO_LARGE},
       {"INVALID_MESSAGE_TYPE", RW_E_INVALID_MESSAGE_TYPE},
       {"RING_CORRUPT", RW_E_RING_CORRUPT},
       {"SHM_NOT_A_SEGMENT", RW_E_SHM_NOT_A_SEGMENT},
       {"SHM_UNTRUSTED_OWNER", RW_E_SHM_UNTRUSTED_OWNER},
       {"INVALID_CPU", RW_E_INVALID_CPU},
       {"INVALID_NUMA_NODE", RW_E_INVALID_NUMA_NODE},
       {"HUGEPAGES_UNAVAILABLE", RW_E_HUGEPAGES_UNAVAILABLE},
       {"MEMORY_LOCK_DENIED", RW_E_MEMORY_LOCK_DENIED},
       {"INVALID_ARGUMENT", RW_E_INVALID_ARGUMENT},
       {"INTERNAL", RW_E_INTERNAL}},
      "ringwire.Error's errc: the C API's rw_errc (ringwire::errc one to one, from 1)."));
  t.Kind = keep(make_int_enum(m, "Kind",
                              {{"SPSC", RW_KIND_SPSC}, {"MPSC", RW_KIND_MPSC}, {"BROADCAST", RW_KIND_BROADCAST},
                               {"BYTE_RING", RW_KIND_BYTE_RING}, {"BYTE_BROADCAST", RW_KIND_BYTE_BROADCAST}},
                              "A segment's channel kind (rw_kind)."));
  t.Policy = keep(make_int_enum(m, "Policy",
                                {{"LOSSY", RW_BC_LOSSY}, {"LOSSLESS", RW_BC_LOSSLESS}, {"EVICT", RW_BC_EVICT}},
                                "A broadcast segment's policy (rw_bc_policy)."));

  py::exec(python_classes, m.attr("__dict__"));
  t.Error = keep(m.attr("Error"));
  t.Closed = keep(m.attr("Closed"));
  t.Evicted = keep(m.attr("Evicted"));
  t.TooSmall = keep(m.attr("TooSmall"));
  t.Lagged = keep(m.attr("Lagged"));
  t.Counter = keep(m.attr("Counter"));
  t.SegmentInfo = keep(m.attr("SegmentInfo"));
  py::module_ np = py::module_::import("numpy");
  t.np_generic = keep(np.attr("generic"));
  t.np_ascontiguousarray = keep(np.attr("ascontiguousarray"));

  {
    py::class_<ShmView> sv(m, "_ShmView", py::buffer_protocol(), py::is_final(),
                           "A view's owner: keeps the segment mapped; revoked when the view ends.");
    sv.def_property_readonly("revoked", [](const ShmView& v) { return v.revoked; })
        .def_property_readonly("exports", [](const ShmView& v) { return v.exports; });
    // Its own buffer procs (pybind11's def_buffer neither counts exports nor refuses them).
    PyBufferProcs* procs = reinterpret_cast<PyTypeObject*>(sv.ptr())->tp_as_buffer;
    procs->bf_getbuffer = shm_getbuffer;
    procs->bf_releasebuffer = shm_releasebuffer;
  }

  py::class_<Iterator>(m, "_Iterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](Iterator& it) { return it.next(); });

  auto unlink = [](const std::string& name) {
    const int r = rw_unlink(name_arg(name).c_str());
    if (r < 0) raise_last("rw_unlink");
    return r == 1;
  };
  m.def("unlink", unlink, py::arg("name"),
        "Removes the segment's name (mapped segments live on until their last user leaves). "
        "True if it was there, False if there was none.");

  py::class_<Segment>(m, "Segment", R"doc(A shared-memory segment holding one ringwire channel.

Create one with a create_* function (exclusive: ringwire.Error SHM_EXISTS if the name is taken;
the name stays until ringwire.unlink(name)) or join one with Segment.open(name). Attach endpoints
with writer()/reader() (byte kinds), sender()/receiver() (SPSC, MPSC), publisher()/subscriber()
(broadcast). A context manager: close() on exit. Closing the segment object never invalidates
endpoints or views made from it: the mapping stays until the last of them is gone.)doc")
      .def_static(
          "create_byte_broadcast",
          [](const std::string& name, std::uint64_t depth, std::uint64_t region_bytes, std::uint64_t max_message,
             std::uint32_t max_credited) {
            const rw_bb_geometry g{depth, region_bytes, max_message, max_credited};
            return make_segment(rw_bb_create(name_arg(name).c_str(), &g), name, "rw_bb_create", py::none());
          },
          py::arg("name"), py::arg("depth"), py::arg("region_bytes"), py::arg("max_message"),
          py::arg("max_credited") = 0,
          "A byte-broadcast segment: depth and region_bytes powers of two, max_message (8-aligned) at most "
          "region_bytes / 2, up to max_credited lossless readers at once.")
      .def_static(
          "create_spsc",
          [](const std::string& name, std::uint64_t capacity, const py::object& dt, std::uint64_t tag) {
            py::dtype d = dtype_arg(dt);
            return make_segment(rw_spsc_create(name_arg(name).c_str(), capacity, elem_size_of(d), tag), name,
                                "rw_spsc_create", d);
          },
          py::arg("name"), py::arg("capacity"), py::arg("dtype"), py::arg("type_tag") = 0,
          "An SPSC segment of `capacity` elements of `dtype` (itemsize a multiple of 8, 8 .. 256; "
          "type_tag: the C++ peer's ringwire::shm::type_tag<T>::value).")
      .def_static(
          "create_mpsc",
          [](const std::string& name, std::uint64_t lane_capacity, std::uint32_t max_producers, const py::object& dt,
             std::uint64_t tag) {
            py::dtype d = dtype_arg(dt);
            return make_segment(
                rw_mpsc_create(name_arg(name).c_str(), lane_capacity, max_producers, elem_size_of(d), tag), name,
                "rw_mpsc_create", d);
          },
          py::arg("name"), py::arg("lane_capacity"), py::arg("max_producers"), py::arg("dtype"),
          py::arg("type_tag") = 0, "An MPSC segment: a lane of lane_capacity elements per producer.")
      .def_static(
          "create_broadcast",
          [](const std::string& name, std::uint64_t capacity, std::uint32_t max_subscribers, const py::object& dt,
             std::uint64_t tag, const py::object& policy) {
            py::dtype d = dtype_arg(dt);
            return make_segment(rw_bc_create(name_arg(name).c_str(), capacity, max_subscribers, policy_arg(policy),
                                             elem_size_of(d), tag),
                                name, "rw_bc_create", d);
          },
          py::arg("name"), py::arg("capacity"), py::arg("max_subscribers"), py::arg("dtype"), py::arg("type_tag") = 0,
          py::arg("policy") = "lossy",
          "A typed broadcast segment; policy 'lossy' (subscribers may lag), 'lossless' (the publisher waits for "
          "the slowest) or 'evict' (laggards are dropped), or a ringwire.Policy.")
      .def_static(
          "create_byte_ring",
          [](const std::string& name, std::uint64_t capacity_bytes, bool many_to_one, std::uint32_t max_writers) {
            return make_segment(rw_br_create(name_arg(name).c_str(), capacity_bytes, many_to_one ? 1 : 0, max_writers),
                                name, "rw_br_create", py::none());
          },
          py::arg("name"), py::arg("capacity_bytes"), py::arg("many_to_one") = false, py::arg("max_writers") = 0,
          "A byte ring (lossless typed records): capacity_bytes a power of two, 64 .. 2**30; many_to_one: up to "
          "max_writers writer processes at once.")
      .def_static(
          "open",
          [](const std::string& name, const py::object& dt) {
            Segment s = make_segment(rw_open(name_arg(name).c_str()), name, "rw_open", py::none());
            if (!dt.is_none()) s.dtype = s.elem_dtype(dt);
            return s;
          },
          py::arg("name"), py::arg("dtype") = py::none(),
          "Joins an existing segment of any kind with the geometry its header records (ringwire.Error "
          "SHM_NOT_FOUND if there is none). dtype: the element dtype for typed kinds (default: raw "
          "'V<elem_size>' records).")
      .def_static(
          "open_fd",
          [](int fd, const py::object& dt) {
            Segment s = make_segment(rw_open_fd(fd), std::string(), "rw_open_fd", py::none());
            if (!dt.is_none()) s.dtype = s.elem_dtype(dt);
            return s;
          },
          py::arg("fd"), py::arg("dtype") = py::none(),
          "Joins the segment behind a descriptor (an anonymous segment's, received over a UNIX socket or "
          "inherited): as open(). The caller keeps fd; the segment holds a duplicate.")
      .def_property_readonly("fd", [](const Segment& s) { return rw_segment_fd(s.get()); },
                             "An anonymous segment's descriptor (pass it to join it elsewhere); -1 for a named one.")
      .def_static("unlink", unlink, py::arg("name"), "ringwire.unlink(name).")
      .def_property_readonly("name", [](const Segment& s) { return s.ptr()->name; })
      .def_property_readonly("kind", [](const Segment& s) {
        s.get();
        return py::reinterpret_borrow<py::object>(types().Kind)(static_cast<int>(s.info.kind));
      })
      .def_property_readonly("dtype", [](const Segment& s) -> py::object {
        s.get();
        if (s.info.kind != RW_KIND_SPSC && s.info.kind != RW_KIND_MPSC && s.info.kind != RW_KIND_BROADCAST)
          return py::none();
        return s.elem_dtype(py::none());
      }, "Typed kinds: the element dtype; None for byte kinds.")
      .def_property_readonly("info", &segment_info, "A SegmentInfo: what the header records.")
      .def("counters", &segment_counters,
           "The channel's counters as `ringwire stat` shows them: a list of Counter(role, index, key, value).")
      .def("reap", [](Segment& s) {
        const int r = rw_reap(s.get());
        if (r < 0) raise_last("rw_reap");
        return r;
      }, "Crash recovery: closes endpoints whose process is dead; returns how many.")
      .def("close_producers", [](Segment& s) {
        s.require_kind({RW_KIND_MPSC}, "close_producers");
        const int r = rw_mpsc_close_producers(s.get());
        if (r < 0) raise_last("rw_mpsc_close_producers");
        return r == 1;
      }, "MPSC: no more senders; the receiver sees Closed once every lane is drained.")
      .def("close_writers", [](Segment& s) {
        s.require_kind({RW_KIND_BYTE_RING}, "close_writers");
        const int r = rw_br_close_writers(s.get());
        if (r < 0) raise_last("rw_br_close_writers");
        return r == 1;
      }, "Many-to-one byte ring: no more writers; the reader sees Closed once drained.")
      .def("writer", [](const Segment& s) -> py::object {
        s.require_kind({RW_KIND_BYTE_BROADCAST, RW_KIND_BYTE_RING}, "writer");
        return s.info.kind == RW_KIND_BYTE_BROADCAST ? attach_bb_writer(s) : attach_br_writer(s);
      }, "The writer of a byte-broadcast (ByteBroadcastWriter) or byte-ring (ByteRingWriter) segment.")
      .def("reader", [](const Segment& s, bool credited) -> py::object {
        s.require_kind({RW_KIND_BYTE_BROADCAST, RW_KIND_BYTE_RING}, "reader");
        if (s.info.kind == RW_KIND_BYTE_BROADCAST) return attach_bb_reader(s, credited);
        if (credited) raise_value("credited readers are a byte-broadcast notion (a byte ring's reader loses nothing)");
        return attach_br_reader(s);
      }, py::arg("credited") = false,
         "A byte-broadcast reader (credited: lossless, holds the writer back) or the byte ring's reader.")
      .def("sender", [](const Segment& s, const py::object& dt, std::uint64_t tag) -> py::object {
        s.require_kind({RW_KIND_SPSC, RW_KIND_MPSC}, "sender");
        return s.info.kind == RW_KIND_SPSC ? attach_spsc_sender(s, dt, tag) : attach_mpsc_sender(s, dt, tag);
      }, py::arg("dtype") = py::none(), py::arg("type_tag") = 0,
         "An SPSC sender or an MPSC lane's sender (type_tag 0: not checked).")
      .def("receiver", [](const Segment& s, const py::object& dt, std::uint64_t tag) -> py::object {
        s.require_kind({RW_KIND_SPSC, RW_KIND_MPSC}, "receiver");
        return s.info.kind == RW_KIND_SPSC ? attach_spsc_receiver(s, dt, tag) : attach_mpsc_receiver(s, dt, tag);
      }, py::arg("dtype") = py::none(), py::arg("type_tag") = 0, "The SPSC or MPSC receiver.")
      .def("publisher", [](const Segment& s, const py::object& dt, std::uint64_t tag) {
        s.require_kind({RW_KIND_BROADCAST}, "publisher");
        return attach_bc_publisher(s, dt, tag);
      }, py::arg("dtype") = py::none(), py::arg("type_tag") = 0, "The broadcast segment's publisher.")
      .def("subscriber", [](const Segment& s, const py::object& dt, std::uint64_t tag) {
        s.require_kind({RW_KIND_BROADCAST}, "subscriber");
        return attach_bc_subscriber(s, dt, tag);
      }, py::arg("dtype") = py::none(), py::arg("type_tag") = 0,
         "A broadcast subscriber (starts at the next message).")
      .def("close", [](Segment& s) { s.core.reset(); },
           "Drops this handle; endpoints and views made from it keep the mapping until they are gone.")
      .def_property_readonly("closed", [](const Segment& s) { return !s.core; })
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](Segment& s, const py::args&) { s.core.reset(); })
      .def("__repr__", [](const Segment& s) {
        if (!s.core) return std::string("<ringwire.Segment (closed)>");
        return "<ringwire.Segment '" + s.core->name + "' " + kind_name(s.info.kind) + ">";
      });

  bind_bytes(m);
  bind_typed(m);
}
