"""Batches that stream from the zarr store into ``Model.fit``.

``LensBatches`` reads only the images of the batch asked for, so a store larger than memory
trains; a subset read every epoch (``read_into_memory``, as training reads its training and
validation subsets) whose images take at most ``IN_MEMORY_BYTES`` is read into memory once
instead, scaled once, and its batches are cut from there (the same values, without
decompressing and scaling the images again every epoch). A subset read once (a prediction)
streams: its memory does not grow with its lenses. Each batch comes from one or two
neighbouring store chunks,
which keeps reads large and sequential; as every lens is an independent draw from the priors,
neighbouring lenses are as random a sample as any. The order of the chunks and of the lenses inside them is reshuffled
every epoch from the seed.

``as_dataset`` wraps the reads in a ``tf.data`` pipeline that reads the next batches in
TensorFlow's threads while the model trains on the current one. (We measured Keras's
``PyDataset`` on this 2-core machine: its worker queue spent almost a core in the kernel and
fed the same model at about half the speed.) Threads, not forked processes, also suit zarr,
which runs its own event loop in a background thread.

With ``pix2angle`` (lenstronomy's pixel-to-angle matrix of the images), each training image
is flipped or rotated by one of the 8 transforms of ``lenspipe.data.augment``, drawn per lens from
the seed, epoch and batch, and its targets are transformed to match (positions, ellipticities
and shears; the partner of a pair that is not a target is read from the store for this).
"""

import functools
from pathlib import Path

import numpy as np
import tensorflow as tf
from lenspipe import seeding
from lenspipe.data.augment import (
    N_TRANSFORMS,
    sky_matrix,
    transform_image,
    transform_parameters,
    with_partners,
)
from lenspipe.data.normalise import Normalisation
from lenspipe.data.store import open_store, read_parameters

IN_MEMORY_BYTES = 2 * 1024**3
"""The largest subset, in bytes of images, that is read into memory once rather than batch by
batch (the 80,000 training images of the 100k production run take 1.3 GB)."""


