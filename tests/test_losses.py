"""The Gaussian negative log-likelihood: its gradient drives sigma to the true scatter."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from lenspipe.learning.losses import (
    TargetWeightedLoss,
    gaussian_nll,
    keras_loss,
    mae,
    mse_nll,
    split_prediction,
    target_weights,
)
from lenspipe.learning.model import build_cnn, build_dense, load_trained_model


def test_nll_value_and_its_zero_gradient_where_the_variance_equals_the_squared_error():
    y_true = np.array([[1.0, 0.0]], dtype=np.float32)
    log_variance = tf.Variable([[np.log(0.25), np.log(4.0)]], dtype=tf.float32)
    mean = np.array([[0.5, 2.0]], dtype=np.float32)  # squared errors 0.25 and 4
    with tf.GradientTape() as tape:
        loss = gaussian_nll(y_true, tf.concat([mean, log_variance], axis=1))
    expected = np.mean(0.5 * (np.log([0.25, 4.0]) + 1.0))
    assert float(loss[0]) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, log_variance).numpy(), 0.0, atol=1e-6)


def test_mae_reads_only_the_means():
    y_true = np.array([[1.0, 2.0]], dtype=np.float32)
    prediction = np.array([[1.5, 1.0, 9.0, -9.0]], dtype=np.float32)
    assert float(mae(y_true, prediction)[0]) == pytest.approx(0.75)
    assert float(mae(y_true, prediction[:, :2])[0]) == pytest.approx(0.75)


def test_training_with_the_nll_learns_the_true_scatter_of_each_group():
    """Two groups of inputs with noise sigma 0.02 and 0.2 around different means: a linear
    layer on the group's one-hot code learns each group's mean and log-variance."""
    rng = np.random.default_rng(0)
    true_sigma = np.array([0.02, 0.2])
    true_mean = np.array([0.3, 0.7])
    group = rng.integers(0, 2, 4000)
    x = np.eye(2, dtype=np.float32)[group]
    y = (true_mean[group] + true_sigma[group] * rng.standard_normal(4000)).astype(np.float32)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=gaussian_nll)
    model.fit(x, y[:, None], batch_size=200, epochs=40, verbose=0)
    mean, sigma = split_prediction(model.predict(np.eye(2, dtype=np.float32), verbose=0), 1)
    np.testing.assert_allclose(mean[:, 0], true_mean, atol=0.02)
    np.testing.assert_allclose(sigma[:, 0], true_sigma, rtol=0.1)


def test_nll_model_has_a_mean_and_a_log_variance_per_target():
    model = build_cnn((16, 16, 2), 3, [4], [8], 0.0, batch_norm=False, outputs_per_target=2)
    assert model.output_shape == (None, 6)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)


def test_naive_model_is_dense_layers_on_the_flattened_image():
    model = build_dense((16, 16, 1), 7, [32, 16], 0.1)
    assert model.output_shape == (None, 7)
    assert not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers)
    assert model.get_layer("dense1").input.shape == (None, 256)


def test_mse_nll_trains_the_means_by_the_mse_alone_and_the_variance_by_the_nll():
    y_true = np.array([[1.0, 0.0]], dtype=np.float32)
    mean = tf.Variable([[0.5, 2.0]], dtype=tf.float32)  # squared errors 0.25 and 4
    for log_variance in ([[np.log(0.25), np.log(4.0)]], [[-5.0, 3.0]]):
        log_variance = tf.Variable(log_variance, dtype=tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            loss = mse_nll(y_true, tf.concat([mean, log_variance], axis=1))
        # d/dmean of mean((y - m)^2) over 2 targets, whatever the predicted variance.
        np.testing.assert_allclose(tape.gradient(loss, mean).numpy(), [[-0.5, 2.0]], rtol=1e-6)
    variance_gradient = tape.gradient(loss, log_variance).numpy()
    # The variance is pushed towards the squared error: exp(-5) is below 0.25 (the gradient
    # is negative, so descent raises it) and exp(3) = 20 above 4 (lowered).
    assert variance_gradient[0, 0] < 0 and variance_gradient[0, 1] > 0


def test_detached_variance_head_leaves_the_shared_layers_to_the_means():
    keras.utils.set_random_seed(3)
    model = build_cnn((16, 16, 1), 2, [4], [8], 0.0, outputs_per_target=2, detached_variance=True)
    images = np.random.default_rng(0).normal(size=(4, 16, 16, 1)).astype(np.float32)
    shared = model.get_layer("dense1").kernel
    with tf.GradientTape(persistent=True) as tape:
        outputs = model(images)
        means, log_variances = outputs[:, :2], outputs[:, 2:]
        from_means = tf.reduce_sum(means)
        from_variances = tf.reduce_sum(log_variances)
    assert np.abs(tape.gradient(from_means, shared).numpy()).sum() > 0
    assert not np.any(tape.gradient(from_variances, shared).numpy())
    head = model.get_layer("log_variances").kernel
    assert np.abs(tape.gradient(from_variances, head).numpy()).sum() > 0


def test_weighted_mse_nll_weights_the_means_squared_errors_and_not_the_nll():
    y_true = np.array([[1.0, 0.0]], dtype=np.float32)
    prediction = np.array([[0.5, 2.0, 0.0, 0.0]], dtype=np.float32)  # squared errors 0.25, 4
    # MSE (0.5 * 0.25 + 1.5 * 4) / 2 = 3.0625; NLL with log-variance 0: (0.125 + 2) / 2.
    weighted = TargetWeightedLoss("mse_nll", [0.5, 1.5])(y_true, prediction)
    assert float(weighted) == pytest.approx(3.0625 + 1.0625, rel=1e-6)
    equal = TargetWeightedLoss("mse_nll", [1.0, 1.0])(y_true, prediction)
    assert float(equal) == pytest.approx(float(mse_nll(y_true, prediction)[0]), rel=1e-6)
    mse = TargetWeightedLoss("mse", [0.5, 1.5])(y_true, prediction[:, :2])
    assert float(mse) == pytest.approx(3.0625, rel=1e-6)


def test_target_weights_follow_the_targets_and_average_one():
    training = {"targets": ["a", "b", "c", "d"], "target_weights": {"b": 3.0, "d": 3.0}}
    assert target_weights(training) == pytest.approx([0.5, 1.5, 0.5, 1.5])
    assert keras_loss("mse_nll", target_weights(dict(training, target_weights={}))) is mse_nll


def test_a_model_compiled_with_target_weights_saves_and_loads(tmp_path):
    model = build_cnn((16, 16, 1), 2, [4], [8], 0.0, outputs_per_target=2, detached_variance=True)
    model.compile(optimizer="adam", loss=keras_loss("mse_nll", [0.5, 1.5]))
    model.save(tmp_path / "model.keras")
    loaded = load_trained_model(tmp_path / "model.keras")
    assert isinstance(loaded.loss, TargetWeightedLoss)
    assert (loaded.loss.loss, loaded.loss.weights) == ("mse_nll", [0.5, 1.5])
