"""The training feed on its own (store -> normalisation -> augmentation -> batches, no model)
against the rate the network trains at.

    python scripts/benchmarks/training_feed.py results/production_short \\
        --configfile scripts/benchmarks/production_short.yaml

Each figure comes from its own process, pinned to the cores it is given:
- the feed: ``LensBatches.as_dataset`` of the training subset, augmented as in training,
  iterated for ``--steps`` batches with nothing consuming them, on 1 core and on 2 (images
  per second of wall time, and of the process's CPU time), the batches counted inside
  TensorFlow as a training step takes them. The goal is judged on the slower of the two
  rates: the ``train`` job's 8 CPUs are not measured here, and a feed held back by Python's
  global lock can get slower with more cores;
- the network's training step on this CPU: ``train_on_batch`` of one batch, over and over,
  with no feed (images per second of wall time, 2 threads).

One GPU's rate for this network is not measured here (no GPU): see
``common.GPU_IMAGES_PER_SECOND`` for the figure used and where it comes from. The goal: the profile's 8 CPUs for ``train`` feed at least 3
times what the GPU trains on. The run folder gets ``training_feed.json``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import GPU_IMAGES_PER_SECOND, REPO
from lenspipe.runs.status.run_config import load_run_config

TRAIN_CPUS = 8
"""The CPUs the Amarel profile gives a ``train`` job (``set-threads``)."""
FEED_MARGIN = 3.0

GPU_RATE = GPU_IMAGES_PER_SECOND


def _pin(cores: int) -> None:
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cores]))


def feed_probe(run: Path, config: dict, cores: int, steps: int) -> dict:
    """Iterate the augmented training feed for ``steps`` batches on ``cores`` cores."""
    _pin(cores)
    import tensorflow as tf
    from lenspipe.data.dataset import LensBatches, batches_in_flight
    from lenspipe.data.normalise import load_normalisation, load_split
    from lenspipe.data.store import store_pix2angle
    from lenspipe.runs.layout import run_file
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(cores)
    store = run_file(run, "store")
    started = time.perf_counter()
    batches = LensBatches(
        store,
        load_split(run_file(run, "split"))["train"],
        load_normalisation(run_file(run, "normalisation")),
        config["training"]["batch_size"],
        shuffle_seed=config["seed"],
        pix2angle=store_pix2angle(store),
    )
    load_seconds = time.perf_counter() - started
    # Finite pipelines: a process left with the endless one's reading threads can hang at exit.
    # The batches are counted inside TensorFlow, as a training step takes them, not by a
    # Python loop, whose own cost per batch would be measured too.
    dataset = batches.as_dataset(parallel_batches=batches_in_flight(cores))
    next(iter(dataset.take(1)))  # the first batch includes starting the pipeline
    cpu_before = time.process_time()
    started = time.perf_counter()
    images = int(dataset.take(steps).reduce(0, lambda count, batch: count + tf.shape(batch[0])[0]))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    return {
        "cores": cores,
        "images_per_second": images / wall,
        "images_per_cpu_second": images / cpu,
        "load_seconds": load_seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def step_probe(run: Path, config: dict, cores: int, steps: int) -> dict:
    """The CNN's training steps on one batch, over and over: images a second, no feed."""
    _pin(cores)
    import numpy as np
    from lenspipe.learning.compile import compile_model
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(cores)
    training = config["training"]
    batch_size = training["batch_size"]
    model = compile_model(training, (64, 64, 1), 1000)
    rng = np.random.default_rng(0)
    images = rng.random((batch_size, 64, 64, 1), dtype=np.float32)
    targets = rng.random((batch_size, len(training["targets"])), dtype=np.float32)
    for _ in range(5):
        model.train_on_batch(images, targets)
    started = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, targets)
    wall = time.perf_counter() - started
    return {"cores": cores, "images_per_second": steps * batch_size / wall}


def run_probe(kind: str, run: Path, configs: list[str], cores: int, steps: int) -> dict:
    command = [sys.executable, __file__, "--probe", kind, str(run), str(cores), str(steps)]
    command += [str(path) for path in configs]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{kind} probe failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a normalised run folder, results/<run_name>")
    parser.add_argument(
        "--configfile",
        nargs="*",
        default=[],
        help="the config files the run added to config/config.yaml, in order (as for snakemake)",
    )
    parser.add_argument("--steps", type=int, default=1250, help="batches per feed measurement")
    arguments = parser.parse_args()
    feeds = [
        run_probe("feed", arguments.run, arguments.configfile, cores, arguments.steps)
        for cores in (1, 2)
    ]
    cpu_step = run_probe("step", arguments.run, arguments.configfile, 2, 60)
    one, two = (feed["images_per_second"] for feed in feeds)
    scaling = two / one
    slower = min(one, two)
    result = {
        "feed": feeds,
        "cpu_training_step": cpu_step,
        "gpu_rate_assumed": GPU_RATE,
        "scaling_1_to_2_cores": scaling,
        "margin_over_gpu_on_2_cores": two / GPU_RATE,
        "margin_over_gpu": slower / GPU_RATE,
        "goal": FEED_MARGIN,
    }
    (arguments.run / "training_feed.json").write_text(json.dumps(result, indent=2) + "\n")
    for feed in feeds:
        print(
            f"feed on {feed['cores']} core(s): {feed['images_per_second']:,.0f} images/s, "
            f"{feed['images_per_cpu_second']:,.0f} per CPU-second; loading the subset "
            f"{feed['load_seconds']:.1f} s; peak {feed['peak_mb']:,.0f} MB"
        )
    print(f"the CNN's training step on 2 CPU cores: {cpu_step['images_per_second']:,.0f} images/s")
    print(
        f"feed on 2 cores: {two / GPU_RATE:.1f} x one GPU's {GPU_RATE:,} images/s; from 1 to 2 "
        f"cores it scaled {scaling:.2f}x"
    )
    print(
        f"the slower of 1 and 2 cores: {slower:,.0f} images/s = {slower / GPU_RATE:.1f} x one "
        f"GPU (goal >= {FEED_MARGIN:g} on the train job's {TRAIN_CPUS} CPUs, not measured here)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        kind, run_folder, cores, steps = sys.argv[2:6]
        probe = feed_probe if kind == "feed" else step_probe
        config = load_run_config(REPO, sys.argv[6:])
        print(json.dumps(probe(Path(run_folder), config, int(cores), int(steps))))
    else:
        main()
