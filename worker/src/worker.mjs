// riftgate signaling hub on Cloudflare: a module Worker in front of one Durable Object per
// network. The DO runs the C hub core (src/hub, built to wasm32 by worker/build-wasm.sh) and
// owns the WebSockets through the Hibernation API, so idle peers cost nothing: when the DO is
// evicted, sockets stay open, and the next event runs the constructor again with a fresh wasm
// instance. Everything that must survive lives in each socket's attachment
// ({c: conn id, p: peerId, k: publicKey, a: address}); the constructor replays it into the hub
// with hubw_restore() before any event is handled. Wire protocol: DESIGN.md §Signaling.
// Binary frames are relay frames (docs/signaling.md §Relay): the same core routes them, so a
// peer that relays nothing costs nothing more; settings and costs in docs/worker.md §Relay.
// Signed membership (TRUST_ANCHOR, TRUST_NETWORK, REVOKED; docs/worker.md §Signed membership):
// the hub admits a join only with a valid, unrevoked certificate; signatures are checked here
// with WebCrypto Ed25519 before the frame reaches wasm, the rules run in wasm (src/trust).
import hubModule from "./hub.wasm";

const NETWORK_RE = /^[A-Za-z0-9._-]{1,64}$/;
const DEFAULT_NETWORK = "default";
const STAT_NAMES = ["conns", "peers", "opened", "joins", "relayed", "rejects", "replaced",
	"framesIn", "framesOut"];
const RELAY_STAT_NAMES = ["framesIn", "bytesIn", "framesOut", "bytesOut", "dropMalformed",
	"dropOversized", "dropUnjoined", "dropUnknownPeer", "dropNotAllowed", "dropSockRate",
	"dropNetRate", "dropFair", "dropReceiver", "dropSlow", "dropDaily", "dropDisabled", "kicked"];
// The daily relay budget's usage is written to storage by an alarm this long after relaying
// starts (and again while it goes on): the object hibernates only after ~10 s without events,
// so the alarm always finds the usage still in the wasm memory that hibernation drops.
const USAGE_PERSIST_MS = 5000;
// Revocation records kept in storage (the hub's table holds TRUST_REVOKED_MAX = 1024 serials).
const REVOKED_MAX = 1024;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const enc = new TextEncoder();
const dec = new TextDecoder();
// Constructor runs in this isolate (survives a DO eviction only if the isolate does).
let constructions = 0;

function text(status, body, headers = {}) {
	return new Response(body + "\n", { status, headers: { "content-type": "text/plain", ...headers } });
}

function json(status, obj) {
	return new Response(JSON.stringify(obj) + "\n", { status, headers: { "content-type": "application/json" } });
}

async function sha256(s) {
	return crypto.subtle.digest("SHA-256", enc.encode(s));
}

// Constant time in the secret: both sides are hashed to 32 bytes first, so neither the compare
// nor its length check depends on how much of the token matched. The scheme is
// case-insensitive (RFC 7235), as in riftgate-hub. An unset secret rejects everything.
async function authorized(request, secret) {
	if (typeof secret !== "string" || secret.length === 0)
		return false;
	const h = request.headers.get("authorization") ?? "";
	const bearer = h.slice(0, 7).toLowerCase() === "bearer ";
	const [got, want] = await Promise.all([sha256(bearer ? h.slice(7) : ""), sha256(secret)]);
	return crypto.subtle.timingSafeEqual(got, want) && bearer;
}

// "/connect/<network>", else ?network=, else "default" (as in riftgate-hub), on "/connect" and
// "/" only. null: not a hub path; "" (invalid, 400): a name that does not decode.
function networkOf(url) {
	const m = /^\/connect(?:\/([^/]*))?\/?$/.exec(url.pathname);
	if (!m && url.pathname !== "/")
		return null;
	if (m && m[1]) {
		try {
			return decodeURIComponent(m[1]);
		} catch {
			return "";
		}
	}
	return url.searchParams.get("network") ?? DEFAULT_NETWORK;
}

// Standard padded base64 -> bytes, or null (the wasm side re-checks what it relies on).
function unbase64(s) {
	if (typeof s !== "string" || s.length === 0 || s.length > 4096 || !B64_RE.test(s))
		return null;
	const bin = atob(s);
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++)
		out[i] = bin.charCodeAt(i);
	return out;
}

