"""The human-readable form of a run's status."""

from lenspipe.runs import layout
from lenspipe.runs.status.model import CampaignStatus, ChunkStatus
from lenspipe.runs.status.efficiency import profile_lines


def render(status: CampaignStatus) -> str:
    """The status as text for a terminal, about one screen for a healthy campaign."""
    n_chunks = len(status.chunks)
    counts = status.counts
    lines = [
        f"lenspipe status: run '{status.run_name}' ({status.run_dir}), "
        f"{status.n_lenses:,} lenses in {n_chunks:,} chunks of up to {status.chunk_size:,}",
        f"as of {status.as_of}"
        + (f" ({status.slurm_problem}: local processes only)" if status.slurm_problem else ""),
        "",
        f"Chunks      {n_chunks:,} expected: {counts['finished']:,} finished, "
        f"{counts['in_progress']:,} in progress, {counts['partial']:,} partial, "
        f"{counts['failed']:,} failed, {counts['not_started']:,} not started",
    ]
    lines += _progress_lines(status)
    if status.platforms:
        lines.append(
            "Processors  "
            + "; ".join(
                f"{platform} ({count:,} chunk{'s' if count > 1 else ''})"
                for platform, count in status.platforms.items()
            )
        )
    lines += _chunk_sections(status.chunks)
    lines += _queued_array_lines(status.queued_array_tasks)
    lines += ["", "Later stages"]
    width = max((len(stage.stage) for stage in status.stages), default=0)
    for stage in status.stages:
        lines.append(f"  {stage.stage:<{width}} {_stage_text(stage)}")
        if stage.failure:
            lines += _failure_lines(stage.failure, indent=width + 3)
    lines += _efficiency_lines(status)
    lines += _resume_lines(status)
    return "\n".join(lines) + "\n"


def _progress_lines(status: CampaignStatus) -> list[str]:
    progress = status.progress
    share = progress.lenses_done / status.n_lenses
    lines = [
        f"Lenses      {progress.lenses_done:,} of {status.n_lenses:,} done ({share:.1%})"
        + (
            f", {progress.lenses_in_saved_parts:,} of them in saved parts of unfinished chunks"
            if progress.lenses_in_saved_parts
            else ""
        )
    ]
    if progress.lenses_per_hour is not None:
        pace = f"Pace        {progress.lenses_per_hour:,.0f} lenses/hour since {progress.started}"
        if progress.eta_seconds is not None:
            pace += f"; about {_duration(progress.eta_seconds)} left at this pace"
        elif progress.lenses_done < status.n_lenses:
            pace += "; nothing running now"
        lines.append(pace)
    if progress.job_seconds_per_lens is not None:
        lines.append(
            f"Cost        {progress.job_seconds_per_lens * 1000:.1f} ms of job time per lens "
            f"(finished chunks); {progress.job_hours_left:,.2f} job-hours of simulation left"
        )
    return lines


def _chunk_sections(chunks: list[ChunkStatus]) -> list[str]:
    lines = []
    for state, title in (
        ("in_progress", "In progress"),
        ("partial", "Partial"),
        ("failed", "Failed"),
    ):
        selected = [chunk for chunk in chunks if chunk.state == state]
        if not selected:
            continue
        lines += ["", title]
        for chunk in selected:
            lines.append(f"  chunk {layout.chunk_name(chunk.chunk)}  {_chunk_text(chunk)}")
            if chunk.note:
                lines.append(f"{'':15}{chunk.note}")
            if chunk.failure and state == "failed":
                lines += _failure_lines(chunk.failure, indent=15)
    waiting = [chunk.chunk for chunk in chunks if chunk.state == "not_started"]
    if waiting:
        lines += ["", f"Not started chunks {chunk_ranges(waiting)}"]
    return lines


def _queued_array_lines(tasks: list[dict[str, str]]) -> list[str]:
    """The chunk jobs that wait in SLURM job arrays, not yet knowing their chunk."""
    if not tasks:
        return []
    arrays = sorted({task["slurm_job_id"].split("_")[0] for task in tasks}, key=int)
    states: dict[str, int] = {}
    for task in tasks:
        reason = f" ({task['reason']})" if task["reason"] not in ("", "None") else ""
        states[task["state"] + reason] = states.get(task["state"] + reason, 0) + 1
    plural = "s" if len(arrays) > 1 else ""
    return [
        "",
        f"Queued      {len(tasks):,} chunk job{'s' if len(tasks) > 1 else ''} in SLURM job "
        f"array{plural} {', '.join(arrays)}: "
        + ", ".join(f"{count:,} {state}" for state, count in states.items())
        + "; each names its chunk when it starts",
    ]


