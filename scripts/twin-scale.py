#!/usr/bin/env python3
"""Writes an offsets log of N hardware credentials for the twin's scale figure (docs/twin.md).

    python3 scripts/twin-scale.py 100000 > /tmp/fleet.csv
    otpdrift analyze /tmp/fleet.csv --out /tmp/fleet-analysis
    /usr/bin/time -v otpdrift run scenarios/twin-lab.toml --fleet /tmp/fleet-analysis \
        --set run.horizon=1y --mode fast --out /tmp/fleet-twin

Each credential: an offset at enrolment (normal, sd 8 s) and a drift (normal, sd 1.5 ppm),
observed twice a month over 2026 as a validator that stores measured offsets would log them
(a reading within half a second). Deterministic (seeded).
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
rng = random.Random(7)
start = 1767225600  # 2026-01-01T00:00:00Z
out = sys.stdout
out.write("credential,time,offset_s\n")
for i in range(n):
    x0 = rng.gauss(0, 8)
    ppm = rng.gauss(0, 1.5)
    for k in range(24):
        t = start + k * 15 * 86400 + rng.randrange(8 * 3600, 18 * 3600)
        x = x0 + ppm * 1e-6 * (t - start) + rng.uniform(-0.5, 0.5)
        out.write(f"HW{i:07d},{t},{x:.3f}\n")
