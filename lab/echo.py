#!/usr/bin/env python3
"""echo.py: the lab's pod server and client, so that tests can see which pod
answered and which source address it saw.

  echo.py serve NAME [--tcp PORT]... [--udp PORT]... [--download PORT]...
      TCP: on accept, sends "NAME PEER_IP PEER_PORT\\n", then echoes every
      byte until the peer closes.  UDP: answers each datagram with
      "NAME PEER_IP PEER_PORT\\n" followed by the datagram's first 64 bytes
      (an answer never outgrows a question).  Download (TCP): reads one
      line "N\\n", sends the greeting line, then N bytes of a fixed pattern.
  echo.py ask tcp|udp HOST PORT [--count N] [--bytes B] [--seconds S]
          [--timeout T] [--sport P] [--download N [--request B]]
          [--size N] [--pmtu]
          [--ip-option HEX]
      N exchanges (a new connection or socket, so a new flow, each); prints
      the server's first line per exchange, or "timeout"/"error WHAT".
      With --sport, exchange i uses source port P+i: the same flows again
      on every run (to see which flows stay where).
      TCP with --bytes: sends B random bytes (spread over S seconds) and
      appends "sha256 ok" or "sha256 bad" after checking the echo.
      TCP with --download N (to a download port): asks for N bytes (in a
      request of --request bytes, padded) and appends "download ok" or
      "download bad".
      UDP with --size N: a datagram of N bytes (default "ping\\n"); with
      --pmtu, sent with DF set, and when it goes unanswered, prints
      "mtu M" (the path MTU the kernel learned) and sends one that fits.
      --ip-option HEX: sent with these IP option bytes (needs root).
  echo.py http NAME PORT
      An HTTP application: answers every GET with "NAME PEER_IP
      X-Forwarded-For" and logs one line per request to stdout,
      "NAME PEER_IP xff=VALUE" (VALUE "-" when the header is absent).
  echo.py stream tcp|udp HOST PORT [--interval MS] [--seconds S]
          [--sport P]
      One flow for S seconds (UDP: one socket; TCP: one connection,
      opened again when an echo does not come back within 3 intervals), a
      small message every MS; prints "WALL_MS NAME PEER_IP" per answer,
      WALL_MS the wall clock when it arrived (failover measurements).
Exit status: 0 when every exchange answered (and every echo matched);
stream: 0 when anything answered.
"""
import argparse
import hashlib
import os
import socket
import socketserver
import sys
import threading
import time


IP_OPTIONS, IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 4, 10, 2, 14


