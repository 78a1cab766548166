# shaders.cmake — compiles shaders/ to SPIR-V with glslc and embeds the
# modules in one generated C source.
#
# Defines:
#   LUNOX_SPIRV_SOURCE  the generated .c (lx_spirv_find, runtime/vulkan/vk_spirv.h)
#   lunox_spirv         a custom target that produces it
#
# One glslc call per module, each its own custom command, so builds run
# them in parallel and rebuild only what a changed file touches. The
# variants are generated from the dtype lists below; the shader files pick
# their types from the -D definitions (see shaders/common.glsl).

find_program(LUNOX_GLSLC glslc DOC "GLSL to SPIR-V compiler (shaderc)")
if(NOT LUNOX_GLSLC)
  message(FATAL_ERROR "glslc was not found: the Vulkan backend's shaders need it "
                      "(Debian/Ubuntu: apt-get install glslc), or configure with "
                      "-DLUNOX_VULKAN=OFF")
endif()

get_filename_component(LUNOX_SHADER_DIR "${CMAKE_CURRENT_LIST_DIR}/../shaders" ABSOLUTE)
set(LUNOX_SPIRV_DIR "${CMAKE_BINARY_DIR}/shaders")
set(LUNOX_SPIRV_SOURCE "${CMAKE_BINARY_DIR}/generated/lx_spirv.c")
file(MAKE_DIRECTORY "${LUNOX_SPIRV_DIR}" "${CMAKE_BINARY_DIR}/generated")

# Every module depends on all the shared includes: there are few, and a
# stale module would be a silent wrong answer.
file(GLOB LUNOX_SHADER_INCLUDES CONFIGURE_DEPENDS "${LUNOX_SHADER_DIR}/*.glsl")

option(LUNOX_VALIDATE_SPIRV "Run spirv-val on every compiled shader module" OFF)
if(LUNOX_VALIDATE_SPIRV)
  find_program(LUNOX_SPIRV_VAL spirv-val REQUIRED)
endif()

# Dtype tokens as in the module names (lx_dtype order).
set(LUNOX_SHADER_DTYPES f32 f64 f16 bf16 i32 i64 u8 u32 bool u16 u64)
set(LUNOX_SHADER_ELEM_BYTES 1 2 4 8)

set(LUNOX_SPIRV_NAMES "")

# lunox_shader(<module name> <family file> <glslc -D arguments...>)
function(lunox_shader name source)
  set(spv "${LUNOX_SPIRV_DIR}/${name}.spv")
  set(validate "")
  if(LUNOX_VALIDATE_SPIRV)
    set(validate COMMAND ${LUNOX_SPIRV_VAL} --target-env vulkan1.2 ${spv})
  endif()
  add_custom_command(
    OUTPUT "${spv}"
    COMMAND ${LUNOX_GLSLC} --target-env=vulkan1.2 -O "-I${LUNOX_SHADER_DIR}" ${ARGN}
            -o "${spv}" "${LUNOX_SHADER_DIR}/${source}"
    ${validate}
    DEPENDS "${LUNOX_SHADER_DIR}/${source}" ${LUNOX_SHADER_INCLUDES}
    COMMENT "SPIR-V ${name}"
    VERBATIM)
  set(LUNOX_SPIRV_NAMES ${LUNOX_SPIRV_NAMES} ${name} PARENT_SCOPE)
endfunction()

foreach(dt IN LISTS LUNOX_SHADER_DTYPES)
  foreach(family unary not binary compare)
    lunox_shader(${family}_${dt} ${family}.comp -DIN=${dt} -DIN_DT=DT_${dt})
  endforeach()
  foreach(dst IN LISTS LUNOX_SHADER_DTYPES)
    lunox_shader(convert_${dt}_${dst} convert.comp
                 -DIN=${dt} -DIN_DT=DT_${dt} -DOUT=${dst} -DOUT_DT=DT_${dst})
  endforeach()
