"""Which lenses a run refines: test lenses, and validation lenses that calibrate the refined
uncertainties.

``refine.n_lenses`` test lenses (``all``: every one) and ``refine.n_calibration`` validation
lenses: the first of each subset in lens order, as the fit baseline takes its test lenses, so
that the refined lenses include the fitted ones and the two compare on the same lenses. Every
lens is an independent draw and the split a seeded permutation, so these are a seeded random
sample of each subset, and the choice does not depend on the chunking. The rows are the
calibration lenses, then the test lenses, each in lens order; refine job ``k`` fits rows
``k * chunk_size`` to ``(k + 1) * chunk_size - 1``.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from lenspipe.data.chunk_files import chunk_count
from lenspipe.data.split import split_counts

CALIBRATION = "calibration"
TEST = "test"
ROLES = {CALIBRATION: "validation", TEST: "test"}
"""Each role of a refined lens and the subset of the split it is drawn from."""


def refine_counts(config: Mapping[str, Any]) -> dict[str, int]:
    """How many lenses of each role a validated ``config`` asks to refine, at most the size
    of the subset each is drawn from."""
    refine = config["refine"]
    available = split_counts(config["n_lenses"], config["normalisation"]["split"])
    wanted = {CALIBRATION: refine["n_calibration"], TEST: refine["n_lenses"]}
    return {
        role: available[subset] if wanted[role] == "all" else min(wanted[role], available[subset])
        for role, subset in ROLES.items()
    }


def refine_chunk_count(config: Mapping[str, Any]) -> int:
    """The number of refine jobs of a validated ``config``."""
    return chunk_count(sum(refine_counts(config).values()), config["refine"]["chunk_size"])


def select_lenses(split: Mapping[str, np.ndarray], counts: Mapping[str, int]) -> pd.DataFrame:
    """The rows to refine: ``lens_index`` and ``role``, the calibration lenses first, each
    role in lens order, taken from ``split`` (subset -> sorted lens indices)."""
    frames = []
    for role, subset in ROLES.items():
        pool = np.sort(np.asarray(split[subset]))
        if counts[role] > len(pool):
            raise ValueError(
                f"refine: {counts[role]} {role} lenses asked for, the {subset} subset has {len(pool)}"
            )
        chosen = pool[: counts[role]].astype(int)
        frames.append(pd.DataFrame({"lens_index": chosen, "role": role}))
    return pd.concat(frames, ignore_index=True)
