"""A training's work in progress: the settings it is recorded with, and whether the next run
resumes it, which the driver says when it starts (not only the training job's log).

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
from lenspipe.data.normalise import load_split
from lenspipe.runs import layout
from lenspipe.work_settings import changes_since_recorded


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


def not_resumed(run: Path, model: str, training: dict[str, Any], seed: int) -> str | None:
    """A sentence for the driver's output when model ``model`` has training work in progress
    that its next job will not resume (it was made with other settings); None otherwise, and
    when the run's split or normalisation are not there yet to tell."""
    work_dir = layout.run_file(run, "train_work", model=model)
    split, normalisation = layout.run_file(run, "split"), layout.run_file(run, "normalisation")
    if not work_dir.is_dir() or not split.is_file() or not normalisation.is_file():
        return None
    record = training_record(training, seed, load_split(split)["train"], normalisation)
    changed = changes_since_recorded(work_dir, record)
    if not changed:
        return None
    return (
        f"train/{model}: the training in progress in {work_dir} was made with other settings "
        f"({', '.join(changed)}); it will not be resumed: the job sets it aside and starts "
        "afresh"
    )
