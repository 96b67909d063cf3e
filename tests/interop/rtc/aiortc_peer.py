#!/usr/bin/python3
"""aiortc side of the riftgate test-peer contract (tests/interop/PROTOCOL.md).

Run with Debian's /usr/bin/python3 (python3-aiortc 1.4.0). Signaling: JSON lines on
stdin/stdout; logs on stderr. aiortc does not trickle: its local description carries the
candidates, so they are moved out of the SDP into separate candidate lines here.
"""
import argparse
import asyncio
import json
import logging
import os
import sys
import threading
import time

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

T0 = time.monotonic()


def log(msg):
    if not os.environ.get("RG_PEER_QUIET"):
        sys.stderr.write("aiortc-peer[%6.3f] %s\n" % (time.monotonic() - T0, msg))
        sys.stderr.flush()


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def payload(role, i, size):
    p = ("%s-%d" % (role, i)).encode()
    return p + b"." * max(0, size - len(p))


def parse_index(data, role, size):
    if isinstance(data, str):
        data = data.encode()
    pre = (role + "-").encode()
    if not data.startswith(pre):
        return -1
    j = len(pre)
    while j < len(data) and 0x30 <= data[j] <= 0x39:
        j += 1
    if j == len(pre) or len(data) != max(size, j):
        return -1
    return int(data[len(pre):j])


class Peer:
    def __init__(self, o):
        self.o = o
        self.peer_role = "answer" if o.role == "offer" else "offer"
        self.done = asyncio.get_event_loop().create_future()
        self.pending_cands = []
        self.have_remote = False
        self.opened = False
        servers = [RTCIceServer(urls=[o.stun])] if o.stun else []
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.pc.on("connectionstatechange", self.on_state)
        self.pc.on("iceconnectionstatechange",
                   lambda: log("ICE %s" % self.pc.iceConnectionState))

    def finish(self, res):
        if not self.done.done():
            self.done.set_result(res)

    def fail(self, err):
        res = {"type": "result", "ok": False, "error": err}
        if hasattr(self, "seen"):
            res.update({"received": len(self.seen), "received_raw": self.rx_msgs})
        self.finish(res)

    def on_state(self):
        s = self.pc.connectionState
        log("connection %s" % s)
        if s == "failed":
            self.fail("peer connection failed")

    async def send_local_description(self):
        d = self.pc.localDescription
        lines, cands = [], []
        for ln in d.sdp.splitlines():
            if ln.startswith("a=candidate:"):
                cands.append(ln[2:])
            elif ln.startswith("a=end-of-candidates"):
                continue
            else:
                lines.append(ln)
        emit({"type": d.type, "sdp": "\r\n".join(lines) + "\r\n"})
        for c in cands:
            log("local candidate %s" % c)
            emit({"type": "candidate", "candidate": c, "sdpMid": "0", "sdpMLineIndex": 0})
        emit({"type": "end-of-candidates"})

    async def add_candidate(self, msg):
        c = msg.get("candidate") or ""
        if c.startswith("candidate:"):
            c = c[len("candidate:"):]
        if not c:
            return
        cand = candidate_from_sdp(c)
        cand.sdpMid = msg.get("sdpMid", "0")
        cand.sdpMLineIndex = msg.get("sdpMLineIndex", 0)
        try:
            await self.pc.addIceCandidate(cand)
        except Exception as e:  # a bad remote candidate is logged, not fatal
            log("addIceCandidate(%s): %r" % (c, e))

    async def end_of_candidates(self):
        sctp = self.pc.sctp
        if sctp is not None:
            try:
                await sctp.transport.transport.addRemoteCandidate(None)
            except Exception as e:
                log("end-of-candidates: %r" % e)

    async def on_signal(self, msg):
        t = msg.get("type")
        if t in ("offer", "answer"):
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type=t))
            self.have_remote = True
            if t == "offer":
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.send_local_description()
            for m in self.pending_cands:
                if m["type"] == "candidate":
                    await self.add_candidate(m)
                else:
                    await self.end_of_candidates()
            self.pending_cands = []
        elif t in ("candidate", "end-of-candidates"):
            if t == "candidate":
                log("remote candidate %s" % msg.get("candidate"))
            if not self.have_remote:
                self.pending_cands.append(msg)
            elif t == "candidate":
                await self.add_candidate(msg)
            else:
                await self.end_of_candidates()
        elif t != "result":
            log("ignoring message type %r" % t)

    def setup_channel(self, ch):
        o = self.o
        self.ch = ch
        self.seen = set()
        self.rx_msgs = self.rx_bytes = 0
        self.first = self.last = None
        self.all_received = asyncio.Event()

        @ch.on("message")
        def on_message(data):
            now = time.monotonic()
            if self.rx_msgs == 0:
                self.first = now
            self.last = now
            self.rx_msgs += 1
            self.rx_bytes += len(data)
            if o.bench:
                return
            i = parse_index(data, self.peer_role, o.size)
            if i < 0 or i >= o.count:
                self.fail("unexpected message (%d bytes) starting %r" % (len(data), data[:24]))
                return
            if i in self.seen:
                self.fail("duplicate message %d" % i)
                return
            self.seen.add(i)
            if len(self.seen) == o.count:
                self.all_received.set()

        self.closed = asyncio.Event()
        ch.on("close", lambda: self.closed.set())

    def on_open(self):
        if self.opened:
            return
        self.opened = True
        self.ms_open = int((time.monotonic() - T0) * 1000)
        log("channel %r open (id %s, ordered %s, maxRetransmits %s) after %d ms" % (
            self.ch.label, self.ch.id, self.ch.ordered, self.ch.maxRetransmits, self.ms_open))
        asyncio.ensure_future(self.exchange())

    async def drain(self, limit):
        end = time.monotonic() + limit
        while self.ch.bufferedAmount > 0 and time.monotonic() < end:
            await asyncio.sleep(0.01)

    async def exchange(self):
        o = self.o
        try:
            if o.bench:
                await self.bench()
                return
            sent = 0
            for i in range(o.count):
                self.ch.send(payload(o.role, i, o.size))
                sent += 1
            await self.all_received.wait()
            await self.drain(3)
            self.finish({"type": "result", "ok": True, "role": o.role, "sent": sent,
                         "received": len(self.seen), "ms_to_open": self.ms_open,
                         "label": self.ch.label, "ordered": self.ch.ordered})
        except Exception as e:
            self.fail("exchange: %r" % e)

    async def bench(self):
        o = self.o
        if o.role == "offer":
            high, low = 1 << 20, 256 << 10
            self.ch.bufferedAmountLowThreshold = low
            lowev = asyncio.Event()
            self.ch.on("bufferedamountlow", lambda: lowev.set())
            msg = payload(o.role, 0, o.size)
            n = nbytes = 0
            t0 = time.monotonic()
            end = t0 + o.bench
            while time.monotonic() < end:
                if self.ch.bufferedAmount >= high:
                    lowev.clear()
                    try:
                        await asyncio.wait_for(lowev.wait(), 0.05)
                    except asyncio.TimeoutError:
                        pass
                    continue
                for _ in range(32):
                    self.ch.send(msg)
                    n += 1
                    nbytes += len(msg)
                await asyncio.sleep(0)
            secs = time.monotonic() - t0
            await self.drain(5)
            await asyncio.sleep(0.3)
            self.ch.close()
            res = {"type": "result", "ok": n > 0, "role": o.role, "sent": n, "received": 0,
                   "ms_to_open": self.ms_open,
                   "bench": {"messages": n, "bytes": nbytes, "seconds": secs}}
        else:
            opened = time.monotonic()
            while not self.closed.is_set():
                await asyncio.sleep(0.02)
                now = time.monotonic()
                if self.rx_msgs == 0:
                    if now - opened >= o.bench + 5:
                        break
                    continue
                if now - self.last >= 1.0 or now - self.first >= o.bench + 5:
                    break
            n = self.rx_msgs
            res = {"type": "result", "ok": n > 0, "role": o.role, "sent": 0, "received": n,
                   "ms_to_open": self.ms_open,
                   "bench": {"messages": n, "bytes": self.rx_bytes,
                             "seconds": (self.last - self.first) if n else 0.0}}
        if not res["ok"]:
            res["error"] = "nothing sent" if o.role == "offer" else "nothing received"
        self.finish(res)


