#!/usr/bin/env python3
"""Generate otpdrift's golden files by driving real TOTP validators under a controlled clock.

For each implementation this script makes ~40 credentials with seeded random Base32 secrets,
builds a random attempt log (a global server clock moving forward, devices whose clocks start
off, drift fast and jump), feeds every attempt to the REAL implementation at its server time
(the clock is frozen or patched), and writes what the implementation decided:

    <out>/<name>/secrets.csv    credential,secret,algorithm,digits,step,t0
    <out>/<name>/attempts.csv   credential,time,action,code,code2,expected,note
    <out>/<name>/system.md      implementation, versions, settings, driving, counts

The log is built attempt by attempt: the generator reads the outcome of each attempt (a user
retries after a rejection, an administrator reacts to repeated rejections) and, for the
window-edge codes, the implementation's current window centre. Everything is seeded, and the
implementations are driven with a frozen clock, so two runs give byte-identical files.

Formats: docs/replay.md. How to run: conformance/README.md. CI does not run this script.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import csv
import datetime as dt
import hashlib
import io
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

# ----------------------------------------------------------------------------------------------
# common helpers

STEP = 30                      # every credential: TOTP, SHA-1, 6 digits, 30 s, T0 = 0
DIGITS = 6
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
START = dt.datetime(2026, 1, 5, 8, 0, 0, tzinfo=dt.timezone.utc)
N_CREDENTIALS = 40
DEFAULT_SEED = 20260105

IMPLEMENTATIONS = ["pyotp", "django-otp", "privacyidea", "privacyidea-autoresync",
                   "otplib", "otplib-asymmetric", "speakeasy"]

KINDS = [
    "correct",            # the device's current code, typed at once
    "retry_next",         # after a rejection the user waits for the device's next code
    "typo",               # random digits, or the right code with one digit changed
    "typo_short",         # the right code with its first digit left out (5 digits)
    "replay",             # the credential's previous code typed again
    "edge_back_at",       # the code of the oldest step inside the window
    "edge_back_beyond",   # one step older than that
    "edge_ahead_at",      # the code of the newest step inside the window
    "edge_ahead_beyond",  # one step newer than that
    "burst",              # one of a quick series of wrong codes (lockout / throttle)
    "sync",               # resync with the device's previous and current code
    "sync_bad",           # resync with two codes that are not consecutive
    "unlock",             # an administrator resets the fail counter / throttle
    "enrol",              # a new enrolment with the same secret
    "odd_format",         # the right code written oddly: spaces, a sign, a letter, 7 digits
]


def ms_to_dt(ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=ms)


def ms_to_rfc3339(ms: int) -> str:
    d = ms_to_dt(ms)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def sub_seed(seed: int, name: str) -> int:
    h = hashlib.sha256(f"otpdrift-conformance:{seed}:{name}".encode()).digest()
    return int.from_bytes(h[:8], "big")


def b32_to_hex(secret: str) -> str:
    pad = "=" * (-len(secret) % 8)
    return base64.b32decode(secret + pad).hex()


def fmt_off(seconds: float) -> str:
    return "%+.1fs" % seconds


# ----------------------------------------------------------------------------------------------
# drivers: one per real implementation. Each decides attempts at a server time given in ms.

class Driver:
    name = ""
    window_back = 1        # steps tried before the centre
    window_ahead = 1       # steps tried after the centre
    has_sync = False
    has_unlock = False
    has_lockout = False    # a fail counter or throttle worth reaching with bursts

    def __init__(self, secrets: dict[str, str]):
        self.secrets = secrets

    def enrol(self, cred: str, t_ms: int) -> tuple[bool, str]:
        raise NotImplementedError

    def verify(self, cred: str, t_ms: int, code: str) -> tuple[bool, str]:
        raise NotImplementedError

    def sync(self, cred: str, t_ms: int, code: str, code2: str) -> tuple[bool, str]:
        raise NotImplementedError

    def unlock(self, cred: str, t_ms: int) -> tuple[bool, str]:
        raise NotImplementedError

    def centre(self, cred: str, t_ms: int) -> int:
        """The step at the centre of the credential's current window."""
        return (t_ms // 1000) // STEP

    def versions(self) -> dict[str, str]:
        from importlib.metadata import version
        return {p: version(p) for p in self.packages}

    packages: list[str] = []


class PyotpDriver(Driver):
    """pyotp: TOTP.verify(code, for_time=t, valid_window=1). Stateless."""
    name = "pyotp"
    packages = ["pyotp"]

    def __init__(self, secrets):
        super().__init__(secrets)
        import pyotp
        self.totp = {c: pyotp.TOTP(s) for c, s in secrets.items()}

    def enrol(self, cred, t_ms):
        return True, "no-op (pyotp keeps no state)"

    def verify(self, cred, t_ms, code):
        # An aware UTC datetime takes pyotp's calendar.timegm path (no local time zone).
        ok = self.totp[cred].verify(code, for_time=ms_to_dt(t_ms), valid_window=1)
        return bool(ok), ""


class DjangoOtpDriver(Driver):
    """django-otp: TOTPDevice.verify_token with the defaults, on an unsaved device."""
    name = "django-otp"
    packages = ["django-otp", "Django"]
    has_unlock = True
    has_lockout = True

    def __init__(self, secrets):
        super().__init__(secrets)
        import django
        from django.conf import settings
        settings.configure(
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                            "django_otp", "django_otp.plugins.otp_totp"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            USE_TZ=True,
            # the library defaults, spelled out:
            OTP_TOTP_SYNC=True, OTP_TOTP_THROTTLE_FACTOR=1)
        django.setup()
        import time as time_mod
        from unittest import mock
        import django.utils.timezone
        from django_otp.plugins.otp_totp.models import TOTPDevice
        self.TOTPDevice = TOTPDevice
        self.now_ms = 0
        # verify_token reads time.time() (step) and django.utils.timezone.now() (throttling).
        # Both are patched for the whole run to return the attempt's server time; save() is
        # patched out, so no database is touched (the device is never saved).
        self._patches = [
            mock.patch.object(time_mod, "time", lambda: self.now_ms / 1000),
            mock.patch.object(django.utils.timezone, "now", lambda: ms_to_dt(self.now_ms)),
            mock.patch.object(TOTPDevice, "save", lambda self_, *a, **k: None),
        ]
        for p in self._patches:
            p.start()
        self.devices = {}

    def _new_device(self, cred):
        # A fresh device with the model defaults: step 30, t0 0, digits 6, tolerance 1,
        # drift 0, last_t -1, no throttling failures.
        return self.TOTPDevice(name=cred, key=b32_to_hex(self.secrets[cred]))

    def _dev(self, cred):
        if cred not in self.devices:
            self.devices[cred] = self._new_device(cred)
        return self.devices[cred]

    def _state(self, d):
        return "drift=%d last_t=%d failures=%d" % (d.drift, d.last_t, d.throttling_failure_count)

    def enrol(self, cred, t_ms):
        self.now_ms = t_ms
        self.devices[cred] = self._new_device(cred)
        return True, self._state(self.devices[cred])

    def verify(self, cred, t_ms, code):
        self.now_ms = t_ms
        d = self._dev(cred)
        allowed, info = d.verify_is_allowed()
        ok = d.verify_token(code)
        why = "" if allowed else "throttled "
        return bool(ok), why + self._state(d)

    def unlock(self, cred, t_ms):
        self.now_ms = t_ms
        d = self._dev(cred)
        d.throttle_reset()
        return True, self._state(d)

    def centre(self, cred, t_ms):
        d = self.devices.get(cred)
        return (t_ms // 1000) // STEP + (d.drift if d is not None else 0)


class PrivacyIdeaDriver(Driver):
    """privacyIDEA: a TOTP token per credential, driven through privacyidea.lib.token."""
    name = "privacyidea"
    packages = ["privacyIDEA", "Flask", "Flask-SQLAlchemy", "SQLAlchemy", "freezegun"]
    window_back = 6        # int(timeWindow 180 / timeStep 30): steps N-6 .. N+5
    window_ahead = 5
    has_sync = True
    has_unlock = True
    has_lockout = True
    autoresync = False

    def __init__(self, secrets, seed):
        super().__init__(secrets)
        self.tmp = tempfile.mkdtemp(prefix="otpdrift-pi-")
        atexit.register(shutil.rmtree, self.tmp, True)
        enc = os.path.join(self.tmp, "enckey")
        with open(enc, "wb") as f:
            f.write(random.Random(seed).randbytes(96))
        cfg = os.path.join(self.tmp, "pi.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "SQLALCHEMY_DATABASE_URI = 'sqlite://'",          # SQLite in memory
                f"PI_ENCFILE = {enc!r}",
                "SECRET_KEY = 'otpdrift-conformance-not-a-secret-0123456789'",
                "PI_PEPPER = 'otpdrift'",
                "PI_AUDIT_NO_SIGN = True",
                f"PI_LOGFILE = {os.path.join(self.tmp, 'privacyidea.log')!r}",
                "PI_LOGLEVEL = 40",
                # cheap argon2 for the (empty) token PIN; as in privacyIDEA's TestingConfig
                "PI_HASH_ALGO_PARAMS = {'argon2__rounds': 1, 'argon2__memory_cost': 8,"
                " 'argon2__parallelism': 1}",
                ""]))
        from freezegun import freeze_time
        # The clock is frozen from the start (also during app creation) and moved to each
        # attempt's server time: time.time() (totptoken.py) and datetime.now() (fail counter,
        # config reload) all see it.
        self.freezer = freeze_time(START, tick=False)
        self.clock = self.freezer.start()
        from privacyidea.app import create_app
        from privacyidea.models import db, save_config_timestamp
        self.app = create_app("production", cfg, silent=True)
        self.ctx = self.app.app_context()
        self.ctx.push()
        db.create_all()
        save_config_timestamp()
        db.session.commit()
        from privacyidea.lib.config import (set_privacyidea_config, get_shared_config_object,
                                            invalidate_config_object, get_from_config)
        if self.autoresync:
            set_privacyidea_config("AutoResync", True)
            get_shared_config_object().timestamp = None
            invalidate_config_object()
        self.autoresync_effective = get_from_config("AutoResync", False, return_bool=True)
        assert self.autoresync_effective == self.autoresync
        from privacyidea.lib import token as pitoken
        self.t = pitoken
        self.enrolled = set()

    def serial(self, cred):
        return "TOTP-" + cred

    def _move(self, t_ms):
        self.clock.move_to(ms_to_dt(t_ms))

    def _init(self, cred):
        self.t.init_token({"serial": self.serial(cred), "type": "totp",
                           "otpkey": b32_to_hex(self.secrets[cred]), "pin": ""})
        self.enrolled.add(cred)

    def _ensure(self, cred):
        if cred not in self.enrolled:
            self._init(cred)

    def _state(self, cred):
        tok = self.t.get_one_token(serial=self.serial(cred))
        s = "count=%d shift=%s failcount=%d" % (tok.token.count, tok.get_tokeninfo("timeShift"),
                                                tok.token.failcount)
        otp1c = tok.get_tokeninfo("otp1c")
        if otp1c is not None:
            s += " otp1c=%s" % otp1c
        return s

    def settings(self, cred):
        self._ensure(cred)
        tok = self.t.get_one_token(serial=self.serial(cred))
        return {"timeStep": tok.timestep, "timeWindow": tok.timewindow, "otplen": tok.token.otplen,
                "hashlib": tok.hashlib, "maxfail": tok.token.maxfail,
                "sync_window": tok.get_sync_window(), "AutoResync": self.autoresync_effective}

    def enrol(self, cred, t_ms):
        # A new enrolment: delete the token and enrol it again with the same serial and key.
        # (Re-running init_token on an existing serial would keep the tokeninfo timeShift and
        # otp1c; a deleted and re-created token forgets everything, as `enrol` requires.)
        self._move(t_ms)
        if cred in self.enrolled:
            self.t.remove_token(serial=self.serial(cred))
        self._init(cred)
        return True, self._state(cred)

    def verify(self, cred, t_ms, code):
        self._move(t_ms)
        self._ensure(cred)
        ok, reply = self.t.check_serial_pass(self.serial(cred), code)
        return bool(ok), "%s; %s" % (reply.get("message", ""), self._state(cred))

    def sync(self, cred, t_ms, code, code2):
        self._move(t_ms)
        self._ensure(cred)
        ok = self.t.resync_token(self.serial(cred), code, code2)
        return bool(ok), self._state(cred)

    def unlock(self, cred, t_ms):
        self._move(t_ms)
        self._ensure(cred)
        self.t.reset_token(serial=self.serial(cred))
        return True, self._state(cred)

    def centre(self, cred, t_ms):
        import time as time_mod
        self._move(t_ms)
        if cred not in self.enrolled:
            return int(time_mod.time() / STEP)
        tok = self.t.get_one_token(serial=self.serial(cred))
        return int((time_mod.time() + tok.timeshift) / tok.timestep)


