"""Shared pieces of the benchmark suite: result rows, timing, peak memory, run folders."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from lenspipe.runs.workflow_copy import copy_workflow

REPO = Path(__file__).resolve().parents[2]

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


GPU_IMAGES_PER_SECOND = 20_000
"""Images a second one GPU trains the CNN on, assumed (no GPU was measured here). Where it
comes from: the network costs 53 million multiply-adds a 64x64 image forward, about 0.3 GFLOP
a trained image; Myrtle's ResNet-9 (about 380 million multiply-adds a 32x32 CIFAR image,
seven times more) trains at 16,000 images a second on one V100 in half precision (24 epochs of
50,000 images in 75 s, Lambda Labs' measurement, 2019). By arithmetic this network would train
several times faster; Keras's per-step overhead on a GPU, about 1 to 3 ms, caps batches of 64
at 20,000 to 60,000 images a second. 20,000 is the low end of that cap, for an A100 or H100;
Amarel's older cards are slower. The feed benchmark (``training_feed.py``) holds the feed to 3
times this; the stage table projects the training's GPU time from it."""


@dataclass
class Row:
    """One line of the results table: a measured figure against its baseline and target."""

    benchmark: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None


def timed_command(command: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``command`` to completion; return (wall seconds, peak resident MB of its tree).

    The peak is the largest ``ru_maxrss`` of any process the command waited for, measured in a
    fresh Python process so that earlier benchmarks do not count.
    """
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "wall = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(wall, peak)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *command], cwd=cwd, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    wall, peak = result.stdout.split()[-2:]
    return float(wall), float(peak)


def workflow_copy(folder: Path, config: dict) -> Path:
    """A fresh copy of the workflow in ``folder`` with ``config`` as config/bench.yaml."""
    if folder.exists():
        shutil.rmtree(folder)
    copy_workflow(REPO, folder)
    (folder / "config" / "bench.yaml").write_text(yaml.safe_dump(config))
    return folder


def production_config(**changes) -> dict:
    """The production config with top-level ``changes``, validated (defaults filled in)."""
    from lenspipe.config import validate_config

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(changes)
    return validate_config(config)


def machine() -> str:
    """Cores and memory of this machine, for the table's header."""
    with open("/proc/meminfo") as meminfo:
        kib = int(meminfo.readline().split()[1])
    return f"{os.cpu_count()} cores, {kib / 2**20:.0f} GiB memory, Python {sys.version.split()[0]}"


def write_json(rows: list[Row], path: Path) -> None:
    path.write_text(json.dumps([row.__dict__ for row in rows], indent=2) + "\n")
