/* models/shm_evict.pml -- the crash / evict protocol of a lossless broadcast ring in shared
 * memory (include/ringwire/shm/broadcast.hpp, docs/shm.md "Broadcast between processes"),
 * as a spin (Promela) model. Spin explores every interleaving of:
 *
 *   publisher()       publishes messages 1..M into a ring of C slots; before writing
 *                     message n it waits until every live registry entry's cursor (the
 *                     next message that subscriber will read) is above n - C, so no live
 *                     subscriber's unread message is overwritten (the lossless gate)
 *   subscriber(p)     takes claim slot p (its registry entry), joins (entry live, cursor =
 *                     head + 1), reads messages in order (each read checks the slot still
 *                     holds the message it expects), showing its cursor; may die (kill -9)
 *                     between any two steps, leaving its claim and its live entry behind;
 *                     or leaves cleanly (entry free, then claim released)
 *   reaper()          reap() at any moment, and once more when every subscriber has ended
 *                     (the publisher's "publish_for timed out, reap" loop): an entry whose
 *                     claim names a dead process is freed, then its claim released
 *
 * Promela is sequentially consistent; the C++ orders that make each step visible in this
 * order are stated in broadcast/layout.hpp and shm/broadcast.hpp.
 *
 * Checked (spin -a, pan: assertions and invalid end states):
 *   A1  a live subscriber never reads a slot the publisher overwrote (the gate holds for
 *       every live entry; a reap never frees a live process's entry)
 *   E   the publisher never waits for ever: every run ends with all M messages published
 *       (a dead subscriber's entry is freed by a reap, so it stops gating)
 *
 * Mutants (spin -DMUTANT=n), each must be caught:
 *   1  reap releases the dead subscriber's claim but leaves its entry live: E
 *   2  reap frees an entry without checking that its process is dead: a live subscriber
 *      loses its entry (A1 when the publisher then overwrites its unread message, or E when
 *      it re-joins and dies with its claim already released)
 */

#ifndef MUTANT
#define MUTANT 0
#endif

#define NS 2          /* subscriber processes = registry entries = claim slots */
#define C 2           /* ring capacity */
#define M 5           /* messages published */

byte slot[C];         /* the message each slot holds (0: none) */
byte head = 0;        /* newest published message */
bool live[NS];        /* registry entry state: live or free */
byte cursor[NS];      /* next message the entry's subscriber reads */
bool claimed[NS];     /* claim word: held by process NS's index (one process per slot) */
bool alive[NS];
byte ended = 0;       /* subscribers that ended (left or died) */

#define gate_open(n) ((!live[0] || cursor[0] + C > (n)) && (!live[1] || cursor[1] + C > (n)))

proctype publisher() {
  byte n;
  for (n : 1 .. M) {
    atomic { gate_open(n) -> slot[n % C] = n; head = n }
  }
}

proctype subscriber(byte p) {
  byte reads = 0;
  atomic { alive[p] = true; claimed[p] = true }
  atomic { live[p] = true; cursor[p] = head + 1 }    /* join: starts after head */
  do
  :: reads < 2 ->
     if
     :: alive[p] = false; goto died                  /* kill -9 */
     :: atomic {
          cursor[p] <= head ->                       /* a message to read */
          assert(slot[cursor[p] % C] == cursor[p]);  /* A1: not overwritten */
          cursor[p]++
        }
        reads++
     fi
  :: reads < 2 -> break                              /* stop reading, stay attached... */
  :: reads >= 2 -> break
  od;
  if
  :: alive[p] = false; goto died                     /* ...and die */
  :: skip
  fi;
  live[p] = false;                                   /* leave: entry first */
  claimed[p] = false;                                /* then the claim */
  atomic { alive[p] = false; ended++ }
  goto out;
died:
  ended++;
out:
  skip
}

inline reap_all() {
  for (i : 0 .. NS - 1) {
    atomic {
      if
#if MUTANT == 2
      :: claimed[i] -> live[i] = false; claimed[i] = false
#elif MUTANT == 1
      :: claimed[i] && !alive[i] -> claimed[i] = false
#else
      :: claimed[i] && !alive[i] -> live[i] = false; claimed[i] = false
#endif
      :: else -> skip
      fi
    }
  }
}

proctype reaper() {
  byte i;
  reap_all();                                        /* at any moment */
  (ended == NS);
  reap_all()                                         /* and once every subscriber ended */
}

init {
  byte p;
  atomic {
    for (p : 0 .. NS - 1) { run subscriber(p) }
    run publisher();
    run reaper()
  }
}
