#!/usr/bin/python3
"""Unit test of tests/lab/impair.py in udp mode on loopback: pass-through, loss rate, delay,
reordering. Each case starts the relay, an echo server, and counts what comes back."""
import os
import select
import socket
import subprocess
import sys
import threading
import time

SRC = os.environ.get("RG_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
RELAY = os.path.join(SRC, "tests", "lab", "impair.py")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(("ok: " if ok else "FAIL: ") + name + (" (%s)" % detail if detail else ""), flush=True)
    if ok:
        passed += 1
    else:
        failed += 1


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def echo_server(sock, stop):
    while not stop.is_set():
        r, _, _ = select.select([sock], [], [], 0.1)
        if r:
            d, a = sock.recvfrom(2048)
            sock.sendto(d, a)


def run_case(args, n, gap=0.001, linger=1.5):
    """Sends n numbered datagrams through the relay to an echo server; returns [(seq, rtt)] in
    arrival order."""
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))
    stop = threading.Event()
    t = threading.Thread(target=echo_server, args=(echo, stop), daemon=True)
    t.start()
    lp = free_port()
    proc = subprocess.Popen([sys.executable, RELAY, "udp", "--listen", "127.0.0.1:%d" % lp,
                             "--to", "127.0.0.1:%d" % echo.getsockname()[1],
                             "--upstream-bind", "127.0.0.1"] + args,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", line
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind(("127.0.0.1", 0))
        got = []
        sent = {}
        for i in range(n):
            sent[i] = time.monotonic()
            c.sendto(b"%08d" % i + b"x" * 100, ("127.0.0.1", lp))
            end = time.monotonic() + gap
            while True:
                r, _, _ = select.select([c], [], [], max(0, end - time.monotonic()))
                if not r:
                    break
                d, _ = c.recvfrom(2048)
                s = int(d[:8])
                got.append((s, time.monotonic() - sent[s]))
        end = time.monotonic() + linger
        while time.monotonic() < end:
            r, _, _ = select.select([c], [], [], 0.05)
            if r:
                d, _ = c.recvfrom(2048)
                s = int(d[:8])
                got.append((s, time.monotonic() - sent[s]))
        return got
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stop.set()
        t.join(timeout=2)


def inversions(seqs):
    return sum(1 for a, b in zip(seqs, seqs[1:]) if b < a)


got = run_case([], 300)
check("pass-through delivers everything", len(got) == 300, "%d/300" % len(got))
check("pass-through keeps order", inversions([s for s, _ in got]) == 0)

got = run_case(["--loss", "30", "--seed", "7"], 1000)
ratio = len(got) / 1000.0
# both directions drop 30%: 0.49 expected
check("30% loss each way delivers about 49%", 0.40 <= ratio <= 0.58, "%.3f" % ratio)
check("loss never duplicates", len(set(s for s, _ in got)) == len(got))

got = run_case(["--delay", "40"], 50, gap=0.01)
rtts = sorted(r for _, r in got)
med = rtts[len(rtts) // 2] if rtts else 0
check("40 ms delay each way: RTT >= 80 ms", len(got) == 50 and rtts[0] >= 0.078,
      "min %.1f ms" % (rtts[0] * 1000 if rtts else -1))
check("40 ms delay: median RTT < 250 ms (no runaway queueing)", 0 < med < 0.25,
      "median %.1f ms" % (med * 1000))

got = run_case(["--delay", "5", "--reorder", "20", "--reorder-gap", "30", "--seed", "3"], 300,
               gap=0.002)
seqs = [s for s, _ in got]
check("reordering: all delivered", len(got) == 300, "%d/300" % len(got))
check("reordering: some arrive out of order", inversions(seqs) > 10, "%d inversions" % inversions(seqs))

got = run_case(["--delay", "20", "--jitter", "15", "--seed", "5"], 100, gap=0.005)
rtts = [r for _, r in got]
spread = (max(rtts) - min(rtts)) if rtts else 0
check("jitter: RTTs spread by > 10 ms", len(got) == 100 and spread > 0.010, "%.1f ms" % (spread * 1000))

r = subprocess.run([sys.executable, RELAY, "udp", "--listen", "127.0.0.1:1", "--to",
                    "127.0.0.1:2", "--loss", "150"], capture_output=True)
check("bad --loss refused", r.returncode == 2)

print("impair: %d passed, %d failed" % (passed, failed))
cd = os.environ.get("RG_COUNTS_DIR")
if cd:
    os.makedirs(cd, exist_ok=True)
    with open(os.path.join(cd, "nat-impair"), "w") as f:
        f.write("%d %d\n" % (passed, failed))
sys.exit(1 if failed else 0)
