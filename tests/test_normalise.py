"""Split and normalisation: seeded, fit on training rows only, exact inverse."""

import shutil

import numpy as np
import pytest
import zarr
from conftest import build_store, fit_small_normalisation, small_config
from lenspipe.data.normalise import (
    load_normalisation,
    load_split,
    save_normalisation,
    save_split,
)
from lenspipe.data.split import split_indices
from lenspipe.data.store import open_store, read_parameters

FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def test_split_is_a_seeded_partition_with_the_configured_sizes():
    subsets = split_indices(1000, FRACTIONS, seed=3)
    assert [len(subsets[name]) for name in ("train", "validation", "test")] == [800, 100, 100]
    assert np.array_equal(np.sort(np.concatenate(list(subsets.values()))), np.arange(1000))
    again = split_indices(1000, FRACTIONS, seed=3)
    assert all(np.array_equal(subsets[name], again[name]) for name in subsets)
    other = split_indices(1000, FRACTIONS, seed=4)
    assert not np.array_equal(subsets["test"], other["test"])


def test_split_csv_round_trips(tmp_path):
    subsets = split_indices(50, FRACTIONS, seed=3)
    save_split(subsets, tmp_path / "split.csv")
    loaded = load_split(tmp_path / "split.csv")
    assert all(np.array_equal(subsets[name], loaded[name]) for name in subsets)


def test_scalers_see_only_training_rows(small_store, tmp_path):
    config, store, _, _ = small_store
    copy = tmp_path / "lenses.zarr"
    shutil.copytree(store, copy)
    subsets, before = fit_small_normalisation(config, copy)
    # Make every non-training lens extreme; a fit that looked at them would change.
    root = zarr.open_group(str(copy), mode="r+")
    held_out = np.concatenate([subsets["validation"], subsets["test"]])
    column = root.attrs["parameter_names"].index("lens_theta_E")
    parameters = root["parameters"][:]
    parameters[held_out, column] = 1000.0
    root["parameters"][:] = parameters
    images = root["images"][:]
    images[held_out] = 1e6
    root["images"][:] = images
    _, after = fit_small_normalisation(config, copy)
    assert after.to_dict() == before.to_dict()
    train_values = read_parameters(open_store(store), before.targets)[subsets["train"]]
    assert np.array_equal(before.target_scaler.data_min_, train_values.min(axis=0))
    assert np.array_equal(before.target_scaler.data_max_, train_values.max(axis=0))


def test_image_scaling_maps_training_images_onto_unit_interval(small_store):
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    scaled = normalisation.image.transform(open_store(store)["images"].oindex[subsets["train"]])
    assert scaled.min() == pytest.approx(0.0, abs=1e-6)
    assert scaled.max() == pytest.approx(1.0, abs=1e-6)


def test_saved_normalisation_transforms_bit_for_bit_and_inverts(small_store, tmp_path):
    config, store, _, _ = small_store
    _, fitted = fit_small_normalisation(config, store)
    save_normalisation(fitted, tmp_path / "normalisation.json")
    loaded = load_normalisation(tmp_path / "normalisation.json")
    values = read_parameters(open_store(store), fitted.targets)
    assert np.array_equal(
        loaded.target_scaler.transform(values), fitted.target_scaler.transform(values)
    )
    assert np.array_equal(loaded.target_scaler.scale_, fitted.target_scaler.scale_)
    scaled = loaded.target_scaler.transform(values)
    # The scaling every training batch uses is sklearn's, bit for bit, without its checks.
    assert np.array_equal(loaded.transform_targets(values), scaled.astype(np.float32))
    np.testing.assert_allclose(loaded.inverse_targets(scaled), values, rtol=1e-14, atol=1e-15)
    images = open_store(store)["images"][:5]
    assert np.array_equal(loaded.image.transform(images), fitted.image.transform(images))


def test_per_band_range_spans_each_band_and_round_trips(tmp_path):
    config = small_config(
        n_lenses=30,
        chunk_size=30,
        observation={"bands": ["g", "r", "i"]},
        normalisation={"image_range": "per_band", "image_stretch": "linear"},
    )
    store, _, _ = build_store(config, tmp_path)
    subsets, fitted = fit_small_normalisation(config, store)
    train_images = open_store(store)["images"].oindex[subsets["train"]]
    scaled = fitted.image.transform(train_images)
    assert np.allclose(scaled.min(axis=(0, 1, 2)), 0.0, atol=1e-6)
    assert np.allclose(scaled.max(axis=(0, 1, 2)), 1.0, atol=1e-6)
    assert len(set(fitted.image.maximum)) == 3  # the bands differ in brightness
    save_normalisation(fitted, tmp_path / "normalisation.json")
    loaded = load_normalisation(tmp_path / "normalisation.json")
    assert np.array_equal(loaded.image.transform(train_images), scaled)
