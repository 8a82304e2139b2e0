# models/run_spin.cmake -- runs one spin (Promela) model as a CTest test.
#   cmake -DSPIN=<spin> -DCC=<C compiler> -DMODEL=<file.pml> -DMUTANT=<n> -DEXPECT=<regex>
#         -DWORKDIR=<dir> -P run_spin.cmake
# Generates the verifier (spin -a), compiles it (safety: assertions and invalid end
# states; COLLAPSE compresses the stored states), runs an exhaustive search, and passes
# when the output matches EXPECT: for the model itself "errors: 0", for a mutant the
# violation that must catch it.
file(REMOVE_RECURSE ${WORKDIR})
file(MAKE_DIRECTORY ${WORKDIR})
execute_process(COMMAND ${SPIN} -DMUTANT=${MUTANT} -a ${MODEL} WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "spin -a failed:\n${out}")
endif()
execute_process(COMMAND ${CC} -O2 -DSAFETY -DCOLLAPSE -o pan pan.c WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling the verifier failed:\n${out}")
endif()
# -m: search depth bound, far above the models' depth (pan reports if it is reached).
execute_process(COMMAND ./pan -m1000000 WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(out MATCHES "max search depth too small")
  message(FATAL_ERROR "the search was truncated")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "expected output matching '${EXPECT}'")
endif()
