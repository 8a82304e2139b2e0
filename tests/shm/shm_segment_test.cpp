// tests/shm/shm_segment_test.cpp -- shared-memory segments: create/open/leave/unlink,
// exclusivity, modes, unlink policies, anonymous segments and descriptor passing, and
// open-time validation: every wrong expectation and every kind of damage to a segment image
// gives its own errc, and no damaged image is ever accepted.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ringwire/ringwire.hpp"
#include "support/shm_support.hpp"

namespace {

namespace shm = ringwire::shm;
using ringwire::errc;
using shm_test::error_of;
using shm_test::open_image;
using shm_test::poke;

struct quote {
  std::uint64_t id;
  double px;
};
struct other_quote {  // same size and alignment as quote, another type
  std::uint64_t id;
  double px;
};
struct bytes8 {  // same size as std::uint64_t, alignment 1
  char b[8];
};

bool name_exists(const std::string& n) {
  const int fd = ::shm_open(n.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

using Segment = shm_test::named;

// ---- lifecycle ------------------------------------------------------------------------

TEST_F(Segment, CreateThenOpenSeesTheSameHeaderAndCounters) {
  const auto n = name("basic");
  auto a = shm::segment::create(n, shm::spsc_spec<quote>(100));
  auto b = shm::segment::open(n, shm::spsc_spec<quote>(100));
  for (const auto* s : {&a, &b}) {
    EXPECT_EQ(s->kind(), shm::channel_kind::spsc);
    EXPECT_EQ(s->capacity(), 100u);
    EXPECT_EQ(s->info().slot_count, 128u);
    EXPECT_EQ(s->info().slot_size, sizeof(quote));
    EXPECT_EQ(s->info().slot_align, alignof(quote));
    EXPECT_EQ(s->info().type_tag, shm::type_tag<quote>::value);
    EXPECT_EQ(s->creator_pid(), static_cast<std::uint32_t>(::getpid()));
    EXPECT_EQ(s->creator_start_time(), shm::detail::process_start_time(::getpid()));
    EXPECT_NE(s->creator_start_time(), 0u);
    EXPECT_EQ(s->name(), n);
    EXPECT_EQ(s->fd(), -1);
    EXPECT_EQ(s->counters(), 8u);
  }
  EXPECT_TRUE(a.creator());
  EXPECT_FALSE(b.creator());
  EXPECT_EQ(a.joined_count(), 2u);
  a.counter(3).fetch_add(41, std::memory_order_relaxed);
  b.counter(3).fetch_add(1, std::memory_order_relaxed);
  EXPECT_EQ(a.counter(3).load(), 42u);
  EXPECT_EQ(b.counter(0).load(), 0u);
  EXPECT_EQ(error_of([&] { (void)a.counter(8); }), errc::invalid_options);
  const std::uint64_t before = a.heartbeat();
  EXPECT_NE(before, 0u);  // the creator beats once when it formats
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  b.beat();
  EXPECT_GT(a.heartbeat(), before);
  b.leave();
  EXPECT_FALSE(b.joined());
  EXPECT_EQ(a.joined_count(), 1u);
}

TEST_F(Segment, CreateIsExclusiveAndLeavesTheLiveSegmentAlone) {
  const auto n = name("excl");
  auto a = shm::segment::create(n, shm::spsc_spec<std::uint64_t>(4));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(a);
  ASSERT_EQ(tx.try_send(7), ringwire::status::ok);
  EXPECT_EQ(error_of([&] { (void)shm::segment::create(n, shm::spsc_spec<std::uint64_t>(4)); }), errc::shm_exists);
  EXPECT_EQ(error_of([&] { (void)shm::segment::create(n, shm::spsc_spec<quote>(99)); }), errc::shm_exists);
  auto b = shm::segment::open(n, shm::spsc_spec<std::uint64_t>(4));
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(b);
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7u);
}

TEST_F(Segment, ModeIsOwnerOnlyByDefaultAndExactlyAsAsked) {
  const auto n1 = name("mode1");
  const auto n2 = name("mode2");
  const mode_t old = ::umask(022);
  auto a = shm::segment::create(n1, shm::spsc_spec<int>(1));
  shm::create_options o;
  o.mode = 0666;  // wider than the umask allows: fchmod must set it anyway
  auto b = shm::segment::create(n2, shm::spsc_spec<int>(1), o);
  ::umask(old);
  struct stat st{};
  ASSERT_EQ(::stat(("/dev/shm" + n1).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(("/dev/shm" + n2).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);
}

TEST_F(Segment, PermissionDeniedIsItsOwnError) {
  const auto n = name("perm");
  shm::create_options o;
  o.mode = 0600;
  auto a = shm::segment::create(n, shm::spsc_spec<int>(1), o);
  // Another user opens it: a child that drops to `nobody` (when we are root), or we open a
  // mode-0000 segment as an ordinary user.
  const bool root = ::geteuid() == 0;
  if (!root) {
    const int fd = ::shm_open(n.c_str(), O_RDONLY, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::fchmod(fd, 0), 0);
    ::close(fd);
  }
  const pid_t pid = shm_test::spawn([&] {
    if (root && ::setresuid(65534, 65534, 65534) != 0) return 77;  // no CAP_SETUID (a container)
    const auto e = error_of([&] { (void)shm::segment::open(n, shm::spsc_spec<int>(1)); });
    return e == errc::shm_permission_denied ? 0 : 11;
  });
  const int rc = shm_test::wait_child(pid);
  if (rc == 77) GTEST_SKIP() << "root without CAP_SETUID: cannot become another user";
  EXPECT_EQ(rc, 0);
}

TEST_F(Segment, UnlinkOnLastClose) {
  const auto n = name("lastclose");
  auto a = shm::segment::create(n, shm::spsc_spec<int>(2));
  auto b = shm::segment::open(n, shm::spsc_spec<int>(2));
  a.leave();
  EXPECT_TRUE(name_exists(n));
  b.leave();
  EXPECT_FALSE(name_exists(n));
  EXPECT_EQ(error_of([&] { (void)shm::segment::open(n, shm::spsc_spec<int>(2)); }), errc::shm_not_found);
}

TEST_F(Segment, UnlinkOnCreatorExitKeepsOtherMappingsUsable) {
  const auto n = name("creatorexit");
  shm::create_options o;
  o.unlink = shm::unlink_policy::on_creator_exit;
  auto a = shm::segment::create(n, shm::spsc_spec<int>(2), o);
  auto b = shm::segment::open(n, shm::spsc_spec<int>(2));
  b.counter(0).store(5);
  b.leave();
  EXPECT_TRUE(name_exists(n));  // an opener leaving removes nothing under this policy
  b = shm::segment::open(n, shm::spsc_spec<int>(2));
  a.leave();
  EXPECT_FALSE(name_exists(n));
  EXPECT_EQ(b.counter(0).load(), 5u);  // still mapped
}

TEST_F(Segment, UnlinkNeverLeavesTheNameUntilUnlinked) {
  const auto n = name("never");
  shm::create_options o;
  o.unlink = shm::unlink_policy::never;
  {
    auto a = shm::segment::create(n, shm::spsc_spec<int>(2), o);
    a.counter(1).store(9);
  }
  ASSERT_TRUE(name_exists(n));
  {
    auto b = shm::segment::open(n, shm::spsc_spec<int>(2));  // persistent: the counter survived
    EXPECT_EQ(b.counter(1).load(), 9u);
    EXPECT_EQ(b.joined_count(), 1u);
  }
  EXPECT_TRUE(shm::segment::unlink(n));
  EXPECT_FALSE(shm::segment::unlink(n));
  EXPECT_FALSE(name_exists(n));
}

TEST_F(Segment, AttachedEndpointsKeepTheMappingAfterTheSegmentObjectLeaves) {
  const auto n = name("keep");
  auto seg = shm::segment::create(n, shm::spsc_spec<std::uint64_t>(8));
  auto tx = shm::spsc::attach_sender<std::uint64_t>(seg);
  auto rx = shm::spsc::attach_receiver<std::uint64_t>(seg);
  seg.leave();
  EXPECT_TRUE(name_exists(n));  // this process is still joined through the endpoints
  ASSERT_EQ(tx.try_send(11), ringwire::status::ok);
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 11u);
  tx = {};
  rx = {};
  EXPECT_FALSE(name_exists(n));  // the last reference left: on_last_close removed it
}

TEST_F(Segment, OpenWaitsForACreatorThatComesLater) {
  const auto n = name("later");
  const auto t0 = std::chrono::steady_clock::now();
  shm::open_options w;
  w.wait = std::chrono::milliseconds(100);
  EXPECT_EQ(error_of([&] { (void)shm::segment::open(n, shm::spsc_spec<int>(2), w); }), errc::shm_not_found);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  std::jthread creator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto s = shm::segment::create(n, shm::spsc_spec<int>(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // stays joined meanwhile
  });
  w.wait = std::chrono::seconds(10);
  auto s = shm::segment::open(n, shm::spsc_spec<int>(2), w);
  EXPECT_EQ(s.capacity(), 2u);
}

TEST(SegmentSetup, BadNamesAndSpecsAreRefusedBeforeAnySyscall) {
  for (const char* bad : {"", "/", "noslash", "/a/b"})
    EXPECT_EQ(error_of([&] { (void)shm::segment::create(bad, shm::spsc_spec<int>(1)); }), errc::invalid_options) << bad;
  EXPECT_EQ(error_of([&] { (void)shm::segment::create(std::string(300, 'x').insert(0, "/"), shm::spsc_spec<int>(1)); }),
            errc::invalid_options);
  EXPECT_EQ(error_of([&] { (void)shm::segment::create_anonymous(shm::spsc_spec<int>(0)); }), errc::invalid_capacity);
  EXPECT_EQ(error_of([&] { (void)shm::segment::create_anonymous(shm::spsc_spec<int>(std::uint64_t{1} << 50)); }),
            errc::capacity_too_large);
  shm::create_options o;
  o.counters = shm::max_counters + 1;
  EXPECT_EQ(error_of([&] { (void)shm::segment::create_anonymous(shm::spsc_spec<int>(1), o); }), errc::invalid_options);
  auto mpsc = shm::spsc_spec<int>(4);
  mpsc.kind = shm::channel_kind::mpsc;
  EXPECT_EQ(error_of([&] { (void)shm::segment::create_anonymous(mpsc); }), errc::invalid_options);
}

TEST(SegmentSetup, DefaultTypeTagsNameTheType) {
  EXPECT_EQ(shm::detail::type_name<int>(), "int");
  EXPECT_TRUE(shm::detail::type_name<quote>().ends_with("::quote")) << shm::detail::type_name<quote>();
  EXPECT_EQ(shm::type_tag<quote>::value, shm::detail::fnv1a(shm::detail::type_name<quote>()));
  EXPECT_NE(shm::type_tag<quote>::value, shm::type_tag<other_quote>::value);
  // Fundamental types by kind and width, whatever the compiler calls them.
  EXPECT_EQ(shm::type_tag<std::uint64_t>::value, shm::detail::fnv1a("u64"));
  EXPECT_EQ(shm::type_tag<unsigned long long>::value, shm::detail::fnv1a("u64"));
  EXPECT_EQ(shm::type_tag<const std::int32_t>::value, shm::detail::fnv1a("i32"));
  EXPECT_EQ(shm::type_tag<double>::value, shm::detail::fnv1a("f64"));
  EXPECT_EQ(shm::type_tag<std::byte>::value, shm::detail::fnv1a("byte"));
  EXPECT_NE(shm::type_tag<std::uint64_t[4]>::value, shm::type_tag<std::uint64_t[5]>::value);
  EXPECT_NE(shm::type_tag<std::uint64_t[4]>::value, shm::type_tag<std::int64_t[4]>::value);
}

// ---- hostile names and files -----------------------------------------------------------
// Any local user can put something at a name under /dev/shm before the real creator does.

std::string shm_path(const std::string& n) { return "/dev/shm" + n; }

// A FIFO at the name: every open is refused at once with shm_not_a_segment. Before, a
// read-only open blocked in the kernel for ever (waiting for a writer; `wait` did not bound
// it) and a read-write one said shm_initialising. The child dies after 10 s if it blocks.
TEST_F(Segment, AFifoAtTheNameIsRefusedAtOnce) {
  const auto n = name("fifo");
  ASSERT_EQ(::mkfifo(shm_path(n).c_str(), 0666), 0);
  const pid_t pid = shm_test::spawn(
      [&] {
        int bad = 0;
        for (const bool ro : {true, false})
          for (const auto wait : {std::chrono::milliseconds(0), std::chrono::milliseconds(200)}) {
            ++bad;
            shm::open_options o;
            o.read_only = ro;
            o.wait = wait;
            if (error_of([&] { (void)shm::segment::open(n, shm::spsc_spec<int>(1), o); }) != errc::shm_not_a_segment)
              return bad;
          }
        return 0;
      },
      /*limit_s=*/10);
  EXPECT_EQ(shm_test::wait_child(pid), 0);
  EXPECT_EQ(error_of([&] { (void)shm::segment::create(n, shm::spsc_spec<int>(1)); }), errc::shm_exists);
  struct stat st{};
  ASSERT_EQ(::lstat(shm_path(n).c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));  // create left it alone
  EXPECT_TRUE(shm::segment::unlink(n));
}

// A symbolic link (even to a good segment), a directory and a socket at the name are each
// shm_not_a_segment, read-only or read-write. Before: ELOOP, EISDIR, ENXIO or an mmap
// failure, all shm_system_error.
TEST_F(Segment, EveryObjectThatIsNotARegularFileIsNotASegment) {
  const auto good = name("target");
  auto target = shm::segment::create(good, shm::spsc_spec<int>(1));
  const auto link = name("link");
  ASSERT_EQ(::symlink(shm_path(good).c_str(), shm_path(link).c_str()), 0);
  const auto dir = name("dir");
  ASSERT_EQ(::mkdir(shm_path(dir).c_str(), 0777), 0);
  const auto sock = name("sock");
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", shm_path(sock).c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  for (const auto& n : {link, dir, sock})
    for (const bool ro : {true, false}) {
      shm::open_options o;
      o.read_only = ro;
      EXPECT_EQ(error_of([&] { (void)shm::segment::open(n, shm::spsc_spec<int>(1), o); }), errc::shm_not_a_segment)
          << n << (ro ? " read-only" : " read-write");
    }
  EXPECT_EQ(error_of([&] { (void)shm::segment::unlink(dir); }), errc::shm_not_a_segment);
  EXPECT_EQ(target.joined_count(), 1u);  // the link joined nothing
  ::close(s);
  ::rmdir(shm_path(dir).c_str());
}

// "/." and "/.." name the shared-memory directory and its parent: refused like "/a/b".
// Before, create said shm_exists and unlink EISDIR.
TEST(SegmentSetup, DotNamesAreRefused) {
  for (const char* bad : {"/.", "/.."}) {
    EXPECT_EQ(error_of([&] { (void)shm::segment::create(bad, shm::spsc_spec<int>(1)); }), errc::invalid_options) << bad;
    EXPECT_EQ(error_of([&] { (void)shm::segment::open(bad, shm::spsc_spec<int>(1)); }), errc::invalid_options) << bad;
    shm::open_options ro;
    ro.read_only = true;
    EXPECT_EQ(error_of([&] { (void)shm::segment::open(bad, shm::spsc_spec<int>(1), ro); }), errc::invalid_options)
        << bad;
    EXPECT_EQ(error_of([&] { (void)shm::segment::unlink(bad); }), errc::invalid_options) << bad;
  }
}

// Setuid, setgid, sticky or file-type bits in create_options::mode are refused before
// anything is created. Before, fchmod applied them.
TEST_F(Segment, ModeBitsOutside0777AreRefused) {
  const auto n = name("suid");
  for (const mode_t mode : {mode_t{04600}, mode_t{02600}, mode_t{01600}, mode_t{0100600}}) {
    shm::create_options o;
    o.mode = mode;
    EXPECT_EQ(error_of([&] { (void)shm::segment::create(n, shm::spsc_spec<int>(1), o); }), errc::invalid_options)
        << std::oct << mode;
    EXPECT_FALSE(name_exists(n)) << std::oct << mode;
    EXPECT_EQ(error_of([&] { (void)shm::segment::create_anonymous(shm::spsc_spec<int>(1), o); }),
              errc::invalid_options)
        << std::oct << mode;
  }
  shm::create_options o;
  o.mode = 0777;
  EXPECT_NO_THROW((void)shm::segment::create(n, shm::spsc_spec<int>(1), o));
}

// A valid segment, mode 0666, whose file another uid owns (it created the name first): open
// refuses it with shm_untrusted_owner, read-only too, unless open_options::trusted names
// that uid or its group. Before, it was joined without a word. Needs root (fchown).
TEST_F(Segment, ASegmentOwnedByAnotherUidIsRefusedUnlessTrusted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a segment to another uid";
  const auto n = name("foreign");
  shm::create_options c;
  c.mode = 0666;
  auto a = shm::segment::create(n, shm::spsc_spec<int>(4), c);
  const int fd = ::shm_open(n.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchown(fd, 65534, 65534), 0);
  ::close(fd);
  shm::open_options o;
  EXPECT_EQ(error_of([&] { (void)shm::segment::open(n, shm::spsc_spec<int>(4), o); }), errc::shm_untrusted_owner);
  o.read_only = true;
  EXPECT_EQ(error_of([&] { (void)shm::segment::open(n, shm::spsc_spec<int>(4), o); }), errc::shm_untrusted_owner);
  EXPECT_EQ(a.joined_count(), 1u);  // refused before joining
  o.read_only = false;
  o.trusted.uids = {65534};
  {
    auto b = shm::segment::open(n, shm::spsc_spec<int>(4), o);
    EXPECT_EQ(a.joined_count(), 2u);
  }
  o.trusted.uids.clear();
  o.trusted.gids = {65534};
  EXPECT_NO_THROW((void)shm::segment::open(n, shm::spsc_spec<int>(4), o));
}

// ---- anonymous segments and descriptor passing ----------------------------------------

TEST(AnonymousSegment, IsSealedAndOpensThroughItsDescriptor) {
  auto a = shm::segment::create_anonymous(shm::spsc_spec<quote>(16));
  ASSERT_GE(a.fd(), 0);
  EXPECT_TRUE(a.name().empty());
  EXPECT_EQ(a.info().unlink, shm::unlink_policy::never);
  const int seals = ::fcntl(a.fd(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  EXPECT_NE(::ftruncate(a.fd(), 100), 0);  // nobody can shrink it under a mapping
  auto b = shm::segment::open_fd(a.fd(), shm::spsc_spec<quote>(16));
  EXPECT_NE(b.fd(), a.fd());  // its own duplicate
  EXPECT_EQ(a.joined_count(), 2u);
  b.counter(2).store(77);
  EXPECT_EQ(a.counter(2).load(), 77u);
  EXPECT_EQ(error_of([&] { (void)shm::segment::open_fd(a.fd(), shm::spsc_spec<other_quote>(16)); }),
            errc::shm_type_mismatch);
}

TEST(AnonymousSegment, DescriptorCrossesAUnixSocket) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto a = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(4));
  a.counter(0).store(1234);
  const pid_t pid = shm_test::spawn([&] {
    const int fd = shm::receive_fd(sv[1]);
    auto s = shm::segment::open_fd(fd, shm::spsc_spec<std::uint64_t>(4));
    ::close(fd);
    if (s.counter(0).load() != 1234) return 10;
    s.counter(0).store(4321);
    return 0;
  });
  shm::send_fd(sv[0], a.fd());
  EXPECT_EQ(shm_test::wait_child(pid), 0);
  EXPECT_EQ(a.counter(0).load(), 4321u);
  // A message without a descriptor is an error, not a garbage fd.
  char c = 'x';
  ASSERT_EQ(::write(sv[0], &c, 1), 1);
  EXPECT_EQ(error_of([&] { (void)shm::receive_fd(sv[1]); }), errc::shm_system_error);
  ::close(sv[0]);
  EXPECT_EQ(error_of([&] { (void)shm::receive_fd(sv[1]); }), errc::shm_system_error);  // peer gone
  ::close(sv[1]);
}

// ---- validation: what the caller expects ----------------------------------------------

TEST(Validation, EachWrongExpectationHasItsOwnError) {
  auto a = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(100));
  const auto open = [&](const shm::channel_spec& s) {
    return error_of([&] { (void)shm::segment::open_fd(a.fd(), s); });
  };
  EXPECT_EQ(open(shm::spsc_spec<std::uint64_t>(100)), std::nullopt);
  EXPECT_EQ(open(shm::spsc_spec<std::uint64_t>()), std::nullopt);  // capacity 0: any
  EXPECT_EQ(open(shm::spsc_spec<std::uint64_t>(101)), errc::shm_capacity_mismatch);
  EXPECT_EQ(open(shm::spsc_spec<std::uint32_t>(100)), errc::shm_type_mismatch);  // size
  EXPECT_EQ(open(shm::spsc_spec<bytes8>(100)), errc::shm_type_mismatch);         // alignment
  EXPECT_EQ(open(shm::spsc_spec<std::int64_t>(100)), errc::shm_type_mismatch);   // tag
  auto k = shm::spsc_spec<std::uint64_t>(100);
  k.kind = shm::channel_kind::broadcast;
  EXPECT_EQ(open(k), errc::shm_kind_mismatch);
  // attach checks T as well: a segment opened for "any" still refuses the wrong type.
  auto b = shm::segment::open_fd(a.fd(), shm::spsc_spec<std::uint64_t>());
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_sender<std::int64_t>(b); }), errc::shm_type_mismatch);
  EXPECT_EQ(error_of([&] { (void)shm::spsc::attach_receiver<double>(b); }), errc::shm_type_mismatch);
}

