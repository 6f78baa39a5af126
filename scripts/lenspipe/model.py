"""The CNN that reads lens parameters from an image, built with the Keras Functional API.

How a CNN takes a 2D image and predicts several numbers at once:

- ``keras.Input(shape=(H, W, bands))`` declares one image; the batch axis is implicit. A
  single-band 64 x 64 image has shape (64, 64, 1): the trailing channel axis is what Conv2D
  expects, and more bands simply mean more channels.
- Each convolution block (Conv2D, batch normalisation, ReLU, then 2 x 2 max pooling) finds
  local features and halves the image, so the image must have at least 2**blocks pixels.
- Flatten turns the last (small) feature maps into one vector per image, then Dense layers
  combine the features. Flatten, unlike global pooling, keeps *where* each feature is, which
  the lens centre and the orientation of the ellipticity and shear depend on.
- The head is one ``Dense(k)`` layer with a linear activation: one output unit per target
  parameter, all predicted together. We use one vector head rather than k separate outputs
  because every target is read from the same features and trained with the same loss on
  MinMax-scaled values; the labels are then a plain (N, k) array, and ``model.predict``
  returns one (N, k) array whose columns follow ``training.targets``.

Why the Functional API rather than ``Sequential``: the model is a graph from named inputs to
named outputs, which is what later extensions need (a second head for uncertainties, extra
inputs such as the survey band), and ``model.summary()`` shows every tensor's shape.
"""

import keras
from keras import layers


def build_cnn(
    image_shape: tuple[int, int, int],
    n_targets: int,
    conv_filters: list[int],
    dense_units: list[int],
    dropout: float,
) -> keras.Model:
    """Return an uncompiled CNN from images of ``image_shape`` to ``n_targets`` values."""
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
        features = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(
            features
        )
        features = layers.BatchNormalization(name=f"conv{block}_norm")(features)
        features = layers.ReLU(name=f"conv{block}_relu")(features)
        features = layers.MaxPooling2D(2, name=f"conv{block}_pool")(features)
    features = layers.Flatten(name="flatten")(features)
    for index, units in enumerate(dense_units, start=1):
        features = layers.Dense(units, activation="relu", name=f"dense{index}")(features)
        if dropout > 0:
            features = layers.Dropout(dropout, name=f"dense{index}_dropout")(features)
    parameters = layers.Dense(n_targets, activation="linear", name="parameters")(features)
    return keras.Model(inputs=image, outputs=parameters, name="lens_cnn")
