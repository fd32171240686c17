#!/bin/bash
# Enroll a TOTP token by serial only (no user, no realm), empty PIN.
# usage: enroll.sh SERIAL BASE32SECRET   (SHA1, 6 digits, 30 s)
set -euo pipefail
URL=${PI_URL:-http://127.0.0.1:5080}
SERIAL=${1:-PROBE1}
B32=${2:-JBSWY3DPEHPK3PXP}
HEX=$(python3 -c "import base64,sys;s=sys.argv[1];print(base64.b32decode(s+'='*(-len(s)%8)).hex())" "$B32")
JWT=$(curl -s -X POST "$URL/auth" -d username=admin -d password=test | jq -r .result.value.token)
# delete a previous token with the same serial (ignore errors)
curl -s -X DELETE -H "Authorization: $JWT" "$URL/token/$SERIAL" > /dev/null || true
curl -s -X POST -H "Authorization: $JWT" "$URL/token/init" \
  -d type=totp -d serial="$SERIAL" -d otpkey="$HEX" -d genkey=0 \
  -d otplen=6 -d hashlib=sha1 -d timeStep=30 -d pin=
echo
