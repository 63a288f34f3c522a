# coffer_component(NAME <name> DEPS <libs...> [TEST_DEPS <libs...>])
#
# Declares the library coffer_<name> (alias coffer::<name>) from every *.cc in the calling folder
# and its subfolders, except *_test.cc, *_pgtest.cc, *_bench.cc and *_fuzz.cc. Includes are rooted
# at src/. When tests are on, every *_test.cc goes into one GoogleTest binary, coffer_<name>_tests,
# labelled `unit`. With COFFER_UNIT_TESTS=OFF that binary is left out of `all` and its tests are
# not registered (tools/test.sh runs the unit tests once, in the ASan+UBSan build); it can still be
# built by name, as the kube step does with coffer_kube_tests.
function(coffer_component)
  cmake_parse_arguments(C "" "NAME" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER _srcs EXCLUDE REGEX "(_test|_pgtest|_bench|_fuzz)\\.cc$")
  if(_srcs)
    add_library(coffer_${C_NAME} STATIC ${_srcs})
    target_include_directories(coffer_${C_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(coffer_${C_NAME} PUBLIC ${C_DEPS})
  else()
    # Header-only so far (a component being written).
    add_library(coffer_${C_NAME} INTERFACE)
    target_include_directories(coffer_${C_NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(coffer_${C_NAME} INTERFACE ${C_DEPS})
  endif()
  add_library(coffer::${C_NAME} ALIAS coffer_${C_NAME})

  if(COFFER_BUILD_TESTS)
    file(GLOB_RECURSE _tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
    if(_tests)
      set(_exclude "")
      if(NOT COFFER_UNIT_TESTS)
        set(_exclude EXCLUDE_FROM_ALL)
      endif()
      add_executable(coffer_${C_NAME}_tests ${_exclude} ${_tests})
      target_link_libraries(coffer_${C_NAME}_tests PRIVATE coffer_${C_NAME} ${C_TEST_DEPS}
                            GTest::gtest_main GTest::gmock)
      target_compile_options(coffer_${C_NAME}_tests PRIVATE ${COFFER_TEST_COMPILE_OPTIONS})
      if(COFFER_UNIT_TESTS)
        gtest_discover_tests(coffer_${C_NAME}_tests
          PROPERTIES LABELS unit
          DISCOVERY_TIMEOUT 120
          WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
      endif()
    endif()
  endif()
endfunction()
