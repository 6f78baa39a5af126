"""Requested versus used runtime and memory per rule, and what to ask for instead.

"Used" comes from Snakemake's benchmark file of each finished job (wall time ``s`` and peak
resident memory ``max_rss`` in MB); "requested" from the record at the top of the job's log
(``lenspipe.runs.job_record``). Requests are compared only for jobs that ran under SLURM: a local
run does not enforce them.
"""

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from lenspipe.learning.variants import GPU_MODELS

# Flag a rule when its largest job used less than this share of a request ...
OVERSIZED_BELOW = 0.25
# ... or more than this share (a job at its limit is one noisy node away from failing).
NEAR_LIMIT_ABOVE = 0.75
# Suggestions: the largest use times these margins, and never below these floors.
RUNTIME_MARGIN, MEMORY_MARGIN = 2.0, 1.5
RUNTIME_FLOOR_MINUTES, MEMORY_FLOOR_MB = 10, 1000


@dataclass
class JobUse:
    """What one finished job asked for and used."""

    wall_seconds: float
    max_rss_mb: float | None
    runtime_minutes: float | None
    mem_mb: float | None
    on_slurm: bool


@dataclass
class RuleEfficiency:
    """Requested versus used resources over a rule's finished jobs, with advice."""

    rule: str
    jobs: int
    longest_minutes: float
    largest_rss_mb: float | None
    runtime_requested_minutes: float | None = None
    mem_requested_mb: float | None = None
    runtime_share: float | None = None
    memory_share: float | None = None
    retried_for: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    suggested_runtime_minutes: int | None = None
    suggested_mem_mb: int | None = None


def read_benchmark(path: Path) -> tuple[float, float | None] | None:
    """(wall seconds, peak RSS in MB) from a Snakemake benchmark file; None if unreadable."""
    try:
        with path.open() as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError:
        return None
    if not rows:
        return None
    try:
        wall = float(rows[-1]["s"])
    except (KeyError, ValueError):
        return None
    try:
        rss = float(rows[-1]["max_rss"])
    except (KeyError, ValueError):
        rss = None
    return wall, rss


def rule_efficiency(rule: str, uses: list[JobUse], retried_for: list[str]) -> RuleEfficiency:
    """Summarise a rule's finished jobs; ``retried_for`` lists the causes of earlier failed
    attempts (TIMEOUT, OUT_OF_MEMORY, ...) of its jobs."""
    longest = max(use.wall_seconds for use in uses) / 60
    rss_values = [use.max_rss_mb for use in uses if use.max_rss_mb is not None]
    largest_rss = max(rss_values) if rss_values else None
    summary = RuleEfficiency(rule, len(uses), longest, largest_rss, retried_for=retried_for)
    on_slurm = [use for use in uses if use.on_slurm]
    runtime_requests = [use.runtime_minutes for use in on_slurm if use.runtime_minutes]
    memory_requests = [use.mem_mb for use in on_slurm if use.mem_mb]
    if runtime_requests:
        summary.runtime_requested_minutes = min(runtime_requests)
        summary.runtime_share = longest / summary.runtime_requested_minutes
    if memory_requests and largest_rss is not None:
        summary.mem_requested_mb = min(memory_requests)
        summary.memory_share = largest_rss / summary.mem_requested_mb
    _judge(summary)
    return summary


def _judge(summary: RuleEfficiency) -> None:
    """Fill in the verdicts and, where one is off, the requests to use instead."""
    runtime_off = _judge_share(summary, "runtime", summary.runtime_share, "TIMEOUT")
    memory_off = _judge_share(summary, "memory", summary.memory_share, "OUT_OF_MEMORY")
    if runtime_off:
        minutes = summary.longest_minutes * RUNTIME_MARGIN
        suggested = max(RUNTIME_FLOOR_MINUTES, 5 * math.ceil(minutes / 5))
        if suggested != summary.runtime_requested_minutes:
            summary.suggested_runtime_minutes = suggested
    if memory_off and summary.largest_rss_mb is not None:
        megabytes = summary.largest_rss_mb * MEMORY_MARGIN
        suggested = max(MEMORY_FLOOR_MB, 500 * math.ceil(megabytes / 500))
        if suggested != summary.mem_requested_mb:
            summary.suggested_mem_mb = suggested


