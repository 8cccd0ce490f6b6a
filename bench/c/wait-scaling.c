/*
 * wait-scaling.c — the C side of the wait-scaling benchmark
 * (bench/wait-scaling.ts): ns per zero-timeout select(), poll() and
 * epoll_wait() with N idle fds registered (socketpair ends with nothing to
 * read), for each N given. select() rebuilds its fd_set before every call,
 * as every select() loop must (the kernel overwrites it); poll() reuses its
 * pollfd array; epoll keeps its interest list in the kernel. select() is
 * skipped where an fd would be >= FD_SETSIZE.
 *
 * Prints one JSON object: {"select": {"N": ns, ...}, "poll": {...}, "epoll": {...}}
 *
 * usage: wait-scaling N [N ...]
 * Compiled at bench time by bench/net.ts (cc -O2); no binary is committed.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median over 5 rounds of ns per call of one wait kind (0 select, 1 poll, 2 epoll). */
static double measure(int kind, int *fds, int n, int ep, struct pollfd *pfds, struct epoll_event *evs) {
  long calls = 2000000 / (n > 10 ? n : 10);
  if (calls < 200) calls = 200;
  double samples[5];
  int maxfd = 0;
  for (int i = 0; i < n; i++)
    if (fds[i] > maxfd) maxfd = fds[i];
  for (int r = -1; r < 5; r++) { /* round -1 warms up */
    double t0 = now_ns();
    for (long c = 0; c < calls; c++) {
      if (kind == 0) {
        fd_set set;
        FD_ZERO(&set);
        for (int i = 0; i < n; i++) FD_SET(fds[i], &set);
        struct timeval tv = {0, 0};
        select(maxfd + 1, &set, NULL, NULL, &tv);
      } else if (kind == 1) {
        poll(pfds, (nfds_t)n, 0);
      } else {
        epoll_wait(ep, evs, n, 0);
      }
    }
    if (r >= 0) samples[r] = (now_ns() - t0) / (double)calls;
  }
  qsort(samples, 5, sizeof samples[0], cmp);
  return samples[2];
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s N [N ...]\n", argv[0]);
    return 2;
  }
  int max = 0;
  for (int a = 1; a < argc; a++)
    if (atoi(argv[a]) > max) max = atoi(argv[a]);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < (rlim_t)max + 64) {
    rl.rlim_cur = (rlim_t)max + 64 < rl.rlim_max ? (rlim_t)max + 64 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  double results[3][64];
  int counts[64];
  int nsizes = argc - 1 < 64 ? argc - 1 : 64;
  for (int s = 0; s < nsizes; s++) {
    int n = atoi(argv[s + 1]);
    counts[s] = n;
    int *fds = calloc((size_t)n + 1, sizeof *fds);
    struct pollfd *pfds = calloc((size_t)n + 1, sizeof *pfds);
    struct epoll_event *evs = calloc((size_t)n + 1, sizeof *evs);
    int ep = epoll_create1(EPOLL_CLOEXEC), got = 0;
    for (int i = 0; i + 1 < n + 1 && got < n; i += 2) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) break;
      fds[got++] = sv[0];
      if (got < n) fds[got++] = sv[1];
      else close(sv[1]);
    }
    for (int i = 0; i < got; i++) {
      pfds[i].fd = fds[i];
      pfds[i].events = POLLIN;
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
      epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    int maxfd = 0;
    for (int i = 0; i < got; i++)
      if (fds[i] > maxfd) maxfd = fds[i];
    results[0][s] = got == n && maxfd < FD_SETSIZE ? measure(0, fds, got, ep, pfds, evs) : -1;
    results[1][s] = got == n ? measure(1, fds, got, ep, pfds, evs) : -1;
    results[2][s] = got == n ? measure(2, fds, got, ep, pfds, evs) : -1;
    for (int i = 0; i < got; i++) close(fds[i]);
    close(ep);
    free(fds);
    free(pfds);
    free(evs);
  }
  const char *names[3] = {"select", "poll", "epoll"};
  printf("{");
  for (int k = 0; k < 3; k++) {
    printf("%s\"%s\": {", k ? ", " : "", names[k]);
    int first = 1;
    for (int s = 0; s < nsizes; s++) {
      if (results[k][s] < 0) continue;
      printf("%s\"%d\": %.1f", first ? "" : ", ", counts[s], results[k][s]);
      first = 0;
    }
    printf("}");
  }
  printf("}\n");
  return 0;
}
