// ringwire/bus/topic.hpp -- what a bus topic is made of: its settings, its message type's
// identity, and the endpoints the bus hands out.
//
// A topic endpoint is the broadcast endpoint itself (privately inherited, so every
// publish and receive is the channel's own inline code: the bus is never on the hot
// path) plus one shared pointer to the topic's lease: a small block the bus and the
// endpoints of one channel share, holding two counters (and, for a shared topic, the
// seed copy the bus makes producers from). The bus reads the counters to know whether
// the topic's publisher is still alive and how many subscribers it has; an endpoint
// touches them only when it is made and when it closes.
//
// Generations. A topic's channel ends when its publisher goes (closed, destroyed; for a
// shared topic, its last producer copy); the next publisher or subscriber the bus
// hands out for that name opens a fresh channel with
// the same settings -- generation + 1, sequence numbers from 1 again. Endpoints of the
// old channel keep it alive and see it as an ordinary closed channel (subscribers drain,
// then closed). bus.hpp explains why.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <typeindex>
#include <type_traits>
#include <typeinfo>
#include <utility>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define RINGWIRE_HAS_CXXABI 1
#else
#define RINGWIRE_HAS_CXXABI 0
#endif

#include "ringwire/broadcast.hpp"
#include "ringwire/detail/endpoint.hpp"

namespace ringwire {

template <class Sync>
class basic_topic_bus;

// How many publishers a topic admits at once.
enum class producer_mode : std::uint8_t {
  single,  // one publisher (broadcast::publisher); a second is errc::publisher_exists
  shared,  // any number of copies of one shared publisher (broadcast::shared_publisher)
};

inline const char* to_string(producer_mode m) noexcept { return m == producer_mode::single ? "single" : "shared"; }

// A topic's settings, fixed when its first channel is made.
struct topic_options {
  std::size_t capacity = 1024;
  broadcast::options channel{};
  producer_mode producers = producer_mode::single;
};

// A snapshot of one topic (basic_topic_bus::topics(), find()). The counters are read
// without the endpoints' cooperation, so they may be stale by the time they are printed.
struct topic_info {
  std::string name;
  std::string type;             // the message type, demangled
  topic_options options;
  std::uint64_t generation = 0;  // channels opened for this name so far (1 = the first)
  bool publisher_live = false;   // a publisher of the current channel is alive
  std::uint32_t publishers = 0;  // live publishers of the current channel (shared: copies)
  std::uint32_t subscribers = 0;  // live subscribers of the current channel
};

namespace detail {

inline std::string demangle(const char* mangled) {
#if RINGWIRE_HAS_CXXABI
  int status = 0;
  char* plain = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status == 0 && plain != nullptr) {
    std::string out(plain);
    std::free(plain);  // allocated by __cxa_demangle with malloc
    return out;
  }
#endif
  return mangled;
}

// A message type as the bus compares it: typeid plus size and alignment, so two types
// that share a name across libraries but not a layout are still told apart.
struct topic_type {
  std::type_index index;
  std::size_t size;
  std::size_t align;

