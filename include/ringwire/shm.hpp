// ringwire/shm.hpp -- channels between processes, in shared memory.
//
// TL;DR
//   #include <ringwire/shm.hpp>
//   namespace shm = ringwire::shm;
//   // process A: create (exclusive, 0600, removed when the last process leaves) and send
//   auto seg = shm::segment::create("/ticks", shm::spsc_spec<tick>(4096));
//   auto tx = shm::spsc::attach_sender<tick>(seg);              // a ringwire::spsc::sender<tick>
//   for (const tick& t : feed) if (tx.send(t) != ringwire::status::ok) break;
//   // process B: open (validated against what it expects) and receive
//   auto seg = shm::segment::open("/ticks", shm::spsc_spec<tick>(4096), {.wait = std::chrono::seconds(5)});
//   auto rx = shm::spsc::attach_receiver<tick>(seg);            // a ringwire::spsc::receiver<tick>
//   while (auto r = rx.recv()) handle(*r);                      // closed once A detaches and it is drained
//
// Three layers, as for every ringwire channel:
//   shm/header.hpp, shm/layout.hpp, shm/validate.hpp   the segment's bytes: a versioned,
//                    checksummed 512-byte header (byte map in docs/shm-layout.md), user
//                    counters, claims, then the channel's own layout (spsc/layout.hpp,
//                    unchanged); format_segment() and validate_segment(), the one gate
//                    between foreign bytes and ringwire's code. Each kind's part of both
//                    is its channel contract (shm/contract.hpp), in the kind's own folder
//                    (spsc/shm_contract.hpp ...); ringwire/channel_kinds.hpp lists them;
//   shm/segment.hpp  the operating system: named (POSIX shm) and anonymous (memfd)
//                    segments, exclusive creation, modes, unlink policies, join/leave, and
//                    passing a descriptor over a Unix socket (send_fd / receive_fd);
//   shm/spsc.hpp     attaching the ordinary spsc::sender / spsc::receiver to a segment,
//                    one per side at a time; crash recovery (takeover of a dead side at
//                    attach, reap() from any process);
//   shm/census.hpp   listing named segments and removing those nobody alive can use.
// and one header per further kind: shm/mpsc.hpp, shm/broadcast.hpp, shm/byte_ring.hpp,
// shm/byte_broadcast.hpp (kind 5: one writer, lossy readers -- also on read-only
// mappings -- and credited readers with claims, reap()).
//
// Elements must be trivially copyable (a compile-time error otherwise). Every setup error
// is a ringwire::error with its own errc (error.hpp: shm_*); the design, the error list and
// what is not done yet (MPSC and broadcast in shared memory, eventfd notification) are in
// docs/shm.md.
#pragma once

#include "ringwire/channel_kinds.hpp"
#include "ringwire/shm/broadcast.hpp"
#include "ringwire/shm/byte_broadcast.hpp"
#include "ringwire/shm/byte_ring.hpp"
#include "ringwire/shm/census.hpp"
#include "ringwire/shm/contract.hpp"
#include "ringwire/shm/doorbell.hpp"
#include "ringwire/shm/header.hpp"
#include "ringwire/shm/layout.hpp"
#include "ringwire/shm/mpsc.hpp"
#include "ringwire/shm/segment.hpp"
#include "ringwire/shm/spsc.hpp"
#include "ringwire/shm/validate.hpp"
