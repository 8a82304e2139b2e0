// ringwire/bus.hpp -- named broadcast topics, made on first use.
//
// TL;DR
//   #include <ringwire/bus.hpp>
//   struct quote { std::uint64_t seq; std::uint32_t instrument; double bid, ask; };
//   ringwire::bus<quote> quotes;                                // topics of 1024, lossy
//   auto pub = quotes.publisher("EURUSD").value();              // throws if taken
//   auto sub = quotes.subscribe("EURUSD");                      // result<topic_subscriber>
//   if (!sub) std::puts(sub.error().message.c_str());
//   pub.send(quote{1, 7, 1.0841, 1.0843});                      // the channel's own send
//   auto again = quotes.publisher("EURUSD");                    // errc::publisher_exists
//
//   ringwire::topic_options multi;                              // several feed threads
//   multi.producers = ringwire::producer_mode::shared;
//   quotes.create("all", multi).value();
//   auto a = quotes.shared_publisher("all").value(), b = a;     // each copy one producer
//
//   ringwire::topic_bus bus;                                    // one type per topic
//   auto trades = bus.publisher<trade>("trades").value();
//   auto oops = bus.subscribe<quote>("trades");                 // errc::type_mismatch:
//   // "topic 'trades' carries `trade` (16 bytes, align 8), not `quote` (32 bytes, align 8)"
//
// A topic is a broadcast channel (broadcast.hpp) with a name. The bus is only a directory:
// a mutex-guarded map from names to channels, consulted when an endpoint is made. The
// endpoints it returns are the channel's own (topic_publisher and topic_subscriber inherit
// them privately and add a pointer to a lease), so publish and receive cost exactly what
// they cost on a bare channel, and the bus may be destroyed while they run.
//
// Creation. The first publisher(), subscribe() or subscribe_from_oldest() for a name
// makes its channel with the bus's default topic_options; create(name, options) makes it
// with its own capacity, broadcast options and producer mode. Declaring a topic again
// with the same settings is fine; with other settings it is errc::topic_conflict, and
// (topic_bus) with another message type errc::type_mismatch, whose message names the
// topic and both types. An empty name is errc::invalid_topic. Channel errors (capacity 0,
// a bad evict_lag, no free subscriber entry) come back as error values with the topic's
// name, never as exceptions. Every failure is a result<T> (result.hpp): `.value()` turns
// it into a thrown ringwire::error for code that prefers exceptions.
//
// One publisher per topic. publisher(name) hands the channel's single publisher out once;
// while it is alive another publisher(name) is errc::publisher_exists, so a second feed
// handler cannot silently interleave with the first. When that publisher goes (close() or
// destruction) its channel closes as any broadcast channel does: subscribers drain what
// is left, then see status::closed. The topic is not dead: the next publisher() or
// subscribe() for it opens a fresh channel with the same settings (topic_info::generation
// counts them; sequence numbers restart at 1), and subscribers that want the new feed
// subscribe again. This is what a market-data consumer expects when a feed handler
// restarts: a clear end of the old stream (closed, not a silent stall), then a new one.
// A subscriber made after the publisher left but before a new one arrives is already on
// the new channel, so it misses nothing the new publisher sends.
//
// Several publishers. A topic declared with producer_mode::shared is an mpmc_channel:
// shared_publisher(name) returns another copy of its shared publisher on every call (each
// copy is one producer; copies may also be made from copies), and the channel closes when
// the last copy is gone -- after which the topic reopens as above. Asking a shared topic
// for publisher(), or a single-producer topic for shared_publisher(), is
// errc::topic_conflict: which one a topic is belongs to its declaration, not to whoever
// asks first. A topic made on first use takes the mode of the bus's defaults.
//
// Listing. topics() and find(name) report each topic's settings, type, generation, and
// how many publishers and subscribers its current channel has.
//
// Lifetimes. Destroying the bus closes the channels of topics whose publisher was never
// taken (their subscribers see closed); endpoints already handed out keep their channel
// alive and keep working.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "ringwire/bus/topic.hpp"
#include "ringwire/bus/topic_bus.hpp"
#include "ringwire/result.hpp"

namespace ringwire {

// A bus whose topics all carry T: basic_topic_bus with the type fixed.
template <class T, class Sync = std_sync>
class bus {
 public:
  using value_type = T;
  using publisher_type = topic_publisher<T, Sync>;
  using shared_publisher_type = topic_shared_publisher<T, Sync>;
  using subscriber_type = topic_subscriber<T, Sync>;

  explicit bus(topic_options defaults = {}) : topics_(std::move(defaults)) {}

  result<void> create(std::string_view name, const topic_options& opt) { return topics_.template create<T>(name, opt); }
  result<publisher_type> publisher(std::string_view name) { return topics_.template publisher<T>(name); }
  result<shared_publisher_type> shared_publisher(std::string_view name) {
    return topics_.template shared_publisher<T>(name);
  }
  result<subscriber_type> subscribe(std::string_view name) { return topics_.template subscribe<T>(name); }
  result<subscriber_type> subscribe_from_oldest(std::string_view name) {
    return topics_.template subscribe_from_oldest<T>(name);
  }
  [[nodiscard]] std::vector<topic_info> topics() const { return topics_.topics(); }
  [[nodiscard]] std::optional<topic_info> find(std::string_view name) const { return topics_.find(name); }
  [[nodiscard]] const topic_options& defaults() const noexcept { return topics_.defaults(); }

 private:
  basic_topic_bus<Sync> topics_;
};

}  // namespace ringwire
