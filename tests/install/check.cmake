# Installs ringwire (headers, CMake package, pkg-config file, the ringwire command, and
# ringwire::net where it was built) into a
# scratch prefix, runs the installed command, and builds a consumer against it three ways:
# find_package, pkg-config, add_subdirectory. Run by CTest with -DSRC=, -DWORK=, -DCXX=.
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()
set(prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} -S ${SRC} -B ${WORK}/lib -G Ninja -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_INSTALL_PREFIX=${prefix} -DRINGWIRE_BUILD_TESTS=OFF -DRINGWIRE_BUILD_BENCH=OFF
    -DRINGWIRE_BUILD_MODELS=OFF -DRINGWIRE_BUILD_EXAMPLES=OFF
    -DRINGWIRE_BUILD_PYTHON=OFF -DRINGWIRE_BUILD_RUST=OFF)  # their installs: python_install, rust_install
run(${CMAKE_COMMAND} --build ${WORK}/lib)  # the ringwire command (tools/), installed beside the headers
run(${CMAKE_COMMAND} --install ${WORK}/lib)
run(${prefix}/bin/ringwire --json ls --dir ${WORK})  # the installed command runs (no segments there)
set(ENV{PKG_CONFIG_PATH} ${prefix}/share/pkgconfig:${prefix}/lib/pkgconfig)
run(${CMAKE_COMMAND} -S ${SRC}/tests/install/consumer -B ${WORK}/pkg -G Ninja -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${prefix} -DCONSUME=package)
run(${CMAKE_COMMAND} --build ${WORK}/pkg)
run(${WORK}/pkg/consumer)
run(${WORK}/pkg/consumer_pc)
if(EXPECT_NET)  # ringwire::net was built: find_package must provide it too
  run(${WORK}/pkg/consumer_net)
endif()
if(EXPECT_C)  # ringwire::c (the C API) likewise
  run(${WORK}/pkg/consumer_c)
  run(${WORK}/pkg/consumer_c_pc)
endif()
run(${CMAKE_COMMAND} -S ${SRC}/tests/install/consumer -B ${WORK}/sub -G Ninja -DCMAKE_CXX_COMPILER=${CXX}
    -DCONSUME=subdirectory -DRINGWIRE_SOURCE=${SRC})
run(${CMAKE_COMMAND} --build ${WORK}/sub)
run(${WORK}/sub/consumer)
if(EXPECT_NET)
  run(${WORK}/sub/consumer_net)
endif()
message(STATUS "install, find_package, pkg-config and add_subdirectory: ok")
