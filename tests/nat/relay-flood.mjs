// A misbehaving hub client for tests/nat/test-nat-relay.sh (round X): joins a network as its own
// peer and floods relay frames (docs/signaling.md §Relay) at one peer for a while, at RATE bytes/s
// (0: as fast as its socket takes them), then prints what it sent and whether the hub closed it,
// as one JSON line.
//   node relay-flood.mjs URL TOKEN PEERID TO SECONDS RATE [PAYLOAD_BYTES]
import crypto from "node:crypto";
import { Peer } from "../worker/conformance/client.mjs";

const [url, token, id, to, secs, rate, size = "1200"] = process.argv.slice(2);
const peer = new Peer(url, token, id);
await peer.open();
peer.join(id, crypto.randomBytes(32).toString("base64"));
await peer.nextType("peers");

const dst = Buffer.from(to, "utf8");
const frame = Buffer.concat([Buffer.from([1, dst.length]), dst, crypto.randomBytes(Number(size))]);
let sent = 0, closed = null;
peer.ws.on("close", (code) => { closed = code; });
const t0 = Date.now();
while (Date.now() - t0 < Number(secs) * 1000 && closed === null) {
	// at the rate, or as fast as the socket drains; never more than 1 MiB waiting here
	const due = Number(rate) ? (Date.now() - t0) / 1000 * Number(rate) / frame.length : Infinity;
	for (let i = 0; i < 64 && sent < due && peer.ws.bufferedAmount < 1 << 20; i++) {
		peer.ws.send(frame);
		sent++;
	}
	await new Promise((r) => setImmediate(r));
}
const elapsed = (Date.now() - t0) / 1000;
console.log(JSON.stringify({ sent, bytes: sent * frame.length, secs: elapsed, closed }));
try {
	peer.ws.close();
} catch {
	// already closed by the hub
}
process.exit(0);
