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
