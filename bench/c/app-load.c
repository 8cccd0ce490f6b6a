/*
 * app-load.c — load generator of the app-server benchmark
 * (bench/app-server.ts), speaking the Real Python JSON-header protocol:
 * 2-byte big-endian header length, a JSON header with "content-length",
 * then the content.
 *
 * The request is a pre-encoded frame given as hex (--frame-hex) or a file
 * (--frame-file); bench/app-server.ts builds it with the library's
 * encodeMessage(createRequest('search', 'morpheus')), the exact 146 bytes
 * app-client.py sends. Each response is parsed (header length, the one
 * header key "content-length" read by a tiny hand parser, the content) and
 * its content must contain --expect (e.g. the reply's result text).
 *
 * Modes:
 *   --mode conn       one connection per request, like app-client.py:
 *                     connect, send the frame, read the full response, then
 *                     wait for the server to close (EOF; bytes after the
 *                     response are an error), close, repeat. --conns C such
 *                     loops run concurrently (default 1).
 *   --mode keepalive  C connections opened once, each sending requests back
 *                     to back and reading each full response; --pipeline P
 *                     keeps P requests in flight per connection (default 1).
 *                     A connection the server closes counts as one error per
 *                     request in flight and is reopened.
 *
 * After --warmup seconds it prints "# start" (bench/net.ts samples the
 * server's CPU time there), measures for --seconds, then prints one line
 *   {"requests": n, "seconds": s, "req_per_s": r, "errors": e, ...}
 * and lets the requests in flight finish (starting none) before closing
 * its connections, so the server sees orderly closes, not resets. A request counts when its response was
 * complete and valid (and, in conn mode, the server's EOF arrived).
 * "errors" covers the whole run, warm-up included.
 *
 * Latency (latency.h's histogram; the line gains "lat_samples", "p50_us",
 * "p99_us", "p999_us", "max_us"): each request counted in the window is
 * timed from when it was queued for sending to its complete response
 * (keepalive; with --pipeline P, requests queued behind others wait for
 * them) or to the server's EOF (conn mode: connect, request, response,
 * close: the whole cycle).
 *
 * usage: app-load --port P (--frame-hex HEX | --frame-file F) --expect TEXT
 *                 [--host 127.0.0.1] [--mode conn|keepalive] [--conns 1]
 *                 [--pipeline 1] [--seconds 5] [--warmup 1]
 * Compiled at bench time by bench/net.ts (cc -O2); no binary is committed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "latency.h"

#define MAX_RESPONSE (1 << 20)

enum { CONNECTING, ACTIVE, DRAINING /* conn mode: response read, waiting for EOF */ };

struct conn {
  int fd;
  int state;
  unsigned char *out; /* bytes to send */
  size_t out_len, out_off, out_cap;
  unsigned char *in;  /* bytes received, not yet consumed */
  size_t in_len;
  int in_flight;      /* requests sent (or queued) without a response yet */
  unsigned events;    /* epoll events registered */
  double *queued;     /* when each request in flight was queued: a ring of `pipeline` */
  int q_head;         /* the oldest request's slot */
  double cycle_start; /* conn mode: when the request whose EOF is awaited was queued */
};

static struct sockaddr_in addr;
static int ep, keepalive, pipeline = 1;
static unsigned char *frame;
static size_t frame_len;
static const char *expect;
static size_t expect_len;
static long requests, errors, connects;
static int draining; /* after the window: no new request or connection */
static int measuring; /* inside the measured window */

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void set_events(struct conn *c, unsigned events, int idx) {
  if (events == c->events) return;
  struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)idx};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD");
  c->events = events;
}

static void queue_request(struct conn *c) {
  if (c->out_len + frame_len > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap * 2 : frame_len * (size_t)pipeline;
    while (cap < c->out_len + frame_len) cap *= 2;
    c->out = realloc(c->out, cap);
    if (!c->out) die("realloc");
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, frame, frame_len);
  c->out_len += frame_len;
  c->queued[(c->q_head + c->in_flight) % pipeline] = now();
  c->in_flight++;
}

/* The oldest request in flight got its response: when was it queued? */
static double answered(struct conn *c) {
  double t = c->queued[c->q_head];
  c->q_head = (c->q_head + 1) % pipeline;
  c->in_flight--;
  return t;
}

