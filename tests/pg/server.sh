#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests:
#   server.sh start|stop|url|restart|stop-server|start-server
# start: initdb a cluster under $TICKSTREAM_PG_DIR (default /tmp/tickstream-pg, or
#   /tmp/tickstream-pg-PORT with TICKSTREAM_PG_PORT; owned by the `postgres` user when run as
#   root), listen on 127.0.0.1 at $TICKSTREAM_PG_PORT or else at a free port (55432 when free,
#   else one the kernel hands out; a port taken between choosing and binding is retried with
#   another), remember the port in DIR/port, create database tickstream_test and the role
#   tickstream_pw (password tickstream-pw-secret, scram-sha-256; postgres itself: trust), print
#   the URL. Idempotent: a running server just prints the URL.
# stop: stops it and removes the cluster. url: the URL of the started cluster.
# restart: a fast restart on the same port (open connections are cut, as by a server restart).
# stop-server / start-server: stop the server / start it again, keeping the cluster and port.
set -euo pipefail

if [[ -n "${TICKSTREAM_PG_PORT:-}" ]]; then
  DIR="${TICKSTREAM_PG_DIR:-/tmp/tickstream-pg-$TICKSTREAM_PG_PORT}"  # readable by the postgres user
else
  DIR="${TICKSTREAM_PG_DIR:-/tmp/tickstream-pg}"
fi
DB=tickstream_test
PW_ROLE=tickstream_pw
PW_SECRET=tickstream-pw-secret
PREFERRED_PORT=55432

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

port() {
  if [[ -s "$DIR/port" ]]; then cat "$DIR/port"
  elif [[ -n "${TICKSTREAM_PG_PORT:-}" ]]; then echo "$TICKSTREAM_PG_PORT"
  else echo "server.sh: no server started under $DIR (server.sh start)" >&2; exit 1
  fi
}

url() { echo "postgresql://postgres@127.0.0.1:$(port)/$DB"; }

running() {
  [[ -f "$DIR/data/postmaster.pid" ]] && as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

# A port nothing listens on now: 55432 first, then ones the kernel hands out.
free_port() {
  /usr/bin/python3 - "$1" <<'PY'
import socket, sys
def bindable(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return s.getsockname()[1]
    except OSError:
        return None
    finally:
        s.close()
print(bindable(int(sys.argv[1])) or bindable(0))
PY
}

# Starts the server on port $1; returns 3 when the port was taken (the log says so), 1 otherwise.
start_on() {
  local log_size
  log_size=$(stat -c %s "$DIR/server.log" 2>/dev/null || echo 0)
  if as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $1 -k $DIR -c fsync=off" start >/dev/null; then
    return 0
  fi
  if tail -c +$((log_size + 1)) "$DIR/server.log" | grep -q "could not bind\|Address already in use"; then
    return 3
  fi
  cat "$DIR/server.log" >&2
  return 1
}

start() {
  local bin p rc try
  bin="$(bin_dir)"
  if running; then url; return; fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$DIR"
  as_owner "$bin/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale \
    >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
  # postgres: trust (every test connects as it); every other role: a password (scram-sha-256).
  printf '%s\n' "local all all trust" "host all postgres 127.0.0.1/32 trust" \
    "host all all 127.0.0.1/32 scram-sha-256" > "$DIR/data/pg_hba.conf"
  for try in 1 2 3 4 5; do
    p="${TICKSTREAM_PG_PORT:-$(free_port $PREFERRED_PORT)}"
    rc=0
    start_on "$p" || rc=$?
    [[ $rc -eq 0 ]] && break
    if [[ $rc -eq 3 && -z "${TICKSTREAM_PG_PORT:-}" ]]; then
      echo "server.sh: port $p was taken, trying another" >&2
      continue
    fi
    [[ $rc -eq 3 ]] && echo "server.sh: port $p (TICKSTREAM_PG_PORT) is taken" >&2
    exit 1
  done
  [[ $rc -eq 0 ]] || { echo "server.sh: no free port after $try tries" >&2; exit 1; }
  echo "$p" > "$DIR/port"
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$p" -U postgres "$DB"
  as_owner "$bin/psql" -h 127.0.0.1 -p "$p" -U postgres -d "$DB" -qX -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE $PW_ROLE LOGIN PASSWORD '$PW_SECRET'" \
    -c "GRANT ALL ON SCHEMA public TO $PW_ROLE" >/dev/null
  url
}

stop_server() {
  if running; then as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; fi
}

start_server() {
  [[ -d "$DIR/data" ]] || { echo "server.sh: no cluster under $DIR (server.sh start)" >&2; exit 1; }
  running || start_on "$(port)" || { echo "server.sh: cannot start on port $(port)" >&2; exit 1; }
}

restart() {
  [[ -d "$DIR/data" ]] || { echo "server.sh: no cluster under $DIR (server.sh start)" >&2; exit 1; }
  as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -m fast -w -t 60 restart >/dev/null
}

case "${1:-}" in
  start) start ;;
  stop) stop_server; rm -rf "$DIR" ;;
  url) url ;;
  restart) restart ;;
  stop-server) stop_server ;;
  start-server) start_server ;;
  *) echo "usage: $0 start|stop|url|restart|stop-server|start-server" >&2; exit 2 ;;
esac
