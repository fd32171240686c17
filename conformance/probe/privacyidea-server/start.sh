#!/bin/bash
# Start privacyIDEA 3.14 (Flask/Werkzeug dev server) on 127.0.0.1:${PI_PORT:-5080}, in the background.
# Needs setup.sh first. Writes $PI_DIR/server.pid and $PI_DIR/server.log; waits until /healthz answers.
# PI_FAKETIME="@2026-01-01 00:00:00 x60" runs the server (only) under libfaketime
# (apt-get install libfaketime); the client side (curl, this script) keeps real time.
set -euo pipefail
VENV=${VENV:-/tmp/venv-pi}
PI_DIR=${PI_DIR:-/tmp/pi-server}
PORT=${PI_PORT:-5080}
export PRIVACYIDEA_CONFIGFILE="$PI_DIR/pi.cfg"
t0=$(date +%s.%N)
# --without-threads: one request at a time, so probe attempts are strictly ordered
FT=()
if [ -n "${PI_FAKETIME:-}" ]; then
  FT=(env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
      FAKETIME="$PI_FAKETIME" FAKETIME_DONT_FAKE_MONOTONIC=1)
elif [ -n "${PI_FAKETIME_FILE:-}" ]; then
  # the client sets the server clock by rewriting this file (e.g. "2026-01-05 08:00:00" = frozen);
  # FAKETIME_NO_CACHE=1: re-read on every time call
  FT=(env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
      FAKETIME_TIMESTAMP_FILE="$PI_FAKETIME_FILE" FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1)
fi
setsid "${FT[@]}" "$VENV/bin/pi-manage" run -h 127.0.0.1 -p "$PORT" --without-threads \
  > "$PI_DIR/server.log" 2>&1 < /dev/null &
echo $! > "$PI_DIR/server.pid"
for i in $(seq 1 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz/"; then
    echo "privacyIDEA up on 127.0.0.1:$PORT (pid $(cat "$PI_DIR/server.pid")) after $(echo "$(date +%s.%N) - $t0" | bc) s"
    exit 0
  fi
  sleep 0.2
done
echo "server did not come up; see $PI_DIR/server.log" >&2; exit 1
