/*
 * echo-load.c — load generator of the echo benchmark (bench/echo.ts).
 *
 * Opens N connections to an echo server; each does ping-pong with M-byte
 * messages: send M bytes, wait until M bytes came back, compare them with
 * what was sent, repeat. Single-threaded, level-triggered epoll, TCP_NODELAY.
 * Every message carries a different byte pattern (connection id and
 * sequence number), so stale, reordered or foreign bytes count as errors.
 *
 * After --warmup seconds it prints "# start" (bench/net.ts samples the
 * server's CPU time there), measures for --seconds, prints one JSON line
 *   {"msgs": round trips, "seconds": s, "msgs_per_s": r, "errors": e,
 *    "conns": n, "size": m, "client_cpu_s": c,
 *    "lat_samples": k, "p50_us": a, "p99_us": b, "p999_us": c, "max_us": d}
 * then lets the messages in flight complete (starting no new one) and only
 * then closes its connections: teardown stays out of the measured window,
 * and no connection is closed with unread bytes (that would send a reset).
 * "errors" counts, over the whole run (warm-up included), failed connects
 * and connections dropped for a mismatching echo, an EOF or a reset; a
 * dropped connection is not reopened ("alive" says how many were left).
 * Exit status 0 when it measured, 1 when it could not connect at all.
 *
 * With --pipeline K each connection keeps K messages in flight: it sends K
 * messages back to back and waits for all K echoes before the next batch
 * (a round trip then counts K messages).
 *
 * With --messages N the measured window also ends once N messages were
 * echoed (the soak, bench/soak.ts, runs to a message count).
 *
 * Latency: every round trip that completes in the measured window is timed
 * from its first send() to the recv() that completes it (CLOCK_MONOTONIC,
 * a vDSO call of ~20 ns) into latency.h's histogram (percentiles within
 * ~3%, "max_us" exact). With --pipeline K a sample is one batch of K
 * messages (its K echoes all back), and lat_samples counts batches.
 *
 * usage: echo-load --port P [--host 127.0.0.1] [--conns 100] [--size 64]
 *                  [--pipeline 1] [--seconds 5] [--warmup 1] [--messages N]
 * Compiled at bench time by bench/net.ts (cc -O2); no binary is committed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

struct conn {
  int fd;
  int id;
  uint32_t seq;
  size_t sent, received;
  unsigned char *out; /* the message in flight */
  int alive;
  int idle; /* draining: nothing in flight any more */
  double started; /* when the message in flight was first sent */
};


static size_t msg_size = 64;  /* bytes in flight per connection: size x pipeline */
static long pipeline = 1;     /* messages per batch */

