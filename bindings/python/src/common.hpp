// bindings/python/src/common.hpp -- what every part of the `ringwire` Python module shares:
// the Python exception and result classes, the segment handle shared by its endpoints, an
// endpoint's lock and the interruptible wait loop, and the views into shared memory.
//
// Safety rules the module keeps (documented for users in docs/bindings.md, "Python"):
// * A C handle is used by one thread at a time: every endpoint has a mutex, taken around
//   each C call. A thread that must wait for it releases the GIL first, so a thread blocked
//   in a timed call (GIL released, mutex held only for one slice) never deadlocks another.
// * The mapping outlives every object that points into it: endpoints, memoryviews and
//   numpy views hold a shared_ptr to the segment handle (SegCore), which calls
//   rw_segment_close only when the last of them is gone. A stale view may show overwritten
//   bytes, never unmapped memory.
// * A writable view (a reservation's) is never left writable past its commit or abort: both
//   refuse (BufferError) while a view made from it is alive, then release the memoryview /
//   make the array read-only and revoke their exporter (so numpy cannot make them writable
//   again). Element dtypes are plain bytes: no Python objects, no subarray dtype.
// * Blocking calls wait in slices of at most 50 ms with the GIL released and check for
//   signals between slices (Ctrl-C raises KeyboardInterrupt within a slice).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringwire/ringwire_c.h"

namespace rwpy {

namespace py = pybind11;

// ---- Python-side classes, made once at import and kept for the process's life ----------
struct Types {
  PyObject* Error = nullptr;     // ringwire.Error(errc, message)
  PyObject* Closed = nullptr;    // ringwire.Closed (an EOFError): the stream ended
  PyObject* Evicted = nullptr;   // ringwire.Evicted: an evict-policy subscriber was dropped
  PyObject* TooSmall = nullptr;  // ringwire.TooSmall (a BufferError): read_into's buffer
  PyObject* Lagged = nullptr;    // ringwire.Lagged(missed, corrupt=False): a result
  PyObject* Status = nullptr;    // IntEnum
  PyObject* Errc = nullptr;      // IntEnum
  PyObject* Kind = nullptr;      // IntEnum
  PyObject* Policy = nullptr;    // IntEnum
  PyObject* Counter = nullptr;   // namedtuple(role, index, key, value)
  PyObject* SegmentInfo = nullptr;  // namedtuple
  PyObject* np_generic = nullptr;   // numpy.generic
  PyObject* np_ascontiguousarray = nullptr;
};
Types& types();

// Raise ringwire.Error with this errc and message (an Errc member when the value is known).
[[noreturn]] void raise_error(int errc, const std::string& message);
// Raise ringwire.Error from this thread's rw_last_errc() / rw_last_error(); call it right
// after the failing C call, on the thread that made it.
[[noreturn]] void raise_last(const char* call);
[[noreturn]] void raise_closed(const char* what);
[[noreturn]] void raise_evicted();
[[noreturn]] void raise_too_small(std::uint64_t size);
[[noreturn]] void raise_value(const std::string& message);  // ValueError
[[noreturn]] void raise_type(const std::string& message);   // TypeError
py::object make_lagged(std::uint64_t missed, bool corrupt = false);
py::object status_object(int s);

// ---- the segment handle --------------------------------------------------------------------
struct SegCore {
  rw_segment* seg = nullptr;
  std::string name;
  SegCore(rw_segment* s, std::string n) : seg(s), name(std::move(n)) {}
  SegCore(const SegCore&) = delete;
  SegCore& operator=(const SegCore&) = delete;
  ~SegCore() { rw_segment_close(seg); }
};
using SegPtr = std::shared_ptr<SegCore>;

// ---- views into shared memory -----------------------------------------------------------
// The buffer exporter behind every memoryview and numpy view into a segment: it holds the
// segment (so the mapping stays), the address, the size and whether writes are allowed. It
// counts the buffers it has exported (a memoryview made from it holds one until it and every
// memoryview sliced from it are released) and can be revoked: then it exports nothing more,
// so numpy cannot make an array based on it writable again.
struct ShmView {
  SegPtr seg;
  void* ptr = nullptr;
  py::ssize_t size = 0;
  bool readonly = true;
  bool revoked = false;
  py::ssize_t exports = 0;
};
// A memoryview over [ptr, ptr+size) that keeps the segment mapped.
py::object shm_memoryview(const SegPtr& seg, void* ptr, std::size_t size, bool readonly);
// A numpy array of n elements of dt at ptr, kept mapped by its base; readonly as asked.
py::array shm_array(const SegPtr& seg, const py::dtype& dt, void* ptr, std::size_t n, bool readonly);
// Ends the read-only memoryviews handed out (memoryview.release(); their exporter revoked);
// one still exported (a numpy array made from it) stays usable: the mapping is kept, only
// its meaning has ended.
void release_views(std::vector<py::object>& views);

// A writable zero-copy view handed out for a reservation (byte-ring reserve: a memoryview;
// SPSC reserve: a numpy array), and what it takes to end it. Arrays: `view` is made from
// `core` (whose base is the exporter), so every numpy view of `view` (a slice, a field,
// .view(), reshape) has `core` as its base and is counted by core's references.
struct Lease {
  py::object exporter;  // the _ShmView
  py::object view;      // what was handed out
  py::object core;      // arrays only
  explicit operator bool() const noexcept { return static_cast<bool>(exporter); }
};
Lease lease_memoryview(const SegPtr& seg, void* ptr, std::size_t size);
Lease lease_array(const SegPtr& seg, const py::dtype& dt, void* ptr, std::size_t n);
// Before a commit or abort (GIL held): releases the handed-out memoryview (an array is left
// as it is) and tells whether any other view of the lease is still alive -- a memoryview
// sliced from it or made from it, an array made from it (np.frombuffer), a numpy view of
// the handed-out array. False: the caller must not end the reservation (its memory would
// go on being writable through those views after it belongs to the reader or the ring).
bool lease_quiet(Lease& l);
// BufferError: `call` refused because views of the reservation are alive (lease_quiet).
[[noreturn]] void raise_views_alive(const char* call);
// Ends the lease (GIL held; never raises): the exporter revoked, the memoryview released
// (if it can be), the arrays made read-only for good, the references dropped.
void end_lease(Lease& l) noexcept;

// A contiguous read-only view of a bytes-like argument (bytes fast path, else the buffer
// protocol), held for the call.
class InBuffer {
 public:
  explicit InBuffer(const py::handle& obj);
  InBuffer(const InBuffer&) = delete;
  InBuffer& operator=(const InBuffer&) = delete;
  ~InBuffer();
  const void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  Py_buffer view_{};
  bool has_view_ = false;
  const void* data_ = nullptr;
  std::size_t size_ = 0;
};

// A writable contiguous buffer argument (read_into).
class OutBuffer {
 public:
  explicit OutBuffer(const py::handle& obj);
  OutBuffer(const OutBuffer&) = delete;
  OutBuffer& operator=(const OutBuffer&) = delete;
  ~OutBuffer() { PyBuffer_Release(&view_); }
  void* data() const noexcept { return view_.buf; }
  std::size_t size() const noexcept { return static_cast<std::size_t>(view_.len); }

