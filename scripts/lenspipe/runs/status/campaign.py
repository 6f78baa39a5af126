"""Collect the status of a run from its files, Snakemake's lock and SLURM, changing nothing.

Everything is read from what the jobs leave behind (chunk files, saved parts, journals, the
record at the top of each rule log, benchmark files; see ``lenspipe.runs.layout``) and from
``squeue``/``sacct`` when SLURM answers, so it is cheap enough to run every minute.
"""

import dataclasses
import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zarr
from lenspipe.config import learning_curve_sizes, realism_switches
from lenspipe.data.chunk_files import chunk_count, chunk_range
from lenspipe.data.store import open_store
from lenspipe.data.store_check import damaged_chunks
from lenspipe.learning.variants import MAIN_MODEL, model_settings
from lenspipe.refinement.selection import refine_chunk_count
from lenspipe.runs import layout
from lenspipe.runs.chunk_work import JournalAttempt, read_journal, saved_part_range, saved_parts
from lenspipe.runs.driver_record import driver_elsewhere
from lenspipe.runs.job_record import read_job_record
from lenspipe.runs.status.causes import Failure, attempt_failure
from lenspipe.runs.status.efficiency import (
    JobUse,
    RuleEfficiency,
    efficiency_key,
    read_benchmark,
    rule_efficiency,
)
from lenspipe.runs.status.processes import process_alive, snakemake_drivers
from lenspipe.runs.status.refine_chunks import refine_chunk_jobs, refine_chunks_state
from lenspipe.runs.status.slurm import (
    ACTIVE_STATES,
    SlurmJob,
    SlurmUnavailable,
    sacct_states,
    slurm_log_path,
    squeue_jobs,
)
from lenspipe.settings import simulation_settings
from lenspipe.work_settings import changed_fields, changes_since_recorded

CHUNK_STATES = ("finished", "in_progress", "partial", "failed", "not_started")


@dataclass
class AttemptStatus:
    """One attempt at a job: when it started, where, and how it ended."""

    number: int
    started: str
    slurm_job_id: str | None
    outcome: str  # "finished", "running", or a cause of lenspipe.runs.status.causes.EXPLANATIONS
    failure: Failure | None = None
    platform: str | None = None  # the processor it ran on, when the journal says


@dataclass
class ChunkStatus:
    """One simulate_chunk job."""

    chunk: int
    lenses: int
    state: str  # one of CHUNK_STATES
    saved_lenses: int
    attempts: list[AttemptStatus] = field(default_factory=list)
    slurm_job_id: str | None = None
    slurm_state: str | None = None
    slurm_reason: str | None = None
    failure: Failure | None = None
    note: str | None = None


@dataclass
class StageStatus:
    """One of the stages after the chunks."""

    stage: str
    state: str  # "done", "running", "failed", "interrupted", "ready", "waiting" or "damaged"
    detail: str | None = None
    slurm_job_id: str | None = None
    slurm_state: str | None = None
    failure: Failure | None = None


@dataclass
class Progress:
    """Lenses done, pace and time left."""

    lenses_done: int
    lenses_in_saved_parts: int
    started: str | None
    elapsed_seconds: float | None
    lenses_per_hour: float | None
    eta_seconds: float | None
    job_seconds_per_lens: float | None
    job_hours_left: float | None


@dataclass
class Resume:
    """What to run next, and what it will redo."""

    needed: bool
    command: str | None
    unlock_first: bool
    drivers_running: list[int]
    # The driver that Snakemake's lock belongs to, when it ran on another machine and may
    # still run there (lenspipe.runs.driver_record): host, pid, SLURM job, start, state.
    driver_elsewhere: dict | None
    chunks_to_run: int
    lenses_to_simulate: int
    stages_to_run: list[str]
    advice: list[str]


