// ringwire/shm/census.hpp -- which named segments exist, who made them, who holds them,
// and removing the ones nobody alive can still use.
//
// A crashed process never runs its unlink policy: its named segment stays in /dev/shm
// (an anonymous one disappears with its last descriptor). list_segments() reads the header
// of every ringwire segment it may open, without joining or mapping it (one pread of the
// 512 header bytes: nothing is changed, nothing is trusted beyond what is printed), and
// judges each process it names by pid and start time, as crash recovery does
// (docs/shm.md). remove_abandoned_segments() unlinks the segments nobody alive holds, is
// attached to, or -- unless the join count is held up only by dead joiners -- created, and
// leaves every other one alone; by default only segments owned by this process's effective
// uid (trusted_owners, shm/segment.hpp). Processes that still map a removed segment keep
// their mapping; only the name goes.
//
//   for (const auto& e : ringwire::shm::list_segments())
//     std::printf("%s pid %u %s\n", e.name.c_str(), e.creator_pid, e.creator_alive ? "alive" : "dead");
//   ringwire::shm::remove_abandoned_segments();
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ringwire/shm/header.hpp"
#include "ringwire/shm/segment.hpp"

namespace ringwire::shm {

// One named ringwire segment as its header describes it.
struct segment_entry {
  std::string name;            // "/<name>", as segment::open takes it
  std::uint64_t size = 0;      // bytes of the object
  std::uint32_t version = 0;   // layout version; the fields below are read only when it is ours
  bool intact = false;         // version ours, initialised and checksum right
  std::uint32_t owner_uid = 0, owner_gid = 0;  // the object's owner (trusted_owners)
  channel_kind kind = channel_kind::spsc;
  unlink_policy unlink = unlink_policy::never;
  std::uint64_t capacity = 0;   // messages (byte kinds: the kind's capacity word, shm-layout.md)
  std::uint32_t slot_size = 0;  // bytes per element (byte kinds: their unit)
  std::uint32_t creator_pid = 0;
  bool creator_alive = false;  // pid and start time name a running process
  std::uint32_t joined = 0;    // processes that said they map it (a crashed one never left)
  std::uint32_t holders = 0;             // joins in the header's joiner table (layout.hpp)
  std::uint32_t holders_alive = 0;       // of them, by running processes
  std::uint32_t holders_unrecorded = 0;  // joins the table had no room for (never judged dead)
  std::uint32_t sender_pid = 0, receiver_pid = 0;  // claim holders, 0: none
  bool sender_alive = false, receiver_alive = false;
  std::uint32_t endpoints = 0;        // words in the claims block (the kind's claims table:
                                      // lanes, subscriber or credit entries, writers)
  std::uint32_t endpoints_alive = 0;  // of them, held by running processes

