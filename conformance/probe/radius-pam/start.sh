#!/bin/bash
# Starts FreeRADIUS (setup.sh first) in the background, under libfaketime with a frozen clock
# read from $RADIUS_FAKETIME_FILE when that is set (the PAM modules then read that time), and
# waits until it answers Status-Server.
set -euo pipefail
ST=${ST:-/tmp/otpdrift-radius}
FT=()
if [ -n "${RADIUS_FAKETIME_FILE:-}" ]; then
  FT=(env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
      FAKETIME_TIMESTAMP_FILE="$RADIUS_FAKETIME_FILE" FAKETIME_NO_CACHE=1
      FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1)
fi
setsid "${FT[@]}" freeradius -f -l stdout -d "$ST/raddb" > "$ST/run/server.log" 2>&1 < /dev/null &
echo $! > "$ST/run/server.pid"
for i in $(seq 1 50); do
  if echo "Message-Authenticator = 0x00" | radclient -q -r 1 -t 1 127.0.0.1:18121 status testing123 >/dev/null 2>&1; then
    echo "FreeRADIUS up (pid $(cat "$ST/run/server.pid"))"
    exit 0
  fi
  sleep 0.1
done
echo "FreeRADIUS did not start; see $ST/run/server.log" >&2
exit 1
