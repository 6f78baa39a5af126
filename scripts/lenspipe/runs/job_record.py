"""The first line of every rule log: what the job asked for and where it runs; and its last
line: the wall time, CPU time and peak memory the job used.

The status command (``python -m lenspipe status``) reads the first back to compare each job's
request with what its benchmark file says it used, and to tell whether the job is still
running. The stage table (``scripts/benchmarks/stage_table.py``) reads the last: Snakemake's
benchmark samples a job's CPU time every 30 s or so, and misses most of a short job's.
"""

import datetime
import json
import os
import resource
import socket
import time
from pathlib import Path
from typing import Any

PREFIX = "lenspipe job: "
USAGE_PREFIX = "lenspipe job used: "


def job_record(rule: str, wildcards: dict[str, str], threads: int, resources: Any) -> dict:
    """The request of a running rule job, with its SLURM job id, host, process id and start."""
    return {
        "rule": rule,
        "wildcards": dict(wildcards),
        "threads": threads,
        "runtime_minutes": _number(resources.get("runtime")),
        "mem_mb": _number(resources.get("mem_mb")),
        "slurm_job_id": slurm_job_id(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": now(),
    }


def slurm_job_id() -> str | None:
    """This process's SLURM job as squeue, sacct and scancel name it: ``<array job>_<task>``
    for a task of a job array, the job id otherwise; None outside SLURM.

    An array task also has a job id of its own (``SLURM_JOB_ID``), but squeue lists the task
    by its array name, and the executor plugin names its log after it (``%A_%a.log``).
    """
    array_job, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and task:
        return f"{array_job}_{task}"
    return os.environ.get("SLURM_JOB_ID")


def record_line(record: dict) -> str:
    """The log line that holds ``record``."""
    return PREFIX + json.dumps(record, sort_keys=True) + "\n"


def read_job_record(log_path: str | Path) -> dict | None:
    """The record at the top of a rule log, or None if the log is missing or has none."""
    try:
        with open(log_path) as log:
            first = log.readline()
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None
    if not first.startswith(PREFIX):
        return None
    try:
        return json.loads(first[len(PREFIX) :])
    except json.JSONDecodeError:
        return None


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _number(value: Any) -> float | None:
    """A resource value as a number; None for a missing or symbolic one (e.g. "2h")."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def usage_record(started: float) -> dict:
    """What this process and its finished children used since ``time.perf_counter()`` was
    ``started``: wall and CPU seconds, and the peak resident memory of the process and of its
    largest child (MB)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return {
        "wall_s": round(time.perf_counter() - started, 3),
        "cpu_s": round(sum(u.ru_utime + u.ru_stime for u in (own, children)), 3),
        "peak_mb": round(own.ru_maxrss / 1024, 1),
        "largest_child_peak_mb": round(children.ru_maxrss / 1024, 1),
    }


def read_job_usage(log_path: str | Path) -> dict | None:
    """The usage line a finished job wrote at the end of its log, or None if it has none."""
    try:
        lines = Path(log_path).read_text(errors="replace").splitlines()
    except (FileNotFoundError, IsADirectoryError):
        return None
    for line in reversed(lines):
        if line.startswith(USAGE_PREFIX):
            try:
                return json.loads(line[len(USAGE_PREFIX) :])
            except json.JSONDecodeError:
                return None
    return None
