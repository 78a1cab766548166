/*
** main.c — the lunox hosts: `lunox` (Lua 5.4 embedded) and `lunoxjit`
** (LuaJIT 2.1), one source built twice (cmake/hosts.cmake defines
** LUNOX_HOST_LUAJIT for the second).
**
** The command line follows the stock `lua` interpreter:
**   lunox [options] [script [args]]
**     -e stat   run the string stat         -l mod   require mod into global mod
**     -l g=mod  require mod into global g   -i       REPL after the script
**     -v        print version               -E       ignore LUA_INIT and LUA_PATH
**     -W        turn warnings on (5.4)      --       stop handling options
**     -         run stdin as the script
** With no script and no -e/-v the REPL (lua/lunox/repl.lua) starts, whether
** or not stdin is a terminal, so it can be scripted.
**
** `lunox.core` (the binding) and `lunox.readline` are preloaded, and
** package.path is extended so that require("lunox") finds the library with
** no environment variables: the installed <bindir>/../share/lunox/lua first,
** else the source tree's lua/ recorded at configure time.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#ifdef LUNOX_HOST_LUAJIT
#include <luajit.h>
#endif

#include "binding.h"
#include "host_paths.h"
#include "host_readline.h"

#ifdef LUNOX_HOST_LUAJIT
#define HOST_LUA_RELEASE LUAJIT_VERSION
#define HOST_LUA_COPYRIGHT LUAJIT_VERSION " -- " LUAJIT_COPYRIGHT
#define HOST_INIT_VAR_VERSIONED NULL
#else
#define HOST_LUA_RELEASE LUA_RELEASE
#define HOST_LUA_COPYRIGHT LUA_COPYRIGHT
#define HOST_INIT_VAR_VERSIONED \
  "LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR
#endif

#define HOST_VERSION_LINE \
  "lunox " LUNOX_VERSION " (" HOST_LUA_RELEASE ")"

/* What the command line asked for; argv indices refer to main's argv. */
struct host_options {
  int argc;
  char **argv;
  int script;      /* index of the script name; argc when there is none */
  int interactive; /* -i */
  int version;     /* -v */
  int has_exec;    /* at least one -e */
  int no_env;      /* -E */
  int bad_option;  /* index of the offending argument, 0 if none */
  int status;      /* exit status pmain leaves for main */
};

static const char *progname = "lunox";

/* The state the SIGINT handler interrupts: a signal handler gets no user
   pointer, so this one static is unavoidable (lua.c does the same). */
static lua_State *interruptible_L;

static void print_usage(const char *bad) {
  if (bad[1] == 'e' || bad[1] == 'l')
    fprintf(stderr, "%s: '%s' needs argument\n", progname, bad);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, bad);
  fprintf(stderr,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter the REPL after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables\n"
          "  -W        turn warnings on\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n",
          progname);
}

static void print_message(const char *msg) {
  fprintf(stderr, "%s: %s\n", progname, msg);
  fflush(stderr);
}

/* Prints the error on top of the stack (if status is an error) and pops it. */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    print_message(msg != NULL ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

/* Message handler: turn any error object into a message with a traceback. */
static int message_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void on_sigint(int sig);

static void set_sigint(void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* like lua.c's signal(): scripts' reads go on */
  sigaction(SIGINT, &sa, NULL);
}

/* Hook set by the SIGINT handler: raises the error in a safe place and
   re-arms Ctrl-C, so a REPL session can be interrupted more than once. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  set_sigint(on_sigint);
  luaL_error(L, "interrupted!");
}

/* A second Ctrl-C before the hook runs (code stuck in C) kills the process. */
static void on_sigint(int sig) {
  int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  set_sigint(SIG_DFL);
  (void)sig;
  lua_sethook(interruptible_L, interrupt_hook, mask, 1);
}

/* Calls the function below nargs arguments with a traceback handler and
   Ctrl-C interrupting it. */
static int docall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, message_handler);
  lua_insert(L, base);
  interruptible_L = L;
  set_sigint(on_sigint);
  int status = lua_pcall(L, nargs, nresults, base);
  set_sigint(SIG_DFL);
  lua_remove(L, base);
  return status;
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod / -l g=mod: global g = require(mod). */
static int dolibrary(lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *modname = eq != NULL ? eq + 1 : spec;
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq != NULL)
      lua_pushlstring(L, spec, (size_t)(eq - spec));
    else
      lua_pushstring(L, spec);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  return report(L, status);
}

