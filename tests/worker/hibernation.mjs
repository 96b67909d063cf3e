// Durable Object hibernation and crash, in Miniflare's workerd.
// Hibernation: an idle DO is evicted after ~10 s while its sockets stay open; the next event runs
// the constructor again with a fresh wasm instance, which must rebuild the hub from the sockets'
// attachments. Proof of a real wake: /stats reports a new instance id and restoredPeers, and
// the DO logs "woke with N sockets". Crash: ctx.abort() closes every socket; reconnecting
// clients re-join and the hub ends up with exactly them (no ghosts).
import crypto from "node:crypto";
import { Peer } from "./conformance/client.mjs";
import { assert, cases, key, sleep, startWorker } from "./harness.mjs";

const IDLE_MS = Number(process.env.RG_HIBERNATE_IDLE_MS ?? 13000);
const token = crypto.randomBytes(18).toString("base64url");
const logs = [];
const t = cases("worker hibernation", "worker-hibernation");
const check = t.check;
const w = await startWorker({ token, onLog: (l) => { logs.push(l); if (process.env.RG_VERBOSE) console.log(`[workerd] ${l}`); } });
async function joined(url, peerId, extra = {}, k = key()) {
	const p = new Peer(url, token, peerId);
	await p.open();
	p.key = k;
	p.join(peerId, p.key, extra);
	return [p, await p.nextType("peers")];
}

// Idle until the DO has been evicted, then let `wake` send the first event. Retries the idle
// period (a loaded machine may evict later); returns the stats after the wake.
async function idleUntilWoken(net, before, wake) {
	for (let round = 1; round <= 3; round++) {
		await sleep(IDLE_MS);
		const r = await wake(round);
		const s = await w.stats(net);
		if (s.instance !== before.instance)
			return { s, r, round };
		console.log(`# round ${round}: still instance ${s.instance.slice(0, 8)} after ${IDLE_MS} ms idle`);
		before = s;
	}
	throw new Error(`the Durable Object was never evicted (3 x ${IDLE_MS} ms idle)`);
}

