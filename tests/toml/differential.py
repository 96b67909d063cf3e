#!/usr/bin/python3
"""Differential check: our decoder (toml2json) against Python's tomllib, an independent TOML 1.0
parser, on every file given. Both must accept or both reject; when both accept, the values must
be equal (dates compared to the microsecond, tomllib's precision). Known, allowed differences:
a leading UTF-8 BOM (we skip it, tomllib does not) and leap seconds (:60, which Python's datetime
cannot hold)."""
import datetime
import json
import math
import os
import re
import subprocess
import sys
import tomllib


def ours_to_py(v):
    if isinstance(v, list):
        return [ours_to_py(x) for x in v]
    if set(v) == {"type", "value"} and isinstance(v["value"], str):
        t, s = v["type"], v["value"]
        if t == "string":
            return s
        if t == "integer":
            return int(s)
        if t == "float":
            return float(s)
        if t == "bool":
            return s == "true"
        if t == "datetime" or t == "datetime-local":
            d, rest = s.split("T")
            frac = ""
            if "." in rest:
                hms, tail = rest.split(".", 1)
                digits = re.match(r"[0-9]*", tail).group(0)
                off = tail[len(digits):]
                frac = "." + (digits + "000000")[:6]
                rest = hms + frac + off
            return datetime.datetime.fromisoformat(d + "T" + rest.replace("Z", "+00:00"))
        if t == "date-local":
            return datetime.date.fromisoformat(s)
        if t == "time-local":
            if "." in s:
                hms, digits = s.split(".")
                s = hms + "." + (digits + "000000")[:6]
            return datetime.time.fromisoformat(s)
    return {k: ours_to_py(x) for k, x in v.items()}


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def main():
    decoder, files = sys.argv[1], []
    for arg in sys.argv[2:]:
        if os.path.isdir(arg):
            files += sorted(os.path.join(arg, f) for f in os.listdir(arg))
        else:
            files.append(arg)
    bad = checked = 0
    for path in files:
        data = open(path, "rb").read()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            want, want_ok = tomllib.loads(data.decode("utf-8")), True
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as e:
            want, want_ok = str(e), False
        run = subprocess.run([decoder], input=data, capture_output=True, timeout=60)
        if run.returncode not in (0, 1):
            print(f"FAIL {path}: decoder exit {run.returncode}: {run.stderr[:200]!r}")
            bad += 1
            continue
        got_ok = run.returncode == 0
        checked += 1
        if got_ok != want_ok:
            if got_ok and not want_ok and b":60" in data:
                continue
            print(f"FAIL {path}: ours {'accepts' if got_ok else 'rejects'} "
                  f"({run.stderr.decode(errors='replace').strip()}), tomllib "
                  f"{'accepts' if want_ok else 'rejects (' + want + ')'}")
            bad += 1
        elif got_ok:
            try:
                got = ours_to_py(json.loads(run.stdout))
            except ValueError:
                if b":60" in data:
                    continue
                raise
            if not same(got, want):
                print(f"FAIL {path}: values differ\n  ours:    {got!r:.300}\n  tomllib: {want!r:.300}")
                bad += 1
    print(f"differential: {checked - bad}/{checked} inputs agree with tomllib")
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
