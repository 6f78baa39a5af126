"""Each stage of a finished run, measured: wall time, CPU time, peak memory and disk written,
from Snakemake's own per-job records (``results/<run>/benchmarks/``), and the production
campaign on Amarel projected from them.

    python scripts/benchmarks/stage_table.py results/production_short \\
        --configfile scripts/benchmarks/production_short.yaml

``--config`` names the config files the run was made with, in order (later ones override);
the projection scales each stage to the production config (``config/config.yaml``): the
trainings by their epochs, the blind fit and the refinement by their lenses. The run folder
gets ``stage_table.csv`` (measured) and ``stage_table.md`` (measured and projected).
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from common import GPU_IMAGES_PER_SECOND, REPO
from lenspipe.runs.status.run_config import load_run_config
from lenspipe.data.chunk_files import chunk_count
from lenspipe.refinement.selection import refine_chunk_count
from lenspipe.runs.job_record import read_job_usage
from lenspipe.runs.layout import BENCHMARK, LOG

PROFILE = REPO / "profiles" / "amarel" / "config.v9+.yaml"

CRITICAL_PATH = (
    "simulate_chunk",
    "consolidate",
    "normalise",
    "train/cnn",
    "calibrate/cnn",
    "refine_seeds",
    "refine_chunk",
    "refine",
    "compare",
)
"""The stages that wait for each other; the others (the naive model, the blind fit, the plots)
run beside them."""


@dataclass
class StageCost:
    """One stage's jobs, summed (the peak memory: the largest of any job)."""

    stage: str
    jobs: int
    wall_s: float
    longest_job_s: float
    cpu_s: float
    peak_mb: float
    written_mb: float


def measured_stages(run: Path) -> list[StageCost]:
    """The stages of ``run`` that left a log, in the order they ran (first job's end).

    A stage is a rule (its chunk jobs summed: ``simulate_chunk``) or a rule of one model
    (``train/cnn``). Wall and CPU time come from the last line of each job's log
    (``lenspipe.runs.job_record.usage_record``), else from Snakemake's benchmark record, which
    samples CPU time only every 30 s or so; the peak memory from the benchmark record (the job's
    whole process tree), else from the log; the disk written from the benchmark record.
    """
    logs = run / Path(LOG).parent
    benchmarks = run / Path(BENCHMARK).parent
    rows = []
    for log in sorted(logs.rglob("*.log")):
        relative = log.relative_to(logs).with_suffix("")
        benchmark = benchmarks / relative.with_suffix(".tsv")
        measured = pd.read_csv(benchmark, sep="\t").iloc[-1] if benchmark.exists() else None
        used = read_job_usage(log)
        if used is None and measured is None:
            continue
        chunk_job = relative.name.isdigit()
        rows.append(
            {
                "stage": str(relative.parent if chunk_job else relative),
                "ended": log.stat().st_mtime,
                "wall_s": used["wall_s"] if used else measured["s"],
                "cpu_s": used["cpu_s"] if used else measured["cpu_time"],
                "peak_mb": measured["max_rss"] if measured is not None else used["peak_mb"],
                "written_mb": measured["io_out"] if measured is not None else float("nan"),
            }
        )
    if not rows:
        raise SystemExit(f"{logs}: no finished job logs; is {run} a run folder?")
    jobs = pd.DataFrame(rows)
    stages = []
    for stage, group in sorted(jobs.groupby("stage"), key=lambda item: item[1]["ended"].min()):
        stages.append(
            StageCost(
                stage,
                len(group),
                float(group["wall_s"].sum()),
                float(group["wall_s"].max()),
                float(group["cpu_s"].sum()),
                float(group["peak_mb"].max()),
                float(group["written_mb"].sum()),
            )
        )
    return stages


def scale_factor(stage: str, run: dict, production: dict) -> float:
    """How many times the production config's work of ``stage`` is the run's."""
    rule = stage.split("/")[0]
    if rule in ("train", "train_subset"):
        return production["training"]["epochs"] / run["training"]["epochs"]
    if rule == "baseline_fit":
        return production["baselines"]["fit"]["n_lenses"] / run["baselines"]["fit"]["n_lenses"]
    if rule in ("refine_seeds", "refine_chunk"):

        def lenses(config: dict) -> int:
            return config["refine"]["n_lenses"] + config["refine"]["n_calibration"]

        return lenses(production) / lenses(run)
    return production["n_lenses"] / run["n_lenses"]


