// Serves the Worker hub from Miniflare until SIGTERM, for labs that need a hub process:
//   node serve.mjs --host 10.98.0.1 --port 8080 --token TOKEN [--trust-anchor KEY --trust-network NAME]
// Prints "listening on HOST:PORT", then the Durable Object's log lines.
import { startWorker } from "./harness.mjs";

function arg(name, dflt) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
}

const host = arg("host", "127.0.0.1"), port = Number(arg("port", 0));
const w = await startWorker({
	token: arg("token"),
	host,
	port,
	bindings: arg("trust-anchor") ? { TRUST_ANCHOR: arg("trust-anchor"), TRUST_NETWORK: arg("trust-network", "") } : {},
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
