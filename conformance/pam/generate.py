#!/usr/bin/env python3
"""Golden attempt logs from the real google-authenticator-libpam and pam_oath modules.

For each implementation this script

1. builds a seeded, deterministic attempt log (credentials with random Base32 secrets,
   device clocks with offsets, fast drift and jumps, a server clock moving forward), and
2. decides every attempt with the REAL PAM module: one `pamtester` process per attempt,
   under libfaketime at the attempt's server time, the code fed on stdin; the secret /
   users files persist between attempts (they are the validator state) and an `enrol`
   row rewrites the credential's file fresh.

It writes tests/golden/<implementation>/{secrets.csv,attempts.csv,system.md}
(formats: docs/replay.md).  The attempt log depends only on --seed and --attempts; the
`expected` column is what the module decided.

Needs root (it writes /etc/pam.d/otpdrift-<name>, removed afterwards) and the Debian
packages libpam-google-authenticator libpam-oath oathtool pamtester faketime.
See conformance/pam/README.md.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import collections
import csv
import datetime as dt
import hashlib
import hmac
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

STEP = 30
T_START = 1767225600  # 2026-01-01T00:00:00Z
N_CREDENTIALS = 30
N_FAR = 5  # credentials whose device clock is far off (±10 min to ±12 h)
GA_WINDOW = 3  # WINDOW_SIZE default (pam_google_authenticator.c window_size())
GA_SKEW_RANGE = 1500  # skew search i = 0..1499 (check_timebased_code: i < 25*60)
OATH_WINDOW = 5

PACKAGES = [
    "libpam-google-authenticator",
    "libpam-oath",
    "liboath0",
    "oathtool",
    "pamtester",
    "faketime",
    "libfaketime",
    "libpam0g",
]

IMPLEMENTATIONS = {
    "google-authenticator-libpam": {"kind": "ga", "reuse": False, "prefix": "ga"},
    "google-authenticator-libpam-reuse": {"kind": "ga", "reuse": True, "prefix": "gr"},
    "pam-oath": {"kind": "oath", "window": OATH_WINDOW, "prefix": "po"},
}


# --------------------------------------------------------------------------- codes


def hotp_int(key: bytes, counter: int, digits: int = 6) -> int:
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    v = struct.unpack(">I", mac[off : off + 4])[0] & 0x7FFFFFFF
    return v % (10**digits)


def hotp(key: bytes, counter: int, digits: int = 6) -> str:
    return str(hotp_int(key, counter, digits)).zfill(digits)


def rfc3339(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def faketime_spec(t: int) -> str:
    return "@" + dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# --------------------------------------------------------------------------- models
# Python models of the two modules, used only to shape the log (a user retries after a
# rejection, edge codes are placed around the window centre the module should hold) and
# to report agreement.  The golden `expected` column always comes from the real module.


class GAModel:
    """pam_google_authenticator 1.08 (Debian 20191231-2), TOTP, default options."""

    def __init__(self, key: bytes, reuse: bool):
        self.key = key
        self.reuse = reuse
        self.reset()

    def reset(self):
        self.time_skew = None  # " TIME_SKEW (steps)
        self.resetting = []  # " RESETTING_TIME_SKEW: [(tm, skew)]
        self.disallow = [] if self.reuse else None  # " DISALLOW_REUSE steps

    def centre(self, now: int) -> int:
        return now // STEP + (self.time_skew or 0)

    def state(self):
        return (self.time_skew or 0, tuple(self.resetting), None if self.disallow is None else tuple(self.disallow))

    def verify(self, now: int, typed: str):
        # mode 2 takes the last 6 characters and refuses any prefix (no forward_pass);
        # mode 3 needs 8 characters (scratch code); there are no scratch codes.
        if len(typed) != 6 or not typed.isdigit():
            return False, "malformed"
        code = int(typed)
        tm = now // STEP
        skew = self.time_skew or 0
        for i in range(-((GA_WINDOW - 1) // 2), GA_WINDOW // 2 + 1):
            if hotp_int(self.key, tm + skew + i) == code:
                return self._invalidate(tm + skew + i)
        found = None
        for i in range(GA_SKEW_RANGE):
            if hotp_int(self.key, tm - i) == code:
                found = -i
                break
            if hotp_int(self.key, tm + i) == code:
                found = i
                break
        if found is None:
            return False, "no_match"
        return self._check_time_skew(found, tm)

    def _invalidate(self, step: int):
        if not self.reuse:
            return True, "ok"
        kept = []
        for b in self.disallow:
            if b == step:
                return False, "reuse"
            if abs(b - step) < GA_WINDOW:
                kept.append(b)
        kept.append(step)
        self.disallow = kept
        return True, "ok"

    def _check_time_skew(self, skew: int, tm: int):
        ent = list(self.resetting)
        if ent and tm + skew == ent[-1][0] + ent[-1][1]:
            return False, "skew_same_code"
        ent.append((tm, skew))
        ent = ent[-3:]
        learned = False
        if len(ent) == 3:
            last_tm, last_skew = ent[0]
            avg = last_skew
            ok = True
            for k in (1, 2):
                if ent[k][0] <= last_tm or ent[k][0] > last_tm + 2 or abs(last_skew - skew) > 1:
                    ok = False
                    break
                last_tm, last_skew = ent[k]
                avg += last_skew
            if ok:
                self.time_skew = c_div(avg, 3)
                learned = True
        self.resetting = [] if learned else ent
        return (True, "skew_learned") if learned else (False, "skew_pending")


class OathModel:
    """liboath 2.6.7 usersfile TOTP (HOTP/T30/6) through pam_oath, window=w."""

    def __init__(self, key: bytes, window: int):
        self.key = key
        self.window = window
        self.reset()

    def reset(self):
        self.prev = None

    def centre(self, now: int) -> int:
        return now // STEP

    def state(self):
        return self.prev

    def locate(self, otp: str, now: int):
        d = len(otp)
        nts = now // STEP
        for it in range(self.window + 1):
            if hotp(self.key, nts + it, d) == otp:
                return it
            if it > 0 and hotp(self.key, nts - it, d) == otp:
                return -it
        return None

    def verify(self, now: int, typed: str):
        if not (6 <= len(typed) <= 8) or not typed.isdigit():
            return False, "malformed"
        if self.prev is not None and self.prev == typed:
            return False, "replay_same_string"
        pos = self.locate(typed, now)
        if pos is None:
            return False, "no_match"
        if self.prev is not None:
            pp = self.locate(self.prev, now)
            if pp is not None and pp >= pos:
                return False, "replay_position"
        self.prev = typed
        return True, "ok"


# --------------------------------------------------------------------------- device clocks


class Device:
    """A device clock: base offset, fast drift, and occasional corrections/jumps.

    offset(t) is a pure function of t (events are generated lazily from the credential's
    own RNG), so queries in any order give the same answer."""

    def __init__(self, rng: random.Random, far: bool):
        self.rng = rng
        if far:
            self.base = rng.choice((-1, 1)) * rng.uniform(600, 43200)
        else:
            self.base = max(-120.0, min(120.0, rng.gauss(0, 20)))
        self.ppm = rng.choice((-1, 1)) * 500 * 10 ** rng.uniform(0, 1)  # 500..5000, log-uniform
        self.mean_event = rng.uniform(1, 8) * 3600
        t0 = T_START - 30 * 86400
        self.ev_t = [t0]
        self.ev_off = [self.base]
        self.ev_kind = ["start"]

    def _extend(self, t: float):
        while self.ev_t[-1] <= t:
            last_t = self.ev_t[-1]
            te = int(last_t + self.rng.expovariate(1.0 / self.mean_event)) + 1
            cur = self.ev_off[-1] + self.ppm * 1e-6 * (te - last_t)
            r = self.rng.random()
            if r < 0.85:
                new, kind = self.base + self.rng.gauss(0, 2), "correction"
            elif r < 0.97:
                new, kind = cur + self.rng.choice((-1, 1)) * self.rng.uniform(30, 600), "jump"
            else:
                new, kind = cur + self.rng.choice((-1, 1)) * 3600, "jump-1h"
            self.ev_t.append(te)
            self.ev_off.append(new)
            self.ev_kind.append(kind)

    def offset(self, t: float) -> float:
        self._extend(t)
        i = bisect.bisect_right(self.ev_t, t) - 1
        return self.ev_off[i] + self.ppm * 1e-6 * (t - self.ev_t[i])


class Cred:
    def __init__(self, cid: str, key: bytes, far: bool, dev_rng: random.Random, model):
        self.id = cid
        self.key = key
        self.b32 = base64.b32encode(key).decode().rstrip("=")
        self.hex = key.hex()
        self.far = far
        self.device = Device(dev_rng, far)
        self.model = model
        self.enrolled = False
        self.last_end = -1
        self.last_code = None


# --------------------------------------------------------------------------- the log


class LogBuilder:
    def __init__(self, name: str, cfg: dict, seed: int, n_attempts: int):
        self.name = name
        self.cfg = cfg
        self.seed = seed
        self.n = n_attempts
        self.rng = random.Random(f"otpdrift-pam:{name}:{seed}")
        self.rows = []
        self.creds = []
        rng = self.rng
        far_idx = set(rng.sample(range(N_CREDENTIALS), N_FAR))
        for i in range(N_CREDENTIALS):
            key = bytes(rng.randrange(256) for _ in range(rng.choice((20, 20, 20, 10))))
            cid = f"{cfg['prefix']}{i + 1:02d}"
            if cfg["kind"] == "ga":
                model = GAModel(key, cfg["reuse"])
            else:
                model = OathModel(key, cfg["window"])
            dev_rng = random.Random(f"otpdrift-pam:{name}:{seed}:{cid}:device")
            self.creds.append(Cred(cid, key, i in far_idx, dev_rng, model))
        self.weights = [rng.lognormvariate(0, 0.6) for _ in self.creds]

    # -- attempts

    def _row(self, c: Cred, t: int, action: str, code: str, note: str):
        if action == "enrol":
            c.model.reset()
            pred, why = True, "enrolled"
        else:
            pred, why = c.model.verify(t, code)
            c.last_code = code
        self.rows.append(
            {
                "seq": len(self.rows),
                "t": t,
                "cred": c,
                "action": action,
                "code": code,
                "note": note,
                "pred": pred,
                "why": why,
                "mstate": c.model.state(),
            }
        )
        c.last_end = max(c.last_end, t)
        return pred

    def device_code(self, c: Cred, t: int, delay: int):
        tr = t - delay
        off = c.device.offset(tr)
        step = int((tr + off) // STEP)
        return hotp(c.key, step), step - t // STEP, off

    def correct(self, c: Cred, t: int, label: str = "correct"):
        delay = self.rng.randint(2, 15)
        code, k, off = self.device_code(c, t, delay)
        return self._row(c, t, "verify", code, f"{label}; k={k:+d}; dev={off:+.1f}s"), code, k

    def synthetic(self, c: Cred, t: int, k: int, label: str, digits: int = 6):
        code = hotp(c.key, t // STEP + k, digits)
        return self._row(c, t, "verify", code, f"{label}; k={k:+d}"), code

    # -- sessions (one credential; attempts a few seconds apart)

    def s_login(self, c: Cred, t: int, max_tries: int = 0):
        # up to 5 tries where retrying can help (libpam learns a skew), 3 for pam_oath
        max_tries = max_tries or (5 if self.cfg["kind"] == "ga" else 3)
        for n in range(max_tries):
            ok, _, _ = self.correct(c, t, "correct" if n == 0 else "correct/retry")
            if ok or self.rng.random() > 0.85:
                return t
            t += self.rng.randint(3, 40)
        return t

    def s_typo(self, c: Cred, t: int):
        rng = self.rng
        code, k, off = self.device_code(c, t, rng.randint(2, 15))
        r = rng.random()
        d = list(code)
        if r < 0.45:
            i = rng.randrange(6)
            d[i] = rng.choice([x for x in "0123456789" if x != d[i]])
            typed, var = "".join(d), "digit"
        elif r < 0.65:
            i = rng.randrange(5)
            d[i], d[i + 1] = d[i + 1], d[i]
            typed, var = "".join(d), "swap"
            if typed == code:
                i = rng.randrange(6)
                d[i] = rng.choice([x for x in "0123456789" if x != d[i]])
                typed, var = "".join(d), "digit"
        elif r < 0.90:
            typed, var = "".join(rng.choice("0123456789") for _ in range(6)), "random"
        elif r < 0.95:
            i = rng.randrange(6)
            typed, var = code[:i] + code[i + 1 :], "short"
        else:
            i = rng.randrange(7)
            typed, var = code[:i] + rng.choice("0123456789") + code[i:], "long"
        ok = self._row(c, t, "verify", typed, f"typo/{var}; k={k:+d}; dev={off:+.1f}s")
        if not ok and rng.random() < 0.8:
            t = self.s_login(c, t + rng.randint(5, 25), max_tries=3)
        return t

    def s_replay(self, c: Cred, t: int):
        rng = self.rng
        var = rng.choices(["same-step", "soon", "late", "prev-session", "older"], [30, 25, 15, 15, 15])[0]
        if var == "prev-session" and c.last_code is not None:
            self._row(c, t, "verify", c.last_code, "replay/prev-session; k=?")
            return t
        if var == "prev-session":
            var = "same-step"
        ok, code, k = self.correct(c, t)
        if var == "older":
            # the step just before the one of the code just typed (an older, unused code)
            t2 = t + rng.randint(1, 10)
            self.synthetic(c, t2, t // STEP + k - 1 - t2 // STEP, "replay/older-step")
            return t2
        gap = {"same-step": (1, 12), "soon": (25, 95), "late": (180, 1800)}[var]
        t2 = t + rng.randint(*gap)
        self._row(c, t2, "verify", code, f"replay/{var}; dt={t2 - t}s")
        if rng.random() < 0.3:  # and once more
            t3 = t2 + rng.randint(1, 40)
            self._row(c, t3, "verify", code, f"replay/{var}-again; dt={t3 - t}s")
            t2 = t3
        return t2

    def _edge_offsets(self):
        if self.cfg["kind"] == "ga":
            lo, hi = -((GA_WINDOW - 1) // 2), GA_WINDOW // 2
        else:
            lo, hi = -self.cfg["window"], self.cfg["window"]
        return [("at", lo), ("at", hi), ("beyond", lo - 1), ("beyond", hi + 1)]

    def s_edge(self, c: Cred, t: int):
        rng = self.rng
        where = rng.choice(("start", "end", "mid"))
        sec = {"start": 0, "end": STEP - 1, "mid": rng.randint(1, STEP - 2)}[where]
        t0 = t
        t = t - t % STEP + sec
        if t < t0:
            t += STEP
        for n in range(rng.choice((1, 1, 1, 2, 3))):
            if n:
                t += rng.randint(0, 4)
            rel_name, rel = rng.choice(self._edge_offsets())
            centre = c.model.centre(t) - t // STEP
            k = centre + rel
            self.synthetic(c, t, k, f"edge/{rel_name}{rel:+d}; centre={centre:+d}; {where}-of-step")
        return t

    def _pick_skew(self, c: Cred, t: int):
        rng = self.rng
        cur = c.model.centre(t) - t // STEP
        while True:
            r = rng.random()
            if r < 0.6:
                s = rng.choice((-1, 1)) * rng.randint(2, 60)
            elif r < 0.9:
                s = rng.choice((-1, 1)) * rng.randint(61, GA_SKEW_RANGE - 2)
            else:
                s = rng.choice((-1, 1)) * rng.randint(3, 20)
            lim = 3 if self.cfg["kind"] == "ga" else self.cfg["window"] + 1
            if abs(s - cur) >= lim and abs(s) >= lim:
                return s

    def s_skew(self, c: Cred, t: int):
        """Out-of-window codes in quick succession (libpam's time-skew learning)."""
        rng = self.rng
        if c.far and rng.random() < 0.5:
            var = "device"
        else:
            var = rng.choices(["ok", "gap3", "inconsistent", "same-step", "range", "interrupted"], [45, 10, 10, 8, 15, 12])[0]
        tm = t // STEP + 1  # a step that has not been used yet
        if var == "device":
            # the user re-reads the (far-off) device and retries every 1-2 steps
            n = rng.choice((3, 3, 4))
            for i in range(n):
                t = tm * STEP + rng.randint(0, STEP - 1)
                code, k, off = self.device_code(c, t, rng.randint(2, 8))
                self._row(c, t, "verify", code, f"skew/device-{i + 1}of{n}; k={k:+d}; dev={off:+.1f}s")
                tm += rng.choice((1, 2))
            return self._after(c, tm * STEP + rng.randint(0, 20), None)
        if var == "range":
            s = rng.choice((-1, 1)) * rng.choice((GA_SKEW_RANGE - 1, GA_SKEW_RANGE))
        else:
            s = self._pick_skew(c, tm * STEP)
        skews, gaps = [s, s, s], [rng.choice((1, 2)), rng.choice((1, 2))]
        if var == "ok" and rng.random() < 0.35:
            skews[rng.choice((0, 1))] += rng.choice((-1, 1))
        elif var == "gap3":
            gaps[rng.choice((0, 1))] = 3
        elif var == "inconsistent":
            skews[rng.choice((0, 1))] += rng.choice((-2, 2))
        elif var == "same-step":
            gaps[0] = 0
            skews[1] += rng.choice((-1, 1))
        tms = [tm, tm + gaps[0], tm + gaps[0] + gaps[1]]
        for i in range(3):
            t = tms[i] * STEP + rng.randint(0, STEP - 1)
            t = max(t, c.last_end)  # same-step variant: not before the previous attempt
            k = tms[i] + skews[i] - t // STEP
            self.synthetic(c, t, k, f"skew/{var}-{i + 1}of3; S={s:+d}")
            if var == "interrupted" and i == 1:
                t += rng.randint(0, 3)
                centre = c.model.centre(t) - t // STEP
                self.synthetic(c, t, centre, f"skew/interrupted-inwindow; centre={centre:+d}")
        return self._after(c, t + rng.randint(5, 60), s)

    def _after(self, c: Cred, t: int, s):
        """Maybe log in once more after a skew sequence."""
        if self.rng.random() > 0.6:
            return t
        t = max(t, c.last_end)
        if s is None:
            self.correct(c, t, "correct/after-skew")
        else:
            self.synthetic(c, t, s, f"skew/after; S={s:+d}")
        return t

    def s_enrol(self, c: Cred, t: int):
        self._row(c, t, "enrol", "", "enrol" if c.enrolled else "enrol/first")
        c.enrolled = True
        return self.s_login(c, t + self.rng.randint(5, 60))

    def build(self):
        rng = self.rng
        t = T_START + rng.randrange(0, 86400)
        order = list(self.creds)
        rng.shuffle(order)
        kinds = ["login", "typo", "replay", "edge", "skew", "enrol"]
        if self.cfg["kind"] == "ga":
            kw = [58, 10, 10, 10, 10.5, 1.5]
        else:
            kw = [61, 10, 12, 10, 5.5, 1.5]
        nsess = 0
        while len(self.rows) < self.n:
            if nsess < len(order):
                c = order[nsess]
            else:
                while True:
                    c = rng.choices(self.creds, self.weights)[0]
                    if c.last_end < t:
                        break
            nsess += 1
            if not c.enrolled:
                kind = "enrol"
            else:
                kind = rng.choices(kinds, kw)[0]
            start = max(t, c.last_end + 1)
            getattr(self, f"s_{kind}")(c, start)
            r = rng.random()
            if r < 0.50:
                gap = rng.randint(1, 60)
            elif r < 0.80:
                gap = rng.randint(60, 1800)
            elif r < 0.985:
                gap = rng.randint(1800, 6 * 3600)
            else:
                gap = rng.randint(6 * 3600, 3 * 86400)
            t += gap
        rows = sorted(self.rows, key=lambda r: (r["t"], r["seq"]))[: self.n]
        return rows


# --------------------------------------------------------------------------- driving PAM


def libfaketime_path() -> str:
    out = subprocess.run(["dpkg", "-L", "libfaketime"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.endswith("/libfaketime.so.1"):
            return line
    raise SystemExit("libfaketime.so.1 not found (apt-get install -y faketime)")


def pkg_versions() -> dict:
    v = {}
    for p in PACKAGES:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True, text=True)
        v[p] = r.stdout.strip() if r.returncode == 0 else "(not installed)"
    return v


class Driver:
    """One PAM service and one state directory for an implementation."""

    def __init__(self, name: str, cfg: dict, workdir: str, fakelib: str, window_arg: bool = True):
        self.name = name
        self.cfg = cfg
        self.dir = workdir
        self.fakelib = fakelib
        self.service = f"otpdrift-{name}"
        self.pamfile = f"/etc/pam.d/{self.service}"
        if cfg["kind"] == "ga":
            self.module_line = f"auth required pam_google_authenticator.so secret={workdir}/${{USER}} user=root"
        else:
            wa = f" window={cfg['window']}" if window_arg else ""
            self.module_line = f"auth required pam_oath.so usersfile={workdir}/users.oath{wa}"
        self.users = {}  # pam_oath: user -> line
        self.durations = []

    def __enter__(self):
        if os.path.exists(self.pamfile):
            raise SystemExit(f"{self.pamfile} exists: another run in progress? remove it first")
        with open(self.pamfile, "w") as f:
            f.write("# written by otpdrift conformance/pam/generate.py; removed when it ends\n")
            f.write(self.module_line + "\n")
        return self

    def __exit__(self, *exc):
        try:
            os.unlink(self.pamfile)
        except FileNotFoundError:
            pass

    # state files
    def ga_initial(self, c) -> str:
        lines = [c.b32, '" TOTP_AUTH']
        if self.cfg["reuse"]:
            lines.append('" DISALLOW_REUSE')
        return "\n".join(lines) + "\n"

    def enrol(self, c):
        if self.cfg["kind"] == "ga":
            p = os.path.join(self.dir, c.id)
            if os.path.exists(p):
                os.unlink(p)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(self.ga_initial(c))
        else:
            self.users_write(c.id, f"HOTP/T30/6\t{c.id}\t-\t{c.hex}")

    def users_write(self, user: str, line: str):
        p = os.path.join(self.dir, "users.oath")
        lines = []
        if os.path.exists(p):
            with open(p) as f:
                lines = [l.rstrip("\n") for l in f if l.strip()]
        out, done = [], False
        for l in lines:
            if l.split("\t")[1] == user:
                out.append(line)
                done = True
            else:
                out.append(l)
        if not done:
            out.append(line)
        tmp = p + ".gen"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(out) + "\n")
        os.rename(tmp, p)

    def state(self, c):
        if self.cfg["kind"] == "ga":
            with open(os.path.join(self.dir, c.id)) as f:
                lines = f.read().split("\n")
            skew, resetting, disallow = 0, (), None
            for l in lines[1:]:
                if l.startswith('" TIME_SKEW'):
                    skew = int(l.split()[2])
                elif l.startswith('" RESETTING_TIME_SKEW'):
                    vals = l.split()[2:]
                    ent = []
                    for v in vals:
                        j = max(v.rfind("+"), v.rfind("-"))
                        ent.append((int(v[:j]), int(v[j:])))
                    resetting = tuple(ent)
                elif l.startswith('" DISALLOW_REUSE'):
                    disallow = tuple(int(x) for x in l.split()[2:])
            return (skew, resetting, disallow)
        with open(os.path.join(self.dir, "users.oath")) as f:
            for l in f:
                fs = l.rstrip("\n").split("\t")
                if len(fs) > 1 and fs[1] == c.id:
                    return fs[5] if len(fs) > 5 else None
        raise RuntimeError(f"{c.id} missing from users.oath")

    def attempt(self, user: str, t: int, code: str, faked: bool = True) -> bool:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC"}
        if faked:
            env.update(
                {
                    "LD_PRELOAD": self.fakelib,
                    "FAKETIME": faketime_spec(t),
                    "NO_FAKE_STAT": "1",
                }
            )
        t0 = time.monotonic()
        r = subprocess.run(
            ["pamtester", self.service, user, "authenticate"],
            input=code + "\n",
            capture_output=True,
            text=True,
            env=env,
        )
        self.durations.append(time.monotonic() - t0)
        out = r.stdout + r.stderr
        if r.returncode == 0 and "successfully authenticated" in out:
            return True
        if r.returncode != 0 and "Authentication failure" in out:
            return False
        raise RuntimeError(f"unexpected pamtester result for {user} at {t} code {code!r}: rc={r.returncode} {out!r}")


# --------------------------------------------------------------------------- self-test


def self_test(name: str, cfg: dict, fakelib: str):
    """Known codes at known instants: checks the module really reads the faked clock and
    that the window edges are where the notes say (fresh state for every probe)."""
    # RFC 6238 appendix B, SHA-1, 8 digits: T=59 -> 94287082
    assert str(hotp_int(b"12345678901234567890", 59 // 30, 8)).zfill(8) == "94287082"
    key = b"12345678901234567890"
    b32 = base64.b32encode(key).decode()
    t = 1767225600 + 12345 * 30 + 29  # last second of a step, 2026
    o = subprocess.run(
        ["oathtool", "--totp", "-b", b32, "-N", f"@{t}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert o == hotp(key, t // STEP), (o, hotp(key, t // STEP))

    class C:
        pass

    probe = C()
    probe.id, probe.b32, probe.hex, probe.key = "selftest", b32.rstrip("="), key.hex(), key
    wd = tempfile.mkdtemp(prefix=f"otpdrift-pam-selftest-{name}-")
    os.chmod(wd, 0o700)
    results = []
    try:
        # pam_oath: probe the module's *default* window (no window= argument)
        with Driver(name + "-selftest", cfg, wd, fakelib, window_arg=False) as d:
            if cfg["kind"] == "ga":
                edges = [(-1, True), (0, True), (1, True), (-2, False), (2, False)]
            else:
                edges = [(-5, True), (0, True), (5, True), (-6, False), (6, False)]
            for tt in (t, t - 29):
                for k, want in edges:
                    d.enrol(probe)
                    got = d.attempt("selftest", tt, hotp(key, tt // STEP + k))
                    results.append((tt, k, want, got))
                    if got != want:
                        raise SystemExit(f"self-test {name}: code k={k:+d} at {tt}: module said {got}, expected {want}")
            # without faketime the same code must fail (the real clock is not 2026-01-05)
            d.enrol(probe)
            if d.attempt("selftest", t, hotp(key, t // STEP), faked=False):
                raise SystemExit(f"self-test {name}: accepted without faketime: the clock is not faked")
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return results


# --------------------------------------------------------------------------- outputs


def write_csvs(outdir: str, creds, rows, expected):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "secrets.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["credential", "secret", "algorithm", "digits", "step"])
        for c in creds:
            w.writerow([c.id, c.b32, "sha1", 6, STEP])
    with open(os.path.join(outdir, "attempts.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["credential", "time", "action", "code", "code2", "expected", "note"])
        for r, e in zip(rows, expected):
            w.writerow([r["cred"].id, rfc3339(r["t"]), r["action"], r["code"], "", e, r["note"]])


def kind_of(note: str) -> str:
    return note.split(";")[0].split("/")[0]


def variant_of(note: str) -> str:
    v = note.split(";")[0]
    for suf in ("-1of3", "-2of3", "-3of3"):
        v = v.replace(suf, "")
    if v.startswith("skew/device-"):
        v = "skew/device"
    if v.startswith("edge/"):
        v = v.split(";")[0]
    return v


def write_system_md(outdir, name, cfg, seed, n, creds, rows, expected, versions, selftest, agree):
    kinds = collections.OrderedDict()
    variants = collections.OrderedDict()
    for r, e in zip(rows, expected):
        for table, key in ((kinds, kind_of(r["note"])), (variants, variant_of(r["note"]))):
            a = table.setdefault(key, [0, 0])
            a[0 if e == "accept" else 1] += 1
    c0 = creds[0]
    first_t, last_t = rows[0]["t"], rows[-1]["t"]
    ga = cfg["kind"] == "ga"
    L = []
    if ga:
        pkg = "libpam-google-authenticator"
        title = "google-authenticator-libpam" + (" with DISALLOW_REUSE" if cfg["reuse"] else " (default options)")
    else:
        pkg = "libpam-oath"
        title = f"pam_oath / liboath (window={cfg['window']})"
    L.append(f"# {title}\n")
    L.append("Written by `conformance/pam/generate.py`; do not edit by hand.\n")
    L.append("## The real implementation\n")
    L.append("| Debian 12 (bookworm) package | version |\n|---|---|")
    for p in PACKAGES:
        L.append(f"| {p} | {versions[p]} |")
    L.append("")
    if ga:
        L.append(
            f"Module: `/lib/x86_64-linux-gnu/security/pam_google_authenticator.so` from `{pkg}` "
            f"{versions[pkg]} (upstream tag 1.08). TOTP, HMAC-SHA1, 6 digits, 30 s steps.\n"
        )
        L.append("PAM service (`/etc/pam.d/otpdrift-" + name + "`, created for the run and removed after it):\n")
        L.append("```\nauth required pam_google_authenticator.so secret=<statedir>/${USER} user=root\n```\n")
        L.append(
            "`user=root` fixes the uid the module drops to and checks the file owner against, so "
            "the PAM user names (the credential ids) need no system accounts. No other module options: "
            "skew learning is on (no `noskewadj`), no `forward_pass`, no `nullok`, no `allowed_perm`.\n"
        )
        L.append(f"Secret file at start (and after every `enrol`), e.g. `{c0.id}`, mode 0600, owner root:\n")
        L.append("```\n" + f"{c0.b32}\n\" TOTP_AUTH\n" + ("\" DISALLOW_REUSE\n" if cfg["reuse"] else "") + "```\n")
        L.append(
            "So: WINDOW_SIZE absent (default 3: steps centre-1, centre, centre+1 with centre = "
            "floor(now/30) + TIME_SKEW), STEP_SIZE absent (30), TIME_SKEW absent (0), no RATE_LIMIT, "
            "no scratch codes, "
            + ("`DISALLOW_REUSE` present (empty list). " if cfg["reuse"] else "no DISALLOW_REUSE. ")
            + "The module itself adds `\" RESETTING_TIME_SKEW`, `\" TIME_SKEW`"
            + (" and the DISALLOW_REUSE step list" if cfg["reuse"] else "")
            + " as it learns; that file is the validator state and persists between attempts.\n"
        )
    else:
        L.append(
            f"Module: `/lib/x86_64-linux-gnu/security/pam_oath.so` from `{pkg}` {versions[pkg]}, "
            f"liboath0 {versions['liboath0']}. TOTP, HMAC-SHA1, 6 digits, 30 s steps.\n"
        )
        L.append("PAM service (`/etc/pam.d/otpdrift-" + name + "`, created for the run and removed after it):\n")
        L.append(f"```\nauth required pam_oath.so usersfile=<statedir>/users.oath window={cfg['window']}\n```\n")
        L.append(
            "`window=5` is also pam_oath's default (`cfg->window = 5` in `parse_cfg`); the generator's "
            "self-test runs a second service *without* `window=` and checks that codes at "
            "±5 steps are accepted and at ±6 rejected. No `digits=` (the whole 6-digit input is the "
            "OTP; inputs shorter than 6 or longer than 8 characters are refused by pam_oath before "
            "liboath is called).\n"
        )
        L.append(
            "`users.oath` holds one line per credential (tab-separated; password `-` = none). "
            f"At a credential's `enrol` its line is rewritten fresh, e.g. `{c0.id}`:\n"
        )
        L.append("```\n" + f"HOTP/T30/6\t{c0.id}\t-\t{c0.hex}\n" + "```\n")
        L.append(
            "After each accepted code liboath rewrites the line as "
            "`type user - key moving_factor last_otp timestamp`; the last OTP string is the only "
            "state that matters for TOTP (replay rule).\n"
        )
    L.append("## How it was driven\n")
    L.append(
        "One `pamtester` process per attempt, in the log's order, under libfaketime at the "
        "attempt's server time (whole seconds), the code on stdin:\n"
    )
    L.append(
        "```\necho CODE | env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC \\\n"
        "    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \\\n"
        "    FAKETIME='@YYYY-MM-DD HH:MM:SS' NO_FAKE_STAT=1 \\\n"
        f"    pamtester otpdrift-{name} CREDENTIAL authenticate\n```\n"
    )
    L.append(
        "`expected` is `accept` when pamtester exits 0 (\"successfully authenticated\") and "
        "`reject` when it reports \"Authentication failure\"; any other outcome stops the run. "
        "`enrol` rows rewrite the credential's state fresh (no PAM call) and are recorded as "
        "`accept`. Times in `attempts.csv` are the faked server clock.\n"
    )
    L.append(
        "Before generating, a self-test checks the faked clock reaches the module's `time(NULL)`: "
        "the generator's own HOTP agrees with `oathtool` and the RFC 6238 vector; with fresh state "
        "a code is accepted/rejected at the window edges at the first and the last second of a "
        "2026 step"
        + (" (k = -1, 0, +1 accepted; -2, +2 rejected)" if ga else " (k = -5, 0, +5 accepted; -6, +6 rejected, default window)")
        + "; and the same code without libfaketime is rejected.\n"
    )
    L.append("## The log\n")
    L.append(
        f"Seed {seed}, {n} rows, {len(creds)} credentials (random 20- or 10-byte secrets), "
        f"{rfc3339(first_t)} to {rfc3339(last_t)}. Each credential has a device clock: offset mostly "
        f"within ±2 min ({N_FAR} of {N_CREDENTIALS} far: ±10 min to ±12 h), drift ±500..5000 ppm "
        "(log-uniform), and clock events every 1..8 h on average (85% a correction back to the base "
        "offset, 12% a jump of ±30..600 s, 3% a jump of ±1 h); a user types the code the device "
        "shows 2..15 s before submitting. The `note` column gives the attempt kind and `k`, the "
        "step of the typed code minus floor(server time / 30) (`dev` = device offset in seconds; "
        "`centre` = where the generator's model places the window centre; `S` = intended skew in steps).\n"
    )
    L.append("Attempt kinds: `correct` (the device's code; `/retry` after a rejection), `typo` (one digit "
             "changed, two swapped, random, one digit dropped or added), `replay` (the previous code again: "
             "same step, 25-95 s, 3-30 min later, from the previous session; `older-step` = the step "
             "before the code just used), `edge` (codes at and one step beyond the window edges, at the "
             "first, last or a middle second of a step), `skew` (out-of-window codes in quick succession: "
             "3 with consistent skew at increasing steps ≤2 apart, and the variants gap of 3 steps, "
             "skews 2 apart, two in one step, skew ±1499/±1500 (edge of libpam's search), an in-window "
             "code in the middle, a far-off device re-read), `enrol`.\n")
    L.append("## Decisions of the real module\n")
    L.append("| kind | attempts | accept | reject |\n|---|---:|---:|---:|")
    ta = tr = 0
    for k, (a, r) in kinds.items():
        L.append(f"| {k} | {a + r} | {a} | {r} |")
        ta += a
        tr += r
    L.append(f"| **all** | {ta + tr} | {ta} | {tr} |\n")
    L.append("<details><summary>By variant</summary>\n")
    L.append("| variant | attempts | accept | reject |\n|---|---:|---:|---:|")
    for k in sorted(variants):
        a, r = variants[k]
        L.append(f"| {k} | {a + r} | {a} | {r} |")
    L.append("\n</details>\n")
    L.append(
        f"The generator's Python model of the module (used only to shape the log) agreed with the "
        f"real module on {agree[0]} of {agree[1]} decisions and on the state file after "
        f"{agree[2]} of {agree[1]} rows.\n"
    )
    L.append("## Regenerate\n")
    L.append(
        "```\napt-get install -y libpam-google-authenticator libpam-oath oathtool pamtester faketime\n"
        f"cd /work/main   # the repository root\n"
        f"sudo python3 conformance/pam/generate.py --out tests/golden --seed {seed} --attempts {n} --only {name}\n```\n"
    )
    L.append("The same seed and attempt count give the same `attempts.csv` (the log does not depend on "
             "the module's answers); `expected` is re-derived by the run.\n")
    with open(os.path.join(outdir, "system.md"), "w") as f:
        f.write("\n".join(L))


# --------------------------------------------------------------------------- main


def run_one(name, cfg, args, fakelib, versions):
    t0 = time.monotonic()
    lb = LogBuilder(name, cfg, args.seed, args.attempts)
    rows = lb.build()
    tb = time.monotonic() - t0
    pred_acc = sum(r["pred"] for r in rows)
    print(f"[{name}] log: {len(rows)} rows in {tb:.1f}s; model predicts {pred_acc} accept / {len(rows) - pred_acc} reject", flush=True)
    if args.dry_run:
        outdir = os.path.join(args.out, name)
        write_csvs(outdir, lb.creds, rows, ["" for _ in rows])
        return
    st = self_test(name, cfg, fakelib)
    print(f"[{name}] self-test ok ({len(st)} probes)", flush=True)
    wd = tempfile.mkdtemp(prefix=f"otpdrift-pam-{name}-")
    os.chmod(wd, 0o700)
    expected = []
    agree_dec = agree_state = 0
    mism = []
    try:
        with Driver(name, cfg, wd, fakelib) as d:
            td = time.monotonic()
            for i, r in enumerate(rows):
                c = r["cred"]
                if r["action"] == "enrol":
                    d.enrol(c)
                    got = True
                else:
                    got = d.attempt(c.id, r["t"], r["code"])
                expected.append("accept" if got else "reject")
                agree_dec += got == r["pred"]
                s = d.state(c)
                agree_state += s == r["mstate"]
                if (got != r["pred"] or s != r["mstate"]) and len(mism) < 20:
                    mism.append((i, c.id, rfc3339(r["t"]), r["code"], r["note"], got, r["pred"], r["why"], s, r["mstate"]))
                if (i + 1) % 1000 == 0:
                    el = time.monotonic() - td
                    print(f"[{name}] {i + 1}/{len(rows)} attempts, {el / (i + 1) * 1000:.1f}s per 1000", flush=True)
            drive = time.monotonic() - td
    finally:
        if args.keep_state:
            print(f"[{name}] state kept in {wd}")
        else:
            shutil.rmtree(wd, ignore_errors=True)
    outdir = os.path.join(args.out, name)
    write_csvs(outdir, lb.creds, rows, expected)
    write_system_md(outdir, name, cfg, args.seed, len(rows), lb.creds, rows, expected, versions, st,
                    (agree_dec, len(rows), agree_state))
    na = expected.count("accept")
    durs = d.durations
    print(
        f"[{name}] wrote {outdir}: {len(rows)} rows, {na} accept, {len(rows) - na} reject; "
        f"PAM drive {drive:.1f}s ({drive / len(rows) * 1000:.1f}s per 1000; pamtester max {max(durs) * 1000:.0f} ms); "
        f"model agreement: decisions {agree_dec}/{len(rows)}, state {agree_state}/{len(rows)}",
        flush=True,
    )
    for m in mism:
        print(f"[{name}] MISMATCH row {m[0]} {m[1]} {m[2]} code={m[3]} note={m[4]!r} real={m[5]} model={m[6]}({m[7]}) real_state={m[8]} model_state={m[9]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="tests/golden", help="golden root (default tests/golden)")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--attempts", type=int, default=11000, help="rows per implementation (default 11000)")
    ap.add_argument("--only", choices=sorted(IMPLEMENTATIONS), action="append", help="implementation(s) to run")
    ap.add_argument("--dry-run", action="store_true", help="write the logs with an empty expected column; no PAM")
    ap.add_argument("--keep-state", action="store_true", help="keep the temporary state directory")
    args = ap.parse_args()

    def on_term(signum, frame):
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    names = args.only or list(IMPLEMENTATIONS)
    fakelib = versions = None
    if not args.dry_run:
        if os.geteuid() != 0:
            raise SystemExit("run as root: the PAM service file goes to /etc/pam.d")
        for tool in ("pamtester", "oathtool"):
            if not shutil.which(tool):
                raise SystemExit(f"{tool} missing: apt-get install -y {tool}")
        fakelib = libfaketime_path()
        versions = pkg_versions()
    for name in names:
        run_one(name, IMPLEMENTATIONS[name], args, fakelib, versions)


if __name__ == "__main__":
    main()
