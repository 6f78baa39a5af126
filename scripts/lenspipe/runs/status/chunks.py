"""The simulate_chunk jobs' status, from what they leave behind: chunk files, the saved parts
and attempt journal of each chunk's work folder, the record at the top of each chunk's log,
and the store they were consolidated into."""

import datetime
import json
from pathlib import Path
from typing import Any

import zarr
from lenspipe.data.chunk_files import chunk_count, chunk_range
from lenspipe.data.store import open_store
from lenspipe.runs import layout
from lenspipe.runs.chunk_work import JournalAttempt, read_journal, saved_part_range, saved_parts
from lenspipe.runs.job_record import read_job_record
from lenspipe.runs.status.causes import attempt_failure
from lenspipe.runs.status.model import AttemptStatus, ChunkStatus
from lenspipe.runs.status.processes import process_alive
from lenspipe.runs.status.slurm import ACTIVE_STATES, slurm_log_path
from lenspipe.runs.status.slurm_view import SlurmView
from lenspipe.work_settings import changed_fields, changes_since_recorded


def chunk_statuses(
    run_dir: Path, config: dict[str, Any], settings: dict[str, Any], slurm: SlurmView
) -> list[ChunkStatus]:
    """Every simulate_chunk job's status: what its files say, then what SLURM says of its
    attempts (asked once for all of them)."""
    is_consolidated = consolidated(run_dir, settings)
    read = [
        _chunk_status(run_dir, chunk, config, settings, slurm, is_consolidated)
        for chunk in range(chunk_count(config["n_lenses"], config["chunk_size"]))
    ]
    slurm.resolve_states()
    return [_finish_chunk_status(run_dir, *chunk_and_journal, slurm) for chunk_and_journal in read]


def consolidated(run_dir: Path, settings: dict[str, Any]) -> bool:
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


def _chunk_status(
    run_dir: Path,
    chunk: int,
    config: dict[str, Any],
    settings: dict[str, Any],
    slurm: SlurmView,
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
    run_dir: Path, status: ChunkStatus, attempts: list[JournalAttempt], slurm: SlurmView
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


def attempt_job_ids(chunks: list[ChunkStatus]) -> set[str]:
    """The SLURM job ids of every chunk attempt."""
    return {a.slurm_job_id for chunk in chunks for a in chunk.attempts if a.slurm_job_id}


def platforms(chunks: list[ChunkStatus]) -> dict[str, int]:
    """How many chunks each processor type worked on, most first."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        for platform in {attempt.platform for attempt in chunk.attempts if attempt.platform}:
            counts[platform] = counts.get(platform, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _attempt_running(attempt: JournalAttempt, slurm: SlurmView) -> bool:
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


def _parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)
