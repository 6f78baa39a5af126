"""The compiled network: the CNN built from the ``training`` settings, its loss on the
MinMax-scaled targets, Adam and the learning-rate schedule."""

from collections.abc import Sequence
from typing import Any

import keras
from lenspipe.learning.losses import keras_loss, mae, target_weights
from lenspipe.learning.model import build_cnn
from lenspipe.learning.outputs import outputs_per_target


def learning_rate(
    training: dict[str, Any], steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate of ``training.learning_rate_schedule``: ``constant``, or ``cosine``:
    a linear warm-up from a tenth of ``training.learning_rate`` over the first epoch, then a
    cosine decay to a hundredth of it at the last epoch.

    The rate is a function of the optimizer's step, which ``BackupAndRestore`` restores, so a
    resumed training continues on the same curve.
    """
    peak = training["learning_rate"]
    if training["learning_rate_schedule"] == "constant":
        return peak
    total = steps_per_epoch * training["epochs"]
    warmup = min(steps_per_epoch, total // 2)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 10,
        decay_steps=total - warmup,
        alpha=0.01,
        warmup_target=peak,
        warmup_steps=warmup,
    )


def compile_model(
    training: dict[str, Any], image_shape: tuple[int, int, int], steps_per_epoch: int
) -> keras.Model:
    """Build and compile the CNN of the ``training`` settings, with the loss ``training.loss``
    on MinMax-scaled targets (weighted by ``training.target_weights``) and the learning rate
    of ``learning_rate``."""
    model = build_cnn(
        image_shape,
        n_targets=len(training["targets"]),
        conv_filters=training["conv_filters"],
        dense_units=training["dense_units"],
        dropout=training["dropout"],
        batch_norm=training["batch_norm"],
        outputs_per_target=outputs_per_target(training["loss"]),
        convs_per_block=training["convs_per_block"],
        detached_variance=training["loss"] == "mse_nll",
    )
    rate = learning_rate(training, steps_per_epoch)
    return compile_with(model, rate, training["loss"], target_weights(training))


def compile_with(
    model: keras.Model,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
    loss: str,
    weights: Sequence[float] | None = None,
) -> keras.Model:
    """Compile ``model`` with Adam, the loss named ``loss`` (its targets' squared errors
    weighted by ``weights``, if given) and the MAE of its values."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras_loss(loss, weights),
        metrics=[mae],
    )
    return model
