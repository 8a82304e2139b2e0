// ringwire/channel_kinds.hpp -- the channel kinds this build can put in shared memory: the
// list of channel contracts (shm/contract.hpp), for code that meets a segment whose kind it
// does not know in advance (tools, the census's readers) and must find its contract by
// number.
//
// shm/ itself never needs the list: a spec carries its kind's contract. A new kind adds
// its contract header and one entry below; no file under shm/ changes.
#pragma once

#include <string_view>

#include "ringwire/broadcast/shm_contract.hpp"
#include "ringwire/byte_broadcast/shm_contract.hpp"
#include "ringwire/byte_ring/shm_contract.hpp"
#include "ringwire/mpsc/shm_contract.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/segment.hpp"
#include "ringwire/spsc/shm_contract.hpp"

namespace ringwire::shm {

inline constexpr const channel_contract* channel_kinds[] = {
    &ringwire::spsc::shm_kind,      &ringwire::mpsc::shm_kind,           &ringwire::broadcast::shm_kind,
    &ringwire::byte_ring::shm_kind, &ringwire::byte_broadcast::shm_kind,
};

// The contract of kind k, or null when this build has none.
constexpr const channel_contract* find_contract(channel_kind k) noexcept {
  for (const channel_contract* c : channel_kinds)
    if (c->kind == k) return c;
  return nullptr;
}

// The kind's name ("spsc", "byte_ring" ...), or "unknown".
inline const char* to_string(channel_kind k) noexcept {
  const channel_contract* c = find_contract(k);
  return c != nullptr ? c->name : "unknown";
}

// Opens the named segment read-only, whatever kind it holds, to look at it (describe()):
// segment::observe with this build's kinds. Joins nothing, writes nothing.
inline segment observe(std::string_view name, const open_options& opt = {}) {
  return segment::observe(name, &find_contract, opt);
}

}  // namespace ringwire::shm
