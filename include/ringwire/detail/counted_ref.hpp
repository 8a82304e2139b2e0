// ringwire/detail/counted_ref.hpp -- who keeps a channel's memory alive, for every channel
// family: a reference count at the head of a heap block, the move-only handle that holds
// one reference, and the block allocation with its error report.
//
// The count is touched only when a handle (endpoint, hub, monitor) is made or dropped,
// never on a send or receive. The last holder calls `release_all`, which knows the
// element type: it destroys what is still queued and frees the block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "ringwire/detail/footprint.hpp"
#include "ringwire/error.hpp"
#include "ringwire/wait.hpp"

namespace ringwire::detail {

// Reference-counted owner of a layout's memory; the first member of a heap block (or of a
// shared-memory attachment). check_peer, set by shared-memory attachments only (null on
// the heap), is the endpoint's peer check: called with this owner while the endpoint
// waits, true when it found the process at the other side dead and closed that side
// (wait.hpp, "Peer check").
template <class Sync>
struct owner {
  typename Sync::template atomic<std::uint32_t> refs;
  void (*release_all)(owner*) noexcept;
  bool (*check_peer)(void* self) noexcept = nullptr;

  void retain() noexcept {
    // relaxed: a new reference is made from an existing one, which keeps the block alive.
    refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // acq_rel: every holder's last use of the block happens-before the destruction by the
    // holder that drops the count to zero.
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) release_all(this);
  }
};

// A counted (heap) or borrowed (inline: no owner) reference to a layout. Move-only;
// copy() makes a second counted reference.
template <class Layout, class Sync>
class counted_ref {
 public:
  counted_ref() noexcept = default;
  counted_ref(Layout* l, owner<Sync>* o) noexcept : ring_(l), owner_(o) {}
  counted_ref(counted_ref&& o) noexcept
      : ring_(std::exchange(o.ring_, nullptr)), owner_(std::exchange(o.owner_, nullptr)) {}
  counted_ref& operator=(counted_ref&& o) noexcept {
    if (this != &o) {
      reset();
      ring_ = std::exchange(o.ring_, nullptr);
      owner_ = std::exchange(o.owner_, nullptr);
    }
    return *this;
  }
  counted_ref(const counted_ref&) = delete;
  counted_ref& operator=(const counted_ref&) = delete;
  ~counted_ref() { reset(); }

  [[nodiscard]] counted_ref copy() const noexcept {
    if (owner_ != nullptr) owner_->retain();
    return counted_ref(ring_, owner_);
  }
  void reset() noexcept {
    if (owner_ != nullptr) owner_->release();
    ring_ = nullptr;
    owner_ = nullptr;
  }
  [[nodiscard]] Layout* get() const noexcept { return ring_; }
  // `lim` with the owner's peer check, if it has one: what an endpoint's waits pass on.
  [[nodiscard]] wait_limits watch(wait_limits lim) const noexcept {
    if (owner_ != nullptr && owner_->check_peer != nullptr) lim.peer = {owner_->check_peer, owner_};
    return lim;
  }
  [[nodiscard]] bool borrowed() const noexcept { return ring_ != nullptr && owner_ == nullptr; }

 private:
  Layout* ring_ = nullptr;
  owner<Sync>* owner_ = nullptr;
};

// `bytes` aligned to `align`, or ringwire::error(capacity_too_large) naming the capacity.
inline void* allocate_block(std::size_t bytes, std::size_t align, std::uint64_t capacity) {
  check_footprint(bytes, "capacity " + std::to_string(capacity));
  try {
    return ::operator new(bytes, std::align_val_t{align});
  } catch (const std::bad_alloc&) {
    throw error(errc::capacity_too_large,
                "cannot allocate " + std::to_string(bytes) + " bytes for capacity " + std::to_string(capacity));
  }
}

}  // namespace ringwire::detail
