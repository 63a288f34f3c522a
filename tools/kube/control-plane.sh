#!/usr/bin/env bash
# A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager on
# free loopback ports. See tools/kube/README.md.
#
#   control-plane.sh build       builds kube-apiserver and kube-controller-manager once from
#                                Debian's `kubernetes` source package and caches them
#   control-plane.sh start DIR   starts the control plane with its state, logs and env in DIR
#   control-plane.sh stop DIR    stops it (SIGTERM, then SIGKILL)
#   control-plane.sh status DIR  says what runs; exit 0 only if the apiserver answers /readyz
#   control-plane.sh restart-apiserver DIR
#                                stops and starts kube-apiserver only (same port, flags, certs,
#                                etcd), e.g. to test that clients resume their watches
#   control-plane.sh bin-dir     prints the cache directory holding the binaries
#
# Env: COFFER_KUBE_CACHE (default /var/cache/coffer/kube): the binaries go into
# $COFFER_KUBE_CACHE/<version>/.
set -euo pipefail

readonly kube_version=1.20.2
readonly cache_root=${COFFER_KUBE_CACHE:-/var/cache/coffer/kube}
readonly bin_dir=$cache_root/$kube_version
readonly binaries=(kube-apiserver kube-controller-manager)
# Bumped whenever the build recipe changes, so a cache built by an older recipe is rebuilt.
#   2: vendored modern-go/reflect2 1.0.1 replaced by Debian's 1.0.2 (1.0.1 crashes under Go >= 1.18
#      with "fatal error: fault" in mapiterinit when json-iterator encodes a map)
readonly recipe=2

die() { echo "control-plane: $*" >&2; exit 1; }
log() { echo "control-plane: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

have_binaries() {
  local b
  for b in "${binaries[@]}"; do
    [[ -x $bin_dir/$b ]] || return 1
  done
  [[ -f $bin_dir/VERSION && "$(cat "$bin_dir/RECIPE" 2>/dev/null)" == "$recipe" ]]
}

# Adds a deb-src twin of the Debian package sources, unless deb-src entries exist already.
add_deb_src() {
  local twin=/etc/apt/sources.list.d/coffer-deb-src.sources
  [[ -e $twin ]] && return 0
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  local tmp
  tmp=$(mktemp)
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -e $f ]] || continue
    grep -q 'debian' "$f" || continue
    sed -E 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"
    echo >>"$tmp"
  done
  if [[ ! -s $tmp && -f /etc/apt/sources.list ]]; then
    # One-line format: convert each `deb URI SUITE COMPONENTS` into a deb822 stanza.
    awk '$1 == "deb" && $2 !~ /^\[/ {
           printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $2, $3
           for (i = 4; i <= NF; i++) printf " %s", $i
           printf "\n\n"
         }' /etc/apt/sources.list >"$tmp"
  fi
  [[ -s $tmp ]] || { rm -f "$tmp"; die "found no Debian apt source to twin as deb-src"; }
  as_root install -m 0644 "$tmp" "$twin"
  rm -f "$tmp"
  log "added $twin"
}

