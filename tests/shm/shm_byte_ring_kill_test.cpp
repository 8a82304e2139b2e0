// tests/shm/shm_byte_ring_kill_test.cpp -- a many-to-one byte ring in shared memory
// survives kill -9 of a writer process at any instruction, many times (issue 16, item 1).
//
// A small ring (8 KiB: wraps are frequent) with three writer claims. Two long-lived
// "streamer" processes write records of mixed sizes (up to 3 KiB) until told to stop, every
// word derived from (streamer, sequence), so a torn, foreign or misplaced record is caught.
// The third claim belongs to a "victim": a killer process forks one, waits for its attach
// (through a pipe), lets it write bursts for a random 0-2 ms (every eighth kill right after
// the attach), kills it with SIGKILL and waits for it, over and over. Each victim runs two
// handles (its writer and a copy, in two threads; one thread taking turns under TSan, which
// sees no edges between processes) that mix write_for, try_write, reserve_for + commit,
// try_write_fragmented and write_fragmented_for, so a kill lands anywhere: before, inside
// or after a claim (the CAS on the tail), between the claim and its header stores, with a
// padding record, in a fragment run, or with a copy's claim in progress. Victim words check
// themselves (each holds its message, its index and a hash of both).
//
// The parent is the reader: read_for(1 ms), and recover(seg, rx) on every timeout (the
// documented loop), plus every half millisecond so a killed victim's claim is freed for the
// next victim even while the streamers keep the reader busy. Checked: every record read is
// intact; each streamer's records arrive exactly once and in order, all of them; the reader
// never stays at one position for 30 s (the test fails with the position, tail, header and
// claim words if it does); once every kill is done, the streamers stop, close_writers()
// runs and the reader reaches closed.
//
// Kills: RINGWIRE_KILLS (default 300, divided by RINGWIRE_STRESS_SCALE under sanitizers).
// 10,000 by hand, in a release build:
//   RINGWIRE_KILLS=10000 <build>/tests/shm_byte_ring_kill_test
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/byte_ring.hpp"
#include "ringwire/shm/byte_ring.hpp"
#include "support/shm_support.hpp"
#include "support/stress_scale.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::status;
using ringwire::byte_ring::record_view;
using ringwire::byte_ring::ring_kind;
using writer_t = ringwire::byte_ring::shared_writer<>;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::uint64_t ring_capacity = 8192;
constexpr std::uint32_t streamers = 2;
constexpr std::int32_t victim_type = 7;  // streamers use types 1..5
constexpr std::size_t fragment_size = 256;
constexpr auto stuck_limit = 30s;

// Segment counters.
constexpr std::uint32_t stop_counter = 0;   // 1: the streamers finish
constexpr std::uint32_t total_counter = 1;  // + w: records streamer w wrote in all
constexpr std::uint32_t kills_counter = 3;  // victims killed so far

std::uint64_t kills_wanted() {
  if (const char* e = std::getenv("RINGWIRE_KILLS"); e != nullptr) return std::strtoull(e, nullptr, 10);
  return rw_test::scaled(300);
}

