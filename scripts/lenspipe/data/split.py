"""The seeded train / validation / test split of the lenses."""

import numpy as np
from lenspipe import seeding

SUBSETS = ("train", "validation", "test")


def split_counts(n_lenses: int, fractions: dict[str, float]) -> dict[str, int]:
    """Return the number of lenses in each subset; the test subset takes the rounding rest."""
    n_train = round(fractions["train"] * n_lenses)
    n_validation = round(fractions["validation"] * n_lenses)
    return {
        "train": n_train,
        "validation": n_validation,
        "test": n_lenses - n_train - n_validation,
    }


def split_indices(n_lenses: int, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Return the sorted lens indices of each subset, from a permutation seeded by ``seed``."""
    counts = split_counts(n_lenses, fractions)
    permutation = seeding.stream(seed, seeding.SPLIT).permutation(n_lenses)
    bounds = np.cumsum([0] + [counts[subset] for subset in SUBSETS])
    return {
        subset: np.sort(permutation[bounds[k] : bounds[k + 1]]) for k, subset in enumerate(SUBSETS)
    }
