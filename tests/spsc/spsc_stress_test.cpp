// Stress tests for ringwire::spsc: one producer thread, one consumer thread, every message
// checked for exact sequence and payload, every run checked for its exact final count.
//
// One engine serves every variant: a producer loop and a consumer loop that each pick, per
// iteration, an operation from the set their mode allows (spin: try_send / try_recv; park:
// blocking send_for / recv_for; batch: the batch and zero-copy paths; mixed: all of them).
// Element types: a 64-byte trivially copyable payload whose words derive from the sequence
// number and carry a checksum, std::unique_ptr<std::uint64_t> (ownership: ASan sees any leak
// or double free), and a tracked type counting live instances (disconnect tests).
//
// Sizes divide by RINGWIRE_STRESS_SCALE (4 under sanitizers). Never more than two busy
// threads: the main thread only waits on a condition variable as a watchdog. No timing is
// asserted; blocking calls use 30 s timeouts (or the watchdog's stop token) purely as
// failure detection, so a lost wake-up fails the test instead of hanging it.
//
// RINGWIRE_STRESS_SEED=<n> replays a run (the seed is printed on every failure).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <cstddef>
#include <ranges>
#include <span>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/unsized_range.hpp"
#include "support/stress_scale.hpp"
#include "support/stress_seed.hpp"
#include "ringwire/spsc.hpp"

namespace {

using namespace std::chrono_literals;
namespace spsc = ringwire::spsc;
using ringwire::status;

using rw_test::scaled;

// Failure detection only: a passing run never comes near these.
constexpr auto kLong = 30s;
constexpr auto kWatchdog = 150s;
// Start indices 1000 and 20 messages before the 64-bit counters wrap.
constexpr std::uint64_t kNearWrap = ~std::uint64_t{0} - 999;
constexpr std::uint64_t kWrapSoon = ~std::uint64_t{0} - 19;

using rw_test::base_seed;
using rw_test::splitmix;

// ---- element types ---------------------------------------------------------------------

// 64 bytes: the sequence number, six words derived from it, and a checksum of the seven.
struct alignas(64) payload {
  std::uint64_t w[8];

  static payload make(std::uint64_t seq) noexcept {
    payload p{};
    p.w[0] = seq;
    for (int i = 1; i < 7; ++i) p.w[i] = splitmix(seq * 8 + static_cast<std::uint64_t>(i));
    p.w[7] = p.sum();
    return p;
  }
  [[nodiscard]] std::uint64_t sum() const noexcept {
    std::uint64_t s = 0x5eed;
    for (int i = 0; i < 7; ++i) s = (s ^ w[i]) * 0x100000001b3ull;
    return s;
  }
  [[nodiscard]] bool valid_for(std::uint64_t seq) const noexcept {
    if (w[0] != seq || w[7] != sum()) return false;
    for (int i = 1; i < 7; ++i)
      if (w[i] != splitmix(seq * 8 + static_cast<std::uint64_t>(i))) return false;
    return true;
  }
};
static_assert(sizeof(payload) == 64 && std::is_trivially_copyable_v<payload>);

using owned = std::unique_ptr<std::uint64_t>;

// Counts live instances; the canary catches a use or destruction of a dead object.
struct tracked {
  static constexpr std::uint64_t alive = 0xa11ce5a11ce5a11cull;
  static constexpr std::uint64_t dead = 0xdeadbeefdeadbeefull;
  static inline std::atomic<long> live{0};
  static inline std::atomic<long> bad{0};  // destructions of non-live objects

  std::uint64_t seq = ~std::uint64_t{0};
  std::uint64_t canary = alive;