// ---- streamer records: record k of streamer w -------------------------------------------
std::int32_t streamer_type(std::uint64_t k) { return static_cast<std::int32_t>(1 + k % 5); }
std::size_t streamer_words(std::uint32_t w, std::uint64_t k) {
  const std::uint64_t h = shm_test::mix(std::uint64_t{w} << 56 ^ k);
  return 1 + ((h >> 32) % 16 == 0 ? h % 384 : h % 96);  // 8 B .. 3 KiB, mostly under 768 B
}
std::uint64_t streamer_word(std::uint32_t w, std::uint64_t k, std::size_t i) {
  const std::uint64_t id = std::uint64_t{w} << 56 | k;
  return i == 0 ? id : shm_test::mix(id * 1024 + i);
}
void fill_streamer(std::byte* out, std::uint32_t w, std::uint64_t k) {
  for (std::size_t i = 0; i < streamer_words(w, k); ++i) {
    const std::uint64_t v = streamer_word(w, k, i);
    std::memcpy(out + 8 * i, &v, 8);
  }
}
// A streamer's record, intact: its (w, k) through the out-parameters.
bool streamer_record(const record_view& r, std::uint32_t& w, std::uint64_t& k) {
  if (r.payload.size() < 8) return false;
  std::uint64_t id;
  std::memcpy(&id, r.payload.data(), 8);
  w = static_cast<std::uint32_t>(id >> 56);
  k = id & ((std::uint64_t{1} << 56) - 1);
  if (w >= streamers || r.type != streamer_type(k) || r.payload.size() != 8 * streamer_words(w, k)) return false;
  for (std::size_t i = 1; i < r.payload.size() / 8; ++i) {
    std::uint64_t v;
    std::memcpy(&v, r.payload.data() + 8 * i, 8);
    if (v != streamer_word(w, k, i)) return false;
  }
  return true;
}

// ---- victim messages: word j of message m checks itself ---------------------------------
std::uint64_t victim_word(std::uint32_t m, std::uint32_t j) {
  const std::uint64_t key = std::uint64_t{m & 0xffff} << 16 | (j & 0xffff);
  return key << 32 | (shm_test::mix(key) & 0xffff'ffff);
}
// Consecutive words of one message, each intact.
bool victim_words(std::span<const std::byte> p) {
  if (p.empty() || p.size() % 8 != 0) return false;
  std::uint64_t first;
  std::memcpy(&first, p.data(), 8);
  const auto m = static_cast<std::uint32_t>(first >> 48);
  const auto j0 = static_cast<std::uint32_t>(first >> 32 & 0xffff);
  for (std::size_t i = 0; i < p.size() / 8; ++i) {
    std::uint64_t v;
    std::memcpy(&v, p.data() + 8 * i, 8);
    if (v != victim_word(m, j0 + static_cast<std::uint32_t>(i))) return false;
  }
  return true;
}
bool victim_record(const record_view& r) {
  if (r.type == victim_type) return victim_words(r.payload);
  if (r.type != ringwire::byte_ring::fragment_type || r.payload.size() < 8) return false;
  const auto f = ringwire::byte_ring::get_fragment_header(r.payload.data());
  if (f.type != victim_type || (f.flags & ~ringwire::byte_ring::frag_known_flags) != 0 || f.stream > 1) return false;
  if ((f.flags & ringwire::byte_ring::frag_abort) != 0) return r.payload.size() == 8;
  return victim_words(r.payload.subspan(8));
}

// ---- the processes ----------------------------------------------------------------------

// A child dies with its parent (a failed test never leaves writers behind).
void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(97);
}

int streamer(const shm::segment& seg, std::uint32_t w) {
  auto tx = shm::byte_ring::attach_shared_writer(seg);
  std::vector<std::byte> buf(ring_capacity);
  std::uint64_t k = 0;
  // relaxed: a flag; what the records carry publishes itself.
  while (seg.counter(stop_counter).load(std::memory_order_relaxed) == 0) {
    const std::size_t n = 8 * streamer_words(w, k);
    status s;
    if (k % 3 == 2) {
      const auto c = tx.reserve_for(n, 50ms);
      s = c.status();
      if (c) {
        fill_streamer(c.bytes().data(), w, k);
        tx.commit(streamer_type(k));
      }
    } else {
      fill_streamer(buf.data(), w, k);
      s = tx.write_for(streamer_type(k), std::span<const std::byte>(buf.data(), n), 50ms);
    }
    if (s == status::ok) {
      ++k;
    } else if (s != status::timed_out) {
      return 10;
    }
  }
  // relaxed: the parent reads it after waitpid().
  seg.counter(total_counter + w).store(k, std::memory_order_relaxed);
  return 0;  // tx detaches here
}

