"""What SLURM knows about a run's jobs: squeue for live and recent jobs, sacct where it works.

Only reads: both commands are queries. squeue may be missing (a laptop) or its controller may
not answer: ``SlurmUnavailable`` says which. sacct may refuse (a cluster without accounting);
then only squeue's states (jobs ended in the last few minutes) and the log files are used.
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


class SlurmUnavailable(Exception):
    """squeue is not installed here, or SLURM did not answer it."""


@dataclass
class SlurmJob:
    """A job of this run as squeue lists it.

    ``wildcards`` is None for a task of a job array: the executor plugin gives every task the
    comment of the array's first job, so which chunk a task runs is known only from the job
    record the task writes when it starts.
    """

    job_id: str
    state: str
    reason: str
    rule: str
    wildcards: str | None

    @property
    def array_task(self) -> bool:
        return is_array_task(self.job_id)


def is_array_task(job_id: str) -> bool:
    """Whether ``job_id`` names a task of a job array (``<array job>_<task>``)."""
    return "_" in job_id


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
            rule, wildcards = rule_and_wildcards
            job_id = fields[0]
            wildcards = None if is_array_task(job_id) else wildcards
            jobs.append(SlurmJob(job_id, fields[1], fields[2], rule, wildcards))
    return jobs


def squeue_jobs(workdir: Path) -> list[SlurmJob]:
    """This user's jobs of the workflow in ``workdir``, including those ended in the last
    few minutes (SLURM keeps them for ``MinJobAge``), each task of a job array on its own;
    raises SlurmUnavailable."""
    command = ["squeue", "--me", "--array", "--noheader", "--states=all"]
    command.append("--format=%i|%T|%r|%k|%Z")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise SlurmUnavailable("no SLURM here (squeue not found)") from None
    except subprocess.TimeoutExpired:
        raise SlurmUnavailable("SLURM did not answer squeue within 30 s") from None
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        raise SlurmUnavailable(f"squeue failed: {message[0]}")
    return parse_squeue(result.stdout, workdir.resolve())


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
    command = ["sacct", "-X", "--parsable2", "--noheader", "--format=JobID,State"]
    try:
        result = subprocess.run(
            command + ["--jobs", ",".join(job_ids)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_sacct(result.stdout) if result.returncode == 0 else None


def cause_in_slurm_log(text: str) -> str | None:
    """The SLURM state behind an ended job, read from the messages in its output file."""
    for pattern, cause in _LOG_CAUSES:
        if pattern.search(text):
            return cause
    return None


def slurm_log_path(workdir: Path, rule: str, wildcards: str, job_id: str) -> Path:
    """Where the slurm executor plugin asks SLURM to write a job's output: one folder per
    rule and wildcards, or one per rule for the tasks of a job array (``%A_%a.log``)."""
    rule_logs = workdir / ".snakemake" / "slurm_logs" / f"rule_{rule}"
    if is_array_task(job_id):
        return rule_logs / f"{job_id}.log"
    return rule_logs / wildcards / f"{job_id}.log"
