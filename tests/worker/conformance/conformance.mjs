// Hub conformance suite: the signaling rules of DESIGN.md §Signaling, checked over real WebSockets
// against any hub URL. One suite, several targets: the native `riftgate-hub` and the Cloudflare
// Worker (Miniflare) both run it (tests/worker/*.mjs).
//
//   node conformance.mjs --url ws://127.0.0.1:PORT/connect --token TOKEN [--label NAME]
//
// A `{network}` placeholder in the URL is replaced by a fresh network name per case, so on the
// Worker every case gets its own Durable Object. Without it all cases share one hub, so every
// case uses its own peerId prefix and only looks at peers carrying that prefix.
import crypto from "node:crypto";
import { Peer } from "./client.mjs";

function key() {
	return crypto.randomBytes(32).toString("base64");
}

function assert(cond, msg) {
	if (!cond)
		throw new Error(msg);
}

// JSON text with object keys sorted: field order on the wire is not part of the protocol.
function canon(v) {
	if (Array.isArray(v))
		return v.map(canon);
	if (v && typeof v === "object")
		return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
	return v;
}

function eq(a, b, msg) {
	const ja = JSON.stringify(canon(a)), jb = JSON.stringify(canon(b));
	if (ja !== jb)
		throw new Error(`${msg}: got ${ja}, want ${jb}`);
}

function isError(m) {
	return m.type === "error";
}

function checkError(m, what) {
	assert(typeof m.code === "string" && m.code.length > 0, `${what}: error frame without code: ${JSON.stringify(m)}`);
	assert(typeof m.message === "string", `${what}: error frame without message: ${JSON.stringify(m)}`);
}

// The hub may know peers of other cases (shared hub): keep only ours, sorted by id.
function ours(list, prefix) {
	return list.filter((p) => typeof p.peerId === "string" && p.peerId.startsWith(prefix))
		.sort((x, y) => (x.peerId < y.peerId ? -1 : 1));
}

// A frame with tricky content: CR/LF, quotes, backslashes, non-ASCII, U+2028, an astral char.
const SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=fingerprint:sha-256 AB:CD\r\na=x-note:\"quoted\" back\\slash é \u2028 \u{1F600}\r\n";
const CAND = "candidate:842163049 1 udp 1677729535 192.0.2.7 46154 typ srflx raddr 0.0.0.0 rport 0";

const cases = [];
function tcase(name, fn) {
	cases.push({ name, fn });
}

tcase("join: joiner gets peers (everyone else, with publicKey), unknown fields ignored", async (t) => {
	const ka = key(), kb = key();
	const a = await t.peer("a");
	a.join(t.id("a"), ka, { futureField: { nested: [1, 2, { x: "y" }] } });
	const pa = await a.nextType("peers");
	assert(Array.isArray(pa.peers), "peers.peers is not an array");
	eq(ours(pa.peers, t.prefix), [], "first joiner's peers");
	const b = await t.peer("b");
	b.join(t.id("b"), kb);
	const pb = await b.nextType("peers");
	eq(ours(pb.peers, t.prefix).map((p) => [p.peerId, p.publicKey]), [[t.id("a"), ka]],
		"second joiner's peers");
});

tcase("join forwarded to every existing peer", async (t) => {
	const a = await t.joined("a"), b = await t.joined("b");
	const kc = key();
	const c = await t.peer("c");
	c.join(t.id("c"), kc);
	for (const p of [a, b]) {
		const j = await p.next((m) => m.type === "join" && m.peerId === t.id("c"), "join of c");
		eq(j.publicKey, kc, "forwarded join publicKey");
	}
	const pc = await c.nextType("peers");
	eq(ours(pc.peers, t.prefix).map((p) => p.peerId), [t.id("a"), t.id("b")], "c's peers");
	await c.none((m) => m.type === "join" && m.peerId === t.id("c"), "own join echoed");
});

