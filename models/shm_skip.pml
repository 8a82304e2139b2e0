/* models/shm_skip.pml -- the crash / skip protocol of a many-to-one byte ring in shared
 * memory (include/ringwire/shm/byte_ring.hpp, byte_ring/shared_writer.hpp, docs/shm.md
 * "Byte rings in a segment"), as a spin (Promela) model. Spin explores every interleaving of:
 *
 *   writer(p), p = 1..NW   attach: walk the claim slots; a slot whose holder is dead is
 *                          reaped into "abandoned" (with the tail at that moment) and
 *                          skipped; a free slot (0) is taken (CAS), its span emptied. Then
 *                          for one record of room 1 or 2: load the tail t; announce the
 *                          span [t, t + room) (start, then end: two stores); CAS the tail
 *                          from t (failure: retract the span, end = start, then retry or
 *                          give up); store the "in progress" header with the slot's tag;
 *                          commit. Detach: release the slot (0).
 *                          May crash (kill -9) between any two steps -- in particular after
 *                          the CAS and before the header store: the window this model
 *                          exists for.
 *   reader()               reads records in order: committed or padding -> past it (by its
 *                          length); in progress with tag w -> if slot w is abandoned, turn
 *                          the record into padding (CAS) and go on, else wait; a zero header
 *                          below the tail -> orphan_end(): a span covering the position
 *                          whose slot is not abandoned -> wait; else pad from the position
 *                          to the nearest end among the covering abandoned spans (one step
 *                          here: the C++ loads each word with acquire, and its pad is a CAS
 *                          from zero that fails once a live writer's header landed)
 *                          (CAS from zero). Frees an abandoned slot (emptying its span first)
 *                          once its read position has passed the recorded tail. Before it
 *                          waits it reaps (recover() does): a slot naming a dead process
 *                          becomes abandoned(tail). Ends when it has read every claimed
 *                          position and every writer has ended.
 *
 * Each writer is one process with one handle, so one span; the C++ gives every handle (a
 * thread's copy) a span of its own, which this model's writers stand for. Promela is
 * sequentially consistent; the C++ orders that give these steps this order are stated in
 * shared_writer.hpp (announce) and shm/byte_ring.hpp (orphan_end).
 *
 * Checked (spin -a, pan: assertions and invalid end states):
 *   A1  the reader never turns a record into padding that a live writer will commit
 *   A2  padding made over a zero header covers only room that dead writers claimed and
 *       never wrote (no live writer's room, nothing committed or in progress)
 *   E   the reader never waits for ever: every run ends with it done (each record or room
 *       a dead writer left is skipped once a reap has run)
 *
 * Mutants (spin -DMUTANT=n), each must be caught:
 *   1  attach takes a dead holder's slot over directly (no abandon): E
 *   2  the reader frees an abandoned slot without waiting to pass its recorded tail: E
 *   3  the reader skips any record in progress, without asking whose it is: A1
 *   4  no spans (the order before layout version 4): a writer killed between its CAS and
 *      its header store leaves a zero header nobody can attribute: E
 *   5  the reader pads to the farthest end of the covering spans, not the nearest: A2
 *   6  a failed CAS does not retract the span: a writer that gives up leaves a stale span
 *      over room a dead writer won, and the reader waits on it for ever: E
 *   7  the reader frees an abandoned slot without emptying its span: a stale span reaching
 *      past the recorded tail then covers later room and the reader waits for ever: E
 */

#ifndef MUTANT
#define MUTANT 0
#endif

#define NW 3          /* writer processes */
#define NSLOT 2       /* claim slots (tags 1..NSLOT) */
#define NPOS 3        /* byte positions: room for the writers' records */
#define ABANDON 16    /* claim value: ABANDON + recorded tail */

#define ZERO 0
#define COMMITTED 1
#define PADDING 2
#define INPROG 8      /* INPROG + tag */

byte claim[NSLOT];    /* 0 free; p (1..NW) held; ABANDON + t abandoned at tail t */
byte header[NPOS + 1];
byte hlen[NPOS + 1];  /* a header's length (positions it covers) */
byte owner[NPOS + 1]; /* ghost: the writer whose CAS claimed the position */
byte sstart[NW + 1];  /* writer p's span */
byte send[NW + 1];
byte slotof[NW + 1];  /* writer p's slot + 1 (0: none); the C++ spans live in the slot */
byte tail = 0;
bool alive[NW + 1];
byte ended = 0;       /* writers that detached, failed to attach, or died */

#define is_abandoned(v) ((v) >= ABANDON)
#define abandoned_tail(v) ((v) - ABANDON)
#define COV(q, x) (sstart[q] <= (x) && (x) < send[q])
#define SLOT_ABANDONED(q) (slotof[q] != 0 && is_abandoned(claim[slotof[q] - 1]))
#define STUCK(q, x) (COV(q, x) && !SLOT_ABANDONED(q))
#define UNKNOWN(x) (STUCK(1, x) || STUCK(2, x) || STUCK(3, x))
#define ANYCOVER(x) (COV(1, x) || COV(2, x) || COV(3, x))
#define REAPABLE(w) (claim[w] != 0 && !is_abandoned(claim[w]) && !alive[claim[w]])

