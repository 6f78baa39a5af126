"""Several bands, lensed quasars, the EPL mass and redshifts: the physics that could go wrong."""

import numpy as np
import pytest
from conftest import build_store, fit_small_normalisation, small_config
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.observation import single_band_kwargs
from lenspipe.simulation.parameters import MAX_IMAGES
from lenspipe.simulation.simulate import LensSimulator

# A compact lens light (near-exponential, 0.3", supersampled) whose flux stays inside the LSST
# 64 x 64 field, and a source too faint to matter. (Narrow priors rather than fixed ones, as these
# merge into the production priors key by key.)
COMPACT_LENS_LIGHT = {
    "image": {"num_pix": 64, "noise": False, "supersampling": 4},
    "priors": {
        "lens_light": {
            "magnitude": {"dist": "uniform", "min": 18.0, "max": 19.0},
            "R_sersic": {"dist": "log_uniform", "min": 0.3, "max": 0.31},
            "n_sersic": {"dist": "uniform", "min": 1.0, "max": 1.01},
        },
        "source": {"magnitude": {"dist": "uniform", "min": 40.0, "max": 41.0}},
    },
}


def _column(simulator: LensSimulator, parameters: np.ndarray, name: str) -> np.ndarray:
    return parameters[..., simulator.parameter_names.index(name)]


@pytest.mark.parametrize("bands", [["g", "r", "i"], ["z", "i", "g"]])
def test_magnitudes_convert_to_the_expected_counts_in_each_declared_band(bands):
    config = small_config(observation={"band": "i", "bands": bands}, **COMPACT_LENS_LIGHT)
    simulator = LensSimulator(SimulationSettings.from_config(config))
    images, parameters = simulator.simulate_many(range(3))
    assert images.shape == (3, 64, 64, len(bands))
    colours = config["colours"]["lens_light"]
    for channel, band in enumerate(bands):
        zero_point = single_band_kwargs(config["observation"], band)["magnitude_zero_point"]
        magnitude = _column(simulator, parameters, "lens_light_magnitude")
        magnitude = magnitude + colours[band] - colours["i"]
        expected = 10 ** (-0.4 * (magnitude - zero_point))
        measured = images[..., channel].sum(axis=(1, 2))
        assert np.allclose(measured, expected, rtol=0.01), band


def test_a_band_override_changes_that_band_alone():
    plain = LensSimulator(
        SimulationSettings.from_config(
            small_config(observation={"bands": ["g", "r"], "band": "r"}, **COMPACT_LENS_LIGHT)
        )
    )
    blurred = LensSimulator(
        SimulationSettings.from_config(
            small_config(
                observation={
                    "bands": ["g", "r"],
                    "band": "r",
                    "band_overrides": {"g": {"seeing": 2.0}},
                },
                **COMPACT_LENS_LIGHT,
            )
        )
    )
    image, _ = plain.simulate(0)
    blurred_image, _ = blurred.simulate(0)
    assert np.array_equal(blurred_image[..., 1], image[..., 1])
    assert blurred_image[..., 0].max() < 0.5 * image[..., 0].max()
    assert np.isclose(blurred_image[..., 0].sum(), image[..., 0].sum(), rtol=0.01)


def test_the_reference_band_channel_is_the_single_band_image():
    single = LensSimulator(SimulationSettings.from_config(small_config(image={"noise": False})))
    several = LensSimulator(
        SimulationSettings.from_config(
            small_config(image={"noise": False}, observation={"bands": ["g", "i", "r"]})
        )
    )
    image, parameters = single.simulate(4)
    images, more_parameters = several.simulate(4)
    assert np.array_equal(images[..., 1], image[..., 0])
    assert np.array_equal(more_parameters, parameters)
    assert not np.allclose(images[..., 0], images[..., 1])


