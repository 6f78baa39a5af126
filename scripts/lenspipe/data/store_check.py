"""Checking the run's zarr store against the CRC-32C checksum of each stored chunk.

Every array of the store ends its codec chain with zarr's ``crc32c`` codec, so each chunk file
carries the checksum of its (compressed) bytes in its last 4 bytes, and zarr checks it on
every read. ``damaged_chunks`` checks them all without decompressing anything (about 1 GB/s),
so a damaged store is named before a job reads it rather than part-way through a training,
and the status command can say so.
"""

import json
from pathlib import Path

import google_crc32c
from lenspipe.errors import StoreError

CHECKSUM_BYTES = 4


def _checksummed_arrays(store_path: Path) -> list[Path] | None:
    """The store's array folders, or None if any was written without checksums (a store of a
    lenspipe from before checksums)."""
    arrays = []
    for metadata in sorted(store_path.glob("*/zarr.json")):
        record = json.loads(metadata.read_text())
        if record.get("node_type") != "array":
            continue
        if record["codecs"][-1]["name"] != "crc32c":
            return None
        arrays.append(metadata.parent)
    return arrays


def damaged_chunks(store_path: str | Path) -> list[str] | None:
    """The chunk files (relative to the store) whose checksum does not match their bytes;
    None for a store written without checksums."""
    store_path = Path(store_path)
    arrays = _checksummed_arrays(store_path)
    if arrays is None:
        return None
    damaged = []
    for array in arrays:
        for chunk in sorted(path for path in (array / "c").rglob("*") if path.is_file()):
            data = chunk.read_bytes()
            stored = int.from_bytes(data[-CHECKSUM_BYTES:], "little")
            if len(data) < CHECKSUM_BYTES or google_crc32c.value(data[:-CHECKSUM_BYTES]) != stored:
                damaged.append(str(chunk.relative_to(store_path)))
    return damaged


def check_store(store_path: str | Path) -> None:
    """Raise ``StoreError`` naming the store and its damaged chunk files, if any."""
    damaged = damaged_chunks(store_path)
    if damaged:
        shown = ", ".join(damaged[:5]) + (
            f" and {len(damaged) - 5} more" if len(damaged) > 5 else ""
        )
        raise StoreError(
            f"{store_path}: {len(damaged)} chunk files fail their checksum ({shown}): the store "
            "is damaged. Delete it and rerun the same snakemake command, which consolidates it "
            "again from the simulated chunks."
        )
