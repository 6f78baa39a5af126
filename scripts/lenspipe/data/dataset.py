"""Batches that stream from the zarr store into ``Model.fit``.

``LensBatches`` reads only the images of the batch asked for, so a store larger than memory
trains; a subset read every epoch (``read_into_memory``, as training reads its training and
validation subsets) whose images take at most ``IN_MEMORY_BYTES`` is read into memory once
instead, scaled once, and its batches are cut from there (the same values, without
decompressing and scaling the images again every epoch). A subset read once (a prediction)
streams: its memory does not grow with its lenses. Each batch comes from one or two
neighbouring store chunks, which keeps reads large and sequential; as every lens is an
independent draw from the priors, neighbouring lenses are as random a sample as any. The order
of the chunks and of the lenses inside them is reshuffled every epoch from the seed.

``as_dataset`` makes the next batches in TensorFlow's threads while the model trains on the
current one. (We measured Keras's ``PyDataset`` on this 2-core machine: its worker queue spent
almost a core in the kernel and fed the same model at about half the speed.) Threads, not
forked processes, also suit zarr, which runs its own event loop in a background thread.

With ``pix2angle`` (lenstronomy's pixel-to-angle matrix of the images), each training image
is flipped or rotated by one of the 8 transforms of ``lenspipe.data.augment``, drawn per lens
from the seed, epoch and batch, and its targets are transformed to match (positions,
ellipticities and shears; the partner of a pair that is not a target is read from the store
for this). Every lens's targets under all 8 transforms are computed once, at the start.
"""

import functools
from pathlib import Path

import numpy as np
import tensorflow as tf
from lenspipe import seeding
from lenspipe.data.augment import (
    N_TRANSFORMS,
    sky_matrix,
    transform_parameters,
    with_partners,
)
from lenspipe.data.normalise import Normalisation
from lenspipe.data.store import open_store, read_parameters

IN_MEMORY_BYTES = 2 * 1024**3
"""The largest subset, in bytes of images, that is read into memory once rather than batch by
batch (the 80,000 training images of the 100k production run take 1.3 GB)."""


def _transform_image(images: tf.Tensor, transform: int) -> tf.Tensor:
    """``augment.transform_image`` in TensorFlow, for one transform of a batch whose pixel
    axes are 1 and 2: (N, H, W) or (N, H, W, C)."""
    if transform >= 4:
        images = tf.reverse(images, [2])
    swapped = [0, 2, 1, *range(3, len(images.shape))]
    quarter_turns = transform % 4
    if quarter_turns == 1:
        return tf.reverse(tf.transpose(images, swapped), [1])
    if quarter_turns == 2:
        return tf.reverse(images, [1, 2])
    if quarter_turns == 3:
        return tf.reverse(tf.transpose(images, swapped), [2])
    return images


def flip_and_rotate(images: tf.Tensor, transforms: tf.Tensor) -> tf.Tensor:
    """Images (N, H, W, C) each transformed by its transform of ``transforms`` (N,) in
    0..7: the batch is split by transform, each part transformed at once, and the images put
    back in their places (TensorFlow's kernels, outside Python's global lock). One band is
    transformed as (N, H, W): TensorFlow's kernels move whole pixels about twice as fast
    without a trailing axis of length 1."""
    one_band = images.shape[-1] == 1
    pixels = images[..., 0] if one_band else images
    transforms = tf.reshape(transforms, [-1])  # of known rank, as dynamic_partition needs
    places = tf.dynamic_partition(tf.range(tf.shape(transforms)[0]), transforms, N_TRANSFORMS)
    parts = tf.dynamic_partition(pixels, transforms, N_TRANSFORMS)
    moved = [_transform_image(part, transform) for transform, part in enumerate(parts)]
    stitched = tf.dynamic_stitch(places, moved)
    return stitched[..., None] if one_band else stitched