def _chunk_text(chunk: ChunkStatus) -> str:
    parts = []
    if chunk.slurm_job_id and chunk.slurm_state:
        reason = f" ({chunk.slurm_reason})" if chunk.slurm_reason not in (None, "None") else ""
        parts.append(f"SLURM job {chunk.slurm_job_id} {chunk.slurm_state}{reason}")
    elif chunk.state == "in_progress":
        parts.append("running")
    parts.append(f"{chunk.saved_lenses:,} of {chunk.lenses:,} lenses saved")
    if chunk.attempts:
        history = ", ".join(f"{a.number}: {a.outcome}" for a in chunk.attempts)
        parts.append(f"attempts {history}")
    if chunk.state == "partial" and chunk.failure:
        parts.append(f"last attempt {chunk.failure.explanation}")
    return "; ".join(parts)


def _failure_lines(failure, indent: int) -> list[str]:
    pad = " " * indent
    lines = [f"{pad}{failure.cause}: {failure.explanation}"]
    if failure.log:
        lines.append(f"{pad}log: {failure.log}")
    lines += [f"{pad}| {line}" for line in failure.last_lines]
    return lines


def _stage_text(stage) -> str:
    text = stage.state
    if stage.slurm_job_id and stage.slurm_state:
        text += f" (SLURM job {stage.slurm_job_id} {stage.slurm_state})"
    if stage.detail:
        text += f": {stage.detail}"
    return text


def _efficiency_lines(status: CampaignStatus) -> list[str]:
    if not status.efficiency:
        return []
    lines = [
        "",
        "Resources   finished jobs: Snakemake's benchmark files against the request in each log",
        f"  {'rule':<15}{'jobs':>5}  {'runtime used / asked':<26}{'memory used / asked':<28}verdict",
    ]
    for rule in status.efficiency:
        runtime = f"{rule.longest_minutes:.1f} min"
        if rule.runtime_requested_minutes:
            runtime += f" / {rule.runtime_requested_minutes:g} ({rule.runtime_share:.0%})"
        memory = f"{rule.largest_rss_mb:,.0f} MB" if rule.largest_rss_mb is not None else "?"
        if rule.mem_requested_mb:
            memory += f" / {rule.mem_requested_mb:,.0f} ({rule.memory_share:.0%})"
        verdict = "; ".join(rule.verdicts) or ("ok" if rule.runtime_share else "local run")
        lines.append(f"  {rule.rule:<15}{rule.jobs:>5}  {runtime:<26}{memory:<28}{verdict}")
    suggestion = profile_lines(status.efficiency)
    if suggestion:
        lines += ["  Suggested for the profile (first attempt; retries double it):"]
        lines += [f"    {line}" for line in suggestion]
    return lines


def _resume_lines(status: CampaignStatus) -> list[str]:
    resume = status.resume
    if not resume.needed:
        return ["", "Complete: nothing to resume."]
    lines = [""]
    reruns = f"{resume.chunks_to_run:,} chunks ({resume.lenses_to_simulate:,} lenses to simulate)"
    if resume.stages_to_run:
        reruns += ", then " + ", ".join(resume.stages_to_run)
    if resume.drivers_running:
        pids = ", ".join(str(pid) for pid in resume.drivers_running)
        lines.append(
            f"Running     a Snakemake driver runs in this folder (pid {pids}); when it ends:"
        )
    if resume.driver_elsewhere:
        lines += _elsewhere_lines(resume.driver_elsewhere)
    if status.progress.started is None:
        lines.append(f"Start       runs everything: {reruns}")
    else:
        lines.append(f"Resume      reruns only what is missing: {reruns}")
    if resume.unlock_first:
        lines.append(
            "  snakemake --unlock   # first: a stopped driver left its lock (skip this if one "
            "still runs elsewhere)"
        )
    lines.append(f"  {resume.command}")
    lines += [f"  note: {advice}" for advice in resume.advice]
    return lines


def _elsewhere_lines(driver: dict) -> list[str]:
    """Where the driver that holds the lock runs, and how to check it, instead of an unlock."""
    where = f"on {driver['host']}"
    if driver["pid"] is not None:
        where += f" (pid {driver['pid']})"
    if driver["slurm_job_id"]:
        where += f" as SLURM job {driver['slurm_job_id']}"
    if driver["started"]:
        where += f", started {driver['started']}"
    if driver["state"] == "running":
        head = f"Elsewhere   the driver that holds the lock runs {where}; when it ends:"
        check = f"  squeue -j {driver['slurm_job_id']}   # until it is gone"
    else:
        head = f"Elsewhere   the driver that holds the lock was started {where} and may still run"
        check = (
            f"  ssh {driver['host']} ps -fp {driver['pid']}   # check there first; "
            "resume only once it has stopped, and remove its lock only then"
        )
    return [head, check]


def chunk_ranges(numbers: list[int]) -> str:
    """Chunk numbers as spans: [3, 4, 5, 6, 7, 9] gives "00003-00007, 00009"."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(
        layout.chunk_name(a) if a == b else f"{layout.chunk_name(a)}-{layout.chunk_name(b)}"
        for a, b in spans
    )


def _duration(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"
