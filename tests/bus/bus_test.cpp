// Unit tests for ringwire::bus, ringwire::topic_bus and ringwire::result: topics made on
// first use from either side, one publisher per single-producer topic (an error value
// while it lives, a fresh channel after it is gone), shared topics, subscriber counts,
// per-topic settings and their conflicts, type mismatches with their messages, many
// threads making and joining the same topics at once, and messages flowing through a
// topic exactly as through a bare channel (lossy lag counts, lossless delivery).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <optional>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/broadcast.hpp"
#include "ringwire/bus.hpp"
#include "ringwire/result.hpp"
#include "support/unit_support.hpp"

namespace ringwire {
inline void PrintTo(errc e, std::ostream* os) { *os << to_string(e); }
}  // namespace ringwire

namespace {

namespace bc = ringwire::broadcast;
using ringwire::errc;
using ringwire::status;

struct quote {
  std::uint64_t seq;
  std::uint32_t instrument;
  std::uint32_t size;
  double bid, ask;
};
struct trade {
  std::uint64_t seq;
  double price;
};
struct same_size_as_trade {
  std::uint64_t a;
  double b;
};

ringwire::topic_options settings(std::size_t capacity, bc::policy p = bc::policy::lossy,
                                 ringwire::producer_mode m = ringwire::producer_mode::single) {
  ringwire::topic_options o;
  o.capacity = capacity;
  o.channel.policy = p;
  o.producers = m;
  return o;
}

// The error code of a result, or nothing when it holds a value (so a mutant that returns
// a value fails the comparison instead of reading an error that is not there).
template <class R>
std::optional<errc> code_of(const R& r) {
  if (r) return std::nullopt;
  return r.error().code;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

template <class Sub>
std::vector<int> drain(Sub& s) {
  std::vector<int> out;
  for (;;) {
    auto r = s.try_recv();
    if (!r) return out;
    out.push_back(*r);
  }
}

std::vector<int> iota(int from, int to) {  // [from, to]
  std::vector<int> v;
  for (int i = from; i <= to; ++i) v.push_back(i);
  return v;
}

// ---- result<T> --------------------------------------------------------------------------

TEST(Result, HoldsAValueOrAnError) {
  ringwire::result<int> good(7);
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_EQ(good.value(), 7);
  EXPECT_EQ(*good, 7);

  ringwire::result<int> bad(errc::invalid_topic, "no name");
  ASSERT_FALSE(bad.has_value());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(code_of(bad), errc::invalid_topic);
  EXPECT_EQ(bad.error().message, "no name");
  try {
    (void)bad.value();
    ADD_FAILURE() << "value() of an error did not throw";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::invalid_topic);
    EXPECT_STREQ(e.what(), "ringwire: invalid topic: no name");
  }
  try {
    bad.error().raise();
    ADD_FAILURE() << "raise() did not throw";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::invalid_topic);
  }

  ringwire::result<void> ok;
  EXPECT_TRUE(ok.has_value());
  EXPECT_NO_THROW(ok.value());
  ringwire::result<void> failed(ringwire::error_info{errc::topic_conflict, "x"});
  EXPECT_FALSE(failed);
  EXPECT_EQ(code_of(failed), errc::topic_conflict);
  EXPECT_THROW(failed.value(), ringwire::error);

  // Move-only values move in and out.
  ringwire::result<std::unique_ptr<int>> owned(std::make_unique<int>(5));
  std::unique_ptr<int> taken = std::move(owned).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

// ---- creation on first use --------------------------------------------------------------

TEST(Bus, PublisherFirstMakesTheTopic) {
  ringwire::bus<int> bus(settings(8));
  EXPECT_FALSE(bus.find("a").has_value());
  auto pub = bus.publisher("a");
  ASSERT_TRUE(pub) << pub.error().message;
  auto info = bus.find("a");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->name, "a");
  EXPECT_EQ(info->type, "int");
  EXPECT_EQ(info->options.capacity, 8u);
  EXPECT_EQ(info->generation, 1u);
  EXPECT_TRUE(info->publisher_live);
  EXPECT_EQ(info->publishers, 1u);
  EXPECT_EQ(info->subscribers, 0u);
  EXPECT_EQ(pub->capacity(), 8u);

  auto sub = bus.subscribe("a");
  ASSERT_TRUE(sub);
  ASSERT_EQ(pub->try_send(41), status::ok);
  ASSERT_EQ(pub->try_send(42), status::ok);
  EXPECT_EQ(drain(*sub), (std::vector<int>{41, 42}));
}

