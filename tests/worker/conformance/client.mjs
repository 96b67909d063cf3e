// Minimal signaling test client over the `ws` package (Node 20 has no WebSocket client).
// Every frame received is queued; tests wait for frames with a predicate and a timeout, so they
// poll the queue instead of sleeping (the machine is shared and loaded).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// `ws` lives in worker/node_modules (installed by `npm ci` from worker/package-lock.json).
const require = createRequire(path.join(here, "../../../worker/package.json"));
export const WebSocket = require("ws");

export class Peer {
	constructor(url, token, name, scheme = "Bearer") {
		this.url = url;
		this.token = token;
		this.name = name;
		this.scheme = scheme;
		this.frames = [];	// parsed JSON frames not yet consumed
		this.consumed = [];	// frames already taken by next(), oldest first
		this.seq = 0;
		this.raw = [];		// every text frame, in order
		this.bins = [];		// binary frames received, not yet consumed
		this.waiters = [];
		this.closed = null;	// {code, reason} once closed
	}

	// Resolves once the upgrade succeeded; rejects with err.status on an HTTP refusal.
	open(timeoutMs = 10000) {
		const headers = this.token === undefined ? {} : { Authorization: `${this.scheme} ${this.token}` };
		const ws = new WebSocket(this.url, { headers, handshakeTimeout: timeoutMs });
		this.ws = ws;
		ws.on("message", (data, isBinary) => {
			if (isBinary) {
				// relay frames (docs/signaling.md §Relay), in arrival order
				this.bins.push(Buffer.from(data));
				this.wake();
				return;
			}
			const text = data.toString("utf8");
			this.raw.push(text);
			let msg;
			try {
				msg = JSON.parse(text);
			} catch {
				msg = { type: "<unparsable>", text };
			}
			// Arrival order, for checks like "peer-left came before join"; not enumerable, so
			// it never shows up in comparisons of frame contents.
			Object.defineProperty(msg, "_seq", { value: ++this.seq, enumerable: false });
			this.frames.push(msg);
			this.wake();
		});
		ws.on("close", (code, reason) => {
			this.closed = { code, reason: reason.toString() };
			this.wake();
		});
		return new Promise((resolve, reject) => {
			ws.once("open", () => resolve(this));
			ws.once("unexpected-response", (_req, res) => {
				const err = new Error(`${this.name}: HTTP ${res.statusCode}`);
				err.status = res.statusCode;
				res.resume();
				ws.terminate();
				reject(err);
			});
			ws.once("error", (e) => reject(e));
		});
	}

	wake() {
		const w = this.waiters;
		this.waiters = [];
		for (const f of w)
			f();
	}

	send(obj) {
		this.ws.send(typeof obj === "string" ? obj : JSON.stringify(obj));
	}

	join(peerId, publicKey, extra = {}) {
		this.peerId = peerId;
		this.send({ type: "join", peerId, publicKey, ...extra });
	}

	// Takes the first queued frame matching pred, waiting up to timeoutMs for it.
	async next(pred, what, timeoutMs = 10000) {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const i = this.frames.findIndex(pred);
			if (i >= 0) {
				const m = this.frames.splice(i, 1)[0];
				this.consumed.push(m);
				return m;
			}
			const left = deadline - Date.now();
			if (left <= 0 || this.closed)
				throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms` +
					(this.closed ? ` (socket closed ${this.closed.code})` : "") +
					`; queued: ${JSON.stringify(this.frames).slice(0, 400)}`);
			await new Promise((resolve) => {
				const t = setTimeout(resolve, left);
				this.waiters.push(() => { clearTimeout(t); resolve(); });
			});
		}
	}

	// Takes the first binary frame, waiting up to timeoutMs.
	async nextBin(timeoutMs = 10000) {
		const deadline = Date.now() + timeoutMs;
		while (this.bins.length === 0) {
			const left = deadline - Date.now();
			if (left <= 0 || this.closed)
				throw new Error(`${this.name}: no binary frame within ${timeoutMs} ms`);
			await new Promise((resolve) => {
				const t = setTimeout(resolve, left);
				this.waiters.push(() => { clearTimeout(t); resolve(); });
			});
		}
		return this.bins.shift();
	}

	sendBin(bytes) {
		this.ws.send(bytes, { binary: true });
	}

	nextType(type, timeoutMs) {
		return this.next((m) => m.type === type, `"${type}" frame`, timeoutMs);
	}

	// Asserts that no frame matching pred arrives within ms (used after a barrier, see below).
	async none(pred, what, ms = 300) {
		await new Promise((r) => setTimeout(r, ms));
		const m = this.frames.find(pred);
		if (m)
			throw new Error(`${this.name}: unexpected ${what}: ${JSON.stringify(m)}`);
	}

	async waitClosed(timeoutMs = 10000) {
		const deadline = Date.now() + timeoutMs;
		while (!this.closed) {
			const left = deadline - Date.now();
			if (left <= 0)
				throw new Error(`${this.name}: socket not closed within ${timeoutMs} ms`);
			await new Promise((resolve) => {
				const t = setTimeout(resolve, left);
				this.waiters.push(() => { clearTimeout(t); resolve(); });
			});
		}
		return this.closed;
	}

	close() {
		if (this.ws && !this.closed)
			this.ws.close(1000, "bye");
	}

	terminate() {
		if (this.ws)
			this.ws.terminate();
	}
}
