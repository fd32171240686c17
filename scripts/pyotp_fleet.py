#!/usr/bin/env python3
"""The way engineers simulate a token fleet today: a straightforward pyotp script.

The same fleet as scripts/pyotp-year.toml: hardware TOTP tokens whose quartz clocks drift
(normal, sd 10 ppm, about 5 minutes a year at 2 sd), about two logins a day at office hours
(Poisson), a 7 s delay between reading and submitting, 2% typos, two retries; the validator
is RFC 6238's recommendation as pyotp offers it, TOTP.verify(valid_window=1) written as one
scan of the three steps that also finds the matched step, with the two rules a real deployment
adds around it: drift learned on every success (the accepted step's
offset is kept and the next check is centred there) and time-forward replay protection (a
step at or before the last accepted one is refused).

Prints one JSON line: tokens, logins, attempts, accepted, seconds (simulation only) and
attempts_per_second. Used by scripts/ratios.py; not part of the product.
"""

import argparse
import base64
import json
import math
import random
import time

import pyotp

STEP = 30
YEAR = 365 * 86400
HOURS = [0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 2.0, 1.5, 1.2,
         0.8, 1.3, 1.5, 1.3, 1.0, 0.6, 0.3, 0.2, 0.15, 0.15, 0.1, 0.05]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    start = 1767225600  # 2026-01-01
    logins = attempts = accepted = 0
    t_begin = time.perf_counter()
    for _ in range(a.tokens):
        secret = base64.b32encode(rng.randbytes(20)).decode()
        totp = pyotp.TOTP(secret)
        ppm = rng.gauss(0.0, 10.0)
        drift_steps = 0  # what the validator has learned
        last_step = -1  # time-forward
        day = 0
        while day < 365:
            n = poisson(rng, 2.0)
            times = sorted(start + day * 86400 + hour(rng) * 3600 + rng.random() * 3600
                           for _ in range(n))
            for t in times:
                logins += 1
                read = t  # the user reads the token, then submits a few seconds later
                for _try in range(3):
                    attempts += 1
                    submit = read + rng.lognormvariate(math.log(7.0), 0.5)
                    device = read + ppm * 1e-6 * (read - start)
                    code = totp.at(device)
                    if rng.random() < 0.02:
                        code = typo(rng, code)
                    # One scan of the window around the learned drift, centre first, finding
                    # the matched step (what TOTP.verify(valid_window=1) checks, without
                    # scanning twice).
                    centre = submit + drift_steps * STEP
                    step = None
                    for d in (0, -1, 1):
                        if totp.at(centre + d * STEP) == code:
                            step = int(centre // STEP) + d
                            break
                    if step is not None and step > last_step:
                        accepted += 1
                        last_step = step
                        drift_steps = step - int(submit // STEP)
                        break
                    read = submit + rng.lognormvariate(math.log(20.0), 0.5)
            day += 1
    seconds = time.perf_counter() - t_begin
    print(json.dumps({
        "tokens": a.tokens, "logins": logins, "attempts": attempts, "accepted": accepted,
        "seconds": round(seconds, 3), "attempts_per_second": round(attempts / seconds),
    }))


def poisson(rng, lam):
    k, p, l = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= l:
            return k
        k += 1


def hour(rng):
    u = rng.random() * sum(HOURS)
    for h, w in enumerate(HOURS):
        if u < w:
            return h
        u -= w
    return 23


def typo(rng, code):
    pos = rng.randrange(len(code))
    d = (int(code[pos]) + rng.randrange(1, 10)) % 10
    return code[:pos] + str(d) + code[pos + 1:]


if __name__ == "__main__":
    main()