TEST(Bus, SubscriberFirstMakesTheTopicAndGetsThePublishersMessages) {
  ringwire::bus<int> bus(settings(8));
  auto early = bus.subscribe("a");
  ASSERT_TRUE(early);
  auto oldest = bus.subscribe_from_oldest("b");  // from_oldest makes a topic too
  ASSERT_TRUE(oldest);
  auto info = bus.find("a");
  ASSERT_TRUE(info.has_value());
  EXPECT_FALSE(info->publisher_live);
  EXPECT_EQ(info->subscribers, 1u);
  EXPECT_EQ(info->generation, 1u);

  auto pub = bus.publisher("a");  // the channel the subscriber is already on
  ASSERT_TRUE(pub);
  EXPECT_EQ(bus.find("a")->generation, 1u);
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(pub->send(i), status::ok);
  EXPECT_EQ(drain(*early), iota(1, 3));

  auto pub_b = bus.publisher("b");
  ASSERT_TRUE(pub_b);
  for (int i = 1; i <= 5; ++i) ASSERT_EQ(pub_b->send(i * 10), status::ok);
  EXPECT_EQ(drain(*oldest), (std::vector<int>{10, 20, 30, 40, 50}));
  // A from-oldest subscriber made now replays what the ring holds.
  auto late = bus.subscribe_from_oldest("b");
  ASSERT_TRUE(late);
  EXPECT_EQ(drain(*late), (std::vector<int>{10, 20, 30, 40, 50}));
}

TEST(Bus, EmptyNameIsInvalidTopicEverywhere) {
  ringwire::bus<int> bus;
  EXPECT_EQ(code_of(bus.publisher("")), errc::invalid_topic);
  EXPECT_EQ(code_of(bus.subscribe("")), errc::invalid_topic);
  EXPECT_EQ(code_of(bus.subscribe_from_oldest("")), errc::invalid_topic);
  EXPECT_EQ(code_of(bus.create("", settings(8))), errc::invalid_topic);
  EXPECT_EQ(code_of(bus.shared_publisher("")), errc::invalid_topic);
  EXPECT_TRUE(bus.topics().empty());
}

// ---- one publisher per topic ------------------------------------------------------------

TEST(Bus, SecondPublisherIsAnErrorValueWhileTheFirstLives) {
  ringwire::bus<int> bus(settings(8));
  auto first = bus.publisher("feed");
  ASSERT_TRUE(first);
  auto sub = bus.subscribe("feed");
  ASSERT_TRUE(sub);

  auto second = bus.publisher("feed");
  ASSERT_FALSE(second);
  EXPECT_EQ(code_of(second), errc::publisher_exists);
  EXPECT_TRUE(contains(second.error().message, "'feed'")) << second.error().message;
  try {
    (void)bus.publisher("feed").value();
    ADD_FAILURE() << "value() of publisher_exists did not throw";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::publisher_exists);
  }

  // Moving the publisher keeps it alive: still taken.
  ringwire::topic_publisher<int> moved = std::move(*first);
  EXPECT_EQ(code_of(bus.publisher("feed")), errc::publisher_exists);
  // The refusals did not disturb the live publisher.
  ASSERT_EQ(moved.send(1), status::ok);
  ASSERT_EQ(moved.send(2), status::ok);
  EXPECT_EQ(drain(*sub), iota(1, 2));
  EXPECT_EQ(bus.find("feed")->generation, 1u);
}

