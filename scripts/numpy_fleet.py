#!/usr/bin/env python3
"""The fastest way an engineer who knows numpy simulates the pyotp-year question (issue 32).

The fleet of scripts/pyotp-year.toml and scripts/pyotp_fleet.py: hardware TOTP tokens whose
quartz clocks drift (normal, sd 10 ppm), about two logins a day at office hours (Poisson), a
lognormal 7 s delay between reading and submitting, 2% typos, two retries about 20 s later; the
validator: a ±1 window searched 0, -1, +1 around the learned drift, drift learned in steps on
every success, the time-forward rule (a step at or before the last accepted one is refused).

Vectorised *across tokens*: one array operation per login slot of a day for all tokens at
once, and steps compared instead of HMACs (a typo never matches; a chance match of a wrong
code, 1 in 10^6 per step compared, is left out). That is what makes it fast, and what the
tool's fast mode must beat by a wide margin (`scripts/ratios.py`).

Prints one JSON line: tokens, logins, attempts, accepted, seconds (simulation only) and
attempts_per_second. Not part of the product.
"""

import argparse
import json
import time

import numpy as np

STEP = 30
START = 1767225600  # 2026-01-01T00:00:00Z
HOURS = np.array([0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 2.0, 1.5, 1.2,
                  0.8, 1.3, 1.5, 1.3, 1.0, 0.6, 0.3, 0.2, 0.15, 0.15, 0.1, 0.05])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=30000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n = a.tokens
    t_begin = time.perf_counter()
    ppm = rng.normal(0.0, 10.0, n)
    drift = np.zeros(n, dtype=np.int64)          # learned drift, steps
    last = np.full(n, -1, dtype=np.int64)        # last accepted step (time-forward)
    hour_cdf = np.cumsum(HOURS / HOURS.sum())
    hour_cdf[-1] = 1.0
    logins = attempts = accepted = 0
    for day in range(a.days):
        per = rng.poisson(2.0, n)
        total = int(per.sum())
        if total == 0:
            continue
        # The day's logins, token by token in time order; `rank` is a login's slot.
        tok = np.repeat(np.arange(n), per)
        within = (np.searchsorted(hour_cdf, rng.random(total), side="right")
                  + rng.random(total)) * 3600.0
        # One sort key: the token, then the time within its day (tokens are already grouped).
        order = np.argsort(tok * 86400.0 + within)
        tok, when = tok[order], START + day * 86400 + within[order]
        rank = np.arange(total) - np.repeat(np.cumsum(per) - per, per)
        logins += total
        for slot in range(int(per.max())):
            sel = rank == slot
            who, read = tok[sel], when[sel]
            for _try in range(3):
                m = who.size
                if m == 0:
                    break
                attempts += m
                submit = read + rng.lognormal(np.log(7.0), 0.5, m)
                device = np.floor((read + ppm[who] * 1e-6 * (read - START)) / STEP).astype(np.int64)
                typo = rng.random(m) < 0.02
                server = np.floor(submit / STEP).astype(np.int64)
                ok = ~typo & (np.abs(device - server - drift[who]) <= 1) & (device > last[who])
                hit = who[ok]
                last[hit] = device[ok]
                drift[hit] = device[ok] - server[ok]
                accepted += int(ok.sum())
                miss = ~ok
                who, read = who[miss], submit[miss] + rng.lognormal(np.log(20.0), 0.5, int(miss.sum()))
    seconds = time.perf_counter() - t_begin
    print(json.dumps({
        "tokens": n, "logins": logins, "attempts": attempts, "accepted": accepted,
        "seconds": round(seconds, 3), "attempts_per_second": round(attempts / seconds),
    }))


if __name__ == "__main__":
    main()
