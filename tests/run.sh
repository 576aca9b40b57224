#!/usr/bin/env bash
# The whole test suite (the README's test command; CI runs it through .ci/run).
# Installs what is missing (Debian chromium, the package with its test extra, js deps),
# then lints, type-checks, runs the js tests and pytest (unit, real SDK over loopback,
# recorded fixtures, a real kernel, real JupyterLab / Notebook 7 in headless Chromium).
# Idempotent: on a machine that has everything, it only re-checks and re-runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONUNBUFFERED=1
PY=${PYTHON:-python}
CHROMIUM=/usr/bin/chromium

section() { printf '\n========== %s ==========\n' "$*"; }
fail() { printf '\n!!!!!!!!!! FAILED: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; [ "$rc" -eq 0 ] || printf "\n!!!!!!!!!! tests/run.sh failed (exit %s)\n" "$rc" >&2' EXIT

section "environment"
"$PY" --version
node --version 2>/dev/null || echo "node: not installed"
echo "CI=${CI:-} cwd=$PWD shared=$([ -d ../shared ] && echo present || echo missing)"

section "system packages: chromium (browser tests)"
if [ -x "$CHROMIUM" ]; then
    echo "already installed"
else
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || fail "need root (or sudo) to apt-get install chromium"
        SUDO=(sudo -n)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends \
        chromium fonts-dejavu-core fonts-liberation
    [ -x "$CHROMIUM" ] || fail "chromium did not install at $CHROMIUM"
fi
"$CHROMIUM" --version 2>/dev/null

section "python: pip install -e .[test]"
"$PY" -m pip install -q -e ".[test]"
"$PY" -c "import nbstream; print('nbstream', nbstream.__version__, 'from', nbstream.__file__)"

section "lint: ruff check ."
"$PY" -m ruff check .

section "types: mypy"
"$PY" -m mypy

if [ -f js/package.json ]; then
    section "js: npm install && npm test"
    (
        cd js
        # npm ci rejects lock files written with this machine's omit-lockfile-registry-resolved;
        # npm install honours the lock file all the same.
        npm install --no-audit --no-fund
        npm test
    )
else
    section "js: no js/package.json, skipped"
fi

section "tests: python -m pytest"
set +e
"$PY" -m pytest
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    fail "pytest collected no tests (exit 5)"
elif [ "$rc" -ne 0 ]; then
    fail "pytest exit $rc"
fi

section "all checks passed"
