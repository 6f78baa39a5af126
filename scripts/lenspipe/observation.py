"""Observation settings: a lenstronomy survey preset with explicit overrides."""

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


def _preset_class(survey: str) -> type:
    from lenstronomy.SimulationAPI.ObservationConfig import DES, HST, LSST, ZTF, Euclid

    return {
        "LSST": LSST.LSST,
        "DES": DES.DES,
        "Euclid": Euclid.Euclid,
        "ZTF": ZTF.ZTF,
        "HST": HST.HST,
    }[survey]


def single_band_kwargs(observation: dict[str, Any]) -> dict[str, Any]:
    """Return the ``kwargs_single_band`` of lenstronomy's SimAPI for the ``observation`` config.

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
        preset_args: dict[str, Any] = {"band": observation["band"], "psf_type": "GAUSSIAN"}
        if observation.get("coadd_years") is not None:
            preset_args["coadd_years"] = observation["coadd_years"]
        try:
            kwargs = _preset_class(survey)(**preset_args).kwargs_single_band()
        except (ValueError, TypeError) as error:
            field = "coadd_years" if "coadd" in str(error) else "band"
            raise ConfigError(
                f"observation.{field}: {survey} rejects "
                f"{field}={observation.get(field)!r}: {error}"
            ) from None
    kwargs.update(overrides)
    kwargs["psf_type"] = "GAUSSIAN"
    kwargs["data_count_unit"] = "e-"
    return kwargs
