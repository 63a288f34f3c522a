#!/usr/bin/env bash
# coffer operator benchmark: 1,000 ExternalSecrets in 10 namespaces reading 50 coffer secrets,
# against a real kube-apiserver (tools/kube/control-plane.sh) and a real `coffer server --dev`.
#
#   bash bench/operator/run.sh          # the default profile (below)
#   bash bench/operator/run.sh scale    # the scale profile (OPBENCH_PROFILE=scale)
#
# The scale profile: 10,000 ExternalSecrets in 100 namespaces reading 500 keys, one round of the
# ClusterSecretStore variant, targets 120 s / 100 MB, the ExternalSecrets and target Secrets read
# from the benchmark's own list + watch instead of a list per poll, no force-sync round, and 5
# new ExternalSecrets created during the periodic refresh round (each must be Ready within 2 s).
# Any OPBENCH_* variable still overrides its defaults. Written to bench/operator/results-scale.md.
#
# Measures, per round (fresh control plane and coffer server each), for a ClusterSecretStore and
# for one SecretStore per namespace: the time until every ExternalSecret is Ready=True and every
# target Secret exists, the operator's peak RSS, the GetSecretValue calls of the initial sync, of
# the first periodic refresh round (round 1 of each variant: waits ~refreshInterval = 5m) and of
# a force-sync round after rotating every value, and that every target holds the right value.
# Prints the markdown report and writes it to bench/operator/results.md. See README.md here.
#
# Knobs (environment): OPBENCH_EXTERNALSECRETS (1000), OPBENCH_NAMESPACES (10), OPBENCH_KEYS (50),
# OPBENCH_ROUNDS (3), OPBENCH_VARIANTS (cluster,namespaced), OPBENCH_START (after: the operator
# is started after the bulk create and timed from its start; before: timed from the bulk create
# with the operator running), OPBENCH_TIMEOUT (300 s per phase), OPBENCH_POLL_MS (200),
# OPBENCH_SETTLE_MS (2000), OPBENCH_REFRESH (5m; OPBENCH_REFRESH_INTERVAL is an alias),
# OPBENCH_PERIODIC_ROUNDS (1: the periodic round in round 1 of each variant; 0 = none),
# OPBENCH_PERIODIC_CHANGE (5 keys changed before it), OPBENCH_PERIODIC_POLL_MS (1500),
# OPBENCH_FORCE_SYNC (1; 0 = no force-sync round), OPBENCH_CREATE_THREADS (8),
# OPBENCH_ANNOTATE (kubectl | patch), OPBENCH_OPERATOR_ARGS (extra `coffer operator` flags),
# COFFER_BIN (build/coffer), OPBENCH_WORK_DIR (a fresh dir under /var/tmp, removed afterwards
# unless OPBENCH_KEEP=1 or the run failed), OPBENCH_RESULTS (bench/operator/results.md),
# OPBENCH_PROFILE (default | scale), OPBENCH_WATCH (0; 1 = list + watch), OPBENCH_PROBES (0; new
# ExternalSecrets during the periodic round), OPBENCH_PROBE_POLL_MS (50),
# OPBENCH_PROBE_SPACING_MS (0 = the initial sync's duration / probes, 2-30 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=/usr/bin/python3
COFFER_BIN="${COFFER_BIN:-$ROOT/build/coffer}"
case "${1:-}" in
  "") ;;
  default | scale) export OPBENCH_PROFILE="$1" ;;
  *) printf 'usage: %s [default|scale]\n' "$0" >&2; exit 2 ;;
esac
if [[ "${OPBENCH_PROFILE:-default}" == scale ]]; then
  RESULTS_MD="${OPBENCH_RESULTS:-$ROOT/bench/operator/results-scale.md}"
else
  RESULTS_MD="${OPBENCH_RESULTS:-$ROOT/bench/operator/results.md}"
fi
CONTROL_PLANE="$ROOT/tools/kube/control-plane.sh"
export COFFER_BIN

log() { printf '[opbench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

WORK="${OPBENCH_WORK_DIR:-$(mktemp -d /var/tmp/coffer-opbench.XXXXXX)}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
DRIVER_PID=""

# Stops whatever is still running: the driver, then every process it recorded in $WORK/pids
# (checked to still be ours: its command line names $WORK), then every control plane under $WORK.
cleanup() {
  local rc=$?
  if [[ -n "$DRIVER_PID" ]] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DRIVER_PID" 2>/dev/null || true
  fi
  local pid
  if [[ -f "$WORK/pids" ]]; then
    while read -r pid; do
      [[ -n "$pid" ]] || continue
      if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
          grep -qF "$WORK"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$WORK/pids"
  fi
  local d
  for d in "$WORK"/*/kube; do
    [[ -f "$d/env" ]] || continue
    "$CONTROL_PLANE" stop "$d" >/dev/null 2>&1 || true
  done
  if ((rc != 0)); then
    log "failed (exit $rc); logs kept in $WORK"
  elif [[ -z "${OPBENCH_WORK_DIR:-}" && -z "${OPBENCH_KEEP:-}" ]]; then
    rm -rf "$WORK"
  else
    log "work dir kept: $WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install_deps() {
  local -a missing=()
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  "$PY" -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)
  command -v curl >/dev/null || missing+=(curl)
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
  # etcd, kube-apiserver and kube-controller-manager: built once per machine (~9 minutes).
  local bin_dir
  bin_dir="$("$CONTROL_PLANE" bin-dir)"
  if [[ ! -x "$bin_dir/kube-apiserver" ]] || ! command -v etcd >/dev/null; then
    log "building the test control plane (tools/kube/control-plane.sh build)"
    "$CONTROL_PLANE" build
  fi
}

main() {
  install_deps
  [[ -x "$COFFER_BIN" ]] || die "no coffer binary at $COFFER_BIN (build it: cmake --build build" \
    "--target coffer, or set COFFER_BIN)"
  "$COFFER_BIN" operator --help >/dev/null 2>&1 ||
    die "$COFFER_BIN has no \`operator\` subcommand; build a newer coffer or set COFFER_BIN"
  log "coffer: $COFFER_BIN; work dir: $WORK"
  # Each process spawned by the driver gets $WORK in its command line (port file, data dir,
  # kubeconfig), which the trap above relies on.
  "$PY" "$ROOT/bench/operator/operator_bench.py" run "$WORK" "$RESULTS_MD" &
  DRIVER_PID=$!
  local rc=0
  wait "$DRIVER_PID" || rc=$?
  DRIVER_PID=""
  ((rc == 0)) || die "the benchmark driver failed (exit $rc); the report above has what it measured"
  log "written to $RESULTS_MD"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
