#!/usr/bin/env bash
# coffer benchmark: GetSecretValue vs an nginx baseline, the cost of least privilege and auditing,
# and durable PutSecretValue, in one run.
#
#   bash bench/run.sh
#
# 1. installs what is missing (apt-get): the build deps, wrk, nginx, curl, python3-botocore, awscli;
# 2. builds `coffer` in Release in build-bench/ (or uses $COFFER_BIN) and bench/put_load.cc;
# 3. starts two `coffer server --dev` on 127.0.0.1 from the same binary, each with its own data
#    dir on disk and the same fixed root credentials:
#      "baseline": --audit=false, read with the ROOT key (the issue-2 set-up);
#      "secured":  auditing on (the default), read by an IAM user "bench" made with the real aws CLI
#                  (create-user, create-policy ExternalSecretsPolicy, attach-user-policy,
#                  create-access-key) whose only permissions are the seed guide's policy;
#    and creates the same secret in both, ml-platform/bench/db-credentials, a 200-byte JSON of
#    database credentials; checks that the user is really confined (denied elsewhere);
# 4. pre-signs a GetSecretValue request per server with botocore and replays it with wrk
#    (-t2 -c32 -d10s), counting the audit records the secured server appends in each round;
# 5. runs Debian's nginx answering a body of exactly the same size, same wrk script, interleaved
#    with the servers round by round (baseline, secured, nginx, baseline, ...);
# 6. runs put_load: 32 connections of PutSecretValue, each request with a fresh
#    ClientRequestToken and its own SigV4 signature, acknowledged only once durable, against both
#    servers (root key), interleaved;
# 7. prints the markdown table and writes it to bench/results.md.
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2), BENCH_PUT_SECRETS (2048), BENCH_VALUE_BYTES (200), COFFER_BIN (skip the
# build), COFFER_BENCH_BUILD_DIR (build-bench), BENCH_WORK_DIR (a fresh dir under /var/tmp),
# BENCH_RESULTS (bench/results.md), BENCH_PROFILE=1 (also record `perf` profiles of the servers,
# see bench/README.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${BENCH_ROUNDS:-3}"
DURATION="${BENCH_DURATION:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
PUT_SECRETS="${BENCH_PUT_SECRETS:-2048}"
VALUE_BYTES="${BENCH_VALUE_BYTES:-200}"
BUILD_DIR="${COFFER_BENCH_BUILD_DIR:-$ROOT/build-bench}"
RESULTS_MD="${BENCH_RESULTS:-$ROOT/bench/results.md}"
REGION=us-east-1
ACCOUNT_ID=000000000000
PY=/usr/bin/python3
AWS=/usr/bin/aws  # Debian's awscli (v2), not whatever `aws` is first on PATH
# Fixed, deterministic root credentials; the server honours these in --dev mode.
export COFFER_ROOT_ACCESS_KEY_ID="${COFFER_ROOT_ACCESS_KEY_ID:-AKIACOFFERBENCH00001}"
export COFFER_ROOT_SECRET_ACCESS_KEY="${COFFER_ROOT_SECRET_ACCESS_KEY:-benchBenchBenchBenchBenchBenchBench0001}"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

WORK="${BENCH_WORK_DIR:-$(mktemp -d /var/tmp/coffer-bench.XXXXXX)}"
mkdir -p "$WORK"
PIDS=()
cleanup() {
  local rc=$?
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # Give each process a few seconds to drain, then insist.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((rc != 0)); then
    log "failed (exit $rc); logs kept in $WORK"
  elif [[ -z "${BENCH_WORK_DIR:-}" && -z "${BENCH_KEEP:-}" ]]; then
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# 1. Packages.
install_deps() {
  source "$ROOT/tools/deps.sh"
  coffer_install_deps build
  coffer_install_packages wrk nginx curl python3 python3-botocore awscli
}

# ---------------------------------------------------------------------------------------------
# 2. Builds: coffer (Release) and the put_load generator against the project's sigv4 library.
build() {
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCOFFER_BUILD_TESTS=OFF >/dev/null
  local -a targets=(coffer_sigv4 coffer_crypto coffer_core)
  if [[ -z "${COFFER_BIN:-}" ]]; then
    targets+=(coffer)
  fi
  log "building ${targets[*]} in $BUILD_DIR (Release)"
  cmake --build "$BUILD_DIR" --target "${targets[@]}" -j"$(nproc)" >"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log" >&2; die "build failed (full log: $WORK/build.log)"; }
  COFFER_BIN="${COFFER_BIN:-$BUILD_DIR/coffer}"
  [[ -x "$COFFER_BIN" ]] || die "no coffer binary at $COFFER_BIN"

  PUT_LOAD="$BUILD_DIR/bench/put_load"
  local -a libs=("$BUILD_DIR/src/sigv4/libcoffer_sigv4.a" "$BUILD_DIR/src/crypto/libcoffer_crypto.a"
                 "$BUILD_DIR/src/core/libcoffer_core.a")
  local stale=0 f
  for f in "$ROOT/bench/put_load.cc" "$ROOT/src/sigv4/sigv4.h" "${libs[@]}"; do
    [[ -e "$PUT_LOAD" && ! "$f" -nt "$PUT_LOAD" ]] || stale=1
  done
  if ((stale)); then
    log "building put_load"
    mkdir -p "$BUILD_DIR/bench"
    g++ -O2 -std=c++20 -Wall -Wextra -I"$ROOT/src" "$ROOT/bench/put_load.cc" "${libs[@]}" \
      -lcrypto -pthread -o "$PUT_LOAD"
  fi
}

# ---------------------------------------------------------------------------------------------
# 3. The servers.
wait_for_http() {  # URL: waits up to 30 s for any HTTP answer
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  return 1
}

# start_coffer NAME ARGS...: a coffer server on a port of its own with its data dir on disk,
# $WORK/data-NAME; ARGS are added to its command line. Sets NAME_PID, NAME_PORT and NAME_URL
# (NAME upper-cased: BASELINE_URL, ...). Both servers use the same fixed root credentials.
start_coffer() {
  local name="$1"
  shift
  local var="${name^^}" dir="$WORK/data-$name" port_file="$WORK/coffer-$name.port"
  local log_file="$WORK/coffer-$name.log"
  local -a args=(server --dev --listen 127.0.0.1:0 --port-file "$port_file"
                 --data-dir "$dir" --region "$REGION" --account-id "$ACCOUNT_ID" "$@")
  # Per-request info logging would be measured too; ask for warnings only if the flag exists.
  if "$COFFER_BIN" server --help 2>&1 | grep -q -- '--log-level'; then
    args+=(--log-level warn)
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  log "starting $name: $COFFER_BIN ${args[*]}"
  "$COFFER_BIN" "${args[@]}" >"$log_file" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 300); do
    [[ -s "$port_file" ]] && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log_file" >&2; die "coffer ($name) exited"; }
    sleep 0.1
  done
  local port
  port="$(tr -dc 0-9 <"$port_file")"
  [[ -n "$port" ]] || die "coffer ($name) wrote no port to $port_file"
  declare -g "${var}_PID=$pid" "${var}_PORT=$port" "${var}_URL=http://127.0.0.1:$port"
  wait_for_http "http://127.0.0.1:$port/healthz" || die "coffer ($name) does not answer on $port"
  log "coffer $name listening on http://127.0.0.1:$port (pid $pid)"
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx answering `return 200 '<body>'` for any method: the same POST as coffer gets, its body
# read and discarded, and a response body byte-for-byte as long as coffer's.
start_nginx() {
  local body_file="$1" dir="$WORK/nginx"
  mkdir -p "$dir"
  NGINX_PORT="$(free_port)"
  "$PY" - "$body_file" "$dir" "$NGINX_PORT" <<'EOF'
import sys
body_file, d, port = sys.argv[1:4]
body = open(body_file, "rb").read().decode("latin-1")
# nginx single-quoted strings: escape \ and '; '$' would start a variable, so use '_' (same size).
literal = body.replace("\\", "\\\\").replace("'", "\\'").replace("$", "_")
conf = f"""
worker_processes 2;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  default_type application/x-amz-json-1.1;
  keepalive_requests 1000000;
  client_body_temp_path {d}/client_body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 '{literal}'; }}
  }}
}}
"""
open(f"{d}/nginx.conf", "w").write(conf)
EOF
  log "starting: nginx (worker_processes 2) on 127.0.0.1:$NGINX_PORT"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' \
    >"$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  NGINX_URL="http://127.0.0.1:$NGINX_PORT"
  wait_for_http "$NGINX_URL/" || { cat "$dir/error.log" >&2; die "nginx did not start"; }
}

# ---------------------------------------------------------------------------------------------
# 4./5. GetSecretValue with wrk, against the two coffer servers and nginx.
awsreq() { "$PY" "$ROOT/bench/awsreq.py" "$@"; }

# The secret both servers hold; under ml-platform/ so that ExternalSecretsPolicy allows reading it.
GET_SECRET=ml-platform/bench/db-credentials
get_body() { printf '{"SecretId":"%s"}' "$GET_SECRET"; }

# The least-privilege user's key, set by setup_least_privilege (never logged, never on a command
# line: awsreq.py reads it from the environment).
USER_KEY_ID=""
USER_SECRET_KEY=""
as_user() { BENCH_ACCESS_KEY_ID="$USER_KEY_ID" BENCH_SECRET_ACCESS_KEY="$USER_SECRET_KEY" "$@"; }

# presign_get: fresh signatures (each valid 5 minutes) -> $WORK/get-baseline.{lua,curl} signed
# with the root key for the baseline server, $WORK/get-secured.{lua,curl} signed with the IAM
# user's key for the secured server. nginx is sent the baseline's request.
presign_get() {
  awsreq presign --endpoint "$BASELINE_URL" --region "$REGION" --action GetSecretValue \
    --body "$(get_body)" --lua "$WORK/get-baseline.lua" --curl "$WORK/get-baseline.curl"
  as_user awsreq presign --endpoint "$SECURED_URL" --region "$REGION" --action GetSecretValue \
    --body "$(get_body)" --lua "$WORK/get-secured.lua" --curl "$WORK/get-secured.curl"
}

field() {  # field "name=v name2=v2 ..." name2 -> v2 (0 when absent)
  local kv
  for kv in $1; do
    if [[ "${kv%%=*}" == "$2" ]]; then
      echo "${kv#*=}"
      return
    fi
  done
  echo 0
}

record() {  # KIND ROUND LINE SERVER_CPU_TICKS BG_BUSY_PCT: appends one results.tsv row, logs it
  local f=() k
  for k in requests rps p50_us p90_us p99_us max_us; do f+=("$(field "$3" "$k")"); done
  # Server CPU per request (user + system), in microseconds: robust against a busy machine.
  local cpu_us
  cpu_us=$(("$4" * 1000000 / CLK_TCK / (f[0] > 0 ? f[0] : 1)))
  local errors
  errors="$(field "$3" errors)"
  if ((errors > 0)); then f[1]="$(field "$3" ok_rps)"; fi  # count only the HTTP 200s
  echo "$1 $2 ${f[*]} $cpu_us $5 $errors" >>"$WORK/results.tsv"
  log "$(printf '%-10s round %s: %8.0f ok/s  p50 %6d us  p99 %6d us  %4d CPU-us/req  (%d requests, %d errors, background %d%%)' \
    "$1" "$2" "${f[1]}" "${f[2]}" "${f[4]}" "$cpu_us" "${f[0]}" "$errors" "$5")"
}

CLK_TCK="$(getconf CLK_TCK)"

cpu_ticks() {  # PID: user + system clock ticks of PID (all threads) and its child processes
  local total=0 pid stat
  local -a f
  for pid in "$1" $(pgrep -P "$1" || true); do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    read -r -a f <<<"${stat##*) }"  # f[0] is field 3 (state); utime, stime are fields 14, 15
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

background_busy() {  # percent of all cores busy during one second, before we add any load
  local -a a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 1
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local busy=0 total=0 i d
  for i in 1 2 3 4 5 6 7 8; do
    d=$((b[i] - a[i]))
    total=$((total + d))
    ((i == 4 || i == 5)) || busy=$((busy + d))  # idle and iowait are not busy
  done
  echo $((total > 0 ? busy * 100 / total : 0))
}

# run_wrk KIND ROUND URL PID LUA: one wrk round replaying the request of LUA (a get-*.lua) against
# URL whose server process is PID. Sets WRK_REQUESTS to the requests wrk completed.
run_wrk() {
  local kind="$1" round="$2" url="$3" pid="$4" lua="$5" out="$WORK/wrk-$1-$2.txt"
  local bg t0
  bg="$(background_busy)"
  t0="$(cpu_ticks "$pid")"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$lua" "$url/" \
    >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed against $kind"; }
  local ticks=$(($(cpu_ticks "$pid") - t0))
  local line
  line="$(grep '^BENCH ' "$out")" || { cat "$out" >&2; die "no BENCH line from wrk ($kind)"; }
  # A signature or authorization problem shows up as non-2xx (status_err); any error invalidates
  # the round.
  local k errors=0
  for k in status_err connect_err read_err write_err timeout_err; do
    errors=$((errors + $(field "$line" "$k")))
  done
  if ((errors > 0)); then
    cat "$out" >&2
    curl -s -K "${lua%.lua}.curl" "$url/" >&2 || true
    die "wrk saw errors against $kind: $line"
  fi
  WRK_REQUESTS="$(field "$line" requests)"
  record "$kind" "$round" "$line" "$ticks" "$bg"
}

# audit_count DATA_DIR -> "RECORDS BYTES": the lines and bytes of its audit segments (one record
# per line; digests.jsonl is not a segment).
audit_count() {
  local -a segments=("$1"/audit/audit-*.jsonl)
  if [[ -e "${segments[0]}" ]]; then
    cat "${segments[@]}" | wc -lc | awk '{print $1, $2}'
  else
    echo "0 0"
  fi
}

# run_secured_get ROUND: a wrk round against the secured server that also checks its audit trail:
# every request wrk counted must have appended one record. wrk does not count the requests still
# in flight when it stops (at most one per connection), though the server answers and records
# them; anything else is a defect (a missed or a doubled record) and fails the run.
run_secured_get() {
  local round="$1" before_records before_bytes after_records after_bytes
  read -r before_records before_bytes < <(audit_count "$WORK/data-secured")
  run_wrk get-secured "$round" "$SECURED_URL" "$SECURED_PID" "$WORK/get-secured.lua"
  sleep 0.5  # the requests in flight when wrk stopped are answered (and recorded) by now
  read -r after_records after_bytes < <(audit_count "$WORK/data-secured")
  local records=$((after_records - before_records)) bytes=$((after_bytes - before_bytes))
  local slack=$((WRK_REQUESTS * 2 / 100 + CONNECTIONS))
  local diff=$((records - WRK_REQUESTS))
  echo "$round $WRK_REQUESTS $records $bytes" >>"$WORK/audit.tsv"
  log "$(printf 'audit      round %s: %d new records (%+d vs wrk), %d bytes, %d bytes/record' \
    "$round" "$records" "$diff" "$bytes" "$((records > 0 ? bytes / records : 0))")"
  ((diff >= -slack && diff <= slack)) ||
    die "the secured server appended $records audit records for $WRK_REQUESTS requests"
}

# ---------------------------------------------------------------------------------------------
# 6. PutSecretValue with put_load.
# run_put_load KIND ROUND SERVER args...: put_load (root key) against SERVER (baseline or
# secured); appends a results.tsv line; any error fails the run.
run_put_load() {
  local kind="$1" round="$2" server="${3^^}" out="$WORK/put_load-$1-$2.txt"
  shift 3
  local pid_var="${server}_PID" port_var="${server}_PORT"
  local pid="${!pid_var}" port="${!port_var}"
  local bg t0
  bg="$(background_busy)"
  t0="$(cpu_ticks "$pid")"
  "$PUT_LOAD" --port "$port" --region "$REGION" -c "$CONNECTIONS" -t "$THREADS" \
    --value-bytes "$VALUE_BYTES" "$@" >"$out" 2>&1 || { cat "$out" >&2; die "put_load $kind failed"; }
  local line
  local ticks=$(($(cpu_ticks "$pid") - t0))
  line="$(grep '^RESULT ' "$out")" || { cat "$out" >&2; die "no RESULT line from put_load"; }
  record "$kind" "$round" "$line" "$ticks" "$bg"
}

# ---------------------------------------------------------------------------------------------
# Optional: where the server's time goes (BENCH_PROFILE=1; needs `perf`). DWARF call graphs,
# because a Release build has no frame pointers; a short window keeps `perf report` quick.
perf_window() {  # NAME PID: records PID for 3 s, writes bench/profile/NAME-{self,children}.txt
  local data="$WORK/perf-$1.data" dir="$ROOT/bench/profile"
  perf record -F 499 --call-graph dwarf,16384 -p "$2" -o "$data" -- sleep 3 \
    >/dev/null 2>&1 || { log "perf record failed"; return 0; }
  perf report -i "$data" --no-children --sort dso,sym --percent-limit 0.5 --stdio -g none \
    2>/dev/null | cut -c1-200 >"$dir/$1-self.txt" || true
  perf report -i "$data" --children --sort sym --percent-limit 2 --stdio -g none \
    2>/dev/null | cut -c1-200 >"$dir/$1-children.txt" || true
}

profile_get() {  # NAME URL PID: perf of the server while wrk replays $WORK/get-NAME.lua
  log "profiling GetSecretValue on $1 (perf record on pid $3)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d6s -s "$WORK/get-$1.lua" "$2/" >/dev/null 2>&1 &
  local load_pid=$!
  sleep 1
  perf_window "get-$1" "$3"
  wait "$load_pid" || true
}

profile_server() {
  command -v perf >/dev/null || { log "BENCH_PROFILE: perf not installed, skipped"; return 0; }
  mkdir -p "$ROOT/bench/profile"
  presign_get
  profile_get baseline "$BASELINE_URL" "$BASELINE_PID"
  profile_get secured "$SECURED_URL" "$SECURED_PID"

  log "profiling PutSecretValue on secured"
  "$PUT_LOAD" --port "$SECURED_PORT" --region "$REGION" --op create --prefix bench-prof \
    --secrets "$PUT_SECRETS" -c "$CONNECTIONS" -t "$THREADS" >/dev/null 2>&1 || true
  "$PUT_LOAD" --port "$SECURED_PORT" --region "$REGION" --op put --prefix bench-prof \
    --secrets "$PUT_SECRETS" -c "$CONNECTIONS" -t "$THREADS" -d 6 >/dev/null 2>&1 &
  local load_pid=$!
  sleep 1
  perf_window put-secured "$SECURED_PID"
  wait "$load_pid" || true
  log "profiles written to $ROOT/bench/profile/"
}

# ---------------------------------------------------------------------------------------------
# The least-privilege user, made on the secured server with the real aws CLI (as root), isolated
# from any AWS configuration of the person running the benchmark.
iam_aws() {
  mkdir -p "$WORK/aws-home"
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_CA_BUNDLE \
    HOME="$WORK/aws-home" AWS_CONFIG_FILE="$WORK/aws-home/no-config" \
    AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-home/no-credentials" AWS_PAGER="" \
    AWS_ACCESS_KEY_ID="$COFFER_ROOT_ACCESS_KEY_ID" \
    AWS_SECRET_ACCESS_KEY="$COFFER_ROOT_SECRET_ACCESS_KEY" AWS_DEFAULT_REGION="$REGION" \
    "$AWS" --endpoint-url "$SECURED_URL" "$@"
}

# setup_least_privilege: user "bench" with only the seed guide's ExternalSecretsPolicy; sets
# USER_KEY_ID / USER_SECRET_KEY. The key file stays in $WORK (mode 0600) and is never printed.
setup_least_privilege() {
  cat >"$WORK/external-secrets-policy.json" <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:ListSecrets"
      ],
      "Resource": [
        "arn:aws:secretsmanager:$REGION:$ACCOUNT_ID:secret:ml-platform/*"
      ]
    }
  ]
}
POLICY
  log "aws iam on secured: create-user bench, create-policy ExternalSecretsPolicy," \
    "attach-user-policy, create-access-key"
  iam_aws iam create-user --user-name bench >"$WORK/iam-user.json" ||
    die "aws iam create-user failed"
  iam_aws iam create-policy --policy-name ExternalSecretsPolicy \
    --policy-document "file://$WORK/external-secrets-policy.json" >"$WORK/iam-policy.json" ||
    die "aws iam create-policy failed"
  iam_aws iam attach-user-policy --user-name bench \
    --policy-arn "arn:aws:iam::$ACCOUNT_ID:policy/ExternalSecretsPolicy" ||
    die "aws iam attach-user-policy failed"
  (umask 077 && iam_aws iam create-access-key --user-name bench --output json \
    >"$WORK/bench-user-key.json") || die "aws iam create-access-key failed"
  local keys
  keys="$("$PY" -c 'import json, sys
