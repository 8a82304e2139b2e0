// tests/unit/shm_census_test.cpp -- listing named segments and removing abandoned ones: a
// segment whose creator crashed (and whose claim holders are dead) is removed, one with a
// live creator or a live attached endpoint is not, a foreign object is never listed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "ringwire/ringwire.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using Census = shm_test::named;

std::optional<shm::segment_entry> find(const std::string& name) {
  for (auto& e : shm::list_segments())
    if (e.name == name) return e;
  return std::nullopt;
}

bool exists(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

bool removed(const std::vector<std::string>& v, const std::string& name) {
  return std::find(v.begin(), v.end(), name) != v.end();
}

TEST_F(Census, ALiveCreatorsSegmentIsListedAndKept) {
  const auto n = name("live");
  auto seg = shm::segment::create(n, shm::spsc_spec<int>(16));
  auto tx = shm::spsc::attach_sender<int>(seg);
  const auto e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->intact);
  EXPECT_EQ(e->version, shm::layout_version);
  EXPECT_EQ(e->kind, shm::channel_kind::spsc);
  EXPECT_EQ(e->creator_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_TRUE(e->creator_alive);
  EXPECT_EQ(e->joined, 1u);
  EXPECT_EQ(e->sender_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_TRUE(e->sender_alive);
  EXPECT_EQ(e->receiver_pid, 0u);
  EXPECT_FALSE(e->abandoned());
  EXPECT_FALSE(removed(shm::remove_abandoned_segments(), n));
  EXPECT_TRUE(exists(n));
}

// The creator and the only attached endpoint crash (no destructor runs): the name stays,
// the census says why it is abandoned, and removing abandoned segments removes it.
TEST_F(Census, ASegmentWhoseCreatorCrashedIsRemoved) {
  const auto n = name("crashed");
  const pid_t pid = shm_test::spawn([&]() -> int {
    auto seg = shm::segment::create(n, shm::spsc_spec<int>(16), {.unlink = shm::unlink_policy::on_last_close});
    auto tx = shm::spsc::attach_sender<int>(seg);
    (void)tx.try_send(1);
    ::_exit(0);  // a crash: nothing left, nothing unlinked
    return 1;
  });
  ASSERT_EQ(shm_test::wait_child(pid), 0);
  ASSERT_TRUE(exists(n));
  const auto e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->creator_pid, static_cast<std::uint32_t>(pid));
  EXPECT_FALSE(e->creator_alive);
  EXPECT_EQ(e->sender_pid, static_cast<std::uint32_t>(pid));
  EXPECT_FALSE(e->sender_alive);
  EXPECT_EQ(e->joined, 1u) << "the crashed creator never left";
  EXPECT_TRUE(e->abandoned());
  EXPECT_TRUE(removed(shm::remove_abandoned_segments(), n));
  EXPECT_FALSE(exists(n));
}

// The creator crashed but this process is attached: not abandoned, not removed.
TEST_F(Census, ALiveAttachedEndpointKeepsASegment) {
  const auto n = name("held");
  const pid_t pid = shm_test::spawn([&]() -> int {
    auto seg = shm::segment::create(n, shm::spsc_spec<int>(16), {.unlink = shm::unlink_policy::never});
    ::_exit(0);
    return 1;
  });
  ASSERT_EQ(shm_test::wait_child(pid), 0);
  auto seg = shm::segment::open(n, shm::spsc_spec<int>(16));
  auto rx = shm::spsc::attach_receiver<int>(seg);
  const auto e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->creator_alive);
  EXPECT_TRUE(e->receiver_alive);
  EXPECT_FALSE(e->abandoned());
  EXPECT_FALSE(removed(shm::remove_abandoned_segments(), n));
  EXPECT_TRUE(exists(n));
}

// An MPSC lane held by a live process keeps the segment too (the claims block is read).
TEST_F(Census, ALiveLaneKeepsAnMpscSegment) {
  const auto n = name("lane");
  const pid_t pid = shm_test::spawn([&]() -> int {
    auto seg = shm::segment::create(n, shm::mpsc_spec<int>(16, 3), {.unlink = shm::unlink_policy::never});
    ::_exit(0);
    return 1;
  });
  ASSERT_EQ(shm_test::wait_child(pid), 0);
  {
    auto seg = shm::segment::open(n, shm::mpsc_spec<int>(16, 3));
    auto tx = shm::mpsc::attach_sender<int>(seg);
    const auto e = find(n);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->kind, shm::channel_kind::mpsc);
    EXPECT_EQ(e->endpoints, 3u);
    EXPECT_EQ(e->endpoints_alive, 1u);
    EXPECT_FALSE(e->abandoned());
    EXPECT_FALSE(removed(shm::remove_abandoned_segments(), n));
  }
  const auto e = find(n);  // the lane was released with the sender
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->endpoints_alive, 0u);
  EXPECT_TRUE(e->abandoned());
  EXPECT_TRUE(removed(shm::remove_abandoned_segments(), n));
}

// A POSIX shared-memory object that is not a ringwire segment is never listed or removed.
TEST_F(Census, AForeignObjectIsIgnored) {
  const auto n = name("foreign");
  const int fd = ::shm_open(n.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  std::string junk(4096, 'x');
  ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  ::close(fd);
  EXPECT_FALSE(find(n).has_value());
  EXPECT_FALSE(removed(shm::remove_abandoned_segments(), n));
  EXPECT_TRUE(exists(n));
}

}  // namespace
