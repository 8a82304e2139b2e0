// tests/shm/shm_census_test.cpp -- listing named segments and removing abandoned ones: a
// segment whose creator crashed (and whose claim holders are dead) is removed, one with a
// live creator, a live holder or a live attached endpoint is not, one whose join count
// only dead joiners hold up is, one of an untrusted owner is not, a foreign object is
// never listed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// Creates `name` in a child process that then crashes: it never leaves or unlinks.
void create_and_crash(const std::string& name, const shm::channel_spec& spec, shm::unlink_policy unlink) {
  const pid_t pid = shm_test::spawn([&]() -> int {
    auto seg = shm::segment::create(name, spec, {.unlink = unlink});
    ::_exit(0);
    return 1;
  });
  ASSERT_EQ(shm_test::wait_child(pid), 0);
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
  create_and_crash(n, shm::spsc_spec<int>(16), shm::unlink_policy::never);
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
  create_and_crash(n, shm::mpsc_spec<int>(16, 3), shm::unlink_policy::never);
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

// Under on_last_close, a joiner killed -9 while it holds the segment never drops its count:
// after every live process has left, the name stays with a count of 1. The census sees that
// every recorded holder is dead and removes it, although its creator (this process) lives.
// Before, a live creator kept such a segment for ever.
TEST_F(Census, ACountHeldUpOnlyByADeadJoinerIsAbandoned) {
  const auto n = name("deadjoiner");
  auto seg = shm::segment::create(n, shm::spsc_spec<int>(16));  // on_last_close
  const pid_t clean = shm_test::spawn([&] {                      // joins and leaves
    auto s = shm::segment::open(n, shm::spsc_spec<int>(16));
    return s.joined_count() == 2 ? 0 : 1;
  });
  ASSERT_EQ(shm_test::wait_child(clean), 0);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t victim = shm_test::spawn([&] {  // joins, says so, and is killed holding it
    auto s = shm::segment::open(n, shm::spsc_spec<int>(16));
    const char c = 'j';
    if (::write(ready[1], &c, 1) != 1) return 1;
    for (;;) ::pause();
  });
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  auto e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->joined, 2u);
  EXPECT_EQ(e->holders, 2u);
  EXPECT_EQ(e->holders_alive, 2u);
  EXPECT_FALSE(e->abandoned());
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  ASSERT_EQ(shm_test::wait_child(victim), 128 + SIGKILL);
  e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->holders_alive, 1u);
  EXPECT_FALSE(e->abandoned()) << "this process still holds it";
  EXPECT_FALSE(removed(shm::remove_abandoned_segments(), n));
  seg.leave();
  ASSERT_TRUE(exists(n)) << "the dead joiner's count keeps the name";
  e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->joined, 1u);
  EXPECT_TRUE(e->creator_alive);
  EXPECT_EQ(e->holders, 1u);
  EXPECT_EQ(e->holders_alive, 0u);
  EXPECT_TRUE(e->count_held_by_dead());
  EXPECT_TRUE(e->abandoned());
  EXPECT_TRUE(removed(shm::remove_abandoned_segments(), n));
  EXPECT_FALSE(exists(n));
}

// The creator crashed, but a live process holds a join (no endpoint attached): the segment
// is kept while it holds it, and abandoned once it leaves (its count then only the dead
// creator's). Before, a dead creator made it abandoned under a live holder.
TEST_F(Census, ALiveHolderKeepsASegmentWhoseCreatorCrashed) {
  const auto n = name("holder");
  create_and_crash(n, shm::spsc_spec<int>(16), shm::unlink_policy::on_last_close);
  {
    auto seg = shm::segment::open(n, shm::spsc_spec<int>(16));
    const auto e = find(n);
    ASSERT_TRUE(e.has_value());
    EXPECT_FALSE(e->creator_alive);
    EXPECT_EQ(e->holders_alive, 1u);
    EXPECT_FALSE(e->abandoned());
    EXPECT_FALSE(removed(shm::remove_abandoned_segments(), n));
  }
  ASSERT_TRUE(exists(n));
  const auto e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->joined, 1u);
  EXPECT_TRUE(e->abandoned());
  EXPECT_TRUE(removed(shm::remove_abandoned_segments(), n));
}

// More joins at once than the header's joiner table holds (32) are counted apart and make
// no count look held by the dead; leaving gives every entry back.
TEST_F(Census, JoinsBeyondTheJoinerTableAreCountedApart) {
  const auto n = name("many");
  auto seg = shm::segment::create(n, shm::spsc_spec<int>(16));
  {
    std::vector<shm::segment> joins;
    for (int i = 0; i < 40; ++i) joins.push_back(shm::segment::open(n, shm::spsc_spec<int>(16)));
    const auto e = find(n);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->joined, 41u);
    EXPECT_EQ(e->holders, 32u);
    EXPECT_EQ(e->holders_alive, 32u);
    EXPECT_EQ(e->holders_unrecorded, 9u);
    EXPECT_FALSE(e->count_held_by_dead());
  }
  const auto e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->joined, 1u);
  EXPECT_EQ(e->holders, 1u);
  EXPECT_EQ(e->holders_unrecorded, 0u);
  EXPECT_FALSE(e->abandoned());
}

// An abandoned segment owned by another uid is listed (with its owner) but removed only
// when that owner is trusted. Before, any abandoned segment this process could unlink went.
// Needs root (fchown).
TEST_F(Census, AnUntrustedOwnersSegmentIsRemovedOnlyWhenTrusted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a segment to another uid";
  const auto n = name("otheruid");
  create_and_crash(n, shm::spsc_spec<int>(16), shm::unlink_policy::on_last_close);
  const int fd = ::shm_open(n.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchown(fd, 65534, 65534), 0);
  ::close(fd);
  const auto e = find(n);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->owner_uid, 65534u);
  EXPECT_TRUE(e->abandoned());
  EXPECT_FALSE(removed(shm::remove_abandoned_segments(), n));
  EXPECT_TRUE(exists(n));
  EXPECT_TRUE(removed(shm::remove_abandoned_segments("/dev/shm", {.uids = {65534}}), n));
  EXPECT_FALSE(exists(n));
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
