"""Outputs are renamed into place; what a killed writer left is cleared by the next write."""

import subprocess
import sys

import pytest
from conftest import REPO
from lenspipe.atomic import atomic_path, replace_text, write_json

KILLED_WRITER = """
import os, sys
sys.path.insert(0, {scripts!r})
from lenspipe.atomic import atomic_path
with atomic_path(sys.argv[1]) as temporary:
    temporary.write_text("half")
    os.kill(os.getpid(), 9)
"""


def test_a_killed_writer_leaves_no_output_and_the_next_write_clears_its_temporary(tmp_path):
    output = tmp_path / "metrics.json"
    code = KILLED_WRITER.format(scripts=str(REPO / "scripts"))
    killed = subprocess.run([sys.executable, "-c", code, str(output)], timeout=120)
    assert killed.returncode == -9
    assert not output.exists() and len(list(tmp_path.glob(".metrics.json.tmp-*"))) == 1

    write_json(output, {"done": True})
    assert output.exists() and list(tmp_path.iterdir()) == [output]


def test_a_stale_temporary_folder_is_cleared_too(tmp_path):
    stale = tmp_path / ".lenses.zarr.tmp-12345"
    (stale / "images").mkdir(parents=True)
    with atomic_path(tmp_path / "lenses.zarr") as temporary:
        temporary.mkdir()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["lenses.zarr"]


def test_only_the_outputs_own_temporaries_are_cleared(tmp_path):
    other = tmp_path / ".other.csv.tmp-1"
    other.write_text("another output's")
    replace_text(tmp_path / "settings.json", "{}")
    assert other.exists()


def test_an_existing_output_is_never_overwritten(tmp_path):
    (tmp_path / "done.csv").write_text("kept")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        with atomic_path(tmp_path / "done.csv"):
            pass
    assert (tmp_path / "done.csv").read_text() == "kept"
