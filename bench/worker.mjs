// Worker hub (Miniflare's local workerd, hub.wasm in a Durable Object) against the native
// riftgate-hub in the same run: join rate, relay round-trip latency, wasm size and heap.
//   node bench/worker.mjs BUILD_DIR OUT.md      (bench/worker.sh sets up npm and hub.wasm)
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Peer } from "../tests/worker/conformance/client.mjs";
import { key, startWorker } from "../tests/worker/harness.mjs";

const [build, out] = process.argv.slice(2);
// RTTS stays inside the hub's per-connection burst (200 frames): a tight loop is far above 50/s.
const PEERS = 100, RTTS = 150;
const token = crypto.randomBytes(18).toString("base64url");

async function nativeHub() {
	const exe = path.join(build, "src/cli/riftgate-hub");
	const p = spawn(exe, ["--addr", "127.0.0.1:0", "--token", token], { stdio: ["ignore", "pipe", "pipe"] });
	let text = "";
	const port = await new Promise((resolve, reject) => {
		const scan = (d) => {
			text += d;
			const m = /listening on (?:\S*?:)?(\d+)/.exec(text);
			if (m)
				resolve(Number(m[1]));
		};
		p.stdout.on("data", scan);
		p.stderr.on("data", scan);
		p.on("exit", () => reject(new Error(text)));
		setTimeout(() => reject(new Error("riftgate-hub did not start")), 20000);
	});
	const rss = () => {
		const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p.pid}/status`, "utf8"));
		return m ? Number(m[1]) * 1024 : 0;
	};
	return { url: `ws://127.0.0.1:${port}/connect/bench`, stop: () => p.kill("SIGTERM"), rss };
}

function pct(sorted, q) {
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(url) {
	const peers = [];
	const t0 = process.hrtime.bigint();
	for (let i = 0; i < PEERS; i++) {
		const p = new Peer(url, token, `b${i}`);
		peers.push(p);
		await p.open();
		p.join(`b${i}`, key());
		await p.nextType("peers");
		p.frames.length = 0;
	}
	const joinMs = Number(process.hrtime.bigint() - t0) / 1e6;
	const [a, b] = [peers[0], peers[1]];
	a.frames.length = 0;
	b.frames.length = 0;
	const rtt = [];
	for (let i = 0; i < RTTS; i++) {
		const s = process.hrtime.bigint();
		a.send({ type: "offer", to: "b1", sdp: `v=0 ${i}` });
		await b.nextType("offer");
		b.send({ type: "answer", to: "b0", sdp: `v=0 ${i}` });
		await a.nextType("answer");
		rtt.push(Number(process.hrtime.bigint() - s) / 1e6);
	}
	rtt.sort((x, y) => x - y);
	for (const p of peers)
		p.terminate();
	return { joinsPerS: PEERS * 1000 / joinMs, p50: pct(rtt, 0.5), p99: pct(rtt, 0.99) };
}

const native = await nativeHub();
let rn, rssNative;
try {
	rn = await measure(native.url);
	rssNative = native.rss();
} finally {
	native.stop();
}
const w = await startWorker({ token });
let rw, stats;
try {
	rw = await measure(`${w.ws}/connect/bench`);
	stats = await w.stats("bench");
} finally {
	await w.dispose();
}
const wasmBytes = fs.statSync(process.env.RG_HUB_WASM).size;
const f = (x) => x.toFixed(2);
const report = `# Worker hub vs native riftgate-hub

Command: \`bash bench/worker.sh BUILD_DIR\` (\`make bench\` passes the release build), ${new Date().toISOString()}.
Both hubs on loopback in one run, same client (Node \`ws\`), ${PEERS} peers joined one after the other
(each waits for its \`peers\` reply), then ${RTTS} sequential offer→answer round trips between two of them.
The Worker runs in Miniflare's local workerd (\`worker/src/worker.mjs\`, hub.wasm in a Durable
Object); on Cloudflare the network path dominates these numbers. The machine (2 cores) was
shared with other builds and tests while this ran.

| | native riftgate-hub | Worker (local workerd) |
|---|---|---|
| joins/s (sequential, ${PEERS} peers) | ${rn.joinsPerS.toFixed(0)} | ${rw.joinsPerS.toFixed(0)} |
| relay round trip p50 (ms) | ${f(rn.p50)} | ${f(rw.p50)} |
| relay round trip p99 (ms) | ${f(rn.p99)} | ${f(rw.p99)} |
| hub memory after ${PEERS} peers | process RSS ${(rssNative / 1048576).toFixed(1)} MiB | wasm linear memory used ${(stats.heapBytes / 1024).toFixed(0)} KiB |

hub.wasm: ${wasmBytes} bytes (\`worker/build-wasm.sh\`, clang ${process.env.RG_CLANG_VERSION ?? ""}); the Go/TinyGo
Worker it replaces was 408 KB (seed/riftgate-STATUS.md).
`;
fs.writeFileSync(out, report);
console.log(report);
