#!/usr/bin/env python3
"""Scrapes the agent's metrics (URL), parses them with prometheus_client's text parser and
compares them with `wg show IFNAME` (run before and after the scrape, so counters must lie
between). Usage: check-metrics.py URL IFNAME PEER_ID PEER_PUBKEY. Prints ok:/FAIL: lines."""
import subprocess
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

url, ifname, peer, pubkey = sys.argv[1:5]
fails = 0


def check(what, cond):
    global fails
    print(("ok: " if cond else "FAIL: ") + what)
    fails += 0 if cond else 1


def wg(what):
    out = subprocess.run(["wg", "show", ifname, what], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if f[0] == pubkey:
            return [int(x) for x in f[1:]]
    raise SystemExit(f"peer {pubkey} not in wg show {ifname} {what}: {out.stdout!r}")


before = wg("transfer")
with urllib.request.urlopen(url, timeout=5) as r:
    ctype = r.headers.get("Content-Type", "")
    text = r.read().decode()
after = wg("transfer")
hs = wg("latest-handshakes")[0]
check(f"content type is the text format ({ctype})", ctype.startswith("text/plain; version=0.0.4"))
fams = {f.name: f for f in text_string_to_metric_families(text)}
check("parsed by prometheus_client", len(fams) >= 10)


def sample(name, **labels):
    for f in fams.values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s
    return None


lab = {"interface": ifname, "peer": peer}
for f in fams.values():
    if f.type == "counter":
        check(f"counter {f.name}: samples end in _total",
              all(s.name.endswith("_total") for s in f.samples))
for name in fams:
    check(f"{name}: riftgate_ prefix, no unit-less time (ms)", name.startswith("riftgate_") and "_ms" not in name)
rx = sample("riftgate_peer_receive_bytes_total", **lab)
tx = sample("riftgate_peer_transmit_bytes_total", **lab)
check(f"rx bytes between wg show's before/after ({before[0]} <= {rx and rx.value} <= {after[0]})",
      rx is not None and before[0] <= rx.value <= after[0])
check(f"tx bytes between wg show's before/after ({before[1]} <= {tx and tx.value} <= {after[1]})",
      tx is not None and before[1] <= tx.value <= after[1])
check("some traffic counted", rx is not None and rx.value > 0 and tx.value > 0)
h = sample("riftgate_peer_last_handshake_timestamp_seconds", **lab)
check(f"last handshake = wg show latest-handshakes ({h and h.value} vs {hs})", h is not None and h.value == hs)
age = sample("riftgate_peer_handshake_age_seconds", **lab)
check(f"handshake age matches ({age and age.value})",
      age is not None and abs(age.value - (time.time() - hs)) <= 3)
info = sample("riftgate_peer_info", **lab)
# via: direct normally (or the data channel while the direct path is probed); the agent may
# briefly use the hub relay when the ICE path seems silent
check(f"info: state up, path host, via direct, data channel or relay ({info and info.labels})",
      info is not None and info.labels.get("state") == "up" and info.labels.get("path") == "host"
      and info.labels.get("via") in ("direct", "data channel", "relay"))
hr = sample("riftgate_peer_hub_relay", **lab)
check("hub relay gauge agrees with via", hr is not None and info is not None
      and hr.value == (1 if info.labels.get("via") == "relay" else 0))
up = sample("riftgate_peer_up", **lab)
check("peer up = 1", up is not None and up.value == 1)
rel = sample("riftgate_peer_relayed", **lab)
check("not relayed", rel is not None and rel.value == 0)
rs = sample("riftgate_hub_relay_datagrams_total", interface=ifname, direction="sent")
check(f"hub relay datagram counter ({rs and rs.value})", rs is not None and rs.value >= 0)
rtt = sample("riftgate_peer_rtt_seconds", **lab)
check(f"rtt in seconds ({rtt and rtt.value})", rtt is not None and 0 <= rtt.value < 1)
rs = sample("riftgate_peer_ice_restarts_total", **lab)
check("ice restarts 0", rs is not None and rs.value == 0)
bi = sample("riftgate_build_info", interface=ifname)
check(f"build_info with a version ({bi and bi.labels})", bi is not None and bi.value == 1 and bi.labels.get("version", "") != "")
hub = sample("riftgate_hub_connected", interface=ifname)
check("hub connected = 1", hub is not None and hub.value == 1)
for r in ("answered", "forwarded", "failed", "refused", "malformed"):
    dq = sample("riftgate_dns_queries_total", interface=ifname, result=r)
    check(f"dns queries counter, result {r} ({dq and dq.value})", dq is not None and dq.value >= 0)
reg = sample("riftgate_dns_resolved_registered", interface=ifname)
check("resolved registration gauge 0 (no resolved in the lab)", reg is not None and reg.value == 0)
sys.exit(1 if fails else 0)
