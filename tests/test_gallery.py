"""Survey galleries and how images of several bands are shown."""

import numpy as np
import pytest
from conftest import colour_fraction, small_config
from lenspipe.evaluation.gallery import preset_settings, survey_gallery
from lenspipe.evaluation.plots import display_image
from lenspipe.settings import simulation_settings
from lenspipe.simulation.observation import GALLERY_OBSERVATIONS


def test_several_bands_show_as_rgb_with_the_last_band_red():
    image = np.zeros((4, 4, 3), dtype=np.float32)
    image[..., 2] = 1.0  # the last (reddest) band only
    shown = display_image(image)
    assert shown.shape == (4, 4, 3)
    assert (shown[..., 0] == 1.0).all() and (shown[..., 1:] == 0.0).all()
    assert display_image(image[..., :1]).shape == (4, 4)


def test_a_preset_keeps_the_run_but_observes_with_the_preset():
    settings = simulation_settings(
        small_config(lens_system={"point_source": True}, observation={"overrides": {"seeing": 2}})
    )
    preset = preset_settings(settings, "DES")
    assert preset["observation"]["bands"] == ["g", "r", "i"]
    assert preset["observation"]["overrides"] == {}
    assert preset["lens_system"] == settings["lens_system"]
    assert preset["priors"] == settings["priors"] and preset["seed"] == settings["seed"]


@pytest.mark.parametrize("survey", sorted(GALLERY_OBSERVATIONS))
def test_survey_gallery_draws_a_png(tmp_path, survey):
    settings = simulation_settings(small_config(lens_system={"point_source": True}))
    path = tmp_path / f"{survey}.png"
    figure = survey_gallery(settings, survey, 2, path)
    panels = [axis for axis in figure.axes if axis.get_visible()]
    assert len(panels) == 2 and survey in figure.get_suptitle()
    for axis in panels:
        (lens,) = axis.get_images()
        shown = np.asarray(lens.get_array())
        assert shown.std() > 0.05 * np.abs(shown).max()  # an image, not a blank panel
        (quasar,) = axis.collections
        assert len(quasar.get_offsets()) >= 2  # its lensed images, circled
    assert colour_fraction(path) > 0.001