  template <class T>
  static topic_type of() noexcept {
    return {std::type_index(typeid(T)), sizeof(T), alignof(T)};
  }
  friend bool operator==(const topic_type&, const topic_type&) = default;
  [[nodiscard]] std::string name() const { return demangle(index.name()); }
  [[nodiscard]] std::string describe() const {
    // Appended, not `"`" + name()`: g++ 12 reports a false -Wrestrict on the latter.
    std::string s = "`";
    s += name();
    s += "` (" + std::to_string(size) + " bytes, align " + std::to_string(align) + ")";
    return s;
  }
};

inline std::string describe(const wait_strategy& w) {
  switch (w.which()) {
    case wait_strategy::kind::busy_spin: return "busy_spin";
    case wait_strategy::kind::spin_then_yield: return "spin_then_yield(" + std::to_string(w.spins()) + ")";
    case wait_strategy::kind::backoff:
      return "backoff(" + std::to_string(w.spins()) + ", " + std::to_string(w.max_sleep().count()) + "us)";
    case wait_strategy::kind::park: return "park(" + std::to_string(w.spins()) + ")";
  }
  return "?";
}

inline const char* describe(broadcast::policy p) noexcept {
  switch (p) {
    case broadcast::policy::lossy: return "lossy";
    case broadcast::policy::lossless: return "lossless";
    case broadcast::policy::evict: return "evict";
  }
  return "?";
}

inline bool same_wait(const wait_strategy& a, const wait_strategy& b) noexcept {
  return a.which() == b.which() && a.spins() == b.spins() && a.max_sleep() == b.max_sleep();
}

// The evict lag a channel will really use (options::automatic resolved); 0 when unused.
inline std::uint64_t effective_evict_lag(const topic_options& o) noexcept {
  if (o.channel.policy != broadcast::policy::evict) return 0;
  return o.channel.evict_lag == broadcast::options::automatic ? o.capacity - 1 : o.channel.evict_lag;
}

// Whether two declarations of a topic describe the same channel (every field that shapes
// the channel or its endpoints; evict_lag only where the policy uses it).
inline bool same_settings(const topic_options& a, const topic_options& b) noexcept {
  return a.capacity == b.capacity && a.producers == b.producers && a.channel.policy == b.channel.policy &&
         a.channel.max_subscribers == b.channel.max_subscribers && effective_evict_lag(a) == effective_evict_lag(b) &&
         broadcast::resolve(a.channel.slot_layout) == broadcast::resolve(b.channel.slot_layout) &&
         same_wait(a.channel.sender_wait, b.channel.sender_wait) &&
         same_wait(a.channel.receiver_wait, b.channel.receiver_wait);
}

inline std::string describe(const topic_options& o) {
  std::string s = "capacity " + std::to_string(o.capacity) + ", " + describe(o.channel.policy);
  if (o.channel.policy == broadcast::policy::evict) s += " (evict_lag " + std::to_string(effective_evict_lag(o)) + ")";
  s += ", " + std::string(to_string(o.producers)) + " producer, max_subscribers " +
       std::to_string(o.channel.max_subscribers) + ", " + broadcast::to_string(broadcast::resolve(o.channel.slot_layout)) +
       " slots, sender_wait " + describe(o.channel.sender_wait) +
       ", receiver_wait " + describe(o.channel.receiver_wait);
  return s;
}

// What the bus and the endpoints of one channel share. Plain std::atomic, not Sync's:
// the bus is a cold-path registry with a std::mutex and is not run under the models.
struct topic_lease {
  // Live publishing endpoints. The bus reads it (acquire) to decide whether the channel
  // has ended; a closing endpoint decrements it (release) after closing the channel.
  std::atomic<std::uint32_t> publishers{0};
  std::atomic<std::uint32_t> subscribers{0};  // live subscribers: a count for listings only
  bool claimed = false;                       // a publisher was handed out (bus mutex)
};

// A shared topic's lease also holds the seed: one copy of the channel's shared publisher,
// kept so that the bus can make more copies while any is alive. The last handed-out copy
// to close drops the seed too (under `m`), so the channel closes when the producers are
// gone, as a bare mpmc_channel does.
template <class T, class Sync>
struct shared_lease : topic_lease {
  std::mutex m;
  std::optional<broadcast::shared_publisher<T, Sync>> seed;  // set until the producers are gone
};

}  // namespace detail

namespace detail {

// What each kind of topic endpoint does to its lease when it closes (topic_endpoint::close
// runs it once, on a live lease; it closes the channel endpoint `ep` itself).
struct release_publisher {
  template <class Endpoint>
  static void close(Endpoint& ep, topic_lease& lease) noexcept {
    ep.close();
    // release: the channel's close above happens-before a bus call that sees the count
    // at zero and opens the next generation.
    lease.publishers.fetch_sub(1, std::memory_order_release);
  }
};

struct release_shared_publisher {
  template <class Endpoint, class T, class Sync>
  static void close(Endpoint& ep, shared_lease<T, Sync>& lease) noexcept {
    std::lock_guard lock(lease.m);
    ep.close();
    // acq_rel: release orders this producer's close before a bus call that sees zero;
    // acquire makes the last one see every other producer's close before dropping the seed.
    if (lease.publishers.fetch_sub(1, std::memory_order_acq_rel) == 1) lease.seed.reset();
  }
};

struct release_subscriber {
  template <class Endpoint>
  static void close(Endpoint& ep, topic_lease& lease) noexcept {
    ep.close();
    // relaxed: a listing count; nothing is published through it.
    lease.subscribers.fetch_sub(1, std::memory_order_relaxed);
  }
};

// What the three topic endpoints share: the channel's endpoint (protected base: a topic
// endpoint does not convert to, or slice into, its channel's endpoint; the derived class
// names the calls it publishes) and the lease, released by Release when the endpoint closes.
// Moves are the compiler's; a move assignment closes this endpoint first, lease included (the
// first base: detail/endpoint.hpp).
template <class Endpoint, class Lease, class Release>
class topic_endpoint : public close_before_move_assign<topic_endpoint<Endpoint, Lease, Release>>,
                       protected Endpoint {
 public:
  using value_type = typename Endpoint::value_type;

  // Closes the channel endpoint and releases the topic as Release says. Idempotent.
  void close() noexcept {
    if (lease_ == nullptr) {
      Endpoint::close();
      return;
    }
    Release::close(static_cast<Endpoint&>(*this), *lease_);
    lease_.reset();
  }

 protected:
  using lease_ptr = std::shared_ptr<Lease>;

  topic_endpoint() noexcept = default;
  topic_endpoint(Endpoint&& ep, lease_ptr lease) noexcept : Endpoint(std::move(ep)), lease_(std::move(lease)) {}
  // A copy of a copyable channel endpoint (a shared publisher); the lease's count is the
  // derived class's to raise.
  topic_endpoint(const topic_endpoint& o)
    requires std::is_copy_constructible_v<Endpoint>
      : Endpoint(o), lease_(o.lease_) {}
  topic_endpoint(topic_endpoint&&) noexcept = default;
  topic_endpoint& operator=(topic_endpoint&&) noexcept = default;
  ~topic_endpoint() { close(); }

  lease_ptr lease_;
};

// The two topic publishers (single and shared): a topic endpoint that publishes its
// channel publisher's sending calls.
template <class Endpoint, class Lease, class Release>
class topic_sender : public topic_endpoint<Endpoint, Lease, Release> {
 public:
  using Endpoint::capacity;
  using Endpoint::is_closed;
  using Endpoint::emplace;
  using Endpoint::published;
  using Endpoint::send;
  using Endpoint::send_batch;
  using Endpoint::send_for;
  using Endpoint::send_until;
  using Endpoint::send_with;
  using Endpoint::set_wait;
  using Endpoint::try_send;