/* A pattern that differs per connection and per message. */
static void fill_message(struct conn *c) {
  uint32_t x = (uint32_t)c->id * 2654435761u ^ c->seq * 40503u ^ 0x9e3779b9u;
  for (size_t i = 0; i < msg_size; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c->out[i] = (unsigned char)x;
  }
  c->sent = c->received = 0;
}

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s --port P [--host H] [--conns N] [--size M] [--pipeline K] [--seconds D] [--warmup W] [--messages N]\n", argv0);
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0, nconns = 100;
  double seconds = 5, warmup = 1;
  long max_msgs = 0; /* 0: no limit but --seconds */
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage(argv[0]);
    const char *k = argv[i], *v = argv[++i];
    if (!strcmp(k, "--host")) host = v;
    else if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--conns")) nconns = atoi(v);
    else if (!strcmp(k, "--size")) msg_size = (size_t)atol(v);
    else if (!strcmp(k, "--seconds")) seconds = atof(v);
    else if (!strcmp(k, "--warmup")) warmup = atof(v);
    else if (!strcmp(k, "--pipeline")) pipeline = atol(v);
    else if (!strcmp(k, "--messages")) max_msgs = atol(v);
    else usage(argv[0]);
  }
  if (port <= 0 || nconns <= 0 || msg_size == 0 || seconds <= 0 || warmup < 0 || pipeline <= 0 || max_msgs < 0) usage(argv[0]);
  size_t one_size = msg_size;
  msg_size *= (size_t)pipeline;

  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "bad IPv4 address: %s\n", host);
    return 2;
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  unsigned char *inbuf = malloc(msg_size);
  if (ep < 0 || !conns || !inbuf) {
    perror("setup");
    return 1;
  }
  long errors = 0;
  int alive = 0;
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->id = i;
    c->out = malloc(msg_size);
    /* Blocking connect (loopback: immediate), then non-blocking I/O. */
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
      perror("connect");
      errors++;
      if (c->fd >= 0) close(c->fd);
      c->fd = -1;
      continue;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->alive = 1;
    alive++;
    fill_message(c);
  }
  if (!alive) {
    fprintf(stderr, "no connection could be made\n");
    return 1;
  }

  /*
   * Phases: warm-up, measuring, then draining: no new message is started,
   * the ones in flight are awaited (at most 2 s) so that no connection is
   * closed with unread echo bytes (which would make it send a reset).
   */
  struct epoll_event events[512];
  double t0 = now(), start = 0, end = 0, cpu = 0;
  enum { WARMUP, MEASURING, DRAINING } phase = WARMUP;
  long msgs = 0, drain_errors = 0;
  double cpu0 = 0;
  for (int i = 0; i < nconns; i++) conns[i].started = t0; /* the first messages go out in the first turn */
  int busy = alive; /* connections with a message in flight or about to be sent */
  for (;;) {
    double t = now();
    if (phase == WARMUP && t - t0 >= warmup) {
      phase = MEASURING;
      msgs = 0;
      start = t;
      cpu0 = cpu_seconds();
      lat_reset();
      printf("# start\n");
      fflush(stdout);
    } else if (phase == MEASURING && (t - start >= seconds || !alive || (max_msgs > 0 && msgs >= max_msgs))) {
      end = t;
      cpu = cpu_seconds() - cpu0;
      double elapsed = end - start;
      printf("{\"msgs\": %ld, \"seconds\": %.6f, \"msgs_per_s\": %.1f, \"errors\": %ld, \"conns\": %d, \"size\": %zu, "
             "\"pipeline\": %ld, \"alive\": %d, \"client_cpu_s\": %.4f, "
             LAT_JSON_FORMAT "}\n",
             msgs, elapsed, elapsed > 0 ? msgs / elapsed : 0.0, errors, nconns, one_size, pipeline, alive, cpu, LAT_JSON_ARGS);
      fflush(stdout);
      phase = DRAINING;
      drain_errors = errors;
      for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        if (c->alive && c->sent == 0) {
          c->idle = 1; /* not started: stays unsent */
          busy--;
        }
      }
    }
    if (phase == DRAINING && (busy <= 0 || t - end >= 2)) break;
    int n = epoll_wait(ep, events, 512, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int e = 0; e < n; e++) {
      struct conn *c = &conns[events[e].data.u32];
      if (!c->alive || c->idle) continue;
      int dead = 0;
      if (c->sent < msg_size && (events[e].events & (EPOLLOUT | EPOLLERR))) {
        ssize_t w = send(c->fd, c->out + c->sent, msg_size - c->sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) dead = 1;
        else if (w > 0) {
          c->sent += (size_t)w;
          if (c->sent == msg_size) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)c->id};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
          }
        }
      }
      if (!dead && (events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        /* Never read beyond the message: more bytes than sent is an error. */
        size_t want = msg_size - c->received;
        ssize_t r = recv(c->fd, inbuf, want ? want : 1, 0);
        if (r == 0) dead = 1;
        else if (r < 0) {
          if (errno != EAGAIN && errno != EINTR) dead = 1;
        } else if ((size_t)r + c->received > c->sent) {
          dead = 1; /* echoed bytes the client has not sent (yet) */
        } else if (memcmp(inbuf, c->out + c->received, (size_t)r) != 0) {
          dead = 1; /* wrong bytes */
        } else {
          c->received += (size_t)r;
          if (c->received == msg_size) {
            double done = now();
            if (phase == MEASURING) lat_record(done - c->started);
            if (phase == DRAINING) {
              c->idle = 1;
              busy--;
              continue;
            }
            msgs += pipeline;
            c->seq++;
            fill_message(c);
            c->started = done;
            ssize_t w = send(c->fd, c->out, msg_size, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) dead = 1;
            else if (w > 0) c->sent = (size_t)w;
            if (!dead && c->sent < msg_size) {
              struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)c->id};
              epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            }
          }
        }
      }
      if (dead) {
        errors++;
        c->alive = 0;
        alive--;
        busy--;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
      }
    }
  }
  if (errors > drain_errors) fprintf(stderr, "echo-load: %ld connection(s) failed while draining\n", errors - drain_errors);
  if (busy > 0) fprintf(stderr, "echo-load: %d message(s) still unanswered after 2 s of draining\n", busy);
  for (int i = 0; i < nconns; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  return 0;
}
