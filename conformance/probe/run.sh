#!/bin/bash
# Probes a real privacyIDEA 3.14 (pinned in conformance/requirements.txt) on this machine and
# writes the probe folders under conformance/probe/. Opt-in: not part of `cargo test`, which
# only replays the folders committed here. Needs root for apt-get (libfaketime, jq, curl).
# Time: about 2 minutes with a cold pip cache (install 55 s, setup 14 s, each probe 3-20 s).
#
# The server runs under libfaketime with a frozen clock read from a file (FAKETIME_TIMESTAMP_FILE,
# FAKETIME_NO_CACHE=1); the probe sets that clock (--server-clock-file) instead of waiting, so
# an hour of the validator's time takes seconds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PI_DIR=${PI_DIR:-/tmp/otpdrift-pi}
export PI_PORT=${PI_PORT:-5080}
export PI_URL="http://127.0.0.1:$PI_PORT"
command -v jq >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] \
  || apt-get install -y -q libfaketime jq curl bc >/dev/null
(cd "$REPO" && cargo build --release -q)
OTPDRIFT="$REPO/target/release/otpdrift"
"$HERE/privacyidea-server/setup.sh"
"$HERE/privacyidea-server/stop.sh" 2>/dev/null || true
date -u +"%Y-%m-%d %H:%M:%S" > "$PI_DIR/faketime"
PI_FAKETIME_FILE="$PI_DIR/faketime" "$HERE/privacyidea-server/start.sh"
trap '"$HERE/privacyidea-server/stop.sh"' EXIT
probe() { # name flags...
  local name=$1; shift
  "$HERE/privacyidea-server/enroll.sh" PROBE1 "$(tail -1 "$HERE/secrets.csv" | cut -d, -f2)" > /dev/null
  (cd "$REPO" && "$OTPDRIFT" probe "privacyidea:$PI_URL" --secrets conformance/probe/secrets.csv \
    --server-clock-file "$PI_DIR/faketime" --out "conformance/probe/$name" --force "$@")
  cp "$HERE/secrets.csv" "$HERE/$name/secrets.csv"
}
probe privacyidea
OTPDRIFT_ADMIN_USER=admin OTPDRIFT_ADMIN_PASSWORD=test probe privacyidea-lockout --allow-lockout
