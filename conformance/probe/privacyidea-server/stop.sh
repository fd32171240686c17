#!/bin/bash
PI_DIR=${PI_DIR:-/tmp/pi-server}
[ -f "$PI_DIR/server.pid" ] && kill "$(cat "$PI_DIR/server.pid")" && rm -f "$PI_DIR/server.pid"
