#!/usr/bin/env bash
# Set everything up and run the local default (6,400 lenses, 40 epochs) end to end on
# 2 cores, then build the HTML report. Outputs go to results/local/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/snakemake --cores 2 --configfile config/local.yaml "$@"
.venv/bin/snakemake --cores 2 --configfile config/local.yaml --report results/local/report.html
echo "Done: see results/local/ and open results/local/report.html"