@pytest.mark.parametrize("mass", ["SIE", "EPL_NUMBA"])
def test_quasar_images_satisfy_the_lens_equation(mass):
    from lenspipe.simulation.parameters import lenstronomy_kwargs
    from lenstronomy.LensModel.lens_model import LensModel

    config = small_config(lens_system={"point_source": True, "mass": mass})
    simulator = LensSimulator(SimulationSettings.from_config(config))
    _, parameters = simulator.simulate_many(range(30))
    lens_model = LensModel([mass, "SHEAR"])
    counts = _column(simulator, parameters, "point_source_n_images").astype(int)
    assert set(counts) <= {1, 2, 3, 4} and 4 in counts and 2 in counts
    names = simulator.parameter_names
    for row, count in zip(parameters, counts):
        kwargs = lenstronomy_kwargs(dict(zip(names, row)))["kwargs_lens"]
        if mass == "EPL_NUMBA":
            assert kwargs[0]["gamma"] == row[names.index("lens_gamma")]
        columns = {
            q: row[[names.index(f"point_source_{q}_{k}") for k in range(1, 5)]]
            for q in ("x", "y", "magnification")
        }
        x, y = columns["x"][:count], columns["y"][:count]
        beta_x, beta_y = lens_model.ray_shooting(x, y, kwargs)
        source_x = row[names.index("lens_center_x")] + row[names.index("source_offset_x")]
        source_y = row[names.index("lens_center_y")] + row[names.index("source_offset_y")]
        assert np.allclose(beta_x, source_x, atol=1e-6) and np.allclose(
            beta_y, source_y, atol=1e-6
        )
        assert np.allclose(
            columns["magnification"][:count], lens_model.magnification(x, y, kwargs)
        )
        assert (
            np.isnan(columns["x"][count:]).all()
            and np.isnan(columns["magnification"][count:]).all()
        )


def test_quasar_images_are_where_the_image_is_brightest():
    config = small_config(
        lens_system={"point_source": True},
        image={"noise": False},
        priors={
            "point_source": {"magnitude": {"dist": "uniform", "min": 16.0, "max": 16.01}},
            "lens_light": {"magnitude": {"dist": "uniform", "min": 25.0, "max": 26.0}},
            "source": {"magnitude": {"dist": "uniform", "min": 25.0, "max": 26.0}},
        },
    )
    simulator = LensSimulator(SimulationSettings.from_config(config))
    image, row = simulator.simulate(2)
    names = simulator.parameter_names
    magnification = np.abs(
        row[[names.index(f"point_source_magnification_{k}") for k in range(1, 5)]]
    )
    brightest = int(np.nanargmax(magnification)) + 1
    x, y = (
        row[names.index(f"point_source_x_{brightest}")],
        row[names.index(f"point_source_y_{brightest}")],
    )
    peak_y, peak_x = np.unravel_index(np.argmax(image[..., 0]), image.shape[:2])
    centre, pixel_scale = (config["image"]["num_pix"] - 1) / 2, 0.2
    assert abs((peak_x - centre) * pixel_scale - x) <= pixel_scale
    assert abs((peak_y - centre) * pixel_scale - y) <= pixel_scale


def test_quasar_flux_is_its_magnitude_times_its_total_magnification():
    config = small_config(
        lens_system={"point_source": True},
        image={"num_pix": 64, "noise": False},
        priors={
            "lens_light": {"magnitude": {"dist": "uniform", "min": 40.0, "max": 41.0}},
            "source": {"magnitude": {"dist": "uniform", "min": 40.0, "max": 41.0}},
        },
    )
    simulator = LensSimulator(SimulationSettings.from_config(config))
    images, parameters = simulator.simulate_many(range(5))
    zero_point = single_band_kwargs(config["observation"], "i")["magnitude_zero_point"]
    magnitude = _column(simulator, parameters, "point_source_magnitude")
    magnifications = [
        _column(simulator, parameters, f"point_source_magnification_{k}") for k in range(1, 5)
    ]
    expected = 10 ** (-0.4 * (magnitude - zero_point)) * np.nansum(np.abs(magnifications), axis=0)
    assert np.allclose(images.sum(axis=(1, 2, 3)), expected, rtol=0.01)


def test_sampled_redshifts_keep_the_source_behind_the_lens():
    simulator = LensSimulator(
        SimulationSettings.from_config(small_config(lens_system={"redshifts": True}))
    )
    _, parameters = simulator.simulate_many(range(20))
    lens_z, source_z = (_column(simulator, parameters, name) for name in ("lens_z", "source_z"))
    assert (source_z > lens_z).all() and np.ptp(lens_z) > 0


