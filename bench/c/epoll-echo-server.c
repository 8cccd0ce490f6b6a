/*
 * epoll-echo-server.c — the C reference peer of the echo benchmark
 * (bench/echo.ts). A minimal, correct, single-threaded epoll echo server:
 * level-triggered, non-blocking sockets from accept4(), one recv() of up to
 * 64 KiB per readiness event, echoed back with send(); bytes the kernel does
 * not take are kept per connection and the connection then waits for
 * EPOLLOUT only (no reading while output is pending, i.e. backpressure),
 * switching back to EPOLLIN once drained.
 *
 * usage: epoll-echo-server HOST PORT   (PORT 0 picks a free port)
 * Prints "listening on HOST:PORT" once it accepts connections; exits 0 on
 * SIGINT/SIGTERM after closing every socket.
 *
 * Compiled at bench time by bench/net.ts (cc -O2); no binary is committed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "server.h"

#define READ_SIZE (64 * 1024)
#define MAX_EVENTS 256

struct conn {
  char *pending; /* unsent bytes, or NULL */
  size_t len, off;
  int open;
};

static struct conn *conns;
static size_t nconns;

static struct conn *conn_of(int fd) {
  if ((size_t)fd >= nconns) {
    size_t n = nconns ? nconns : 1024;
    while (n <= (size_t)fd) n *= 2;
    struct conn *c = realloc(conns, n * sizeof *c);
    if (!c) {
      perror("realloc");
      exit(1);
    }
    memset(c + nconns, 0, (n - nconns) * sizeof *c);
    conns = c;
    nconns = n;
  }
  return &conns[fd];
}

static void set_events(int ep, int fd, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) perror("epoll_ctl MOD");
}

static void close_conn(int ep, int fd) {
  struct conn *c = conn_of(fd);
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  free(c->pending);
  memset(c, 0, sizeof *c);
}

/* Send what is pending; returns -1 if the connection was closed. */
static int flush_pending(int ep, int fd) {
  struct conn *c = conn_of(fd);
  while (c->off < c->len) {
    ssize_t n = send(fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      close_conn(ep, fd);
      return -1;
    }
    c->off += (size_t)n;
  }
  free(c->pending);
  c->pending = NULL;
  c->len = c->off = 0;
  set_events(ep, fd, EPOLLIN);
  return 0;
}

static void on_readable(int ep, int fd, char *buf) {
  ssize_t n = recv(fd, buf, READ_SIZE, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    close_conn(ep, fd);
    return;
  }
  if (n == 0) {
    close_conn(ep, fd);
    return;
  }
  ssize_t sent = 0;
  while (sent < n) {
    ssize_t w = send(fd, buf + sent, (size_t)(n - sent), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_conn(ep, fd);
      return;
    }
    sent += w;
  }
  if (sent < n) {
    struct conn *c = conn_of(fd);
    c->len = (size_t)(n - sent);
    c->off = 0;
    c->pending = malloc(c->len);
    if (!c->pending) {
      perror("malloc");
      exit(1);
    }
    memcpy(c->pending, buf + sent, c->len);
    set_events(ep, fd, EPOLLOUT);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
    return 2;
  }
  int lfd, ep;
  open_server(argv[1], argv[2], SOMAXCONN, &lfd, &ep);

  static char buf[READ_SIZE];
  struct epoll_event events[MAX_EVENTS];
  while (!stop_requested) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      unsigned mask = events[i].events;
      if (fd == lfd) {
        for (;;) {
          int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) {
            if (errno == EINTR) continue;
            /* EAGAIN: backlog drained; ECONNABORTED, EMFILE...: try next event */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) perror("accept4");
            break;
          }
          struct conn *c = conn_of(cfd);
          c->open = 1;
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev) < 0) {
            perror("epoll_ctl ADD");
            close(cfd);
            c->open = 0;
          }
        }
        continue;
      }
      struct conn *c = conn_of(fd);
      if (!c->open) continue; /* closed earlier in this batch */
      if (c->pending) {
        if (mask & (EPOLLOUT | EPOLLERR | EPOLLHUP)) flush_pending(ep, fd);
      } else if (mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        on_readable(ep, fd, buf);
      }
    }
  }

  for (size_t fd = 0; fd < nconns; fd++)
    if (conns[fd].open) close_conn(ep, (int)fd);
  close(ep);
  close(lfd);
  free(conns);
  printf("caught signal, exiting\n");
  return 0;
}
