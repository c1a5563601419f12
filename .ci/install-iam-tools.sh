#!/usr/bin/env bash
# Tools the IAM tests need (test/unit/iam-cloudformation.test.ts): cfn-lint, pinned, in its own venv
# so its dependencies never meet the lab's Python test dependencies. No-op when already installed.
#   IAM_TOOLS_VENV  where the venv lives (default ~/.cache/k8s-chaos-harness/venv-iam)
set -euo pipefail
CFN_LINT_VERSION=1.58.0
VENV="${IAM_TOOLS_VENV:-${HOME}/.cache/k8s-chaos-harness/venv-iam}"
if [ -x "${VENV}/bin/cfn-lint" ] && [ "$("${VENV}/bin/cfn-lint" --version 2>/dev/null)" = "cfn-lint ${CFN_LINT_VERSION}" ]; then
  echo "== cfn-lint ${CFN_LINT_VERSION} in ${VENV}"
  exit 0
fi
echo "== cfn-lint ${CFN_LINT_VERSION} into ${VENV}"
python3 -m venv "${VENV}"
"${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "cfn-lint==${CFN_LINT_VERSION}"
"${VENV}/bin/cfn-lint" --version
