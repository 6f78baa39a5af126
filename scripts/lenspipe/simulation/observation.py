"""Observation settings: a lenstronomy survey preset with explicit overrides, per band, and
the point-spread function of each band (Gaussian, or a pixel kernel from a file)."""

import importlib
from pathlib import Path
from typing import Any

import numpy as np
from lenspipe.errors import ConfigError

# How far a kernel's sum may be from 1 (the kernel file must be normalised).
KERNEL_SUM_TOLERANCE = 1e-3

OBSERVATION_KEYS = (
    "pixel_scale",
    "exposure_time",
    "num_exposures",
    "magnitude_zero_point",
    "sky_brightness",
    "read_noise",
    "ccd_gain",
    "seeing",
)

SURVEYS = ("LSST", "DES", "Euclid", "ZTF", "HST", "Roman", "JWST")
"""lenstronomy's survey presets (``observation.survey``, which may also be "custom")."""

# The observations of the survey galleries (evaluation.survey_galleries): each preset's
# usual bands, bluest first, and the reference band of the magnitude priors.
GALLERY_OBSERVATIONS: dict[str, dict[str, Any]] = {
    "LSST": {"survey": "LSST", "band": "i", "bands": ["g", "r", "i"]},
    "DES": {"survey": "DES", "band": "i", "bands": ["g", "r", "i"]},
    "Euclid": {"survey": "Euclid", "band": "VIS", "bands": None},
    "HST": {"survey": "HST", "band": "WFC3_F160W", "bands": None},
    "Roman": {"survey": "Roman", "band": "F158", "bands": ["F106", "F129", "F158"]},
}


def _preset_class(survey: str) -> type:
    """lenstronomy's class of preset ``survey``: the class of that name in the module of that
    name."""
    module = importlib.import_module(f"lenstronomy.SimulationAPI.ObservationConfig.{survey}")
    return getattr(module, survey)


