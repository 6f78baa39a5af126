"""The CNN beside the other models and the fit on the same test lenses: error per parameter,
ratios, speed.

Every model of ``lenspipe.learning.variants.MODELS`` (the CNN first, then the naive Dense
model) predicts every test lens; the maximum-likelihood fit only the first few
(``baselines.fit.n_lenses``), and of those only the converged fits (chi^2 at most
``baselines.fit.chi2_tolerance`` above the chi^2 of the truth polished by BFGS, column
``converged``) measure
the method rather than a search that got stuck. So the table gives each model's RMSE on the
whole test subset, the ratios of the first model's RMSE over each other's (``cnn_over_naive``),
then the first model's and the fit's RMSE on the converged fitted lenses alone and their ratio
(``cnn_over_fit``). A ratio below 1 means the first model is better. A run that refines test
lenses (``lenspipe.refinement``) adds the refined columns (``REFINED_COLUMNS``): the refined
RMSE, bias and coverage on its converged lenses, its ratio to the CNN on those lenses, and
its ratio to the fit on the lenses where both converged.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path, write_json


def comparison_columns(models: list[str]) -> list[str]:
    """The table's columns for ``models`` (the reference first): each model's RMSE, the
    reference's ratio over each other model, then the reference and the fit on the fitted
    lenses."""
    reference, others = models[0], models[1:]
    return [
        *(f"rmse_{model}" for model in models),
        *(f"{reference}_over_{model}" for model in others),
        f"rmse_{reference}_on_fitted",
        "rmse_fit",
        f"{reference}_over_fit",
    ]


def rmse(frame: pd.DataFrame, name: str) -> float:
    """Root mean squared error of target ``name`` in a predictions frame (NaN rows dropped)."""
    error = (frame[f"pred_{name}"] - frame[f"true_{name}"]).dropna()
    return float(np.sqrt(np.mean(np.square(error)))) if len(error) else float("nan")


def comparison_table(
    names: list[str], models: dict[str, pd.DataFrame], fit: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per target: the RMSEs and ratios of ``comparison_columns`` (physical units).

    ``models`` maps each model to its predictions frame (``lens_index``, ``true_<name>``,
    ``pred_<name>``), the reference model first; the fit's frame has ``converged`` too, and
    the reference's predictions are matched to the converged fits by ``lens_index``. Without
    a fit (a run with a lensed quasar, which the fit does not model) or without a converged
    one, the fit's columns are NaN.
    """
    reference = next(iter(models))
    fit = converged(_no_fit(names) if fit is None else fit)
    on_fitted = models[reference].set_index("lens_index").loc[fit["lens_index"]].reset_index()
    rows = []
    for name in names:
        row = {f"rmse_{model}": rmse(frame, name) for model, frame in models.items()}
        for model in list(models)[1:]:
            row[f"{reference}_over_{model}"] = row[f"rmse_{reference}"] / row[f"rmse_{model}"]
        row[f"rmse_{reference}_on_fitted"] = rmse(on_fitted, name)
        row["rmse_fit"] = rmse(fit, name)
        row[f"{reference}_over_fit"] = row[f"rmse_{reference}_on_fitted"] / row["rmse_fit"]
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(names, name="parameter"))
    return table[comparison_columns(list(models))]


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


def timing(seconds_per_lens: dict[str, float], fit: pd.DataFrame | None) -> dict[str, float]:
    """Seconds per lens of each model (the reference first) and of the fit (over every
    fitted lens, converged or not, all its starts), and how many times faster the reference
    model is than the fit."""
    reference = next(iter(seconds_per_lens))
    fit_seconds = float(fit["seconds"].mean()) if fit is not None else float("nan")
    return {
        **{f"{model}_seconds_per_lens": seconds for model, seconds in seconds_per_lens.items()},
        "fit_seconds_per_lens": fit_seconds,
        f"{reference}_speedup_over_fit": fit_seconds / seconds_per_lens[reference],
    }


