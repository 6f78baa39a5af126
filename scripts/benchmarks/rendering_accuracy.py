"""Benchmark 8: how far each rendering is from a highly supersampled one, and what it costs.

    PYTHONPATH=scripts python scripts/benchmarks/rendering_accuracy.py [--lenses 40]

For the first lenses of the production config (64x64, LSST i, Gaussian PSF), noise-free:
chi^2 per pixel of each rendering's difference from lenstronomy's uniform supersampling 32,
with the noise sigma of each pixel of that reference (background and Poisson), as median,
90th percentile and maximum over the lenses, and the largest |difference| / sigma of any
pixel, and the median time of that noise-free rendering alone; then the cost per lens of
``LensSimulator.simulate_many`` (noise included, what a chunk job pays) under each setting,
relative to supersampling 1 (the default; adaptive is an option), interleaved, median of
repeats.
"""

import argparse
import statistics
import time

import numpy as np
from common import Row, production_config

REFERENCE_FACTOR = 32
SCHEMES = (1, 2, 3, 4, 8, "adaptive")


def lens_inputs(simulator, lens_index: int) -> dict:
    """The keywords of ``ImageModel.image`` for lens ``lens_index`` (band 0, no cut)."""
    from lenspipe import seeding
    from lenspipe.simulation.parameters import lenstronomy_kwargs

    sampled = simulator.draw_parameters(seeding.lens_rng(simulator.seed, lens_index))
    kwargs = lenstronomy_kwargs(dict(zip(simulator.parameter_names, sampled.tolist())))
    lens_light, source, _ = simulator._sims[0].magnitude2amplitude(
        kwargs_lens_light_mag=kwargs["kwargs_lens_light_mag"],
        kwargs_source_mag=kwargs["kwargs_source_mag"],
    )
    return {
        "kwargs_lens": kwargs["kwargs_lens"],
        "kwargs_source": source,
        "kwargs_lens_light": lens_light,
        "point_source_add": False,
    }


def renderer(scheme: int | str):
    """The band-0 image model lenspipe renders with under ``image.supersampling: scheme``."""
    from lenspipe.settings import SimulationSettings
    from lenspipe.simulation.simulate import LensSimulator

    config = production_config(image={"num_pix": 64, "supersampling": scheme, "noise": False})
    return LensSimulator(SimulationSettings.from_config(config))._image_models[0]


def accuracy(n_lenses: int) -> dict:
    """Per scheme and lens: chi^2 per pixel, the largest |difference| / sigma and the
    seconds of the noise-free rendering alone."""
    from lenspipe.settings import SimulationSettings
    from lenspipe.simulation.simulate import LensSimulator

    simulator = LensSimulator(SimulationSettings.from_config(production_config()))
    sim = simulator._sims[0]
    reference_model = sim.image_model_class(
        kwargs_numerics={"supersampling_factor": REFERENCE_FACTOR}
    )
    models = {scheme: renderer(scheme) for scheme in SCHEMES}
    figures = {scheme: ([], [], []) for scheme in SCHEMES}
    for lens_index in range(n_lenses):
        inputs = lens_inputs(simulator, lens_index)
        reference = reference_model.image(**inputs)
        sigma = sim.estimate_noise(reference)
        for scheme, model in models.items():
            start = time.perf_counter()
            image = model.image(**inputs)
            figures[scheme][2].append(time.perf_counter() - start)
            pulls = (image - reference) / sigma
            figures[scheme][0].append(float(np.mean(pulls**2)))
            figures[scheme][1].append(float(np.abs(pulls).max()))
    return figures


def cost(n_lenses: int, repeats: int) -> dict:
    """Per scheme: the median seconds per lens of ``simulate_many`` (noise included)."""
    from lenspipe.settings import SimulationSettings
    from lenspipe.simulation.simulate import LensSimulator

    simulators = {
        scheme: LensSimulator(
            SimulationSettings.from_config(
                production_config(image={"num_pix": 64, "supersampling": scheme})
            )
        )
        for scheme in (1, 2, 4, "adaptive")
    }
    times = {scheme: [] for scheme in simulators}
    for simulator in simulators.values():
        simulator.simulate_many(range(10))  # warm-up
    for _ in range(repeats):
        for scheme, simulator in simulators.items():
            start = time.perf_counter()
            simulator.simulate_many(range(n_lenses))
            times[scheme].append((time.perf_counter() - start) / n_lenses)
    return {scheme: statistics.median(values) for scheme, values in times.items()}


def run(quick: bool, n_lenses: int | None = None) -> tuple[list[Row], str]:
    """Rows 8a (accuracy of adaptive rendering) and 8b (its cost), and the table of every scheme."""
    n_lenses = n_lenses or (8 if quick else 40)
    figures = accuracy(n_lenses)
    seconds = cost(50 if quick else 300, 3 if quick else 5)
    lines = [
        f"chi^2 per pixel against uniform supersampling {REFERENCE_FACTOR}, {n_lenses} lenses",
        "| supersampling | median | 90 % | max | max |diff|/sigma (median lens, worst) "
        "| rendering, ms (x 1) | ms per lens | x supersampling 1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    render_1 = np.median(figures[1][2])
    for scheme, (chi2, pulls, render) in figures.items():
        per_lens = seconds.get(scheme)
        timing = (
            f"{per_lens * 1e3:.2f} | {per_lens / seconds[1]:.2f}" if per_lens else "| "
        ).strip()
        lines.append(
            f"| {scheme} | {np.median(chi2):.3g} | {np.percentile(chi2, 90):.3g} "
            f"| {max(chi2):.3g} | {np.median(pulls):.2g}, {max(pulls):.2g} "
            f"| {np.median(render) * 1e3:.2f} ({np.median(render) / render_1:.1f}) | {timing} |"
        )
    chi2 = figures["adaptive"][0]
    ratio = seconds["adaptive"] / seconds[1]
    rows = [
        Row(
            f"8a. adaptive rendering against supersampling {REFERENCE_FACTOR}, chi^2/pixel "
            f"(max over {n_lenses} lenses; median {np.median(chi2):.3f})",
            f"{max(chi2):.3f}",
            f"{max(figures[1][0]):.0f} with supersampling 1",
            None,
            "< 1",
            max(chi2) < 1,
        ),
        Row(
            "8b. its cost per lens (simulate_many, noise included)",
            f"{seconds['adaptive'] * 1e3:.2f} ms",
            f"{seconds[1] * 1e3:.2f} ms with supersampling 1",
            ratio,
            "<= 2",
            ratio <= 2,
        ),
    ]
    return rows, "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lenses", type=int, default=40)
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    rows, table = run(arguments.quick, arguments.lenses)
    print(table)
    for row in rows:
        print(f"{row.benchmark}: {row.measured} (baseline {row.baseline}; target {row.target})")


if __name__ == "__main__":
    main()
