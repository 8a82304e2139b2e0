# ---- Quint specifications (models/quint/*.qnt) -----------------------------------------
#   quint_<spec>                  `quint test` (the run definitions) and `quint run` with the
#                                 safety invariant over random traces (fixed seed)
#   quint_<spec>_detects_mutant   `quint run` on the spec's broken variant: passes only when
#                                 the invariant is violated (PASS_REGULAR_EXPRESSION)
# Quint is installed by scripts/setup.sh into .tools/node (npm, pinned). The typescript
# backend is named because the default (rust) one downloads a binary at first use.
find_program(RINGWIRE_QUINT quint HINTS ${PROJECT_SOURCE_DIR}/.tools/node/node_modules/.bin)
if(NOT RINGWIRE_QUINT)
  message(STATUS "quint not found (scripts/setup.sh installs it into .tools/node): the Quint specifications are not run")
  return()
endif()

set(_qnt_dir ${CMAKE_CURRENT_SOURCE_DIR}/quint)
set(_qnt_run --backend typescript --seed 1 --max-steps 60)
# ringwire_add_quint(name file module samples): quint run on one module, safety invariant.
function(ringwire_add_quint_run name file module samples)
  add_test(NAME ${name} COMMAND ${RINGWIRE_QUINT} run ${_qnt_run} --max-samples ${samples}
                                --main ${module} --invariant safety ${_qnt_dir}/${file})
  set_tests_properties(${name} PROPERTIES LABELS "model" TIMEOUT 300)
endfunction()
function(ringwire_add_quint_test name file module)
  add_test(NAME ${name} COMMAND ${RINGWIRE_QUINT} test --backend typescript --seed 1 --max-samples 5
                                --main ${module} ${_qnt_dir}/${file})
  set_tests_properties(${name} PROPERTIES LABELS "model" TIMEOUT 300)
endfunction()

ringwire_add_quint_test(quint_spsc_tests spsc.qnt spsc)
ringwire_add_quint_run(quint_spsc spsc.qnt spsc 1000)
ringwire_add_quint_run(quint_spsc_cap1 spsc.qnt spsc_cap1 500)
ringwire_add_quint_run(quint_spsc_detects_mutant spsc.qnt spsc_mutant 1000)

foreach(m lossy lossless evict)
  ringwire_add_quint_test(quint_broadcast_${m}_tests broadcast.qnt broadcast_${m}_tests)
  ringwire_add_quint_run(quint_broadcast_${m} broadcast.qnt broadcast_${m} 300)
endforeach()
ringwire_add_quint_run(quint_broadcast_detects_mutant broadcast.qnt broadcast_mutant 300)

ringwire_add_quint_test(quint_mpsc_lanes_tests mpsc_lanes.qnt mpsc_lanes)
ringwire_add_quint_run(quint_mpsc_lanes mpsc_lanes.qnt mpsc_lanes 200)
ringwire_add_quint_run(quint_mpsc_lanes_detects_mutant mpsc_lanes.qnt mpsc_lanes_mutant 200)
ringwire_add_quint_run(quint_mpsc_lanes_detects_undrained_recycle mpsc_lanes.qnt mpsc_lanes_mutant_drain 200)

# A mutant passes only when quint reports the violation (a parse error does not match).
set_tests_properties(quint_spsc_detects_mutant quint_broadcast_detects_mutant quint_mpsc_lanes_detects_mutant
  quint_mpsc_lanes_detects_undrained_recycle PROPERTIES PASS_REGULAR_EXPRESSION "\\[violation\\] Found an issue")
