// ringwire/pipeline.hpp -- stages on their own threads, joined by lossless channels.
//
// TL;DR
//   #include <ringwire/pipeline.hpp>
//   namespace rp = ringwire::pipeline;
//   auto [in, out, pipe] = rp::source<std::string>(/*link capacity=*/256)
//       .then(rp::named("parse", parse))                  // std::string -> order
//       .fan_out(price_check, risk_check)                 // order -> price, order -> risk
//       .join([](price p, risk r) { return decide(p, r); })  // -> decision
//       .filter([](const decision& d) { return d.accepted; })
//       .build();
//   std::jthread feed([in = std::move(in)]() mutable {
//     for (auto& line : lines) if (in.send(std::move(line)) != ringwire::status::ok) break;
//   });                                   // ~sender closes the input: the pipeline drains
//   while (auto d = out.recv()) execute(*d);  // ends with closed once everything is through
//   pipe.join();
//   pipe.rethrow_if_failed();             // a stage's exception, if one threw
//
// Shape. source<T>(capacity) starts a builder whose element type is T. Each call adds a
// stage and may change the type, checked at compile time:
//   then(fn)              T -> fn(T&&)'s result (decayed); one output per input
//   filter(pred)          T -> T; passes on what pred(const T&) accepts, in order
//   fan_out(f1, ..., fn)  opens n >= 2 parallel branches; branch i computes fi(T&&) on its
//                         own copy of every message (T must be copyable)
//   join(combine)         closes them: combine(r1&&, ..., rn&&) of the i-th output of every
//                         branch -> its result type
// build() starts one std::jthread per stage (a fan_out adds a copying stage, one per branch
// and the join) and returns {in, out, pipe}: the spsc::sender of the first link, the
// spsc::receiver of the last one, and the handle that owns the threads. Any stage function
// may be wrapped in named("name", fn) so health() names it.
//
// Links are ringwire::spsc channels of the capacity given to source() (options too), so a
// stage moves any movable T, waits by the link's wait strategy (parking by default), and
// never drops a message: a full link holds its sender back, all the way to the caller's
// input. A fan_out gives each branch its own SPSC link, and each branch emits exactly one
// output per input, so the join is deterministic: it combines the i-th outputs, in branch
// order. A branch that wants to drop a message returns a marker instead (std::optional<U>,
// nullopt for dropped), and the join decides; a filter after the join then removes it.
//
// Ending.
//   close the input     (in.close() or destroy it) each stage drains its input, passes
//                       everything on and ends; out then reports closed after the last
//                       message; health() says finished.
//   pipe.shutdown()     stops now, input closed or not: stages parked on an empty or a full
//                       link wake (stop_token), messages in flight are destroyed; the
//                       caller's in.send reports closed, out drains what reached it and
//                       reports closed; health() says stopped.
//   a stage throws      the exception is recorded with the stage's index and name, then the
//                       pipeline shuts down as above; health() says failed, error and what()
//                       hold it, rethrow_if_failed() throws it. Never swallowed.
//   ~handle             shuts down and joins.
//
// Errors. A capacity of zero throws ringwire::error(errc::invalid_capacity). A stage
// function of the wrong shape is a compile error that says which call and why (see the
// concepts below, usable in a program's own checks).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ringwire/error.hpp"
#include "ringwire/pipeline/handle.hpp"
#include "ringwire/pipeline/stages.hpp"
#include "ringwire/spsc.hpp"

namespace ringwire::pipeline {

// A stage function with a name for health reports: then(named("parse", parse)), and
// optionally the CPU its thread runs on: then(named("parse", parse).on_cpu(2)). The CPU is
// checked when build() starts the stage (ringwire::error(invalid_cpu): it does not exist or
// this process may not run there; the stages already started are shut down and joined) and
// the thread pins itself to it before its first message (placement/affinity.hpp).
template <class Fn>
struct named_fn {
  std::string name;
  Fn fn;
  int cpu = -1;  // -1: wherever the scheduler puts it

