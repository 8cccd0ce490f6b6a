/*
 * clock.h — the clocks every load generator in bench/c/ reads: monotonic
 * wall time for the measured window, and its own CPU time (reported as
 * client_cpu_s). Included by the programs; bench/net.ts hashes it with
 * each program's source, so a change here rebuilds them.
 */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's user + system CPU seconds. */
static inline double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 * The measured window of a load generator: `warmup` seconds, then "# start"
 * on stdout (bench/net.ts samples the server's CPU there), then `seconds`
 * of measuring.
 */
struct window {
  double t0, begin, cpu0, warmup, seconds;
  int measuring;
};

static inline void window_init(struct window *w, double warmup, double seconds) {
  w->t0 = now();
  w->begin = w->cpu0 = 0;
  w->warmup = warmup;
  w->seconds = seconds;
  w->measuring = 0;
}

enum { WINDOW_RUNNING, WINDOW_OPENED, WINDOW_CLOSED };

/*
 * Call once per loop turn. WINDOW_OPENED: the measurement just began (reset
 * the counters); WINDOW_CLOSED: it is over (print the result, with
 * window_elapsed() and window_cpu()); else WINDOW_RUNNING.
 */
static inline int window_tick(struct window *w) {
  double t = now();
  if (!w->measuring && t - w->t0 >= w->warmup) {
    w->measuring = 1;
    w->begin = t;
    w->cpu0 = cpu_seconds();
    printf("# start\n");
    fflush(stdout);
    return WINDOW_OPENED;
  }
  return w->measuring && t - w->begin >= w->seconds ? WINDOW_CLOSED : WINDOW_RUNNING;
}

static inline double window_elapsed(const struct window *w) { return now() - w->begin; }
static inline double window_cpu(const struct window *w) { return cpu_seconds() - w->cpu0; }

#endif
