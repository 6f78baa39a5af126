"""Prior distributions of the sampled parameters.

Each prior maps one uniform number ``u`` in (0, 1) to a value by its inverse CDF. Every
parameter consumes exactly one ``u`` per lens, fixed ones included, so changing one prior in
the config never shifts the values drawn for the others.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from lenspipe.errors import ConfigError

_REQUIRED_KEYS = {
    "fixed": ("value",),
    "uniform": ("min", "max"),
    "normal": ("mean", "sigma"),
    "truncated_normal": ("mean", "sigma", "min", "max"),
    "log_uniform": ("min", "max"),
}


@dataclass(frozen=True)
class Prior:
    """One parameter's distribution, as given in the config."""

    dist: str
    value: float = 0.0
    min: float = -np.inf
    max: float = np.inf
    mean: float = 0.0
    sigma: float = 1.0

    @property
    def is_fixed(self) -> bool:
        """True when the prior always returns the same value."""
        return self.dist == "fixed"

    def support(self) -> tuple[float, float]:
        """The least and greatest value the prior can return."""
        if self.dist == "fixed":
            return self.value, self.value
        if self.dist == "normal":
            return -np.inf, np.inf
        return self.min, self.max

    def from_unit(self, u: np.ndarray | float) -> np.ndarray:
        """Map uniform numbers ``u`` in (0, 1) to values of this prior (inverse CDF)."""
        u = np.asarray(u, dtype=np.float64)
        if self.dist == "fixed":
            return np.full_like(u, self.value)
        if self.dist == "uniform":
            return self.min + u * (self.max - self.min)
        if self.dist == "log_uniform":
            log_min, log_max = np.log(self.min), np.log(self.max)
            return np.exp(log_min + u * (log_max - log_min))
        if self.dist == "normal":
            return self.mean + self.sigma * ndtri(u)
        lower = ndtr((self.min - self.mean) / self.sigma)
        upper = ndtr((self.max - self.mean) / self.sigma)
        value = self.mean + self.sigma * ndtri(lower + u * (upper - lower))
        return np.clip(value, self.min, self.max)


def parse_prior(field: str, spec: dict[str, Any]) -> Prior:
    """Build a Prior from its config entry; ``field`` names the entry in error messages."""
    dist = spec.get("dist")
    if dist not in _REQUIRED_KEYS:
        raise ConfigError(f"{field}.dist: expected one of {sorted(_REQUIRED_KEYS)}, got {dist!r}")
    required = _REQUIRED_KEYS[dist]
    missing = [key for key in required if key not in spec]
    unused = sorted(set(spec) - set(required) - {"dist"})
    if missing:
        raise ConfigError(f"{field}: a {dist} prior needs {', '.join(missing)}")
    if unused:
        raise ConfigError(
            f"{field}: a {dist} prior takes {', '.join(required)}, not {', '.join(unused)}. "
            "(Snakemake merges a --configfile into config/config.yaml key by key, so a prior "
            "that changes its dist there keeps the old keys: add --replace-workflow-config, "
            "or edit config/config.yaml.)"
        )
    prior = Prior(dist=dist, **{key: float(spec[key]) for key in required})
    if "sigma" in required and not prior.sigma > 0:
        raise ConfigError(f"{field}.sigma: expected > 0, got {prior.sigma}")
    if "min" in required and not prior.min < prior.max:
        raise ConfigError(f"{field}: expected min < max, got min={prior.min}, max={prior.max}")
    if dist == "log_uniform" and not prior.min > 0:
        raise ConfigError(f"{field}.min: a log_uniform prior needs min > 0, got {prior.min}")
    return prior


# The values each parameter can physically take, by parameter name, as open intervals, with
# what the parameter is: a prior whose support leaves the interval is refused.
PHYSICAL_RANGES = {
    "theta_E": (0.0, np.inf, "an Einstein radius in arcsec"),
    "R_sersic": (0.0, np.inf, "a half-light radius in arcsec"),
    "n_sersic": (0.0, 10.0, "a Sersic index"),
    "magnitude": (0.0, 40.0, "an apparent magnitude"),
    "e1": (-1.0, 1.0, "an ellipticity component"),
    "e2": (-1.0, 1.0, "an ellipticity component"),
    "gamma": (1.0, 3.0, "a power-law mass slope"),
    "gamma1": (-1.0, 1.0, "a shear component"),
    "gamma2": (-1.0, 1.0, "a shear component"),
    "z": (0.0, 20.0, "a redshift"),
}


def check_physical_range(field: str, name: str, prior: Prior) -> None:
    """Raise ConfigError naming ``field`` if ``prior`` can give a value that parameter
    ``name`` cannot physically take (see ``PHYSICAL_RANGES``)."""
    if name not in PHYSICAL_RANGES:
        return
    lowest, highest, what = PHYSICAL_RANGES[name]
    low, high = prior.support()
    if not (lowest < low and high < highest):
        raise ConfigError(
            f"{field}: {name} is {what}, so its values must lie strictly between {lowest:g} "
            f"and {highest:g}, but this {prior.dist} prior reaches [{low:g}, {high:g}]"
        )
