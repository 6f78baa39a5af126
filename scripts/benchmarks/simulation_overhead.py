"""Benchmark 1: lenspipe's cost per lens against a bare lenstronomy loop making the same images.

Row 1 is the production config rendered at pixel centres (``image.supersampling: 1``, the
images a bare ``ImageModel.image`` call makes; the cost of the default adaptive rendering is
benchmark 8's); row 1q the same with a lensed quasar (lens_system.point_source).
"""

import statistics
import time
from typing import TYPE_CHECKING

from common import Row, production_config

if TYPE_CHECKING:
    from lenspipe.settings import SimulationSettings

TARGETS = {"1": 1.05, "1q": 1.1}


def bare_lenstronomy(settings: "SimulationSettings", lens_indices: range):
    """A loop over lenstronomy alone: objects built once, every input prepared beforehand.

    It renders with the same SimAPI and ImageModel objects lenspipe builds (single band), so
    the two loops differ only in what lenspipe adds around them. With a quasar, each lens
    clears the point source's cached images, so lenstronomy solves the lens equation for it.
    """
    from lenspipe import seeding
    from lenspipe.simulation.parameters import lenstronomy_kwargs
    from lenspipe.simulation.simulate import LensSimulator

    drawer = LensSimulator(settings)
    sim, image_model = drawer._sims[0], drawer._image_models[0]
    point_source = drawer._point_source if settings.lens_system.point_source else None
    inputs = [
        lenstronomy_kwargs(
            dict(
                zip(
                    drawer.parameter_names,
                    drawer.draw_parameters(seeding.lens_rng(settings.seed, i)).tolist(),
                )
            )
        )
        for i in lens_indices
    ]

    def run() -> None:
        for seed, kwargs in enumerate(inputs):
            if point_source is not None:
                point_source.delete_lens_model_cache()
            lens_light, source, quasar = sim.magnitude2amplitude(
                kwargs_lens_light_mag=kwargs["kwargs_lens_light_mag"],
                kwargs_source_mag=kwargs["kwargs_source_mag"],
                kwargs_ps_mag=kwargs["kwargs_ps_mag"],
            )
            model = image_model.image(
                kwargs_lens=kwargs["kwargs_lens"],
                kwargs_source=source,
                kwargs_lens_light=lens_light,
                kwargs_ps=quasar,
                point_source_add=point_source is not None,
            )
            model + sim.noise_for_model(model, seed=seed)

    return run


def overhead_row(label: str, description: str, settings: "SimulationSettings", quick: bool) -> Row:
    """Per-lens medians of lenspipe and of the bare loop, interleaved in one run."""
    from lenspipe.simulation.simulate import LensSimulator

    lenses = range(100 if quick else 1000)
    simulator = LensSimulator(settings)
    bare = bare_lenstronomy(settings, lenses)
    simulator.simulate_many(range(20))  # warm-up: first calls build lenstronomy's caches
    lenspipe_times, bare_times = [], []
    for _ in range(3 if quick else 7):
        start = time.perf_counter()
        simulator.simulate_many(lenses)
        lenspipe_times.append((time.perf_counter() - start) / len(lenses))
        start = time.perf_counter()
        bare()
        bare_times.append((time.perf_counter() - start) / len(lenses))
    ours, theirs = statistics.median(lenspipe_times), statistics.median(bare_times)
    ratio = ours / theirs
    return Row(
        f"{label}. simulation cost per lens ({description})",
        f"{ours * 1e3:.2f} ms",
        f"{theirs * 1e3:.2f} ms bare lenstronomy",
        ratio,
        f"<= {TARGETS[label]}",
        ratio <= TARGETS[label],
    )


def run(quick: bool, rows: tuple[str, ...] = ("1", "1q")) -> list[Row]:
    """Row 1 (production config) and row 1q (the same with a lensed quasar), as asked."""
    from lenspipe.settings import SimulationSettings

    pixel_centres = {"num_pix": 64, "supersampling": 1, "noise": True}
    configs = {
        "1": ("64x64, LSST i, noise, pixel centres", production_config(image=pixel_centres)),
        "1q": (
            "the same with a lensed quasar",
            production_config(image=pixel_centres, lens_system={"point_source": True}),
        ),
    }
    return [
        overhead_row(
            label, configs[label][0], SimulationSettings.from_config(configs[label][1]), quick
        )
        for label in rows
    ]
