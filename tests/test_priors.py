"""Priors: each distribution sampled as configured."""

import numpy as np
import pytest
from scipy import stats

from lenspipe.priors import parse_prior

N = 20_000


def draw(spec: dict, seed: int = 1) -> np.ndarray:
    unit = np.random.default_rng(seed).random(N)
    return parse_prior("test", spec).from_unit(unit)


def test_fixed_prior_returns_its_value():
    assert np.all(draw({"dist": "fixed", "value": 1.25}) == 1.25)


def test_uniform_prior_stays_in_bounds_and_is_flat():
    values = draw({"dist": "uniform", "min": -0.3, "max": 0.5})
    assert values.min() >= -0.3 and values.max() < 0.5
    assert stats.kstest(values, stats.uniform(loc=-0.3, scale=0.8).cdf).pvalue > 1e-3


def test_normal_prior_has_its_mean_and_sigma():
    values = draw({"dist": "normal", "mean": 0.1, "sigma": 0.2})
    assert stats.kstest(values, stats.norm(loc=0.1, scale=0.2).cdf).pvalue > 1e-3


def test_truncated_normal_prior_matches_scipy_truncnorm():
    spec = {"dist": "truncated_normal", "mean": 0.0, "sigma": 0.1, "min": -0.05, "max": 0.2}
    values = draw(spec)
    assert values.min() >= -0.05 and values.max() <= 0.2
    reference = stats.truncnorm(a=-0.5, b=2.0, loc=0.0, scale=0.1)
    assert stats.kstest(values, reference.cdf).pvalue > 1e-3


def test_log_uniform_prior_is_flat_in_log():
    values = draw({"dist": "log_uniform", "min": 0.1, "max": 10.0})
    assert values.min() >= 0.1 and values.max() < 10.0
    assert stats.kstest(np.log10(values), stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-3


def test_a_wrong_distribution_fails_the_statistical_check():
    """The KS checks above can fail: a uniform sample is not a normal one."""
    values = draw({"dist": "uniform", "min": -0.3, "max": 0.5})
    assert stats.kstest(values, stats.norm(loc=0.1, scale=0.2).cdf).pvalue < 1e-3


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 0.0, "sigma": 1.0},
        {"dist": "truncated_normal", "mean": 0.0, "sigma": 1.0, "min": -1.0, "max": 1.0},
    ],
)
def test_unit_interval_ends_map_to_finite_values(spec):
    prior = parse_prior("test", spec)
    assert np.all(np.isfinite(prior.from_unit(np.array([2.0**-53, 1.0 - 2.0**-53]))))
