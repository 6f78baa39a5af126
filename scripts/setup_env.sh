#!/usr/bin/env bash
# Create the virtual environment .venv (first time only) and install lenspipe into it with
# every dependency, including the test tools. Safe to run again: pip only adds what is missing.
#
#     bash scripts/setup_env.sh          # CPU (laptops, CI, Amarel's CPU nodes)
#     bash scripts/setup_env.sh --gpu    # also CUDA for TensorFlow (training on Amarel's GPUs)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="dev"
case "${1:-}" in
    "") ;;
    --gpu) extras="dev,gpu" ;;
    *)
        echo "usage: bash scripts/setup_env.sh [--gpu]" >&2
        exit 2
        ;;
esac
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"
