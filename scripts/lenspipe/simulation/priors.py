"""Prior distributions of the sampled parameters, and correlations between them.

Each prior is a frozen ``scipy.stats`` distribution that maps one uniform number ``u`` in
(0, 1) to a value by its inverse CDF (``ppf``). Every parameter consumes exactly one ``u`` per
lens, fixed ones included, so changing one prior in the config never shifts the values drawn
for the others. Besides the named distributions (``fixed``, ``uniform``, ``normal``,
``truncated_normal``, ``log_uniform``), ``dist: scipy`` takes any continuous distribution of
``scipy.stats`` by ``name`` with its ``kwargs``. A Gaussian copula (``GaussianCopula``)
correlates chosen parameters by transforming their uniform numbers before the ``ppf``, which
leaves every parameter's own distribution, and every other parameter, as it was.
"""

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.stats
from lenspipe.errors import ConfigError
from scipy.special import ndtr, ndtri

# Generator.random() returns multiples of 2**-53 in [0, 1); clipping to this range keeps the
# inverse CDF of an unbounded prior finite (u = 0 would map to minus infinity).
UNIT_LOW, UNIT_HIGH = 2.0**-53, 1.0 - 2.0**-53

_REQUIRED_KEYS = {
    "fixed": ("value",),
    "uniform": ("min", "max"),
    "normal": ("mean", "sigma"),
    "truncated_normal": ("mean", "sigma", "min", "max"),
    "log_uniform": ("min", "max"),
    "scipy": ("name",),
}
_OPTIONAL_KEYS = {"scipy": ("kwargs",)}


@dataclass(frozen=True)
class Prior:
    """One parameter's distribution, as given in the config."""

    dist: str
    value: float = 0.0
    min: float = -np.inf
    max: float = np.inf
    mean: float = 0.0
    sigma: float = 1.0
    name: str = ""  # the scipy.stats distribution of dist "scipy"
    kwargs: dict[str, float] = field(default_factory=dict, hash=False)

    @property
    def is_fixed(self) -> bool:
        """True when the prior always returns the same value."""
        return self.dist == "fixed"

    @functools.cached_property
    def distribution(self) -> Any:
        """The frozen ``scipy.stats`` distribution (None for a fixed prior)."""
        if self.dist == "fixed":
            return None
        if self.dist == "uniform":
            return scipy.stats.uniform(loc=self.min, scale=self.max - self.min)
        if self.dist == "log_uniform":
            return scipy.stats.loguniform(self.min, self.max)
        if self.dist == "normal":
            return scipy.stats.norm(loc=self.mean, scale=self.sigma)
        if self.dist == "truncated_normal":
            low, high = (self.min - self.mean) / self.sigma, (self.max - self.mean) / self.sigma
            return scipy.stats.truncnorm(low, high, loc=self.mean, scale=self.sigma)
        return getattr(scipy.stats, self.name)(**self.kwargs)

    def support(self) -> tuple[float, float]:
        """The least and greatest value the prior can return."""
        if self.dist == "fixed":
            return self.value, self.value
        low, high = self.distribution.support()
        return float(low), float(high)

    def from_unit(self, u: np.ndarray | float) -> np.ndarray:
        """Map uniform numbers ``u`` in (0, 1) to values of this prior (inverse CDF)."""
        u = np.asarray(u, dtype=np.float64)
        if self.dist == "fixed":
            return np.full_like(u, self.value)
        return self.distribution.ppf(u)


def parse_prior(field: str, spec: dict[str, Any]) -> Prior:
    """Build a Prior from its config entry; ``field`` names the entry in error messages."""
    dist = spec.get("dist")
    if dist not in _REQUIRED_KEYS:
        raise ConfigError(f"{field}.dist: expected one of {sorted(_REQUIRED_KEYS)}, got {dist!r}")
    required = _REQUIRED_KEYS[dist]
    missing = [key for key in required if key not in spec]
    unused = sorted(set(spec) - set(required) - set(_OPTIONAL_KEYS.get(dist, ())) - {"dist"})
    if missing:
        raise ConfigError(f"{field}: a {dist} prior needs {', '.join(missing)}")
    if unused:
        raise ConfigError(
            f"{field}: a {dist} prior takes {', '.join(required)}, not {', '.join(unused)}. "
            "(Snakemake merges a --configfile into config/config.yaml key by key, so a prior "
            "that changes its dist there keeps the old keys: add --replace-workflow-config, "
            "or edit config/config.yaml.)"
        )
    if dist == "scipy":
        return _scipy_prior(field, spec["name"], spec.get("kwargs", {}))
    prior = Prior(dist=dist, **{key: float(spec[key]) for key in required})
    if "sigma" in required and not prior.sigma > 0:
        raise ConfigError(f"{field}.sigma: expected > 0, got {prior.sigma}")
    if "min" in required and not prior.min < prior.max:
        raise ConfigError(f"{field}: expected min < max, got min={prior.min}, max={prior.max}")
    if dist == "log_uniform" and not prior.min > 0:
        raise ConfigError(f"{field}.min: a log_uniform prior needs min > 0, got {prior.min}")
    return prior


