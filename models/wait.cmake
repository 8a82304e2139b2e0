# models/wait.cmake -- the one waiting loop (detail::wait_with) under Relacy, apart from any
# channel (models/wait_relacy.cpp), included by models/CMakeLists.txt.
#   wait_relacy                          every parking policy against its smallest waker
#   wait_relacy_mutant_no_light_fence    light_fence() a no-op: must be caught (DEADLOCK in
#                                        word_exclusive)
#   wait_relacy_mutant_ungenerational    a shared park word without its generation (the lost
#                                        wake-up this model found): must be caught (DEADLOCK
#                                        in word_shared_2)
ringwire_add_model(wait_relacy wait_relacy.cpp 0)
ringwire_add_model(wait_relacy_mutant_no_light_fence wait_relacy.cpp 1)
ringwire_add_model(wait_relacy_mutant_ungenerational wait_relacy.cpp 4)
add_test(NAME relacy_wait COMMAND wait_relacy)
add_test(NAME relacy_wait_detects_missing_light_fence COMMAND wait_relacy_mutant_no_light_fence)
add_test(NAME relacy_wait_detects_shared_word_without_generation COMMAND wait_relacy_mutant_ungenerational)
set_tests_properties(relacy_wait relacy_wait_detects_missing_light_fence
  relacy_wait_detects_shared_word_without_generation
  PROPERTIES LABELS "model" TIMEOUT 600)