def _judge_share(
    summary: RuleEfficiency, resource: str, share: float | None, retry_cause: str
) -> bool:
    """Add the verdicts on one resource; True when its request should change."""
    verdicts = []
    if share is not None and share < OVERSIZED_BELOW:
        verdicts.append(f"{resource} oversized")
    elif share is not None and share > NEAR_LIMIT_ABOVE:
        verdicts.append(f"{resource} near its limit")
    if retry_cause in summary.retried_for:
        verdicts.append(f"needed more {resource} than its first request")
    summary.verdicts += verdicts
    return bool(verdicts)


GPU_RULES = ("train_subset",)
"""Rules every job of which the Amarel profile sends to its GPU partition; the train rule
sends the models of ``GPU_MODELS`` there (its efficiency is reported per model)."""
FIRST_REQUEST = {"runtime": 360, "mem_mb": 16000}
"""The Amarel profile's first request for a training job, for a model with no measured one."""


def efficiency_key(rule: str, wildcards: dict[str, str]) -> str:
    """The row a job's use is summed in: per model for the train rule, whose models ask for
    different resources (a GPU, or CPUs), else per rule."""
    return f"{rule}/{wildcards['model']}" if rule == "train" else rule


def profile_lines(summaries: list[RuleEfficiency]) -> list[str]:
    """``set-resources`` lines for the Amarel profile that apply the suggestions.

    They keep the profile's form: a CPU job's first request doubled on each retry and capped
    at the partition's limit by the profile's own ``runtime`` helper; a GPU job's the same on
    every attempt; the train rule's chosen per model (``per_model_expression``).
    """
    lines = []
    for summary in summaries:
        if summary.rule.startswith("train/"):
            continue
        on_gpu = summary.rule in GPU_RULES
        runtime, memory = _suggested(summary, "runtime"), _suggested(summary, "mem_mb")
        entries = [
            f"    {name}: {_request(name, value, on_gpu)}"
            for name, value in (("runtime", runtime), ("mem_mb", memory))
            if value is not None
        ]
        if entries:
            lines += [f"  {summary.rule}:", *entries]
    lines += _train_lines(
        {s.rule[len("train/") :]: s for s in summaries if s.rule.startswith("train/")}
    )
    return ["set-resources:", *lines] if lines else []


def _suggested(summary: RuleEfficiency, name: str) -> int | None:
    return summary.suggested_runtime_minutes if name == "runtime" else summary.suggested_mem_mb


def _requested(summary: RuleEfficiency | None, name: str) -> int:
    """A model's suggestion, else its measured first request, else the profile's."""
    if summary is not None:
        suggested = _suggested(summary, name)
        requested = (
            summary.runtime_requested_minutes if name == "runtime" else summary.mem_requested_mb
        )
        if suggested is not None or requested:
            return int(suggested if suggested is not None else requested)
    return FIRST_REQUEST[name]


def _request(name: str, value: int, on_gpu: bool, quoted: bool = True) -> str:
    """The profile's form of a first request ``value`` of resource ``name``."""
    if on_gpu:
        return str(value)
    if name == "runtime":
        return f"?runtime({value})"
    expression = f"min({value} * 2 ** (attempt - 1), {max(32000, 2 * value)})"
    return f'"{expression}"' if quoted else expression


def _train_lines(by_model: dict[str, RuleEfficiency]) -> list[str]:
    """The train rule's lines when a model of it has a suggestion: each resource chosen per
    model, a GPU model's the same on every attempt."""
    if not any(
        _suggested(summary, name) is not None
        for summary in by_model.values()
        for name in FIRST_REQUEST
    ):
        return []
    gpu = next((by_model.get(model) for model in GPU_MODELS), None)
    cpu = next((summary for model, summary in by_model.items() if model not in GPU_MODELS), None)
    runtime_cpu = f"runtime({_requested(cpu, 'runtime')}, CPU_PARTITION)"
    memory_cpu = _request("mem_mb", _requested(cpu, "mem_mb"), on_gpu=False, quoted=False)
    return [
        "  train:",
        f"    runtime: ?per_model_expression({_requested(gpu, 'runtime')}, {runtime_cpu})",
        f'    mem_mb: ?per_model_expression({_requested(gpu, "mem_mb")}, "{memory_cpu}")',
    ]
