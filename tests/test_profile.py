"""The Amarel profile: what it asks SLURM for, on each attempt, and where the account comes from."""

import re
from types import SimpleNamespace

import pytest
import yte
from conftest import REPO
from lenspipe.learning.variants import GPU_MODELS, MAIN_MODEL, MODELS
from lenspipe.runs.status.efficiency import GPU_RULES
from workflow_helpers import copy_workflow, job_counts, snakemake

PROFILE = REPO / "profiles" / "amarel" / "config.v9+.yaml"
# Amarel's wall-time limit on main, gpu, mem and nonpre (`sinfo`, 2026): 3 days.
PARTITION_LIMIT_MINUTES = 3 * 24 * 60


def load_profile() -> dict:
    """The profile as Snakemake reads it (YTE templating applied)."""
    with PROFILE.open() as stream:
        return yte.process_yaml(stream, require_use_yte=True)


def resource(profile: dict, rule: str, name: str):
    return profile["set-resources"].get(rule, {}).get(name, profile["default-resources"][name])


def evaluate(expression, attempt: int, model: str = "naive") -> int:
    """A resource as Snakemake evaluates it for a job (of ``model``, for the train rule)."""
    namespace = {"attempt": attempt, "min": min, "wildcards": SimpleNamespace(model=model)}
    return eval(str(expression), namespace)


GPU_JOBS = [("train", MAIN_MODEL), ("train_subset", MAIN_MODEL)]
"""Jobs that train on a GPU (the rule and the model)."""


def for_model(value: str, model: str) -> str:
    """A resource of the profile for a job of ``model``, as Snakemake evaluates it (a plain
    string that is no expression stays itself)."""
    try:
        return eval(str(value), {"wildcards": SimpleNamespace(model=model)})
    except (NameError, SyntaxError):
        return value


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


def test_the_driver_uses_one_core_of_the_login_node_and_renders_no_gallery():
    assert load_profile()["local-cores"] == 1
    snakefile = (REPO / "Snakefile").read_text()
    local = re.search(r"^localrules:\n((?:    \w+,\n)+)", snakefile, re.M).group(1).split()
    assert "compare," in local and "all," in local
    assert not [rule for rule in local if "gallery" in rule]  # about 20 s each: SLURM jobs


def test_every_cpu_runtime_is_capped_at_its_partitions_three_day_limit():
    profile = load_profile()
    rules = set(profile["set-threads"]) | set(profile["set-resources"])
    for rule in rules - {"train_subset"}:
        assert evaluate(resource(profile, rule, "runtime"), 20) == PARTITION_LIMIT_MINUTES, rule


def test_a_gpu_job_asks_for_the_same_on_every_attempt():
    """A training that times out resumes at its epoch; a node whose GPU TensorFlow cannot see
    fails each attempt in seconds: neither is helped by a longer request in the gpu queue."""
    profile = load_profile()
    for rule, model in GPU_JOBS:
        for name in ("runtime", "mem_mb"):
            values = {evaluate(resource(profile, rule, name), k, model) for k in range(1, 5)}
            assert len(values) == 1, (rule, name, values)
        assert evaluate(resource(profile, rule, "runtime"), 1, model) <= PARTITION_LIMIT_MINUTES


def test_partition_limits_are_written_in_one_place():
    # Every runtime goes through the one helper over PARTITION_MAX_MINUTES; no cap is repeated.
    text = PROFILE.read_text()
    assert text.count("PARTITION_MAX_MINUTES = ") == 1
    assert not re.search(r"\b(4320|20160)\b", text)
    runtimes = re.findall(r"^\s*runtime: (.*)$", text, re.M)
    capped = [value for value in runtimes if not value.isdigit()]  # the GPU jobs' constant
    assert capped and all(
        re.match(r"\?(per_model_expression\(\d+, )?runtime\(", value) for value in capped
    ), runtimes


