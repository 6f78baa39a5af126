"""Science benchmark: lenspipe's CNN against a plain reference CNN on the same data.

    .venv/bin/python scripts/benchmarks/science.py                      # local default, 3 seeds
    .venv/bin/python scripts/benchmarks/science.py --seeds 1 2 3 4 5
    .venv/bin/python scripts/benchmarks/science.py --configfile config/local.yaml other.yaml
    .venv/bin/python scripts/benchmarks/science.py --reference-from earlier.json  # lenspipe only

Both networks train on the same store, split and normalisation (made by the workflow, which
this script runs first up to normalise.json), once per training seed, and predict the same
test subset. lenspipe's CNN is trained, calibrated and evaluated by the package code the rules
run (``train``, ``calibrate``, ``predict_test_subset``), with the config's ``training``
settings. The reference is the plain CNN of issue 12, written out below in 20 lines: four
blocks of two 3x3 ReLU convolutions (16, 32, 64, 128 filters) and 2x2 max pooling, Flatten,
Dense 256, a linear head, MSE on the MinMax targets, Adam 1e-3 with ReduceLROnPlateau
(patience 2, factor 0.5), batch 64, 20 epochs, the epoch of lowest validation loss kept.

Prints, per target, the test RMSE of each (mean ± standard deviation over the seeds), their
ratio, lenspipe's bias and its 68 % and 95 % coverage, and writes everything to
results/benchmarks/science_<run>.json (``--out`` for another file), with a digest of the data
(store, split and normalisation). The reference depends only on the data and the seed (it is
deterministic per seed on one machine), so ``--reference-from`` takes its results from an
earlier run's file instead of training it again, for the seeds that file has, and only if
that file's data digest is this run's.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from lenspipe.config import merge_config, validate_config
from lenspipe.runs.layout import run_file
from lenspipe.runs.threads import limit_tensorflow_threads

REPO = Path(__file__).resolve().parents[2]

REFERENCE_EPOCHS = 20


def load_config(configfiles: list[str]) -> dict:
    """The validated config of config/config.yaml with ``configfiles`` on top, as the
    workflow reads it."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for path in configfiles:
        config = merge_config(config, yaml.safe_load((REPO / path).read_text()))
    return validate_config(config)


def make_data(configfiles: list[str], run: Path) -> None:
    """Run the workflow up to the normalisation (the store, the split and the scalers)."""
    target = str(run_file(run, "normalisation").relative_to(REPO))
    command = [sys.executable, "-m", "snakemake", target, "--cores"]
    command += ["2", "--configfile", "config/config.yaml", *configfiles]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")


