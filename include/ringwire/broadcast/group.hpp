// ringwire/broadcast/group.hpp -- several logical consumers of one broadcast channel behind
// one subscriber: one cursor, one seqlock read per message, whatever the member count
// (photon-ring's SubscriberGroup).
//
//   auto g = subs.subscribe_group(4);                  // hub.hpp: one registry entry
//   g.recv([&](std::uint32_t member, const tick& t) { books[member].apply(t); });
//
// When N consumers live on one thread and must each see every message (N strategies fed by
// one feed, N books kept from one stream), N subscribers would read every slot N times,
// keep N cursors and, under a gated policy, hold N registry entries the publisher scans. A
// group reads each message once -- the copy is validated against the stamp before any
// member sees it -- and hands that one copy to member 0, 1, ..., N - 1 in order. So:
//   * every member sees every message the group receives, in publish order;
//   * the group is one subscriber to the channel: one registry entry, one cursor for the
//     lossless gate and the evict distance, one row in stats();
//   * an outcome other than ok is the whole group's: lagged with missed() = exactly how
//     many messages every member lost (the group's received() + missed() == published,
//     as any lossy subscriber's), evicted, closed, empty. No member is called for it.
// A group is a subscriber (every call of subscriber.hpp: try_recv() and recv() hand the
// message out once, for the caller to deliver; latest(), drain(), try_recv_with() ...),
// plus the member count and the delivering calls below.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include "ringwire/broadcast/subscriber.hpp"
#include "ringwire/error.hpp"
#include "ringwire/status.hpp"

namespace ringwire::broadcast {

template <class T, class Sync = std_sync>
class subscriber_group : public subscriber<T, Sync> {
  using base = subscriber<T, Sync>;

 public:
  subscriber_group() noexcept = default;
  // Joins as one subscriber (see subscriber's constructor) with `members` consumers.
  // Throws ringwire::error: invalid_options for zero members, too_many_subscribers.
  subscriber_group(detail::ring_ref<Sync> ref, const options& opt, bool from_oldest, std::uint32_t members,
                   fence_scope scope = fence_scope::process)
      : base(std::move(ref), opt, from_oldest, scope), members_(members) {
    if (members == 0) throw error(errc::invalid_options, "a subscriber group needs at least one member");  // ~base leaves
  }

  using base::recv;
  using base::try_recv;

  // fn(member, message) for member 0, 1, ..., members() - 1, on one validated copy, when
  // the outcome is ok; the result is try_recv()'s (the message, its seq(), or why not).
  template <class Fn>
    requires std::is_invocable_v<Fn&, std::uint32_t, const T&>
  recv_result<T> try_recv(Fn&& fn) {
    return deliver(try_recv(), fn);
  }
  // The same, waiting by the wait strategy while there is nothing to read.
  template <class Fn>
    requires std::is_invocable_v<Fn&, std::uint32_t, const T&>
  recv_result<T> recv(Fn&& fn) {
    return deliver(recv(), fn);
  }
  template <class Fn>
    requires std::is_invocable_v<Fn&, std::uint32_t, const T&>
  recv_result<T> recv(Fn&& fn, std::stop_token stop) {
    return deliver(recv(std::move(stop)), fn);
  }

  [[nodiscard]] std::uint32_t members() const noexcept { return members_; }
  // Messages handed to members: received() for each of them.
  [[nodiscard]] std::uint64_t delivered() const noexcept { return this->received() * members_; }

 private:
  template <class Fn>
  recv_result<T> deliver(recv_result<T> r, Fn& fn) {
    if (r)
      for (std::uint32_t m = 0; m < members_; ++m) fn(m, std::as_const(*r));
    return r;
  }

  std::uint32_t members_ = 0;
};

}  // namespace ringwire::broadcast