def stdin_reader(loop, q):
    for line in sys.stdin:
        line = line.strip()
        if line:
            loop.call_soon_threadsafe(q.put_nowait, line)
    loop.call_soon_threadsafe(q.put_nowait, None)


async def amain(o):
    ice_addr = o.ice_addr
    # aioice leaves out 127.0.0.1; gather only on the address we are told to use.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [ice_addr]
    p = Peer(o)
    if o.role == "offer":
        kw = {"ordered": bool(o.ordered)}
        if o.max_retransmits >= 0:
            kw["maxRetransmits"] = o.max_retransmits
        ch = p.pc.createDataChannel(o.label, **kw)
        p.setup_channel(ch)
        ch.on("open", p.on_open)
        await p.pc.setLocalDescription(await p.pc.createOffer())
        await p.send_local_description()
    else:
        @p.pc.on("datachannel")
        def on_dc(ch):
            log("remote opened channel %r" % ch.label)
            p.setup_channel(ch)
            if ch.readyState == "open":
                p.on_open()
            else:
                ch.on("open", p.on_open)

    q = asyncio.Queue()
    loop = asyncio.get_event_loop()
    threading.Thread(target=stdin_reader, args=(loop, q), daemon=True).start()

    async def pump():
        while True:
            line = await q.get()
            if line is None:
                return  # stdin closed: keep going until result or timeout
            try:
                msg = json.loads(line)
            except ValueError:
                log("ignoring non-JSON line %.60s" % line)
                continue
            try:
                await p.on_signal(msg)
            except Exception as e:
                p.fail("signaling %s: %r" % (msg.get("type"), e))

    pump_task = asyncio.ensure_future(pump())
    try:
        res = await asyncio.wait_for(asyncio.shield(p.done), o.timeout)
    except asyncio.TimeoutError:
        p.fail("timeout after %.1f s" % o.timeout)
        res = p.done.result()
    emit(res)
    if res.get("ok"):
        await asyncio.sleep(1.5 if not o.bench else 0.5)
    else:
        log("FAIL: %s" % res.get("error"))
    pump_task.cancel()
    try:
        await asyncio.wait_for(p.pc.close(), 2)
    except Exception:
        pass
    return 0 if res.get("ok") else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["offer", "answer"], required=True)
    ap.add_argument("--ice-addr", default="127.0.0.1")
    ap.add_argument("--stun")
    ap.add_argument("--label", default="wireguard")
    ap.add_argument("--ordered", type=int, default=0)
    ap.add_argument("--max-retransmits", type=int, default=0)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--bench", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=20)
    o = ap.parse_args()
    if os.environ.get("RG_AIORTC_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, format="%(relativeCreated)8.1f %(name)s %(message)s")
    rc = asyncio.get_event_loop().run_until_complete(amain(o))
    sys.stdout.flush()
    os._exit(rc)


if __name__ == "__main__":
    main()
