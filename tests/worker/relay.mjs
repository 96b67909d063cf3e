// The hub relay (docs/signaling.md §Relay) over real WebSockets, against both hubs: the native
// riftgate-hub and the Worker in Miniflare run the same cases; every drop is checked against the
// hub's own counters (/metrics, /stats). Native only: a flooding sender beside a steady pair.
//   run-node.sh relay.mjs native|worker
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Peer } from "./conformance/client.mjs";
import { assert, cases, key, sleep, startWorker } from "./harness.mjs";

const target = process.argv[2] ?? "native";
const token = crypto.randomBytes(18).toString("base64url");
const t = cases(`relay-${target}`, `worker-relay-${target}`);
const DROPS = ["malformed", "oversized", "unjoined", "unknown_peer", "not_allowed", "sock_rate",
	"net_rate", "fair", "receiver", "slow", "daily", "disabled"];

function frame(peerId, payload) {
	const id = Buffer.from(peerId, "utf8");
	return Buffer.concat([Buffer.from([1, id.length]), id, Buffer.from(payload)]);
}

// ---- the two hubs: URL of a network, and its relay counters {in, out, <drop reason>...} ----

async function startNative(extra = []) {
	const exe = path.join(process.env.RG_BUILD_ROOT, "src/cli/riftgate-hub");
	if (!fs.existsSync(exe)) {
		console.log(`skip: ${exe} not built yet`);
		process.exit(77);
	}
	// the network budget is the bottleneck in the flood case, not the socket budget
	const hub = spawn(exe, ["--addr", "127.0.0.1:0", "--token", token, "--relay-network-rate", "2M",
		"--relay-network-burst", "256K", "--relay-rate", "4M", "--relay-burst", "256K", ...extra],
	{ stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	const port = await new Promise((resolve, reject) => {
		const tm = setTimeout(() => reject(new Error(`no "listening on" within 20 s:\n${output}`)), 20000);
		const scan = (d) => {
			output += d.toString();
			const m = /listening on (?:\S*?:)?(\d+)/.exec(output);
			if (m) {
				clearTimeout(tm);
				resolve(Number(m[1]));
			}
		};
		hub.stdout.on("data", scan);
		hub.stderr.on("data", scan);
		hub.on("exit", (code) => reject(new Error(`riftgate-hub exited (${code}):\n${output}`)));
	});
	return {
		url: (net) => `ws://127.0.0.1:${port}/connect/${net}`,
		// all networks together: cases run one after the other and compare deltas
		async stats() {
			const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
			const get = (re) => Number((re.exec(text) ?? [0, 0])[1]);
			const s = { in: get(/^riftgate_hub_relay_frames_in_total (\d+)$/m),
				out: get(/^riftgate_hub_relay_frames_total (\d+)$/m),
				kicked: get(/^riftgate_hub_relay_kicked_total (\d+)$/m) };
			for (const d of DROPS)
				s[d] = get(new RegExp(`^riftgate_hub_relay_drops_total\\{reason="${d}"\\} (\\d+)$`, "m"));
			return s;
		},
		async stop() {
			hub.kill("SIGTERM");
			await new Promise((r) => hub.on("exit", r));
		},
	};
}

async function startMiniflare(bindings = {}) {
	const w = await startWorker({ token, bindings, onLog: (l) => process.env.RG_VERBOSE && console.log(`[workerd] ${l}`) });
	const camel = (d) => "drop" + d.split("_").map((x) => x[0].toUpperCase() + x.slice(1)).join("");
	return {
		url: (net) => `${w.ws}/connect/${net}`,
		async stats(net) {
			const r = (await w.stats(net)).relay;
			const s = { in: r.framesIn, out: r.framesOut, kicked: r.kicked };
			for (const d of DROPS)
				s[d] = r[camel(d)];
			return s;
		},
		stop: () => w.dispose(),
	};
}

let hub = target === "worker" ? await startMiniflare() : await startNative();

async function joined(net, peerId) {
	const p = new Peer(hub.url(net), token, peerId);
	await p.open();
	p.join(peerId, key());
	const peers = await p.nextType("peers");
	return [p, peers];
}

// Counter changes over fn(): {in, out, <reason>: n} with only the non-zero entries.
async function delta(net, fn) {
	const before = await hub.stats(net);
	await fn();
	const after = await hub.stats(net);
	const d = {};
	for (const k of Object.keys(after))
		if (after[k] !== before[k])
			d[k] = after[k] - before[k];
	return d;
}

function eqDelta(got, want, what) {
	const a = JSON.stringify(got, Object.keys(got).sort()), b = JSON.stringify(want, Object.keys(want).sort());
	assert(a === b, `${what}: counters moved ${a}, want ${b}`);
}

// A frame beta must see next: proves everything sent before it was handled (one socket, in order).
async function barrier(from, to, toId) {
	const tag = crypto.randomBytes(6);
	from.sendBin(frame(toId, tag));
	const got = await to.nextBin();
	assert(got.subarray(got.length - tag.length).equals(tag), `barrier: got ${got.toString("hex")}`);
}

const net = () => `relay-${crypto.randomBytes(4).toString("hex")}`;

try {
	await t.check("golden: alpha -> beta arrives from alpha, payload unchanged; peers says relay", async () => {
		const n = net();
		const [a, pa] = await joined(n, "alpha");
		const [b] = await joined(n, "beta");
		assert(pa.relay === true, `peers without "relay":true: ${JSON.stringify(pa)}`);
		// the socket budget clients pace to: the native hub's --relay-rate/--relay-burst
		// below, the Worker's defaults
		const [rate, burst] = target === "native" ? [4194304, 262144] : [8388608, 524288];
		assert(pa.relayRate === rate && pa.relayBurst === burst,
			`peers without the socket budget ${rate}/${burst}: ${JSON.stringify(pa)}`);
		const d = await delta(n, async () => {
			a.sendBin(Buffer.from("010462657461" + "01020304", "hex"));
			const got = await b.nextBin();
			assert(got.toString("hex") === "0105616c706861" + "01020304", `got ${got.toString("hex")}`);
			b.sendBin(frame("alpha", Buffer.alloc(1400, 7)));
			const back = await a.nextBin();
			assert(back.equals(frame("beta", Buffer.alloc(1400, 7))), "1400-byte datagram back");
		});
		eqDelta(d, { in: 2, out: 2 }, "two relayed");
		a.close();
		b.close();
	});

	await t.check("frames before join: dropped and counted, nobody gets them", async () => {
		const n = net();
		const [a] = await joined(n, "alpha");
		const [b] = await joined(n, "beta");
		const u = new Peer(hub.url(n), token, "unjoined");
		await u.open();
		const d = await delta(n, async () => {
			u.sendBin(frame("beta", [1, 2, 3]));
			await sleep(200);
			await barrier(a, b, "beta");
		});
		eqDelta(d, { in: 2, out: 1, unjoined: 1 }, "unjoined");
		assert(b.bins.length === 0 && !u.closed, "nothing else arrived, socket kept");
		for (const p of [a, b, u])
			p.close();
	});

	await t.check("bad frames: empty, short, unknown type, id past the end, oversized: dropped, counted, socket kept", async () => {
		const n = net();
		const [a] = await joined(n, "alpha");
		const [b] = await joined(n, "beta");
		const d = await delta(n, async () => {
			a.sendBin(Buffer.alloc(0));
			a.sendBin(Buffer.from([1]));
			a.sendBin(Buffer.from([2, 4, ...Buffer.from("beta"), 1]));
			a.sendBin(Buffer.from([1, 200, ...Buffer.from("beta"), 1]));
			a.sendBin(frame("beta", Buffer.alloc(9217)));
			a.sendBin(frame("beta", Buffer.alloc(70000)));
			await barrier(a, b, "beta");
		});
		eqDelta(d, { in: 7, out: 1, malformed: 4, oversized: 2 }, "bad frames");
		assert(!a.closed && b.bins.length === 0, "socket kept, nothing else delivered");
		// the largest payload still goes through
		a.sendBin(frame("beta", Buffer.alloc(9216, 1)));
		assert((await b.nextBin()).length === 2 + 5 + 9216, "9216-byte payload");
		a.close();
		b.close();
	});

	await t.check("unknown peer, a peer that left, itself: dropped and counted", async () => {
		const n = net();
		const [a] = await joined(n, "alpha");
		const [b] = await joined(n, "beta");
		const [g] = await joined(n, "gamma");
		g.close();
		await a.next((m) => m.type === "peer-left" && m.peerId === "gamma", "peer-left gamma");
		const d = await delta(n, async () => {
			a.sendBin(frame("nobody", [1]));
			a.sendBin(frame("gamma", [1]));
			a.sendBin(frame("alpha", [1]));
			await barrier(a, b, "beta");
		});
		eqDelta(d, { in: 4, out: 1, unknown_peer: 2, not_allowed: 1 }, "misaddressed");
		assert(a.bins.length === 0 && g.bins.length === 0, "nothing delivered to the sender or gamma");
		a.close();
		b.close();
	});

	await t.check("a socket of another network cannot address a peer", async () => {
		const n = net(), other = net();
		const [a] = await joined(n, "alpha");
		const [b] = await joined(n, "beta");
		const [e] = await joined(other, "eve");
		const [e2] = await joined(other, "eve2");
		const d = await delta(other, async () => {
			e.sendBin(frame("beta", [6, 6, 6]));
			await barrier(e, e2, "eve2");
		});
		eqDelta(d, { in: 2, out: 1, unknown_peer: 1 }, "cross-network");
		await barrier(a, b, "beta");
		assert(b.bins.length === 0, "beta got eve's frame");
		for (const p of [a, b, e, e2])
			p.close();
	});

	if (target === "worker") {
		await t.check("RELAY_DAILY_MB: a network's daily budget drops the rest (dropDaily), kept in storage", async () => {
			const w2 = await startWorker({ token, bindings: { RELAY_DAILY_MB: "1" } });
			try {
				const n = net();
				const open = async (id) => {
					const p = new Peer(`${w2.ws}/connect/${n}`, token, id);
					await p.open();
					p.join(id, key());
					await p.nextType("peers");
					return p;
				};
				const a = await open("alpha"), b = await open("beta");
				const big = frame("beta", Buffer.alloc(9216, 3));
				// paced under the socket budget (8 MiB/s): only the daily budget may drop
				for (let i = 0; i < 130; i++) {
					a.sendBin(big);
					if (i % 10 === 9)
						await sleep(25);
				}
				a.send({ type: "offer", to: "beta", sdp: "v=0" });	// barrier: after every frame
				await b.nextType("offer");
				const r = (await w2.stats(n)).relay;
				// 1 MiB / 9216 = 113 full datagrams
				assert(b.bins.length === 113 && r.framesOut === 113 && r.dropDaily === 17,
					`delivered ${b.bins.length}, stats ${JSON.stringify(r)}`);
				// an alarm writes the usage to storage 5 s after relaying started; then the
				// object crashes and comes back from storage, still over budget
				await sleep(6000);
				await w2.abort(n);
				await Promise.all([a.waitClosed(), b.waitClosed()]);
				const a2 = await open("alpha"), b2 = await open("beta");
				a2.sendBin(big);
				a2.send({ type: "offer", to: "beta", sdp: "v=0" });
				await b2.nextType("offer");
				const r2 = (await w2.stats(n)).relay;
				assert(b2.bins.length === 0 && r2.dropDaily === 1 && r2.framesOut === 0,
					`after the crash: delivered ${b2.bins.length}, stats ${JSON.stringify(r2)}`);
				a2.close();
				b2.close();
			} finally {
				await w2.dispose();
			}
		});
	}

	await t.check("receiver budget: a heavy sender beside a light one toward one slow receiver: dropped (receiver), not buffered, fair", async () => {
		// 256 KiB/s and 32 KiB of burst for each receiving socket, both hubs alike
		const main = hub;
		hub = target === "worker" ?
			await startMiniflare({ RELAY_RECEIVE_RATE: "262144", RELAY_RECEIVE_BURST: "32768" }) :
			await startNative(["--relay-receive-rate", "256K", "--relay-receive-burst", "32K"]);
		try {
			const n = net();
			const [h] = await joined(n, "heavy");
			const [l] = await joined(n, "light");
			const [r] = await joined(n, "slow");
			const payload = Buffer.alloc(1200, 0x33);
			const fromHeavy = frame("slow", payload), fromLight = frame("slow", payload);
			let heavySent = 0, lightSent = 0, secs = 0;
			const t0 = Date.now();
			const d = await delta(n, async () => {
				// 3 s: heavy offers ~1.2 MB/s (4.5x the receiver's budget), light ~60 kB/s
				while (Date.now() - t0 < 3000) {
					for (let i = 0; i < 10; i++) {
						h.sendBin(fromHeavy);
						heavySent++;
					}
					if (heavySent % 200 === 0) {
						l.sendBin(fromLight);
						lightSent++;
					}
					await sleep(10);
				}
				secs = (Date.now() - t0) / 1000;
				await sleep(500);
			});
			// until the counters were read: the hub may have worked through the frames later
			const all = (Date.now() - t0) / 1000;
			const src = (b) => b.subarray(2, 2 + b[1]).toString();
			const fromL = r.bins.filter((b) => src(b) === "light").length;
			const fromH = r.bins.filter((b) => src(b) === "heavy").length;
			console.log(`# ${secs.toFixed(1)} s: light ${fromL}/${lightSent}, heavy ${fromH}/${heavySent}, drops ${JSON.stringify(d)}`);
			assert(fromL >= lightSent * 0.98, `the light sender lost frames: ${fromL}/${lightSent}`);
			assert(fromH < heavySent * 0.6, `the heavy sender was not held to the receiver's budget: ${fromH}/${heavySent}`);
			// what reached the receiver fits its budget (charged bytes: frame + 64; two bursts:
			// its own and the debt its senders may run it into within their shares)
			const charged = (fromL + fromH) * (fromHeavy.length + 64);
			assert(charged <= 2 * 32768 + 262144 * all, `receiver got ${charged} charged bytes in ${all} s`);
			assert((d.receiver ?? 0) > 0, `no receiver drops counted: ${JSON.stringify(d)}`);
			assert(d.in === d.out + DROPS.reduce((x, k) => x + (d[k] ?? 0), 0), "frames in = out + drops");
			// dropped, not buffered: nothing more arrives after the senders stop
			const got = r.bins.length;
			await sleep(1000);
			assert(r.bins.length === got, "frames kept arriving after the senders stopped");
			for (const p of [h, l, r])
				p.close();
		} finally {
			await hub.stop();
			hub = main;
		}
	});

	if (target === "native") {
		await t.check("flood: the flooder loses its own frames, a steady pair keeps its rate", async () => {
			const n = net();
			const [f] = await joined(n, "flooder");
			const [g] = await joined(n, "sink");
			const [s] = await joined(n, "steady");
			const [r] = await joined(n, "receiver");
			const big = frame("sink", Buffer.alloc(1200, 0xaa));
			const small = frame("receiver", Buffer.alloc(1200, 0x55));
			let steadySent = 0, floodSent = 0;
			const d = await delta(n, async () => {
				const t0 = Date.now();
				// 3 s: the flooder offers ~3x the 2 MiB/s network budget, steady ~10% of it
				while (Date.now() - t0 < 3000) {
					for (let i = 0; i < 50; i++) {
						if (f.ws.bufferedAmount < 1 << 20) {
							f.sendBin(big);
							floodSent++;
						}
					}
					s.sendBin(small);
					steadySent++;
					await sleep(10);
				}
				await sleep(500);
			});
			const got = r.bins.length, flooded = g.bins.length;
			console.log(`# steady ${got}/${steadySent}, flooder ${flooded}/${floodSent}, drops ${JSON.stringify(d)}`);
			assert(got >= steadySent * 0.98, `steady pair lost frames: ${got}/${steadySent}`);
			assert(flooded < floodSent, "flooder lost nothing");
			assert((d.fair ?? 0) + (d.net_rate ?? 0) + (d.sock_rate ?? 0) > 0, "no budget drops counted");
			assert(d.in === d.out + DROPS.reduce((x, k) => x + (d[k] ?? 0), 0), "frames in = out + drops");
			for (const p of [f, g, s, r])
				p.close();
		});
	}
} finally {
	await hub.stop();
}
process.exit(t.finish());
