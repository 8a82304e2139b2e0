// Programs in other languages on the same segments as C++ (issue 22): a C++ publisher with a
// Python and a Rust subscriber on one broadcast segment, a Python writer into a C++ reader's
// byte ring, a Rust producer into a C++ MPSC lane, and foreign processes killed with SIGKILL
// while attached, recovered from the C++ side as a C++ peer would be. Each case checks every
// message. The foreign programs are bindings/python/examples/*.py (run by RW_XL_PYTHON with
// the module on RW_XL_PYTHONPATH) and bindings/rust/examples (built by cargo into
// RW_XL_RUST_EXAMPLES); a case whose language was not built is skipped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/shm.hpp"

namespace {

// The element both example programs read and write (their headers document it).
struct alignas(8) stamped {
  std::uint64_t seq;
  std::uint64_t check;  // seq * 0x9E3779B97F4A7C15 mod 2^64
};
constexpr std::uint64_t stamp(std::uint64_t seq) { return seq * 0x9E3779B97F4A7C15ull; }

}  // namespace

template <>
struct ringwire::shm::type_tag<stamped> {
  static constexpr std::uint64_t value = 0x73746d7001;  // what the spawned programs are told
};

namespace {

namespace shm = ringwire::shm;
using namespace std::chrono_literals;

const std::string python = RW_XL_PYTHON;
const std::string py_examples = RW_XL_PY_EXAMPLES;
const std::string rust_examples = RW_XL_RUST_EXAMPLES;
const std::string tag_arg = std::to_string(shm::type_tag<stamped>::value);

// A spawned program: its pid and the read end of its stdout.
struct child {
  pid_t pid = -1;
  int out = -1;
};

child spawn(const std::vector<std::string>& argv) {
  int p[2];
  if (::pipe(p) != 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::close(p[0]);
    ::close(p[1]);
    ::setenv("PYTHONPATH", RW_XL_PYTHONPATH, 1);
    ::setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(p[1]);
  return child{pid, p[0]};
}

// Waits for the program; returns its exit status (-signal when killed) and its stdout.
std::pair<int, std::string> finish(child c) {
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(c.out, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(c.out);
  int st = 0;
  ::waitpid(c.pid, &st, 0);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), text};
}

std::string seg_name(const char* what) { return "/rw-xl-" + std::string(what) + "-" + std::to_string(::getpid()); }

// Claim words of `role` held in the segment (a subscriber, a lane ...): how a spawner knows
// a foreign endpoint has attached.
std::uint64_t held(const shm::segment& seg, std::string_view role) {
  for (const auto& i : shm::describe(seg).claims)
    if (i.key == role) return i.value;
  return 0;
}

bool wait_held(const shm::segment& seg, std::string_view role, std::uint64_t n) {
  const auto until = std::chrono::steady_clock::now() + 60s;  // an interpreter's start, under load
  while (held(seg, role) < n)
    if (std::chrono::steady_clock::now() > until) return false;
    else std::this_thread::sleep_for(5ms);
  return true;
}

// Receives `count` elements numbered from `first` on (one producer's lane, in order) and
// counts those whose number or check is wrong.
template <class Receiver>
std::uint64_t expect_numbered(Receiver& rx, std::uint64_t first, std::uint64_t count) {
  std::uint64_t bad = 0;
  for (std::uint64_t i = first; i < first + count; ++i) {
    auto r = rx.recv_for(60s);
    if (!r) {
      ADD_FAILURE() << "receive " << i << ": " << ringwire::to_string(r.status());
      return bad + (first + count - i);
    }
    if (r->seq != i || r->check != stamp(i)) ++bad;
  }
  return bad;
}

struct unlink_at_end {
  std::string name;
  ~unlink_at_end() { shm::segment::unlink(name); }
};

#define REQUIRE_PYTHON() \
  if (python.empty()) GTEST_SKIP() << "the Python module was not built"
#define REQUIRE_RUST() \
  if (rust_examples.empty()) GTEST_SKIP() << "the Rust crate was not built"

}  // namespace

// One C++ publisher, a Python and a Rust subscriber: each sees every message, in order.
TEST(CrossLanguage, CppPublisherPythonAndRustSubscribers) {
  REQUIRE_PYTHON();
  REQUIRE_RUST();
  const unlink_at_end n{seg_name("bc")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::broadcast_spec<stamped>(1024, 4, ringwire::broadcast::policy::lossless));
  auto pub = shm::broadcast::attach_publisher<stamped>(seg);
  child py = spawn({python, py_examples + "/bc_subscriber.py", n.name, tag_arg});
  child rs = spawn({rust_examples + "/bc_subscriber", n.name});  // its Elem: Pod::TYPE_TAG 0, unchecked
  ASSERT_TRUE(wait_held(seg, "subscriber", 2)) << "the subscribers did not attach";
  constexpr std::uint64_t count = 200000;
  for (std::uint64_t i = 0; i < count; ++i) ASSERT_EQ(pub.send_for(stamped{i, stamp(i)}, 30s), ringwire::status::ok);
  pub.close();
  const auto [py_rc, py_out] = finish(py);
  const auto [rs_rc, rs_out] = finish(rs);
  EXPECT_EQ(py_rc, 0) << py_out;
  EXPECT_EQ(rs_rc, 0) << rs_out;
  // The last line is the verdict (a program may say "ready" first).
  const std::string verdict = "ok " + std::to_string(count) + " missed 0\n";
  EXPECT_TRUE(py_out.ends_with(verdict)) << py_out;
  EXPECT_TRUE(rs_out.ends_with(verdict)) << rs_out;
}

