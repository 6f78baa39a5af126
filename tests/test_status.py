"""``python -m lenspipe status`` against real local runs: planned, running, interrupted, failed.

The SLURM case (a timed-out chunk) is in test_slurm.py.
"""

import os
import signal
import socket
from pathlib import Path

import pytest
from lenspipe.runs.driver_record import read_driver_record
from lenspipe.runs.job_record import read_job_record
from workflow_helpers import (
    file_tree,
    job_counts,
    lenspipe_status,
    locked_by,
    snakemake,
    start_driver,
    status_report,
    wait_for,
    workflow_with_config,
)

pytestmark = pytest.mark.workflow


def status(workdir: Path, *args: str) -> dict:
    return status_report(workdir, "config/test.yaml", *args)


def status_text(workdir: Path) -> str:
    result = lenspipe_status(workdir, "config/test.yaml")
    assert result.returncode == 0, result.stderr
    return result.stdout


def by_chunk(report: dict) -> dict[int, dict]:
    return {chunk["chunk"]: chunk for chunk in report["chunks"]}


def test_planned_run_expects_every_chunk_and_gives_the_command(tmp_path):
    workdir = workflow_with_config(tmp_path, "planned", n_lenses=45)
    report = status(workdir)
    assert report["counts"] == {
        "finished": 0,
        "in_progress": 0,
        "partial": 0,
        "failed": 0,
        "not_started": 5,
    }
    assert [chunk["lenses"] for chunk in report["chunks"]] == [10, 10, 10, 10, 5]
    assert [(stage["stage"], stage["state"]) for stage in report["stages"]] == [
        ("consolidate", "waiting"),
        ("normalise", "waiting"),
        ("train/cnn", "waiting"),
        ("train/naive", "waiting"),
        ("calibrate/cnn", "waiting"),
        ("evaluate/cnn", "waiting"),
        ("evaluate/naive", "waiting"),
        ("calibration_plot/cnn", "waiting"),
        ("baseline_fit", "waiting"),
        ("refine_seeds", "waiting"),
        ("refine_chunk", "waiting"),
        ("refine", "waiting"),
        ("compare", "waiting"),
        ("survey_gallery", "ready"),  # the galleries need no simulated lenses
    ]
    assert report["stages"][-1]["detail"] == "0 of 4 presets"
    resume = report["resume"]
    assert (
        resume["command"]
        == "snakemake --cores all --rerun-incomplete --configfile config/test.yaml"
    )
    assert (resume["chunks_to_run"], resume["lenses_to_simulate"]) == (5, 45)
    assert not resume["unlock_first"]
    with_profile = status(workdir, "--profile", "profiles/amarel")
    assert with_profile["resume"]["command"] == (
        "snakemake --profile profiles/amarel --configfile config/test.yaml"
    )
    assert not (workdir / "results").exists()


def test_bad_config_is_named_before_anything_is_read(tmp_path):
    workdir = workflow_with_config(tmp_path, "bad", chunk_size=0)
    result = lenspipe_status(workdir, "config/test.yaml")
    assert result.returncode == 2
    assert "chunk_size" in result.stderr
    missing = lenspipe_status(workdir, "nowhere.yaml")
    assert missing.returncode == 2 and "nowhere.yaml: cannot read" in missing.stderr


