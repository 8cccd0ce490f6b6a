/**
 * The constants of Python's `select` module on Linux: the `EPOLL*` and
 * `POLL*` event bits, `EPOLL_CLOEXEC` and `PIPE_BUF`. Pure: loads without
 * libc.
 */

export {
  EPOLLIN,
  EPOLLPRI,
  EPOLLOUT,
  EPOLLERR,
  EPOLLHUP,
  EPOLLRDNORM,
  EPOLLRDBAND,
  EPOLLWRNORM,
  EPOLLWRBAND,
  EPOLLMSG,
  EPOLLRDHUP,
  EPOLLEXCLUSIVE,
  EPOLLWAKEUP,
  EPOLLONESHOT,
  EPOLLET,
  EPOLL_CLOEXEC,
  POLLIN,
  POLLPRI,
  POLLOUT,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  POLLRDNORM,
  POLLRDBAND,
  POLLWRNORM,
  POLLWRBAND,
  POLLMSG,
  POLLRDHUP,
} from '../sys/constants.js';

/**
 * Bytes a write to a pipe is guaranteed to be atomic up to (Linux:
 * `PIPE_BUF` from `<limits.h>`), as `select.PIPE_BUF` in Python.
 */
export const PIPE_BUF = 4096;