TEST(Bus, AfterThePublisherGoesTheTopicReopensOnAFreshChannel) {
  ringwire::bus<int> bus(settings(8));
  auto first = bus.publisher("feed");
  ASSERT_TRUE(first);
  auto old_sub = bus.subscribe("feed");
  ASSERT_TRUE(old_sub);
  ASSERT_EQ(first->send(1), status::ok);
  ASSERT_EQ(first->send(2), status::ok);
  first->close();

  // The old channel closed: its subscriber drains, then sees closed.
  auto info = bus.find("feed");
  EXPECT_FALSE(info->publisher_live);
  EXPECT_EQ(info->generation, 1u);
  EXPECT_EQ(drain(*old_sub), iota(1, 2));
  EXPECT_EQ(old_sub->try_recv().status(), status::closed);

  // A subscriber that arrives before the new publisher is on the new channel.
  auto waiting = bus.subscribe("feed");
  ASSERT_TRUE(waiting);
  EXPECT_EQ(bus.find("feed")->generation, 2u);
  EXPECT_EQ(waiting->try_recv().status(), status::empty);

  auto second = bus.publisher("feed");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(bus.find("feed")->generation, 2u);  // the channel the waiting subscriber made
  EXPECT_TRUE(bus.find("feed")->publisher_live);
  ASSERT_EQ(second->send(100), status::ok);
  EXPECT_EQ(second->published(), 1u);  // sequence numbers restart
  EXPECT_EQ(drain(*waiting), std::vector<int>{100});
  EXPECT_EQ(old_sub->try_recv().status(), status::closed);  // the old one stays closed
  EXPECT_EQ(code_of(bus.publisher("feed")), errc::publisher_exists);

  // Destruction releases the topic as close() does; a publisher() then opens generation 3.
  { ringwire::topic_publisher<int> gone = std::move(*second); }
  EXPECT_EQ(waiting->try_recv().status(), status::closed);
  auto third = bus.publisher("feed");
  ASSERT_TRUE(third);
  EXPECT_EQ(bus.find("feed")->generation, 3u);
  auto fresh = bus.subscribe("feed");
  ASSERT_TRUE(fresh);
  ASSERT_EQ(third->send(7), status::ok);
  EXPECT_EQ(drain(*fresh), std::vector<int>{7});
}

TEST(Bus, DestroyingTheBusLeavesHandedOutEndpointsWorking) {
  std::optional<ringwire::topic_publisher<int>> pub;
  std::optional<ringwire::topic_subscriber<int>> sub, orphan;
  {
    ringwire::bus<int> bus(settings(8));
    pub.emplace(std::move(bus.publisher("a").value()));
    sub.emplace(std::move(bus.subscribe("a").value()));
    orphan.emplace(std::move(bus.subscribe("never-published").value()));
  }
  ASSERT_EQ(pub->send(5), status::ok);
  EXPECT_EQ(drain(*sub), std::vector<int>{5});
  // The bus held the unclaimed publisher of "never-published": its channel closed with it.
  EXPECT_EQ(orphan->try_recv().status(), status::closed);
}

// ---- shared (multi-producer) topics -----------------------------------------------------

TEST(Bus, SharedTopicsHandOutCopiesAndCloseWithTheLast) {
  ringwire::bus<int> bus(settings(16));
  ASSERT_TRUE(bus.create("multi", settings(16, bc::policy::lossy, ringwire::producer_mode::shared)));
  auto single_on_shared = bus.publisher("multi");
  ASSERT_FALSE(single_on_shared);
  EXPECT_EQ(code_of(single_on_shared), errc::topic_conflict);
  EXPECT_TRUE(contains(single_on_shared.error().message, "shared_publisher()"));
  (void)bus.publisher("solo").value();  // a temporary: taken and released at once
  auto shared_on_single = bus.shared_publisher("solo");
  ASSERT_FALSE(shared_on_single);
  EXPECT_EQ(code_of(shared_on_single), errc::topic_conflict);

  auto sub = bus.subscribe("multi");
  ASSERT_TRUE(sub);
  auto a = bus.shared_publisher("multi");
  auto b = bus.shared_publisher("multi");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  ringwire::topic_shared_publisher<int> c = *a;  // a copy is a producer too
  EXPECT_EQ(bus.find("multi")->publishers, 3u);
  ASSERT_EQ(a->send(1), status::ok);
  ASSERT_EQ(b->send(2), status::ok);
  ASSERT_EQ(c.send(3), status::ok);
  EXPECT_EQ(drain(*sub), iota(1, 3));

  a->close();
  b->close();
  EXPECT_EQ(bus.find("multi")->publishers, 1u);
  EXPECT_EQ(sub->try_recv().status(), status::empty);  // c still open
  ASSERT_EQ(c.send(4), status::ok);
  EXPECT_EQ(drain(*sub), std::vector<int>{4});
  c.close();  // the last producer: the channel closes, the topic is released
  EXPECT_EQ(sub->try_recv().status(), status::closed);
  EXPECT_FALSE(bus.find("multi")->publisher_live);

  auto again = bus.shared_publisher("multi");
  ASSERT_TRUE(again);
  EXPECT_EQ(bus.find("multi")->generation, 2u);
  auto sub2 = bus.subscribe("multi");
  ASSERT_TRUE(sub2);
  ASSERT_EQ(again->send(9), status::ok);
  EXPECT_EQ(drain(*sub2), std::vector<int>{9});
}