// A Python writer into the byte ring a C++ reader made: every record, byte for byte.
TEST(CrossLanguage, PythonWriterCppByteRingReader) {
  REQUIRE_PYTHON();
  const unlink_at_end n{seg_name("br")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::byte_ring_spec(1 << 16));
  auto rx = shm::byte_ring::attach_reader(seg);
  constexpr std::uint64_t count = 50000;
  child py = spawn({python, py_examples + "/br_writer.py", n.name, std::to_string(count)});
  std::uint64_t next = 0, bad = 0;
  ringwire::byte_ring::record_view v;
  for (ringwire::status s; (s = rx.read_for(v, 60s)) == ringwire::status::ok;) {
    // record n: type 7; n as 8 bytes little-endian, then n % 200 bytes of n & 0xff
    bool same = v.type == 7 && v.payload.size() == 8 + next % 200;
    std::uint64_t seq = 0;
    if (same) std::memcpy(&seq, v.payload.data(), 8);
    same = same && seq == next;
    for (std::size_t i = 8; same && i < v.payload.size(); ++i) same = v.payload[i] == static_cast<std::byte>(next & 0xff);
    if (!same) ++bad;
    ++next;
  }
  const auto [rc, out] = finish(py);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(next, count);
  EXPECT_EQ(bad, 0u);
}

// A Rust producer on a lane of a C++ receiver's MPSC channel, beside a C++ producer.
TEST(CrossLanguage, RustProducerCppMpscReceiver) {
  REQUIRE_RUST();
  const unlink_at_end n{seg_name("mpsc")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::mpsc_spec<stamped>(256, 4));
  auto rx = shm::mpsc::attach_receiver<stamped>(seg);
  constexpr std::uint64_t count = 100000;
  child rs = spawn({rust_examples + "/mpsc_producer", n.name, std::to_string(count)});
  std::thread cpp([&seg] {
    auto tx = shm::mpsc::attach_sender<stamped>(seg);
    constexpr std::uint64_t base = std::uint64_t{1} << 40;
    for (std::uint64_t i = 0; i < count; ++i) ASSERT_EQ(tx.send(stamped{base + i, stamp(base + i)}), ringwire::status::ok);
  });
  std::uint64_t next_rust = 0, next_cpp = std::uint64_t{1} << 40, bad = 0;
  for (std::uint64_t got = 0; got < 2 * count; ++got) {
    auto r = rx.recv_for(60s);
    ASSERT_TRUE(r) << ringwire::to_string(r.status());
    std::uint64_t& next = r->seq < (std::uint64_t{1} << 40) ? next_rust : next_cpp;
    if (r->seq != next || r->check != stamp(r->seq)) ++bad;
    ++next;
  }
  cpp.join();
  const auto [rc, out] = finish(rs);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(next_rust, count);
  EXPECT_EQ(bad, 0u);
}

// A Rust producer killed with SIGKILL after 1000 messages: the C++ receiver reaps its lane,
// has every message it sent, and a second Rust producer carries on.
TEST(CrossLanguage, KilledRustProducerReapedFromCpp) {
  REQUIRE_RUST();
  const unlink_at_end n{seg_name("kill-rs")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::mpsc_spec<stamped>(4096, 2));
  auto rx = shm::mpsc::attach_receiver<stamped>(seg);
  child rs = spawn({rust_examples + "/mpsc_producer", n.name, "1000000", "1000"});  // stops after 1000
  EXPECT_EQ(expect_numbered(rx, 0, 1000), 0u);
  ::kill(rs.pid, SIGKILL);
  EXPECT_EQ(finish(rs).first, -SIGKILL);
  EXPECT_EQ(shm::mpsc::reap(seg).lanes, 1u);
  EXPECT_EQ(rx.try_recv().status(), ringwire::status::empty);  // nothing more, nothing torn
  child again = spawn({rust_examples + "/mpsc_producer", n.name, "500"});
  EXPECT_EQ(expect_numbered(rx, 0, 500), 0u);
  EXPECT_EQ(finish(again).first, 0);
}

// A Python subscriber killed with SIGKILL on a lossless broadcast: its entry would hold the
// publisher back for ever; the C++ side reaps it and publishing goes on.
TEST(CrossLanguage, KilledPythonSubscriberReapedFromCpp) {
  REQUIRE_PYTHON();
  const unlink_at_end n{seg_name("kill-py")};
  shm::segment::unlink(n.name);
  auto seg = shm::segment::create(n.name, shm::broadcast_spec<stamped>(64, 2, ringwire::broadcast::policy::lossless));
  auto pub = shm::broadcast::attach_publisher<stamped>(seg);
  child py = spawn({python, py_examples + "/bc_subscriber.py", n.name, tag_arg});
  ASSERT_TRUE(wait_held(seg, "subscriber", 1));
  ::kill(py.pid, SIGSTOP);  // attached, and reading no more
  std::uint64_t i = 0;
  while (pub.try_send(stamped{i, stamp(i)}) == ringwire::status::ok) ++i;
  EXPECT_EQ(i, 64u);  // held back by the stopped subscriber
  ::kill(py.pid, SIGKILL);
  EXPECT_EQ(finish(py).first, -SIGKILL);
  EXPECT_EQ(shm::broadcast::reap(seg).subscribers, 1u);
  EXPECT_EQ(held(seg, "subscriber"), 0u);
  for (std::uint64_t k = 0; k < 1000; ++k, ++i) ASSERT_EQ(pub.try_send(stamped{i, stamp(i)}), ringwire::status::ok);
}
