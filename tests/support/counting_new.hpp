// support/counting_new.hpp -- replaces every form of the global operator new / delete and
// counts the allocations, for tests that prove a path allocates nothing. Include it in
// exactly one file of a test program (it defines the replacement functions). Every form is
// replaced, nothrow and aligned ones too.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

// Every allocation of this test program so far.
inline std::atomic<std::size_t> allocations_made{0};

// ThreadSanitizer's runtime defines operator new / delete itself (linked whole, so a
// replacement is a duplicate symbol): under TSan nothing is counted and this is false;
// the release and ASan builds make the allocation checks.
#if defined(__SANITIZE_THREAD__)
#define RW_TEST_COUNTING_NEW 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RW_TEST_COUNTING_NEW 0
#endif
#endif
#ifndef RW_TEST_COUNTING_NEW
#define RW_TEST_COUNTING_NEW 1
#endif
namespace rw_test {
inline constexpr bool counting_new = RW_TEST_COUNTING_NEW != 0;
}  // namespace rw_test

#if RW_TEST_COUNTING_NEW

namespace rw_test::detail {
inline void* counted_alloc(std::size_t n, std::size_t align) {
  allocations_made.fetch_add(1, std::memory_order_relaxed);  // relaxed: a plain tally
  n = n == 0 ? 1 : n;
  void* p =
      align <= alignof(std::max_align_t) ? std::malloc(n) : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace rw_test::detail

void* operator new(std::size_t n) { return rw_test::detail::counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return rw_test::detail::counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return rw_test::detail::counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return rw_test::detail::counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
// The nothrow forms (the standard library's temporary buffers use them).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return rw_test::detail::counted_alloc(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return rw_test::detail::counted_alloc(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return rw_test::detail::counted_alloc(n, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return rw_test::detail::counted_alloc(n, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
#endif  // RW_TEST_COUNTING_NEW
