/*
** host_readline.c — `lunox.readline`: GNU readline for the REPL.
**
**   readline(prompt)            -> line | nil (end of input) | nil, "interrupted"
**   add_history(line)
**   read_history(path)          -> true | nil, message
**   write_history(path)         -> true | nil, message
**   append_history(path, n)     -> true | nil, message  (creates the file)
**   truncate_history(path, max) -> true | nil, message
**   set_history_limit(max)      keep at most max entries in memory
**   set_completer(fn | nil)     fn(text, line_before) -> { candidates }
**   isatty([fd])                -> boolean (fd defaults to 0, stdin)
**
** Lines are read through readline's callback interface so that Ctrl-C at the
** prompt abandons the line (like Python's REPL) instead of killing the host.
** Readline itself is process-global; the little state kept here is too.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lauxlib.h>
#include <lua.h>

#include "host_readline.h"

#if LUA_VERSION_NUM >= 502
#define compat_rawlen(L, i) lua_rawlen(L, (i))
#else
#define compat_rawlen(L, i) lua_objlen(L, (i))
#endif

/* Lua names and fields complete on the whole `a.b:c` chain, so '.' and ':'
   are not word breaks; operators and brackets are. */
static const char word_breaks[] = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";

/* Registry keys (their addresses): the Lua completer, and the C function
   that calls it under lua_pcall (created once, so that starting a completion
   allocates nothing outside protection). */
static char completer_key;
static char call_completer_key;

/* The Lua state inside readline(), for the completion callback, which gets
   no user pointer from readline; NULL outside a readline() call. */
static lua_State *active_L;

static volatile sig_atomic_t got_sigint;
static int line_done;
static char *accepted_line;
/* A line that could not be pushed into Lua (memory error); freed next call. */
static char *unpushed_line;

/* Candidates of the completion in progress, handed to readline one by one. */
static char **candidates;
static size_t n_candidates, next_candidate;

static void free_candidates(void) {
  for (size_t i = 0; i < n_candidates; i++) free(candidates[i]);
  free(candidates);
  candidates = NULL;
  n_candidates = next_candidate = 0;
}

/* Generator for rl_completion_matches: readline takes ownership of what it
   returns, so each handed-out slot is cleared. */
static char *next_match(const char *text, int state) {
  (void)text;
  if (state == 0) next_candidate = 0;
  while (next_candidate < n_candidates) {
    char *c = candidates[next_candidate];
    candidates[next_candidate++] = NULL;
    if (c != NULL) return c;
  }
  return NULL;
}

struct completion_request {
  const char *text;
  const char *before;
  size_t before_len;
};

/* Runs under lua_pcall: calls the completer, leaves its table (or nothing). */
static int call_completer(lua_State *L) {
  const struct completion_request *req = lua_touserdata(L, 1);
  lua_pushlightuserdata(L, &completer_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (!lua_isfunction(L, -1)) return 0;
  lua_pushstring(L, req->text);
  lua_pushlstring(L, req->before, req->before_len);
  lua_call(L, 2, 1);
  return lua_istable(L, -1) ? 1 : 0;
}

/* Copies the strings of the list at index t into `candidates`. Reading a
   table with raw access and tolstring on strings cannot raise errors. */
static int collect_candidates(lua_State *L, int t) {
  size_t n = compat_rawlen(L, t);
  if (n == 0) return 0;
  if (n > SIZE_MAX / sizeof *candidates) return -1;
  candidates = calloc(n, sizeof *candidates);
  if (candidates == NULL) return -1;
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(L, t, (int)i);
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      char *copy = malloc(len + 1);
      if (copy == NULL) {
        lua_pop(L, 1);
        free_candidates();
        return -1;
      }
      memcpy(copy, s, len + 1);
      candidates[n_candidates++] = copy;
    }
    lua_pop(L, 1);
  }
  return 0;
}

static char **attempt_completion(const char *text, int start, int end) {
  (void)end;
  rl_attempted_completion_over = 1;      /* never fall back to file names */
  rl_completion_append_character = '\0'; /* `string.format` is not followed by a space */
  lua_State *L = active_L;
  if (L == NULL || !lua_checkstack(L, 4) || start < 0) return NULL;

  struct completion_request req = {text, rl_line_buffer, (size_t)start};
  int top = lua_gettop(L);
  lua_pushlightuserdata(L, &call_completer_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, &req);
  /* A failing completer must not unwind through readline's frames. */
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    lua_settop(L, top);
    return NULL;
  }
  int ok = collect_candidates(L, lua_gettop(L));
  lua_settop(L, top);
  if (ok != 0 || n_candidates == 0) {
    free_candidates();
    return NULL;
  }
  char **matches = rl_completion_matches(text, next_match);
  free_candidates();
  return matches;
}

static void on_line(char *line) {
  accepted_line = line;
  line_done = 1;
  /* Give the terminal back its normal mode while Lua code runs. */
  rl_callback_handler_remove();
}

static void on_sigint(int sig) {
  (void)sig;
  got_sigint = 1;
}

/* Reads one line. Returns 0 (line or end of input in accepted_line),
   1 when Ctrl-C abandoned the line, -1 on an I/O error (errno set). SIGINT is
   blocked except while waiting in pselect, so it cannot land in the middle
   of readline's bookkeeping. */
