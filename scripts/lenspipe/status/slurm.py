"""What SLURM knows about a run's jobs: squeue for live and recent jobs, sacct where it works.

Only reads: both commands are queries. Either may be missing (a laptop) or refuse (sacct on a
cluster without accounting); the functions then return None and the status says less.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ACTIVE_STATES = frozenset(
    {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED"}
)

# What slurmstepd writes into a job's output when SLURM ends it, newest SLURM wording first.
_LOG_CAUSES = (
    (re.compile(r"CANCELLED AT \S+ DUE TO TIME LIMIT"), "TIMEOUT"),
    (re.compile(r"CANCELLED AT \S+ DUE TO PREEMPTION"), "PREEMPTED"),
    (re.compile(r"CANCELLED AT \S+ DUE TO NODE FAIL"), "NODE_FAIL"),
    (re.compile(r"oom[_-]kill|Out Of Memory|OOM Killed", re.IGNORECASE), "OUT_OF_MEMORY"),
    (re.compile(r"CANCELLED AT \S+ \*\*\*"), "CANCELLED"),
)


@dataclass
class SlurmJob:
    """A job of this run as squeue lists it."""

    job_id: str
    state: str
    reason: str
    rule: str
    wildcards: str


def parse_comment(comment: str) -> tuple[str, str] | None:
    """(rule, wildcards) from the comment the slurm executor plugin gives each job.

    It is ``rule_<rule>`` or ``rule_<rule>_wildcards_<values joined by _>``.
    """
    if not comment.startswith("rule_"):
        return None
    rule, _, wildcards = comment[len("rule_") :].partition("_wildcards_")
    return rule, wildcards


def parse_squeue(output: str, workdir: Path) -> list[SlurmJob]:
    """Jobs of the workflow in ``workdir`` from ``squeue --format=%i|%T|%r|%k|%Z`` lines."""
    jobs = []
    for line in output.splitlines():
        fields = line.split("|")
        if len(fields) != 5 or Path(fields[4]) != workdir:
            continue
        rule_and_wildcards = parse_comment(fields[3])
        if rule_and_wildcards is not None:
            jobs.append(SlurmJob(fields[0], fields[1], fields[2], *rule_and_wildcards))
    return jobs


def squeue_jobs(workdir: Path) -> list[SlurmJob] | None:
    """This user's jobs of the workflow in ``workdir``, including those ended in the last
    few minutes (SLURM keeps them for ``MinJobAge``); None if squeue cannot be asked."""
    output = _query(["squeue", "--me", "--noheader", "--states=all", "--format=%i|%T|%r|%k|%Z"])
    return None if output is None else parse_squeue(output, workdir.resolve())


def parse_sacct(output: str) -> dict[str, str]:
    """Job id → state from ``sacct -X --parsable2 --noheader --format=JobID,State`` lines."""
    states = {}
    for line in output.splitlines():
        job_id, _, state = line.partition("|")
        if state:
            states[job_id] = state.split()[0]  # "CANCELLED by 1234" → "CANCELLED"
    return states


def sacct_states(job_ids: list[str]) -> dict[str, str] | None:
    """The final or current state of each job id; None where SLURM keeps no accounting."""
    if not job_ids:
        return {}
    output = _query(
        ["sacct", "-X", "--parsable2", "--noheader", "--format=JobID,State"]
        + ["--jobs", ",".join(job_ids)]
    )
    return None if output is None else parse_sacct(output)


def cause_in_slurm_log(text: str) -> str | None:
    """The SLURM state behind an ended job, read from the messages in its output file."""
    for pattern, cause in _LOG_CAUSES:
        if pattern.search(text):
            return cause
    return None


def slurm_log_path(workdir: Path, rule: str, wildcards: str, job_id: str) -> Path:
    """Where the slurm executor plugin asks SLURM to write a job's output."""
    return workdir / ".snakemake" / "slurm_logs" / f"rule_{rule}" / wildcards / f"{job_id}.log"


def _query(command: list[str]) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None
