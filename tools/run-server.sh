#!/usr/bin/env bash
# Installs what is missing (apt-get), builds the coffer binary, and starts `coffer server` on its
# embedded SQLite default. Extra arguments go to `coffer server`; with none it runs in --dev mode
# (data under /tmp, generated master key, root credentials printed).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
coffer_install_deps build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target coffer -j"$(nproc)"
if (($# == 0)); then
  set -- --dev
fi
exec ./build/coffer server "$@"