/* A crash: any time the writer is not in an atomic step. */
#define MAYBE_DIE if :: skip :: atomic { alive[p] = false }; goto died fi

inline reap_slot(w) {
  atomic {
    if
    :: claim[w] != 0 && !is_abandoned(claim[w]) && !alive[claim[w]] -> claim[w] = ABANDON + tail
    :: else -> skip
    fi
  }
}

proctype writer(byte p) {
  byte w = 0, got = NSLOT, t, room, x;
  bool won;
  alive[p] = true;
  /* attach: first slot that is free, reaping dead ones on the way */
  do
  :: w < NSLOT ->
     atomic {
       if
       :: claim[w] != 0 && !is_abandoned(claim[w]) && !alive[claim[w]] ->
#if MUTANT == 1
          claim[w] = p; got = w; slotof[p] = w + 1; break     /* takeover without abandoning */
#else
          claim[w] = ABANDON + tail                    /* reap, move on */
#endif
       :: claim[w] == 0 ->
          claim[w] = p; got = w;
          for (x : 1 .. NW) {                    /* the slot's spans are emptied at attach */
            if
            :: slotof[x] == w + 1 -> send[x] = sstart[x]
            :: else -> skip
            fi
          }
          slotof[p] = w + 1; break
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
  if :: room = 1 :: room = 2 fi;
again:
  t = tail;                                       /* relaxed load: a guess */
  if
  :: t + room > NPOS -> goto detach               /* full: give up */
  :: else -> skip
  fi;
#if MUTANT != 4
  atomic { sstart[p] = t };                /* announce: start, then end */
  MAYBE_DIE;
  atomic { send[p] = t + room };
#endif
  MAYBE_DIE;
  atomic {
    if
    :: tail == t ->
       tail = t + room; won = true;
       for (x : t .. t + room - 1) { owner[x] = p }
    :: else -> won = false
    fi
  }
  if
  :: !won ->
#if MUTANT != 6
     MAYBE_DIE;
     atomic { send[p] = sstart[p] };       /* retract */
#endif
     if
     :: goto again
     :: goto detach                               /* e.g. the ring was full on the retry */
     fi
  :: else -> skip
  fi;
  MAYBE_DIE;                                      /* the window: claimed, header still zero */
  atomic {
    assert(header[t] == ZERO);                    /* A1: nobody padded our room */
    header[t] = INPROG + got + 1; hlen[t] = room
  }
  MAYBE_DIE;
  atomic {
    assert(header[t] == INPROG + got + 1);        /* A1 */
    header[t] = COMMITTED
  }
  MAYBE_DIE;
detach:
  atomic { claim[got] = 0 };
finish:
  atomic { alive[p] = false; ended++ }
  goto out;
died:
  ended++;
out:
  skip
}

/* Frees abandoned slots the read position has passed (emptying their spans first). */
inline free_passed() {
  for (w : 0 .. NSLOT - 1) {
    atomic {
      if
#if MUTANT == 2
      :: is_abandoned(claim[w]) ->
#else
      :: is_abandoned(claim[w]) && r >= abandoned_tail(claim[w]) ->
#endif
#if MUTANT != 7
         for (q : 1 .. NW) {
           if
           :: slotof[q] == w + 1 -> send[q] = sstart[q]
           :: else -> skip
           fi
         }
#endif
         claim[w] = 0
      :: else -> skip
      fi
    }
  }
}

proctype reader() {
  byte r = 0, w, h, q, e, x;
  do
  :: atomic { r == tail && ended == NW -> break }
  :: r < tail ->
     h = header[r];
     if
     :: h == COMMITTED || h == PADDING -> r = r + hlen[r]; free_passed()
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
             (header[r] != h || is_abandoned(claim[w]) || REAPABLE(w))
          fi
        }
     :: h == ZERO ->
        for (w : 0 .. NSLOT - 1) { reap_slot(w) }
        /* orphan_end(r), taken as one step here (the C++ reads each word with acquire,
         * and its CAS from zero fails if a live writer's header landed meanwhile) */
        atomic {
          if
          :: header[r] == ZERO && !UNKNOWN(r) && ANYCOVER(r) ->
             e = r;
             for (q : 1 .. NW) {
               if
#if MUTANT == 5
               :: COV(q, r) && (e == r || send[q] > e) -> e = send[q]
#else
               :: COV(q, r) && (e == r || send[q] < e) -> e = send[q]
#endif
               :: else -> skip
               fi
             }
             for (x : r .. e - 1) {                /* A2 */
               assert(header[x] == ZERO && owner[x] != 0 && !alive[owner[x]])
             }
             header[r] = PADDING; hlen[r] = e - r
          :: else ->                              /* wait until something can change */
             (header[r] != ZERO || (!UNKNOWN(r) && ANYCOVER(r)) || REAPABLE(0) || REAPABLE(1))
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
