#!/usr/bin/env python3
"""Turns the terminal QR code of `riftgate invite --qr` (stdin) back into an image: each text
line is two module rows of half blocks (drawn = light). Writes a binary PGM, 6 pixels per
module, for zbarimg. Lines of other text (the token) are skipped."""
import sys

CELLS = {" ": (0, 0), "\u2584": (0, 1), "\u2580": (1, 0), "\u2588": (1, 1)}  # (top, bottom) light
rows = []
for line in sys.stdin.read().splitlines():
    if not line or any(ch not in CELLS for ch in line):
        continue
    rows.append([CELLS[ch][0] for ch in line])
    rows.append([CELLS[ch][1] for ch in line])
if not rows:
    sys.exit("no QR code in the input")
scale, margin = 6, 8
w = max(len(r) for r in rows)
pix = bytearray()
blank = bytes([255]) * ((w + 2 * margin) * scale)
for _ in range(margin * scale):
    pix += blank
for r in rows:
    line = bytearray([255]) * (margin * scale)
    for light in r + [1] * (w - len(r)):
        line += bytes([255 if light else 0]) * scale
    line += bytes([255]) * (margin * scale)
    for _ in range(scale):
        pix += line
for _ in range(margin * scale):
    pix += blank
with open(sys.argv[1], "wb") as f:
    f.write(b"P5 %d %d 255\n" % ((w + 2 * margin) * scale, (len(rows) + 2 * margin) * scale))
    f.write(pix)
