"""Simulation: the lens model's parameters and priors, survey observations, and lenstronomy images."""
