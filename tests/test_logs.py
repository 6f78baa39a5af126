"""Rule logs: Python and C-level output reach the log at once, and the tracebacks too."""

import os
import subprocess
import sys

from conftest import REPO

SCRIPT = """
import os, sys
from lenspipe.runs.logs import logging_to

log_path = sys.argv[1]
with logging_to(log_path):
    print("epoch 1 done")
    os.write(2, b"native library message\\n")
    with open(log_path) as log:  # read while still inside the block, as `tail -f` would
        seen = log.read()
print("seen inside the block:", "epoch 1 done" in seen, "native library message" in seen)
with logging_to(log_path):
    raise RuntimeError("simulation failed")
"""


def test_log_receives_output_line_by_line_and_the_traceback(tmp_path):
    log_path = tmp_path / "job.log"
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert "seen inside the block: True True" in result.stdout
    assert result.returncode != 0
    log = log_path.read_text()
    assert "RuntimeError: simulation failed" in log
    assert "epoch 1 done" not in result.stdout


RULE_SCRIPT = """
import sys
from types import SimpleNamespace
from lenspipe.runs.logs import rule_log

job = SimpleNamespace(
    log=[sys.argv[1]], rule="train", wildcards={"model": "cnn"}, threads=1, resources={}
)
with rule_log(job):
    total = sum(i * i for i in range(3_000_000))  # some CPU time
    if sys.argv[2] == "fail":
        raise RuntimeError("training failed")
"""


def test_a_rule_log_ends_with_what_the_job_used_whether_it_succeeds_or_fails(tmp_path):
    from lenspipe.runs.job_record import USAGE_PREFIX, read_job_record, read_job_usage

    for outcome in ("succeed", "fail"):
        log_path = tmp_path / f"{outcome}.log"
        result = subprocess.run(
            [sys.executable, "-c", RULE_SCRIPT, str(log_path), outcome], cwd=REPO
        )
        assert result.returncode == (1 if outcome == "fail" else 0)
        assert read_job_record(log_path)["rule"] == "train"  # the first line
        assert log_path.read_text().splitlines()[-1].startswith(USAGE_PREFIX)
        used = read_job_usage(log_path)
        assert 0 < used["cpu_s"] and 0 < used["wall_s"] and used["peak_mb"] > 10
    assert "RuntimeError: training failed" in (tmp_path / "fail.log").read_text()
    assert read_job_usage(tmp_path / "missing.log") is None