k = json.load(open(sys.argv[1]))["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])' "$WORK/bench-user-key.json")" ||
    die "create-access-key answered no key"
  read -r USER_KEY_ID USER_SECRET_KEY <<<"$keys"
  [[ -n "$USER_SECRET_KEY" ]] || die "create-access-key answered no key"
  log "IAM user bench: access key $USER_KEY_ID, only ExternalSecretsPolicy attached"
}

# expect_denied WHAT ACTION BODY: the IAM user's ACTION on the secured server must be refused with
# AccessDeniedException (proof that the secured rounds evaluate a restrictive policy).
expect_denied() {
  local out="$WORK/denied-$2.json"
  if as_user awsreq call --endpoint "$SECURED_URL" --region "$REGION" --action "$2" \
    --body "$3" --out "$out" 2>/dev/null; then
    die "the least-privilege user was allowed to $1"
  fi
  grep -q '"AccessDeniedException"' "$out" || { cat "$out" >&2; die "$1: not AccessDenied"; }
  log "least privilege: the user may not $1 (AccessDeniedException)"
}

# ---------------------------------------------------------------------------------------------
main() {
  install_deps
  build
  [[ -x "$AWS" ]] || die "no $AWS (Debian's awscli)"
  : >"$WORK/results.tsv"
  : >"$WORK/audit.tsv"
  # The same binary twice: the issue-2 set-up (no audit trail, read by root) and the secured one
  # (auditing on, as `coffer server` runs by default; read by a least-privilege IAM user).
  start_coffer baseline --audit=false
  start_coffer secured

  # The secret read by GetSecretValue: a realistic ~200-byte JSON of database credentials.
  local value
  value="$("$PY" -c 'import json, sys
v = {"engine": "postgres", "host": "orders-db.cluster-c1x2y3.eu-west-1.internal",
     "port": 5432, "username": "orders_app", "dbname": "orders", "password": ""}
n = int(sys.argv[1])
v["password"] = "Q7#mZp" * 40
s = json.dumps(v, separators=(",", ":"))
print(s[: n - 2] + "\"}" if len(s) > n else s)' "$VALUE_BYTES")"
  local create_body server url
  create_body="$("$PY" -c 'import json, sys, uuid
print(json.dumps({"Name": sys.argv[1], "SecretString": sys.argv[2],
                  "ClientRequestToken": str(uuid.uuid4())}))' "$GET_SECRET" "$value")"
  for server in baseline secured; do
    url="${server^^}_URL"
    awsreq call --endpoint "${!url}" --region "$REGION" --action CreateSecret \
      --body "$create_body" --out "$WORK/create-$server.json" ||
      { cat "$WORK/create-$server.json" >&2; die "CreateSecret on $server failed"; }
  done
  awsreq call --endpoint "$BASELINE_URL" --region "$REGION" --action GetSecretValue \
    --body "$(get_body)" --out "$WORK/get-response.json" ||
    { cat "$WORK/get-response.json" >&2; die "GetSecretValue failed"; }
  local body_bytes
  body_bytes="$(stat -c %s "$WORK/get-response.json")"
  log "GetSecretValue answers $body_bytes bytes of JSON (SecretString of ${#value} bytes)"

  setup_least_privilege
  # A secret outside ml-platform/, for the denial check.
  awsreq call --endpoint "$SECURED_URL" --region "$REGION" --action CreateSecret \
    --body '{"Name":"bench/outside-ml-platform","SecretString":"x",
             "ClientRequestToken":"00000000-0000-4000-8000-000000000001"}' \
    --out "$WORK/create-outside.json" || die "CreateSecret bench/outside-ml-platform failed"
  expect_denied "read bench/outside-ml-platform" GetSecretValue \
    '{"SecretId":"bench/outside-ml-platform"}'
  expect_denied "write $GET_SECRET" PutSecretValue \
    "{\"SecretId\":\"$GET_SECRET\",\"SecretString\":\"x\",
      \"ClientRequestToken\":\"00000000-0000-4000-8000-000000000002\"}"

  start_nginx "$WORK/get-response.json"

  # Same request, same response size: check it with curl before measuring anything. The secured
  # server's body differs only in the ARN suffix, VersionId and CreatedDate, all fixed-width
  # but CreatedDate's fraction, which may drop trailing zeros.
  presign_get
  local b_size s_size n_size
  b_size="$(curl -s -K "$WORK/get-baseline.curl" -o /dev/null \
    -w '%{http_code} %{size_download}' "$BASELINE_URL/")"
  s_size="$(curl -s -K "$WORK/get-secured.curl" -o /dev/null \
    -w '%{http_code} %{size_download}' "$SECURED_URL/")"
  n_size="$(curl -s -K "$WORK/get-baseline.curl" -o /dev/null \
    -w '%{http_code} %{size_download}' "$NGINX_URL/")"
  [[ "$b_size" == "200 $body_bytes" ]] || die "baseline answered '$b_size' to the signed request"
  [[ "$n_size" == "$b_size" ]] || die "nginx answered '$n_size', baseline '$b_size'"
  [[ "${s_size%% *}" == 200 ]] ||
    die "secured answered '$s_size' to the IAM user's signed request"
  local s_bytes="${s_size#* }"
  ((s_bytes >= body_bytes - 3 && s_bytes <= body_bytes + 3)) ||
    die "secured answers $s_bytes bytes, baseline $body_bytes"
  log "curl: baseline and nginx answer HTTP 200 with $body_bytes body bytes; secured (IAM user)" \
    "HTTP 200 with $s_bytes"

  local baseline_audit
  baseline_audit="$(audit_count "$WORK/data-baseline")"
  [[ "$baseline_audit" == "0 0" ]] || die "the baseline server (--audit=false) wrote audit records"

  log "NOTE: wrk/put_load and the servers share the same $(nproc) cores; nothing is pinned."
  local r
  for r in $(seq "$ROUNDS"); do
    presign_get  # fresh signatures per round; each one is valid for 5 minutes
    run_wrk get-baseline "$r" "$BASELINE_URL" "$BASELINE_PID" "$WORK/get-baseline.lua"
    run_secured_get "$r"
    run_wrk get-nginx "$r" "$NGINX_URL" "$NGINX_PID" "$WORK/get-baseline.lua"
  done

  for r in $(seq "$ROUNDS"); do
    # Fresh secrets per round, so no secret collects more than ~100 versions in the run.
    for server in baseline secured; do
      run_put_load "create-$server" "$r" "$server" --op create --prefix "bench-put-$r" \
        --secrets "$PUT_SECRETS"
      run_put_load "put-$server" "$r" "$server" --op put --prefix "bench-put-$r" \
        --secrets "$PUT_SECRETS" -d "$DURATION"
    done
  done

  # Informational, not a target: every connection writing the SAME secret (a hot secret), on the
  # secured server. AWS keeps at most ~100 versions of a secret created within 24 hours (then
  # LimitExceededException), so the round stops after 95 writes; any error fails the run.
  run_put_load setup 0 secured --op create --prefix bench-hot --secrets 1
  run_put_load hot 1 secured --op put --prefix bench-hot --secrets 1 --max-requests 95 \
    -d "$(((DURATION + 1) / 2))"

  # A final sanity read on each server: still healthy, and the last write is readable.
  for server in baseline secured; do
    url="${server^^}_URL"
    awsreq call --endpoint "${!url}" --region "$REGION" --action GetSecretValue \
      --body '{"SecretId":"bench-put-1/0"}' --out "$WORK/final-$server.json" 2>/dev/null ||
      die "GetSecretValue on $server after the write rounds failed"
  done
  baseline_audit="$(audit_count "$WORK/data-baseline")"
  [[ "$baseline_audit" == "0 0" ]] || die "the baseline server (--audit=false) wrote audit records"
  local audit_total audit_bytes
  read -r audit_total audit_bytes < <(audit_count "$WORK/data-secured")

  if [[ -n "${BENCH_PROFILE:-}" ]]; then
    profile_server
  fi

  # The trail written under load must verify: stop the secured server (it seals the chain with a
  # last signed digest on the way out), then check every record's hash chain and the digests.
  local audit_verify="not run (this coffer has no \`audit verify\`)"
  if "$COFFER_BIN" audit verify --help >/dev/null 2>&1; then
    kill -TERM "$SECURED_PID"
    wait "$SECURED_PID" || die "the secured server did not stop cleanly"
    local t_verify
    t_verify="$(date +%s.%N)"
    "$COFFER_BIN" audit verify --data-dir "$WORK/data-secured" >"$WORK/audit-verify.txt" 2>&1 ||
      { cat "$WORK/audit-verify.txt" >&2; die "coffer audit verify failed on the secured trail"; }
    audit_verify="$(tail -1 "$WORK/audit-verify.txt") ($("$PY" -c 'import sys, time
