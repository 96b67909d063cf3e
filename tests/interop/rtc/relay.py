#!/usr/bin/python3
"""Signaling relay for the riftgate test-peer contract (tests/interop/PROTOCOL.md).

Starts peer A and peer B, pipes each one's JSON signaling lines to the other's stdin,
collects both result lines, enforces an overall timeout, kills everything on exit and
exits 0 only if both results are ok. Prints one verdict line on stdout.

  relay.py --a 'CMD ...' --b 'CMD ...' [--netns NS [--make-netns]] [--netns-a NS] [--netns-b NS]
           [--drop-candidates-to a|b] [--timeout S] [--results FILE] [--name-a X] [--name-b Y]
"""
import argparse
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time

T0 = time.monotonic()


def log(msg):
    sys.stderr.write("relay[%6.3f] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def run(cmd, check=True):
    return subprocess.run(cmd, check=check, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Peer:
    def __init__(self, side, name, cmd, netns, events):
        self.side, self.name, self.events = side, name, events
        argv = shlex.split(cmd)
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.argv = argv
        self.result = None
        self.t_result = None
        self.cpu_start = None   # (monotonic, cpu seconds) when signaling completed
        self.cpu_end = None     # (monotonic, cpu seconds) when the result line arrived
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True,
                                     bufsize=0)
        self.wlock = threading.Lock()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for raw in iter(self.proc.stdout.readline, b""):
            self.events.put(("line", self, raw.decode("utf-8", "replace").strip()))
        self.events.put(("eof", self, None))

    def _read_err(self):
        for raw in iter(self.proc.stderr.readline, b""):
            sys.stderr.write("  %s| %s" % (self.name, raw.decode("utf-8", "replace")))
            sys.stderr.flush()

    def send(self, line):
        with self.wlock:
            try:
                self.proc.stdin.write((line + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass

    def cpu_seconds(self):
        """utime+stime of the peer process (all threads) from /proc, or None."""
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def cpu_mark(self):
        c = self.cpu_seconds()
        return None if c is None else (time.monotonic(), c)

    def cpu_report(self):
        if not self.cpu_start or not self.cpu_end:
            return None
        wall = self.cpu_end[0] - self.cpu_start[0]
        cpu = self.cpu_end[1] - self.cpu_start[1]
        return {"cpu_seconds": round(cpu, 3), "wall_seconds": round(wall, 3),
                "percent": round(100.0 * cpu / wall, 1) if wall > 0 else None}

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        # The whole process group (e.g. Chromium started by the peer) goes too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="command line of peer A")
    ap.add_argument("--b", required=True, help="command line of peer B")
    ap.add_argument("--name-a", default="A")
    ap.add_argument("--name-b", default="B")
    ap.add_argument("--netns", help="run both peers in this network namespace")
    ap.add_argument("--make-netns", action="store_true",
                    help="create --netns (only lo, up) and delete it on exit")
    ap.add_argument("--netns-a", help="network namespace of peer A (overrides --netns)")
    ap.add_argument("--netns-b", help="network namespace of peer B (overrides --netns)")
    ap.add_argument("--drop-candidates-to", choices=["a", "b"],
                    help="do not forward candidate lines to this peer (peer-reflexive variant)")
    ap.add_argument("--expect-pair", action="append", default=[], metavar="SIDE=TYPE",
                    help="require result 'pair' (remote candidate type of the selected pair) "
                         "of peer a or b to be TYPE, e.g. b=prflx")
    ap.add_argument("--timeout", type=float, default=40.0, help="overall timeout in seconds")
    ap.add_argument("--results", help="write both result objects as JSON to this file")
    args = ap.parse_args()

    made_ns = False
    peers = []
    verdict = {"ok": False, "why": "not started"}

    def cleanup(*_):
        for p in peers:
            p.kill()
        if made_ns:
            run(["ip", "netns", "del", args.netns], check=False)

    def on_signal(signum, _frame):
        log("signal %d: cleaning up" % signum)
        cleanup()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        if args.make_netns:
            if not args.netns:
                ap.error("--make-netns needs --netns")
            run(["ip", "netns", "del", args.netns], check=False)  # stale from a killed run
            run(["ip", "netns", "add", args.netns])
            made_ns = True
            run(["ip", "-n", args.netns, "link", "set", "lo", "up"])
            log("netns %s created (lo only)" % args.netns)
        events = queue.Queue()
        a = Peer("a", args.name_a, args.a, args.netns_a or args.netns, events)
        peers.append(a)
        b = Peer("b", args.name_b, args.b, args.netns_b or args.netns, events)
        peers.append(b)
        other = {a: b, b: a}
        log("A=%s: %s" % (a.name, " ".join(a.argv)))
        log("B=%s: %s" % (b.name, " ".join(b.argv)))
        deadline = time.monotonic() + args.timeout
        eofs = set()
        dropped = 0
        while True:
            if a.result is not None and b.result is not None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                if verdict["why"] == "not started":
                    verdict["why"] = "overall timeout %.0f s" % args.timeout
                break
            try:
                kind, p, line = events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if kind == "eof":
                eofs.add(p)
                if p.result is None:
                    try:
                        rc = p.proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        rc = None
                    verdict["why"] = "%s exited (rc %s) without a result" % (p.name, rc)
                    break
                if other[p].result is None:
                    # Nothing more can reach the other peer now: 5 s for its result.
                    deadline = min(deadline, time.monotonic() + 5)
                    verdict["why"] = "%s gave no result within 5 s of %s exiting" % (other[p].name, p.name)
                continue
            if not line:
                continue
            try:
                msg = json.loads(line)
                t = msg["type"]
            except (ValueError, KeyError, TypeError):
                log("%s: ignoring non-contract stdout line: %.80s" % (p.name, line))
                continue
            if t == "result":
                p.result = msg
                p.t_result = time.monotonic()
                p.cpu_end = p.cpu_mark()
                log("%s result: %s" % (p.name, line))
                if not msg.get("ok"):
                    verdict["why"] = "%s failed: %s" % (p.name, msg.get("error"))
                    # No point waiting out the other peer's own timeout: 3 s for its result.
                    deadline = min(deadline, time.monotonic() + 3)
                continue
            if t == "candidate" and args.drop_candidates_to == other[p].side:
                dropped += 1
                log("dropped candidate %s -> %s: %s" % (p.name, other[p].name, msg.get("candidate")))
                continue
            if t in ("offer", "answer") and args.drop_candidates_to == other[p].side:
                # Candidates embedded in the description are withheld too.
                lines = str(msg.get("sdp", "")).split("\r\n")
                kept = [x for x in lines if not x.startswith("a=candidate:")]
                if len(kept) != len(lines):
                    dropped += len(lines) - len(kept)
                    log("dropped %d candidate(s) inside the %s" % (len(lines) - len(kept), t))
                    msg["sdp"] = "\r\n".join(kept)
                    line = json.dumps(msg)
            log("%s -> %s: %s" % (p.name, other[p].name,
                                  t if t in ("offer", "answer") else line[:160]))
            other[p].send(line)
            if t == "answer":
                # Signaling is done: the CPU window of each peer starts here.
                for q in peers:
                    q.cpu_start = q.cpu_mark()
        ok = (a.result is not None and b.result is not None
              and bool(a.result.get("ok")) and bool(b.result.get("ok")))
        for e in args.expect_pair if ok else []:
            side, _, want = e.partition("=")
            p = a if side == "a" else b
            got = p.result.get("pair")
            if got != want:
                ok = False
                verdict["why"] = "%s: selected pair's remote candidate is %s, expected %s" % (p.name, got, want)
                break
        if ok:
            verdict = {"ok": True, "why": "both ok"}
            # Both must then exit 0 by themselves after their grace period (this also catches
            # sanitizer reports at exit, e.g. leaks).
            for p in peers:
                try:
                    rc = p.proc.wait(timeout=max(1.0, min(15.0, deadline + 15 - time.monotonic())))
                except subprocess.TimeoutExpired:
                    rc = "none: still running 15 s after its result"
                if rc != 0:
                    ok = False
                    verdict = {"ok": False, "why": "%s exited with status %s after an ok result" % (p.name, rc)}
                    break
        elif a.result is not None and b.result is not None and verdict["why"] == "not started":
            verdict["why"] = "a result is not ok"
        if args.results:
            with open(args.results, "w") as f:
                json.dump({"a": a.result, "b": b.result, "ok": ok, "dropped_candidates": dropped,
                           "cpu": {"a": a.cpu_report(), "b": b.cpu_report()},
                           "cmd": {"a": a.argv, "b": b.argv}}, f)
        def brief(p):
            r = p.result or {}
            s = "%s(%s)=%s" % (p.name, r.get("role", "?"), "ok" if r.get("ok") else "FAIL")
            if r.get("ok") and "bench" not in r:
                s += " sent=%s received=%s ms_to_open=%s" % (r.get("sent"), r.get("received"), r.get("ms_to_open"))
            if r.get("pair"):
                s += " pair=%s" % r["pair"]
            if "bench" in r:
                s += " bench=%s" % json.dumps(r["bench"], separators=(",", ":"))
            return s
        print("%s: %s %s%s" % ("PASS" if ok else "FAIL", brief(a), brief(b),
                               "" if ok else " -- " + verdict["why"]), flush=True)
        return 0 if ok else 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