// One victim thread: messages through the handles in turn (one or two), never ending.
[[noreturn]] void victim_loop(writer_t* a, writer_t* b, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> msg(2048);
  for (auto m = static_cast<std::uint32_t>(seed);; ++m) {
    const bool second = b != nullptr && m % 2 == 1;
    writer_t& tx = second ? *b : *a;
    const std::uint16_t stream = second ? 1 : 0;
    const std::size_t words = 1 + rng() % 190;  // 8 .. 1520 B: fragmented in up to 6 pieces
    for (std::size_t j = 0; j < words; ++j) {
      const std::uint64_t v = victim_word(m, static_cast<std::uint32_t>(j));
      std::memcpy(msg.data() + 8 * j, &v, 8);
    }
    const std::span<const std::byte> bytes(msg.data(), 8 * words);
    switch (rng() % 5) {
      case 0:
        (void)tx.write_for(victim_type, bytes, 5ms);
        break;
      case 1:
        (void)tx.try_write(victim_type, bytes);
        break;
      case 2:
        if (const auto c = tx.reserve_for(bytes.size(), 5ms)) {
          std::memcpy(c.bytes().data(), bytes.data(), bytes.size());
          tx.commit(victim_type);
        }
        break;
      case 3:
        (void)tx.try_write_fragmented(victim_type, bytes, stream, fragment_size);
        break;
      default:
        (void)tx.write_fragmented_for(victim_type, bytes, 5ms, stream, fragment_size);
        break;
    }
  }
}

// A victim: attaches (waiting while the reader has not yet freed the last victim's claim),
// says so, and writes until killed.
int victim(const shm::segment& seg, int attached_fd, std::uint64_t seed) {
  const auto until = steady::now() + stuck_limit;
  writer_t tx;
  for (;;) {
    try {
      tx = shm::byte_ring::attach_shared_writer(seg);
      break;
    } catch (const ringwire::error& e) {
      if (e.code() != ringwire::errc::too_many_producers || steady::now() > until) return 30;
    }
    std::this_thread::sleep_for(100us);
  }
  writer_t tx2 = tx;  // a copy: a span of its own
  if (::write(attached_fd, "a", 1) != 1) return 31;
#if RINGWIRE_TSAN
  victim_loop(&tx, &tx2, seed);
#else
  std::thread t([&] { victim_loop(&tx2, nullptr, seed ^ 0x5a5a); });
  victim_loop(&tx, nullptr, seed);
#endif
}

// The killer: `kills` victims, each killed after a random 0-2 ms. 0, or why it stopped:
// 20 a victim never attached, 21 it exited before attaching, 22 it was not killed by us.
int killer(const shm::segment& seg, std::uint64_t kills, std::uint64_t seed) {
  const pid_t self = ::getpid();
  std::mt19937_64 rng(seed);
  for (std::uint64_t i = 0; i < kills; ++i) {
    int fd[2];
    if (::pipe(fd) != 0) return 23;
    const std::uint64_t vseed = rng();
    const pid_t v = shm_test::spawn([&] {
      die_with_parent(self);
      ::close(fd[0]);
      return victim(seg, fd[1], vseed);
    });
    ::close(fd[1]);
    pollfd p{fd[0], POLLIN, 0};
    char c = 0;
    const int ready = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(stuck_limit).count()));
    const bool attached = ready == 1 && ::read(fd[0], &c, 1) == 1;
    ::close(fd[0]);
    if (!attached) {
      ::kill(v, SIGKILL);
      const int rc = shm_test::wait_child(v);
      std::fprintf(stderr, "killer: victim %llu did not attach (exit %d)\n", static_cast<unsigned long long>(i), rc);
      return ready == 1 ? 21 : 20;
    }
    const std::uint64_t us = rng() % 8 == 0 ? 0 : rng() % 2000;
    if (us != 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
    ::kill(v, SIGKILL);
    if (const int rc = shm_test::wait_child(v); rc != 128 + SIGKILL) {
      std::fprintf(stderr, "killer: victim %llu ended with %d\n", static_cast<unsigned long long>(i), rc);
      return 22;
    }
    // relaxed: a count for reports.
    seg.counter(kills_counter).fetch_add(1, std::memory_order_relaxed);
  }
  return 0;
}