def pattern(n):
    """A download's n bytes: 0, 1, ..., 255, 0, 1, ..."""
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def serve(args):
    name = args.name.encode()

    class Tcp(socketserver.BaseRequestHandler):
        def handle(self):
            ip, port = self.client_address[:2]
            self.request.sendall(b"%s %s %d\n" % (name, ip.encode(), port))
            while True:
                data = self.request.recv(65536)
                if not data:
                    return
                self.request.sendall(data)

    class Udp(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            ip, port = self.client_address[:2]
            sock.sendto(b"%s %s %d\n" % (name, ip.encode(), port) +
                        data[:64], self.client_address)

    class Download(socketserver.StreamRequestHandler):
        def handle(self):
            ip, port = self.client_address[:2]
            n = int(self.rfile.readline() or 0)
            self.wfile.write(b"%s %s %d\n" % (name, ip.encode(), port))
            self.wfile.write(pattern(n))

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    servers = [socketserver.ThreadingTCPServer(("0.0.0.0", p), Tcp)
               for p in args.tcp]
    servers += [socketserver.UDPServer(("0.0.0.0", p), Udp)
                for p in args.udp]
    servers += [socketserver.ThreadingTCPServer(("0.0.0.0", p), Download)
                for p in args.download]
    if not servers:
        sys.exit("echo.py serve: give --tcp or --udp ports")
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def ask_tcp(args, i):
    source = ("0.0.0.0", args.sport + i) if args.sport else None
    with socket.create_connection((args.host, args.port),
                                  timeout=args.timeout,
                                  source_address=source) as s:
        f = s.makefile("rb")
        if args.download:
            ask = b"%d" % args.download
            s.sendall(ask.ljust(max(args.request - 1, len(ask))) + b"\n")
        line = f.readline().decode().strip()
        if not line:
            return "error no greeting", False
        if args.download:
            ok = f.read(args.download) == pattern(args.download)
            return line + (" download ok" if ok else " download bad"), ok
        if not args.bytes:
            return line, True
        data = os.urandom(args.bytes)
        step = max(1, args.bytes // max(1, int(args.seconds * 20)))

        def send():
            for i in range(0, len(data), step):
                s.sendall(data[i:i + step])
                if args.seconds:
                    time.sleep(0.05)
            s.shutdown(socket.SHUT_WR)

        t = threading.Thread(target=send, daemon=True)
        t.start()
        got = f.read(len(data))
        t.join(args.timeout)
        ok = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        return line + (" sha256 ok" if ok else " sha256 bad"), ok


def ask_udp(args, i):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        if args.sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", args.sport + i))
        s.settimeout(args.timeout)
        if args.ip_option:
            s.setsockopt(socket.IPPROTO_IP, IP_OPTIONS,
                         bytes.fromhex(args.ip_option))
        s.connect((args.host, args.port))
        if not args.pmtu:
            s.send(b"x" * args.size if args.size else b"ping\n")
            return s.recv(65536).split(b"\n", 1)[0].decode(), True
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        size = args.size
        # The first try learns the path MTU; the next ones fit it (a
        # datagram is lost now and then: one more try).
        for _ in range(3):
            try:
                s.send(b"x" * size)
                return s.recv(65536).split(b"\n", 1)[0].decode(), True
            except OSError:  # unanswered, or too big for the new MTU
                mtu = s.getsockopt(socket.IPPROTO_IP, IP_MTU)
                print("mtu %d" % mtu, flush=True)
                size = mtu - 28
        return "timeout", False


def ask(args):
    fn = ask_tcp if args.proto == "tcp" else ask_udp
    good = True
    for i in range(args.count):
        try:
            line, ok = fn(args, i)
        except socket.timeout:
            line, ok = "timeout", False
        except OSError as e:
            line, ok = "error " + (e.strerror or str(e)), False
        print(line, flush=True)
        good = good and ok
    return 0 if good else 1


def http(args):
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            xff = self.headers.get("X-Forwarded-For", "-")
            line = "%s %s xff=%s" % (args.name, self.client_address[0], xff)
            print(line, flush=True)
            body = (line + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    http.server.ThreadingHTTPServer(("0.0.0.0", args.port),
                                    Handler).serve_forever()


def now_ms():
    return time.time_ns() // 1000000


def stream_udp(args, end, answered):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        if args.sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", args.sport))
        while time.monotonic() < end:
            s.sendto(b"ping\n", (args.host, args.port))
            due = time.monotonic() + args.interval / 1000
            while (left := due - time.monotonic()) > 0:
                s.settimeout(left)
                try:
                    data = s.recv(65536)
                except (socket.timeout, OSError):
                    break
                answered(data.split(b"\n", 1)[0].decode().split())


def stream_tcp(args, end, answered):
    wait = 3 * args.interval / 1000
    while time.monotonic() < end:
        due = time.monotonic() + args.interval / 1000
        try:
            with socket.create_connection((args.host, args.port),
                                          timeout=wait) as s:
                f = s.makefile("rb")
                who = f.readline().decode().split()
                while time.monotonic() < end and who:
                    s.sendall(b"ping\n")
                    if f.readline() != b"ping\n":
                        break
                    answered(who)
                    time.sleep(max(0, due - time.monotonic()))
                    due += args.interval / 1000
        except OSError:
            pass
        time.sleep(max(0, due - time.monotonic()))


def stream(args):
    got = [0]

    def answered(fields):
        if len(fields) >= 2:
            got[0] += 1
            print(now_ms(), fields[0], fields[1], flush=True)

    end = time.monotonic() + args.seconds
    (stream_tcp if args.proto == "tcp" else stream_udp)(args, end, answered)
    return 0 if got[0] else 1


def target(parser):
    """The arguments naming what a client talks to."""
    parser.add_argument("proto", choices=["tcp", "udp"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--sport", type=int, default=0)
    return parser


def main():
    p = argparse.ArgumentParser(description="lab pod server and client")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("name")
    s.add_argument("--tcp", type=int, action="append", default=[])
    s.add_argument("--udp", type=int, action="append", default=[])
    s.add_argument("--download", type=int, action="append", default=[])
    a = target(sub.add_parser("ask"))
    a.add_argument("--count", type=int, default=1)
    a.add_argument("--bytes", type=int, default=0)
    a.add_argument("--seconds", type=float, default=0)
    a.add_argument("--timeout", type=float, default=3)
    a.add_argument("--download", type=int, default=0)
    a.add_argument("--request", type=int, default=0)
    a.add_argument("--size", type=int, default=0)
    a.add_argument("--pmtu", action="store_true")
    a.add_argument("--ip-option", default="")
    t = target(sub.add_parser("stream"))
    t.add_argument("--interval", type=float, default=10)
    t.add_argument("--seconds", type=float, default=5)
    h = sub.add_parser("http")
    h.add_argument("name")
    h.add_argument("port", type=int)
    args = p.parse_args()
    if args.cmd == "serve":
        serve(args)
    elif args.cmd == "http":
        http(args)
    elif args.cmd == "stream":
        sys.exit(stream(args))
    else:
        sys.exit(ask(args))


if __name__ == "__main__":
    main()
