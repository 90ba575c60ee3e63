# Run at build time (cmake -P) by the sextant_build_info target: writes the version and the git
# revision the binaries were built from into OUT. configure_file rewrites OUT only when its text
# changes, so a build without a new commit recompiles nothing.
#   -DSOURCE_DIR=... -DOUT=... -DVERSION=...
set(SEXTANT_GIT_REVISION "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" describe --always --dirty
                          --abbrev=12 --match=NeVeRmAtCh
                  OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0 AND rev)
    set(SEXTANT_GIT_REVISION "${rev}")
  endif()
endif()
# A package build from a tarball has no .git: debian/rules passes the revision it was made from.
if(DEFINED ENV{SEXTANT_GIT_REVISION} AND NOT "$ENV{SEXTANT_GIT_REVISION}" STREQUAL "")
  set(SEXTANT_GIT_REVISION "$ENV{SEXTANT_GIT_REVISION}")
endif()
set(SEXTANT_VERSION "${VERSION}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/sextant_build_info.h.in" "${OUT}" @ONLY)