def batches_in_flight(threads: int) -> int:
    """How many batches the feed of a job with ``threads`` threads makes at once: two a
    thread. Python makes a short part of each batch under its global lock; with more batches
    in flight than threads, TensorFlow's part of the others goes on meanwhile (on 2 cores, 4
    at once fed about a fifth more than 2)."""
    return 2 * max(1, threads)


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
        if pix2angle is not None and shuffle_seed is None:
            raise ValueError("augmentation needs a shuffle_seed to draw the transforms")
        root = open_store(store_path)
        self._images = root["images"]
        self._indices = np.sort(np.asarray(indices))
        self._normalisation = normalisation
        self._batch_size = batch_size
        self._shuffle_seed = shuffle_seed
        self._image_shape = self._images.shape[1:]
        image_bytes = np.prod(self._image_shape) * np.dtype(np.float32).itemsize
        self._in_memory = (
            self._read_scaled()
            if read_into_memory and len(self._indices) * image_bytes <= IN_MEMORY_BYTES
            else None
        )
        self._augmented = pix2angle is not None
        self._targets = self._scaled_targets(root, pix2angle)

    def _read_scaled(self) -> tf.Variable:
        """The subset's images, scaled once (the pixel scaling commutes with the flips and
        rotations), in a CPU variable that ``tf.data`` gathers batches from by reference,
        outside Python's global lock. Read block by block; the variable is copied from the
        one array they fill, so the peak is twice the subset's images, and then once."""
        scaled = np.empty((len(self._indices), *self._image_shape), dtype=np.float32)
        block = 16 * self._images.chunks[0]
        for start in range(0, len(self._indices), block):
            lenses = self._indices[start : start + block]
            scaled[start : start + len(lenses)] = self._read_lenses(lenses)
        with tf.device("/CPU:0"):
            return tf.Variable(scaled, trainable=False)

    def _read_lenses(self, lenses: np.ndarray) -> np.ndarray:
        """Scaled images of the sorted store indices ``lenses``."""
        return self._normalisation.image.transform(self._images.oindex[lenses])

    def _scaled_targets(self, root, pix2angle: np.ndarray | None) -> np.ndarray:
        """(transforms, lenses, targets): the scaled targets of every lens under each of the
        8 transforms of the sky (only the identity without ``pix2angle``). Computed once: a
        lens's targets then never depend on the batch it comes in."""
        names = self._normalisation.targets
        if pix2angle is None:
            physical = read_parameters(root, names)[self._indices]
            return self._normalisation.transform_targets(physical)[None]
        columns = with_partners(names)
        physical = read_parameters(root, columns)[self._indices]
        moved = (
            transform_parameters(physical, columns, sky_matrix(t, pix2angle))[:, : len(names)]
            for t in range(N_TRANSFORMS)
        )
        return np.stack([self._normalisation.transform_targets(values) for values in moved])

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

    def _plan(self, batch: int, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows (in the subset) of a batch's lenses, the transform drawn for each (0,
        the identity, without augmentation) and their scaled targets under it."""
        rows = np.searchsorted(self._indices, self.lens_indices(batch, epoch))
        if self._augmented:
            rng = seeding.stream(self._shuffle_seed, seeding.AUGMENTATION, epoch, batch)
            transforms = rng.integers(0, N_TRANSFORMS, len(rows)).astype(np.int32)
        else:
            transforms = np.zeros(len(rows), dtype=np.int32)
        return rows, transforms, self._targets[transforms, rows]

    def _streamed(self, batch: int, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A batch read from the store: its scaled images, transforms and targets."""
        rows, transforms, targets = self._plan(batch, epoch)
        lenses = self._indices[rows]
        order = np.argsort(lenses)
        images = np.empty((len(lenses), *self._image_shape), dtype=np.float32)
        images[order] = self._read_lenses(lenses[order])
        return images, transforms, targets

    def _transformed(self, images: tf.Tensor, transforms: tf.Tensor) -> tf.Tensor:
        """The images, each flipped or rotated by its transform when augmenting."""
        return flip_and_rotate(images, transforms) if self._augmented else images

    def batch(self, batch: int, epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Read batch number ``batch`` of epoch ``epoch``: scaled images and targets."""
        if self._in_memory is not None:
            rows, transforms, targets = self._plan(batch, epoch)
            images = tf.gather(self._in_memory, rows)
        else:
            images, transforms, targets = self._streamed(batch, epoch)
        return np.asarray(self._transformed(images, transforms)), targets

    def as_dataset(self, first_epoch: int = 0, parallel_batches: int = 2) -> tf.data.Dataset:
        """A ``tf.data`` pipeline of the batches, made in background threads.

        Unshuffled: one pass in lens order (for validation and prediction). Shuffled: an
        endless stream, epoch after epoch from ``first_epoch`` (a resumed training's), each in
        its own order; give ``fit`` the ``steps_per_epoch=len(self)``. ``parallel_batches``
        batches are made at once, and as many more are read ahead.

        Python draws only each batch's lenses and transforms; for a subset held in memory the
        images are gathered and transformed by TensorFlow, outside Python's global lock. A
        subset read from the store (too large to hold) is read in Python.

        tf.data's autotuning is off: the parallelism and read-ahead are fixed here, and with it
        on, the end of ``fit`` sometimes sat idle for 5 to 50 s while the iterator waited for
        a background thread of tf.data (TensorFlow 2.21: 4 of 23 short trainings here, none of
        14 with it off).
        """
        steps = len(self)
        in_memory = self._in_memory is not None
        target_shape = (None, self._targets.shape[-1])

        def planned(step: np.int64) -> tuple[np.ndarray, ...]:
            epoch, batch = divmod(int(step), steps)
            return (self._plan if in_memory else self._streamed)(batch, epoch)

        def make(step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            # Python gives the rows of the images held in memory, or the images it read.
            kind = tf.int64 if in_memory else tf.float32
            given, transforms, targets = tf.numpy_function(
                planned, [step], (kind, tf.int32, tf.float32)
            )
            images = tf.gather(self._in_memory, given) if in_memory else given
            shape = (None, *self._image_shape)
            images = self._transformed(tf.ensure_shape(images, shape), transforms)
            images = tf.ensure_shape(images, shape)
            return images, tf.ensure_shape(targets, target_shape)

        steps_dataset = (
            tf.data.Dataset.range(steps)
            if self._shuffle_seed is None
            else tf.data.Dataset.counter(start=first_epoch * steps)
        )
        options = tf.data.Options()
        options.autotune.enabled = False
        pipeline = steps_dataset.map(make, num_parallel_calls=parallel_batches)
        pipeline = pipeline.prefetch(parallel_batches)
        return pipeline.with_options(options)