def production_jobs(rule: str, production: dict) -> int:
    """How many jobs of ``rule`` the production config runs, side by side."""
    if rule == "simulate_chunk":
        return chunk_count(production["n_lenses"], production["chunk_size"])
    if rule == "refine_chunk":
        return refine_chunk_count(production)
    return 1


def amarel_threads() -> dict[str, int]:
    """CPUs per job of each rule in the Amarel profile (``set-threads``)."""
    return yaml.safe_load(PROFILE.read_text())["set-threads"]


def projected(
    cost: StageCost, factor: float, threads: int, production: dict, gpu_rate: float
) -> tuple[float, float, str]:
    """(wall hours, core-hours allocated, how) of a stage in the production campaign on
    Amarel: every job of a stage in parallel, the jobs of the per-lens stages (blind fit,
    refinement) spread over their cores, the CNN's training on one GPU at ``gpu_rate``."""
    rule = cost.stage.split("/")[0]
    if cost.stage == "train/cnn":
        split = production["normalisation"]["split"]
        images = production["n_lenses"] * (split["train"] + split["validation"])
        hours = images * production["training"]["epochs"] / gpu_rate / 3600
        return hours, hours * threads, f"1 GPU at {gpu_rate:,.0f} images/s"
    jobs_in_parallel = production_jobs(rule, production)
    work_hours = cost.cpu_s * factor / 3600
    if rule in ("baseline_fit", "refine_chunk"):
        hours = work_hours / threads / jobs_in_parallel
        return hours, hours * threads * jobs_in_parallel, f"CPU time over {threads} cores a job"
    hours = cost.longest_job_s * factor / 3600
    return hours, hours * threads * jobs_in_parallel, "the longest job's wall time, scaled"


def table(stages: list[StageCost], run: dict, production: dict, gpu_rate: float) -> str:
    """The markdown table: measured, the scale to production and the Amarel projection."""
    threads = amarel_threads()
    lines = [
        "| stage | jobs | wall s | longest job s | CPU s | peak MB | written MB "
        "| × to production | Amarel wall h | Amarel core-h | projected as |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    total_core_hours = critical_hours = 0.0
    for cost in stages:
        factor = scale_factor(cost.stage, run, production)
        rule = cost.stage.split("/")[0]
        hours, core_hours, how = projected(
            cost, factor, threads.get(rule, 1), production, gpu_rate
        )
        total_core_hours += core_hours
        critical_hours += hours if cost.stage in CRITICAL_PATH else 0.0
        lines.append(
            f"| {cost.stage} | {cost.jobs} | {cost.wall_s:,.0f} | {cost.longest_job_s:,.0f} "
            f"| {cost.cpu_s:,.0f} | {cost.peak_mb:,.0f} | {cost.written_mb:,.0f} "
            f"| {factor:g} | {hours:.2f} | {core_hours:.1f} | {how} |"
        )
    measured_cpu_hours = sum(cost.cpu_s for cost in stages) / 3600
    lines += [
        "",
        f"Measured here: {measured_cpu_hours:.2f} CPU-hours over all stages.",
        f"Projected on Amarel: {critical_hours:.2f} h of wall time along the stages that wait "
        f"for each other ({', '.join(CRITICAL_PATH)}), queue waits not counted, and "
        f"{total_core_hours:.0f} core-hours allocated (GPU jobs counted by their CPUs).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="the run folder, results/<run_name>")
    parser.add_argument(
        "--configfile",
        nargs="*",
        default=[],
        help="the config files the run added to config/config.yaml, in order (as for snakemake)",
    )
    parser.add_argument(
        "--gpu-rate",
        type=float,
        default=GPU_IMAGES_PER_SECOND,
        help="images a second the CNN trains at on one GPU (common.GPU_IMAGES_PER_SECOND)",
    )
    arguments = parser.parse_args()
    run_config = load_run_config(REPO, arguments.configfile)
    production = load_run_config(REPO, [])
    stages = measured_stages(arguments.run)
    pd.DataFrame([cost.__dict__ for cost in stages]).to_csv(
        arguments.run / "stage_table.csv", index=False
    )
    markdown = table(stages, run_config, production, arguments.gpu_rate)
    (arguments.run / "stage_table.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
