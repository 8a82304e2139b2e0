# ---- shared memory: spin (Promela) models (models/shm_claim.pml) ---------------------------
#   spin_shm_claim                          the claim / takeover / reap protocol (must pass)
#   spin_shm_claim_detects_split_claim      pid and start time in two words: A3 fails
#   spin_shm_claim_detects_missing_wake     reap closes without waking: invalid end state
#   spin_shm_claim_detects_no_liveness_check reap without the liveness test: A2 fails
#   spin_shm_skip                           the byte ring's crash / skip protocol (must pass)
#   spin_shm_skip_detects_direct_takeover   attach reuses a dead slot without abandoning: E
#   spin_shm_skip_detects_early_free        an abandoned slot freed before its tail: E
#   spin_shm_skip_detects_blind_skip        any in-progress record skipped: A1
#   spin_shm_skip_detects_no_spans          no writer spans (before layout 4): a writer killed
#                                           between its tail CAS and its header wedges: E
#   spin_shm_skip_detects_farthest_end      pads to the farthest covering span: A2
#   spin_shm_skip_detects_no_retract        a failed CAS leaves its span: E
#   spin_shm_skip_detects_free_keeps_span   a freed claim keeps a stale span: E
#   spin_shm_evict                          the lossless broadcast's crash / evict protocol (must pass)
#   spin_shm_evict_detects_entry_left_live  reap releases the claim, leaves the entry: E
#   spin_shm_evict_detects_live_eviction    reap without the liveness test: A1 or E
find_program(RINGWIRE_SPIN spin)
find_program(RINGWIRE_CC NAMES cc gcc clang)
if(NOT RINGWIRE_SPIN OR NOT RINGWIRE_CC)
  message(WARNING "spin (Debian package spin) or a C compiler not found: the Promela models are not run")
  return()
endif()

function(ringwire_add_spin name model mutant expect)
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DSPIN=${RINGWIRE_SPIN} -DCC=${RINGWIRE_CC}
                   -DMODEL=${CMAKE_CURRENT_SOURCE_DIR}/${model} -DMUTANT=${mutant} "-DEXPECT=${expect}"
                   -DWORKDIR=${CMAKE_CURRENT_BINARY_DIR}/${name} -P ${CMAKE_CURRENT_SOURCE_DIR}/run_spin.cmake)
  set_tests_properties(${name} PROPERTIES LABELS "model" TIMEOUT 300)
endfunction()

ringwire_add_spin(spin_shm_claim shm_claim.pml 0 "errors: 0")
ringwire_add_spin(spin_shm_claim_detects_split_claim shm_claim.pml 1 "assertion violated.*s==.100.v")
ringwire_add_spin(spin_shm_claim_detects_missing_wake shm_claim.pml 2 "invalid end state")
ringwire_add_spin(spin_shm_claim_detects_no_liveness_check shm_claim.pml 3 "assertion violated.*alive")
ringwire_add_spin(spin_shm_skip shm_skip.pml 0 "errors: 0")
ringwire_add_spin(spin_shm_skip_detects_direct_takeover shm_skip.pml 1 "invalid end state")
ringwire_add_spin(spin_shm_skip_detects_early_free shm_skip.pml 2 "invalid end state")
ringwire_add_spin(spin_shm_skip_detects_blind_skip shm_skip.pml 3 "assertion violated.*header")
ringwire_add_spin(spin_shm_skip_detects_no_spans shm_skip.pml 4 "invalid end state")
ringwire_add_spin(spin_shm_skip_detects_farthest_end shm_skip.pml 5 "assertion violated.*owner")
ringwire_add_spin(spin_shm_skip_detects_no_retract shm_skip.pml 6 "invalid end state")
ringwire_add_spin(spin_shm_skip_detects_free_keeps_span shm_skip.pml 7 "invalid end state")
# The full search of the window (75 M states, ~3 min and ~4 GB with COLLAPSE) needs room.
set_tests_properties(spin_shm_skip PROPERTIES TIMEOUT 1200)
ringwire_add_spin(spin_shm_evict shm_evict.pml 0 "errors: 0")
ringwire_add_spin(spin_shm_evict_detects_entry_left_live shm_evict.pml 1 "invalid end state")
ringwire_add_spin(spin_shm_evict_detects_live_eviction shm_evict.pml 2 "(invalid end state|assertion violated)")
