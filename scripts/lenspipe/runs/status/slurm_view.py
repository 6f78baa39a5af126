"""SLURM as the status command sees it: squeue once per status, sacct once for the jobs squeue
has forgotten."""

from pathlib import Path

from lenspipe.runs.status.slurm import (
    ACTIVE_STATES,
    SlurmJob,
    SlurmUnavailable,
    sacct_states,
    squeue_jobs,
)


class SlurmView:
    """squeue once per status; sacct once for the jobs squeue has forgotten."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.problem: str | None = None
        self.jobs: list[SlurmJob] | None = None
        try:
            self.jobs = squeue_jobs(workdir)
        except SlurmUnavailable as error:
            self.problem = str(error)
        self.states = {job.job_id: job.state for job in self.jobs or []}
        self.wanted: set[str] = set()
        self.seen_slurm = False

    def active_job(self, rule: str, wildcards: str) -> SlurmJob | None:
        for job in self.jobs or []:
            if (job.rule, job.wildcards) == (rule, wildcards) and job.state in ACTIVE_STATES:
                return job
        return None

    def unclaimed_array_tasks(self, rule: str, claimed: set[str]) -> list[SlurmJob]:
        """Active tasks of ``rule``'s job arrays that no attempt names yet: queued, or just
        starting. (Their comment names the array's first job, not theirs.)"""
        return [
            job
            for job in self.jobs or []
            if job.rule == rule
            and job.array_task
            and job.state in ACTIVE_STATES
            and job.job_id not in claimed
        ]

    def want(self, job_id: str | None) -> None:
        if job_id is not None:
            self.seen_slurm = True
            if job_id not in self.states:
                self.wanted.add(job_id)

    def resolve_states(self) -> None:
        if self.jobs is not None and self.wanted:
            self.states.update(sacct_states(sorted(self.wanted)) or {})
        self.wanted.clear()

    def state(self, job_id: str | None) -> str | None:
        return self.states.get(job_id) if job_id else None
