#!/usr/bin/python3
"""A hostile participant for tests/e2e/test-takeover.sh: it holds a valid hub token and tries to
take over honest peers by announcement (issue 15 item 0). Prints one line per step; exits 0 when
every step ran (a hub that closes the intruder's socket counts as a step that ran).

usage: hostile.py URL TOKEN VICTIM_ID VICTIM_ADDRESS VICTIM_KEY TARGET_ID SAME_ID
  1. "mallory" joins with a fresh key and the victim's tunnel address, and offers to the target;
  2. "mallory2" joins with the victim's public key under a new id and another address;
  3. the intruder joins as SAME_ID (a real, connected peer) with another key and that peer's
     address, and offers the target a new connection without publicKey (the optional field)."""
import asyncio
import base64
import json
import os
import sys

import aiohttp

SDP = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
       "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
       "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
       "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n")


def key():
    return base64.b64encode(os.urandom(32)).decode()


async def session(url, token, peer_id, public_key, address, steps, hold):
    headers = {"Authorization": "Bearer " + token}
    try:
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(url, headers=headers, heartbeat=10) as ws:
                join = {"type": "join", "peerId": peer_id, "publicKey": public_key,
                        "address": address}
                await ws.send_str(json.dumps(join))
                print(f"{peer_id}: joined with {address}", flush=True)
                for label, frame in steps:
                    await asyncio.sleep(0.3)
                    await ws.send_str(json.dumps(frame))
                    print(f"{peer_id}: sent {label}", flush=True)
                end = asyncio.get_event_loop().time() + hold
                while asyncio.get_event_loop().time() < end:
                    try:
                        msg = await ws.receive(timeout=end - asyncio.get_event_loop().time())
                    except asyncio.TimeoutError:
                        break
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        print(f"{peer_id}: socket closed by the hub ({msg.type})", flush=True)
                        break
                    m = json.loads(msg.data)
                    print(f"{peer_id}: got {m.get('type')} from "
                          f"{m.get('from', m.get('peerId', '-'))}", flush=True)
    except aiohttp.ClientError as e:
        print(f"{peer_id}: refused by the hub: {e}", flush=True)


async def main():
    url, token, victim, victim_addr, victim_key, target, same = sys.argv[1:8]
    await session(url, token, "mallory", key(), victim_addr, [
        ("offer to " + target, {"type": "offer", "to": target, "sdp": SDP,
                                "publicKey": key(), "address": victim_addr}),
    ], hold=3.0)
    await session(url, token, "mallory2", victim_key, "10.98.100.77/24", [
        ("offer to " + target + " with the victim's key",
         {"type": "offer", "to": target, "sdp": SDP, "publicKey": victim_key}),
    ], hold=3.0)
    # holds the id past the agents' probe of the working tunnel (6 s, twice when rate limited)
    same_addr = "10.98.100." + same.removeprefix("peer") + "/24"
    await session(url, token, same, key(), same_addr, [
        ("offer without publicKey to " + target, {"type": "offer", "to": target, "sdp": SDP}),
        ("offer without publicKey to " + victim, {"type": "offer", "to": victim, "sdp": SDP}),
    ], hold=14.0)
    print("hostile: done", flush=True)


asyncio.run(main())