TEST(Bus, SharedTopicsFromManyThreadsDeliverEveryMessage) {
  constexpr int producers = 4, per_producer = 2000;
  ringwire::bus<std::uint64_t> bus(settings(64, bc::policy::lossless, ringwire::producer_mode::shared));
  auto sub = bus.subscribe("m").value();
  {
    std::vector<std::jthread> threads;
    // Every copy is taken before any thread starts: a producer that finished before the
    // next one took its copy would close the channel (the last copy gone) mid-test.
    std::vector<ringwire::topic_shared_publisher<std::uint64_t>> copies;
    for (int p = 0; p < producers; ++p) copies.push_back(bus.shared_publisher("m").value());
    EXPECT_EQ(bus.find("m")->publishers, static_cast<std::uint32_t>(producers));
    for (int p = 0; p < producers; ++p)
      threads.emplace_back([pub = std::move(copies[static_cast<std::size_t>(p)]), p]() mutable {
        for (std::uint64_t i = 0; i < per_producer; ++i)
          ASSERT_EQ(pub.send(static_cast<std::uint64_t>(p) << 32 | i), status::ok);
      });
    std::vector<std::uint64_t> next(producers, 0);
    int got = 0;
    while (got < producers * per_producer) {
      auto r = sub.recv_for(rw_test::generous);
      ASSERT_TRUE(r) << ringwire::to_string(r.status());
      const auto p = static_cast<std::size_t>(*r >> 32);
      ASSERT_LT(p, next.size());
      ASSERT_EQ(*r & 0xffffffffu, next[p]) << "producer " << p << " out of order";
      ++next[p];
      ++got;
    }
  }
  // Every producer copy is gone, so the channel is closed.
  EXPECT_EQ(sub.recv_for(rw_test::generous).status(), status::closed);
}

// ---- counts and listing -----------------------------------------------------------------

TEST(Bus, MoveAssignmentReleasesTheHandleItReplaces) {
  ringwire::bus<int> bus(settings(8));
  auto s1 = bus.subscribe("b").value();
  auto s2 = bus.subscribe("b").value();
  EXPECT_EQ(bus.find("b")->subscribers, 2u);
  s1 = std::move(s2);  // s1's own count goes first
  EXPECT_EQ(bus.find("b")->subscribers, 1u);

  auto pa = bus.publisher("a").value();
  auto pc = bus.publisher("c").value();
  pc = std::move(pa);  // closes "c" (its lease too), then takes "a"
  EXPECT_FALSE(bus.find("c")->publisher_live);
  EXPECT_TRUE(bus.find("a")->publisher_live);
  EXPECT_TRUE(pa.is_closed());
  EXPECT_EQ(pc.send(1), status::ok);
}

TEST(Bus, CountsSubscribersAndListsTopics) {
  ringwire::bus<int> bus(settings(8));
  auto s1 = bus.subscribe("b").value();
  auto s2 = bus.subscribe("b").value();
  auto s3 = bus.subscribe_from_oldest("b").value();
  EXPECT_EQ(bus.find("b")->subscribers, 3u);
  ringwire::topic_subscriber<int> s4 = std::move(s1);  // moving does not count twice
  EXPECT_EQ(bus.find("b")->subscribers, 3u);
  s2.close();
  EXPECT_EQ(bus.find("b")->subscribers, 2u);
  s2.close();  // idempotent
  EXPECT_EQ(bus.find("b")->subscribers, 2u);
  { auto gone = std::move(s3); }
  EXPECT_EQ(bus.find("b")->subscribers, 1u);

  auto pa = bus.publisher("a").value();
  (void)bus.subscribe("c").value();  // made and released at once
  auto list = bus.topics();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "a");
  EXPECT_EQ(list[1].name, "b");
  EXPECT_EQ(list[2].name, "c");
  EXPECT_TRUE(list[0].publisher_live);
  EXPECT_EQ(list[0].subscribers, 0u);
  EXPECT_FALSE(list[1].publisher_live);
  EXPECT_EQ(list[1].subscribers, 1u);
  EXPECT_EQ(list[2].subscribers, 0u);
  EXPECT_EQ(s4.try_recv().status(), status::empty);
}

