"""Consolidation: every chunk file into one zarr store plus a Parquet parameter table."""

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import zarr
from lenspipe.atomic import atomic_path, unused_name
from lenspipe.data.chunk_files import chunk_count, chunk_range, read_chunk
from lenspipe.data.store import create_store, open_store, store_chunk_slices
from lenspipe.errors import ChunkError
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.lensing_cut import rejection_summary
from tqdm import tqdm

TABLE_ROWS_PER_GROUP = 65536


def consolidate(
    settings: SimulationSettings,
    chunk_paths: Sequence[str | Path],
    store_path: str | Path,
    table_path: str | Path,
    progress: TextIO | None = None,
) -> None:
    """Check every chunk and write the store and the parameter table.

    Chunks are read one at a time, so memory stays bounded by one chunk. A bad chunk
    (unreadable, or not the lenses these settings make) is moved aside into a ``damaged/``
    folder beside it, so that rerunning the workflow simulates it again; ChunkError then
    names the file, where it went and what to run. Nothing is left at ``store_path`` or
    ``table_path``.
    """
    n_lenses, chunk_size = settings.n_lenses, settings.chunk_size
    expected = chunk_count(n_lenses, chunk_size)
    if len(chunk_paths) != expected:
        raise ChunkError(
            f"expected {expected} chunk files for n_lenses={n_lenses} and "
            f"chunk_size={chunk_size}, got {len(chunk_paths)}"
        )
    shape, names = settings.image.shape, settings.columns.names
    with atomic_path(store_path) as temporary_store:
        root = create_store(temporary_store, settings)
        store_images, store_parameters = root["images"], root["parameters"]
        store_lens_index = root["lens_index"]
        platforms: set[str] = set()  # the processors that made the lenses
        for chunk, path in enumerate(
            tqdm(chunk_paths, file=progress, disable=progress is None, unit="chunk")
        ):
            lenses = chunk_range(chunk, n_lenses, chunk_size)
            try:
                images, parameters, made_on = read_chunk(path, lenses, shape, names)
            except ChunkError as error:
                raise ChunkError(f"{error}\n{_set_aside(Path(path), chunk)}") from None
            platforms.update(made_on)
            block = slice(lenses.start, lenses.stop)
            store_images[block] = images
            store_parameters[block] = parameters
            store_lens_index[block] = np.arange(lenses.start, lenses.stop)
            # Free this chunk before the next is read, so at most one chunk is in memory.
            del images, parameters
        root.attrs["platforms"] = sorted(platforms)
        if settings.cut.enabled:
            rejected = store_parameters[:, names.index("rejected_draws")]
            root.attrs["lensing_cut"] = rejection_summary(rejected)
        zarr.consolidate_metadata(str(temporary_store))
    write_parameter_table(store_path, table_path)


def _set_aside(path: Path, chunk: int) -> str:
    """Move a bad chunk file into ``damaged/`` beside it (never over an earlier one) and
    say what happened and how to regenerate it."""
    damaged = path.parent / "damaged"
    damaged.mkdir(exist_ok=True)
    target = unused_name(damaged / path.name)
    path.rename(target)
    return (
        f"Moved it to {target}. Rerun the same snakemake command: it simulates chunk {chunk} "
        "again and consolidates. If the same check fails again, the settings themselves make "
        "such lenses."
    )


def write_parameter_table(store_path: str | Path, table_path: str | Path) -> None:
    """Write the store's parameters as a Parquet table (lens_index + one column each)."""
    root = open_store(store_path)
    n_lenses = root["lens_index"].shape[0]
    schema = pa.schema(
        [("lens_index", pa.int64())]
        + [(name, pa.float64()) for name in root.attrs["parameter_names"]]
    )
    with atomic_path(table_path) as temporary:
        with pq.ParquetWriter(temporary, schema) as writer:
            for block in store_chunk_slices(n_lenses, TABLE_ROWS_PER_GROUP):
                parameters = root["parameters"][block]
                columns = [root["lens_index"][block]] + list(parameters.T)
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
