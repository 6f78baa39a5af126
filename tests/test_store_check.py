"""The store's chunks carry checksums: a damaged byte is named, before and while reading."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import fit_small_normalisation
from lenspipe.data.store import open_store
from lenspipe.data.store_check import check_store, damaged_chunks
from lenspipe.errors import StoreError


@pytest.fixture
def store_copy(small_store, tmp_path) -> Path:
    copy = tmp_path / "lenses.zarr"
    shutil.copytree(small_store[1], copy)
    return copy


def overwrite(file: Path, offset: int, data: bytes) -> None:
    with open(file, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def first_image_chunk(store: Path) -> Path:
    return sorted(path for path in (store / "images" / "c").rglob("*") if path.is_file())[0]


def test_an_intact_store_has_no_damaged_chunks(small_store):
    assert damaged_chunks(small_store[1]) == []
    check_store(small_store[1])


@pytest.mark.parametrize("where", ["start", "middle", "checksum"])
def test_random_bytes_in_an_image_chunk_are_named(store_copy, where):
    chunk = first_image_chunk(store_copy)
    size = chunk.stat().st_size
    offset = {"start": 0, "middle": size // 2, "checksum": size - 4}[where]
    original = chunk.read_bytes()[offset : offset + 4]
    noise = bytes(np.random.default_rng(1).integers(0, 256, 4, dtype=np.uint8))
    assert noise != original
    overwrite(chunk, offset, noise)

    name = str(chunk.relative_to(store_copy))
    assert damaged_chunks(store_copy) == [name]
    with pytest.raises(StoreError, match=f"1 chunk files fail their checksum \\({name}\\)"):
        check_store(store_copy)
    with pytest.raises(ValueError, match="checksum"):
        open_store(store_copy)["images"][:]


def test_a_damaged_parameter_chunk_is_named(store_copy):
    chunk = sorted((store_copy / "parameters" / "c").rglob("*"))[-1]
    overwrite(chunk, 10, b"\x00\x01\x02\x03")
    assert damaged_chunks(store_copy) == [str(chunk.relative_to(store_copy))]


def test_normalisation_refuses_a_damaged_store_before_reading_it(store_copy, small_store):
    overwrite(first_image_chunk(store_copy), 100, b"\xff" * 32)
    with pytest.raises(StoreError, match=str(store_copy)):
        fit_small_normalisation(small_store[0], store_copy)


def test_a_store_from_before_checksums_is_not_called_damaged(tmp_path):
    root = zarr.open_group(str(tmp_path / "old.zarr"), mode="w-", zarr_format=3)
    array = root.create_array("images", shape=(4, 2), chunks=(2, 2), dtype="float32")
    array[:] = 1.0
    assert damaged_chunks(tmp_path / "old.zarr") is None
