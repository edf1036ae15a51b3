#!/usr/bin/env python3
"""apiserver.py: a Kubernetes API server stand-in for the lab, and its
clients.

  serve NODE --cert FILE --key FILE [--port 6443]
      HTTPS (HTTP/1.1, keep-alive): GET /readyz answers "ok"; any other
      path answers "NODE\\n", the node that served it.
  ask URL [--count N] [--timeout T]
      N requests, each on a new connection; prints the node of each
      answer, or "error: ..." (exit 1 when any failed).
  first URL --since EPOCH [--seconds S]
      requests (a new connection each, 0.2 s to answer) until one
      succeeds; prints the seconds from EPOCH (a time.time() value, e.g.
      when a failure was caused) to that answer (exit 1 after S seconds).
  hold URL --until FILE [--seconds S]
      one connection: a request, then, once FILE exists (waiting at most
      S seconds), a second one on the same connection; prints both nodes
      (exit 1 when the connection broke).

The certificate is a throwaway self-signed one: clients do not verify it.
"""
import argparse
import http.server
import os
import socket
import ssl
import sys
import time
import urllib.parse


def serve(args):
    node = args.node.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body: no 40 ms wait

        def do_GET(self):
            body = b"ok" if self.path == "/readyz" else node + b"\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = Server(("0.0.0.0", args.port), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def connect(url, timeout):
    u = urllib.parse.urlsplit(url)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((u.hostname, u.port or 443), timeout)
    return ctx.wrap_socket(raw), u.path or "/"


def request(sock, path):
    """One GET on sock; returns the body (the whole answer is small)."""
    sock.sendall(("GET %s HTTP/1.1\r\nHost: apiserver\r\n\r\n" % path)
                 .encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before an answer")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed in the middle of an answer")
        body += chunk
    return body.decode().strip()


def ask(args):
    failed = 0
    for _ in range(args.count):
        try:
            sock, path = connect(args.url, args.timeout)
            with sock:
                print(request(sock, path), flush=True)
        except (OSError, ConnectionError) as e:
            print("error: %s" % e, flush=True)
            failed += 1
    return 1 if failed else 0


def first(args):
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        try:
            sock, path = connect(args.url, 0.2)
            with sock:
                request(sock, path)
            print("%.3f" % (time.time() - args.since), flush=True)
            return 0
        except (OSError, ConnectionError):
            time.sleep(0.01)
    print("error: no answer within %g s" % args.seconds)
    return 1


def hold(args):
    try:
        sock, path = connect(args.url, 5)
        with sock:
            print(request(sock, path), flush=True)
            end = time.monotonic() + args.seconds
            while not os.path.exists(args.until):
                if time.monotonic() > end:
                    print("error: %s did not appear" % args.until)
                    return 1
                time.sleep(0.05)
            print(request(sock, path), flush=True)
    except (OSError, ConnectionError) as e:
        print("error: %s" % e, flush=True)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("node")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--port", type=int, default=6443)
    a = sub.add_parser("ask")
    a.add_argument("url")
    a.add_argument("--count", type=int, default=1)
    a.add_argument("--timeout", type=float, default=2)
    f = sub.add_parser("first")
    f.add_argument("url")
    f.add_argument("--since", type=float, required=True)
    f.add_argument("--seconds", type=float, default=30)
    h = sub.add_parser("hold")
    h.add_argument("url")
    h.add_argument("--until", required=True)
    h.add_argument("--seconds", type=float, default=30)
    args = p.parse_args()
    if args.cmd == "serve":
        serve(args)
        return 0
    return {"ask": ask, "first": first, "hold": hold}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
