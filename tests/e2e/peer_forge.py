#!/usr/bin/env python3
"""peer_forge.py: sends bmlb peer messages that must be refused, for the
lab tests.  An independent writer of the wire format of
src/announce/peer_msg.h, version 2 (magic, version, type, flags, name
length, timestamp, digest, receiver's address, name, HMAC-SHA256 over all
of it).

  peer_forge.py seal KEYFILE NAME TYPE DST PORT [--age S] [--to ADDR]
      a message of TYPE (hello|bye) naming NAME, sealed with the first
      line of KEYFILE (or a random key when KEYFILE is "-") for the
      receiver ADDR (default DST), stamped S seconds in the past (default
      0), sent to DST:PORT.
  peer_forge.py replay PCAP DST PORT
      sends again, to DST:PORT, the UDP payloads to PORT found in a
      capture (tcpdump -w): each datagram exactly as it was.
  peer_forge.py junk DST PORT COUNT
      sends COUNT datagrams of random bytes (1..200 of them) to DST:PORT.
"""
import argparse
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

TYPES = {"hello": 1, "bye": 2}
VERSION = 2
READY = 1
JUNK_MAX = 100000  # a bound on the junk loop


def seal(args):
    if args.keyfile == "-":
        key = os.urandom(32)
    else:
        with open(args.keyfile, "rb") as f:
            key = f.readline().rstrip(b"\r\n")
    name = args.name.encode()
    ts = time.time_ns() - int(args.age * 1e9)
    to = socket.inet_aton(args.to or args.dst)
    body = b"BMLB" + struct.pack(">BBBBQQ", VERSION, TYPES[args.type], READY,
                                 len(name), ts, 0) + to + name
    return [body + hmac.new(key, body, hashlib.sha256).digest()]


def junk(args):
    return [os.urandom(1 + os.urandom(1)[0] % 200)
            for _ in range(min(args.count, JUNK_MAX))]


def pcap_payloads(path, port):
    """UDP payloads to port in an Ethernet capture (pcap, either order)."""
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "IIII", data[off:off + 16])[2]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        ihl = (frame[14] & 15) * 4
        udp = 14 + ihl
        if struct.unpack(">H", frame[udp + 2:udp + 4])[0] == port:
            out.append(frame[udp + 8:])
    return out


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seal")
    s.add_argument("keyfile")
    s.add_argument("name")
    s.add_argument("type", choices=TYPES)
    s.add_argument("dst")
    s.add_argument("port", type=int)
    s.add_argument("--age", type=float, default=0)
    s.add_argument("--to")
    r = sub.add_parser("replay")
    r.add_argument("pcap")
    r.add_argument("dst")
    r.add_argument("port", type=int)
    j = sub.add_parser("junk")
    j.add_argument("dst")
    j.add_argument("port", type=int)
    j.add_argument("count", type=int)
    args = p.parse_args()
    if args.cmd == "seal":
        msgs = seal(args)
    elif args.cmd == "junk":
        msgs = junk(args)
    else:
        msgs = pcap_payloads(args.pcap, args.port)
    if not msgs:
        sys.exit("peer_forge.py: nothing to send")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for m in msgs:
            sock.sendto(m, (args.dst, args.port))
    print(len(msgs))


if __name__ == "__main__":
    main()
