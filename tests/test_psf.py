"""Point-spread functions: pixel kernels from files, per band, checked before any work."""

import numpy as np
import pytest
from conftest import small_config
from lenspipe.errors import ConfigError
from lenspipe.settings import SimulationSettings, simulation_settings
from lenspipe.simulation.simulate import LensSimulator
from scipy.signal import fftconvolve


def kernel_file(tmp_path, name: str, kernel: np.ndarray) -> str:
    path = tmp_path / f"{name}.npy"
    np.save(path, kernel)
    return str(path)


def elongated_kernel(size: int = 9) -> np.ndarray:
    """A normalised kernel wider in x than in y, so its orientation shows in the image."""
    y, x = np.mgrid[:size, :size] - size // 2
    kernel = np.exp(-0.5 * ((x / 2.0) ** 2 + (y / 0.7) ** 2))
    return kernel / kernel.sum()


def noise_free(config: dict, lens: int = 0) -> list[np.ndarray]:
    simulator = LensSimulator(SimulationSettings.from_config(config))
    sampled = simulator.draw_parameters(np.random.default_rng(lens))
    return simulator.render(sampled).models


def test_the_image_is_the_unblurred_image_convolved_with_the_kernel_file(tmp_path):
    point = kernel_file(tmp_path, "point", np.ones((1, 1)))
    kernel = elongated_kernel()
    blur = kernel_file(tmp_path, "blur", kernel)
    # A uniform grid: adaptive supersampling refines the pixels each PSF's noise asks for.
    image = {"supersampling": 1}
    (sharp,) = noise_free(
        small_config(observation={"psf": "file", "psf_files": {"i": point}}, image=image)
    )
    (blurred,) = noise_free(
        small_config(observation={"psf": "file", "psf_files": {"i": blur}}, image=image)
    )
    expected = fftconvolve(sharp, kernel, mode="same")
    inner = (slice(8, -8), slice(8, -8))  # away from the edges, which the two treat apart
    assert np.allclose(blurred[inner], expected[inner], rtol=1e-6, atol=1e-9 * sharp.max())
    assert not np.allclose(blurred, sharp, rtol=0.01)


def test_each_band_takes_its_own_kernel(tmp_path):
    point = kernel_file(tmp_path, "point", np.ones((1, 1)))
    blur = kernel_file(tmp_path, "blur", elongated_kernel())
    observation = {"bands": ["g", "r"], "band": "r", "psf": "file"}
    same = noise_free(
        small_config(observation={**observation, "psf_files": {"g": point, "r": point}})
    )
    mixed = noise_free(
        small_config(observation={**observation, "psf_files": {"g": blur, "r": point}})
    )
    assert np.array_equal(mixed[1], same[1])
    assert mixed[0].max() < same[0].max()
    assert np.isclose(mixed[0].sum(), same[0].sum(), rtol=0.02)


@pytest.mark.parametrize(
    "kernel, expected",
    [
        (np.ones((4, 4)) / 16, "expected a square 2-D array of odd size"),
        (np.ones((3, 5)) / 15, "expected a square 2-D array of odd size"),
        (np.ones(9) / 9, "expected a square 2-D array of odd size"),
        (np.ones((3, 3)) / 3, "sums to 3; expected a normalised kernel"),
        (np.full((3, 3), np.nan), "has values that are not finite"),
    ],
)
def test_a_bad_kernel_file_is_refused_naming_the_band_and_what_was_expected(
    tmp_path, kernel, expected
):
    path = kernel_file(tmp_path, "bad", kernel)
    with pytest.raises(ConfigError, match=r"observation\.psf_files\.i: ") as error:
        small_config(observation={"psf": "file", "psf_files": {"i": path}})
    assert expected in str(error.value) and path in str(error.value)


def test_missing_and_unreadable_kernel_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"observation\.psf_files: .*missing for g"):
        small_config(observation={"bands": ["g", "i"], "psf": "file", "psf_files": {"i": "x.npy"}})
    with pytest.raises(ConfigError, match=r"observation\.psf_files\.i: cannot read"):
        small_config(observation={"psf": "file", "psf_files": {"i": str(tmp_path / "no.npy")}})
    text = tmp_path / "kernel.txt"
    text.write_text("1")
    with pytest.raises(
        ConfigError, match=r"observation\.psf_files\.i: \S+ is not a \.npy or \.fits file"
    ):
        small_config(observation={"psf": "file", "psf_files": {"i": str(text)}})
    with pytest.raises(ConfigError, match=r"observation\.psf_files\.z: z is not an imaged"):
        small_config(observation={"psf_files": {"z": str(text)}})


def test_a_fits_kernel_reads_like_the_same_npy_kernel(tmp_path):
    from astropy.io import fits

    kernel = elongated_kernel()
    fits_path = tmp_path / "kernel.fits"
    fits.writeto(fits_path, kernel)
    from_fits = noise_free(
        small_config(observation={"psf": "file", "psf_files": {"i": str(fits_path)}})
    )
    npy = kernel_file(tmp_path, "kernel", kernel)
    from_npy = noise_free(small_config(observation={"psf": "file", "psf_files": {"i": npy}}))
    assert np.array_equal(from_fits[0], from_npy[0])


def test_a_changed_kernel_file_changes_the_simulation_settings(tmp_path):
    path = kernel_file(tmp_path, "kernel", elongated_kernel())
    config = small_config(observation={"psf": "file", "psf_files": {"i": path}})
    before = simulation_settings(config)
    np.save(path, elongated_kernel(11))
    assert simulation_settings(config) != before
    assert "input_files_sha256" not in simulation_settings(small_config())


def test_jwst_bands_without_a_seeing_need_a_kernel_file(tmp_path):
    jwst = {"survey": "JWST", "band": "F200W"}
    with pytest.raises(ConfigError, match=r"observation\.psf: the JWST preset gives band F200W"):
        small_config(observation=jwst)
    path = kernel_file(tmp_path, "nircam", elongated_kernel())
    config = small_config(observation={**jwst, "psf": "file", "psf_files": {"F200W": path}})
    (image,) = noise_free(config)
    assert np.all(np.isfinite(image)) and image.max() > 0
    # F115W has a seeing in the preset: a Gaussian PSF works there.
    small_config(observation={"survey": "JWST", "band": "F115W"})


def test_the_fit_of_an_adaptive_image_uses_the_kernel_file(tmp_path):
    """The fit baseline models an adaptive image with the run's own pixel kernel: the chi^2 of
    the true parameters is near the pixel count with that kernel and far above with another."""
    from lenspipe.baselines.likelihood_fit import LensFitter

    blur = kernel_file(tmp_path, "blur", elongated_kernel())
    config = small_config(observation={"psf": "file", "psf_files": {"i": blur}})
    settings = SimulationSettings.from_config(config)
    simulator = LensSimulator(settings)
    image, row = simulator.simulate(3)
    truth = dict(zip(simulator.parameter_names, row))
    n_pixels = image[..., 0].size
    assert LensFitter(settings).chi2(image, truth) < 3 * n_pixels
    gaussian = LensFitter(SimulationSettings.from_config(small_config()))
    assert gaussian.chi2(image, truth) > 2 * LensFitter(settings).chi2(image, truth)
