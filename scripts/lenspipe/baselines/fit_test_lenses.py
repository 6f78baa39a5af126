"""The fit baseline: lenstronomy maximum-likelihood fits of the first test lenses, timed and
checked against the chi^2 of each lens's true parameters polished by BFGS (the bottom of the
truth's basin, which a fit that found it reaches).

The work is split into tasks for worker processes, one per core the job was given: each
start of each lens is a task, and so is each lens's truth (its chi^2, plain and polished). A
lens's starts run side by side, so the cores stay busy to the last lens. Each start draws its
random numbers from its own stream (``LensFitter``), so the results do not depend on the
number of workers or on which worker ran what.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.baselines.likelihood_fit import (
    FitResult,
    LensFitter,
    Search,
    StartResult,
    best_start,
)
from lenspipe.data.normalise import load_split
from lenspipe.data.store import open_store
from lenspipe.evaluation.predictions import prediction_frame
from lenspipe.settings import SimulationSettings
from lenspipe.workers import worker_map
from tqdm import tqdm


def fit_record(
    result: FitResult, chi2_truth: float, chi2_truth_polished: float, chi2_tolerance: float
) -> dict[str, Any]:
    """The extra predictions columns of one fit: its cost, chi^2 (-2 ln L) at the fit, at the
    truth and at the truth polished by BFGS, and ``converged``: the fit's chi^2 at most
    ``chi2_tolerance`` above the polished truth's."""
    return {
        "seconds": result.seconds,
        "n_starts": result.n_starts,
        "chi2_fit": result.chi2,
        "chi2_truth": chi2_truth,
        "chi2_truth_polished": chi2_truth_polished,
        "converged": bool(result.chi2 <= chi2_truth_polished + chi2_tolerance),
    }


_worker: dict[str, Any] = {}
"""A worker process's fitter, store and parameter names (set by ``_start_worker``)."""


def _start_worker(simulation: dict[str, Any], store_path: str) -> None:
    """Build one fitter (from the settings' ``record``, which pickles) and open the store,
    once per worker process."""
    _worker["fitter"] = LensFitter(SimulationSettings.from_config(simulation))
    _worker["root"] = open_store(store_path)
    _worker["names"] = list(_worker["root"].attrs["parameter_names"])


def _fit_task(task: tuple[int, int | None], search: Search) -> StartResult | tuple[float, float]:
    """One task in a worker: start ``k`` of lens ``lens`` for ``(lens, k)``, and for
    ``(lens, None)`` the chi^2 of the lens's truth, plain and polished by BFGS."""
    lens, start = task
    fitter, root = _worker["fitter"], _worker["root"]
    image = root["images"][lens]
    if start is not None:
        return fitter.fit_start(image, lens, start, search)
    truth = dict(zip(_worker["names"], root["parameters"][lens]))
    return fitter.chi2(image, truth), fitter.polished_chi2(image, truth, search)


def _fitting_map(
    simulation: SimulationSettings, store_path: str | Path, workers: int
) -> AbstractContextManager[Callable]:
    """A ``map`` that fits lenses in ``workers`` processes (``lenspipe.workers``)."""
    return worker_map(_start_worker, (simulation.record(), str(store_path)), workers)


def fit_test_lenses(
    simulation: SimulationSettings,
    targets: list[str],
    n_lenses: int,
    search: Search,
    chi2_tolerance: float,
    store_path: str | Path,
    split_path: str | Path,
    predictions_path: str | Path,
    workers: int = 1,
) -> None:
    """Fit the first ``n_lenses`` test lenses (in lens order) in ``workers`` processes and
    write their predictions with the columns of ``fit_record``. A target the fit does not fit
    (a magnitude, a redshift) is NaN."""
    test = load_split(split_path)["test"][:n_lenses]
    root = open_store(store_path)
    names = list(root.attrs["parameter_names"])
    parameters = root["parameters"][:][test]
    prediction = np.full((len(test), len(targets)), np.nan)
    records = []
    tasks = [(int(lens), start) for lens in test for start in (*range(search.n_starts), None)]
    with _fitting_map(simulation, store_path, workers) as fitting_map:
        results = iter(fitting_map(partial(_fit_task, search=search), tasks))
        progress = tqdm(test, desc="fits", unit="lens", mininterval=5)
        for row, lens in enumerate(progress):
            fit = best_start([next(results) for _ in range(search.n_starts)])
            chi2_truth, polished = next(results)
            record = fit_record(fit, chi2_truth, polished, chi2_tolerance)
            records.append(record)
            prediction[row] = [fit.parameters.get(name, np.nan) for name in targets]
            print(
                f"lens {lens}: {record['seconds']:.1f} s, chi2 {record['chi2_fit']:.1f}"
                f" (truth {record['chi2_truth']:.1f}, polished"
                f" {record['chi2_truth_polished']:.1f}), converged: {record['converged']}",
                flush=True,
            )
    truth = parameters[:, [names.index(name) for name in targets]]
    frame = prediction_frame(test, targets, truth, prediction)
    frame = pd.concat([frame, pd.DataFrame(records)], axis=1)
    with atomic_path(predictions_path) as temporary:
        frame.to_csv(temporary, index=False)