static int read_one_line(lua_State *L, const char *prompt) {
  struct sigaction sa, old_sa;
  sigset_t sigint_only, old_mask;
  int result = 0, saved_errno = 0;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: pselect must return EINTR */
  sigemptyset(&sigint_only);
  sigaddset(&sigint_only, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigint_only, &old_mask);
  sigaction(SIGINT, &sa, &old_sa);

  got_sigint = 0;
  line_done = 0;
  accepted_line = NULL;
  active_L = L;
  rl_callback_handler_install(prompt, on_line);
  int fd = fileno(rl_instream != NULL ? rl_instream : stdin);
  while (!line_done) {
    if (got_sigint) {
      result = 1;
      break;
    }
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    if (pselect(fd + 1, &readable, NULL, NULL, NULL, &old_mask) < 0) {
      if (errno == EINTR) continue;
      saved_errno = errno;
      result = -1;
      break;
    }
    rl_callback_read_char();
  }
  if (!line_done) {
    /* Abandon the half-typed line and restore the terminal. */
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_cleanup_after_signal();
    rl_callback_handler_remove();
    FILE *out = rl_outstream != NULL ? rl_outstream : stdout;
    fputc('\n', out);
    fflush(out);
  }
  active_L = NULL;
  /* Unblock before restoring the caller's handler: a Ctrl-C that came while
     readline was busy is pending and must land here, not in the host's
     handler (which would interrupt the REPL's own code). */
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  sigaction(SIGINT, &old_sa, NULL);
  if (got_sigint && result == 0) {
    /* The terminal discarded the typed input; so do we. */
    free(accepted_line);
    accepted_line = NULL;
    result = 1;
  }
  errno = saved_errno;
  return result;
}

static int l_readline(lua_State *L) {
  const char *prompt = luaL_optstring(L, 1, "");
  free(unpushed_line);
  unpushed_line = NULL;
  int status = read_one_line(L, prompt);
  if (status == 1) {
    lua_pushnil(L);
    lua_pushliteral(L, "interrupted");
    return 2;
  }
  if (status < 0) {
    int err = errno;
    lua_pushnil(L);
    lua_pushstring(L, strerror(err));
    return 2;
  }
  if (accepted_line == NULL) {
    lua_pushnil(L);
    return 1;
  }
  unpushed_line = accepted_line;
  accepted_line = NULL;
  lua_pushstring(L, unpushed_line);
  free(unpushed_line);
  unpushed_line = NULL;
  return 1;
}

static int l_add_history(lua_State *L) {
  add_history(luaL_checkstring(L, 1));
  return 0;
}

/* History calls return 0 or an errno value. */
static int push_history_result(lua_State *L, int err, const char *path) {
  if (err == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", path, strerror(err));
  return 2;
}

static int l_read_history(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  return push_history_result(L, read_history(path), path);
}

static int l_write_history(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  return push_history_result(L, write_history(path), path);
}

static int l_append_history(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int n = (int)luaL_optinteger(L, 2, 1);
  /* append_history does not create the file; private, as shells do. */
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return push_history_result(L, errno, path);
  close(fd);
  return push_history_result(L, append_history(n, path), path);
}

static int l_truncate_history(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int max = (int)luaL_checkinteger(L, 2);
  return push_history_result(L, history_truncate_file(path, max < 0 ? 0 : max), path);
}

static int l_set_history_limit(lua_State *L) {
  lua_Integer max = luaL_checkinteger(L, 1);
  if (max < 0)
    unstifle_history();
  else
    stifle_history(max > INT32_MAX ? INT32_MAX : (int)max);
  return 0;
}

static int l_set_completer(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_pushlightuserdata(L, &completer_key);
  lua_pushvalue(L, 1);
  lua_rawset(L, LUA_REGISTRYINDEX);
  return 0;
}

static int l_isatty(lua_State *L) {
  int fd = (int)luaL_optinteger(L, 1, 0);
  lua_pushboolean(L, isatty(fd));
  return 1;
}

static const luaL_Reg readline_functions[] = {
    {"readline", l_readline},
    {"add_history", l_add_history},
    {"read_history", l_read_history},
    {"write_history", l_write_history},
    {"append_history", l_append_history},
    {"truncate_history", l_truncate_history},
    {"set_history_limit", l_set_history_limit},
    {"set_completer", l_set_completer},
    {"isatty", l_isatty},
    {NULL, NULL},
};

int luaopen_lunox_readline(lua_State *L) {
  lua_pushlightuserdata(L, &call_completer_key);
  lua_pushcfunction(L, call_completer);
  lua_rawset(L, LUA_REGISTRYINDEX);

  rl_readline_name = "lunox"; /* for `$if lunox` in ~/.inputrc */
  rl_attempted_completion_function = attempt_completion;
  rl_basic_word_break_characters = word_breaks;
  rl_completer_word_break_characters = word_breaks;
  /* Ctrl-C is handled here (see read_one_line), not by readline. */
  rl_catch_signals = 0;
  using_history();

  luaL_newlib(L, readline_functions);
  return 1;
}
