"""What ``python -m lenspipe status`` reports, as data: the status of each chunk, attempt and
stage, the progress, and what to resume."""

from dataclasses import dataclass, field

from lenspipe.runs.status.causes import Failure
from lenspipe.runs.status.efficiency import RuleEfficiency

CHUNK_STATES = ("finished", "in_progress", "partial", "failed", "not_started")


@dataclass
class AttemptStatus:
    """One attempt at a job: when it started, where, and how it ended."""

    number: int
    started: str
    slurm_job_id: str | None
    outcome: str  # "finished", "running", or a cause of lenspipe.runs.status.causes.EXPLANATIONS
    failure: Failure | None = None
    platform: str | None = None  # the processor it ran on, when the journal says


@dataclass
class ChunkStatus:
    """One simulate_chunk job."""

    chunk: int
    lenses: int
    state: str  # one of CHUNK_STATES
    saved_lenses: int
    attempts: list[AttemptStatus] = field(default_factory=list)
    slurm_job_id: str | None = None
    slurm_state: str | None = None
    slurm_reason: str | None = None
    failure: Failure | None = None
    note: str | None = None


@dataclass
class StageStatus:
    """One of the stages after the chunks."""

    stage: str
    state: str  # "done", "running", "failed", "interrupted", "ready", "waiting" or "damaged"
    detail: str | None = None
    slurm_job_id: str | None = None
    slurm_state: str | None = None
    failure: Failure | None = None


@dataclass
class Progress:
    """Lenses done, pace and time left."""

    lenses_done: int
    lenses_in_saved_parts: int
    started: str | None
    elapsed_seconds: float | None
    lenses_per_hour: float | None
    eta_seconds: float | None
    job_seconds_per_lens: float | None
    job_hours_left: float | None


@dataclass
class Resume:
    """What to run next, and what it will redo."""

    needed: bool
    command: str | None
    unlock_first: bool
    drivers_running: list[int]
    # The driver that Snakemake's lock belongs to, when it ran on another machine and may
    # still run there (lenspipe.runs.driver_record): host, pid, SLURM job, start, state.
    driver_elsewhere: dict | None
    chunks_to_run: int
    lenses_to_simulate: int
    stages_to_run: list[str]
    advice: list[str]


@dataclass
class CampaignStatus:
    """Everything ``python -m lenspipe status`` reports."""

    run_name: str
    run_dir: str
    as_of: str
    n_lenses: int
    chunk_size: int
    slurm_problem: str | None  # why SLURM could not be asked; None when it answered
    counts: dict[str, int]
    chunks: list[ChunkStatus]
    stages: list[StageStatus]
    progress: Progress
    efficiency: list[RuleEfficiency]
    resume: Resume
    # Chunks simulated (at least in part) on each processor type, from the journals: data
    # bytes are reproducible per processor type (see the README on determinism).
    platforms: dict[str, int] = field(default_factory=dict)
    # Tasks of chunk job arrays (--slurm-array-jobs) that SLURM holds but that have not yet
    # said which chunk they run: id, state and reason of each.
    queued_array_tasks: list[dict[str, str]] = field(default_factory=list)
