#!/usr/bin/env bash
# CTest `kube.client` (label kube): runs RealApiserverTest.* (apiserver_test.cc) against a fresh
# control plane from tools/kube/control-plane.sh. Exits 77 (skipped) when the harness, its cached
# binaries or etcd are absent.
#
#   apiserver_test.sh TESTS_BINARY SOURCE_DIR
set -euo pipefail

tests_bin=${1:?usage: apiserver_test.sh TESTS_BINARY SOURCE_DIR}
source_dir=${2:?usage: apiserver_test.sh TESTS_BINARY SOURCE_DIR}
harness=$source_dir/tools/kube/control-plane.sh

skip() { echo "SKIPPED: $*"; exit 77; }
[[ -f $harness ]] || skip "no $harness"
bin_dir=$(bash "$harness" bin-dir)
[[ -x $bin_dir/kube-apiserver ]] || skip "no kube-apiserver in $bin_dir (control-plane.sh build)"
command -v etcd >/dev/null || skip "etcd is not installed"

dir=$(mktemp -d "${TMPDIR:-/tmp}/coffer-kube-client.XXXXXX")
cleanup() {
  bash "$harness" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
bash "$harness" start "$dir"
COFFER_KUBE_TEST_KUBECONFIG=$dir/kubeconfig "$tests_bin" --gtest_filter='RealApiserverTest.*'