TEST(Bus, TooManySubscribersIsAnErrorValue) {
  auto o = settings(8);
  o.channel.max_subscribers = 2;
  ringwire::bus<int> bus(o);
  auto a = bus.subscribe("t");
  auto b = bus.subscribe("t");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  auto c = bus.subscribe("t");
  ASSERT_FALSE(c);
  EXPECT_EQ(code_of(c), errc::too_many_subscribers);
  EXPECT_TRUE(contains(c.error().message, "'t'")) << c.error().message;
  EXPECT_EQ(bus.find("t")->subscribers, 2u);
  a->close();
  EXPECT_TRUE(bus.subscribe("t"));
}

// ---- per-topic settings -----------------------------------------------------------------

TEST(Bus, CreateGivesPerTopicSettingsAndRejectsOtherOnes) {
  ringwire::bus<int> bus(settings(64));
  ASSERT_TRUE(bus.create("small", settings(4, bc::policy::lossless)));
  ASSERT_TRUE(bus.create("small", settings(4, bc::policy::lossless)));  // the same again: fine
  auto other_capacity = bus.create("small", settings(8, bc::policy::lossless));
  ASSERT_FALSE(other_capacity);
  EXPECT_EQ(code_of(other_capacity), errc::topic_conflict);
  EXPECT_TRUE(contains(other_capacity.error().message, "capacity 4")) << other_capacity.error().message;
  EXPECT_TRUE(contains(other_capacity.error().message, "capacity 8")) << other_capacity.error().message;
  EXPECT_EQ(code_of(bus.create("small", settings(4, bc::policy::lossy))), errc::topic_conflict);
  auto waits = settings(4, bc::policy::lossless);
  waits.channel.receiver_wait = ringwire::wait_strategy::busy_spin();
  EXPECT_EQ(code_of(bus.create("small", waits)), errc::topic_conflict);

  // The topic really has its own settings: capacity 4, lossless (full after 4 unread).
  auto pub = bus.publisher("small").value();
  auto sub = bus.subscribe("small").value();
  EXPECT_EQ(pub.capacity(), 4u);
  for (int i = 1; i <= 4; ++i) ASSERT_EQ(pub.try_send(i), status::ok);
  EXPECT_EQ(pub.try_send(5), status::full);
  EXPECT_EQ(sub.try_recv().value(), 1);
  EXPECT_EQ(pub.try_send(5), status::ok);

  // A topic made on first use has the defaults; declaring it with them is fine after.
  auto implicit = bus.subscribe("implicit").value();
  EXPECT_EQ(bus.find("implicit")->options.capacity, 64u);
  EXPECT_TRUE(bus.create("implicit", settings(64)));
  EXPECT_EQ(code_of(bus.create("implicit", settings(32))), errc::topic_conflict);

  // Evict: an explicit lag equal to the automatic one is the same setting.
  ASSERT_TRUE(bus.create("ev", settings(8, bc::policy::evict)));
  auto same_lag = settings(8, bc::policy::evict);
  same_lag.channel.evict_lag = 7;
  EXPECT_TRUE(bus.create("ev", same_lag));
  same_lag.channel.evict_lag = 3;
  EXPECT_EQ(code_of(bus.create("ev", same_lag)), errc::topic_conflict);

  // Slot layout: automatic is the same setting as the layout it resolves to.
  auto slots = settings(8);
  slots.channel.slot_layout = bc::resolve(bc::slot_layout::automatic);
  EXPECT_TRUE(bus.create("implicit-layout", settings(8)));
  EXPECT_TRUE(bus.create("implicit-layout", slots));
  slots.channel.slot_layout =
      slots.channel.slot_layout == bc::slot_layout::line ? bc::slot_layout::packed : bc::slot_layout::line;
  auto other_layout = bus.create("implicit-layout", slots);
  ASSERT_FALSE(other_layout);
  EXPECT_EQ(code_of(other_layout), errc::topic_conflict);
  EXPECT_TRUE(contains(other_layout.error().message, "line slots")) << other_layout.error().message;
}

