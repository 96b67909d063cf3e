#!/usr/bin/python3
"""Integrity check through a tunnel: `xfer.py recv ADDR PORT` accepts one TCP connection and prints
the SHA-256 of everything received; `xfer.py send ADDR PORT FILE` sends FILE."""
import hashlib
import socket
import sys

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if mode == "recv":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(60)
    c, _ = s.accept()
    c.settimeout(60)
    h = hashlib.sha256()
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
    print(h.hexdigest(), flush=True)
else:
    s = socket.create_connection((addr, port), timeout=60)
    with open(sys.argv[4], "rb") as f:
        s.sendall(f.read())
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
