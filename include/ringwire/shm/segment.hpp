// ringwire/shm/segment.hpp -- shared-memory segments: create, open, map, leave, delete.
//
// A segment is a POSIX shared-memory object (a name under /dev/shm, found by any process
// that knows it) or an anonymous memfd (no name: its file descriptor is the capability,
// handed to another process over a Unix socket with send_fd / receive_fd). Either way it is
// mapped whole, MAP_SHARED, and laid out as shm/layout.hpp says. This is the join: it
// creates, opens, validates and leaves through the header, on the OS calls of shm/os.hpp
// (names, untrusting opens, mapping, process liveness, descriptor passing); the channel
// inside is the spec's kind's (its contract, shm/contract.hpp, sizes, formats and
// validates it), and no kind is known here.
//
// Rules, each one a way an IPC layer loses data when it gets it wrong:
//   - create is exclusive (O_CREAT | O_EXCL): it never reuses, truncates or reformats a
//     live segment; a leftover name is shm_exists, to be opened or unlinked on purpose;
//   - permissions are owner-only (0600) unless create_options::mode says otherwise, set
//     with fchmod so the umask cannot widen or narrow them silently;
//   - the unlink policy is recorded in the header and explicit: never, on_last_close (the
//     header's join count: the last process to leave removes the name), on_creator_exit
//     (the creator removes it when it leaves). A crash leaves the name (shm/census.hpp;
//     each read-write join is recorded in the header's joiner table, so the census can
//     tell a count held up only by crashed joiners);
//   - open never blocks and trusts no name: it opens O_NONBLOCK | O_NOFOLLOW, refuses what
//     is not a regular file (a FIFO, directory, socket, link: shm_not_a_segment) and a
//     segment another uid owns (shm_untrusted_owner, unless open_options::trusted names
//     it), before reading a byte (docs/shm.md, "Threat model");
//   - open maps the object at its real size and validates it (validate_segment) before
//     anything else reads it; each mismatch is its own errc;
//   - an anonymous segment is sealed (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), so no
//     holder of its descriptor can shrink it under another's mapping (SIGBUS).
//
// A `segment` is this process's join: a counted reference to one mapping. Endpoints
// attached to it (shm/spsc.hpp) hold their own references, so the mapping stays until the
// segment object and every endpoint are gone; then this process leaves (the join count
// drops, the policy may unlink the name) and unmaps.
//
// TL;DR
//   namespace shm = ringwire::shm;
//   auto seg = shm::segment::create("/ticks", shm::spsc_spec<tick>(4096));   // process A
//   auto seg = shm::segment::open("/ticks", shm::spsc_spec<tick>(4096),      // process B
//                                 {.wait = std::chrono::seconds(1)});
//   seg.counter(0).fetch_add(1, std::memory_order_relaxed);   // a shared statistic
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "ringwire/detail/asymmetric_fence.hpp"
#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/error.hpp"
#include "ringwire/placement/memory.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/doorbell.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/shm/layout.hpp"
#include "ringwire/shm/os.hpp"
#include "ringwire/shm/validate.hpp"
#include "ringwire/sync.hpp"

