"""Observation settings: a lenstronomy survey preset with explicit overrides, per band."""

from typing import Any

from lenspipe.errors import ConfigError

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
    from lenstronomy.SimulationAPI.ObservationConfig import DES, HST, LSST, ZTF, Euclid, Roman

    return {
        "LSST": LSST.LSST,
        "DES": DES.DES,
        "Euclid": Euclid.Euclid,
        "ZTF": ZTF.ZTF,
        "HST": HST.HST,
        "Roman": Roman.Roman,
    }[survey]


def band_kwargs(observation: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``kwargs_single_band`` of every imaged band (``observation.bands``), in order.

    ``overrides`` apply to every band, then ``band_overrides`` to theirs. Raises ConfigError
    as ``single_band_kwargs`` does, naming ``observation.bands`` for a band the preset rejects
    and ``observation.band_overrides`` for a band that is not imaged or a pixel scale, and
    ``observation.bands`` for bands of different pixel scales.
    """
    imaged = observation["bands"] or [observation["band"]]
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
    kwargs["psf_type"] = "GAUSSIAN"
    kwargs["data_count_unit"] = "e-"
    return kwargs