// ---- validation: damaged images -------------------------------------------------------

class Damage : public ::testing::Test {
 protected:
  void SetUp() override {
    seg_ = shm::segment::create_anonymous(shm::spsc_spec<std::uint64_t>(100));
    good_ = shm_test::image_of(seg_);
    ASSERT_EQ(good_.size(), seg_.size());
    ring_ = seg_.info().channel_offset;
  }
  std::optional<errc> open(const std::vector<unsigned char>& img, std::uint64_t cap = 100) {
    return open_image(img, shm::spsc_spec<std::uint64_t>(cap));
  }
  using ring = ringwire::spsc::shm_contract::ring;
  shm::segment seg_;
  std::vector<unsigned char> good_;
  std::size_t ring_ = 0;
};

TEST_F(Damage, TheUndamagedImageOpens) { EXPECT_EQ(open(good_), std::nullopt); }

TEST_F(Damage, Magic) {
  auto b = good_;
  b[3] ^= 0x20;
  EXPECT_EQ(open(b), errc::shm_not_ringwire);
  std::vector<unsigned char> garbage(8192);
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<unsigned char>(i * 7 + 3);
  EXPECT_EQ(open(garbage), errc::shm_not_ringwire);
}

TEST_F(Damage, Version) {
  // An older layout (version 1 had pid-only claims) and a newer one are both refused.
  for (const std::uint32_t other : {shm::layout_version - 1, shm::layout_version + 1}) {
    auto b = good_;
    poke<std::uint32_t>(b, 8, other);
    EXPECT_EQ(open(b), errc::shm_version_mismatch);  // before the checksum: a newer layout may sum otherwise
    shm_test::recompute_checksum(b);
    EXPECT_EQ(open(b), errc::shm_version_mismatch);
  }
}

