#!/usr/bin/python3
"""A stand-in DNS upstream for the lab: answers every question with one A record.

  dns-stub.py BIND_ADDR ANSWER [TTL [COUNT_FILE]]

ANSWER is an IPv4 address, or "source" for the address the question came from (shows which
path a lookup took). TTL defaults to 30. With COUNT_FILE, the number of answers sent so far is
written there after each one. Questions are echoed as they came (one question, no checks): it
only ever talks to the agents of the test that started it.
"""
import socket
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ttl = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    count_file = sys.argv[4] if len(sys.argv) > 4 else None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 53))
    n = 0
    while True:
        q, a = s.recvfrom(2048)
        end = 12
        while q[end]:
            end += q[end] + 1
        end += 5  # the root label, QTYPE, QCLASS
        addr = a[0] if sys.argv[2] == "source" else sys.argv[2]
        r = q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:end]
        r += b"\xc0\x0c\x00\x01\x00\x01" + ttl.to_bytes(4, "big") + b"\x00\x04"
        r += socket.inet_aton(addr)
        s.sendto(r, a)
        n += 1
        if count_file:
            with open(count_file, "w") as f:
                f.write(str(n))


main()
