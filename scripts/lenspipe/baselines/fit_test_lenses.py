"""The fit baseline: lenstronomy maximum-likelihood fits of the first test lenses, timed and
checked against the chi^2 of each lens's true parameters polished by BFGS (the bottom of the
truth's basin, which a fit that found it reaches).

The lenses are fit in parallel worker processes, one per core the job was given. Each fit
draws its random numbers from its lens's own stream (``LensFitter``), so the results do not
depend on the number of workers.
"""

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
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


def _fit_one(
    lens: int, search: Search, chi2_tolerance: float
) -> tuple[dict[str, float], dict[str, Any]]:
    """Fit lens ``lens`` in a worker: the fit's parameter columns and its ``fit_record``."""
    fitter, root = _worker["fitter"], _worker["root"]
    image = root["images"][lens]
    truth = dict(zip(_worker["names"], root["parameters"][lens]))
    result = fitter.fit(image, lens, search)
    chi2_truth, polished = fitter.chi2(image, truth), fitter.polished_chi2(image, truth, search)
    return result.parameters, fit_record(result, chi2_truth, polished, chi2_tolerance)


@contextmanager
def _fitting_map(
    simulation: SimulationSettings, store_path: str | Path, workers: int
) -> Iterator[Callable]:
    """A ``map`` that fits lenses: in this process for one worker, else in ``workers``
    spawned processes (not forked: the parent's zarr runs an asyncio loop in a thread)."""
    initargs = (simulation.record(), str(store_path))
    if workers == 1:
        _start_worker(*initargs)
        yield map
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=initargs,
    ) as pool:
        yield pool.map


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
    fit = partial(_fit_one, search=search, chi2_tolerance=chi2_tolerance)
    with _fitting_map(simulation, store_path, workers) as fitting_map:
        fits = fitting_map(fit, [int(lens) for lens in test])
        progress = tqdm(fits, total=len(test), desc="fits", unit="lens", mininterval=5)
        for row, (lens, (fitted, record)) in enumerate(zip(test, progress)):
            records.append(record)
            prediction[row] = [fitted.get(name, np.nan) for name in targets]
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
