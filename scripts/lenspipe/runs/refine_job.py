"""Refine one chunk of a seeds table in saved parts, so a killed or timed-out job resumes.

Job ``k`` fits rows ``k * chunk_size`` onwards of a seeds table (``refine/seeds.csv``, or the
seeds of a set of ``refine.cutouts``) in worker processes (``lenspipe.refinement.pool``) and
saves every ``checkpoint_every`` rows as a part in its work folder, outside the rule's outputs,
which Snakemake deletes when a job fails. A part is kept for a later attempt only if the
settings record beside it matches this attempt's (the simulation, the search and the chunk's
seed rows): a retrained CNN or a changed search refits everything. The journal beside the
parts is the simulation chunks' (``lenspipe.runs.chunk_work``), which the status command reads.
"""

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.data.chunk_files import chunk_range
from lenspipe.errors import ImageError
from lenspipe.settings import RefineSearch
from lenspipe.refinement.pool import image_source, refine_rows, refining_map
from lenspipe.runs.chunk_work import (
    attempt_started,
    chunk_finished,
    keep_parts_made_with,
    write_journal,
)
from lenspipe.settings import SimulationSettings
from lenspipe.versions import cpu_platform
from lenspipe.work_settings import SETTINGS_FILE
from tqdm import tqdm


def part_path(work_dir: Path, rows: range) -> Path:
    """The saved part of seed rows ``rows``."""
    return work_dir / f"rows_{rows.start:09d}-{rows.stop - 1:09d}.csv"


def _record(simulation: SimulationSettings, search: RefineSearch, seeds: pd.DataFrame) -> dict:
    """What a saved part was made with: the simulation, the search and a digest of the
    chunk's seed rows."""
    digest = hashlib.sha256(seeds.to_csv(index=False).encode()).hexdigest()
    return {"simulation": simulation.record(), "search": asdict(search), "seeds": digest}


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
    images_path: str | Path,
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
    record = _record(simulation, search, chunk_seeds)
    keep_parts_made_with(work_dir, record, sorted(work_dir.glob("rows_*.csv")))
    parts = [
        range(start, min(start + checkpoint_every, rows.stop))
        for start in range(rows.start, rows.stop, checkpoint_every)
    ]
    pieces = [_load_part(part_path(work_dir, part), len(part), progress) for part in parts]
    saved = sum(len(part) for part, piece in zip(parts, pieces) if piece is not None)
    write_journal(work_dir, attempt_started(saved, len(rows), cpu_platform()))
    _check_images(simulation, images_path, chunk_seeds)

    bar = tqdm(
        total=len(rows),
        initial=saved,
        file=progress,
        disable=progress is None,
        mininterval=5.0,
        unit="lens",
    )
    with bar, refining_map(simulation, search, images_path, workers) as mapping:
        for index, part in enumerate(parts):
            if pieces[index] is not None:
                continue
            frame = refine_rows(seeds.iloc[part.start : part.stop], targets, mapping, bar)
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


def _check_images(
    simulation: SimulationSettings, images_path: str | Path, seeds: pd.DataFrame
) -> None:
    """Refuse, before any fit, a store whose images are not the run's shape, a seed that is
    not finite, or a lens the store does not hold."""
    images = image_source(images_path)
    if tuple(images.shape[1:]) != simulation.image.shape:
        raise ImageError(
            f"{images_path}: images of shape {tuple(images.shape[1:])}, "
            f"expected {simulation.image.shape} (the run's image settings)"
        )
    lenses = seeds["lens_index"].to_numpy()
    if len(lenses) and (lenses.min() < 0 or lenses.max() >= images.shape[0]):
        raise ImageError(
            f"{images_path}: holds {images.shape[0]} lenses, a seed names lens {lenses.max()}"
        )
    columns = [column for column in seeds if column.startswith("cnn_")]
    bad = seeds.loc[~np.isfinite(seeds[columns].to_numpy(float)).all(axis=1), "lens_index"]
    if len(bad):
        raise ImageError(
            f"refine seeds: lens {int(bad.iloc[0])} has a CNN prediction that is not finite"
        )
