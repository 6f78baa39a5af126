"""Image files from outside a run: every FITS extension, compressed FITS, bands first, and
files that are not what their name says, each refused in one line naming the file."""

import numpy as np
import pytest
from astropy.io import fits
from lenspipe.evaluation.image_files import image_count, read_images

SHAPE = (8, 6, 1)
BANDS = (8, 6, 3)


def images(*shape: int) -> np.ndarray:
    return np.random.default_rng(3).uniform(0.1, 5.0, shape).astype(np.float32)


def test_every_image_extension_of_a_fits_file_is_read_in_order(tmp_path):
    data = images(3, 8, 6)
    hdus = [fits.PrimaryHDU()] + [
        fits.ImageHDU(image, name=f"LENS{k}") for k, image in enumerate(data)
    ]
    hdus.append(fits.BinTableHDU.from_columns([fits.Column("x", "E", array=[1.0])]))
    fits.HDUList(hdus).writeto(tmp_path / "three.fits")
    read = read_images(tmp_path / "three.fits", SHAPE)
    np.testing.assert_array_equal(read[..., 0], data)
    assert image_count(tmp_path / "three.fits", SHAPE) == 3


def test_extensions_that_share_a_name_are_each_read(tmp_path):
    data = images(2, 8, 6)
    hdus = [fits.PrimaryHDU()] + [
        fits.ImageHDU(image, name="SCI", ver=k + 1) for k, image in enumerate(data)
    ]
    fits.HDUList(hdus).writeto(tmp_path / "sci.fits")
    np.testing.assert_array_equal(read_images(tmp_path / "sci.fits", SHAPE)[..., 0], data)


def test_extensions_of_different_shapes_are_refused_by_name(tmp_path):
    hdus = [fits.PrimaryHDU(images(8, 6)), fits.ImageHDU(images(8, 8), name="WIDE")]
    fits.HDUList(hdus).writeto(tmp_path / "mixed.fits")
    for read in (read_images, image_count):
        with pytest.raises(ValueError) as error:
            read(tmp_path / "mixed.fits", SHAPE)
        message = str(error.value)
        assert "mixed.fits" in message and "0: (8, 6)" in message and "WIDE: (8, 8)" in message
        assert "\n" not in message


def test_a_tile_compressed_fits_file_is_read(tmp_path):
    data = images(2, 8, 6)
    hdus = [
        fits.PrimaryHDU(),
        fits.CompImageHDU(data, compression_type="GZIP_2", quantize_level=0),
    ]
    fits.HDUList(hdus).writeto(tmp_path / "cutouts.fits.fz")
    np.testing.assert_array_equal(read_images(tmp_path / "cutouts.fits.fz", SHAPE)[..., 0], data)
    assert image_count(tmp_path / "cutouts.fits.fz", SHAPE) == 2


@pytest.mark.parametrize("stack", [False, True])
def test_bands_first_are_moved_last(tmp_path, stack):
    cube = images(2, 3, 8, 6) if stack else images(3, 8, 6)
    np.save(tmp_path / "cube.npy", cube)
    read = read_images(tmp_path / "cube.npy", BANDS, band_axis="first")
    expected = np.moveaxis(cube if stack else cube[np.newaxis], 1, -1)
    np.testing.assert_array_equal(read, expected)
    assert image_count(tmp_path / "cube.npy", BANDS, band_axis="first") == len(expected)


def test_a_band_cube_given_as_bands_first_is_not_read_as_images_of_one_band(tmp_path):
    np.save(tmp_path / "cube.npy", images(3, 8, 6))
    assert read_images(tmp_path / "cube.npy", SHAPE).shape == (3, 8, 6, 1)  # bands last: 3 images
    with pytest.raises(
        ValueError, match=r"cube.npy: images of shape \(3, 8, 6\); expected \(1, 8, 6\)"
    ):
        read_images(tmp_path / "cube.npy", SHAPE, band_axis="first")


def test_fits_extensions_are_bands_when_the_bands_come_first(tmp_path):
    bands = images(3, 8, 6)
    hdus = [fits.PrimaryHDU()] + [
        fits.ImageHDU(band, name=name) for band, name in zip(bands, "gri")
    ]
    fits.HDUList(hdus).writeto(tmp_path / "gri.fits")
    read = read_images(tmp_path / "gri.fits", BANDS, band_axis="first")
    np.testing.assert_array_equal(read[0], np.moveaxis(bands, 0, -1))


NOT_WHAT_THEY_SAY = {
    "empty.npy": (lambda path: path.write_bytes(b""), "empty or truncated (0 bytes)"),
    "truncated.npy": (
        lambda path: path.write_bytes(np.lib.format.magic(1, 0) + b"\x10\x00{'descr'"),
        "cannot read images from it",
    ),
    "archive.npy": (
        lambda path: np.savez(path.with_suffix(".npz"), a=images(8, 6), b=images(8, 6))
        or path.with_suffix(".npz").rename(path),
        "an .npz archive of arrays (a, b) under a .npy name",
    ),
    "text.fits": (lambda path: path.write_text("not FITS"), "cannot read images from it"),
    "empty.fits": (lambda path: fits.PrimaryHDU().writeto(path), "no image extension holds data"),
}


@pytest.mark.parametrize("name", NOT_WHAT_THEY_SAY)
def test_a_file_that_is_not_what_its_name_says_is_one_line_naming_it(tmp_path, name):
    make, expected = NOT_WHAT_THEY_SAY[name]
    make(tmp_path / name)
    for read in (read_images, image_count):
        with pytest.raises(ValueError) as error:
            read(tmp_path / name, SHAPE)
        assert str(error.value).startswith(f"{tmp_path / name}: ")
        assert expected in str(error.value) and "\n" not in str(error.value)
