#!/usr/bin/env python3
"""The quickstart fleet the numpy way (issue 32): scenarios/quickstart.toml vectorised across tokens.

What an engineer who knows numpy would write to answer the quickstart's question in one file,
for `scripts/ratios.py` to time against `otpdrift run scenarios/quickstart.toml --mode fast`
(whole processes, one thread). The fleet and rules are the scenario's as resolved (the
manifest's `scenario`): 70% phone apps, 20% hardware tokens, 10% desktop apps, one year from
2026-01-01; per token a lognormal login rate (median 2 or 1.5 a day), weekday and hour weights,
a lognormal 7 s delay from reading to submitting, waiting for a fresh code when under 5 s are
left (60%), 2% typos, two retries about 20 s later; the validator: ±1 step searched 0, -1, +1
around the learned drift, drift learned in steps on every success, the time-forward rule, ten
failures in a row lock for an hour.

Clocks: the initial offset, constant drift, first-year aging (the logarithmic law), the
quadratic temperature term over daily and seasonal cycles (its closed-form integral), the
random-walk wander; phones on network time (a sync every 18 h fails 10% of the time and sets
an offset beyond 2 s back to a 50 ms residual; automatic time switched off 0.02 times a year,
back on after about 60 days); desktops set by hand twice a year and an hour off 0.2 times a
year (corrected after about 3 days). Hardware batteries: 15,000 presses or 5 years. A failed
login goes to the recovery ladder: a resync (two consecutive codes, ±20 steps) with the
population's probability, otherwise a helpdesk ticket, where a phone or desktop clock may be
fixed (to within 10 s) and a hardware token replaced; a dead token is replaced after about 5
days of shipping.

Vectorised across tokens: a day's logins grouped by token (one argsort), then one array
operation per login slot for all tokens at once; steps compared instead of HMACs. Events are
applied at the next login rather than at their own instant, and the ladder's steps take no
time of their own: the simplifications a vectorised script makes. Prints one JSON line
(tokens, logins, attempts, first-try rate, tickets, seconds, attempts per second). Not part of
the product.
"""

import argparse
import json
import time

import numpy as np

STEP = 30.0
YEAR = 365.25 * 86400.0
TAU = 30.0 * 86400.0
HOURS = np.array([0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 2.0, 1.5, 1.2,
                  0.8, 1.3, 1.5, 1.3, 1.0, 0.6, 0.3, 0.2, 0.15, 0.15, 0.1, 0.05])
WEEKDAYS = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.15, 0.1])
# Per population (phone, hardware, desktop): share, login median, offset sd (s), offset clip,
# drift sd and clip (ppm), aging sd (ppm), wander (ppm / sqrt day), mean temperature (°C),
# seasonal and daily amplitude, resync probability, fix-clock probability, replace probability.
POPS = [
    dict(share=0.7, rate=2.0, x_sd=0.2, x_clip=None, ppm=8, ppm_clip=30, aging=1.0, wander=0.05,
         temp=28, season=3, day=4, resync=0.3, fix=0.6, replace=0.0),
    dict(share=0.2, rate=1.5, x_sd=2.0, x_clip=30, ppm=4, ppm_clip=20, aging=1.5, wander=0.02,
         temp=18, season=8, day=4, resync=0.6, fix=0.0, replace=0.5),
    dict(share=0.1, rate=1.5, x_sd=20.0, x_clip=300, ppm=12, ppm_clip=50, aging=1.0, wander=0.05,
         temp=35, season=2, day=5, resync=0.3, fix=0.5, replace=0.0),
]


def lognormal(rng, median, sigma, n, lo, hi):
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