tcase("offer/answer/ice-candidate relayed only to `to`, content intact", async (t) => {
	const a = await t.joined("a"), b = await t.joined("b"), c = await t.joined("c");
	const pk = key();
	a.send({ type: "offer", from: t.id("a"), to: t.id("b"), sdp: SDP, publicKey: pk });
	const o = await b.nextType("offer");
	eq([o.from, o.to, o.sdp, o.publicKey], [t.id("a"), t.id("b"), SDP, pk], "offer at b");
	b.send({ type: "answer", from: t.id("b"), to: t.id("a"), sdp: SDP });
	const an = await a.nextType("answer");
	eq([an.from, an.to, an.sdp], [t.id("b"), t.id("a"), SDP], "answer at a");
	assert(an.publicKey === undefined || an.publicKey === "", "answer grew a publicKey");
	a.send({ type: "ice-candidate", from: t.id("a"), to: t.id("b"), candidate: CAND });
	const ic = await b.nextType("ice-candidate");
	eq([ic.from, ic.to, ic.candidate], [t.id("a"), t.id("b"), CAND], "candidate at b");
	const relayed = (m) => ["offer", "answer", "ice-candidate"].includes(m.type);
	await c.none(relayed, "relay to a bystander");
	await a.none((m) => m.type !== "answer" && relayed(m), "relay echoed to sender");
});

tcase("`from` is overwritten with the sender's registered id (no spoofing)", async (t) => {
	const a = await t.joined("a"), b = await t.joined("b"), c = await t.joined("c");
	a.send({ type: "offer", from: t.id("c"), to: t.id("b"), sdp: "v=0\r\n" });
	const o = await b.nextType("offer");
	eq(o.from, t.id("a"), "spoofed offer's from");
	a.send({ type: "ice-candidate", to: t.id("b"), candidate: CAND });
	const ic = await b.nextType("ice-candidate");
	eq(ic.from, t.id("a"), "candidate without from");
	await c.none((m) => m.type === "offer", "offer at the spoofed peer");
});

tcase("unknown `to` -> error frame to the sender, connection kept", async (t) => {
	const a = await t.joined("a"), b = await t.joined("b");
	a.send({ type: "offer", from: t.id("a"), to: t.id("nobody"), sdp: "v=0\r\n" });
	checkError(await a.next(isError, "error frame"), "unknown to");
	a.send({ type: "offer", from: t.id("a"), to: t.id("b"), sdp: "v=0\r\n" });
	await b.nextType("offer");
	assert(!a.closed, "sender's socket closed after unknown to");
});

tcase("peer-left sent to all others when a connection closes", async (t) => {
	const a = await t.joined("a"), b = await t.joined("b"), c = await t.joined("c");
	b.close();
	for (const p of [a, c])
		await p.next((m) => m.type === "peer-left" && m.peerId === t.id("b"), "peer-left of b");
	const d = await t.peer("d");
	d.join(t.id("d"), key());
	const pd = await d.nextType("peers");
	eq(ours(pd.peers, t.prefix).map((p) => p.peerId), [t.id("a"), t.id("c")], "peers after b left");
});

tcase("duplicate peerId, same key (a reconnect): old socket closed, others see peer-left then join, no ghost", async (t) => {
	const k = key();
	const x1 = await t.peer("x1");
	x1.join(t.id("x"), k);
	await x1.nextType("peers");
	const b = await t.joined("b");
	const x2 = await t.peer("x2");
	x2.join(t.id("x"), k, { address: "10.10.0.9/24" });
	const closed = await x1.waitClosed();
	eq(closed.code, 4000, "old socket's close code");
	const px2 = await x2.nextType("peers");
	eq(ours(px2.peers, t.prefix).map((p) => p.peerId), [t.id("b")], "replacement's peers");
	const j = await b.next((m) => m.type === "join" && m.peerId === t.id("x"), "join of x again");
	eq([j.publicKey, j.address], [k, "10.10.0.9/24"], "replacement's key and address");
	// peer-left must reach b before the new join (b's agent drops the old session first).
	const left = [...b.consumed, ...b.frames].find((m) => m.type === "peer-left" && m.peerId === t.id("x"));
	assert(left && left._seq < j._seq, "peer-left of x did not precede its new join");
	const c = await t.peer("c");
	c.join(t.id("c"), key());
	const pc = await c.nextType("peers");
	eq(ours(pc.peers, t.prefix).map((p) => [p.peerId, p.publicKey]).filter((p) => p[0] === t.id("x")),
		[[t.id("x"), k]], "x listed once");
	b.send({ type: "offer", to: t.id("x"), sdp: "v=0\r\n" });
	const o = await x2.nextType("offer");
	eq(o.from, t.id("b"), "offer to x reaches the new socket");
});

