"""Priors: each distribution sampled as configured."""

import numpy as np
import pytest
from conftest import small_config
from lenspipe.config import validate_config
from lenspipe.errors import ConfigError
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.priors import parse_prior
from lenspipe.simulation.simulate import LensSimulator
from scipy import stats

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


def test_any_scipy_distribution_is_a_prior():
    spec = {"dist": "scipy", "name": "lognorm", "kwargs": {"s": 0.25, "scale": 1.2}}
    values = draw(spec)
    assert stats.kstest(values, stats.lognorm(s=0.25, scale=1.2).cdf).pvalue > 1e-3
    assert parse_prior("test", spec).support() == (0.0, np.inf)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"dist": "scipy", "name": "no_such"}, "lens.theta_E.name: expected the name of a"),
        ({"dist": "scipy", "name": "poisson"}, "continuous distribution"),  # discrete
        ({"dist": "scipy", "name": "lognorm", "kwargs": {"q": 1.0}}, "refuses them"),
        ({"dist": "scipy", "name": "lognorm", "kwargs": {"s": -1.0}}, "not a valid"),
        ({"dist": "scipy", "name": "lognorm", "min": 1.0}, "not min"),
    ],
)
def test_a_bad_scipy_prior_is_refused_naming_the_field(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_prior("lens.theta_E", spec)


def test_physical_ranges_apply_to_scipy_priors_too():
    def with_theta_e(spec: dict) -> dict:
        config = small_config()
        config["priors"]["lens"]["theta_E"] = spec  # replaced whole, not merged
        return validate_config(config)

    with pytest.raises(ConfigError, match="priors.lens.theta_E: theta_E is an Einstein"):
        with_theta_e({"dist": "scipy", "name": "norm", "kwargs": {"loc": 1.0}})
    config = with_theta_e({"dist": "scipy", "name": "lognorm", "kwargs": {"s": 0.2}})
    assert (
        LensSimulator(SimulationSettings.from_config(config)).parameter_names[0] == "lens_theta_E"
    )


CORRELATED = [{"parameters": ["lens_light_e1", "lens_e1"], "coefficient": 0.8}]


def test_correlated_parameters_keep_their_priors_and_the_others_their_values():
    plain = LensSimulator(SimulationSettings.from_config(small_config()))
    correlated = LensSimulator(
        SimulationSettings.from_config(small_config(priors={"correlations": CORRELATED}))
    )
    names = list(plain.parameter_names)
    first, second = names.index("lens_light_e1"), names.index("lens_e1")
    seeds = range(4000)
    draws = {
        name: np.array([s.draw_parameters(np.random.default_rng(seed)) for seed in seeds])
        for name, s in (("plain", plain), ("correlated", correlated))
    }
    others = [k for k in range(len(plain._priors)) if k not in (first, second)]
    np.testing.assert_array_equal(draws["plain"][:, others], draws["correlated"][:, others])
    np.testing.assert_array_equal(draws["plain"][:, second], draws["correlated"][:, second])
    assert abs(np.corrcoef(draws["plain"][:, first], draws["plain"][:, second])[0, 1]) < 0.05
    rho = stats.spearmanr(draws["correlated"][:, first], draws["correlated"][:, second])[0]
    # Spearman's rho of a Gaussian copula with coefficient r is 6/pi * arcsin(r / 2).
    assert rho == pytest.approx(6 / np.pi * np.arcsin(0.4), abs=0.03)
    marginal = stats.ks_2samp(draws["plain"][:, first], draws["correlated"][:, first])
    assert marginal.pvalue > 1e-3


@pytest.mark.parametrize(
    "correlations, message",
    [
        ([{"parameters": ["lens_e1", "lens_nope"], "coefficient": 0.5}], "'lens_nope' is not"),
        ([{"parameters": ["lens_e1", "lens_e1"], "coefficient": 0.5}], "twice, or the same"),
        ([{"parameters": ["lens_e1", "lens_e2"], "coefficient": 1.0}], "coefficient"),
        (
            [
                {"parameters": ["lens_e1", "lens_e2"], "coefficient": 0.9},
                {"parameters": ["lens_e2", "shear_gamma1"], "coefficient": 0.9},
                {"parameters": ["lens_e1", "shear_gamma1"], "coefficient": -0.9},
            ],
            "not positive definite",
        ),
    ],
)
def test_bad_correlations_are_refused_naming_the_field(correlations, message):
    with pytest.raises(ConfigError, match=message):
        small_config(priors={"correlations": correlations})