/* Start a connection in slot idx: non-blocking connect, requests queued. */
static void open_conn(struct conn *c, int idx) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->out_len = c->out_off = c->in_len = 0;
  c->in_flight = 0;
  c->q_head = 0;
  connects++;
  int r = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
  c->state = (r == 0) ? ACTIVE : CONNECTING;
  if (r < 0 && errno != EINPROGRESS) {
    /* Retried through the EPOLLOUT/EPOLLERR path below. */
    c->state = CONNECTING;
  }
  int n = keepalive ? pipeline : 1;
  for (int i = 0; i < n; i++) queue_request(c);
  c->events = EPOLLOUT;
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)idx};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl ADD");
}

static void close_conn(struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

/* The connection failed or the server closed early: count and reopen. */
static void fail_conn(struct conn *c, int idx) {
  errors += c->in_flight > 0 ? c->in_flight : 1;
  close_conn(c);
  if (!draining) open_conn(c, idx);
}

/*
 * Length of the first complete frame in buf, 0 if incomplete, -1 if
 * malformed; the content and its length are stored through the pointers.
 */
static long parse_frame(const unsigned char *buf, size_t len, const unsigned char **content, size_t *content_len) {
  if (len < 2) return 0;
  size_t hlen = ((size_t)buf[0] << 8) | buf[1];
  if (len < 2 + hlen) return 0;
  const char *h = (const char *)buf + 2;
  static const char key[] = "\"content-length\"";
  const char *k = memmem(h, hlen, key, sizeof key - 1);
  if (!k) return -1;
  const char *p = k + sizeof key - 1, *hend = h + hlen;
  while (p < hend && (*p == ' ' || *p == '\t')) p++;
  if (p >= hend || *p != ':') return -1;
  p++;
  while (p < hend && (*p == ' ' || *p == '\t')) p++;
  if (p >= hend || *p < '0' || *p > '9') return -1;
  size_t clen = 0;
  while (p < hend && *p >= '0' && *p <= '9') {
    clen = clen * 10 + (size_t)(*p - '0');
    if (clen > MAX_RESPONSE) return -1;
    p++;
  }
  if (len < 2 + hlen + clen) return 0;
  *content = buf + 2 + hlen;
  *content_len = clen;
  return (long)(2 + hlen + clen);
}

static void on_event(struct conn *c, int idx, unsigned mask) {
  if (c->state == CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
      fail_conn(c, idx);
      return;
    }
    c->state = ACTIVE;
  }
  if ((mask & EPOLLOUT) && c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        fail_conn(c, idx);
        return;
      }
    } else {
      c->out_off += (size_t)w;
      if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    }
  }
  if (mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    if (c->in_len == MAX_RESPONSE) {
      fail_conn(c, idx); /* oversized response */
      return;
    }
    ssize_t r = recv(c->fd, c->in + c->in_len, MAX_RESPONSE - c->in_len, 0);
    if (r < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        fail_conn(c, idx);
        return;
      }
    } else if (r == 0) {
      if (c->state == DRAINING && c->in_len == 0) {
        requests++; /* conn mode: response complete and server closed */
        if (measuring && !draining) lat_record(now() - c->cycle_start);
        close_conn(c);
        if (!draining) open_conn(c, idx);
      } else {
        fail_conn(c, idx);
      }
      return;
    } else {
      c->in_len += (size_t)r;
      if (c->state == DRAINING) {
        fail_conn(c, idx); /* bytes after the response */
        return;
      }
      size_t off = 0;
      for (;;) {
        const unsigned char *content;
        size_t clen;
        long n = parse_frame(c->in + off, c->in_len - off, &content, &clen);
        if (n == 0) break;
        if (n < 0 || c->in_flight == 0 || !memmem(content, clen, expect, expect_len)) {
          fail_conn(c, idx);
          return;
        }
        off += (size_t)n;
        double queued = answered(c);
        if (keepalive) {
          requests++;
          if (measuring && !draining) lat_record(now() - queued);
          if (!draining) queue_request(c);
        } else {
          c->cycle_start = queued;
          c->state = DRAINING;
          if (off != c->in_len) {
            fail_conn(c, idx);
            return;
          }
        }
      }
      if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
      }
    }
  }
  set_events(c, c->out_off < c->out_len ? (EPOLLIN | EPOLLOUT) : EPOLLIN, idx);
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --port P (--frame-hex HEX | --frame-file F) --expect TEXT [--host H]\n"
          "          [--mode conn|keepalive] [--conns C] [--pipeline P] [--seconds D] [--warmup W]\n",
          argv0);
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *hex = NULL, *file = NULL, *mode = "conn";
  int port = 0, nconns = 1;
  double seconds = 5, warmup = 1;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage(argv[0]);
    const char *k = argv[i], *v = argv[++i];
    if (!strcmp(k, "--host")) host = v;
    else if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--conns")) nconns = atoi(v);
    else if (!strcmp(k, "--pipeline")) pipeline = atoi(v);
    else if (!strcmp(k, "--mode")) mode = v;
    else if (!strcmp(k, "--frame-hex")) hex = v;
    else if (!strcmp(k, "--frame-file")) file = v;
    else if (!strcmp(k, "--expect")) expect = v;
    else if (!strcmp(k, "--seconds")) seconds = atof(v);
    else if (!strcmp(k, "--warmup")) warmup = atof(v);
    else usage(argv[0]);
  }
  if (!strcmp(mode, "keepalive")) keepalive = 1;
  else if (strcmp(mode, "conn")) usage(argv[0]);
  if (port <= 0 || nconns <= 0 || pipeline <= 0 || seconds <= 0 || warmup < 0 || !expect || !(hex || file)) usage(argv[0]);
  expect_len = strlen(expect);

  if (hex) {
    size_t n = strlen(hex);
    if (n % 2) usage(argv[0]);
    frame_len = n / 2;
    frame = malloc(frame_len);
    for (size_t i = 0; i < frame_len; i++) {
      int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) usage(argv[0]);
      frame[i] = (unsigned char)(hi << 4 | lo);
    }
  } else {
    FILE *f = fopen(file, "rb");
    if (!f) die(file);
    frame = malloc(MAX_RESPONSE);
    frame_len = fread(frame, 1, MAX_RESPONSE, f);
    fclose(f);
  }
  const unsigned char *content;
  size_t clen;
  if (parse_frame(frame, frame_len, &content, &clen) != (long)frame_len) {
    fprintf(stderr, "the request is not exactly one well-formed frame (%zu bytes)\n", frame_len);
    return 2;
  }

  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "bad IPv4 address: %s\n", host);
    return 2;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  if (!conns) die("calloc");
  for (int i = 0; i < nconns; i++) {
    conns[i].in = malloc(MAX_RESPONSE);
    conns[i].queued = malloc(sizeof(double) * (size_t)pipeline);
    if (!conns[i].in || !conns[i].queued) die("malloc");
    open_conn(&conns[i], i);
  }

  /*
   * Phases: warm-up, measuring, then draining: no new request or
   * connection, the ones in flight are awaited (at most 2 s), so the server
   * sees orderly closes rather than resets.
   */
  struct epoll_event events[256];
  double t0 = now(), start = 0, end = 0, cpu0 = 0;
  long connects0 = 0, errors_at_end = 0;
  for (;;) {
    double t = now();
    if (!measuring && t - t0 >= warmup) {
      measuring = 1;
      requests = 0;
      connects0 = connects;
      start = t;
      cpu0 = cpu_seconds();
      lat_reset();
      printf("# start\n");
      fflush(stdout);
    } else if (measuring && !draining && t - start >= seconds) {
      end = t;
      double cpu = cpu_seconds() - cpu0, elapsed = end - start;
      printf("{\"requests\": %ld, \"seconds\": %.6f, \"req_per_s\": %.1f, \"errors\": %ld, \"mode\": \"%s\", \"conns\": %d, "
             "\"pipeline\": %d, \"connects\": %ld, \"client_cpu_s\": %.4f, " LAT_JSON_FORMAT "}\n",
             requests, elapsed, requests / elapsed, errors, keepalive ? "keepalive" : "conn", nconns, keepalive ? pipeline : 1,
             connects - connects0, cpu, LAT_JSON_ARGS);
      fflush(stdout);
      draining = 1;
      errors_at_end = errors;
    }
    if (draining) {
      int busy = 0;
      for (int i = 0; i < nconns; i++)
        if (conns[i].fd >= 0 && (!keepalive || conns[i].in_flight > 0)) busy++;
      if (!busy || t - end >= 2) {
        if (busy) fprintf(stderr, "app-load: %d connection(s) still waiting after 2 s of draining\n", busy);
        break;
      }
    }
    int n = epoll_wait(ep, events, 256, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int e = 0; e < n; e++) {
      int idx = (int)events[e].data.u32;
      if (conns[idx].fd >= 0) on_event(&conns[idx], idx, events[e].events);
    }
  }
  if (errors > errors_at_end) fprintf(stderr, "app-load: %ld error(s) while draining\n", errors - errors_at_end);
  for (int i = 0; i < nconns; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  return 0;
}
