"""Predictions in physical units: calibration factors and test-time augmentation."""

import keras
import numpy as np
from conftest import fit_small_normalisation
from lenspipe.data.augment import N_TRANSFORMS, sky_matrix, transform_image, transform_parameters
from lenspipe.data.dataset import LensBatches
from lenspipe.data.store import open_store, store_pix2angle
from lenspipe.evaluation.evaluate import predict_physical
from lenspipe.learning.model import build_cnn


def _model(image_shape, n_targets: int) -> keras.Model:
    keras.utils.set_random_seed(8)
    return build_cnn(
        image_shape, n_targets, [4, 8], [16], 0.0, outputs_per_target=2, detached_variance=True
    )


def _transformed_store_batches(batches: LensBatches, transform: int):
    """The same batches with every image flipped or rotated by ``transform``."""

    class Transformed:
        def __len__(self):
            return len(batches)

        def batch(self, batch):
            images, targets = batches.batch(batch)
            return np.ascontiguousarray(transform_image(images, transform)), targets

    return Transformed()


def test_test_time_augmentation_makes_the_prediction_exactly_equivariant(small_store):
    """Averaged over the 8 transforms, the prediction for a flipped or rotated image is the
    flipped or rotated prediction, for any network, trained or not."""
    config, store, _, _ = small_store
    _, normalisation = fit_small_normalisation(config, store)
    names = normalisation.targets
    lenses = np.arange(20)
    batches = LensBatches(store, lenses, normalisation, 8)
    model = _model(open_store(store)["images"].shape[1:], len(names))
    matrices = [sky_matrix(t, store_pix2angle(store)) for t in range(N_TRANSFORMS)]

    mean, sigma, _ = predict_physical(model, batches, normalisation, sky_matrices=matrices)
    plain, _, _ = predict_physical(model, batches, normalisation)
    for transform in (1, 2, 5, 7):
        rotated = _transformed_store_batches(batches, transform)
        moved_mean, moved_sigma, _ = predict_physical(
            model, rotated, normalisation, sky_matrices=matrices
        )
        expected = transform_parameters(mean, names, matrices[transform])
        np.testing.assert_allclose(moved_mean, expected, rtol=1e-4, atol=1e-6)
        sigma_moved = np.abs(transform_parameters(sigma, names, matrices[transform]))
        np.testing.assert_allclose(moved_sigma, sigma_moved, rtol=1e-4, atol=1e-7)
        # Without the average, an untrained network is far from equivariant.
        moved_plain, _, _ = predict_physical(model, rotated, normalisation)
        expected_plain = transform_parameters(plain, names, matrices[transform])
        assert not np.allclose(moved_plain, expected_plain, rtol=1e-2, atol=1e-4)


def test_calibration_factors_multiply_each_targets_sigma(small_store):
    config, store, _, _ = small_store
    _, normalisation = fit_small_normalisation(config, store)
    names = normalisation.targets
    batches = LensBatches(store, np.arange(10), normalisation, 4)
    model = _model(open_store(store)["images"].shape[1:], len(names))
    scales = np.linspace(0.5, 2.0, len(names))
    mean, sigma, _ = predict_physical(model, batches, normalisation)
    scaled_mean, scaled_sigma, _ = predict_physical(model, batches, normalisation, scales)
    np.testing.assert_array_equal(scaled_mean, mean)
    np.testing.assert_allclose(scaled_sigma, sigma * scales, rtol=1e-12)
