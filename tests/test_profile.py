"""The Amarel profile: what it asks SLURM for, on each attempt, and where the account comes from."""

import pytest
import yte
from conftest import REPO
from workflow_helpers import copy_workflow, job_counts, snakemake

PROFILE = REPO / "profiles" / "amarel" / "config.v9+.yaml"
PARTITION_LIMIT_MINUTES = 14 * 24 * 60


def load_profile() -> dict:
    """The profile as Snakemake reads it (YTE templating applied)."""
    with PROFILE.open() as stream:
        return yte.process_yaml(stream, require_use_yte=True)


def resource(profile: dict, rule: str, name: str):
    return profile["set-resources"].get(rule, {}).get(name, profile["default-resources"][name])


def evaluate(expression, attempt: int) -> int:
    return eval(str(expression), {"attempt": attempt, "min": min})


@pytest.mark.parametrize(
    "rule", ["simulate_chunk", "consolidate", "normalise", "train", "evaluate"]
)
def test_runtime_and_memory_double_on_each_retry_up_to_a_cap(rule):
    profile = load_profile()
    attempts = range(1, profile["retries"] + 2)
    for name, cap in (("runtime", PARTITION_LIMIT_MINUTES), ("mem_mb", 64000)):
        values = [evaluate(resource(profile, rule, name), attempt) for attempt in attempts]
        assert all(value <= cap for value in values), (name, values)
        for before, after in zip(values, values[1:]):
            assert before <= after <= 2 * before, (name, values)
        assert values[1] == 2 * values[0], (name, values)


def test_retries_resume_and_requeue_are_on():
    profile = load_profile()
    assert profile["executor"] == "slurm"
    assert profile["retries"] >= 2
    assert profile["rerun-incomplete"] and profile["keep-going"] and profile["slurm-requeue"]
    assert profile["set-resources"]["train"]["slurm_partition"] == "gpu"
    assert profile["set-resources"]["train"]["gpu"] == 1


def test_the_account_comes_from_sbatch_account_when_set(monkeypatch):
    monkeypatch.delenv("SBATCH_ACCOUNT", raising=False)
    assert "slurm_account" not in load_profile()["default-resources"]
    monkeypatch.setenv("SBATCH_ACCOUNT", "astro_group")
    assert load_profile()["default-resources"]["slurm_account"] == "astro_group"


@pytest.mark.workflow
def test_dry_run_with_the_profile_shows_each_jobs_slurm_resources(tmp_path):
    result = snakemake("--profile", "profiles/amarel", "-n", cwd=copy_workflow(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert job_counts(output)["simulate_chunk"] == 10
    chunk_jobs = output.split("rule simulate_chunk:")[1:]
    assert len(chunk_jobs) == 10
    assert all("slurm_partition=main, runtime=30" in job for job in chunk_jobs)
    train_job = output.split("rule train:")[1].split("rule ")[0]
    assert "slurm_partition=gpu, runtime=360, gpu=1" in train_job
    assert not (tmp_path / "results").exists()
