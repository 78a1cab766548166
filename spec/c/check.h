/*
** check.h — the C tests' tally: CHECK(cond, fmt, ...) counts a pass or
** prints the failure with its place, and check_summary() prints the
** closing "N passed, M failed" line (which ctest's log readers look for)
** and gives the exit status.
*/
#ifndef LX_CHECK_H
#define LX_CHECK_H

#include <stdbool.h>
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                  \
  do {                                                    \
    if (cond) check_passed++;                             \
    else {                                                \
      check_failed++;                                     \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);         \
      printf(__VA_ARGS__);                                \
      printf("\n");                                       \
    }                                                     \
  } while (0)

/* Counts checks made outside CHECK (a loop that checks many values and
** reports once). */
static inline void check_pass(void) { check_passed++; }

static inline int check_summary(void) {
  printf("%d passed, %d failed\n", check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
