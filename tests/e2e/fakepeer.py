#!/usr/bin/python3
"""A misbehaving signaling peer for tests/e2e/test-badsig.sh: joins the hub and sends the agents
bad keys, bad SDP, stray answers and candidates, an offer racing theirs (glare) and a duplicate
of a real peer id. Prints one line per step; exits 0 when every frame was sent."""
import asyncio
import base64
import json
import os
import sys

import aiohttp


def key():
    return base64.b64encode(os.urandom(32)).decode()


async def session(url, token, peer_id, public_key, address, steps, hold=1.0):
    headers = {"Authorization": "Bearer " + token}
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(url, headers=headers, heartbeat=10) as ws:
            join = {"type": "join", "peerId": peer_id, "publicKey": public_key}
            if address:
                join["address"] = address
            await ws.send_str(json.dumps(join))
            print(f"{peer_id}: joined", flush=True)
            for label, frame in steps:
                await asyncio.sleep(0.3)
                await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
                print(f"{peer_id}: sent {label}", flush=True)
            end = asyncio.get_event_loop().time() + hold
            while asyncio.get_event_loop().time() < end:
                try:
                    msg = await ws.receive(timeout=end - asyncio.get_event_loop().time())
                except asyncio.TimeoutError:
                    break
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                m = json.loads(msg.data)
                if m.get("type") == "error":
                    print(f"{peer_id}: got error {m.get('code')}: {m.get('message')}", flush=True)
                    continue
                print(f"{peer_id}: got {m.get('type')} from {m.get('from', m.get('peerId', '-'))}",
                      flush=True)


async def main():
    url, token = sys.argv[1], sys.argv[2]
    offer_ok_shape = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n")
    # 1. a peer with a malformed key
    await session(url, token, "peer0", "not a key!", None, [], hold=1.5)
    # 2. a peer that offers garbage, stray answers/candidates, huge SDP, unknown target
    await session(url, token, "peer00", key(), "10.98.100.50/24", [
        ("garbage offer to peer1", {"type": "offer", "to": "peer1", "sdp": "garbage",
                                    "publicKey": key()}),
        ("offer without ice/fingerprint to peer2", {"type": "offer", "to": "peer2",
                                                    "sdp": offer_ok_shape}),
        ("offer with a bad key to peer2", {"type": "offer", "to": "peer2", "sdp": offer_ok_shape,
                                           "publicKey": "AAAA"}),
        ("stray answer to peer1", {"type": "answer", "to": "peer1", "sdp": "v=0\r\n"}),
        ("stray candidate to peer2", {"type": "ice-candidate", "to": "peer2",
                                      "candidate": "candidate:garbage"}),
        ("huge sdp to peer1", {"type": "offer", "to": "peer1", "sdp": "a=x\r\n" * 9000}),
        ("offer to nobody", {"type": "offer", "to": "nobody", "sdp": "v=0"}),
        ("not json", "{{{"),
        ("unknown type", {"type": "bogus", "to": "peer1"}),
    ], hold=2.0)
    # 3. glare: a larger id that offers to peer1 while peer1 offers to it
    await session(url, token, "zzz", key(), "10.98.100.60/24", [
        ("glare offer to peer1", {"type": "offer", "to": "peer1", "sdp": offer_ok_shape,
                                  "publicKey": key()}),
    ], hold=2.0)
    # 4. a duplicate of a real peer id with another key
    await session(url, token, "peer2", key(), "10.98.100.2/24", [], hold=2.0)
    print("fakepeer: done", flush=True)


asyncio.run(main())