TEST_F(Damage, StillInitialising) {
  auto b = good_;
  poke<std::uint32_t>(b, 128, shm::init_formatting);
  EXPECT_EQ(open(b), errc::shm_initialising);
  std::vector<unsigned char> zeros(good_.size());  // sized, not yet formatted
  EXPECT_EQ(open(zeros), errc::shm_initialising);
  EXPECT_EQ(open({}), errc::shm_initialising);  // created, not yet sized
  poke<std::uint32_t>(b, 128, 7);
  EXPECT_EQ(open(b), errc::shm_corrupt);
}

TEST_F(Damage, EveryTruncationIsRefused) {
  // Every prefix of a valid image, and the image with a header that claims more.
  for (std::size_t len = 0; len < good_.size(); len += (len < 1024 ? 1 : 97)) {
    const std::vector<unsigned char> b(good_.begin(), good_.begin() + static_cast<std::ptrdiff_t>(len));
    const auto e = open(b);
    const errc want = len == 0 ? errc::shm_initialising : len < 8 ? errc::shm_not_ringwire : errc::shm_truncated;
    ASSERT_EQ(e, want) << "length " << len;
  }
  auto b = good_;
  poke<std::uint64_t>(b, 24, good_.size() + 1);
  shm_test::recompute_checksum(b);
  EXPECT_EQ(open(b), errc::shm_truncated);
}

