"""The benchmark runner (scripts/benchmarks/run_all.py) as a user runs it: one row, quick."""

import subprocess
import sys

from workflow_helpers import REPO


def test_a_quick_row_prints_its_table_without_judging_the_target(tmp_path):
    result = subprocess.run(
        [sys.executable, "run_all.py", "--rows", "1", "--quick", "--out", str(tmp_path)],
        cwd=REPO / "scripts" / "benchmarks",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("lenspipe benchmarks, ") and lines[0].endswith("(quick)")
    header = [cell.strip() for cell in lines[1].strip("|").split("|")]
    assert header == ["benchmark", "measured", "baseline", "ratio", "target", "met"]
    (row,) = [line for line in lines if line.startswith("| 1. simulation cost per lens")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    measured, baseline = (float(cells[i].split()[0]) for i in (1, 2))
    assert measured > 0 and baseline > 0
    assert abs(float(cells[3]) - measured / baseline) < 0.02  # of the unrounded times
    assert cells[5] == "-"
