/*
 * hold-load.c — the client of the memory benchmark (bench/memory.ts): opens
 * N connections to an echo server, sends one M-byte message on each and
 * waits for its echo (so that the server has really set every connection
 * up), prints one JSON line {"conns": n, "held": h, "errors": e,
 * "seconds": s} and then holds every connection open, idle, until its
 * standard input closes (or SIGTERM), then closes them and exits 0.
 *
 * usage: hold-load --port P [--host 127.0.0.1] [--conns 10000] [--size 64]
 * Compiled at bench time by bench/net.ts (cc -O2); no binary is committed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0, n = 10000;
  size_t size = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--conns")) n = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--size")) size = (size_t)atol(argv[i + 1]);
  }
  if (port <= 0 || n <= 0 || size == 0 || size > 65536) {
    fprintf(stderr, "usage: %s --port P [--host H] [--conns N] [--size M]\n", argv[0]);
    return 2;
  }
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < (rlim_t)n + 64) {
    rl.rlim_cur = (rlim_t)n + 64 < rl.rlim_max ? (rlim_t)n + 64 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return 2;
  int *fds = calloc((size_t)n, sizeof *fds);
  size_t *got = calloc((size_t)n, sizeof *got);
  unsigned char *msg = malloc(size), *buf = malloc(size);
  memset(msg, 'x', size);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  double t0 = now();
  long errors = 0;
  int pending = 0;
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&addr, sizeof addr) < 0 ||
        send(fds[i], msg, size, MSG_NOSIGNAL) != (ssize_t)size) {
      errors++;
      if (fds[i] >= 0) close(fds[i]);
      fds[i] = -1;
      continue;
    }
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    pending++;
  }
  struct epoll_event events[512];
  while (pending > 0 && now() - t0 < 120) {
    int k = epoll_wait(ep, events, 512, 1000);
    for (int e = 0; e < k; e++) {
      int i = (int)events[e].data.u32;
      ssize_t r = recv(fds[i], buf, size - got[i], 0);
      if (r > 0) got[i] += (size_t)r;
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        errors++;
        got[i] = size;
      }
      if (got[i] == size) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
        pending--;
      }
    }
  }
  int held = 0;
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) held++;
  printf("{\"conns\": %d, \"held\": %d, \"errors\": %ld, \"unanswered\": %d, \"seconds\": %.3f}\n", n, held, errors, pending, now() - t0);
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
  return 0;
}
