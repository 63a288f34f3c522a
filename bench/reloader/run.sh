#!/usr/bin/env bash
# coffer reloader benchmark: 200 Deployments, 50 of them using the Secret that changes, against a
# real Kubernetes 1.20 control plane (tools/kube/control-plane.sh). Targets: the last of the 50
# rollout patches under 1 s after the Secret's update (with --reload-debounce-ms 0; a round with
# the default 5 s window is reported as measured), no other Deployment touched, reloader peak RSS
# under 30 MB. Writes bench/reloader/results.md. Method and knobs: reloader_bench.py.
#
#   bash bench/reloader/run.sh        # COFFER_BIN defaults to build/coffer
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export COFFER_BIN="${COFFER_BIN:-$ROOT/build/coffer}"
[[ -x "$COFFER_BIN" ]] || { echo "no coffer binary at $COFFER_BIN (build it first)" >&2; exit 2; }
exec /usr/bin/python3 "$ROOT/bench/reloader/reloader_bench.py"
