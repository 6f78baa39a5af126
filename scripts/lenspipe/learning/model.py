"""The CNN that reads lens parameters from an image, built with the Keras Functional API.

How a CNN takes a 2D image and predicts several numbers at once:

- ``keras.Input(shape=(H, W, bands))`` declares one image; the batch axis is implicit. A
  single-band 64 x 64 image has shape (64, 64, 1): the trailing channel axis is what Conv2D
  expects, and more bands simply mean more channels.
- Each convolution block (two 3 x 3 Conv2D layers, each followed by a ReLU, then 2 x 2 max
  pooling) finds local features and halves the image, so the image must have at least
  2**blocks pixels. Two stacked 3 x 3 convolutions see a 5 x 5 patch with fewer weights and
  one more non-linearity than a single 5 x 5 one (the VGG design).
- Flatten turns the last (small) feature maps into one vector per image, then Dense layers
  combine the features. Flatten, unlike global pooling, keeps *where* each feature is, which
  the lens centre and the orientation of the ellipticity and shear depend on.
- The head is one ``Dense(k)`` layer with a linear activation: one output unit per target
  parameter, all predicted together. With the Gaussian negative log-likelihood loss
  (``lenspipe.learning.losses``) it is ``Dense(2k)``: a mean and a log-variance per target, so each
  prediction comes with its own uncertainty. We use one vector head rather than k separate outputs
  because every target is read from the same features and trained with the same loss on
  MinMax-scaled values; the labels are then a plain (N, k) array, and ``model.predict``
  returns one (N, k) array whose columns follow ``training.targets``.

Why the Functional API rather than ``Sequential``: the model is a graph from named inputs to
named outputs, which is what later extensions need (extra inputs such as the survey band,
separate heads), and ``model.summary()`` shows every tensor's shape.

``build_dense`` is the naive model a newcomer starts from, kept as a baseline: the image
flattened into one vector and fed to Dense layers, which must learn from scratch that
neighbouring pixels belong together and that a shifted arc is the same arc.
"""

from pathlib import Path

import keras
from keras import layers, ops


def build_cnn(
    image_shape: tuple[int, int, int],
    n_targets: int,
    conv_filters: list[int],
    dense_units: list[int],
    dropout: float,
    batch_norm: bool = False,
    outputs_per_target: int = 1,
    convs_per_block: int = 2,
    detached_variance: bool = False,
) -> keras.Model:
    """Return an uncompiled CNN from images of ``image_shape`` to ``n_targets`` values.

    ``batch_norm`` puts a batch normalisation between each convolution and its ReLU;
    ``outputs_per_target`` is 2 for a mean and a log-variance per target (``losses``);
    ``convs_per_block`` convolutions precede each pooling; ``detached_variance`` gives the
    log-variances a head of their own that reads the features without training them.
    """
    height, width, _ = image_shape
    blocks = len(conv_filters)
    if min(height, width) < 2**blocks:
        raise ValueError(
            f"image of {height}x{width} pixels is too small for {blocks} convolution "
            f"blocks; expected at least {2**blocks} pixels per side"
        )
    image = keras.Input(shape=image_shape, name="image")
    features = image
    for block, filters in enumerate(conv_filters, start=1):
        for conv in range(1, convs_per_block + 1):
            name = f"conv{block}_{conv}"
            features = layers.Conv2D(
                filters, 3, padding="same", use_bias=not batch_norm, name=name
            )(features)
            if batch_norm:
                features = layers.BatchNormalization(name=f"{name}_norm")(features)
            features = layers.ReLU(name=f"{name}_relu")(features)
        features = layers.MaxPooling2D(2, name=f"conv{block}_pool")(features)
    features = _dense_layers(layers.Flatten(name="flatten")(features), dense_units, dropout)
    if outputs_per_target == 2 and detached_variance:
        means = layers.Dense(n_targets, name="means")(features)
        held = StopGradient(name="features_held_fixed")(features)
        log_variances = layers.Dense(n_targets, name="log_variances")(held)
        parameters = layers.Concatenate(name="parameters")([means, log_variances])
    else:
        parameters = _linear_head(features, n_targets * outputs_per_target)
    return keras.Model(inputs=image, outputs=parameters, name="lens_cnn")


def load_trained_model(path: str | Path) -> keras.Model:
    """Load a model that lenspipe saved, with its loss and the ``StopGradient`` layer known."""
    import lenspipe.learning.losses  # noqa: F401  (registers the losses the model was compiled with)

    return keras.models.load_model(path)


def build_dense(
    image_shape: tuple[int, int, int], n_targets: int, dense_units: list[int], dropout: float
) -> keras.Model:
    """Return the uncompiled naive model: Dense layers on the flattened image."""
    image = keras.Input(shape=image_shape, name="image")
    features = _dense_layers(layers.Flatten(name="flatten")(image), dense_units, dropout)
    return keras.Model(inputs=image, outputs=_linear_head(features, n_targets), name="naive_dense")


def _dense_layers(features, dense_units: list[int], dropout: float):
    """ReLU Dense layers, each followed by dropout if > 0."""
    for index, units in enumerate(dense_units, start=1):
        features = layers.Dense(units, activation="relu", name=f"dense{index}")(features)
        if dropout > 0:
            features = layers.Dropout(dropout, name=f"dense{index}_dropout")(features)
    return features


def _linear_head(features, n_outputs: int):
    """The linear output layer ``Dense(n_outputs)``, named ``parameters``."""
    return layers.Dense(n_outputs, activation="linear", name="parameters")(features)


@keras.saving.register_keras_serializable(package="lenspipe")
class StopGradient(layers.Layer):
    """Passes its input through unchanged and stops the gradient there, so that the layers
    after it learn from the features without changing them."""

    def call(self, inputs):
        return ops.stop_gradient(inputs)
