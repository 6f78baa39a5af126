"""Benchmark 1: lenspipe's cost per lens against a bare lenstronomy loop making the same images."""

import statistics
import time

from common import Row, production_config

TARGET = 1.05


def bare_lenstronomy(settings: dict, lens_indices: range):
    """A loop over lenstronomy alone: objects built once, every input prepared beforehand.

    It renders with the same SimAPI and ImageModel objects lenspipe builds, so the two loops
    differ only in what lenspipe adds around them.
    """
    from lenspipe import seeding
    from lenspipe.parameters import PARAMETER_NAMES, lenstronomy_kwargs
    from lenspipe.simulate import LensSimulator

    drawer = LensSimulator(settings)
    sim, image_model = drawer._sim, drawer._image_model
    inputs = [
        lenstronomy_kwargs(
            dict(
                zip(
                    PARAMETER_NAMES,
                    drawer.draw_parameters(seeding.lens_rng(settings["seed"], i)).tolist(),
                )
            )
        )
        for i in lens_indices
    ]

    def run() -> None:
        for seed, kwargs in enumerate(inputs):
            lens_light, source, _ = sim.magnitude2amplitude(
                kwargs_lens_light_mag=kwargs["kwargs_lens_light_mag"],
                kwargs_source_mag=kwargs["kwargs_source_mag"],
            )
            model = image_model.image(
                kwargs_lens=kwargs["kwargs_lens"],
                kwargs_source=source,
                kwargs_lens_light=lens_light,
            )
            model + sim.noise_for_model(model, seed=seed)

    return run


def run(quick: bool) -> list[Row]:
    """Per-lens medians of lenspipe and of the bare loop, interleaved in one run."""
    from lenspipe.config import simulation_settings
    from lenspipe.simulate import LensSimulator

    settings = simulation_settings(production_config())
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
    return [
        Row(
            "1. simulation cost per lens (64x64, LSST i, noise)",
            f"{ours * 1e3:.2f} ms",
            f"{theirs * 1e3:.2f} ms bare lenstronomy",
            ratio,
            f"<= {TARGET}",
            ratio <= TARGET,
        )
    ]
