"""Simulate one chunk of lenses in saved parts, so a killed or timed-out job resumes.

The parts live in a work folder outside the rule's declared output: Snakemake deletes the
outputs of a failed job, not this folder. Each part is a fixed range of lenses written
atomically; since every lens draws from its own seeded generator, a chunk assembled from
parts made by several attempts is byte-for-byte the chunk one uninterrupted attempt writes.
After success the parts are removed and only the attempt journal is kept.
"""

from pathlib import Path
from typing import TextIO

import numpy as np
from lenspipe.data.chunk_files import chunk_range, read_chunk, write_chunk
from lenspipe.errors import ChunkError
from lenspipe.runs.chunk_work import (
    attempt_started,
    chunk_finished,
    keep_parts_made_with,
    part_path,
    part_ranges,
    saved_parts,
    write_journal,
)
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.lensing_cut import rejection_summary
from lenspipe.simulation.simulate import LensSimulator
from lenspipe.versions import cpu_platform
from lenspipe.work_settings import SETTINGS_FILE
from tqdm import tqdm


def simulate_chunk(
    settings: SimulationSettings,
    chunk: int,
    path: str | Path,
    work_dir: str | Path,
    checkpoint_every: int,
    progress: TextIO | None = None,
    pause_seconds: float = 0.0,
) -> None:
    """Simulate chunk number ``chunk`` of a run's ``settings`` into ``path``, resumably.

    Lenses already saved in ``work_dir`` by an earlier attempt with the same simulation
    settings are reused; the rest are simulated and saved every ``checkpoint_every`` lenses.
    ``pause_seconds`` slows every lens down, for tests that need a job to run out of time.
    """
    work_dir = Path(work_dir)
    lenses = chunk_range(chunk, settings.n_lenses, settings.chunk_size)
    parts = part_ranges(lenses, checkpoint_every)
    keep_parts_made_with(work_dir, settings.record(), saved_parts(work_dir))
    pieces = [_load_saved_part(work_dir, part, settings, progress) for part in parts]
    saved_lenses = sum(len(part) for part, piece in zip(parts, pieces) if piece is not None)
    write_journal(work_dir, attempt_started(saved_lenses, len(lenses), cpu_platform()))

    simulator = LensSimulator(settings)
    names = simulator.parameter_names
    bar = tqdm(
        total=len(lenses),
        initial=saved_lenses,
        file=progress,
        disable=progress is None,
        mininterval=5.0,
        unit="lens",
    )
    with bar:
        for index, part in enumerate(parts):
            if pieces[index] is None:
                images, parameters = simulator.simulate_many(part, bar, pause_seconds)
                pieces[index] = (images, parameters, [cpu_platform()])
                write_chunk(
                    part_path(work_dir, part), np.asarray(part), *pieces[index], names=names
                )

    parameters = np.concatenate([parameters for _, parameters, _ in pieces])
    write_chunk(
        path,
        np.asarray(lenses),
        np.concatenate([images for images, _, _ in pieces]),
        parameters,
        [platform for _, _, platforms in pieces for platform in platforms],
        names,
    )
    if settings.cut.enabled:
        summary = rejection_summary(parameters[:, names.index("rejected_draws")])
        message = (
            f"lensing cut: {summary['rejected_draws']} draws rejected for "
            f"{summary['lenses']} lenses (rejection rate {summary['rejection_rate']:.3f})"
        )
        write_journal(work_dir, message)
        if progress is not None:
            print(message, file=progress)
    for part in parts:
        part_path(work_dir, part).unlink()
    (work_dir / SETTINGS_FILE).unlink()
    write_journal(work_dir, chunk_finished(path))


def _load_saved_part(
    work_dir: Path, part: range, settings: SimulationSettings, progress: TextIO | None
) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """The images, parameters and platforms of ``part`` if an earlier attempt saved them
    readably.

    An unreadable part file (truncated, emptied, flipped bytes) is removed, named in the
    journal and the log, so that the part is simulated again.
    """
    file = part_path(work_dir, part)
    if not file.exists():
        return None
    try:
        return read_chunk(file, part, settings.image.shape, settings.columns.names)
    except ChunkError as error:
        message = f"discarded unreadable part, simulating it again: {error}"
        write_journal(work_dir, message)
        if progress is not None:
            print(message, file=progress)
        file.unlink()
        return None
