#!/usr/bin/env bash
# Fresh clone -> full test run: make .venv with the train and dev extras, then lint, type-check,
# check the import layers, build the docs, and run pytest (unit, CLI, training, export and wheel
# tests). Arguments go to pytest: `bash scripts/test.sh -m "not slow"` is the fast loop.
# MNIST: set MNIST_DATA_DIR; defaults to ../shared/data/mnist when that exists. Tests that need
# MNIST are skipped without it (and fail instead when CI=true or MNIST_REQUIRE_DATA=1).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

if [ -z "${MNIST_DATA_DIR:-}" ] && [ -d ../shared/data/mnist ]; then
    MNIST_DATA_DIR="$(cd ../shared/data/mnist && pwd)"
    export MNIST_DATA_DIR
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[train,dev,ray,serve]'

echo "== ruff check" && "$VENV/bin/ruff" check .
echo "== ruff format --check" && "$VENV/bin/ruff" format --check .
echo "== mypy" && "$VENV/bin/mypy"
echo "== lint-imports" && "$VENV/bin/lint-imports" --no-cache
echo "== mkdocs build --strict" && NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict --quiet
echo "== pytest (MNIST_DATA_DIR=${MNIST_DATA_DIR:-unset})"
"$VENV/bin/python" -m pytest "$@"