TEST(Bus, SettingsTheChannelRejectsAreErrorValuesAndMakeNoTopic) {
  ringwire::bus<int> bus(settings(0));  // bad defaults surface at first use
  auto r = bus.subscribe("x");
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r), errc::invalid_capacity);
  EXPECT_TRUE(contains(r.error().message, "'x'")) << r.error().message;
  EXPECT_FALSE(bus.find("x").has_value());
  EXPECT_EQ(code_of(bus.publisher("x")), errc::invalid_capacity);

  auto bad_lag = settings(8, bc::policy::evict);
  bad_lag.channel.evict_lag = 8;
  EXPECT_EQ(code_of(bus.create("y", bad_lag)), errc::invalid_options);
  auto no_registry = settings(8);
  no_registry.channel.max_subscribers = 0;
  EXPECT_EQ(code_of(bus.create("y", no_registry)), errc::invalid_options);
  EXPECT_EQ(code_of(bus.create("y", settings(std::size_t{1} << 60))), errc::capacity_too_large);
  EXPECT_TRUE(bus.topics().empty());
  EXPECT_TRUE(bus.create("y", settings(8)));  // and a good declaration still works
}

// ---- the heterogeneous bus --------------------------------------------------------------

TEST(TopicBus, TypeMismatchEitherWayNamesTheTopicAndBothTypes) {
  ringwire::topic_bus bus(settings(8));
  auto trades = bus.publisher<trade>("trades");
  ASSERT_TRUE(trades);
  // Subscriber asks for the wrong type of a topic the publisher made.
  auto wrong_sub = bus.subscribe<quote>("trades");
  ASSERT_FALSE(wrong_sub);
  EXPECT_EQ(code_of(wrong_sub), errc::type_mismatch);
  const std::string& m1 = wrong_sub.error().message;
  EXPECT_TRUE(contains(m1, "'trades'")) << m1;
  EXPECT_TRUE(contains(m1, "::trade` (16 bytes, align 8)")) << m1;
  EXPECT_TRUE(contains(m1, "::quote` (32 bytes, align 8)")) << m1;
  EXPECT_LT(m1.find("trade`"), m1.find("quote`")) << "the topic's type comes first: " << m1;

  ASSERT_NE(m1.find("trade`"), std::string::npos);
  // Publisher asks for the wrong type of a topic a subscriber made.
  auto quotes = bus.subscribe<quote>("quotes");
  ASSERT_TRUE(quotes);
  auto wrong_pub = bus.publisher<trade>("quotes");
  ASSERT_FALSE(wrong_pub);
  EXPECT_EQ(code_of(wrong_pub), errc::type_mismatch);
  const std::string& m2 = wrong_pub.error().message;
  EXPECT_TRUE(contains(m2, "'quotes'")) << m2;
  EXPECT_LT(m2.find("quote`"), m2.find("trade`")) << m2;

  ASSERT_NE(m2.find("quote`"), std::string::npos);
  // Same size and alignment, another type: still a mismatch (typeid decides).
  EXPECT_EQ(code_of(bus.subscribe<same_size_as_trade>("trades")), errc::type_mismatch);
  EXPECT_EQ(code_of(bus.create<quote>("trades", settings(8))), errc::type_mismatch);
  EXPECT_EQ(code_of(bus.shared_publisher<quote>("trades")), errc::type_mismatch);
  EXPECT_EQ(code_of(bus.subscribe_from_oldest<int>("quotes")), errc::type_mismatch);
  try {
    (void)bus.subscribe<int>("trades").value();
    ADD_FAILURE() << "value() of a type mismatch did not throw";
  } catch (const ringwire::error& e) {
    EXPECT_EQ(e.code(), errc::type_mismatch);
    EXPECT_TRUE(contains(e.what(), "type mismatch")) << e.what();
  }

  // The right types still work, and each topic carries its own.
  auto trade_sub = bus.subscribe<trade>("trades").value();
  ASSERT_EQ(trades->send(trade{1, 99.5}), status::ok);
  auto t = trade_sub.try_recv();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->price, 99.5);
  auto quote_pub = bus.publisher<quote>("quotes").value();
  ASSERT_EQ(quote_pub.send(quote{1, 7, 100, 1.5, 1.6}), status::ok);
  auto q = quotes->try_recv();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->instrument, 7u);
  auto list = bus.topics();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(contains(list[0].type, "quote")) << list[0].type;
  EXPECT_TRUE(contains(list[1].type, "trade")) << list[1].type;
}

// ---- concurrency ------------------------------------------------------------------------

