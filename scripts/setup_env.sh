#!/usr/bin/env bash
# Create the virtual environment .venv (first time only) and install lenspipe into it with
# every dependency, including the test tools. Safe to run again: pip only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