class LensBatches:
    """(scaled images, scaled targets) batches of the lenses ``indices`` of a store."""

    def __init__(
        self,
        store_path: str | Path,
        indices: np.ndarray,
        normalisation: Normalisation,
        batch_size: int,
        shuffle_seed: int | None = None,
        pix2angle: np.ndarray | None = None,
        read_into_memory: bool = True,
    ):
        root = open_store(store_path)
        self._images = root["images"]
        self._indices = np.sort(np.asarray(indices))
        image_bytes = np.prod(self._images.shape[1:]) * np.dtype(np.float32).itemsize
        self._in_memory = (
            self._read_scaled(normalisation)
            if read_into_memory and len(self._indices) * image_bytes <= IN_MEMORY_BYTES
            else None
        )
        self._targets = normalisation.transform_targets(
            read_parameters(root, normalisation.targets)[self._indices]
        )
        self._normalisation = normalisation
        self._batch_size = batch_size
        self._shuffle_seed = shuffle_seed
        self._sky_matrices = None
        if pix2angle is not None:
            if shuffle_seed is None:
                raise ValueError("augmentation needs a shuffle_seed to draw the transforms")
            self._columns = with_partners(normalisation.targets)
            self._physical = read_parameters(root, self._columns)[self._indices]
            self._sky_matrices = [sky_matrix(t, pix2angle) for t in range(N_TRANSFORMS)]

    def _read_scaled(self, normalisation: Normalisation) -> np.ndarray:
        """The subset's images, scaled once (the pixel scaling commutes with the flips and
        rotations), read block by block so that no temporary is the subset's size."""
        scaled = np.empty((len(self._indices), *self._images.shape[1:]), dtype=np.float32)
        block = 16 * self._images.chunks[0]
        for start in range(0, len(self._indices), block):
            lenses = self._indices[start : start + block]
            scaled[start : start + len(lenses)] = normalisation.image.transform(
                self._images.oindex[lenses]
            )
        return scaled

    def __len__(self) -> int:
        return -(-len(self._indices) // self._batch_size)

    @functools.lru_cache(maxsize=2)
    def _epoch_order(self, epoch: int) -> np.ndarray:
        if self._shuffle_seed is None:
            return self._indices
        rng = seeding.stream(self._shuffle_seed, seeding.TRAINING, epoch)
        store_chunk = self._indices // self._images.chunks[0]
        chunk_order = rng.permutation(np.unique(store_chunk))
        return np.concatenate(
            [rng.permutation(self._indices[store_chunk == chunk]) for chunk in chunk_order]
        )

    def lens_indices(self, batch: int, epoch: int = 0) -> np.ndarray:
        """Lens indices of batch number ``batch`` of epoch ``epoch``."""
        start = batch * self._batch_size
        return self._epoch_order(epoch)[start : start + self._batch_size]

    def batch(self, batch: int, epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Read batch number ``batch`` of epoch ``epoch``: scaled images and targets."""
        lenses = self.lens_indices(batch, epoch)
        rows = np.searchsorted(self._indices, lenses)
        if self._in_memory is not None:
            images = self._in_memory[rows]
        else:
            order = np.argsort(lenses)
            images = np.empty((len(lenses), *self._images.shape[1:]), dtype=np.float32)
            images[order] = self._images.oindex[lenses[order]]
            images = self._normalisation.image.transform(images)
        if self._sky_matrices is None:
            return images, self._targets[rows]
        return self._augmented(images, rows, batch, epoch)

    def _augmented(
        self, images: np.ndarray, rows: np.ndarray, batch: int, epoch: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The scaled batch with each lens flipped or rotated, and its targets to match."""
        rng = seeding.stream(self._shuffle_seed, seeding.AUGMENTATION, epoch, batch)
        transforms = rng.integers(0, N_TRANSFORMS, len(rows))
        physical = self._physical[rows]
        for transform in np.unique(transforms):
            chosen = transforms == transform
            images[chosen] = transform_image(images[chosen], transform)
            physical[chosen] = transform_parameters(
                physical[chosen], self._columns, self._sky_matrices[transform]
            )
        k = len(self._normalisation.targets)
        return images, self._normalisation.transform_targets(physical[:, :k])

    def as_dataset(self, first_epoch: int = 0, parallel_batches: int = 2) -> tf.data.Dataset:
        """A ``tf.data`` pipeline of the batches, read ahead in background threads.

        Unshuffled: one pass in lens order (for validation and prediction). Shuffled: an
        endless stream, epoch after epoch from ``first_epoch`` (a resumed training's), each in
        its own order; give ``fit`` the ``steps_per_epoch=len(self)``. ``parallel_batches``
        batches are made at once, and as many more are read ahead.

        tf.data's autotuning is off: the parallelism and read-ahead are fixed here, and with it
        on, the end of ``fit`` sometimes sat idle for 5 to 50 s while the iterator waited for
        a background thread of tf.data (TensorFlow 2.21: 4 of 23 short trainings here, none of
        14 with it off).
        """
        steps = len(self)

        def read(step: np.int64) -> tuple[np.ndarray, np.ndarray]:
            epoch, batch = divmod(int(step), steps)
            return self.batch(batch, epoch)

        image_shape = (None, *self._images.shape[1:])
        target_shape = (None, self._targets.shape[1])

        def read_in_graph(step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            images, targets = tf.numpy_function(read, [step], (tf.float32, tf.float32))
            return tf.ensure_shape(images, image_shape), tf.ensure_shape(targets, target_shape)

        steps_dataset = (
            tf.data.Dataset.range(steps)
            if self._shuffle_seed is None
            else tf.data.Dataset.counter(start=first_epoch * steps)
        )
        options = tf.data.Options()
        options.autotune.enabled = False
        pipeline = steps_dataset.map(read_in_graph, num_parallel_calls=parallel_batches)
        pipeline = pipeline.prefetch(parallel_batches)
        return pipeline.with_options(options)
