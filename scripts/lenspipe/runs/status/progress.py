"""Pace and resources of a run, from its benchmark files, job logs and chunk files: the lenses
simulated and the time left, and each rule's requested against used resources."""

import datetime
from pathlib import Path
from typing import Any

from lenspipe.runs import layout
from lenspipe.runs.job_record import read_job_record
from lenspipe.runs.status.efficiency import (
    JobUse,
    RuleEfficiency,
    efficiency_key,
    read_benchmark,
    rule_efficiency,
)
from lenspipe.runs.status.model import ChunkStatus, Progress
from lenspipe.runs.status.refine_chunks import refine_chunk_jobs


def simulation_progress(
    run_dir: Path, config: dict[str, Any], chunks: list[ChunkStatus], now: datetime.datetime
) -> Progress:
    """Lenses simulated, the pace since the first attempt started and the time left, and
    the job time per lens of the finished chunks (their benchmark files)."""
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


def run_efficiency(
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
    for stage in filter(layout.single_job, stages):
        key = efficiency_key(layout.stage_rule(stage), layout.stage_wildcards(stage))
        files = (layout.stage_benchmark(run_dir, stage), layout.stage_log(run_dir, stage))
        jobs.setdefault(key, []).append(files)
        retried[key] = []
    if "refine_chunk" in stages:
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
