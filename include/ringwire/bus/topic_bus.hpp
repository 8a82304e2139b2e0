// ringwire/bus/topic_bus.hpp -- the topic table: named broadcast channels, each with its own
// message type, made on first use. bus.hpp has the essay and the TL;DR.
//
// One std::mutex guards the table. Every call here is a cold path (a lookup, perhaps a
// channel allocation); the endpoints it returns never come back to the bus, so publishing
// and receiving never see the mutex. Subscribing happens outside the lock (it claims a
// registry entry in the channel and takes a fence), on a hub copied under it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "ringwire/bus/topic.hpp"
#include "ringwire/error.hpp"
#include "ringwire/result.hpp"

namespace ringwire {

namespace detail {

// One name in the table. The typed part (the channel's endpoints) lives in typed_topic<T>;
// the table sees only this, and casts after comparing `type`.
struct topic_record {
  topic_record(std::string n, topic_options o, topic_type t) : name(std::move(n)), options(o), type(t) {}
  virtual ~topic_record() = default;
  topic_record(const topic_record&) = delete;
  topic_record& operator=(const topic_record&) = delete;

  // Whether the current channel's publisher was handed out and is gone. Bus mutex held.
  [[nodiscard]] bool ended() const noexcept {
    // acquire: pairs with the closing endpoint's release decrement (topic.hpp), so the old
    // channel is closed before the next one is opened.
    return lease->claimed && lease->publishers.load(std::memory_order_acquire) == 0;
  }

  [[nodiscard]] topic_info info() const {
    topic_info i{name, type.name(), options, generation, false, 0, 0};
    // acquire: as in ended().
    i.publishers = lease->publishers.load(std::memory_order_acquire);
    i.publisher_live = i.publishers != 0;
    // relaxed: a count for display.
    i.subscribers = lease->subscribers.load(std::memory_order_relaxed);
    return i;
  }

  std::string name;
  topic_options options;
  topic_type type;
  std::uint64_t generation = 0;
  std::shared_ptr<topic_lease> lease;
};

template <class T, class Sync>
struct typed_topic final : topic_record {
  typed_topic(std::string n, const topic_options& o) : topic_record(std::move(n), o, topic_type::of<T>()) { open(); }

  // Opens the next channel. The table keeps its hub and, until someone asks for it, its
  // publisher (shared topics: the seed, in the lease). Throws ringwire::error for settings
  // the channel rejects.
  void open() {
    auto h = options.producers == producer_mode::single ? open_single() : open_shared();
    hub.emplace(std::move(h));
    ++generation;
  }

  std::optional<broadcast::hub<T, Sync>> hub;
  std::optional<broadcast::publisher<T, Sync>> unclaimed;  // single: the publisher nobody has taken yet
  std::shared_ptr<shared_lease<T, Sync>> shared;           // shared: `lease`, typed

 private:
  broadcast::hub<T, Sync> open_single() {
    auto [p, h] = broadcast::channel<T, Sync>(options.capacity, options.channel);
    lease = std::make_shared<topic_lease>();
    unclaimed.emplace(std::move(p));
    return std::move(h);
  }
  broadcast::hub<T, Sync> open_shared() {
    auto [p, h] = broadcast::mpmc_channel<T, Sync>(options.capacity, options.channel);
    auto next = std::make_shared<shared_lease<T, Sync>>();
    next->seed.emplace(std::move(p));
    shared = next;
    lease = std::move(next);
    return std::move(h);
  }
};

inline std::string quoted(std::string_view name) { return "topic '" + std::string(name) + "'"; }

}  // namespace detail

// A bus of named topics, each a broadcast channel with its own message type. Thread-safe:
// any thread may call anything at any time. Not copyable or movable (endpoints do not
// point back at it, but its mutex pins it).
template <class Sync = std_sync>
class basic_topic_bus {
 public:
  // `defaults` make every topic created on first use (create() gives per-topic settings).
  explicit basic_topic_bus(topic_options defaults = {}) : defaults_(std::move(defaults)) {}
  basic_topic_bus(const basic_topic_bus&) = delete;
  basic_topic_bus& operator=(const basic_topic_bus&) = delete;

