"""ns per selectors.EpollSelector().select(0) with N idle socketpair fds.

Peer of bench/selectors-select.ts; prints {"N": ns_per_call, ...} as JSON.
"""
import json
import resource
import selectors
import socket
import sys
import time


def ns_per_call(fn, calls, rounds=5):
    for _ in range(min(calls, 10000)):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    sizes = [int(a) for a in sys.argv[1:]]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(sizes) + 200
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    out = {}
    for n in sizes:
        sel = selectors.EpollSelector()
        socks = []
        for _ in range(n // 2):
            a, b = socket.socketpair()
            socks += [a, b]
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        calls = max(2000, 2000000 // max(n, 10))
        out[str(n)] = ns_per_call(lambda: sel.select(0), calls)
        sel.close()
        for s in socks:
            s.close()
    print(json.dumps(out))


main()
