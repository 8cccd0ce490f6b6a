/*
 * connect-load.c — load generator of the connect/echo/close benchmark
 * (bench/echo.ts --connect).
 *
 * N clients (default 50) at once, each in a loop: connect (non-blocking),
 * send one byte, wait for it to come back, compare it, close, start over.
 * One cycle is counted per byte echoed. Single-threaded, level-triggered
 * epoll, TCP_NODELAY. The client closes first, so the TIME_WAIT sockets
 * pile up on the client's side, as with a real short-lived client; the
 * kernel reuses ports (net.ipv4.tcp_tw_reuse) when it may.
 *
 * Output is the same as echo-load's: "# start" after --warmup seconds, then
 * one JSON line {"msgs": cycles, "seconds": s, "msgs_per_s": r, "errors": e,
 * "conns": n, "size": 1, "alive": n, "client_cpu_s": c}. "errors" counts
 * failed connects, resets and wrong bytes; a failed client starts over.
 * Exit status 0 when it measured, 1 when no cycle completed.
 *
 * usage: connect-load --port P [--host 127.0.0.1] [--conns 50] [--seconds 5] [--warmup 1]
 * Compiled at bench time by bench/net.ts (cc -O2); no binary is committed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

enum state { CONNECTING, WAITING };

struct client {
  int fd;
  enum state state;
  unsigned char byte;
};

static struct sockaddr_in addr;
static int ep;

/* Start a new connection for client i; 0 on success. */
static int start(struct client *clients, int i) {
  struct client *c = &clients[i];
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  c->state = CONNECTING;
  c->byte = (unsigned char)(c->byte * 31 + 7);
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  return 0;
}

static void finish(struct client *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s --port P [--host H] [--conns N] [--seconds D] [--warmup W]\n", argv0);
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0, nclients = 50;
  double seconds = 5, warmup = 1;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage(argv[0]);
    const char *k = argv[i], *v = argv[++i];
    if (!strcmp(k, "--host")) host = v;
    else if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--conns")) nclients = atoi(v);
    else if (!strcmp(k, "--seconds")) seconds = atof(v);
    else if (!strcmp(k, "--warmup")) warmup = atof(v);
    else if (!strcmp(k, "--size") || !strcmp(k, "--pipeline")) continue; /* accepted for echo-load's command line; always 1 */
    else usage(argv[0]);
  }
  if (port <= 0 || nclients <= 0 || seconds <= 0 || warmup < 0) usage(argv[0]);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "bad IPv4 address: %s\n", host);
    return 2;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct client *clients = calloc((size_t)nclients, sizeof *clients);
  if (ep < 0 || !clients) {
    perror("setup");
    return 1;
  }
  long errors = 0, cycles = 0, total = 0;
  for (int i = 0; i < nclients; i++) {
    clients[i].byte = (unsigned char)i;
    if (start(clients, i) < 0) errors++;
  }

  struct epoll_event events[512];
  struct window w;
  window_init(&w, warmup, seconds);
  for (;;) {
    int phase = window_tick(&w);
    if (phase == WINDOW_OPENED) {
      cycles = 0;
    } else if (phase == WINDOW_CLOSED) {
      double elapsed = window_elapsed(&w);
      printf("{\"msgs\": %ld, \"seconds\": %.6f, \"msgs_per_s\": %.1f, \"errors\": %ld, \"conns\": %d, \"size\": 1, "
             "\"alive\": %d, \"client_cpu_s\": %.4f}\n",
             cycles, elapsed, cycles / elapsed, errors, nclients, nclients, window_cpu(&w));
      fflush(stdout);
      break;
    }
    int n = epoll_wait(ep, events, 512, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int e = 0; e < n; e++) {
      int i = (int)events[e].data.u32;
      struct client *c = &clients[i];
      if (c->fd < 0) continue;
      int failed = 0, done = 0;
      if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || send(c->fd, &c->byte, 1, MSG_NOSIGNAL) != 1) {
          failed = 1;
        } else {
          c->state = WAITING;
          struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
      } else {
        unsigned char b;
        ssize_t r = recv(c->fd, &b, 1, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r != 1 || b != c->byte) failed = 1;
        else done = 1;
      }
      if (failed || done) {
        finish(c);
        if (failed) errors++;
        else {
          cycles++;
          total++;
        }
        if (start(clients, i) < 0) errors++;
      }
    }
    /* A client whose connect could not even start (e.g. no free port) tries again. */
    for (int i = 0; i < nclients; i++)
      if (clients[i].fd < 0 && start(clients, i) < 0) errors++;
  }
  for (int i = 0; i < nclients; i++)
    if (clients[i].fd >= 0) close(clients[i].fd);
  return total > 0 ? 0 : 1;
}
