// bindings/python/src/typed.cpp -- the typed kinds' endpoints: SPSC, MPSC lanes and
// broadcast, whose elements are numpy dtype records of the segment's element size.
//
// In: a numpy record / scalar / 1-element array of the endpoint's dtype (structured dtypes
// must match exactly), bytes-like of exactly elem_size bytes, or anything numpy.asarray
// converts to one element of the dtype (a tuple of field values, an int). Out: a numpy record
// (a copy: the broadcast seqlock requires one), or a numpy array for the batch calls.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common.hpp"

namespace rwpy {

namespace {

bool same_dtype(const py::handle& a, const py::handle& b) {
  const int r = PyObject_RichCompareBool(a.ptr(), b.ptr(), Py_EQ);
  if (r < 0) throw py::error_already_set();
  return r == 1;
}

std::string to_str(const py::handle& h) { return py::str(h).cast<std::string>(); }

bool has_fields(const py::handle& dt) { return !dt.attr("names").is_none(); }

// A contiguous numpy array of `dt` from x (numpy objects with fields must have exactly dt).
py::array as_array(const py::handle& x, const py::dtype& dt) {
  const bool numpy_obj = py::isinstance<py::array>(x) || PyObject_IsInstance(x.ptr(), types().np_generic) == 1;
  if (numpy_obj) {
    py::object xd = x.attr("dtype");
    if ((has_fields(xd) || has_fields(dt)) && !same_dtype(xd, dt))
      raise_type("the element's dtype " + to_str(xd) + " is not the endpoint's " + to_str(dt));
  }
  return py::reinterpret_borrow<py::object>(types().np_ascontiguousarray)(x, py::arg("dtype") = dt);
}

// One element's bytes, held for the call.
class ElemIn {
 public:
  ElemIn(const py::handle& x, const py::dtype& dt, std::size_t elem) {
    if (PyBytes_Check(x.ptr())) {
      check(static_cast<std::size_t>(PyBytes_GET_SIZE(x.ptr())), elem);
      p_ = PyBytes_AS_STRING(x.ptr());
      return;
    }
    const bool numpy_obj = py::isinstance<py::array>(x) || PyObject_IsInstance(x.ptr(), types().np_generic) == 1;
    if (!numpy_obj && PyObject_CheckBuffer(x.ptr())) {  // bytearray, memoryview...
      InBuffer in(x);
      check(in.size(), elem);
      std::memcpy(copy_, in.data(), elem);
      p_ = copy_;
      return;
    }
    py::array a = as_array(x, dt);
    if (a.size() != 1) raise_value("one element is expected, not " + std::to_string(a.size()));
    keep_ = a;
    p_ = a.data();
  }
  const void* data() const noexcept { return p_; }

