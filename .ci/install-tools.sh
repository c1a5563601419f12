#!/usr/bin/env bash
# Linters for the shipped examples (test/unit/examples-linters.test.ts): zizmor (GitHub Actions
# workflows) and checkov (Kubernetes manifests), pinned, in their own virtualenv so that checkov's
# many dependencies cannot clash with moto/boto3 from lab/requirements-test.txt. Idempotent: when the
# venv already has the pinned versions it returns at once.
#   TOOLS_VENV (default ~/.cache/k8s-chaos-harness/venv-tools) moves the venv; the tests look there.
set -euo pipefail
ZIZMOR_VERSION=1.33.1
CHECKOV_VERSION=3.3.30
VENV="${TOOLS_VENV:-$HOME/.cache/k8s-chaos-harness/venv-tools}"
PY="${PYTHON:-python3}"

have() { # name version: the venv has the tool's script and exactly that version's metadata (no pip call: fast)
  [ -x "$VENV/bin/$1" ] && compgen -G "$VENV/lib/python3*/site-packages/$1-$2.dist-info" >/dev/null
}

if have zizmor "$ZIZMOR_VERSION" && have checkov "$CHECKOV_VERSION"; then
  echo "== example linters: zizmor $ZIZMOR_VERSION, checkov $CHECKOV_VERSION already in $VENV"
  exit 0
fi
echo "== example linters: installing zizmor $ZIZMOR_VERSION and checkov $CHECKOV_VERSION into $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  "zizmor==$ZIZMOR_VERSION" "checkov==$CHECKOV_VERSION"
"$VENV/bin/zizmor" --version
"$VENV/bin/checkov" --version
