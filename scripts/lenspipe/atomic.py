"""Write outputs under a temporary name and rename them into place.

A killed job therefore never leaves a file or folder that looks finished, and the temporary
it leaves is removed by the next attempt to write that output.
"""

import contextlib
import glob
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _temporary_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    Works for files and folders. On an exception the temporary is removed and ``path`` is
    left as it was. An existing ``path`` is never overwritten.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: refusing to overwrite an existing output")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    temporary = _temporary_sibling(path)
    try:
        yield temporary
        os.rename(temporary, path)
    finally:
        _remove(temporary)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of ``path`` that killed writers left (``.<name>.tmp-<pid>``):
    one output has one writer at a time, so any that is there now is stale."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
        _remove(stale)


def unused_name(path: str | Path) -> Path:
    """``path`` if nothing is there, else the first free ``stem.1.suffix``, ``stem.2.suffix``...
    beside it: for setting a file or folder aside without overwriting an earlier one."""
    path = Path(path)
    candidate, copy = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{copy}{path.suffix}")
        copy += 1
    return candidate


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path``, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2) + "\n")


def replace_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path``, replacing what is there, by renaming a temporary file into
    place: a reader sees the old text or the new, never a part of it."""
    path = Path(path)
    _remove_stale_temporaries(path)
    temporary = _temporary_sibling(path)
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        _remove(temporary)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
