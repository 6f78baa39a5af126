"""Benchmarks 2-4: 100k lenses on one machine, fan-out over job slots, consolidation."""

import json
import subprocess
import sys
from pathlib import Path

from common import SNAKEMAKE, Row, production_config, timed_command, workflow_copy
from lenspipe.data.chunk_files import chunk_count
from lenspipe.runs.layout import run_file
from lenspipe.runs.local_cluster import local_profile, slurm_is_up

HUNDRED_K_TARGET_S = 120
FAN_OUT_TARGET = 1.8
CONSOLIDATION_TARGET = 0.5

CONSOLIDATION_PROBE = """
import json, resource, shutil, sys, time
from lenspipe.data.consolidate import consolidate
from lenspipe.settings import SimulationSettings
config, chunks, store, table, copy_to = json.loads(sys.argv[1])
start = time.perf_counter()
consolidate(SimulationSettings.from_config(config), chunks, store, table)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
for number, chunk in enumerate(chunks):
    shutil.copyfile(chunk, f"{{copy_to}}/{{number}}.npz")
copy_seconds = time.perf_counter() - start
print(json.dumps([elapsed, copy_seconds, peak]))
"""


def simulate_and_consolidate(
    folder: Path, n_lenses: int, chunk_size: int, label: str
) -> tuple[Row, Path]:
    """Benchmark ``label``: the simulate and consolidate stages of n_lenses on 2 cores."""
    config = {"run_name": "scale", "n_lenses": n_lenses, "chunk_size": chunk_size}
    workdir = workflow_copy(folder, config)
    command = [*SNAKEMAKE, "results/scale/lenses.zarr", "--cores", "2"]
    seconds, _ = timed_command([*command, "--configfile", "config/bench.yaml"], workdir)
    met = seconds <= HUNDRED_K_TARGET_S if n_lenses == 100_000 else None
    chunks = chunk_count(n_lenses, chunk_size)
    row = Row(
        f"{label}. simulate + consolidate {n_lenses:,} lenses, 2 cores, {chunks} chunks",
        f"{seconds:.0f} s",
        f"{seconds / n_lenses * 1e3:.2f} ms per lens",
        None,
        f"<= {HUNDRED_K_TARGET_S} s for 100,000",
        met,
    )
    return row, workdir


def fan_out(folder: Path, n_chunks: int, chunk_size: int) -> Row:
    """Benchmark 3: the same chunk jobs with one and with two job slots."""
    config = {"run_name": "fanout", "n_lenses": n_chunks * chunk_size, "chunk_size": chunk_size}
    targets = [f"results/fanout/chunks/chunk_{chunk:05d}.npz" for chunk in range(n_chunks)]
    on_slurm = slurm_is_up()
    seconds = {}
    for slots in (1, 2):
        workdir = workflow_copy(folder / f"slots{slots}", config)
        if on_slurm:
            executor = ["--profile", local_profile(workdir), "--jobs", str(slots)]
        else:
            executor = ["--cores", str(slots)]
        command = [*SNAKEMAKE, *targets, *executor, "--configfile", "config/bench.yaml"]
        seconds[slots], _ = timed_command(command, workdir)
    speed_up = seconds[1] / seconds[2]
    where = "SLURM job slots (local cluster)" if on_slurm else "local cores (no SLURM running)"
    return Row(
        f"3. fan-out: {n_chunks} chunks of {chunk_size:,}, 1 -> 2 {where}",
        f"{seconds[2]:.0f} s with 2",
        f"{seconds[1]:.0f} s with 1",
        speed_up,
        f">= {FAN_OUT_TARGET}x",
        speed_up >= FAN_OUT_TARGET,
    )


def consolidation(workdir: Path, chunk_size: int) -> list[Row]:
    """Benchmark 4: consolidation throughput against a plain copy; peak memory at N and 10N."""
    chunks_dir = workdir / "results/scale/chunks"
    all_chunks = sorted(str(path) for path in chunks_dir.glob("chunk_*.npz"))
    probe = CONSOLIDATION_PROBE
    results = {}
    for count in (1, 10):
        n_lenses = count * chunk_size
        config = production_config(n_lenses=n_lenses, chunk_size=chunk_size)
        out = workdir / f"consolidated_{count}"
        (out / "copy").mkdir(parents=True)
        arguments = [
            config,
            all_chunks[:count],
            str(run_file(out, "store")),
            str(run_file(out, "table")),
            str(out / "copy"),
        ]
        result = subprocess.run(
            [sys.executable, "-c", probe, json.dumps(arguments)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[n_lenses] = json.loads(result.stdout.splitlines()[-1])
    small, large = sorted(results)
    seconds, copy_seconds, peak_large = results[large]
    peak_small = results[small][2]
    ratio = copy_seconds / seconds
    growth = peak_large / peak_small
    return [
        Row(
            f"4a. consolidation throughput, {large:,} lenses",
            f"{seconds:.1f} s",
            f"{copy_seconds:.1f} s plain copy of the chunk files",
            ratio,
            f">= {CONSOLIDATION_TARGET}",
            ratio >= CONSOLIDATION_TARGET,
        ),
        Row(
            f"4b. consolidation peak memory, {small:,} -> {large:,} lenses",
            f"{peak_large:.0f} MB",
            f"{peak_small:.0f} MB",
            growth,
            "flat (<= 1.2)",
            growth <= 1.2,
        ),
    ]
