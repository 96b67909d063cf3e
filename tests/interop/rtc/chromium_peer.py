#!/usr/bin/python3
"""Headless Chromium side of the riftgate test-peer contract (tests/interop/PROTOCOL.md).

Serves a small page on 127.0.0.1 (a free port), starts Debian `chromium` headless on it, and
bridges the contract's JSON lines (stdin/stdout) to the page over HTTP: the page POSTs what it
says to /out and long-polls /in for what the other peer says. The page runs the contract's
logic in JavaScript. Chromium is killed on every exit path.

--no-candidates: no getUserMedia and WebRtcHideLocalIpsWithMdns disabled; Chromium's own
candidates are not sent, so the other peer learns its address only as a peer-reflexive one.
"""
import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

T0 = time.monotonic()
QUIET = bool(os.environ.get("RG_PEER_QUIET"))


def log(msg):
    if not QUIET:
        sys.stderr.write("chromium-peer[%6.3f] %s\n" % (time.monotonic() - T0, msg))
        sys.stderr.flush()


OUT_LOCK = threading.Lock()


def emit(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        sys.stdout.flush()


PAGE = r"""<!doctype html>
<html><head><meta charset="utf-8"><title>riftgate chromium peer</title></head>
<body><script>
"use strict";
const cfg = __CFG__;
const T0 = performance.now();
const ms = () => Math.round(performance.now() - T0);
let outChain = Promise.resolve();
function post(obj) {
  // Sequential so the other side sees the description before our candidates.
  outChain = outChain.then(() => fetch('/out', {method: 'POST', body: JSON.stringify(obj)})
    .catch(() => {}));
  return outChain;
}
// Candidates travel only as candidate lines (the relay may withhold them), never in the SDP.
function stripCandidates(sdp) {
  return sdp.split('\r\n').filter(l => !l.startsWith('a=candidate:') &&
                                      !l.startsWith('a=end-of-candidates')).join('\r\n');
}
function log(msg) { post({type: 'log', msg: '[' + ms() + ' ms] ' + msg}); }
let finished = false;
function finish(res) {
  if (finished) return;
  finished = true;
  post(res);
}
function fail(err) { finish({type: 'result', ok: false, error: String(err)}); }
window.onerror = (m) => fail('page error: ' + m);
window.onunhandledrejection = (e) => fail('unhandled rejection: ' + (e.reason && e.reason.message || e.reason));
setTimeout(() => fail('timeout after ' + cfg.timeout + ' s (page)'), cfg.timeout * 1000);

const enc = new TextEncoder(), dec = new TextDecoder();
const peerRole = cfg.role === 'offer' ? 'answer' : 'offer';
function payload(i) {
  const p = enc.encode(cfg.role + '-' + i);
  const b = new Uint8Array(Math.max(cfg.size, p.length)).fill(0x2e);
  b.set(p);
  return b;
}
function parseIndex(b) {
  const pre = peerRole + '-';
  const head = dec.decode(b.subarray(0, Math.min(b.length, pre.length + 12)));
  if (!head.startsWith(pre)) return -1;
  let j = pre.length;
  while (j < b.length && b[j] >= 0x30 && b[j] <= 0x39) j++;
  if (j === pre.length || b.length !== Math.max(cfg.size, j)) return -1;
  return parseInt(head.substring(pre.length, j), 10);
}

async function main() {
  if (cfg.gum) {
    // A granted capture permission makes Chromium gather and signal real host candidates.
    const s = await navigator.mediaDevices.getUserMedia({audio: true});
    s.getTracks().forEach(t => t.stop());
  }
  const pc = new RTCPeerConnection({iceServers: cfg.stun ? [{urls: cfg.stun}] : []});
  window.pc = pc;
  pc.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate) {
      log('local candidate ' + e.candidate.candidate);
      post({type: 'candidate', candidate: e.candidate.candidate,
            sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex});
    } else if (!e.candidate) {
      post({type: 'end-of-candidates'});
    }
  };
  pc.oniceconnectionstatechange = () => log('ICE ' + pc.iceConnectionState);
  pc.onconnectionstatechange = () => {
    log('connection ' + pc.connectionState);
    if (pc.connectionState === 'failed') fail('peer connection failed');
  };

  let opened = false;
  function setup(dc) {
    dc.binaryType = 'arraybuffer';
    const seen = new Set();
    let rxMsgs = 0, rxBytes = 0, first = 0, last = 0, closed = false;
    let allReceived;
    const allPromise = new Promise(r => { allReceived = r; });
    dc.onmessage = (e) => {
      const b = typeof e.data === 'string' ? enc.encode(e.data) : new Uint8Array(e.data);
      const now = performance.now();
      if (rxMsgs === 0) first = now;
      last = now;
      rxMsgs++;
      rxBytes += b.length;
      if (cfg.bench) return;
      const i = parseIndex(b);
      if (i < 0 || i >= cfg.count) {
        fail('unexpected message (' + b.length + ' bytes) starting ' +
             JSON.stringify(dec.decode(b.subarray(0, 24))));
        return;
      }
      if (seen.has(i)) { fail('duplicate message ' + i); return; }
      seen.add(i);
      if (seen.size === cfg.count) allReceived();
    };
    dc.onclose = () => { closed = true; };
    const onopen = async () => {
      if (opened) return;
      opened = true;
      const tOpen = ms();
      log('channel ' + JSON.stringify(dc.label) + ' open (id ' + dc.id + ', ordered ' + dc.ordered +
          ', maxRetransmits ' + dc.maxRetransmits + ') after ' + tOpen + ' ms');
      const sleep = (t) => new Promise(r => setTimeout(r, t));
      async function drain(limit) {
        const end = performance.now() + limit;
        while (dc.bufferedAmount > 0 && performance.now() < end) await sleep(10);
      }
      try {
        if (cfg.bench && cfg.role === 'offer') {
          const high = 8 << 20, low = 2 << 20;
          dc.bufferedAmountLowThreshold = low;
          const msg = payload(0);
          let n = 0, bytes = 0;
          const t0 = performance.now(), end = t0 + cfg.bench * 1000;
          while (performance.now() < end) {
            if (dc.bufferedAmount >= high) {
              await new Promise(r => { dc.onbufferedamountlow = r; setTimeout(r, 50); });
              continue;
            }
            for (let k = 0; k < 64; k++) { dc.send(msg); n++; bytes += msg.length; }
            if ((n & 1023) === 0) await sleep(0);
          }
          const secs = (performance.now() - t0) / 1000;
          await drain(5000);
          await sleep(300);
          dc.close();
          finish({type: 'result', ok: n > 0, role: cfg.role, sent: n, received: 0, ms_to_open: tOpen,
                  bench: {messages: n, bytes: bytes, seconds: secs}});
        } else if (cfg.bench) {
          const t0 = performance.now();
          for (;;) {
            await sleep(20);
            const now = performance.now();
            if (closed) break;
            if (rxMsgs === 0) { if (now - t0 >= (cfg.bench + 5) * 1000) break; continue; }
            if (now - last >= 1000 || now - first >= (cfg.bench + 5) * 1000) break;
          }
          finish({type: 'result', ok: rxMsgs > 0, role: cfg.role, sent: 0, received: rxMsgs,
                  ms_to_open: tOpen, error: rxMsgs > 0 ? undefined : 'nothing received',
                  bench: {messages: rxMsgs, bytes: rxBytes, seconds: rxMsgs ? (last - first) / 1000 : 0}});
        } else {
          let sent = 0;
          for (let i = 0; i < cfg.count; i++) { dc.send(payload(i)); sent++; }
          await allPromise;
          log('all received; bufferedAmount ' + dc.bufferedAmount);
          await drain(500);
          log('drained; bufferedAmount ' + dc.bufferedAmount);
          finish({type: 'result', ok: true, role: cfg.role, sent: sent, received: seen.size,
                  ms_to_open: tOpen, label: dc.label, ordered: dc.ordered});
        }
      } catch (e) { fail('exchange: ' + e); }
    };
    if (dc.readyState === 'open') onopen(); else dc.onopen = onopen;
  }

  if (cfg.role === 'offer') {
    const init = {ordered: !!cfg.ordered};
    if (cfg.maxRetransmits >= 0) init.maxRetransmits = cfg.maxRetransmits;
    setup(pc.createDataChannel(cfg.label, init));
    await pc.setLocalDescription(await pc.createOffer());
    post({type: 'offer', sdp: stripCandidates(pc.localDescription.sdp)});
  } else {
    pc.ondatachannel = (e) => { log('remote opened channel ' + JSON.stringify(e.channel.label)); setup(e.channel); };
  }

  let haveRemote = false, pending = [];
  async function addCand(m) {
    try {
      if (m.type === 'candidate') {
        await pc.addIceCandidate({candidate: m.candidate, sdpMid: m.sdpMid ?? '0',
                                  sdpMLineIndex: m.sdpMLineIndex ?? 0});
      } else {
        await pc.addIceCandidate({candidate: '', sdpMid: '0', sdpMLineIndex: 0});
      }
    } catch (e) { log('addIceCandidate(' + (m.candidate || 'end') + '): ' + e); }
  }
  let since = 0;
  while (!finished) {
    let msgs;
    try {
      const r = await fetch('/in?since=' + since);
      msgs = await r.json();
    } catch (e) { await new Promise(r => setTimeout(r, 100)); continue; }
    for (const m of msgs) {
      since++;
      if (m.type === 'offer' || m.type === 'answer') {
        await pc.setRemoteDescription({type: m.type, sdp: m.sdp});
        haveRemote = true;
        if (m.type === 'offer') {
          await pc.setLocalDescription(await pc.createAnswer());
          post({type: 'answer', sdp: stripCandidates(pc.localDescription.sdp)});
        }
        for (const c of pending) await addCand(c);
        pending = [];
      } else if (m.type === 'candidate' || m.type === 'end-of-candidates') {
        if (m.type === 'candidate') log('remote candidate ' + m.candidate);
        if (haveRemote) await addCand(m); else pending.push(m);
      }
    }
  }
}
main().catch(e => fail('main: ' + e));
</script></body></html>
"""


class State:
    def __init__(self):
        self.cond = threading.Condition()
        self.inbox = []        # messages from stdin, for the page
        self.result = None
        self.stdin_closed = False


def make_handler(st, page, no_candidates):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body, ctype="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urlparse(self.path)
            if u.path == "/":
                self.reply(200, page, "text/html; charset=utf-8")
            elif u.path == "/in":
                since = int(parse_qs(u.query).get("since", ["0"])[0])
                end = time.monotonic() + 10
                with st.cond:
                    while len(st.inbox) <= since and st.result is None and time.monotonic() < end:
                        st.cond.wait(max(0.0, end - time.monotonic()))
                    msgs = st.inbox[since:]
                self.reply(200, json.dumps(msgs))
            else:
                self.reply(404, "{}")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            self.reply(200, "{}")
            try:
                msg = json.loads(body)
                t = msg["type"]
            except (ValueError, KeyError, TypeError):
                log("bad POST body %.80r" % body)
                return
            if t == "log":
                log("page: %s" % msg.get("msg"))
            elif t == "result":
                with st.cond:
                    if st.result is None:
                        st.result = msg
                    st.cond.notify_all()
            elif t == "candidate" and no_candidates:
                log("not sending (--no-candidates): %s" % msg.get("candidate"))
            else:
                emit(msg)

    return H


def stdin_reader(st):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            log("ignoring non-JSON line %.60s" % line)
            continue
        with st.cond:
            st.inbox.append(msg)
            st.cond.notify_all()
    with st.cond:
        st.stdin_closed = True
        st.cond.notify_all()


def set_pdeathsig():
    # If this process dies without cleaning up, the kernel kills Chromium.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["offer", "answer"], required=True)
    ap.add_argument("--ice-addr", default="127.0.0.1",
                    help="accepted for the contract; Chromium picks its loopback address itself")
    ap.add_argument("--stun")
    ap.add_argument("--label", default="wireguard")
    ap.add_argument("--ordered", type=int, default=0)
    ap.add_argument("--max-retransmits", type=int, default=0)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--bench", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--no-candidates", action="store_true",
                    help="no getUserMedia, and Chromium's candidates are not sent (peer-reflexive variant)")
    ap.add_argument("--chromium", default=os.environ.get("RG_CHROMIUM", "chromium"))
    o = ap.parse_args()

    cfg = {"role": o.role, "label": o.label, "ordered": o.ordered, "maxRetransmits": o.max_retransmits,
           "count": o.count, "size": o.size, "bench": o.bench, "timeout": o.timeout,
           "stun": o.stun, "gum": not o.no_candidates}
    page = PAGE.replace("__CFG__", json.dumps(cfg))
    st = State()
    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # Chromium going away mid-request is expected at the end; anything else is logged.
            e = sys.exc_info()[1]
            if not isinstance(e, (ConnectionError, BrokenPipeError)):
                log("HTTP handler error: %r" % e)

    srv = Server(("127.0.0.1", 0), make_handler(st, page, o.no_candidates))
    srv.daemon_threads = True
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Thread(target=stdin_reader, args=(st,), daemon=True).start()

    tmp = tempfile.mkdtemp(prefix="rg-chromium-")
    chrome_log = os.path.join(tmp, "chromium.log")
    flags = ["--headless=new", "--no-sandbox", "--user-data-dir=" + os.path.join(tmp, "profile"),
             "--no-first-run", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-default-apps",
             "--disable-extensions", "--allow-loopback-in-peer-connection", "--mute-audio"]
    if o.no_candidates:
        flags.append("--disable-features=WebRtcHideLocalIpsWithMdns")
    else:
        flags += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    url = "http://127.0.0.1:%d/" % port
    proc = None
    res = None

    def kill_chromium():
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=3)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass

    def on_signal(signum, _f):
        kill_chromium()
        shutil.rmtree(tmp, ignore_errors=True)
        os._exit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    try:
        with open(chrome_log, "wb") as lf:
            proc = subprocess.Popen([o.chromium] + flags + [url], stdin=subprocess.DEVNULL,
                                    stdout=lf, stderr=lf, start_new_session=True,
                                    preexec_fn=set_pdeathsig)
        log("chromium pid %d on %s (%s)" % (proc.pid, url,
                                            "no candidates" if o.no_candidates else "getUserMedia"))
        # The page has its own timer; this one also covers a Chromium that never loads the page.
        deadline = T0 + o.timeout + 2
        with st.cond:
            while st.result is None and time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                st.cond.wait(0.2)
            res = st.result
        if res is None:
            if proc.poll() is not None:
                err = "chromium exited with %s before a result" % proc.returncode
            else:
                err = "timeout after %.1f s (no result from the page)" % o.timeout
            res = {"type": "result", "ok": False, "error": err}
        emit(res)
        if res.get("ok"):
            time.sleep(1.5 if not o.bench else 0.5)
        else:
            log("FAIL: %s" % res.get("error"))
            try:
                with open(chrome_log, "rb") as f:
                    tail = f.read()[-3000:].decode("utf-8", "replace")
                log("chromium log tail:\n" + tail)
            except OSError:
                pass
        return 0 if res.get("ok") else 1
    finally:
        kill_chromium()
        shutil.rmtree(tmp, ignore_errors=True)
        srv.shutdown()


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    os._exit(rc)
