// ringwire/byte_ring.hpp -- lossless rings of variable-length typed records (Agrona-style):
// one-to-one and many-to-one, on the heap or in any memory (a shared-memory segment).
//
// TL;DR
//   #include <ringwire/byte_ring.hpp>
//   auto [tx, rx] = ringwire::byte_ring::one_to_one(1 << 20);   // 1 MiB of records
//   tx.try_write(/*type=*/7, std::as_bytes(std::span(text)));  // copy in, or zero-copy:
//   if (auto c = tx.try_reserve(64)) { fill(c.bytes()); tx.commit(7, used); }
//   rx.read_batch(64, [](std::int32_t type, std::span<const std::byte> p) { handle(type, p); });
//   ringwire::byte_ring::record_view r;                       // or one at a time:
//   while (rx.read(r) == ringwire::status::ok) { handle(r.type, r.payload); }
//
//   auto [w, rx2] = ringwire::byte_ring::many_to_one(1 << 20); // copy `w` per writing thread
//
// Three layers like the typed channels:
//   layout    (byte_ring/layout.hpp)   the byte map, record format and protocol; pointer-free;
//                                      footprint / format / attach for foreign memory
//   storage   (byte_ring/storage.hpp)  a heap block, or borrowed memory (ring_ref(l, nullptr))
//   endpoints (byte_ring/writer.hpp one-to-one, shared_writer.hpp many-to-one, write_ops.hpp
//   what both share; byte_ring/reader.hpp)
//             writer (one-to-one, move-only), shared_writer (many-to-one, copyable), reader
//
// Records: type id >= 1, payload 0 .. max_payload() = capacity/2 - 8 bytes; a larger payload
// throws errc::message_too_large (never truncated), a type < 1 errc::invalid_message_type.
//
// Larger messages, optionally: tx.write_fragmented(type, bytes, stream) splits one longer
// than max_fragment() = max_payload() - 24 into fragment records (type -2, layout.hpp) and a
// byte_ring::reassembler (byte_ring/fragment.hpp) joins them on the reading side:
//   ringwire::byte_ring::reassembler re(/*max_message=*/64 << 20, /*max_streams=*/4);
//   while (re.read(rx, [](std::int32_t type, std::span<const std::byte> msg) { handle(type, msg); })
//          == ringwire::status::ok) {}
// A reader that does not reassemble sees the fragment records themselves.
//
// Counters: with options::metrics the endpoints count their slow-path events in the ring
// (full / empty events, parks, wakes: byte_ring/stats.hpp); make_monitor() on any endpoint
// (or shm::byte_ring::make_monitor on a segment) reads them with the indices:
//   ringwire::byte_ring::stats s = tx.make_monitor().snapshot();   // s.used_bytes(), s.full_events ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "ringwire/byte_ring/endpoint.hpp"
#include "ringwire/byte_ring/fragment.hpp"
#include "ringwire/byte_ring/layout.hpp"
#include "ringwire/byte_ring/reader.hpp"
#include "ringwire/byte_ring/stats.hpp"
#include "ringwire/byte_ring/storage.hpp"
#include "ringwire/byte_ring/writer.hpp"

namespace ringwire::byte_ring {

// A heap ring of `capacity` data bytes (a power of two, 64 .. 2^30) with its single writer
// and its reader. Throws ringwire::error (invalid_capacity, capacity_too_large).
template <class Sync = std_sync>
std::pair<writer<Sync>, reader<Sync>> one_to_one(std::size_t capacity, const options& opt = {}) {
  Sync::prepare();
  auto* block = detail::make_heap_block<Sync>(capacity, ring_kind::one_to_one, /*refs=*/2, opt.memory);
  auto* l = block->ring();
  return {writer<Sync>(ring_ref<Sync>(l, &block->own), opt), reader<Sync>(ring_ref<Sync>(l, &block->own), opt)};
}

// A heap many-to-one ring: one shared_writer (copy it for every further writing thread) and
// the reader. The reader sees closed when every copy is gone and the ring is drained.
template <class Sync = std_sync>
std::pair<shared_writer<Sync>, reader<Sync>> many_to_one(std::size_t capacity, const options& opt = {}) {
  Sync::prepare();
  auto* block = detail::make_heap_block<Sync>(capacity, ring_kind::many_to_one, /*refs=*/2, opt.memory);
  auto* l = block->ring();
  return {shared_writer<Sync>(ring_ref<Sync>(l, &block->own), opt), reader<Sync>(ring_ref<Sync>(l, &block->own), opt)};
}

}  // namespace ringwire::byte_ring
