"""The CNN beside its baselines on the same test lenses: error per parameter, ratios, speed.

The CNN and the naive Dense model predict every test lens; the maximum-likelihood fit only
the first few (``baselines.fit.n_lenses``), and of those only the converged fits (chi^2 at
most ``baselines.fit.chi2_tolerance`` above the chi^2 at the truth, column ``converged``)
measure the method rather than a search that got stuck. So the table gives each model's RMSE
on the whole test subset, then the CNN's and the fit's RMSE on the converged fitted lenses
alone, and the ratios CNN / naive (whole subset) and CNN / fit (converged lenses). A ratio
below 1 means the CNN is better.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path, write_json

COLUMNS = (
    "rmse_cnn",
    "rmse_naive",
    "cnn_over_naive",
    "rmse_cnn_on_fitted",
    "rmse_fit",
    "cnn_over_fit",
)


def rmse(frame: pd.DataFrame, name: str) -> float:
    """Root mean squared error of target ``name`` in a predictions frame (NaN rows dropped)."""
    error = (frame[f"pred_{name}"] - frame[f"true_{name}"]).dropna()
    return float(np.sqrt(np.mean(np.square(error)))) if len(error) else float("nan")


def comparison_table(
    names: list[str], cnn: pd.DataFrame, naive: pd.DataFrame, fit: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per target: the RMSEs and ratios of ``COLUMNS`` (physical units).

    Each frame holds predictions (``lens_index``, ``true_<name>``, ``pred_<name>``), the
    fit's also ``converged``; the CNN's are matched to the converged fits by
    ``lens_index``. Without a fit (a run with a lensed quasar, which the fit does not model)
    or without a converged one, the fit's columns are NaN.
    """
    fit = converged(_no_fit(names) if fit is None else fit)
    on_fitted = cnn.set_index("lens_index").loc[fit["lens_index"]].reset_index()
    rows = []
    for name in names:
        row = {
            "rmse_cnn": rmse(cnn, name),
            "rmse_naive": rmse(naive, name),
            "rmse_cnn_on_fitted": rmse(on_fitted, name),
            "rmse_fit": rmse(fit, name),
        }
        row["cnn_over_naive"] = row["rmse_cnn"] / row["rmse_naive"]
        row["cnn_over_fit"] = row["rmse_cnn_on_fitted"] / row["rmse_fit"]
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(names, name="parameter"))
    return table[list(COLUMNS)]


def converged(fit: pd.DataFrame) -> pd.DataFrame:
    """The rows of the fit's predictions whose fit converged."""
    return fit[fit["converged"].astype(bool)]


def _no_fit(names: list[str]) -> pd.DataFrame:
    """An empty fit predictions frame, for a run without a fit."""
    columns = ["lens_index", "seconds", "converged"] + [
        f"{kind}_{n}" for n in names for kind in ("true", "pred")
    ]
    return pd.DataFrame(columns=columns, dtype=float)


def fit_counts(fit: pd.DataFrame | None) -> dict[str, float]:
    """Lenses fitted, their fits that converged, and the converged fraction (NaN if none
    was fitted)."""
    n_fitted = 0 if fit is None else len(fit)
    n_converged = 0 if fit is None else len(converged(fit))
    return {
        "n_fitted": n_fitted,
        "n_converged": n_converged,
        "converged_fraction": n_converged / n_fitted if n_fitted else float("nan"),
    }


def timing(cnn_seconds: float, naive_seconds: float, fit: pd.DataFrame | None) -> dict[str, float]:
    """Seconds per lens of each model (the fit's over every fitted lens, converged or not,
    all its starts) and how many times faster the CNN is than the fit."""
    fit_seconds = float(fit["seconds"].mean()) if fit is not None else float("nan")
    return {
        "cnn_seconds_per_lens": cnn_seconds,
        "naive_seconds_per_lens": naive_seconds,
        "fit_seconds_per_lens": fit_seconds,
        "cnn_speedup_over_fit": fit_seconds / cnn_seconds,
    }


def write_comparison(
    names: list[str],
    predictions: dict[str, str | Path],
    seconds_per_lens: dict[str, float],
    table_path: str | Path,
    summary_path: str | Path,
) -> pd.DataFrame:
    """Read the ``cnn``, ``naive`` and (if given) ``fit`` predictions, write the table (CSV)
    and a JSON summary (lens counts, the fit's converged fraction, timing, the table), and
    return the table."""
    frames = {model: pd.read_csv(path) for model, path in predictions.items()}
    fit = frames.get("fit")
    table = comparison_table(names, frames["cnn"], frames["naive"], fit)
    with atomic_path(table_path) as temporary:
        table.to_csv(temporary)
    summary = {
        "n_test": int(len(frames["cnn"])),
        **fit_counts(fit),
        **timing(seconds_per_lens["cnn"], seconds_per_lens["naive"], fit),
        "parameters": table.to_dict(orient="index"),
    }
    write_json(summary_path, summary)
    return table
