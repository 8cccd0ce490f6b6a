/*
 * epoll-http-server.c — the C peer of the HTTP benchmark (bench/http.ts):
 * seed 000's Example 3 (the epoll howto's level-triggered HTTP server)
 * written in C, step for step, so that it does the work our port
 * (examples/howto-epoll-lt.ts) and the Python original do: accept one
 * connection per readiness event, read the request 1024 bytes at a time
 * until a blank line, switch to EPOLLOUT, send the fixed response, shut
 * the connection down and close it on EPOLLHUP. It prints nothing per
 * request (the others run with their output discarded or --quiet).
 *
 * usage: epoll-http-server HOST PORT [BACKLOG]   (PORT 0 picks a free port; BACKLOG default 128)
 * Prints "listening on HOST:PORT"; exits 0 on SIGINT/SIGTERM.
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

static const char RESPONSE[] =
    "HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n"
    "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
    "Hello, world!";

struct conn {
  int open;
  size_t reqlen;   /* bytes of the request so far */
  char req[8192];  /* the request (the seed keeps it whole; so do we, up to 8 KiB) */
  size_t sent;     /* bytes of the response sent */
};

static struct conn **conns;
static size_t nconns;

static struct conn *conn_of(int fd) {
  if ((size_t)fd >= nconns) {
    size_t n = nconns ? nconns : 1024;
    while (n <= (size_t)fd) n *= 2;
    struct conn **c = realloc(conns, n * sizeof *c);
    if (!c) {
      perror("realloc");
      exit(1);
    }
    memset(c + nconns, 0, (n - nconns) * sizeof *c);
    conns = c;
    nconns = n;
  }
  if (!conns[fd]) conns[fd] = calloc(1, sizeof **conns);
  return conns[fd];
}

static void set_events(int ep, int fd, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void close_conn(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  memset(conn_of(fd), 0, sizeof **conns);
}

/* The seed's test: EOL1 (\n\n) or EOL2 (\n\r\n) anywhere in the request. */
static int complete(const struct conn *c) {
  return memmem(c->req, c->reqlen, "\n\n", 2) != NULL || memmem(c->req, c->reqlen, "\n\r\n", 3) != NULL;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s HOST PORT [BACKLOG]\n", argv[0]);
    return 2;
  }
  int backlog = argc == 4 ? atoi(argv[3]) : 128;
  int lfd, ep;
  open_server(argv[1], argv[2], backlog, &lfd, &ep);

  struct epoll_event events[256];
  while (!stop_requested) {
    int n = epoll_wait(ep, events, 256, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      unsigned mask = events[i].events;
      if (fd == lfd) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) continue;
        struct conn *c = conn_of(cfd);
        c->open = 1;
        struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev) < 0) close_conn(ep, cfd);
        continue;
      }
      struct conn *c = conn_of(fd);
      if (!c->open) continue;
      if (mask & EPOLLIN) {
        size_t room = sizeof c->req - c->reqlen;
        ssize_t r = recv(fd, c->req + c->reqlen, room < 1024 ? room : 1024, 0);
        if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
          close_conn(ep, fd);
          continue;
        }
        if (r > 0) c->reqlen += (size_t)r;
        if (complete(c)) set_events(ep, fd, EPOLLOUT);
        else if (c->reqlen == sizeof c->req) close_conn(ep, fd);
      } else if (mask & EPOLLOUT) {
        ssize_t w = send(fd, RESPONSE + c->sent, sizeof RESPONSE - 1 - c->sent, MSG_NOSIGNAL);
        if (w > 0) c->sent += (size_t)w;
        if (c->sent == sizeof RESPONSE - 1) {
          set_events(ep, fd, 0);
          shutdown(fd, SHUT_RDWR);
        }
      } else if (mask & (EPOLLHUP | EPOLLERR)) {
        close_conn(ep, fd);
      }
    }
  }
  for (size_t fd = 0; fd < nconns; fd++) {
    if (conns[fd] && conns[fd]->open) close_conn(ep, (int)fd);
    free(conns[fd]);
  }
  free(conns);
  close(ep);
  close(lfd);
  printf("caught signal, exiting\n");
  return 0;
}
