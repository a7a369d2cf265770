#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests: server.sh start|stop|url.
# start: initdb a cluster (trust auth, owned by the `postgres` user when run as root), listen on
# 127.0.0.1:$TICKSTREAM_PG_PORT (default 55432), create database tickstream_test, print its URL.
# Idempotent: a running server just prints the URL. stop: stops it and removes the cluster.
set -euo pipefail

PORT="${TICKSTREAM_PG_PORT:-55432}"
DIR="${TICKSTREAM_PG_DIR:-/tmp/tickstream-pg-$PORT}"  # readable by the postgres user
DB=tickstream_test
URL="postgresql://postgres@127.0.0.1:$PORT/$DB"

bin_dir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/pg_ctl" && -x "$d/initdb" ]] && { echo "$d"; return; }
  done
  echo "server.sh: no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 1
}

# Runs a server binary as the cluster owner: `postgres` when we are root (initdb refuses root).
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

running() {
  [[ -f "$DIR/data/postmaster.pid" ]] && as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

start() {
  local bin
  bin="$(bin_dir)"
  if running; then echo "$URL"; return; fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$DIR"
  as_owner "$bin/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale \
    >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null \
    || { cat "$DIR/server.log" >&2; exit 1; }
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  echo "$URL"
}

stop() {
  if running; then as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
