#!/usr/bin/env python3
"""Print otpdrift's speed and scale ratios against the goals of docs/scale.md.

    python3 scripts/ratios.py            # about eight minutes on a 2-core machine

Every figure is a ratio measured in one invocation, with paired runs interleaved and the
median taken, because shared machines are noisy: absolute rates move with the load, ratios
of runs made side by side much less. It builds the release binary first; the pyotp
comparison needs `pip install pyotp` (the script says so if it is missing). Nothing here is
part of the product or of `cargo test`.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "otpdrift")
QUICK = os.path.join(ROOT, "scenarios", "quickstart.toml")
MILLION = os.path.join(ROOT, "scenarios", "million.toml")
WINDOWS = os.path.join(ROOT, "scenarios", "window-sweep.toml")
SWEEP = os.path.join(ROOT, "scripts", "ratio-sweep.toml")
YEAR = os.path.join(ROOT, "scripts", "pyotp-year.toml")
PAIRS = 3
CLUSTER = """
[validator.cluster]
nodes = [{ name = "a" }, { name = "b", offset = "+2s" }, { name = "c", offset = "-3s" }]
routing = "random"
replication = { lag = { dist = "exponential", mean = "3s" } }
"""


def timed(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MB, stdout)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err.decode()}")
    return wall, usage.ru_maxrss / 1024.0, out.decode()


def run(scenario, out, *args):
    """One `otpdrift run`; returns (whole-process wall, peak RSS MB, manifest)."""
    wall, rss, _ = timed([BIN, "run", scenario, "--out", out, "--force", *args])
    with open(os.path.join(out, "manifest.json")) as f:
        return wall, rss, json.load(f)


def med(xs):
    return statistics.median(xs)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="otpdrift-ratios-")
    d = lambda name: os.path.join(tmp, name)
    rows = []

    def row(name, value, goal, met, how):
        rows.append((name, value, goal, met, how))
        print(f"  {name}: {value}", file=sys.stderr)

    print("measuring (each figure from interleaved runs) ...", file=sys.stderr)
    # Exact and fast, one thread, paired.
    exact, fast = [], []
    for _ in range(PAIRS):
        exact.append(run(QUICK, d("e"), "--threads", "1", "--mode", "exact")[2])
        fast.append(run(QUICK, d("f"), "--threads", "1", "--mode", "fast")[2])
    cpa = med([m["codes_per_attempt_equivalent"] for m in exact])
    row("exact mode: raw HMAC-SHA1 code times per attempt (1 thread)", f"{cpa:.2f}", "<= 2",
        cpa <= 2, "quickstart, codes_per_attempt_equivalent, median of 3")
    hpa = med([m["hmacs_per_attempt"] for m in exact])
    row("exact mode: HMACs computed per attempt", f"{hpa:.2f}", "-", None,
        "quickstart, hmacs_per_attempt")
    # What the model costs beyond codes: fast mode computes no HMAC, so its code times per
    # attempt are the floor that bounds both exact mode and fast / exact.
    floor = med([m["codes_per_attempt_equivalent"] for m in fast])
    row("fast mode: raw HMAC-SHA1 code times per attempt, no HMACs (1 thread)", f"{floor:.2f}",
        "-", None, "quickstart, codes_per_attempt_equivalent, median of 3")
    fx = med([f["attempts_per_second"] / e["attempts_per_second"] for e, f in zip(exact, fast)])
    row("fast mode / exact mode, attempts per second (1 thread)", f"{fx:.2f}", ">= 10",
        fx >= 10, "quickstart, paired runs, median ratio")

    # Against a pyotp script simulating the same 100-token year.
    try:
        import pyotp  # noqa: F401
        have_pyotp = True
    except ImportError:
        have_pyotp = False
        row("against pyotp", "skipped", "-", None, "pip install pyotp, then run again")
    if have_pyotp:
        py, ex, fa, e2e = [], [], [], []
        for _ in range(PAIRS):
            pwall, _, pout = timed([sys.executable, os.path.join(ROOT, "scripts",
                                                                 "pyotp_fleet.py")])
            p = json.loads(pout)
            ewall, _, em = run(YEAR, d("y"), "--threads", "1", "--mode", "exact")
            _, _, fm = run(YEAR, d("yf"), "--threads", "1", "--mode", "fast")
            py.append(p)
            ex.append(em["attempts_per_second"] / p["attempts_per_second"])
            fa.append(fm["attempts_per_second"] / p["attempts_per_second"])
            e2e.append(pwall / ewall)
        row("exact mode / pyotp script, attempts per second (1 thread)", f"{med(ex):.0f}",
            ">= 150", med(ex) >= 150, "scripts/pyotp-year.toml vs scripts/pyotp_fleet.py")
        row("fast mode / pyotp script, attempts per second (1 thread)", f"{med(fa):.0f}",
            ">= 1000", med(fa) >= 1000, "the same")
        row("pyotp script / otpdrift, whole-process wall at 100 tokens", f"{med(e2e):.1f}",
            "> 1", med(e2e) > 1, "exact mode, charts and report included")
    # Against a numpy script vectorised across tokens, the same fleet at 30,000 tokens, whole
    # processes in turns (issue 32: the batched engine's goal).
    try:
        import numpy  # noqa: F401
        have_numpy = True
    except ImportError:
        have_numpy = False
        row("against numpy", "skipped", "-", None, "pip install numpy, then run again")
    if have_numpy:
        # (script, its arguments, the scenario, --set overrides, what the row names)
        for script, args, scenario, sets, what in [
                ("numpy_fleet.py", ["--tokens", "30000"], YEAR, ["--set", "run.tokens=30000"],
                 "pyotp-year at 30,000 tokens"),
                ("numpy_quickstart.py", [], QUICK, [], "the quickstart")]:
            nf, ne = [], []
            for _ in range(PAIRS):
                nwall, _, _ = timed([sys.executable, os.path.join(ROOT, "scripts", script), *args])
                fwall, _, _ = run(scenario, d("nf"), "--threads", "1", "--mode", "fast", *sets)
                ewall, _, _ = run(scenario, d("ne"), "--threads", "1", "--mode", "exact", *sets)
                nf.append(nwall / fwall)
                ne.append(nwall / ewall)
            row(f"numpy script / fast mode, whole process, {what} (1 thread)",
                f"{med(nf):.2f}", ">= 10", med(nf) >= 10,
                f"scripts/{script} vs {os.path.basename(scenario)}, paired, median")
            row(f"numpy script / exact mode, {what}", f"{med(ne):.2f}", "-", None, "the same")
    # Exact mode against its HMAC floor: attempts per second over (raw HMAC-SHA1 codes per
    # second / HMACs per attempt), both from the same run's manifest (the raw codes are timed
    # between chunks), so the ratio is hmacs_per_attempt / codes_per_attempt_equivalent.
    for name, scenario, extra in [("quickstart", QUICK, []),
                                  ("pyotp-year at 30,000 tokens", YEAR,
                                   ["--set", "run.tokens=30000"])]:
        fl = []
        for _ in range(PAIRS):
            m = run(scenario, d("hf"), "--threads", "1", "--mode", "exact", *extra)[2]
            fl.append(m["hmacs_per_attempt"] / m["codes_per_attempt_equivalent"])
        row(f"exact mode / its HMAC floor, attempts per second ({name}, 1 thread)",
            f"{med(fl):.2f}", ">= 0.7", med(fl) >= 0.7,
            "hmacs_per_attempt / codes_per_attempt_equivalent from the manifest, median of 3")
    fixed = med([timed([BIN, "run", YEAR, "--out", d("one"), "--force", "--threads", "1",
                        "--set", "run.tokens=1"])[0] for _ in range(15)])
    row("fixed cost: whole process for 1 token (ms)", f"{fixed * 1000:.0f}", "< 50",
        fixed < 0.05, "pyotp-year.toml with run.tokens=1, median of 15: start, read, "
        "write CSV, draw 12 charts")

    # Threads, whole process.
    tr = []
    for _ in range(2 * PAIRS + 1):  # cheap, and the noisiest figure on a shared machine
        one = run(QUICK, d("t1"), "--threads", "1")[0]
        two = run(QUICK, d("t2"), "--threads", "2")[0]
        tr.append(one / two)
    row("2 threads / 1 thread, whole process (quickstart)", f"{med(tr):.2f}", ">= 1.85",
        med(tr) >= 1.85, "9 paired runs, median ratio")
    long = []
    five = os.path.join(ROOT, "scenarios", "mixed-fleet-5y.toml")
    for _ in range(PAIRS):
        one = run(five, d("l1"), "--threads", "1", "--set", "run.tokens=3000")[0]
        two = run(five, d("l2"), "--threads", "2", "--set", "run.tokens=3000")[0]
        long.append(one / two)
    row("2 threads / 1 thread, whole process (mixed-fleet-5y at 3,000 tokens)",
        f"{med(long):.2f}", ">= 1.85", med(long) >= 1.85, "paired runs, median ratio")

    # Memory flat in tokens.
    _, small, _ = run(MILLION, d("m1"), "--set", "run.tokens=10000")
    _, big, _ = run(MILLION, d("m5"), "--set", "run.tokens=50000")
    row("peak memory, million.toml at 10,000 and 50,000 tokens (MB)",
        f"{small:.0f} / {big:.0f}", "flat", big < 1.5 * small,
        "fast mode, 5 years; the full million: docs/scale.md")

    # Wide scans: google-authenticator-libpam scans ±1500 steps for every wrong code.
    wide, hm = [], []
    few = ["--threads", "1", "--set", "run.tokens=400"]
    for _ in range(PAIRS):
        a = run(WINDOWS, d("w0"), *few, "--set", "validator.preset=rfc6238")[2]
        b = run(WINDOWS, d("w1"), *few, "--set", "validator.preset=google-authenticator")[2]
        wide.append(b["codes_per_attempt_equivalent"] / a["codes_per_attempt_equivalent"])
        hm.append(b["hmacs_per_attempt"])
    row("google-authenticator / rfc6238 preset, cost per attempt", f"{med(wide):.1f}",
        "~1", med(wide) <= 1.5,
        f"window-sweep.toml at 400 tokens, exact mode; {med(hm):.0f} HMACs per attempt")

    # A sweep point against a plain run of one of its settings.
    one = ["--threads", "1"]
    ratios = []
    for _ in range(PAIRS):
        timed([BIN, "sweep", SWEEP, "--out", d("s"), "--force", *one])
        with open(os.path.join(d("s"), "manifest.json")) as f:
            per_point = json.load(f)["seconds_per_point"]
        plain = run(SWEEP, d("p"), *one)[2]["wall_seconds"]
        ratios.append(per_point / plain)
    row("sweep: one point / a plain run of its setting", f"{med(ratios):.2f}", "<= 0.5",
        med(ratios) <= 0.5, "scripts/ratio-sweep.toml, 4 window settings, 1 thread")

    # A 3-node cluster (random routing, lagging replication, node clocks seconds apart)
    # against the same fleet on one validator.
    cluster = d("cluster.toml")
    with open(QUICK) as f, open(cluster, "w") as g:
        g.write(f.read() + CLUSTER)
    cl = []
    for _ in range(3 * PAIRS):  # noisy: wall ratios of short runs scatter widely
        a = run(QUICK, d("c1"), "--threads", "1", "--mode", "exact")[2]
        b = run(cluster, d("c3"), "--threads", "1", "--mode", "exact")[2]
        cl.append(a["attempts_per_second"] / b["attempts_per_second"])
    row("3-node cluster / one validator, cost per attempt", f"{med(cl):.2f}", "<= 1.5",
        med(cl) <= 1.5, "quickstart, exact mode, 1 thread, 9 paired runs, median ratio")

    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\notpdrift ratios ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})\n")
    print("| figure | measured | goal | met |")
    print("|---|---:|---|---|")
    for name, value, goal, met, how in rows:
        flag = "-" if met is None else ("yes" if met else "**no**")
        print(f"| {name} ({how}) | {value} | {goal} | {flag} |")


if __name__ == "__main__":
    main()
