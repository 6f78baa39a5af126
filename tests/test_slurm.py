"""The Amarel profile on a real SLURM cluster on localhost (scripts/start_slurm.sh).

Each test runs the real workflow through the `slurm` executor plugin with the Amarel profile,
changing only what differs on the local one-node cluster (see ``local_profile``).
"""

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL, require_slurm
from lenspipe.runs.local_cluster import local_profile
from workflow_helpers import (
    job_counts,
    lenspipe_status,
    locked_by,
    snakemake,
    start_driver,
    status_report,
    wait_for,
    workflow_with_config,
)

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module", autouse=True)
def slurm_cluster():
    """Require the local SLURM cluster: fail in CI, skip with the fix elsewhere."""
    require_slurm()


def local_reference(tmp_path: Path, name: str, target: str, **changes) -> Path:
    """Run ``target`` of TINY plus ``changes`` locally, without SLURM; return the run folder."""
    workdir = workflow_with_config(tmp_path, name, **changes)
    result = snakemake(
        f"results/{name}/{target}", "--cores", "2", "--configfile", "config/test.yaml", cwd=workdir
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "results" / name


def run_args(target: str, profile: str) -> list[str]:
    return [target, "--profile", profile, "--configfile", "config/test.yaml"]


def slurm_jobs(workdir: Path) -> list[dict[str, str]]:
    """This workflow copy's SLURM jobs still known to squeue: id, state and rule comment."""
    lines = subprocess.run(
        ["squeue", "--noheader", "--states=all", "--format=%i|%T|%k|%Z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    jobs = [dict(zip(("id", "state", "comment", "workdir"), line.split("|"))) for line in lines]
    return [job for job in jobs if Path(job["workdir"]) == workdir]


def active_jobs(workdir: Path, rule: str) -> list[dict[str, str]]:
    return [
        job
        for job in slurm_jobs(workdir)
        if job["comment"].startswith(f"rule_{rule}")
        and job["state"] in ("PENDING", "RUNNING", "COMPLETING")
    ]


def store_bytes(run_dir: Path) -> dict[str, bytes]:
    """Every file of the zarr store and the parameter table, by relative path."""
    files = [path for path in (run_dir / "lenses.zarr").rglob("*") if path.is_file()]
    files.append(run_dir / "parameters.parquet")
    return {str(path.relative_to(run_dir)): path.read_bytes() for path in sorted(files)}


def requeue(job_id: str) -> None:
    """``scontrol requeue``, as preemption does, then release the job from the two minutes
    SLURM makes a requeued job wait (its BeginTime), so the test does not wait for them."""
    subprocess.run(["scontrol", "requeue", job_id], check=True)

    def pending() -> bool:
        state = subprocess.run(
            ["squeue", "--noheader", "--jobs", job_id, "--format=%T"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return state == "PENDING"

    wait_for(pending, f"job {job_id} to be pending again", 120, 0.2)
    subprocess.run(["scontrol", "update", f"jobid={job_id}", "StartTime=now"], check=True)


def test_timed_out_chunk_is_resubmitted_with_more_time_and_resumes(tmp_path):
    # 20 lenses at 6 s each need 2 minutes; the first attempt gets 1.
    workdir = workflow_with_config(
        tmp_path, "timeout", n_lenses=20, chunk_size=20, testing={"seconds_per_lens": 6.0}
    )
    profile = local_profile(
        workdir,
        **{"set-resources": {"simulate_chunk": {"runtime": "min(2 ** (attempt - 1), 20160)"}}},
    )
    chunk = "results/timeout/chunks/chunk_00000.npz"
    driver = start_driver(workdir, *run_args(chunk, profile))

    # While the retry runs, the status command names the first attempt's cause and log.
    def retried():
        report = status_report(workdir, "config/test.yaml", "--profile", profile)
        attempts = report["chunks"][0]["attempts"]
        timed_out = attempts and attempts[0]["outcome"] == "TIMEOUT"
        return report if timed_out and report["counts"]["in_progress"] == 1 else None

    report = wait_for(retried, "the status to show the timed-out attempt", 400, 2, driver)
    chunk_status = report["chunks"][0]
    assert chunk_status["slurm_state"] in ("PENDING", "RUNNING")
    first = chunk_status["attempts"][0]
    assert chunk_status["slurm_job_id"] != first["slurm_job_id"]
    log = f".snakemake/slurm_logs/rule_simulate_chunk/00000/{first['slurm_job_id']}.log"
    assert first["failure"]["log"] == log
    assert "DUE TO TIME LIMIT" in (workdir / log).read_text()
    assert chunk_status["saved_lenses"] >= 5
    assert report["resume"]["drivers_running"] == [driver.pid]

    driver.wait(timeout=600)
    output = driver.log_path.read_text()
    assert driver.returncode == 0, output[-3000:]
    assert "SLURM status is: 'TIMEOUT'" in output
    assert "runtime=1" in output and "runtime=2" in output
    # The profile's efficiency report needs sacct, which this cluster lacks: said, no report.
    assert "Failed to retrieve job data for workflow" in output
    assert not (workdir / "slurm_efficiency").exists()

    # After the run: finished on the second attempt, and the profile's first request too small.
    after = status_report(workdir, "config/test.yaml", "--profile", profile)
    assert after["counts"]["finished"] == 1
    assert [a["outcome"] for a in after["chunks"][0]["attempts"]] == ["TIMEOUT", "finished"]
    # The plugin deleted the successful attempt's SLURM log; the status does not need it.
    second = after["chunks"][0]["attempts"][1]["slurm_job_id"]
    assert not (workdir / f".snakemake/slurm_logs/rule_simulate_chunk/00000/{second}.log").exists()
    (chunk_use,) = after["efficiency"]
    assert chunk_use["runtime_requested_minutes"] == 2
    assert "needed more runtime than its first request" in chunk_use["verdicts"]
    assert chunk_use["suggested_runtime_minutes"] >= 2
    journal = (workdir / "results/timeout/work/chunks/chunk_00000/journal.txt").read_text()
    starts = [line for line in journal.splitlines() if "attempt started" in line]
    assert len(starts) >= 2, journal
    saved_before_retry = int(starts[1].split("attempt started: ")[1].split(" of ")[0])
    assert 5 <= saved_before_retry < 20, journal

    reference = local_reference(
        tmp_path, "reference", "chunks/chunk_00000.npz", n_lenses=20, chunk_size=20
    )
    assert (workdir / chunk).read_bytes() == (reference / "chunks/chunk_00000.npz").read_bytes()


def test_rerun_after_the_driver_was_killed_redoes_only_unfinished_chunks(tmp_path):
    workdir = workflow_with_config(tmp_path, "killed")
    # Two jobs at a time, so chunks 2 and 3 are not yet submitted when the driver dies.
    profile = local_profile(workdir, jobs=2)
    args = run_args("results/killed/lenses.zarr", profile)
    driver = start_driver(workdir, *args)
    wait_for(lambda: active_jobs(workdir, "simulate_chunk"), "the first chunk jobs", driver=driver)
    os.killpg(driver.pid, signal.SIGKILL)  # a lost login session, an OOM kill
    driver.wait()

    # The jobs it had submitted run on without it; wait until SLURM is done with them.
    wait_for(lambda: not active_jobs(workdir, "simulate_chunk"), "the orphaned jobs", 300)
    chunks = workdir / "results/killed/chunks"
    finished = {path.name: path.stat() for path in chunks.glob("chunk_*.npz")}
    assert 0 < len(finished) < 4, finished
    finished_bytes = {name: (chunks / name).read_bytes() for name in finished}

    # A killed driver leaves its lock behind: unlock, then the same command.
    assert snakemake(*args, "--unlock", cwd=workdir).returncode == 0
    result = snakemake(*args, cwd=workdir)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert job_counts(output)["simulate_chunk"] == 4 - len(finished)
    for name, stat in finished.items():
        after = (chunks / name).stat()
        assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns), name
        assert (chunks / name).read_bytes() == finished_bytes[name]

    reference = local_reference(tmp_path, "killed-reference", "lenses.zarr")
    assert store_bytes(workdir / "results/killed") == store_bytes(reference)


def test_cancelled_chunk_job_leaves_no_chunk_and_is_repaired(tmp_path):
    workdir = workflow_with_config(
        tmp_path, "cancelled", n_lenses=20, chunk_size=20, testing={"seconds_per_lens": 0.5}
    )
    profile = local_profile(workdir)
    args = run_args("results/cancelled/lenses.zarr", profile)
    driver = start_driver(workdir, *args)
    work = workdir / "results/cancelled/work/chunks/chunk_00000"
    wait_for(lambda: list(work.glob("lenses_*.npz")), "a saved part", 300, 0.1, driver)
    job = active_jobs(workdir, "simulate_chunk")[0]
    subprocess.run(["scancel", job["id"]], check=True)
    wait_for(
        lambda: not any(j["id"] == job["id"] for j in active_jobs(workdir, "simulate_chunk")),
        "the cancelled job to end",
        60,
        0.1,
    )
    # Nothing that a later step reads: no chunk file, no store.
    assert not (workdir / "results/cancelled/chunks/chunk_00000.npz").exists()
    assert not (workdir / "results/cancelled/lenses.zarr").exists()

    driver.wait(timeout=600)
    output = (workdir / "driver.log").read_text()
    assert driver.returncode == 0, output[-3000:]
    assert "SLURM status is: 'CANCELLED'" in output
    journal = (work / "journal.txt").read_text()
    starts = [line for line in journal.splitlines() if "attempt started" in line]
    assert len(starts) == 2 and " 0 of 20" not in starts[1], journal

    reference = local_reference(
        tmp_path, "cancelled-reference", "lenses.zarr", n_lenses=20, chunk_size=20
    )
    assert store_bytes(workdir / "results/cancelled") == store_bytes(reference)


def test_requeued_chunk_job_resumes_and_ends_byte_identical(tmp_path):
    """``scontrol requeue`` (what preemption does with the profile's --requeue): the same job
    starts again, resumes from its saved parts, and the store is the uninterrupted one's."""
    workdir = workflow_with_config(
        tmp_path, "requeued", n_lenses=20, chunk_size=20, testing={"seconds_per_lens": 0.5}
    )
    profile = local_profile(workdir)
    args = run_args("results/requeued/lenses.zarr", profile)
    driver = start_driver(workdir, *args)
    work = workdir / "results/requeued/work/chunks/chunk_00000"
    wait_for(lambda: list(work.glob("lenses_*.npz")), "a saved part", 300, 0.1, driver)
    (job,) = active_jobs(workdir, "simulate_chunk")
    requeue(job["id"])

    driver.wait(timeout=600)
    output = (workdir / "driver.log").read_text()
    assert driver.returncode == 0, output[-3000:]
    journal = (work / "journal.txt").read_text()
    starts = [line for line in journal.splitlines() if "attempt started" in line]
    assert len(starts) == 2 and " 0 of 20" not in starts[1], journal
    assert all(f"[SLURM job {job['id']}]" in line for line in starts), journal

    reference = local_reference(
        tmp_path, "requeued-reference", "lenses.zarr", n_lenses=20, chunk_size=20
    )
    assert store_bytes(workdir / "results/requeued") == store_bytes(reference)


def test_chunks_submitted_as_a_job_array_are_followed_by_status_and_repaired(tmp_path):
    """``--slurm-array-jobs simulate_chunk``: the four chunks go to SLURM as one job array.
    Status names the chunk of each running task and counts the queued ones (whose comment is
    the array's first job's), reads a cancelled task's ``%A_%a`` log for its cause, and the
    retry ends in the uninterrupted store."""
    # A minute a chunk: long enough to see two tasks running while the other tests load the
    # machine (scripts/run_tests.sh runs them beside these).
    workdir = workflow_with_config(tmp_path, "array", testing={"seconds_per_lens": 6.0})
    profile = local_profile(workdir)
    args = run_args("results/array/lenses.zarr", profile) + [
        "--slurm-array-jobs",
        "simulate_chunk",
    ]
    driver = start_driver(workdir, *args)

    # The node has 2 CPUs: two tasks run, two wait.
    def two_running_two_queued():
        report = status_report(workdir, "config/test.yaml", "--profile", profile)
        running = [chunk for chunk in report["chunks"] if chunk["state"] == "in_progress"]
        queued = report["queued_array_tasks"]
        return (report, running) if len(running) == 2 and len(queued) == 2 else None

    report, running = wait_for(two_running_two_queued, "2 running and 2 queued tasks", 300, 0.5)
    ids = [chunk["slurm_job_id"] for chunk in running]
    ids += [task["slurm_job_id"] for task in report["queued_array_tasks"]]
    array = ids[0].split("_")[0]
    assert sorted(ids) == [f"{array}_{task}" for task in (1, 2, 3, 4)], ids
    assert all(task["state"] == "PENDING" for task in report["queued_array_tasks"])
    assert report["counts"]["not_started"] == 2
    assert report["resume"]["drivers_running"] == [driver.pid]
    text = lenspipe_status(workdir, "config/test.yaml", "--profile", profile).stdout
    assert f"Queued      2 chunk jobs in SLURM job array {array}: 2 PENDING" in text, text

    # Cancel a running task other than the first: its attempt fails with the cause its own
    # log gives. (Not the first: the plugin's other tasks check the first task's outputs, so
    # they would fail with it; snakemake-executor-plugin-slurm issue 447.)
    (cancelled,) = [chunk for chunk in running if not chunk["slurm_job_id"].endswith("_1")]
    subprocess.run(["scancel", cancelled["slurm_job_id"]], check=True)

    def cancelled_attempt():
        report = status_report(workdir, "config/test.yaml", "--profile", profile)
        (chunk,) = [c for c in report["chunks"] if c["chunk"] == cancelled["chunk"]]
        first = chunk["attempts"][0]
        return first if first["outcome"] == "CANCELLED" else None

    first = wait_for(cancelled_attempt, "the status to show the cancelled task", 300, 0.5)
    log = f".snakemake/slurm_logs/rule_simulate_chunk/{cancelled['slurm_job_id']}.log"
    assert first["failure"]["log"] == log
    assert "CANCELLED AT" in (workdir / log).read_text()

    driver.wait(timeout=600)
    output = driver.log_path.read_text()
    assert driver.returncode == 0, output[-3000:]
    assert f"SLURM job ID {array}. The individual task IDs are 1-4." in output
    after = status_report(workdir, "config/test.yaml", "--profile", profile)
    assert after["counts"]["finished"] == 4 and after["queued_array_tasks"] == []
    outcomes = {c["chunk"]: [a["outcome"] for a in c["attempts"]] for c in after["chunks"]}
    assert outcomes.pop(cancelled["chunk"]) == ["CANCELLED", "finished"]
    assert all(history == ["finished"] for history in outcomes.values()), outcomes

    reference = local_reference(tmp_path, "array-reference", "lenses.zarr")
    assert store_bytes(workdir / "results/array") == store_bytes(reference)


EPOCHS = 8
# The trained CNN, in a run folder.
CNN_MODEL = "models/cnn/model.keras"
TRAINING_RUN = {
    "n_lenses": 400,
    "chunk_size": 200,
    "checkpoint_every": 200,
    # The local node's GPU is a counted GRES without a device: TensorFlow sees none.
    "training": {
        "epochs": EPOCHS,
        "early_stopping_patience": EPOCHS,
        "allow_cpu_fallback": True,
    },
}


@pytest.fixture(scope="module")
def uninterrupted_histories(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Loss histories of the training run never interrupted, and of the same run on another
    draw of the lenses (the run-to-run spread), trained locally without SLURM."""
    tmp_path = tmp_path_factory.mktemp("uninterrupted")

    def history(name: str, **changes) -> pd.DataFrame:
        run = local_reference(tmp_path, name, CNN_MODEL, **TRAINING_RUN, **changes)
        return pd.read_csv(run / "models/cnn/history.csv").set_index("epoch")

    return history("uninterrupted"), history("other-lenses", seed=SMALL["seed"] + 1)


@pytest.mark.parametrize("stop", ["scancel", "scontrol requeue"])
def test_stopped_training_job_resumes_with_continuous_losses(
    tmp_path, stop, uninterrupted_histories
):
    """A cancelled (then retried) or requeued training job resumes at the epoch it reached,
    and its losses follow an uninterrupted run's ten times more closely than a run on
    another draw of the lenses does (the run-to-run spread)."""
    workdir = workflow_with_config(tmp_path, "training", **TRAINING_RUN)
    profile = local_profile(workdir)
    args = run_args(f"results/training/{CNN_MODEL}", profile)
    driver = start_driver(workdir, *args)
    history = workdir / "results/training/work/train/cnn/history.csv"

    def epochs_logged() -> int:
        return max(len(history.read_text().splitlines()) - 1, 0) if history.exists() else 0

    wait_for(lambda: epochs_logged() >= 2, "two epochs of training", 600, 0.1, driver)
    job = active_jobs(workdir, "train")[0]
    if stop == "scancel":
        subprocess.run(["scancel", job["id"]], check=True)
    else:
        requeue(job["id"])
    assert epochs_logged() < EPOCHS

    driver.wait(timeout=600)
    output = (workdir / "driver.log").read_text()
    assert driver.returncode == 0, output[-3000:]
    if stop == "scancel":
        assert "SLURM status is: 'CANCELLED'" in output
    train_log = (workdir / "results/training/logs/train/cnn.log").read_text()
    first_epoch = int(train_log.split("Epoch ")[1].split("/")[0])
    assert first_epoch > 1, train_log[:2000]
    resumed = pd.read_csv(workdir / "results/training/models/cnn/history.csv").set_index("epoch")
    assert resumed.index.tolist() == list(range(EPOCHS))

    same, other = uninterrupted_histories
    resumed_epochs = slice(first_epoch - 1, None)  # the log counts epochs from 1
    for column in ("loss", "val_loss"):
        departure = (resumed[column] - same[column]).abs().loc[resumed_epochs]
        spread = (other[column] - same[column]).abs().loc[resumed_epochs]
        assert departure.mean() <= 0.1 * spread.mean(), (column, departure, spread)


def test_requests_the_cluster_cannot_meet_stop_the_run_before_any_submission(tmp_path):
    workdir = workflow_with_config(tmp_path, "preflight")
    chunk = workdir / "results/preflight/chunks/chunk_00000.npz"
    local = snakemake(
        str(chunk.relative_to(workdir)),
        "--cores",
        "1",
        "--configfile",
        "config/test.yaml",
        cwd=workdir,
    )
    assert local.returncode == 0, local.stderr[-3000:]
    before = chunk.read_bytes()

    profile = local_profile(
        workdir,
        **{
            "default-resources": {"slurm_partition": "mian"},
            "set-resources": {"train": {"runtime": "30000"}},
        },
    )
    result = snakemake(
        *run_args("results/preflight/models/cnn/metrics.json", profile), cwd=workdir
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "nothing was submitted" in output
    assert "rule simulate_chunk (attempt 1) asks for slurm_partition 'mian'" in output
    assert (
        "rule train (attempt 1) asks for runtime=30000 minutes, above the 20160-minute" in output
    )
    assert "has been submitted with SLURM jobid" not in output
    assert slurm_jobs(workdir) == []
    assert chunk.read_bytes() == before


def test_every_job_of_the_default_target_passes_the_check_and_is_submitted(tmp_path):
    # The Amarel profile's partitions, runtimes, account and --gres=gpu:1 (memory capped to
    # the local node by local_profile), on every attempt of every rule of the default target.
    workdir = workflow_with_config(tmp_path, "everything")
    profile = local_profile(workdir)
    driver = start_driver(workdir, "--profile", profile, "--configfile", "config/test.yaml")
    wait_for(lambda: slurm_jobs(workdir), "the first submission", 300, 0.5, driver)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    for job in slurm_jobs(workdir):  # the jobs it had submitted, finished or not
        subprocess.run(["scancel", job["id"]], capture_output=True)
    output = driver.log_path.read_text()
    checked = output.split("lenspipe: the SLURM requests of ")[1].splitlines()[0]
    assert re.match(r"\d+ rules, attempts 1-4, fit the cluster's partitions", checked), checked
    for rule in ("simulate_chunk", "consolidate", "normalise", "train", "evaluate"):
        assert rule in checked, checked
    assert "nothing was submitted" not in output
    wait_for(lambda: not active_jobs(workdir, ""), "the cancelled jobs to end", 120, 0.5)


@pytest.mark.parametrize(
    "flags, accepted",
    [
        (["--partition=gpu", "--gres=gpu:1"], True),
        (["--partition=gpu", "--gres=gpu:1", "--account=general"], True),
        (["--partition=gpu", "--gres=gpu:2"], False),  # more GPUs than the node has
        (["--partition=gpu", "--gres=gpu:h100:1"], False),  # a GPU type the node lacks
        (["--partition=gpu", "--gres=gpu:1", "--constraint=no_such_gpu"], False),
    ],
)
def test_the_cluster_takes_gpu_requests_as_a_gres_gpu_cluster_does(flags, accepted):
    result = subprocess.run(
        ["sbatch", "--test-only", *flags, "--time=10", "--mem=1000", "--wrap", "true"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode == 0) == accepted, result.stderr


def test_training_that_asked_for_a_gpu_and_sees_none_stops_at_once_naming_the_node(tmp_path):
    workdir = workflow_with_config(tmp_path, "nogpu")
    normalised = snakemake(
        "results/nogpu/normalisation.json",
        "--cores",
        "2",
        "--configfile",
        "config/test.yaml",
        cwd=workdir,
    )
    assert normalised.returncode == 0, normalised.stderr[-3000:]
    profile = local_profile(workdir, retries=0)
    target = f"results/nogpu/{CNN_MODEL}"
    result = snakemake(*run_args(target, profile), cwd=workdir, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    log = (workdir / "results/nogpu/logs/train/cnn.log").read_text()
    assert "MissingGpuError" in log, log[-3000:]
    assert f"TensorFlow sees no GPU on node {socket.gethostname()}" in log
    assert "asked SLURM for 1 GPU(s)" in log
    assert "Epoch 1/" not in log
    assert not (workdir / "results/nogpu" / CNN_MODEL).exists()


def test_a_lock_whose_driver_runs_as_a_slurm_job_elsewhere_is_unlocked_only_after_it(tmp_path):
    workdir = workflow_with_config(tmp_path, "driverjob")
    job = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "--time=5",
            "--mem=100",
            "--output=/dev/null",
            "--wrap",
            "sleep 300",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        locked_by(workdir, "amarel-login-9", 4242, slurm_job_id=job)
        resume = status_report(workdir, "config/test.yaml")["resume"]
        assert not resume["unlock_first"]
        assert resume["driver_elsewhere"]["state"] == "running"
        text = lenspipe_status(workdir, "config/test.yaml").stdout
        assert f"runs on amarel-login-9 (pid 4242) as SLURM job {job}" in text
        assert "--unlock" not in text
    finally:
        subprocess.run(["scancel", job], check=True)
    wait_for(
        lambda: status_report(workdir, "config/test.yaml")["resume"]["unlock_first"],
        "the status to see the driver job ended",
        60,
        1,
    )