def test_time_delays_are_lenstronomys_arrival_time_differences():
    from astropy.cosmology import FlatLambdaCDM
    from lenspipe.simulation.parameters import lenstronomy_kwargs
    from lenstronomy.LensModel.lens_model import LensModel

    config = small_config(
        lens_system={"point_source": True, "redshifts": True, "cosmology": {"H0": 68.0}}
    )
    simulator = LensSimulator(SimulationSettings.from_config(config))
    _, parameters = simulator.simulate_many(range(10))
    names = simulator.parameter_names
    cosmology = FlatLambdaCDM(H0=68.0, Om0=0.3)
    for row in parameters:
        values = dict(zip(names, row))
        count = int(values["point_source_n_images"])
        x = [values[f"point_source_x_{k}"] for k in range(1, count + 1)]
        y = [values[f"point_source_y_{k}"] for k in range(1, count + 1)]
        lens_model = LensModel(
            ["SIE", "SHEAR"], z_lens=values["lens_z"], z_source=values["source_z"], cosmo=cosmology
        )
        kwargs = lenstronomy_kwargs(values)
        source = kwargs["kwargs_ps_mag"][0]
        arrival = lens_model.arrival_time(
            np.array(x),
            np.array(y),
            kwargs["kwargs_lens"],
            x_source=source["ra_source"],
            y_source=source["dec_source"],
        )
        delays = [values[f"point_source_time_delay_{k}"] for k in range(1, 5)]
        assert np.allclose(delays[:count], arrival - arrival[0], rtol=1e-6, atol=1e-6)
        assert (np.array(delays[:count]) >= -1e-6).all()  # images in order of arrival
        assert np.isnan(delays[count:]).all()


def test_a_quasar_leaves_the_extended_light_and_the_first_columns_unchanged():
    plain = LensSimulator(SimulationSettings.from_config(small_config(image={"noise": False})))
    quasar = LensSimulator(
        SimulationSettings.from_config(
            small_config(
                image={"noise": False},
                lens_system={"point_source": True},
                priors={
                    "point_source": {"magnitude": {"dist": "uniform", "min": 35.0, "max": 35.01}}
                },
            )
        )
    )
    image, parameters = plain.simulate(1)
    quasar_image, quasar_parameters = quasar.simulate(1)
    assert np.array_equal(quasar_parameters[: len(parameters)], parameters)
    assert np.allclose(quasar_image, image, rtol=1e-4, atol=1e-6)
    assert len(quasar_parameters) == len(parameters) + 1 + 1 + 3 * MAX_IMAGES


def test_a_multiband_quasar_store_trains_and_evaluates(tmp_path):
    import pandas as pd
    from lenspipe.data.normalise import save_normalisation, save_split
    from lenspipe.data.store import open_store
    from lenspipe.evaluation.evaluate import calibrate, evaluate
    from lenspipe.learning.train import train

    config = small_config(
        observation={"bands": ["g", "r", "i"]},
        lens_system={"point_source": True, "mass": "EPL_NUMBA", "redshifts": True},
        training={"targets": ["lens_theta_E", "lens_gamma", "point_source_magnitude"]},
    )
    store, table, _ = build_store(config, tmp_path)
    root = open_store(store)
    assert root["images"].shape == (60, 32, 32, 3) and root.attrs["bands"] == ["g", "r", "i"]
    frame = pd.read_parquet(table)
    assert frame["point_source_x_4"].isna().any() and frame["point_source_x_1"].notna().all()
    assert frame["point_source_time_delay_4"].isna().any()
    subsets, normalisation = fit_small_normalisation(config, store)
    paths = {name: tmp_path / name for name in ("split.csv", "normalisation.json", "model.keras")}
    save_split(subsets, paths["split.csv"])
    save_normalisation(normalisation, paths["normalisation.json"])
    training = dict(config["training"], epochs=1)
    train(
        training,
        config["seed"],
        store,
        paths["normalisation.json"],
        paths["split.csv"],
        tmp_path / "work",
        paths["model.keras"],
        tmp_path / "history.csv",
        tmp_path / "curve.png",
    )
    outputs = {
        name: tmp_path / name
        for name in (
            "metrics_json",
            "metrics_csv",
            "predictions",
            "predicted_vs_true",
            "residuals",
            "calibration",
            "gallery",
        )
    }
    calibration = tmp_path / "calibration.json"
    calibrate(
        store,
        paths["normalisation.json"],
        paths["split.csv"],
        paths["model.keras"],
        16,
        training["augment"],
        calibration,
    )
    evaluate(
        16,
        4,
        store,
        paths["normalisation.json"],
        paths["split.csv"],
        paths["model.keras"],
        calibration,
        training["augment"],
        outputs,
    )
    metrics = pd.read_csv(outputs["metrics_csv"], index_col=0)
    assert list(metrics.index) == training["targets"] and metrics["rmse"].notna().all()
    assert metrics["coverage_68"].between(0, 1).all()  # sigma of each multi-band prediction
