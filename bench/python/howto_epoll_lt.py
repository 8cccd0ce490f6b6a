"""Seed 000's Example 3 (the epoll howto's level-triggered HTTP server),
re-indented from the seed text, as the Python peer of bench/http.ts.

Changes from the seed, for benchmarking only: host, port and backlog come
from the command line (the seed hard-codes 0.0.0.0:8080 and a backlog of
1, which drops SYNs under a burst of clients), SIGINT ends it quietly, and
a connection whose peer closed early is dropped (the seed would spin on
its EPOLLIN). It still prints every request, as the seed does (the
benchmark sends its stdout to /dev/null).

usage: python3 howto_epoll_lt.py HOST PORT [BACKLOG]
"""
import select
import socket
import sys

EOL1 = b'\n\n'
EOL2 = b'\n\r\n'
response = b'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n'
response += b'Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n'
response += b'Hello, world!'

host, port = sys.argv[1], int(sys.argv[2])
backlog = int(sys.argv[3]) if len(sys.argv) > 3 else 128

serversocket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
serversocket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
serversocket.bind((host, port))
serversocket.listen(backlog)
serversocket.setblocking(0)

epoll = select.epoll()
epoll.register(serversocket.fileno(), select.EPOLLIN)

try:
    connections = {}; requests = {}; responses = {}
    while True:
        events = epoll.poll(1)
        for fileno, event in events:
            if fileno == serversocket.fileno():
                connection, address = serversocket.accept()
                connection.setblocking(0)
                epoll.register(connection.fileno(), select.EPOLLIN)
                connections[connection.fileno()] = connection
                requests[connection.fileno()] = b''
                responses[connection.fileno()] = response
            elif event & select.EPOLLIN:
                data = connections[fileno].recv(1024)
                if not data:
                    epoll.unregister(fileno)
                    connections.pop(fileno).close()
                    continue
                requests[fileno] += data
                if EOL1 in requests[fileno] or EOL2 in requests[fileno]:
                    epoll.modify(fileno, select.EPOLLOUT)
                    print('-' * 40 + '\n' + requests[fileno].decode()[:-2])
            elif event & select.EPOLLOUT:
                byteswritten = connections[fileno].send(responses[fileno])
                responses[fileno] = responses[fileno][byteswritten:]
                if len(responses[fileno]) == 0:
                    epoll.modify(fileno, 0)
                    connections[fileno].shutdown(socket.SHUT_RDWR)
            elif event & select.EPOLLHUP:
                epoll.unregister(fileno)
                connections[fileno].close()
                del connections[fileno]
except KeyboardInterrupt:
    pass
finally:
    epoll.unregister(serversocket.fileno())
    epoll.close()
    serversocket.close()
