// Unit tests for byte_broadcast::writer::skip (writer.hpp, layout.hpp "Skips"): a skip of
// g sequences is exactly g more missed for every reader, reported as status::lagged, never
// a wait for ever, never a skipped sequence delivered, never corrupt. Skips of 1, several,
// exactly depth and more than depth; a skip followed by writes; a reader parked in read()
// woken by a skip; lossy and credited readers (the credited writer's gate past a skip);
// start_at::oldest over skipped entries; try_read_view; close after a skip (drain, then
// closed); the credited lag in stats; a shared-memory segment with the reader in another
// process, and a writer re-attached after a skip.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <thread>
#include <vector>

#include "ringwire/byte_broadcast.hpp"
#include "ringwire/shm/byte_broadcast.hpp"
#include "support/shm_support.hpp"

namespace {

namespace bb = ringwire::byte_broadcast;
using ringwire::status;
using namespace std::chrono_literals;

// Message k's payload: its size derives from k, its bytes from (k, index).
std::vector<std::byte> payload(std::uint64_t k) {
  std::vector<std::byte> v(1 + (k * 13) % 40);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::byte>((k * 31 + i * 7) & 0xff);
  return v;
}

bb::geometry shape(std::uint64_t depth = 8, std::uint32_t credited = 0) { return bb::geometry{depth, 1024, 64, credited}; }

void write(bb::writer<>& w, std::uint64_t k) {
  ASSERT_EQ(w.published() + 1, k);
  ASSERT_EQ(w.try_write(k, payload(k)), status::ok);
}

// The next read must be message k, intact.
template <class Reader>
void expect_message(Reader& r, std::uint64_t k) {
  std::vector<std::byte> buf(64);
  const bb::read_result m = r.try_read(buf);
  ASSERT_TRUE(m) << "expected message " << k << ", got " << ringwire::to_string(m.status()) << " missed " << m.missed();
  EXPECT_EQ(m.info().seq, k);
  EXPECT_EQ(m.info().signature, k);
  const auto want = payload(k);
  ASSERT_EQ(m.info().size, want.size());
  EXPECT_EQ(std::memcmp(buf.data(), want.data(), want.size()), 0);
}

void write_range(bb::writer<>& w, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t k = from; k <= to; ++k) write(w, k);
}

// The next reads must be messages from .. to, intact.
template <class Reader>
void expect_messages(Reader& r, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t k = from; k <= to; ++k) expect_message(r, k);
}

// The next read must be lagged with exactly `missed`, leaving the reader at `next`.
template <class Reader>
void expect_lagged(Reader& r, std::uint64_t missed, std::uint64_t next) {
  std::vector<std::byte> buf(64);
  const bb::read_result m = r.try_read(buf);
  ASSERT_EQ(m.status(), status::lagged) << ringwire::to_string(m.status());
  EXPECT_EQ(m.missed(), missed);
  EXPECT_EQ(r.next_seq(), next);
}

template <class Reader>
void expect_status(Reader& r, status want) {
  std::vector<std::byte> buf(64);
  EXPECT_EQ(r.try_read(buf).status(), want);
}

TEST(ByteBroadcastSkip, SkipOneIsOneMissed) {
  auto [w, r] = bb::channel(shape());
  write(w, 1);
  ASSERT_EQ(w.skip(1), status::ok);
  EXPECT_EQ(w.published(), 2u);
  expect_message(r, 1);
  expect_lagged(r, 1, 3);
  expect_status(r, status::empty);  // not a wait on sequence 2 for ever
  write(w, 3);
  expect_message(r, 3);
  EXPECT_EQ(r.received(), 2u);
  EXPECT_EQ(r.missed(), 1u);
}

TEST(ByteBroadcastSkip, SeveralSkipsInARowAreOneRun) {
  auto [w, r] = bb::channel(shape());
  write(w, 1);
  write(w, 2);
  ASSERT_EQ(w.skip(2), status::ok);
  ASSERT_EQ(w.skip(1), status::ok);
  ASSERT_EQ(w.skip(0), status::ok);  // nothing
  EXPECT_EQ(w.published(), 5u);
  write(w, 6);
  expect_message(r, 1);
  expect_message(r, 2);
  expect_lagged(r, 3, 6);
  expect_message(r, 6);
  expect_status(r, status::empty);
}

