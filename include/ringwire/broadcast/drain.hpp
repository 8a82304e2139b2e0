// ringwire/broadcast/drain.hpp -- a draining range over what a broadcast reader can read now,
// without waiting:
//   for (const tick& t : sub.drain()) handle(t);
// Written once over the reader's try_recv(): lags are absorbed (the reader counts them in
// missed()) and reading resumes at the oldest message; the range ends at empty, closed or
// evicted (try_recv() then says which). Each step is one try_recv(): nothing is added to it.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>

#include "ringwire/status.hpp"

namespace ringwire::broadcast {

template <class Reader, class T>
class drain_range {
 public:
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() noexcept = default;
    explicit iterator(Reader* r) noexcept : reader_(r) { ++*this; }
    const T& operator*() const noexcept { return *current_; }
    const T* operator->() const noexcept { return &*current_; }
    iterator& operator++() noexcept {
      current_.reset();
      for (;;) {
        auto r = reader_->try_recv();
        if (r) {
          current_.emplace(*r);
          return *this;
        }
        if (r.status() != status::lagged) return *this;
      }
    }
    void operator++(int) noexcept { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return !it.current_; }

   private:
    Reader* reader_ = nullptr;
    std::optional<T> current_;
  };
  explicit drain_range(Reader& r) noexcept : reader_(&r) {}
  iterator begin() noexcept { return iterator(reader_); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  Reader* reader_;
};

}  // namespace ringwire::broadcast