def _scipy_prior(field: str, name: str, kwargs: dict[str, float]) -> Prior:
    """A prior of any continuous ``scipy.stats`` distribution, checked to give finite values."""
    family = getattr(scipy.stats, str(name), None)
    if not isinstance(family, scipy.stats.rv_continuous):
        raise ConfigError(
            f"{field}.name: expected the name of a continuous distribution of scipy.stats "
            f"(for example lognorm, gamma, beta, norm), got {name!r}"
        )
    prior = Prior(dist="scipy", name=name, kwargs={key: float(v) for key, v in kwargs.items()})
    try:
        values = prior.from_unit(np.array([1e-12, 0.5, 1 - 1e-12]))
    except TypeError as error:
        raise ConfigError(f"{field}.kwargs: scipy.stats.{name} refuses them: {error}") from None
    if not np.all(np.isfinite(values)):
        raise ConfigError(
            f"{field}.kwargs: scipy.stats.{name}({kwargs}) is not a valid distribution "
            f"(its quantiles are {values.tolist()})"
        )
    return prior


@dataclass(frozen=True)
class GaussianCopula:
    """Correlations between sampled parameters, applied to their uniform numbers.

    ``indices`` are the positions of the correlated parameters in the sampled-parameter
    order; ``cholesky`` is the lower Cholesky factor of their correlation matrix.
    """

    indices: tuple[int, ...]
    cholesky: np.ndarray = field(hash=False)

    def correlate(self, unit: np.ndarray) -> np.ndarray:
        """The uniform numbers of one lens with the correlated ones made correlated."""
        chosen = list(self.indices)
        correlated = unit.copy()
        # The first row of the factor is (1, 0, ...): the first parameter keeps its number
        # exactly (a round trip through ndtr(ndtri(u)) would move its last bits).
        correlated[chosen[1:]] = ndtr(self.cholesky[1:] @ ndtri(unit[chosen]))
        return correlated


def gaussian_copula(
    correlations: list[dict[str, Any]], columns: list[str], fixed: set[str]
) -> GaussianCopula | None:
    """The copula of ``priors.correlations`` over the sampled ``columns`` (None if empty).

    Raises ConfigError naming the entry: an unknown or fixed parameter, a parameter paired
    with itself or a pair given twice, or coefficients that make no correlation matrix.
    """
    if not correlations:
        return None
    pairs: dict[tuple[int, int], float] = {}
    for index, entry in enumerate(correlations):
        where = f"priors.correlations.{index}"
        first, second = entry["parameters"]
        for name in (first, second):
            if name not in columns:
                raise ConfigError(
                    f"{where}.parameters: {name!r} is not a sampled parameter of this run; "
                    f"expected one of {', '.join(columns)}"
                )
            if name in fixed:
                raise ConfigError(f"{where}.parameters: {name!r} has a fixed prior")
        pair = tuple(sorted((columns.index(first), columns.index(second))))
        if pair[0] == pair[1] or pair in pairs:
            raise ConfigError(f"{where}.parameters: {first} and {second} twice, or the same")
        pairs[pair] = entry["coefficient"]
    indices = tuple(sorted({index for pair in pairs for index in pair}))
    matrix = np.eye(len(indices))
    for (a, b), coefficient in pairs.items():
        matrix[indices.index(a), indices.index(b)] = coefficient
        matrix[indices.index(b), indices.index(a)] = coefficient
    try:
        cholesky = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise ConfigError(
            "priors.correlations: these coefficients make no correlation matrix (it is not "
            "positive definite); weaken them"
        ) from None
    return GaussianCopula(indices, cholesky)


# The values each parameter can physically take, by parameter name, as open intervals, with
# what the parameter is: a prior whose support leaves the interval is refused.
PHYSICAL_RANGES = {
    "theta_E": (0.0, np.inf, "an Einstein radius in arcsec"),
    "R_sersic": (0.0, np.inf, "a half-light radius in arcsec"),
    "n_sersic": (0.0, 10.0, "a Sersic index"),
    "magnitude": (0.0, 50.0, "an apparent magnitude"),
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
    # The values the simulation can draw: those of the extreme uniform numbers it uses.
    low, high = prior.from_unit(np.array([UNIT_LOW, UNIT_HIGH])).tolist()
    if not (lowest < low and high < highest):
        raise ConfigError(
            f"{field}: {name} is {what}, so its values must lie strictly between {lowest:g} "
            f"and {highest:g}, but this {prior.dist} prior can draw values from {low:.3g} "
            f"to {high:.3g}"
        )