namespace ringwire::shm {

struct create_options {
  mode_t mode = 0600;  // exactly these bits (not umasked); only 0777's (no setuid, setgid, sticky)
  unlink_policy unlink = unlink_policy::on_last_close;  // named segments only
  std::uint32_t counters = 8;                           // user counters (counter(i))
  // Endpoints pay a compiler barrier instead of a fence per publish when every process
  // registers for the global expedited membarrier (fence_mode::membarrier_global, decided
  // here when this process can; a process that cannot then cannot attach). false: real
  // fences on both sides, attachable by any process.
  bool asymmetric_fences = true;
  // Where the segment's pages live in the creating process (placement/memory.hpp):
  // prefault and numa_node shape the shared pages themselves (every process then maps the
  // same placed pages); lock holds them resident while this process keeps its mapping.
  // hugepages: create_anonymous only (a hugetlbfs memfd, MFD_HUGETLB); a named segment
  // lives in /dev/shm, which is not hugetlbfs, and is refused with invalid_options.
  memory_options memory = {};
};

struct open_options {
  // Keep retrying shm_not_found and shm_initialising this long (the peer may not have
  // created it yet); zero: fail at once.
  std::chrono::milliseconds wait{0};
  // Map the segment read-only (O_RDONLY, PROT_READ): for an observer that must not be able
  // to disturb the writers -- a broadcast observer (shm::broadcast::attach_observer) and
  // the census. Such a join writes nothing, not even the join count, so it does not hold a
  // named segment under unlink_policy::on_last_close; attaching anything that writes (an
  // endpoint, a registered subscriber, reap) is refused with invalid_options.
  bool read_only = false;
  // Owners trusted besides the effective uid (trusted_owners); a named segment of another
  // owner is refused with shm_untrusted_owner before a byte of it is read. open_fd does
  // not check it: a descriptor is a capability its sender chose to give.
  trusted_owners trusted = {};
};

namespace detail {

// This process's claim word (layout.hpp, claim_word).
inline std::uint64_t my_claim() noexcept {
  const pid_t me = ::getpid();
  return claim_word(static_cast<std::uint32_t>(me), process_start_time(me));
}

// Whether the claim value v (layout.hpp, claim_word) names a live process (0: nobody).
inline bool claim_alive(std::uint64_t v) noexcept {
  if (v == 0) return false;
  const auto pid = static_cast<pid_t>(claim_pid(v));
  if (!process_alive(pid, 0)) return false;
  const std::uint32_t start = claim_start(v);
  // A start time that could not be read when claiming (0), or cannot be read now, decides
  // nothing: the pid alone does.
  const std::uint64_t now = process_start_time(pid);
  return start == 0 || now == 0 || (now & 0xffff'ffffu) == start;
}

// The header's joiner table (layout.hpp, live_words::joiners): who holds a read-write join,
// so the census can tell a join count held up only by dead processes (shm/census.hpp). A
// join takes a free entry, else one whose process is dead, else counts itself in
// joiners_unrecorded (more than 32 live joins at once); it does so before the join count
// rises and undoes it after the count falls, so every counted join of a live process is in
// the table or in that count. Returns the entry, -1 for the count.
inline constexpr int joiner_entries = static_cast<int>(std::extent_v<decltype(live_words::joiners)>);
inline int record_joiner(header& h, std::uint64_t mine) noexcept {
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < joiner_entries; ++i) {
      // relaxed (load and CAS): the entry publishes nothing; the join count's acq_rel CAS
      // that follows orders it before the join is counted.
      std::uint64_t seen = h.live.joiners[i].load(std::memory_order_relaxed);
      const bool free = pass == 0 ? seen == 0 : !claim_alive(seen);  // the dead only when none is free
      if (free && h.live.joiners[i].compare_exchange_strong(seen, mine, std::memory_order_relaxed)) return i;
    }
  // relaxed: as above.
  h.live.joiners_unrecorded.fetch_add(1, std::memory_order_relaxed);
  return -1;
}
inline void forget_joiner(header& h, int entry, std::uint64_t mine) noexcept {
  // relaxed (both): after the count's release; nothing is published through the table. The
  // CAS leaves an entry alone that is no longer ours (never, while we live).
  if (entry < 0)
    h.live.joiners_unrecorded.fetch_sub(1, std::memory_order_relaxed);
  else
    (void)h.live.joiners[entry].compare_exchange_strong(mine, 0, std::memory_order_relaxed);
}

// The fence scope this process's endpoints of a segment must use (fence_mode above).
// Throws shm_system_error when the segment wants the global membarrier and this process
// cannot register for it: its endpoints would leave the peers' fast sides unordered.
inline ringwire::detail::fence_scope endpoint_scope(const identity& id) {
  using ringwire::detail::fence_scope;
  if (id.fence_mode != static_cast<std::uint32_t>(fence_mode::membarrier_global)) return fence_scope::cross_process;
  if (!ringwire::detail::asymmetric_fence::init_global())
    throw error(errc::shm_system_error,
                "the segment's processes order their park checks with membarrier(GLOBAL_EXPEDITED), which this "
                "process cannot register for (seccomp or kernel); create the segment with asymmetric_fences = false");
  return fence_scope::cross_process_asymmetric;
}


// One process's mapping of a segment: what every handle in this process counts on.
struct mapping {
  ringwire::detail::owner<std_sync> own;  // first member: release_all casts back
  std::byte* base;
  std::size_t size;
  int fd;            // anonymous: kept, for passing; named: -1 (closed once mapped)
  std::string name;  // empty: anonymous
  bool creator;
  dev_t dev;
  ino_t ino;
  identity id;  // the validated copy: every offset is taken from here
  const channel_contract* contract = nullptr;  // its kind's (the creating or opening spec's)
  bool read_only = false;  // PROT_READ: it never joined the count, and never writes
  int joiner = -1;         // its joiner table entry (record_joiner), -1: joiners_unrecorded
  std::uint64_t joiner_claim = 0;  // the claim word written there

