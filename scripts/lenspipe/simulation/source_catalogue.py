"""Real galaxy sources: stamps from a catalogue of galaxy images, lensed with lenstronomy's
interpolated light profile (``INTERPOL``).

The catalogue is an ``.npz`` file with ``images`` (N, n, n: one galaxy stamp each, background
subtracted) and ``redshifts`` (N). The stamps are rescaled to each lens's sampled size, so their
native pixel scale is not needed. Each lens
draws one stamp, uniformly, from a random stream of its own (``(SOURCE_STAMPS, lens, draw)``),
so every other number of the lens is the one it has with a Sérsic source, and its stamp depends
only on the seed and its index. The stamp is placed and scaled by the lens's source columns:
its centre at the source position, its half-light radius at ``source_R_sersic``, its long
axis turned by the position angle of (``source_e1``, ``source_e2``) (its own shape is kept),
and its total flux set by ``source_magnitude``; ``source_n_sersic`` is not used.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from lenspipe import seeding
from lenspipe.errors import ConfigError

STAMP_COLUMNS = ["source_stamp", "source_stamp_z"]
"""Columns of a lens's catalogue source: the stamp's index and the catalogue's redshift."""

INTERPOLATED_SOURCE = ["INTERPOL"]


@dataclass(frozen=True)
class SourceCatalogue:
    """Galaxy stamps normalised to unit flux, with their redshifts and half-light radii (in
    stamp pixels)."""

    images: np.ndarray
    redshifts: np.ndarray
    half_light_pixels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def draw(self, seed: int, lens_index: int, draw: int) -> int:
        """The stamp of draw ``draw`` of lens ``lens_index``."""
        return int(
            seeding.stream(seed, seeding.SOURCE_STAMPS, lens_index, draw).integers(len(self))
        )

    def source_kwargs(self, stamp: int, source: dict[str, float]) -> dict[str, Any]:
        """lenstronomy ``INTERPOL`` keywords (with a magnitude) of ``stamp`` in place of the
        Sérsic keywords ``source`` of one lens."""
        e1, e2 = source["e1"], source["e2"]
        return {
            "magnitude": source["magnitude"],
            "image": self.images[stamp],
            "center_x": source["center_x"],
            "center_y": source["center_y"],
            "phi_G": 0.5 * np.arctan2(e2, e1),
            "scale": source["R_sersic"] / self.half_light_pixels[stamp],
        }


def read_catalogue(
    path: str | Path, field: str = "lens_system.source_catalogue"
) -> SourceCatalogue:
    """The catalogue in ``path``, checked; raises ConfigError naming ``field`` and the file."""
    expected = "expected an .npz archive (numpy.savez) of images (N, n, n) and redshifts (N)"
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        reason = str(error) or "empty or truncated"
        raise ConfigError(
            f"{field}: cannot read the catalogue {path} ({reason}); {expected}"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ConfigError(f"{field}: {path} holds one array of shape {archive.shape}; {expected}")
    with archive:
        try:
            arrays = {
                key: np.asarray(archive[key], dtype=float)
                for key in ("images", "redshifts")
                if key in archive.files
            }
        except (OSError, ValueError, EOFError) as error:
            raise ConfigError(f"{field}: cannot read the catalogue {path} ({error})") from None
    missing = [key for key in ("images", "redshifts") if key not in arrays]
    if missing:
        raise ConfigError(
            f"{field}: {path} has no {', '.join(missing)}; expected images (N, n, n) and "
            "redshifts (N)"
        )
    images, redshifts = arrays["images"], arrays["redshifts"]
    if images.ndim != 3 or images.shape[1] != images.shape[2] or len(images) == 0:
        raise ConfigError(
            f"{field}: images in {path} have shape {images.shape}; expected (N, n, n) square "
            "stamps, at least one"
        )
    if redshifts.shape != (len(images),):
        raise ConfigError(
            f"{field}: {path} has {len(images)} images but redshifts of shape "
            f"{redshifts.shape}; expected one redshift per image"
        )
    if not np.all(np.isfinite(images)):
        raise ConfigError(f"{field}: {path} has image values that are not finite")
    if np.any(~np.isfinite(redshifts)) or np.any(redshifts < 0):
        raise ConfigError(f"{field}: {path} needs finite redshifts of at least 0")
    flux = images.sum(axis=(1, 2))
    if np.any(flux <= 0):
        raise ConfigError(
            f"{field}: stamp {int(np.argmax(flux <= 0))} of {path} has no positive total "
            "flux; expected background-subtracted galaxy images"
        )
    images = images / flux[:, None, None]
    return SourceCatalogue(images, redshifts, np.array([half_light(i) for i in images]))


def half_light(image: np.ndarray) -> float:
    """The radius (pixels) around the flux centroid that holds half the flux of ``image``."""
    rows, columns = np.indices(image.shape)
    total = image.sum()
    centre_row, centre_column = (rows * image).sum() / total, (columns * image).sum() / total
    radii = np.hypot(rows - centre_row, columns - centre_column).ravel()
    order = np.argsort(radii)
    enclosed = np.cumsum(image.ravel()[order])
    return float(max(radii[order][np.searchsorted(enclosed, 0.5 * total)], 0.5))
