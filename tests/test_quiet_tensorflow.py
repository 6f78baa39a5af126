"""Importing TensorFlow through lenspipe leaves out its C++ start-up lines, nothing else."""

import subprocess
import sys

import pytest
from conftest import REPO
from lenspipe.quiet_tensorflow import CPP_LOG_LINE


def stderr_of(code: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(REPO / 'scripts')!r})\n{code}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    "line",
    [
        "I0000 00:00:1796489609.325123   20278 port.cc:153] oneDNN custom operations are on.",
        "E1205 16:49:57.123456    813 cuda_platform.cc:52] failed call to cuInit: INTERNAL",
        "W0000 00:00:1796489609.325425   20278 cudart_stub.cc:31] Could not find cuda drivers",
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
        "with the appropriate compiler flags.",
    ],
)
def test_tensorflow_cpp_log_lines_are_recognised(line):
    assert CPP_LOG_LINE.match(line.encode())


@pytest.mark.parametrize(
    "line",
    ["Epoch 1/3", "Traceback (most recent call last):", "WARNING: a warning of our own", "I0 x"],
)
def test_other_lines_are_kept(line):
    assert not CPP_LOG_LINE.match(line.encode())


def test_tensorflow_imported_after_lenspipe_writes_none_of_its_cpp_lines():
    plain = stderr_of("import tensorflow")
    assert any(CPP_LOG_LINE.match(line.encode()) for line in plain.splitlines())  # the control

    code = (
        "import lenspipe, tensorflow as tf, keras\n"
        "print('ours', file=sys.stderr)\n"
        "tf.config.list_physical_devices('GPU')\n"
    )
    assert stderr_of(code) == "ours\n"
