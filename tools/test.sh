#!/usr/bin/env bash
# Installs what is missing (apt-get), builds, and runs every test:
#   1. Release build; fuzz-corpus replays, and integration tests against the real aws CLI v2
#      (Debian), boto3 1.26 (Debian) and boto3 1.43 (where present). The unit tests are built and
#      run once, in step 3 (compiling them twice does not fit a 2-core CI machine's 90 minutes);
#      COFFER_RELEASE_UNIT_TESTS=1, or COFFER_SKIP_ASAN=1, runs them here as well.
#   2. The kube tests (label kube) against a real Kubernetes 1.20 control plane; its binaries are
#      built once per machine and cached (tools/kube/control-plane.sh build, ~9 minutes the first
#      time).
#   3. The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (preset asan: -O1 -g1,
#      the test files at -O0).
#   4. A short libFuzzer run of every fuzz target (clang, preset fuzz).
# Env: COFFER_FUZZ_SECONDS (default 30 per target), COFFER_SKIP_KUBE=1, COFFER_SKIP_ASAN=1,
# COFFER_SKIP_FUZZ=1, COFFER_RELEASE_UNIT_TESTS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
coffer_install_deps test

jobs=$(nproc)
log_dir=$(mktemp -d)
passed=0
failed=0

count() {  # count <ctest log>: adds ctest's totals to passed/failed
  local line total nfail
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$1" | tail -1 || true)
  [[ -n "$line" ]] || return 0
  nfail=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + total - nfail))
  failed=$((failed + nfail))
}

release_unit=OFF
if [[ "${COFFER_RELEASE_UNIT_TESTS:-0}" == 1 || "${COFFER_SKIP_ASAN:-0}" == 1 ]]; then
  release_unit=ON
fi
echo "== 1/4 release build and all tests but the kube ones (unit tests: $release_unit)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCOFFER_UNIT_TESTS="$release_unit" >/dev/null
cmake --build build -j"$jobs"
set +e
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 900 -LE '^kube$' |
  tee "$log_dir/release.log"
rc1=${PIPESTATUS[0]}
set -e
count "$log_dir/release.log"

rc_kube=0
if [[ "${COFFER_SKIP_KUBE:-0}" != 1 ]]; then
  echo "== 2/4 kube tests against a real Kubernetes control plane"
  # kube.client runs the kube unit-test binary against the apiserver.
  cmake --build build -j"$jobs" --target coffer_kube_tests
  if bash tools/kube/control-plane.sh build; then
    set +e
    ctest --test-dir build -L '^kube$' --output-on-failure | tee "$log_dir/kube.log"
    rc_kube=${PIPESTATUS[0]}
    set -e
    count "$log_dir/kube.log"
  else
    echo "kube: building the Kubernetes control plane FAILED"
    rc_kube=1
    failed=$((failed + 1))
  fi
fi

rc2=0
if [[ "${COFFER_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== 3/4 unit tests under ASan+UBSan"
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  set +e
  ctest --preset asan -j"$jobs" | tee "$log_dir/asan.log"
  rc2=${PIPESTATUS[0]}
  set -e
  count "$log_dir/asan.log"
fi

rc3=0
if [[ "${COFFER_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== 4/4 libFuzzer runs"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target coffer_fuzzers
  secs=${COFFER_FUZZ_SECONDS:-30}
  for bin in build-fuzz/fuzz/coffer_*_fuzz; do
    name=$(basename "$bin" _fuzz)
    name=${name#coffer_}
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$name/." "$work/"
    if "$bin" -max_total_time="$secs" -print_final_stats=0 -artifact_prefix="$log_dir/$name-" \
        "$work" >"$log_dir/fuzz-$name.log" 2>&1; then
      echo "fuzz $name: ok (${secs}s)"
      passed=$((passed + 1))
    else
      echo "fuzz $name: FAILED; crash input saved under $log_dir; last lines:"
      tail -30 "$log_dir/fuzz-$name.log"
      failed=$((failed + 1))
      rc3=1
    fi
  done
fi

echo "summary: $passed passed, $failed failed"
if ((rc1 != 0 || rc_kube != 0 || rc2 != 0 || rc3 != 0)); then
  exit 1
fi