install_packages() {
  local -a missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

cmd_build() {
  if have_binaries; then
    log "kubernetes $kube_version binaries cached in $bin_dir"
    return 0
  fi
  as_root mkdir -p "$cache_root"
  [[ -w $cache_root ]] || as_root chown "$(id -u):$(id -g)" "$cache_root"
  exec 9>"$cache_root/.lock"
  log "waiting for the build lock $cache_root/.lock"
  flock 9
  if have_binaries; then  # another build finished while we waited
    log "kubernetes $kube_version binaries cached in $bin_dir"
    return 0
  fi

  add_deb_src
  as_root apt-get update -qq
  install_packages golang-go rsync jq etcd-server dpkg-dev make \
    golang-github-modern-go-reflect2-dev
  command -v kubectl >/dev/null || install_packages kubernetes-client

  local work
  work=$(mktemp -d "$cache_root/build-$kube_version.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  log "fetching the kubernetes source package into $work"
  chmod 0755 "$work"  # apt's _apt user downloads into it
  (cd "$work" && apt-get source -qq kubernetes) >"$work/apt-source.log" 2>&1 || {
    cat "$work/apt-source.log" >&2
    die "apt-get source kubernetes failed"
  }
  local tree
  tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -1)
  [[ -n $tree && -f $tree/Makefile ]] || die "apt-get source kubernetes gave no source tree"
  # Kubernetes 1.20 vendors reflect2 1.0.1, whose map iteration crashes the apiserver when built
  # with Go >= 1.18; 1.0.2 (same API) fixes that.
  local reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
  [[ -f $reflect2/reflect2.go ]] || die "$reflect2 missing (golang-github-modern-go-reflect2-dev)"
  rm -f "$tree/vendor/github.com/modern-go/reflect2/"*.go
  cp "$reflect2/"*.go "$tree/vendor/github.com/modern-go/reflect2/"
  rm -f "$tree/vendor/github.com/modern-go/reflect2/"*_test.go
  mkdir -p "$tree/.go/src/k8s.io"
  ln -sfn ../../.. "$tree/.go/src/k8s.io/kubernetes"

  local b start
  for b in "${binaries[@]}"; do
    log "building $b (minutes: ~7 for kube-apiserver, ~1.5 more for the rest on 2 cores)"
    start=$SECONDS
    (cd "$tree/.go/src/k8s.io/kubernetes" &&
       GOPATH=$tree/.go CGO_ENABLED=0 \
         make WHAT="cmd/$b" >"$work/make-$b.log" 2>&1) || {
      tail -40 "$work/make-$b.log" >&2
      die "building $b failed"
    }
    log "built $b in $((SECONDS - start))s"
  done

  local staging=$cache_root/.staging-$kube_version
  rm -rf "$staging"
  mkdir -p "$staging"
  for b in "${binaries[@]}"; do
    local built
    built=$(find "$tree/_output" -type f -name "$b" -perm -u+x | head -1)
    [[ -n $built ]] || die "make produced no $b"
    install -m 0755 "$built" "$staging/$b"
  done
  "$staging/kube-apiserver" --version >"$staging/VERSION"
  echo "$recipe" >"$staging/RECIPE"
  rm -rf "$bin_dir"
  mv "$staging" "$bin_dir"
  rm -rf "$work"
  trap - EXIT
  log "cached $(cat "$bin_dir/VERSION") in $bin_dir"
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_for WHAT PIDFILE LOG SECONDS COMMAND...: runs COMMAND until it succeeds; fails early if the
# process in PIDFILE exits.
wait_for() {
  local what=$1 pidfile=$2 logfile=$3 secs=$4
  shift 4
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      tail -30 "$logfile" >&2
      die "$what exited during startup (log: $logfile)"
    fi
    if ((SECONDS >= deadline)); then
      tail -30 "$logfile" >&2
      die "$what not ready after ${secs}s (log: $logfile)"
    fi
    sleep 0.5
  done
}

# spawn NAME DIR COMMAND...: starts COMMAND in the background with its output in DIR/NAME.log
# and its pid in DIR/NAME.pid.
spawn() {
  local name=$1 dir=$2
  shift 2
  "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

# spawn_apiserver DIR ETCD_URL PORT: starts kube-apiserver with the flags every start uses (its
# serving certificate and key stay in DIR/certs, so a restart keeps them).
spawn_apiserver() {
  local dir=$1 etcd_url=$2 api_port=$3
  spawn apiserver "$dir" "$bin_dir/kube-apiserver" \
    --etcd-servers="$etcd_url" \
    --secure-port="$api_port" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --cert-dir="$dir/certs" \
    --token-auth-file="$dir/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$dir/sa.key" \
    --service-account-signing-key-file="$dir/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24
}

cmd_start() {
  local dir=${1:?usage: start DIR}
  have_binaries || die "no binaries in $bin_dir; run: $0 build"
  command -v etcd >/dev/null || die "etcd not found; run: $0 build (it installs etcd-server)"
  command -v kubectl >/dev/null || die "kubectl not found"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/apiserver.pid ]] && kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null; then
    die "a control plane already runs in $dir"
  fi
  mkdir -p "$dir/certs" "$dir/etcd"
  chmod 0700 "$dir/etcd"
  # If any step fails, stop what did start, so no etcd or apiserver is left behind.
  # shellcheck disable=SC2064
  trap "cmd_stop '$dir' >/dev/null 2>&1" EXIT

  local etcd_port etcd_peer_port api_port kcm_port
  etcd_port=$(free_port)
  etcd_peer_port=$(free_port)
  api_port=$(free_port)
  kcm_port=$(free_port)
  local etcd_url=http://127.0.0.1:$etcd_port

  spawn etcd "$dir" etcd --name coffer-test --data-dir "$dir/etcd" \
    --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "coffer-test=http://127.0.0.1:$etcd_peer_port"
  wait_for etcd "$dir/etcd.pid" "$dir/etcd.log" 60 curl -fsS "$etcd_url/health"

  # The service-account key and the static admin token (group system:masters).
  [[ -f $dir/sa.key ]] || openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  local token
  token=$(openssl rand -hex 32)
  (umask 077 && printf '%s,admin,admin,"system:masters"\n' "$token" >"$dir/tokens.csv")

  spawn_apiserver "$dir" "$etcd_url" "$api_port"
  local url=https://127.0.0.1:$api_port
  local ca=$dir/certs/apiserver.crt
  wait_for kube-apiserver "$dir/apiserver.pid" "$dir/apiserver.log" 120 \
    curl -fsS --cacert "$ca" -H "Authorization: Bearer $token" "$url/readyz"

  (umask 077 && cat >"$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: coffer-test
  cluster:
    server: $url
    certificate-authority: $ca
users:
- name: admin
  user:
    token: $token
contexts:
- name: coffer-test
  context:
    cluster: coffer-test
    user: admin
    namespace: default
current-context: coffer-test
KUBECONFIG
  )

  spawn controller-manager "$dir" "$bin_dir/kube-controller-manager" \
    --kubeconfig="$dir/kubeconfig" \
    --authentication-kubeconfig="$dir/kubeconfig" \
    --authorization-kubeconfig="$dir/kubeconfig" \
    --service-account-private-key-file="$dir/sa.key" \
    --root-ca-file="$ca" \
    --leader-elect=false \
    --use-service-account-credentials=false \
    --bind-address=127.0.0.1 \
    --secure-port="$kcm_port" \
    --port=0
  wait_for kube-controller-manager "$dir/controller-manager.pid" "$dir/controller-manager.log" \
    60 curl -fsSk "https://127.0.0.1:$kcm_port/healthz"

  (umask 077 && cat >"$dir/env" <<ENV
# Written by tools/kube/control-plane.sh start; source it.
export KUBECONFIG=$dir/kubeconfig
export KUBE_APISERVER_URL=$url
export KUBE_TOKEN=$token
export KUBE_CA_FILE=$ca
export ETCD_URL=$etcd_url
export KUBE_CONTROLLER_MANAGER_URL=https://127.0.0.1:$kcm_port
export ETCD_PID=$(cat "$dir/etcd.pid")
export KUBE_APISERVER_PID=$(cat "$dir/apiserver.pid")
export KUBE_CONTROLLER_MANAGER_PID=$(cat "$dir/controller-manager.pid")
ENV
  )
  trap - EXIT
  log "running: apiserver $url, etcd $etcd_url; source $dir/env"
}

readonly components=(controller-manager apiserver etcd)  # stop order

# stop_component DIR NAME: stops the process in DIR/NAME.pid (SIGTERM, then SIGKILL).
stop_component() {
  local dir=$1 c=$2 pid
  [[ -f $dir/$c.pid ]] || return 0
  pid=$(cat "$dir/$c.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + ${COFFER_KUBE_STOP_TIMEOUT:-15}))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$c (pid $pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/$c.pid"
}

cmd_stop() {
  local dir=${1:?usage: stop DIR}
  local c
  for c in "${components[@]}"; do
    stop_component "$dir" "$c"
  done
}

# restart-apiserver DIR: stops kube-apiserver only and starts it again with the same port, flags,
# certificates and etcd (so clients see their connections and watches drop, then the same API
# and objects come back). Its previous log is kept as DIR/apiserver.log.1.
cmd_restart_apiserver() {
  local dir=${1:?usage: restart-apiserver DIR}
  have_binaries || die "no binaries in $bin_dir; run: $0 build"
  [[ -f $dir/env ]] || die "no control plane started in $dir (no $dir/env)"
  dir=$(cd "$dir" && pwd)
  # shellcheck disable=SC1091
  source "$dir/env"
  if ! [[ -f $dir/etcd.pid ]] || ! kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null; then
    die "etcd does not run in $dir"
  fi
  local api_port=${KUBE_APISERVER_URL##*:}
  stop_component "$dir" apiserver
  if [[ -f $dir/apiserver.log ]]; then
    mv -f "$dir/apiserver.log" "$dir/apiserver.log.1"
  fi
  # shellcheck disable=SC2153  # ETCD_URL comes from DIR/env
  spawn_apiserver "$dir" "$ETCD_URL" "$api_port"
  wait_for kube-apiserver "$dir/apiserver.pid" "$dir/apiserver.log" 120 \
    curl -fsS --cacert "$KUBE_CA_FILE" -H "Authorization: Bearer $KUBE_TOKEN" \
    "$KUBE_APISERVER_URL/readyz"
  local pid
  pid=$(cat "$dir/apiserver.pid")
  sed -i "s/^export KUBE_APISERVER_PID=.*/export KUBE_APISERVER_PID=$pid/" "$dir/env"
  log "restarted kube-apiserver (pid $pid) at $KUBE_APISERVER_URL"
  if [[ -f $dir/controller-manager.pid ]] &&
      ! kill -0 "$(cat "$dir/controller-manager.pid")" 2>/dev/null; then
    # It exits when the apiserver goes away during its own start-up (first seconds only).
    log "warning: kube-controller-manager is not running (log: $dir/controller-manager.log)"
  fi
}

cmd_status() {
  local dir=${1:?usage: status DIR}
  local c pid rc=0
  for c in etcd apiserver controller-manager; do
    if [[ -f $dir/$c.pid ]] && kill -0 "$(cat "$dir/$c.pid")" 2>/dev/null; then
      echo "$c: running (pid $(cat "$dir/$c.pid"))"
    else
      echo "$c: stopped"
      rc=1
    fi
  done
  if [[ -f $dir/env ]]; then
    # shellcheck disable=SC1091
    source "$dir/env"
    if curl -fsS --cacert "$KUBE_CA_FILE" -H "Authorization: Bearer $KUBE_TOKEN" \
        "$KUBE_APISERVER_URL/readyz" >/dev/null 2>&1; then
      echo "apiserver: ready at $KUBE_APISERVER_URL"
    else
      echo "apiserver: not ready"
      rc=1
    fi
  else
    rc=1
  fi
  return $rc
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  restart-apiserver) cmd_restart_apiserver "${2:-}" ;;
  bin-dir) echo "$bin_dir" ;;
  *) die "usage: $0 build|start DIR|stop DIR|status DIR|restart-apiserver DIR|bin-dir" ;;
esac