def test_gpu_jobs_ask_with_gres_on_the_gpu_partition_and_no_constraint_by_default(monkeypatch):
    monkeypatch.delenv("LENSPIPE_GPU_CONSTRAINT", raising=False)
    profile = load_profile()
    jobs = [("train", model) for model in MODELS] + [("train_subset", MAIN_MODEL)]
    for rule, model in jobs:
        resources = {
            name: for_model(value, model) for name, value in profile["set-resources"][rule].items()
        }
        # The CNN trains on a GPU; the naive model, a baseline, on the CPU partition.
        on_gpu = model == MAIN_MODEL
        assert resources["slurm_partition"] == ("gpu" if on_gpu else "main"), (rule, model)
        # None: Snakemake leaves the resource unset, so sbatch gets no --gres at all.
        assert resources["gres"] == ("gpu:1" if on_gpu else None), (rule, model)
        # `gpu: N` would become --gpus=N, which clusters without that option refuse.
        assert "gpu" not in resources and "gpu_model" not in resources
        assert "constraint" not in resources
    assert "gres" not in profile["default-resources"]
    # The status command's suggestions keep these rules' GPU jobs at one request.
    on_gpus = {
        rule
        for rule, resources in profile["set-resources"].items()
        if "gpu" in str(resources.get("slurm_partition"))
    }
    assert on_gpus == {"train", *GPU_RULES}
    # The profile's GPU_MODELS are the registry's.
    assert re.search(r"GPU_MODELS = (\[.*\])", PROFILE.read_text()).group(1) == str(
        list(GPU_MODELS)
    ).replace("'", '"')


def test_the_gpu_constraint_is_set_in_one_place_for_gpu_jobs_only(monkeypatch):
    monkeypatch.setenv("LENSPIPE_GPU_CONSTRAINT", "ampere")
    profile = load_profile()
    for rule, resources in profile["set-resources"].items():
        # Only the train rule's jobs differ by model.
        for model in MODELS if rule == "train" else [MAIN_MODEL]:
            constraint = resources.get("constraint")
            if (rule in GPU_RULES or rule == "train") and model in GPU_MODELS:
                expected = "ampere"
            else:  # unset: the plugin would pass an empty string on as sbatch -C ''
                expected = None
            assert (constraint and for_model(constraint, model)) == expected, (rule, model)
    assert "constraint" not in profile["default-resources"]


def test_the_plugins_efficiency_report_is_on_and_written_outside_the_results():
    profile = load_profile()
    assert profile["slurm-efficiency-report"] is True
    assert profile["slurm-efficiency-report-path"] == "slurm_efficiency"


def test_the_status_check_interval_the_plugin_overrides_is_not_set():
    assert "seconds-between-status-checks" not in load_profile()


def test_the_account_is_general_unless_sbatch_account_names_another(monkeypatch):
    monkeypatch.delenv("SBATCH_ACCOUNT", raising=False)
    assert load_profile()["default-resources"]["slurm_account"] == "general"
    monkeypatch.setenv("SBATCH_ACCOUNT", "astro_group")
    assert load_profile()["default-resources"]["slurm_account"] == "astro_group"


@pytest.mark.workflow
def test_dry_run_with_the_profile_shows_each_jobs_slurm_resources(tmp_path, monkeypatch):
    monkeypatch.delenv("SBATCH_ACCOUNT", raising=False)
    monkeypatch.setenv("LENSPIPE_GPU_CONSTRAINT", "ampere")
    result = snakemake("--profile", "profiles/amarel", "-n", cwd=copy_workflow(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert job_counts(output)["simulate_chunk"] == 10
    chunk_jobs = output.split("rule simulate_chunk:")[1:]
    assert len(chunk_jobs) == 10
    assert all("slurm_partition=main, slurm_account=general, runtime=30" in j for j in chunk_jobs)
    train_jobs = {
        re.search(r"wildcards: model=(\w+)", job).group(1): job
        for job in (job.split("\nrule ")[0] for job in output.split("rule train:")[1:])
    }
    assert set(train_jobs) == set(MODELS)
    cnn = "slurm_partition=gpu, slurm_account=general, runtime=360, gres=gpu:1, constraint=ampere"
    assert cnn in train_jobs["cnn"]
    naive = "slurm_partition=main, slurm_account=general, runtime=360"
    # The CPU model's job has neither resource, not even empty (sbatch --gres= or -C '').
    assert naive in train_jobs["naive"]
    assert "gres=" not in train_jobs["naive"] and "constraint=" not in train_jobs["naive"]
    assert not (tmp_path / "results").exists()
