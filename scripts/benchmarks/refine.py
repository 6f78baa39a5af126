"""Refine benchmark: CNN-seeded refinement against the CNN and the blind fit, same lenses, one run.

    .venv/bin/python scripts/benchmarks/refine.py            # local default: 200 + 200 lenses, 20 fits
    .venv/bin/python scripts/benchmarks/refine.py --n-test 400 --n-calibration 200 --n-fit 40

Needs a run whose CNN is trained and calibrated (``bash scripts/run_local.sh`` for the local
default). On that run's store, split and model, with the package code the rules run:

1. the CNN's calibrated predictions of the first ``--n-calibration`` validation and
   ``--n-test`` test lenses (``write_seeds``);
2. the refinement of all of them in ``--workers`` processes (``refine_chunk``), merged and
   calibrated on the validation lenses (``merge_refined``);
3. the blind fit baseline (the config's ``baselines.fit``: several swarm starts, then BFGS) of
   the first ``--n-fit`` test lenses, which are also the first refined ones, in the same
   processes' count (``fit_test_lenses``).

Prints, per target, the refined RMSE over the CNN's on the same lenses (targets: 1/4 for
theta_E and the centre, 1/2 for e and gamma), the refined RMSE over the fit's where both
converged (target 1.2), the refined 68 % and 95 % coverage (targets 0.63-0.73 and 0.93-0.97);
the failures and catastrophic failures (target 1 %), and the seconds per lens of each (target:
refinement at most 1/10 of the fit's). The spread of each ratio is the 16-84 % range of 1,000
bootstrap resamples of the lenses (the refinement has no training seed: what varies is which
lenses). Writes everything to results/benchmarks/refine_<run>.json (``--out`` for another),
every refined lens (calibration and test, with Fisher sigmas) to ``.refined.csv`` and every
blind fit to ``.fits.csv`` beside it.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from lenspipe.baselines.fit_test_lenses import fit_test_lenses
from lenspipe.baselines.likelihood_fit import Search
from lenspipe.config import merge_config, validate_config
from lenspipe.evaluation.uncertainty import coverage_standard_error
from lenspipe.learning.variants import MAIN_MODEL, model_settings
from lenspipe.runs.refine_job import refine_chunk
from lenspipe.settings import RefineSearch
from lenspipe.refinement.merge import catastrophic, merge_refined
from lenspipe.refinement.seeds import write_seeds
from lenspipe.refinement.selection import CALIBRATION, TEST
from lenspipe.runs import layout
from lenspipe.runs.threads import limit_tensorflow_threads
from lenspipe.settings import SimulationSettings

REPO = Path(__file__).resolve().parents[2]

ACCURACY_TARGETS = {"lens_theta_E": 0.25, "lens_center_x": 0.25, "lens_center_y": 0.25}
"""Refined over CNN RMSE; the other targets (e, gamma): 0.5."""
FIT_TARGET, FAILURE_TARGET, COST_TARGET = 1.2, 0.01, 0.1
COVERAGE_TARGETS = {"coverage_68": (0.63, 0.73), "coverage_95": (0.93, 0.97)}
BOOTSTRAPS = 1000


def load_config(configfiles: list[str]) -> dict:
    """The validated config of config/config.yaml with ``configfiles`` on top."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for path in configfiles:
        config = merge_config(config, yaml.safe_load((REPO / path).read_text()))
    return validate_config(config)


def rmse(errors: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(errors))))


