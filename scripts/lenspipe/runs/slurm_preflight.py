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
    # The GPU type of a typed request (``gres: "gpu:a100:1"``, ``gpu_model: a100``), if any.
    gpu_type: str | None = None
    # The sbatch --constraint (``constraint`` resource), if any.
    constraint: str | None = None


@dataclass(frozen=True)
class Partition:
    """The limits of a partition that lenspipe checks (the largest node where they differ)."""

    name: str
    max_minutes: float
    node_mem_mb: int
    gpus_per_node: int
    gpu_types: frozenset[str] = frozenset()
    # The node features (``sinfo %f``) of each kind of node, for --constraint.
    node_features: tuple[frozenset[str], ...] = ()


SINFO_FORMAT = "%R|%l|%m|%G|%f"


def parse_sinfo(text: str) -> dict[str, Partition]:
    """Parse ``sinfo --noheader --format=%R|%l|%m|%G|%f`` (the features column is optional)
    into partitions by name."""
    partitions: dict[str, Partition] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, time_limit, memory, gres, *rest = line.strip().split("|")
        features = rest[0] if rest else "(null)"
        found = Partition(
            name=name,
            max_minutes=parse_time_limit(time_limit),
            node_mem_mb=int(memory.rstrip("+")),
            gpus_per_node=_gpu_count(gres),
            gpu_types=_gpu_types(gres),
            node_features=(_features(features),),
        )
        known = partitions.get(name)
        if known is not None:
            found = Partition(
                name,
                max(known.max_minutes, found.max_minutes),
                max(known.node_mem_mb, found.node_mem_mb),
                max(known.gpus_per_node, found.gpus_per_node),
                known.gpu_types | found.gpu_types,
                known.node_features + found.node_features,
            )
        partitions[name] = found
    return partitions


def gpu_request(resources) -> tuple[int, str | None]:
    """The GPUs a job's resources ask for, in either form the SLURM plugin maps, and their
    type: ``gres: "gpu:1"`` or ``"gpu:a100:2"`` (sbatch --gres) and ``gpu: N`` with an
    optional ``gpu_model`` (sbatch --gpus). ``(0, None)`` when it asks for none."""
    count, gpu_type = 0, None
    gres = str(resources.get("gres") or "")
    for item in filter(None, gres.split(",")):
        fields = item.strip().split(":")
        if fields[0] != "gpu":
            continue
        if len(fields) == 1:
            count += 1
        elif len(fields) == 2:
            count += int(fields[1]) if fields[1].isdigit() else 1
            gpu_type = gpu_type if fields[1].isdigit() else fields[1]
        else:
            count += int(fields[2])
            gpu_type = fields[1]
    gpu = resources.get("gpu")
    if gpu:
        count += int(gpu)
        gpu_type = resources.get("gpu_model") or gpu_type
    elif resources.get("gpu_model"):
        count += 1  # the plugin asks for --gpus=<model>:1
        gpu_type = resources.get("gpu_model")
    return count, gpu_type


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


def _gpu_types(gres: str) -> frozenset[str]:
    """The GPU types in a GRES string: ``{"a100"}`` for ``gpu:a100:4(S:0-1),gpu:2``."""
    return frozenset(re.findall(r"gpu:([^:,(]+):\d+", gres))


def _features(text: str) -> frozenset[str]:
    """The node features in sinfo's ``%f`` column (``(null)`` for none)."""
    if text.strip() in ("", "(null)"):
        return frozenset()
    return frozenset(feature.strip() for feature in text.split(","))


def constraint_met(constraint: str, features: frozenset[str]) -> bool:
    """Whether a node with ``features`` satisfies an sbatch --constraint made of names joined
    by ``&`` (and), ``|`` (or) and ``,`` (and, as sbatch reads it)."""
    alternatives = constraint.replace(",", "&").split("|")
    return any(
        all(name.strip() in features for name in alternative.split("&") if name.strip())
        for alternative in alternatives
    )


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
                f"{where} asks for {request.gpus} GPU(s), but the nodes of partition "
                f"'{partition.name}' have {partition.gpus_per_node} GPUs."
            )
        elif request.gpu_type and request.gpu_type not in partition.gpu_types:
            known = ", ".join(sorted(partition.gpu_types)) or "none named"
            found.append(
                f"{where} asks for GPU type '{request.gpu_type}', which partition "
                f"'{partition.name}' does not have (GPU types: {known})."
            )
        if request.constraint and not any(
            constraint_met(request.constraint, features) for features in partition.node_features
        ):
            known = sorted(set().union(*partition.node_features))
            found.append(
                f"{where} asks for constraint '{request.constraint}', which no node of "
                f"partition '{partition.name}' meets (features: {', '.join(known) or 'none'})."
            )
    return found


def read_partitions() -> dict[str, Partition]:
    """The cluster's partitions, from ``sinfo``."""
    try:
        result = subprocess.run(
            ["sinfo", "--noheader", f"--format={SINFO_FORMAT}"],
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


def check_requests(requests: list[JobRequest]) -> str:
    """Raise SlurmRequestError listing every request the cluster's partitions cannot satisfy;
    return a line saying what was checked when all fit."""
    found = problems(requests, read_partitions())
    if found:
        raise SlurmRequestError(
            "SLURM cannot run these jobs as requested; nothing was submitted:\n  - "
            + "\n  - ".join(found)
            + f"\n{PROFILE_HINT}"
        )
    rules = sorted({request.rule_name for request in requests})
    attempts = max((request.attempt for request in requests), default=0)
    return (
        f"lenspipe: the SLURM requests of {len(rules)} rules, attempts 1-{attempts}, fit the "
        f"cluster's partitions (sinfo): {', '.join(rules)}"
    )
