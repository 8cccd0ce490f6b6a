/*
 * http-load.c — load generator of the HTTP benchmark (bench/http.ts).
 *
 * N connections at once (default 50), each sending GET requests for PATH:
 * - --close (default): HTTP/1.0, one connection per request, as the epoll
 *   howto's servers want: connect, send the request, read the response up
 *   to the server's close, check it, close, start over;
 * - --keep-alive: HTTP/1.1 on one connection per client, one request at a
 *   time: send, read the head and Content-Length bytes of body, check it,
 *   send the next.
 * A response counts when its status line says 200 and (keep-alive) its body
 * is complete; anything else is an error and the client reconnects.
 * Single-threaded, level-triggered epoll, TCP_NODELAY.
 *
 * Output as echo-load's: "# start" after --warmup seconds, then one JSON line
 * {"requests": n, "seconds": s, "req_per_s": r, "errors": e, "conns": n,
 *  "bytes": b, "client_cpu_s": c}. Exit status 0 when it measured, 1 when no
 * request succeeded.
 *
 * usage: http-load --port P [--host 127.0.0.1] [--conns 50] [--path /]
 *                  [--close | --keep-alive] [--seconds 5] [--warmup 1]
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"

#define BUF (256 * 1024)

struct client {
  int fd;
  int connecting;
  size_t sent;      /* bytes of the request sent */
  size_t got;       /* bytes of the response held in buf */
  size_t need;      /* keep-alive: head + body length once the head is in, else 0 */
  char *buf;
};

static struct sockaddr_in addr;
static int ep, keepalive;
static char request[1024];
static size_t request_len;

static void watch(struct client *c, int i, int op, unsigned events) {
  struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)i};
  epoll_ctl(ep, op, c->fd, &ev);
}

static int start(struct client *c, int i) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  c->connecting = 1;
  c->sent = c->got = c->need = 0;
  watch(c, i, EPOLL_CTL_ADD, EPOLLOUT);
  return 0;
}

static void stop(struct client *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

/* Status 200? */
static int ok_status(const struct client *c) {
  return c->got >= 12 && memcmp(c->buf, "HTTP/1.", 7) == 0 && memcmp(c->buf + 9, "200", 3) == 0;
}

/* Keep-alive: once the head is complete, the whole response's length; 0 if not yet, -1 if unusable. */
static long response_length(const struct client *c) {
  char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
  if (!end) return c->got >= BUF ? -1 : 0;
  size_t head = (size_t)(end - c->buf) + 4;
  for (char *p = c->buf; p < end; p++) {
    if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
      long n = atol(p + 15);
      return n >= 0 && head + (size_t)n <= BUF ? (long)(head + (size_t)n) : -1;
    }
  }
  return -1;
}

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s --port P [--host H] [--conns N] [--path /] [--close | --keep-alive] [--seconds D] [--warmup W]\n", argv0);
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *path = "/";
  int port = 0, n = 50;
  double seconds = 5, warmup = 1;
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i];
    if (!strcmp(k, "--close")) { keepalive = 0; continue; }
    if (!strcmp(k, "--keep-alive")) { keepalive = 1; continue; }
    if (i + 1 >= argc) usage(argv[0]);
    const char *v = argv[++i];
    if (!strcmp(k, "--host")) host = v;
    else if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--conns")) n = atoi(v);
    else if (!strcmp(k, "--path")) path = v;
    else if (!strcmp(k, "--seconds")) seconds = atof(v);
    else if (!strcmp(k, "--warmup")) warmup = atof(v);
    else usage(argv[0]);
  }
  if (port <= 0 || n <= 0 || seconds <= 0 || warmup < 0) usage(argv[0]);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "bad IPv4 address: %s\n", host);
    return 2;
  }
  request_len = (size_t)snprintf(request, sizeof request,
                                 keepalive ? "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" : "GET %s HTTP/1.0\r\nHost: %s:%d\r\n\r\n",
                                 path, host, port);
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct client *clients = calloc((size_t)n, sizeof *clients);
  if (ep < 0 || !clients) {
    perror("setup");
    return 1;
  }
  long requests = 0, total = 0, errors = 0;
  double bytes = 0;
  for (int i = 0; i < n; i++) {
    clients[i].buf = malloc(BUF);
    clients[i].fd = -1;
    if (start(&clients[i], i) < 0) errors++;
  }
  struct epoll_event events[512];
  struct window w;
  window_init(&w, warmup, seconds);
  for (;;) {
    int phase = window_tick(&w);
    if (phase == WINDOW_OPENED) {
      requests = 0;
      bytes = 0;
    } else if (phase == WINDOW_CLOSED) {
      double elapsed = window_elapsed(&w);
      printf("{\"requests\": %ld, \"seconds\": %.6f, \"req_per_s\": %.1f, \"errors\": %ld, \"conns\": %d, \"bytes\": %.0f, "
             "\"client_cpu_s\": %.4f}\n",
             requests, elapsed, requests / elapsed, errors, n, bytes, window_cpu(&w));
      fflush(stdout);
      break;
    }
    int k = epoll_wait(ep, events, 512, 100);
    if (k < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int e = 0; e < k; e++) {
      int i = (int)events[e].data.u32;
      struct client *c = &clients[i];
      if (c->fd < 0) continue;
      int failed = 0, done = 0;
      if (c->connecting || c->sent < request_len) {
        if (c->connecting) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) failed = 1;
          c->connecting = 0;
        }
        if (!failed) {
          ssize_t w = send(c->fd, request + c->sent, request_len - c->sent, MSG_NOSIGNAL);
          if (w < 0 && errno != EAGAIN && errno != EINTR) failed = 1;
          else if (w > 0) c->sent += (size_t)w;
          if (!failed && c->sent == request_len) watch(c, i, EPOLL_CTL_MOD, EPOLLIN);
        }
      } else {
        ssize_t r = recv(c->fd, c->buf + c->got, BUF - c->got, 0);
        if (r < 0) {
          if (errno == EAGAIN || errno == EINTR) continue;
          failed = 1;
        } else if (r == 0) {
          /* The server closed: the end of a close-mode response. */
          if (!keepalive && ok_status(c)) done = 1;
          else failed = 1;
        } else {
          c->got += (size_t)r;
          if (keepalive) {
            long need = response_length(c);
            if (need < 0 || (need > 0 && c->got > (size_t)need)) failed = 1;
            else if (need > 0 && c->got == (size_t)need) {
              if (!ok_status(c)) failed = 1;
              else {
                done = 1;
              }
            }
          } else if (c->got == BUF) {
            failed = 1;
          }
        }
      }
      if (done) {
        requests++;
        total++;
        bytes += (double)c->got;
      }
      if (failed) errors++;
      if (failed || (done && !keepalive)) {
        stop(c);
        if (start(c, i) < 0) errors++;
      } else if (done) {
        c->sent = c->got = 0;
        ssize_t w = send(c->fd, request, request_len, MSG_NOSIGNAL);
        if (w > 0) c->sent = (size_t)w;
        if (c->sent < request_len) watch(c, i, EPOLL_CTL_MOD, EPOLLOUT);
      }
    }
    for (int i = 0; i < n; i++)
      if (clients[i].fd < 0 && start(&clients[i], i) < 0) errors++;
  }
  for (int i = 0; i < n; i++)
    if (clients[i].fd >= 0) close(clients[i].fd);
  return total > 0 ? 0 : 1;
}
