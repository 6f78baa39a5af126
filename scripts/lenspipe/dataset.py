"""Batches that stream from the zarr store into ``Model.fit``.

``LensBatches`` is a ``keras.utils.PyDataset``: Keras asks it for batch ``b`` and it reads only
those images from disk, so a store larger than memory trains. Each batch comes from one or two
neighbouring store chunks, which keeps reads large and sequential; as every lens is an
independent draw from the priors, neighbouring lenses are as random a sample as any. The order
of the chunks and of the lenses inside them is reshuffled every epoch from the seed. Workers
are threads (zarr runs its own event loop in a background thread, which forked processes
would not inherit).
"""

from pathlib import Path

import keras
import numpy as np

from lenspipe import seeding
from lenspipe.normalise import Normalisation
from lenspipe.store import open_store, read_parameters


class LensBatches(keras.utils.PyDataset):
    """(scaled images, scaled targets) batches of the lenses ``indices`` of a store."""

    def __init__(
        self,
        store_path: str | Path,
        indices: np.ndarray,
        normalisation: Normalisation,
        batch_size: int,
        shuffle_seed: int | None = None,
        workers: int = 2,
        **kwargs,
    ):
        super().__init__(workers=workers, use_multiprocessing=False, **kwargs)
        root = open_store(store_path)
        self._images = root["images"]
        self._indices = np.sort(np.asarray(indices))
        self._targets = normalisation.transform_targets(
            read_parameters(root, normalisation.targets)[self._indices]
        )
        self._normalisation = normalisation
        self._batch_size = batch_size
        self._shuffle_seed = shuffle_seed
        self._epoch = 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        if self._shuffle_seed is None:
            return self._indices
        rng = seeding.stream(self._shuffle_seed, seeding.TRAINING, self._epoch)
        store_chunk = self._indices // self._images.chunks[0]
        chunk_order = rng.permutation(np.unique(store_chunk))
        return np.concatenate(
            [rng.permutation(self._indices[store_chunk == chunk]) for chunk in chunk_order]
        )

    def __len__(self) -> int:
        return -(-len(self._indices) // self._batch_size)

    def lens_indices(self, batch: int) -> np.ndarray:
        """Lens indices of batch number ``batch`` in the current epoch."""
        return self._order[batch * self._batch_size : (batch + 1) * self._batch_size]

    def __getitem__(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        lenses = self.lens_indices(batch)
        order = np.argsort(lenses)
        images = np.empty((len(lenses), *self._images.shape[1:]), dtype=np.float32)
        images[order] = self._images.oindex[lenses[order]]
        rows = np.searchsorted(self._indices, lenses)
        return self._normalisation.image.transform(images), self._targets[rows]

    def on_epoch_end(self) -> None:
        self._epoch += 1
        self._order = self._epoch_order()