  // Declares topic `name` carrying T with `opt`. Succeeds when the topic is new (its first
  // channel is made now) or already exists with the same type and settings. Errors:
  // invalid_topic (empty name), type_mismatch, topic_conflict (other settings), and what
  // the channel rejects (invalid_capacity, capacity_too_large, invalid_options).
  template <class T>
  result<void> create(std::string_view name, const topic_options& opt) {
    std::lock_guard lock(mutex_);
    auto t = find_or_make<T>(name, &opt);
    if (!t) return t.error();
    return {};
  }

  // The publisher of single-producer topic `name` (made with the defaults if new). Errors:
  // publisher_exists while the topic's publisher is alive; topic_conflict on a shared
  // topic; invalid_topic, type_mismatch, and channel errors as for create(). Once that
  // publisher is gone, the next call opens a fresh channel (see bus.hpp).
  template <class T>
  result<topic_publisher<T, Sync>> publisher(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto found = find_for_publisher<T>(name, producer_mode::single);
    if (!found) return found.error();
    auto* t = *found;
    if (auto r = renew_if_ended(*t); !r) return r.error();
    if (!t->unclaimed)
      return error_info{errc::publisher_exists,
                        detail::quoted(name) + " already has a live publisher (a single-producer topic has one at a "
                                               "time; declare it producer_mode::shared for several)"};
    t->lease->claimed = true;
    // relaxed: published to other threads by the bus mutex and the endpoint's hand-off.
    t->lease->publishers.store(1, std::memory_order_relaxed);
    topic_publisher<T, Sync> p(std::move(*t->unclaimed), t->lease);
    t->unclaimed.reset();
    return p;
  }

  // A publisher of shared topic `name` (declared with producer_mode::shared; a topic
  // made on first use takes the defaults' mode). Every call returns another copy of the
  // channel's shared publisher while any copy is alive; once all are gone, the next call
  // opens a fresh channel. Errors: topic_conflict on a single-producer topic; invalid_topic,
  // type_mismatch, and channel errors as for create().
  template <class T>
  result<topic_shared_publisher<T, Sync>> shared_publisher(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto found = find_for_publisher<T>(name, producer_mode::shared);
    if (!found) return found.error();
    auto* t = *found;
    for (;;) {  // at most twice: the second pass finds the channel ended and renewed
      if (auto r = renew_if_ended(*t); !r) return r.error();
      auto& lease = *t->shared;
      std::lock_guard seed_lock(lease.m);
      if (lease.seed) {
        lease.claimed = true;
        // relaxed: every decrement takes this mutex too, so the count cannot reach zero
        // (and drop the seed) meanwhile; other threads see it through the mutexes.
        lease.publishers.fetch_add(1, std::memory_order_relaxed);
        return topic_shared_publisher<T, Sync>(broadcast::shared_publisher<T, Sync>(*lease.seed), t->shared);
      }
      // The last producer closed after ended() looked: the count is zero now.
    }
  }

  // A subscriber to `name` (made with the defaults if new) that receives what the
  // publisher sends after this call (subscribe) or first replays what the ring still
  // holds (subscribe_from_oldest). Errors: too_many_subscribers, and as for create().
  template <class T>
  result<topic_subscriber<T, Sync>> subscribe(std::string_view name) {
    return join<T>(name, false);
  }
  template <class T>
  result<topic_subscriber<T, Sync>> subscribe_from_oldest(std::string_view name) {
    return join<T>(name, true);
  }

  // Every topic, by name.
  [[nodiscard]] std::vector<topic_info> topics() const {
    std::lock_guard lock(mutex_);
    std::vector<topic_info> out;
    out.reserve(topics_.size());
    for (const auto& [name, t] : topics_) out.push_back(t->info());
    return out;
  }
  // One topic, or nothing when no such name exists.
  [[nodiscard]] std::optional<topic_info> find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return std::nullopt;
    return it->second->info();
  }
  [[nodiscard]] const topic_options& defaults() const noexcept { return defaults_; }

