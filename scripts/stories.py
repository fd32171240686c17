#!/usr/bin/env python3
"""Print the README's "The stories, in figures" tables from full runs of the bundled stories.

    python3 scripts/stories.py [--bin target/release/otpdrift]   # a few minutes on 2 cores

Every figure comes from the summary.csv of a seeded run, so the tables reproduce exactly;
paste the output over the README's tables when a change moves them. Builds the release
binary first unless --bin is given. Not part of the product or of `cargo test`.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STORIES = os.path.join(ROOT, "scenarios", "stories")
PRESETS = ["rfc6238", "vip", "vip-low", "privacyidea", "linotp", "freeipa",
           "google-authenticator", "keycloak", "pam-oath", "django-otp", "pyotp", "rsa",
           "onespan"]


def run(binary, story, out, *sets):
    args = [binary, "run", os.path.join(STORIES, story), "--out", out, "--force"]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.csv")) as f:
        rows = list(csv.DictReader(f))
    return next(r for r in rows if r["population"] == "all")


def n(r, k):
    return int(float(r[k]))


def pct(r, k, digits=2):
    return f"{100 * float(r[k]):.{digits}f}%"


def thousands(x):
    return f"{x:,}"


def hours(r, k):
    return f"{float(r[k]) / 3600:.0f} h"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=None)
    a = ap.parse_args()
    binary = a.bin
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "otpdrift")
    tmp = tempfile.mkdtemp(prefix="otpdrift-stories-")
    out = lambda name: os.path.join(tmp, name)

    print("| preset | first-try acceptance | login success | incidents | explicit resyncs "
          "ok/tried | automatic resyncs | tickets | logins without a token |")
    print("|---|---|---|---|---|---|---|---|")
    for p in PRESETS:
        print(f"  hard-tokens-5y {p}", file=sys.stderr)
        r = run(binary, "hard-tokens-5y.toml", out("hard"), f"validator.preset={p}")
        auto = n(r, "auto_resyncs") + n(r, "skew_resyncs") + n(r, "next_code_succeeded")
        print(f"| `{p}` | {pct(r, 'first_try_acceptance_rate')} | "
              f"{pct(r, 'login_success_rate', 3)} | {n(r, 'incidents')} | "
              f"{n(r, 'resyncs_succeeded')}/{n(r, 'resyncs_attempted')} | {auto} | "
              f"{n(r, 'tickets')} | {n(r, 'logins_without_token')} |")
    print()

    print("| | p99 clock error at login | rejected out of window | incidents | clock fixes "
          "| app resets | reinstall tickets |")
    print("|---|---|---|---|---|---|---|")
    for label, sets in [("time switched off (35%/year)", []),
                        ("time left on", ["population.phone.clock.sync.off_rate_per_year=0"])]:
        print(f"  phones-auto-time-off {label}", file=sys.stderr)
        r = run(binary, "phones-auto-time-off.toml", out("phones"), *sets)
        p99 = float(r["offset_s_p99"])
        p99s = f"{p99:.0f} s" if p99 >= 10 else f"{p99:.1f} s"
        print(f"| {label} | {p99s} | {thousands(n(r, 'rejected_out_of_window'))} | "
              f"{thousands(n(r, 'incidents'))} | {thousands(n(r, 'clock_fixes'))} | "
              f"{thousands(n(r, 'app_resets'))} | {thousands(n(r, 'tickets_reinstall'))} |")
    print()

    print("| replay rule | sync attempts | syncs ok | syncs refused as replays | reinstall "
          "tickets | time to recover p50 / p90 | error 4923 prompts |")
    print("|---|---|---|---|---|---|---|")
    for rule in ["time_forward", "exact_steps"]:
        print(f"  time-forward-trap {rule}", file=sys.stderr)
        r = run(binary, "time-forward-trap.toml", out("trap"), f"validator.replay={rule}")
        print(f"| `{rule}` | {thousands(n(r, 'resyncs_attempted'))} | "
              f"{thousands(n(r, 'resyncs_succeeded'))} | "
              f"{thousands(n(r, 'resync_failed_replay'))} | {n(r, 'tickets_reinstall')} | "
              f"{float(r['time_to_recover_s_p50']):.0f} s / "
              f"{float(r['time_to_recover_s_p90']):.0f} s | "
              f"{thousands(n(r, 'sync_prompts'))} |")
    print()

    print("| preset | sync window | syncs ok/tried | syncs outside the window | reinstall "
          "tickets | time to recover p90 |")
    print("|---|---|---|---|---|---|")
    for preset, window in [("privacyidea", "±1000 steps"), ("rfc6238", "±20 steps")]:
        print(f"  desktop-timezone {preset}", file=sys.stderr)
        r = run(binary, "desktop-timezone.toml", out("tz"), f"validator.preset={preset}")
        print(f"| `{preset}` | {window} | {thousands(n(r, 'resyncs_succeeded'))}/"
              f"{thousands(n(r, 'resyncs_attempted'))} | "
              f"{thousands(n(r, 'resync_failed_outside_window'))} | "
              f"{thousands(n(r, 'tickets_reinstall'))} | {hours(r, 'time_to_recover_s_p90')} |")
    print()

    print("  battery-end-of-life", file=sys.stderr)
    r = run(binary, "battery-end-of-life.toml", out("battery"))
    print(f"Batteries: {thousands(n(r, 'deaths_battery'))} battery deaths, "
          f"{thousands(n(r, 'tickets'))} tickets, {thousands(n(r, 'logins_without_token'))} "
          f"logins without a working token, token life p10 {r['token_life_years_p10']} and "
          f"p50 {r['token_life_years_p50']} years.")
    with open(os.path.join(out("battery"), "lifetime.csv")) as f:
        life = list(csv.DictReader(f))
    deaths = {}
    for row in life:
        if row["population"] != "all":
            month = row["bucket_start"][:7]
            deaths[month] = deaths.get(month, 0) + n(row, "deaths_battery") + n(
                row, "deaths_expired")
    print("Deaths a month: " + ", ".join(f"{m}: {d}" for m, d in deaths.items()))

if __name__ == "__main__":
    main()
