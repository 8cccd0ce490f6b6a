/*
 * server.h — what the C reference servers of bench/c/ share: SIGINT and
 * SIGTERM set a flag (no SA_RESTART, so epoll_wait returns EINTR), SIGPIPE
 * is ignored, and a non-blocking listening socket is opened on HOST:PORT
 * with its epoll set, announced as "listening on HOST:PORT".
 */
#ifndef BENCH_SERVER_H
#define BENCH_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

/*
 * Install the signal handlers, listen on host:port (port 0: any free one)
 * with `backlog`, and make an epoll set watching the listening socket for
 * EPOLLIN. Exits with status 2 for a bad address, 1 if a call fails.
 */
static void open_server(const char *host, const char *port, int backlog, int *lfd_out, int *ep_out) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "bad IPv4 address: %s\n", host);
    exit(2);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, backlog) < 0) {
    perror("listen socket");
    exit(1);
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
    perror("epoll");
    exit(1);
  }
  printf("listening on %s:%u\n", host, (unsigned)ntohs(addr.sin_port));
  fflush(stdout);
  *lfd_out = lfd;
  *ep_out = ep;
}

#endif
