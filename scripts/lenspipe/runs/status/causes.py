"""Why a job attempt ended without finishing, from SLURM's state and the job's logs."""

from dataclasses import dataclass, field
from pathlib import Path

from lenspipe.runs.job_record import USAGE_PREFIX

from lenspipe.runs.status.slurm import cause_in_slurm_log

EXPLANATIONS = {
    "TIMEOUT": "ran out of wall time",
    "OUT_OF_MEMORY": "ran out of memory",
    "PREEMPTED": "was preempted by a higher-priority job",
    "NODE_FAIL": "lost its node",
    "BOOT_FAIL": "its node failed to boot",
    "DEADLINE": "reached its deadline",
    "CANCELLED": "was cancelled (scancel, or Ctrl-C in the Snakemake driver)",
    "PYTHON_ERROR": "stopped on a Python error",
    "FAILED": "exited with an error",
    "STOPPED": "ended without an error message (killed, or its driver or machine stopped)",
}
_TRACEBACK = "Traceback (most recent call last)"
LAST_LINES = 6


@dataclass
class Failure:
    """An attempt that ended without finishing: the cause, its log and the log's last lines."""

    cause: str
    explanation: str
    log: str | None = None
    last_lines: list[str] = field(default_factory=list)


def attempt_failure(
    slurm_state: str | None, slurm_log: Path | None, rule_log: Path | None
) -> Failure:
    """Classify an ended attempt.

    ``slurm_state`` is SLURM's final state of its job if known; ``slurm_log`` the job's SLURM
    output file; ``rule_log`` the rule's own log, given only for the latest attempt (the log of
    earlier attempts is replaced when a job reruns).
    """
    slurm_text = _read(slurm_log)
    rule_text = _read(rule_log)
    cause = slurm_state if slurm_state in EXPLANATIONS and slurm_state != "FAILED" else None
    cause = cause or (cause_in_slurm_log(slurm_text) if slurm_text else None)
    if cause is not None:
        return _failure(cause, slurm_log if slurm_text else rule_log, slurm_text or rule_text)
    if rule_text and _TRACEBACK in rule_text:
        return _failure("PYTHON_ERROR", rule_log, rule_text)
    if slurm_state == "FAILED":
        return _failure("FAILED", slurm_log if slurm_text else rule_log, slurm_text or rule_text)
    return _failure("STOPPED", rule_log if rule_text else None, rule_text)


def _failure(cause: str, log: Path | None, text: str | None) -> Failure:
    """The failure, with SLURM's own messages from the log if it has any, else its last lines."""
    lines = [
        line
        for line in (text or "").splitlines()
        if line.strip() and not line.startswith(USAGE_PREFIX)
    ]
    from_slurm = [line for line in lines if line.startswith("slurmstepd")]
    shown = (from_slurm or lines)[-LAST_LINES:]
    return Failure(cause, EXPLANATIONS[cause], str(log) if log else None, shown)


def _read(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None
