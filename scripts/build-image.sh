#!/usr/bin/env bash
# Builds the harness's container image (the repository's Dockerfile) without an image registry, then
# smoke-runs it:
#   1. a base image from Debian packages: `mmdebstrap --variant=minbase` of a suite whose nodejs is
#      >= 20.19 (trixie: 20.19.2, with npm 9.2), imported with `podman import` (reused when present);
#   2. `podman build --build-arg BASE_IMAGE=<that>`: build stage npm ci + npm run build + npm pack,
#      runtime stage with only the packed tarball installed globally (--omit=dev);
#   3. `podman run --rm --read-only --user 10001 IMAGE --help`, then `IMAGE init` into a scratch
#      project (plus a .ts scenario importing the package by name) and `IMAGE list` with that project
#      mounted the way examples/kubernetes/cronjob.yaml mounts it (chaos.targets.json and scenarios/
#      read-only; .chaos/, reports/ and /tmp are the image's volumes).
#
#   scripts/build-image.sh            # base (if missing) + build + smoke run
#   REBUILD_BASE=1 scripts/build-image.sh
#
# Needs root (or a rootless podman with subuids), podman, mmdebstrap and a Debian mirror; npm in the
# build needs the npm registry. Behind a TLS-intercepting proxy, NPM_CA (default: NODE_EXTRA_CA_CERTS)
# is handed to the build as the secret npm_ca, read only while npm runs, never stored in the image.
#
# Settings (environment): SUITE (trixie), DEBIAN_MIRROR (http://deb.debian.org/debian), BASE_IMAGE_TAG,
# IMAGE (localhost/k8s-aws-chaos-harness:local), PODMAN_RUNTIME (runc), and the ulimits handed to the
# runtime (PODMAN_NOFILE: the hard limit of this shell; PODMAN_NPROC: 4096): in a sandbox that may not
# raise them, podman's defaults fail with "setrlimit `RLIMIT_NOFILE`: Operation not permitted"; crun
# also refuses a hybrid cgroup v1/v2 host, runc does not.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUITE="${SUITE:-trixie}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE_TAG="${BASE_IMAGE_TAG:-localhost/chaos-base-node-${SUITE}:local}"
IMAGE="${IMAGE:-localhost/k8s-aws-chaos-harness:local}"
NPM_CA="${NPM_CA:-${NODE_EXTRA_CA_CERTS:-}}"
PODMAN_NOFILE="${PODMAN_NOFILE:-$(ulimit -Hn)}"
PODMAN_NPROC="${PODMAN_NPROC:-4096}"
RUNTIME_FLAGS=(--runtime "${PODMAN_RUNTIME:-runc}")
RUN_FLAGS=(--ulimit "nofile=${PODMAN_NOFILE}:${PODMAN_NOFILE}" --ulimit "nproc=${PODMAN_NPROC}:${PODMAN_NPROC}")

log() { printf '[build-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for c in podman mmdebstrap; do command -v "$c" >/dev/null || { log "$c is not installed (apt-get install -y podman mmdebstrap)"; exit 1; }; done
START=$(date +%s)

# ---- 1. the base image, from Debian packages ----
if [ -n "${REBUILD_BASE:-}" ] || ! podman image exists "$BASE_IMAGE_TAG"; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  log "mmdebstrap $SUITE (minbase + nodejs, npm, ca-certificates) from $DEBIAN_MIRROR"
  mmdebstrap --variant=minbase --include=nodejs,npm,ca-certificates "$SUITE" "$tmp/rootfs.tar" "$DEBIAN_MIRROR"
  podman import --change 'CMD ["/bin/bash"]' "$tmp/rootfs.tar" "$BASE_IMAGE_TAG" >/dev/null
  rm -rf "$tmp"
  trap - EXIT
fi
node_v="$(podman "${RUNTIME_FLAGS[@]}" run --rm "${RUN_FLAGS[@]}" --network none "$BASE_IMAGE_TAG" node -p 'process.versions.node')"
log "base $BASE_IMAGE_TAG: node $node_v"
node -e 'const [a,b]=process.argv[1].split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' "$node_v" \
  || { log "node $node_v in $SUITE is older than the package's engines (>= 20.19): pick another SUITE"; exit 1; }

# ---- 2. the image ----
build=(podman "${RUNTIME_FLAGS[@]}" build "${RUN_FLAGS[@]}" --network host --build-arg "BASE_IMAGE=$BASE_IMAGE_TAG" -t "$IMAGE")
[ -n "$NPM_CA" ] && build+=(--secret "id=npm_ca,src=$NPM_CA")
log "building $IMAGE from $ROOT/Dockerfile"
"${build[@]}" "$ROOT"
log "image: $(podman image inspect "$IMAGE" --format '{{.Id}} {{.Size}} bytes, user {{.Config.User}}, entrypoint {{.Config.Entrypoint}}')"

# ---- 3. smoke run: read-only root, uid 10001, no network ----
run=(podman "${RUNTIME_FLAGS[@]}" run --rm --read-only --user 10001 --network none "${RUN_FLAGS[@]}")
log "podman run --rm --read-only --user 10001 $IMAGE --help"
help="$("${run[@]}" "$IMAGE" --help)"
printf '%s\n' "$help"
grep -q '^Usage: chaos' <<<"$help" || { log "--help printed no 'Usage: chaos'"; exit 1; }

# a project as `chaos init` writes it (YAML scenario), plus a .ts scenario that imports the package by
# name (resolved through /work/node_modules/<name> -> the global install)
proj="$(mktemp -d)"
trap 'rm -rf "$proj"' EXIT
chmod 777 "$proj"
"${run[@]}" -v "$proj:/work/proj" "$IMAGE" --project /work/proj init
sed 's#\.\./harness/index\.js#k8s-aws-chaos-harness#' "$ROOT/scenarios/node-stop.ts" > "$proj/scenarios/node-stop.ts"
log "podman run ... $IMAGE list (chaos.targets.json and scenarios/ mounted read-only, as the CronJob does; .chaos/, reports/, /tmp: the image's volumes)"
list="$("${run[@]}" -v "$proj/chaos.targets.json:/work/chaos.targets.json:ro" -v "$proj/scenarios:/work/scenarios:ro" "$IMAGE" list)"
printf '%s\n' "$list"
if grep -q INVALID <<<"$list" || ! grep -q '^az-outage.yaml' <<<"$list" || ! grep -q '^node-stop.ts' <<<"$list"; then log "list did not load both scenarios"; exit 1; fi
log "ok in $(( $(date +%s) - START )) s"
