"""The refine_chunk jobs, read for the status command as one stage: chunks refined, lenses
saved in the parts of unfinished chunks, and the jobs running or stopped."""

import re
from pathlib import Path
from typing import Protocol

from lenspipe.runs import layout
from lenspipe.runs.job_record import read_job_record
from lenspipe.runs.status.processes import process_alive
from lenspipe.runs.status.slurm import ACTIVE_STATES, SlurmJob

_PART = re.compile(r"^rows_(\d{9})-(\d{9})\.csv$")


class _Slurm(Protocol):
    def active_job(self, rule: str, wildcards: str) -> SlurmJob | None: ...
    def want(self, job_id: str | None) -> None: ...
    def resolve_states(self) -> None: ...
    def state(self, job_id: str | None) -> str | None: ...


def saved_rows(work_dir: Path) -> int:
    """Lenses in the saved parts of a refine chunk's work folder."""
    total = 0
    for path in work_dir.glob("rows_*.csv"):
        match = _PART.match(path.name)
        if match:
            total += int(match[2]) - int(match[1]) + 1
    return total


def refine_chunk_jobs(run_dir: Path, n_chunks: int) -> list[tuple[Path, Path]]:
    """The benchmark and log of every refined chunk (for the efficiency table)."""
    return [
        (
            layout.refine_chunk_benchmark(run_dir, chunk),
            layout.refine_chunk_log(run_dir, chunk),
        )
        for chunk in range(n_chunks)
        if layout.refine_chunk_file(run_dir, chunk).exists()
    ]


def refine_chunks_state(
    run_dir: Path, n_chunks: int, seeds_done: bool, slurm: _Slurm
) -> tuple[str, str]:
    """The state of the refine_chunk jobs together (``done``, ``running``, ``interrupted``,
    ``ready`` or ``waiting``, as a stage's) and the detail line."""
    unfinished = [
        chunk for chunk in range(n_chunks) if not layout.refine_chunk_file(run_dir, chunk).exists()
    ]
    saved = sum(saved_rows(layout.refine_work_dir(run_dir, chunk)) for chunk in unfinished)
    running, stopped = [], []
    for chunk in unfinished:
        name = layout.chunk_name(chunk)
        if slurm.active_job("refine_chunk", name) is not None:
            running.append(name)
            continue
        record = read_job_record(layout.refine_chunk_log(run_dir, chunk))
        if record is None:
            continue
        slurm.want(record["slurm_job_id"])
        slurm.resolve_states()
        state = slurm.state(record["slurm_job_id"])
        alive = state is None and process_alive(record["host"], record["pid"])
        (running if state in ACTIVE_STATES or alive else stopped).append(name)
    detail = (
        f"{n_chunks - len(unfinished)} of {n_chunks} chunks refined, "
        f"{saved} lenses in saved parts"
    )
    if stopped and not running:
        detail += f"; stopped before the end: chunk {', '.join(stopped)}"
    if not unfinished:
        return "done", detail
    if running:
        return "running", detail
    if not seeds_done:
        return "waiting", detail
    return ("interrupted" if stopped else "ready"), detail
