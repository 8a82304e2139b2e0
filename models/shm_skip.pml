/* models/shm_skip.pml -- the crash / skip protocol of a many-to-one byte ring in shared
 * memory (include/ringwire/shm/byte_ring.hpp, docs/shm.md "Byte rings in a segment"), as a
 * spin (Promela) model. Spin explores every interleaving of:
 *
 *   writer(p), p = 1..NW   attach: walk the claim slots; a slot whose holder is dead is
 *                          reaped into "abandoned" (with the tail at that moment) and
 *                          skipped; a free slot (0) is taken (CAS). Then claim room for up
 *                          to two records (tail + 1) and mark each in progress with the
 *                          slot's tag, then commit it. Detach: release the slot (0).
 *                          May crash (kill -9) between any two steps.
 *   reader()               reads records in order: committed or padding -> past it; in
 *                          progress with tag w -> if slot w is abandoned, turn the record
 *                          into padding (CAS) and go on, else wait; frees an abandoned slot
 *                          once its read position has passed the recorded tail. Before it
 *                          waits on a record in progress it reaps (recover() does): a slot
 *                          naming a dead process becomes abandoned(tail). Ends when it has
 *                          read every claimed record and every writer has ended.
 *
 * The record's claim (the tail CAS) and its in-progress header are one step here: a writer
 * killed between the two leaves a zero header with no owner, the known limit stated in
 * shm/byte_ring.hpp; the model checks everything else. Promela is sequentially consistent;
 * the C++ orders that make each step visible in this order are stated in byte_ring.hpp.
 *
 * Checked (spin -a, pan: assertions and invalid end states):
 *   A1  the reader never turns a record into padding that a live writer will commit
 *   E   the reader never waits for ever: every run ends with it done (each record a dead
 *       writer left in progress is skipped once a reap has run)
 *
 * Mutants (spin -DMUTANT=n), each must be caught:
 *   1  attach takes a dead holder's slot over directly (no abandon): the dead writer's
 *      record keeps a tag a live writer now holds: E
 *   2  the reader frees an abandoned slot without waiting to pass its recorded tail: E
 *   3  the reader skips any record in progress, without asking whose it is: A1
 */

#ifndef MUTANT
#define MUTANT 0
#endif

#define NW 3          /* writer processes */
#define NSLOT 2       /* claim slots (tags 1..NSLOT) */
#define NPOS 3        /* record positions: one record per writer */
#define RECORDS 1     /* records each writer writes at most */
#define ABANDON 16    /* claim value: ABANDON + recorded tail */

#define ZERO 0
#define COMMITTED 1
#define PADDING 2
#define INPROG 8      /* INPROG + tag */

byte claim[NSLOT];    /* 0 free; p (1..NW) held; ABANDON + t abandoned at tail t */
byte header[NPOS];
byte tail = 0;
bool alive[NW + 1];
byte ended = 0;       /* writers that detached, failed to attach, or died */

#define is_abandoned(v) ((v) >= ABANDON)
#define abandoned_tail(v) ((v) - ABANDON)

/* A crash: any time the writer is not in an atomic step. */
#define MAYBE_DIE if :: skip :: alive[p] = false; goto died fi

inline reap_slot(w) {
  atomic {
    if
    :: claim[w] != 0 && !is_abandoned(claim[w]) && !alive[claim[w]] -> claim[w] = ABANDON + tail
    :: else -> skip
    fi
  }
}

proctype writer(byte p) {
  byte w = 0, got = NSLOT, i, pos, n = 0;
  alive[p] = true;
  /* attach: first slot that is free, reaping dead ones on the way */
  do
  :: w < NSLOT ->
     atomic {
       if
       :: claim[w] != 0 && !is_abandoned(claim[w]) && !alive[claim[w]] ->
#if MUTANT == 1
          claim[w] = p; got = w; break            /* takeover without abandoning */
#else
          claim[w] = ABANDON + tail               /* reap, move on */
#endif
       :: claim[w] == 0 -> claim[w] = p; got = w; break
       :: else -> skip
       fi
     }
     w++
  :: w >= NSLOT -> break
  od;
  if
  :: got == NSLOT -> goto finish                  /* too_many_producers */
  :: else -> skip
  fi;
  MAYBE_DIE;
  /* up to RECORDS records */
  do
  :: n < RECORDS ->
     atomic {
       if
       :: tail < NPOS -> pos = tail; tail++; header[pos] = INPROG + got + 1
       :: else -> break
       fi
     }
     MAYBE_DIE;
     atomic {
       assert(header[pos] == INPROG + got + 1);   /* A1: nobody padded our record */
       header[pos] = COMMITTED
     }
     n++;
     MAYBE_DIE
  :: n < RECORDS -> break                          /* stop early */
  :: n >= RECORDS -> break
  od;
  claim[got] = 0;                                  /* detach */
finish:
  atomic { alive[p] = false; ended++ }
  goto out;
died:
  ended++;
out:
  skip
}

/* Frees abandoned slots the read position has passed. */
inline free_passed() {
  for (w : 0 .. NSLOT - 1) {
    atomic {
      if
#if MUTANT == 2
      :: is_abandoned(claim[w]) -> claim[w] = 0
#else
      :: is_abandoned(claim[w]) && r >= abandoned_tail(claim[w]) -> claim[w] = 0
#endif
      :: else -> skip
      fi
    }
  }
}

proctype reader() {
  byte r = 0, w, h;
  do
  :: atomic { r == tail && ended == NW -> break }
  :: r < tail ->
     h = header[r];
     if
     :: h == COMMITTED || h == PADDING -> r++; free_passed()
     :: h >= INPROG ->
        w = h - INPROG - 1;
        reap_slot(w);                             /* recover(): reap first */
        atomic {
          if
#if MUTANT == 3
          :: header[r] == h -> header[r] = PADDING
#else
          :: is_abandoned(claim[w]) && header[r] == h -> header[r] = PADDING
#endif
          :: else ->                              /* wait until something can change */
             (header[r] != h || is_abandoned(claim[w]) ||
              (claim[w] != 0 && !is_abandoned(claim[w]) && !alive[claim[w]]))
          fi
        }
     fi
  od
}

init {
  byte p;
  atomic {
    for (p : 1 .. NW) { run writer(p) }
    run reader()
  }
}