TEST(ByteBroadcastSkip, SkipOfExactlyDepthAndMoreThanDepth) {
  for (const std::uint64_t g : {8u, 9u, 15u, 100u}) {
    SCOPED_TRACE(g);
    auto [w, r] = bb::channel(shape(8));
    bb::reader<> behind = r;  // reads only at the end
    write(w, 1);
    expect_message(r, 1);
    ASSERT_EQ(w.skip(g), status::ok);
    expect_lagged(r, g, g + 2);  // caught up: one lagged result, the whole skip
    expect_status(r, status::empty);
    write(w, g + 2);
    write(w, g + 3);
    expect_message(r, g + 2);
    expect_message(r, g + 3);
    // Behind: message 1 is still in its entry (the skipped sequences wrote nothing), unless
    // a later message landed in entry 1 & 7.
    const bool one_overwritten = ((g + 2) & 7) == 1 || ((g + 3) & 7) == 1;
    if (one_overwritten) {
      expect_lagged(behind, 1 + g, g + 2);
    } else {
      expect_message(behind, 1);
      expect_lagged(behind, g, g + 2);
    }
    expect_message(behind, g + 2);
    expect_message(behind, g + 3);
    EXPECT_EQ(behind.received() + behind.missed(), g + 3);
  }
}

TEST(ByteBroadcastSkip, ReaderBehindASkipLongerThanTheRingKeepsWhatIsStillThere) {
  auto [w, r] = bb::channel(shape(8));
  write_range(w, 1, 3);
  ASSERT_EQ(w.skip(21), status::ok);  // 4..24
  write(w, 25);                       // entry 1: message 1 is gone, 2 and 3 are not
  expect_lagged(r, 1, 2);
  expect_message(r, 2);
  expect_message(r, 3);
  expect_lagged(r, 21, 25);
  expect_message(r, 25);
  EXPECT_EQ(r.received(), 3u);
  EXPECT_EQ(r.missed(), 22u);
}

TEST(ByteBroadcastSkip, LapAcrossSkipsResumesAtTheOldestMessageStillThere) {
  auto [w, r] = bb::channel(shape(4));
  write(w, 1);  // the reader reads nothing before the end
  ASSERT_EQ(w.skip(2), status::ok);  // 2, 3
  write_range(w, 4, 6);  // 5 laps 1
  ASSERT_EQ(w.skip(10), status::ok);  // 7..16
  write(w, 17);  // laps 5
  // The window [14, 17] is all skips but 17; 4 and 6 outlived it in their entries.
  expect_lagged(r, 3, 4);
  expect_message(r, 4);
  expect_lagged(r, 1, 6);  // 5: overwritten by 17
  expect_message(r, 6);
  expect_lagged(r, 10, 17);
  expect_message(r, 17);
  EXPECT_EQ(r.received(), 3u);
  EXPECT_EQ(r.missed(), 14u);
}

// A ring in caller memory, so a test can start readers anywhere and watch the park words.
struct ring_in_memory {
  std::size_t size;
  std::unique_ptr<std::byte, void (*)(std::byte*)> mem;
  bb::layout<>* ring;
  explicit ring_in_memory(const bb::geometry& g)
      : size(bb::layout<>::footprint(g)),
        mem(static_cast<std::byte*>(::operator new(size, std::align_val_t{128})),
            [](std::byte* p) { ::operator delete(p, std::align_val_t{128}); }),
        ring(bb::format(mem.get(), size, g)) {}
  bb::writer<> writer() { return bb::attach_writer(mem.get(), size); }
  bb::reader<> reader(bb::start_at from = bb::start_at::next) { return bb::attach_reader(mem.get(), size, from); }
};

TEST(ByteBroadcastSkip, FromOldestOverSkippedEntries) {
  ring_in_memory m(shape(8));
  auto w = m.writer();
  ASSERT_EQ(w.skip(2), status::ok);  // 1, 2
  write(w, 3);
  ASSERT_EQ(w.skip(1), status::ok);  // 4
  write(w, 5);
  auto r = m.reader(bb::start_at::oldest);
  EXPECT_EQ(r.next_seq(), 1u);
  expect_lagged(r, 2, 3);
  expect_message(r, 3);
  expect_lagged(r, 1, 5);
  expect_message(r, 5);
  expect_status(r, status::empty);

  // Past one ring: the oldest start is head - depth + 1 = 13, all of it skipped up to 20.
  ASSERT_EQ(w.skip(15), status::ok);  // 6..20
  auto late = m.reader(bb::start_at::oldest);
  EXPECT_EQ(late.next_seq(), 13u);
  expect_lagged(late, 8, 21);
  expect_status(late, status::empty);
  auto next = m.reader(bb::start_at::next);
  EXPECT_EQ(next.next_seq(), 21u);
  write(w, 21);
  expect_message(late, 21);
  expect_message(next, 21);
}

