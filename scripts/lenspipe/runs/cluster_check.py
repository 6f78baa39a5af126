"""``python -m lenspipe cluster-check``: before the first run on a cluster, what it offers and
whether the profile's requests fit.

It prints the partitions with their limits (``sinfo``), your SLURM associations
(``sacctmgr show assoc user=$USER``; said plainly when the cluster has no accounting database),
the GPU types and node features, and every rule's request from the profile, on every attempt
its retries allow, checked against the partitions as the workflow's pre-submission check does.
It submits nothing.
"""

import getpass
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import yte
from lenspipe.errors import SlurmRequestError
from lenspipe.learning.variants import MODELS
from lenspipe.runs.slurm_preflight import (
    JobRequest,
    Partition,
    gpu_request,
    problems,
    read_partitions,
)

# The resources the check reads, and what the rules get when the profile does not say.
CHECKED = ("slurm_partition", "runtime", "mem_mb", "gres", "gpu", "gpu_model", "constraint")


@dataclass
class Accounts:
    """The user's SLURM accounts, or why they cannot be read."""

    names: list[str]
    unavailable: str | None = None


def load_profile(profile: str | Path) -> dict:
    """A Snakemake profile folder's config (``config.v9+.yaml`` or ``config.yaml``), with YTE
    templating applied as Snakemake applies it."""
    folder = Path(profile)
    for name in ("config.v9+.yaml", "config.yaml"):
        if (folder / name).exists():
            with (folder / name).open() as stream:
                return yte.process_yaml(stream)
    raise FileNotFoundError(f"{folder}: no config.v9+.yaml or config.yaml (not a profile?)")


def _value(expression, attempt: int, wildcards: SimpleNamespace | None):
    """A resource as Snakemake evaluates it: a Python expression of ``attempt`` and the job's
    ``wildcards``, else text."""
    if not isinstance(expression, str):
        return expression
    names = {"attempt": attempt, "wildcards": wildcards}
    try:
        return eval(expression, {"__builtins__": {}, "min": min, "max": max}, names)
    except Exception:
        return expression


def _jobs(rule: str, raw: dict) -> list[tuple[str, SimpleNamespace | None]]:
    """The jobs of ``rule`` whose requests can differ: one per model (``rule/model``) when a
    resource depends on the ``{model}`` wildcard, else the rule alone."""
    if any(isinstance(value, str) and "wildcards.model" in value for value in raw.values()):
        return [(f"{rule}/{model}", SimpleNamespace(model=model)) for model in MODELS]
    return [(rule, None)]


def profile_requests(profile: dict) -> list[JobRequest]:
    """Each rule's request in ``profile`` (the rules it names; "(default)" for the others), on
    every attempt its retries allow."""
    defaults = profile.get("default-resources") or {}
    per_rule = profile.get("set-resources") or {}
    rules = ["(default)", *sorted(set(per_rule) | set(profile.get("set-threads") or {}))]
    requests = []
    for rule in rules:
        raw = {**defaults, **per_rule.get(rule, {})}
        for job, wildcards in _jobs(rule, raw):
            requests += _attempts(profile, job, raw, wildcards)
    return requests


def _attempts(
    profile: dict, job: str, raw: dict, wildcards: SimpleNamespace | None
) -> list[JobRequest]:
    """The request of ``job`` (a rule, or a rule and model) on every attempt."""
    requests = []
    for attempt in range(1, int(profile.get("retries", 0)) + 2):
        resources = {name: _value(raw.get(name), attempt, wildcards) for name in CHECKED}
        gpus, gpu_type = gpu_request(resources)
        requests.append(
            JobRequest(
                rule_name=job,
                attempt=attempt,
                partition=resources["slurm_partition"],
                runtime_minutes=resources["runtime"],
                mem_mb=resources["mem_mb"],
                gpus=gpus,
                gpu_type=gpu_type,
                constraint=resources["constraint"] or None,
            )
        )
    return requests


