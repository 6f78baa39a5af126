"""Benchmark 5: training fed from the zarr store against the same model fed from memory.

Each measurement runs in its own process (``python training_input.py probe ...``), so its
peak memory is its own. The time of the second epoch is used: the first includes tracing.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

from common import Row, production_config

STREAM_TARGET = 0.9
BATCH_SIZE = 64


def probe(mode: str, n_lenses: int, store: str, normalisation_path: str) -> dict:
    """Train 2 epochs on the first ``n_lenses`` lenses; images/s of epoch 2 and peak MB."""
    import resource

    import keras
    import numpy as np
    from lenspipe.data.dataset import LensBatches
    from lenspipe.data.normalise import load_normalisation
    from lenspipe.data.store import open_store, read_parameters
    from lenspipe.learning.compile import compile_model
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(2)
    normalisation = load_normalisation(normalisation_path)
    indices = np.arange(n_lenses)
    training = production_config()["training"]
    image_shape = tuple(open_store(store)["images"].shape[1:])
    model = compile_model(training, image_shape, -(-n_lenses // BATCH_SIZE))

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = EpochTimer()
    if mode == "stream":
        batches = LensBatches(store, indices, normalisation, BATCH_SIZE, shuffle_seed=0)
        model.fit(
            batches.as_dataset(),
            steps_per_epoch=len(batches),
            epochs=2,
            callbacks=[timer],
            verbose=0,
        )
    else:
        root = open_store(store)
        images = normalisation.image.transform(root["images"][:n_lenses])
        targets = normalisation.transform_targets(
            read_parameters(root, normalisation.targets)[:n_lenses]
        )
        model.fit(
            images,
            targets,
            batch_size=BATCH_SIZE,
            epochs=2,
            shuffle=True,
            callbacks=[timer],
            verbose=0,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"images_per_second": n_lenses / timer.seconds, "peak_mb": peak}


def run_probe(mode: str, n_lenses: int, store: Path, normalisation: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "probe", mode, str(n_lenses), str(store), str(normalisation)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"training probe {mode} {n_lenses} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def run(store: Path, n_small: int) -> list[Row]:
    """Streamed against in-memory throughput at 10N lenses; streamed peak memory at N and 10N."""
    from lenspipe.data.normalise import fit_normalisation, save_normalisation

    settings = production_config()
    _, normalisation = fit_normalisation(
        store,
        settings["training"]["targets"],
        settings["normalisation"]["split"],
        settings["seed"],
        settings["normalisation"]["image_stretch"],
        settings["normalisation"]["asinh_softening"],
    )
    normalisation_path = store.parent / "bench_normalisation.json"
    save_normalisation(normalisation, normalisation_path)
    n_large = 10 * n_small
    stream_small = run_probe("stream", n_small, store, normalisation_path)
    stream_large = run_probe("stream", n_large, store, normalisation_path)
    memory_large = run_probe("memory", n_large, store, normalisation_path)
    ratio = stream_large["images_per_second"] / memory_large["images_per_second"]
    growth = stream_large["peak_mb"] / stream_small["peak_mb"]
    return [
        Row(
            f"5a. training input, {n_large:,} images streamed from zarr",
            f"{stream_large['images_per_second']:.0f} images/s",
            f"{memory_large['images_per_second']:.0f} images/s from memory "
            f"({memory_large['peak_mb']:.0f} MB)",
            ratio,
            f">= {STREAM_TARGET}",
            ratio >= STREAM_TARGET,
        ),
        Row(
            f"5b. streamed training peak memory, {n_small:,} -> {n_large:,} images",
            f"{stream_large['peak_mb']:.0f} MB",
            f"{stream_small['peak_mb']:.0f} MB",
            growth,
            "flat (<= 1.2)",
            growth <= 1.2,
        ),
    ]


if __name__ == "__main__" and sys.argv[1] == "probe":
    mode, n_lenses, store_path, normalisation_file = sys.argv[2:6]
    print(json.dumps(probe(mode, int(n_lenses), store_path, normalisation_file)))
