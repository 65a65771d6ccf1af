#!/usr/bin/env bash
# PostgreSQL outage under load (issue 15): the service (Release, Production settings, card log on a throwaway
# PostgreSQL cluster) takes scenario a's order-select at a fixed rate (the open-loop generator: latency from each
# request's due time); PostgreSQL is stopped (pg_ctl -m fast) for OUTAGE_SECONDS and started again. Prints
# p50/p99/max and non-200 answers per phase (before, outage, the first 10 s after, the rest), then waits until the
# card log holds every card issued and compares.
#   bash bench/outage.sh                      300 req/s: 10 s before, 40 s down, 30 s after (after a 20 s warm-up: JIT and PGO, see bench/README.md)
#   OUTAGE_RATE=300 OUTAGE_SECONDS=40 OUTAGE_BEFORE=10 OUTAGE_AFTER=30 OUTAGE_WARMUP=20 bash bench/outage.sh
#   OUTAGE_SERVICE_ENV="Analytics__LockOut__Enabled=false" bash bench/outage.sh    extra service settings (K=V ...)
# Every request is a new hook call about a new patient (--vary hookInstance,patientId): two cards each, and the
# lock-out lookup runs on every call. Never part of the test suite. Needs PostgreSQL's server binaries (apt-get
# install postgresql, as scripts/test-services.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${OUTAGE_RATE:-300}
BEFORE=${OUTAGE_BEFORE:-10}
DOWN=${OUTAGE_SECONDS:-40}
AFTER=${OUTAGE_AFTER:-30}
WARMUP=${OUTAGE_WARMUP:-20}
PORT=${BENCH_PORT:-5186}
BASE="http://127.0.0.1:${PORT}"
BODY=fhir-fixtures/requests/order-select-sertraline-big-benchmark.json
SERVICE_DLL=src/CdsHooks.Api/bin/Release/net10.0/CdsHooks.Api.dll
TOOL_DLL=bench/CdsHooks.Benchmarks/bin/Release/net10.0/CdsHooks.Benchmarks.dll
OUT=bench/results/outage-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
state=$(mktemp -d)
service_pid=""

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$pg_bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
now_ms() { date +%s%3N; }

cleanup() {
  [ -n "$service_pid" ] && { kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; }
  as_pg "$pg_bin/pg_ctl" -D "$state/pg" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

echo "Building (Release)..." >&2
dotnet build -c Release src/CdsHooks.Api >/dev/null
dotnet build -c Release bench/CdsHooks.Benchmarks >/dev/null

# A throwaway cluster on a free loopback port (fsync on: the card log's durability is part of what is measured).
pg_port=55532
while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$state"
as_pg "$pg_bin/initdb" -D "$state/pg" -U postgres -A trust -E UTF8 >"$OUT/initdb.log" 2>&1
pg_start() { as_pg "$pg_bin/pg_ctl" -D "$state/pg" -l "$state/pg.log" -w start -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$state" >/dev/null; }
pg_start
as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres cds
count_cards() { as_pg "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d cds -tAc "SELECT COUNT(*) FROM card_log"; }

mkdir -p "$state/data" && chmod 777 "$state/data"
env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning Logging__LogLevel__CdsHooks.Api.Analytics=Information \
  Logging__LogLevel__CdsHooks.Api.LockOut=Information ${OUTAGE_SERVICE_ENV:-} Security__RequireJwt=false \
  Limits__RequestsPerMinutePerClient=0 Analytics__PatientKey="$(head -c 32 /dev/urandom | base64)" \
  Storage__Provider=postgres "Storage__ConnectionString=Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=cds" \
  Analytics__CardLogSpoolPath="$state/data/card-log.spool" \
  dotnet "$SERVICE_DLL" --urls "$BASE" >"$OUT/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 1 150); do curl -fsS "$BASE/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$BASE/health/ready" >/dev/null || { echo "service not ready; see $OUT/service.log" >&2; exit 1; }

echo "Load: $RATE req/s, ${WARMUP} s warm-up, then ${BEFORE} s before, ${DOWN} s with PostgreSQL stopped, ${AFTER} s after" >&2
load() { # $1 seconds, $2 timeline file
  dotnet "$TOOL_DLL" rate --url "$BASE/cds-services/rls-iron-order-select" --body "$BODY" --rate "$RATE" --seconds "$1" \
    --warmup 0 --connections 256 --vary hookInstance,patientId --timeline "$2"
}
load "$WARMUP" "$OUT/warmup.tsv" >"$OUT/warmup.txt" 2>&1
load $((BEFORE + DOWN + AFTER)) "$OUT/timeline.tsv" >"$OUT/load.txt" 2>&1 &
load_pid=$!
sleep "$BEFORE"
stopped_at=$(now_ms)
as_pg "$pg_bin/pg_ctl" -D "$state/pg" -m fast -w stop >/dev/null
echo "  PostgreSQL stopped" >&2
ready_down=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$BASE/health/ready" || true)
sleep "$DOWN"
pg_start
started_at=$(now_ms)
echo "  PostgreSQL started again (readiness while down: $ready_down)" >&2
wait "$load_pid"
grep RESULT "$OUT/load.txt" >&2

# Phases by due time: before the stop, while stopped, the first 10 s after the start, the rest (mawk: no asort).
echo "| Phase | Requests | Non-200 | p50 ms | p99 ms | max ms |" | tee "$OUT/phases.md"
echo "|---|---:|---:|---:|---:|---:|" | tee -a "$OUT/phases.md"
for phase in before outage recovery after; do
  awk -v s="$stopped_at" -v e="$started_at" -v want="$phase" '
    { p = $1 < s ? "before" : $1 < e ? "outage" : $1 < e + 10000 ? "recovery" : "after"; if (p == want) print $2, $3 }' "$OUT/timeline.tsv" \
    | sort -n -k1,1 | awk -v name="$phase" '
      { v[NR] = $1; if ($2 < 200 || $2 >= 300) bad++ }
      END { if (NR == 0) exit; i99 = int(NR * 0.99); if (i99 < NR) i99++; printf "| %s | %d | %d | %.1f | %.1f | %.1f |\n", name, NR, bad + 0, v[int(NR * 0.5) + 1], v[i99], v[NR] }' \
    | tee -a "$OUT/phases.md"
done

# Every issued card stored? Two cards per answered call (warm-up included); wait for the writer to catch up.
answered=$(cat "$OUT/warmup.tsv" "$OUT/timeline.tsv" | awk '$3 >= 200 && $3 < 300' | wc -l)
expected=$(( 2 * answered ))
deadline=$(( $(date +%s) + 120 )); stored=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  stored=$(count_cards 2>/dev/null || echo 0)
  [ "$stored" -ge "$expected" ] && break
  sleep 1
done
caught_up=$(( ( $(now_ms) - started_at ) / 1000 ))
echo "Card log: $stored cards stored, $expected issued (2 per answered call); counted ${caught_up} s after PostgreSQL started"
grep -E "Card log|spool|dropped" "$OUT/service.log" | cut -c1-260 | tail -n 12 || true
echo "(results in $OUT)"
