#!/bin/bash
ST=${ST:-/tmp/otpdrift-radius}
[ -f "$ST/run/server.pid" ] && kill "$(cat "$ST/run/server.pid")" && rm -f "$ST/run/server.pid"