// Many threads make, declare, subscribe to and try to publish on the same topics at once.
// Exactly one publisher per topic must win; every subscription must be counted and must
// receive what that publisher sends. TSan checks the table and the leases.
TEST(Bus, ManyThreadsMakeAndJoinTheSameTopics) {
  constexpr int threads = 8, topics = 6, subs_per_topic = 2;
  ringwire::bus<std::uint64_t> bus(settings(64, bc::policy::lossless));
  const auto name = [](int t) { return "topic-" + std::to_string(t); };
  std::vector<std::vector<ringwire::topic_subscriber<std::uint64_t>>> subs(threads);
  std::vector<std::vector<ringwire::topic_publisher<std::uint64_t>>> pubs(threads);
  std::atomic<int> refused{0}, failures{0};
  std::barrier start(threads);
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < threads; ++w)
      workers.emplace_back([&, w] {
        start.arrive_and_wait();
        for (int k = 0; k < topics; ++k) {
          const int t = (w + k) % topics;  // every thread starts on another topic
          for (int s = 0; s < subs_per_topic; ++s) {
            auto r = (s == 0) ? bus.subscribe(name(t)) : bus.subscribe_from_oldest(name(t));
            if (r) subs[static_cast<std::size_t>(w)].push_back(std::move(*r));
            else failures.fetch_add(1);
          }
          if (!bus.create(name(t), settings(64, bc::policy::lossless))) failures.fetch_add(1);
          auto p = bus.publisher(name(t));
          if (p) pubs[static_cast<std::size_t>(w)].push_back(std::move(*p));
          else if (p.error().code == errc::publisher_exists) refused.fetch_add(1);
          else failures.fetch_add(1);
        }
      });
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(refused.load(), threads * topics - topics);
  std::size_t won = 0;
  for (auto& v : pubs) won += v.size();
  EXPECT_EQ(won, static_cast<std::size_t>(topics));
  auto list = bus.topics();
  ASSERT_EQ(list.size(), static_cast<std::size_t>(topics));
  for (const auto& i : list) {
    EXPECT_EQ(i.generation, 1u) << i.name;
    EXPECT_TRUE(i.publisher_live) << i.name;
    EXPECT_EQ(i.subscribers, static_cast<std::uint32_t>(threads * subs_per_topic)) << i.name;
  }
  // Every winner publishes its topic's index; every subscriber (all on generation 1) gets it.
  for (auto& v : pubs)
    for (auto& p : v) {
      ASSERT_EQ(p.published(), 0u);
      ASSERT_EQ(p.try_send(p.capacity()), status::ok);  // 64: any marker will do
    }
  for (auto& v : subs)
    for (auto& s : v) {
      auto r = s.try_recv();
      ASSERT_TRUE(r) << ringwire::to_string(r.status());
      EXPECT_EQ(*r, 64u);
    }
}

// Threads race to make the same topics with different types: per topic, one type wins and
// every call with the other type gets type_mismatch, never a channel of the wrong type.
TEST(TopicBus, ThreadsRacingWithDifferentTypesAgreeOnOne) {
  constexpr int threads = 6, topics = 8;
  ringwire::topic_bus bus(settings(16));
  std::atomic<int> as_trade{0}, as_quote{0}, mismatched{0}, other{0};
  std::barrier start(threads);
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < threads; ++w)
      workers.emplace_back([&, w] {
        start.arrive_and_wait();
        for (int t = 0; t < topics; ++t) {
          const std::string name = "topic-" + std::to_string((t + w) % topics);
          const auto count = [&](const auto& r, std::atomic<int>& ok) {
            if (r) ok.fetch_add(1);
            else if (r.error().code == errc::type_mismatch) mismatched.fetch_add(1);
            else other.fetch_add(1);
          };
          if (w % 2 == 0) count(bus.subscribe<trade>(name), as_trade);
          else count(bus.subscribe<quote>(name), as_quote);
        }
      });
  }
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(as_trade.load() + as_quote.load() + mismatched.load(), threads * topics);
  int trade_topics = 0;
  for (const auto& i : bus.topics()) {
    const bool is_trade = contains(i.type, "trade");
    ASSERT_TRUE(is_trade || contains(i.type, "quote")) << i.type;
    trade_topics += is_trade ? 1 : 0;
    // Every subscriber that succeeded is on the winner's channel; the losers were refused.
    auto again = is_trade ? code_of(bus.subscribe<quote>(i.name)) : code_of(bus.subscribe<trade>(i.name));
    EXPECT_EQ(again, errc::type_mismatch) << i.name;
  }
  // Half the threads ask for each type, so each winning type has exactly threads / 2 takers.
  EXPECT_EQ(as_trade.load(), trade_topics * threads / 2);
  EXPECT_EQ(as_quote.load(), (topics - trade_topics) * threads / 2);
}

