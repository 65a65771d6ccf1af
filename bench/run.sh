#!/usr/bin/env bash
# Load benchmark of the RLS CDS Hooks service: Release build on loopback, driven by wrk at a fixed
# concurrency and by bench/CdsHooks.Benchmarks' open-loop generator at a fixed rate. Prints a table.
#   bash bench/run.sh          every scenario
#   bash bench/run.sh a d      only these
# Knobs (environment): BENCH_SECONDS (12) per measured run, BENCH_WARMUP (20: tiered JIT with PGO reaches its
# steady state after ~16 s of load on 2 cores), BENCH_RATE (1000),
# BENCH_CONNECTIONS (16), BENCH_THREADS (2), BENCH_PORT (5186). Loopback only; every run is time-bounded.
# Scenarios with client JWTs (e, e2): BENCH_TOKEN_RATE_<id> or BENCH_TOKEN_RATE, the highest req/s wrk is expected to
# reach, which sizes the single-use tokens signed before the service starts (default per scenario, below).
# Never part of the test suite: it reports, it does not pass or fail on figures.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${BENCH_SECONDS:-12}
WARMUP=${BENCH_WARMUP:-20}
RATE=${BENCH_RATE:-1000}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-5186}
STUB_PORT=${BENCH_STUB_PORT:-5187}
BASE="http://127.0.0.1:${PORT}"

SERVICE_DLL=src/CdsHooks.Api/bin/Release/net10.0/CdsHooks.Api.dll
TOOL_DLL=bench/CdsHooks.Benchmarks/bin/Release/net10.0/CdsHooks.Benchmarks.dll
DATA_DIR=$(mktemp -d)

# One line per scenario, fields separated by '|':
#   id | description | method | path | request body file ('-' for none) | extra service environment (K=V ...) | stub command | server command | client JWTs
# The stub command (optional) is started in the background before the service and stopped after it,
# for scenarios whose service reads from a FHIR server instead of prefetch. The server command (optional) replaces
# the CDS service: scenario f measures a bare Kestrel endpoint that only reads the body (the machine's ceiling).
# Client JWTs (optional), ALG:RATE: the service trusts one issuer whose key signs ALG (ES384 or RS384), and every request
# carries a token never sent before; RATE is the default ceiling (req/s) that sizes how many tokens wrk may use.
SCENARIOS=(
  "a|order-select, full prefetch (31 resources, 37 KB), sertraline selected|POST|/cds-services/rls-iron-order-select|fhir-fixtures/requests/order-select-sertraline-big-benchmark.json||"
  "b|order-select, no prefetch: all six keys read from a stub FHIR server adding 20 ms per answer|POST|/cds-services/rls-iron-order-select|bench/results/order-select-no-prefetch.json|Fhir__AllowedServers__0=http://127.0.0.1:${STUB_PORT}/fhir Fhir__AllowInsecureHttp=true|dotnet $TOOL_DLL stub --port ${STUB_PORT} --latency-ms 20"
  "c|discovery|GET|/cds-services|-||"
  "d|patient-view, RLS with low TSAT and raised CRP|POST|/cds-services/rls-iron-patient-view|fhir-fixtures/requests/patient-view-low-tsat-high-crp.json||"
  "e|scenario a with a fresh ES384 client JWT (P-384) on every call, verified by the service|POST|/cds-services/rls-iron-order-select|fhir-fixtures/requests/order-select-sertraline-big-benchmark.json||||ES384:2500"
  "e2|scenario a with a fresh RS384 client JWT (RSA 2048) on every call, verified by the service|POST|/cds-services/rls-iron-order-select|fhir-fixtures/requests/order-select-sertraline-big-benchmark.json||||RS384:6000"
  "f|floor: bare Kestrel reading scenario a's body and sending scenario a's answer, no CDS work (the ceiling)|POST|/cds-services/rls-iron-order-select|fhir-fixtures/requests/order-select-sertraline-big-benchmark.json|||dotnet $TOOL_DLL floor --port ${PORT} --response FLOOR_RESPONSE"
)

OUT_DIR=bench/results
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/run-$(date -u +%Y%m%dT%H%M%SZ).log"
service_pid=""
stub_pid=""
TOKEN_DIR="$OUT_DIR/tokens"
# Client JWT settings for the service (one element per variable, so that the JWKS JSON is passed intact).
auth_env=()

