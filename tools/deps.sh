# Sourced by tools/run-server.sh, tools/test.sh and bench/run.sh: installs the Debian 12 packages
# that are missing, and nothing else.

# coffer_install_packages PKG...: apt-get installs those of PKG that are not installed yet.
coffer_install_packages() {
  local -a missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
}

# coffer_install_deps build|test: what building coffer needs, plus for `test` what its tests use.
coffer_install_deps() {
  local -a pkgs=(
    g++ cmake make ccache pkg-config
    libboost-dev libssl-dev libsqlite3-dev sqlite3 nlohmann-json3-dev libspdlog-dev libfmt-dev
    libcli11-dev libyaml-cpp-dev libgtest-dev libgmock-dev libcurl4-openssl-dev libcrypt-dev libre2-dev
  )
  if [[ "${1:-build}" == test ]]; then
    pkgs+=(
      awscli python3-boto3 python3-botocore python3-pytest python3-cryptography
      openssh-client openssl curl procps clang libclang-rt-14-dev
      prometheus python3-yaml
      golang-go rsync jq etcd-server dpkg-dev golang-github-modern-go-reflect2-dev
    )
  fi
  coffer_install_packages "${pkgs[@]}"
}
