"""Baselines the CNN is compared with: a naive Dense network and a lenstronomy likelihood fit."""