  named_fn on_cpu(int c) && {
    cpu = c;
    return std::move(*this);
  }
};
template <class Fn>
named_fn<std::decay_t<Fn>> named(std::string name, Fn&& fn) {
  return {std::move(name), std::forward<Fn>(fn)};
}

namespace detail {

template <class F>
struct unwrap {
  using type = F;
};
template <class F>
struct unwrap<named_fn<F>> {
  using type = F;
};
// The callable inside a possibly named() stage argument (decayed: a function becomes a
// function pointer, as a stage stores it).
template <class F>
using callable_t = typename unwrap<std::decay_t<F>>::type;

template <class F>
callable_t<F> take_fn(F&& f) {
  if constexpr (std::is_same_v<callable_t<F>, std::decay_t<F>>) {
    return std::forward<F>(f);
  } else {
    return std::forward<F>(f).fn;
  }
}
// The CPU a possibly named() stage argument asks for; -1: none.
template <class F>
int cpu_of(const F& f) {
  if constexpr (!std::is_same_v<callable_t<F>, std::decay_t<F>>) {
    return f.cpu;
  } else {
    return -1;
  }
}
template <class F>
std::string name_of(const F& f, std::string fallback) {
  if constexpr (!std::is_same_v<callable_t<F>, std::decay_t<F>>) {
    if (!f.name.empty()) return f.name;
  }
  return fallback;
}

// fn(args...)'s decayed result, or void when fn cannot be called so (so a failed check
// reports one static_assert, not a cascade).
template <class Fn, class... Args>
using result_t = std::remove_cvref_t<typename std::conditional_t<std::is_invocable_v<Fn&, Args&&...>,
                                                                 std::invoke_result<Fn&, Args&&...>,
                                                                 std::type_identity<void>>::type>;

template <class T>
inline constexpr bool channel_element = std::is_object_v<T> && !std::is_const_v<T> &&
                                        std::is_move_constructible_v<T> && std::is_nothrow_destructible_v<T>;

template <class>
inline constexpr bool always_false = false;

// What build() hands a stage chain: the pipeline being built and the links' settings.
struct context {
  shared_state& state;
  std::size_t capacity;
  spsc::options link_options;

  template <class U>
  std::pair<spsc::sender<U>, spsc::receiver<U>> link() const {
    return spsc::channel<U>(capacity, link_options);
  }
};

// The chain of a fresh builder: no stage yet, the input link's receiver is the output.
template <class T>
struct no_stage_yet {
  spsc::receiver<T> operator()(context&, spsc::receiver<T> rx) const { return rx; }
};

}  // namespace detail

// A stage function for then(fn) or a fan_out branch on elements T: callable with T&&,
// returning something that can travel through a channel.
template <class Fn, class T>
concept stage_fn = std::is_invocable_v<Fn&, T&&> && detail::channel_element<detail::result_t<Fn, T>>;
// A filter predicate on T.
template <class Pred, class T>
concept filter_fn = std::predicate<Pred&, const T&>;
// A join's combine function for branch results Rs...
template <class Combine, class... Rs>
concept join_fn = std::is_invocable_v<Combine&, Rs&&...> && detail::channel_element<detail::result_t<Combine, Rs...>>;

// What build() returns. Members are destroyed in reverse order: the handle first (shut
// down and joined), then the output receiver and the input sender.
template <class In, class Out>
struct built {
  spsc::sender<In> in;
  spsc::receiver<Out> out;
  handle pipe;
};

template <class In, class T, class Chain, class... Branches>
class fanned;

// A pipeline under construction: elements enter as In and currently flow as T. Chain is
// what build() runs: (context&, receiver<In>) -> receiver<T>, starting every stage so far.
// Each call consumes the builder (call them in one expression, or std::move it).
template <class In, class T, class Chain>
class builder {
 public:
  builder(std::size_t capacity, const spsc::options& opt, Chain chain)
      : capacity_(capacity), options_(opt), chain_(std::move(chain)) {}

  template <class Fn>
  auto then(Fn&& fn) && {
    using F = detail::callable_t<Fn>;
    static_assert(std::is_invocable_v<F&, T&&>,
                  "pipeline then(fn): fn cannot be called with this stage's element type as T&& "
                  "(take it by value, by T&& or by const T&)");
    static_assert(!std::is_invocable_v<F&, T&&> || !std::is_void_v<detail::result_t<F, T>>,
                  "pipeline then(fn): fn returns void; a stage must return the element it passes on");
    static_assert(std::is_void_v<detail::result_t<F, T>> || detail::channel_element<detail::result_t<F, T>>,
                  "pipeline then(fn): fn's result must be movable with a non-throwing destructor to travel "
                  "through a channel");
    if constexpr (stage_fn<F, T>) {
      using R = detail::result_t<F, T>;
      std::string name = detail::name_of(fn, "then");  // before fn is moved into the chain
      return append<R>(std::move(name), detail::cpu_of(fn), [f = detail::take_fn(std::forward<Fn>(fn))](spsc::receiver<T> rx,
                                                                                    spsc::sender<R> tx) mutable {
        return detail::map_stage<T, R, F>{std::move(rx), std::move(tx), std::move(f)};
      });
    }
  }

