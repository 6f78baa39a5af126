"""Real galaxy sources: catalogue stamps lensed with lenstronomy's interpolated profile."""

import numpy as np
import pytest
from conftest import build_store, small_config
from lenspipe.errors import ConfigError
from lenspipe.runs.layout import fit_baseline_runs
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator
from lenspipe.simulation.source_catalogue import half_light, read_catalogue


def clumpy_galaxies(count: int = 5, size: int = 41) -> np.ndarray:
    """Galaxy-like stamps: an elongated disc plus an off-centre clump, each its own."""
    y, x = np.mgrid[:size, :size] - size // 2
    rng = np.random.default_rng(0)
    stamps = []
    for _ in range(count):
        width, clump = rng.uniform(2, 6), rng.uniform(-8, 8, size=2)
        disc = np.exp(-0.5 * ((x / width) ** 2 + (y / (0.5 * width)) ** 2))
        knot = 0.5 * np.exp(-0.5 * ((x - clump[0]) ** 2 + (y - clump[1]) ** 2))
        stamps.append(disc + knot)
    return np.array(stamps)


@pytest.fixture
def catalogue(tmp_path) -> str:
    path = tmp_path / "galaxies.npz"
    stamps = clumpy_galaxies()
    np.savez(path, images=stamps, redshifts=np.linspace(0.5, 2.5, len(stamps)))
    return str(path)


def with_catalogue(path: str, **changes) -> dict:
    return small_config(lens_system={"source_catalogue": path}, **changes)


def test_catalogue_sources_leave_the_sampled_columns_unchanged(catalogue):
    sersic = LensSimulator(SimulationSettings.from_config(small_config()))
    real = LensSimulator(SimulationSettings.from_config(with_catalogue(catalogue)))
    assert real.parameter_names == (*sersic.parameter_names, "source_stamp", "source_stamp_z")
    stamps = set()
    for lens in range(6):
        sersic_image, sersic_row = sersic.simulate(lens)
        real_image, real_row = real.simulate(lens)
        assert np.array_equal(real_row[:-2], sersic_row)
        assert not np.allclose(real_image, sersic_image)
        stamps.add(int(real_row[-2]))
        assert real_row[-1] == np.linspace(0.5, 2.5, 5)[int(real_row[-2])]
    assert len(stamps) > 1


def test_a_lens_has_the_same_stamp_whichever_lenses_are_simulated_with_it(catalogue):
    images, rows = LensSimulator(
        SimulationSettings.from_config(with_catalogue(catalogue))
    ).simulate_many([1, 4])
    alone_image, alone_row = LensSimulator(
        SimulationSettings.from_config(with_catalogue(catalogue))
    ).simulate(4)
    assert np.array_equal(images[1], alone_image) and np.array_equal(rows[1], alone_row)


def test_a_stamp_takes_the_sampled_size_position_and_angle(tmp_path):
    from lenstronomy.LightModel.light_model import LightModel

    y, x = np.mgrid[:61, :61] - 30
    disc = np.exp(-0.5 * ((x / 6.0) ** 2 + (y / 2.0) ** 2))  # long axis along x
    path = tmp_path / "disc.npz"
    np.savez(path, images=disc[None], redshifts=[1.0])
    catalogue = read_catalogue(path)
    angle = 0.6
    source = {
        "magnitude": 23.0,
        "R_sersic": 0.3,
        "center_x": 0.2,
        "center_y": -0.1,
        "e1": 0.1 * np.cos(2 * angle),
        "e2": 0.1 * np.sin(2 * angle),
    }
    kwargs = catalogue.source_kwargs(0, source)
    kwargs.pop("magnitude")
    grid = np.linspace(-2, 2, 401)
    gx, gy = np.meshgrid(grid, grid)
    light = LightModel(["INTERPOL"]).surface_brightness(gx, gy, [dict(kwargs, amp=1.0)])
    light = light.reshape(gx.shape)
    total = light.sum()
    cx, cy = (gx * light).sum() / total, (gy * light).sum() / total
    assert np.isclose(cx, 0.2, atol=0.005) and np.isclose(cy, -0.1, atol=0.005)
    radius = half_light(light) * (grid[1] - grid[0])
    assert np.isclose(radius, 0.3, rtol=0.05)
    dx, dy = gx - cx, gy - cy
    moments = [(dx * dx * light).sum(), (dy * dy * light).sum(), (dx * dy * light).sum()]
    major_axis = 0.5 * np.arctan2(2 * moments[2], moments[0] - moments[1])
    assert np.isclose(major_axis, angle, atol=0.02)