// ---- the reader's side ------------------------------------------------------------------

// The exit code of `pid` if it ended (reaped), else -1.
int ended(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, WNOHANG) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Kills and reaps the children still running when the test ends (a failure).
struct children {
  std::vector<pid_t> pids;
  ~children() {
    for (pid_t p : pids)
      if (p > 0) ::kill(p, SIGKILL);
    for (pid_t p : pids)
      if (p > 0) (void)shm_test::wait_child(p);
  }
};

// The header word at the reader's position (relaxed: a report).
std::uint64_t header_at_reader(const shm::segment& seg, const ringwire::byte_ring::reader<>& rx) {
  auto* r = shm::detail::channel_of<ringwire::byte_ring::layout<>>(seg.share());
  return std::launder(reinterpret_cast<std::atomic<std::uint64_t>*>(r->data() + (rx.position() & (ring_capacity - 1))))
      ->load(std::memory_order_relaxed);
}

// Where the reader stands: for a failure message.
std::string where(const shm::segment& seg, const ringwire::byte_ring::reader<>& rx) {
  const auto map = seg.share();
  auto* r = shm::detail::channel_of<ringwire::byte_ring::layout<>>(map);
  const std::uint64_t at = rx.position();
  const std::uint64_t header = header_at_reader(seg, rx);
  // relaxed (all): a report.
  std::ostringstream o;
  o << "after " << seg.counter(kills_counter).load(std::memory_order_relaxed) << " kills: position " << at << ", ring tail " << r->producer.tail.load(std::memory_order_relaxed) << ", head "
    << r->consumer.head.load(std::memory_order_relaxed) << ", header 0x" << std::hex << header << std::dec;
  for (std::uint32_t i = 0; i < seg.info().endpoints; ++i) {
    o << "; claim " << i << " 0x" << std::hex
      << shm::endpoint_claim(map.get()->base, seg.info(), i).load(std::memory_order_relaxed) << std::dec;
    for (std::uint32_t k = 0; k < ringwire::byte_ring::shm_contract::spans_per_writer; ++k) {
      auto* s = shm::byte_ring_writer_span(map.get()->base, seg.info(), i, k);
      const std::uint64_t b = s[0].load(std::memory_order_relaxed), e = s[1].load(std::memory_order_relaxed);
      if (static_cast<std::int64_t>(e - b) > 0) o << " span " << k << " [" << b << ", " << e << ")";
    }
  }
  return o.str();
}