 private:
  // The topic called `name`, made now (with *opt, or the defaults) if it does not exist;
  // checks the type, and *opt against the existing settings. Bus mutex held.
  template <class T>
  result<detail::typed_topic<T, Sync>*> find_or_make(std::string_view name, const topic_options* opt) {
    if (name.empty()) return error_info{errc::invalid_topic, "a topic name must not be empty"};
    auto it = topics_.find(name);
    if (it == topics_.end()) {
      const topic_options& settings = opt != nullptr ? *opt : defaults_;
      std::unique_ptr<detail::typed_topic<T, Sync>> made;
      try {
        made = std::make_unique<detail::typed_topic<T, Sync>>(std::string(name), settings);
      } catch (const error& e) {
        return error_info{e.code(), detail::quoted(name) + " cannot be made: " + e.what()};
      }
      auto* raw = made.get();
      topics_.emplace(std::string(name), std::move(made));
      return raw;
    }
    detail::topic_record& t = *it->second;
    const auto wanted = detail::topic_type::of<T>();
    if (!(t.type == wanted))
      return error_info{errc::type_mismatch, detail::quoted(name) + " carries " + t.type.describe() +
                                                 ", not " + wanted.describe()};
    if (opt != nullptr && !detail::same_settings(t.options, *opt))
      return error_info{errc::topic_conflict, detail::quoted(name) + " exists with " + detail::describe(t.options) +
                                                  "; asked for " + detail::describe(*opt)};
    // The type compared equal, and every record of this table is a typed_topic<., Sync>.
    return static_cast<detail::typed_topic<T, Sync>*>(&t);
  }

  // The topic a publisher call asks for, as find_or_make gives it, if it is declared with
  // `mode` (the call's own: publisher() single, shared_publisher() shared); topic_conflict,
  // naming the call that fits, otherwise. Bus mutex held.
  template <class T>
  result<detail::typed_topic<T, Sync>*> find_for_publisher(std::string_view name, producer_mode mode) {
    auto found = find_or_make<T>(name, nullptr);
    if (!found) return found.error();
    if (const producer_mode declared = (*found)->options.producers; declared != mode) {
      const char* call = mode == producer_mode::single ? "publisher()" : "shared_publisher()";
      const char* fits = mode == producer_mode::single ? "shared_publisher()" : "publisher()";
      return error_info{errc::topic_conflict, detail::quoted(name) + " is declared producer_mode::" +
                                                  to_string(declared) + ": use " + fits + ", not " + call};
    }
    return found;
  }

  // A topic whose publisher has gone gets its next channel. Bus mutex held.
  template <class T>
  result<void> renew_if_ended(detail::typed_topic<T, Sync>& t) {
    if (!t.ended()) return {};
    try {
      t.open();
    } catch (const error& e) {
      return error_info{e.code(), detail::quoted(t.name) + " cannot reopen: " + e.what()};
    }
    return {};
  }

  template <class T>
  result<topic_subscriber<T, Sync>> join(std::string_view name, bool from_oldest) {
    std::optional<broadcast::hub<T, Sync>> hub;
    std::shared_ptr<detail::topic_lease> lease;
    {
      std::lock_guard lock(mutex_);
      auto found = find_or_make<T>(name, nullptr);
      if (!found) return found.error();
      if (auto r = renew_if_ended(**found); !r) return r.error();
      hub = (*found)->hub;
      lease = (*found)->lease;
    }
    try {
      auto s = from_oldest ? hub->subscribe_from_oldest() : hub->subscribe();
      // relaxed: a listing count (the matching decrement is in topic_subscriber::close).
      lease->subscribers.fetch_add(1, std::memory_order_relaxed);
      return topic_subscriber<T, Sync>(std::move(s), std::move(lease));
    } catch (const error& e) {
      return error_info{e.code(), detail::quoted(name) + ": " + e.what()};
    }
  }

  topic_options defaults_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<detail::topic_record>, std::less<>> topics_;
};

using topic_bus = basic_topic_bus<>;

}  // namespace ringwire
