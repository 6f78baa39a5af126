"""A training's work in progress: the settings it is recorded with (whether the next run
resumes it: ``lenspipe.runs.training_resume``).

Training keeps its backup in ``work/train/<model>`` beside a record of what it was made with:
the ``training`` settings, the seed and digests of the training lenses and the normalisation.
A job whose settings differ sets that work aside and starts afresh (``lenspipe.learning.train``).
Nothing here imports TensorFlow, so the driver can read it at start-up.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def training_record(
    training: dict[str, Any],
    seed: int,
    train_lenses: Sequence[int],
    normalisation_path: str | Path,
) -> dict[str, Any]:
    """What a training's work in progress is recorded with."""
    return {
        "training": training,
        "seed": seed,
        "train_lenses": _digest(np.asarray(train_lenses, dtype=np.int64).tobytes()),
        "normalisation": _digest(Path(normalisation_path).read_bytes()),
    }
