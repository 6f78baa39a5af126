"""Collect the status of a run from its files, Snakemake's lock and SLURM, changing nothing.

Everything is read from what the jobs leave behind (chunk files, saved parts, journals, the
record at the top of each rule log, benchmark files; see ``lenspipe.runs.layout``) and from
``squeue``/``sacct`` when SLURM answers, so it is cheap enough to run every minute.
"""

import datetime
from pathlib import Path
from typing import Any

from lenspipe.refinement.selection import refine_chunk_count
from lenspipe.runs import layout
from lenspipe.runs.status.chunks import attempt_job_ids, chunk_statuses, platforms
from lenspipe.runs.status.model import CHUNK_STATES, CampaignStatus
from lenspipe.runs.status.progress import run_efficiency, simulation_progress
from lenspipe.runs.status.resume import resume
from lenspipe.runs.status.slurm_view import SlurmView
from lenspipe.runs.status.stages import stage_statuses
from lenspipe.settings import simulation_settings


def collect_status(
    workdir: Path,
    config: dict[str, Any],
    configfiles: list[str],
    profile: str | None = None,
    now: datetime.datetime | None = None,
) -> CampaignStatus:
    """The status of the run that ``config`` (validated) describes, in workflow folder
    ``workdir``. ``configfiles`` and ``profile`` are those the run is started with; they go
    into the resume command."""
    workdir = workdir.resolve()
    now = now or datetime.datetime.now(datetime.UTC)
    run_dir = workdir / layout.run_dir(config)
    slurm = SlurmView(workdir)
    settings = simulation_settings(config)
    chunks = chunk_statuses(run_dir, config, settings, slurm)
    run_stages = layout.run_stages(config)
    stages = stage_statuses(run_dir, config, run_stages, chunks, slurm)
    queued = slurm.unclaimed_array_tasks("simulate_chunk", attempt_job_ids(chunks))
    counts = {state: sum(chunk.state == state for chunk in chunks) for state in CHUNK_STATES}
    efficiency = run_efficiency(run_dir, chunks, list(run_stages), refine_chunk_count(config))
    status = CampaignStatus(
        run_name=config["run_name"],
        run_dir=str(run_dir.relative_to(workdir)),
        as_of=now.isoformat(timespec="seconds"),
        n_lenses=config["n_lenses"],
        chunk_size=config["chunk_size"],
        slurm_problem=slurm.problem,
        counts=counts,
        chunks=chunks,
        stages=stages,
        progress=simulation_progress(run_dir, config, chunks, now),
        efficiency=efficiency,
        resume=resume(workdir, chunks, stages, configfiles, profile, slurm, bool(queued)),
        platforms=platforms(chunks),
        queued_array_tasks=[
            {"slurm_job_id": job.job_id, "state": job.state, "reason": job.reason}
            for job in queued
        ],
    )
    _relative_logs(status, workdir)
    return status


def _relative_logs(status: CampaignStatus, workdir: Path) -> None:
    """Show log paths relative to the workflow folder, as the user types them."""
    failures = [chunk.failure for chunk in status.chunks] + [
        stage.failure for stage in status.stages
    ]
    failures += [attempt.failure for chunk in status.chunks for attempt in chunk.attempts]
    for failure in failures:
        if failure is not None and failure.log and Path(failure.log).is_absolute():
            failure.log = str(Path(failure.log).relative_to(workdir))
