"""Evaluation: predictions in physical units, calibration, metrics, coverage, figures and the comparison tables."""
