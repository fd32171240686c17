#!/bin/bash
# One-time setup of a privacyIDEA 3.14 server state in $PI_DIR (default /tmp/pi-server):
# venv (if missing), pi.cfg with SQLite, enckey, tables, admin "admin"/"test".
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../../.." && pwd)}
VENV=${VENV:-/tmp/venv-pi}
PI_DIR=${PI_DIR:-/tmp/pi-server}
if [ ! -x "$VENV/bin/pi-manage" ]; then
  python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REPO/conformance/requirements.txt"
fi
mkdir -p "$PI_DIR"
cat > "$PI_DIR/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = 'sqlite:///$PI_DIR/pi.sqlite'
SECRET_KEY = 'otpdrift-probe-secret-key'
PI_PEPPER = 'otpdrift'
PI_ENCFILE = '$PI_DIR/enckey'
PI_AUDIT_NO_SIGN = True
PI_LOGFILE = '$PI_DIR/privacyidea.log'
PI_LOGLEVEL = 20
# cheap argon2 for admin password and token PINs (as privacyIDEA's TestingConfig)
PI_HASH_ALGO_PARAMS = {'argon2__rounds': 1, 'argon2__memory_cost': 8, 'argon2__parallelism': 1}
CFG
export PRIVACYIDEA_CONFIGFILE="$PI_DIR/pi.cfg"
PM="$VENV/bin/pi-manage"
[ -f "$PI_DIR/enckey" ] || $PM setup create_enckey
$PM setup create_tables
$PM admin add admin -p test || true
echo "setup done in $PI_DIR"
