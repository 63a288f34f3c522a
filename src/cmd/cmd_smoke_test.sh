#!/usr/bin/env bash
# Smoke test of the `coffer` binary's wiring: dev mode, port file, /healthz and /readyz, a data dir
# that survives a restart, the root key printed once, `keys rotate`, and SIGTERM -> exit 0.
# Usage: cmd_smoke_test.sh /path/to/coffer
set -euo pipefail

COFFER=${1:?usage: cmd_smoke_test.sh /path/to/coffer}
WORK=$(mktemp -d /tmp/coffer-cmd-smoke-XXXXXX)
PID=""
cleanup() {
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

get() {  # get URL -> "STATUS BODY"
  /usr/bin/python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
EOF
}

start() {  # start OUT_FILE ARGS... ; sets PID and PORT
  local out=$1; shift
  rm -f "$WORK/port"
  "$COFFER" server --listen 127.0.0.1:0 --port-file "$WORK/port" "$@" >"$out" 2>"$out.err" &
  PID=$!
  for _ in $(seq 100); do
    [[ -s "$WORK/port" ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$out.err" >&2; fail "server exited early"; }
    sleep 0.05
  done
  [[ -s "$WORK/port" ]] || fail "no port file"
  PORT=$(cat "$WORK/port")
}

stop() {  # SIGTERM and expect exit 0
  kill -TERM "$PID"
  local rc=0
  wait "$PID" || rc=$?
  PID=""
  [[ $rc -eq 0 ]] || fail "exit code $rc after SIGTERM"
}

# 1. --dev: prints the block, serves health endpoints, exits 0 on SIGTERM.
start "$WORK/dev.out" --dev
grep -q '^coffer dev server$' "$WORK/dev.out" || fail "dev banner missing"
grep -q "endpoint:              http://127.0.0.1:$PORT\$" "$WORK/dev.out" || fail "endpoint line"
grep -q '^  AWS_ACCESS_KEY_ID=AKIA' "$WORK/dev.out" || fail "access key id line"
grep -q '^  AWS_DEFAULT_REGION=us-east-1$' "$WORK/dev.out" || fail "region line"
[[ "$(get "http://127.0.0.1:$PORT/healthz")" == "200 ok" ]] || fail "healthz"
[[ "$(get "http://127.0.0.1:$PORT/readyz")" == "200 ready" ]] || fail "readyz"
[[ "$(get "http://127.0.0.1:$PORT/")" == 4* ]] || fail "unsigned request should be refused"
grep -q 'listening on http://127.0.0.1:' "$WORK/dev.out.err" || fail "listening log line"
stop

# 2. Env root credentials are used as given.
COFFER_ROOT_ACCESS_KEY_ID=AKIASMOKETEST0000001 COFFER_ROOT_SECRET_ACCESS_KEY=smoke-secret-123 \
  start "$WORK/env.out" --dev --region eu-west-1
grep -q '^  AWS_ACCESS_KEY_ID=AKIASMOKETEST0000001$' "$WORK/env.out" || fail "env key id"
grep -q '^  AWS_SECRET_ACCESS_KEY=smoke-secret-123$' "$WORK/env.out" || fail "env secret"
grep -q '^  AWS_DEFAULT_REGION=eu-west-1$' "$WORK/env.out" || fail "region flag"
stop

# 3. Without --dev a data dir is required.
rc=0
"$COFFER" server --listen 127.0.0.1:0 >/dev/null 2>"$WORK/nodir.err" || rc=$?
[[ $rc -eq 2 ]] || fail "missing data dir: exit $rc"
grep -q -- '--data-dir' "$WORK/nodir.err" || fail "missing data dir message"

# 4. A data dir: created 0700, root key printed once, kept across a restart.
DATA="$WORK/data/dir"
start "$WORK/first.out" --data-dir "$DATA"
[[ "$(stat -c %a "$DATA")" == 700 ]] || fail "data dir mode $(stat -c %a "$DATA")"
[[ "$(stat -c %a "$DATA/master.key")" == 600 ]] || fail "key file mode"
grep -q 'will not be shown again' "$WORK/first.out" || fail "root key not printed"
KEY_ID=$(sed -n 's/^  AWS_ACCESS_KEY_ID=//p' "$WORK/first.out")
stop
start "$WORK/second.out" --data-dir "$DATA"
[[ ! -s "$WORK/second.out" ]] || fail "root key printed again: $(cat "$WORK/second.out")"
stop
start "$WORK/third.out" --dev --data-dir "$DATA"
grep -q "^  AWS_ACCESS_KEY_ID=$KEY_ID\$" "$WORK/third.out" || fail "dev restart lost the root key"
stop

# 5. keys rotate: refuses an env key; rotates the file key.
rc=0
COFFER_MASTER_KEY=whatever "$COFFER" keys rotate --data-dir "$DATA" >/dev/null 2>"$WORK/envkey.err" ||
  rc=$?
[[ $rc -eq 2 ]] || fail "rotate with env key: exit $rc"
grep -q COFFER_MASTER_KEY "$WORK/envkey.err" || fail "rotate env key message"
"$COFFER" keys rotate --data-dir "$DATA" --keyring-reload-seconds 1 >"$WORK/rotate.out" 2>&1 ||
  fail "rotate: $(cat "$WORK/rotate.out")"
grep -q 'master key version 2 is now active' "$WORK/rotate.out" || fail "rotate summary"
grep -q 'rewrapped 1 data key(s): 0 secret version(s), 1 access key(s)' "$WORK/rotate.out" ||
  fail "rotate count: $(cat "$WORK/rotate.out")"
start "$WORK/fourth.out" --dev --data-dir "$DATA"
grep -q "^  AWS_ACCESS_KEY_ID=$KEY_ID\$" "$WORK/fourth.out" || fail "root key unreadable after rotate"
stop

# 6. A bad config file is refused with the key named.
printf 'listen: 127.0.0.1:0\nlisten_port: 1\n' >"$WORK/bad.yaml"
rc=0
"$COFFER" server --dev --config "$WORK/bad.yaml" >/dev/null 2>"$WORK/bad.err" || rc=$?
[[ $rc -eq 2 ]] || fail "bad config: exit $rc"
grep -q 'unknown key "listen_port"' "$WORK/bad.err" || fail "bad config message"

"$COFFER" version | grep -q '^coffer ' || fail "version"
echo "cmd smoke test: ok"
