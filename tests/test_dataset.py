"""LensBatches: streaming batches from the store, each training lens once per epoch."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import fit_small_normalisation
from lenspipe.data.augment import N_TRANSFORMS, sky_matrix, transform_image, transform_parameters
from lenspipe.data.dataset import LensBatches, flip_and_rotate
from lenspipe.data.normalise import fit_normalisation
from lenspipe.data.store import open_store, read_parameters


def _epoch(batches: LensBatches, epoch: int = 0) -> list[np.ndarray]:
    return [batches.lens_indices(batch, epoch) for batch in range(len(batches))]


def test_each_epoch_visits_every_lens_once_in_a_new_seeded_order(small_store):
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    train = subsets["train"]
    batches = LensBatches(store, train, normalisation, batch_size=16, shuffle_seed=5)
    first = _epoch(batches)
    assert len(first) == -(-len(train) // 16)
    assert np.array_equal(np.sort(np.concatenate(first)), train)
    second = _epoch(batches, epoch=1)
    assert np.array_equal(np.sort(np.concatenate(second)), train)
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    replay = LensBatches(store, train, normalisation, batch_size=16, shuffle_seed=5)
    assert np.array_equal(np.concatenate(_epoch(replay)), np.concatenate(first))


def test_batches_hold_the_scaled_images_and_targets_of_their_lenses(small_store):
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    batches = LensBatches(store, subsets["train"], normalisation, batch_size=16, shuffle_seed=5)
    root = open_store(store)
    for batch in (0, len(batches) - 1):
        images, targets = batches.batch(batch)
        lenses = batches.lens_indices(batch)
        assert images.shape == (len(lenses), 32, 32, 1) and images.dtype == np.float32
        assert targets.shape == (len(lenses), len(normalisation.targets))
        expected_images = normalisation.image.transform(root["images"].oindex[lenses])
        expected_targets = normalisation.transform_targets(
            read_parameters(root, normalisation.targets)[lenses]
        )
        assert np.array_equal(images, expected_images)
        assert np.array_equal(targets, expected_targets)


def test_unshuffled_batches_keep_lens_order(small_store):
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    batches = LensBatches(store, subsets["test"], normalisation, batch_size=4)
    assert np.array_equal(np.concatenate(_epoch(batches)), subsets["test"])


def test_tf_dataset_streams_the_same_batches(small_store):
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    batches = LensBatches(store, subsets["train"], normalisation, batch_size=16, shuffle_seed=5)
    steps = len(batches)
    streamed = list(batches.as_dataset().take(steps + 1).as_numpy_iterator())
    for step, (images, targets) in enumerate(streamed):  # one epoch and the next one's start
        epoch, batch = divmod(step, steps)
        expected_images, expected_targets = batches.batch(batch, epoch)
        assert np.array_equal(images, expected_images)
        assert np.array_equal(targets, expected_targets)
    # Autotuning off: with it on, the end of fit sometimes sat idle for up to 50 s.
    assert batches.as_dataset().options().autotune.enabled is False
    validation = LensBatches(store, subsets["validation"], normalisation, batch_size=4)
    targets = np.concatenate([batch[1] for batch in validation.as_dataset().as_numpy_iterator()])
    expected = normalisation.transform_targets(
        read_parameters(open_store(store), normalisation.targets)[subsets["validation"]]
    )
    assert np.array_equal(targets, expected)


def test_augmented_batches_hold_a_transformed_image_and_its_transformed_targets(small_store):
    config, store, _, _ = small_store
    settings = config["normalisation"]
    # lens_e1 without lens_e2 among the targets: its partner comes from the store.
    targets = ["lens_e1", "lens_theta_E", "shear_gamma2"]
    subsets, normalisation = fit_normalisation(
        store, targets, settings["split"], config["seed"], settings["image_stretch"], 1.0
    )
    pix2angle = np.diag([0.2, 0.2])
    batches = LensBatches(
        store, subsets["train"], normalisation, 16, shuffle_seed=5, pix2angle=pix2angle
    )
    root = open_store(store)
    images, scaled = batches.batch(1, epoch=2)
    lenses = batches.lens_indices(1, epoch=2)
    columns = [*targets, "lens_e2", "shear_gamma1"]
    physical = read_parameters(root, columns)[lenses]
    originals = normalisation.image.transform(root["images"].oindex[lenses])
    used = []
    for lens in range(len(lenses)):
        matches = [
            t
            for t in range(N_TRANSFORMS)
            if np.array_equal(images[lens], transform_image(originals[lens], t))
        ]
        moved = transform_parameters(
            physical[lens][None], columns, sky_matrix(matches[0], pix2angle)
        )
        np.testing.assert_allclose(
            scaled[lens], normalisation.transform_targets(moved[:, :3])[0], rtol=1e-6
        )
        used.append(matches[0])
    assert len(set(used)) > 2
    again, _ = batches.batch(1, epoch=2)
    assert np.array_equal(images, again)  # the draws are seeded


def test_a_subset_read_into_memory_gives_the_batches_streamed_from_the_store(
    small_store, monkeypatch
):
    from lenspipe.data import dataset

    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    arguments = (store, subsets["train"], normalisation, 8)
    options = {"shuffle_seed": 3, "pix2angle": np.diag([0.2, 0.2])}
    in_memory = LensBatches(*arguments, **options)
    monkeypatch.setattr(dataset, "IN_MEMORY_BYTES", 0)
    streamed = LensBatches(*arguments, **options)
    monkeypatch.undo()
    read_once = LensBatches(*arguments, **options, read_into_memory=False)
    assert in_memory._in_memory is not None
    assert streamed._in_memory is None and read_once._in_memory is None
    for epoch in (0, 1):
        for batch in range(len(in_memory)):
            expected = in_memory.batch(batch, epoch)
            for other in (streamed, read_once):
                for ours, theirs in zip(expected, other.batch(batch, epoch)):
                    np.testing.assert_array_equal(ours, theirs)
    # Augmenting batches leaves the images held in memory as they were read.
    read = open_store(store)["images"].oindex[np.sort(subsets["train"])]
    held = in_memory._in_memory.numpy().reshape(read.shape)
    np.testing.assert_array_equal(held, normalisation.image.transform(read))


@pytest.mark.parametrize("held", [True, False], ids=["in_memory", "streamed"])
def test_the_augmented_tf_dataset_gives_the_batches_of_batch(small_store, held):
    """tf.data gathers and transforms in-memory images in TensorFlow, streamed ones after a
    read in Python: both give exactly the batches of ``batch``, epoch after epoch."""
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    batches = LensBatches(
        store,
        subsets["train"],
        normalisation,
        8,
        shuffle_seed=3,
        pix2angle=np.diag([0.2, 0.2]),
        read_into_memory=held,
    )
    assert (batches._in_memory is not None) == held
    steps = len(batches)
    streamed = batches.as_dataset(first_epoch=1).take(steps + 2).as_numpy_iterator()
    for step, made in enumerate(streamed, start=steps):
        epoch, batch = divmod(step, steps)
        for ours, expected in zip(made, batches.batch(batch, epoch)):
            np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("bands", [1, 2])
def test_tensorflow_flips_and_rotates_each_image_as_the_augmentation_defines(bands):
    images = np.random.default_rng(0).normal(size=(20, 6, 6, bands)).astype(np.float32)
    transforms = np.array([*range(N_TRANSFORMS), *range(N_TRANSFORMS), 3, 3, 0, 7], np.int32)
    made = flip_and_rotate(tf.constant(images), tf.constant(transforms)).numpy()
    for image, transform, ours in zip(images, transforms, made):
        np.testing.assert_array_equal(ours, transform_image(image, transform))