endforeach()
foreach(bytes IN LISTS LUNOX_SHADER_ELEM_BYTES)
  lunox_shader(where_${bytes} where.comp -DELEM_BYTES=${bytes})
  lunox_shader(fill_${bytes} fill.comp -DELEM_BYTES=${bytes})
endforeach()
# Reductions (every dtype: bool, uint8 and uint16 for max/min/arg ops) and matrix
# products (bool is refused by the core); runtime/vulkan/vk_reduce_matmul.c.
foreach(dt IN LISTS LUNOX_SHADER_DTYPES)
  lunox_shader(reduce_${dt} reduce.comp -DIN=${dt} -DIN_DT=DT_${dt})
  if(NOT dt STREQUAL "bool")
    lunox_shader(matmul_${dt} matmul.comp -DIN=${dt} -DIN_DT=DT_${dt})
  endif()
endforeach()

# Random numbers (runtime/vulkan/vk_random.c): one module per output element
# size, and float64 uniforms.
foreach(bytes IN LISTS LUNOX_SHADER_ELEM_BYTES)
  lunox_shader(random_${bytes} random.comp -DELEM_BYTES=${bytes})
endforeach()
lunox_shader(random_f64 random.comp -DLX_RANDOM_F64)
# reduce_window (every dtype but bool, uint16 and uint64, which its core
# refuses) and take (raw elements of each size x index dtypes);
# runtime/vulkan/vk_window_take.c.
foreach(dt IN LISTS LUNOX_SHADER_DTYPES)
  if(NOT dt MATCHES "^(bool|u16|u64)$")
    lunox_shader(window_${dt} window.comp -DIN=${dt} -DIN_DT=DT_${dt})
  endif()
endforeach()
foreach(bytes IN LISTS LUNOX_SHADER_ELEM_BYTES)
  foreach(idx i32 i64 u8 u32)
    lunox_shader(take_${bytes}_${idx} take.comp -DELEM_BYTES=${bytes} -DIDX_DT=DT_${idx})
  endforeach()
endforeach()

# Convolutions (floating dtypes only: the core refuses the others);
# runtime/vulkan/vk_conv.c.
foreach(dt f32 f64 f16 bf16)
  lunox_shader(conv_${dt} conv.comp -DIN=${dt} -DIN_DT=DT_${dt})
endforeach()

# Module names are plain tokens: pass them comma-separated so no list
# separator has to survive the command line.
list(SORT LUNOX_SPIRV_NAMES)
list(LENGTH LUNOX_SPIRV_NAMES lunox_spirv_count)
list(JOIN LUNOX_SPIRV_NAMES "," lunox_spirv_name_arg)
list(TRANSFORM LUNOX_SPIRV_NAMES PREPEND "${LUNOX_SPIRV_DIR}/" OUTPUT_VARIABLE lunox_spirv_files)
list(TRANSFORM lunox_spirv_files APPEND ".spv")

add_custom_command(
  OUTPUT "${LUNOX_SPIRV_SOURCE}"
  COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${LUNOX_SPIRV_SOURCE}" "-DSPIRV_DIR=${LUNOX_SPIRV_DIR}"
          "-DNAMES=${lunox_spirv_name_arg}" -P "${CMAKE_CURRENT_LIST_DIR}/embed_spirv.cmake"
  DEPENDS ${lunox_spirv_files} "${CMAKE_CURRENT_LIST_DIR}/embed_spirv.cmake"
  COMMENT "Embedding ${lunox_spirv_count} SPIR-V modules in lx_spirv.c"
  VERBATIM)
add_custom_target(lunox_spirv DEPENDS "${LUNOX_SPIRV_SOURCE}")
# The generated source includes vk_spirv.h.
set_source_files_properties("${LUNOX_SPIRV_SOURCE}" PROPERTIES
  GENERATED TRUE
  INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../runtime/vulkan")
