#!/bin/bash
# Probes real validators on this machine and writes the probe folders under conformance/probe/:
#   run.sh privacyidea   privacyIDEA 3.14 (pinned in conformance/requirements.txt) over HTTP
#   run.sh radius-pam    google-authenticator-libpam and pam_oath behind FreeRADIUS (rlm_pam)
#                        over RADIUS, and the same modules through PAM (pamtester)
#   run.sh               both
# Opt-in: not part of `cargo test`, which only replays the folders committed here. Needs root
# (apt-get; PAM services in /etc/pam.d). Time: privacyIDEA about 2 minutes with a cold pip
# cache (install 55 s, setup 14 s, each probe 3-20 s); RADIUS and PAM about 20 s of apt-get
# and a few seconds per probe.
#
# Every server runs under libfaketime with a frozen clock read from a file
# (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1); the probe sets that clock
# (--server-clock-file) instead of waiting, so an hour of the validator's time takes seconds.
set -euo pipefail
WHAT=${1:-all}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PI_DIR=${PI_DIR:-/tmp/otpdrift-pi}
export PI_PORT=${PI_PORT:-5080}
export PI_URL="http://127.0.0.1:$PI_PORT"
(cd "$REPO" && cargo build --release -q)
OTPDRIFT="$REPO/target/release/otpdrift"
SECRET=$(tail -1 "$HERE/secrets.csv" | cut -d, -f2)
STAMP() { date -u +"%Y-%m-%d %H:%M:%S"; }

if [ "$WHAT" = all ] || [ "$WHAT" = radius-pam ]; then
  export ST=${ST:-/tmp/otpdrift-radius}
  "$HERE/radius-pam/setup.sh"
  "$HERE/radius-pam/stop.sh" 2>/dev/null || true
  STAMP > "$ST/faketime"
  RADIUS_FAKETIME_FILE="$ST/faketime" "$HERE/radius-pam/start.sh"
  trap '"$HERE/radius-pam/stop.sh"' EXIT
  printf 'testing123\n' > "$ST/shared-secret"
  export PAM_FAKETIME_FILE="$ST/faketime"
  rprobe() { # name target flags...
    local name=$1 target=$2; shift 2
    "$HERE/radius-pam/enroll.sh" PROBE1 "$SECRET"
    (cd "$REPO" && "$OTPDRIFT" probe "$target" --secrets conformance/probe/secrets.csv \
      --server-clock-file "$ST/faketime" --out "conformance/probe/$name" --force "$@")
    cp "$HERE/secrets.csv" "$HERE/$name/secrets.csv"
  }
  rprobe radius-google-authenticator radius:127.0.0.1:18121 --radius-secret-file "$ST/shared-secret"
  rprobe radius-pam-oath radius:127.0.0.1:18122 --radius-secret-file "$ST/shared-secret"
  rprobe pam-google-authenticator pam:otpdrift-probe-ga-default --pam-helper "$HERE/radius-pam/pamtester-faketime"
  rprobe pam-pam-oath pam:otpdrift-probe-oath --pam-helper "$HERE/radius-pam/pamtester-faketime"
  "$HERE/radius-pam/stop.sh"
  trap - EXIT
fi
[ "$WHAT" = all ] || [ "$WHAT" = privacyidea ] || exit 0

command -v jq >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] \
  || apt-get install -y -q libfaketime jq curl bc >/dev/null
"$HERE/privacyidea-server/setup.sh"
"$HERE/privacyidea-server/stop.sh" 2>/dev/null || true
STAMP > "$PI_DIR/faketime"
PI_FAKETIME_FILE="$PI_DIR/faketime" "$HERE/privacyidea-server/start.sh"
trap '"$HERE/privacyidea-server/stop.sh"' EXIT
probe() { # name flags...
  local name=$1; shift
  "$HERE/privacyidea-server/enroll.sh" PROBE1 "$SECRET" > /dev/null
  (cd "$REPO" && "$OTPDRIFT" probe "privacyidea:$PI_URL" --secrets conformance/probe/secrets.csv \
    --server-clock-file "$PI_DIR/faketime" --out "conformance/probe/$name" --force "$@")
  cp "$HERE/secrets.csv" "$HERE/$name/secrets.csv"
}
# privacyIDEA re-reads its configuration when its clock says the cache is old, which a frozen
# clock never does: the server is restarted after each change.
set_autoresync() { # True|False
  local jwt
  jwt=$(curl -s -X POST "$PI_URL/auth" -d username=admin -d password=test | jq -r .result.value.token)
  curl -s -X POST -H "Authorization: $jwt" -H "Content-Type: application/json" \
    "$PI_URL/system/setConfig" -d "{\"AutoResync\": \"$1\"}" > /dev/null
  "$HERE/privacyidea-server/stop.sh"
  PI_FAKETIME_FILE="$PI_DIR/faketime" "$HERE/privacyidea-server/start.sh"
}
set_autoresync False   # the defaults first, whatever an earlier run left
probe privacyidea
# With an administrator login the probe also measures the resync endpoint (/token/resync): its
# 1000-step sync window, looked for out to 1100 steps, costs days of the server's time (free
# here) because each trial behind the centre waits for the true step to pass the last used one.
OTPDRIFT_ADMIN_USER=admin OTPDRIFT_ADMIN_PASSWORD=test probe privacyidea-lockout --allow-lockout \
  --max-band 1100 --max-time 400h
# The system setting AutoResync = True (privacyIDEA's sync window stays 1000 steps): the band
# is measured out to 1100 steps, which moves the credential's centre thousands of steps ahead
# and back (free here: the probe moves the server's clock).
set_autoresync True
OTPDRIFT_ADMIN_USER=admin OTPDRIFT_ADMIN_PASSWORD=test probe privacyidea-autoresync \
  --allow-lockout --max-band 1100 --max-time 400h
set_autoresync False