  [[nodiscard]] header* hdr() const noexcept { return std::launder(reinterpret_cast<header*>(base)); }

  // Leaves: drops the join count, applies the unlink policy, unmaps.
  static void release_all(ringwire::detail::owner<std_sync>* o) noexcept {
    auto* m = reinterpret_cast<mapping*>(o);
    // acq_rel: this process's last uses of the segment happen-before the unlink by
    // whichever process drops the count to zero.
    const bool last = !m->read_only && m->hdr()->live.joined.fetch_sub(1, std::memory_order_acq_rel) == 1;
    if (!m->read_only) forget_joiner(*m->hdr(), m->joiner, m->joiner_claim);  // after the count: see record_joiner
    if (!m->name.empty() && ((m->id.unlink == unlink_policy::on_last_close && last) ||
                             (m->id.unlink == unlink_policy::on_creator_exit && m->creator)))
      unlink_if_same(m->name, m->dev, m->ino);
    unregister_mapping(m->base);
    ::munmap(m->base, m->size);
    if (m->fd >= 0) ::close(m->fd);
    delete m;
  }
};

using mapping_ref = ringwire::detail::counted_ref<mapping, std_sync>;

// A new mapping object, not yet counted (adopt() makes the first reference).
inline mapping* new_mapping(std::byte* base, std::size_t size, int fd, std::string name, bool creator,
                            const struct stat& st, const identity& id, const channel_contract& contract) {
  auto* m = new mapping{{}, base, size, fd, std::move(name), creator, st.st_dev, st.st_ino, id, &contract};
  m->own.release_all = &mapping::release_all;
  try {
    register_mapping(base, size, st.st_dev, st.st_ino);  // for doorbells (shm/doorbell.hpp)
  } catch (...) {
    delete m;
    throw;
  }
  // relaxed: the mapping object is not yet shared with another thread.
  m->own.refs.store(1, std::memory_order_relaxed);
  return m;
}
inline mapping_ref adopt(mapping* m) noexcept { return mapping_ref(m, &m->own); }

}  // namespace detail

// This process's join of a segment. Move-only; leave() or the destructor drops it (the
// mapping itself stays while attached endpoints still use it).
class segment {
 public:
  segment() noexcept = default;

  // Creates the named segment `name` ("/something") for `spec`, exclusively, and formats
  // it. Throws ringwire::error: invalid_options (the name, the spec, a mode outside 0777),
  // invalid_capacity, capacity_too_large, shm_exists (the name is taken, whatever it is:
  // nothing is touched), shm_permission_denied, shm_system_error. Nothing is left behind on
  // failure.
  static segment create(std::string_view name, const channel_spec& spec, const create_options& opt = {}) {
    detail::check_name(name);
    detail::check_mode(opt.mode);
    if (opt.memory.hugepages)
      throw error(errc::invalid_options, "segment " + std::string(name) +
                                             ": memory_options::hugepages needs an anonymous segment (create_anonymous): "
                                             "/dev/shm is not hugetlbfs");
    const std::size_t bytes = segment_footprint(spec, opt.counters);  // validates before any syscall
    const std::string n(name);
    detail::os_guard g;
    g.fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, opt.mode);
    if (g.fd < 0) {
      const int e = errno;
      detail::fail_errno(detail::open_errc(e), "creating segment " + n + (e == EEXIST ? " (never reused: open it, or unlink it first)" : ""), e);
    }
    g.unlink_name = n;  // ours from here: failures remove it
    return finish_create(g, bytes, spec, opt, n);
  }

