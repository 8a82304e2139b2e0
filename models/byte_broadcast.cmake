# ---- byte broadcast: the lossy read validation and credits (models/byte_broadcast_relacy.cpp)
#   byte_broadcast_relacy                        every scenario against the real headers
#   byte_broadcast_relacy_mutant_relaxed_release release stores done relaxed: lossy_d2_n5
#                                                accepts a stale message, skip_credited_d2
#                                                takes a published message for a skipped one
#                                                (USER ASSERT FAILED both)
#   byte_broadcast_relacy_mutant_no_acquire_fence fence(acquire) a no-op: lossy_d2_n5 accepts
#                                                a torn message (USER ASSERT FAILED)
ringwire_add_model(byte_broadcast_relacy byte_broadcast_relacy.cpp 0)
ringwire_add_model(byte_broadcast_relacy_mutant_relaxed_release byte_broadcast_relacy.cpp 2)
ringwire_add_model(byte_broadcast_relacy_mutant_no_acquire_fence byte_broadcast_relacy.cpp 3)
add_test(NAME relacy_byte_broadcast COMMAND byte_broadcast_relacy)
add_test(NAME relacy_byte_broadcast_detects_relaxed_release COMMAND byte_broadcast_relacy_mutant_relaxed_release)
add_test(NAME relacy_byte_broadcast_detects_missing_acquire_fence COMMAND byte_broadcast_relacy_mutant_no_acquire_fence)
set_tests_properties(relacy_byte_broadcast relacy_byte_broadcast_detects_relaxed_release
  relacy_byte_broadcast_detects_missing_acquire_fence PROPERTIES LABELS "model" TIMEOUT 600)
#   byte_broadcast_relacy_mutant_no_light_fence  light_fence a no-op: park_pingpong_n2,
#                                                park_credited_d2_n3 and skip_park_pingpong
#                                                lose a wake-up (a publish's, a cursor's, a
#                                                skip's): both threads sleep forever (DEADLOCK)
ringwire_add_model(byte_broadcast_relacy_mutant_no_light_fence byte_broadcast_relacy.cpp 1)
add_test(NAME relacy_byte_broadcast_detects_missing_light_fence COMMAND byte_broadcast_relacy_mutant_no_light_fence)
set_tests_properties(relacy_byte_broadcast_detects_missing_light_fence PROPERTIES LABELS "model" TIMEOUT 600)