 protected:
  using topic_endpoint<Endpoint, Lease, Release>::topic_endpoint;
};

}  // namespace detail

// The publisher of a single-producer topic: a broadcast::publisher (same calls, same
// outcomes, same cost) that tells the bus when it is gone. Move-only. close() closes the
// channel (its subscribers drain, then see closed) and releases the topic: the bus may then
// hand out a new publisher, on a fresh channel. Idempotent.
template <class T, class Sync = std_sync>
class topic_publisher
    : public detail::topic_sender<broadcast::publisher<T, Sync>, detail::topic_lease, detail::release_publisher> {
  using base = broadcast::publisher<T, Sync>;
  using endpoint = detail::topic_sender<base, detail::topic_lease, detail::release_publisher>;

 public:
  topic_publisher() noexcept = default;

 private:
  friend class basic_topic_bus<Sync>;
  topic_publisher(base&& p, typename endpoint::lease_ptr lease) noexcept : endpoint(std::move(p), std::move(lease)) {}
};

// A publisher of a shared (multi-producer) topic: a broadcast::shared_publisher (same
// calls, same outcomes, same cost). Copyable: each copy is one producer, used by one
// thread at a time; the channel closes when the last copy is gone, and the bus then opens
// a fresh channel for the topic's next publisher or subscriber. close() drops this
// producer; the last one closes the channel and releases the topic. Idempotent.
template <class T, class Sync = std_sync>
class topic_shared_publisher
    : public detail::topic_sender<broadcast::shared_publisher<T, Sync>, detail::shared_lease<T, Sync>,
                                  detail::release_shared_publisher> {
  using base = broadcast::shared_publisher<T, Sync>;
  using endpoint = detail::topic_sender<base, detail::shared_lease<T, Sync>, detail::release_shared_publisher>;

 public:
  topic_shared_publisher() noexcept = default;
  topic_shared_publisher(const topic_shared_publisher& o) : endpoint(o) {
    // relaxed: copied from a live copy, so the count is at least 1 and cannot reach zero
    // meanwhile; the decrements carry the ordering (close()).
    if (this->lease_ != nullptr) this->lease_->publishers.fetch_add(1, std::memory_order_relaxed);
  }
  topic_shared_publisher(topic_shared_publisher&&) noexcept = default;
  topic_shared_publisher& operator=(const topic_shared_publisher& o) {
    if (this != &o) *this = topic_shared_publisher(o);
    return *this;
  }
  // Closes this copy first, lease included (the first base: detail/endpoint.hpp).
  topic_shared_publisher& operator=(topic_shared_publisher&&) noexcept = default;

  // The channel's live copies, counting the one the bus keeps to make more (topic_info::
  // publishers counts only the handed-out ones).
  using base::producers;

 private:
  friend class basic_topic_bus<Sync>;
  topic_shared_publisher(base&& p, typename endpoint::lease_ptr lease) noexcept
      : endpoint(std::move(p), std::move(lease)) {}
};

// A subscriber of a topic: a broadcast::subscriber (same calls, same outcomes, same cost)
// that the bus counts. Move-only. `closed` means this channel's publisher is gone; to
// follow the topic's next publisher, subscribe again. close() leaves the channel (frees its
// registry entry at once). Idempotent.
template <class T, class Sync = std_sync>
class topic_subscriber
    : public detail::topic_endpoint<broadcast::subscriber<T, Sync>, detail::topic_lease, detail::release_subscriber> {
  using base = broadcast::subscriber<T, Sync>;
  using endpoint = detail::topic_endpoint<base, detail::topic_lease, detail::release_subscriber>;

 public:
  topic_subscriber() noexcept = default;

  using base::drain;
  using base::latest;
  using base::missed;
  using base::next_sequence;
  using base::pending;
  using base::received;
  using base::recv;
  using base::recv_batch;
  using base::recv_for;
  using base::recv_until;
  using base::set_wait;
  using base::try_recv;

 private:
  friend class basic_topic_bus<Sync>;
  topic_subscriber(base&& s, typename endpoint::lease_ptr lease) noexcept : endpoint(std::move(s), std::move(lease)) {}
};

}  // namespace ringwire
