# Test registration. Everything is found by name so that adding a test is
# adding a file:
#   spec/*_spec.lua     busted specs, run under `lunox` and under `lunoxjit`
#   spec/c/test_*.c     C unit tests of the runtime
#   spec/tools/*.c      helper programs the specs call (pty driver, ...)
set(LUNOX_SPEC_RUNNER ${CMAKE_SOURCE_DIR}/spec/run_busted.lua)

file(GLOB LUNOX_TOOL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/spec/tools/*.c)
foreach(src ${LUNOX_TOOL_SOURCES})
  get_filename_component(tool ${src} NAME_WE)
  add_executable(${tool} ${src})
  set_target_properties(${tool} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tools)
  target_link_libraries(${tool} PRIVATE util)
endforeach()

file(GLOB LUNOX_C_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/spec/c/test_*.c)
foreach(src ${LUNOX_C_TESTS})
  get_filename_component(test ${src} NAME_WE)
  add_executable(${test} ${src})
  set_target_properties(${test} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_include_directories(${test} PRIVATE ${CMAKE_SOURCE_DIR}/runtime/core)
  target_link_libraries(${test} PRIVATE lunox_runtime)
  add_test(NAME c_${test} COMMAND ${test})
  set_tests_properties(c_${test} PROPERTIES LABELS "c")
endforeach()

file(GLOB LUNOX_SPECS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/spec/*_spec.lua)
foreach(spec ${LUNOX_SPECS})
  get_filename_component(name ${spec} NAME_WE)
  foreach(host lunox lunoxjit)
    add_test(NAME ${name}_${host}
             COMMAND ${host} ${LUNOX_SPEC_RUNNER} --output=TAP ${spec}
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set(spec_env "LUNOX_BUILD_DIR=${CMAKE_BINARY_DIR};LUNOX_HOST=$<TARGET_FILE:${host}>")
    # Vulkan specs run with the Khronos validation layer, and fail on any
    # message it reports.
    if(name MATCHES "^vulkan")
      list(APPEND spec_env "LUNOX_VULKAN_VALIDATION=1")
    endif()
    set_tests_properties(${name}_${host} PROPERTIES LABELS "spec;${host}"
      ENVIRONMENT "${spec_env}")
    # Once more through staging buffers (the path of discrete GPUs without
    # ReBAR, which lavapipe's mappable memory would otherwise never take).
    if(name MATCHES "^vulkan_(parity|reduce)" AND host STREQUAL "lunox")
      add_test(NAME ${name}_staging_${host}
               COMMAND ${host} ${LUNOX_SPEC_RUNNER} --output=TAP ${spec}
               WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
      set_tests_properties(${name}_staging_${host} PROPERTIES LABELS "spec;${host};vulkan"
        ENVIRONMENT "${spec_env};LUNOX_VULKAN_STAGING=1")
    endif()
  endforeach()
endforeach()
