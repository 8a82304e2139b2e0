# models/byte_ring.cmake -- the byte rings under Relacy (models/byte_ring_relacy.cpp), included
# by models/CMakeLists.txt.
#   byte_ring_relacy                         many-to-one claim/commit/abort/read and one-to-one
#                                            publish/park/close against the real headers
#   byte_ring_relacy_mutant_relaxed_release  release stores relaxed (header commit, head): must
#                                            be caught (DATA RACE on the payload shadow)
#   byte_ring_relacy_mutant_no_light_fence   light_fence() a no-op: must be caught (DEADLOCK)
ringwire_add_model(byte_ring_relacy byte_ring_relacy.cpp 0)
ringwire_add_model(byte_ring_relacy_mutant_relaxed_release byte_ring_relacy.cpp 2)
ringwire_add_model(byte_ring_relacy_mutant_no_light_fence byte_ring_relacy.cpp 1)
add_test(NAME relacy_byte_ring COMMAND byte_ring_relacy)
add_test(NAME relacy_byte_ring_detects_relaxed_release COMMAND byte_ring_relacy_mutant_relaxed_release)
add_test(NAME relacy_byte_ring_detects_missing_light_fence COMMAND byte_ring_relacy_mutant_no_light_fence)
set_tests_properties(relacy_byte_ring relacy_byte_ring_detects_relaxed_release
  relacy_byte_ring_detects_missing_light_fence PROPERTIES LABELS "model" TIMEOUT 600)
