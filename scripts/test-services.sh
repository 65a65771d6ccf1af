#!/usr/bin/env bash
# Real PostgreSQL and Redis for the scale-out and storage tests, on loopback only; Debian's chromium for the
# dashboard's browser test (driven by Playwright, which cannot download a browser here).
#
#   scripts/test-services.sh start   installs them from Debian packages when missing (apt-get), starts them in a
#                                    temp dir on free loopback ports (from 55432 / 56379), waits until they answer,
#                                    creates the test database, writes an env file and prints ITS PATH on stdout
#                                    (everything else goes to stderr), e.g.  set -a; . "$(scripts/test-services.sh start)"; set +a
#   scripts/test-services.sh stop    stops what start started and removes the temp dir
#   scripts/test-services.sh env     prints the env file path (when started)
#
# The env file also sets CDS_TEST_CHROMIUM (the chromium binary).
# The env file sets CDS_TEST_POSTGRES (an Npgsql connection string for an admin user that may create databases)
# (tests create one database per fixture from it) and CDS_TEST_REDIS (a StackExchange.Redis configuration string). Tests read only those two variables.
# One state dir per checkout, so two clones on one machine do not stop each other's servers.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state="${TMPDIR:-/tmp}/cds-test-services-$(printf '%s' "$repo" | md5sum | cut -c1-12)"
env_file="$state/env"

log() { echo "test-services: $*" >&2; }

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

install_missing() {
  local want=()
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || want+=(postgresql)
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || want+=(redis-server)
  command -v chromium >/dev/null || want+=(chromium)
  [ ${#want[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then log "missing ${want[*]} and not root: install them (apt-get install ${want[*]})"; return 1; fi
  log "installing ${want[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  # The packages' own default cluster/server are not used (and policy may stop them from starting): ours run below.
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${want[@]}" >&2
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Both servers of this checkout answer on the ports recorded at start (pid files alone can be stale).
answering() {
  [ -f "$state/ports" ] || return 1
  local pg_port redis_port
  read -r pg_port redis_port <"$state/ports"
  as_pg "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -t 5 \
    && [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ]
}

start() {
  if [ -f "$env_file" ] && answering; then
    command -v chromium >/dev/null || install_missing
    log "already running ($state)"; echo "$env_file"; return 0
  fi
  stop_servers
  install_missing
  mkdir -p "$state"
  local bin pg_port redis_port
  bin=$(pg_bin)
  pg_port=$(free_port "${CDS_TEST_PG_PORT:-55432}")
  redis_port=$(free_port "${CDS_TEST_REDIS_PORT:-56379}")

  # PostgreSQL: a throwaway cluster owned by postgres, trust auth on loopback only; no fsync (test data only).
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$state"; chmod 700 "$state"; fi
  as_pg "$bin/initdb" -D "$state/pg" -U postgres -A trust --no-sync -E UTF8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log" >&2; return 1; }
  as_pg "$bin/pg_ctl" -D "$state/pg" -l "$state/pg.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$state -c fsync=off -c max_connections=200" >&2 \
    || { cat "$state/pg.log" >&2; return 1; }
  as_pg "$bin/pg_isready" -h 127.0.0.1 -p "$pg_port" -t 30 >&2
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres cds_test >&2

  # Redis: no persistence, loopback only, daemonized with a pid file in the state dir.
  redis-server --bind 127.0.0.1 --port "$redis_port" --protected-mode yes --save '' --appendonly no \
    --dir "$state" --daemonize yes --pidfile "$state/redis.pid" --logfile "$state/redis.log" >&2
  local i
  for i in $(seq 1 100); do
    [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ] && break
    [ "$i" -eq 100 ] && { log "redis did not answer"; cat "$state/redis.log" >&2; return 1; }
    sleep 0.1
  done

  echo "$pg_port $redis_port" >"$state/ports"
  cat >"$env_file" <<EOF
CDS_TEST_POSTGRES='Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=cds_test'
CDS_TEST_REDIS='127.0.0.1:$redis_port'
CDS_TEST_CHROMIUM='$(command -v chromium)'
EOF
  chmod 644 "$env_file"
  log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($state)"
  echo "$env_file"
}

stop_servers() {
  [ -d "$state" ] || return 0
  if [ -f "$state/pg/postmaster.pid" ]; then as_pg "$(pg_bin)/pg_ctl" -D "$state/pg" -m immediate -w stop >&2 || true; fi
  if running "$state/redis.pid"; then kill "$(cat "$state/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop_servers; log "stopped" ;;
  env) [ -f "$env_file" ] && echo "$env_file" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