/* Mirrors lua.c: options up to the script name (or `--`, or `-`). */
static void collect_args(struct host_options *o) {
  char **argv = o->argv;
  int i;
  for (i = 1; i < o->argc; i++) {
    const char *a = argv[i];
    o->script = i;
    if (a[0] != '-') return;
    switch (a[1]) {
    case '-':
      if (a[2] != '\0') {
        o->bad_option = i;
        return;
      }
      o->script = i + 1;
      return;
    case '\0':
      return;
    case 'E':
    case 'W':
    case 'i':
    case 'v':
      if (a[2] != '\0') {
        o->bad_option = i;
        return;
      }
      if (a[1] == 'E') o->no_env = 1;
      if (a[1] == 'i') o->interactive = 1;
      if (a[1] == 'v') o->version = 1;
      break;
    case 'e':
    case 'l':
      if (a[1] == 'e') o->has_exec = 1;
      if (a[2] == '\0') {
        i++;
        if (i >= o->argc || argv[i][0] == '-') {
          o->bad_option = i - 1;
          return;
        }
      }
      break;
    default:
      o->bad_option = i;
      return;
    }
  }
  o->script = i;
}

/* Runs -e, -l and -W in command-line order. */
static int run_options(lua_State *L, const struct host_options *o) {
  for (int i = 1; i < o->script; i++) {
    const char *a = o->argv[i];
    if (a[0] != '-') continue;
    if (a[1] == 'W') {
#if LUA_VERSION_NUM >= 504
      lua_warning(L, "@on", 0);
#endif
      continue;
    }
    if (a[1] != 'e' && a[1] != 'l') continue;
    const char *extra = a[2] != '\0' ? a + 2 : o->argv[++i];
    int status = a[1] == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

/* arg[0] is the script, positive indices its arguments, negative ones the
   interpreter and options (lua.c's layout). With no script, arg[0] is the
   interpreter. */
static void create_arg_table(lua_State *L, const struct host_options *o) {
  int script = o->script == o->argc ? 0 : o->script;
  lua_createtable(L, o->argc - script - 1, script + 1);
  for (int i = 0; i < o->argc; i++) {
    lua_pushstring(L, o->argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int handle_luainit(lua_State *L) {
  const char *name = HOST_INIT_VAR_VERSIONED;
  const char *init = name != NULL ? getenv(name) : NULL;
  if (init == NULL) {
    name = "LUA_INIT";
    init = getenv(name);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  lua_pushfstring(L, "=%s", name);
  int status = dostring(L, init, lua_tostring(L, -1));
  lua_pop(L, 1);
  return status;
}

static int lunox_dir_usable(const char *dir) {
  size_t n = strlen(dir) + sizeof "/lunox/init.lua";
  char *probe = malloc(n);
  if (probe == NULL) return 0;
  snprintf(probe, n, "%s/lunox/init.lua", dir);
  int ok = access(probe, R_OK) == 0;
  free(probe);
  return ok;
}

/* <directory of the real executable>/LUNOX_LUA_DIR_FROM_BINDIR, or NULL.
   /proc/self/exe sees through symlinks and PATH lookup; argv[0] is the
   fallback where /proc is not mounted. */
static char *installed_lua_dir(const char *argv0) {
  char *exe = realpath("/proc/self/exe", NULL);
  if (exe == NULL && argv0 != NULL && strchr(argv0, '/') != NULL)
    exe = realpath(argv0, NULL);
  if (exe == NULL) return NULL;
  char *slash = strrchr(exe, '/');
  if (slash == NULL) {
    free(exe);
    return NULL;
  }
  *slash = '\0';
  const char *rel = LUNOX_LUA_DIR_FROM_BINDIR;
  size_t n = strlen(exe) + strlen(rel) + 2;
  char *candidate = malloc(n);
  if (candidate == NULL) {
    free(exe);
    return NULL;
  }
  if (rel[0] == '/')
    snprintf(candidate, n, "%s", rel);
  else
    snprintf(candidate, n, "%s/%s", exe, rel);
  free(exe);
  char *dir = realpath(candidate, NULL);
  free(candidate);
  if (dir != NULL && !lunox_dir_usable(dir)) {
    free(dir);
    dir = NULL;
  }
  return dir;
}

/* Prepends the lunox library directory to package.path, keeping the
   defaults (and LUA_PATH) after it so busted, penlight etc. still load. */
static void setup_package_path(lua_State *L, const char *argv0) {
  char *installed = installed_lua_dir(argv0);
  const char *dir = installed;
  if (dir == NULL && lunox_dir_usable(LUNOX_SOURCE_LUA_DIR)) dir = LUNOX_SOURCE_LUA_DIR;
  if (dir == NULL) return; /* require("lunox") will list what it tried */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  const char *old = lua_tostring(L, -1);
  /* Copy dir into Lua before freeing it: pushfstring may raise. */
  lua_pushstring(L, dir);
  free(installed);
  dir = lua_tostring(L, -1);
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, old != NULL ? old : "");
  lua_setfield(L, -4, "path");
  lua_pop(L, 3);
}

static void preload(lua_State *L, const char *name, lua_CFunction open) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, open);
  lua_setfield(L, -2, name);
  lua_pop(L, 2);
}

static int run_script(lua_State *L, const struct host_options *o) {
  const char *fname = o->argv[o->script];
  /* `-` is stdin, unless it follows `--` (then it is a file named "-"). */
  if (strcmp(fname, "-") == 0 && strcmp(o->argv[o->script - 1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = o->argc - o->script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_pushstring(L, o->argv[o->script + i]);
    status = docall(L, n, 0);
  }
  return report(L, status);
}

static int run_repl(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lunox.repl");
  int status = docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, "run");
    lua_remove(L, -2);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, HOST_VERSION_LINE);
    lua_setfield(L, -2, "banner");
    status = docall(L, 1, 0);
  }
  return report(L, status);
}

/* Everything that touches Lua, run protected so that even a memory error
   while setting up is reported instead of aborting. */
static int pmain(lua_State *L) {
  struct host_options *o = lua_touserdata(L, 1);
  o->status = EXIT_FAILURE;
#if LUA_VERSION_NUM >= 502
  luaL_checkversion(L);
#endif
  if (o->no_env) {
    /* Tells the package library to ignore LUA_PATH and LUA_CPATH. */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
#if LUA_VERSION_NUM >= 504
  /* As stock lua 5.4 does: short-lived arrays (every op's result) die in
  ** cheap minor collections instead of piling up between major cycles. */
  lua_gc(L, LUA_GCGEN, 0, 0);
#endif
  preload(L, "lunox.core", luaopen_lunox_core);
  preload(L, "lunox.readline", luaopen_lunox_readline);
  setup_package_path(L, o->argv[0]);
  create_arg_table(L, o);

  if (o->version) {
    puts(HOST_VERSION_LINE);
    puts(HOST_LUA_COPYRIGHT);
    fflush(stdout);
  }
  if (!o->no_env && handle_luainit(L) != LUA_OK) return 0;
  if (!run_options(L, o)) return 0;
  if (o->script < o->argc && run_script(L, o) != LUA_OK) return 0;
  if (o->interactive || (o->script == o->argc && !o->has_exec && !o->version)) {
    if (run_repl(L) != LUA_OK) return 0;
  }
  o->status = EXIT_SUCCESS;
  return 0;
}

int main(int argc, char **argv) {
  struct host_options o;
  memset(&o, 0, sizeof o);
  o.argc = argc;
  o.argv = argv;
  o.script = argc;
  if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') progname = argv[0];
  if (argc < 1) {
    /* No argv[0] at all: pretend we were called plainly. */
    static char *fallback_argv[] = {"lunox", NULL};
    o.argc = argc = 1;
    o.argv = argv = fallback_argv;
  }
  collect_args(&o);
  if (o.bad_option) {
    print_usage(argv[o.bad_option]);
    return EXIT_FAILURE;
  }

  lua_State *L = luaL_newstate();
  if (L == NULL) {
    print_message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &o);
  int status = lua_pcall(L, 1, 0, 0);
  report(L, status);
  lua_close(L);
  return status == LUA_OK ? o.status : EXIT_FAILURE;
}