 private:
  Py_buffer view_{};
};

// ---- endpoints -----------------------------------------------------------------------------
// The endpoint's mutex, taken with the GIL held: try first, and if another thread holds it
// (for at most one wait slice), release the GIL while waiting.
inline std::unique_lock<std::mutex> lock_endpoint(std::mutex& m) {
  std::unique_lock<std::mutex> lk(m, std::try_to_lock);
  if (!lk.owns_lock()) {
    py::gil_scoped_release nogil;
    lk.lock();
  }
  return lk;
}

// An endpoint: the C handle, the segment it came from, its lock and last status.
template <class H>
struct Endpoint {
  using closer_fn = void (*)(H*);
  Endpoint(SegPtr s, H* handle, closer_fn c, const char* kind_name)
      : seg(std::move(s)), h(handle), closer(c), what(kind_name) {}
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  // Subclasses whose on_close() matters call close_now() in their own destructor (here the
  // object is already an Endpoint only).
  virtual ~Endpoint() { close_now(); }

  // The handle, or ringwire.Error(INVALID_ARGUMENT) once closed. Call with the lock held.
  H* get() const {
    if (h == nullptr) raise_error(RW_E_INVALID_ARGUMENT, std::string(what) + " is closed");
    return h;
  }
  // close(): waits for a call in flight on another thread (one slice at most: `closing`
  // tells a thread waiting in slices to give up rather than take the lock again -- the
  // mutex is not fair, and it could otherwise keep the lock from this call for ever).
  void close() {
    // relaxed: a hint to waiting threads only; the handle itself changes under the mutex.
    closing.store(true, std::memory_order_relaxed);
    auto lk = lock_endpoint(m);
    close_now();
  }
  bool closed() const noexcept { return h == nullptr; }

  // Subclasses end their views here (GIL held).
  virtual void on_close() {}

  SegPtr seg;
  H* h;
  closer_fn closer;
  const char* what;
  std::mutex m;
  std::atomic<bool> closing{false};  // close() was called (it may be waiting for the lock)
  int last = RW_OK;

 protected:
  void close_now() {
    if (h == nullptr) return;
    on_close_guarded();
    closer(h);
    h = nullptr;
  }

 private:
  void on_close_guarded() noexcept {
    try {
      on_close();
    } catch (...) {  // ending views never fails the close
      PyErr_Clear();
    }
  }
};

// A deadline from a Python timeout in seconds: None waits forever, <= 0 tries once.
class Deadline {
 public:
  static constexpr std::uint64_t slice_ns = 50'000'000;  // 50 ms: Ctrl-C's latency
  static Deadline from(const py::handle& timeout);
  static Deadline forever() { return Deadline(true, {}); }
  static Deadline now() { return Deadline(false, std::chrono::steady_clock::now()); }
  // The next wait's length in ns, at most a slice; 0 when the deadline has passed.
  std::uint64_t next_slice() const;

