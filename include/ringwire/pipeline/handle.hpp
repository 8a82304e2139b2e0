// ringwire/pipeline/handle.hpp -- what a running pipeline is: its stage threads, the stop
// they share, and the record of how each one ended.
//
// Every stage thread gets the same std::stop_token. shutdown() requests it; a stage that
// throws records its exception and requests it too, so one failure stops the whole
// pipeline: stages parked in recv(stop) or send(v, stop) wake at once, and the stages
// that end close their links, which releases the caller's input sender and output
// receiver. Stage ends are counted under a mutex: they happen once per thread, and
// health() is an observer's call, so neither is a hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ringwire/placement/affinity.hpp"

namespace ringwire::pipeline {

// Where a pipeline stands.
enum class run_state : std::uint8_t {
  running,   // at least one stage thread has not ended (and none failed)
  finished,  // every stage ended because its input closed and drained: nothing was lost
  stopped,   // every stage ended, some of them by shutdown() or because the output
             // receiver went away: messages in flight at that moment were discarded
  failed,    // a stage threw; the pipeline stops (see health_report::error)
};

inline const char* to_string(run_state s) noexcept {
  switch (s) {
    case run_state::running: return "running";
    case run_state::finished: return "finished";
    case run_state::stopped: return "stopped";
    case run_state::failed: return "failed";
  }
  return "unknown";
}

inline constexpr std::size_t no_stage = static_cast<std::size_t>(-1);

// A snapshot of a pipeline's health. Stages are numbered from 0 in the order the builder
// added them (a fan_out is one copying stage followed by one stage per branch, then the
// join).
struct health_report {
  run_state state = run_state::finished;
  std::size_t stages = 0;           // stage threads the pipeline started
  std::size_t stages_running = 0;   // of those, not yet ended
  bool stop_requested = false;      // shutdown() was called, or a stage failed
  std::size_t failed_stage = no_stage;  // the first stage that threw
  std::string failed_stage_name;
  std::exception_ptr error;         // what it threw (the first failure only)
  std::string what;                 // error's what(), or a note when it is no std::exception

  [[nodiscard]] bool failed() const noexcept { return state == run_state::failed; }
};

namespace detail {

// How a stage's loop ended.
enum class ending : std::uint8_t {
  drained,    // its input closed and every message was passed on
  cancelled,  // the stop was requested, or its output receiver went away
};

class shared_state {
 public:
  std::stop_source stop;
  // Touched only by the thread that builds the pipeline and then by the handle's owner:
  // stage threads keep copies of their own name and index.
  std::vector<std::jthread> threads;
  std::vector<std::string> names;

  void started() {
    std::lock_guard lock(m_);
    ++running_;
  }
  void ended(ending e) {
    std::lock_guard lock(m_);
    --running_;
    if (e == ending::cancelled) ++cancelled_;
  }
  // Records the first failure, then stops every stage. Called before the failing stage
  // closes its links, so whoever sees those links close already sees the failure.
  void fail(std::size_t stage, const std::string& name, std::exception_ptr e) {
    {
      std::lock_guard lock(m_);
      if (!failure_) failure_.emplace(stage, name, e, describe(e));
    }
    stop.request_stop();
  }

  [[nodiscard]] health_report report() const {
    health_report h;
    h.stages = names.size();
    h.stop_requested = stop.stop_requested();
    std::lock_guard lock(m_);
    h.stages_running = running_;
    if (failure_) {
      h.state = run_state::failed;
      h.failed_stage = failure_->stage;
      h.failed_stage_name = failure_->name;
      h.error = failure_->error;
      h.what = failure_->what;
    } else if (running_ != 0) {
      h.state = run_state::running;
    } else {
      h.state = cancelled_ != 0 ? run_state::stopped : run_state::finished;
    }
    return h;
  }