  template <class Pred>
  auto filter(Pred&& pred) && {
    using P = detail::callable_t<Pred>;
    static_assert(filter_fn<P, T>,
                  "pipeline filter(pred): pred must be callable with const T& of this stage's element type "
                  "and return something convertible to bool");
    if constexpr (filter_fn<P, T>) {
      std::string name = detail::name_of(pred, "filter");  // before pred is moved into the chain
      return append<T>(std::move(name), detail::cpu_of(pred), [p = detail::take_fn(std::forward<Pred>(pred))](spsc::receiver<T> rx,
                                                                                       spsc::sender<T> tx) mutable {
        return detail::filter_stage<T, P>{std::move(rx), std::move(tx), std::move(p)};
      });
    }
  }

  template <class... Fns>
  auto fan_out(Fns&&... branches) && {
    static_assert(sizeof...(Fns) >= 2, "pipeline fan_out(...): give at least two branches (one is then(fn))");
    static_assert(std::is_copy_constructible_v<T>,
                  "pipeline fan_out(...): every branch gets its own copy of each message, so the element "
                  "type must be copy-constructible (move-only types can flow through then and filter)");
    static_assert((std::is_invocable_v<detail::callable_t<Fns>&, T&&> && ...),
                  "pipeline fan_out(...): a branch cannot be called with this stage's element type as T&&");
    static_assert(((!std::is_invocable_v<detail::callable_t<Fns>&, T&&> ||
                    stage_fn<detail::callable_t<Fns>, T>) && ...),
                  "pipeline fan_out(...): a branch returns void or a type that cannot travel through a "
                  "channel (movable, non-throwing destructor); return a marker (std::optional) to drop");
    return fanned<In, T, Chain, std::decay_t<Fns>...>(capacity_, options_, std::move(chain_),
                                                       std::forward<Fns>(branches)...);
  }

  // Starts every stage. Throws ringwire::error if a link cannot be allocated, or
  // std::system_error if a thread cannot start; the stages already started are then shut
  // down and joined before the exception leaves.
  built<In, T> build() && {
    auto owned = std::make_unique<detail::shared_state>();
    detail::context ctx{*owned, capacity_, options_};
    handle pipe(std::move(owned));  // from here on, a throw shuts down and joins what started
    auto [tx, rx] = ctx.link<In>();
    spsc::receiver<T> out = std::move(chain_)(ctx, std::move(rx));
    return {std::move(tx), std::move(out), std::move(pipe)};
  }

 private:
  // This builder's chain followed by one stage with output type R: make(rx, tx) returns the
  // stage's body, given its input receiver and output sender.
  template <class R, class MakeStage>
  auto append(std::string name, int cpu, MakeStage make) {
    auto next = [prev = std::move(chain_), name = std::move(name), cpu, make = std::move(make)](
                    detail::context& ctx, spsc::receiver<In> rx) mutable {
      spsc::receiver<T> mid = std::move(prev)(ctx, std::move(rx));
      auto [tx, out] = ctx.link<R>();
      detail::start_stage(ctx.state, std::move(name), std::move(make)(std::move(mid), std::move(tx)), cpu);
      return std::move(out);
    };
    return builder<In, R, decltype(next)>(capacity_, options_, std::move(next));
  }

  std::size_t capacity_;
  spsc::options options_;
  Chain chain_;
};

// A builder with parallel branches open: join(combine) is the only way on.
template <class In, class T, class Chain, class... Branches>
class fanned {
 public:
  template <class... Fns>
  fanned(std::size_t capacity, const spsc::options& opt, Chain chain, Fns&&... branches)
      : capacity_(capacity), options_(opt), chain_(std::move(chain)), branches_(std::forward<Fns>(branches)...) {}