print(f"{time.time() - float(sys.argv[1]):.0f} s")' "$t_verify"))"
    log "coffer audit verify: $audit_verify"
  fi

  # Metadata for the report.
  local cpu fs fsyncs
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  fs="$(df --output=fstype "$WORK/data-secured" | tail -1)"
  # 1000 synchronous 4 KiB writes next to the data: what one fsync costs on this disk.
  local t0 t1
  t0="$(date +%s.%N)"
  dd if=/dev/zero of="$WORK/data-secured/.fsync-probe" bs=4k count=1000 oflag=dsync \
    2>/dev/null || true
  t1="$(date +%s.%N)"
  rm -f "$WORK/data-secured/.fsync-probe"
  fsyncs="$("$PY" -c 'import sys; print(f"{1000 / (float(sys.argv[2]) - float(sys.argv[1])):,.0f}")' \
    "$t0" "$t1")"
  local coffer_version
  coffer_version="$("$COFFER_BIN" --version 2>/dev/null | head -1 || true)"
  coffer_version="${coffer_version:-coffer} (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src modified'))"
  "$PY" - "$WORK/meta.json" <<EOF
import json, sys
json.dump({
  "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
  "setup": ("$ROUNDS rounds of ${DURATION} s per measurement, $CONNECTIONS connections, "
            "$THREADS load-generator threads; GET rounds interleaved baseline, secured, nginx, "
            "baseline, ...; put rounds interleaved baseline, secured, ..."),
  "machine": ("$(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, "
              "Linux $(uname -r)"),
  "versions": ("$coffer_version; $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); "
               "$(nginx -v 2>&1 | sed 's/^nginx version: //'); "
               "$(g++ --version | head -1); botocore "
               "$("$PY" -c 'import botocore; print(botocore.__version__)'); "
               "$("$AWS" --version 2>&1 | cut -d' ' -f1)"),
  "storage": ("data dirs on $fs; $fsyncs synchronous 4 KiB writes/s (dd oflag=dsync) "
              "on that file system"),
  "connections": "$CONNECTIONS",
  "duration": "$DURATION",
  "body_bytes": "$body_bytes",
  "user_key_id": "$USER_KEY_ID",
  "audit_total_records": "$audit_total",
  "audit_total_bytes": "$audit_bytes",
  "audit_verify": "$audit_verify",
}, open(sys.argv[1], "w"))
EOF
  echo
  "$PY" "$ROOT/bench/report.py" "$WORK/results.tsv" "$WORK/audit.tsv" "$WORK/meta.json" \
    "$RESULTS_MD"
  echo
  log "written to $RESULTS_MD"
}

# Sourcing this file (for debugging one step) defines the functions without running.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
