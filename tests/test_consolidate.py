"""Consolidation: chunk files into a real zarr store; bad chunks are named and nothing is left."""

import filecmp
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import build_store, small_config
from lenspipe.data.chunk_files import write_chunk
from lenspipe.data.consolidate import consolidate
from lenspipe.data.store import open_store
from lenspipe.errors import ChunkError
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator
from lenspipe.versions import cpu_platform


def test_store_holds_every_lens_with_provenance(small_store):
    config, store, table, _ = small_store
    root = open_store(store)
    names = SimulationSettings.from_config(config).columns.names
    assert root["images"].shape == (60, 32, 32, 1)
    assert root["images"].dtype == np.float32
    assert root["parameters"].shape == (60, len(names))
    assert np.array_equal(root["lens_index"][:], np.arange(60))
    assert root.attrs["seed"] == 7
    assert root.attrs["config"]["n_lenses"] == 60
    assert root.attrs["parameter_names"] == list(names)
    assert set(root.attrs["versions"]) >= {"lenstronomy", "zarr", "numpy"}
    assert root.attrs["platforms"] == [cpu_platform()]
    images, parameters = LensSimulator(SimulationSettings.from_config(config)).simulate_many(
        [0, 41]
    )
    assert np.array_equal(root["images"].oindex[[0, 41]], images)
    assert np.array_equal(root["parameters"].oindex[[0, 41]], parameters)


def test_parameter_table_matches_the_store(small_store):
    config, store, table, _ = small_store
    names = SimulationSettings.from_config(config).columns.names
    frame = pd.read_parquet(table)
    assert list(frame.columns) == ["lens_index", *names]
    assert np.array_equal(frame["lens_index"].to_numpy(), np.arange(60))
    assert np.array_equal(frame[list(names)].to_numpy(), open_store(store)["parameters"][:])


def test_two_chunk_sizes_give_bit_identical_data(small_store, tmp_path):
    _, store, table, _ = small_store
    other_store, other_table, _ = build_store(small_config(chunk_size=17), tmp_path)
    for array in ("images", "parameters", "lens_index"):
        assert np.array_equal(open_store(store)[array][:], open_store(other_store)[array][:])
        chunk_files = sorted(
            p.relative_to(store) for p in (store / array / "c").rglob("*") if p.is_file()
        )
        assert chunk_files
        for name in chunk_files:  # the compressed bytes on disk, not only the values
            assert filecmp.cmp(store / name, other_store / name, shallow=False)
    pd.testing.assert_frame_equal(pd.read_parquet(table), pd.read_parquet(other_table))


def _corrupt(path, **changes):
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays.update(changes)
    path.unlink()
    names = tuple(arrays["parameter_names"].tolist())
    write_chunk(
        path,
        arrays["lens_index"],
        arrays["images"],
        arrays["parameters"],
        arrays["platforms"].tolist(),
        names,
    )


CORRUPTIONS = {
    "non-finite image": lambda a: {
        "images": np.where(
            np.arange(a["images"].size).reshape(a["images"].shape) == 5, np.nan, a["images"]
        ).astype(np.float32)
    },
    "wrong dtype": lambda a: {"images": a["images"].astype(np.float64)},
    "wrong image shape": lambda a: {"images": a["images"][:, :16]},
    "missing lens": lambda a: {k: a[k][:-1] for k in ("lens_index", "images", "parameters")},
    "non-contiguous index": lambda a: {"lens_index": a["lens_index"] + 1},
    "non-finite parameter": lambda a: {"parameters": np.full_like(a["parameters"], np.inf)},
}


@pytest.mark.parametrize("corruption", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_bad_chunk_is_named_and_nothing_is_written(small_store, tmp_path, corruption):
    config, _, _, chunks = small_store
    copies = []
    for path in chunks:
        copies.append(tmp_path / path.name)
        shutil.copy(path, copies[-1])
    with np.load(copies[1]) as data:
        arrays = {key: data[key] for key in data.files}
    _corrupt(copies[1], **corruption(arrays))
    store, table = tmp_path / "lenses.zarr", tmp_path / "parameters.parquet"
    with pytest.raises(ChunkError, match=str(copies[1])):
        consolidate(SimulationSettings.from_config(config), copies, store, table)
    assert not store.exists() and not table.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [copies[0].name, copies[2].name, "damaged"]
    )
    assert [p.name for p in (tmp_path / "damaged").iterdir()] == [copies[1].name]


DAMAGES = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "flipped byte": lambda data: data[:4000] + bytes([data[4000] ^ 0x40]) + data[4001:],
    "not an archive": lambda data: b"not a chunk",
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_chunk_is_named_and_set_aside_for_the_rerun(small_store, tmp_path, damage):
    config, _, _, chunks = small_store
    copies = []
    for path in chunks:
        copies.append(tmp_path / "chunks" / path.name)
        copies[-1].parent.mkdir(exist_ok=True)
        shutil.copy(path, copies[-1])
    copies[1].write_bytes(damage(copies[1].read_bytes()))
    damaged_bytes = copies[1].read_bytes()

    with pytest.raises(ChunkError) as error:
        consolidate(
            SimulationSettings.from_config(config),
            copies,
            tmp_path / "s.zarr",
            tmp_path / "t.parquet",
        )
    moved = tmp_path / "chunks" / "damaged" / copies[1].name
    message = str(error.value)
    assert str(copies[1]) in message and str(moved) in message
    assert "simulates chunk 1 again" in message
    assert not copies[1].exists() and moved.read_bytes() == damaged_bytes

    # Damaged a second time: the first copy set aside is kept, not overwritten.
    copies[1].write_bytes(b"damaged again")
    with pytest.raises(ChunkError, match="chunk_00001.1.npz"):
        consolidate(
            SimulationSettings.from_config(config),
            copies,
            tmp_path / "s.zarr",
            tmp_path / "t.parquet",
        )
    assert moved.read_bytes() == damaged_bytes


def test_wrong_number_of_chunks_is_refused(small_store, tmp_path):
    config, _, _, chunks = small_store
    with pytest.raises(ChunkError, match="expected 3 chunk files"):
        consolidate(
            SimulationSettings.from_config(config),
            chunks[:2],
            tmp_path / "s.zarr",
            tmp_path / "t.parquet",
        )


def test_existing_store_is_not_overwritten(small_store):
    config, store, table, chunks = small_store
    with pytest.raises(FileExistsError):
        consolidate(SimulationSettings.from_config(config), chunks, store, table)