try {
	await check("hibernation: joined peers survive eviction, are listed and routed", async () => {
		const net = `hib-${crypto.randomBytes(3).toString("hex")}`;
		const url = `${w.ws}/connect/${net}`;
		const [a] = await joined(url, "alice", { address: "10.10.0.2/24" });
		const [b] = await joined(url, "bob", { address: "10.10.0.3/24" });
		await a.next((m) => m.type === "join" && m.peerId === "bob", "join of bob");
		const before = await w.stats(net);
		assert(before.hub.peers === 2, `peers before: ${before.hub.peers}`);
		// WebSocket pings (the signal client's keepalive) are answered by the runtime and must
		// not keep the DO awake: alice pings every 2 s through the idle period.
		let pongs = 0;
		a.ws.on("pong", () => pongs++);
		const pinger = setInterval(() => a.ws.ping(), 2000);
		let woke;
		try {
			woke = await idleUntilWoken(net, before, async (round) => {
				const [c, pc] = await joined(url, `carol${round}`, { address: `10.10.0.${3 + round}/24` });
				return { c, pc };
			});
		} finally {
			clearInterval(pinger);
		}
		const { s, r } = woke;
		assert(pongs >= 3, `only ${pongs} pongs while idle`);
		const got = r.pc.peers.filter((p) => !p.peerId.startsWith("carol"))
			.sort((x, y) => (x.peerId < y.peerId ? -1 : 1));
		assert(JSON.stringify(got.map((p) => [p.peerId, p.publicKey, p.address])) ===
			JSON.stringify([["alice", a.key, "10.10.0.2/24"], ["bob", b.key, "10.10.0.3/24"]]),
			`new joiner's peers after wake: ${JSON.stringify(r.pc.peers)}`);
		assert(s.restoredPeers >= 2, `restoredPeers ${s.restoredPeers}`);
		assert(s.hub.peers === s.sockets, `hub peers ${s.hub.peers} vs sockets ${s.sockets}`);
		assert(logs.some((l) => /woke with \d+ sockets, restored \d+ peers/.test(l)), "no wake log line");
		console.log(`# woke: instance ${before.instance.slice(0, 8)} -> ${s.instance.slice(0, 8)}, ` +
			`restored ${s.restoredPeers} peers, construction #${s.construction}; ${pongs} pings answered while asleep`);
		const c = r.c, cid = c.peerId;
		// The restored peers hear about the joiner and route to and from it.
		for (const p of [a, b])
			await p.next((m) => m.type === "join" && m.peerId === cid, `join of ${cid}`);
		a.send({ type: "offer", from: "mallory", to: cid, sdp: "v=0\r\n" });
		const o = await c.nextType("offer");
		assert(o.from === "alice", `offer from ${o.from}`);
		c.send({ type: "answer", to: "bob", sdp: "v=0\r\n" });
		assert((await b.nextType("answer")).from === cid, "answer to bob");
		b.send({ type: "ice-candidate", to: "alice", candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host" });
		assert((await a.nextType("ice-candidate")).from === "bob", "candidate to alice");
		b.close();
		for (const p of [a, c])
			await p.next((m) => m.type === "peer-left" && m.peerId === "bob", "peer-left of bob");

		// Second sleep: the same device (same peerId and key) arriving at a freshly woken hub
		// replaces the restored socket (closed 4000) instead of leaving a ghost.
		const before2 = await w.stats(net);
		const w2 = await idleUntilWoken(net, before2, async () => joined(url, "alice", {}, a.key));
		const [a2, pa2] = w2.r;
		await a.waitClosed();
		assert(a.closed.code === 4000, `old alice closed with ${a.closed.code}`);
		assert(pa2.peers.map((p) => p.peerId).join() === cid, `new alice's peers ${JSON.stringify(pa2.peers)}`);
		await c.next((m) => m.type === "peer-left" && m.peerId === "alice", "peer-left of old alice");
		await c.next((m) => m.type === "join" && m.peerId === "alice", "join of new alice");
		const s2 = await w.stats(net);
		assert(s2.hub.peers === 2 && s2.sockets === 2, `after replace: ${JSON.stringify(s2)}`);
		c.send({ type: "offer", to: "alice", sdp: "v=0\r\n" });
		assert((await a2.nextType("offer")).from === cid, "offer reaches the new alice");
		a2.close();
		c.close();
	});

	await check("crash: ctx.abort() closes the sockets; clients reconnect and re-join cleanly", async () => {
		const net = `crash-${crypto.randomBytes(3).toString("hex")}`;
		const url = `${w.ws}/connect/${net}`;
		const peers = {};
		for (const id of ["p1", "p2", "p3"])
			[peers[id]] = await joined(url, id);
		const before = await w.stats(net);
		console.log(`# ${await w.abort(net)}`);
		for (const p of Object.values(peers))
			await p.waitClosed();
		console.log(`# close codes after abort: ${Object.values(peers).map((p) => p.closed.code).join(" ")}`);
		// A minimal reconnecting client: back off, reconnect, re-join with the same identity.
		const again = {};
		for (const [id, old] of Object.entries(peers)) {
			for (let attempt = 0; ; attempt++) {
				try {
					const p = new Peer(url, token, id);
					await p.open();
					p.join(id, old.key);
					await p.nextType("peers");
					again[id] = p;
					break;
				} catch (e) {
					if (attempt >= 10)
						throw new Error(`${id} could not rejoin: ${e.message}`);
					await sleep(200 * 2 ** Math.min(attempt, 4));
				}
			}
		}
		const s = await w.stats(net);
		assert(s.instance !== before.instance, "same DO instance after ctx.abort()");
		assert(s.hub.peers === 3 && s.sockets === 3, `after rejoin: ${JSON.stringify(s.hub)} sockets ${s.sockets}`);
		const [q, pq] = await joined(url, "q");
		assert(pq.peers.map((p) => p.peerId).sort().join() === "p1,p2,p3", `peers ${JSON.stringify(pq.peers)}`);
		again.p1.send({ type: "offer", to: "p3", sdp: "v=0\r\n" });
		assert((await again.p3.nextType("offer")).from === "p1", "relay after crash");
		for (const p of [...Object.values(again), q])
			p.close();
	});
} finally {
	await w.dispose();
}
process.exit(t.finish());
