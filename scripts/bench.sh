#!/usr/bin/env bash
# Set up .venv if needed and run the benchmark suite; prints one table of medians and ratios.
# Usage: bash scripts/bench.sh [--quick]. Uses the local SLURM cluster for the fan-out
# benchmark when one is running (bash scripts/start_slurm.sh), local cores otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python scripts/benchmarks/run_all.py "$@"