  tracked() noexcept { live.fetch_add(1, std::memory_order_relaxed); }
  explicit tracked(std::uint64_t s) noexcept : seq(s) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(const tracked& o) noexcept : seq(o.seq) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(tracked&& o) noexcept : seq(o.seq) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked& operator=(const tracked& o) noexcept = default;
  tracked& operator=(tracked&& o) noexcept = default;
  ~tracked() {
    if (canary != alive) bad.fetch_add(1, std::memory_order_relaxed);
    canary = dead;
    live.fetch_sub(1, std::memory_order_relaxed);
  }
};

template <class T>
struct elem;
template <>
struct elem<payload> {
  static payload make(std::uint64_t s) noexcept { return payload::make(s); }
  static bool check(const payload& p, std::uint64_t s) noexcept { return p.valid_for(s); }
  static constexpr bool moved_from_empty = false;
  static bool empty(const payload&) noexcept { return false; }
};
template <>
struct elem<owned> {
  static constexpr std::uint64_t salt = 0x0123456789abcdefull;
  static owned make(std::uint64_t s) { return std::make_unique<std::uint64_t>(s ^ salt); }
  static bool check(const owned& p, std::uint64_t s) noexcept { return p && *p == (s ^ salt); }
  static constexpr bool moved_from_empty = true;  // a moved-from unique_ptr is null
  static bool empty(const owned& p) noexcept { return p == nullptr; }
};
template <>
struct elem<tracked> {
  static tracked make(std::uint64_t s) noexcept { return tracked(s); }
  static bool check(const tracked& t, std::uint64_t s) noexcept { return t.canary == tracked::alive && t.seq == s; }
  static constexpr bool moved_from_empty = false;
  static bool empty(const tracked&) noexcept { return false; }
};


// ---- harness ---------------------------------------------------------------------------

// First few failures of a run, reported on the main thread.
class failures {
 public:
  void add(const std::string& what) {
    std::lock_guard lk(m_);
    if (list_.size() < 8) list_.push_back(what);
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  [[nodiscard]] bool any() const noexcept { return count_.load(std::memory_order_relaxed) != 0; }
  void report() {
    std::lock_guard lk(m_);
    for (const auto& s : list_) ADD_FAILURE() << s;
    list_.clear();
  }

 private:
  std::mutex m_;
  std::vector<std::string> list_;
  std::atomic<long> count_{0};
};

struct run_ctx {
  std::stop_source stop;  // requested by the watchdog: cancels send(v, st), recv(st), ...
  failures fail;
};

template <class... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Runs f() and g() on two threads while the main thread sleeps on a condition variable; if
// they are not done after kWatchdog it requests a stop and records a failure.
template <class F, class G>
void run_two(run_ctx& ctx, F&& f, G&& g) {
  std::mutex m;
  std::condition_variable cv;
  int done = 0;
  auto finished = [&] {
    std::lock_guard lk(m);
    ++done;
    cv.notify_all();
  };
  std::thread a([&] {
    f();
    finished();
  });
  std::thread b([&] {
    g();
    finished();
  });
  {
    std::unique_lock lk(m);
    if (!cv.wait_for(lk, kWatchdog, [&] { return done == 2; })) {
      ctx.fail.add("watchdog: the pair is still running; requesting stop (a hang?)");
      ctx.stop.request_stop();
    }
  }
  a.join();
  b.join();
}

// Runs producer(tx) and consumer(rx) on two threads. Each function receives its endpoint by
// value, so the endpoint closes when that side returns (the other side sees closed, so one
// side failing ends the run).
template <class T, class P, class C>
void run_pair(run_ctx& ctx, spsc::sender<T> tx, spsc::receiver<T> rx, P&& producer, C&& consumer) {
  run_two(
      ctx, [&] { producer(std::move(tx)); }, [&] { consumer(std::move(rx)); });
}

// Spin a little, then yield: two busy threads on two cores must still let the build, the
// OS and each other run.
struct backoff {
  unsigned n = 0;
  void pause() noexcept {
    if (++n < 32) {
      ringwire::detail::cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  void reset() noexcept { n = 0; }
};

// ---- the engine ------------------------------------------------------------------------

enum class mode { spin, park, batch, mixed };

enum class tx_op {
  try_send, try_batch, try_batch_unsized, reserve_emplace, reserve_span, send_for, send_stop, send_batch
};
enum class rx_op { try_recv, consume, read_span, batch_iter, batch_span, recv_for, recv_stop, wait_readable };

constexpr tx_op tx_spin[] = {tx_op::try_send};
constexpr tx_op tx_park[] = {tx_op::send_for};
constexpr tx_op tx_batch[] = {tx_op::try_batch, tx_op::try_batch_unsized, tx_op::reserve_emplace, tx_op::reserve_span};
constexpr tx_op tx_mixed[] = {tx_op::try_send,   tx_op::try_batch,  tx_op::try_batch_unsized,
                              tx_op::reserve_emplace, tx_op::reserve_span, tx_op::send_for,
                              tx_op::send_stop,  tx_op::send_batch};
constexpr rx_op rx_spin[] = {rx_op::try_recv};
constexpr rx_op rx_park[] = {rx_op::recv_for};
constexpr rx_op rx_batch[] = {rx_op::consume, rx_op::read_span, rx_op::batch_iter, rx_op::batch_span};
constexpr rx_op rx_mixed[] = {rx_op::try_recv,   rx_op::consume,   rx_op::read_span, rx_op::batch_iter,
                              rx_op::batch_span, rx_op::recv_for,  rx_op::recv_stop, rx_op::wait_readable};

std::span<const tx_op> tx_ops(mode m) {
  switch (m) {
    case mode::spin: return tx_spin;
    case mode::park: return tx_park;
    case mode::batch: return tx_batch;
    case mode::mixed: return tx_mixed;
  }
  return tx_spin;
}
std::span<const rx_op> rx_ops(mode m) {
  switch (m) {
    case mode::spin: return rx_spin;
    case mode::park: return rx_park;
    case mode::batch: return rx_batch;
    case mode::mixed: return rx_mixed;
  }
  return rx_spin;
}

// Outcome of one operation: how many messages moved, and whether the channel is done.
enum class step { progress, nothing, closed, failed };

// Occasional short naps make the other side run dry (or fill up) and park.
struct napper {
  std::uint32_t one_in = 0;  // 0: never
  void maybe(std::mt19937_64& rng) const {
    if (one_in != 0 && rng() % one_in == 0) std::this_thread::sleep_for(std::chrono::microseconds(20 + rng() % 200));
  }
};

template <class T>
class producer {
  using E = elem<T>;

 public:
  producer(spsc::sender<T>& tx, run_ctx& ctx, std::uint64_t seed) : tx_(tx), ctx_(ctx), rng_(seed) {}

  // Sends sequence numbers [sent(), n) in order, stopping early if the channel closes.
  // Returns false on a failure (already recorded).
  bool run(mode m, std::uint64_t n, napper nap = {}) {
    const auto ops = tx_ops(m);
    backoff bo;
    while (seq_ < n) {
      if (ctx_.stop.stop_requested()) return false;
      const tx_op op = ops.size() == 1 ? ops[0] : ops[rng_() % ops.size()];
      switch (one(op, n)) {
        case step::progress: bo.reset(); nap.maybe(rng_); break;
        case step::nothing: bo.pause(); break;
        case step::closed: closed_ = true; return true;
        case step::failed: return false;
      }
    }
    return true;
  }

  [[nodiscard]] std::uint64_t sent() const noexcept { return seq_; }
  [[nodiscard]] bool saw_closed() const noexcept { return closed_; }

 private:
  bool fail(const std::string& what) {
    ctx_.fail.add(str("producer at seq ", seq_, ": ", what));
    return false;
  }
  std::size_t pick_len(std::uint64_t left) {
    const std::uint64_t cap = left < 64 ? left : 64;
    return static_cast<std::size_t>(1 + rng_() % cap);
  }
  // A send that did not go in must leave its argument untouched.
  step refused(const T& v, status s) {
    if (!E::check(v, seq_)) {
      fail(str("argument modified by a send that returned ", ringwire::to_string(s)));
      return step::failed;
    }
    if (s == status::full) return step::nothing;
    if (s == status::closed) return step::closed;
    fail(str("send returned ", ringwire::to_string(s)));
    return step::failed;
  }
  void fill(std::size_t len) {
    buf_.clear();
    for (std::size_t i = 0; i < len; ++i) buf_.push_back(E::make(seq_ + i));
  }
  // After a batch moved k of buf_: the first k are moved from, the rest untouched.
  bool check_batch(std::size_t k) {
    if (k > buf_.size()) return fail(str("batch returned ", k, " > ", buf_.size()));
    for (std::size_t i = 0; i < buf_.size(); ++i) {
      if (i < k) {
        if (E::moved_from_empty && !E::empty(buf_[i])) return fail("a sent batch element was not moved from");
      } else if (!E::check(buf_[i], seq_ + i)) {
        return fail(str("an unsent batch element was modified (", i, " of ", buf_.size(), ")"));
      }
    }
    return true;
  }
  step after_zero() { return tx_.is_closed() ? step::closed : step::nothing; }

  step one(tx_op op, std::uint64_t n) {
    switch (op) {
      case tx_op::try_send: {
        T v = E::make(seq_);
        const status s = tx_.try_send(std::move(v));
        if (s == status::ok) return ++seq_, step::progress;
        return refused(v, s);
      }
      case tx_op::send_for: {
        T v = E::make(seq_);
        const status s = tx_.send_for(std::move(v), kLong);
        if (s == status::ok) return ++seq_, step::progress;
        if (s == status::timed_out) return fail("send_for timed out after 30 s (lost wake-up?)"), step::failed;
        return refused(v, s);
      }
      case tx_op::send_stop: {
        T v = E::make(seq_);
        const status s = tx_.send(std::move(v), ctx_.stop.get_token());
        if (s == status::ok) return ++seq_, step::progress;
        return refused(v, s);
      }
      case tx_op::try_batch:
      case tx_op::try_batch_unsized: {
        fill(pick_len(n - seq_));
        std::size_t k = 0;
        if (op == tx_op::try_batch) {
          k = tx_.try_send_batch(buf_);
        } else {  // an input range whose size is unknown: the one-at-a-time room check
          k = tx_.try_send_batch(rw_test::unsized(buf_));
        }
        if (!check_batch(k)) return step::failed;
        seq_ += k;
        return k != 0 ? step::progress : after_zero();
      }
      case tx_op::send_batch: {
        fill(pick_len(n - seq_));
        const std::size_t k = tx_.send_batch(buf_, ctx_.stop.get_token());
        if (!check_batch(k)) return step::failed;
        seq_ += k;
        if (k == buf_.size()) return step::progress;
        if (tx_.is_closed()) return step::closed;
        return fail(str("send_batch stopped after ", k, " of ", buf_.size(), " without a close")), step::failed;
      }
      case tx_op::reserve_emplace:
      case tx_op::reserve_span: {
        const std::size_t want = pick_len(n - seq_);
        auto r = tx_.reserve(want);
        if (r.size() > want) return fail(str("reserve(", want, ") gave ", r.size())), step::failed;
        if (r.empty()) {
          if (r.status() == status::closed) return step::closed;
          if (r.status() != status::full) {
            fail(str("empty reservation says ", ringwire::to_string(r.status())));
            return step::failed;
          }
          return step::nothing;
        }
        // Mostly fill and commit everything; sometimes commit a prefix; sometimes abandon.
        const unsigned dice = static_cast<unsigned>(rng_() % 8);
        const std::size_t k = dice == 0 ? static_cast<std::size_t>(rng_() % (r.size() + 1)) : r.size();
        if constexpr (std::is_trivially_copyable_v<T>) {
          if (op == tx_op::reserve_span) {
            std::span<T> sp = r.span();
            for (std::size_t i = 0; i < k; ++i) sp[i] = E::make(seq_ + i);
            if (dice == 1) return r.abandon(), step::nothing;  // nothing was emplaced
            r.commit(k);
            seq_ += k;
            return k != 0 ? step::progress : step::nothing;
          }
        }
        for (std::size_t i = 0; i < k; ++i) r.emplace_back(E::make(seq_ + i));
        if (r.constructed() != k) return fail("reservation::constructed() is wrong"), step::failed;
        if (dice == 1) return r.abandon(), step::nothing;  // destroys what was emplaced
        if (dice == 2) return step::nothing;                // the destructor abandons too
        r.commit();
        seq_ += k;
        return k != 0 ? step::progress : step::nothing;
      }
    }
    return step::failed;
  }

  spsc::sender<T>& tx_;
  run_ctx& ctx_;
  std::mt19937_64 rng_;
  std::uint64_t seq_ = 0;
  bool closed_ = false;
  std::vector<T> buf_;
};

template <class T>
class consumer {
  using E = elem<T>;

 public:
  consumer(spsc::receiver<T>& rx, run_ctx& ctx, std::uint64_t seed) : rx_(rx), ctx_(ctx), rng_(seed) {}

  // Receives until the channel says closed, or until `limit` messages have arrived.
  // Returns false on a failure (already recorded).
  bool run(mode m, std::uint64_t limit = ~std::uint64_t{0}, napper nap = {}) {
    const auto ops = rx_ops(m);
    backoff bo;
    while (seq_ < limit) {
      if (ctx_.stop.stop_requested()) return false;
      const rx_op op = ops.size() == 1 ? ops[0] : ops[rng_() % ops.size()];
      switch (one(op, limit)) {
        case step::progress: bo.reset(); nap.maybe(rng_); break;
        case step::nothing:
          if (rx_.is_closed()) return closed_ = true, true;
          bo.pause();
          break;
        case step::closed: closed_ = true; return true;
        case step::failed: return false;
      }
    }
    return true;
  }

  [[nodiscard]] std::uint64_t received() const noexcept { return seq_; }
  [[nodiscard]] bool saw_closed() const noexcept { return closed_; }

 private:
  step fail(const std::string& what) {
    ctx_.fail.add(str("consumer at seq ", seq_, ": ", what));
    return step::failed;
  }
  std::size_t pick_max(std::uint64_t left) {
    std::uint64_t m = rng_() % 4 == 0 ? ~std::uint64_t{0} : 1 + rng_() % 64;
    if (m > left) m = left;
    return static_cast<std::size_t>(m);
  }
  step got_one(const T& v) {
    if (!E::check(v, seq_)) return fail("wrong or corrupt message");
    ++seq_;
    return step::progress;
  }
  step bad_status(status s) {
    if (s == status::closed) return step::closed;
    if (s == status::empty) return step::nothing;
    if (s == status::timed_out) return fail("recv timed out after 30 s (lost wake-up?)");
    return fail(str("receive returned ", ringwire::to_string(s)));
  }
  step check_run(std::size_t got, std::size_t max, std::span<const T> vals) {
    if (got > max) return fail(str("batch returned ", got, " > max ", max));
    for (std::size_t i = 0; i < got; ++i)
      if (!E::check(vals[i], seq_ + i)) return fail(str("wrong or corrupt message at batch offset ", i));
    seq_ += got;
    return got != 0 ? step::progress : step::nothing;
  }

  step one(rx_op op, std::uint64_t limit) {
    switch (op) {
      case rx_op::try_recv: {
        auto r = rx_.try_recv();
        return r ? got_one(*r) : bad_status(r.status());
      }
      case rx_op::recv_for: {
        auto r = rx_.recv_for(kLong);
        return r ? got_one(*r) : bad_status(r.status());
      }
      case rx_op::recv_stop: {
        auto r = rx_.recv(ctx_.stop.get_token());
        return r ? got_one(*r) : bad_status(r.status());
      }
      case rx_op::wait_readable: {
        const status s = rx_.wait_readable(ctx_.stop.get_token());
        if (s == status::ok) return step::progress;  // not a message, but not idle either
        return bad_status(s);
      }
      case rx_op::consume: {
        const std::size_t max = pick_max(limit - seq_);
        std::size_t i = 0;
        bool ok = true;
        const bool take = rng_() % 2 == 0;
        const std::size_t got = rx_.consume(
            [&](T& v) {
              ok = ok && E::check(v, seq_ + i);
              if (take) {  // fn may move from the element
                T moved = std::move(v);
                ok = ok && E::check(moved, seq_ + i);
              }
              ++i;
            },
            max);
        if (i != got) return fail(str("consume returned ", got, " but called fn ", i, " times"));
        if (!ok) return fail("wrong or corrupt message in consume");
        if (got > max) return fail(str("consume returned ", got, " > max ", max));
        seq_ += got;
        return got != 0 ? step::progress : step::nothing;
      }
      case rx_op::read_span: {
        const std::size_t max = pick_max(limit - seq_);
        std::span<T> sp = rx_.read_span(max);
        if (sp.size() > max) return fail(str("read_span gave ", sp.size(), " > max ", max));
        for (std::size_t i = 0; i < sp.size(); ++i)
          if (!E::check(sp[i], seq_ + i)) return fail(str("wrong or corrupt message at span offset ", i));
        // Mostly release all; sometimes a prefix (the rest is read again next time).
        const std::size_t k = rng_() % 4 == 0 ? static_cast<std::size_t>(rng_() % (sp.size() + 1)) : sp.size();
        rx_.release(k);
        seq_ += k;
        return k != 0 ? step::progress : step::nothing;
      }
      case rx_op::batch_iter: {
        const std::size_t max = pick_max(limit - seq_);
        out_.clear();
        const std::size_t got = rx_.try_recv_batch(std::back_inserter(out_), max);
        if (got != out_.size()) return fail(str("try_recv_batch returned ", got, " but wrote ", out_.size()));
        return check_run(got, max, out_);
      }
      case rx_op::batch_span: {
        std::size_t max = pick_max(limit - seq_);
        if (max > 64) max = 64;
        out_.clear();
        out_.resize(max);
        const std::size_t got = rx_.try_recv_batch(std::span<T>(out_));
        return check_run(got, max, out_);
      }
    }
    return step::failed;
  }

  spsc::receiver<T>& rx_;
  run_ctx& ctx_;
  std::mt19937_64 rng_;
  std::uint64_t seq_ = 0;
  bool closed_ = false;
  std::vector<T> out_;
};

// ---- full runs: n messages, then the sender closes; the receiver must see exactly n ----

struct config {
  const char* name;
  std::size_t capacity;
  std::uint64_t messages;  // at scale 1
  mode tx_mode;
  mode rx_mode;
  std::uint64_t start_index = 0;
  std::uint32_t park_spins = 256;  // spins before a futex sleep (park strategy)
  std::uint32_t nap_one_in = 0;    // 1-in-N chance per message of a short nap, per side
};

std::ostream& operator<<(std::ostream& os, const config& c) { return os << c.name; }

template <class T>
void full_run(const config& c, std::uint64_t seed) {
  SCOPED_TRACE(str("config ", c.name, ", RINGWIRE_STRESS_SEED=", base_seed()));
  const std::uint64_t n = scaled(c.messages);
  spsc::options opt;
  opt.sender_wait = ringwire::wait_strategy::park(c.park_spins);
  opt.receiver_wait = ringwire::wait_strategy::park(c.park_spins);
  opt.metrics = true;
  opt.start_index = c.start_index;
  auto [tx, rx] = spsc::channel<T>(c.capacity, opt);
  ASSERT_EQ(tx.capacity(), c.capacity);
  auto mon = tx.make_monitor();

  run_ctx ctx;
  std::uint64_t sent = 0, received = 0;
  bool rx_closed = false;
  run_pair(
      ctx, std::move(tx), std::move(rx),
      [&](spsc::sender<T> s) {
        producer<T> p(s, ctx, seed);
        p.run(c.tx_mode, n, napper{c.nap_one_in});
        sent = p.sent();
      },  // the sender closes here
      [&](spsc::receiver<T> r) {
        consumer<T> q(r, ctx, seed ^ 0x5a5a5a5a);
        q.run(c.rx_mode, ~std::uint64_t{0}, napper{c.nap_one_in});
        received = q.received();
        rx_closed = q.saw_closed();
      });
  ctx.fail.report();
  EXPECT_EQ(sent, n);
  EXPECT_EQ(received, n) << "the receiver must see every message sent before close, and no more";
  EXPECT_TRUE(rx_closed);

  const auto st = mon.snapshot();
  EXPECT_EQ(st.sent, n);
  EXPECT_EQ(st.received, n);
  EXPECT_TRUE(st.sender_closed);
  EXPECT_TRUE(st.receiver_closed);
  EXPECT_LE(st.high_water, c.capacity);
  std::cout << "[   stats  ] " << c.name << ": " << n << " msgs, full " << st.full_events << ", empty "
            << st.empty_events << ", high water " << st.high_water << ", sender parks " << st.sender_parks
            << " (woken " << st.sender_wakes << "), receiver parks " << st.receiver_parks << " (woken "
            << st.receiver_wakes << ")\n";
}

class SpscStress : public ::testing::TestWithParam<config> {};

TEST_P(SpscStress, Payload64ExactSequence) { full_run<payload>(GetParam(), base_seed()); }

const config kConfigs[] = {
    // The main run: 10 million 64-byte messages, try_send / try_recv spinning.
    {"spin_10M_cap1024", 1024, 10'000'000, mode::spin, mode::spin},
    {"spin_cap1", 1, 200'000, mode::spin, mode::spin},
    {"spin_cap100_wrap", 100, 2'000'000, mode::spin, mode::spin, kNearWrap},
    // Blocking send / recv, park strategy with few spins, tiny capacities: both sides park.
    {"park_cap1", 1, 40'000, mode::park, mode::park, 0, 8, 2048},
    {"park_cap2", 2, 60'000, mode::park, mode::park, 0, 8, 2048},
    {"park_cap3", 3, 80'000, mode::park, mode::park, 0, 16, 2048},
    {"park_cap7", 7, 100'000, mode::park, mode::park, kNearWrap, 16, 2048},
    {"park_nospin_cap1", 1, 30'000, mode::park, mode::park, 0, 0, 0},
    // Batch and zero-copy paths, mixed randomly per iteration on both sides.
    {"batch_cap64", 64, 2'000'000, mode::batch, mode::batch},
    {"batch_cap1000_wrap", 1000, 2'000'000, mode::batch, mode::batch, kNearWrap},
    {"batch_cap5", 5, 250'000, mode::batch, mode::batch},
    // Everything at once, blocking calls included.
    {"mixed_cap7", 7, 250'000, mode::mixed, mode::mixed, 0, 32, 4096},
    {"mixed_cap256_wrap", 256, 1'000'000, mode::mixed, mode::mixed, kNearWrap},
    {"batch_tx_park_rx_cap3", 3, 150'000, mode::batch, mode::park, 0, 16},
    {"park_tx_batch_rx_cap3", 3, 100'000, mode::park, mode::batch, 0, 16},
};

INSTANTIATE_TEST_SUITE_P(Configs, SpscStress, ::testing::ValuesIn(kConfigs),
                         [](const ::testing::TestParamInfo<config>& i) { return std::string(i.param.name); });

// Move-only payloads: every message is a heap allocation handed across; ASan reports a leak
// or double free, the checks report a lost or duplicated pointer.
const config kOwnedConfigs[] = {
    {"owned_spin_cap64", 64, 1'000'000, mode::spin, mode::spin},
    {"owned_park_cap3", 3, 50'000, mode::park, mode::park, 0, 16, 2048},
    {"owned_batch_cap17_wrap", 17, 250'000, mode::batch, mode::batch, kNearWrap},
    {"owned_mixed_cap4", 4, 150'000, mode::mixed, mode::mixed},
};

class SpscStressOwned : public ::testing::TestWithParam<config> {};

TEST_P(SpscStressOwned, UniquePtrExactSequence) { full_run<owned>(GetParam(), base_seed() + 1); }

INSTANTIATE_TEST_SUITE_P(Configs, SpscStressOwned, ::testing::ValuesIn(kOwnedConfigs),
                         [](const ::testing::TestParamInfo<config>& i) { return std::string(i.param.name); });

// ---- disconnect races: many short runs -------------------------------------------------

mode random_mode(std::mt19937_64& rng) { return static_cast<mode>(rng() % 4); }

// Waits (yielding) until pred() or 30 s; false on timeout.
template <class Pred>
bool wait_for(Pred&& pred, run_ctx& ctx) {
  const auto deadline = std::chrono::steady_clock::now() + kLong;
  backoff bo;
  while (!pred()) {
    if (ctx.stop.stop_requested() || std::chrono::steady_clock::now() > deadline) return false;
    bo.pause();
  }
  return true;
}

// The sender sends k messages by random means and closes at a random point (explicitly or
// by its destructor, sometimes after the receiver has drained and parked); the receiver,
// by random means, must see exactly those k and then closed.
TEST(SpscDisconnect, SenderClosesAtRandomPoint) {
  std::mt19937_64 rng(base_seed() + 2);
  SCOPED_TRACE(str("RINGWIRE_STRESS_SEED=", base_seed()));
  const std::uint64_t rounds = scaled(3000);
  std::uint64_t receiver_parks = 0;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    const std::size_t cap = 1 + rng() % 16;
    const std::uint64_t k = rng() % (4 * cap + 40);
    const mode txm = random_mode(rng), rxm = random_mode(rng);
    const unsigned how = static_cast<unsigned>(rng() % 3);  // 0: destructor, 1: close(), 2: close() once drained
    const std::uint64_t seed = rng();
    spsc::options opt;
    opt.metrics = true;
    opt.receiver_wait = ringwire::wait_strategy::park(rng() % 2 == 0 ? 0 : 64);
    opt.start_index = rng() % 2 == 0 ? kWrapSoon : rng();
    const auto nap = std::chrono::microseconds(rng() % 100);
    auto [tx, rx] = spsc::channel<tracked>(cap, opt);
    std::optional<spsc::monitor<>> mon(tx.make_monitor());
    run_ctx ctx;
    std::uint64_t sent = 0, received = 0;
    bool rx_closed = false;
    run_pair(
        ctx, std::move(tx), std::move(rx),
        [&](spsc::sender<tracked> s) {
          producer<tracked> p(s, ctx, seed);
          if (!p.run(txm, k)) return;
          sent = p.sent();
          if (how == 2 && !wait_for([&] { return s.size_approx() == 0; }, ctx)) {
            ctx.fail.add("the receiver never drained the channel");
            return;
          }
          if (how == 2) std::this_thread::sleep_for(nap);
          if (how != 0) {
            s.close();
            tracked v(k);
            if (s.try_send(std::move(v)) != status::closed || !elem<tracked>::check(v, k))
              ctx.fail.add("try_send after close() must say closed and leave the argument alone");
            if (!s.is_closed()) ctx.fail.add("is_closed() false after close()");
          }
        },
        [&](spsc::receiver<tracked> r) {
          consumer<tracked> q(r, ctx, seed ^ 0x77);
          q.run(rxm);
          received = q.received();
          rx_closed = q.saw_closed();
        });
    ctx.fail.report();
    ASSERT_EQ(sent, k) << "round " << round;
    ASSERT_EQ(received, k) << "round " << round << ": the receiver must get exactly the messages sent before close";
    ASSERT_TRUE(rx_closed) << "round " << round;
    receiver_parks += mon->snapshot().receiver_parks;
    mon.reset();  // the last reference: the channel goes
    ASSERT_EQ(tracked::live.load(), 0) << "round " << round << ": an element leaked or was destroyed twice";
    ASSERT_EQ(tracked::bad.load(), 0) << "round " << round;
  }
  std::cout << "[   stats  ] " << rounds << " rounds, receiver parks " << receiver_parks << "\n";
}

// The narrowest close race: the sender publishes its last messages and closes at once while
// the receiver polls. A receiver that saw "empty", then the close flag, must look at tail
// again before it reports closed, or it drops those last messages. Two long-lived threads;
// a fresh channel per round, its sender handed over through a slot.
TEST(SpscDisconnect, CloseRightAfterLastSend) {
  SCOPED_TRACE(str("RINGWIRE_STRESS_SEED=", base_seed()));
  const std::uint64_t rounds = scaled(40000);
  const std::uint64_t start = base_seed() % 2 == 0 ? kWrapSoon : 0;
  spsc::sender<std::uint64_t> slot;
  std::atomic<std::uint64_t> posted{0}, taken{0};
  std::atomic<std::uint64_t> short_rounds{0};
  run_ctx ctx;
  auto wait_until_eq = [&](std::atomic<std::uint64_t>& a, std::uint64_t v) {
    backoff bo;
    // acquire: pairs with the release store that hands the slot over.
    while (a.load(std::memory_order_acquire) != v) {
      if (ctx.stop.stop_requested()) return false;
      bo.pause();
    }
    return true;
  };
  auto producer = [&] {
    for (std::uint64_t round = 1; round <= rounds; ++round) {
      if (!wait_until_eq(posted, round)) return;
      spsc::sender<std::uint64_t> s = std::move(slot);
      taken.store(round, std::memory_order_release);  // release: we are done with the slot
      for (std::uint64_t i = 0; i < round % 3 + 1; ++i) {
        if (s.try_send(i) != status::ok) ctx.fail.add(str("round ", round, ": try_send failed"));
      }
      if (round % 2 == 0) s.close();  // otherwise the destructor closes
    }
  };
  auto consumer = [&] {
    for (std::uint64_t round = 1; round <= rounds; ++round) {
      spsc::options opt;
      opt.start_index = start + round;
      auto [tx, rx] = spsc::channel<std::uint64_t>(4, opt);
      if (!wait_until_eq(taken, round - 1)) return;
      slot = std::move(tx);
      posted.store(round, std::memory_order_release);  // release: the slot holds this round's sender
      std::uint64_t got = 0;
      backoff bo;
      for (;;) {
        auto r = rx.try_recv();
        if (r) {
          if (*r != got) ctx.fail.add(str("round ", round, ": got ", *r, ", expected ", got));
          ++got;
          continue;
        }
        if (r.status() == status::closed) break;
        if (ctx.stop.stop_requested()) return;
        bo.pause();
      }
      if (got != round % 3 + 1) short_rounds.fetch_add(1, std::memory_order_relaxed);
    }
  };
  run_two(ctx, producer, consumer);
  ctx.fail.report();
  EXPECT_EQ(short_rounds.load(), 0u) << "rounds where closed came before every message sent was received";
}

// The receiver takes r messages, waits until the sender has filled the channel (so its next
// send() must block), then closes. The sender's blocked send (send_for, or send_batch) must
// return closed -- not hang, not time out -- after exactly r + capacity successful sends;
// the capacity undelivered elements are destroyed when the channel goes.
TEST(SpscDisconnect, ReceiverClosesWhileSenderBlocked) {
  std::mt19937_64 rng(base_seed() + 3);
  SCOPED_TRACE(str("RINGWIRE_STRESS_SEED=", base_seed()));
  const std::uint64_t rounds = scaled(1500);
  std::uint64_t sender_parks = 0;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    const std::size_t cap = 1 + rng() % 8;
    const std::uint64_t r_take = rng() % (3 * cap + 1);
    const std::uint64_t seed = rng();
    const bool via_batch = rng() % 4 == 0;  // block in send_batch instead of send_for
    const auto nap = std::chrono::microseconds(rng() % 150);
    spsc::options opt;
    opt.metrics = true;
    opt.sender_wait = ringwire::wait_strategy::park(rng() % 2 == 0 ? 0 : 64);
    opt.start_index = rng() % 2 == 0 ? kWrapSoon : 0;
    auto [tx, rx] = spsc::channel<tracked>(cap, opt);
    std::optional<spsc::monitor<>> mon(tx.make_monitor());
    run_ctx ctx;
    std::uint64_t sent = 0, received = 0;
    status last = status::ok;
    run_pair(
        ctx, std::move(tx), std::move(rx),
        [&](spsc::sender<tracked> s) {
          for (;;) {
            if (via_batch) {
              std::vector<tracked> b;
              for (std::uint64_t i = 0; i < 5; ++i) b.emplace_back(sent + i);
              const std::size_t k = s.send_batch(b, ctx.stop.get_token());
              sent += k;
              if (k == b.size()) continue;
              last = s.is_closed() ? status::closed : status::cancelled;
              return;
            }
            tracked v(sent);
            last = s.send_for(std::move(v), kLong);
            if (last != status::ok) {
              if (!elem<tracked>::check(v, sent)) ctx.fail.add("a failed send modified its argument");
              return;
            }
            ++sent;
          }
        },
        [&](spsc::receiver<tracked> r) {
          consumer<tracked> q(r, ctx, seed);
          if (!q.run(mode::park, r_take)) return;
          received = q.received();
          if (received != r_take) return;  // closed early: reported below
          if (!wait_for([&] { return r.size_approx() == cap; }, ctx)) {
            ctx.fail.add("the sender never filled the channel");
            return;
          }
          std::this_thread::sleep_for(nap);  // give the sender time to park (not asserted)
          r.close();
        });
    ctx.fail.report();
    ASSERT_EQ(received, r_take) << "round " << round;
    ASSERT_EQ(last, status::closed) << "round " << round << ": a send blocked on a full channel must end with closed";
    ASSERT_EQ(sent, r_take + cap) << "round " << round << ": nothing can be sent once the receiver stops at full";
    sender_parks += mon->snapshot().sender_parks;
    mon.reset();
    ASSERT_EQ(tracked::live.load(), 0) << "round " << round << ": queued elements must be destroyed with the channel";
    ASSERT_EQ(tracked::bad.load(), 0) << "round " << round;
  }
  std::cout << "[   stats  ] " << rounds << " rounds, sender parks " << sender_parks << "\n";
}

// The receiver closes after a random number of messages while the sender runs any mix of
// operations: the sender must notice (closed / zero counts, then is_closed()), the receiver
// must have seen an exact prefix, and no more than capacity messages can be stranded.
TEST(SpscDisconnect, ReceiverClosesAtRandomPoint) {
  std::mt19937_64 rng(base_seed() + 4);
  SCOPED_TRACE(str("RINGWIRE_STRESS_SEED=", base_seed()));
  const std::uint64_t rounds = scaled(3000);
  for (std::uint64_t round = 0; round < rounds; ++round) {
    const std::size_t cap = 1 + rng() % 16;
    const std::uint64_t r_take = rng() % (6 * cap + 20);
    const mode txm = random_mode(rng), rxm = random_mode(rng);
    const std::uint64_t seed = rng();
    spsc::options opt;
    opt.start_index = rng();
    auto [tx, rx] = spsc::channel<tracked>(cap, opt);
    run_ctx ctx;
    std::uint64_t sent = 0, received = 0;
    bool tx_closed = false;
    run_pair(
        ctx, std::move(tx), std::move(rx),
        [&](spsc::sender<tracked> s) {
          producer<tracked> p(s, ctx, seed);
          p.run(txm, ~std::uint64_t{0});
          sent = p.sent();
          tx_closed = p.saw_closed() && s.is_closed();
        },
        [&](spsc::receiver<tracked> r) {
          consumer<tracked> q(r, ctx, seed ^ 0x99);
          q.run(rxm, r_take);
          received = q.received();
        });  // the receiver closes here
    ctx.fail.report();
    ASSERT_EQ(received, r_take) << "round " << round;
    ASSERT_TRUE(tx_closed) << "round " << round;
    ASSERT_GE(sent, received) << "round " << round;
    ASSERT_LE(sent, received + cap) << "round " << round;
    ASSERT_EQ(tracked::live.load(), 0) << "round " << round;
    ASSERT_EQ(tracked::bad.load(), 0) << "round " << round;
  }
}

}  // namespace
