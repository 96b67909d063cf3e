// The hub conformance suite against the native riftgate-hub (the reference the Worker must match).
// Exit 77 (meson: skipped) only while riftgate-hub has not been built.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { runConformance } from "./conformance/conformance.mjs";
import { writeCounts } from "./harness.mjs";

const exe = path.join(process.env.RG_BUILD_ROOT, "src/cli/riftgate-hub");
if (!fs.existsSync(exe)) {
	console.log(`skip: ${exe} not built yet`);
	process.exit(77);
}
const token = crypto.randomBytes(18).toString("base64url");
const hub = spawn(exe, ["--addr", "127.0.0.1:0", "--token", token], { stdio: ["ignore", "pipe", "pipe"] });
let output = "";
const port = await new Promise((resolve, reject) => {
	const t = setTimeout(() => reject(new Error(`riftgate-hub printed no "listening on" within 20 s:\n${output}`)), 20000);
	const scan = (d) => {
		output += d.toString();
		const m = /listening on (?:\S*?:)?(\d+)/.exec(output);
		if (m) {
			clearTimeout(t);
			resolve(Number(m[1]));
		}
	};
	hub.stdout.on("data", scan);
	hub.stderr.on("data", scan);
	hub.on("exit", (code) => reject(new Error(`riftgate-hub exited (${code}):\n${output}`)));
});
let r;
try {
	r = await runConformance({ url: `ws://127.0.0.1:${port}/connect`, token, label: "native" });
} finally {
	hub.kill("SIGTERM");
}
const code = await new Promise((resolve) => {
	const t = setTimeout(() => { hub.kill("SIGKILL"); resolve("killed"); }, 10000);
	hub.on("exit", (c, s) => { clearTimeout(t); resolve(c ?? s); });
});
if (code !== 0)
	console.log(`# riftgate-hub exit status after SIGTERM: ${code}\n${output.slice(-2000)}`);
writeCounts("worker-conformance-native", r.passed, r.failed);
process.exit(r.failed === 0 && code === 0 ? 0 : 1);
