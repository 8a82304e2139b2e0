// ringwire/net/stats.hpp -- a bridge's counters.
//
// One bridge thread writes them (load + store, relaxed: a single writer needs no RMW) and
// any thread reads a snapshot. They can also be mirrored into a shared-memory segment's
// user counters (shm::segment::counter(i)), so `ringwire stat` and `ringwire export` show
// them from outside the process: the mirror is refreshed after every frame and when the
// bridge idles. The counter indices are fixed (counter_index below, docs/bridge.md).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "ringwire/net/frame.hpp"

namespace ringwire::net {

// The counters, by index (also their order in a segment's user counters).
enum class counter_index : std::uint32_t {
  messages,      // messages sent (outbound) / delivered to the local channel (inbound)
  bytes,         // payload bytes of those messages
  frames,        // ZeroMQ messages (batches) sent / accepted
  gaps,          // inbound: remote messages that never arrived (skipped locally); outbound:
                 // messages the local channel overwrote before the bridge read them (lossy)
  duplicates,    // inbound: records at or below the last delivered sequence, dropped
  restarts,      // inbound: new sender epochs; outbound (lossless): receiver sessions
  faults,        // inbound: frames refused by decode (all reasons; faults() has each)
  resent,        // outbound (lossless): frames sent again (new session, resend request);
                 // inbound (lossless): resend requests made for holes
  refused,       // inbound: records whose size the local channel cannot take (also skipped);
                 // outbound (lossless): credits of another receiver while a session lives
  credit_waits,  // outbound (lossless): times the receiver's window was full
  connections,   // ZeroMQ connections established, re-connections included (socket monitor)
  disconnections,  // ... and lost
  count_
};
inline constexpr std::uint32_t counter_count = static_cast<std::uint32_t>(counter_index::count_);

inline const char* to_string(counter_index c) noexcept {
  constexpr const char* names[] = {"messages", "bytes",  "frames",       "gaps",        "duplicates",
                                   "restarts", "faults", "resent",       "refused",     "credit_waits",
                                   "connections", "disconnections"};
  const auto i = static_cast<std::uint32_t>(c);
  return i < counter_count ? names[i] : "unknown";
}

struct bridge_snapshot {
  std::array<std::uint64_t, counter_count> values{};
  std::array<std::uint64_t, frame_fault_count> faults{};  // by frame_fault
  [[nodiscard]] std::uint64_t operator[](counter_index c) const noexcept {
    return values[static_cast<std::uint32_t>(c)];
  }
};

class bridge_stats {
 public:
  void add(counter_index c, std::uint64_t n = 1) noexcept { bump(values_[static_cast<std::uint32_t>(c)], n); }
  void fault(frame_fault f) noexcept {
    bump(faults_[static_cast<std::size_t>(f)], 1);
    add(counter_index::faults);
  }
  [[nodiscard]] bridge_snapshot snapshot() const noexcept {
    bridge_snapshot s;
    // relaxed (all): statistics; a snapshot is not a consistent cut across counters.
    for (std::uint32_t i = 0; i < counter_count; ++i) s.values[i] = values_[i].load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < frame_fault_count; ++i) s.faults[i] = faults_[i].load(std::memory_order_relaxed);
    return s;
  }
  // Mirrors every counter into out[0, counter_count) (a segment's user counters, from
  // `base`): null entries are skipped. Called by the bridge thread only.
  void mirror(std::atomic<std::uint64_t>* const* out, std::uint32_t n) const noexcept {
    for (std::uint32_t i = 0; i < n && i < counter_count; ++i) {
      // relaxed: statistics read by monitoring tools; nothing is published through them.
      if (out[i] != nullptr) out[i]->store(values_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
  }

 private:
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    // relaxed load + store: one writer (the bridge thread); readers only need a value.
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::array<std::atomic<std::uint64_t>, counter_count> values_{};
  std::array<std::atomic<std::uint64_t>, frame_fault_count> faults_{};
};

}  // namespace ringwire::net
