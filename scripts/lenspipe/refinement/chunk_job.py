"""Refine one chunk of the seeds table in saved parts, so a killed or timed-out job resumes.

Job ``k`` fits rows ``k * chunk_size`` onwards of ``refine/seeds.csv`` in worker processes
(one per core the job was given; spawned, not forked, as zarr runs an asyncio loop in a
thread) and saves every ``checkpoint_every`` rows as a part in its work folder, outside the
rule's outputs, which Snakemake deletes when a job fails. A part is kept for a later attempt
only if the settings record beside it matches this attempt's (the simulation, the search and
the chunk's seed rows): a retrained CNN or a changed search refits everything. A lens's fit
depends only on its image, its seed and its own random stream, so the chunk file is the same
whatever the number of workers or attempts.
"""

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.data.chunk_files import chunk_range
from lenspipe.data.store import open_store
from lenspipe.errors import ImageError
from lenspipe.refinement.engine import LensRefiner, Refined, RefineSearch
from lenspipe.runs.chunk_work import attempt_started, chunk_finished, write_journal
from lenspipe.settings import SimulationSettings
from lenspipe.versions import cpu_platform
from threadpoolctl import threadpool_limits
from tqdm import tqdm

SETTINGS_FILE = "settings.json"
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


def _start_worker(simulation: dict[str, Any], search: dict[str, Any], store_path: str) -> None:
    """Build one refiner and open the store, once per worker."""
    _worker["refiner"] = LensRefiner(
        SimulationSettings.from_config(simulation), RefineSearch(**search)
    )
    _worker["images"] = open_store(store_path)["images"]


def _refine_task(task: tuple[int, dict[str, float], dict[str, float]]) -> Refined:
    lens, mean, sigma = task
    return _worker["refiner"].refine(_worker["images"][lens], mean, sigma, lens)


@contextmanager
def _refining_map(initargs: tuple, workers: int) -> Iterator[Callable]:
    """A ``map`` that refines lenses: in this process for one worker, else in ``workers``
    spawned processes; each on one BLAS thread, as the workers are as many as the job's
    cores and NumPy's OpenBLAS would otherwise take every core of the machine in each."""
    if workers == 1:
        with threadpool_limits(1):
            _start_worker(*initargs)
            yield map
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_pool_worker,
        initargs=initargs,
    ) as pool:
        yield pool.map


def _start_pool_worker(*initargs: Any) -> None:
    threadpool_limits(1)
    _start_worker(*initargs)


def part_path(work_dir: Path, rows: range) -> Path:
    """The saved part of seed rows ``rows``."""
    return work_dir / f"rows_{rows.start:09d}-{rows.stop - 1:09d}.csv"


def _record(simulation: SimulationSettings, search: RefineSearch, seeds: pd.DataFrame) -> dict:
    """What a saved part was made with: the simulation, the search and a digest of the
    chunk's seed rows."""
    digest = hashlib.sha256(seeds.to_csv(index=False).encode()).hexdigest()
    return {"simulation": simulation.record(), "search": asdict(search), "seeds": digest}


def _keep_parts_of(work_dir: Path, record: dict[str, Any]) -> None:
    """Remove the saved parts unless the settings record beside them is ``record`` (an
    unreadable record counts as different); record ``record`` (atomically)."""
    recorded_path = work_dir / SETTINGS_FILE
    try:
        same = json.loads(recorded_path.read_text()) == json.loads(json.dumps(record))
    except (OSError, ValueError):
        same = False
    if not same:
        stale = sorted(work_dir.glob("rows_*.csv"))
        for file in stale:
            file.unlink()
        if stale:
            write_journal(work_dir, f"settings changed: removed {len(stale)} saved parts")
    work_dir.mkdir(parents=True, exist_ok=True)
    temporary = work_dir / f".{SETTINGS_FILE}.tmp-{os.getpid()}"
    temporary.write_text(json.dumps(record, sort_keys=True))
    os.replace(temporary, recorded_path)


def _load_part(file: Path, expected_rows: int, progress: TextIO | None) -> pd.DataFrame | None:
    """A saved part, or None if there is none or it is unreadable (then it is removed)."""
    if not file.exists():
        return None
    try:
        part = pd.read_csv(file)
        if len(part) != expected_rows:
            raise ValueError(f"{len(part)} rows, expected {expected_rows}")
        return part
    except (ValueError, pd.errors.ParserError) as error:
        message = f"discarded unreadable part {file.name}, refining it again: {error}"
        write_journal(file.parent, message)
        if progress is not None:
            print(message, file=progress)
        file.unlink()
        return None