stop_service() {
  if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; service_pid=""; fi
  # The stub is a test tool holding keep-alive connections from the service: stop it hard.
  if [ -n "$stub_pid" ]; then kill -9 "$stub_pid" 2>/dev/null || true; wait "$stub_pid" 2>/dev/null || true; stub_pid=""; fi
}
trap 'stop_service; rm -rf "$DATA_DIR" "$TOKEN_DIR"' EXIT

ensure_wrk() {
  command -v wrk >/dev/null && return
  echo "Installing wrk (Debian package)..." >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
}

field() { echo "$1" | cut -d'|' -f"$2"; }
kv() { echo "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }

start_service() { # $1: extra environment, $2: a command replacing the service (optional)
  local extra=$1 server=${2:-}
  if [ -n "$server" ]; then
    # The same GC settings as the service's runtimeconfig (server GC, no dynamic adaptation).
    DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=0 bash -c "exec $server" >>"$LOG" 2>&1 &
  else
    # shellcheck disable=SC2086
    # Development: no client JWTs (the load tool signs nothing); no per-client rate limit; the card log in a scratch file.
    env ASPNETCORE_ENVIRONMENT=Development Logging__LogLevel__Default=Warning Limits__RequestsPerMinutePerClient=0 \
      "Storage__ConnectionString=Data Source=$DATA_DIR/bench.db" $extra "${auth_env[@]}" \
      dotnet "$SERVICE_DLL" --urls "$BASE" >>"$LOG" 2>&1 &
  fi
  service_pid=$!
  for _ in $(seq 1 150); do
    curl -fsS "$BASE/health/live" >/dev/null 2>&1 && return 0
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "The service did not start; see $LOG" >&2
  exit 1
}

peak_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$service_pid/status"; }
# CPU time the service used (user + system, all threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$service_pid/stat"; }
CLK_TCK=$(getconf CLK_TCK)
# Microseconds of service CPU per request: $1 ticks before, $2 ticks after, $3 requests.
cpu_us() { awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1e6 / hz / n; else print "-" }'; }

# Single-use client JWTs for one scenario, signed before its service starts, and the service settings that trust
# their key. $1: scenario id, $2: ALG:RATE, $3: the URL called (the tokens' aud). Files: check.txt (one token: sent
# once for the 200 check, then again to see the replay refused), wrk-warmup.txt and wrk.txt (wrk's two runs, sized
# for the ceiling rate), rate.txt (the fixed-rate run: its warm-up takes the first RATE x WARMUP lines).
ISSUER=https://ehr.bench.example
DEFAULT_REPLAY_CAPACITY=200000
prepare_tokens() {
  local alg=${2%%:*} ceiling_var="BENCH_TOKEN_RATE_$1"
  local ceiling=${!ceiling_var:-${BENCH_TOKEN_RATE:-${2##*:}}}
  local wrk_warmup=$(( ceiling * WARMUP )) wrk_measured=$(( ceiling * SECONDS_PER_RUN )) rate_tokens=$(( RATE * (WARMUP + SECONDS_PER_RUN) ))
  local total=$(( 1 + wrk_warmup + wrk_measured + rate_tokens ))
  # exp must outlast the scenario (two warm-ups, two measured runs, start-up) and stay within the service's
  # Security:MaxTokenLifetimeSeconds (3600 by default).
  local lifetime=$(( 2 * (WARMUP + SECONDS_PER_RUN) + 600 ))
  [ "$lifetime" -ge 900 ] || lifetime=900
  if [ "$lifetime" -gt 3600 ]; then echo "BENCH_WARMUP + BENCH_SECONDS too long for one token lifetime (at most 3600 s)" >&2; exit 1; fi
  rm -rf "$TOKEN_DIR" && mkdir -p "$TOKEN_DIR"
  echo "  signing $total single-use $alg tokens: wrk sized for $ceiling req/s ($wrk_warmup warm-up + $wrk_measured measured), rate $rate_tokens, check 1" >&2
  dotnet "$TOOL_DLL" tokens --alg "$alg" --count "1,$wrk_warmup,$wrk_measured,$rate_tokens" \
    --out "$TOKEN_DIR/check.txt,$TOKEN_DIR/wrk-warmup.txt,$TOKEN_DIR/wrk.txt,$TOKEN_DIR/rate.txt" \
    --issuer "$ISSUER" --aud "$3" --jwks-out "$TOKEN_DIR/jwks.json" --lifetime-s "$lifetime" 2>&1 | tee -a "$LOG" | sed 's/^/  /' >&2
  # The service remembers every jti until its token expires and refuses new tokens once its replay store is full:
  # room for every token of the scenario (none expires during it).
  local capacity=$(( total > DEFAULT_REPLAY_CAPACITY ? total : DEFAULT_REPLAY_CAPACITY ))
  if [ "$capacity" -gt "$DEFAULT_REPLAY_CAPACITY" ]; then echo "  Security__ReplayCacheCapacity=$capacity (the default $DEFAULT_REPLAY_CAPACITY would refuse the last tokens)" >&2; fi
  # With an issuer configured the service requires a JWT on every call, Development or not.
  auth_env=("Security__Issuers__0__Issuer=$ISSUER" "Security__Issuers__0__Jwks=$(cat "$TOKEN_DIR/jwks.json")"
    "Security__PublicBaseUrl=$BASE" "Security__ReplayCacheCapacity=$capacity")
}

# Sends the scenario's request once and prints the status; $1: where the answer goes, further arguments go to curl.
probe() {
  local out=$1; shift
  if [ -n "$body" ]; then
    curl -s -o "$out" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' --data-binary "@$body" "$@" "$BASE$path"
  else
    curl -s -o "$out" -w '%{http_code}' "$@" "$BASE$path"
  fi
}

# The Errors cell of a RESULT line: with client JWTs, how many answers were 401 and how many requests found no token left.
errors_cell() {
  local cell untokened
  cell=$(kv "$1" errors)
  if [ -n "$auth" ]; then
    cell="$cell (401: $(kv "$1" unauthorized)"
    untokened=$(kv "$1" untokened || true)
    if [ -n "$untokened" ] && [ "$untokened" != 0 ]; then cell="$cell, no token left: $untokened"; fi
    cell="$cell)"
  fi
  echo "$cell"
}

ensure_wrk
echo "Building (Release)..." >&2
dotnet build bench/CdsHooks.Benchmarks -c Release -v q -nologo >>"$LOG" 2>&1 || { echo "Build failed; see $LOG" >&2; exit 1; }
# Scenario (b)'s body: the big order-select request without prefetch, pointing at the stub.
dotnet "$TOOL_DLL" strip-prefetch --in fhir-fixtures/requests/order-select-sertraline-big-benchmark.json \
  --out "$OUT_DIR/order-select-no-prefetch.json" --fhir "http://127.0.0.1:${STUB_PORT}/fhir"

selected=("$@")
rows=()
for s in "${SCENARIOS[@]}"; do
  id=$(field "$s" 1); desc=$(field "$s" 2); method=$(field "$s" 3); path=$(field "$s" 4)
  body=$(field "$s" 5); extra=$(field "$s" 6); stub=$(field "$s" 7); server=$(field "$s" 8); auth=$(field "$s" 9)
  # The floor answers what the service answered to scenario a (when a ran first), else an empty card list.
  floor_response="$OUT_DIR/response-a.json"; [ -s "$floor_response" ] || { echo '{"cards":[]}' >"$OUT_DIR/floor-empty.json"; floor_response="$OUT_DIR/floor-empty.json"; }
  server=${server//FLOOR_RESPONSE/$floor_response}
  if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " =~ \ ${id}\  ]]; then continue; fi
  [ "$body" = "-" ] && body=""

  echo "Scenario $id: $desc" >&2
  if [ -n "$stub" ]; then
    bash -c "exec $stub" >>"$LOG" 2>&1 & stub_pid=$!
    for _ in $(seq 1 150); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${STUB_PORT}/fhir/Patient/none")" != "000" ] && break
      sleep 0.2
    done
  fi
  auth_env=()
  auth_header=()
  tokens_warmup=""; tokens_measured=""
  if [ -n "$auth" ]; then
    prepare_tokens "$id" "$auth" "$BASE$path"
    tokens_warmup=$TOKEN_DIR/wrk-warmup.txt; tokens_measured=$TOKEN_DIR/wrk.txt
  fi
  start_service "$extra" "$server"

  if [ -n "$auth" ]; then
    # Authentication must be on: the same request without a token is refused.
    status=$(probe /dev/null)
    if [ "$status" != "401" ]; then echo "  without a token $method $path answered $status, not 401: client authentication is off" >&2; stop_service; exit 1; fi
    echo "  without a token: 401" >&2
    auth_header=(-H "Authorization: Bearer $(head -n 1 "$TOKEN_DIR/check.txt")")
  fi
  # The request must succeed before it is measured (a 4xx would measure the error path).
  status=$(probe "$OUT_DIR/response-$id.json" "${auth_header[@]}")
  if [ "$status" != "200" ]; then echo "  $method $path answered $status; see $OUT_DIR/response-$id.json and $LOG" >&2; stop_service; exit 1; fi
  topics=$(grep -o '"topic":{[^}]*"code":"[a-z-]*"' "$OUT_DIR/response-$id.json" | grep -o '"code":"[a-z-]*"' | cut -d'"' -f4 | paste -sd, - || true)
  echo "  ${auth:+with a fresh ${auth%%:*} token: }200, $(wc -c <"$OUT_DIR/response-$id.json") bytes${topics:+, cards: $topics}" >&2
  if [ -n "$auth" ]; then
    # The same token again: the service refuses a replayed jti, which is why every request below has its own.
    status=$(probe /dev/null "${auth_header[@]}")
    if [ "$status" != "401" ]; then echo "  the same token again answered $status, not 401: replays are not refused" >&2; stop_service; exit 1; fi
    echo "  the same token again: 401 (replayed jti refused)" >&2
  fi

  # Fixed concurrency: wrk, after a warm-up run (JIT, tiered compilation, pools). With client JWTs, each run has its
  # own token file and every request its own token.
  w=$(BENCH_BODY=$body BENCH_TOKENS=$tokens_warmup BENCH_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s bench/wrk/request.lua "$BASE$path" | tee -a "$LOG" | grep '^RESULT')
  if [ -n "$auth" ]; then echo "  wrk warm-up: $(kv "$w" requests) requests, $(kv "$w" rps) req/s, errors $(errors_cell "$w")" >&2; fi
  t0=$(cpu_ticks)
  r=$(BENCH_BODY=$body BENCH_TOKENS=$tokens_measured BENCH_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s bench/wrk/request.lua "$BASE$path" | tee -a "$LOG" | grep '^RESULT')
  t1=$(cpu_ticks)
  rows+=("$id|${CONNECTIONS} connections|$(kv "$r" rps)|$(kv "$r" p50)|$(kv "$r" p90)|$(kv "$r" p99)|$(errors_cell "$r")|$(cpu_us "$t0" "$t1" "$(kv "$r" requests)")|$(peak_mb)")

  # Fixed rate: open loop, latency from each request's scheduled time (no coordinated omission).
  # The tool's warm-up phase runs first, so the CPU figure covers warm-up and measured requests together.
  t0=$(cpu_ticks)
  r=$(dotnet "$TOOL_DLL" rate --url "$BASE$path" ${body:+--body "$body"} ${auth:+--tokens "$TOKEN_DIR/rate.txt"} --rate "$RATE" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" | tee -a "$LOG" | grep '^RESULT')
  t1=$(cpu_ticks)
  sent=$(( $(kv "$r" requests) + RATE * WARMUP ))
  rows+=("$id|${RATE} req/s|$(kv "$r" rps)|$(kv "$r" p50)|$(kv "$r" p90)|$(kv "$r" p99)|$(errors_cell "$r")|$(cpu_us "$t0" "$t1" "$sent")|$(peak_mb)")

  stop_service
  # Used tokens are worthless (their jti is spent), and the files are large.
  rm -rf "$TOKEN_DIR"
done

{
  echo "RLS CDS Hooks load benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk ${THREADS} threads; ${SECONDS_PER_RUN} s per run after ${WARMUP} s warm-up; CPU = service user+system time per request;"
  echo "peak RSS = the service's VmHWM so far (one fresh service per scenario); with client JWTs, Errors also says how many"
  echo "answers were 401 (and how many requests found no unused token left, if any)"
  echo
  echo "| Scenario | Load | Requests/s | p50 ms | p90 ms | p99 ms | Errors | CPU µs/req | Peak RSS MB |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for row in "${rows[@]}"; do echo "| ${row//|/ | } |"; done
} | tee -a "$LOG"
echo "(log: $LOG)" >&2
