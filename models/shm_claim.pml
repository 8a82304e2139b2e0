/* models/shm_claim.pml -- the crash / takeover / reap protocol of a channel side's claim in a
 * shared-memory segment (include/ringwire/shm/spsc.hpp, docs/shm.md "Crash recovery"), as
 * a spin (Promela) model. Spin explores every interleaving of:
 *
 *   attacher(p), p = 1..NATT   take the side's claim (from free, or over a dead holder),
 *                              hold it, then detach cleanly (close + release); may crash
 *                              (kill -9) between any two of its steps, holding or not
 *   reaper()                   reap() run concurrently with everything, at any moment
 *   final_reaper()             reap() once every attacher has finished or died (the
 *                              receiver's "recv_for timed out, reap" loop, eventually)
 *   peer()                     the other side: parks until the side is closed, with the
 *                              futex protocol of wait.hpp (word = parked, re-check, sleep
 *                              while word == parked; the closer sets closed, then exchanges
 *                              the word to running and wakes)
 *
 * Claim word: 0 free; otherwise one word naming a process: its pid and its start time
 * (here START + p), plus BUSY while that process reaps the side. The real word packs pid
 * and start in 64 bits (layout.hpp, claim_word); the model gives each process one value,
 * CLAIM(p) = p, whose "start" part is implied. Promela is sequentially consistent; the C++
 * orders that make each step visible in this order are stated in spsc.hpp. Death is
 * permanent; pids are not reused (a reused pid has another start time, so another word).
 *
 * Checked (spin -a, pan -a: assertions and invalid end states):
 *   A1  two live processes never both own the side
 *   A2  a reaper never reaps a live holder
 *   A3  a reader of the claim that sees pid p (not busy) reads p's start time or 0,
 *       never a previous holder's
 *   E   the peer never sleeps for ever: every run ends with it awake (a closed side wakes
 *       it, whether closed by a clean detach or by a reap of a dead holder)
 *
 * Mutants (spin -DMUTANT=n), each must be caught:
 *   1  pid and start time in two words (layout version 1's design): the claim takes the
 *      pid, the start follows; a reader pairs the pid with a previous holder's start: A3
 *   2  reap closes the side but does not wake the peer: invalid end state (E)
 *   3  reap skips the liveness check: A2
 */

#ifndef MUTANT
#define MUTANT 0
#endif

#define NATT 2
#define BUSY 16
#define START 100
#define PARKED 1
#define RUNNING 0

byte claim = 0;
byte start_w = 0;
#define REAPER (NATT + 1)     /* the reapers' pid: a live process */
bool alive[NATT + 2];
bool owner[NATT + 2];
bool ever_owned = 0;
bool closed = 0;
byte word = RUNNING;        /* the peer's park word */
byte finished = 0;          /* attachers that ended (detached, refused or dead) */

#define holder(v) ((v) >= BUSY -> (v) - BUSY : (v))
/* The start-time part a reader sees with the pid: in the one-word claim, the holder's own;
 * in mutant 1, whatever the separate start word holds at that moment. */
#if MUTANT == 1
#define START_OF(v) ((v) >= BUSY -> 0 : start_w)
#else
#define START_OF(v) (START + holder(v))
#endif
/* The liveness test of claim_alive(): dead when the pid is gone, or its start differs. */
#define holder_alive(h, s) (alive[h] && ((s) == 0 || (s) == START + (h)))

/* A crash point: the process may die here (kill -9), or carry on. */
#define CRASH(p) if :: alive[p] = false; goto dead :: true -> skip fi

/* The closer's half of the park protocol: closed first, then take the word and wake. */
#define CLOSE_AND_WAKE closed = 1; if :: word == PARKED -> word = RUNNING :: else -> skip fi

proctype attacher(byte p) {
  byte seen, s;
  alive[p] = true;
try:
  CRASH(p);
  seen = claim;                                     /* load */
  if
  :: seen == 0 -> skip
  :: seen != 0 ->
     s = START_OF(seen);
     if
     :: holder(seen) == p || holder_alive(holder(seen), s) -> goto refused
     :: else -> skip                                /* dead holder: take it over */
     fi
  fi;
  CRASH(p);
#if MUTANT == 1
  atomic { if :: claim == seen -> claim = p :: else -> goto try fi };
  CRASH(p);
  start_w = START + p;                              /* the second word, after the pid */
#else
  atomic { if :: claim == seen -> claim = p :: else -> goto try fi };  /* CAS (acquire) */
#endif
  atomic {
    assert(!owner[1] || 1 == p || !alive[1]);       /* A1 */
    assert(!owner[2] || 2 == p || !alive[2]);
    owner[p] = true;
    ever_owned = true;
    closed = 0                                      /* attaching reopens the side */
  };
  CRASH(p);                                         /* dies holding the claim */
  /* clean detach: close (and wake), then release the claim */
  atomic { owner[p] = false; CLOSE_AND_WAKE };
  CRASH(p);
#if MUTANT == 1
  start_w = 0;
  CRASH(p);
#endif
  claim = 0;                                        /* release */
refused:
  finished++;
  goto done;
dead:
  atomic { owner[p] = false; finished++ };
done:
  skip
}

/* reap(): release the claim of a dead holder, close the side, wake the peer. */
inline reap_once() {
  v = claim;                                        /* load (acquire) */
  if
  :: v != 0 ->
     s = START_OF(v);
     assert(v >= BUSY || s == 0 || s == START + v); /* A3 */
#if MUTANT == 3
     if :: true -> skip :: else -> skip fi;
#else
     if
     :: holder_alive(holder(v), s) -> goto reaped
     :: else -> skip
     fi;
#endif
     atomic {
       if
       :: claim == v -> claim = REAPER + BUSY;      /* CAS to "the reaper is busy" */
          assert(!alive[holder(v)])                 /* A2 */
       :: else -> goto reaped
       fi
     };
#if MUTANT == 1
     start_w = 0;
#endif
#if MUTANT == 2
     closed = 1;
#else
     atomic { CLOSE_AND_WAKE };
#endif
     claim = 0
  :: else -> skip
  fi;
reaped:
  skip
}

proctype reaper() {
  byte v, s;
  reap_once()
}

proctype final_reaper() {
  byte v, s;
  finished == NATT;
  reap_once()
}

/* The other side: once the side was attached, waits until it is closed (the park
 * strategy). A side nobody ever attached is not waited for here. */
proctype peer() {
  if
  :: ever_owned -> skip
  :: finished == NATT && !ever_owned -> goto out
  fi;
  do
  :: closed -> break
  :: else ->
     word = PARKED;                                 /* then heavy fence */
     if
     :: closed -> word = RUNNING; break             /* re-check */
     :: else -> (word != PARKED)                    /* futex_wait: sleep while parked */
     fi
  od;
out:
  skip
}

init {
  atomic {
    alive[REAPER] = true;
    run attacher(1);
    run attacher(2);
    run reaper();
    run final_reaper();
    run peer()
  }
}