 private:
  Deadline(bool f, std::chrono::steady_clock::time_point at) : forever_(f), at_(at) {}
  bool forever_;
  std::chrono::steady_clock::time_point at_;
};

inline bool idle_recv(int s) { return s == RW_EMPTY || s == RW_TIMED_OUT; }
inline bool idle_send(int s) { return s == RW_FULL || s == RW_TIMED_OUT; }

// One C call, then (while idle(status) and the deadline allows) timed C calls in slices
// with the GIL released and signals checked between them. attempt(H*, ns): ns == 0 means
// the non-blocking call. Called and returns with lk held (and the GIL); the status is
// recorded as the endpoint's last. A C error is raised here.
//
// before(): called before each timed slice with the lock and the GIL held (the lock is let
// go between slices, so another thread may have used the endpoint meanwhile): the byte-ring
// reader ends the views another thread took then, before the timed read gives their records
// back. The lock is only ever waited for with the GIL released (lock_endpoint), so taking
// the GIL while holding it cannot deadlock.
struct no_hook {
  void operator()() const noexcept {}
};

template <class H, class Attempt, class Idle, class Before = no_hook>
int wait_loop(Endpoint<H>& e, std::unique_lock<std::mutex>& lk, const Deadline& d, Attempt&& attempt, Idle&& idle,
              const char* call, Before&& before = Before{}) {
  int s = attempt(e.get(), std::uint64_t{0});
  while (idle(s)) {
    const std::uint64_t ns = d.next_slice();
    if (ns == 0) break;
    lk.unlock();
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    // Being closed by another thread: let it have the lock, wait for the close, and end as
    // a closed endpoint (which it then is).
    // relaxed: a hint (see close()); e.h is read below under the mutex, which orders it.
    if (e.closing.load(std::memory_order_relaxed)) {
      {
        py::gil_scoped_release nogil;
        for (;;) {
          lk.lock();
          if (e.h == nullptr) break;
          lk.unlock();
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
      }
      e.get();  // raises
    }
    if constexpr (std::is_same_v<std::decay_t<Before>, no_hook>) {
      bool gone = false;
      {
        py::gil_scoped_release nogil;
        lk.lock();
        if (e.h == nullptr) {
          gone = true;
        } else {
          s = attempt(e.h, ns);
        }
      }
      if (gone) e.get();  // raises: closed by another thread while we waited
    } else {
      {
        py::gil_scoped_release nogil;
        lk.lock();
      }
      e.get();  // raises: closed by another thread while we waited
      before();
      py::gil_scoped_release nogil;
      s = attempt(e.h, ns);
    }
  }
  e.last = s;
  if (s == RW_ERROR) raise_last(call);
  return s;
}

// close, closed, last_status and the context manager, for every endpoint class.
template <class T>
void bind_endpoint_common(py::class_<T>& c) {
  c.def("close", [](T& e) { e.close(); },
        "Detaches (idempotent). Using the endpoint afterwards raises ringwire.Error (INVALID_ARGUMENT).")
      .def_property_readonly("closed", [](const T& e) { return e.closed(); })
      .def_property_readonly("last_status", [](const T& e) { return status_object(e.last); },
                             "The ringwire.Status of the last C call (e.g. EMPTY or TIMED_OUT behind a None).")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](T& e, const py::args&) { e.close(); });
}

// ---- the Python Segment object (module.cpp) and the endpoint factories -----------------
struct Segment {
  SegPtr core;  // null once closed
  rw_segment_info info{};
  py::object dtype;  // typed kinds: the element dtype (given at create/open, or raw bytes)

  rw_segment* get() const;
  const SegPtr& ptr() const;
  // The dtype for a typed endpoint: the caller's (checked against elem_size) or the segment's.
  py::dtype elem_dtype(const py::object& dt) const;
  void require_kind(std::initializer_list<rw_kind> kinds, const char* endpoint) const;
};

void bind_bytes(py::module_& m);  // bytes.cpp
void bind_typed(py::module_& m);  // typed.cpp
py::object attach_bb_writer(const Segment& s);
py::object attach_bb_reader(const Segment& s, bool credited);
py::object attach_br_writer(const Segment& s);
py::object attach_br_reader(const Segment& s);
py::object attach_spsc_sender(const Segment& s, const py::object& dt, std::uint64_t tag);
py::object attach_spsc_receiver(const Segment& s, const py::object& dt, std::uint64_t tag);
py::object attach_mpsc_sender(const Segment& s, const py::object& dt, std::uint64_t tag);
py::object attach_mpsc_receiver(const Segment& s, const py::object& dt, std::uint64_t tag);
py::object attach_bc_publisher(const Segment& s, const py::object& dt, std::uint64_t tag);
py::object attach_bc_subscriber(const Segment& s, const py::object& dt, std::uint64_t tag);

// An iterator over an endpoint: next() returns the next item or throws stop_iteration.
struct Iterator {
  py::object owner;
  std::function<py::object()> next;
};

}  // namespace rwpy
