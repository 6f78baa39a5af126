"""The learning curve's table and figure: test metrics per target against training-set size.

Every size is scored from its test predictions CSV (``lenspipe.evaluation.predictions``) by
``lenspipe.evaluation.metrics.regression_metrics``, the largest, the whole training subset, from the
train rule's own predictions (``predictions.csv`` of the evaluate rule). A run that refines
test lenses (``lenspipe.refinement``) adds the floor: the refined fit's RMSE on its converged
lenses (``rmse_refined``) beside each size's RMSE on those same lenses
(``rmse_on_refined``), drawn as a dashed line under the curve. No TensorFlow here: the table
is a quick job on the driver.
"""

from pathlib import Path

import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.evaluation.independent_metrics import frame_arrays
from lenspipe.evaluation.metrics import regression_metrics
from lenspipe.evaluation.plots import plot_learning_curve

CURVE_COLUMNS = ("n_test", "rmse", "rmse_over_full", "bias", "mae", "r2")
"""Columns of ``learning_curve.csv``, indexed by (parameter, n_train)."""
FLOOR_COLUMNS = ("n_refined", "rmse_on_refined", "rmse_refined")
"""The columns a run that refines adds: its converged refined lenses, each size's RMSE on them
and the refined fit's."""


def _metrics(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The regression metrics of a predictions frame, one row per target."""
    return regression_metrics(*frame_arrays(frame, names)[:2], names)


def curve_table(
    names: list[str], samples: dict[int, pd.DataFrame], refined: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Rows (parameter, n_train), each target's sizes together, smallest first, with the
    columns of ``CURVE_COLUMNS`` (and ``FLOOR_COLUMNS`` given ``refined``).

    ``samples`` maps a training-set size to the predictions frame of its model on the test
    subset; ``rmse_over_full`` is each RMSE over that of the largest size. ``refined`` is the
    refine stage's predictions (``refine/predictions.csv``): only its converged lenses count.
    """
    sizes = sorted(samples)
    tables = {
        size: _metrics(samples[size], names).assign(n_test=len(samples[size])) for size in sizes
    }
    full = tables[sizes[-1]]["rmse"]
    rows = [
        {
            "parameter": name,
            "n_train": size,
            **tables[size].loc[name].to_dict(),
            "rmse_over_full": tables[size].loc[name, "rmse"] / full[name],
        }
        for name in names
        for size in sizes
    ]
    frame = pd.DataFrame(rows).set_index(["parameter", "n_train"])
    frame = frame.reindex(columns=list(CURVE_COLUMNS)).astype({"n_test": int})
    if refined is None:
        return frame
    done = refined[refined["converged"].astype(bool)]
    if done.empty:  # no refined lens converged: no floor to draw
        return frame.assign(n_refined=0, rmse_on_refined=float("nan"), rmse_refined=float("nan"))
    floor = _metrics(done, names)["rmse"]
    for size in sizes:
        on_refined = samples[size].set_index("lens_index").loc[done["lens_index"]]
        rmse = _metrics(on_refined, names)["rmse"]
        for name in names:
            frame.loc[(name, size), list(FLOOR_COLUMNS)] = (len(done), rmse[name], floor[name])
    return frame.astype({"n_refined": int})


def write_learning_curve(
    names: list[str],
    predictions: dict[int, str | Path],
    table_path: str | Path,
    plot_path: str | Path,
    refined_path: str | Path | None = None,
) -> pd.DataFrame:
    """Read each size's test predictions CSV (and the refined predictions, if the run refines),
    write the ``curve_table`` as CSV and its RMSE per target against size as a figure, with
    the refined fit's as the floor, and return the table."""
    refined = None if refined_path is None else pd.read_csv(refined_path)
    samples = {size: pd.read_csv(path) for size, path in predictions.items()}
    table = curve_table(names, samples, refined)
    with atomic_path(table_path) as temporary:
        table.to_csv(temporary)
    rmse = table["rmse"].unstack("parameter")[names]
    floor = None
    if refined is not None:
        floor = table["rmse_refined"].unstack("parameter")[names].iloc[0].to_numpy()
    plot_learning_curve(rmse.index.to_numpy(), rmse.to_numpy(), names, plot_path, floor)
    return table