 private:
  static void check(std::size_t n, std::size_t elem) {
    if (n != elem)
      raise_value("an element is " + std::to_string(elem) + " bytes; got " + std::to_string(n));
  }
  py::object keep_;
  alignas(8) unsigned char copy_[RW_MAX_ELEM_SIZE];
  const void* p_ = nullptr;
};

// numpy's PyArray_Scalar (its C API table, entry 60, as numpy's __multiarray_api.h says),
// for void dtypes: one allocation per record instead of an array and its element.
using scalar_fn = PyObject* (*)(void*, PyObject*, PyObject*);
scalar_fn numpy_scalar() {
  static const scalar_fn fn = []() -> scalar_fn {
    try {
      py::object c = py::module_::import("numpy.core.multiarray").attr("_ARRAY_API");
      void** api = static_cast<void**>(PyCapsule_GetPointer(c.ptr(), nullptr));
      if (api == nullptr) {
        PyErr_Clear();
        return nullptr;
      }
      return reinterpret_cast<scalar_fn>(api[60]);
    } catch (py::error_already_set&) {
      return nullptr;  // then the array path below
    }
  }();
  return fn;
}

// The element record out of raw bytes, a copy: a numpy.void record for void dtypes (with or
// without fields), a numpy scalar otherwise.
py::object record(const py::dtype& dt, const void* p) {
  if (dt.kind() == 'V') {
    if (scalar_fn fn = numpy_scalar()) {  // base NULL: numpy copies the bytes
      PyObject* r = fn(const_cast<void*>(p), dt.ptr(), nullptr);
      if (r == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(r);
    }
  }
  py::array a(dt, std::vector<py::ssize_t>{1}, p);  // copies (no base)
  PyObject* r = PySequence_GetItem(a.ptr(), 0);
  if (r == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

// ---- the three kinds' C calls, one shape ---------------------------------------------------

struct SpscTx {
  using H = rw_spsc_sender;
  static constexpr const char* name = "SpscSender";
  static int try_send(H* h, const void* e) { return rw_spsc_try_send(h, e); }
  static int send_for(H* h, const void* e, std::uint64_t ns) { return rw_spsc_send_for(h, e, ns); }
  static void close(H* h) { rw_spsc_sender_close(h); }
};
struct MpscTx {
  using H = rw_mpsc_sender;
  static constexpr const char* name = "MpscSender";
  static int try_send(H* h, const void* e) { return rw_mpsc_try_send(h, e); }
  static int send_for(H* h, const void* e, std::uint64_t ns) { return rw_mpsc_send_for(h, e, ns); }
  static void close(H* h) { rw_mpsc_sender_close(h); }
};
struct BcTx {
  using H = rw_bc_publisher;
  static constexpr const char* name = "Publisher";
  static int try_send(H* h, const void* e) { return rw_bc_try_send(h, e); }
  static int send_for(H* h, const void* e, std::uint64_t ns) { return rw_bc_send_for(h, e, ns); }
  static void close(H* h) { rw_bc_publisher_close(h); }
};
struct SpscRx {
  using H = rw_spsc_receiver;
  static constexpr const char* name = "SpscReceiver";
  static int try_recv(H* h, void* o, std::uint64_t* m) {
    *m = 0;
    return rw_spsc_try_recv(h, o);
  }
  static int recv_for(H* h, void* o, std::uint64_t ns, std::uint64_t* m) {
    *m = 0;
    return rw_spsc_recv_for(h, o, ns);
  }
  static void close(H* h) { rw_spsc_receiver_close(h); }
};
struct MpscRx {
  using H = rw_mpsc_receiver;
  static constexpr const char* name = "MpscReceiver";
  static int try_recv(H* h, void* o, std::uint64_t* m) {
    *m = 0;
    return rw_mpsc_try_recv(h, o);
  }
  static int recv_for(H* h, void* o, std::uint64_t ns, std::uint64_t* m) {
    *m = 0;
    return rw_mpsc_recv_for(h, o, ns);
  }
  static void close(H* h) { rw_mpsc_receiver_close(h); }
};
struct BcRx {
  using H = rw_bc_subscriber;
  static constexpr const char* name = "Subscriber";
  static int try_recv(H* h, void* o, std::uint64_t* m) { return rw_bc_try_recv(h, o, m); }
  static int recv_for(H* h, void* o, std::uint64_t ns, std::uint64_t* m) { return rw_bc_recv_for(h, o, ns, m); }
  static void close(H* h) { rw_bc_subscriber_close(h); }
};

// ---- senders -------------------------------------------------------------------------------

template <class Ops>
struct Sender final : Endpoint<typename Ops::H> {
  using H = typename Ops::H;
  Sender(SegPtr s, H* h, py::dtype d)
      : Endpoint<H>(std::move(s), h, Ops::close, Ops::name), dtype(std::move(d)),
        elem(static_cast<std::size_t>(dtype.itemsize())) {}
  ~Sender() override { this->close_now(); }
  // SPSC: closing abandons an open reservation whatever views of it are alive (close cannot
  // refuse): the lease is ended (the reserved array made read-only, its exporter revoked).
  void on_close() override {
    end_lease(lease);
    if constexpr (std::is_same_v<Ops, SpscTx>) {
      if (reserving && this->h != nullptr) rw_spsc_commit(this->h, 0);  // abandons it
    }
    reserving = false;
  }
  py::dtype dtype;
  std::size_t elem;
  bool reserving = false;  // SPSC: a reservation is open (sending is not allowed)
  std::size_t granted = 0;
  Lease lease;  // SPSC: the reserved array
  std::uint64_t sent = 0;
};

template <class Ops>
int send_one(Sender<Ops>& tx, const py::handle& x, const Deadline& d) {
  ElemIn in(x, tx.dtype, tx.elem);
  auto lk = lock_endpoint(tx.m);
  if (tx.reserving) raise_error(RW_E_INVALID_ARGUMENT, "send: a reservation is open (commit() it first)");
  const int s = wait_loop(
      tx, lk, d,
      [&](typename Ops::H* h, std::uint64_t ns) {
        return ns != 0 ? Ops::send_for(h, in.data(), ns) : Ops::try_send(h, in.data());
      },
      idle_send, "send");
  if (s == RW_OK) ++tx.sent;
  if (s == RW_CLOSED) raise_closed(Ops::name);
  if (s != RW_OK && !idle_send(s))
    raise_error(RW_E_INTERNAL, std::string("send: unexpected status ") + rw_status_name(s));
  return s;
}

// ---- receivers -----------------------------------------------------------------------------

template <class Ops>
struct Receiver final : Endpoint<typename Ops::H> {
  using H = typename Ops::H;
  Receiver(SegPtr s, H* h, py::dtype d)
      : Endpoint<H>(std::move(s), h, Ops::close, Ops::name), dtype(std::move(d)),
        elem(static_cast<std::size_t>(dtype.itemsize())) {}
  py::dtype dtype;
  std::size_t elem;
  alignas(8) unsigned char scratch[RW_MAX_ELEM_SIZE];
  std::uint64_t received = 0;
  std::uint64_t missed = 0;
  std::uint64_t pending_lag = 0;  // a lag met after a batch's first element: the next result
  std::size_t span_len = 0;       // SPSC: the last read_span's length
};

// One receive into `out`: the status; the counters updated. lk held.
template <class Ops>
int recv_one(Receiver<Ops>& rx, std::unique_lock<std::mutex>& lk, const Deadline& d, void* out, std::uint64_t& lost) {
  rx.span_len = 0;  // SPSC: every receive ends the last read_span (the C side resets its own)
  std::uint64_t m = 0;
  const int s = wait_loop(
      rx, lk, d,
      [&](typename Ops::H* h, std::uint64_t ns) {
        return ns != 0 ? Ops::recv_for(h, out, ns, &m) : Ops::try_recv(h, out, &m);
      },
      idle_recv, "recv");
  lost = 0;
  if (s == RW_OK) ++rx.received;
  if (s == RW_LAGGED) {
    lost = m;
    rx.missed += m;
  }
  return s;
}

// A record, Lagged or None; Closed / Evicted raised (or reported through out_status).
template <class Ops>
py::object recv_value(Receiver<Ops>& rx, const Deadline& d, int* out_status = nullptr) {
  auto lk = lock_endpoint(rx.m);
  rx.get();
  if (rx.pending_lag != 0) {
    const std::uint64_t lag = rx.pending_lag;
    rx.pending_lag = 0;
    if (out_status != nullptr) *out_status = RW_LAGGED;
    return make_lagged(lag);
  }
  std::uint64_t lost = 0;
  const int s = recv_one(rx, lk, d, rx.scratch, lost);
  if (out_status != nullptr) *out_status = s;
  switch (s) {
    case RW_OK: return record(rx.dtype, rx.scratch);
    case RW_LAGGED: return make_lagged(lost);
    case RW_EMPTY:
    case RW_TIMED_OUT: return py::none();
    case RW_CLOSED:
      if (out_status != nullptr) return py::none();
      raise_closed(Ops::name);
    case RW_EVICTED: raise_evicted();
    default:
      raise_error(RW_E_INTERNAL, std::string("recv: unexpected status ") + rw_status_name(s));
  }
}

// Up to max elements as a numpy array: the first waited for up to d, the rest taken while
// ready. An empty array when none came; Lagged when a lag comes first (one met later is the
// next call's result). Closed / Evicted raised when nothing was received first.
template <class Ops>
py::object recv_batch(Receiver<Ops>& rx, std::size_t max, const Deadline& d) {
  py::array out(rx.dtype, std::vector<py::ssize_t>{static_cast<py::ssize_t>(max)});
  auto* base = static_cast<unsigned char*>(out.mutable_data());
  auto lk = lock_endpoint(rx.m);
  rx.get();
  if (rx.pending_lag != 0) {
    const std::uint64_t lag = rx.pending_lag;
    rx.pending_lag = 0;
    return make_lagged(lag);
  }
  std::size_t n = 0;
  if (max != 0) {
    std::uint64_t lost = 0;
    int s = recv_one(rx, lk, d, base, lost);
    if (s == RW_OK) {
      n = 1;
      if constexpr (std::is_same_v<Ops, SpscRx>) {
        // One contiguous run per call (the ring may wrap): until max or none left.
        while (n < max) {
          rx.span_len = 0;
          const std::size_t k = rw_spsc_try_recv_n(rx.h, base + n * rx.elem, max - n);
          if (k == 0) break;
          n += k;
          rx.received += k;
        }
      } else {
        while (n < max) {
          s = recv_one(rx, lk, Deadline::now(), base + n * rx.elem, lost);
          if (s == RW_OK) {
            ++n;
            continue;
          }
          if (s == RW_LAGGED) rx.pending_lag = lost;
          break;  // closed / evicted: the next call says so
        }
      }
    } else if (s == RW_LAGGED) {
      return make_lagged(lost);
    } else if (s == RW_CLOSED) {
      raise_closed(Ops::name);
    } else if (s == RW_EVICTED) {
      raise_evicted();
    }
  }
  if (n == max) return out;
  return out[py::slice(0, static_cast<py::ssize_t>(n), 1)].attr("copy")();
}

template <class Fn>
py::object make_iterator(py::object owner, Fn fn) {
  return py::cast(Iterator{std::move(owner), std::move(fn)});
}

template <class Ops>
py::class_<Sender<Ops>> bind_sender(py::module_& m, const char* doc) {
  using S = Sender<Ops>;
  py::class_<S> c(m, Ops::name, doc);
  bind_endpoint_common(c);
  c.def("try_send", [](S& tx, const py::object& x) { return send_one(tx, x, Deadline::now()) == RW_OK; },
        py::arg("elem"), "True when sent, False when full; raises Closed when the receiving side is gone.")
      .def("send_for", [](S& tx, const py::object& x, const py::object& timeout) {
        return send_one(tx, x, Deadline::from(timeout)) == RW_OK;
      }, py::arg("elem"), py::arg("timeout"), "Waits up to timeout seconds (None: forever) for room; False on timeout.")
      .def("send", [](S& tx, const py::object& x) { send_one(tx, x, Deadline::forever()); }, py::arg("elem"),
           "Sends, waiting for room as long as it takes (interruptible); raises Closed.")
      .def_readonly("sent", &S::sent)
      .def_property_readonly("dtype", [](const S& tx) { return tx.dtype; })
      .def("__repr__", [](const S& tx) { return std::string("<ringwire.") + Ops::name + " '" + tx.seg->name + "'>"; });
  return c;
}

template <class Ops>
py::class_<Receiver<Ops>> bind_receiver(py::module_& m, const char* doc) {
  using R = Receiver<Ops>;
  py::class_<R> c(m, Ops::name, doc);
  bind_endpoint_common(c);
  c.def("try_recv", [](R& rx) { return recv_value(rx, Deadline::now()); },
        "A numpy record (a copy), Lagged (broadcast), or None when empty; raises Closed / Evicted.")
      .def("recv_for", [](R& rx, const py::object& timeout) { return recv_value(rx, Deadline::from(timeout)); },
           py::arg("timeout"), "As try_recv, waiting up to timeout seconds (None: forever; GIL released); None on timeout.")
      .def("recv", [](R& rx) { return recv_value(rx, Deadline::forever()); },
           "The next record (or Lagged), waiting as long as it takes; raises Closed.")
      .def("try_recv_n", [](R& rx, std::size_t max) { return recv_batch(rx, max, Deadline::now()); }, py::arg("max"),
           "Up to max queued elements as a numpy array (length 0 when empty), or Lagged; raises Closed.")
      .def("recv_n_for", [](R& rx, std::size_t max, const py::object& timeout) {
        return recv_batch(rx, max, Deadline::from(timeout));
      }, py::arg("max"), py::arg("timeout"), "As try_recv_n, waiting up to timeout seconds for the first element.")
      .def("iter", [](py::object self, bool lagged) {
        R& rx = self.cast<R&>();
        return make_iterator(self, [&rx, lagged]() -> py::object {
          for (;;) {
            int s = RW_OK;
            py::object v = recv_value(rx, Deadline::forever(), &s);
            if (s == RW_CLOSED) throw py::stop_iteration();
            if (s == RW_OK || lagged) return v;
          }
        });
      }, py::arg("lagged") = false, "An iterator over the records until the stream closes; lagged=True yields Lagged too.")
      .def("__iter__", [](py::object self) { return self.attr("iter")(); })
      .def_readonly("received", &R::received)
      .def_property_readonly("dtype", [](const R& rx) { return rx.dtype; })
      .def("__repr__", [](const R& rx) { return std::string("<ringwire.") + Ops::name + " '" + rx.seg->name + "'>"; });
  return c;
}

template <class Ops, class Tx>
py::object attach_tx(const Segment& s, const py::object& dt, std::uint64_t tag, typename Ops::H* (*attach)(rw_segment*, std::uint32_t, std::uint64_t),
                     const char* call) {
  py::dtype d = s.elem_dtype(dt);
  typename Ops::H* h = attach(s.get(), static_cast<std::uint32_t>(d.itemsize()), tag);
  if (h == nullptr) raise_last(call);
  return py::cast(std::make_unique<Tx>(s.ptr(), h, d));
}

}  // namespace

py::object attach_spsc_sender(const Segment& s, const py::object& dt, std::uint64_t tag) {
  return attach_tx<SpscTx, Sender<SpscTx>>(s, dt, tag, rw_spsc_sender_attach, "rw_spsc_sender_attach");
}
py::object attach_spsc_receiver(const Segment& s, const py::object& dt, std::uint64_t tag) {
  return attach_tx<SpscRx, Receiver<SpscRx>>(s, dt, tag, rw_spsc_receiver_attach, "rw_spsc_receiver_attach");
}
py::object attach_mpsc_sender(const Segment& s, const py::object& dt, std::uint64_t tag) {
  return attach_tx<MpscTx, Sender<MpscTx>>(s, dt, tag, rw_mpsc_sender_attach, "rw_mpsc_sender_attach");
}
py::object attach_mpsc_receiver(const Segment& s, const py::object& dt, std::uint64_t tag) {
  return attach_tx<MpscRx, Receiver<MpscRx>>(s, dt, tag, rw_mpsc_receiver_attach, "rw_mpsc_receiver_attach");
}
py::object attach_bc_publisher(const Segment& s, const py::object& dt, std::uint64_t tag) {
  return attach_tx<BcTx, Sender<BcTx>>(s, dt, tag, rw_bc_publisher_attach, "rw_bc_publisher_attach");
}
py::object attach_bc_subscriber(const Segment& s, const py::object& dt, std::uint64_t tag) {
  return attach_tx<BcRx, Receiver<BcRx>>(s, dt, tag, rw_bc_subscriber_attach, "rw_bc_subscriber_attach");
}

void bind_typed(py::module_& m) {
  auto spsc_tx = bind_sender<SpscTx>(m, R"doc(The SPSC sender (one at a time).

Zero-copy: reserve(n) returns a writable numpy array over up to n free slots in the ring (None
when full); fill it, then commit(k) publishes the first k (commit(0) abandons). The array is
made read-only at commit (and close) and cannot be made writable again: its slots belong to
the receiver then. commit raises BufferError, the reservation staying open, while a numpy
view of the array (a slice, a field, .view(), reshape) is alive: delete those first. Not
tracked, so keep none past commit: a record taken by indexing (a[0] of a structured dtype is
a numpy.void that writes through to its slot), buffer exports of the array (memoryview(a),
np.frombuffer(a)) and raw addresses (a.ctypes).)doc");
  using SpscSender = Sender<SpscTx>;
  spsc_tx
      .def("try_send_n", [](SpscSender& tx, const py::object& elems) {
        py::array a;
        const void* p = nullptr;
        std::size_t bytes = 0;
        std::unique_ptr<InBuffer> raw;
        const bool numpy_obj = py::isinstance<py::array>(elems) || PyObject_IsInstance(elems.ptr(), types().np_generic) == 1;
        if (!numpy_obj && PyObject_CheckBuffer(elems.ptr())) {
          raw = std::make_unique<InBuffer>(elems);
          p = raw->data();
          bytes = raw->size();
        } else {
          a = as_array(elems, tx.dtype);
          // Elements, not scalars: the count is the bytes over the element size (the
          // endpoint's dtype is a plain one, so the array's items are elements).
          if (static_cast<std::size_t>(a.itemsize()) != tx.elem)
            raise_type("the array's items are " + std::to_string(a.itemsize()) + " bytes, the endpoint's elements " +
                       std::to_string(tx.elem));
          p = a.data();
          bytes = static_cast<std::size_t>(a.nbytes());
        }
        if (bytes % tx.elem != 0)
          raise_value("the bytes are not a whole number of " + std::to_string(tx.elem) + "-byte elements");
        const std::size_t n = bytes / tx.elem;
        auto lk = lock_endpoint(tx.m);
        rw_spsc_sender* h = tx.get();
        if (tx.reserving) raise_error(RW_E_INVALID_ARGUMENT, "try_send_n: a reservation is open (commit() it first)");
        std::size_t k = rw_spsc_try_send_n(h, p, n);
        tx.sent += k;
        if (k == 0 && n != 0) {
          // 0 sent: full, closed or an error; a try_send of the first tells which.
          const int s = rw_spsc_try_send(h, p);
          tx.last = s;
          if (s == RW_OK) {
            ++tx.sent;
            const std::size_t more = rw_spsc_try_send_n(h, static_cast<const char*>(p) + tx.elem, n - 1);
            tx.sent += more;
            k = 1 + more;
          } else if (s == RW_CLOSED) {
            raise_closed("SpscSender");
          } else if (s == RW_ERROR) {
            raise_last("rw_spsc_try_send");
          }
        }
        return k;
      }, py::arg("elems"), "Sends as many of elems (an array of the dtype, or bytes of whole elements) as fit; returns how many.")
      .def("reserve", [](SpscSender& tx, std::size_t n) -> py::object {
        auto lk = lock_endpoint(tx.m);
        rw_spsc_sender* h = tx.get();
        if (tx.reserving) raise_error(RW_E_INVALID_ARGUMENT, "reserve: a reservation is already open");
        void* slots = nullptr;
        std::size_t granted = 0;
        const int s = rw_spsc_reserve(h, n, &slots, &granted);
        tx.last = s;
        if (s == RW_ERROR) raise_last("rw_spsc_reserve");
        if (s == RW_CLOSED) raise_closed("SpscSender");
        if (s != RW_OK || granted == 0) return py::none();
        tx.reserving = true;
        tx.granted = granted;
        try {
          tx.lease = lease_array(tx.seg, tx.dtype, slots, granted);
        } catch (...) {
          rw_spsc_commit(h, 0);
          tx.reserving = false;
          throw;
        }
        return tx.lease.view;
      }, py::arg("n"), "A writable numpy array over up to n free slots (None when full); then commit(k).")
      .def("commit", [](SpscSender& tx, const py::object& k) {
        // Converted before the lock: a user __index__ runs with no endpoint lock held.
        const std::optional<std::size_t> k_arg =
            k.is_none() ? std::nullopt : std::optional<std::size_t>(k.cast<std::size_t>());
        auto lk = lock_endpoint(tx.m);
        rw_spsc_sender* h = tx.get();
        if (!tx.reserving) raise_error(RW_E_INVALID_ARGUMENT, "commit: no reservation is open");
        const std::size_t n = k_arg.value_or(tx.granted);
        if (n > tx.granted) raise_value("commit: k exceeds the reservation (" + std::to_string(tx.granted) + ")");
        if (!lease_quiet(tx.lease)) raise_views_alive("commit");
        const int s = rw_spsc_commit(h, n);
        tx.last = s;
        if (s == RW_ERROR) raise_last("rw_spsc_commit");
        tx.reserving = false;
        tx.sent += n;
        end_lease(tx.lease);
      }, py::arg("k") = py::none(),
      "Publishes the first k reserved slots (default: all granted; 0 abandons); the reserved array becomes "
      "read-only for good. Raises BufferError (the reservation stays open) while numpy views of the array "
      "(slices, fields, .view()) are alive: delete them first.");

  bind_sender<MpscTx>(m, "An MPSC sender: its own lane (FIFO per sender) into the one receiver.");
  bind_sender<BcTx>(m, "The broadcast publisher: every subscriber sees every message (the segment's policy).");

  using SpscReceiver = Receiver<SpscRx>;
  bind_receiver<SpscRx>(m, R"doc(The SPSC receiver (one at a time).

Zero-copy: read_span() returns a read-only numpy array over the queued elements in the ring;
release(k) gives the first k back, after which their slots are the sender's again (the array
stays mapped, but its contents may change: copy what you keep).)doc")
      .def("read_span", [](SpscReceiver& rx) -> py::object {
        auto lk = lock_endpoint(rx.m);
        rw_spsc_receiver* h = rx.get();
        const void* first = nullptr;
        std::size_t n = 0;
        rx.span_len = 0;
        const int s = rw_spsc_read_span(h, &first, &n);
        rx.last = s;
        if (s == RW_ERROR) raise_last("rw_spsc_read_span");
        rx.span_len = s == RW_OK ? n : 0;
        if (s == RW_CLOSED) raise_closed("SpscReceiver");
        if (s != RW_OK || n == 0) return py::array(rx.dtype, std::vector<py::ssize_t>{0});
        return shm_array(rx.seg, rx.dtype, const_cast<void*>(first), n, true);
      }, "The queued elements as a read-only numpy view into the ring (length 0 when empty); raises Closed.")
      .def("release", [](SpscReceiver& rx, const py::object& k) {
        // Converted before the lock: a user __index__ runs with no endpoint lock held.
        const std::optional<std::size_t> k_arg =
            k.is_none() ? std::nullopt : std::optional<std::size_t>(k.cast<std::size_t>());
        auto lk = lock_endpoint(rx.m);
        rw_spsc_receiver* h = rx.get();
        const std::size_t n = k_arg.value_or(rx.span_len);
        if (n > rx.span_len)
          raise_value("release: k exceeds the last read_span's length (" + std::to_string(rx.span_len) +
                      "; a receive since ends the span)");
        const int s = rw_spsc_release(h, n);
        rx.last = s;
        if (s == RW_ERROR) raise_last("rw_spsc_release");  // nothing freed
        rx.received += n;
        rx.span_len = 0;
      }, py::arg("k") = py::none(),
      "Consumes the first k elements of the last read_span (default: all of it). Any receive since the "
      "read_span ends it (release(k > 0) then raises ValueError).");

  bind_receiver<MpscRx>(m, "The MPSC receiver: every lane's elements, FIFO per sender; Closed once close_producers() "
                           "was called (or every sender closed) and all was read.");
  bind_receiver<BcRx>(m, R"doc(A broadcast subscriber (starts at the next message).

try_recv / recv_for / recv return a numpy record, a ringwire.Lagged(missed) when messages were
lost before the next one (lossy policy), or None; they raise Closed at the end and Evicted when
an evict-policy publisher dropped this subscriber. .missed totals every lag.)doc")
      .def_readonly("missed", &Receiver<BcRx>::missed, "Messages lost in total (the sum of every Lagged).");
}

}  // namespace rwpy
