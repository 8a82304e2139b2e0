// ringwire/error.hpp -- errors reported at construction and attach time.
//
// Hot-path operations never throw for channel state: they return a `status`. What throws
// is setting a channel up wrong (a capacity of zero, a size that cannot be allocated),
// reported as `ringwire::error` with a code a program can switch on and a message a person
// can act on. A throwing user type (`T`'s constructor or move) propagates unchanged.
#pragma once

#include <stdexcept>
#include <string>

namespace ringwire {

enum class errc {
  invalid_capacity,    // capacity of zero
  capacity_too_large,  // capacity whose slot array cannot be addressed or allocated
  already_split,       // an inline channel's endpoints were taken twice
  invalid_options,     // an option out of range (broadcast: max_subscribers, evict_lag)
  too_many_subscribers,  // broadcast: every subscriber registry slot is taken
};

inline const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::invalid_capacity: return "invalid capacity";
    case errc::capacity_too_large: return "capacity too large";
    case errc::already_split: return "endpoints already taken";
    case errc::invalid_options: return "invalid options";
    case errc::too_many_subscribers: return "too many subscribers";
  }
  return "unknown error";
}

class error : public std::runtime_error {
 public:
  error(errc code, const std::string& what)
      : std::runtime_error(std::string("ringwire: ") + to_string(code) + ": " + what), code_(code) {}
  [[nodiscard]] errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace ringwire