TEST(ByteBroadcastSkip, ZeroCopyViewSeesOnlyRealMessages) {
  auto [w, r] = bb::channel(shape(8));
  write(w, 1);
  ASSERT_EQ(w.skip(4), status::ok);
  write(w, 6);
  std::vector<std::uint64_t> seen;
  const auto view = [&](const bb::message_info& info, std::span<const std::byte>) { seen.push_back(info.seq); };
  EXPECT_TRUE(r.try_read_view(view));
  const bb::read_result lag = r.try_read_view(view);
  EXPECT_EQ(lag.status(), status::lagged);
  EXPECT_EQ(lag.missed(), 4u);
  EXPECT_TRUE(r.try_read_view(view));
  EXPECT_EQ(r.try_read_view(view).status(), status::empty);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 6}));  // fn never ran on a skipped entry
}

TEST(ByteBroadcastSkip, CloseAfterSkipDrainsThenClosed) {
  auto [w, r] = bb::channel(shape(8));
  write(w, 1);
  ASSERT_EQ(w.skip(3), status::ok);
  w.close();
  EXPECT_EQ(w.skip(1), status::closed);
  expect_message(r, 1);
  expect_lagged(r, 3, 5);
  expect_status(r, status::closed);
  EXPECT_EQ(r.received() + r.missed(), 4u);
}

TEST(ByteBroadcastSkip, ParkedReaderIsWokenBySkip) {
  ring_in_memory m(shape(8));
  auto w = m.writer();
  auto r = m.reader();
  r.set_wait(ringwire::wait_strategy::park(0));
  bb::read_result got;
  std::vector<std::byte> buf(64);
  std::thread t([&] { got = r.read_for(buf, 30s); });
  while (m.ring->control.parked.load() == 0) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // most likely asleep in the futex by now
  ASSERT_EQ(w.skip(5), status::ok);
  t.join();
  ASSERT_EQ(got.status(), status::lagged) << ringwire::to_string(got.status());
  EXPECT_EQ(got.missed(), 5u);
  EXPECT_EQ(r.next_seq(), 6u);
  EXPECT_EQ(w.wakes(), 1u);  // the skip rang the bell

  // A blocking read after a skip it has not seen yet returns at once, too.
  ASSERT_EQ(w.skip(2), status::ok);
  got = r.read_for(buf, 30s);
  EXPECT_EQ(got.status(), status::lagged);
  EXPECT_EQ(got.missed(), 2u);
}

TEST(ByteBroadcastSkip, CreditedReaderCountsSkipsAndLosesNoMessage) {
  auto [w, r] = bb::channel(shape(4, 1));
  auto c = r.credited();
  write(w, 1);
  write(w, 2);
  ASSERT_EQ(w.skip(3), status::ok);  // 3..5: needs no credits
  // The gate counts sequences: 6 would be 5 past the cursor (1).
  EXPECT_EQ(w.try_write(6, payload(6)), status::full);
  expect_message(c, 1);
  EXPECT_EQ(w.try_write(6, payload(6)), status::full);
  expect_message(c, 2);  // cursor 3: inside the skipped run, which counts as its end (6)
  write_range(w, 6, 9);
  EXPECT_EQ(w.try_write(10, payload(10)), status::full);
  expect_lagged(c, 3, 6);
  expect_messages(c, 6, 9);
  expect_status(c, status::empty);
  EXPECT_EQ(c.received(), 6u);
  EXPECT_EQ(c.missed(), 3u);
  write(w, 10);
}

TEST(ByteBroadcastSkip, CaughtUpCreditedReaderDoesNotHoldTheWriterAcrossASkip) {
  auto [w, r] = bb::channel(shape(4, 1));
  auto c = r.credited();
  write(w, 1);
  expect_message(c, 1);  // cursor 2: caught up
  ASSERT_EQ(w.skip(10), status::ok);  // 2..11: more than the ring past its cursor
  // The cursor lies inside the skipped run, which holds nothing: a whole ring of writes
  // goes in without the reader moving (its cursor counts as 12).
  write_range(w, 12, 15);
  EXPECT_EQ(w.try_write(16, payload(16)), status::full);  // 12 is unread: not a lap
  // The reader finds entry 2 overwritten by 14 and resumes at the oldest message there.
  expect_lagged(c, 10, 12);
  expect_messages(c, 12, 15);
  write(w, 16);
  expect_message(c, 16);
  EXPECT_EQ(c.missed(), 10u);
  EXPECT_EQ(c.received(), 6u);
}

