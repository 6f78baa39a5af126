"""scripts/setup_env.sh refuses a Python older than 3.11, with what to load instead.

Each test runs a copy of the script in a folder of its own, so no .venv is made or touched.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

AMAREL_ADVICE = [
    "module use /projects/community/modulefiles",
    "module load anaconda/<version>",
    "PYTHON=$HOME/miniforge3/bin/python3 bash scripts/setup_env.sh --gpu",
    "PYTHON=python3.11 bash scripts/setup_env.sh --gpu",
]


def fake_python(folder: Path, version: str) -> Path:
    """An interpreter that says it is Python ``version`` (like Amarel's system python3, 3.9)."""
    path = folder / "bin" / "python3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def copy_script(folder: Path) -> Path:
    """``folder`` with a copy of scripts/setup_env.sh in it."""
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "scripts" / "setup_env.sh", folder / "scripts" / "setup_env.sh")
    return folder


def setup_env(folder: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    """Run the copy of setup_env.sh in ``folder`` with ``args`` and ``environment`` added."""
    return subprocess.run(
        ["bash", "scripts/setup_env.sh", *args],
        cwd=copy_script(folder),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **environment},
    )


@pytest.mark.parametrize("args", [(), ("--gpu",), ("--check",)])
def test_a_too_old_python_is_refused_with_what_to_load(tmp_path, args):
    old = fake_python(tmp_path, "3.9.18")
    result = setup_env(tmp_path, *args, PYTHON=str(old))
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"setup_env.sh: lenspipe needs Python 3.11 or newer, but {old} is Python 3.9.18."
    )
    for line in AMAREL_ADVICE:
        assert line in result.stderr, line
    assert not (tmp_path / ".venv").exists()


def test_the_system_python3_on_the_path_is_checked_by_default(tmp_path):
    old = fake_python(tmp_path, "3.10.12")
    path = f"{old.parent}:{os.environ['PATH']}"
    environment = {key: value for key, value in os.environ.items() if key != "PYTHON"}
    result = subprocess.run(
        ["bash", "-c", "unset PYTHON; bash scripts/setup_env.sh --check"],
        cwd=copy_script(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, "PATH": path},
    )
    assert result.returncode == 1
    assert f"but python3 ({old}) is Python 3.10.12." in result.stderr


def test_a_missing_interpreter_is_refused(tmp_path):
    result = setup_env(tmp_path, "--check", PYTHON="python3.99-nowhere")
    assert result.returncode == 1
    assert "but python3.99-nowhere is not found." in result.stderr


def test_a_new_enough_python_passes_the_check(tmp_path):
    result = setup_env(tmp_path, "--check", PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert "Python 3." in result.stdout and "fine" in result.stdout
    assert not (tmp_path / ".venv").exists()
