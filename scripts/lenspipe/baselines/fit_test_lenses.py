"""The fit baseline: lenstronomy maximum-likelihood fits of the first test lenses, timed and
checked against the chi^2 at each lens's true parameters."""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.baselines.likelihood_fit import FitResult, LensFitter, Search
from lenspipe.data.normalise import load_split
from lenspipe.data.store import open_store
from lenspipe.evaluation.predictions import prediction_frame
from lenspipe.settings import SimulationSettings
from tqdm import tqdm


def fit_record(result: FitResult, chi2_truth: float, chi2_tolerance: float) -> dict[str, Any]:
    """The extra predictions columns of one fit: its cost, chi^2 at the fit and at the truth
    (-2 ln L), and ``converged``: the fit's chi^2 at most ``chi2_tolerance`` above the truth's."""
    return {
        "seconds": result.seconds,
        "n_starts": result.n_starts,
        "chi2_fit": result.chi2,
        "chi2_truth": chi2_truth,
        "converged": bool(result.chi2 <= chi2_truth + chi2_tolerance),
    }


def fit_test_lenses(
    simulation: SimulationSettings,
    targets: list[str],
    n_lenses: int,
    search: Search,
    chi2_tolerance: float,
    store_path: str | Path,
    split_path: str | Path,
    predictions_path: str | Path,
) -> None:
    """Fit the first ``n_lenses`` test lenses (in lens order) and write their predictions
    with the columns of ``fit_record``. A target the fit does not fit (a magnitude, a
    redshift) is NaN."""
    test = load_split(split_path)["test"][:n_lenses]
    root = open_store(store_path)
    names = list(root.attrs["parameter_names"])
    parameters = root["parameters"][:][test]
    fitter = LensFitter(simulation)
    prediction = np.full((len(test), len(targets)), np.nan)
    records = []
    for row, lens in enumerate(tqdm(test, desc="fits", unit="lens", mininterval=5)):
        image = root["images"][lens]
        result = fitter.fit(image, int(lens), search)
        truth = dict(zip(names, parameters[row]))
        records.append(fit_record(result, fitter.chi2(image, truth), chi2_tolerance))
        prediction[row] = [result.parameters.get(name, np.nan) for name in targets]
        record = records[-1]
        print(
            f"lens {lens}: {record['seconds']:.1f} s, chi2 {record['chi2_fit']:.1f}"
            f" (truth {record['chi2_truth']:.1f}), converged: {record['converged']}",
            flush=True,
        )
    truth = parameters[:, [names.index(name) for name in targets]]
    frame = prediction_frame(test, targets, truth, prediction)
    frame = pd.concat([frame, pd.DataFrame(records)], axis=1)
    with atomic_path(predictions_path) as temporary:
        frame.to_csv(temporary, index=False)
