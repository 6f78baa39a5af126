"""Images from outside a run's store: read and checked before any model is loaded."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from lenspipe.evaluation.apply import ImageBatches
from lenspipe.evaluation.image_files import read_images
from workflow_helpers import REPO

SHAPE = (8, 6, 1)


def test_one_band_images_may_leave_out_the_band_axis(tmp_path):
    images = np.random.default_rng(1).normal(size=(3, 8, 6))
    np.save(tmp_path / "three.npy", images)
    np.save(tmp_path / "one.npy", images[0])
    read = read_images(tmp_path / "three.npy", SHAPE)
    assert read.shape == (3, 8, 6, 1) and read.dtype == np.float32
    np.testing.assert_array_equal(read[..., 0], images.astype(np.float32))
    np.testing.assert_array_equal(read_images(tmp_path / "one.npy", SHAPE), read[:1])


def test_a_fits_cube_reads_as_the_same_images(tmp_path):
    images = np.random.default_rng(2).normal(size=(4, 8, 6)).astype(">f4")  # FITS is big-endian
    fits.PrimaryHDU(images).writeto(tmp_path / "cube.fits")
    np.save(tmp_path / "cube.npy", images)
    from_fits = read_images(tmp_path / "cube.fits", SHAPE)
    assert from_fits.dtype == np.dtype("float32")  # native byte order, as TensorFlow needs
    np.testing.assert_array_equal(from_fits, read_images(tmp_path / "cube.npy", SHAPE))
    fits.PrimaryHDU().writeto(tmp_path / "header_only.fits")
    with pytest.raises(ValueError, match="header_only.fits: cannot read images from it"):
        read_images(tmp_path / "header_only.fits", SHAPE)


def test_several_bands_need_their_axis(tmp_path):
    np.save(tmp_path / "bands.npy", np.ones((2, 8, 6, 3)))
    assert read_images(tmp_path / "bands.npy", (8, 6, 3)).shape == (2, 8, 6, 3)
    np.save(tmp_path / "one.npy", np.ones((8, 6, 3)))
    assert read_images(tmp_path / "one.npy", (8, 6, 3)).shape == (1, 8, 6, 3)
    with pytest.raises(ValueError, match=r"bands.npy: images of shape \(2, 8, 6, 3\); expected"):
        read_images(tmp_path / "bands.npy", SHAPE)


@pytest.mark.parametrize(
    "name, array, message",
    [
        ("small.npy", np.ones((2, 8, 5)), r"shape \(2, 8, 5\); expected \(N, 8, 6\) or"),
        ("empty.npy", np.ones((0, 8, 6)), r"shape \(0, 8, 6\); expected .* N >= 1"),
        ("flat.npy", np.ones(48), r"shape \(48,\); expected"),
        ("text.npy", np.array(["a", "b"]), "type <U1; expected real numbers"),
    ],
)
def test_a_wrong_array_is_named_with_what_was_expected(tmp_path, name, array, message):
    np.save(tmp_path / name, array)
    with pytest.raises(ValueError, match=f"{name}: images of {message}"):
        read_images(tmp_path / name, SHAPE)


def test_the_first_image_with_bad_pixels_is_named(tmp_path):
    images = np.ones((6, 8, 6))
    images[3, 2, 2] = np.nan
    images[4, 0, 0] = np.inf
    images[5, 1, 1] = 1e39  # finite in float64, infinite as the float32 the network reads
    np.save(tmp_path / "bad.npy", images)
    with pytest.raises(ValueError, match=r"bad.npy: image 3 has NaN .* \(and 2 other images\)"):
        read_images(tmp_path / "bad.npy", SHAPE)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("images.csv", b"1,2\n", "unknown file type; expected a .npy or FITS file"),
        ("broken.npy", b"not an array", "cannot read images from it"),
        ("pickled.npy", None, "cannot read images from it"),
    ],
)
def test_an_unreadable_file_is_named(tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        np.save(path, np.array([{"a": 1}], dtype=object))  # needs pickle to load: refused
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=f"{name}: {message}"):
        read_images(path, SHAPE)
    with pytest.raises(ValueError, match="missing.npy: no such file"):
        read_images(tmp_path / "missing.npy", SHAPE)


def test_batches_cover_every_image_once_in_order():
    images = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    batches = ImageBatches(images, 4)
    assert len(batches) == 3
    read = np.concatenate([batches.batch(batch)[0] for batch in range(len(batches))])
    np.testing.assert_array_equal(read, images)


def test_a_run_without_its_model_is_named_before_any_work(tmp_path):
    shutil.copytree(REPO / "config", tmp_path / "config")
    np.save(tmp_path / "mine.npy", np.ones((2, 64, 64)))
    command = [sys.executable, "-m", "lenspipe", "predict", "--images", "mine.npy"]
    command += ["--configfile", "config/local.yaml", "--out", "mine.csv"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    expected = "results/local/models/cnn/model.keras: no trained model 'cnn' in run 'local'"
    assert expected in result.stderr
    assert not (tmp_path / "mine.csv").exists()
    # A model and its calibration, but the run's store is gone: named, nothing written.
    model_dir = tmp_path / "results" / "local" / "models" / "cnn"
    model_dir.mkdir(parents=True)
    (model_dir / "model.keras").touch()
    (model_dir / "calibration.json").touch()
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "results/local/lenses.zarr: no store of the run's images" in result.stderr
    assert not (tmp_path / "mine.csv").exists()