class PrivacyIdeaAutoResyncDriver(PrivacyIdeaDriver):
    name = "privacyidea-autoresync"
    autoresync = True


class NodeDriver(Driver):
    """An npm library, driven through conformance/node/driver.cjs (JSON lines over a pipe).

    otplib 13: `verifySync({secret, token, epoch: floor(t / 1000), epochTolerance,
    afterTimeStep})`, the application keeping each success's `timeStep` as the next
    `afterTimeStep` and answering a thrown error as a rejection. speakeasy 2:
    `totp.verifyDelta({secret, encoding: "base32", token, time: t / 1000, window: 1})`."""
    packages: list[str] = []
    odd_formats = True
    has_lockout = True         # no lockout: bursts of wrong codes are still worth recording
    server_jumps = True        # the time is passed per request: the server's clock can step back
    min_secret_bytes = 16      # otplib 13's guardrail refuses shorter secrets

    def __init__(self, name, secrets, back, ahead):
        super().__init__(secrets)
        self.name = name
        self.window_back, self.window_ahead = back, ahead
        here = os.path.dirname(os.path.abspath(__file__))
        if not os.path.isdir(os.path.join(here, "node", "node_modules")):
            raise SystemExit("run `npm ci` in conformance/node first (conformance/README.md)")
        self.p = subprocess.Popen(["node", os.path.join(here, "node", "driver.cjs"), name],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        atexit.register(self.p.kill)
        self.ask({"op": "secrets", "secrets": secrets})

    def ask(self, q):
        import json
        self.p.stdin.write(json.dumps(q) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def enrol(self, cred, t_ms):
        a = self.ask({"op": "enrol", "cred": cred})
        return a["ok"], a["real"]

    def verify(self, cred, t_ms, code):
        a = self.ask({"op": "verify", "cred": cred, "t_ms": t_ms, "code": code})
        return a["ok"], a["real"]

    def versions(self):
        return self.ask({"op": "versions"})["versions"]


def make_driver(name, secrets, seed):
    if name == "otplib":
        return NodeDriver(name, secrets, 1, 1)
    if name == "otplib-asymmetric":
        return NodeDriver(name, secrets, 2, 1)
    if name == "speakeasy":
        return NodeDriver(name, secrets, 1, 1)
    if name == "pyotp":
        return PyotpDriver(secrets)
    if name == "django-otp":
        return DjangoOtpDriver(secrets)
    if name == "privacyidea":
        return PrivacyIdeaDriver(secrets, seed)
    if name == "privacyidea-autoresync":
        return PrivacyIdeaAutoResyncDriver(secrets, seed)
    raise SystemExit(f"unknown implementation {name!r}; known: {', '.join(IMPLEMENTATIONS)}")


# ----------------------------------------------------------------------------------------------
# the attempt-log generator

class Done(Exception):
    pass


@dataclass
class Cred:
    id: str
    secret: str
    mean_gap_s: float          # mean time between this credential's sessions
    base_off: float            # device clock offset at anchor_t (s)
    rate: float                # device clock drift (s per s; 1e-6 = 1 ppm)
    anchor_t: float            # server time (s) the base offset refers to
    reset_interval_s: float    # mean time between NTP resets of the device (0 = never)
    patience: int              # consecutive rejections before someone reacts
    next_t: float = 0.0        # next session (server s)
    last_t: float | None = None
    hour_err: float = 0.0      # a +-1 h mistake while it lasts
    hour_left: int = 0
    temp_off: float = 0.0      # set ahead (or back) for a few sessions
    temp_left: int = 0
    consec_rej: int = 0
    last_code: str | None = None
    totp: object = None

    def offset(self, t: float) -> float:
        return self.base_off + self.rate * (t - self.anchor_t) + self.hour_err + self.temp_off


class Generator:
    def __init__(self, driver: Driver, creds: list[Cred], rng: random.Random, n_attempts: int,
                 start_ms: int):
        self.d = driver
        self.creds = creds
        self.rng = rng
        self.n = n_attempts
        self.now_ms = start_ms
        self.rows: list[dict] = []
        self.stats: dict[str, list[int]] = {k: [0, 0] for k in KINDS}
        # The server's clock minus true time (ms): stepped back now and then for drivers that
        # take the time per request (the npm libraries), stepped forward again later.
        self.srv_off = 0
        self.srv_left = 0

    # -- device ------------------------------------------------------------------------------
    def dev_step(self, c: Cred, t_ms: int) -> int:
        t = t_ms / 1000
        return math.floor((t + c.offset(t)) / STEP)

    def code_at_step(self, c: Cred, step: int) -> str:
        return c.totp.generate_otp(step)

    def dev_code(self, c: Cred, t_ms: int) -> str:
        t = t_ms / 1000
        return c.totp.at(t + c.offset(t))

    def reset_clock(self, c: Cred, t: float):
        c.base_off = self.rng.gauss(0, 1.5)
        c.anchor_t = t
        c.hour_err = 0.0
        c.hour_left = 0
        c.temp_off = 0.0
        c.temp_left = 0

    def server_events(self):
        """The server's clock stepped back 1-15 min for a while (a bad NTP source, a restored
        VM), then stepped forward to the true time again."""
        if self.srv_left > 0:
            self.srv_left -= 1
            if self.srv_left == 0:
                self.srv_off = 0
        elif self.rng.random() < 0.003:
            self.srv_off = -int(self.rng.uniform(60, 900) * 1000)
            self.srv_left = self.rng.randint(3, 25)

    def device_events(self, c: Cred, t: float):
        """Clock events before a session: NTP resets, +-1 h mistakes, set ahead then back."""
        rng = self.rng
        if c.hour_left > 0:
            c.hour_left -= 1
            if c.hour_left == 0:
                c.hour_err = 0.0
        if c.temp_left > 0:
            c.temp_left -= 1
            if c.temp_left == 0:
                c.temp_off = 0.0
        if c.last_t is not None and c.reset_interval_s > 0:
            if rng.random() < 1 - math.exp(-(t - c.last_t) / c.reset_interval_s):
                self.reset_clock(c, t)
        r = rng.random()
        if r < 0.004 and c.hour_err == 0:
            c.hour_err = rng.choice((-3600.0, 3600.0))
            c.hour_left = rng.randint(1, 8)
        elif r < 0.010 and c.temp_off == 0:
            mag = rng.uniform(60, 1800)
            c.temp_off = mag if rng.random() < 0.8 else -mag
            c.temp_left = rng.randint(1, 6)

    # -- one attempt ---------------------------------------------------------------------------
    def attempt(self, c: Cred, t_ms: int, action: str, kind: str, code: str = "",
                code2: str = "", detail: str = "") -> bool:
        assert t_ms >= self.now_ms
        self.now_ms = t_ms
        d = self.d
        t_ms = t_ms + self.srv_off      # the server's clock: what it decides by and logs
        if action == "verify":
            ok, real = d.verify(c.id, t_ms, code)
        elif action == "sync":
            ok, real = d.sync(c.id, t_ms, code, code2)
        elif action == "unlock":
            ok, real = d.unlock(c.id, t_ms)
        elif action == "enrol":
            ok, real = d.enrol(c.id, t_ms)
        else:
            raise ValueError(action)
        t = (t_ms - self.srv_off) / 1000
        note = "%s dev_off=%s" % (kind, fmt_off(c.offset(t)))
        if self.srv_off:
            note += " srv_off=%s" % fmt_off(self.srv_off / 1000)
        if detail:
            note += " " + detail
        if real:
            note += " | real: " + real
        self.rows.append({"credential": c.id, "time": ms_to_rfc3339(t_ms), "action": action,
                          "code": code, "code2": code2, "expected": "accept" if ok else "reject",
                          "note": note})
        self.stats[kind][0 if ok else 1] += 1
        if action in ("verify", "sync"):
            c.consec_rej = 0 if ok else c.consec_rej + 1
        if action == "enrol":
            c.consec_rej = 0
        if len(self.rows) >= self.n:
            raise Done
        return ok

    def later(self, t_ms: int, lo: float, hi: float) -> int:
        return t_ms + max(1, int(round(self.rng.uniform(lo, hi) * 1000)))

    # -- sessions ----------------------------------------------------------------------------------
    def login(self, c: Cred, t_ms: int, kind: str = "correct", retries: bool = True) -> int:
        """The user types the device's code; after a rejection maybe waits for the next code."""
        rng = self.rng
        code = self.dev_code(c, t_ms)
        ok = self.attempt(c, t_ms, "verify", kind, code,
                          detail="dev_step=%d" % self.dev_step(c, t_ms))
        c.last_code = code
        tries = 0
        while not ok and retries and tries < 2 and rng.random() < 0.4:
            tries += 1
            t = t_ms / 1000
            dev_t = t + c.offset(t)
            wait = STEP - (dev_t % STEP) + rng.uniform(0.5, 8)
            t_ms = self.later(t_ms, wait, wait)
            code = self.dev_code(c, t_ms)
            ok = self.attempt(c, t_ms, "verify", "retry_next", code,
                              detail="dev_step=%d" % self.dev_step(c, t_ms))
            c.last_code = code
        if ok and rng.random() < 0.07:
            # the same code again: a double submit, or someone who saw it
            t_ms = self.later(t_ms, 0.3, 75)
            self.attempt(c, t_ms, "verify", "replay", code, detail="same code as before")
        return t_ms

    def typo(self, c: Cred, t_ms: int) -> int:
        rng = self.rng
        right = self.dev_code(c, t_ms)
        if rng.random() < 0.6:
            code = "%06d" % rng.randrange(10 ** DIGITS)
            how = "random digits"
        else:
            i = rng.randrange(DIGITS)
            digit = rng.choice([x for x in "0123456789" if x != right[i]])
            code = right[:i] + digit + right[i + 1:]
            how = "digit %d changed" % (i + 1)
        self.attempt(c, t_ms, "verify", "typo", code, detail=how)
        if rng.random() < 0.7:
            t_ms = self.login(c, self.later(t_ms, 2, 20))
        return t_ms

    def typo_short(self, c: Cred, t_ms: int) -> int:
        right = self.dev_code(c, t_ms)
        self.attempt(c, t_ms, "verify", "typo_short", right[1:], detail="right code %s" % right)
        if self.rng.random() < 0.7:
            t_ms = self.login(c, self.later(t_ms, 2, 20))
        return t_ms

    def replay_previous(self, c: Cred, t_ms: int) -> int:
        if c.last_code is None:
            return self.login(c, t_ms)
        self.attempt(c, t_ms, "verify", "replay", c.last_code, detail="previous code")
        return t_ms

    def edge(self, c: Cred, t_ms: int) -> int:
        rng = self.rng
        learned = rng.random() < 0.8
        srv = t_ms + self.srv_off
        centre = self.d.centre(c.id, srv) if learned else (srv // 1000) // STEP
        kind = rng.choice(["edge_back_at", "edge_back_beyond", "edge_ahead_at", "edge_ahead_beyond"])
        back, ahead = self.d.window_back, self.d.window_ahead
        delta = {"edge_back_at": -back, "edge_back_beyond": -back - 1,
                 "edge_ahead_at": ahead, "edge_ahead_beyond": ahead + 1}[kind]
        step = centre + delta
        self.attempt(c, t_ms, "verify", kind, self.code_at_step(c, step),
                     detail="step=centre%+d centre=%s" % (delta, "validator" if learned else "server"))
        if rng.random() < 0.4:
            t_ms = self.login(c, self.later(t_ms, 2, 30))
        return t_ms

    def burst(self, c: Cred, t_ms: int) -> int:
        rng = self.rng
        if self.d.name.startswith("privacyidea"):
            k, gap = rng.randint(8, 13), (0.4, 5.0)
        else:
            k, gap = rng.randint(3, 7), (0.2, 6.0)
        for i in range(k):
            if i:
                t_ms = self.later(t_ms, *gap)
            self.attempt(c, t_ms, "verify", "burst", "%06d" % rng.randrange(10 ** DIGITS),
                         detail="%d/%d" % (i + 1, k))
        if rng.random() < 0.5:
            t_ms = self.login(c, self.later(t_ms, 1, 40), retries=False)
        return t_ms

    def sync(self, c: Cred, t_ms: int) -> int:
        rng = self.rng
        ds = self.dev_step(c, t_ms)
        if rng.random() < 0.85:
            self.attempt(c, t_ms, "sync", "sync", self.code_at_step(c, ds - 1),
                         self.code_at_step(c, ds), detail="dev_steps=%d,%d" % (ds - 1, ds))
        else:
            gap = rng.choice([2, 3, -1, 0])
            self.attempt(c, t_ms, "sync", "sync_bad", self.code_at_step(c, ds - gap),
                         self.code_at_step(c, ds), detail="dev_steps=%d,%d" % (ds - gap, ds))
        if rng.random() < 0.8:
            t_ms = self.login(c, self.later(t_ms, 5, 120))
        return t_ms

    def odd_format(self, c: Cred, t_ms: int) -> int:
        """The right code written as a person or a form might: the libraries read it apart."""
        rng = self.rng
        right = self.dev_code(c, t_ms)
        how, code = rng.choice([
            ("leading space, first digit dropped", " " + right[1:]),
            ("leading tab, first digit dropped", "\t" + right[1:]),
            ("plus sign, first digit dropped", "+" + right[1:]),
            ("minus sign, first digit dropped", "-" + right[1:]),
            ("space inside", right[:3] + " " + right[3:]),
            ("trailing space", right + " "),
            ("last digit a letter", right[:5] + "x"),
            ("a seventh digit", right + str(rng.randrange(10))),
            ("full-width last digit", right[:5] + chr(0xFF10 + int(right[5]))),
            ("zero in front, last digit dropped", "0" + right[:5]),
        ])
        self.attempt(c, t_ms, "verify", "odd_format", code, detail=how)
        if rng.random() < 0.6:
            t_ms = self.login(c, self.later(t_ms, 2, 20))
        return t_ms

    def unlock(self, c: Cred, t_ms: int) -> int:
        self.attempt(c, t_ms, "unlock", "unlock")
        if self.rng.random() < 0.8:
            t_ms = self.login(c, self.later(t_ms, 3, 90))
        return t_ms

    def enrol(self, c: Cred, t_ms: int) -> int:
        self.attempt(c, t_ms, "enrol", "enrol")
        if self.rng.random() < 0.9:
            t_ms = self.login(c, self.later(t_ms, 10, 120))
        return t_ms

    def session(self, c: Cred, t_ms: int) -> int:
        rng, d = self.rng, self.d
        if c.consec_rej >= c.patience and rng.random() < 0.85:
            # someone reacts to the rejections: an administrator, or the user fixes the clock
            options = [("fix_clock", 3)]
            if d.has_sync:
                options.append(("sync", 4))
            if d.has_unlock:
                options.append(("unlock", 3))
            options.append(("enrol", 1 if d.name != "pyotp" else 0.3))
            what = rng.choices([o for o, _ in options], [w for _, w in options])[0]
            if what == "fix_clock":
                self.reset_clock(c, t_ms / 1000)
                return self.login(c, t_ms)
            return getattr(self, what)(c, t_ms)
        weights = {"login": 64, "typo": 7, "typo_short": 1.0, "replay": 2, "edge": 10,
                   "burst": (0.9 if d.name.startswith("privacyidea") else 1.6) if d.has_lockout else 0,
                   "sync": 3.5 if d.has_sync else 0, "unlock": 2.5 if d.has_unlock else 0,
                   "enrol": 0.8, "odd": 1.5 if getattr(d, "odd_formats", False) else 0}
        what = rng.choices(list(weights), list(weights.values()))[0]
        return {"login": self.login, "typo": self.typo, "typo_short": self.typo_short,
                "replay": self.replay_previous, "edge": self.edge, "burst": self.burst,
                "sync": self.sync, "unlock": self.unlock, "enrol": self.enrol,
                "odd": self.odd_format}[what](c, t_ms)

    def run(self):
        rng = self.rng
        for c in self.creds:
            c.next_t = self.now_ms / 1000 + rng.expovariate(1 / c.mean_gap_s)
        try:
            while True:
                c = min(self.creds, key=lambda x: (x.next_t, x.id))
                if rng.random() < 0.0006:
                    # a quiet period: nobody logs in for days
                    quiet = rng.uniform(1, 5) * 86400
                    for x in self.creds:
                        x.next_t += quiet
                t_ms = max(int(c.next_t * 1000), self.now_ms + rng.randint(50, 5000))
                t = t_ms / 1000
                if getattr(self.d, "server_jumps", False):
                    self.server_events()
                self.device_events(c, t)
                end_ms = self.session(c, t_ms)
                c.last_t = end_ms / 1000
                c.next_t = end_ms / 1000 + rng.expovariate(1 / c.mean_gap_s)
        except Done:
            pass
        return self.rows, self.stats


def make_credentials(rng: random.Random, start_s: float, min_bytes: int = 15) -> list[Cred]:
    import pyotp
    creds = []
    for i in range(N_CREDENTIALS):
        nbytes = rng.choice([min_bytes, 20, 20, 20, 20, 25, 40])  # pyotp 2.12 wants >= 112 bits
        secret = base64.b32encode(rng.randbytes(nbytes)).decode().rstrip("=")
        r = rng.random()
        if r < 0.65:
            off = max(-120.0, min(120.0, rng.gauss(0, 45)))
        elif r < 0.9:
            off = rng.choice((-1, 1)) * rng.uniform(120, 600)
        else:
            off = rng.choice((-1, 1)) * rng.uniform(600, 2400)
        if rng.random() < 0.75:
            ppm = math.exp(rng.uniform(math.log(500), math.log(5000)))
        else:
            ppm = rng.uniform(0, 100)
        rate = rng.choice((-1, 1)) * ppm * 1e-6
        r = rng.random()
        if r < 0.2:
            reset = rng.uniform(0.5, 3) * 86400       # a phone that syncs often
        elif r < 0.6:
            reset = rng.uniform(7, 30) * 86400
        else:
            reset = 0.0                               # a hardware token: never reset
        mean_gap = math.exp(rng.uniform(math.log(1800), math.log(86400)))
        c = Cred(id="c%02d" % (i + 1), secret=secret, mean_gap_s=mean_gap, base_off=off,
                 rate=rate, anchor_t=start_s, reset_interval_s=reset,
                 patience=rng.randint(2, 5))
        c.totp = pyotp.TOTP(secret)
        creds.append(c)
    return creds


# ----------------------------------------------------------------------------------------------
# output

def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    with open(path, "w", newline="") as f:
        f.write(buf.getvalue())


def stats_table(stats) -> str:
    lines = ["| kind | accept | reject | total |", "|---|---:|---:|---:|"]
    ta = tr = 0
    for k in KINDS:
        a, r = stats[k]
        if a + r == 0:
            continue
        ta += a
        tr += r
        lines.append(f"| {k} | {a} | {r} | {a + r} |")
    lines.append(f"| **all** | {ta} | {tr} | {ta + tr} |")
    return "\n".join(lines)


SYSTEM_TEXT = {
    "pyotp": """\
## Implementation

[pyotp](https://pypi.org/project/pyotp/) {pyotp}, installed from PyPI.

## Settings

`pyotp.TOTP(secret)` (SHA-1, 6 digits, interval 30 s) and, for every `verify` attempt,
`TOTP.verify(code, for_time=<server time as an aware UTC datetime>, valid_window=1)`.
The window is the server step ±1, tried oldest first; codes are compared as strings (after NFKC).

## How it was driven

In-process, no clock patching needed: the server time is passed as `for_time`.
pyotp keeps no state, so there is no replay protection, no drift, no lockout:
`enrol` rows are no-ops (recorded as `accept`), and there are no `sync` or `unlock` rows.
""",
    "django-otp": """\
## Implementation

[django-otp](https://pypi.org/project/django-otp/) {django-otp} with Django {Django},
installed from PyPI.

## Settings

`django_otp.plugins.otp_totp.models.TOTPDevice` with the model defaults: step 30, t0 0,
digits 6, **tolerance 1**, drift 0, last_t -1 (SHA-1). Django settings: `OTP_TOTP_SYNC = True`
(the default: drift is learned on every success), `OTP_TOTP_THROTTLE_FACTOR = 1` (the default:
after n consecutive counted failures an attempt is refused uncompared and uncounted for
2^(n-1) s), `USE_TZ = True`.

## How it was driven

In-process with `settings.configure(...)` and `django.setup()`. Each credential is an
**unsaved** `TOTPDevice(key=<hex of the secret>)`; `TOTPDevice.save` is patched to do nothing,
so no database is used (`verify_token` only calls `save()`). For the whole run `time.time`
(read by `verify_token` for the step) and `django.utils.timezone.now` (read by the throttle)
are patched to return the attempt's server time, to the millisecond.

- `verify`: `device.verify_token(code)` (the code string as typed; django-otp applies `int()`).
- `unlock`: `device.throttle_reset()` (recorded as `accept`).
- `enrol`: a new unsaved device with the same key (drift 0, last_t -1, no throttling),
  recorded as `accept`.
- No `sync` rows: django-otp has no resync API (drift is learned from successes).

The `note` column ends with the device's state after the attempt (`drift`, `last_t`,
`failures` = `throttling_failure_count`); `throttled` marks attempts refused by the throttle
before comparison (`verify_is_allowed()` was false).
""",
    "privacyidea": """\
## Implementation

[privacyIDEA](https://pypi.org/project/privacyIDEA/) {privacyIDEA}, installed from PyPI
(Flask {Flask}, Flask-SQLAlchemy {Flask-SQLAlchemy}, SQLAlchemy {SQLAlchemy}).

## Settings

One TOTP token per credential, enrolled with `init_token({{"serial": "TOTP-<credential>",
"type": "totp", "otpkey": <hex of the secret>, "pin": ""}})` and nothing else, so every
setting is privacyIDEA's default. Read back from the tokens: {settings}.
System config: {sysconfig} Everything else is at its default (no `failcounter_clear_timeout`,
`IncFailCountOnFalsePin` and `PrependPin` effectively on, empty PIN, no policies).

## How it was driven

In-process, no web server: `privacyidea.app.create_app("production", <temp pi.cfg>)` with
`SQLALCHEMY_DATABASE_URI = 'sqlite://'` (SQLite in memory), a fresh random-but-seeded
`PI_ENCFILE`, unsigned audit, logging at ERROR and cheap argon2 parameters for the empty PIN
(as privacyIDEA's own TestingConfig does); then `db.create_all()` in one app context.
The clock is frozen with freezegun ({freezegun}) from before app creation and moved to each
attempt's server time (`time.time()` and `datetime.now()` both follow it).

- `verify`: `privacyidea.lib.token.check_serial_pass(serial, code)` — the `/validate/check`
  logic (PIN split, fail counter, replay, autosync) without the policy decorators of the API.
- `sync`: `resync_token(serial, code, code2)` (`/token/resync`).
- `unlock`: `reset_token(serial)` (`/token/reset`: fail counter to 0), recorded as `accept`.
- `enrol`: `remove_token(serial)` then `init_token(...)` again with the same serial and key,
  recorded as `accept`. (Calling `init_token` on the existing serial would reset `count` and
  the fail counter but keep the tokeninfo `timeShift` and `otp1c`; a re-created token
  forgets everything, as the replay format's `enrol` means.)
- A credential's token is enrolled at its first attempt.

The `note` column ends with privacyIDEA's reply message and the token's state after the
attempt (`count` = last used step, `shift` = tokeninfo `timeShift` in seconds, `failcount`,
and `otp1c` when set).
""",
}
SYSTEM_TEXT["privacyidea-autoresync"] = SYSTEM_TEXT["privacyidea"]
OTPLIB_TEXT = """\
## Implementation

[otplib](https://www.npmjs.com/package/otplib) {{otplib}} (@otplib/totp {{@otplib/totp}},
@otplib/core {{@otplib/core}}, its default noble crypto and scure base32 plugins), installed
with `npm ci` from `conformance/node/package-lock.json`, run on Node {{node}}.

## Settings

`verifySync({{{{secret, token, epoch: Math.floor(t_ms / 1000), epochTolerance: {tol},
afterTimeStep}}}})` with the defaults (SHA-1, 6 digits, period 30, t0 0). The application
around it keeps the `timeStep` of each credential's last success and passes it as the next
`afterTimeStep` (the README's replay protection); a thrown error is answered as a rejection;
`enrol` forgets the kept step.

## How it was driven

`conformance/node/driver.cjs`, one process, JSON lines over a pipe; the server time is the
`epoch` passed (the library's own default is the same expression on `Date.now()`).
"""
SYSTEM_TEXT["otplib"] = OTPLIB_TEXT.format(tol="30")
SYSTEM_TEXT["otplib-asymmetric"] = OTPLIB_TEXT.format(tol="[40, 10]")
SYSTEM_TEXT["speakeasy"] = """\
## Implementation

[speakeasy](https://www.npmjs.com/package/speakeasy) {speakeasy}, installed with `npm ci` from
`conformance/node/package-lock.json`, run on Node {node}.

## Settings

`totp.verifyDelta({{secret, encoding: "base32", token, time: t_ms / 1000, step: 30,
window: 1}})` (SHA-1, 6 digits). speakeasy keeps no state: no replay protection, no drift, no
lockout; `enrol` rows are no-ops.

## How it was driven

`conformance/node/driver.cjs`, one process, JSON lines over a pipe; the server time is `time`.
"""

BEHAVIOUR_TEXT = {
    "pyotp": """\
## Behaviour worth knowing (checked on this version)

- No state: a code is accepted again while its step is in the window (accepted `replay` rows).
- Codes are compared as strings: a 5-digit code never matches (`typo_short`).
- pyotp 2.12 differs from the 2.9/2.10 API: `verify(otp, *, for_time=None, valid_window=0)` and
  `at(for_time, *, counter_offset=0)` take keyword-only arguments, `for_time=None` means
  `time.time()`, and secrets must decode to at least 112 bits (hence 15-40-byte secrets here).
""",
    "django-otp": """\
## Behaviour worth knowing (checked on this version)

- The code is parsed with `int()`: the right code typed without its leading zero matches
  (the accepted `typo_short` rows are all codes that start with 0).
- Drift is learned from every success, edge codes included (`edge_*_at` rows move it), without
  bound; steps up to `last_t` are skipped and the search goes on.
- Refused attempts (`throttled` in `note`) are not compared and not counted. This version caps
  the delay at `MAX_THROTTLE_DELAY_SECONDS` (100 years; the 1.7.0 code had no cap): no
  practical difference.
""",
    "privacyidea": """\
## Behaviour worth knowing (checked on this version)

- Window: steps N-6 .. N+5 with N = int((now + timeShift) / 30), oldest first, first match wins.
  A success stores count = the matched step and timeShift = step*30 - int(now) (seconds, keeps
  the phase); a resync stores count = res2 + 1 and timeShift = (res2 + 0.5)*30 - now, a float
  with the noise of millisecond times (e.g. `16.335000038147`).
- Resync searches each code oldest first over 2000 steps (sync_window 1000 each side): when the
  first code's string also occurs earlier in that range, a genuinely consecutive pair fails
  (this happens in this log: a few `sync` rows are rejected that way).
- Resync works on a token locked by its fail counter and leaves the fail counter as it was.
- A 5-digit code cannot be split into PIN + OTP: "wrong otp pin", and the fail counter goes up.
- `init_token` on an existing serial keeps `timeShift` and `otp1c` (see `enrol` above).
""",
}
OTPLIB_BEHAVIOUR = """\
## Behaviour worth knowing (checked on this version)

- The window is in seconds: steps floor((epoch - past) / 30) .. floor((epoch + future) / 30),
  ascending, first match wins{extra}.
- Steps at or before `afterTimeStep` are skipped and the search goes on; an `afterTimeStep`
  beyond the last open step throws (`AfterTimeStepRangeExceededError`).
- A token that is not exactly 6 ASCII digits throws (`TokenLengthError`, `TokenFormatError`):
  no trimming (`odd_format`, `typo_short` rows).
- Secrets must decode to 16-64 bytes (hence 16-40-byte secrets here).
"""
BEHAVIOUR_TEXT["otplib"] = OTPLIB_BEHAVIOUR.format(
    extra=": with 30 s both ways exactly three steps, wherever in its step the attempt lands")
BEHAVIOUR_TEXT["otplib-asymmetric"] = OTPLIB_BEHAVIOUR.format(
    extra=": with [40, 10] two or three steps back and none or one ahead, depending on where "
          "in its step the attempt lands")
BEHAVIOUR_TEXT["speakeasy"] = """\
## Behaviour worth knowing (checked on this version)

- Steps N-1 .. N+1 ascending (the counter moved back by the window, then an HOTP look-ahead
  of twice the window), first match wins; a code is accepted again while its step is open.
- The token must be 6 characters long (`String(token).length`), then `parseInt(token, 10)` is
  compared with the code as a number: a leading space or `+` before the last five digits
  matches a code that starts with 0, trailing letters are ignored (`odd_format` rows).
- The default encoding is ASCII: without `encoding: "base32"` a Base32 secret never verifies.
"""
BEHAVIOUR_TEXT["privacyidea-autoresync"] = BEHAVIOUR_TEXT["privacyidea"] + """\
- AutoResync: only after no match in the window; the sync range is centred on N+6 (the failed
  window search leaves the HMAC counter there); the first code is kept as `otp1c` (attempt
  rejected, fail counter +1), a later code at exactly otp1c+1 and > count is accepted, with no
  time limit between the two.
"""

COMMON_TEXT = """\
## The log

{n_creds} credentials with seeded random Base32 secrets (15-40 bytes), all TOTP SHA-1, 6 digits,
30 s, T0 0. A global server clock moves forward (sessions seconds to hours apart, with a few
quiet periods of 1-5 days); each credential's device clock starts off (mostly within ±2 min,
some ±10 min, a few ±40 min), drifts (most 500-5000 ppm, some 0-100 ppm), and jumps (NTP resets
to within a few seconds, ±1 h mistakes, set ahead (or back) by 1-30 min for a few sessions).
Codes are computed with pyotp from the device time. Attempt kinds (the first word of `note`):

- `correct`: the device's current code; `retry_next`: after a rejection the user waits for the
  next code and types it; `replay`: the same code again (seconds later, or the previous code at
  a later session); `typo`: random digits or one digit changed; `typo_short`: the right code
  without its first digit;
- `edge_back_at`, `edge_back_beyond`, `edge_ahead_at`, `edge_ahead_beyond`: the code of the
  oldest/newest step inside the window ({back} back, {ahead} ahead of the centre) or one step
  beyond, around the validator's current centre (`centre=validator`, read from its state) or
  the plain server step (`centre=server`);
- `burst`: a quick series of random codes (to reach the lockout or throttle);
- `sync` (two consecutive device codes, the second the current one) and `sync_bad` (not
  consecutive); `unlock`; `enrol`.

The generator reads each outcome (retries after rejections; after a few consecutive rejections
an administrator unlocks, resyncs or re-enrols, or the user fixes the device clock), so the log
differs between implementations; it is deterministic for a given seed.
`note` also gives the device's true offset (`dev_off`) when the code was read, and for the npm
libraries the server clock's error while it is stepped back (`srv_off`: now and then 1-15 min
back for 3-25 sessions, then forward again; replay such a log with `--clock-steps-back`).

Seed {seed} (this implementation's stream: sha256 of `otpdrift-conformance:{seed}:{name}`),
{n} attempts.

## Counts

{table}

## Regenerate

```
python3.11 -m venv /tmp/venv-conf
/tmp/venv-conf/bin/pip install -r conformance/requirements.txt
/tmp/venv-conf/bin/python conformance/generate.py --out tests/golden --seed {seed} --attempts {n} --only {name}
```

Output is byte-identical for the same seed, attempt count and package versions
(conformance/requirements.txt). `cargo test` replays these files; CI does not regenerate them.
"""


def write_system_md(path, name, driver, seed, n, stats, n_creds):
    vers = driver.versions()
    fmt = dict(vers)
    if name.startswith("privacyidea"):
        s = driver.settings("c01")
        fmt["settings"] = ", ".join(f"`{k}` = {v}" for k, v in s.items() if k != "AutoResync")
        fmt["sysconfig"] = ("`AutoResync` = **True** (set with `set_privacyidea_config`; its "
                            "sync window is the token's `sync_window`, default 1000 steps, and "
                            "TOTP autosync has no time limit)."
                            if driver.autoresync_effective else
                            "`AutoResync` = False (the default, not set).")
    title = {"pyotp": "pyotp", "django-otp": "django-otp", "privacyidea": "privacyIDEA",
             "privacyidea-autoresync": "privacyIDEA with AutoResync", "otplib": "otplib",
             "otplib-asymmetric": "otplib with an asymmetric tolerance",
             "speakeasy": "speakeasy"}[name]
    body = "# Golden file: %s\n\n" % title
    body += "Written by `conformance/generate.py`; do not edit by hand.\n\n"
    body += SYSTEM_TEXT[name].format(**fmt) + "\n"
    body += BEHAVIOUR_TEXT[name] + "\n"
    body += COMMON_TEXT.format(n_creds=n_creds, back=driver.window_back, ahead=driver.window_ahead,
                               seed=seed, name=name, n=n, table=stats_table(stats))
    with open(path, "w") as f:
        f.write(body)


def run_one(name: str, out: str, seed: int, n: int):
    os.environ["TZ"] = "UTC"
    import time
    time.tzset()
    s = sub_seed(seed, name)
    rng = random.Random(s)
    start_ms = int(START.timestamp() * 1000) + rng.randrange(0, 86400) * 1000
    node = name in ("otplib", "otplib-asymmetric", "speakeasy")
    creds = make_credentials(rng, start_ms / 1000, NodeDriver.min_secret_bytes if node else 15)
    secrets = {c.id: c.secret for c in creds}
    driver = make_driver(name, secrets, s)
    gen = Generator(driver, creds, rng, n, start_ms)
    rows, stats = gen.run()
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    write_csv(os.path.join(d, "secrets.csv"), ["credential", "secret", "algorithm", "digits", "step", "t0"],
              [{"credential": c.id, "secret": c.secret, "algorithm": "sha1", "digits": DIGITS,
                "step": STEP, "t0": 0} for c in creds])
    write_csv(os.path.join(d, "attempts.csv"),
              ["credential", "time", "action", "code", "code2", "expected", "note"], rows)
    write_system_md(os.path.join(d, "system.md"), name, driver, seed, n, stats, len(creds))
    print(f"== {name}: {len(rows)} attempts -> {d}")
    print(stats_table(stats))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="tests/golden", help="output folder (default tests/golden)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed (default {DEFAULT_SEED})")
    ap.add_argument("--attempts", type=int, default=12000, help="attempts per implementation")
    ap.add_argument("--only", choices=IMPLEMENTATIONS, help="generate one implementation only")
    a = ap.parse_args()
    if a.only:
        run_one(a.only, a.out, a.seed, a.attempts)
        return
    # Each implementation runs in its own process: Django's settings and privacyIDEA's app and
    # frozen clock are process-wide.
    for name in IMPLEMENTATIONS:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--out", a.out,
                            "--seed", str(a.seed), "--attempts", str(a.attempts), "--only", name])
        if r.returncode != 0:
            sys.exit(r.returncode)


if __name__ == "__main__":
    main()