REFINED_COLUMNS = [
    "rmse_refined",
    "bias_refined",
    "coverage_68_refined",
    "coverage_95_refined",
    "refined_over_cnn",
    "rmse_refined_on_fitted",
    "rmse_fit_on_refined",
    "refined_over_fit",
]
"""The refined columns of the comparison table (a run that refines)."""


def refined_table(
    names: list[str], refined: pd.DataFrame, refine_summary: dict, fit: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per target: the refined RMSE and bias on the converged refined test lenses,
    its calibrated coverage and its ratio to the CNN's RMSE on the same lenses (from the
    refine summary), then the refined and the fit's RMSE on the lenses where both converged
    and their ratio (NaN without such lenses)."""
    done = converged(refined)
    fit = converged(_no_fit(names) if fit is None else fit)
    both = np.intersect1d(done["lens_index"], fit["lens_index"])
    refined_both = done.set_index("lens_index").loc[both].reset_index()
    fit_both = fit.set_index("lens_index").loc[both].reset_index()
    rows = []
    for name in names:
        target = refine_summary["parameters"][name]
        error = done[f"pred_{name}"] - done[f"true_{name}"]
        row = {
            "rmse_refined": rmse(done, name),
            "bias_refined": float(error.mean()) if len(error) else float("nan"),
            "coverage_68_refined": target["coverage_68"],
            "coverage_95_refined": target["coverage_95"],
            "refined_over_cnn": target["refined_over_cnn"],
            "rmse_refined_on_fitted": rmse(refined_both, name),
            "rmse_fit_on_refined": rmse(fit_both, name),
        }
        row["refined_over_fit"] = row["rmse_refined_on_fitted"] / row["rmse_fit_on_refined"]
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(names, name="parameter"))[REFINED_COLUMNS]


def refine_counts_and_timing(refine_summary: dict, fit: pd.DataFrame | None) -> dict[str, float]:
    """The refinement's lens counts, failures and seconds per lens, and how many times faster
    it is than the fit per lens."""
    fit_seconds = float(fit["seconds"].mean()) if fit is not None else float("nan")
    seconds = refine_summary["seconds_per_lens_mean"]
    return {
        "n_refined": refine_summary["n_refined"],
        "n_refined_failed": refine_summary["n_failed"],
        "n_refined_catastrophic": refine_summary["n_catastrophic"],
        "refined_seconds_per_lens": seconds,
        "refined_speedup_over_fit": fit_seconds / seconds,
    }


def write_comparison(
    names: list[str],
    predictions: dict[str, str | Path],
    seconds_per_lens: dict[str, float],
    fit_predictions: str | Path | None,
    table_path: str | Path,
    summary_path: str | Path,
    refined_predictions: str | Path | None = None,
    refine_summary: str | Path | None = None,
) -> pd.DataFrame:
    """Read each model's predictions (the reference first, as in ``seconds_per_lens``), the
    fit's and the refinement's with its summary (each if given), write the table (CSV) and a
    JSON summary (lens counts, the fit's converged fraction, timing, the table), and return
    the table."""
    models = {model: pd.read_csv(path) for model, path in predictions.items()}
    fit = None if fit_predictions is None else pd.read_csv(fit_predictions)
    table = comparison_table(names, models, fit)
    refined = {}
    if refined_predictions is not None:
        refined_summary = json.loads(Path(refine_summary).read_text())
        refined_frame = pd.read_csv(refined_predictions)
        table = table.join(refined_table(names, refined_frame, refined_summary, fit))
        refined = refine_counts_and_timing(refined_summary, fit)
    with atomic_path(table_path) as temporary:
        table.to_csv(temporary)
    summary = {
        "n_test": int(len(next(iter(models.values())))),
        **fit_counts(fit),
        **timing(seconds_per_lens, fit),
        **refined,
        "parameters": table.to_dict(orient="index"),
    }
    write_json(summary_path, summary)
    return table
