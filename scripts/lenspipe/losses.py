"""Losses of the network: MSE, or a heteroscedastic Gaussian negative log-likelihood.

With ``gaussian_nll`` the network predicts, for each of the k targets, a mean and the log of a
variance: its output is (N, 2k), the k means first, then the k log-variances. The loss of one
target is ``0.5 * (log_var + (y - mean)**2 / exp(log_var))``, the negative log-likelihood of a
Gaussian up to a constant. Its gradient in ``log_var`` is zero where ``exp(log_var)`` equals
the squared error, so on average it drives each predicted variance to the actual scatter of
the errors: the network says how sure it is, lens by lens.
"""

import keras
import numpy as np
from keras import ops

LOSSES = ("mse", "gaussian_nll")

# exp(-12) to exp(6) in scaled units: wide enough for any MinMax-scaled target, and it keeps a
# wild early prediction from overflowing exp.
_LOG_VARIANCE_RANGE = (-12.0, 6.0)


def outputs_per_target(loss: str) -> int:
    """Output units per target: 1 (the value) for MSE, 2 (mean and log-variance) for NLL."""
    return 2 if loss == "gaussian_nll" else 1


@keras.saving.register_keras_serializable(package="lenspipe")
def gaussian_nll(y_true, y_pred):
    """Mean Gaussian negative log-likelihood of targets (N, k) under predictions (N, 2k)."""
    k = ops.shape(y_true)[-1]
    mean, log_variance = y_pred[:, :k], ops.clip(y_pred[:, k:], *_LOG_VARIANCE_RANGE)
    squared = ops.square(ops.cast(y_true, mean.dtype) - mean)
    return ops.mean(0.5 * (log_variance + squared * ops.exp(-log_variance)), axis=-1)


@keras.saving.register_keras_serializable(package="lenspipe")
def mae(y_true, y_pred):
    """Mean absolute error of the predicted values (the first k outputs), for either loss."""
    k = ops.shape(y_true)[-1]
    return ops.mean(ops.abs(ops.cast(y_true, y_pred.dtype) - y_pred[:, :k]), axis=-1)


def keras_loss(loss: str):
    """The Keras loss of the config's ``training.loss``."""
    return gaussian_nll if loss == "gaussian_nll" else "mse"


def split_prediction(prediction: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(means, standard deviations) of an (N, 2k) NLL prediction, in the same (scaled) units."""
    log_variance = np.clip(prediction[:, k:], *_LOG_VARIANCE_RANGE)
    return prediction[:, :k], np.exp(0.5 * log_variance)
