"""What to run next: the command that resumes the run, whether Snakemake's lock must be
removed first, and what to fix before, by cause of failure."""

import dataclasses
from pathlib import Path

from lenspipe.runs import layout
from lenspipe.runs.driver_record import driver_elsewhere
from lenspipe.runs.status.model import ChunkStatus, Resume, StageStatus
from lenspipe.runs.status.processes import snakemake_drivers
from lenspipe.runs.status.slurm_view import SlurmView


def resume(
    workdir: Path,
    chunks: list[ChunkStatus],
    stages: list[StageStatus],
    configfiles: list[str],
    profile: str | None,
    slurm: SlurmView,
    array_tasks_queued: bool,
) -> Resume:
    """The command that finishes the run, whether to remove Snakemake's lock first (no driver
    runs here or elsewhere and no job is active), and what it will redo."""
    unfinished = [chunk for chunk in chunks if chunk.state != "finished"]
    to_run = [stage.stage for stage in stages if stage.state != "done"]
    drivers = snakemake_drivers(workdir)
    any_active = (
        array_tasks_queued
        or any(chunk.state == "in_progress" for chunk in chunks)
        or any(stage.state == "running" for stage in stages)
    )
    locks = workdir / ".snakemake" / "locks"
    locked = locks.is_dir() and any(locks.iterdir())
    # A driver on another login node or in a batch job is invisible to snakemake_drivers:
    # while it may run, removing its lock would let a second driver run beside it.
    elsewhere = driver_elsewhere(workdir) if locked else None
    needed = bool(unfinished or to_run)
    if profile is None and slurm.seen_slurm:
        profile = "profiles/amarel"
    command = (
        f"snakemake --profile {profile}" if profile else "snakemake --cores all --rerun-incomplete"
    )
    if configfiles:
        command += " --configfile " + " ".join(configfiles)
    return Resume(
        needed=needed,
        command=command if needed else None,
        unlock_first=needed and locked and not drivers and not any_active and not elsewhere,
        drivers_running=drivers,
        driver_elsewhere=dataclasses.asdict(elsewhere) if elsewhere else None,
        chunks_to_run=len(unfinished),
        lenses_to_simulate=sum(chunk.lenses - chunk.saved_lenses for chunk in unfinished),
        stages_to_run=to_run,
        advice=_advice(chunks, stages),
    )


def _advice(chunks: list[ChunkStatus], stages: list[StageStatus]) -> list[str]:
    """What to fix before resuming, by cause of failure."""
    by_cause: dict[str, list[str]] = {}
    for chunk in chunks:
        if chunk.state == "failed" and chunk.failure:
            by_cause.setdefault(chunk.failure.cause, []).append(
                f"chunk {layout.chunk_name(chunk.chunk)}"
            )
    for stage in stages:
        if stage.state == "failed" and stage.failure:
            by_cause.setdefault(stage.failure.cause, []).append(stage.stage)
    advice = [
        f"{stage.stage}: {stage.detail}. Snakemake cannot tell (its dry run plans nothing): "
        "delete the store and rerun, which consolidates it again"
        for stage in stages
        if stage.state == "damaged"
    ]
    for cause, jobs in by_cause.items():
        which = ", ".join(jobs)
        if cause in ("PYTHON_ERROR", "FAILED"):
            advice.append(
                f"{which}: rerunning repeats the error until its cause is fixed; read the log first"
            )
        elif cause == "TIMEOUT":
            advice.append(
                f"{which}: every retry ran out of time; raise its runtime in the profile (see Resources)"
            )
        elif cause == "OUT_OF_MEMORY":
            advice.append(
                f"{which}: every retry ran out of memory; raise its mem_mb in the profile (see Resources)"
            )
        else:
            advice.append(f"{which}: rerunning resumes from the saved lenses")
    return advice
