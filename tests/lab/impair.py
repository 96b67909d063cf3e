#!/usr/bin/python3
"""Userspace link impairment for the lab (the kernel here has no netem): loss, delay, jitter and
reordering applied to every packet, in one of two shapes.

  impair.py udp  --listen ADDR:PORT --to ADDR:PORT [impairment]
      A UDP relay: datagrams from any client to the listen socket go to --to from a per-client
      socket; the answers go back the same way. Both directions are impaired.
  impair.py link --a IFACE --b IFACE [impairment]
      A two-port bridge between two interfaces (AF_PACKET): every frame from one goes out the
      other, impaired. Put it in a namespace between a LAN host and its router to impair the
      whole path transparently (turn the interfaces' offloads off so frames stay <= MTU).

impairment (each direction on its own): --loss PCT  --delay MS  --jitter MS (uniform +-)
  --reorder PCT (that share of packets is held back an extra --reorder-gap MS, default
  delay/2+10, so later ones overtake it)  --seed N  --stats FILE (JSON counts on exit/SIGUSR1)
"""
import argparse
import heapq
import json
import os
import random
import select
import signal
import socket
import sys
import time


class Impair:
    def __init__(self, a):
        self.loss = a.loss / 100.0
        self.delay = a.delay / 1000.0
        self.jitter = a.jitter / 1000.0
        self.reorder = a.reorder / 100.0
        gap = a.reorder_gap if a.reorder_gap is not None else a.delay / 2 + 10
        self.gap = gap / 1000.0
        self.rng = random.Random(a.seed)
        self.queue = []     # (due, seq, send-fn, data)
        self.seq = 0
        self.stats = {"in": 0, "dropped": 0, "reordered": 0, "out": 0}

    def push(self, send, data):
        self.stats["in"] += 1
        if self.loss and self.rng.random() < self.loss:
            self.stats["dropped"] += 1
            return
        d = self.delay
        if self.jitter:
            d = max(0.0, d + self.rng.uniform(-self.jitter, self.jitter))
        if self.reorder and self.rng.random() < self.reorder:
            d += self.gap
            self.stats["reordered"] += 1
        self.seq += 1
        if d <= 0 and not self.queue:
            self._send(send, data)
            return
        heapq.heappush(self.queue, (time.monotonic() + d, self.seq, send, data))

    def _send(self, send, data):
        try:
            send(data)
            self.stats["out"] += 1
        except OSError:
            pass

    def timeout(self):
        if not self.queue:
            return None
        return max(0.0, self.queue[0][0] - time.monotonic())

    def flush(self):
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            _, _, send, data = heapq.heappop(self.queue)
            self._send(send, data)


def hp(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def run_udp(a, imp):
    lst = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lst.bind(hp(a.listen))
    dst = hp(a.to)
    clients = {}    # client addr -> upstream socket
    back = {}       # upstream socket fd -> (socket, client addr)
    idle = {}
    print("ready", flush=True)
    while True:
        socks = [lst] + [s for s, _ in back.values()]
        r, _, _ = select.select(socks, [], [], imp.timeout())
        for s in r:
            if s is lst:
                data, src = lst.recvfrom(65535)
                up = clients.get(src)
                if up is None:
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.bind((a.upstream_bind, 0))
                    clients[src] = up
                    back[up.fileno()] = (up, src)
                idle[src] = time.monotonic()
                imp.push(lambda d, u=up: u.sendto(d, dst), data)
            else:
                up, src = back[s.fileno()]
                data, _ = s.recvfrom(65535)
                imp.push(lambda d, c=src: lst.sendto(d, c), data)
        imp.flush()


def run_link(a, imp):
    ETH_P_ALL = 3
    sa = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sa.bind((a.a, 0))
    sb = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sb.bind((a.b, 0))
    for s in (sa, sb):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    other = {sa.fileno(): sb, sb.fileno(): sa}
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([sa, sb], [], [], imp.timeout())
        for s in r:
            data, addr = s.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:     # our own transmissions on this port
                continue
            o = other[s.fileno()]
            imp.push(o.send, data)
        imp.flush()


def main():
    p = argparse.ArgumentParser(description="riftgate lab impairment relay")
    p.add_argument("mode", choices=["udp", "link"])
    p.add_argument("--listen")
    p.add_argument("--to")
    p.add_argument("--upstream-bind", default="0.0.0.0")
    p.add_argument("--a")
    p.add_argument("--b")
    p.add_argument("--loss", type=float, default=0.0)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--jitter", type=float, default=0.0)
    p.add_argument("--reorder", type=float, default=0.0)
    p.add_argument("--reorder-gap", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--stats")
    a = p.parse_args()
    for k in ("loss", "reorder"):
        if not 0 <= getattr(a, k) <= 100:
            p.error("--%s must be 0..100" % k)
    if a.delay < 0 or a.jitter < 0:
        p.error("--delay and --jitter must be >= 0")
    imp = Impair(a)

    def dump(*_):
        if a.stats:
            with open(a.stats + ".tmp", "w") as f:
                json.dump(imp.stats, f)
            os.replace(a.stats + ".tmp", a.stats)

    def stop(*_):
        dump()
        sys.exit(0)

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.mode == "udp":
        if not a.listen or not a.to:
            p.error("udp needs --listen and --to")
        run_udp(a, imp)
    else:
        if not a.a or not a.b:
            p.error("link needs --a and --b")
        run_link(a, imp)


if __name__ == "__main__":
    main()
