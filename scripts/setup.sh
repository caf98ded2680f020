#!/usr/bin/env bash
# Vigil set-up, idempotent and quick when nothing is missing.
#
#   scripts/setup.sh up     install what is missing, build, run Vigil (vigil up)
#   scripts/setup.sh test   install what is missing, build, run the whole test suite
#   scripts/setup.sh build  install what is missing and build, nothing else
#
# Run as root on Debian 12 (or a derivative): it installs packages with apt.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
step() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: Vigil loads BPF programs and installs packages (sudo $0 ${1:-})"

# --- system packages -------------------------------------------------------
# Each package with a file that proves it is installed.
declare -A PROVES=(
  [clang]=/usr/bin/clang
  [llvm]=/usr/bin/llvm-strip
  [libbpf-dev]=/usr/include/bpf/libbpf.h
  [bpftool]=/usr/sbin/bpftool
  [libelf-dev]=/usr/include/libelf.h
  [zlib1g-dev]=/usr/include/zlib.h
  [make]=/usr/bin/make
  [g++]=/usr/bin/g++
  [gcc]=/usr/bin/gcc
  [python3]=/usr/bin/python3
  [iproute2]=/usr/sbin/ip
  [pkg-config]=/usr/bin/pkg-config
)
# Only the test suite needs these (real containers: podman with runc, and a
# busybox-static root file system imported as the test image). They are not
# build dependencies, so the agent image's builder does not install them
# (test/deploy/docker.test.ts checks both lists against Dockerfile.agent).
declare -A TEST_PROVES=(
  [podman]=/usr/bin/podman
  [runc]=/usr/sbin/runc
  [busybox-static]=/usr/share/doc/busybox-static
)
missing=()
for pkg in "${!PROVES[@]}"; do
  f=${PROVES[$pkg]}
  # bpftool lives in /usr/sbin on Debian 12, /usr/bin elsewhere
  if [ ! -e "$f" ] && ! { [ "$pkg" = bpftool ] && command -v bpftool >/dev/null; }; then
    missing+=("$pkg")
  fi
done
if [ "${1:-up}" = test ]; then
  for pkg in "${!TEST_PROVES[@]}"; do
    [ -e "${TEST_PROVES[$pkg]}" ] || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them by hand"
  step "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v node >/dev/null || die "Node.js 20 or newer is required (https://nodejs.org or apt-get install nodejs)"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js 20 or newer is required, found $(node --version)"
command -v npm >/dev/null || die "npm is required"

[ -r /sys/kernel/btf/vmlinux ] || die "this kernel has no BTF (/sys/kernel/btf/vmlinux): Vigil's CO-RE probes need CONFIG_DEBUG_INFO_BTF=y"

# --- npm dependencies, from the committed lock file ---------------------------
LOCK_HASH=$(sha256sum package-lock.json | cut -d' ' -f1)
STAMP=node_modules/.vigil-lock-sha256
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCK_HASH" ]; then
  step "npm ci (builds the BPF object and the native addon)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$LOCK_HASH" > "$STAMP"
fi

# --- builds (make and node-gyp only redo what changed) -------------------------
make -s -C bpf
if [ -f build/Makefile ]; then
  npm run -s build:native >/dev/null
else
  npm run -s rebuild:native >/dev/null
fi
# a fresh dist/: a file moved or deleted in the sources must not linger (mocha would run an old test)
rm -rf dist
npx tsc -p tsconfig.json

# The deploy tests render the Kubernetes overlays with `kubectl kustomize`
# (kubectl 1.27 or newer: kustomize 5). Debian's kubernetes-client is too old,
# so a missing or old kubectl is replaced by the official release binary,
# checked against its published SHA-256.
KUBECTL_VERSION=v1.32.4
need_kubectl() {
  local v
  if command -v kubectl >/dev/null; then
    v=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -1)
    [ -n "$v" ] && [ "$v" -ge 27 ] && return 0
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) die "kubectl 1.27+ is needed for the deploy tests and there is no release for $(uname -m): install it by hand" ;;
  esac
  command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null; }
  step "installing kubectl $KUBECTL_VERSION (the deploy tests run kubectl kustomize)"
  local url=https://dl.k8s.io/release/$KUBECTL_VERSION/bin/linux/$arch/kubectl tmp
  tmp=$(mktemp -d)
  curl -fsSL --retry 3 -o "$tmp/kubectl" "$url" && curl -fsSL --retry 3 -o "$tmp/kubectl.sha256" "$url.sha256" \
    || { rm -rf "$tmp"; die "could not download kubectl from $url: install kubectl 1.27 or newer by hand"; }
  echo "$(cat "$tmp/kubectl.sha256")  $tmp/kubectl" | sha256sum --check --status \
    || { rm -rf "$tmp"; die "kubectl from $url does not match its published SHA-256"; }
  install -m 0755 "$tmp/kubectl" /usr/local/bin/kubectl
  rm -rf "$tmp"
}

case "${1:-up}" in
  up)
    step "starting vigil up: control plane + agent with the default rule pack (Ctrl-C to stop)"
    exec node bin/vigil up
    ;;
  test)
    need_kubectl
    step "running the test suite"
    exec npx mocha
    ;;
  build)
    ;;
  *)
    die "usage: $0 up|test|build"
    ;;
esac