  // Under on_last_close, a join count that only dead processes hold up: every join is in
  // the table (none unrecorded) and none of them is alive. Its last live process left; the
  // name stayed only because a crashed joiner never dropped its count.
  [[nodiscard]] bool count_held_by_dead() const noexcept {
    return intact && unlink == unlink_policy::on_last_close && joined != 0 && holders_unrecorded == 0 &&
           holders_alive == 0;
  }
  // Nobody alive holds it (no recorded join) or is attached to it, and nobody alive
  // created it -- or its count is held up by dead joiners only (count_held_by_dead), which
  // under on_last_close means it would have been removed, whoever created it. A segment
  // that is not intact is never abandoned: it may be another version's, still being
  // created, or not ours to judge.
  [[nodiscard]] bool abandoned() const noexcept {
    return intact && !sender_alive && !receiver_alive && endpoints_alive == 0 && holders_alive == 0 &&
           (!creator_alive || count_held_by_dead());
  }
};

namespace detail {

// Reads the entry of the object `dir`/`file`; false when it is not a ringwire segment (or
// cannot be opened or read).
inline bool read_entry(const std::string& dir, const std::string& file, segment_entry& e) {
  const int fd = ::open((dir + "/" + file).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st {};
  unsigned char raw[header_size];  // plain bytes: nothing of another process is trusted here
  const bool read = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                    static_cast<std::uint64_t>(st.st_size) >= header_size &&
                    ::pread(fd, raw, sizeof raw, 0) == static_cast<ssize_t>(sizeof raw);
  ::close(fd);
  identity id;
  std::memcpy(&id, raw, sizeof id);
  if (!read || std::memcmp(id.magic, magic, sizeof magic) != 0) return false;
  auto word = [&raw](std::size_t at, auto v) {  // a live word, by its offset in the header
    std::memcpy(&v, raw + at, sizeof v);
    return v;
  };
  e.name = "/" + file;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.owner_uid = static_cast<std::uint32_t>(st.st_uid);
  e.owner_gid = static_cast<std::uint32_t>(st.st_gid);
  e.version = id.version;
  e.intact = id.version == layout_version && word(offsetof(header, live), std::uint32_t{}) == init_ready &&
             id.checksum == checksum(id);
  if (!e.intact) return true;
  e.kind = id.kind;
  e.unlink = id.unlink;
  e.capacity = id.capacity;
  e.slot_size = id.slot_size;
  e.creator_pid = id.creator_pid;
  e.creator_alive = process_alive(static_cast<pid_t>(id.creator_pid), id.creator_start);
  e.joined = word(offsetof(header, live) + offsetof(live_words, joined), std::uint32_t{});
  e.holders_unrecorded = word(offsetof(header, live) + offsetof(live_words, joiners_unrecorded), std::uint32_t{});
  for (int i = 0; i < joiner_entries; ++i) {
    const auto j = word(offsetof(header, live) + offsetof(live_words, joiners) + std::size_t(i) * 8, std::uint64_t{});
    e.holders += j != 0 ? 1 : 0;
    e.holders_alive += claim_alive(j) ? 1 : 0;
  }
  const auto s = word(offsetof(header, live) + offsetof(live_words, sender_claim), std::uint64_t{});
  const auto r = word(offsetof(header, live) + offsetof(live_words, receiver_claim), std::uint64_t{});
  e.sender_pid = claim_pid(s);
  e.receiver_pid = claim_pid(r);
  e.sender_alive = claim_alive(s);
  e.receiver_alive = claim_alive(r);
  e.endpoints = id.endpoints;
  if (id.endpoints != 0) {  // the claims block (shm/layout.hpp), read as plain bytes
    std::vector<std::uint64_t> claims(std::min<std::uint32_t>(id.endpoints, 1u << 16));
    const int cfd = ::open((dir + "/" + file).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    const auto bytes = static_cast<ssize_t>(claims.size() * 8);
    const bool ok = cfd >= 0 && ::pread(cfd, claims.data(), static_cast<std::size_t>(bytes),
                                         static_cast<off_t>(claims_offset(id.counters_count))) == bytes;
    if (cfd >= 0) ::close(cfd);
    if (!ok) {
      e.intact = false;  // a header promising claims the object does not hold
      return true;
    }
    for (const std::uint64_t c : claims) e.endpoints_alive += claim_alive(c) ? 1 : 0;
  }
  return true;
}

}  // namespace detail

// Every ringwire segment in `dir` (where POSIX shared memory lives on Linux) this process
// may read, in directory order. Throws shm_system_error when `dir` cannot be read.
inline std::vector<segment_entry> list_segments(const std::string& dir = "/dev/shm") {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) detail::fail_errno(errc::shm_system_error, "listing " + dir, errno);
  std::vector<segment_entry> out;
  while (const dirent* ent = ::readdir(d)) {
    const std::string file = ent->d_name;
    if (file == "." || file == "..") continue;
    segment_entry e;
    if (detail::read_entry(dir, file, e)) out.push_back(std::move(e));
  }
  ::closedir(d);
  return out;
}

// Unlinks every abandoned segment in `dir` (see segment_entry::abandoned) whose owner
// `trusted` trusts (by default: owned by this process's effective uid; a root sweep of every
// user's segments names them) and returns the names removed. A name re-created between the
// census and the unlink is left alone (the object is checked again by device and inode).
// Throws as list_segments.
inline std::vector<std::string> remove_abandoned_segments(const std::string& dir = "/dev/shm",
                                                          const trusted_owners& trusted = {}) {
  std::vector<std::string> removed;
  for (const segment_entry& e : list_segments(dir)) {
    if (!e.abandoned() || !trusted.trusts(e.owner_uid, e.owner_gid)) continue;
    const std::string path = dir + e.name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    segment_entry again;  // judged once more, just before the unlink
    if (!detail::read_entry(dir, e.name.substr(1), again) || !again.abandoned() ||
        !trusted.trusts(again.owner_uid, again.owner_gid))
      continue;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;
    struct stat now {};
    const bool same = ::fstat(fd, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino;
    ::close(fd);
    if (same && ::unlink(path.c_str()) == 0) removed.push_back(e.name);
  }
  return removed;
}

}  // namespace ringwire::shm
