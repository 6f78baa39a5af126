"""The run's zarr v3 store: every lens's image and parameters in one place.

Layout of ``lenses.zarr``:

- ``images``: float32 (N, H, W, bands), chunked along the lens axis, zstd-compressed;
- every chunk of every array ends with the CRC-32C checksum of its stored bytes;
- ``parameters``: float64 (N, P), one column per entry of the ``parameter_names`` attribute;
- ``lens_index``: int64 (N,), equal to 0..N-1;
- group attributes: ``config`` (the simulation settings of the run's config: lens count,
  chunk size, seed, observation, lens system, colours, lensing cut, image, priors), ``seed``,
  ``parameter_names``, ``bands`` (the channel order), ``versions``, ``platforms`` (the
  processors that simulated the lenses, ``lenspipe.versions.cpu_platform``), and with a
  lensing cut ``lensing_cut`` (lenses, rejected draws, rejection rate).
"""

import warnings
from pathlib import Path

import numpy as np
import zarr
from lenspipe.settings import SimulationSettings
from lenspipe.versions import package_versions

LENSES_PER_STORE_CHUNK = 256
CHECKSUMMED = (zarr.codecs.ZstdCodec(level=3), zarr.codecs.Crc32cCodec())
"""The images' and parameters' codecs after serialisation: zstd, then the CRC-32C checksum of
the compressed bytes, which zarr checks on every read (``lenspipe.data.store_check``)."""

# lenspipe writes consolidated metadata once, after every write, so that opening a store reads
# one file; zarr warns on each use that consolidation is not yet part of the v3 specification.
warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)


def create_store(path: str | Path, settings: SimulationSettings) -> zarr.Group:
    """Create an empty store for the lenses of ``settings`` at ``path``."""
    n_lenses = settings.n_lenses
    shape = settings.image.shape
    names = settings.columns.names
    chunk = min(LENSES_PER_STORE_CHUNK, n_lenses)
    root = zarr.open_group(str(path), mode="w-", zarr_format=3)
    root.create_array(
        "images",
        shape=(n_lenses, *shape),
        chunks=(chunk, *shape),
        dtype="float32",
        compressors=CHECKSUMMED,
        dimension_names=("lens", "y", "x", "band"),
    )
    root.create_array(
        "parameters",
        shape=(n_lenses, len(names)),
        chunks=(min(16 * chunk, n_lenses), len(names)),
        dtype="float64",
        compressors=CHECKSUMMED,
        dimension_names=("lens", "parameter"),
    )
    root.create_array(
        "lens_index",
        shape=(n_lenses,),
        chunks=(min(16 * chunk, n_lenses),),
        dtype="int64",
        compressors=zarr.codecs.Crc32cCodec(),
        dimension_names=("lens",),
    )
    root.attrs.update(
        {
            "config": settings.record(),
            "seed": settings.seed,
            "bands": list(settings.observation.bands),
            "parameter_names": list(names),
            "versions": package_versions(),
        }
    )
    return root


def open_store(path: str | Path) -> zarr.Group:
    """Open a finished store read-only."""
    return zarr.open_group(str(path), mode="r", use_consolidated=True)


def store_chunk_slices(n_lenses: int, lenses_per_block: int) -> list[slice]:
    """Contiguous blocks of lens indices that together cover the store."""
    return [
        slice(start, min(start + lenses_per_block, n_lenses))
        for start in range(0, n_lenses, lenses_per_block)
    ]


def read_parameters(root: zarr.Group, names: list[str]) -> np.ndarray:
    """Return the parameter columns ``names`` of every lens, as float64 (N, len(names))."""
    columns = [list(root.attrs["parameter_names"]).index(name) for name in names]
    return root["parameters"][:, columns]


def store_pix2angle(store_path: str | Path) -> np.ndarray:
    """lenstronomy's pixel-to-angle matrix of the images in the store (from its settings)."""
    from lenspipe.simulation.simulate import LensSimulator

    settings = SimulationSettings.from_config(open_store(store_path).attrs["config"])
    return LensSimulator(settings).pix2angle()