function hubStub(env, network) {
	return env.HUB.get(env.HUB.idFromName(network));
}

export default {
	async fetch(request, env) {
		const url = new URL(request.url);
		if (url.pathname === "/healthz")
			return json(200, { ok: true, service: "riftgate-hub", runtime: "cloudflare-worker" });
		const upgrade = (request.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
		const network = networkOf(url);
		const debug = env.RG_DEBUG === "1" && (url.pathname === "/stats" || url.pathname === "/debug/abort");
		if (network === null && !debug)
			return text(404, "not found");
		// Authenticate before touching a Durable Object: a rejected client never wakes one.
		if (!(await authorized(request, env.AUTH_TOKEN)))
			return text(401, "unauthorized", { "www-authenticate": "Bearer" });
		if (debug) {
			const net = url.searchParams.get("network") ?? DEFAULT_NETWORK;
			if (!NETWORK_RE.test(net))
				return text(400, "bad network name");
			try {
				return await hubStub(env, net).fetch(new Request(`https://do${url.pathname}`));
			} catch (e) {
				// ctx.abort() in the DO surfaces here as an exception: that is the point.
				return text(200, `aborted: ${e.message}`);
			}
		}
		if (!NETWORK_RE.test(network))
			return text(400, "bad network name (1-64 of A-Z a-z 0-9 . _ -)");
		if (!upgrade)
			return text(426, "expected a WebSocket upgrade", { upgrade: "websocket" });
		return hubStub(env, network).fetch(request);
	},
};

export class HubRoom {
	constructor(ctx, env) {
		this.ctx = ctx;
		this.env = env;
		this.instance = crypto.randomUUID();
		this.construction = ++constructions;
		this.socks = new Map();		// conn id -> WebSocket
		this.nextConn = 1;
		this.actions = [];		// queued by the wasm imports, applied by flush()
		const wasm = new WebAssembly.Instance(hubModule, {
			env: {
				send: (conn, ptr, len) => this.actions.push(["send", conn, this.str(ptr, len)]),
				close: (conn, code, ptr, len) => this.actions.push(["close", conn, code, this.str(ptr, len)]),
				joined: (conn, pp, pl, kp, kl, ap, al) =>
					this.actions.push(["joined", conn, this.str(pp, pl), this.str(kp, kl), this.str(ap, al)]),
				// a copy: the hub reuses its buffer for the next frame
				send_binary: (conn, ptr, len) =>
					this.actions.push(["bin", conn, new Uint8Array(this.x.memory.buffer, ptr, len).slice()]),
				// a relayed revoke frame's `revocations` array: learned after the frame
				revocations: (conn, ptr, len) => this.learned.push(this.str(ptr, len)),
			},
		});
		this.x = wasm.exports;
		this.learned = [];		// revocations arrays the hub relayed, checked by flushTrust()
		this.trustSetup(env);
		// A secret peerId hash seed per instance, before any event (hub_set_seed): ids chosen to
		// collide cannot degrade the hub's tables. A new instance after eviction gets a new one.
		this.x.hubw_seed(crypto.getRandomValues(new Uint32Array(1))[0] || 0x9e3779b9);
		this.relayConfig(env);
		this.alarmSet = false;
		if (this.dailyBytes > 0) {
			// before any event: the day's usage survives hibernation in storage
			ctx.blockConcurrencyWhile(async () => {
				const u = await ctx.storage.get("relayUsage");
				if (u && typeof u.day === "number" && typeof u.bytes === "number")
					this.x.hubw_relay_set_usage(u.day, u.bytes);
			});
		}
		this.restored = this.restore();
	}

	// Signed membership: TRUST_ANCHOR (base64 Ed25519 network key) and TRUST_NETWORK (the
	// network id in the certificates) switch it on; REVOKED (base64 records, whitespace
	// separated) and the revocations learned from relayed revoke frames (kept in storage) refuse
	// revoked serials. A half or wrong setting refuses every upgrade (fail closed).
	trustSetup(env) {
		this.trust = false;
		this.trustError = null;
		this.chain = Promise.resolve();
		this.keys = new Map();		// base64 key -> imported CryptoKey
		this.revokedRecords = [];
		const anchorText = env.TRUST_ANCHOR ?? "";
		if (anchorText === "")
			return;
		const anchor = unbase64(anchorText);
		const netText = env.TRUST_NETWORK ?? "";
		if (!anchor || anchor.length !== 32 || !NETWORK_RE.test(netText)) {
			this.trustError = "TRUST_ANCHOR must be a base64 Ed25519 public key and TRUST_NETWORK a network id";
			console.log(`hub: ${this.trustError}; refusing every connection`);
			return;
		}
		const net = enc.encode(netText);
		const b = new Uint8Array(this.x.memory.buffer, this.x.hubw_trust_buf(), 32 + net.length);
		b.set(anchor);
		b.set(net, 32);
		if (this.x.hubw_trust_config(net.length) !== 0) {
			this.trustError = "cannot configure signed membership";
			return;
		}
		this.trust = true;
		this.ctx.blockConcurrencyWhile(async () => {
			// ticket bindings and key rotations seen, before any join: one binding per ticket
			// must hold across evictions and restarts, and an old key stays refused
			for (const [which, name] of [[0, "bindings"], [1, "rotations"]]) {
				const t = await this.ctx.storage.get(name);
				if (t instanceof Uint8Array)
					this.tableLoad(which, t);
			}
			const stored = await this.ctx.storage.get("revoked");
			this.revokedRecords = Array.isArray(stored) ? stored : [];
			const fromEnv = (env.REVOKED ?? "").split(/\s+/).filter((r) => r !== "");
			for (const r of [...fromEnv, ...this.revokedRecords])
				await this.revocation(r, false);
		});
	}

	// Raw entries of a trust table (0 bindings, 1 rotations) <-> storage (Uint8Array).
	tableLoad(which, bytes) {
		const x = this.x;
		const size = x.hubw_trust_table_entry_size(which);
		const n = Math.floor(bytes.length / size);
		if (n * size !== bytes.length || x.hubw_trust_table_set_count(which, 0) !== 0)
			return;
		new Uint8Array(x.memory.buffer, x.hubw_trust_table(which), bytes.length).set(bytes);
		if (x.hubw_trust_table_set_count(which, n) !== 0)
			console.log(`hub: stored trust table ${which} too large; ignored`);
	}

	// Started synchronously (put() begins the write at once; the Durable Object's output gate
	// then holds every frame sent after it until the write is durable).
	tablesSave() {
		const x = this.x;
		if (!x.hubw_trust_tables_dirty())
			return;
		const entries = {};
		for (const [which, name] of [[0, "bindings"], [1, "rotations"]]) {
			const len = x.hubw_trust_table_count(which) * x.hubw_trust_table_entry_size(which);
			entries[name] = new Uint8Array(x.memory.buffer, x.hubw_trust_table(which), len).slice();
		}
		this.ctx.storage.put(entries).catch((e) => console.log(`hub: trust tables not saved: ${e}`));
	}

	async ed25519(pub, sig, msg) {
		const id = btoa(String.fromCharCode(...pub));
		let k = this.keys.get(id);
		try {
			if (!k) {
				k = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
				if (this.keys.size >= 64)
					this.keys.clear();
				this.keys.set(id, k);
			}
			return await crypto.subtle.verify({ name: "Ed25519" }, k, sig, msg);
		} catch {
			return false;
		}
	}

	// Passes 1 and 2 of the signature check (worker/wasm/glue.c): the record (type 1 cert, 3
	// revocation) goes into the hub's trust buffer, the hub names the signatures its rules need,
	// WebCrypto checks them and the good ones are marked. The hub then trusts only those bytes.
	// Type 4: a cert's bytes then its key rotation's, split at split.
	async verifySigs(type, bytes, split = 0) {
		const x = this.x;
		if (bytes.length > x.hubw_trust_buf_size())
			return false;
		new Uint8Array(x.memory.buffer, x.hubw_trust_buf(), bytes.length).set(bytes);
		const n = x.hubw_trust_probe(type, bytes.length, Date.now() / 1000, split);
		if (n < 0)
			return false;
		// copies: memory may grow while we wait
		const wanted = [];
		for (let i = 0; i < n; i++) {
			const p = x.hubw_trust_sig(i);
			const len = new DataView(x.memory.buffer).getUint32(p + 96, true);
			const m = new Uint8Array(x.memory.buffer);
			wanted.push([m.slice(p, p + 32), m.slice(p + 32, p + 96), m.slice(p + 104, p + 104 + len)]);
		}
		const good = await Promise.all(wanted.map(([pub, sig, msg]) => this.ed25519(pub, sig, msg)));
		good.forEach((ok, i) => ok && x.hubw_trust_sig_ok(i));
		return true;
	}

	// A revocation record (base64): true when it is new and verifies. persist: also kept in
	// storage (up to REVOKED_MAX records), so a hub woken from hibernation still refuses it.
	async revocation(b64, persist) {
		const bytes = unbase64(b64);
		if (!bytes || !(await this.verifySigs(3, bytes)))
			return false;
		const x = this.x;
		new Uint8Array(x.memory.buffer, x.hubw_trust_buf(), bytes.length).set(bytes);
		const rc = x.hubw_trust_revoke(bytes.length);
		x.hubw_trust_clear();
		if (rc !== 1)
			return false;
		console.log(`hub: learned a revocation (${x.hubw_trust_revoked()} revoked serials)`);
		if (persist && this.revokedRecords.length < REVOKED_MAX) {
			this.revokedRecords.push(b64);
			await this.ctx.storage.put("revoked", this.revokedRecords);
		}
		return true;
	}

	// The revocations arrays of the revoke frames the hub relayed during the last frame.
	async flushTrust() {
		const arrays = this.learned;
		this.learned = [];
		for (const text of arrays) {
			let list;
			try {
				list = JSON.parse(text);
			} catch {
				continue;
			}
			if (Array.isArray(list))
				for (const r of list.slice(0, 16))
					if (typeof r === "string")
						await this.revocation(r, true);
		}
	}

	// In a signed network every event runs in order through one chain: a join waits for
	// WebCrypto, and nothing from any socket may overtake it.
	async trusted(ws, message) {
		if (typeof message === "string" && message.includes("join")) {
			let f = null;
			try {
				f = JSON.parse(message);
			} catch {
				// the hub answers malformed JSON itself
			}
			const bytes = f && f.type === "join" ? unbase64(f.cert) : null;
			const rot = bytes && typeof f.rotation === "string" ? unbase64(f.rotation) : null;
			if (bytes && rot) {
				// a key rotation: the cert's signatures and the device key's over the rotation
				const both = new Uint8Array(bytes.length + rot.length);
				both.set(bytes);
				both.set(rot, bytes.length);
				await this.verifySigs(4, both, bytes.length);
			} else if (bytes) {
				await this.verifySigs(1, bytes);
			}
		}
		try {
			this.message(ws, message);
		} finally {
			this.x.hubw_trust_clear();
		}
		await this.flushTrust();
	}

	// Operator settings (wrangler vars): RELAY = "off" switches the relay off; RELAY_RATE,
	// RELAY_NETWORK_RATE and RELAY_RECEIVE_RATE in bytes/s, RELAY_RECEIVE_BURST in bytes;
	// RELAY_DAILY_MB caps relayed MiB per network per UTC day.
	relayConfig(env) {
		const num = (v) => (v === undefined || v === "" ? 0 : Number(v) || 0);
		this.dailyBytes = num(env.RELAY_DAILY_MB) * 1024 * 1024;
		this.x.hubw_relay_config(env.RELAY === "off" ? 0 : 1, num(env.RELAY_RATE),
			num(env.RELAY_NETWORK_RATE), this.dailyBytes, num(env.RELAY_RECEIVE_RATE),
			num(env.RELAY_RECEIVE_BURST));
	}

	// Called after every relay frame: one alarm at a time writes the usage (one row write and
	// one alarm request per 5 s of relaying; the frames themselves cost 1/20 request each).
	persistUsage() {
		if (this.dailyBytes <= 0 || this.alarmSet)
			return;
		this.alarmSet = true;
		this.ctx.storage.setAlarm(Date.now() + USAGE_PERSIST_MS);
	}

	async alarm() {
		this.alarmSet = false;
		if (this.dailyBytes > 0)
			await this.ctx.storage.put("relayUsage",
				{ day: this.x.hubw_relay_usage(0), bytes: this.x.hubw_relay_usage(1) });
	}

	str(ptr, len) {
		// A fresh view each time: memory.grow detaches old ones.
		return dec.decode(new Uint8Array(this.x.memory.buffer, ptr, len));
	}

	buf() {
		return new Uint8Array(this.x.memory.buffer, this.x.hubw_buf(), this.x.hubw_buf_size());
	}

	// Rebuilds the hub from the sockets the runtime kept across hibernation. Silent: the hub
	// sends nothing. Returns how many joined peers came back.
	restore() {
		let peers = 0, sockets = 0;
		for (const ws of this.ctx.getWebSockets()) {
			sockets++;
			if (this.adopt(ws))
				peers++;
		}
		if (sockets > 0)
			console.log(`hub ${this.instance.slice(0, 8)}: woke with ${sockets} sockets, ` +
				`restored ${peers} peers (construction ${this.construction})`);
		return peers;
	}

	// Registers a socket with the hub from its attachment. True if it came back as a joined peer.
	adopt(ws) {
		const a = ws.deserializeAttachment();
		if (!a || typeof a.c !== "number" || a.gone || this.socks.has(a.c))
			return false;
		this.socks.set(a.c, ws);
		this.nextConn = Math.max(this.nextConn, a.c + 1);
		if (typeof a.p !== "string") {
			this.x.hubw_open(a.c);
			return false;
		}
		const b = this.buf();
		let off = 0;
		const put = (s) => {
			const start = off;
			off += enc.encodeInto(s, b.subarray(off, b.length - 1)).written;
			b[off++] = 0;
			return start;
		};
		put(a.p);
		const k = put(a.k ?? "");
		const ad = put(a.a ?? "");
		const rc = this.x.hubw_restore(a.c, k, ad);
		if (rc !== 0) {
			// -3: the peerId is held by another socket (replaced while we were asleep).
			console.log(`hub: cannot restore conn ${a.c} (${rc}), closing it`);
			this.drop(ws, a.c, 4000, "replaced");
			return false;
		}
		return true;
	}

	// The hub's id for ws, or null for a socket we already dropped.
	conn(ws) {
		const a = ws.deserializeAttachment();
		if (!a || a.gone)
			return null;
		if (this.socks.get(a.c) === ws)
			return a.c;
		// Not seen at wake-up (e.g. a close the runtime delivers after the constructor ran),
		// and its id may have been handed out again since: register it under a fresh id.
		if (this.socks.has(a.c)) {
			a.c = this.nextConn++;
			ws.serializeAttachment(a);
		}
		this.adopt(ws);
		return this.socks.get(a.c) === ws ? a.c : null;
	}

	drop(ws, conn, code, reason) {
		ws.serializeAttachment({ c: conn, gone: true });
		this.socks.delete(conn);
		try {
			ws.close(code, reason);
		} catch {
			// already closing
		}
	}

	// Applies what the hub asked for, in order. A close we perform is reported back to the hub
	// right away (peer-left for the others); the runtime's later webSocketClose is then ignored.
	flush() {
		while (this.actions.length > 0) {
			const [kind, conn, a1, a2, a3] = this.actions.shift();
			const ws = this.socks.get(conn);
			if (!ws)
				continue;
			if (kind === "send" || kind === "bin") {
				try {
					ws.send(a1);
				} catch {
					// closing; its webSocketClose will follow
				}
			} else if (kind === "close") {
				if (a1 === 4003 || a1 === 4004)	// signed membership: one line per refusal
					console.log(`hub: refused conn ${conn}: ${a1} ${a2}`);
				this.drop(ws, conn, a1, a2);
				this.x.hubw_close(conn);
			} else if (kind === "joined") {
				ws.serializeAttachment({ c: conn, p: a1, k: a2, a: a3 });
			}
		}
	}

	// A client names its certificate serial (X-Riftgate-Serial, 16 hex digits); a revoked one is
	// refused before the WebSocket exists: no socket, no join frame, no wasm work beyond a lookup.
	// A client that does not say is refused at join as before.
	revokedAtUpgrade(serial) {
		if (!serial || !/^[0-9a-fA-F]{16}$/.test(serial))
			return false;
		if (this.x.hubw_trust_is_revoked(parseInt(serial.slice(0, 8), 16), parseInt(serial.slice(8), 16)) !== 1)
			return false;
		this.refusedUpgrades = (this.refusedUpgrades ?? 0) + 1;
		console.log(`hub: refused a revoked device at the upgrade (serial ${serial.toLowerCase()})`);
		return true;
	}

	stats() {
		const hub = {};
		STAT_NAMES.forEach((n, i) => { hub[n] = this.x.hubw_stat(i); });
		const relay = {};
		RELAY_STAT_NAMES.forEach((n, i) => { relay[n] = this.x.hubw_relay_stat(i); });
		return {
			instance: this.instance,
			construction: this.construction,
			restoredPeers: this.restored,
			sockets: this.ctx.getWebSockets().length,
			heapBytes: this.x.hubw_heap(),
			seeded: this.x.hubw_seeded() === 1,
			trust: this.trust ? { revoked: this.x.hubw_trust_revoked(),
				refusedUpgrades: this.refusedUpgrades ?? 0 } : null,
			hub,
			relay,
		};
	}

	async fetch(request) {
		const url = new URL(request.url);
		if (url.pathname === "/stats")
			return json(200, this.stats());
		if (url.pathname === "/debug/abort") {
			console.log(`hub ${this.instance.slice(0, 8)}: ctx.abort() (test crash)`);
			this.ctx.abort("riftgate test crash");
		}
		if (this.trustError)
			return text(500, "hub misconfigured: " + this.trustError);
		if (this.trust && this.revokedAtUpgrade(request.headers.get("x-riftgate-serial")))
			return text(403, "this device's certificate is revoked\n", { "x-riftgate-refused": "revoked" });
		const pair = new WebSocketPair();
		const [client, server] = Object.values(pair);
		this.ctx.acceptWebSocket(server);
		const conn = this.nextConn++;
		server.serializeAttachment({ c: conn });
		this.socks.set(conn, server);
		const rc = this.x.hubw_open(conn);
		if (rc !== 0)
			this.drop(server, conn, 1011, "hub out of memory");
		return new Response(null, { status: 101, webSocket: client });
	}

	webSocketMessage(ws, message) {
		if (!this.trust)
			return this.message(ws, message);
		const run = () => this.trusted(ws, message);
		this.chain = this.chain.then(run, run);
		return this.chain;
	}

	message(ws, message) {
		const conn = this.conn(ws);
		if (conn === null)
			return;
		const b = this.buf();
		let len;
		if (typeof message !== "string") {
			// a relay frame; one longer than the buffer is handed over at the buffer's size,
			// which is over the relay's limit: the hub counts it as oversized
			const bytes = new Uint8Array(message);
			len = Math.min(bytes.length, b.length);
			b.set(bytes.subarray(0, len));
			this.x.hubw_binary(conn, len, Date.now());
			this.flush();
			this.persistUsage();
			return;
		}
		const r = enc.encodeInto(message, b);
		// Truncated: hand the hub one byte over its limit, it closes with 1009.
		len = r.read < message.length ? b.length : r.written;
		this.x.hubw_text(conn, len, Date.now());
		// a new ticket binding or key rotation is written before the join goes out: the output
		// gate holds the frames until storage has it
		if (this.trust)
			this.tablesSave();
		this.flush();
	}

	webSocketClose(ws, code, reason) {
		if (!this.trust)
			return this.closed(ws);
		const run = () => this.closed(ws);
		this.chain = this.chain.then(run, run);
		return this.chain;
	}

	closed(ws) {
		const conn = this.conn(ws);
		if (conn !== null) {
			this.socks.delete(conn);
			ws.serializeAttachment({ c: conn, gone: true });
			this.x.hubw_close(conn);
			this.flush();
		}
		try {
			ws.close(1000, "bye");
		} catch {
			// already closed
		}
	}

	webSocketError(ws) {
		this.webSocketClose(ws, 1006, "error");
	}
}
