// ringwire/pipeline/stages.hpp -- the loop each pipeline stage runs on its thread.
//
// A stage owns the receiving end of its input link(s), the sending end of its output
// link(s) and the user's function. Its loop receives, applies, sends, and ends:
//   drained    when its input reports closed: the upstream stage ended and everything it
//              sent has been received and passed on;
//   cancelled  when the pipeline's stop was requested (shutdown() or a failing stage) or
//              its output receiver went away.
// Returning destroys the endpoints (in handle.hpp's start_stage), which closes both links:
// downstream drains and ends in turn, upstream sees closed on its next send. A close on the
// input therefore drains the pipeline in order, and a stop or a failure releases every
// stage, whichever link it is blocked on.
//
// Waiting. Each step first tries without waiting (try_recv / try_send: no stop_token copy,
// whose reference count is a read-modify-write), and only on empty or full calls the
// blocking recv(stop) / send(v, stop), which spin and then park by the link's wait strategy
// (wait.hpp) and are woken by progress, a close, or the stop token's callback. The stop is
// checked once per message with stop_requested(), a load of a line nobody writes until
// shutdown, so a stage that always finds data still stops promptly.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ringwire/pipeline/handle.hpp"
#include "ringwire/spsc.hpp"

namespace ringwire::pipeline::detail {

// The next message, or why there is none (closed, cancelled).
template <class T>
recv_result<T> pull(spsc::receiver<T>& rx, const std::stop_token& stop) {
  if (stop.stop_requested()) return recv_result<T>(status::cancelled);
  if (recv_result<T> r = rx.try_recv(); r.status() != status::empty) return r;
  return rx.recv(stop);
}

// Sends v, waiting for room; false when the receiver is gone or the stop was requested.
template <class T>
bool push(spsc::sender<T>& tx, std::type_identity_t<T>&& v, const std::stop_token& stop) {
  const status s = tx.try_send(std::move(v));  // leaves v untouched unless ok
  if (s != status::full) return s == status::ok;
  return tx.send(std::move(v), stop) == status::ok;
}

inline ending end_of(status why) noexcept { return why == status::closed ? ending::drained : ending::cancelled; }

// then(fn), and every branch of a fan_out: one output per input.
template <class In, class Out, class Fn>
struct map_stage {
  spsc::receiver<In> rx;
  spsc::sender<Out> tx;
  Fn fn;

  ending operator()(const std::stop_token& stop) {
    for (;;) {
      recv_result<In> r = pull(rx, stop);
      if (!r) return end_of(r.status());
      Out v = std::invoke(fn, std::move(*r));
      if (!push(tx, std::move(v), stop)) return ending::cancelled;
    }
  }
};

// filter(pred): passes on the messages pred accepts, in order.
template <class T, class Pred>
struct filter_stage {
  spsc::receiver<T> rx;
  spsc::sender<T> tx;
  Pred pred;

  ending operator()(const std::stop_token& stop) {
    for (;;) {
      recv_result<T> r = pull(rx, stop);
      if (!r) return end_of(r.status());
      if (!static_cast<bool>(std::invoke(pred, std::as_const(*r)))) continue;
      if (!push(tx, std::move(*r), stop)) return ending::cancelled;
    }
  }
};

// The head of a fan_out: every message to every branch, in branch order (a copy to each
// but the last, which gets the original). One SPSC link per branch, so any copyable T
// works and a slow branch holds the others back by at most its link's capacity.
template <class T, std::size_t N>
struct fan_out_stage {
  spsc::receiver<T> rx;
  std::array<spsc::sender<T>, N> tx;

  ending operator()(const std::stop_token& stop) {
    for (;;) {
      recv_result<T> r = pull(rx, stop);
      if (!r) return end_of(r.status());
      for (std::size_t i = 0; i + 1 < N; ++i) {
        T copy(std::as_const(*r));
        if (!push(tx[i], std::move(copy), stop)) return ending::cancelled;
      }
      if (!push(tx[N - 1], std::move(*r), stop)) return ending::cancelled;
    }
  }
};

// The tail of a fan_out: takes the i-th output of every branch, in branch order, and
// combines them. Each branch emits exactly one output per input, so the i-th outputs
// belong to the i-th input: the join is deterministic, whatever the branches' speeds.
template <class Out, class Combine, class... Ins>
struct join_stage {
  std::tuple<spsc::receiver<Ins>...> rx;
  spsc::sender<Out> tx;
  Combine combine;

  ending operator()(const std::stop_token& stop) { return run(stop, std::index_sequence_for<Ins...>{}); }

 private:
  template <std::size_t... I>
  ending run(const std::stop_token& stop, std::index_sequence<I...>) {
    for (;;) {
      std::tuple<recv_result<Ins>...> got{pull(std::get<I>(rx), stop)...};  // braces: in branch order
      const std::size_t closed = (std::size_t{0} + ... + (std::get<I>(got).status() == status::closed));
      if (closed == sizeof...(Ins)) return ending::drained;  // every branch ended at the same message
      if ((... || !std::get<I>(got))) {
        // Branches out of step: only a stop (or a failing branch, which requests it) ends
        // one branch before the others.
        RINGWIRE_ASSERT(stop.stop_requested());
        return ending::cancelled;
      }
      Out v = std::invoke(combine, std::move(*std::get<I>(got))...);
      if (!push(tx, std::move(v), stop)) return ending::cancelled;
    }
  }
};

}  // namespace ringwire::pipeline::detail
