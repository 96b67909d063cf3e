#!/usr/bin/python3
"""A STUN server that never answers properly, for netcheck's bad-input test.
  stun-liar.py ADDR:PORT MODE   MODE: garbage (random bytes of random length), spoof (a well-formed
  Binding success with another transaction id), truncated (a success cut in its attributes),
  silent (reads, never answers), tcp-silent (a TCP listener that accepts and never answers)."""
import os
import socket
import struct
import sys

host, port = sys.argv[1].rsplit(":", 1)
mode = sys.argv[2]
if mode == "tcp-silent":
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((host, int(port)))
    t.listen(8)
    print("ready", flush=True)
    held = []
    while True:
        held.append(t.accept()[0])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, int(port)))
print("ready", flush=True)
COOKIE = 0x2112A442


def success(tid, src):
    ip = struct.unpack("!I", socket.inet_aton(src[0]))[0] ^ COOKIE
    attr = struct.pack("!HHBBHI", 0x0020, 8, 0, 1, src[1] ^ (COOKIE >> 16), ip)
    return struct.pack("!HHI", 0x0101, len(attr), COOKIE) + tid + attr


while True:
    data, src = s.recvfrom(2048)
    if len(data) < 20:
        continue
    tid = data[8:20]
    for _ in range(3):
        if mode == "garbage":
            s.sendto(os.urandom(1 + os.urandom(1)[0]), src)
        elif mode == "spoof":
            s.sendto(success(bytes(b ^ 0xFF for b in tid), src), src)
        elif mode == "truncated":
            s.sendto(success(tid, src)[:26], src)