TEST_F(Damage, AnyFlippedIdentityBitIsCorrupt) {
  // Past the magic and the version, the checksum catches every single-bit change first.
  for (std::size_t byte = 12; byte < 128; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto b = good_;
      b[byte] ^= static_cast<unsigned char>(1u << bit);
      const auto e = open(b);
      ASSERT_EQ(e, errc::shm_corrupt) << "byte " << byte << " bit " << bit << ": "
                                      << (e ? ringwire::to_string(*e) : "accepted");
    }
  }
}

TEST_F(Damage, ForgedChecksumsStillFailTheStructuralChecks) {
  const auto forged = [&](std::size_t at, auto v, std::uint64_t cap = 100) {
    auto b = good_;
    poke(b, at, v);
    shm_test::recompute_checksum(b);
    return open(b, cap);
  };
  EXPECT_EQ(forged(16, std::uint32_t{2}), errc::shm_kind_mismatch);
  EXPECT_EQ(forged(16, std::uint32_t{77}), errc::shm_kind_mismatch);
  {  // an spsc image relabelled mpsc, opened as mpsc: no lanes, so it describes no channel
    auto b = good_;
    poke(b, 16, std::uint32_t{2});
    shm_test::recompute_checksum(b);
    EXPECT_EQ(open_image(b, shm::mpsc_spec<std::uint64_t>(100)), errc::shm_corrupt);
  }
  {  // a kind this build does not know, even when the caller expects it
    auto b = good_;
    poke(b, 16, std::uint32_t{9});
    shm_test::recompute_checksum(b);
    auto other = shm::spsc_spec<std::uint64_t>(100);
    other.kind = static_cast<shm::channel_kind>(9);
    EXPECT_EQ(open_image(b, other), errc::shm_kind_mismatch);
  }
  EXPECT_EQ(forged(20, std::uint32_t{3}), errc::shm_corrupt);                 // unlink policy
  EXPECT_EQ(forged(32, std::uint64_t{200}), errc::shm_capacity_mismatch);
  EXPECT_EQ(forged(32, std::uint64_t{200}, 0), errc::shm_corrupt);            // slot_count 128 != 256
  EXPECT_EQ(forged(32, std::uint64_t{0}, 0), errc::shm_corrupt);
  EXPECT_EQ(forged(40, std::uint64_t{1} << 60, 0), errc::shm_corrupt);        // slot_count
  EXPECT_EQ(forged(56, std::uint64_t{1}), errc::shm_type_mismatch);
  EXPECT_EQ(forged(64, std::uint64_t{0}), errc::shm_corrupt);                 // counters offset
  EXPECT_EQ(forged(72, std::uint32_t{1'000'000}), errc::shm_corrupt);         // counters count
  EXPECT_EQ(forged(80, std::uint64_t{good_.size()}), errc::shm_corrupt);      // channel offset
  EXPECT_EQ(forged(88, std::uint64_t{1} << 62), errc::shm_corrupt);           // channel size
  EXPECT_EQ(forged(24, std::uint64_t{600}), errc::shm_corrupt);               // channel outside the segment
  EXPECT_EQ(forged(76, std::uint32_t{2}), errc::shm_corrupt);                 // fence mode
  EXPECT_EQ(forged(100, std::uint32_t{3}), errc::shm_corrupt);                // spsc has no endpoints
  EXPECT_EQ(forged(112, std::uint32_t{1}), errc::shm_corrupt);                // nor a policy
  EXPECT_EQ(forged(116, std::uint32_t{1}), errc::shm_corrupt);                // reserved
}

