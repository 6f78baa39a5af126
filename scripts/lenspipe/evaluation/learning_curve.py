"""The learning curve: the run's CNN trained again on smaller parts of its training subset.

A model of the curve (``evaluation.learning_curve``) is the train rule's in every respect but
its training lenses: the same ``training`` settings, seed, validation subset and
normalisation (fit on the whole training subset), trained by ``lenspipe.learning.train.train`` on the
first ``n_train`` lenses of a fixed order of the training subset drawn from the run's seed
(``nested_training_subset``), so a smaller training set lies inside every larger one and the
curve measures the data alone. It then predicts the whole test subset through
``lenspipe.evaluation.evaluate.predict_test_subset``, as the train rule's model is evaluated;
``lenspipe.evaluation.learning_curve_table`` turns the predictions into the curve.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lenspipe import seeding
from lenspipe.data.normalise import load_split
from lenspipe.evaluation.evaluate import predict_test_subset
from lenspipe.evaluation.metrics import regression_metrics
from lenspipe.evaluation.predictions import write_predictions
from lenspipe.learning.train import train
from lenspipe.learning.variants import MAIN_MODEL, builder


def nested_training_subset(train_lenses: np.ndarray, n_train: int, seed: int) -> np.ndarray:
    """The sorted lens indices of the first ``n_train`` lenses of ``train_lenses`` (the
    training subset) in the order of a permutation drawn from ``seed``.

    The order depends only on the seed and the training subset, so the subset of a smaller
    ``n_train`` is contained in that of every larger one.
    """
    if not 1 <= n_train <= len(train_lenses):
        raise ValueError(
            f"n_train={n_train}: expected between 1 and the {len(train_lenses)} lenses of the "
            "training subset"
        )
    order = seeding.stream(seed, seeding.LEARNING_CURVE).permutation(len(train_lenses))
    return np.sort(np.asarray(train_lenses)[order[:n_train]])


def train_on_subset(
    training: dict[str, Any],
    seed: int,
    n_train: int,
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    work_dir: str | Path,
    outputs: dict[str, str | Path],
) -> pd.DataFrame:
    """Train the run's CNN on ``n_train`` lenses of the training subset, resuming from
    ``work_dir``, and predict the test subset; return the test metrics.

    Writes ``model``, ``history`` and ``curve`` (the training curve), as the train rule does,
    and the per-lens test ``predictions`` to the paths in ``outputs``.
    """
    train_lenses = load_split(split_path)["train"]
    chosen = nested_training_subset(train_lenses, n_train, seed)
    print(f"Training on {len(chosen)} of the {len(train_lenses)} lenses of the training subset")
    train(
        training=training,
        seed=seed,
        store_path=store_path,
        normalisation_path=normalisation_path,
        split_path=split_path,
        work_dir=work_dir,
        model_path=outputs["model"],
        history_path=outputs["history"],
        curve_path=outputs["curve"],
        train_indices=chosen,
        build=builder(MAIN_MODEL, training),
    )
    # Predicted as the train rule's model is (averaged over the flips and rotations when
    # augmented); the calibration only scales sigma, which the curve does not use.
    predicted = predict_test_subset(
        store_path,
        normalisation_path,
        split_path,
        outputs["model"],
        training["batch_size"],
        augment=training["augment"],
    )
    write_predictions(
        outputs["predictions"],
        predicted.lens_indices,
        predicted.names,
        predicted.truth,
        predicted.prediction,
        predicted.sigma,
    )
    return regression_metrics(predicted.truth, predicted.prediction, predicted.names)
