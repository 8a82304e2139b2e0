# The installed Python module: installs libringwire_c (component Unspecified) and the module
# (component python) into a scratch prefix, then imports it from there with nothing else on
# the library path and checks that its RPATH found the installed libringwire_c.
# Run by CTest with -DBUILD= -DPREFIX= -DPYDIR= -DPYTHON=.
file(REMOVE_RECURSE ${PREFIX})
foreach(component Unspecified python)
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX} --component ${component}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install of ${component} failed (${rc}):\n${out}\n${err}")
  endif()
endforeach()
cmake_path(ABSOLUTE_PATH PYDIR BASE_DIRECTORY ${PREFIX} OUTPUT_VARIABLE pydir)
set(ENV{PYTHONPATH} ${pydir})
unset(ENV{LD_LIBRARY_PATH})
set(script [=[
import os, sys, ringwire
assert os.path.dirname(ringwire.__file__) == sys.argv[1], ringwire.__file__
libs = {line.split()[-1] for line in open("/proc/self/maps") if "libringwire_c" in line}
assert libs and all(p.startswith(sys.argv[2] + "/") for p in libs), libs
name = f"/rwpy-install-{os.getpid()}"
with ringwire.Segment.create_byte_broadcast(name, 16, 4096, 256) as seg:
    with seg.writer() as w, seg.reader() as r:
        w.write(b"installed")
        assert r.try_read() == b"installed"
ringwire.unlink(name)
print("installed module ok:", ringwire.__file__, sorted(libs))
]=])
execute_process(COMMAND ${PYTHON} -c "${script}" ${pydir} ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed module failed (${rc}):\n${out}\n${err}")
endif()
message(STATUS "${out}")