TEST(ByteBroadcastSkip, CreditedReaderBehindTwoSkipsLosesNoMessage) {
  auto [w, r] = bb::channel(shape(4, 1));
  auto c = r.credited();
  ASSERT_EQ(w.skip(5), status::ok);  // 1..5, the cursor (1) inside it
  write_range(w, 6, 9);
  ASSERT_EQ(w.skip(100), status::ok);  // 10..109: the cursor is no longer in the latest run
  EXPECT_EQ(w.try_write(110, payload(110)), status::full);  // 6..9 unread
  expect_lagged(c, 5, 6);
  expect_messages(c, 6, 9);
  expect_lagged(c, 100, 110);
  write(w, 110);
  expect_message(c, 110);
  EXPECT_EQ(c.received(), 5u);
  EXPECT_EQ(c.missed(), 105u);
}

TEST(ByteBroadcastSkip, StatsCountSkippedSequencesInTheCreditedLag) {
  auto [w, r] = bb::channel(shape(8, 1));
  auto c = r.credited();
  write(w, 1);
  expect_message(c, 1);
  ASSERT_EQ(w.skip(3), status::ok);
  const bb::stats before = w.make_monitor().snapshot();
  ASSERT_EQ(before.credited_readers.size(), 1u);
  EXPECT_EQ(before.published, 4u);
  EXPECT_EQ(before.credited_readers[0].lag, 3u);  // sequences, until it passes them
  expect_lagged(c, 3, 5);
  const bb::stats after = w.make_monitor().snapshot();
  EXPECT_EQ(after.credited_readers[0].lag, 0u);
}

TEST(ByteBroadcastSkip, FragmentsAroundASkipShowTheGap) {
  auto [w, r] = bb::channel(shape(8));
  ASSERT_EQ(w.try_write(1, payload(1), bb::ctl_som), status::ok);
  ASSERT_EQ(w.skip(1), status::ok);  // the middle fragment never arrived
  ASSERT_EQ(w.try_write(3, payload(3), bb::ctl_eom), status::ok);
  std::vector<std::byte> buf(64);
  EXPECT_EQ(r.try_read(buf).info().ctl, bb::ctl_som);
  const bb::read_result gap = r.try_read(buf);
  EXPECT_EQ(gap.status(), status::lagged);  // the reader's cue to drop the open message
  EXPECT_EQ(gap.missed(), 1u);
  EXPECT_EQ(r.try_read(buf).info().ctl, bb::ctl_eom);
}

// ---- shared memory ---------------------------------------------------------------------

using ByteBroadcastSkipShm = shm_test::named;

TEST_F(ByteBroadcastSkipShm, ReaderInAnotherProcessCountsEverySkip) {
  namespace shm = ringwire::shm;
  namespace sbb = ringwire::shm::byte_broadcast;
  const bb::geometry g{16, 4096, 64, 0};
  const auto n = name("skip");
  auto seg = shm::segment::create(n, shm::byte_broadcast_spec(g));
  constexpr std::uint64_t rounds = 200;  // each: one message, then a skip of (k % 20)
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 0;
    {
      auto s = shm::segment::open(n, shm::byte_broadcast_spec(g), {.read_only = true});
      auto r = sbb::attach_reader(s, bb::start_at::oldest);
      const char c = 1;
      if (::write(ready[1], &c, 1) != 1) code |= 1;
      std::vector<std::byte> buf(64);
      std::uint64_t expected = r.next_seq();
      for (;;) {
        const bb::read_result m = r.read_for(buf, 30s);
        if (m.status() == status::closed) break;
        if (m.status() == status::lagged) {
          expected += m.missed();
          continue;
        }
        if (m.status() != status::ok) {
          code |= 2;
          break;
        }
        const auto want = payload(m.info().seq);
        if (m.info().seq != expected || m.info().size != want.size() || std::memcmp(buf.data(), want.data(), want.size()) != 0)
          code |= 4;
        ++expected;
      }
      if (r.received() + r.missed() != expected - 1) code |= 16;
      if (r.received() == 0) code |= 32;
    }
    std::_Exit(code);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  std::uint64_t seq = 0;
  {
    auto w = sbb::attach_writer(seg);
    for (std::uint64_t k = 1; k <= rounds; ++k) {
      ASSERT_EQ(w.try_write(seq + 1, payload(seq + 1)), status::ok);
      ASSERT_EQ(w.skip(k % 20), status::ok);
      seq = w.published();
      if (k % 16 == 0) std::this_thread::sleep_for(1ms);  // let the reader keep up some of the time
    }
  }  // detaching closes
  // A re-attached writer resumes after the skips, and a reader from the oldest entry
  // counts them.
  {
    auto w = sbb::attach_writer(seg);
    EXPECT_EQ(w.published(), seq);
    ASSERT_EQ(w.skip(3), status::ok);
    ASSERT_EQ(w.try_write(seq + 4, payload(seq + 4)), status::ok);
    auto r = sbb::attach_reader(seg, bb::start_at::next);
    EXPECT_EQ(r.next_seq(), seq + 5);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