def test_running_then_killed_run_is_counted_right_and_its_resume_command_finishes_it(tmp_path):
    workdir = workflow_with_config(tmp_path, "killed", testing={"seconds_per_lens": 1.0})
    run = workdir / "results" / "killed"
    args = ["results/killed/lenses.zarr", "--cores", "1", "--configfile", "config/test.yaml"]
    driver = start_driver(workdir, *args)
    try:

        def running_with_a_saved_part_after_a_finished_chunk():
            report = status(workdir)
            live = [chunk for chunk in report["chunks"] if chunk["state"] == "in_progress"]
            started = live and live[0]["saved_lenses"] > 0 and report["counts"]["finished"] > 0
            return report if started else None

        running = wait_for(
            running_with_a_saved_part_after_a_finished_chunk, "progress", driver=driver
        )
        assert running["counts"]["in_progress"] == 1
        assert running["resume"]["drivers_running"] == [driver.pid]
        assert running["progress"]["eta_seconds"] > 0
        live = [chunk for chunk in running["chunks"] if chunk["state"] == "in_progress"][0]
        assert live["attempts"][-1]["outcome"] == "running"
    finally:
        # A lost node: the driver and its job die at once (the job runs in a session of its own).
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    job = read_job_record(run / "logs" / "simulate_chunk" / f"{live['chunk']:05d}.log")
    os.kill(job["pid"], signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{job['pid']}").exists(), "the job to die", 30)
    before = file_tree(workdir)
    report = status(workdir)
    assert file_tree(workdir) == before  # reads only

    chunks = by_chunk(report)
    finished = sorted(c for c, chunk in chunks.items() if chunk["state"] == "finished")
    partial = [c for c, chunk in chunks.items() if chunk["state"] == "partial"]
    assert finished == sorted(
        int(path.stem.split("_")[1]) for path in (run / "chunks").glob("chunk_*.npz")
    )
    assert len(partial) == 1 and report["counts"]["in_progress"] == 0, report["chunks"]
    assert report["counts"]["failed"] == 0
    assert report["counts"]["not_started"] == 4 - len(finished) - 1
    stopped = chunks[partial[0]]
    saved_parts = list((run / "work" / "chunks" / f"chunk_{partial[0]:05d}").glob("lenses_*"))
    assert stopped["saved_lenses"] == 5 * len(saved_parts) > 0
    assert stopped["attempts"][-1]["outcome"] == "STOPPED"
    assert report["progress"]["lenses_done"] == 10 * len(finished) + stopped["saved_lenses"]
    assert report["progress"]["eta_seconds"] is None  # nothing runs
    resume = report["resume"]
    assert resume["unlock_first"] and resume["drivers_running"] == []
    # The killed driver left its record (this host, its pid) beside the lock.
    record = read_driver_record(workdir)
    assert (record["host"], record["pid"]) == (socket.gethostname(), driver.pid)
    assert resume["driver_elsewhere"] is None
    assert resume["lenses_to_simulate"] == 40 - report["progress"]["lenses_done"]
    assert "snakemake --unlock" in status_text(workdir)

    assert snakemake("--unlock", cwd=workdir).returncode == 0
    command = resume["command"].split()[1:] + ["--until", "consolidate"]
    finished_stats = {c: (run / f"chunks/chunk_{c:05d}.npz").stat().st_mtime_ns for c in finished}
    result = snakemake(*command, cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    for chunk, mtime in finished_stats.items():
        assert (run / f"chunks/chunk_{chunk:05d}.npz").stat().st_mtime_ns == mtime
    after = status(workdir)
    assert after["counts"]["finished"] == 4
    assert read_driver_record(workdir) is None  # a driver that ends by itself removes it
    assert after["progress"]["lenses_done"] == 40
    assert after["stages"][0]["state"] == "done"
    assert after["stages"][1]["state"] == "ready"


def test_chunk_that_fails_on_a_python_error_is_reported_with_its_log(tmp_path):
    workdir = workflow_with_config(tmp_path, "broken")
    # A folder where the chunk job writes its settings file: a real error inside the job.
    (workdir / "results/broken/work/chunks/chunk_00001/settings.json").mkdir(parents=True)
    result = snakemake(
        "results/broken/lenses.zarr",
        "--cores",
        "2",
        "--keep-going",
        "--configfile",
        "config/test.yaml",
        cwd=workdir,
    )
    assert result.returncode != 0
    report = status(workdir)
    assert report["counts"] == {
        "finished": 3,
        "in_progress": 0,
        "partial": 0,
        "failed": 1,
        "not_started": 0,
    }
    failure = by_chunk(report)[1]["failure"]
    assert failure["cause"] == "PYTHON_ERROR"
    assert failure["log"] == "results/broken/logs/simulate_chunk/00001.log"
    assert "IsADirectoryError" in failure["last_lines"][-1]
    assert report["stages"][0]["state"] == "waiting"
    assert any("read the log" in advice for advice in report["resume"]["advice"])
    text = status_text(workdir)
    assert "PYTHON_ERROR" in text and "| IsADirectoryError" in text


def test_a_lock_whose_driver_ran_on_another_machine_is_never_unlocked(tmp_path):
    workdir = workflow_with_config(tmp_path, "elsewhere")
    locked_by(workdir, "amarel2.hpc.rutgers.edu", 31337)
    resume = status(workdir)["resume"]
    assert not resume["unlock_first"]
    assert resume["driver_elsewhere"]["host"] == "amarel2.hpc.rutgers.edu"
    assert resume["driver_elsewhere"]["state"] == "unknown"
    text = status_text(workdir)
    assert "--unlock" not in text
    assert "was started on amarel2.hpc.rutgers.edu (pid 31337)" in text
    assert "ssh amarel2.hpc.rutgers.edu ps -fp 31337" in text


def test_a_lock_whose_driver_died_on_this_machine_is_unlocked(tmp_path):
    workdir = workflow_with_config(tmp_path, "here")
    locked_by(workdir, socket.gethostname(), 2**22 + 7)  # above Linux's largest pid: dead
    resume = status(workdir)["resume"]
    assert resume["unlock_first"] and resume["driver_elsewhere"] is None
    assert "snakemake --unlock" in status_text(workdir)


def test_status_and_the_dry_run_agree_after_chunk_files_are_removed(tmp_path):
    """Chunk files removed after consolidation are not simulated again, in the status as in
    ``snakemake -n``."""
    workdir = workflow_with_config(tmp_path, "agree")
    run = workdir / "results" / "agree"
    until = ["--cores", "1", "--configfile", "config/test.yaml", "--until", "normalise"]
    result = snakemake(*until, cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]

    for chunk in (run / "chunks").glob("chunk_*.npz"):
        chunk.unlink()
    report = status(workdir)
    assert report["counts"]["finished"] == len(report["chunks"])
    assert report["resume"]["lenses_to_simulate"] == 0
    states = {stage["stage"]: stage["state"] for stage in report["stages"]}
    assert states["consolidate"] == states["normalise"] == "done"
    dry = snakemake("-n", *until, cwd=workdir)
    assert dry.returncode == 0 and job_counts(dry.stdout).get("total", 0) == 0, dry.stdout
