// ringwire/result.hpp -- a value, or the reason there is none: for setup calls whose failure
// is an ordinary outcome the caller should branch on (a topic that already has its
// publisher), not an exception.
//
// TL;DR
//   ringwire::result<int> parse(std::string_view s);
//   auto r = parse("42");
//   if (r) use(*r);                                   // has_value()
//   else log(r.error().code, r.error().message);      // an errc and a sentence
//   int v = parse("x").value();                       // throws ringwire::error on failure
//   r.error().raise();                                // or throw it yourself
//
// The error half is `error_info`: the same errc a thrown ringwire::error carries, and the
// message it would carry, so a program can take either road and lose nothing. result<void>
// says only whether the call worked. libstdc++ 12 has no std::expected; this is the small
// subset ringwire needs, with the same names where they overlap.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "ringwire/detail/defs.hpp"
#include "ringwire/error.hpp"

namespace ringwire {

// Why a call failed: a code to switch on and a sentence for a person.
struct error_info {
  errc code;
  std::string message;

  // Throws this as ringwire::error (what(): "ringwire: <code>: <message>").
  [[noreturn]] void raise() const { throw error(code, message); }
};

template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T> && !std::is_same_v<std::remove_cv_t<T>, error_info>,
                "result<T> holds a value type other than error_info");

 public:
  result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit on purpose
      : state_(std::in_place_index<0>, std::move(value)) {}
  result(error_info why) noexcept  // NOLINT: implicit on purpose
      : state_(std::in_place_index<1>, std::move(why)) {}
  result(errc code, std::string message) : state_(std::in_place_index<1>, error_info{code, std::move(message)}) {}

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  [[nodiscard]] explicit operator bool() const noexcept { return has_value(); }

  // The value; throws ringwire::error (the stored code and message) when there is none.
  [[nodiscard]] T& value() & { return has_value() ? *std::get_if<0>(&state_) : fail(); }
  [[nodiscard]] const T& value() const& { return has_value() ? *std::get_if<0>(&state_) : fail(); }
  [[nodiscard]] T&& value() && { return std::move(has_value() ? *std::get_if<0>(&state_) : fail()); }

  // Unchecked access. Precondition: has_value() (checked in debug builds).
  [[nodiscard]] T& operator*() & noexcept { return *get(); }
  [[nodiscard]] const T& operator*() const& noexcept { return *get(); }
  [[nodiscard]] T&& operator*() && noexcept { return std::move(*get()); }
  [[nodiscard]] T* operator->() noexcept { return get(); }
  [[nodiscard]] const T* operator->() const noexcept { return get(); }

  // The reason. Precondition: !has_value() (checked in debug builds).
  [[nodiscard]] const error_info& error() const& noexcept {
    RINGWIRE_ASSERT(!has_value());
    return *std::get_if<1>(&state_);
  }

 private:
  T* get() noexcept {
    RINGWIRE_ASSERT(has_value());
    return std::get_if<0>(&state_);
  }
  const T* get() const noexcept {
    RINGWIRE_ASSERT(has_value());
    return std::get_if<0>(&state_);
  }
  [[noreturn]] T& fail() const { std::get_if<1>(&state_)->raise(); }

  std::variant<T, error_info> state_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() noexcept = default;
  result(error_info why) noexcept : why_(std::move(why)), failed_(true) {}  // NOLINT: implicit on purpose
  result(errc code, std::string message) : why_{code, std::move(message)}, failed_(true) {}

  [[nodiscard]] bool has_value() const noexcept { return !failed_; }
  [[nodiscard]] explicit operator bool() const noexcept { return !failed_; }
  // Throws ringwire::error when the call failed; nothing otherwise.
  void value() const {
    if (failed_) why_.raise();
  }
  // Precondition: !has_value() (checked in debug builds).
  [[nodiscard]] const error_info& error() const& noexcept {
    RINGWIRE_ASSERT(failed_);
    return why_;
  }

 private:
  error_info why_{errc::invalid_options, {}};  // meaningful only when failed_
  bool failed_ = false;
};

}  // namespace ringwire
