#!/usr/bin/python3
"""UDP probe for the NAT lab: tells what kind of NAT sits between a host and the lab internet.

  nat-probe.py serve ADDR:PORT [ADDR:PORT ...]
      Answers on every socket. A datagram "map" gets back "seen IP:PORT" (the sender's address as
      the server sees it: the NAT mapping). "via ADDR:PORT" gets the same answer, but sent from
      the server's socket bound to ADDR:PORT (a filtering check: does the NAT let it in?).
  nat-probe.py classify A1 A2 A3 P1 P2
      Mapping: one local socket asks A1:P1 and A2:P1 for its mapping (same = endpoint-independent).
      Filtering: fresh sockets ask A1:P1 for an answer from A1:P2 (same address, other port) and
      from A3:P1 (an address never contacted). Prints one JSON object.
"""
import json
import socket
import select
import sys


def hp(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def serve(addrs):
    socks = {}
    for a in addrs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(hp(a))
        socks[a] = s
    print("ready", flush=True)
    while True:
        r, _, _ = select.select(list(socks.values()), [], [])
        for s in r:
            data, src = s.recvfrom(2048)
            msg = data.decode("ascii", "replace").split()
            ans = ("seen %s:%d" % src).encode()
            if msg[:1] == ["map"]:
                s.sendto(ans, src)
            elif msg[:1] == ["via"] and len(msg) == 2 and msg[1] in socks:
                socks[msg[1]].sendto(ans, src)


def ask(sock, dst, msg, tries=3, wait=0.7):
    for _ in range(tries):
        sock.sendto(msg.encode(), dst)
        r, _, _ = select.select([sock], [], [], wait)
        if r:
            data, src = sock.recvfrom(2048)
            return data.decode().split()[1], "%s:%d" % src
    return None, None


def classify(a1, a2, a3, p1, p2):
    p1, p2 = int(p1), int(p2)
    out = {}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    out["local_port"] = s.getsockname()[1]
    m1, _ = ask(s, (a1, p1), "map")
    m2, _ = ask(s, (a2, p1), "map")
    out["mapped_1"], out["mapped_2"] = m1, m2
    if m1 is None or m2 is None:
        out["mapping"] = "no-answer"
    else:
        out["mapping"] = "endpoint-independent" if m1 == m2 else "endpoint-dependent"
        out["port_kept"] = int(m1.rsplit(":", 1)[1]) == out["local_port"]
    # filtering, each on a fresh socket that has contacted A1:P1 only
    for name, via in (("other_port", "%s:%d" % (a1, p2)), ("other_addr", "%s:%d" % (a3, p1))):
        f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        f.bind(("0.0.0.0", 0))
        got, src = ask(f, (a1, p1), "via " + via, tries=2, wait=0.8)
        out[name] = "open" if got is not None and src == via else "filtered"
        f.close()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "classify":
        classify(*sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
