# The installed Rust crate: installs libringwire_c and the crate's sources (component
# Unspecified) into a scratch prefix, builds a downstream crate that depends on
# <prefix>/share/ringwire/rust by path and links the installed libringwire_c
# (RINGWIRE_C_LIB_DIR), then runs it (a dependent gets no rpath from the crate: the
# library is found through LD_LIBRARY_PATH, as docs/bindings.md says).
# Run by CTest with -DBUILD= -DWORK= -DCARGO= -DRUSTC= -DSRC=.
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()
set(prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix} --component Unspecified)
if(NOT EXISTS ${prefix}/share/ringwire/rust/Cargo.toml)
  message(FATAL_ERROR "the crate's sources were not installed")
endif()
file(GLOB lib LIST_DIRECTORIES false ${prefix}/lib*/libringwire_c.so)
if(NOT lib)
  message(FATAL_ERROR "libringwire_c.so was not installed under ${prefix}")
endif()
list(GET lib 0 lib)
get_filename_component(libdir ${lib} DIRECTORY)
set(crate ${WORK}/downstream)
file(MAKE_DIRECTORY ${crate}/src)
file(WRITE ${crate}/Cargo.toml "[package]\nname = \"downstream\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
                               "[dependencies]\nringwire = { path = \"${prefix}/share/ringwire/rust\" }\n")
file(COPY_FILE ${SRC}/main.rs ${crate}/src/main.rs)
set(env ${CMAKE_COMMAND} -E env CARGO_TARGET_DIR=${WORK}/target CARGO_HOME=${WORK}/cargo-home
    CARGO_BUILD_JOBS=2 RUSTC=${RUSTC} RINGWIRE_C_LIB_DIR=${libdir} LD_LIBRARY_PATH=${libdir})
run(${env} ${CARGO} build --offline --release -j2 --manifest-path ${crate}/Cargo.toml)
run(${env} ${WORK}/target/release/downstream)
message(STATUS "${run_out}")
