"""The realism figure: PSFs, source stamps and subhalo convergence, when the switches are on."""

import numpy as np
import yaml
from conftest import colour_fraction, small_config
from lenspipe.config import realism_switches
from lenspipe.evaluation.realism_gallery import convergence_panels, realism_gallery
from lenspipe.settings import simulation_settings
from workflow_helpers import copy_workflow, job_counts, snakemake


def test_the_subhalo_map_peaks_where_the_subhalos_are():
    config = small_config(lens_system={"redshifts": True, "subhalos": {"mean_count": 5}})
    whole, lumps = convergence_panels(simulation_settings(config))
    x, y = lumps.points
    left, right, bottom, top = lumps.extent
    row, column = np.unravel_index(np.argmax(lumps.image), lumps.image.shape)
    pixel = (right - left) / lumps.image.shape[1]
    peak = (left + (column + 0.5) * pixel, bottom + (row + 0.5) * pixel)
    assert np.min(np.hypot(x - peak[0], y - peak[1])) < 2 * pixel
    # The whole convergence peaks at the lens centre, the subhalos' nowhere near as high.
    assert whole.image.max() > lumps.image.max()


def test_the_figure_is_drawn_for_every_switch_and_only_then(tmp_path):
    kernel = np.zeros((5, 5))
    kernel[2, 2] = 1.0
    np.save(tmp_path / "psf.npy", kernel)
    config = small_config(
        observation={"psf": "file", "psf_files": {"i": str(tmp_path / "psf.npy")}},
        lens_system={"redshifts": True, "subhalos": {"mean_count": 3}},
    )
    assert realism_switches(config) == ["psf", "subhalos"]
    assert realism_switches(small_config()) == []
    figure = realism_gallery(simulation_settings(config), tmp_path / "realism.png")
    titles = [axis.get_title() for axis in figure.axes if axis.get_visible()]
    assert titles[0] == "PSF i (log10)" and len(titles) == 3  # and the two convergence maps
    assert colour_fraction(tmp_path / "realism.png") > 0.001

    workdir = copy_workflow(tmp_path / "workflow")
    np.save(workdir / "psf.npy", kernel)
    overlay = {"observation": {"psf": "file", "psf_files": {"i": "psf.npy"}}}
    (workdir / "config" / "psf.yaml").write_text(yaml.safe_dump(overlay))
    with_psf = snakemake(
        "-n", "--configfile", "config/config.yaml", "config/psf.yaml", cwd=workdir
    )
    assert with_psf.returncode == 0, with_psf.stderr[-2000:]
    assert job_counts(with_psf.stdout)["realism_gallery"] == 1
    plain = snakemake("-n", cwd=workdir)
    assert "realism_gallery" not in job_counts(plain.stdout)
