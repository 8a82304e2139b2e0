// ringwire/byte_broadcast.hpp -- one writer that never waits, many readers, variable-length
// messages with per-message metadata: a lossy broadcast byte ring after Firedancer's tango
// (a metadata ring + a payload region, sequence-validated reads, optional credits).
//
// TL;DR
//   #include <ringwire/byte_broadcast.hpp>
//   namespace bb = ringwire::byte_broadcast;
//   auto [w, r] = bb::channel({.depth = 4096, .region_bytes = 1 << 22, .max_message = 64 << 10});
//   std::jthread t([r]() mutable {                        // readers are copyable
//     std::vector<std::byte> buf(r.shape().max_message);
//     for (;;) {
//       bb::read_result m = r.read(buf);                 // spins, then sleeps on a futex (park)
//       if (m) handle(m.info().signature, std::span(buf).first(m.info().size));
//       else if (m.status() == ringwire::status::closed) break;
//       else note_gap(m.missed());                        // lagged: the exact count
//     }
//   });
//   w.write(/*signature=*/42, std::as_bytes(std::span(bytes)));     // lossy: never waits
//   w.close();
//
// The protocol, the byte map and the memory-model argument are in byte_broadcast/layout.hpp;
// the writer's steps and the credits in writer.hpp; the read and its outcomes in reader.hpp.
// What "lossy" means here: a reader that falls behind loses messages, and learns exactly
// how many (a status::lagged result's missed(), reader::missed()); it never receives a
// torn or overwritten message, never a truncated one, and is never stuck. received() + missed() + filtered()
// == the messages published from its start to the last one it consumed.
//
// Waiting. A blocking read spins, then follows its wait strategy; with park() (the
// default of readers and writer, as of every ringwire endpoint; set_wait() picks another)
// it sleeps on a futex ("bell") in the ring until the writer publishes or closes, the deadline passes
// or its stop token fires (status::cancelled). The writer pays for that only when a
// reader is actually parked: per publish it takes wait.hpp's light fence (a compiler
// barrier with membarrier) and loads the `parked` count; non-zero, it bumps the bell and
// wakes every sleeper (layout.hpp "Parking"). With credits, a writer blocked in write()
// parks too, and credited readers wake it as their cursors move (wait.hpp's notify).
//
// Counters. channel(g, {.metrics = true}) makes endpoints that count their slow-path events
// in the ring (credit waits, parks, bell rings; a credited reader's received and parks:
// byte_broadcast/stats.hpp); make_monitor() on any endpoint reads them with the head:
//   bb::stats s = w.make_monitor().snapshot();   // s.published, s.max_lag(), s.credit_waits ...
//
// Memory. channel() allocates one reference-counted heap block (writer and every reader
// copy keep it alive). For shared memory: format() a ring into memory of footprint() bytes
// (128-byte aligned), attach_writer() in the writing process and attach_reader() in each
// reading one (validates the header against the mapping size; a lossy reader only loads,
// so its mapping may be read-only once its mark_read_only() stops it parking). Those
// endpoints borrow the memory: it must outlive them. Endpoints in different processes pass fence_scope::cross_process
// (real fences on both sides of the park protocol, process-shared futexes).
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "ringwire/byte_broadcast/layout.hpp"
#include "ringwire/byte_broadcast/credited_reader.hpp"
#include "ringwire/byte_broadcast/reader.hpp"
#include "ringwire/byte_broadcast/stats.hpp"
#include "ringwire/byte_broadcast/writer.hpp"
#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/detail/heap_block.hpp"

namespace ringwire::byte_broadcast {

namespace detail {

template <class Sync>
using heap_block = ringwire::detail::heap_block<layout<Sync>, Sync, layout<Sync>::align()>;

}  // namespace detail

// A heap ring (geometry validated: error(invalid_options) names the bad field). Returns the
// writer and a reader starting at the first message, both made with `opt`.
template <class Sync = std_sync>
std::pair<writer<Sync>, reader<Sync>> channel(const geometry& g, const options& opt = {}) {
  Sync::prepare();  // registers membarrier once per process (the light/heavy fence pair)
  layout<Sync>* l = nullptr;
  auto* self = detail::heap_block<Sync>::create(layout<Sync>::footprint(g), g.depth, /*refs=*/2,
                                                [&](void* at) { l = layout<Sync>::format(at, g); }, opt.memory);
  return {writer<Sync>(detail::ring_ref<Sync>(l, &self->own), fence_scope::process, opt),
          reader<Sync>(detail::ring_ref<Sync>(l, &self->own), g, start_at::next, fence_scope::process, opt)};
}

// Formats caller memory (`bytes` >= footprint(g), 128-byte aligned, e.g. a shared mapping).
template <class Sync = std_sync>
layout<Sync>* format(void* mem, std::size_t bytes, const geometry& g) {
  const std::size_t need = layout<Sync>::footprint(g);
  if (bytes < need)
    throw error(errc::invalid_capacity, "the ring needs " + std::to_string(need) + " bytes, not " + std::to_string(bytes));
  if (reinterpret_cast<std::uintptr_t>(mem) % layout<Sync>::align() != 0)
    throw error(errc::invalid_options, "ring memory must be 128-byte aligned");
  return layout<Sync>::format(mem, g);
}

// The writing end over formatted caller memory (validated first; error(ring_corrupt)).
// Exactly one writer may exist per ring; it borrows the memory. scope: cross_process when
// readers may be in other processes.
template <class Sync = std_sync>
writer<Sync> attach_writer(void* mem, std::size_t bytes, fence_scope scope = fence_scope::process,
                           const options& opt = {}) {
  layout<Sync>::validate(mem, bytes);
  Sync::prepare();
  return writer<Sync>(detail::ring_ref<Sync>(static_cast<layout<Sync>*>(mem), nullptr), scope, opt);
}

// A reader over caller memory that may be hostile: the header is validated against `bytes`
// (error(ring_corrupt)), and every later read is bounds-checked against that geometry.
// scope: cross_process when the writer may be in another process.
template <class Sync = std_sync>
reader<Sync> attach_reader(const void* mem, std::size_t bytes, start_at from = start_at::next,
                           fence_scope scope = fence_scope::process, const options& opt = {}) {
  const geometry g = layout<Sync>::validate(mem, bytes);
  Sync::prepare();
  // const_cast: a lossy reader only loads (a parking one also flags `parked`); the type is non-const for the shared endpoint code.
  auto* l = static_cast<layout<Sync>*>(const_cast<void*>(mem));
  return reader<Sync>(detail::ring_ref<Sync>(l, nullptr), g, from, scope, opt);
}

}  // namespace ringwire::byte_broadcast