@dataclass
class CampaignStatus:
    """Everything ``python -m lenspipe status`` reports."""

    run_name: str
    run_dir: str
    as_of: str
    n_lenses: int
    chunk_size: int
    slurm_problem: str | None  # why SLURM could not be asked; None when it answered
    counts: dict[str, int]
    chunks: list[ChunkStatus]
    stages: list[StageStatus]
    progress: Progress
    efficiency: list[RuleEfficiency]
    resume: Resume
    # Chunks simulated (at least in part) on each processor type, from the journals: data
    # bytes are reproducible per processor type (see the README on determinism).
    platforms: dict[str, int] = field(default_factory=dict)
    # Tasks of chunk job arrays (--slurm-array-jobs) that SLURM holds but that have not yet
    # said which chunk they run: id, state and reason of each.
    queued_array_tasks: list[dict[str, str]] = field(default_factory=list)


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
    slurm = _SlurmView(workdir)
    settings = simulation_settings(config)
    n_chunks = chunk_count(config["n_lenses"], config["chunk_size"])
    consolidated = _consolidated(run_dir, settings)
    read = [
        _chunk_status(run_dir, chunk, config, settings, slurm, consolidated)
        for chunk in range(n_chunks)
    ]
    slurm.resolve_states()
    chunks = [
        _finish_chunk_status(run_dir, *chunk_and_journal, slurm) for chunk_and_journal in read
    ]
    run_stages = layout.run_stages(config)
    stages = _stage_statuses(run_dir, config, run_stages, chunks, slurm)
    queued = slurm.unclaimed_array_tasks("simulate_chunk", _attempt_job_ids(chunks))
    counts = {state: sum(chunk.state == state for chunk in chunks) for state in CHUNK_STATES}
    efficiency = _efficiency(run_dir, chunks, list(run_stages), refine_chunk_count(config))
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
        progress=_progress(run_dir, config, chunks, efficiency, now),
        efficiency=efficiency,
        resume=_resume(workdir, chunks, stages, configfiles, profile, slurm, bool(queued)),
        platforms=_platforms(chunks),
        queued_array_tasks=[
            {"slurm_job_id": job.job_id, "state": job.state, "reason": job.reason}
            for job in queued
        ],
    )
    _relative_logs(status, workdir)
    return status


def _consolidated(run_dir: Path, settings: dict[str, Any]) -> bool:
    """Whether the run's store and parameter table exist and the store was made with these
    simulation ``settings``: then chunk files removed after consolidation are not simulated
    again (Snakemake does not remake the inputs of an output that is up to date), while the
    chunks of a store made with other settings are (Snakemake reruns them for the changed
    params)."""
    if not all(path.exists() for path in layout.stage_outputs(run_dir, "consolidate")):
        return False
    try:
        recorded = open_store(layout.run_file(run_dir, "store")).attrs["config"]
    except (OSError, KeyError, ValueError, zarr.errors.BaseZarrError):
        return False
    return not changed_fields(dict(recorded), json.loads(json.dumps(settings)))