  // Creates an anonymous segment (memfd): no name; pass fd() to another process with
  // send_fd. Sealed against resizing. Throws as create().
  static segment create_anonymous(const channel_spec& spec, const create_options& opt = {}) {
    detail::check_mode(opt.mode);
    const std::size_t bytes = segment_footprint(spec, opt.counters);
    create_options o = opt;
    o.unlink = unlink_policy::never;  // nothing to unlink
    if (opt.memory.hugepages) {
      detail::os_guard g;
      g.fd = ::memfd_create("ringwire", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
      const int e = errno;
      try {
        if (g.fd < 0)
          throw error(errc::hugepages_unavailable, ringwire::detail::hugepage_advice(bytes) + " (memfd_create: " +
                                                       std::strerror(e) + ")");
        return finish_create(g, bytes, spec, o, std::string(), ringwire::detail::huge_page_size());
      } catch (const error& err) {
        if (err.code() != errc::hugepages_unavailable || opt.memory.fallback == hugepage_fallback::error) throw;
      }
    }
    detail::os_guard g;
    g.fd = ::memfd_create("ringwire", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (g.fd < 0) detail::fail_errno(errc::shm_system_error, "memfd_create", errno);
    return finish_create(g, bytes, spec, o, std::string());
  }

  // Opens the named segment, validates it against `expect` (capacity 0: any) and joins.
  // Never blocks in the kernel (a FIFO at the name is refused, not waited on). Throws
  // ringwire::error: shm_not_found, shm_permission_denied, shm_not_a_segment (a FIFO,
  // directory, device, socket or symbolic link at the name), shm_untrusted_owner (see
  // open_options::trusted), shm_not_ringwire, shm_version_mismatch, shm_kind_mismatch,
  // shm_type_mismatch, shm_capacity_mismatch, shm_truncated, shm_initialising, shm_corrupt,
  // shm_system_error, invalid_options.
  static segment open(std::string_view name, const channel_spec& expect, const open_options& opt = {}) {
    return open_as(name, &expect, nullptr, opt);
  }

  // Opens the named segment read-only, whatever kind of channel it holds, to look at it
  // (describe, the census's tools): validated as fully as open() validates it for an opener
  // that expects exactly what the segment records, the kind's contract being find(kind)
  // (channel_kinds.hpp: shm::observe). Joins nothing and writes nothing (open_options::
  // read_only). Throws as open(); a kind `find` does not know is shm_kind_mismatch.
  static segment observe(std::string_view name, contract_finder find, open_options opt = {}) {
    opt.read_only = true;
    return open_as(name, nullptr, find, opt);
  }

  // Opens the segment behind `fd` (an anonymous segment's, received with receive_fd, or any
  // shared-memory descriptor). The caller keeps `fd`; the segment holds its own duplicate.
  // Throws as open() (the owner is not checked: see open_options::trusted).
  static segment open_fd(int fd, const channel_spec& expect, const open_options& opt = {}) {
    detail::os_guard g;
    g.fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (g.fd < 0) detail::fail_errno(errc::shm_system_error, "duplicating descriptor " + std::to_string(fd), errno);
    const struct stat st = detail::stat_segment(g.fd, "descriptor " + std::to_string(fd));
    return join(g, st, &expect, nullptr, std::string(), /*keep_fd=*/true, opt.read_only);
  }


  // Removes a name (the delete of the lifecycle); processes that have it mapped keep their
  // mappings. Returns false if there was no such name. Throws invalid_options,
  // shm_permission_denied, shm_not_a_segment (a directory), shm_system_error.
  static bool unlink(std::string_view name) {
    detail::check_name(name);
    const std::string n(name);
    if (::shm_unlink(n.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    detail::fail_errno(detail::open_errc(errno), "unlinking segment " + n, errno);
  }

  // Leaves the segment (see the class comment). Idempotent.
  void leave() noexcept { ref_.reset(); }
  [[nodiscard]] bool joined() const noexcept { return ref_.get() != nullptr; }
  explicit operator bool() const noexcept { return joined(); }

  // Preconditions for the rest: joined().
  [[nodiscard]] const identity& info() const noexcept { return map().id; }
  [[nodiscard]] const std::string& name() const noexcept { return map().name; }  // empty: anonymous
  [[nodiscard]] int fd() const noexcept { return map().fd; }                      // -1: named
  [[nodiscard]] std::size_t size() const noexcept { return map().size; }
  [[nodiscard]] bool creator() const noexcept { return map().creator; }
  // Mapped read-only (open_options::read_only): only observers may attach.
  [[nodiscard]] bool read_only() const noexcept { return map().read_only; }
  [[nodiscard]] channel_kind kind() const noexcept { return info().kind; }
  // Its kind's channel contract (shm/contract.hpp): name, claims table, describe.
  [[nodiscard]] const channel_contract& contract() const noexcept { return *map().contract; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return info().capacity; }
  [[nodiscard]] std::uint32_t creator_pid() const noexcept { return info().creator_pid; }
  [[nodiscard]] std::uint64_t creator_start_time() const noexcept { return info().creator_start; }
  // Processes that have it mapped (the on_last_close count).
  [[nodiscard]] std::uint32_t joined_count() const noexcept {
    // relaxed: an observation; the count orders nothing for the caller.
    return map().hdr()->live.joined.load(std::memory_order_relaxed);
  }

  // The heartbeat: CLOCK_MONOTONIC nanoseconds (one clock for every process on the host)
  // of the last beat(). Whoever owns the segment's liveness beats; it is for observers: crash
  // recovery does not read it (claims name their process by pid and start time, claim.hpp).
  void beat() const noexcept {
    // relaxed: a timestamp for observers; nothing else is published through it.
    map().hdr()->live.heartbeat.store(detail::monotonic_ns(), std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t heartbeat() const noexcept {
    // relaxed: as in beat().
    return map().hdr()->live.heartbeat.load(std::memory_order_relaxed);
  }

  // User counter i, shared by every process (each on its own 128-byte block); load only on
  // a read-only segment. Throws invalid_options when i >= counters().
  [[nodiscard]] std::uint32_t counters() const noexcept { return info().counters_count; }
  [[nodiscard]] std::atomic<std::uint64_t>& counter(std::uint32_t i) const {
    if (i >= counters())
      throw error(errc::invalid_options,
                  "counter " + std::to_string(i) + " of a segment with " + std::to_string(counters()));
    return *std::launder(reinterpret_cast<std::atomic<std::uint64_t>*>(
        map().base + info().counters_offset + std::size_t{i} * counter_stride));
  }

  // For the channel attachers (shm/spsc.hpp): a new counted reference to the mapping.
  [[nodiscard]] detail::mapping_ref share() const noexcept { return ref_.copy(); }

 private:
  explicit segment(detail::mapping_ref r) noexcept : ref_(std::move(r)) {}

  [[nodiscard]] detail::mapping& map() const noexcept {
    RINGWIRE_ASSERT(ref_.get() != nullptr);
    return *ref_.get();
  }

  // Sizes g.fd to `bytes` rounded up to `granule` (a huge page for a hugetlbfs memfd: the
  // extra bytes lie past the header's segment_size, which openers accept), maps, places it
  // (opt.memory) and formats. A hugetlbfs mapping the pool cannot back is
  // hugepages_unavailable.
  static segment finish_create(detail::os_guard& g, std::size_t bytes, const channel_spec& spec,
                               const create_options& opt, std::string name, std::size_t granule = 1) {
    const std::size_t sized = ringwire::detail::round_up(bytes, granule);
    if (::fchmod(g.fd, opt.mode) != 0) detail::fail_errno(errc::shm_system_error, "fchmod", errno);
    if (::ftruncate(g.fd, static_cast<off_t>(sized)) != 0)
      detail::fail_errno(errc::shm_system_error, "sizing the segment to " + std::to_string(sized) + " bytes", errno);
    if (name.empty() &&
        ::fcntl(g.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
      detail::fail_errno(errc::shm_system_error, "sealing the anonymous segment", errno);
    struct stat st{};
    if (::fstat(g.fd, &st) != 0) detail::fail_errno(errc::shm_system_error, "fstat", errno);
    if (granule > 1) {
      void* p = ::mmap(nullptr, sized, PROT_READ | PROT_WRITE, MAP_SHARED, g.fd, 0);
      if (p == MAP_FAILED) {
        const int e = errno;  // before anything below allocates
        throw error(errc::hugepages_unavailable, ringwire::detail::hugepage_advice(sized) + " (" + std::strerror(e) + ")");
      }
      g.base = p;
    } else {
      g.base = detail::map_fd(g.fd, sized);
    }
    g.size = sized;
    if (opt.memory.any()) ringwire::detail::place_pages(g.base, sized, opt.memory, "segment");
    const pid_t pid = ::getpid();
    const fence_mode fences = opt.asymmetric_fences && ringwire::detail::asymmetric_fence::init_global()
                                  ? fence_mode::membarrier_global
                                  : fence_mode::fenced;
    const std::uint64_t start = detail::process_start_time(pid);
    header* h = format_segment(g.base, bytes, spec, opt.unlink, opt.counters, static_cast<std::uint32_t>(pid),
                               start, fences);
    h->live.heartbeat.store(detail::monotonic_ns(), std::memory_order_relaxed);  // relaxed: see beat()
    const bool keep_fd = name.empty();
    detail::mapping* m = detail::new_mapping(static_cast<std::byte*>(g.base), sized, keep_fd ? g.fd : -1,
                                             std::move(name), /*creator=*/true, st, h->id, *spec.contract);
    m->joiner = 0;  // format_segment recorded the creator's join in the first entry
    m->joiner_claim = claim_word(static_cast<std::uint32_t>(pid), start);
    auto ref = detail::adopt(m);
    if (!keep_fd) ::close(g.fd);
    g.fd = -1;
    g.base = nullptr;
    g.unlink_name.clear();
    return segment(std::move(ref));
  }

  // open() and observe(): the named object, retried while it is missing or being formatted.
  static segment open_as(std::string_view name, const channel_spec* expect, contract_finder find,
                         const open_options& opt) {
    detail::check_name(name);
    const std::string n(name);
    const auto deadline = ringwire::detail::deadline_after(std::chrono::steady_clock::now(), opt.wait);
    for (;;) {
      try {
        detail::os_guard g;
        struct stat st{};
        g.fd = detail::open_object(n, opt.read_only ? O_RDONLY : O_RDWR, opt.trusted, st);
        return join(g, st, expect, find, n, /*keep_fd=*/false, opt.read_only);
      } catch (const error& e) {
        const bool retry = e.code() == errc::shm_not_found || e.code() == errc::shm_initialising;
        if (!retry || std::chrono::steady_clock::now() >= deadline) throw;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // Joins the regular file g.fd (st: its fstat, stat_segment's), validated against *expect,
  // or (expect null) against what it records, its contract found by `find`.
  static segment join(detail::os_guard& g, const struct stat& st, const channel_spec* expect, contract_finder find,
                      std::string name, bool keep_fd, bool read_only) {
    const auto bytes = static_cast<std::size_t>(st.st_size);
    if (bytes == 0) throw error(errc::shm_initialising, "the segment has size 0 (its creator has not sized it yet)");
    g.base = detail::map_fd(g.fd, bytes, read_only);
    g.size = bytes;
    const identity id = expect != nullptr ? validate_segment(g.base, bytes, *expect)
                                          : validate_recorded(g.base, bytes, find);
    const channel_contract& contract = expect != nullptr ? *expect->contract : *find(id.kind);
    // Allocated before joining, so nothing can fail between the join and the handle that
    // will leave again.
    detail::mapping* m = detail::new_mapping(static_cast<std::byte*>(g.base), bytes, keep_fd ? g.fd : -1,
                                             std::move(name), /*creator=*/false, st, id, contract);
    m->read_only = read_only;
    if (!read_only) {
      header& h = *std::launder(reinterpret_cast<header*>(g.base));
      m->joiner_claim = detail::my_claim();
      m->joiner = detail::record_joiner(h, m->joiner_claim);  // before the count rises
      auto& joined = h.live.joined;
      // relaxed first read: the CAS below decides.
      std::uint32_t n = joined.load(std::memory_order_relaxed);
      do {
        // A count of zero under on_last_close: its last process is removing it right now.
        if (n == 0 && id.unlink == unlink_policy::on_last_close) {
          detail::forget_joiner(h, m->joiner, m->joiner_claim);
          detail::unregister_mapping(m->base);
          delete m;  // never joined, so it must not leave; the guard unmaps and closes
          throw error(errc::shm_not_found, "the segment is being removed by its last process");
        }
        // acq_rel: pairs with leaving processes' release of the count.
      } while (!joined.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
    }
    auto ref = detail::adopt(m);
    if (!keep_fd) ::close(g.fd);
    g.fd = -1;
    g.base = nullptr;
    return segment(std::move(ref));
  }

  detail::mapping_ref ref_;
};

// The segment's channel as plain numbers (shm/layout.hpp, describe_channel): its kind's
// counters and state and the claim words held, a snapshot for tools. Throws
// invalid_options (seg not joined).
inline channel_description describe(const segment& seg) {
  if (!seg.joined()) throw error(errc::invalid_options, "describe: the segment was left or never joined");
  const detail::mapping_ref map = seg.share();
  return describe_channel(map.get()->base, map.get()->id, *map.get()->contract);
}


}  // namespace ringwire::shm
