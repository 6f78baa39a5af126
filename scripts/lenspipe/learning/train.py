"""Training: the CNN on the training subset, streamed from the store, resumable.

Work in progress lives in ``work_dir``, outside the rule's declared outputs (Snakemake deletes
the outputs of a failed job): ``BackupAndRestore`` keeps the weights, optimizer state and
epoch there, so a killed job resumes from its last epoch on the next run; the best model so
far and the epoch history are kept there too. Only a finished training moves them to the
outputs.
"""

import functools
import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import pandas as pd
import tensorflow as tf
from lenspipe.atomic import atomic_path, replace_text, unused_name
from lenspipe.data.dataset import LensBatches, batches_in_flight
from lenspipe.data.normalise import load_normalisation, load_split
from lenspipe.data.store import open_store, store_pix2angle
from lenspipe.data.store_check import check_store
from lenspipe.learning.compile import compile_model
from lenspipe.learning.training_curve import plot_training_curve
from lenspipe.learning.work_in_progress import training_record
from lenspipe.work_settings import HISTORY_IN_PROGRESS, changes_since_recorded, record_settings

FIT_FINISHED = "fit_finished"
"""Written in a training's work folder when ``fit`` has ended normally."""


def validated_epochs(epochs: int, interval: int) -> list[int]:
    """The epochs (counted from 1, as Keras's ``validation_freq`` takes them) after which a
    training of ``epochs`` epochs is validated: every ``interval``-th from the first, and
    every epoch of the last quarter, where a decaying learning rate makes the lowest
    validation loss (the checkpoint kept) fall."""
    last_quarter_from = epochs - math.ceil(epochs / 4) + 1
    return [
        epoch
        for epoch in range(1, epochs + 1)
        if epoch >= last_quarter_from or (epoch - 1) % interval == 0
    ]


def _resumed_epoch(backup_dir: Path) -> int:
    """The epoch a training resumes at: the one ``BackupAndRestore`` recorded, else 0."""
    metadata = backup_dir / "training_metadata.json"
    return json.loads(metadata.read_text())["epoch"] if metadata.exists() else 0


class _MarkFitFinished(keras.callbacks.Callback):
    """Writes ``marker`` when ``fit`` ends normally (not on an interruption), before
    ``BackupAndRestore`` deletes its backup: a training killed after that, before its model is
    in place, is finished on the next run rather than trained again from epoch 0."""

    def __init__(self, marker: Path):
        super().__init__()
        self._marker = marker

    def on_train_end(self, logs=None):
        replace_text(self._marker, "fit finished; the model is best.keras\n")


class _EpochSeconds(keras.callbacks.Callback):
    """Adds ``seconds``, the wall time of the epoch with its validation, to the epoch's logs
    (so to ``history.csv``): what an epoch costs on the machine that trained it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = round(time.perf_counter() - self._started, 3)


def _keep_history_until(epoch_history: Path, epoch: int) -> None:
    """Drop the rows of epochs from ``epoch`` on, which the resumed training writes again (an
    attempt that restarts at 0 starts an empty history)."""
    if not epoch_history.exists():
        return
    rows = pd.read_csv(epoch_history)
    if len(rows) and rows["epoch"].max() >= epoch:
        rows[rows["epoch"] < epoch].to_csv(epoch_history, index=False)


def _best_validation_loss(epoch_history: Path) -> float | None:
    """Lowest validation loss of the epochs an interrupted attempt recorded, if any."""
    if not epoch_history.exists():
        return None
    losses = pd.read_csv(epoch_history)["val_loss"]
    return float(losses.min()) if len(losses) else None


def _parallel_batches() -> int:
    """``batches_in_flight`` for the cores TensorFlow may use (the job's threads,
    ``limit_tensorflow_threads``; by default the cores this process may run on)."""
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return batches_in_flight(threads or len(os.sched_getaffinity(0)))


def _set_aside_other_settings(work_dir: Path, settings: dict[str, Any]) -> None:
    """Move work in progress made with other settings (or unrecorded ones) out of the way,
    to ``<work_dir>.replaced`` (numbered if taken), so the training starts afresh and never
    resumes another training's weights, optimizer or learning rate."""
    if not work_dir.exists():
        return
    changed = changes_since_recorded(work_dir, settings)
    if not changed:
        return
    target = unused_name(work_dir.with_name(f"{work_dir.name}.replaced"))
    work_dir.rename(target)
    fields = ", ".join(changed)
    print(
        f"Not resuming the training work in progress: it was made with other settings "
        f"({fields}). Starting afresh; the old work is kept in {target} (delete it when "
        "no longer needed)."
    )


