"""Independent test campaigns: the trained model on lenses simulated from another seed.

A campaign (``evaluation.independent_tests``) is simulated by the run's own chunk and
consolidation code, from the campaign's seed and the run's settings changed by its overrides
(``lenspipe.config.independent_test_configs``), into a store of its own. The trained model,
with the run's normalisation (fit on the run's training subset, never refit on a campaign),
predicts every lens of it through ``lenspipe.evaluation.evaluate.predict_physical``, as the test split is
predicted. A campaign may reach outside the training range of a target (wider priors, another
survey); the network then extrapolates, and the metrics say how often that happened
(``outside_training_range``).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.data.normalise import load_normalisation
from lenspipe.data.store import open_store
from lenspipe.evaluation.evaluate import TestPredictions, predict_lenses, write_summary
from lenspipe.evaluation.independent_metrics import sample_metrics
from lenspipe.evaluation.plots import plot_predicted_vs_true


def predict_store(
    store_path: str | Path,
    normalisation_path: str | Path,
    model_path: str | Path,
    batch_size: int,
    calibration_path: str | Path | None,
    augment: bool,
) -> TestPredictions:
    """Load the model and predict every lens of the store, with the run's normalisation and
    calibration (None for a model without uncertainties), as the test split is predicted
    (``lenspipe.evaluation.evaluate.predict_lenses``)."""
    lenses = np.arange(open_store(store_path)["lens_index"].shape[0])
    return predict_lenses(
        store_path,
        normalisation_path,
        model_path,
        lenses,
        batch_size,
        calibration_path,
        augment,
    )


def evaluate_independent(
    batch_size: int,
    store_path: str | Path,
    normalisation_path: str | Path,
    model_path: str | Path,
    calibration_path: str | Path | None,
    augment: bool,
    outputs: dict[str, str | Path],
) -> pd.DataFrame:
    """Write the metrics (``metrics_csv``, ``metrics_json``), the per-lens predictions
    (``predictions``) and ``predicted_vs_true`` of the model on every lens of a campaign's
    store to the paths in ``outputs``; return the metrics."""
    predicted = predict_store(
        store_path, normalisation_path, model_path, batch_size, calibration_path, augment
    )
    table = sample_metrics(
        predicted.truth,
        predicted.prediction,
        predicted.sigma,
        predicted.names,
        load_normalisation(normalisation_path),
        predicted.tail_dof,
    )
    with atomic_path(outputs["metrics_csv"]) as temporary:
        table.to_csv(temporary)
    write_summary(predicted, table, outputs["metrics_json"], outputs["predictions"])
    plot_predicted_vs_true(
        predicted.truth, predicted.prediction, predicted.names, outputs["predicted_vs_true"]
    )
    return table
