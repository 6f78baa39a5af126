"""Worker processes for the CPU-bound jobs that fit lenses (the fit baseline, the refinement).

They are spawned, not forked (the parent's zarr runs an asyncio loop in a thread), one per core
the job was given, and each runs on one BLAS thread: NumPy's OpenBLAS would otherwise start a
thread for every core of the machine in each worker and oversubscribe the job's cores (on 2
cores this made a refinement three times as slow).
"""

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from threadpoolctl import threadpool_limits


@contextmanager
def worker_map(
    initializer: Callable[..., None], initargs: tuple, workers: int
) -> Iterator[Callable]:
    """A ``map`` over ``workers`` processes, each set up by ``initializer(*initargs)``; for one
    worker, the built-in ``map`` in this process (set up the same way)."""
    if workers == 1:
        with threadpool_limits(1):
            initializer(*initargs)
            yield map
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_on_one_blas_thread,
        initargs=(initializer, *initargs),
    ) as pool:
        yield pool.map


def _on_one_blas_thread(initializer: Callable[..., None], *initargs: Any) -> None:
    threadpool_limits(1)
    initializer(*initargs)
