// Runs worker/src/worker.mjs with the freshly built hub.wasm in Miniflare (local workerd), on a
// random loopback port, with the test-only RG_DEBUG binding (/stats, /debug/abort) switched on.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const workerDir = process.env.RG_WORKER_DIR;
const require = createRequire(path.join(workerDir, "package.json"));
const { Miniflare } = require("miniflare");

export async function startWorker({ token, wasm = process.env.RG_HUB_WASM, onLog = () => {}, host = "127.0.0.1", port = 0, bindings = {} }) {
	const root = path.join(workerDir, "src");
	const mf = new Miniflare({
		modules: [
			{ type: "ESModule", path: path.join(root, "worker.mjs"),
				contents: fs.readFileSync(path.join(root, "worker.mjs"), "utf8") },
			{ type: "CompiledWasm", path: path.join(root, "hub.wasm"), contents: fs.readFileSync(wasm) },
		],
		modulesRoot: root,
		compatibilityDate: "2026-04-26",
		durableObjects: { HUB: { className: "HubRoom", useSQLite: true } },
		bindings: { AUTH_TOKEN: token, RG_DEBUG: "1", ...bindings },
		host,
		port,
		cf: false,
		handleRuntimeStdio(stdout, stderr) {
			for (const s of [stdout, stderr]) {
				let rest = "";
				s.on("data", (d) => {
					const lines = (rest + d.toString()).split("\n");
					rest = lines.pop();
					for (const l of lines)
						onLog(l);
				});
			}
		},
	});
	const url = await mf.ready;
	const http = url.href.replace(/\/$/, "");
	return {
		mf,
		http,
		ws: http.replace(/^http/, "ws"),
		async stats(network) {
			const r = await fetch(`${http}/stats?network=${network}`, { headers: { authorization: `Bearer ${token}` } });
			if (r.status !== 200)
				throw new Error(`/stats: HTTP ${r.status}`);
			return r.json();
		},
		async abort(network) {
			const r = await fetch(`${http}/debug/abort?network=${network}`, { headers: { authorization: `Bearer ${token}` } });
			return `${r.status} ${await r.text()}`;
		},
		dispose: () => mf.dispose(),
	};
}

// Writes "PASSED FAILED" for scripts/summary.sh (the sub-cases replace the meson test's count).
export function writeCounts(name, passed, failed) {
	const dir = process.env.RG_COUNTS_DIR;
	if (!dir)
		return;
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, name), `${passed} ${failed}\n`);
}

export function assert(cond, msg) {
	if (!cond)
		throw new Error(msg);
}

export function key() {
	return crypto.randomBytes(32).toString("base64");
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Named sub-cases with TAP-style lines; finish() prints the tally, writes it for
// scripts/summary.sh under the meson test's name and returns the exit status.
export function cases(label, countsName) {
	let passed = 0, failed = 0;
	return {
		add(r) {
			passed += r.passed;
			failed += r.failed;
		},
		async check(name, fn) {
			const t0 = Date.now();
			try {
				await fn();
				passed++;
				console.log(`ok - ${label}: ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
			} catch (e) {
				failed++;
				console.log(`not ok - ${label}: ${name}\n#   ${e.message}`);
			}
		},
		finish() {
			console.log(`# ${label}: ${passed} passed, ${failed} failed`);
			writeCounts(countsName, passed, failed);
			return failed ? 1 : 0;
		},
	};
}
