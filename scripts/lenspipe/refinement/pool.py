"""Refining many lenses: worker processes that each hold a refiner and the images, and the
output row of each refined lens.

The workers are ``lenspipe.workers``': spawned, one per core a job was given, each on one BLAS
thread. A lens's fit depends only on its image, its seed and
its own random stream, so the rows are the same whatever the number of workers.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lenspipe.data.store import open_store
from lenspipe.refinement.engine import LensRefiner, Refined
from lenspipe.settings import RefineSearch
from lenspipe.settings import SimulationSettings
from lenspipe.workers import worker_map
from tqdm import tqdm

RECORD_COLUMNS = [
    "seconds",
    "converged",
    "chi2",
    "chi2_per_pixel",
    "path",
    "n_descents",
    "evaluations",
]
"""The columns of a refined row after its seed and fitted values."""


def refined_row(seed: pd.Series, targets: list[str], refined: Refined) -> dict[str, Any]:
    """The output row of one refined lens: its seed columns, then ``pred_<t>`` and
    ``fisher_sigma_<t>`` of each target (NaN where the fit did not converge, or for a target
    the fit does not fit), then ``RECORD_COLUMNS``."""
    row = seed.to_dict()
    for name in targets:
        ok = refined.converged and name in refined.parameters
        row[f"pred_{name}"] = refined.parameters[name] if ok else np.nan
        row[f"fisher_sigma_{name}"] = refined.sigma[name] if ok else np.nan
    record = asdict(refined)
    return row | {column: record[column] for column in RECORD_COLUMNS}


_worker: dict[str, Any] = {}
"""A worker process's refiner, store and targets (set by ``_start_worker``)."""


def image_source(path: str | Path) -> Any:
    """The images (N, H, W, bands) of a run's zarr store or of a .npy file, read lazily."""
    path = Path(path)
    if path.suffix == ".npy":
        return np.load(path, mmap_mode="r")
    return open_store(path)["images"]


def _start_worker(simulation: dict[str, Any], search: dict[str, Any], images_path: str) -> None:
    """Build one refiner and open the images, once per worker."""
    _worker["refiner"] = LensRefiner(
        SimulationSettings.from_config(simulation), RefineSearch(**search)
    )
    _worker["images"] = image_source(images_path)


def _refine_task(task: tuple[int, dict[str, float], dict[str, float]]) -> Refined:
    lens, mean, sigma = task
    return _worker["refiner"].refine(_worker["images"][lens], mean, sigma, lens)


def refining_map(
    simulation: SimulationSettings, search: RefineSearch, images_path: str | Path, workers: int
) -> AbstractContextManager[Callable]:
    """A ``map`` that refines lenses in ``workers`` processes (``lenspipe.workers``)."""
    initargs = (simulation.record(), asdict(search), str(images_path))
    return worker_map(_start_worker, initargs, workers)


def refine_rows(
    seeds: pd.DataFrame, targets: list[str], mapping: Callable, bar: tqdm | None = None
) -> pd.DataFrame:
    """Refine the lenses of ``seeds`` rows with a ``refining_map``'s map; one ``refined_row``
    each, in order."""
    tasks = [_task(seed, targets) for _, seed in seeds.iterrows()]
    rows = []
    for (_, seed), result in zip(seeds.iterrows(), mapping(_refine_task, tasks)):
        rows.append(refined_row(seed, targets, result))
        if bar is not None:
            bar.update(1)
    return pd.DataFrame(rows)


def _task(seed: pd.Series, targets: list[str]) -> tuple[int, dict[str, float], dict[str, float]]:
    """The refine task of one seed row: the lens and the CNN's means and sigmas."""
    mean = {name: float(seed[f"cnn_{name}"]) for name in targets}
    sigma = {name: float(seed[f"cnn_sigma_{name}"]) for name in targets}
    return int(seed["lens_index"]), mean, sigma
