// bench/adapters.hpp -- one adapter per queue, all with the same interface, so the harness
// runs every implementation through the same code:
//
//   Q q;                         // capacity is the template argument C (exactly C messages
//                                // where the queue allows it; see each adapter)
//   bool q.try_push(const T&);   // producer thread only
//   bool q.try_pop(T&);          // consumer thread only
//
// Every adapter is alignas(128) and heap-allocated by the harness, so two adapters never
// share a cache line and the harness adds no false sharing of its own. ringwire's adapter
// additionally keeps its sender and receiver on separate 128-byte blocks (they are the
// producer's and the consumer's hot state respectively).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <type_traits>
#include <utility>

#include "ringwire/spsc.hpp"

// The peers' headers are system headers (/usr/include), so -Wall -Wextra -Wpedantic
// -Werror stay on for our code without tripping over theirs. The pragmas make that
// explicit for anyone who points the include path somewhere else.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/spsc_queue.hpp>
#include <readerwriterqueue/readerwriterqueue.h>
#include <tbb/concurrent_queue.h>
#include <xenium/vyukov_bounded_queue.hpp>
#pragma GCC diagnostic pop

namespace bench {

// ---- ringwire ---------------------------------------------------------------------------
inline ringwire::spsc::options busy_options() {
  ringwire::spsc::options o;
  o.sender_wait = ringwire::wait_strategy::busy_spin();
  o.receiver_wait = ringwire::wait_strategy::busy_spin();
  return o;
}

// What a channel keeps besides its messages (the cost table of docs/benchmarks.md):
// counters (options::metrics), a latency histogram (options::latency), or both.
enum class observed { none, metrics, latency, both };
constexpr const char* observed_name(observed o) noexcept {
  return o == observed::none      ? "ringwire spsc"
         : o == observed::metrics ? "ringwire spsc + metrics"
         : o == observed::latency ? "ringwire spsc + latency histogram"
                                  : "ringwire spsc + metrics + latency histogram";
}
inline ringwire::spsc::options observed_options(observed o) {
  ringwire::spsc::options opt = busy_options();
  opt.metrics = o == observed::metrics || o == observed::both;
  opt.latency = o == observed::latency || o == observed::both;
  return opt;
}

// Sync = ringwire::spin_sync: the same channel without the park check (it cannot park).
template <class T, std::size_t C, class Sync = ringwire::std_sync, observed Obs = observed::none>
struct alignas(128) ringwire_sync_q {
  static constexpr const char* name =
      std::is_same_v<Sync, ringwire::std_sync> ? observed_name(Obs) : "ringwire spsc (spin_sync)";
  using pair_t = std::pair<ringwire::spsc::sender<T, Sync>, ringwire::spsc::receiver<T, Sync>>;

  ringwire_sync_q() : ringwire_sync_q(ringwire::spsc::channel<T, Sync>(C, observed_options(Obs))) {}
  explicit ringwire_sync_q(pair_t p) : tx(std::move(p.first)), rx(std::move(p.second)) {}

  bool try_push(const T& v) { return tx.try_send(v) == ringwire::status::ok; }
  bool try_pop(T& out) { return rx.try_recv(out) == ringwire::status::ok; }
  // bulk API: memcpy of contiguous runs for trivially copyable T
  std::size_t push_n(const T* p, std::size_t n) { return tx.try_send_batch(std::span<const T>(p, n)); }
  std::size_t pop_n(T* p, std::size_t n) { return rx.try_recv_batch(std::span<T>(p, n)); }

  alignas(128) ringwire::spsc::sender<T, Sync> tx;    // producer's block
  alignas(128) ringwire::spsc::receiver<T, Sync> rx;  // consumer's block
};
template <class T, std::size_t C>
using ringwire_q = ringwire_sync_q<T, C>;
template <class T, std::size_t C>
using ringwire_metrics_q = ringwire_sync_q<T, C, ringwire::std_sync, observed::metrics>;
template <class T, std::size_t C>
using ringwire_latency_q = ringwire_sync_q<T, C, ringwire::std_sync, observed::latency>;
template <class T, std::size_t C>
using ringwire_observed_q = ringwire_sync_q<T, C, ringwire::std_sync, observed::both>;

// The one-line variant (spsc::line_channel): a stamp in each slot, so a receive reads one
// cache line. Exact capacity C; busy-spinning endpoints like the row above.
template <class T, std::size_t C>
struct alignas(128) ringwire_line_q {
  static constexpr const char* name = "ringwire spsc line";
  using pair_t = std::pair<ringwire::spsc::line_sender<T>, ringwire::spsc::line_receiver<T>>;

