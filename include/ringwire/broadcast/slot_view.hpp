// ringwire/broadcast/slot_view.hpp -- a slot of the ring seen in place: what
// subscriber::try_recv_with(fn) hands its fn (slot_view: reads) and what
// publisher::publish_with(fn) hands its fn (slot_writer: writes), so that neither side
// needs a whole local copy of T.
//
// Why a view and not a `const T&`. A slot can be overwritten while a subscriber reads it
// (that is the seqlock: the reader finds out afterwards, from the stamp). A plain read of T
// racing the publisher's store is a data race -- undefined behaviour in the C++ memory
// model, whatever the hardware does -- and a `const T&` into the slot would let fn make
// exactly such reads. So every read through a slot_view is what the copying receive does
// to the word it touches: a relaxed std::atomic_ref load (Sync::word) of the 64-bit word
// that holds those bytes. fn reads only the words it needs (one field of a 1 KiB book: one
// or two loads instead of 128), the subscriber then takes the same acquire fence and
// relaxed stamp re-load as every receive (layout.hpp, recheck()), and fn's result counts
// only if the stamp did not move. That is the seqlock of layout.hpp unchanged: Boehm's
// argument holds for any set of relaxed payload loads before the acquire fence, in any
// order, so the protocol (and models/broadcast_relacy.cpp) needs no new case.
//
// What fn must accept (documented on try_recv_with too): until the re-check, the values it
// reads may mix two messages (each word is whole, but two words may come from different
// writes). It must not act on them -- no side effect that matters, no index it has not
// bounded, no division by a value it has not checked -- only compute its result. Reads
// beyond sizeof(T) (an offset or array index computed from a torn value) are not undefined:
// they read as zero bytes. The view is valid only during fn.
//
// The writer view (slot_writer) stores whole words with relaxed atomic_ref stores between
// the odd and the even stamp, as publish does; a field narrower than its word is merged
// into the word the publisher itself last wrote there (a relaxed load of its own store:
// the slot has no other writer). The slot holds, until fn writes it, the message published
// `capacity` sequence numbers earlier (zeros on the first lap): fn sets every field, or
// calls clear() or set(value) first.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/error.hpp"

namespace ringwire::broadcast {

namespace detail {

// The byte offset of `member` in T, from a T made of zero bytes: T is trivially copyable,
// so std::bit_cast makes one without a constructor (the compiler folds it to a constant).
template <class T, class M>
std::size_t member_offset(M T::*member) noexcept {
  const T probe = std::bit_cast<T>(std::array<std::byte, sizeof(T)>{});
  return static_cast<std::size_t>(reinterpret_cast<const std::byte*>(&(probe.*member)) -
                                  reinterpret_cast<const std::byte*>(&probe));
}

}  // namespace detail

// Reads of one slot, in place (see the top of this header). Made by the subscriber only.
template <class T, class Sync = std_sync>
class slot_view {
 public:
  slot_view(const slot_view&) = delete;
  slot_view& operator=(const slot_view&) = delete;

  // The whole message (a copy: every word loaded).
  [[nodiscard]] T get() const noexcept { return get_at<T>(0); }
  // One member: only the words that hold it are loaded.
  // (C is T: deduced, so a T that is not a class has no member overloads at all.)
  template <class C, class M>
    requires(std::is_same_v<C, T> && !std::is_array_v<M>)
  [[nodiscard]] M get(M C::*member) const noexcept {
    return get_at<M>(detail::member_offset(member));
  }
  // Element i of an array member (i >= N reads as zero bytes, see the top of this header).
  template <class C, class E, std::size_t N>
    requires std::is_same_v<C, T>
  [[nodiscard]] E get(E (C::*member)[N], std::size_t i) const noexcept {
    return get_at<E>(i < N ? detail::member_offset(member) + i * sizeof(E) : sizeof(T));
  }
  // The sizeof(U) bytes at `offset` as a U (bytes beyond sizeof(T) read as zero).
  template <class U>
  [[nodiscard]] U get_at(std::size_t offset) const noexcept {
    static_assert(std::is_trivially_copyable_v<U>, "a view reads bytes: U must be trivially copyable");
    std::array<std::byte, sizeof(U)> b;
    copy_to(offset, b);
    return std::bit_cast<U>(b);
  }
  // The bytes at `offset` into out (bytes beyond sizeof(T) read as zero).
  void copy_to(std::size_t offset, std::span<std::byte> out) const noexcept {
    const std::size_t inside = offset < sizeof(T) ? std::min(out.size(), sizeof(T) - offset) : 0;
    std::size_t done = 0;
    while (done < inside) {
      const std::size_t at = offset + done, skip = at % 8;
      // relaxed: may race with an overwrite; the subscriber's re-check rejects fn's result then.
      const std::uint64_t w = Sync::word(words_[at / 8]).load(std::memory_order_relaxed);
      const std::size_t take = std::min<std::size_t>(8 - skip, inside - done);
      std::memcpy(out.data() + done, reinterpret_cast<const std::byte*>(&w) + skip, take);
      done += take;
    }
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(inside), out.end(), std::byte{0});
  }