def test_the_half_light_radius_of_a_gaussian():
    y, x = np.mgrid[:101, :101] - 50
    gaussian = np.exp(-0.5 * (x**2 + y**2) / 8.0**2)
    assert np.isclose(half_light(gaussian), 8.0 * np.sqrt(2 * np.log(2)), rtol=0.02)


def test_catalogue_runs_record_the_stamp_and_skip_the_fit_baseline(catalogue, tmp_path):
    config = with_catalogue(catalogue)
    config["n_lenses"], config["chunk_size"] = 20, 10
    import pandas as pd

    _, table, _ = build_store(config, tmp_path)
    parameters = pd.read_parquet(table)
    assert set(parameters["source_stamp"]) <= set(range(5))
    assert not fit_baseline_runs(config) and fit_baseline_runs(small_config())


def test_a_changed_catalogue_changes_the_simulation_settings(catalogue):
    from lenspipe.settings import simulation_settings

    config = with_catalogue(catalogue)
    before = simulation_settings(config)
    np.savez(catalogue, images=clumpy_galaxies(6), redshifts=np.ones(6))
    assert simulation_settings(config) != before


@pytest.mark.parametrize(
    "arrays, expected",
    [
        ({"images": clumpy_galaxies()}, "has no redshifts; expected images (N, n, n)"),
        ({"images": np.ones((2, 5, 6)), "redshifts": [1, 1]}, "expected (N, n, n) square"),
        ({"images": clumpy_galaxies(), "redshifts": [1.0]}, "expected one redshift per image"),
        (
            {"images": np.full((1, 5, 5), np.nan), "redshifts": [1.0]},
            "image values that are not finite",
        ),
        (
            {"images": clumpy_galaxies(2), "redshifts": [1.0, -1.0]},
            "finite redshifts of at least 0",
        ),
        (
            {"images": np.stack([clumpy_galaxies(1)[0], np.zeros((41, 41))]), "redshifts": [1, 1]},
            "stamp 1 of",
        ),
    ],
)
def test_a_bad_catalogue_is_refused_naming_the_field_and_file(tmp_path, arrays, expected):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ConfigError, match=r"lens_system\.source_catalogue: ") as error:
        with_catalogue(str(path))
    assert expected in str(error.value) and str(path) in str(error.value)
    assert "cannot read" not in str(error.value)


def test_a_missing_catalogue_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"lens_system\.source_catalogue: cannot read"):
        with_catalogue(str(tmp_path / "none.npz"))


@pytest.mark.parametrize(
    "name, write, expected",
    [
        (
            "stamps.npy",
            lambda path: np.save(path, np.ones((2, 5, 5))),
            "one array of shape (2, 5, 5)",
        ),
        ("empty.npz", lambda path: path.write_bytes(b""), "cannot read the catalogue"),
        ("text.npz", lambda path: path.write_text("images"), "cannot read the catalogue"),
    ],
)
def test_a_catalogue_that_is_not_an_npz_archive_is_refused_naming_the_field(
    tmp_path, name, write, expected
):
    path = tmp_path / name
    write(path)
    with pytest.raises(ConfigError, match=r"lens_system\.source_catalogue: ") as error:
        with_catalogue(str(path))
    message = str(error.value)
    assert expected in message and str(path) in message and "numpy.savez" in message
