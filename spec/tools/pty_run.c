/*
** pty_run.c — run a program under a pseudo-terminal and type at it, for
** specs of interactive programs (the REPL).
**
**   pty_run [--timeout SEC] -- cmd args...
**
** The keystrokes come from pty_run's stdin. They are sent one line (with its
** newline) at a time, each after the child's output has been quiet for
** QUIET_MS (at most MAX_WAIT_S), so the program sees typing, not a paste.
** Control characters (TAB, ESC sequences) are sent as they are. At the end
** of stdin a Ctrl-D (0x04) follows. Everything the child wrote to the
** terminal is then copied to stdout, raw (the terminal turns \n into \r\n).
**
** Exit status: the child's (128+N if it died of signal N); 124 if it was
** still running after SEC seconds (default 10) and had to be killed; 2 on
** usage errors, 1 on pty_run's own failures.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define QUIET_MS 100
#define MAX_WAIT_S 3.0
#define CTRL_D '\004'

struct buffer {
  char *data;
  size_t len, cap;
};

static int buffer_append(struct buffer *b, const char *p, size_t n) {
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) {
      if (cap > ((size_t)-1) / 2) return -1;
      cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL) return -1;
    b->data = data;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Everything shared by the helpers below. */
struct session {
  int master;
  pid_t child;
  double deadline;    /* --timeout, from the start */
  int closed;         /* the child's side of the terminal is gone */
  struct buffer output;
};

/* Reads what is available; returns bytes read, 0 if nothing, -1 when the
   terminal closed (EIO is how Linux reports a hung-up pty master). */
static ssize_t read_available(struct session *s) {
  char chunk[4096];
  ssize_t total = 0;
  for (;;) {
    ssize_t n = read(s->master, chunk, sizeof chunk);
    if (n > 0) {
      if (buffer_append(&s->output, chunk, (size_t)n) != 0) {
        fputs("pty_run: out of memory\n", stderr);
        exit(1);
      }
      total += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return total;
    s->closed = 1;
    return total > 0 ? total : -1;
  }
}

/* Collects output until the child has been quiet for QUIET_MS. With
   need_output, silence before the first byte does not count (the program may
   still be starting). Gives up after MAX_WAIT_S or at the deadline. */
static void wait_quiet(struct session *s, int need_output) {
  double start = now_s();
  double last_output = start;
  int seen = 0;
  while (!s->closed) {
    double t = now_s();
    if (t >= s->deadline || t - start >= MAX_WAIT_S) return;
    if ((seen || !need_output) && (t - last_output) * 1000.0 >= QUIET_MS) return;
    struct pollfd p = {s->master, POLLIN, 0};
    int r = poll(&p, 1, 10);
    if (r < 0 && errno != EINTR) return;
    if (r > 0) {
      if (read_available(s) > 0) {
        seen = 1;
        last_output = now_s();
      }
    }
  }
}

/* Writes all of p, draining output while the terminal's input is full. */
static void send_bytes(struct session *s, const char *p, size_t n) {
  while (n > 0 && !s->closed && now_s() < s->deadline) {
    ssize_t w = write(s->master, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd pfd = {s->master, POLLIN | POLLOUT, 0};
      if (poll(&pfd, 1, 10) > 0 && (pfd.revents & POLLIN)) read_available(s);
      continue;
    }
    return; /* the child is gone; what it printed is what we report */
  }
}

static int read_all_stdin(struct buffer *in) {
  char chunk[4096];
  for (;;) {
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (buffer_append(in, chunk, (size_t)n) != 0) return -1;
  }
}

static int exit_status_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

/* After the last keystroke: collect output until the child exits. */
static int wait_for_exit(struct session *s, int *timed_out) {
  int status = 0;
  for (;;) {
    pid_t r = waitpid(s->child, &status, WNOHANG);
    if (r == s->child) {
      read_available(s); /* what it wrote just before exiting */
      return exit_status_of(status);
    }
    if (r < 0 && errno != EINTR) return 1;
    if (now_s() >= s->deadline) {
      *timed_out = 1;
      kill(s->child, SIGKILL);
      while (waitpid(s->child, &status, 0) < 0 && errno == EINTR) {
      }
      read_available(s);
      return 124;
    }
    if (s->closed) {
      usleep(10000); /* terminal closed; the exit status is on its way */
      continue;
    }
    struct pollfd p = {s->master, POLLIN, 0};
    if (poll(&p, 1, 10) > 0) read_available(s);
  }
}

static void usage(void) {
  fputs("usage: pty_run [--timeout SEC] -- cmd args...\n", stderr);
  exit(2);
}

int main(int argc, char **argv) {
  double timeout = 10.0;
  int i = 1;
  while (i < argc && strcmp(argv[i], "--") != 0) {
    if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      char *end;
      timeout = strtod(argv[i + 1], &end);
      if (*end != '\0' || !(timeout > 0)) usage();
      i += 2;
    } else {
      usage();
    }
  }
  if (i + 1 >= argc) usage();
  char **cmd = argv + i + 1;

  struct buffer input = {0};
  if (read_all_stdin(&input) != 0) {
    perror("pty_run: reading stdin");
    return 1;
  }

  struct winsize ws = {.ws_row = 24, .ws_col = 80};
  struct session s = {0};
  s.deadline = now_s() + timeout;
  s.child = forkpty(&s.master, NULL, NULL, &ws);
  if (s.child < 0) {
    perror("pty_run: forkpty");
    return 1;
  }
  if (s.child == 0) {
    /* A plain terminal keeps escape sequences out of what the specs match. */
    setenv("TERM", "dumb", 1);
    execvp(cmd[0], cmd);
    fprintf(stderr, "pty_run: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  int flags = fcntl(s.master, F_GETFL);
  if (flags < 0 || fcntl(s.master, F_SETFL, flags | O_NONBLOCK) < 0) {
    perror("pty_run: fcntl");
    kill(s.child, SIGKILL);
    return 1;
  }

  wait_quiet(&s, 1);
  size_t pos = 0;
  while (pos < input.len && !s.closed) {
    const char *nl = memchr(input.data + pos, '\n', input.len - pos);
    size_t n = nl != NULL ? (size_t)(nl - (input.data + pos)) + 1 : input.len - pos;
    send_bytes(&s, input.data + pos, n);
    pos += n;
    wait_quiet(&s, 0);
  }
  const char eof = CTRL_D;
  send_bytes(&s, &eof, 1);

  int timed_out = 0;
  int status = wait_for_exit(&s, &timed_out);
  if (s.output.len > 0 && fwrite(s.output.data, 1, s.output.len, stdout) != s.output.len) status = 1;
  fflush(stdout);
  if (timed_out) fprintf(stderr, "pty_run: timed out after %g s\n", timeout);
  free(input.data);
  free(s.output.data);
  close(s.master);
  return status;
}
