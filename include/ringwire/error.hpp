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
  invalid_topic,       // bus: an empty topic name
  publisher_exists,    // bus: the topic's single publisher is still alive
  type_mismatch,       // topic_bus: the topic carries another message type
  topic_conflict,      // bus: the topic exists with other settings (capacity, options, producers)
  too_many_producers,    // mpsc: every lane has a sender (or undrained messages)
  shm_exists,          // shm: create found a segment of that name (never reused or truncated)
  shm_not_found,       // shm: no segment of that name
  shm_permission_denied,  // shm: the segment exists but its mode refuses us
  shm_not_ringwire,    // shm: the bytes do not start with ringwire's magic
  shm_version_mismatch,  // shm: a layout version this build does not read
  shm_kind_mismatch,   // shm: another channel kind (spsc, mpsc, broadcast)
  shm_type_mismatch,   // shm: another element size, alignment or type tag
  shm_capacity_mismatch,  // shm: another capacity than the caller expects
  shm_truncated,       // shm: the mapping is smaller than the header says
  shm_initialising,    // shm: the creator has not finished formatting it
  shm_corrupt,         // shm: fields disagree with each other or with the checksum
  shm_already_attached,  // shm: that side of the channel is attached elsewhere
  shm_system_error,    // shm: another operating-system failure (errno in the message)
  message_too_large,   // byte rings: a record larger than the ring allows (never truncated)
  invalid_message_type,  // byte rings: a type id the record format reserves
  ring_corrupt,        // byte rings: the ring's memory fails validation (a reader never trusts it)
  shm_not_a_segment,   // shm: the name is not a regular file (a FIFO, directory, device, socket or symlink)
  shm_untrusted_owner,  // shm: the segment's owner is not this process's effective uid nor a trusted one
  invalid_cpu,         // placement: a CPU that does not exist or is outside this process's allowed set
  invalid_numa_node,   // placement: a NUMA node that does not exist (memory_options::numa_node)
  hugepages_unavailable,  // placement: huge pages asked for (memory_options::hugepages) and none reserved
  memory_lock_denied,  // placement: mlock refused (RLIMIT_MEMLOCK or privilege; memory_options::lock)
};

inline const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::invalid_capacity: return "invalid capacity";
    case errc::capacity_too_large: return "capacity too large";
    case errc::already_split: return "endpoints already taken";
    case errc::invalid_options: return "invalid options";
    case errc::too_many_subscribers: return "too many subscribers";
    case errc::invalid_topic: return "invalid topic";
    case errc::publisher_exists: return "publisher exists";
    case errc::type_mismatch: return "type mismatch";
    case errc::topic_conflict: return "topic conflict";
    case errc::too_many_producers: return "too many producers";
    case errc::shm_exists: return "segment exists";
    case errc::shm_not_found: return "no such segment";
    case errc::shm_permission_denied: return "segment permission denied";
    case errc::shm_not_ringwire: return "not a ringwire segment";
    case errc::shm_version_mismatch: return "segment layout version mismatch";
    case errc::shm_kind_mismatch: return "segment channel kind mismatch";
    case errc::shm_type_mismatch: return "segment element type mismatch";
    case errc::shm_capacity_mismatch: return "segment capacity mismatch";
    case errc::shm_truncated: return "segment truncated";
    case errc::shm_initialising: return "segment still initialising";
    case errc::shm_corrupt: return "segment corrupt";
    case errc::shm_already_attached: return "segment side already attached";
    case errc::shm_system_error: return "segment system error";
    case errc::message_too_large: return "message too large";
    case errc::invalid_message_type: return "invalid message type";
    case errc::ring_corrupt: return "ring corrupt";
    case errc::shm_not_a_segment: return "not a segment (not a regular file)";
    case errc::shm_untrusted_owner: return "segment owner not trusted";
    case errc::invalid_cpu: return "invalid CPU";
    case errc::invalid_numa_node: return "invalid NUMA node";
    case errc::hugepages_unavailable: return "huge pages unavailable";
    case errc::memory_lock_denied: return "memory lock denied";
  }
  return "unknown error";
}

// The enumerator's own name ("shm_corrupt"): a stable identifier for machine-readable output
// (the `ringwire` command's --json, the bindings), where to_string() is for people.
inline const char* identifier(errc e) noexcept {
  switch (e) {
    case errc::invalid_capacity: return "invalid_capacity";
    case errc::capacity_too_large: return "capacity_too_large";
    case errc::already_split: return "already_split";
    case errc::invalid_options: return "invalid_options";
    case errc::too_many_subscribers: return "too_many_subscribers";
    case errc::invalid_topic: return "invalid_topic";
    case errc::publisher_exists: return "publisher_exists";
    case errc::type_mismatch: return "type_mismatch";
    case errc::topic_conflict: return "topic_conflict";
    case errc::too_many_producers: return "too_many_producers";
    case errc::shm_exists: return "shm_exists";
    case errc::shm_not_found: return "shm_not_found";
    case errc::shm_permission_denied: return "shm_permission_denied";
    case errc::shm_not_ringwire: return "shm_not_ringwire";
    case errc::shm_version_mismatch: return "shm_version_mismatch";
    case errc::shm_kind_mismatch: return "shm_kind_mismatch";
    case errc::shm_type_mismatch: return "shm_type_mismatch";
    case errc::shm_capacity_mismatch: return "shm_capacity_mismatch";
    case errc::shm_truncated: return "shm_truncated";
    case errc::shm_initialising: return "shm_initialising";
    case errc::shm_corrupt: return "shm_corrupt";
    case errc::shm_already_attached: return "shm_already_attached";
    case errc::shm_system_error: return "shm_system_error";
    case errc::message_too_large: return "message_too_large";
    case errc::invalid_message_type: return "invalid_message_type";
    case errc::ring_corrupt: return "ring_corrupt";
    case errc::shm_not_a_segment: return "shm_not_a_segment";
    case errc::shm_untrusted_owner: return "shm_untrusted_owner";
    case errc::invalid_cpu: return "invalid_cpu";
    case errc::invalid_numa_node: return "invalid_numa_node";
    case errc::hugepages_unavailable: return "hugepages_unavailable";
    case errc::memory_lock_denied: return "memory_lock_denied";
  }
  return "unknown";
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