class _SlurmView:
    """squeue once per status; sacct once for the jobs squeue has forgotten."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.problem: str | None = None
        self.jobs: list[SlurmJob] | None = None
        try:
            self.jobs = squeue_jobs(workdir)
        except SlurmUnavailable as error:
            self.problem = str(error)
        self.states = {job.job_id: job.state for job in self.jobs or []}
        self.wanted: set[str] = set()
        self.seen_slurm = False

    def active_job(self, rule: str, wildcards: str) -> SlurmJob | None:
        for job in self.jobs or []:
            if (job.rule, job.wildcards) == (rule, wildcards) and job.state in ACTIVE_STATES:
                return job
        return None

    def unclaimed_array_tasks(self, rule: str, claimed: set[str]) -> list[SlurmJob]:
        """Active tasks of ``rule``'s job arrays that no attempt names yet: queued, or just
        starting. (Their comment names the array's first job, not theirs.)"""
        return [
            job
            for job in self.jobs or []
            if job.rule == rule
            and job.array_task
            and job.state in ACTIVE_STATES
            and job.job_id not in claimed
        ]

    def want(self, job_id: str | None) -> None:
        if job_id is not None:
            self.seen_slurm = True
            if job_id not in self.states:
                self.wanted.add(job_id)

    def resolve_states(self) -> None:
        if self.jobs is not None and self.wanted:
            self.states.update(sacct_states(sorted(self.wanted)) or {})
        self.wanted.clear()

    def state(self, job_id: str | None) -> str | None:
        return self.states.get(job_id) if job_id else None


def _chunk_status(
    run_dir: Path,
    chunk: int,
    config: dict[str, Any],
    settings: dict[str, Any],
    slurm: _SlurmView,
    consolidated: bool,
) -> tuple[ChunkStatus, list[JournalAttempt]]:
    """A chunk's state from its files alone (finished once ``consolidated`` into the store),
    and its attempts; SLURM states come later."""
    lenses = len(chunk_range(chunk, config["n_lenses"], config["chunk_size"]))
    status = ChunkStatus(chunk, lenses, "not_started", 0)
    work_dir = layout.chunk_work_dir(run_dir, chunk)
    attempts = read_journal(work_dir)
    record = read_job_record(layout.chunk_log(run_dir, chunk))
    if record is not None and (
        not attempts or _parse_time(record["started"]) > attempts[-1].started
    ):
        # This attempt stopped (or is still starting) before writing its journal line.
        attempts.append(
            JournalAttempt(
                started=_parse_time(record["started"]),
                slurm_job_id=record["slurm_job_id"],
                host=record["host"],
                pid=record["pid"],
                saved_before=0,
            )
        )
    status.attempts = [
        AttemptStatus(
            number, attempt.started.isoformat(), attempt.slurm_job_id, "", None, attempt.platform
        )
        for number, attempt in enumerate(attempts, start=1)
    ]
    for attempt in attempts:
        slurm.want(attempt.slurm_job_id)
    if layout.chunk_file(run_dir, chunk).exists():
        status.state, status.saved_lenses = "finished", lenses
    elif consolidated:
        status.state, status.saved_lenses = "finished", lenses
        status.note = "in the store; its chunk file was removed"
    else:
        status.saved_lenses, status.note = _saved_lenses(work_dir, settings)
    return status, attempts


def _finish_chunk_status(
    run_dir: Path, status: ChunkStatus, attempts: list[JournalAttempt], slurm: _SlurmView
) -> ChunkStatus:
    """Attempt outcomes and the chunk's state, now that SLURM states are known."""
    name = layout.chunk_name(status.chunk)
    for index, (attempt, shown) in enumerate(zip(attempts, status.attempts)):
        latest = index == len(attempts) - 1
        if attempt.finished:
            shown.outcome = "finished"
            continue
        if latest and _attempt_running(attempt, slurm):
            shown.outcome = "running"
            continue
        slurm_log = (
            slurm_log_path(slurm.workdir, "simulate_chunk", name, attempt.slurm_job_id)
            if attempt.slurm_job_id
            else None
        )
        rule_log = layout.chunk_log(run_dir, status.chunk) if latest else None
        shown.failure = attempt_failure(slurm.state(attempt.slurm_job_id), slurm_log, rule_log)
        shown.outcome = shown.failure.cause
    if status.state == "finished":
        return status
    active = slurm.active_job("simulate_chunk", name)
    last = status.attempts[-1] if status.attempts else None
    if active is not None:
        status.state = "in_progress"
        status.slurm_job_id, status.slurm_state = active.job_id, active.state
        status.slurm_reason = active.reason
    elif last is not None and last.outcome == "running":
        status.state = "in_progress"
        status.slurm_job_id = last.slurm_job_id
        status.slurm_state = slurm.state(last.slurm_job_id)
    elif last is not None and last.failure is not None and last.failure.cause != "STOPPED":
        status.state, status.failure = "failed", last.failure
    elif last is not None or status.saved_lenses:
        status.state = "partial"
        status.failure = last.failure if last else None
    return status


def _attempt_job_ids(chunks: list[ChunkStatus]) -> set[str]:
    """The SLURM job ids of every chunk attempt."""
    return {a.slurm_job_id for chunk in chunks for a in chunk.attempts if a.slurm_job_id}


def _platforms(chunks: list[ChunkStatus]) -> dict[str, int]:
    """How many chunks each processor type worked on, most first."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        for platform in {attempt.platform for attempt in chunk.attempts if attempt.platform}:
            counts[platform] = counts.get(platform, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _attempt_running(attempt: JournalAttempt, slurm: _SlurmView) -> bool:
    """Whether an attempt's job still runs: SLURM says so, or its process is alive here."""
    state = slurm.state(attempt.slurm_job_id)
    if state is not None:
        return state in ACTIVE_STATES
    return bool(process_alive(attempt.host, attempt.pid))


def _saved_lenses(work_dir: Path, settings: dict[str, Any]) -> tuple[int, str | None]:
    """Lenses in the saved parts of an unfinished chunk that its next attempt will reuse."""
    saved = sum(len(saved_part_range(path)) for path in saved_parts(work_dir))
    if saved and changes_since_recorded(work_dir, settings):
        return 0, f"{saved} saved lenses were made with other settings and will be redone"
    return saved, None


def _stage_statuses(
    run_dir: Path,
    config: dict[str, Any],
    run_stages: dict[str, tuple[str, ...]],
    chunks: list[ChunkStatus],
    slurm: _SlurmView,
) -> list[StageStatus]:
    done = {"simulate_chunk": all(chunk.state == "finished" for chunk in chunks)}
    stages = []
    for stage, needs in run_stages.items():
        if "refine_chunk" in needs:
            state, detail = refine_chunks_state(
                run_dir, refine_chunk_count(config), done["refine_seeds"], slurm
            )
            if state == "done" and not done["refine_seeds"]:
                state, detail = "waiting", "its chunks are from before the seeds redone first"
            stages.append(StageStatus("refine_chunk", state, detail))
            done["refine_chunk"] = state == "done"
        upstream_done = all(done[need] for need in needs)
        status = _stage_status(run_dir, stage, upstream_done, slurm)
        if status.state == "done" and not upstream_done:
            # Snakemake makes it again once the stage before it is redone.
            status.state = "waiting"
            status.detail = "its outputs are from before a stage it reads, which is redone first"
        if layout.stage_rule(stage) == "train":
            status.detail = _training_progress(run_dir, config, stage, status.state)
        if stage == "consolidate" and status.state == "done":
            _check_store(run_dir, status)
        stages.append(status)
        done[stage] = status.state == "done"
    # The independent tests and the learning curve use the main model.
    evaluated = done[f"evaluate/{MAIN_MODEL}"]
    campaigns = [campaign["name"] for campaign in config["evaluation"]["independent_tests"]]
    if campaigns:
        stages.append(_independent_status(run_dir, campaigns, evaluated))
    if config["evaluation"]["learning_curve"]:
        stages.append(
            _learning_curve_status(
                run_dir, learning_curve_sizes(config), done["normalise"], evaluated
            )
        )
    surveys = config["evaluation"]["survey_galleries"]
    if surveys:
        drawn = sum(layout.survey_gallery_file(run_dir, survey).exists() for survey in surveys)
        state = "done" if drawn == len(surveys) else "ready"
        stages.append(StageStatus("survey_gallery", state, f"{drawn} of {len(surveys)} presets"))
    switches = realism_switches(config)
    if switches:
        drawn = layout.run_file(run_dir, "realism_gallery").exists()
        stages.append(
            StageStatus("realism_gallery", "done" if drawn else "ready", ", ".join(switches))
        )
    return stages


def _check_store(run_dir: Path, status: StageStatus) -> None:
    """Mark a consolidated store whose chunks fail their checksums as ``damaged``; note one
    written before lenspipe checksummed its stores."""
    store = layout.run_file(run_dir, "store")
    damaged = damaged_chunks(store)
    if damaged is None:
        status.detail = "store written without checksums (by a lenspipe before them)"
    elif damaged:
        status.state = "damaged"
        shown = ", ".join(damaged[:3]) + (" ..." if len(damaged) > 3 else "")
        status.detail = f"{len(damaged)} chunk files of {store} fail their checksum: {shown}"


def _stage_status(
    run_dir: Path, stage: str, upstream_done: bool, slurm: _SlurmView
) -> StageStatus:
    if all(output.exists() for output in layout.stage_outputs(run_dir, stage)):
        return StageStatus(stage, "done")
    rule = layout.stage_rule(stage)
    # As the slurm executor plugin writes a job's wildcards: their values joined by "_".
    wildcards = "_".join(layout.stage_wildcards(stage).values())
    active = slurm.active_job(rule, wildcards)
    if active is not None:
        return StageStatus(stage, "running", slurm_job_id=active.job_id, slurm_state=active.state)
    if not upstream_done:
        return StageStatus(stage, "waiting")
    log = layout.stage_log(run_dir, stage)
    record = read_job_record(log)
    if record is None:
        return StageStatus(stage, "ready")
    job_id = record["slurm_job_id"]
    slurm.want(job_id)
    slurm.resolve_states()
    state = slurm.state(job_id)
    if state in ACTIVE_STATES or (state is None and process_alive(record["host"], record["pid"])):
        return StageStatus(stage, "running", slurm_job_id=job_id, slurm_state=state)
    slurm_log = slurm_log_path(slurm.workdir, rule, wildcards, job_id) if job_id else None
    failure = attempt_failure(state, slurm_log, log)
    verdict = "interrupted" if failure.cause == "STOPPED" else "failed"
    return StageStatus(stage, verdict, slurm_job_id=job_id, slurm_state=state, failure=failure)


def _independent_status(run_dir: Path, names: list[str], evaluated_run: bool) -> StageStatus:
    """The independent test campaigns as one stage: done when every campaign is evaluated and
    the side-by-side table written; they simulate at any time but evaluate with the model."""
    campaigns = [layout.campaign_dir(run_dir, name) for name in names]
    simulated = sum(layout.run_file(campaign, "store").exists() for campaign in campaigns)
    evaluated = sum(
        layout.run_file(campaign, "metrics_json", model=MAIN_MODEL).exists()
        for campaign in campaigns
    )
    detail = f"{evaluated} of {len(names)} campaigns evaluated, {simulated} simulated"
    if evaluated == len(names) and layout.run_file(run_dir, "independent_table").exists():
        state = "done"
    else:
        state = "ready" if evaluated_run else "waiting"
    return StageStatus("independent", state, detail)


def _learning_curve_status(
    run_dir: Path, sizes: list[int], normalised: bool, evaluated_run: bool
) -> StageStatus:
    """The learning curve as one stage: done when the model of every smaller training set
    has predicted the test subset and the table and figure are written. Its models train once
    the data are normalised; the table also needs the run's own model evaluated."""
    trained = sum(layout.learning_curve_predictions(run_dir, size).exists() for size in sizes)
    written = all(output.exists() for output in layout.learning_curve_outputs(run_dir))
    table = "table written" if written else "table not written"
    detail = f"{trained} of {len(sizes)} training sets trained, {table}"
    for size in sizes:
        text = _read(layout.learning_curve_history_in_progress(run_dir, size))
        if text is not None:
            detail += f"; {size} lenses: {max(len(text.splitlines()) - 1, 0)} epochs"
    if trained == len(sizes) and written:
        state = "done"
    elif normalised and (trained < len(sizes) or evaluated_run):
        state = "ready"
    else:
        state = "waiting"
    return StageStatus("learning_curve", state, detail)


def _training_progress(
    run_dir: Path, config: dict[str, Any], stage: str, state: str
) -> str | None:
    """Epochs done of those asked for, while a model trains or after it stopped midway."""
    model = layout.stage_wildcards(stage)["model"]
    history = (
        layout.run_file(run_dir, "history", model=model)
        if state == "done"
        else layout.training_history_in_progress(run_dir, model)
    )
    text = _read(history)
    if text is None:
        return None
    epochs = max(len(text.splitlines()) - 1, 0)
    return f"{epochs} of up to {model_settings(config, model)['epochs']} epochs"


def _efficiency(
    run_dir: Path, chunks: list[ChunkStatus], stages: list[str], n_refine_chunks: int
) -> list[RuleEfficiency]:
    """Requested versus used resources of each rule's finished jobs (per model for the train
    rule, whose models ask for different resources; of every model for the other rules of
    the models; every chunk job of a chunked rule)."""
    jobs: dict[str, list[tuple[Path, Path]]] = {"simulate_chunk": []}
    retried: dict[str, list[str]] = {"simulate_chunk": []}
    for chunk in chunks:
        if chunk.state == "finished":
            jobs["simulate_chunk"].append(
                (
                    layout.chunk_benchmark(run_dir, chunk.chunk),
                    layout.chunk_log(run_dir, chunk.chunk),
                )
            )
            retried["simulate_chunk"] += [a.outcome for a in chunk.attempts if a.failure]
    for stage in stages:
        key = efficiency_key(layout.stage_rule(stage), layout.stage_wildcards(stage))
        files = (layout.stage_benchmark(run_dir, stage), layout.stage_log(run_dir, stage))
        jobs.setdefault(key, []).append(files)
        retried[key] = []
    if "refine" in stages:
        jobs["refine_chunk"], retried["refine_chunk"] = (
            refine_chunk_jobs(run_dir, n_refine_chunks),
            [],
        )
    summaries = []
    for rule, files in jobs.items():
        uses = [use for use in (_job_use(*pair) for pair in files) if use is not None]
        if uses:
            summaries.append(rule_efficiency(rule, uses, retried[rule]))
    return summaries


def _job_use(benchmark: Path, log: Path) -> JobUse | None:
    measured = read_benchmark(benchmark)
    if measured is None:
        return None
    record = read_job_record(log) or {}
    return JobUse(
        wall_seconds=measured[0],
        max_rss_mb=measured[1],
        runtime_minutes=record.get("runtime_minutes"),
        mem_mb=record.get("mem_mb"),
        on_slurm=bool(record.get("slurm_job_id")),
    )


def _progress(
    run_dir: Path,
    config: dict[str, Any],
    chunks: list[ChunkStatus],
    efficiency: list[RuleEfficiency],
    now: datetime.datetime,
) -> Progress:
    in_parts = sum(chunk.saved_lenses for chunk in chunks if chunk.state != "finished")
    done = sum(chunk.saved_lenses for chunk in chunks)
    starts = [
        datetime.datetime.fromisoformat(attempt.started)
        for chunk in chunks
        for attempt in chunk.attempts
    ]
    started = min(starts) if starts else None
    active = any(chunk.state == "in_progress" for chunk in chunks)
    elapsed = rate = eta = None
    if started is not None:
        end = now if active else _last_activity(run_dir, chunks, max(starts))
        elapsed = max((end - started).total_seconds(), 1.0)
        rate = done / elapsed * 3600
        if active and rate > 0:
            eta = (config["n_lenses"] - done) / rate * 3600
    per_lens = hours_left = None
    finished = [chunk for chunk in chunks if chunk.state == "finished"]
    seconds = [read_benchmark(layout.chunk_benchmark(run_dir, chunk.chunk)) for chunk in finished]
    timed = [(chunk.lenses, wall[0]) for chunk, wall in zip(finished, seconds) if wall]
    if timed:
        per_lens = sum(wall for _, wall in timed) / sum(lenses for lenses, _ in timed)
        hours_left = (config["n_lenses"] - done) * per_lens / 3600
    return Progress(
        lenses_done=done,
        lenses_in_saved_parts=in_parts,
        started=started.isoformat() if started else None,
        elapsed_seconds=elapsed,
        lenses_per_hour=rate,
        eta_seconds=eta,
        job_seconds_per_lens=per_lens,
        job_hours_left=hours_left,
    )


def _last_activity(
    run_dir: Path, chunks: list[ChunkStatus], latest_start: datetime.datetime
) -> datetime.datetime:
    """When a chunk file or saved part was last written (or an attempt last started)."""
    times = [latest_start.timestamp()]
    for chunk in chunks:
        paths = [layout.chunk_file(run_dir, chunk.chunk)]
        paths += layout.chunk_work_dir(run_dir, chunk.chunk).glob("lenses_*.npz")
        for path in paths:
            try:
                times.append(path.stat().st_mtime)
            except OSError:
                pass
    return datetime.datetime.fromtimestamp(max(times), datetime.UTC)


def _resume(
    workdir: Path,
    chunks: list[ChunkStatus],
    stages: list[StageStatus],
    configfiles: list[str],
    profile: str | None,
    slurm: _SlurmView,
    array_tasks_queued: bool,
) -> Resume:
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


def _relative_logs(status: CampaignStatus, workdir: Path) -> None:
    """Show log paths relative to the workflow folder, as the user types them."""
    failures = [chunk.failure for chunk in status.chunks] + [
        stage.failure for stage in status.stages
    ]
    failures += [attempt.failure for chunk in status.chunks for attempt in chunk.attempts]
    for failure in failures:
        if failure is not None and failure.log and Path(failure.log).is_absolute():
            failure.log = str(Path(failure.log).relative_to(workdir))


def _parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