class Fleet:
    """Every token's clock and validator state as arrays."""

    def __init__(self, rng, n, start):
        self.rng, self.n, self.start = rng, n, start
        shares = np.array([p["share"] for p in POPS])
        bounds = np.round(np.cumsum(shares) * n).astype(int)
        self.pop = np.searchsorted(bounds, np.arange(n), side="right").clip(0, 2)
        col = lambda k: np.array([POPS[p][k] for p in self.pop], dtype=float)
        self.c = {k: col(k) for k in ["rate", "x_sd", "ppm", "ppm_clip", "aging", "wander", "temp",
                                      "season", "day", "resync", "fix", "replace"]}
        self.rate = lognormal(rng, self.c["rate"], 0.5, n, 0.0, 20.0)
        self.fresh(np.ones(n, dtype=bool), start)
        self.drift = np.zeros(n, dtype=np.int64)
        self.last = np.full(n, -1, dtype=np.int64)
        self.fails = np.zeros(n, dtype=np.int64)
        self.locked = np.full(n, -np.inf)
        self.auto = self.pop == 0
        self.auto_back = np.full(n, np.inf)
        self.revert = np.full(n, np.inf)
        self.revert_by = np.zeros(n)
        self.in_row = np.zeros(n, dtype=np.int64)
        self.tickets = self.incidents = 0

    def fresh(self, sel, at):
        """New clocks (and batteries) for the tokens `sel`, from `at`."""
        rng, m, c = self.rng, int(sel.sum()), self.c
        if not hasattr(self, "x"):
            for k in ["x", "t", "y0", "ag", "sig", "yw", "born", "k", "ph"]:
                setattr(self, k, np.zeros(self.n))
            self.presses = np.zeros(self.n)
        x = c["x_sd"][sel] * rng.standard_normal(m)
        clip = np.array([POPS[p]["x_clip"] or np.inf for p in self.pop[sel]])
        self.x[sel] = np.clip(x, -clip, clip)
        ppm = np.clip(c["ppm"][sel] * rng.standard_normal(m), -c["ppm_clip"][sel], c["ppm_clip"][sel])
        self.y0[sel] = ppm * 1e-6
        self.ag[sel] = np.clip(c["aging"][sel] * rng.standard_normal(m), -5, 5) * 1e-6 / np.log1p(YEAR / TAU)
        self.sig[sel] = c["wander"][sel] * 1e-6 / np.sqrt(86400.0)
        self.yw[sel] = 0.0
        self.born[sel] = at
        self.t[sel] = at
        self.k[sel] = np.clip(0.034 + 0.003 * rng.standard_normal(m), 0.03, 0.04)
        self.ph[sel] = (c["temp"][sel] + 3 * rng.standard_normal(m)) - np.clip(
            25 + 2 * rng.standard_normal(m), 20, 30)
        self.presses[sel] = 0.0
        if hasattr(self, "drift"):
            self.drift[sel], self.last[sel], self.fails[sel] = 0, -1, 0

    def aging(self, who, t):
        a = np.maximum(t - self.born[who], 0.0)
        l = np.log1p(a / TAU)
        return self.ag[who] * ((TAU + a) * l - a)

    def thermal(self, who, t):
        """The antiderivative of -k (T(t) - turnover)^2 ppm, T a seasonal and a daily cosine."""
        ws, wd = 2 * np.pi / YEAR, 2 * np.pi / 86400.0
        a, b, cc = self.c["season"][who], self.c["day"][who], self.ph[who]
        ts = ws * (t - 200 * 86400.0)
        td = wd * (t - 14 * 3600.0)
        f = ((cc * cc + a * a / 2 + b * b / 2) * t + 2 * cc * a * np.sin(ts) / ws
             + 2 * cc * b * np.sin(td) / wd + a * a / 2 * np.sin(2 * ts) / (2 * ws)
             + b * b / 2 * np.sin(2 * td) / (2 * wd) + a * b * np.sin(td - ts) / (wd - ws)
             + a * b * np.sin(ts + td) / (ws + wd))
        return -self.k[who] * 1e-6 * f

    def offset_at(self, who, t):
        """Moves the clocks of `who` to time `t` (events since their last reading applied)."""
        rng, m = self.rng, who.size
        t0 = self.t[who]
        dt = np.maximum(t - t0, 0.0)
        z1, z2 = rng.standard_normal(m), rng.standard_normal(m)
        sig = self.sig[who]
        x = (self.x[who] + (self.y0[who] + self.yw[who]) * dt
             + self.aging(who, t) - self.aging(who, t0) + self.thermal(who, t) - self.thermal(who, t0)
             + sig * dt * np.sqrt(dt) * (z1 / 2 + z2 / (2 * np.sqrt(3))))
        self.yw[who] += sig * np.sqrt(dt) * z1
        pop = self.pop[who]
        # Phones: syncs every 18 h while automatic time is on; automatic time switched off.
        phone = pop == 0
        back = self.auto_back[who] <= t
        self.auto[who[back]] = True
        self.auto_back[who[back]] = np.inf
        off = phone & self.auto[who] & (rng.random(m) < 1 - np.exp(-0.02 * dt / YEAR))
        self.auto[who[off]] = False
        self.auto_back[who[off]] = t[off] + lognormal(rng, 60 * 86400.0, 1.0, int(off.sum()), 0, np.inf)
        syncs = np.floor(dt / (18 * 3600.0))
        synced = phone & self.auto[who] & (syncs > 0) & (rng.random(m) > 0.1 ** np.maximum(syncs, 1))
        reset = synced & (np.abs(x) > 2.0)
        x[reset] = np.clip(0.05 * rng.standard_normal(int(reset.sum())), -1, 1)
        # Desktops: set by hand, an hour off now and then (put back after about 3 days).
        desk = pop == 2
        undo = desk & (self.revert[who] <= t)
        x[undo] -= self.revert_by[who[undo]]
        self.revert[who[undo]] = np.inf
        manual = desk & (rng.random(m) < 1 - np.exp(-2.0 * dt / YEAR))
        x[manual] = np.clip(30 * rng.standard_normal(int(manual.sum())), -300, 300)
        tz = desk & ~manual & (rng.random(m) < 1 - np.exp(-0.2 * dt / YEAR))
        h = np.where(rng.random(m) < 0.5, -3600.0, 3600.0)
        x[tz] += h[tz]
        self.revert[who[tz]] = t[tz] + lognormal(rng, 3 * 86400.0, 1.0, int(tz.sum()), 0, np.inf)
        self.revert_by[who[tz]] = h[tz]
        self.x[who], self.t[who] = x, np.maximum(t, t0)
        return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=3000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    start = 1767225600.0  # 2026-01-01T00:00:00Z
    t_begin = time.perf_counter()
    f = Fleet(rng, a.tokens, start)
    n = a.tokens
    hour_cdf = np.cumsum(HOURS / HOURS.sum())
    hour_cdf[-1] = 1.0
    wscale = 7.0 / WEEKDAYS.sum()
    dead_until = np.full(n, -np.inf)
    logins = attempts = first_ok = 0
    for day in range(a.days):
        weekday = (3 + day) % 7  # 2026-01-01 is a Thursday (Monday = 0)
        per = rng.poisson(f.rate * WEEKDAYS[weekday] * wscale)
        total = int(per.sum())
        if total == 0:
            continue
        tok = np.repeat(np.arange(n), per)
        within = (np.searchsorted(hour_cdf, rng.random(total), side="right") + rng.random(total)) * 3600.0
        order = np.argsort(tok * 86400.0 + within)
        tok, when = tok[order], start + day * 86400.0 + within[order]
        rank = np.arange(total) - np.repeat(np.cumsum(per) - per, per)
        logins += total
        for slot in range(int(per.max())):
            sel = rank == slot
            who, read = tok[sel], when[sel]
            # Without a working token the login fails at once (counted, no attempt).
            has = dead_until[who] <= read
            who, read = who[has], read[has]
            first = np.ones(who.size, dtype=bool)
            for _try in range(3):
                m = who.size
                if m == 0:
                    break
                attempts += m
                x = f.offset_at(who, read)
                dev = read + x
                left = STEP - np.mod(dev, STEP)
                wait = (left < 5.0) & (rng.random(m) < 0.6)
                read = read + np.where(wait, left, 0.0)
                dev = dev + np.where(wait, left, 0.0)
                step = np.floor(dev / STEP).astype(np.int64)
                # The hardware battery: presses and years.
                hw = f.pop[who] == 1
                f.presses[who[hw]] += 1
                alive = ~hw | (f.presses[who] / 15000.0 + (read - f.born[who]) / (5 * YEAR) < 1.0)
                typo = rng.random(m) < 0.02
                submit = read + lognormal(rng, 7.0, 0.5, m, 1.0, 90.0)
                server = np.floor(submit / STEP).astype(np.int64)
                locked = f.locked[who] > submit
                ok = (alive & ~locked & ~typo & (np.abs(step - server - f.drift[who]) <= 1)
                      & (step > f.last[who]))
                hit = who[ok]
                f.last[hit], f.drift[hit], f.fails[hit] = step[ok], step[ok] - server[ok], 0
                f.in_row[hit] = 0
                first_ok += int((ok & first).sum())
                bad = ~ok & ~locked & alive
                f.fails[who[bad]] += 1
                lock = bad & (f.fails[who] >= 10)
                f.locked[who[lock]] = submit[lock] + 3600.0
                f.fails[who[lock]] = 0
                # A dead token: replaced after shipping, on a new clock.
                died = ~alive
                dead_until[who[died]] = submit[died] + lognormal(rng, 5 * 86400.0, 0.4, int(died.sum()),
                                                                 86400.0, 30 * 86400.0)
                if died.any():
                    f.fresh(np.isin(np.arange(n), who[died]), start + (day + 5) * 86400.0)
                go = ~ok & ~died & ~locked
                last_try = _try == 2
                if last_try:
                    ladder(f, rng, who[go], submit[go], step[go], server[go])
                first = np.zeros(int(go.sum()), dtype=bool)
                who = who[go]
                read = submit[go] + lognormal(rng, 20.0, 0.5, int(go.sum()), 3.0, 300.0)
    seconds = time.perf_counter() - t_begin
    print(json.dumps({
        "tokens": n, "logins": logins, "attempts": attempts,
        "first_try": round(first_ok / max(logins, 1), 4), "incidents": f.incidents,
        "tickets": f.tickets,
        "seconds": round(seconds, 3), "attempts_per_second": round(attempts / seconds),
    }))


def ladder(f, rng, who, at, step, server):
    """A failed login's recovery: a resync; else, at the second failed login in a row, a ticket
    (a clock fixed, a token replaced)."""
    m = who.size
    if m == 0:
        return
    f.incidents += m
    tries = rng.random(m) < f.c["resync"][who]
    near = tries & (np.abs(step - server) <= 20)
    f.drift[who[near]] = step[near] - server[near]
    f.last[who[near]] = step[near] + 1
    f.in_row[who[near]] = 0
    f.in_row[who[~near]] += 1
    ticket = ~near & (f.in_row[who] >= 2)
    f.in_row[who[ticket]] = 0
    f.tickets += int(ticket.sum())
    fix = ticket & (rng.random(m) < f.c["fix"][who])
    f.x[who[fix]] = np.clip(10 * rng.standard_normal(int(fix.sum())), -120, 120)
    f.t[who[fix]] = at[fix]
    swap = ticket & (rng.random(m) < f.c["replace"][who])
    if swap.any():
        f.fresh(np.isin(np.arange(f.n), who[swap]), float(at[swap].max()))


if __name__ == "__main__":
    main()
