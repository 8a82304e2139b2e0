# models/spsc_line.cmake -- the one-line SPSC channel under Relacy (models/spsc_line_relacy.cpp),
# included by models/CMakeLists.txt.
#   spsc_line_relacy                          every scenario against the real headers (must pass)
#   spsc_line_relacy_mutant_no_light_fence    light_fence() a no-op: must be caught (DEADLOCK)
#   spsc_line_relacy_mutant_relaxed_release   release stores done relaxed (the stamps among
#                                             them): must be caught (DATA RACE)
ringwire_add_model(spsc_line_relacy spsc_line_relacy.cpp 0)
ringwire_add_model(spsc_line_relacy_mutant_no_light_fence spsc_line_relacy.cpp 1)
ringwire_add_model(spsc_line_relacy_mutant_relaxed_release spsc_line_relacy.cpp 2)
add_test(NAME relacy_spsc_line COMMAND spsc_line_relacy)
add_test(NAME relacy_spsc_line_detects_missing_light_fence COMMAND spsc_line_relacy_mutant_no_light_fence)
add_test(NAME relacy_spsc_line_detects_relaxed_release COMMAND spsc_line_relacy_mutant_relaxed_release)
set_tests_properties(relacy_spsc_line relacy_spsc_line_detects_missing_light_fence
  relacy_spsc_line_detects_relaxed_release PROPERTIES LABELS "model" TIMEOUT 600)
