# The two hosts: `lunox` (Lua 5.4 embedded) and `lunoxjit` (LuaJIT 2.1).
# One source, built twice; each links the binding of its flavour and
# preloads `lunox.core`.
find_path(READLINE_INCLUDE_DIR readline/readline.h REQUIRED)
find_library(READLINE_LIBRARY readline REQUIRED)

# The installed Lua library relative to the installed executables, so that
# `cmake --install --prefix X` and a moved install tree both work.
if(IS_ABSOLUTE "${LUNOX_LUA_INSTALL_DIR}")
  set(lunox_lua_full_dir "${LUNOX_LUA_INSTALL_DIR}")
else()
  set(lunox_lua_full_dir "${CMAKE_INSTALL_PREFIX}/${LUNOX_LUA_INSTALL_DIR}")
endif()
file(RELATIVE_PATH LUNOX_LUA_DIR_FROM_BINDIR
     "${CMAKE_INSTALL_FULL_BINDIR}" "${lunox_lua_full_dir}")
configure_file(${CMAKE_SOURCE_DIR}/runtime/host/host_paths.h.in
               ${CMAKE_BINARY_DIR}/generated/host_paths.h @ONLY)

foreach(flavour lua54 luajit)
  if(flavour STREQUAL "lua54")
    set(host_name lunox)
    set(lua_target PkgConfig::LUA54)
  else()
    set(host_name lunoxjit)
    set(lua_target PkgConfig::LUAJIT)
  endif()
  add_executable(${host_name}
    runtime/host/main.c
    runtime/host/host_readline.c
    $<TARGET_OBJECTS:lunox_binding_${flavour}>)
  target_include_directories(${host_name} PRIVATE
    ${CMAKE_BINARY_DIR}/generated ${CMAKE_SOURCE_DIR}/runtime/lua
    ${READLINE_INCLUDE_DIR})
  if(flavour STREQUAL "luajit")
    # main.c includes luajit.h and skips the 5.4-only options under this.
    target_compile_definitions(${host_name} PRIVATE LUNOX_HOST_LUAJIT=1)
  endif()
  target_link_libraries(${host_name} PRIVATE lunox_runtime ${lua_target}
    ${READLINE_LIBRARY} ${CMAKE_DL_LIBS})
  # Export the Lua API so C modules (luasystem, lua-term, lfs) load.
  set_target_properties(${host_name} PROPERTIES ENABLE_EXPORTS ON
    INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS ${host_name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()
