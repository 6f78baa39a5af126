"""Evaluation on the test subset, in physical units."""

from pathlib import Path

import keras
import numpy as np

from lenspipe.atomic import atomic_path, write_json
from lenspipe.dataset import LensBatches
from lenspipe.metrics import regression_metrics
from lenspipe.normalise import Normalisation, load_normalisation, load_split
from lenspipe.plots import plot_gallery, plot_predicted_vs_true, plot_residuals
from lenspipe.store import open_store, read_parameters


def predict_physical(
    model: keras.Model, batches: LensBatches, normalisation: Normalisation
) -> np.ndarray:
    """Predict every batch in order and return the targets in physical units (N, k)."""
    scaled = model.predict(batches.as_dataset(), verbose=0)
    return normalisation.inverse_targets(scaled)


def evaluate(
    batch_size: int,
    gallery_size: int,
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    model_path: str | Path,
    outputs: dict[str, str | Path],
) -> None:
    """Write metrics (``metrics_json``, ``metrics_csv``) and figures (``predicted_vs_true``,
    ``residuals``, ``gallery``) for the test subset to the paths in ``outputs``."""
    normalisation = load_normalisation(normalisation_path)
    test = load_split(split_path)["test"]
    model = keras.models.load_model(model_path)
    batches = LensBatches(store_path, test, normalisation, batch_size)
    prediction = predict_physical(model, batches, normalisation)
    root = open_store(store_path)
    truth = read_parameters(root, normalisation.targets)[test]
    names = normalisation.targets

    table = regression_metrics(truth, prediction, names)
    with atomic_path(outputs["metrics_csv"]) as temporary:
        table.to_csv(temporary)
    summary = {"n_test": int(len(test)), "parameters": table.to_dict(orient="index")}
    write_json(outputs["metrics_json"], summary)

    plot_predicted_vs_true(truth, prediction, names, outputs["predicted_vs_true"])
    plot_residuals(truth, prediction, names, outputs["residuals"])
    shown = test[:gallery_size]
    plot_gallery(
        normalisation.image.stretched(root["images"].oindex[shown]),
        shown,
        truth[: len(shown)],
        prediction[: len(shown)],
        names,
        outputs["gallery"],
    )
