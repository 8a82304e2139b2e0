// bindings/python/src/bytes.cpp -- the byte kinds' endpoints: byte broadcast (writer,
// lossy and credited readers) and byte ring (writer with zero-copy reserve/commit, reader
// with copies or in-place views).
#include <optional>
#include <string>
#include <vector>

#include "common.hpp"

namespace rwpy {

namespace {

// ---- byte broadcast --------------------------------------------------------------------------

struct BBWriter final : Endpoint<rw_bb_writer> {
  BBWriter(SegPtr s, rw_bb_writer* w, std::uint64_t max) : Endpoint(std::move(s), w, rw_bb_writer_close, "ByteBroadcastWriter"), max_message(max) {}
  std::uint64_t max_message;
};

// OK -> true; FULL / TIMED_OUT -> false; CLOSED -> ringwire.Closed.
bool sent(const char* what, int s) {
  if (s == RW_OK) return true;
  if (s == RW_CLOSED) raise_closed(what);
  if (idle_send(s)) return false;
  raise_error(RW_E_INTERNAL, std::string(what) + ": unexpected status " + rw_status_name(s));
}

int bb_write(BBWriter& w, const py::handle& data, std::uint64_t sig, const Deadline& d) {
  InBuffer in(data);
  auto lk = lock_endpoint(w.m);
  return wait_loop(
      w, lk, d,
      [&](rw_bb_writer* h, std::uint64_t ns) {
        return ns != 0 ? rw_bb_write_for(h, sig, in.data(), in.size(), ns) : rw_bb_try_write(h, sig, in.data(), in.size());
      },
      idle_send, "rw_bb_write");
}

struct BBReader final : Endpoint<rw_bb_reader> {
  BBReader(SegPtr s, rw_bb_reader* r, std::uint64_t max, bool cred)
      : Endpoint(std::move(s), r, rw_bb_reader_close, "ByteBroadcastReader"), buf(max == 0 ? 1 : max), credited(cred) {}
  std::vector<char> buf;  // max_message bytes: every message fits
  rw_bb_info info{};      // the last message read
  bool have_info = false;
  bool credited;
  std::uint64_t missed = 0;
  std::uint64_t received = 0;
};

py::object info_object(const rw_bb_info& i) { return py::cast(i); }

// One read into (buf, cap): the status, with the reader's counters updated. lk held after.
int bb_read(BBReader& r, std::unique_lock<std::mutex>& lk, const Deadline& d, void* buf, std::size_t cap,
            std::uint64_t& lost) {
  rw_bb_info info{};
  std::uint64_t m = 0;
  const int s = wait_loop(
      r, lk, d,
      [&](rw_bb_reader* h, std::uint64_t ns) {
        return ns != 0 ? rw_bb_read_for(h, buf, cap, ns, &info, &m) : rw_bb_try_read(h, buf, cap, &info, &m);
      },
      idle_recv, "rw_bb_read");
  lost = 0;
  if (s == RW_OK) {
    r.info = info;
    r.have_info = true;
    ++r.received;
  } else if (s == RW_LAGGED || s == RW_CORRUPT) {
    lost = m;
    r.missed += m;
  } else if (s == RW_TOO_SMALL) {
    raise_too_small(info.size);
  }
  return s;
}

// A non-message outcome: Lagged, None, or raised.
py::object bb_other(int s, std::uint64_t lost) {
  switch (s) {
    case RW_LAGGED: return make_lagged(lost);
    case RW_CORRUPT: return make_lagged(lost, true);
    case RW_EMPTY:
    case RW_TIMED_OUT: return py::none();
    case RW_CLOSED: raise_closed("ByteBroadcastReader");
    default:
      raise_error(RW_E_INTERNAL, std::string("rw_bb_read: unexpected status ") + rw_status_name(s));
  }
}

// bytes (or (bytes, MessageInfo)), Lagged, None; Closed raised. `out_status` gets the status.
py::object bb_read_bytes(BBReader& r, const Deadline& d, bool with_info, int* out_status = nullptr) {
  auto lk = lock_endpoint(r.m);
  std::uint64_t lost = 0;
  const int s = bb_read(r, lk, d, r.buf.data(), r.buf.size(), lost);
  if (out_status != nullptr) *out_status = s;
  if (s != RW_OK) {
    if (out_status != nullptr && s == RW_CLOSED) return py::none();
    return bb_other(s, lost);
  }
  py::bytes b(r.buf.data(), r.info.size);
  if (!with_info) return b;
  return py::make_tuple(b, info_object(r.info));
}

// ---- byte ring -------------------------------------------------------------------------------

struct BRWriter final : Endpoint<rw_br_writer> {
  BRWriter(SegPtr s, rw_br_writer* w) : Endpoint(std::move(s), w, rw_br_writer_close, "ByteRingWriter") {}
  ~BRWriter() override { close_now(); }
  // Closing abandons an open reservation whatever views of it are alive (close cannot
  // refuse): the lease is ended (its memoryview released, its exporter revoked).
  void on_close() override {
    end_lease(lease);
    if (reserving && h != nullptr) rw_br_abort(h);
    reserving = false;
  }
  Lease lease;  // the open reservation's memoryview
  bool reserving = false;
  std::size_t reserved = 0;
};

void no_reservation(const BRWriter& w, const char* call) {
  if (w.reserving)
    raise_error(RW_E_INVALID_ARGUMENT, std::string(call) + ": a reservation is open (commit() or abort() it first)");
}

int br_write(BRWriter& w, std::int32_t type, const py::handle& data, const Deadline& d) {
  InBuffer in(data);
  auto lk = lock_endpoint(w.m);
  no_reservation(w, "write");
  return wait_loop(
      w, lk, d,
      [&](rw_br_writer* h, std::uint64_t ns) {
        return ns != 0 ? rw_br_write_for(h, type, in.data(), in.size(), ns) : rw_br_try_write(h, type, in.data(), in.size());
      },
      idle_send, "rw_br_write");
}

struct BRReader final : Endpoint<rw_br_reader> {
  BRReader(SegPtr s, rw_br_reader* r) : Endpoint(std::move(s), r, rw_br_reader_close, "ByteRingReader") {}
  ~BRReader() override { close_now(); }
  void on_close() override { release_views(views); }
  std::vector<py::object> views;  // memoryviews of records read in place, until release()
  std::uint64_t received = 0;
};

// A timed read gives back every record read before it (rw_br_read_for), so the views of
// those records end before each timed slice -- including views another thread took while
// this one waited with the lock let go.
int br_read(BRReader& r, std::unique_lock<std::mutex>& lk, const Deadline& d, rw_br_record& rec) {
  const int s = wait_loop(
      r, lk, d,
      [&](rw_br_reader* h, std::uint64_t ns) { return ns != 0 ? rw_br_read_for(h, &rec, ns) : rw_br_try_read(h, &rec); },
      idle_recv, "rw_br_read", [&r] { release_views(r.views); });
  if (s == RW_OK) ++r.received;
  return s;
}

py::object br_other(int s) {
  if (idle_recv(s)) return py::none();
  if (s == RW_CLOSED) raise_closed("ByteRingReader");
  raise_error(RW_E_INTERNAL, std::string("rw_br_read: unexpected status ") + rw_status_name(s));
}

// The copying read: (type, bytes), None, Closed. Gives back every record read before it
// (views included: they end) and the one it copied.
py::object br_read_copy(BRReader& r, const Deadline& d, int* out_status = nullptr) {
  auto lk = lock_endpoint(r.m);
  rw_br_reader* h = r.get();
  // The records read in place go back now, whatever this read finds (views end with them):
  // held on, a full ring would stop the writer for good while this reader polls.
  release_views(r.views);
  rw_br_release(h);
  rw_br_record rec{};
  const int s = br_read(r, lk, d, rec);
  if (out_status != nullptr) *out_status = s;
  if (s != RW_OK) {
    if (out_status != nullptr && s == RW_CLOSED) return py::none();
    return br_other(s);
  }
  py::bytes b(static_cast<const char*>(rec.data), rec.size);
  release_views(r.views);  // none: the lock and the GIL were held since the read
  rw_br_release(r.h);
  return py::make_tuple(rec.type, b);
}

// The in-place read: (type, memoryview) valid until release(). If it has to wait, it gives
// back what was read before (their views end) first, as the C++ reader does.
py::object br_read_view(BRReader& r, const Deadline& d) {
  auto lk = lock_endpoint(r.m);
  rw_br_record rec{};
  int s = br_read(r, lk, Deadline::now(), rec);
  if (idle_recv(s) && d.next_slice() != 0) {
    release_views(r.views);
    rw_br_release(r.get());
    s = br_read(r, lk, d, rec);
  }
  if (s != RW_OK) return br_other(s);
  py::object mv = shm_memoryview(r.seg, const_cast<void*>(rec.data), rec.size, true);
  r.views.push_back(mv);
  return py::make_tuple(rec.type, mv);
}

template <class Fn>
py::object make_iterator(py::object owner, Fn fn) {
  return py::cast(Iterator{std::move(owner), std::move(fn)});
}

}  // namespace

py::object attach_bb_writer(const Segment& s) {
  rw_bb_geometry g{};
  if (rw_bb_segment_geometry(s.get(), &g) != 0) raise_last("rw_bb_segment_geometry");
  rw_bb_writer* w = rw_bb_writer_attach(s.get());
  if (w == nullptr) raise_last("rw_bb_writer_attach");
  return py::cast(std::make_unique<BBWriter>(s.ptr(), w, g.max_message));
}

py::object attach_bb_reader(const Segment& s, bool credited) {
  rw_bb_geometry g{};
  if (rw_bb_segment_geometry(s.get(), &g) != 0) raise_last("rw_bb_segment_geometry");
  rw_bb_reader* r = rw_bb_reader_attach(s.get(), credited ? 1 : 0);
  if (r == nullptr) raise_last("rw_bb_reader_attach");
  return py::cast(std::make_unique<BBReader>(s.ptr(), r, g.max_message, credited));
}

py::object attach_br_writer(const Segment& s) {
  rw_br_writer* w = rw_br_writer_attach(s.get());
  if (w == nullptr) raise_last("rw_br_writer_attach");
  return py::cast(std::make_unique<BRWriter>(s.ptr(), w));
}

py::object attach_br_reader(const Segment& s) {
  rw_br_reader* r = rw_br_reader_attach(s.get());
  if (r == nullptr) raise_last("rw_br_reader_attach");
  return py::cast(std::make_unique<BRReader>(s.ptr(), r));
}

void bind_bytes(py::module_& m) {
  py::class_<rw_bb_info>(m, "MessageInfo", "A byte-broadcast message's metadata (rw_bb_info).")
      .def_readonly("seq", &rw_bb_info::seq, "the message's sequence number (from 1)")
      .def_readonly("signature", &rw_bb_info::signature, "the writer's 64-bit tag")
      .def_readonly("tspub", &rw_bb_info::tspub, "the writer's steady clock at publish, ns")
      .def_readonly("size", &rw_bb_info::size)
      .def_readonly("ctl", &rw_bb_info::ctl)
      .def("__repr__", [](const rw_bb_info& i) {
        return "MessageInfo(seq=" + std::to_string(i.seq) + ", signature=" + std::to_string(i.signature) +
               ", size=" + std::to_string(i.size) + ", tspub=" + std::to_string(i.tspub) + ", ctl=" + std::to_string(i.ctl) + ")";
      });

  // ---- ByteBroadcastWriter
  py::class_<BBWriter> bw(m, "ByteBroadcastWriter",
                          "The byte-broadcast writer (one per segment at a time). Messages are bytes-like "
                          "objects of at most max_message bytes; signature is a 64-bit tag readers see.");
  bind_endpoint_common(bw);
  bw.def("try_write", [](BBWriter& w, const py::object& data, std::uint64_t sig) {
      return sent("ByteBroadcastWriter", bb_write(w, data, sig, Deadline::now()));
    }, py::arg("data"), py::arg("signature") = 0,
    "True when published, False when full (a credited reader is a ring behind). Raises Closed, or Error "
    "MESSAGE_TOO_LARGE.")
      .def("write_for", [](BBWriter& w, const py::object& data, const py::object& timeout, std::uint64_t sig) {
        return sent("ByteBroadcastWriter", bb_write(w, data, sig, Deadline::from(timeout)));
      }, py::arg("data"), py::arg("timeout"), py::arg("signature") = 0,
      "Waits up to timeout seconds (None: forever) for credited readers; True when published, False on timeout.")
      .def("write", [](BBWriter& w, const py::object& data, std::uint64_t sig) {
        sent("ByteBroadcastWriter", bb_write(w, data, sig, Deadline::forever()));
      }, py::arg("data"), py::arg("signature") = 0, "Publishes, waiting as long as it takes (interruptible).")
      .def("skip", [](BBWriter& w, std::uint64_t g) {
        auto lk = lock_endpoint(w.m);
        const int s = rw_bb_skip(w.get(), g);
        w.last = s;
        if (s == RW_ERROR) raise_last("rw_bb_skip");
        if (s == RW_CLOSED) raise_closed("ByteBroadcastWriter");
      }, py::arg("count"), "`count` sequence numbers that never carry a message: every reader is told (Lagged).")
      .def_readonly("max_message", &BBWriter::max_message)
      .def("__repr__", [](const BBWriter& w) { return "<ringwire.ByteBroadcastWriter '" + w.seg->name + "'>"; });

  // ---- ByteBroadcastReader
  py::class_<BBReader> br(m, "ByteBroadcastReader", R"doc(A byte-broadcast reader, lossy or credited.

Receives return bytes (copies), a ringwire.Lagged(missed) when messages were lost before the
next one (lossy readers lapped by the writer, or a writer's skip), or None when nothing
arrived; they raise ringwire.Closed once the writer closed and everything was read. Every lag
is added to .missed. Iterating yields the messages (bytes) until the stream closes; lags are
counted in .missed, or yielded too with iter(lagged=True).)doc");
  bind_endpoint_common(br);
  br.def("try_read", [](BBReader& r, bool with_info) { return bb_read_bytes(r, Deadline::now(), with_info); },
         py::arg("with_info") = false,
         "bytes, (bytes, MessageInfo) with with_info, Lagged, or None when empty; raises Closed.")
      .def("read_for", [](BBReader& r, const py::object& timeout, bool with_info) {
        return bb_read_bytes(r, Deadline::from(timeout), with_info);
      }, py::arg("timeout"), py::arg("with_info") = false,
      "As try_read, waiting up to timeout seconds (None: forever; GIL released, Ctrl-C works); None on timeout.")
      .def("read", [](BBReader& r, bool with_info) { return bb_read_bytes(r, Deadline::forever(), with_info); },
           py::arg("with_info") = false, "The next message or Lagged, waiting as long as it takes; raises Closed.")
      .def("read_into", [](BBReader& r, const py::object& buffer, const py::object& timeout) -> py::object {
        OutBuffer out(buffer);
        auto lk = lock_endpoint(r.m);
        std::uint64_t lost = 0;
        const int s = bb_read(r, lk, Deadline::from(timeout), out.data(), out.size(), lost);
        if (s == RW_OK) return py::int_(r.info.size);
        return bb_other(s, lost);
      }, py::arg("buffer"), py::arg("timeout") = 0.0,
      "Copies the next message into a writable buffer (bytearray, memoryview, numpy array): its size (int), "
      "Lagged, or None; raises TooSmall (nothing consumed) or Closed. Waits up to timeout seconds (0: no wait). "
      "The message's metadata is in last_info.")
      .def("iter", [](py::object self, bool lagged, bool with_info) {
        BBReader& r = self.cast<BBReader&>();
        return make_iterator(self, [&r, lagged, with_info]() -> py::object {
          for (;;) {
            int s = RW_OK;
            py::object v = bb_read_bytes(r, Deadline::forever(), with_info, &s);
            if (s == RW_CLOSED) throw py::stop_iteration();
            if (s == RW_OK || lagged) return v;
          }
        });
      }, py::arg("lagged") = false, py::arg("with_info") = false,
      "An iterator over the messages until the stream closes; lagged=True yields the Lagged results too.")
      .def("__iter__", [](py::object self) { return self.attr("iter")(); })
      .def_property_readonly("last_info", [](const BBReader& r) -> py::object {
        return r.have_info ? info_object(r.info) : py::none();
      }, "The MessageInfo of the last message read (None before the first).")
      .def_readonly("missed", &BBReader::missed, "Messages lost in total (the sum of every Lagged).")
      .def_readonly("received", &BBReader::received, "Messages read in total.")
      .def_readonly("credited", &BBReader::credited)
      .def_property_readonly("max_message", [](const BBReader& r) { return r.buf.size(); })
      .def("__repr__", [](const BBReader& r) {
        return std::string("<ringwire.ByteBroadcastReader '") + r.seg->name + "'" + (r.credited ? " credited>" : ">");
      });

  // ---- ByteRingWriter
  py::class_<BRWriter> rw(m, "ByteRingWriter", R"doc(A byte ring's writer: records of (type >= 1, bytes).

One-to-one rings have one writer; many-to-one rings one per process (clone() for more threads
of this process). Zero-copy: reserve(n) gives a writable memoryview of n bytes in the ring;
fill it, then commit(type, used) or abort(). The memoryview is released at commit/abort, and
nothing may write the bytes after that (they are the reader's, then the ring's): while a
slice or memoryview of it, or an array made from it (np.frombuffer), is still alive, commit
and abort raise BufferError and the reservation stays open -- delete those first. close()
abandons the reservation regardless (a view kept past it is not the module's to revoke).)doc");
  bind_endpoint_common(rw);
  rw.def("try_write", [](BRWriter& w, std::int32_t type, const py::object& data) {
      return sent("ByteRingWriter", br_write(w, type, data, Deadline::now()));
    }, py::arg("type"), py::arg("data"), "True when written, False when the ring is full; raises Closed (reader gone).")
      .def("write_for", [](BRWriter& w, std::int32_t type, const py::object& data, const py::object& timeout) {
        return sent("ByteRingWriter", br_write(w, type, data, Deadline::from(timeout)));
      }, py::arg("type"), py::arg("data"), py::arg("timeout"), "Waits up to timeout seconds for room; False on timeout.")
      .def("write", [](BRWriter& w, std::int32_t type, const py::object& data) {
        sent("ByteRingWriter", br_write(w, type, data, Deadline::forever()));
      }, py::arg("type"), py::arg("data"), "Writes, waiting for room as long as it takes (interruptible).")
      .def("reserve", [](BRWriter& w, std::size_t n) -> py::object {
        auto lk = lock_endpoint(w.m);
        no_reservation(w, "reserve");
        rw_br_writer* h = w.get();
        void* p = nullptr;
        const int s = rw_br_reserve(h, n, &p);
        w.last = s;
        if (s == RW_ERROR) raise_last("rw_br_reserve");
        if (s == RW_CLOSED) raise_closed("ByteRingWriter");
        if (s != RW_OK) return py::none();
        w.reserving = true;
        w.reserved = n;
        try {
          w.lease = lease_memoryview(w.seg, p, n);
        } catch (...) {
          rw_br_abort(h);
          w.reserving = false;
          throw;
        }
        return w.lease.view;
      }, py::arg("n"), "A writable memoryview of exactly n bytes in the ring, or None when full; then commit() or abort().")
      .def("commit", [](BRWriter& w, std::int32_t type, const py::object& used) {
        // Converted before the lock: a user __index__ runs with no endpoint lock held.
        const std::optional<std::size_t> used_arg =
            used.is_none() ? std::nullopt : std::optional<std::size_t>(used.cast<std::size_t>());
        auto lk = lock_endpoint(w.m);
        rw_br_writer* h = w.get();
        if (!w.reserving) raise_error(RW_E_INVALID_ARGUMENT, "commit: no reservation is open");
        const std::size_t u = used_arg.value_or(w.reserved);
        if (u > w.reserved) raise_value("commit: used exceeds the reservation");
        // rw_br_commit's own check, made before the memoryview is released: a bad type leaves
        // the reservation open and its memoryview usable.
        if (type < 1)
          raise_error(RW_E_INVALID_MESSAGE_TYPE, "message type " + std::to_string(type) + " is reserved (types must be >= 1)");
        if (!lease_quiet(w.lease)) raise_views_alive("commit");
        const int s = rw_br_commit(h, type, u);
        w.last = s;
        if (s == RW_ERROR) raise_last("rw_br_commit");  // the reservation stays open: commit again or abort()
        w.reserving = false;
        end_lease(w.lease);
      }, py::arg("type"), py::arg("used") = py::none(),
      "Publishes the first `used` bytes (default: all) as a record and releases the memoryview. Raises BufferError "
      "(the reservation stays open) while other views of it are alive: slices or memoryviews of it, arrays made "
      "from it (np.frombuffer) -- delete them first.")
      .def("abort", [](BRWriter& w) {
        auto lk = lock_endpoint(w.m);
        rw_br_writer* h = w.get();
        if (w.reserving) {
          if (!lease_quiet(w.lease)) raise_views_alive("abort");
          rw_br_abort(h);
        }
        w.reserving = false;
        end_lease(w.lease);
      }, "Drops the open reservation (nothing is published). BufferError as commit() while other views of it are alive.")
      .def("clone", [](BRWriter& w) {
        auto lk = lock_endpoint(w.m);
        rw_br_writer* c = rw_br_writer_clone(w.get());
        if (c == nullptr) raise_last("rw_br_writer_clone");
        return std::make_unique<BRWriter>(w.seg, c);
      }, "Many-to-one: another writer handle of this process (for another thread).")
      .def("__repr__", [](const BRWriter& w) { return "<ringwire.ByteRingWriter '" + w.seg->name + "'>"; });

  // ---- ByteRingReader
  py::class_<BRReader> rr(m, "ByteRingReader", R"doc(A byte ring's reader (lossless).

Copies: try_read / read_for / read return (type, bytes) and give the record back at once.
In place: try_read_view / read_view_for return (type, memoryview) pointing into the ring,
valid until release() (or a copying read, or a read_view_for that has to wait, or close()):
then the memoryview is released (using it raises ValueError). A numpy array made from one
keeps the memory mapped but its bytes may be overwritten: copy what you keep. Iterating yields
(type, bytes) until the stream closes.)doc");
  bind_endpoint_common(rr);
  rr.def("try_read", [](BRReader& r) { return br_read_copy(r, Deadline::now()); },
         "(type, bytes) or None when empty; raises Closed once the writers closed and all was read.")
      .def("read_for", [](BRReader& r, const py::object& timeout) { return br_read_copy(r, Deadline::from(timeout)); },
           py::arg("timeout"), "As try_read, waiting up to timeout seconds (None: forever); None on timeout.")
      .def("read", [](BRReader& r) { return br_read_copy(r, Deadline::forever()); },
           "The next (type, bytes), waiting as long as it takes; raises Closed.")
      .def("try_read_view", [](BRReader& r) { return br_read_view(r, Deadline::now()); },
           "(type, memoryview) in place, valid until release(); None when empty; raises Closed.")
      .def("read_view_for", [](BRReader& r, const py::object& timeout) { return br_read_view(r, Deadline::from(timeout)); },
           py::arg("timeout"), "As try_read_view, waiting up to timeout seconds; if it waits it releases earlier views first.")
      .def("release", [](BRReader& r) {
        auto lk = lock_endpoint(r.m);
        rw_br_reader* h = r.get();
        release_views(r.views);
        rw_br_release(h);
      }, "Gives back every record read in place (their memoryviews are released).")
      .def("recover", [](BRReader& r) {
        auto lk = lock_endpoint(r.m);
        rw_br_reader* h = r.get();
        release_views(r.views);
        rw_br_release(h);  // the views' records go back with them
        const long n = rw_br_recover(r.seg->seg, h);
        if (n < 0) raise_last("rw_br_recover");
        return n;
      }, "Many-to-one: a writer died mid-record: reaps, skips its record; returns records skipped.")
      .def("__iter__", [](py::object self) {
        BRReader& r = self.cast<BRReader&>();
        return make_iterator(self, [&r]() -> py::object {
          int s = RW_OK;
          py::object v = br_read_copy(r, Deadline::forever(), &s);
          if (s == RW_CLOSED) throw py::stop_iteration();
          return v;
        });
      })
      .def_readonly("received", &BRReader::received)
      .def("__repr__", [](const BRReader& r) { return "<ringwire.ByteRingReader '" + r.seg->name + "'>"; });
}

}  // namespace rwpy
