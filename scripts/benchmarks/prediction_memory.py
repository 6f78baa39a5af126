"""Peak memory of predicting a run's test lenses (what evaluate, calibrate and
evaluate_independent do, through ``predict_lenses``) against the number of lenses.

    python scripts/benchmarks/prediction_memory.py results/production_short \\
        --configfile scripts/benchmarks/production_short.yaml

Each size is predicted in its own process (the main model, calibrated, averaged over the 8
flips and rotations if trained with augmentation); its peak resident memory is its own. The
goal: flat, at most 1.2 times from the smallest to the largest size. The run folder gets
``prediction_memory.json``.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import REPO
from lenspipe.runs.status.run_config import load_run_config

SIZES = (1_000, 10_000)
FLAT = 1.2


def probe(run: Path, config: dict, n_lenses: int) -> dict:
    """Predict the first ``n_lenses`` test lenses; seconds and peak MB."""
    from lenspipe.data.normalise import load_split
    from lenspipe.evaluation.evaluate import predict_lenses
    from lenspipe.learning.variants import MAIN_MODEL
    from lenspipe.runs.layout import run_file
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(1)
    test = load_split(run_file(run, "split"))["test"]
    if len(test) < n_lenses:
        raise SystemExit(f"{run}: {len(test)} test lenses, fewer than the {n_lenses} asked")
    started = time.perf_counter()
    predict_lenses(
        run_file(run, "store"),
        run_file(run, "normalisation"),
        run_file(run, "model", model=MAIN_MODEL),
        test[:n_lenses],
        config["training"]["batch_size"],
        run_file(run, "calibration", model=MAIN_MODEL),
        config["training"]["augment"],
    )
    return {
        "n_lenses": n_lenses,
        "seconds": time.perf_counter() - started,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder with a calibrated main model")
    parser.add_argument(
        "--configfile",
        nargs="*",
        default=[],
        help="the config files the run added to config/config.yaml, in order (as for snakemake)",
    )
    arguments = parser.parse_args()
    results = []
    for n_lenses in SIZES:
        command = [sys.executable, __file__, "--probe", str(arguments.run), str(n_lenses)]
        command += [str(path) for path in arguments.configfile]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"probe of {n_lenses} lenses failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.splitlines()[-1]))
    growth = results[-1]["peak_mb"] / results[0]["peak_mb"]
    summary = {"sizes": results, "growth": growth, "flat_goal": FLAT}
    (arguments.run / "prediction_memory.json").write_text(json.dumps(summary, indent=2) + "\n")
    for result in results:
        print(
            f"{result['n_lenses']:>6,} test lenses: peak {result['peak_mb']:,.0f} MB, "
            f"{result['seconds']:.0f} s"
        )
    print(f"growth {growth:.2f} (goal <= {FLAT})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        run_folder, n_lenses = sys.argv[2:4]
        config = load_run_config(REPO, sys.argv[4:])
        print(json.dumps(probe(Path(run_folder), config, int(n_lenses))))
    else:
        main()
