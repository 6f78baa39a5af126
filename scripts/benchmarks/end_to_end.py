"""Benchmark 6: the README's local default, end to end on 2 cores (environment already set up)."""

from pathlib import Path

import yaml
from common import REPO, SNAKEMAKE, Row, timed_command, workflow_copy

TARGET_MINUTES = 10


def run(folder: Path, quick: bool) -> list[Row]:
    """Wall-time of the local default (``--quick``: a 400-lens, 2-epoch version of it)."""
    config = yaml.safe_load((REPO / "config" / "local.yaml").read_text())
    if quick:
        config.update(n_lenses=400, chunk_size=200)
        config["training"].update(epochs=2)
    workdir = workflow_copy(folder, config)
    arguments = ["--cores", "2", "--configfile", "config/bench.yaml"]
    run_seconds, peak = timed_command([*SNAKEMAKE, *arguments], workdir)
    report = f"results/{config['run_name']}/report.html"
    report_seconds, _ = timed_command([*SNAKEMAKE, *arguments, "--report", report], workdir)
    minutes = (run_seconds + report_seconds) / 60
    size = f"{config['n_lenses']:,} lenses, {config['training']['epochs']} epochs"
    return [
        Row(
            f"6. local default end to end ({size}) + report",
            f"{minutes:.1f} min",
            f"run {run_seconds:.0f} s + report {report_seconds:.0f} s",
            None,
            f"<= {TARGET_MINUTES} min",
            minutes <= TARGET_MINUTES if not quick else None,
        )
    ]