TEST_F(Damage, TheRingItselfIsChecked) {
  const auto damaged = [&](std::size_t at, auto v) {
    auto b = good_;
    poke(b, ring_ + at, v);
    return open(b);
  };
  EXPECT_EQ(damaged(offsetof(ring, geometry) + 0, std::uint64_t{99}), errc::shm_corrupt);   // capacity
  EXPECT_EQ(damaged(offsetof(ring, geometry) + 8, std::uint64_t{256}), errc::shm_corrupt);  // slot_count
  EXPECT_EQ(damaged(offsetof(ring, geometry) + 16, std::uint64_t{1} << 40), errc::shm_corrupt);  // slots_offset
  EXPECT_EQ(damaged(offsetof(ring, geometry) + 40, std::int64_t{-4096}), errc::shm_corrupt);     // park offset
  EXPECT_EQ(damaged(offsetof(ring, producer), std::uint64_t{101}), errc::shm_corrupt);  // tail - head > capacity
  EXPECT_EQ(damaged(offsetof(ring, producer), std::uint64_t{100}), std::nullopt);      // full is fine
  EXPECT_EQ(damaged(offsetof(ring, consumer), std::uint64_t{1}), errc::shm_corrupt);   // head past tail
  EXPECT_EQ(damaged(offsetof(ring, consumer) + 12, std::uint32_t{5}), errc::shm_corrupt);  // sender_closed
}

TEST(ValidationInMemory, FormatThenValidateWithoutTheOperatingSystem) {
  const auto spec = shm::spsc_spec<std::uint32_t>(5);
  const std::size_t bytes = shm::segment_footprint(spec, 2);
  std::vector<std::byte> storage(bytes + shm::segment_align);
  void* mem = storage.data() + (shm::segment_align - reinterpret_cast<std::uintptr_t>(storage.data()) % shm::segment_align);
  auto* h = shm::format_segment(mem, bytes, spec, shm::unlink_policy::never, 2);
  EXPECT_EQ(h->id.channel_offset, 512u + 2 * 128u);
  const auto id = shm::validate_segment(mem, bytes, spec);
  EXPECT_EQ(id.segment_size, bytes);
  EXPECT_EQ(id.capacity, 5u);
  EXPECT_EQ(error_of([&] { (void)shm::validate_segment(mem, bytes - 1, spec); }), errc::shm_truncated);
  EXPECT_EQ(error_of([&] { (void)shm::format_segment(mem, bytes - 1, spec, shm::unlink_policy::never, 2); }),
            errc::shm_truncated);
}

}  // namespace
