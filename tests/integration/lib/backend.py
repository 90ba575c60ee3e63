#!/usr/bin/python3
"""A backend for health-check tests, on loopback only.

  backend.py http PORT [flap]   Python http.server answering GET/HEAD /health with 200 "OK"
                                (flap: 200 and 503 on alternate requests)
  backend.py tcp PORT           a TCP listener that accepts and closes

Runs until killed; prints "ready" once listening."""
import http.server
import socket
import sys


def http_backend(port, flap):
    state = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, body):
            ok = True
            if flap:
                state["n"] += 1
                ok = state["n"] % 2 == 1
            if self.path != "/health":
                ok = False
            payload = b"OK\n" if ok else b"FAIL\n"
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def do_GET(self):
            self._answer(True)

        def do_HEAD(self):
            self._answer(False)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def tcp_backend(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        c.close()


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "http":
        http_backend(port, len(sys.argv) > 3 and sys.argv[3] == "flap")
    else:
        tcp_backend(port)