TEST(ShmByteRingKill, AWriterKilledAtAnyInstructionNeverWedgesTheRing) {
  const std::uint64_t kills = kills_wanted();
  auto seg = shm::segment::create_anonymous(shm::byte_ring_spec(ring_capacity, ring_kind::many_to_one, streamers + 1));
  auto rx = shm::byte_ring::attach_reader(seg);
  const pid_t parent = ::getpid();
  const auto started = steady::now();
  const auto limit_s = static_cast<unsigned>(120 + kills / 10);  // each child's alarm
  children kids;
  for (std::uint32_t w = 0; w < streamers; ++w)
    kids.pids.push_back(shm_test::spawn(
        [&, w] {
          die_with_parent(parent);
          return streamer(seg, w);
        },
        limit_s));
  kids.pids.push_back(shm_test::spawn(
      [&] {
        die_with_parent(parent);
        return killer(seg, kills, 0x6b696c6c);
      },
      limit_s));
  const pid_t killer_pid = kids.pids.back();

  std::uint64_t next[streamers] = {};
  std::uint64_t victim_records = 0, timeouts = 0, skipped = 0, zero_skipped = 0;
  enum class stage { killing, stopping, closing };
  stage phase = stage::killing;
  std::uint32_t streamers_left = streamers;
  auto last_progress = steady::now(), last_recover = steady::now(), last_poll = steady::now();
  auto closed_at = steady::now();
  std::uint64_t last_position = rx.position();
  record_view r;
  for (;;) {
    const status s = rx.read_for(r, 1ms);
    if (s == status::closed) break;
    const auto now = steady::now();
    if (s == status::ok) {
      std::uint32_t w;
      std::uint64_t k;
      if (streamer_record(r, w, k)) {
        ASSERT_EQ(k, next[w]) << "streamer " << w << ": a record lost, repeated or out of order; " << where(seg, rx);
        ++next[w];
      } else {
        ASSERT_TRUE(victim_record(r)) << "a torn or foreign record (type " << r.type << ", " << r.payload.size()
                                      << " bytes); " << where(seg, rx);
        ++victim_records;
      }
    } else {
      ASSERT_EQ(s, status::timed_out) << where(seg, rx);
      ++timeouts;
    }
    if (s == status::timed_out || now - last_recover > 500us) {
      const bool zero = header_at_reader(seg, rx) == 0;
      const std::size_t n = shm::byte_ring::recover(seg, rx);
      skipped += n;
      zero_skipped += zero ? n : 0;  // a claim whose writer died before its header store
      last_recover = now;
    }
    if (rx.position() != last_position) {
      last_position = rx.position();
      last_progress = now;
    }
    ASSERT_LT(now - last_progress, stuck_limit) << "the reader is stuck: " << where(seg, rx);
    if (now - last_poll < 5ms) continue;
    last_poll = now;
    if (phase == stage::killing) {
      if (const int rc = ended(killer_pid); rc >= 0) {
        kids.pids.back() = -1;
        ASSERT_EQ(rc, 0) << "the killer stopped; " << where(seg, rx);
        // relaxed: a flag (the streamers' records publish themselves).
        seg.counter(stop_counter).store(1, std::memory_order_relaxed);
        phase = stage::stopping;
      }
    } else if (phase == stage::stopping) {
      for (std::uint32_t w = 0; w < streamers; ++w) {
        if (kids.pids[w] < 0) continue;
        if (const int rc = ended(kids.pids[w]); rc >= 0) {
          ASSERT_EQ(rc, 0) << "streamer " << w;
          kids.pids[w] = -1;
          --streamers_left;
        }
      }
      if (streamers_left == 0) {
        ASSERT_TRUE(shm::byte_ring::close_writers(seg));
        closed_at = now;
        phase = stage::closing;
      }
    } else {
      ASSERT_LT(now - closed_at, stuck_limit) << "no end of the stream after close_writers(); " << where(seg, rx);
    }
  }
  ASSERT_EQ(phase, stage::closing) << "closed before close_writers(); " << where(seg, rx);
  EXPECT_FALSE(rx.corrupt());
  for (std::uint32_t w = 0; w < streamers; ++w) {
    // relaxed: written before the streamer exited (waitpid orders it).
    EXPECT_EQ(next[w], seg.counter(total_counter + w).load(std::memory_order_relaxed)) << "streamer " << w;
    EXPECT_GT(next[w], 0u);
  }
  EXPECT_GT(victim_records, 0u);
  const double secs = std::chrono::duration<double>(steady::now() - started).count();
  std::printf("%llu kills in %.1f s: streamer records %llu + %llu, victim records %llu, %llu timeouts, %llu "
              "records skipped by recover(), %llu of them at a zero header\n",
              static_cast<unsigned long long>(kills), secs, static_cast<unsigned long long>(next[0]),
              static_cast<unsigned long long>(next[1]), static_cast<unsigned long long>(victim_records),
              static_cast<unsigned long long>(timeouts), static_cast<unsigned long long>(skipped),
              static_cast<unsigned long long>(zero_skipped));
}

}  // namespace
