// ringwire/ringwire.hpp -- every ringwire channel and facility.
#pragma once

#include "ringwire/broadcast.hpp"
#include "ringwire/byte_broadcast.hpp"
#include "ringwire/byte_ring.hpp"
#include "ringwire/concepts.hpp"
#include "ringwire/bus.hpp"
#include "ringwire/error.hpp"
#include "ringwire/metrics.hpp"
#include "ringwire/mpmc.hpp"
#include "ringwire/mpsc.hpp"
#include "ringwire/pipeline.hpp"
#include "ringwire/placement.hpp"
#include "ringwire/shm.hpp"
#include "ringwire/spsc.hpp"
#include "ringwire/status.hpp"
#include "ringwire/sync.hpp"
#include "ringwire/wait.hpp"
