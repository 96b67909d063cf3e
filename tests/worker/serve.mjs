// Serves the Worker hub from Miniflare until SIGTERM, for labs that need a hub process:
//   node serve.mjs --host 10.98.0.1 --port 8080 --token TOKEN [--trust-anchor KEY --trust-network NAME]
//                  [--var NAME=VALUE]... (more wrangler vars, e.g. RELAY_RATE=2097152)
// Prints "listening on HOST:PORT", then the Durable Object's log lines.
import { startWorker } from "./harness.mjs";

function arg(name, dflt) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
}

const host = arg("host", "127.0.0.1"), port = Number(arg("port", 0));
const bindings = arg("trust-anchor") ? { TRUST_ANCHOR: arg("trust-anchor"), TRUST_NETWORK: arg("trust-network", "") } : {};
process.argv.forEach((a, i) => {
	const m = a === "--var" ? /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(process.argv[i + 1] ?? "") : null;
	if (m)
		bindings[m[1]] = m[2];
});
const w = await startWorker({
	token: arg("token"),
	host,
	port,
	bindings,
	onLog: (l) => console.log(`[workerd] ${l}`),
});
// mf.ready reports Miniflare's loopback entry; with an explicit port the requested address is
// what clients use.
console.log(`listening on ${port ? `${host}:${port}` : new URL(w.http).host}`);
const stop = async () => {
	await w.dispose();
	process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