def ratio_with_spread(numerator: np.ndarray, denominator: np.ndarray, rng) -> dict:
    """RMSE(numerator) / RMSE(denominator) of paired errors, and its 16-84 % bootstrap range."""
    ratio = rmse(numerator) / rmse(denominator)
    draws = rng.integers(0, len(numerator), size=(BOOTSTRAPS, len(numerator)))
    boot = np.sqrt(np.mean(numerator[draws] ** 2, 1) / np.mean(denominator[draws] ** 2, 1))
    low, high = np.quantile(boot, [0.16, 0.84])
    return {"ratio": ratio, "low": float(low), "high": float(high)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configfile", nargs="+", default=["config/local.yaml"])
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--n-calibration", type=int, default=200)
    parser.add_argument("--n-fit", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    config = load_config(args.configfile)
    run = REPO / layout.run_dir(config)
    targets = config["training"]["targets"]
    settings = model_settings(config, MAIN_MODEL)
    simulation = SimulationSettings.from_config(config)
    refine = config["refine"]
    search = RefineSearch.from_config(refine)
    fit = config["baselines"]["fit"]
    out = args.out or REPO / "results" / "benchmarks" / f"refine_{config['run_name']}.json"
    limit_tensorflow_threads(args.workers)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        started = time.perf_counter()
        write_seeds(
            {CALIBRATION: args.n_calibration, TEST: args.n_test},
            layout.run_file(run, "store"),
            layout.run_file(run, "normalisation"),
            layout.run_file(run, "split"),
            layout.run_file(run, "model", model=MAIN_MODEL),
            layout.run_file(run, "calibration", model=MAIN_MODEL),
            settings["batch_size"],
            settings["augment"],
            folder / "seeds.csv",
        )
        seeds_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rows = args.n_test + args.n_calibration
        refine_chunk(
            simulation,
            search,
            targets,
            chunk=0,
            chunk_size=rows,
            seeds_path=folder / "seeds.csv",
            images_path=layout.run_file(run, "store"),
            path=folder / "chunk.csv",
            work_dir=folder / "work",
            checkpoint_every=rows,
            workers=args.workers,
            progress=sys.stderr,
        )
        refine_wall = time.perf_counter() - started
        outputs = [folder / name for name in ("predictions.csv", "calibration.json", "s.json")]
        summary = merge_refined([folder / "chunk.csv"], targets, *outputs)
        refined = pd.read_csv(outputs[0])
        chunk = pd.read_csv(folder / "chunk.csv")
        started = time.perf_counter()
        fit_test_lenses(
            simulation,
            targets,
            args.n_fit,
            Search(
                fit["n_starts"], fit["n_particles"], fit["n_iterations"], fit["polish_iterations"]
            ),
            fit["chi2_tolerance"],
            layout.run_file(run, "store"),
            layout.run_file(run, "split"),
            folder / "fit.csv",
            workers=args.workers,
        )
        fit_wall = time.perf_counter() - started
        fitted = pd.read_csv(folder / "fit.csv")

    rng = np.random.default_rng(0)
    done = refined[refined["converged"].astype(bool)]
    both = done.merge(fitted[fitted["converged"]], on="lens_index", suffixes=("", "_fit"))
    report: dict = {
        "config": args.configfile,
        "n_test": args.n_test,
        "n_calibration": args.n_calibration,
        "n_fit": args.n_fit,
        "workers": args.workers,
        "seeds_seconds": seeds_seconds,
        "refine_wall_seconds": refine_wall,
        "fit_wall_seconds": fit_wall,
        "summary": summary,
        "fit_converged": int(fitted["converged"].sum()),
        "both_converged": int(len(both)),
        "parameters": {},
    }
    print(
        f"{len(refined)} test lenses refined ({len(done)} converged), {args.n_calibration} "
        f"calibration lenses; {args.n_fit} fitted blind ({report['fit_converged']} converged)"
    )
    header = f"{'target':<15}{'refined/CNN':>24}{'target':>8}{'refined/fit':>24}{'cov68':>7}{'cov95':>7}"
    print(header)
    for name in targets:
        error = (done[f"pred_{name}"] - done[f"true_{name}"]).to_numpy()
        cnn = (done[f"cnn_{name}"] - done[f"true_{name}"]).to_numpy()
        over_cnn = ratio_with_spread(error, cnn, rng)
        over_fit = (
            ratio_with_spread(
                (both[f"pred_{name}"] - both[f"true_{name}"]).to_numpy(),
                (both[f"pred_{name}_fit"] - both[f"true_{name}_fit"]).to_numpy(),
                rng,
            )
            if len(both)
            else None
        )
        target = summary["parameters"][name]
        report["parameters"][name] = {
            "refined_over_cnn": over_cnn,
            "refined_over_fit": over_fit,
            "rmse_refined": rmse(error),
            "rmse_cnn": rmse(cnn),
            "coverage_68": target["coverage_68"],
            "coverage_95": target["coverage_95"],
        }
        goal = ACCURACY_TARGETS.get(name, 0.5)
        fit_text = (
            f"{over_fit['ratio']:.2f} ({over_fit['low']:.2f}-{over_fit['high']:.2f})"
            if over_fit
            else "n/a"
        )
        print(
            f"{name:<15}{over_cnn['ratio']:>10.3f} ({over_cnn['low']:.3f}-{over_cnn['high']:.3f})"
            f"{goal:>8}{fit_text:>24}{target['coverage_68']:>7.3f}{target['coverage_95']:>7.3f}"
        )
    n = len(refined)
    failures = summary["n_failed"] + int(catastrophic(done).sum())
    fit_seconds = fitted["seconds"].to_numpy()
    seconds = refined["seconds"].to_numpy()
    report["failure_fraction"] = failures / n
    report["refine_seconds_per_lens"] = {
        "mean": float(seconds.mean()),
        "median": float(np.median(seconds)),
    }
    report["fit_seconds_per_lens"] = {
        "mean": float(fit_seconds.mean()),
        "median": float(np.median(fit_seconds)),
    }
    report["cost_ratio_mean"] = float(seconds.mean() / fit_seconds.mean())
    report["coverage_standard_error"] = {
        "68": float(coverage_standard_error(0.6827, len(done))),
        "95": float(coverage_standard_error(0.95, len(done))),
    }
    print(
        f"failures: {summary['n_failed']} not converged, {summary['n_catastrophic']} catastrophic "
        f"of {n} ({report['failure_fraction']:.3f}; target {FAILURE_TARGET}); paths {summary['paths']}"
    )
    print(
        f"seconds per lens: refined mean {seconds.mean():.2f} median {np.median(seconds):.2f}; "
        f"blind fit mean {fit_seconds.mean():.1f} median {np.median(fit_seconds):.1f}; "
        f"ratio {report['cost_ratio_mean']:.3f} (target {COST_TARGET}); "
        f"{summary['cpu_hours_per_100k_lenses']:.0f} CPU-hours per 100k lenses"
    )
    print(
        f"coverage standard error on {len(done)} lenses: "
        f"{report['coverage_standard_error']['68']:.3f} (68 %), {report['coverage_standard_error']['95']:.3f} (95 %)"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    # Every refined lens (calibration and test, Fisher sigmas) and every blind fit, beside it.
    chunk.to_csv(out.with_suffix(".refined.csv"), index=False)
    fitted.to_csv(out.with_suffix(".fits.csv"), index=False)
    print(f"written: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