tcase("duplicate peerId, another key: refused (4001), the first socket keeps it", async (t) => {
	const x1 = await t.joined("x"), b = await t.joined("b");
	const x2 = await t.peer("x2");
	x2.join(t.id("x"), key());
	const e = await x2.next(isError, "error frame for the intruder");
	eq(e.code, "id-in-use", "error code");
	const closed = await x2.waitClosed();
	eq(closed.code, 4001, "intruder's close code");
	assert(!x1.closed, "the first socket was closed");
	await b.none((m) => m.peerId === t.id("x") && (m.type === "peer-left" || m.type === "join"),
		"peer-left/join of x at b");
	b.send({ type: "offer", to: t.id("x"), sdp: "v=0\r\n" });
	eq((await x1.nextType("offer")).from, t.id("b"), "offer to x reaches the first socket");
});

tcase("join fields: peerId alphabet, 44-char keys, bounded address; NUL in member names", async (t) => {
	const a = await t.peer("a");
	for (const [what, frame] of [
		["peerId with ESC", { type: "join", peerId: `${t.id("a")}\u001b[2J`, publicKey: key() }],
		["peerId with newline", { type: "join", peerId: `${t.id("a")}\nx`, publicKey: key() }],
		["peerId of 65 bytes", { type: "join", peerId: "a".repeat(65), publicKey: key() }],
		["short key", { type: "join", peerId: t.id("a"), publicKey: "K" }],
		["address with a newline", { type: "join", peerId: t.id("a"), publicKey: key(), address: "10.0.0.1/24\n" }],
	]) {
		a.send(frame);
		const e = await a.next(isError, `error frame for ${what}`);
		eq(e.code, "bad-message", `error code for ${what}`);
	}
	// "type\u0000" must not read as a second "type" on the client: the whole frame is refused
	a.send(`{"type":"join","peerId":"${t.id("a")}","publicKey":"${key()}","type\\u0000":"peers"}`);
	eq((await a.next(isError, "error frame for a NUL member name")).code, "bad-json", "NUL name");
	assert(!a.closed, "socket closed after refused joins");
	a.join(t.id("a"), key());
	await a.nextType("peers");
});

tcase("frames before join are rejected and not relayed", async (t) => {
	const b = await t.joined("b");
	const a = await t.peer("a");
	a.send({ type: "offer", from: t.id("a"), to: t.id("b"), sdp: "v=0\r\n" });
	checkError(await a.next(isError, "error frame"), "offer before join");
	await b.none((m) => m.type === "offer", "offer from an unjoined socket");
});

tcase("malformed JSON -> error frame, connection kept", async (t) => {
	const a = await t.peer("a");
	for (const bad of ["{\"type\":\"join\",", "not json", "[1,2,3]", "{\"type\":42}", "{\"type\":\"join\",\"peerId\":\"\\uD800\"}"]) {
		a.send(bad);
		checkError(await a.next(isError, `error frame for ${JSON.stringify(bad)}`), "malformed");
	}
	assert(!a.closed, "socket closed after malformed JSON");
	a.join(t.id("a"), key());
	await a.nextType("peers");
});

tcase("auth: no, wrong or empty token -> HTTP 401; the scheme is case-insensitive", async (t) => {
	for (const [what, token] of [["no token", undefined], ["wrong token", t.token + "x"], ["empty token", ""]]) {
		const p = new Peer(t.url, token, what);
		let status = 0;
		try {
			await p.open();
			p.close();
		} catch (e) {
			status = e.status || 0;
		}
		eq(status, 401, `status with ${what}`);
	}
	// The scheme is case-insensitive (RFC 7235 §2.1).
	const p = new Peer(t.url, t.token, "lowercase scheme", "bearer");
	t.adopt(p);
	await p.open();
});

tcase("networks: /connect/N and /connect?network=N meet, other networks are isolated", async (t) => {
	const base = t.url.replace(/^(wss?:\/\/[^/]+).*$/, "$1");
	const net = `${t.prefix}net`;
	const a = new Peer(`${base}/connect/${net}`, t.token, "a");
	const b = new Peer(`${base}/connect?network=${net}`, t.token, "b");
	const c = new Peer(`${base}/connect/${net}-other`, t.token, "c");
	t.adopt(a, b, c);
	await a.open();
	a.join(t.id("a"), key());
	await a.nextType("peers");
	await b.open();
	b.join(t.id("b"), key());
	eq((await b.nextType("peers")).peers.map((p) => p.peerId), [t.id("a")], "b's peers (same network)");
	await c.open();
	c.join(t.id("c"), key());
	eq((await c.nextType("peers")).peers, [], "c's peers (other network)");
	await a.next((m) => m.type === "join" && m.peerId === t.id("b"), "join of b");
	await a.none((m) => m.type === "join" && m.peerId === t.id("c"), "join from another network");
	c.send({ type: "offer", to: t.id("a"), sdp: "v=0\r\n" });
	checkError(await c.next(isError, "error frame"), "offer across networks");
	await a.none((m) => m.type === "offer", "offer across networks");
	const bad = new Peer(`${base}/connect/bad%20name`, t.token, "bad");
	let status = 0;
	try {
		await bad.open();
		bad.close();
	} catch (e) {
		status = e.status || 0;
	}
	eq(status, 400, "status for an invalid network name");
});

