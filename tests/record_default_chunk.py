"""Record tests/data/default_chunk_30_lenses.npz: chunk 0 of the small default config with
30 lenses, as test_chunk_job.py's recorded-lens test makes it. Run it only when the default
images are meant to change (and say so in the README; keep the file it replaces, as
pixel_centre_chunk_30_lenses.npz keeps the images of supersampling 1, the default until
2026-11-29):

    PYTHONPATH=scripts python tests/record_default_chunk.py
"""

import shutil
import tempfile
from pathlib import Path

from conftest import small_config
from lenspipe.runs.chunk_job import simulate_chunk
from lenspipe.settings import SimulationSettings

RECORDED = Path(__file__).parent / "data" / "default_chunk_30_lenses.npz"


def record() -> None:
    config = small_config(n_lenses=30, chunk_size=30, checkpoint_every=10)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chunk.npz"
        simulate_chunk(
            SimulationSettings.from_config(config),
            0,
            path,
            Path(folder) / "work",
            config["checkpoint_every"],
        )
        shutil.copyfile(path, RECORDED)


if __name__ == "__main__":
    record()