def train(
    training: dict[str, Any],
    seed: int,
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    work_dir: str | Path,
    model_path: str | Path,
    history_path: str | Path,
    curve_path: str | Path,
    train_indices: Sequence[int] | None = None,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    build: Callable[[tuple[int, int, int], int], keras.Model] | None = None,
) -> keras.callbacks.History:
    """Train, resuming from ``work_dir`` if an earlier attempt with the same settings (the
    ``training`` settings, seed, training lenses and normalisation) left a backup there; work
    made with other settings is set aside and the training starts afresh.

    ``train_indices`` are the lenses to train on, by default the whole training subset of the
    split (the learning curve passes a part of it).
    ``extra_callbacks`` (for example TensorBoard) run after lenspipe's own callbacks.
    ``build`` makes the compiled model from the image shape and the steps per epoch; by
    default the CNN of ``training`` (``compile_model``).
    """
    work_dir = Path(work_dir)
    split = load_split(split_path)
    train_lenses = split["train"] if train_indices is None else train_indices
    settings = training_record(training, seed, train_lenses, normalisation_path)
    check_store(store_path)
    _set_aside_other_settings(work_dir, settings)
    record_settings(work_dir, settings)
    gpus = [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    print(f"Training on {', '.join(gpus) if gpus else 'the CPU: TensorFlow sees no GPU'}")
    keras.utils.set_random_seed(seed)
    normalisation = load_normalisation(normalisation_path)
    image_shape = tuple(open_store(store_path)["images"].shape[1:])
    train_batches = LensBatches(
        store_path,
        train_lenses,
        normalisation,
        training["batch_size"],
        shuffle_seed=seed,
        pix2angle=store_pix2angle(store_path) if training["augment"] else None,
    )
    validation_batches = LensBatches(
        store_path, split["validation"], normalisation, training["batch_size"]
    )
    best_model = work_dir / "best.keras"
    epoch_history = work_dir / HISTORY_IN_PROGRESS
    backup = work_dir / "backup"
    finished = work_dir / FIT_FINISHED
    if finished.exists() and best_model.exists():
        print("The training finished in an earlier attempt: putting its model in place")
        _put_in_place(work_dir, best_model, epoch_history, model_path, history_path, curve_path)
        nothing_trained = keras.callbacks.History()
        nothing_trained.on_train_begin()
        return nothing_trained
    _keep_history_until(epoch_history, _resumed_epoch(backup))
    callbacks = [
        _MarkFitFinished(finished),
        keras.callbacks.BackupAndRestore(str(backup)),
        keras.callbacks.ModelCheckpoint(
            str(best_model),
            monitor="val_loss",
            save_best_only=True,
            initial_value_threshold=_best_validation_loss(epoch_history),
        ),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=training["early_stopping_patience"]
        ),
        _EpochSeconds(),
        keras.callbacks.CSVLogger(str(epoch_history), append=True),
        *extra_callbacks,
    ]
    model = (build or functools.partial(compile_model, training))(image_shape, len(train_batches))
    in_flight = _parallel_batches()
    with warnings.catch_warnings():
        # An epoch left unvalidated (``validated_epochs``) has no validation loss for early
        # stopping and the checkpoint to judge: they wait for the next, as they should.
        warnings.filterwarnings("ignore", "Early stopping conditioned on metric `val_loss`")
        warnings.filterwarnings("ignore", "Can save best model only with val_loss available")
        history = model.fit(
            # A resumed training goes on with the data order of its next epoch, not epoch 0's.
            train_batches.as_dataset(
                first_epoch=_resumed_epoch(backup), parallel_batches=in_flight
            ),
            steps_per_epoch=len(train_batches),
            shuffle=False,  # LensBatches reshuffles every epoch itself
            validation_data=validation_batches.as_dataset(parallel_batches=in_flight),
            validation_freq=validated_epochs(training["epochs"], training["validation_interval"]),
            epochs=training["epochs"],
            callbacks=callbacks,
            verbose=2,
        )
    _put_in_place(work_dir, best_model, epoch_history, model_path, history_path, curve_path)
    return history


def _put_in_place(
    work_dir: Path,
    best_model: Path,
    epoch_history: Path,
    model_path: str | Path,
    history_path: str | Path,
    curve_path: str | Path,
) -> None:
    """Write a finished training's curve and history, move its best model into place and
    remove its work folder."""
    plot_training_curve(pd.read_csv(epoch_history), curve_path)
    with atomic_path(history_path) as temporary:
        shutil.copyfile(epoch_history, temporary)
    os.replace(best_model, model_path)
    shutil.rmtree(work_dir)
