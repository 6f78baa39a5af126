"""The naive baseline: Dense layers on the flattened image, trained and evaluated like the CNN.

Same targets, normalisation, batches, optimizer, epochs and early stopping as the CNN (MSE
loss: the naive model predicts values only), so the comparison isolates the architecture.
"""

import functools
from pathlib import Path
from typing import Any

import keras
from lenspipe.evaluation.evaluate import predict_test_subset, write_summary
from lenspipe.evaluation.metrics import regression_metrics
from lenspipe.learning.model import build_dense
from lenspipe.learning.train import compile_with, learning_rate, train


def _compiled_dense(
    training: dict[str, Any],
    dense: dict[str, Any],
    image_shape: tuple[int, int, int],
    steps_per_epoch: int,
) -> keras.Model:
    model = build_dense(
        image_shape, len(training["targets"]), dense["dense_units"], dense["dropout"]
    )
    return compile_with(model, learning_rate(training, steps_per_epoch), "mse")


def train_and_evaluate_dense(
    training: dict[str, Any],
    dense: dict[str, Any],
    seed: int,
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    work_dir: str | Path,
    outputs: dict[str, str | Path],
) -> None:
    """Train the naive model (``model``, ``history``, ``curve``), then write its test-set
    predictions (``predictions``) and metrics with the seconds per lens (``metrics_json``)."""
    training = dict(training, augment=False)
    train(
        training,
        seed,
        store_path,
        normalisation_path,
        split_path,
        work_dir,
        outputs["model"],
        outputs["history"],
        outputs["curve"],
        build=functools.partial(_compiled_dense, training, dense),
    )
    predicted = predict_test_subset(
        store_path, normalisation_path, split_path, outputs["model"], training["batch_size"]
    )
    table = regression_metrics(predicted.truth, predicted.prediction, predicted.names)
    write_summary(predicted, table, outputs["metrics_json"], outputs["predictions"])