  template <class Combine>
  auto join(Combine&& combine) && {
    using C = detail::callable_t<Combine>;
    static_assert(std::is_invocable_v<C&, detail::result_t<detail::callable_t<Branches>, T>&&...>,
                  "pipeline join(combine): combine must take the branches' results in branch order "
                  "(one parameter per branch, each by value, && or const&)");
    static_assert(!std::is_invocable_v<C&, detail::result_t<detail::callable_t<Branches>, T>&&...> ||
                      join_fn<C, detail::result_t<detail::callable_t<Branches>, T>...>,
                  "pipeline join(combine): combine returns void or a type that cannot travel through a "
                  "channel (movable, non-throwing destructor)");
    if constexpr (join_fn<C, detail::result_t<detail::callable_t<Branches>, T>...>) {
      using R = detail::result_t<C, detail::result_t<detail::callable_t<Branches>, T>...>;
      std::string name = detail::name_of(combine, "join");  // before combine is moved into the chain
      const int cpu = detail::cpu_of(combine);
      auto next = [prev = std::move(chain_), branches = std::move(branches_), name = std::move(name), cpu,
                   c = detail::take_fn(std::forward<Combine>(combine))](detail::context& ctx, spsc::receiver<In> rx) mutable {
        spsc::receiver<T> mid = std::move(prev)(ctx, std::move(rx));
        return diamond<R, C>(ctx, std::move(mid), std::move(branches), std::move(c), std::move(name), cpu,
                             std::index_sequence_for<Branches...>{});
      };
      return builder<In, R, decltype(next)>(capacity_, options_, std::move(next));
    }
  }

  // Not a way on: says so at compile time (declared to return what a build would, so the
  // static_assert is the only error).
  template <class = void>
  built<In, T> build() && {
    static_assert(detail::always_false<T>,
                  "pipeline: fan_out(...) opened parallel branches; close them with join(combine) before build()");
    return {};
  }

 private:
  // Starts the copying stage, one stage per branch and the join; returns the join's output.
  template <class R, class C, std::size_t... I>
  static spsc::receiver<R> diamond(detail::context& ctx, spsc::receiver<T> mid, std::tuple<Branches...> branches,
                                   C combine, std::string join_name, int join_cpu, std::index_sequence<I...>) {
    constexpr std::size_t n = sizeof...(Branches);
    std::array<spsc::sender<T>, n> to_branch;
    std::array<spsc::receiver<T>, n> branch_in;
    for (std::size_t i = 0; i < n; ++i) std::tie(to_branch[i], branch_in[i]) = ctx.link<T>();
    detail::start_stage(ctx.state, "fan_out", detail::fan_out_stage<T, n>{std::move(mid), std::move(to_branch)});

    std::tuple<spsc::receiver<detail::result_t<detail::callable_t<Branches>, T>>...> branch_out;
    (start_branch<I>(ctx, std::get<I>(branches), branch_in[I], std::get<I>(branch_out)), ...);

    auto [tx, out] = ctx.link<R>();
    detail::start_stage(ctx.state, std::move(join_name),
                        detail::join_stage<R, C, detail::result_t<detail::callable_t<Branches>, T>...>{
                            std::move(branch_out), std::move(tx), std::move(combine)},
                        join_cpu);
    return std::move(out);
  }

  template <std::size_t I, class B, class U>
  static void start_branch(detail::context& ctx, B& branch, spsc::receiver<T>& in, spsc::receiver<U>& out) {
    using F = detail::callable_t<B>;
    std::string fallback = "branch ";
    fallback += std::to_string(I);  // not "branch " + to_string(I): a false -Wrestrict in g++ 12
    std::string name = detail::name_of(branch, std::move(fallback));
    const int cpu = detail::cpu_of(branch);
    auto [tx, rx] = ctx.link<U>();
    detail::start_stage(ctx.state, std::move(name), detail::map_stage<T, U, F>{std::move(in), std::move(tx),
                                                                                 detail::take_fn(std::move(branch))},
                        cpu);
    out = std::move(rx);
  }

  std::size_t capacity_;
  spsc::options options_;
  Chain chain_;
  std::tuple<Branches...> branches_;
};

// Starts a pipeline whose input elements are T, every link holding at most `capacity`
// messages (any value >= 1) and made with `opt` (wait strategies, metrics). Throws
// ringwire::error(errc::invalid_capacity) for a capacity of zero.
template <class T>
builder<T, T, detail::no_stage_yet<T>> source(std::size_t capacity, const spsc::options& opt = {}) {
  static_assert(detail::channel_element<T>,
                "pipeline source<T>: T must be a non-const object type, movable, with a non-throwing destructor");
  if (capacity == 0) throw error(errc::invalid_capacity, "pipeline links need a capacity of at least 1");
  return builder<T, T, detail::no_stage_yet<T>>(capacity, opt, {});
}

}  // namespace ringwire::pipeline
