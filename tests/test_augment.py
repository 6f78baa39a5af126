"""Flips and rotations: the transformed image of a lens is the image of its transformed
parameters, rendered directly by lenstronomy, for each of the 8 transforms."""

import numpy as np
import pytest
from conftest import small_config
from lenspipe import seeding
from lenspipe.data.augment import (
    N_TRANSFORMS,
    sky_matrix,
    transform_image,
    transform_parameters,
    with_partners,
)
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator


def _noise_free(**system) -> LensSimulator:
    config = small_config(image={"num_pix": 32, "noise": False}, lens_system=system)
    return LensSimulator(SimulationSettings.from_config(config))


def _render(simulator: LensSimulator, sampled: np.ndarray) -> np.ndarray:
    return np.stack(simulator.render(sampled).models, axis=-1)


@pytest.mark.parametrize("system", [{}, {"point_source": True}], ids=["default", "quasar"])
def test_every_transform_matches_lenstronomy_rendering_the_transformed_parameters(system):
    simulator = _noise_free(**system)
    sampled = simulator.draw_parameters(seeding.lens_rng(5, 3))
    names = list(simulator.parameter_names[: len(sampled)])
    image = _render(simulator, sampled)
    # The quasar's images come from lenstronomy's numerical lens-equation solver, accurate to
    # about 1e-6 of the peak here; the extended light matches to rounding.
    scale = np.abs(image).max()
    for transform in range(N_TRANSFORMS):
        matrix = sky_matrix(transform, simulator.pix2angle())
        moved = transform_parameters(sampled[None], names, matrix)[0]
        direct = _render(simulator, moved)
        np.testing.assert_allclose(
            transform_image(image, transform),
            direct,
            rtol=0,
            atol=1e-5 * scale,
            err_msg=f"transform {transform}",
        )
        if transform:
            # The check can fail: moving the image but not the parameters does not match.
            assert np.abs(transform_image(image, transform) - image).max() > 0.01 * scale


def test_transforms_form_the_dihedral_group_on_parameters():
    names = ["lens_center_x", "lens_center_y", "lens_e1", "lens_e2", "lens_theta_E"]
    values = np.array([[0.1, -0.2, 0.3, 0.05, 1.2]])
    pix2angle = np.diag([0.2, 0.2])
    seen = set()
    for transform in range(N_TRANSFORMS):
        moved = transform_parameters(values, names, sky_matrix(transform, pix2angle))
        assert moved[0, 4] == values[0, 4]  # theta_E is a scalar
        np.testing.assert_allclose(np.hypot(*moved[0, 2:4]), np.hypot(*values[0, 2:4]))
        seen.add(tuple(np.round(moved[0], 12)))
    assert len(seen) == N_TRANSFORMS


def test_a_pair_column_needs_its_partner():
    assert with_partners(["lens_e1", "lens_theta_E", "point_source_y_2"]) == [
        "lens_e1",
        "lens_theta_E",
        "point_source_y_2",
        "lens_e2",
        "point_source_x_2",
    ]
    with pytest.raises(ValueError, match="'lens_e1' cannot be transformed without 'lens_e2'"):
        transform_parameters(np.zeros((1, 1)), ["lens_e1"], np.eye(2))
