"""The CNN: one input image, one vector of k parameters out."""

import numpy as np
import pytest
from lenspipe.learning.model import build_cnn


@pytest.mark.parametrize("image_shape, n_targets", [((32, 32, 1), 7), ((64, 64, 3), 2)])
def test_output_has_one_value_per_target(image_shape, n_targets):
    model = build_cnn(image_shape, n_targets, conv_filters=[4, 8], dense_units=[8], dropout=0.1)
    assert model.input_shape == (None, *image_shape)
    assert model.output_shape == (None, n_targets)
    prediction = model.predict(np.zeros((3, *image_shape), dtype=np.float32), verbose=0)
    assert prediction.shape == (3, n_targets)


def test_image_too_small_for_the_blocks_is_refused():
    with pytest.raises(ValueError, match="too small for 3 convolution blocks"):
        build_cnn((4, 4, 1), 2, conv_filters=[4, 8, 16], dense_units=[], dropout=0.0)
