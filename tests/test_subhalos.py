"""Dark-matter subhalos: drawn per lens from their own stream, summarised in two columns."""

import numpy as np
import pandas as pd
import pytest
from conftest import build_store, small_config
from lenspipe.errors import ConfigError
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator
from lenspipe.simulation.subhalos import draw_subhalos, subhalo_kwargs

SUBHALOS = {"mean_count": 6}


def with_subhalos(**subhalos) -> dict:
    return small_config(lens_system={"redshifts": True, "subhalos": subhalos})


def test_subhalos_leave_every_other_number_of_the_lens_unchanged():
    smooth = LensSimulator(
        SimulationSettings.from_config(small_config(lens_system={"redshifts": True}))
    )
    lumpy = LensSimulator(SimulationSettings.from_config(with_subhalos(**SUBHALOS)))
    assert lumpy.parameter_names == (
        *smooth.parameter_names,
        "subhalo_count",
        "subhalo_mass_total",
    )
    counts = []
    for lens in range(8):
        smooth_image, smooth_row = smooth.simulate(lens)
        lumpy_image, lumpy_row = lumpy.simulate(lens)
        assert np.array_equal(lumpy_row[:-2], smooth_row)
        counts.append(lumpy_row[-2])
        # A lens with subhalos is another image; one without is the same image.
        assert np.array_equal(lumpy_image, smooth_image) == (lumpy_row[-2] == 0)
    assert any(counts)


def test_a_lens_has_the_same_subhalos_whichever_lenses_are_simulated_with_it():
    simulator = LensSimulator(SimulationSettings.from_config(with_subhalos(**SUBHALOS)))
    images, rows = simulator.simulate_many([4, 9, 2])
    alone_image, alone_row = LensSimulator(
        SimulationSettings.from_config(with_subhalos(**SUBHALOS))
    ).simulate(9)
    assert np.array_equal(images[1], alone_image) and np.array_equal(rows[1], alone_row)


def test_the_population_follows_its_model():
    config = with_subhalos(mean_count=5, mass_range=[1e7, 1e10], mass_slope=1.9)
    model = SimulationSettings.from_config(config).lens_system.subhalos
    draws = [draw_subhalos(model, 7, lens, 0, 1.2, (0.1, -0.2)) for lens in range(600)]
    counts = np.array([len(d.masses) for d in draws])
    assert abs(counts.mean() - 5) < 4 * np.sqrt(5 / len(counts))
    masses = np.concatenate([d.masses for d in draws])
    assert masses.min() >= 1e7 and masses.max() <= 1e10
    # dN/dM ∝ M^-1.9: the share of subhalos below M is (1e7^-0.9 - M^-0.9) / (1e7^-0.9 - 1e10^-0.9).
    middle = 1e8
    expected = (1e7**-0.9 - middle**-0.9) / (1e7**-0.9 - 1e10**-0.9)
    share = np.mean(masses < middle)
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / len(masses))
    radii = np.hypot(
        np.concatenate([d.x for d in draws]) - 0.1, np.concatenate([d.y for d in draws]) + 0.2
    )
    assert radii.max() <= 2.0 * 1.2
    # Uniform in the disc: half of them within 1/sqrt(2) of its radius.
    assert abs(np.mean(radii < 2.4 / np.sqrt(2)) - 0.5) < 4 * np.sqrt(0.25 / len(radii))


def test_each_subhalo_has_the_mass_it_was_drawn_with():
    from astropy.cosmology import FlatLambdaCDM
    from lenstronomy.Cosmo.lens_cosmo import LensCosmo

    config = with_subhalos(mean_count=20)
    model = SimulationSettings.from_config(config).lens_system.subhalos
    subhalos = draw_subhalos(model, 3, 0, 0, 1.0, (0.0, 0.0))
    cosmology = FlatLambdaCDM(**config["lens_system"]["cosmology"])
    kwargs = subhalo_kwargs(subhalos, model, (0.5, 2.0), cosmology)
    lens_cosmo = LensCosmo(0.5, 2.0, cosmo=cosmology)
    for mass, subhalo in zip(subhalos.masses, kwargs):
        *_, m200 = lens_cosmo.nfw_angle2physical(subhalo["Rs"], subhalo["alpha_Rs"])
        assert np.isclose(m200, mass, rtol=1e-6)
        assert np.isclose(subhalo["r_trunc"], model.truncation_in_scale_radii * subhalo["Rs"])


def test_the_store_holds_the_subhalo_columns_and_they_can_be_targets(tmp_path):
    config = with_subhalos(**SUBHALOS)
    config["n_lenses"], config["chunk_size"] = 20, 10
    _, table, _ = build_store(config, tmp_path)
    parameters = pd.read_parquet(table)
    assert (parameters["subhalo_count"] == np.round(parameters["subhalo_count"])).all()
    assert ((parameters["subhalo_mass_total"] > 0) == (parameters["subhalo_count"] > 0)).all()
    small_config(
        lens_system={"redshifts": True, "subhalos": SUBHALOS},
        training={"targets": ["lens_theta_E", "subhalo_count", "subhalo_mass_total"]},
    )


@pytest.mark.parametrize(
    "lens_system, message",
    [
        ({"subhalos": SUBHALOS}, r"lens_system\.subhalos: .*set lens_system\.redshifts: true"),
        (
            {"redshifts": True, "point_source": True, "subhalos": SUBHALOS},
            r"lens_system\.subhalos: subhalos with a lensed quasar are not supported",
        ),
        (
            {"redshifts": True, "subhalos": {"mean_count": 3, "mass_range": [1e9, 1e8]}},
            r"lens_system\.subhalos\.mass_range: \[1e\+09, 1e\+08\]; expected the smallest",
        ),
        (
            {"redshifts": True, "subhalos": {"mean_count": -1}},
            r"lens_system\.subhalos\.mean_count",
        ),
    ],
)
def test_bad_subhalo_settings_are_refused_naming_the_field(lens_system, message):
    with pytest.raises(ConfigError, match=message):
        small_config(lens_system=lens_system)