def data_digest(run: Path, targets: list[str]) -> str:
    """SHA-256 of what both networks learn from: the store's images and target columns, the
    split and the normalisation."""
    from lenspipe.data.store import open_store, read_parameters

    root = open_store(run_file(run, "store"))
    digest = hashlib.sha256()
    for part in (
        np.ascontiguousarray(root["images"][:]).tobytes(),
        np.ascontiguousarray(read_parameters(root, targets)).tobytes(),
        run_file(run, "split").read_bytes(),
        run_file(run, "normalisation").read_bytes(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def stored_references(path: Path, digest: str) -> dict[int, dict]:
    """The reference results per seed in an earlier science JSON, if made on the same data."""
    earlier = json.loads(path.read_text())
    if earlier.get("data_digest") != digest:
        sys.exit(
            f"--reference-from {path}: its data digest {earlier.get('data_digest')} is not "
            f"this run's {digest}; its reference was trained on other data (or not recorded)"
        )
    fields = ("reference_rmse", "reference_bias", "reference_seconds")
    return {entry["seed"]: {f: entry[f] for f in fields} for entry in earlier["seeds"]}


def reference_cnn(image_shape: tuple[int, int, int], n_targets: int):
    """The plain reference network of issue 12."""
    import keras
    from keras import layers

    features = image = keras.Input(shape=image_shape)
    for filters in (16, 32, 64, 128):
        features = layers.Conv2D(filters, 3, padding="same", activation="relu")(features)
        features = layers.Conv2D(filters, 3, padding="same", activation="relu")(features)
        features = layers.MaxPooling2D(2)(features)
    features = layers.Dense(256, activation="relu")(layers.Flatten()(features))
    model = keras.Model(image, layers.Dense(n_targets)(features))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def train_reference(run: Path, seed: int, work: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """Train the reference on the run's training subset in memory; return its test
    predictions and the truth in physical units, and the training seconds."""
    import keras
    from lenspipe.data.normalise import load_normalisation, load_split
    from lenspipe.data.store import open_store, read_parameters

    normalisation = load_normalisation(run_file(run, "normalisation"))
    split = load_split(run_file(run, "split"))
    root = open_store(run_file(run, "store"))
    images = normalisation.image.transform(root["images"][:])
    parameters = read_parameters(root, normalisation.targets)
    train, validation, test = split["train"], split["validation"], split["test"]
    keras.utils.set_random_seed(seed)
    model = reference_cnn(images.shape[1:], len(normalisation.targets))
    best = str(work / "reference.weights.h5")
    started = time.perf_counter()
    model.fit(
        images[train],
        normalisation.transform_targets(parameters[train]),
        batch_size=64,
        epochs=REFERENCE_EPOCHS,
        validation_data=(
            images[validation],
            normalisation.transform_targets(parameters[validation]),
        ),
        callbacks=[
            keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5),
            keras.callbacks.ModelCheckpoint(best, save_best_only=True, save_weights_only=True),
        ],
        verbose=0,
    )
    seconds = time.perf_counter() - started
    model.load_weights(best)
    prediction = normalisation.inverse_targets(model.predict(images[test], verbose=0))
    return prediction, parameters[test], seconds


def train_lenspipe(config: dict, run: Path, seed: int, work: Path) -> dict:
    """Train, calibrate and evaluate lenspipe's CNN as the rules do; return the test
    predictions, sigma, truth and training seconds."""
    from lenspipe.evaluation.evaluate import calibrate, predict_test_subset
    from lenspipe.learning.train import train
    from lenspipe.learning.variants import has_uncertainties

    paths = {
        "store_path": run_file(run, "store"),
        "normalisation_path": run_file(run, "normalisation"),
        "split_path": run_file(run, "split"),
    }
    training = config["training"]
    started = time.perf_counter()
    train(
        training,
        seed,
        **paths,
        work_dir=work / "train",
        model_path=work / "model.keras",
        history_path=work / "history.csv",
        curve_path=work / "curve.png",
    )
    seconds = time.perf_counter() - started
    batch_size, augment = training["batch_size"], training["augment"]
    calibration = work / "calibration.json" if has_uncertainties(training) else None
    if calibration is not None:
        calibrate(
            **paths,
            model_path=work / "model.keras",
            batch_size=batch_size,
            augment=augment,
            calibration_path=calibration,
        )
    predicted = predict_test_subset(
        **paths,
        model_path=work / "model.keras",
        batch_size=batch_size,
        calibration_path=calibration,
        augment=augment,
    )
    return {
        "prediction": predicted.prediction,
        "sigma": predicted.sigma,
        "tail_dof": predicted.tail_dof,
        "truth": predicted.truth,
        "seconds": seconds,
    }


def rmse(prediction: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(prediction - truth), axis=0))


def spread(values: list) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ± {values.std(ddof=1) if len(values) > 1 else 0:.4f}"


def summarise(names: list[str], seeds: list[dict]) -> tuple[str, dict]:
    """The printed table and the JSON record of all seeds' results."""
    per_target = {}
    for column, name in enumerate(names):
        ours = [s["lenspipe_rmse"][column] for s in seeds]
        theirs = [s["reference_rmse"][column] for s in seeds]
        per_target[name] = {
            "lenspipe_rmse": ours,
            "reference_rmse": theirs,
            "ratio": [a / b for a, b in zip(ours, theirs)],
            "lenspipe_bias": [s["lenspipe_bias"][column] for s in seeds],
            "reference_bias": [s["reference_bias"][column] for s in seeds],
            "coverage_68": [s["coverage_68"][column] for s in seeds],
            "coverage_95": [s["coverage_95"][column] for s in seeds],
        }
    header = (
        f"{'target':15} {'lenspipe RMSE':>17} {'reference RMSE':>17} {'ratio':>15} "
        f"{'bias/RMSE':>10} {'cov 68%':>15} {'cov 95%':>15}"
    )
    lines = [header]
    for name, row in per_target.items():
        bias_over_rmse = abs(np.mean(row["lenspipe_bias"])) / np.mean(row["lenspipe_rmse"])
        lines.append(
            f"{name:15} {spread(row['lenspipe_rmse']):>17} {spread(row['reference_rmse']):>17} "
            f"{spread(row['ratio']):>15} {bias_over_rmse:>10.3f} "
            f"{spread(row['coverage_68']):>15} {spread(row['coverage_95']):>15}"
        )
    seconds = [s["lenspipe_seconds"] for s in seeds], [s["reference_seconds"] for s in seeds]
    lines.append(
        f"training seconds: lenspipe {spread(seconds[0])}, reference {spread(seconds[1])}"
    )
    return "\n".join(lines), per_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configfile", nargs="*", default=["config/local.yaml"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    parser.add_argument(
        "--reference-from",
        type=Path,
        help="an earlier science JSON on the same data: reuse its reference results",
    )
    parser.add_argument("--out", type=Path, help="the JSON to write (default in results/)")
    args = parser.parse_args()
    limit_tensorflow_threads(2)
    from lenspipe.evaluation.uncertainty import COVERAGE_LEVELS, coverage

    config = load_config(args.configfile)
    run = REPO / "results" / config["run_name"]
    make_data(args.configfile, run)
    digest = data_digest(run, config["training"]["targets"])
    stored = stored_references(args.reference_from, digest) if args.reference_from else {}
    reused = set(stored)
    seeds = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            ours = train_lenspipe(config, run, seed, work)
            if seed not in stored:
                reference, truth, reference_seconds = train_reference(run, seed, work)
                stored[seed] = {
                    "reference_rmse": rmse(reference, truth).tolist(),
                    "reference_bias": (reference - truth).mean(axis=0).tolist(),
                    "reference_seconds": reference_seconds,
                }
        error = ours["prediction"] - ours["truth"]
        result = {
            "seed": seed,
            "lenspipe_rmse": rmse(ours["prediction"], ours["truth"]).tolist(),
            "lenspipe_bias": error.mean(axis=0).tolist(),
            **stored[seed],
            **{
                f"coverage_{round(level * 100)}": coverage(
                    ours["truth"], ours["prediction"], ours["sigma"], level, ours["tail_dof"]
                ).tolist()
                for level in COVERAGE_LEVELS
            },
            "lenspipe_seconds": ours["seconds"],
            "reference_reused": seed in reused,
        }
        print(json.dumps(result), flush=True)
        seeds.append(result)
    table, per_target = summarise(config["training"]["targets"], seeds)
    print(table)
    out = args.out or REPO / "results" / "benchmarks" / f"science_{config['run_name']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"data_digest": digest, "seeds": seeds, "per_target": per_target}
    out.write_text(json.dumps(record, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
