"""``python -m lenspipe cluster-check``: the profile's requests against a real cluster."""

import os
import subprocess
import sys

import pytest
from conftest import REPO, require_slurm
from lenspipe.runs.cluster_check import load_profile, profile_requests
from lenspipe.runs.local_cluster import AMAREL_PROFILE, local_profile


def test_the_amarel_profile_requests_every_attempt_of_every_rule(monkeypatch):
    monkeypatch.delenv("LENSPIPE_GPU_CONSTRAINT", raising=False)
    requests = profile_requests(load_profile(REPO / "profiles" / "amarel"))
    train = [request for request in requests if request.rule_name == "train/cnn"]
    assert [request.attempt for request in train] == [1, 2, 3, 4]
    assert {(r.partition, r.gpus, r.gpu_type, r.constraint) for r in train} == {
        ("gpu", 1, None, None)
    }
    assert [request.runtime_minutes for request in train] == [360] * 4  # resumes; no escalation
    assert {request.mem_mb for request in train} == {16000}
    naive = [request for request in requests if request.rule_name == "train/naive"]
    assert {(r.partition, r.gpus, r.constraint) for r in naive} == {("main", 0, None)}
    assert "train" not in {request.rule_name for request in requests}
    chunks = [request for request in requests if request.rule_name == "simulate_chunk"]
    assert {(request.partition, request.gpus) for request in chunks} == {("main", 0)}
    assert max(request.runtime_minutes for request in requests) <= 3 * 1440


def cluster_check(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lenspipe", "cluster-check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO / "scripts")},
    )


@pytest.mark.slurm
def test_on_the_local_cluster_it_names_what_does_not_fit_and_says_when_all_fits(tmp_path):
    require_slurm()  # fails under CI=true
    amarel = cluster_check(REPO, "--profile", "profiles/amarel")
    # The local node is smaller than Amarel's: the retries' memory does not fit.
    assert amarel.returncode == 1, amarel.stdout + amarel.stderr
    output = amarel.stdout
    assert "  gpu         14-00:00" in output and "  main        14-00:00" in output
    assert "Account     the profile asks for: general" in output
    assert "your associations: unavailable (sacctmgr failed: " in output  # no accounting here
    assert "  train/cnn                   gpu: runtime 360 -> 360 min" in output
    assert "  train/naive                 main: runtime 360 -> 2880 min" in output
    assert ", 1 GPU" in output
    assert (
        "rule train/naive (attempt 3) asks for mem_mb=64000, more than any node of partition 'main'"
        in output
    )

    adapted = cluster_check(REPO, "--profile", local_profile(tmp_path, REPO / AMAREL_PROFILE))
    assert adapted.returncode == 0, adapted.stdout + adapted.stderr
    assert (
        "Fits        every request above, on every attempt, fits its partition" in adapted.stdout
    )
