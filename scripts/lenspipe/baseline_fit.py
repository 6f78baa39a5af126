"""The fit baseline: lenstronomy maximum-likelihood fits of the first test lenses, timed."""

from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from lenspipe.atomic import atomic_path
from lenspipe.fit import LensFitter
from lenspipe.normalise import load_split
from lenspipe.predictions import prediction_frame
from lenspipe.store import open_store, read_parameters


def fit_test_lenses(
    simulation: dict[str, Any],
    targets: list[str],
    n_lenses: int,
    n_particles: int,
    n_iterations: int,
    store_path: str | Path,
    split_path: str | Path,
    predictions_path: str | Path,
) -> None:
    """Fit the first ``n_lenses`` test lenses (in lens order) and write their predictions,
    with a ``seconds`` column: the wall-time of each fit. A target the fit does not fit (a
    magnitude, a redshift) is NaN."""
    test = load_split(split_path)["test"][:n_lenses]
    root = open_store(store_path)
    truth = read_parameters(root, targets)[test]
    fitter = LensFitter(simulation)
    prediction = np.full_like(truth, np.nan)
    seconds = np.empty(len(test))
    for row, lens in enumerate(tqdm(test, desc="fits", unit="lens", mininterval=5)):
        fitted, seconds[row] = fitter.fit(
            root["images"][lens], int(lens), n_particles, n_iterations
        )
        prediction[row] = [fitted.get(name, np.nan) for name in targets]
        print(f"lens {lens}: {seconds[row]:.1f} s", flush=True)
    frame = prediction_frame(test, targets, truth, prediction).assign(seconds=seconds)
    with atomic_path(predictions_path) as temporary:
        frame.to_csv(temporary, index=False)