def read_accounts(user: str | None = None) -> Accounts:
    """The accounts of ``user`` (default: you) from ``sacctmgr show assoc``."""
    user = user or getpass.getuser()
    command = [
        "sacctmgr",
        "--noheader",
        "--parsable2",
        "show",
        "assoc",
        f"user={user}",
        "format=account",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Accounts([], f"sacctmgr could not run: {error}")
    message = (result.stderr.strip().splitlines() or [""])[0]
    if result.returncode != 0:
        return Accounts([], f"sacctmgr failed: {message or f'exit status {result.returncode}'}")
    names = sorted({line.strip() for line in result.stdout.splitlines() if line.strip()})
    if not names:
        return Accounts([], f"sacctmgr lists no association for user {user}")
    return Accounts(names)


def _minutes(minutes: float) -> str:
    if minutes == float("inf"):
        return "unlimited"
    days, rest = divmod(int(minutes), 1440)
    return f"{days}-{rest // 60:02d}:{rest % 60:02d}" if days else f"{rest // 60}:{rest % 60:02d}"


def report(profile_path: str | Path) -> tuple[list[str], int]:
    """The lines to print and the exit status: 0 when every request fits, 1 when one does not,
    2 when SLURM cannot be asked."""
    profile = load_profile(profile_path)
    lines = [f"lenspipe cluster-check: {profile_path} against this cluster", ""]
    try:
        partitions = read_partitions()
    except SlurmRequestError as error:
        return lines + [f"SLURM      unavailable: {error}"], 2
    lines += _partition_lines(partitions)
    lines += [""] + _account_lines(profile, read_accounts())
    requests = profile_requests(profile)
    lines += [""] + _request_lines(profile, requests)
    found = problems(requests, partitions)
    if found:
        lines += ["", "Does not fit"] + [f"  - {problem}" for problem in found]
        lines.append("  Change the profile (the top of its config holds the limits) or ask OARC.")
        return lines, 1
    lines += ["", "Fits        every request above, on every attempt, fits its partition"]
    return lines, 0


def _partition_lines(partitions: dict[str, Partition]) -> list[str]:
    lines = ["Partitions  (sinfo; the largest node of each)"]
    lines.append(
        f"  {'partition':<12}{'time limit':<13}{'memory MB':>10}  {'GPUs':>4}  "
        "GPU types / node features"
    )
    for name, partition in sorted(partitions.items()):
        types = ", ".join(sorted(partition.gpu_types)) or (
            "untyped" if partition.gpus_per_node else "-"
        )
        features = ", ".join(sorted(set().union(*partition.node_features))) or "-"
        lines.append(
            f"  {name:<12}{_minutes(partition.max_minutes):<13}{partition.node_mem_mb:>10}  "
            f"{partition.gpus_per_node:>4}  {types} / {features}"
        )
    return lines


def _account_lines(profile: dict, accounts: Accounts) -> list[str]:
    asked = (profile.get("default-resources") or {}).get("slurm_account")
    lines = [f"Account     the profile asks for: {asked or '(none: the plugin guesses)'}"]
    if accounts.unavailable:
        lines.append(f"  your associations: unavailable ({accounts.unavailable})")
        lines.append("  the plugin checks the account itself before the first submission")
    else:
        lines.append(f"  your associations: {', '.join(accounts.names)}")
        if asked and asked.lower() not in {name.lower() for name in accounts.names}:
            lines.append(f"  '{asked}' is not one of them: export SBATCH_ACCOUNT=<one of them>")
    return lines


def _request_lines(profile: dict, requests: list[JobRequest]) -> list[str]:
    lines = [f"Requests    per rule, attempts 1-{int(profile.get('retries', 0)) + 1}"]
    by_rule: dict[str, list[JobRequest]] = {}
    for request in requests:
        by_rule.setdefault(request.rule_name, []).append(request)
    for rule, attempts in by_rule.items():
        first, last = attempts[0], attempts[-1]
        gpu = f", {first.gpus} GPU" + (f" ({first.gpu_type})" if first.gpu_type else "")
        lines.append(
            f"  {rule:<28}{first.partition or '(default)'}: runtime {first.runtime_minutes}"
            f" -> {last.runtime_minutes} min, memory {first.mem_mb} -> {last.mem_mb} MB"
            + (gpu if first.gpus else "")
            + (f", constraint {first.constraint}" if first.constraint else "")
        )
    return lines