 private:
  struct failure {
    failure(std::size_t s, std::string n, std::exception_ptr e, std::string w)
        : stage(s), name(std::move(n)), error(std::move(e)), what(std::move(w)) {}
    std::size_t stage;
    std::string name;
    std::exception_ptr error;
    std::string what;
  };

  static std::string describe(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    } catch (...) {
      return "an exception not derived from std::exception";
    }
  }

  mutable std::mutex m_;
  std::size_t running_ = 0;
  std::size_t cancelled_ = 0;
  std::optional<failure> failure_;
};

// Runs one stage on its own thread. The body owns the stage's endpoints and function; it
// is destroyed (closing its links) after a failure is recorded and before the end is
// counted, so a report that says every stage ended also means every link is closed.
// cpu >= 0: a CPU that does not exist throws invalid_cpu before the thread exists; one the
// kernel refuses throws it from here too, the thread having started (its own pin fails and
// is recorded: the caller's build() shuts it down). The thread pins itself before running
// the body, so the body never runs elsewhere.
template <class Body>
void start_stage(shared_state& s, std::string name, Body body, int cpu = -1) {
  if (cpu >= 0) ringwire::detail::check_cpu(cpu);
  const std::size_t index = s.names.size();
  s.names.push_back(name);
  s.started();
  try {
    s.threads.emplace_back([st = &s, index, cpu, name = std::move(name), body = std::optional<Body>(std::move(body))]() mutable {
      const std::stop_token stop = st->stop.get_token();
      ending e = ending::cancelled;
      try {
        if (cpu >= 0) pin_current_thread(cpu);
        e = (*body)(stop);
      } catch (...) {
        st->fail(index, name, std::current_exception());
      }
      body.reset();
      st->ended(e);
    });
  } catch (...) {
    s.ended(ending::cancelled);  // the thread never started
    throw;
  }
  if (cpu >= 0) pin(s.threads.back(), cpu);  // the kernel's verdict, at build time (the thread pins itself too)
}

}  // namespace detail

// Owns a built pipeline's stage threads. Move-only. shutdown() and health() may be called
// from any thread; join() and rethrow_if_failed() from the owner. The destructor shuts the
// pipeline down and joins it: to lose nothing, close the input sender and join() first.
class handle {
 public:
  handle() noexcept = default;
  explicit handle(std::unique_ptr<detail::shared_state> s) noexcept : state_(std::move(s)) {}
  handle(handle&&) noexcept = default;
  handle& operator=(handle&& o) noexcept {
    if (this != &o) {
      shutdown();
      join();  // noexcept here: a stage never owns its own pipeline, so join cannot throw
      state_ = std::move(o.state_);
    }
    return *this;
  }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() {
    shutdown();
    join();
  }

  // Asks every stage to stop now, whether or not the input is closed. Stages parked on an
  // empty or full link wake; messages in flight are discarded (destroyed, never leaked).
  // Does not wait: join() does. Idempotent.
  void shutdown() noexcept {
    if (state_) state_->stop.request_stop();
  }

  // Waits until every stage thread has ended. After close() on the input sender, that is
  // when everything was pushed into the output link (which the caller must keep reading
  // if it can fill up). Must not be called from a stage. Idempotent.
  void join() {
    if (!state_) return;
    for (auto& t : state_->threads)
      if (t.joinable()) t.join();
  }

  // A snapshot; a moved-from handle reports a finished pipeline of no stages.
  [[nodiscard]] health_report health() const { return state_ ? state_->report() : health_report{}; }

  // Rethrows the exception of the first stage that failed, if any.
  void rethrow_if_failed() const {
    if (!state_) return;
    if (const health_report h = state_->report(); h.error) std::rethrow_exception(h.error);
  }

  // The name of every stage, by index.
  [[nodiscard]] std::vector<std::string> stage_names() const { return state_ ? state_->names : std::vector<std::string>{}; }

 private:
  std::unique_ptr<detail::shared_state> state_;
};

}  // namespace ringwire::pipeline
