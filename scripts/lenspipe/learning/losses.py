"""Losses of the network: MSE, or a heteroscedastic Gaussian negative log-likelihood.

With ``gaussian_nll`` the network predicts, for each of the k targets, a mean and the log of a
variance: its output is (N, 2k), the k means first, then the k log-variances. The loss of one
target is ``0.5 * (log_var + (y - mean)**2 / exp(log_var))``, the negative log-likelihood of a
Gaussian up to a constant. Its gradient in ``log_var`` is zero where ``exp(log_var)`` equals
the squared error, so on average it drives each predicted variance to the actual scatter of
the errors: the network says how sure it is, lens by lens.

The NLL has a weakness: its gradient in the mean is the squared-error gradient divided by the
predicted variance, so lenses the network finds hard (large variance) barely move the means,
and the means end up worse than an MSE fit's (Seitzer et al. 2022, "On the pitfalls of
heteroscedastic uncertainty estimation"). ``mse_nll`` (the default) avoids it: the means are
trained by the MSE alone, and the log-variances by the NLL with the means held fixed (their
gradient stopped there). The CNN then also gives the log-variances a head of their own that
reads the features without training them (``lenspipe.learning.model.StopGradient``): the NLL's
gradients, large and noisy wherever a lens's error is far from its predicted variance, would
otherwise flood the shared layers and drown the means' MSE gradients. The means are then
exactly what an MSE network learns, and each log-variance still converges to the expected
squared error of lenses like it.

``training.target_weights`` weights each target's squared error in the MSE of the means
(``TargetWeightedLoss``, weights averaging 1), so that the shared layers spend more of their
capacity on the targets weighted up; the NLL of the log-variances stays unweighted, so each
target's uncertainty is learnt as before.
"""

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

# exp(-12) to exp(6) in scaled units: wide enough for any MinMax-scaled target, and it keeps a
# wild early prediction from overflowing exp.
_LOG_VARIANCE_RANGE = (-12.0, 6.0)


@keras.saving.register_keras_serializable(package="lenspipe")
def gaussian_nll(y_true, y_pred):
    """Mean Gaussian negative log-likelihood of targets (N, k) under predictions (N, 2k)."""
    k = ops.shape(y_true)[-1]
    mean, log_variance = y_pred[:, :k], ops.clip(y_pred[:, k:], *_LOG_VARIANCE_RANGE)
    squared = ops.square(ops.cast(y_true, mean.dtype) - mean)
    return ops.mean(0.5 * (log_variance + squared * ops.exp(-log_variance)), axis=-1)


@keras.saving.register_keras_serializable(package="lenspipe")
def mse_nll(y_true, y_pred):
    """MSE of the means plus the Gaussian NLL of the log-variances with the means held fixed,
    for targets (N, k) and predictions (N, 2k)."""
    k = ops.shape(y_true)[-1]
    mean, log_variance = y_pred[:, :k], ops.clip(y_pred[:, k:], *_LOG_VARIANCE_RANGE)
    squared = ops.square(ops.cast(y_true, mean.dtype) - mean)
    variance_nll = 0.5 * (log_variance + ops.stop_gradient(squared) * ops.exp(-log_variance))
    return ops.mean(squared, axis=-1) + ops.mean(variance_nll, axis=-1)


@keras.saving.register_keras_serializable(package="lenspipe")
def mae(y_true, y_pred):
    """Mean absolute error of the predicted values (the first k outputs), for either loss."""
    k = ops.shape(y_true)[-1]
    return ops.mean(ops.abs(ops.cast(y_true, y_pred.dtype) - y_pred[:, :k]), axis=-1)


@keras.saving.register_keras_serializable(package="lenspipe")
class TargetWeightedLoss(keras.losses.Loss):
    """``mse`` or ``mse_nll`` with each target's squared error in the MSE of the means
    multiplied by its weight (in target order; the weights should average 1, so that the loss
    and the learning rate keep their scale). The NLL of the log-variances is not weighted."""

    def __init__(self, loss: str, weights: Sequence[float], name: str | None = None, **kwargs):
        super().__init__(name=name or f"weighted_{loss}", **kwargs)
        if loss not in ("mse", "mse_nll"):
            raise ValueError(f"target weights apply to mse or mse_nll, not {loss!r}")
        self.loss, self.weights = loss, [float(weight) for weight in weights]

    def call(self, y_true, y_pred):
        k = len(self.weights)
        mean = y_pred[:, :k]
        squared = ops.square(ops.cast(y_true, mean.dtype) - mean)
        weighted = ops.mean(squared * ops.convert_to_tensor(self.weights, mean.dtype), axis=-1)
        if self.loss == "mse":
            return weighted
        log_variance = ops.clip(y_pred[:, k:], *_LOG_VARIANCE_RANGE)
        variance_nll = 0.5 * (log_variance + ops.stop_gradient(squared) * ops.exp(-log_variance))
        return weighted + ops.mean(variance_nll, axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "loss": self.loss, "weights": self.weights}


def keras_loss(loss: str, weights: Sequence[float] | None = None):
    """The Keras loss of the config's ``training.loss``, with the targets' squared errors
    weighted by ``weights`` (``TargetWeightedLoss``) unless they are all equal."""
    if weights is not None and len(set(weights)) > 1:
        return TargetWeightedLoss(loss, weights)
    return {"mse": "mse", "gaussian_nll": gaussian_nll, "mse_nll": mse_nll}[loss]


def target_weights(training: dict) -> list[float]:
    """The weight of each of ``training.targets``, in their order, from
    ``training.target_weights`` (1 for a target not named there), scaled to average 1."""
    weights = [float(training["target_weights"].get(t, 1.0)) for t in training["targets"]]
    return [weight * len(weights) / sum(weights) for weight in weights]


def split_prediction(prediction: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(means, standard deviations) of an (N, 2k) NLL prediction, in the same (scaled) units."""
    log_variance = np.clip(prediction[:, k:], *_LOG_VARIANCE_RANGE)
    return prediction[:, :k], np.exp(0.5 * log_variance)
