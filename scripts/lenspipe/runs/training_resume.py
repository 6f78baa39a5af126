"""Whether the next run resumes a model's training in progress, which the driver says when it
starts (not only the training job's log). No TensorFlow import: the driver reads it."""

from pathlib import Path
from typing import Any

from lenspipe.data.normalise import load_split
from lenspipe.learning.work_in_progress import training_record
from lenspipe.runs import layout
from lenspipe.work_settings import changes_since_recorded


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
