# libFuzzer targets: spec/fuzz/fuzz_<reader>.c, one per file reader, each
# with a seed corpus in spec/fuzz/corpus/<reader>/. Built by `make fuzz`
# (clang, -DLUNOX_FUZZ=ON) and run there for a bounded time.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "LUNOX_FUZZ needs clang (configure with CC=clang)")
endif()
file(GLOB LUNOX_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/spec/fuzz/fuzz_*.c)
add_custom_target(fuzz_targets)
foreach(src ${LUNOX_FUZZ_SOURCES})
  get_filename_component(target ${src} NAME_WE)
  add_executable(${target} ${src})
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/runtime/core
                             ${CMAKE_SOURCE_DIR}/runtime/io)
  target_link_libraries(${target} PRIVATE lunox_runtime)
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzz_targets ${target})
endforeach()
