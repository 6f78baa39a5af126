"""The CNN's calibrated predictions that refinements start from (``refine/seeds.csv``).

One row per lens to refine (``lenspipe.refinement.selection``): ``lens_index``, ``role``, and
per target ``true_<t>``, ``cnn_<t>`` (the CNN's mean) and ``cnn_sigma_<t>`` (its calibrated
sigma), in physical units, predicted as the test lenses are (``predict_lenses``).
"""

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.data.normalise import load_split
from lenspipe.evaluation.evaluate import predict_lenses
from lenspipe.refinement.selection import select_lenses


def seed_frame(
    rows: pd.DataFrame, names: list[str], truth: np.ndarray, mean: np.ndarray, sigma: np.ndarray
) -> pd.DataFrame:
    """``rows`` (``lens_index``, ``role``) with each target's truth, CNN mean and sigma."""
    frame = rows.reset_index(drop=True).copy()
    for k, name in enumerate(names):
        frame[f"true_{name}"] = truth[:, k]
        frame[f"cnn_{name}"] = mean[:, k]
        frame[f"cnn_sigma_{name}"] = sigma[:, k]
    return frame


def write_seeds(
    counts: Mapping[str, int],
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    model_path: str | Path,
    calibration_path: str | Path,
    batch_size: int,
    augment: bool,
    seeds_path: str | Path,
) -> pd.DataFrame:
    """Choose the lenses (``counts`` per role), predict them with the calibrated model and
    write the seeds table; return it."""
    rows = select_lenses(load_split(split_path), counts)
    predicted = predict_lenses(
        store_path,
        normalisation_path,
        model_path,
        rows["lens_index"].to_numpy(),
        batch_size,
        calibration_path,
        augment,
    )
    if predicted.sigma is None:
        raise ValueError(f"{model_path}: refinement needs a model that predicts uncertainties")
    # predict_lenses answers in lens order; the rows are in role, then lens order.
    order = np.searchsorted(predicted.lens_indices, rows["lens_index"].to_numpy())
    frame = seed_frame(
        rows,
        predicted.names,
        predicted.truth[order],
        predicted.prediction[order],
        predicted.sigma[order],
    )
    with atomic_path(seeds_path) as temporary:
        frame.to_csv(temporary, index=False)
    return frame
