#!/bin/bash
# Enrols USER with BASE32 fresh in every state file (no used steps, no learned skew):
# $ST/ga/USER (" TOTP_AUTH, " DISALLOW_REUSE), $ST/ga-default/USER (" TOTP_AUTH only: the
# module's defaults) and USER's line in $ST/oath/users.oath (HOTP/T30/6).
# usage: enroll.sh USER BASE32
set -euo pipefail
ST=${ST:-/tmp/otpdrift-radius}
USR=$1
B32=$2
umask 077
printf '%s\n" TOTP_AUTH\n" DISALLOW_REUSE\n' "$B32" > "$ST/ga/$USR"
printf '%s\n" TOTP_AUTH\n' "$B32" > "$ST/ga-default/$USR"
HEX=$(python3 -c "import base64,sys;s=sys.argv[1];print(base64.b32decode(s+'='*(-len(s)%8)).hex())" "$B32")
printf 'HOTP/T30/6\t%s\t-\t%s\n' "$USR" "$HEX" > "$ST/oath/users.oath"
