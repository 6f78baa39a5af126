#!/usr/bin/env bash
# Set everything up and run the whole test suite (the README's test command; .ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
# Two pytest workers: the SLURM tests, which mostly wait on the one-node cluster, run one after
# another in one of them (conftest.py groups them), the other tests beside them in the other.
.venv/bin/python -m pytest -n 2 --dist loadgroup "$@"