  ringwire_line_q() : ringwire_line_q(ringwire::spsc::line_channel<T>(C, options())) {}
  explicit ringwire_line_q(pair_t p) : tx(std::move(p.first)), rx(std::move(p.second)) {}
  static ringwire::spsc::line_options options() {
    ringwire::spsc::line_options o;
    o.sender_wait = o.receiver_wait = ringwire::wait_strategy::busy_spin();
    return o;
  }

  bool try_push(const T& v) { return tx.try_send(v) == ringwire::status::ok; }
  bool try_pop(T& out) { return rx.try_recv(out) == ringwire::status::ok; }

  alignas(128) ringwire::spsc::line_sender<T> tx;    // producer's block
  alignas(128) ringwire::spsc::line_receiver<T> rx;  // consumer's block
};
template <class T, std::size_t C>
using ringwire_spin_q = ringwire_sync_q<T, C, ringwire::spin_sync>;

// ---- atomic_queue (Maxim Egorushkin), SPSC mode ------------------------------------------
// AtomicQueue2 stores any T next to a per-slot state byte; template arguments:
// <T, SIZE, MINIMIZE_CONTENTION, MAXIMIZE_THROUGHPUT, TOTAL_ORDER, SPSC>. With SPSC=true
// try_push/try_pop use plain load/store of head/tail (no CAS). The capacity is a template
// argument and exact (1024 and 65536 are powers of two). MINIMIZE_CONTENTION (the default)
// remaps indices so neighbours land on different cache lines once SIZE >= 4096.
// (AtomicQueueB2, the run-time-capacity variant, rounds every size up to at least 4096,
// so it would not honour capacity 1024; that is why the fixed-size variant is used.)
template <class T, std::size_t C>
struct alignas(128) atomic_queue_q {
  static constexpr const char* name = "atomic_queue (SPSC)";
  bool try_push(const T& v) { return q.try_push(v); }
  bool try_pop(T& out) { return q.try_pop(out); }
  atomic_queue::AtomicQueue2<T, static_cast<unsigned>(C), /*MINIMIZE_CONTENTION=*/true,
                             /*MAXIMIZE_THROUGHPUT=*/true, /*TOTAL_ORDER=*/false, /*SPSC=*/true>
      q;
};

// ---- moodycamel::ReaderWriterQueue ---------------------------------------------------------
// Pre-sized for C elements; try_enqueue never allocates, so it fails when full instead of
// growing (its real capacity may round up to whole blocks).
template <class T, std::size_t C>
struct alignas(128) rwq_q {
  static constexpr const char* name = "moodycamel RWQ";
  bool try_push(const T& v) { return q.try_enqueue(v); }
  bool try_pop(T& out) { return q.try_dequeue(out); }
  moodycamel::ReaderWriterQueue<T> q{C};
};

// ---- boost::lockfree::spsc_queue, compile-time capacity ------------------------------------
template <class T, std::size_t C>
struct alignas(128) boost_q {
  static constexpr const char* name = "boost spsc_queue";
  bool try_push(const T& v) { return q.push(v); }
  bool try_pop(T& out) { return q.pop(out); }
  // bulk API
  std::size_t push_n(const T* p, std::size_t n) { return q.push(p, n); }
  std::size_t pop_n(T* p, std::size_t n) { return q.pop(p, n); }
  boost::lockfree::spsc_queue<T, boost::lockfree::capacity<C>> q;
};

// ---- xenium::vyukov_bounded_queue (MPMC, Vyukov's per-cell sequence numbers) --------------
template <class T, std::size_t C>
struct alignas(128) xenium_q {
  static constexpr const char* name = "xenium vyukov (MPMC)";
  bool try_push(const T& v) { return q.try_push(v); }
  bool try_pop(T& out) { return q.try_pop(out); }
  xenium::vyukov_bounded_queue<T> q{C};
};

// ---- tbb::concurrent_bounded_queue (MPMC) -----------------------------------------------------
template <class T, std::size_t C>
struct alignas(128) tbb_q {
  static constexpr const char* name = "tbb concurrent_bounded_queue";
  tbb_q() { q.set_capacity(static_cast<std::ptrdiff_t>(C)); }
  bool try_push(const T& v) { return q.try_push(v); }
  bool try_pop(T& out) { return q.try_pop(out); }
  tbb::concurrent_bounded_queue<T> q;
};

// ---- std::mutex + std::deque baseline ---------------------------------------------------------
template <class T, std::size_t C>
struct alignas(128) mutex_q {
  static constexpr const char* name = "std::mutex + std::deque";
  bool try_push(const T& v) {
    std::lock_guard<std::mutex> g(m);
    if (d.size() >= C) return false;
    d.push_back(v);
    return true;
  }
  bool try_pop(T& out) {
    std::lock_guard<std::mutex> g(m);
    if (d.empty()) return false;
    out = d.front();
    d.pop_front();
    return true;
  }
  std::mutex m;
  std::deque<T> d;
};

}  // namespace bench
