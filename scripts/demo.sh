#!/usr/bin/env bash
# Fresh clone -> working recognizer: make .venv, install mnist-infer, classify the example images.
# Needs only python3 (3.10+) and the package index; no torch, no GPU, no MNIST download.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e .

"$VENV/bin/mnist-infer" info
"$VENV/bin/mnist-infer" predict examples/