tcase("address field carried on join, peers and offer/answer", async (t) => {
	const ka = key();
	const a = await t.peer("a");
	a.join(t.id("a"), ka, { address: "10.10.0.2/24" });
	await a.nextType("peers");
	const b = await t.peer("b");
	b.join(t.id("b"), key(), { address: "10.10.0.3/24" });
	const pb = await b.nextType("peers");
	eq(ours(pb.peers, t.prefix), [{ peerId: t.id("a"), publicKey: ka, address: "10.10.0.2/24" }],
		"peers entry with address");
	const j = await a.next((m) => m.type === "join" && m.peerId === t.id("b"), "join of b");
	eq(j.address, "10.10.0.3/24", "forwarded join's address");
	a.send({ type: "offer", to: t.id("b"), sdp: "v=0\r\n", address: "10.10.0.2/24" });
	eq((await b.nextType("offer")).address, "10.10.0.2/24", "offer's address");
	b.send({ type: "answer", to: t.id("a"), sdp: "v=0\r\n", address: "10.10.0.3/24" });
	eq((await a.nextType("answer")).address, "10.10.0.3/24", "answer's address");
});

tcase("frame over 64 KiB -> socket closed 1009, not relayed, others see peer-left", async (t) => {
	const a = await t.joined("a"), b = await t.joined("b");
	b.send({ type: "offer", to: t.id("a"), sdp: "x".repeat(70 * 1024) });
	const c = await b.waitClosed();
	eq(c.code, 1009, "close code");
	await a.next((m) => m.type === "peer-left" && m.peerId === t.id("b"), "peer-left of b");
	await a.none((m) => m.type === "offer", "oversized offer relayed");
});

tcase("flood past the rate limit -> rate-limited error frame, then close 1008", async (t) => {
	const a = await t.joined("a");
	for (let i = 0; i < 1000 && !a.closed; i++)
		a.send({ type: "ice-candidate", to: t.id("nobody"), candidate: "x" });
	const c = await a.waitClosed(20000);
	eq(c.code, 1008, "close code");
	assert(a.frames.some((m) => m.type === "error" && m.code === "rate-limited"), "no rate-limited error frame before the close");
});

export async function runConformance({ url, token, label = "hub", log = console.log, only }) {
	const run = crypto.randomBytes(3).toString("hex");
	let passed = 0, failed = 0, n = 0;
	const failures = [];
	for (const c of cases) {
		n++;
		if (only && !c.name.includes(only))
			continue;
		const peers = [];
		const net = `conf-${run}-${n}`;
		const t = {
			url: url.replace("{network}", net),
			token,
			prefix: `${run}-${n}-`,
			id: (s) => `${run}-${n}-${s}`,
			async peer(name) {
				const p = new Peer(t.url, token, name);
				peers.push(p);
				await p.open();
				return p;
			},
			adopt(...ps) {
				peers.push(...ps);
			},
			async joined(name) {
				const p = await t.peer(name);
				p.join(t.id(name), key());
				await p.nextType("peers");
				return p;
			},
		};
		try {
			await c.fn(t);
			passed++;
			log(`ok ${n} - ${label}: ${c.name}`);
		} catch (e) {
			failed++;
			failures.push(c.name);
			log(`not ok ${n} - ${label}: ${c.name}\n#   ${e.message}`);
		} finally {
			for (const p of peers)
				p.close();
			// Let the hub see the closes before the next case starts (a shared hub).
			await Promise.all(peers.map((p) => p.waitClosed(5000).catch(() => p.terminate())));
		}
	}
	log(`# conformance ${label}: ${passed} passed, ${failed} failed`);
	return { passed, failed, failures };
}

function arg(name) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop())) {
	const url = arg("url");
	if (!url) {
		console.error("usage: node conformance.mjs --url ws://HOST:PORT/connect[/{network}] --token TOKEN [--label L] [--only TEXT]");
		process.exit(2);
	}
	const r = await runConformance({ url, token: arg("token") ?? process.env.RG_HUB_TOKEN,
		label: arg("label") ?? "hub", only: arg("only") });
	process.exit(r.failed ? 1 : 0);
}