// Publishers come and go on one topic while other threads subscribe: no two publishers of
// one topic are ever alive together, and each generation's messages reach its subscribers.
TEST(Bus, PublishersComeAndGoWhileOthersSubscribe) {
  constexpr int threads = 4, rounds = 200;
  ringwire::bus<std::uint64_t> bus(settings(16));
  std::atomic<int> alive{0}, overlap{0}, taken{0};
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < threads; ++w)
      workers.emplace_back([&] {
        for (int i = 0; i < rounds; ++i) {
          auto sub = bus.subscribe("x");
          ASSERT_TRUE(sub);
          auto p = bus.publisher("x");
          if (!p) {
            ASSERT_EQ(p.error().code, errc::publisher_exists);
            continue;
          }
          taken.fetch_add(1);
          if (alive.fetch_add(1) != 0) overlap.fetch_add(1);
          ASSERT_EQ(p->send(7), status::ok);
          alive.fetch_sub(1);
          p->close();
          // Our subscriber is on this generation (it gets the 7) or an older one whose
          // publisher has gone (closed): never silence, never another value.
          auto r = sub->try_recv();
          if (r) ASSERT_EQ(*r, 7u);
          else ASSERT_EQ(r.status(), status::closed);
        }
      });
  }
  EXPECT_EQ(overlap.load(), 0);
  ASSERT_GT(taken.load(), 0);
  // Every publisher released its channel; one more call opens the next, so the topic has
  // had exactly one channel per publisher, plus this one.
  ASSERT_TRUE(bus.subscribe("x"));
  EXPECT_EQ(bus.find("x")->generation, static_cast<std::uint64_t>(taken.load()) + 1);
}

// ---- messages flow through a topic as through a bare channel ----------------------------

TEST(Bus, LossyLagIsCountedExactlyAsOnABareChannel) {
  ringwire::bus<int> bus(settings(4));
  auto pub = bus.publisher("t").value();
  auto sub = bus.subscribe("t").value();
  auto [bare_pub, bare_hub] = bc::channel<int>(4);
  auto bare_sub = bare_hub.subscribe();
  for (int i = 1; i <= 10; ++i) {
    ASSERT_EQ(pub.send(i), status::ok);
    ASSERT_EQ(bare_pub.send(i), status::ok);
  }
  auto lag = sub.try_recv();
  auto bare_lag = bare_sub.try_recv();
  ASSERT_EQ(lag.status(), status::lagged);
  EXPECT_EQ(lag.missed(), 6u);
  EXPECT_EQ(lag.missed(), bare_lag.missed());
  EXPECT_EQ(drain(sub), iota(7, 10));
  EXPECT_EQ(drain(bare_sub), iota(7, 10));
  EXPECT_EQ(sub.received() + sub.missed(), 10u);
  EXPECT_EQ(sub.latest().status(), status::empty);
  for (int i = 11; i <= 16; ++i) ASSERT_EQ(pub.send(i), status::ok);  // 11 and 12 lost
  std::vector<int> drained;
  for (const int& v : sub.drain()) drained.push_back(v);  // the channel's drain(), lag absorbed
  EXPECT_EQ(drained, iota(13, 16));
  EXPECT_EQ(sub.received() + sub.missed(), 16u);
}

TEST(Bus, LosslessTopicDeliversEverythingInOrderToASlowSubscriber) {
  constexpr std::uint64_t total = 20000 / RINGWIRE_STRESS_SCALE;
  ringwire::bus<std::uint64_t> bus(settings(8, bc::policy::lossless));
  auto sub = bus.subscribe("t").value();
  std::jthread producer([&bus] {
    auto pub = bus.publisher("t").value();
    for (std::uint64_t i = 1; i <= total; ++i) ASSERT_EQ(pub.send(i), status::ok);
  });
  std::uint64_t expect = 1;
  for (;;) {
    auto r = sub.recv_for(rw_test::generous);
    if (!r) {
      ASSERT_EQ(r.status(), status::closed);
      break;
    }
    ASSERT_EQ(*r, expect);
    ++expect;
  }
  EXPECT_EQ(expect, total + 1);
  EXPECT_EQ(sub.missed(), 0u);
}

}  // namespace
