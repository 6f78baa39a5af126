"""Check SLURM requests against the cluster's partitions before any job is submitted.

Without this, a request the cluster cannot satisfy fails job by job at submission, or worse,
sits in the queue for ever (a runtime above the partition's limit on a cluster that does not
enforce partition limits at submission). The workflow calls ``check_requests`` once, at
start, with what every rule asks for on each of its attempts.
"""

import re
import subprocess
from dataclasses import dataclass

from lenspipe.errors import SlurmRequestError

PROFILE_HINT = (
    "Change it in your profile (profiles/amarel/config.v9+.yaml) or with --set-resources."
)


@dataclass(frozen=True)
class JobRequest:
    """What one rule asks SLURM for on one attempt."""

    rule_name: str
    attempt: int
    partition: str | None
    runtime_minutes: int | None
    mem_mb: int | None
    gpus: int


@dataclass(frozen=True)
class Partition:
    """The limits of a partition that lenspipe checks (the largest node where they differ)."""

    name: str
    max_minutes: float
    node_mem_mb: int
    gpus_per_node: int


def parse_sinfo(text: str) -> dict[str, Partition]:
    """Parse ``sinfo --noheader --format=%R|%l|%m|%G`` into partitions by name."""
    partitions: dict[str, Partition] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, time_limit, memory, gres = line.strip().split("|")
        found = Partition(
            name=name,
            max_minutes=parse_time_limit(time_limit),
            node_mem_mb=int(memory.rstrip("+")),
            gpus_per_node=_gpu_count(gres),
        )
        known = partitions.get(name)
        if known is not None:
            found = Partition(
                name,
                max(known.max_minutes, found.max_minutes),
                max(known.node_mem_mb, found.node_mem_mb),
                max(known.gpus_per_node, found.gpus_per_node),
            )
        partitions[name] = found
    return partitions


def parse_time_limit(text: str) -> float:
    """Minutes in a SLURM time limit: ``infinite``, ``D-HH[:MM[:SS]]``, ``HH:MM:SS``, ``MM:SS``
    or ``MM``.

    Not the plugin's ``parse_time_to_minutes``: it reads ``MM:SS`` as hours and minutes, so
    sinfo's ``30:00`` would become 30 hours, and it rejects ``infinite``.
    """
    if text in ("infinite", "UNLIMITED", "INFINITE"):
        return float("inf")
    days, _, clock = text.rpartition("-")
    fields = [int(field) for field in clock.split(":")]
    if days:
        # After a day count the fields are hours, then minutes, then seconds.
        hours, minutes, seconds = fields + [0] * (3 - len(fields))
    elif len(fields) == 1:
        hours, minutes, seconds = 0, fields[0], 0
    else:
        # MM:SS or HH:MM:SS.
        hours, minutes, seconds = [0] * (3 - len(fields)) + fields
    return int(days or 0) * 1440 + hours * 60 + minutes + seconds / 60


def _gpu_count(gres: str) -> int:
    """GPUs per node in a GRES string such as ``gpu:a100:4(S:0-1),gpu:2`` or ``(null)``."""
    counts = re.findall(r"gpu(?::[^:,(]+)?:(\d+)", gres)
    return sum(int(count) for count in counts)


def problems(requests: list[JobRequest], partitions: dict[str, Partition]) -> list[str]:
    """Every request that its partition cannot satisfy, as one sentence each."""
    found = []
    for request in requests:
        if request.partition is None:
            continue  # SLURM picks its default partition
        where = f"rule {request.rule_name} (attempt {request.attempt})"
        partition = partitions.get(request.partition)
        if partition is None:
            known = ", ".join(sorted(partitions)) or "none"
            found.append(
                f"{where} asks for slurm_partition '{request.partition}', which this cluster "
                f"does not have (partitions: {known})."
            )
            continue
        if request.runtime_minutes is not None and request.runtime_minutes > partition.max_minutes:
            found.append(
                f"{where} asks for runtime={request.runtime_minutes} minutes, above the "
                f"{partition.max_minutes:g}-minute limit of partition '{partition.name}'."
            )
        if request.mem_mb is not None and request.mem_mb > partition.node_mem_mb:
            found.append(
                f"{where} asks for mem_mb={request.mem_mb}, more than any node of partition "
                f"'{partition.name}' has ({partition.node_mem_mb} MB)."
            )
        if request.gpus > partition.gpus_per_node:
            found.append(
                f"{where} asks for gpu={request.gpus}, but the nodes of partition "
                f"'{partition.name}' have {partition.gpus_per_node} GPUs."
            )
    return found


def read_partitions() -> dict[str, Partition]:
    """The cluster's partitions, from ``sinfo``."""
    try:
        result = subprocess.run(
            ["sinfo", "--noheader", "--format=%R|%l|%m|%G"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SlurmRequestError(f"cannot ask SLURM for its partitions (sinfo): {error}") from None
    if result.returncode != 0:
        raise SlurmRequestError(
            f"cannot ask SLURM for its partitions: sinfo failed: {result.stderr.strip()}"
        )
    return parse_sinfo(result.stdout)


def check_requests(requests: list[JobRequest]) -> None:
    """Raise SlurmRequestError listing every request the cluster's partitions cannot satisfy."""
    found = problems(requests, read_partitions())
    if found:
        raise SlurmRequestError(
            "SLURM cannot run these jobs as requested; nothing was submitted:\n  - "
            + "\n  - ".join(found)
            + f"\n{PROFILE_HINT}"
        )
