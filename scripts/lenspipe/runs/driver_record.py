"""Where the Snakemake driver of a workflow folder runs: host, process id, SLURM job.

Snakemake's lock (``.snakemake/locks/``) says only that a driver holds the folder, not where;
on a cluster the folder is shared by many machines, so a driver in tmux on one login node, or
in a batch job, is invisible from another. The workflow's ``onstart`` writes this record next
to the lock and ``onsuccess``/``onerror`` remove it; a killed driver leaves both behind. The
status command reads it before it suggests ``snakemake --unlock``.
"""

import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lenspipe.runs.job_record import now, slurm_job_id

RECORD = Path(".snakemake") / "lenspipe-driver.json"


def write_driver_record(workdir: str | Path = ".") -> Path:
    """Record this process as the folder's driver; return the record's path."""
    path = Path(workdir) / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "slurm_job_id": slurm_job_id(),
        "started": now(),
    }
    # Replaces the record a killed driver left (atomic_path never overwrites).
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(record, sort_keys=True) + "\n")
    os.replace(partial, path)
    return path


def remove_driver_record(workdir: str | Path = ".") -> None:
    """Forget the driver (it ends normally); only this process's own record is removed."""
    path = Path(workdir) / RECORD
    record = read_driver_record(workdir)
    if record and record.get("host") == socket.gethostname() and record.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def read_driver_record(workdir: str | Path) -> dict | None:
    """The folder's driver record, or None if there is none (or it cannot be read)."""
    try:
        return json.loads((Path(workdir) / RECORD).read_text())
    except (OSError, ValueError):
        return None


@dataclass
class DriverElsewhere:
    """A driver that may still run on another machine, so the lock must not be removed."""

    host: str
    pid: int | None
    slurm_job_id: str | None
    started: str | None
    # "running" when SLURM lists its job as running; "unknown" when nothing here can tell.
    state: str


def driver_elsewhere(workdir: str | Path, host: str | None = None) -> DriverElsewhere | None:
    """The recorded driver if it ran on another host than ``host`` (default: this one) and
    may still run: its SLURM job is running, or it has no SLURM job whose end SLURM can
    confirm. None when there is no record, it is this host's, or its SLURM job has ended."""
    record = read_driver_record(workdir)
    host = socket.gethostname() if host is None else host
    if not record or record.get("host") in (None, host):
        return None
    job = record.get("slurm_job_id")
    state = "unknown"
    if job:
        slurm_state = _slurm_job_state(job)
        if slurm_state in ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED"):
            state = "running"
        elif slurm_state is not None:
            return None  # SLURM says its job ended (or no longer knows it)
    return DriverElsewhere(record["host"], record.get("pid"), job, record.get("started"), state)


def _slurm_job_state(job_id: str) -> str | None:
    """SLURM's state of job ``job_id``; "" when SLURM no longer lists it; None when SLURM
    cannot be asked."""
    try:
        result = subprocess.run(
            ["squeue", "--noheader", "--states=all", f"--jobs={job_id}", "--format=%T"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        # squeue refuses an id it no longer knows ("Invalid job id specified").
        return "" if "Invalid job id" in result.stderr else None
    return result.stdout.strip()
