#!/usr/bin/env bash
# Builds the lab's control plane from upstream Go modules (no binary downloads):
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (k8s.io/kubernetes)
#   etcd                                                              (go.etcd.io/etcd/server/v3)
#   kwok, kwokctl                                                     (sigs.k8s.io/kwok)
# into a cache outside the repo, keyed by version. Idempotent: a complete cache is reused.
# If LAB_BIN_DIR points at a directory that already holds all seven binaries (e.g. official
# release builds), nothing is built and that directory is used.
set -euo pipefail

K8S_VERSION="${LAB_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${LAB_ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${LAB_KWOK_VERSION:-v0.8.0}"
CACHE_ROOT="${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-chaos-harness}"
OUT="${CACHE_ROOT}/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)

log() { printf '[lab build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
have_all() { local d="$1" b; for b in "${BINARIES[@]}"; do [ -x "$d/$b" ] || return 1; done; }

if [ -n "${LAB_BIN_DIR:-}" ]; then
  if have_all "$LAB_BIN_DIR"; then echo "$LAB_BIN_DIR"; exit 0; fi
  log "LAB_BIN_DIR=$LAB_BIN_DIR lacks one of: ${BINARIES[*]}"; exit 1
fi
if have_all "$OUT/bin"; then echo "$OUT/bin"; exit 0; fi

command -v go >/dev/null || { log "go is not installed (need Go >= 1.26)"; exit 1; }
mkdir -p "$OUT/bin" "$OUT/work"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
START=$(date +%s)

progress() { # prints a line every 30 s while a build runs so long builds show signs of life
  local pid=$1 what=$2
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && log "$what: still building ($(( $(date +%s) - START ))s elapsed; cache: $(du -sh "$(go env GOCACHE)" 2>/dev/null | cut -f1))"
  done
}
run_with_progress() { local what=$1; shift; "$@" & local pid=$!; progress "$pid" "$what" & local ppid=$!; local rc=0; wait "$pid" || rc=$?; kill "$ppid" 2>/dev/null || true; wait "$ppid" 2>/dev/null || true; return $rc; }

# ---- Kubernetes: wrapper module replacing each staging module with its published v0.x.y ----
K8S_MINOR_VERSION="v0.${K8S_VERSION#v1.}"
W="$OUT/work/k8s"; mkdir -p "$W"
if [ ! -x "$OUT/bin/kube-apiserver" ] || [ ! -x "$OUT/bin/kube-controller-manager" ] || [ ! -x "$OUT/bin/kube-scheduler" ] || [ ! -x "$OUT/bin/kubectl" ]; then
  log "resolving k8s.io/kubernetes@${K8S_VERSION} and its staging modules (${K8S_MINOR_VERSION})"
  ( cd "$W"
    cat > go.mod <<GOMOD
module lab.local/k8s-build

go 1.26
GOMOD
    echo 'package tools' > tools.go
    modfile=$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    staging=$(sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$modfile")
    log "replacing $(echo "$staging" | wc -l) staging modules"
    { echo; echo "require k8s.io/kubernetes ${K8S_VERSION}"; echo; echo "replace ("
      for m in $staging; do echo "	$m => $m ${K8S_MINOR_VERSION}"; done; echo ")"; } >> go.mod
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
    log "go mod tidy (downloads modules from the Go module proxy)"
    go mod tidy -e >/dev/null 2>tidy.log || { cat tidy.log >&2; exit 1; }
  )
  COMMIT="${K8S_GIT_COMMIT:-0000000000000000000000000000000000000000}"
  BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  MAJOR=1; MINOR=$(echo "$K8S_VERSION" | cut -d. -f2)
  LDF=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF="$LDF -X $pkg.gitVersion=${K8S_VERSION} -X $pkg.gitMajor=${MAJOR} -X $pkg.gitMinor=${MINOR}"
    LDF="$LDF -X $pkg.gitCommit=${COMMIT} -X $pkg.gitTreeState=clean -X $pkg.buildDate=${BUILD_DATE}"
  done
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ${K8S_VERSION} (cold: tens of minutes on 2 cores)"
  ( cd "$W" && run_with_progress "kubernetes" go build -trimpath -ldflags "-s -w $LDF" -o "$OUT/bin/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl )
fi

# ---- etcd: its module's go.mod replaces siblings with relative paths, so it needs a wrapper too ----
if [ ! -x "$OUT/bin/etcd" ]; then
  E="$OUT/work/etcd"; mkdir -p "$E"
  log "building etcd ${ETCD_VERSION}"
  ( cd "$E"
    ETCD_MINOR="${ETCD_VERSION}"
    cat > go.mod <<GOMOD
module lab.local/etcd-build

go 1.26

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
GOMOD
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    go mod tidy -e >/dev/null 2>tidy.log || { cat tidy.log >&2; exit 1; }
    run_with_progress "etcd" go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd" go.etcd.io/etcd/server/v3 )
fi

# ---- kwok/kwokctl: plain go install ----
if [ ! -x "$OUT/bin/kwok" ] || [ ! -x "$OUT/bin/kwokctl" ]; then
  log "building kwok and kwokctl ${KWOK_VERSION}"
  GOBIN="$OUT/bin" run_with_progress "kwok" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" "sigs.k8s.io/kwok/cmd/kwokctl@${KWOK_VERSION}"
fi

have_all "$OUT/bin" || { log "build finished but a binary is missing in $OUT/bin"; exit 1; }
log "done in $(( $(date +%s) - START ))s: $OUT/bin"
echo "$OUT/bin"
