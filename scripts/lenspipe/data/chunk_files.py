"""Chunk files: the images and parameter rows of one contiguous range of lenses.

A chunk is an uncompressed ``.npz`` with ``lens_index`` (int64, N), ``images`` (float32,
N x H x W x bands), ``parameters`` (float64, N x P), ``parameter_names`` (P strings) and
``platforms`` (the processors that simulated its lenses, ``lenspipe.versions.cpu_platform``).
Its bytes depend only on its contents: the archive members carry a fixed timestamp, unlike
``numpy.savez``, so a resumed chunk job writes exactly the file an uninterrupted one would.
"""

import math
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from lenspipe.atomic import atomic_path
from lenspipe.errors import ChunkError
from lenspipe.simulation.parameters import padded_columns

# The earliest time a zip archive can record (1980-01-01), used for every member.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def chunk_count(n_lenses: int, chunk_size: int) -> int:
    """Number of chunks that cover ``n_lenses`` lenses."""
    return math.ceil(n_lenses / chunk_size)


def chunk_range(chunk: int, n_lenses: int, chunk_size: int) -> range:
    """Lens indices of chunk number ``chunk``."""
    if not 0 <= chunk < chunk_count(n_lenses, chunk_size):
        raise ValueError(f"chunk {chunk} is outside 0..{chunk_count(n_lenses, chunk_size) - 1}")
    return range(chunk * chunk_size, min((chunk + 1) * chunk_size, n_lenses))


def write_chunk(
    path: str | Path,
    lens_index: np.ndarray,
    images: np.ndarray,
    parameters: np.ndarray,
    platforms: Sequence[str],
    names: tuple[str, ...],
) -> None:
    """Write one chunk file atomically, with bytes that depend only on the arrays, the
    ``platforms`` that made them and the column ``names``."""
    arrays = {
        "lens_index": np.asarray(lens_index, dtype=np.int64),
        "images": images,
        "parameters": parameters,
        "parameter_names": np.array(names),
        "platforms": np.array(sorted(set(platforms)), dtype=str),
    }
    with atomic_path(path) as temporary, temporary.open("wb") as handle:
        _write_npz(handle, arrays)


def _write_npz(handle: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            with archive.open(member, "w", force_zip64=True) as stream:
                np.lib.format.write_array(stream, np.asanyarray(array), allow_pickle=False)


def read_chunk(
    path: str | Path,
    expected_lenses: range,
    image_shape: tuple[int, ...],
    parameter_names: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read and check one chunk file that should hold exactly the lenses ``expected_lenses``.

    Returns (images, parameters, platforms): the platforms are the processors that made the
    lenses ([] for files from before lenspipe recorded them). Raises ChunkError naming the file when it is unreadable,
    when its lens indices differ from ``expected_lenses`` (count or contiguity), when its
    columns differ from ``parameter_names``, or when its arrays have the wrong shape, dtype or
    non-finite values (NaN is allowed only in the padding of a quasar's image columns).
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {
                key: data[key] for key in ("lens_index", "images", "parameters", "parameter_names")
            }
            platforms = data["platforms"].tolist() if "platforms" in data.files else []
    # A damaged archive fails in many ways (BadZipFile, a bad CRC, EOFError, OSError, KeyError,
    # ValueError, NotImplementedError for a flipped compression field...): all mean unreadable.
    except Exception as error:
        raise ChunkError(
            f"{path}: cannot read chunk file: {type(error).__name__}: {error}"
        ) from None
    lens_index, images, parameters = arrays["lens_index"], arrays["images"], arrays["parameters"]
    count = len(expected_lenses)
    if not np.array_equal(lens_index, np.asarray(expected_lenses)):
        raise ChunkError(
            f"{path}: expected the {count} lenses {expected_lenses.start}.."
            f"{expected_lenses.stop - 1}, got {len(lens_index)} lens indices "
            f"{lens_index[:3].tolist()}...{lens_index[-3:].tolist()}"
        )
    if tuple(arrays["parameter_names"].tolist()) != tuple(parameter_names):
        raise ChunkError(f"{path}: parameter columns differ from {parameter_names}")
    checks = (
        ("images", images, (count, *image_shape), np.float32),
        ("parameters", parameters, (count, len(parameter_names)), np.float64),
    )
    for name, array, shape, dtype in checks:
        if array.shape != shape or array.dtype != dtype:
            raise ChunkError(
                f"{path}: expected {name} of shape {shape} and dtype {np.dtype(dtype)}, "
                f"got {array.shape} {array.dtype}"
            )
        bad = ~np.isfinite(array)
        if name == "parameters":
            padded = [column in padded_columns() for column in parameter_names]
            bad[:, padded] = np.isinf(array[:, padded])
        if bad.any():
            raise ChunkError(f"{path}: {name} hold {np.count_nonzero(bad)} non-finite values")
    return images, parameters, platforms
