"""Training-recipe experiments: one variant of network, loss, schedule and augmentation per run.

    .venv/bin/python scripts/benchmarks/recipe_variants.py '{"arch": "reference", "loss": "mse"}'

Trains one variant on a run's store (``RUN``, default results/local, made by the workflow up
to normalise) with the data in memory, and prints (and appends to
results/benchmarks/recipe_variants.jsonl) its test RMSE and bias per target, without and, for
an augmented variant, with the average over the 8 flips and rotations, and for a variant with
uncertainties the coverage before and after a per-target scale fit on the validation subset.
The README's table of variants came from these runs (one each). Keys: ``arch`` (reference |
lenspipe_v1 | vgg), ``arch_kw`` (vgg: detach), ``loss`` (mse | nll | mse_nll | beta_nll),
``beta``, ``sched`` (plateau | cosine | const), ``aug``, ``weighted``, ``epochs``, ``batch``,
``seed``.
"""

import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from lenspipe.runs.threads import limit_tensorflow_threads

limit_tensorflow_threads(2)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402
from lenspipe.data.augment import sky_matrix, transform_image, transform_parameters  # noqa: E402
from lenspipe.data.normalise import load_normalisation, load_split  # noqa: E402
from lenspipe.data.store import open_store, read_parameters, store_pix2angle  # noqa: E402
from lenspipe.learning.model import StopGradient  # noqa: E402
from lenspipe.runs.layout import run_file  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RUN = Path(os.environ.get("RUN", REPO / "results" / "local"))
LOG_RANGE = (-12.0, 6.0)


def vgg(shape, k: int, outputs_per_target: int, filters=(16, 32, 64, 128), detach=False):
    """Blocks of two 3x3 ReLU convolutions and 2x2 pooling, Flatten, Dense 256, linear head;
    ``detach``: the log-variances from their own head on features held fixed."""
    x = inputs = keras.Input(shape)
    for f in filters:
        x = layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Dense(256, activation="relu")(layers.Flatten()(x))
    if detach and outputs_per_target == 2:
        variances = layers.Dense(k)(StopGradient()(x))
        return keras.Model(inputs, layers.Concatenate()([layers.Dense(k)(x), variances]))
    return keras.Model(inputs, layers.Dense(k * outputs_per_target)(x))


def lenspipe_v1(shape, k: int, outputs_per_target: int):
    """lenspipe's network before issue 12: one convolution a block with batch normalisation,
    Dense 128 with dropout 0.1."""
    x = inputs = keras.Input(shape)
    for f in (16, 32, 64, 128):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.1)(layers.Dense(128, activation="relu")(layers.Flatten()(x)))
    return keras.Model(inputs, layers.Dense(k * outputs_per_target)(x))


def _split(y, p):
    k = ops.shape(y)[-1]
    return p[:, :k], ops.clip(p[:, k:], *LOG_RANGE)


def nll(y, p):
    mean, log_var = _split(y, p)
    return ops.mean(0.5 * (log_var + ops.square(y - mean) * ops.exp(-log_var)), axis=-1)


def mse_nll(y, p, weights=None):
    mean, log_var = _split(y, p)
    squared = ops.square(y - mean)
    weighted = squared if weights is None else squared * weights
    variance = 0.5 * (log_var + ops.stop_gradient(squared) * ops.exp(-log_var))
    return ops.mean(weighted, axis=-1) + ops.mean(variance, axis=-1)


def beta_nll(y, p, beta=1.0):
    mean, log_var = _split(y, p)
    weight = ops.stop_gradient(ops.exp(beta * log_var))
    return ops.mean(weight * 0.5 * (log_var + ops.square(y - mean) * ops.exp(-log_var)), -1)


