#!/bin/bash
# Installs FreeRADIUS, google-authenticator-libpam, pam_oath, pamtester and libfaketime from
# Debian, writes the PAM services otpdrift-probe-{ga,ga-default,oath} (state under $ST) and a
# FreeRADIUS configuration in $ST/raddb: virtual server `ga` on 127.0.0.1:18121 (rlm_pam ->
# otpdrift-probe-ga) and `oath` on 127.0.0.1:18122 (rlm_pam -> otpdrift-probe-oath), client
# 127.0.0.1 with shared secret testing123. Root only (PAM services live in /etc/pam.d).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ST=${ST:-/tmp/otpdrift-radius}
if ! command -v freeradius >/dev/null || ! command -v pamtester >/dev/null \
   || [ ! -e /usr/lib/x86_64-linux-gnu/security/pam_oath.so ] \
   || [ ! -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q freeradius freeradius-utils \
    libpam-google-authenticator libpam-oath pamtester libfaketime >/dev/null
fi
mkdir -p "$ST/run" "$ST/raddb" "$ST/ga" "$ST/ga-default" "$ST/oath"
chmod 700 "$ST/ga" "$ST/ga-default" "$ST/oath"
sed "s|@ST@|$ST|g" "$HERE/radiusd.conf" > "$ST/raddb/radiusd.conf"
echo '$INCLUDE /usr/share/freeradius/dictionary' > "$ST/raddb/dictionary"
# pam_google_authenticator reads its options from the secret file, one per user.
cat > /etc/pam.d/otpdrift-probe-ga <<PAM
auth required pam_google_authenticator.so secret=$ST/ga/\${USER} user=root
account required pam_permit.so
PAM
cat > /etc/pam.d/otpdrift-probe-ga-default <<PAM
auth required pam_google_authenticator.so secret=$ST/ga-default/\${USER} user=root
account required pam_permit.so
PAM
cat > /etc/pam.d/otpdrift-probe-oath <<PAM
auth required pam_oath.so usersfile=$ST/oath/users.oath window=5 digits=6
account required pam_permit.so
PAM
