"""Normalisation fit on the training subset only: MinMax target scaling and image scaling.

Targets are scaled to [0, 1] by scikit-learn's MinMaxScaler fit on the training rows. Images
are stretched (linear or asinh) and then scaled to [0, 1] by the minimum and maximum of the
stretched training images: one range for all bands (``global``) or one per band
(``per_band``). Both are saved as JSON (floats written with full precision), and
``Normalisation.from_dict`` rebuilds a scaler that transforms bit for bit like the fitted one.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from lenspipe.atomic import atomic_path, write_json
from lenspipe.data.split import SUBSETS, split_indices
from lenspipe.data.store import open_store, read_parameters, store_chunk_slices
from lenspipe.data.store_check import check_store
from sklearn.preprocessing import MinMaxScaler


@dataclass(frozen=True)
class ImageScaling:
    """Pixel stretch followed by a MinMax scaling to [0, 1].

    ``minimum`` and ``maximum`` are one number for all bands, or a tuple of one per band.
    """

    stretch: str
    softening: float
    minimum: float | tuple[float, ...]
    maximum: float | tuple[float, ...]

    def stretched(self, images: np.ndarray) -> np.ndarray:
        """Apply the stretch alone (float32)."""
        images = np.asarray(images, dtype=np.float32)
        if self.stretch == "asinh":
            return np.arcsinh(images / np.float32(self.softening))
        return images

    def transform(self, images: np.ndarray) -> np.ndarray:
        """Stretch and scale images to [0, 1] on the training range (float32)."""
        if isinstance(self.minimum, tuple):
            minimum = np.asarray(self.minimum, dtype=np.float32)
            span = np.asarray(self.maximum, dtype=np.float32) - minimum
            return (self.stretched(images) - minimum) / span
        span = np.float32(self.maximum - self.minimum)
        return (self.stretched(images) - np.float32(self.minimum)) / span


@dataclass(frozen=True)
class Normalisation:
    """The target scaler and image scaling of one run."""

    targets: list[str]
    target_scaler: MinMaxScaler
    image: ImageScaling

    def transform_targets(self, values: np.ndarray) -> np.ndarray:
        """Physical target values (N, k) to the scaled values the network learns (float32).

        The arithmetic of ``MinMaxScaler.transform`` (no clipping), without its input checks,
        which cost more than the scaling in every training batch.
        """
        scaler = self.target_scaler
        scaled = np.asarray(values, dtype=np.float64) * scaler.scale_ + scaler.min_
        return scaled.astype(np.float32)

    def inverse_targets(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled values (N, k) back to physical units (float64)."""
        return self.target_scaler.inverse_transform(np.asarray(scaled, dtype=np.float64))

    def inverse_sigma(self, scaled: np.ndarray) -> np.ndarray:
        """Standard deviations (N, k) of scaled targets to physical units (float64).

        MinMax scaling is ``(x - min) / (max - min)``, so a spread scales by ``max - min``.
        """
        return np.asarray(scaled, dtype=np.float64) / self.target_scaler.scale_

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description from which ``from_dict`` rebuilds this object."""
        return {
            "targets": {
                name: {"min": float(low), "max": float(high)}
                for name, low, high in zip(
                    self.targets,
                    self.target_scaler.data_min_,
                    self.target_scaler.data_max_,
                )
            },
            "image": {
                "stretch": self.image.stretch,
                "softening": self.image.softening,
                "min": _json_number(self.image.minimum),
                "max": _json_number(self.image.maximum),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Normalisation":
        """Rebuild from ``to_dict`` output; the scaler matches the fitted one exactly."""
        targets = list(data["targets"])
        bounds = np.array(
            [
                [data["targets"][name]["min"] for name in targets],
                [data["targets"][name]["max"] for name in targets],
            ]
        )
        image = data["image"]
        return cls(
            targets=targets,
            target_scaler=MinMaxScaler().fit(bounds),
            image=ImageScaling(
                image["stretch"],
                image["softening"],
                _from_json_number(image["min"]),
                _from_json_number(image["max"]),
            ),
        )


def _json_number(value: float | tuple[float, ...]) -> float | list[float]:
    return list(value) if isinstance(value, tuple) else value


def _from_json_number(value: float | list[float]) -> float | tuple[float, ...]:
    return tuple(value) if isinstance(value, list) else value


def fit_image_scaling(
    images: zarr.Array, rows: np.ndarray, stretch: str, softening: float, per_band: bool = False
) -> ImageScaling:
    """Fit the image range on the images at ``rows`` only, reading one store chunk at a time.

    ``per_band`` fits one range per band (the last axis) instead of one for all.
    """
    identity = ImageScaling(stretch, softening, 0.0, 1.0)
    axes = (0, 1, 2) if per_band else None
    minimum, maximum = np.inf, -np.inf
    for block_lenses in store_chunk_slices(images.shape[0], images.chunks[0]):
        start, stop = block_lenses.start, block_lenses.stop
        in_block = rows[(rows >= start) & (rows < stop)]
        if in_block.size:
            block = identity.stretched(images[block_lenses][in_block - start])
            minimum = np.minimum(minimum, block.min(axis=axes).astype(np.float64))
            maximum = np.maximum(maximum, block.max(axis=axes).astype(np.float64))
    if not np.all(maximum > minimum):
        raise ValueError("training images are constant; cannot scale them to [0, 1]")
    if per_band:
        return ImageScaling(stretch, softening, tuple(minimum.tolist()), tuple(maximum.tolist()))
    return ImageScaling(stretch, softening, float(minimum), float(maximum))


def fit_normalisation(
    store_path: str | Path,
    targets: list[str],
    split_fractions: dict[str, float],
    seed: int,
    image_stretch: str,
    asinh_softening: float,
    image_range: str = "global",
) -> tuple[dict[str, np.ndarray], Normalisation]:
    """Split the lenses and fit the normalisation on the training subset of the store.

    ``image_range`` is ``global`` (one image range for all bands) or ``per_band``. A store
    whose chunks fail their checksums is refused (``StoreError``) before anything is read.
    """
    check_store(store_path)
    root = open_store(store_path)
    n_lenses = root["lens_index"].shape[0]
    subsets = split_indices(n_lenses, split_fractions, seed)
    train = subsets["train"]
    targets = list(targets)
    target_scaler = MinMaxScaler().fit(read_parameters(root, targets)[train])
    image = fit_image_scaling(
        root["images"], train, image_stretch, asinh_softening, image_range == "per_band"
    )
    return subsets, Normalisation(targets, target_scaler, image)


def save_normalisation(normalisation: Normalisation, path: str | Path) -> None:
    """Write the normalisation as JSON."""
    write_json(path, normalisation.to_dict())


def load_normalisation(path: str | Path) -> Normalisation:
    """Read a normalisation written by ``save_normalisation``."""
    return Normalisation.from_dict(json.loads(Path(path).read_text()))


def save_split(subsets: dict[str, np.ndarray], path: str | Path) -> None:
    """Write the split as CSV with columns lens_index and subset, sorted by lens index."""
    frame = pd.concat(
        [pd.DataFrame({"lens_index": subsets[name], "subset": name}) for name in SUBSETS]
    ).sort_values("lens_index")
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def load_split(path: str | Path) -> dict[str, np.ndarray]:
    """Read a split written by ``save_split``: sorted lens indices per subset."""
    frame = pd.read_csv(path)
    return {
        name: np.sort(frame.loc[frame["subset"] == name, "lens_index"].to_numpy())
        for name in SUBSETS
    }