def main(variant: dict) -> dict:
    keras.utils.set_random_seed(variant.get("seed", 1))
    normalisation = load_normalisation(run_file(RUN, "normalisation"))
    split = load_split(run_file(RUN, "split"))
    root = open_store(run_file(RUN, "store"))
    names, k = normalisation.targets, len(normalisation.targets)
    images = normalisation.image.transform(root["images"][:])
    params = read_parameters(root, names)
    train, validation, test = split["train"], split["validation"], split["test"]
    y_train = normalisation.transform_targets(params[train])
    y_validation = normalisation.transform_targets(params[validation])
    losses = {
        "mse": "mse",
        "nll": nll,
        "mse_nll": mse_nll,
        "beta_nll": functools.partial(beta_nll, beta=variant.get("beta", 1.0)),
    }
    loss = losses[variant["loss"]]
    if variant.get("weighted"):
        inverse = 1.0 / y_train.var(axis=0)
        loss = functools.partial(mse_nll, weights=(inverse / inverse.mean()).astype("float32"))
    per_target = 1 if variant["loss"] == "mse" else 2
    shape = images.shape[1:]
    if variant["arch"] == "lenspipe_v1":
        model = lenspipe_v1(shape, k, per_target)
    else:
        model = vgg(shape, k, per_target, **variant.get("arch_kw", {}))
    epochs, batch = variant.get("epochs", 20), variant.get("batch", 64)
    steps = -(-len(train) // batch) * epochs
    rate = 1e-3
    if variant.get("sched", "plateau") == "cosine":
        warmup = steps // 20
        rate = keras.optimizers.schedules.CosineDecay(
            1e-4, steps - warmup, alpha=0.01, warmup_target=1e-3, warmup_steps=warmup
        )
    model.compile(keras.optimizers.Adam(rate), loss=loss)
    best = str(REPO / "results" / "benchmarks" / f"variant_{os.getpid()}.weights.h5")
    callbacks = [
        keras.callbacks.ModelCheckpoint(best, save_best_only=True, save_weights_only=True)
    ]
    if variant.get("sched", "plateau") == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5))
    matrices = [sky_matrix(t, store_pix2angle(run_file(RUN, "store"))) for t in range(8)]
    started = time.perf_counter()
    rng = np.random.default_rng(variant.get("seed", 1))
    for epoch in range(epochs):
        x, p = images[train], params[train]
        if variant.get("aug"):
            transforms = rng.integers(0, 8, len(train))
            x, p = x.copy(), p.copy()
            for t in range(8):
                chosen = transforms == t
                x[chosen] = transform_image(x[chosen], t)
                p[chosen] = transform_parameters(p[chosen], names, matrices[t])
        model.fit(
            x,
            normalisation.transform_targets(p),
            batch_size=batch,
            epochs=epoch + 1,
            initial_epoch=epoch,
            validation_data=(images[validation], y_validation),
            callbacks=callbacks,
            verbose=0,
        )
    seconds = time.perf_counter() - started
    model.load_weights(best)
    os.remove(best)

    def predict(lenses, averaged: bool):
        means, variances = [], []
        for t in range(8) if averaged else [0]:
            out = model.predict(transform_image(images[lenses], t), batch_size=256, verbose=0)
            back = np.linalg.inv(matrices[t])
            means.append(
                transform_parameters(normalisation.inverse_targets(out[:, :k]), names, back)
            )
            if per_target == 2:
                sigma = normalisation.inverse_sigma(np.exp(0.5 * np.clip(out[:, k:], *LOG_RANGE)))
                variances.append(np.square(transform_parameters(sigma, names, back)))
        mean = np.mean(means, axis=0)
        if not variances:
            return mean, None
        return mean, np.sqrt(np.mean(variances, axis=0) + np.var(means, axis=0))

    result = {"variant": variant, "train_seconds": round(seconds, 1)}
    for averaged in [False, True] if variant.get("aug") else [False]:
        mean, sigma = predict(test, averaged)
        truth = params[test]
        row = {
            "rmse": np.sqrt(np.mean((mean - truth) ** 2, axis=0)).round(4).tolist(),
            "bias": np.mean(mean - truth, axis=0).round(4).tolist(),
        }
        if sigma is not None:
            z = np.abs(mean - truth) / sigma
            v_mean, v_sigma = predict(validation, averaged)
            scale = np.quantile(np.abs(v_mean - params[validation]) / v_sigma, 0.6827, axis=0)
            row["coverage_68_raw"] = np.mean(z < 1, axis=0).round(3).tolist()
            row["coverage_68_scaled"] = np.mean(z < scale, axis=0).round(3).tolist()
        result["averaged" if averaged else "plain"] = row
    return result


if __name__ == "__main__":
    result = main(json.loads(sys.argv[1]))
    print(json.dumps(result))
    out = REPO / "results" / "benchmarks" / "recipe_variants.jsonl"
    with out.open("a") as file:
        file.write(json.dumps(result) + "\n")
