"""Benchmark 7: how long ``python -m lenspipe status`` takes on a 100k campaign."""

import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import Row, workflow_copy

TARGET_SECONDS = 5.0  # run every minute, it must take a small part of that minute
REPEATS = 5


def median_status_seconds(workdir: Path, configfile: str) -> float:
    """Median wall time of the status command, a fresh process each time, as a user runs it."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lenspipe", "status", "--configfile", configfile],
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(folder: Path, finished_run: Path, n_lenses: int) -> list[Row]:
    """The status of the planned campaign in 10 and in 1,000 chunks, and of a run whose
    chunks are all on disk (``finished_run``, the workflow folder of benchmark 2a)."""
    rows = []
    for label, chunks in (("7a", 10), ("7b", 1_000)):
        config = {"run_name": "status", "n_lenses": n_lenses, "chunk_size": n_lenses // chunks}
        workdir = workflow_copy(folder / f"plan_{chunks}", config)
        rows.append(_row(label, f"planned, {chunks:,} chunks", workdir, "config/bench.yaml"))
    rows.append(_row("7c", "chunks and store on disk", finished_run, "config/bench.yaml"))
    return rows


def _row(label: str, what: str, workdir: Path, configfile: str) -> Row:
    seconds = median_status_seconds(workdir, configfile)
    return Row(
        f"{label}. status command, {what}",
        f"{seconds:.2f} s",
        f"median of {REPEATS}",
        None,
        f"<= {TARGET_SECONDS:.0f} s",
        seconds <= TARGET_SECONDS,
    )
