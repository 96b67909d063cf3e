#!/usr/bin/python3
"""A hostile signaling hub for tests/e2e/test-membership.sh (docs/membership.md).

It speaks the hub protocol (docs/signaling.md) and relays honest frames unchanged, so honest
tunnels can form and keep working; meanwhile, every ATTACK_S seconds it sends every connected
agent forged frames about the other peers: a rewritten publicKey with the real certificate, a
rewritten address, two peers' certificates swapped, a join without a certificate, a forged
`peers` entry, an offer with a forged key, replays of every join it ever saw (revoked or
superseded devices included, and the keys a rotation replaced), a rotation grafted onto
another key, and a join for a new name `mallory` carrying another device's
address and certificate, and network DNS settings that the network key did not sign (random
bytes, and the genuine settings it relayed with the first 127.0.0.x server changed). A second
connection with a peerId takes the seat over (the worst a hub can do). Usage: hostilehub.py HOST PORT TOKEN. Prints one line per connection event and a count
of forged frames on SIGTERM."""
import asyncio
import base64
import json
import os
import signal
import sys

from aiohttp import web

ATTACK_S = 1.0

conns = {}      # peerId -> websocket
joins = {}      # peerId -> the join frame of the current connection (as received)
history = []    # every join frame ever received, for replays
settings = None  # the last genuine network DNS settings record relayed (base64)
forged = 0


def rkey():
    return base64.b64encode(os.urandom(32)).decode()


async def send(ws, obj):
    try:
        await ws.send_str(json.dumps(obj))
    except Exception:
        pass


def forgeries(target):
    """Frames that lie to `target` about the others."""
    out = []
    names = list(joins)
    others = [p for p in names if p != target]
    for q in others:
        j = joins[q]
        cert = j.get("cert")
        addr = j.get("address")
        fake = rkey()
        out.append({"type": "join", "peerId": q, "publicKey": fake, "address": addr,
                    "cert": cert})
        for r in names:
            if r != q and joins[r].get("address"):
                out.append({"type": "join", "peerId": q, "publicKey": j["publicKey"],
                            "address": joins[r]["address"], "cert": cert})
                out.append({"type": "join", "peerId": q, "publicKey": joins[r]["publicKey"],
                            "address": joins[r]["address"], "cert": joins[r].get("cert")})
                break
        out.append({"type": "join", "peerId": q, "publicKey": fake, "address": addr})
        out.append({"type": "peers", "peers": [{"peerId": q, "publicKey": fake,
                                                 "address": addr, "cert": cert}]})
        out.append({"type": "offer", "from": q, "to": target, "sdp": "v=0\r\n",
                    "publicKey": fake, "address": addr, "cert": cert})
    for old in history:
        if old.get("peerId") != target:
            out.append(dict(old))
            if old.get("rotation"):
                # a key rotation grafted onto another key, and dropped from its own join
                out.append(dict(old, publicKey=rkey()))
                out.append({k: v for k, v in old.items() if k != "rotation"})
    if others:
        q = others[0]
        out.append({"type": "revoke", "from": q, "to": target, "revocations": [],
                    "settings": base64.b64encode(os.urandom(90)).decode()})
        if settings:
            raw = bytearray(base64.b64decode(settings))
            i = raw.find(bytes([4, 127, 0, 0]))
            raw[i + 4 if i >= 0 else -1] ^= 0x40
            out.append({"type": "revoke", "from": q, "to": target, "revocations": [],
                        "settings": base64.b64encode(bytes(raw)).decode()})
        j = joins[others[0]]
        out.append({"type": "join", "peerId": "mallory", "publicKey": rkey(),
                    "address": j.get("address"), "cert": j.get("cert")})
        out.append({"type": "join", "peerId": "mallory", "publicKey": j["publicKey"],
                    "address": j.get("address")})
    return out


async def attacker():
    global forged
    while True:
        await asyncio.sleep(ATTACK_S)
        for target, ws in list(conns.items()):
            for f in forgeries(target):
                await send(ws, f)
                forged += 1


async def handle(request):
    global settings
    if request.headers.get("Authorization") != "Bearer " + TOKEN:
        return web.Response(status=401, text="bad token")
    ws = web.WebSocketResponse(heartbeat=None)
    await ws.prepare(request)
    me = None
    try:
        async for msg in ws:
            if msg.type != web.WSMsgType.TEXT:
                continue
            try:
                m = json.loads(msg.data)
            except ValueError:
                continue
            t = m.get("type")
            if t == "join" and me is None:
                me = m.get("peerId")
                old = conns.get(me)
                if old is not None:
                    await old.close(code=4000, message=b"replaced")
                conns[me] = ws
                joins[me] = m
                history.append(dict(m))
                print(f"join {me}", flush=True)
                await send(ws, {"type": "peers", "peers": [
                    {"peerId": p, "publicKey": joins[p]["publicKey"],
                     "address": joins[p].get("address")} for p in joins if p != me]})
                for p, w in list(conns.items()):
                    if p != me:
                        await send(w, m)
            elif t == "join" and me is not None and m.get("peerId") == me:
                # a join on the same socket (a key rotation): forwarded like an honest hub,
                # and the one it replaces stays in history for the replays
                joins[me] = m
                history.append(dict(m))
                print(f"rejoin {me}", flush=True)
                for p, w in list(conns.items()):
                    if p != me:
                        await send(w, m)
            elif t in ("offer", "answer", "ice-candidate", "revoke") and me is not None:
                if t == "revoke" and isinstance(m.get("settings"), str):
                    settings = m["settings"]
                m["from"] = me
                dst = conns.get(m.get("to"))
                if dst is not None:
                    await send(dst, m)
    finally:
        if me is not None and conns.get(me) is ws:
            del conns[me]
            del joins[me]
            print(f"left {me}", flush=True)
            for w in list(conns.values()):
                await send(w, {"type": "peer-left", "peerId": me})
    return ws


async def main(host, port):
    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"hostile hub on {host}:{port}", flush=True)
    task = asyncio.ensure_future(attacker())
    stop = asyncio.Event()
    asyncio.get_event_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    task.cancel()
    print(f"forged frames sent: {forged}", flush=True)
    await runner.cleanup()


if __name__ == "__main__":
    HOST, PORT, TOKEN = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    asyncio.run(main(HOST, PORT))
