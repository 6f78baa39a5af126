"""Run Snakemake on a copy of the workflow, for the workflow and SLURM tests."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml
from conftest import TINY
from lenspipe.config import merge_config
from lenspipe.runs.driver_record import RECORD
from lenspipe.runs.workflow_copy import copy_workflow as copy_to

REPO = Path(__file__).resolve().parents[1]


def snakemake(*args: str, cwd: Path = REPO, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run Snakemake to completion in ``cwd``; return its result with the output captured."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_workflow(destination: Path) -> Path:
    """A copy of this repository's workflow in ``destination``."""
    return copy_to(REPO, destination)


def job_counts(dry_run_output: str) -> dict[str, int]:
    """Jobs per rule from the "Job stats" table Snakemake prints."""
    table = dry_run_output.split("Job stats:")[-1]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def lenspipe_status(workdir: Path, configfile: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``python -m lenspipe status`` for the run of ``configfile`` in ``workdir``."""
    return subprocess.run(
        [sys.executable, "-m", "lenspipe", "status", "--configfile", configfile, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def status_report(workdir: Path, configfile: str, *args: str) -> dict:
    """The status command's JSON report."""
    result = lenspipe_status(workdir, configfile, "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def file_tree(workdir: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file and folder under ``workdir``."""
    return {
        str(path.relative_to(workdir)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in workdir.rglob("*")
    }


def workflow_with_config(tmp_path: Path, name: str, **changes) -> Path:
    """A copy of the workflow whose config/test.yaml is TINY plus ``changes``."""
    workdir = copy_workflow(tmp_path / name)
    config = merge_config({**TINY, "run_name": name}, changes)
    (workdir / "config" / "test.yaml").write_text(yaml.safe_dump(config))
    return workdir


def start_driver(workdir: Path, *args: str) -> subprocess.Popen:
    """Start the Snakemake driver in the background, its output in workdir/driver.log."""
    log_path = workdir / "driver.log"
    with log_path.open("w") as log:
        driver = subprocess.Popen(
            [sys.executable, "-m", "snakemake", *args],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    driver.log_path = log_path
    return driver


def wait_for(condition, what: str, timeout: float = 300, interval: float = 0.5, driver=None):
    """Poll ``condition`` until it returns something true; return that.

    With ``driver`` given, fail at once (showing its log) if the driver ends first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if driver is not None and driver.poll() is not None:
            log = driver.log_path.read_text()
            raise AssertionError(f"the driver ended while waiting for {what}:\n{log[-3000:]}")
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def locked_by(workdir: Path, host: str, pid: int, slurm_job_id: str | None = None) -> None:
    """Snakemake's lock, with the driver record of a driver on ``host``."""
    locks = workdir / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("")
    record = {"host": host, "pid": pid, "slurm_job_id": slurm_job_id, "started": "2026-11-28"}
    (workdir / RECORD).write_text(json.dumps(record))
