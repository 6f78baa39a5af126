"""The stage table (scripts/benchmarks/stage_table.py) as a user runs it on a run folder."""

import json
import subprocess
import sys

import pandas as pd
import yaml
from lenspipe.runs.job_record import USAGE_PREFIX
from workflow_helpers import REPO

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _job(run, relative, used=None, benchmark=None):
    """A finished job: its log (with the usage line if ``used``) and its benchmark record."""
    log = run / "logs" / f"{relative}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("lenspipe job: {}\nwork\n" + (USAGE_PREFIX + json.dumps(used) if used else ""))
    if benchmark:
        record = run / "benchmarks" / f"{relative}.tsv"
        record.parent.mkdir(parents=True, exist_ok=True)
        wall, rss, written, cpu = benchmark
        record.write_text(HEADER + f"{wall}\t0:00:00\t{rss}\t0\t0\t0\t0\t{written}\t0\t{cpu}\n")


def test_stages_sum_their_jobs_and_project_the_production_run(tmp_path):
    run = tmp_path / "results" / "short"
    for chunk, wall in (("00000", 30.0), ("00001", 40.0)):
        usage = {"wall_s": wall, "cpu_s": wall - 1, "peak_mb": 300.0}
        _job(run, f"simulate_chunk/{chunk}", usage, (wall, 390.0, 70.0, 5.0))
    # A job of an older lenspipe has no usage line: Snakemake's record stands in.
    _job(run, "consolidate", None, (7.0, 576.0, 1496.0, 6.0))
    _job(
        run, "train/cnn", {"wall_s": 400.0, "cpu_s": 700.0, "peak_mb": 2000.0}, (400, 2737, 38, 9)
    )
    _job(run, "compare", {"wall_s": 2.0, "cpu_s": 1.5, "peak_mb": 150.0})  # no benchmark
    config = tmp_path / "short.yaml"
    config.write_text(yaml.safe_dump({"run_name": "short", "training": {"epochs": 5}}))
    result = subprocess.run(
        [
            sys.executable,
            "stage_table.py",
            str(run),
            "--configfile",
            str(config),
            "--gpu-rate",
            "9000",
        ],
        cwd=REPO / "scripts" / "benchmarks",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(run / "stage_table.csv").set_index("stage")
    assert list(table.index) == ["simulate_chunk", "consolidate", "train/cnn", "compare"]
    chunks = table.loc["simulate_chunk"]
    assert (chunks["jobs"], chunks["wall_s"], chunks["longest_job_s"]) == (2, 70.0, 40.0)
    assert chunks["cpu_s"] == 68.0  # from the logs, not Snakemake's sampled 5 s a job
    assert (chunks["peak_mb"], chunks["written_mb"]) == (390.0, 140.0)
    assert table.loc["consolidate", "cpu_s"] == 6.0
    assert table.loc["compare", "peak_mb"] == 150.0
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if "|" in line}
    # The production config's 50 epochs over this run's 5, on one GPU at the rate given:
    # 50 epochs x 90,000 training and validation images / 9,000 a second = 500 s.
    cells = [cell.strip() for cell in rows["train/cnn"].strip("|").split("|")]
    assert cells[7] == "10" and cells[8] == "0.14" and "9,000 images/s" in cells[10]
    assert (run / "stage_table.md").read_text() in result.stdout
