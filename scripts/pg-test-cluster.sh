#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on a loopback port for the tests and prints its URL.
# Installs Debian's postgresql package when no server binaries are found (needs root or sudo).
#   usage: scripts/pg-test-cluster.sh start|stop|resume   (env: PGPORT=54329, PGTEST_DIR=/tmp/effect-osb-pg)
#   start: a new, empty cluster; stop: stop it (PGSTOP_MODE fast by default, or immediate to simulate a crash);
#   resume: start the stopped cluster again with its data (the fault tests and the soak use stop + resume)
set -euo pipefail
PGPORT=${PGPORT:-54329}
DIR=${PGTEST_DIR:-/tmp/effect-osb-pg}

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    BIN=$(find_bin)
    if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
      echo "installing PostgreSQL from Debian's packages..." >&2
      SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
      $SUDO apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
      BIN=$(find_bin)
    fi
    if [ -f "$DIR/data/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >&2 || true; fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    if [ "$(id -u)" = "0" ]; then chown postgres "$DIR"; chmod o+x "$(dirname "$DIR")"; fi
    as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync >&2
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
      -o "-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
    echo "postgres://postgres@127.0.0.1:$PGPORT/postgres"
    ;;
  stop)
    BIN=$(find_bin)
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m "${PGSTOP_MODE:-fast}" stop >&2 || true
    ;;
  resume)
    BIN=$(find_bin)
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
      -o "-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
    echo "postgres://postgres@127.0.0.1:$PGPORT/postgres"
    ;;
esac
