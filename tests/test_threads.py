"""TensorFlow stays within the cores a job was given."""

import subprocess
import sys

from conftest import REPO

CHECK = """
import sys
import tensorflow as tf
from lenspipe.runs.threads import limit_tensorflow_threads
limit_tensorflow_threads(1)
tf.constant(1.0) + 1.0  # initialise the runtime with the limit in place
print(tf.config.threading.get_intra_op_parallelism_threads(),
      tf.config.threading.get_inter_op_parallelism_threads())
"""


def test_thread_limit_applies_to_the_tensorflow_runtime():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["1", "1"]