 private:
  template <class, class>
  friend class subscriber;
  explicit slot_view(std::uint64_t* words) noexcept : words_(words) {}

  std::uint64_t* words_;
};

// Writes of one slot, in place, between the odd and the even stamp (see the top of this
// header). Made by the publisher only. Out-of-range writes throw ringwire::error
// (invalid_options); publish_with then publishes nothing (see there).
template <class T, class Sync = std_sync>
class slot_writer {
 public:
  slot_writer(const slot_writer&) = delete;
  slot_writer& operator=(const slot_writer&) = delete;

  // The whole message.
  void set(const T& v) noexcept {
    const auto w = detail::to_words(v);
    for (std::size_t i = 0; i < w.size(); ++i) store(i, w[i]);
  }
  // One member.
  template <class C, class M>
    requires(std::is_same_v<C, T> && !std::is_array_v<M>)
  void set(M C::*member, const std::type_identity_t<M>& v) {
    set_at(detail::member_offset(member), v);
  }
  // Element i of an array member.
  template <class C, class E, std::size_t N>
    requires std::is_same_v<C, T>
  void set(E (C::*member)[N], std::size_t i, const std::type_identity_t<E>& v) {
    if (i >= N) throw error(errc::invalid_options, "element " + std::to_string(i) + " of an array of " + std::to_string(N));
    set_at(detail::member_offset(member) + i * sizeof(E), v);
  }
  // The bytes of v at `offset`.
  template <class U>
  void set_at(std::size_t offset, const U& v) {
    static_assert(std::is_trivially_copyable_v<U>, "a writer stores bytes: U must be trivially copyable");
    const auto b = std::bit_cast<std::array<std::byte, sizeof(U)>>(v);
    copy_from(offset, b);
  }
  // `bytes` at `offset`.
  void copy_from(std::size_t offset, std::span<const std::byte> bytes) {
    if (offset > sizeof(T) || bytes.size() > sizeof(T) - offset)
      throw error(errc::invalid_options, std::to_string(bytes.size()) + " bytes at offset " + std::to_string(offset) +
                                             " do not fit a message of " + std::to_string(sizeof(T)));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const std::size_t at = offset + done, skip = at % 8, take = std::min<std::size_t>(8 - skip, bytes.size() - done);
      // A partial word keeps the bytes around it: relaxed, the publisher's own last store
      // to this word (the slot has one writer).
      std::uint64_t w = take == 8 ? 0 : Sync::word(words_[at / 8]).load(std::memory_order_relaxed);
      std::memcpy(reinterpret_cast<std::byte*>(&w) + skip, bytes.data() + done, take);
      store(at / 8, w);
      done += take;
    }
  }
  // Every byte zero (the slot otherwise holds the message of one lap earlier).
  void clear() noexcept {
    for (std::size_t i = 0; i < detail::words_of<T>; ++i) store(i, 0);
  }

 private:
  template <class, class>
  friend class publisher;
  explicit slot_writer(std::uint64_t* words) noexcept : words_(words) {}

  void store(std::size_t i, std::uint64_t w) noexcept {
    // relaxed: between the odd stamp's release fence and the even stamp's release store,
    // as publish's stores (layout.hpp, write_slot).
    Sync::word(words_[i]).store(w, std::memory_order_relaxed);
  }

  std::uint64_t* words_;
};

}  // namespace ringwire::broadcast