def band_kwargs(observation: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``kwargs_single_band`` of every imaged band (``observation.bands``), in order.

    ``overrides`` apply to every band, then ``band_overrides`` to theirs. Raises ConfigError
    as ``single_band_kwargs`` does, naming ``observation.bands`` for a band the preset rejects
    and ``observation.band_overrides`` for a band that is not imaged or a pixel scale, and
    ``observation.bands`` for bands of different pixel scales.
    """
    imaged = observation["bands"] or [observation["band"]]
    if observation["psf"] == "file":
        missing = [band for band in imaged if band not in observation["psf_files"]]
        if missing:
            raise ConfigError(
                f"observation.psf_files: psf: file needs a kernel file for every imaged band; "
                f"missing for {', '.join(missing)}"
            )
    for band in observation["psf_files"]:
        if band not in imaged:
            raise ConfigError(
                f"observation.psf_files.{band}: {band} is not an imaged band "
                f"({', '.join(imaged)})"
            )
    for band, values in observation["band_overrides"].items():
        if band not in imaged:
            raise ConfigError(
                f"observation.band_overrides.{band}: {band} is not an imaged band "
                f"({', '.join(imaged)})"
            )
        if "pixel_scale" in values:
            raise ConfigError(
                f"observation.band_overrides.{band}.pixel_scale: every band shares one pixel "
                "grid; give pixel_scale in observation.overrides"
            )
    if observation["bands"] is None:
        return [single_band_kwargs(observation, observation["band"])]
    try:
        kwargs = [single_band_kwargs(observation, band) for band in observation["bands"]]
    except ConfigError as error:
        message = str(error).replace("observation.band:", "observation.bands:")
        raise ConfigError(message) from None
    scales = {band: band_kwargs["pixel_scale"] for band, band_kwargs in zip(imaged, kwargs)}
    if len(set(scales.values())) > 1:
        listed = ", ".join(f"{band} {scale}" for band, scale in scales.items())
        raise ConfigError(
            f"observation.bands: the channels of an image share one pixel grid, but the "
            f"{observation['survey']} bands have other pixel scales (arcsec: {listed}); image "
            "them in separate runs, or set observation.overrides.pixel_scale"
        )
    return kwargs


def single_band_kwargs(observation: dict[str, Any], band: str) -> dict[str, Any]:
    """Return the ``kwargs_single_band`` of lenstronomy's SimAPI for one ``band``.

    Raises ConfigError naming ``observation.band`` or ``observation.coadd_years`` when the
    preset rejects them, and ``observation.overrides`` when a custom survey lacks a value.
    """
    survey = observation["survey"]
    overrides = dict(observation.get("overrides", {}))
    if survey == "custom":
        missing = [key for key in OBSERVATION_KEYS if key not in overrides]
        if missing:
            raise ConfigError(
                f"observation.overrides: a custom survey needs {', '.join(missing)} (missing)"
            )
        kwargs: dict[str, Any] = {}
    else:
        preset_args: dict[str, Any] = {"band": band, "psf_type": "GAUSSIAN"}
        if observation.get("coadd_years") is not None:
            preset_args["coadd_years"] = observation["coadd_years"]
        try:
            kwargs = _preset_class(survey)(**preset_args).kwargs_single_band()
        except (ValueError, TypeError) as error:
            field, value = ("coadd_years", observation.get("coadd_years"))
            if "coadd" not in str(error):
                field, value = "band", band
            raise ConfigError(
                f"observation.{field}: {survey} rejects {field}={value!r}: {error}"
            ) from None
    kwargs.update(overrides)
    kwargs.update(observation["band_overrides"].get(band, {}))
    kwargs["data_count_unit"] = "e-"
    if observation["psf"] == "file":
        field = f"observation.psf_files.{band}"
        kwargs["psf_type"] = "PIXEL"
        kwargs["kernel_point_source"] = read_kernel(observation["psf_files"][band], field)
        kwargs.pop("seeing", None)
        return kwargs
    if not kwargs.get("seeing"):
        raise ConfigError(
            f"observation.psf: the {survey} preset gives band {band} no seeing for a Gaussian "
            f"PSF; give its pixel kernel (psf: file, psf_files: {{{band}: <file>}}) or a "
            "seeing in observation.overrides"
        )
    kwargs["psf_type"] = "GAUSSIAN"
    return kwargs


def read_kernel(path: str | Path, field: str) -> np.ndarray:
    """The PSF kernel in ``path`` (.npy, or the first image of a .fits file), checked: a
    square array of odd size, finite, summing to 1. Raises ConfigError naming ``field``."""
    path = Path(path)
    if path.suffix.lower() not in (".fits", ".fit", ".npy"):
        raise ConfigError(f"{field}: {path} is not a .npy or .fits file")
    try:
        if path.suffix.lower() == ".npy":
            kernel = np.asarray(np.load(path, allow_pickle=False), dtype=float)
        else:
            from astropy.io import fits

            kernel = np.asarray(fits.getdata(path), dtype=float)
    except (OSError, ValueError, TypeError) as error:
        raise ConfigError(f"{field}: cannot read the PSF kernel {path} ({error})") from None
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 == 0:
        raise ConfigError(
            f"{field}: the PSF kernel in {path} is {'x'.join(map(str, kernel.shape))}; "
            "expected a square 2-D array of odd size, centred on its middle pixel"
        )
    if not np.all(np.isfinite(kernel)):
        raise ConfigError(f"{field}: the PSF kernel in {path} has values that are not finite")
    total = float(kernel.sum())
    if abs(total - 1) > KERNEL_SUM_TOLERANCE:
        raise ConfigError(
            f"{field}: the PSF kernel in {path} sums to {total:.6g}; expected a normalised "
            f"kernel (sum 1 within {KERNEL_SUM_TOLERANCE:g})"
        )
    return kernel