def refine_chunk(
    simulation: SimulationSettings,
    search: RefineSearch,
    targets: list[str],
    chunk: int,
    chunk_size: int,
    seeds_path: str | Path,
    store_path: str | Path,
    path: str | Path,
    work_dir: str | Path,
    checkpoint_every: int,
    workers: int = 1,
    progress: TextIO | None = None,
) -> pd.DataFrame:
    """Refine chunk ``chunk`` of the seeds table into the CSV ``path``, resumably; return it."""
    work_dir = Path(work_dir)
    seeds = pd.read_csv(seeds_path)
    rows = chunk_range(chunk, len(seeds), chunk_size)
    chunk_seeds = seeds.iloc[rows.start : rows.stop]
    _keep_parts_of(work_dir, _record(simulation, search, chunk_seeds))
    parts = [
        range(start, min(start + checkpoint_every, rows.stop))
        for start in range(rows.start, rows.stop, checkpoint_every)
    ]
    pieces = [_load_part(part_path(work_dir, part), len(part), progress) for part in parts]
    saved = sum(len(part) for part, piece in zip(parts, pieces) if piece is not None)
    write_journal(work_dir, attempt_started(saved, len(rows), cpu_platform()))
    _check_images(simulation, store_path, chunk_seeds)

    initargs = (simulation.record(), asdict(search), str(store_path))
    bar = tqdm(
        total=len(rows),
        initial=saved,
        file=progress,
        disable=progress is None,
        mininterval=5.0,
        unit="lens",
    )
    with bar, _refining_map(initargs, workers) as refining_map:
        for index, part in enumerate(parts):
            if pieces[index] is not None:
                continue
            part_seeds = seeds.iloc[part.start : part.stop]
            tasks = [_task(seed, targets) for _, seed in part_seeds.iterrows()]
            refined = []
            for result in refining_map(_refine_task, tasks):
                refined.append(result)
                bar.update(1)
            frame = pd.DataFrame(
                [
                    refined_row(seed, targets, result)
                    for (_, seed), result in zip(part_seeds.iterrows(), refined)
                ]
            )
            with atomic_path(part_path(work_dir, part)) as temporary:
                frame.to_csv(temporary, index=False)
            pieces[index] = frame

    table = pd.concat(pieces, ignore_index=True)
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
    for part in parts:
        part_path(work_dir, part).unlink()
    (work_dir / SETTINGS_FILE).unlink()
    write_journal(work_dir, chunk_finished(path))
    return table


def _task(seed: pd.Series, targets: list[str]) -> tuple[int, dict[str, float], dict[str, float]]:
    """The refine task of one seed row: the lens and the CNN's means and sigmas."""
    mean = {name: float(seed[f"cnn_{name}"]) for name in targets}
    sigma = {name: float(seed[f"cnn_sigma_{name}"]) for name in targets}
    return int(seed["lens_index"]), mean, sigma


def _check_images(
    simulation: SimulationSettings, store_path: str | Path, seeds: pd.DataFrame
) -> None:
    """Refuse, before any fit, a store whose images are not the run's shape, a seed that is
    not finite, or a lens the store does not hold."""
    images = open_store(store_path)["images"]
    if tuple(images.shape[1:]) != simulation.image.shape:
        raise ImageError(
            f"{store_path}: images of shape {tuple(images.shape[1:])}, "
            f"expected {simulation.image.shape} (the run's image settings)"
        )
    lenses = seeds["lens_index"].to_numpy()
    if len(lenses) and (lenses.min() < 0 or lenses.max() >= images.shape[0]):
        raise ImageError(
            f"{store_path}: holds {images.shape[0]} lenses, a seed names lens {lenses.max()}"
        )
    columns = [column for column in seeds if column.startswith("cnn_")]
    bad = seeds.loc[~np.isfinite(seeds[columns].to_numpy(float)).all(axis=1), "lens_index"]
    if len(bad):
        raise ImageError(
            f"refine seeds: lens {int(bad.iloc[0])} has a CNN prediction that is not finite"
        )
