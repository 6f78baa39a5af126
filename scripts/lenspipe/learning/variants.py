"""The model variants: every model the workflow trains and evaluates, by name.

The rules ``train``, ``calibrate``, ``evaluate`` and ``calibration_plot`` take the model as
their ``{model}`` wildcard (``workflow/rules/train.smk``, ``evaluate.smk``) and read
everything model-specific from here: the settings a model is trained with (the rules' params,
so a model retrains only when one of its own settings changes), how it is built and compiled
from them, and whether it predicts uncertainties (then it is calibrated and its coverage
measured; a model without them gets neither). A new model is one more entry in ``MODELS``.

A model's settings have the shape of the ``training`` section (what
``lenspipe.learning.train.train`` reads: ``batch_size``, ``epochs``, ``augment``, the
learning rate and early stopping), plus what its builder reads. This module imports no
Keras, so the Snakemake driver and the status command read it without loading TensorFlow;
the builders import it when called.
"""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lenspipe.config import model_training_settings
from lenspipe.learning.outputs import outputs_per_target

if TYPE_CHECKING:
    import keras

# The model the others are compared with, and the one the independent test campaigns and the
# learning curve evaluate.
MAIN_MODEL = "cnn"

# The training settings the naive model shares with the CNN: the same targets, batches,
# epochs, learning rate, early stopping and validation, so the comparison isolates the
# architecture.
SHARED_TRAINING = (
    "targets",
    "batch_size",
    "epochs",
    "learning_rate",
    "learning_rate_schedule",
    "early_stopping_patience",
    "validation_interval",
)


@dataclass(frozen=True)
class ModelVariant:
    """One model: the settings it reads from a validated config, and how it is built and
    compiled from them (image shape and steps per epoch given)."""

    settings: Callable[[Mapping[str, Any]], dict[str, Any]]
    build: Callable[[Mapping[str, Any], tuple[int, int, int], int], "keras.Model"]
    on_gpu: bool
    """Whether its training job asks for a GPU on a cluster (the Amarel profile's
    ``GPU_MODELS``, which tests/test_profile.py holds to this)."""
    local_threads: int
    """Cores of its training job in a local run (on a cluster the profile's set-threads)."""
    first_on_local_cores: bool
    """Whether its training goes before the jobs that merely fill cores in a local run (the
    main model's: everything after it waits for it)."""


def has_uncertainties(settings: Mapping[str, Any]) -> bool:
    """Whether a model trained with ``settings`` predicts a standard deviation per target."""
    return outputs_per_target(settings["loss"]) == 2


def _compile_cnn(
    settings: Mapping[str, Any], image_shape: tuple[int, int, int], steps_per_epoch: int
) -> "keras.Model":
    from lenspipe.learning.compile import compile_model

    return compile_model(settings, image_shape, steps_per_epoch)


def _naive_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The CNN's shared training settings and ``baselines.dense``; MSE, no augmentation."""
    shared = {name: config["training"][name] for name in SHARED_TRAINING}
    return {**shared, **config["baselines"]["dense"], "loss": "mse", "augment": False}


def _compile_naive(
    settings: Mapping[str, Any], image_shape: tuple[int, int, int], steps_per_epoch: int
) -> "keras.Model":
    from lenspipe.learning.model import build_dense
    from lenspipe.learning.compile import compile_with, learning_rate

    model = build_dense(
        image_shape, len(settings["targets"]), settings["dense_units"], settings["dropout"]
    )
    return compile_with(model, learning_rate(settings, steps_per_epoch), "mse")


MODELS = {
    # The CNN (lenspipe.learning.model.build_cnn) of the training settings.
    MAIN_MODEL: ModelVariant(
        settings=model_training_settings,
        build=_compile_cnn,
        on_gpu=True,
        local_threads=2,  # its convolutions use both cores
        first_on_local_cores=True,
    ),
    # The naive model: Dense layers on the flattened image (baselines.dense).
    "naive": ModelVariant(
        settings=_naive_settings,
        build=_compile_naive,
        on_gpu=False,
        # It keeps half a core busy (19.5 s of CPU in 36.5 s, 2026-11-29): another job can
        # run beside it.
        local_threads=1,
        first_on_local_cores=False,
    ),
}
GPU_MODELS = tuple(name for name, variant in MODELS.items() if variant.on_gpu)
"""The models that train on a GPU on a cluster."""


def model_settings(config: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The settings model ``model`` is trained and evaluated with, from a validated config."""
    return MODELS[model].settings(config)


def predicts_uncertainties(config: Mapping[str, Any], model: str) -> bool:
    """Whether model ``model`` of a validated config predicts uncertainties."""
    return has_uncertainties(model_settings(config, model))


def builder(
    model: str, settings: Mapping[str, Any]
) -> Callable[[tuple[int, int, int], int], "keras.Model"]:
    """The ``build`` of ``lenspipe.learning.train.train`` for model ``model`` trained with
    ``settings``."""
    return functools.partial(MODELS[model].build, settings)
