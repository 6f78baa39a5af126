"""Named random streams derived from the master seed.

Every random number in lenspipe comes from a ``numpy.random.Generator`` built from
``SeedSequence(master_seed, spawn_key=(stream, ...))``. Lens ``i`` owns the stream
``(LENS, i)``, so its parameters and noise depend only on the master seed and ``i``: not on
the chunk size, the order in which chunks run, or how many jobs ran. A lens rejected by the
lensing cut draws again from ``(LENS, i, 1)``, ``(LENS, i, 2)``, ...
"""

import numpy as np

LENS = 0
SPLIT = 1
TRAINING = 2
AUGMENTATION = 3
FIT = 4
LEARNING_CURVE = 5
SUBHALOS = 6
SOURCE_STAMPS = 7
REFINE = 8


def stream(seed: int, *key: int) -> np.random.Generator:
    """Return the generator of the named stream ``key`` under the master ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def lens_rng(seed: int, lens_index: int) -> np.random.Generator:
    """Return the generator that draws everything random about lens ``lens_index``."""
    return stream(seed, LENS, lens_index)


def redraw_rng(seed: int, lens_index: int, draw: int) -> np.random.Generator:
    """Return the generator of draw ``draw`` >= 1 of lens ``lens_index`` after a lensing-cut
    rejection; draw 0 is ``lens_rng``."""
    return stream(seed, LENS, lens_index, draw)
