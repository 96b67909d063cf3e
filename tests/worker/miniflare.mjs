// The Worker in Miniflare: the hub conformance suite (same cases as against the native hub),
// then what only the Worker has: HTTP routing, network isolation, /healthz, the close action.
import crypto from "node:crypto";
import http from "node:http";
import { runConformance } from "./conformance/conformance.mjs";
import { Peer } from "./conformance/client.mjs";
import { assert, cases, key, startWorker } from "./harness.mjs";

const token = crypto.randomBytes(18).toString("base64url");
const t = cases("worker", "worker-miniflare");
const check = t.check;
const w = await startWorker({ token, onLog: (l) => process.env.RG_VERBOSE && console.log(`[workerd] ${l}`) });
// Plain GET through node:http (fetch refuses to send an Upgrade header); resolves to the status.
function get(path, headers) {
	return new Promise((resolve, reject) => {
		const req = http.get(`${w.http}${path}`, { headers }, (res) => {
			res.resume();
			resolve(res.statusCode);
		});
		req.on("upgrade", (res, socket) => {
			socket.destroy();
			resolve(res.statusCode);
		});
		req.on("error", reject);
	});
}

async function joined(url, peerId, tok = token) {
	const p = new Peer(url, tok, peerId);
	await p.open();
	p.join(peerId, key());
	return [p, await p.nextType("peers")];
}

try {
	// Each conformance case on its own network (its own Durable Object) via /connect/<name>.
	t.add(await runConformance({ url: `${w.ws}/connect/{network}`, token, label: "worker" }));

	await check("GET /healthz without auth -> 200", async () => {
		const res = await fetch(`${w.http}/healthz`);
		assert(res.status === 200, `status ${res.status}`);
		assert((await res.json()).ok === true, "body.ok");
	});

	await check("HTTP status codes: 401 before anything else, 426, 404, 400", async () => {
		const auth = { authorization: `Bearer ${token}` };
		const cases = [
			["/connect", {}, 401], ["/connect/home", { authorization: "Bearer nope" }, 401],
			["/connect", auth, 426], ["/connect", { authorization: `bearer ${token}` }, 426],
			["/nothing-here", auth, 404], ["/connect/bad%20name", { ...auth, upgrade: "websocket" }, 400],
			["/connect/%E0%A4%A", { ...auth, upgrade: "websocket" }, 400],
			["/stats?network=x", {}, 401],
		];
		for (const [p, headers, want] of cases) {
			const status = await get(p, headers);
			assert(status === want, `${p} ${JSON.stringify(Object.keys(headers))}: ${status}, want ${want}`);
		}
	});

	await check("default network: /connect, /connect/ and / reach the same hub", async () => {
		const id = `d-${crypto.randomBytes(3).toString("hex")}`;
		const [a] = await joined(`${w.ws}/connect`, `${id}-a`);
		const [b] = await joined(`${w.ws}/connect/`, `${id}-b`);
		const [c, pc] = await joined(`${w.ws}/`, `${id}-c`);
		const mine = pc.peers.map((p) => p.peerId).filter((p) => p.startsWith(id)).sort().join();
		assert(mine === `${id}-a,${id}-b`, `peers ${JSON.stringify(pc.peers)}`);
		for (const p of [a, b, c])
			p.close();
	});

	await check("/stats: hub counters and heap from the wasm instance", async () => {
		const net = `stats-${crypto.randomBytes(3).toString("hex")}`;
		const [a] = await joined(`${w.ws}/connect/${net}`, "a");
		const [b] = await joined(`${w.ws}/connect/${net}`, "b");
		b.send({ type: "offer", to: "a", sdp: "v=0" });
		await a.nextType("offer");
		const s = await w.stats(net);
		assert(s.hub.peers === 2 && s.hub.conns === 2 && s.hub.joins === 2 && s.hub.relayed === 1,
			`stats ${JSON.stringify(s)}`);
		assert(s.heapBytes > 0 && s.heapBytes < 1 << 20, `heap ${s.heapBytes}`);
		// issue 15 item 8: the hash seed comes from crypto.getRandomValues
		assert(s.seeded === true, `peerId hash not seeded: ${JSON.stringify(s)}`);
		console.log(`# wasm heap for 2 peers: ${s.heapBytes} bytes`);
		a.close();
		b.close();
	});
	await check("200 peers in one network: full peers list, bounded wasm heap", async () => {
		const net = `many-${crypto.randomBytes(3).toString("hex")}`;
		const N = 200, peers = [];
		const t0 = Date.now();
		try {
			for (let i = 0; i < N; i++) {
				const p = new Peer(`${w.ws}/connect/${net}`, token, `m${i}`);
				peers.push(p);
				await p.open();
				p.join(`m${i}`, key(), { address: `10.20.${i >> 8}.${i & 255}/16` });
				const pl = await p.nextType("peers");
				assert(pl.peers.length === i, `m${i} got ${pl.peers.length} peers`);
				p.frames.length = 0;	// forwarded joins are checked by the conformance suite
			}
			const ms = Date.now() - t0;
			const s = await w.stats(net);
			assert(s.hub.peers === N, `hub peers ${s.hub.peers}`);
			assert(s.heapBytes < 4 << 20, `heap ${s.heapBytes}`);
			console.log(`# ${N} peers joined in ${ms} ms (${(N * 1000 / ms).toFixed(0)} joins/s, ` +
				`${s.hub.framesOut} frames out); wasm heap ${(s.heapBytes / 1024).toFixed(0)} KiB`);
		} finally {
			for (const p of peers)
				p.terminate();
		}
	});
} finally {
	await w.dispose();
}
process.exit(t.finish());
