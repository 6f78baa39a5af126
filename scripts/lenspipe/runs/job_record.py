"""The first line of every rule log: what the job asked for and where it runs.

The status command (``python -m lenspipe status``) reads it back to compare each job's request
with what its benchmark file says it used, and to tell whether the job is still running.
"""

import datetime
import json
import os
import socket
from pathlib import Path
from typing import Any

PREFIX = "lenspipe job: "


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
