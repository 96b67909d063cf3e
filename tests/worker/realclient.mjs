// The riftgate signaling client (src/signal/client.c, driven through tests/worker/sigprobe)
// against the Worker in Miniflare:
//  - cost guard: with a rejected token it makes at most a handful of attempts per minute
//    (counted by a TCP proxy in front of the Worker) and reports the rejection;
//  - crash: ctx.abort() drops every socket; the C clients reconnect with their backoff, re-join,
//    and the hub holds exactly them again (no ghosts), with routing intact.
//   node realclient.mjs PATH/TO/sigprobe
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import net from "node:net";
import { Peer } from "./conformance/client.mjs";
import { assert, cases, key, sleep, startWorker } from "./harness.mjs";

const probeExe = process.argv[2];
const COST_S = Number(process.env.RG_COSTGUARD_S ?? 45);
const token = crypto.randomBytes(18).toString("base64url");
const t = cases("worker + riftgate client", "worker-client");
const check = t.check;
const w = await startWorker({ token, onLog: (l) => process.env.RG_VERBOSE && console.log(`[workerd] ${l}`) });
const children = [];
// One sigprobe process; its stdout lines are kept, tests wait for a matching line.
function probe(url, tok, peerId, seconds) {
	const p = spawn(probeExe, [url, tok, peerId, String(seconds)], { stdio: ["pipe", "pipe", "pipe"] });
	children.push(p);
	const lines = [];
	let waiters = [], rest = "", stderr = "";
	p.stdout.on("data", (d) => {
		const parts = (rest + d.toString()).split("\n");
		rest = parts.pop();
		for (const l of parts) {
			lines.push(l);
			if (process.env.RG_VERBOSE)
				console.log(`[${peerId}] ${l}`);
		}
		const ws = waiters;
		waiters = [];
		ws.forEach((f) => f());
	});
	p.stderr.on("data", (d) => { stderr += d.toString(); });
	const exited = new Promise((resolve) => p.on("exit", (code, sig) => resolve(code ?? sig)));
	return {
		lines,
		exited,
		send: (line) => p.stdin.write(line + "\n"),
		async wait(re, what, timeoutMs = 15000, from = 0) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const i = lines.findIndex((l, k) => k >= from && re.test(l));
				if (i >= 0)
					return i;
				if (Date.now() > deadline)
					throw new Error(`${peerId}: no ${what} within ${timeoutMs} ms; lines: ${lines.join(" | ")}; stderr: ${stderr.slice(-600)}`);
				await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
			}
		},
		kill: () => p.kill("SIGTERM"),
	};
}

// Counts TCP connections (one per connection attempt of the client) on their way to the Worker.
function countingProxy(port) {
	const srv = net.createServer((c) => {
		srv.attempts.push(Date.now());
		const up = net.connect(port, "127.0.0.1");
		c.pipe(up).pipe(c);
		c.on("error", () => up.destroy());
		up.on("error", () => c.destroy());
	});
	srv.attempts = [];
	return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(srv)));
}

const workerPort = Number(new URL(w.http).port);
try {
	const proxy = await countingProxy(workerPort);
	const proxyUrl = `ws://127.0.0.1:${proxy.address().port}/connect/costguard`;
	// Runs concurrently with the crash test below; awaited at the end.
	const cost = check(`cost guard: rejected token -> at most a handful of attempts per minute (${COST_S} s)`, async () => {
		const t0 = Date.now();
		const p = probe(proxyUrl, "wrong-token", "intruder", COST_S);
		await p.wait(/^fatal /, "fatal error for the rejected token");
		const fatal = p.lines.find((l) => l.startsWith("fatal "));
		assert(/reject|401|token/i.test(fatal), `fatal line: ${fatal}`);
		await p.exited;
		const secs = (Date.now() - t0) / 1000;
		const n = proxy.attempts.length;
		const gaps = proxy.attempts.slice(1).map((t, i) => ((t - proxy.attempts[i]) / 1000).toFixed(1));
		console.log(`# rejected client: ${n} connection attempts in ${secs.toFixed(0)} s ` +
			`(${(n * 60 / secs).toFixed(1)}/min), gaps ${gaps.join(" ")} s`);
		assert(n >= 1, "the client never tried");
		assert(n * 60 / secs <= 6, `${n} attempts in ${secs.toFixed(0)} s is more than a handful per minute`);
		assert(!p.lines.some((l) => l.startsWith("connected")), "connected with a wrong token");
	});

	await check("crash: ctx.abort(); the C clients reconnect, re-join, no ghosts, routing intact", async () => {
		const netName = `rc-${crypto.randomBytes(3).toString("hex")}`;
		const url = `${w.ws}/connect/${netName}`;
		const p1 = probe(url, token, "p1", 120), p2 = probe(url, token, "p2", 120);
		await p1.wait(/^connected 1$/, "first connect");
		await p2.wait(/^connected 1$/, "first connect");
		await p1.wait(/^message join p2$|^message peers - p2$/, "p2 in p1's view");
		const before = await w.stats(netName);
		assert(before.hub.peers === 2, `peers before crash: ${before.hub.peers}`);
		const mark1 = p1.lines.length, mark2 = p2.lines.length;
		console.log(`# ${await w.abort(netName)}`);
		await p1.wait(/^disconnected/, "disconnect after abort", 15000, mark1);
		await p2.wait(/^disconnected/, "disconnect after abort", 15000, mark2);
		// Backoff starts at 0.5 s with full jitter: both must be back well within 15 s.
		await p1.wait(/^connected 2$/, "reconnect", 15000, mark1);
		await p2.wait(/^connected 2$/, "reconnect", 15000, mark2);
		const q = new Peer(url, token, "q");
		await q.open();
		q.join("q", key());
		const pq = await q.nextType("peers");
		assert(pq.peers.map((p) => p.peerId).sort().join() === "p1,p2", `peers after rejoin: ${JSON.stringify(pq.peers)}`);
		const s = await w.stats(netName);
		assert(s.instance !== before.instance, "same DO instance after ctx.abort()");
		assert(s.hub.peers === 3 && s.sockets === 3, `hub after rejoin: ${JSON.stringify(s.hub)}, sockets ${s.sockets}`);
		q.send({ type: "offer", to: "p1", sdp: "v=0\r\n" });
		await p1.wait(/^message offer q$/, "offer from q", 10000, mark1);
		p2.send("offer q");
		const o = await q.nextType("offer");
		assert(o.from === "p2", `offer at q from ${o.from}`);
		q.close();
		p1.kill();
		p2.kill();
	});
	await cost;
	proxy.close();
} finally {
	for (const c of children)
		c.kill("SIGKILL");
	await w.dispose();
}
process.exit(t.finish());
