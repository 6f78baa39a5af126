"""A chunk job saves its lenses in parts and resumes from them, producing identical bytes."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, small_config
from lenspipe.data.chunk_files import read_chunk, write_chunk
from lenspipe.errors import ChunkError
from lenspipe.runs.chunk_job import simulate_chunk
from lenspipe.runs.chunk_work import JOURNAL_FILE, part_path, part_ranges
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator
from lenspipe.versions import cpu_platform
from lenspipe.work_settings import (
    SETTINGS_FILE,
    UNRECORDED,
    changes_since_recorded,
    record_settings,
)

CONFIG = small_config(n_lenses=40, chunk_size=20, checkpoint_every=5)


def run_chunk(config: dict, directory: Path, chunk: int = 1) -> Path:
    path = directory / f"chunk_{chunk:05d}.npz"
    simulate_chunk(
        SimulationSettings.from_config(config),
        chunk,
        path,
        directory / "work",
        config["checkpoint_every"],
    )
    return path


def start_slow_chunk_job(config: dict, directory: Path) -> subprocess.Popen:
    """Run chunk 1 in a separate process, slowed to 0.1 s per lens."""
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(REPO / 'scripts')!r})\n"
        "from lenspipe.runs.chunk_job import simulate_chunk\n"
        "from lenspipe.settings import SimulationSettings\n"
        "config = json.loads(sys.argv[1])\n"
        "simulate_chunk(SimulationSettings.from_config(config), 1, sys.argv[2] + '/chunk_00001.npz', sys.argv[2] + '/work',\n"
        "               config['checkpoint_every'], pause_seconds=0.1)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(config), str(directory)])


def kill_after_parts(process: subprocess.Popen, work_dir: Path, parts: int) -> None:
    deadline = time.monotonic() + 120
    while len(list(work_dir.glob("lenses_*.npz"))) < parts:
        assert process.poll() is None, "the chunk job ended before it was killed"
        assert time.monotonic() < deadline, "the chunk job saved no parts within 120 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_parts_cover_the_chunk_in_order():
    assert part_ranges(range(20, 32), 5) == [range(20, 25), range(25, 30), range(30, 32)]


def test_killed_job_resumes_and_writes_the_same_bytes(tmp_path):
    reference = run_chunk(CONFIG, tmp_path / "reference")

    interrupted = tmp_path / "interrupted"
    kill_after_parts(start_slow_chunk_job(CONFIG, interrupted), interrupted / "work", parts=2)
    assert not (interrupted / "chunk_00001.npz").exists()
    saved = sorted(path.name for path in (interrupted / "work").glob("lenses_*.npz"))
    assert saved[:2] == ["lenses_000000020-000000024.npz", "lenses_000000025-000000029.npz"]

    resumed = run_chunk(CONFIG, interrupted)
    assert resumed.read_bytes() == reference.read_bytes()
    journal = (interrupted / "work" / JOURNAL_FILE).read_text().splitlines()
    assert "0 of 20 lenses already saved" in journal[0]
    assert f"{5 * len(saved)} of 20 lenses already saved" in journal[1]
    assert "finished" in journal[-1]
    assert list((interrupted / "work").iterdir()) == [interrupted / "work" / JOURNAL_FILE]


def test_parts_saved_under_other_settings_are_not_reused(tmp_path):
    other_seed = small_config(n_lenses=40, chunk_size=20, checkpoint_every=5, seed=8)
    kill_after_parts(start_slow_chunk_job(other_seed, tmp_path), tmp_path / "work", parts=1)

    resumed = run_chunk(CONFIG, tmp_path)
    reference = run_chunk(CONFIG, tmp_path / "reference")
    assert resumed.read_bytes() == reference.read_bytes()
    assert "settings changed (seed): removed" in (tmp_path / "work" / JOURNAL_FILE).read_text()


RECORD_DAMAGES = {
    "emptied": lambda record: record.write_text(""),
    "not JSON": lambda record: record.write_text('{"seed": '),
    "not an object": lambda record: record.write_text("[]"),
    "deleted": lambda record: record.unlink(),
}


@pytest.mark.parametrize("damage", RECORD_DAMAGES.values(), ids=RECORD_DAMAGES.keys())
def test_parts_beside_an_unreadable_settings_record_are_not_reused(tmp_path, damage):
    other_seed = small_config(n_lenses=40, chunk_size=20, checkpoint_every=5, seed=8)
    kill_after_parts(start_slow_chunk_job(other_seed, tmp_path), tmp_path / "work", parts=1)
    damage(tmp_path / "work" / SETTINGS_FILE)

    resumed = run_chunk(CONFIG, tmp_path)
    reference = run_chunk(CONFIG, tmp_path / "reference")
    assert resumed.read_bytes() == reference.read_bytes()
    journal = (tmp_path / "work" / JOURNAL_FILE).read_text()
    assert f"settings changed ({UNRECORDED}): removed" in journal


def test_the_settings_record_is_replaced_atomically(tmp_path, monkeypatch):
    record_settings(tmp_path, {"seed": 1})

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        record_settings(tmp_path, {"seed": 2})
    assert changes_since_recorded(tmp_path, {"seed": 1}) == []
    assert list(tmp_path.iterdir()) == [tmp_path / SETTINGS_FILE]


PART_DAMAGES = {
    "truncated": lambda data: data[: len(data) // 3],
    "empty": lambda data: b"",
    "flipped byte in the images": lambda data: data[:3000] + b"\xff" + data[3001:],
    "not an archive": lambda data: b"not a zip archive",
}


@pytest.mark.parametrize("damage", PART_DAMAGES.values(), ids=PART_DAMAGES.keys())
def test_a_damaged_part_is_named_and_simulated_again(tmp_path, damage):
    work = tmp_path / "work"
    part = range(25, 30)
    record_settings(work, SimulationSettings.from_config(CONFIG).record())
    simulator = LensSimulator(SimulationSettings.from_config(CONFIG))
    images, parameters = simulator.simulate_many(part)
    file = part_path(work, part)
    write_chunk(file, np.asarray(part), images, parameters, ["test"], simulator.parameter_names)
    file.write_bytes(damage(file.read_bytes()))

    log = io.StringIO()
    resumed = tmp_path / "chunk_00001.npz"
    simulate_chunk(
        SimulationSettings.from_config(CONFIG),
        1,
        resumed,
        work,
        CONFIG["checkpoint_every"],
        progress=log,
    )
    reference = run_chunk(CONFIG, tmp_path / "reference")
    assert resumed.read_bytes() == reference.read_bytes()
    for record in ((work / JOURNAL_FILE).read_text(), log.getvalue()):
        assert f"discarded unreadable part, simulating it again: {file}" in record


def test_a_damaged_chunk_file_is_never_read_as_other_lenses(tmp_path):
    """Every truncation and every flipped byte of a chunk file either raises ChunkError or,
    where the byte is one no reader uses (a zip timestamp), reads back the same arrays."""
    names = tuple(f"column_{k}" for k in range(5))
    images = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    parameters = np.random.default_rng(1).random((4, 5))
    path = tmp_path / "chunk.npz"
    write_chunk(path, np.arange(4), images, parameters, ["test"], names)
    good = path.read_bytes()
    damaged = [good[:size] for size in range(0, len(good), 11)]
    damaged += [good[:k] + bytes([good[k] ^ 0x10]) + good[k + 1 :] for k in range(len(good))]
    unreadable = 0
    for data in damaged:
        path.write_bytes(data)
        try:
            read_images, read_parameters, _ = read_chunk(path, range(4), (8, 8, 1), names)
        except ChunkError as error:
            assert str(path) in str(error)
            unreadable += 1
        else:
            np.testing.assert_array_equal(read_images, images)
            np.testing.assert_array_equal(read_parameters, parameters)
    assert unreadable > 0.8 * len(damaged)


def test_chunk_file_bytes_do_not_depend_on_when_they_were_written(tmp_path):
    names = tuple(f"column_{k}" for k in range(17))
    arrays = (np.arange(3), np.zeros((3, 4, 4, 1), np.float32), np.ones((3, 17)), ["a"], names)
    write_chunk(tmp_path / "first.npz", *arrays)
    time.sleep(2.1)  # zip timestamps have a resolution of 2 s
    write_chunk(tmp_path / "second.npz", *arrays)
    assert (tmp_path / "first.npz").read_bytes() == (tmp_path / "second.npz").read_bytes()


# Chunk 0 of the small default config with 30 lenses: as lenspipe writes it by default
# (adaptive supersampling, recorded 2026-11-29 by tests/record_default_chunk.py), and with
# pixel-centre rendering (supersampling 1), as lenspipe wrote it by default before, and before
# the lens_system, bands, colours and lensing_cut switches existed (both recorded with
# lenstronomy 1.14.2 and numpy 2.4). Bytes are not compared: floating-point results differ in
# their last bits between processors (an Intel AVX-512 machine and an AMD EPYC write different
# bytes), so the test requires the same lenses to float32 rounding; any real change (another
# draw, another model) moves values by many orders of magnitude more.
RECORDED_CHUNKS = {
    "adaptive": Path(__file__).parent / "data" / "default_chunk_30_lenses.npz",
    1: Path(__file__).parent / "data" / "pixel_centre_chunk_30_lenses.npz",
}


@pytest.mark.parametrize("supersampling", list(RECORDED_CHUNKS))
def test_the_default_config_writes_the_lenses_it_wrote_before(supersampling, tmp_path):
    config = small_config(
        n_lenses=30, chunk_size=30, checkpoint_every=10, image={"supersampling": supersampling}
    )
    path = tmp_path / "chunk.npz"
    simulate_chunk(
        SimulationSettings.from_config(config),
        0,
        path,
        tmp_path / "work",
        config["checkpoint_every"],
    )
    written, recorded = np.load(path), np.load(RECORDED_CHUNKS[supersampling])
    assert written["parameter_names"].tolist() == recorded["parameter_names"].tolist()
    np.testing.assert_array_equal(written["lens_index"], recorded["lens_index"])
    np.testing.assert_allclose(written["parameters"], recorded["parameters"], rtol=1e-9)
    peak = np.abs(recorded["images"]).max()
    np.testing.assert_allclose(written["images"], recorded["images"], rtol=1e-4, atol=1e-6 * peak)


def test_a_quasar_chunk_with_a_cut_resumes_from_its_nan_padded_parts(tmp_path):
    config = small_config(
        n_lenses=40,
        chunk_size=20,
        checkpoint_every=5,
        lens_system={"point_source": True},
        lensing_cut={"min_source_magnification": 6.0},
    )
    saved = tmp_path / "resumed" / "work"
    record_settings(saved, SimulationSettings.from_config(config).record())
    simulator = LensSimulator(SimulationSettings.from_config(config))
    part = range(25, 30)
    images, parameters = simulator.simulate_many(part)
    assert np.isnan(parameters).any()  # quasars with fewer than 4 images
    write_chunk(
        part_path(saved, part),
        np.asarray(part),
        images,
        parameters,
        [cpu_platform()],
        simulator.parameter_names,
    )

    resumed = run_chunk(config, tmp_path / "resumed")
    reference = run_chunk(config, tmp_path / "reference")
    assert resumed.read_bytes() == reference.read_bytes()
    assert "5 of 20 lenses already saved" in (saved / JOURNAL_FILE).read_text()


def test_a_chunk_records_every_processor_type_that_made_its_lenses(tmp_path):
    """A chunk resumed from a part saved on another node type says so: same lenses, but its
    platforms (and so its bytes) name both processors."""
    work = tmp_path / "work"
    part = range(25, 30)
    simulator = LensSimulator(SimulationSettings.from_config(CONFIG))
    images, parameters = simulator.simulate_many(part)
    other = "aarch64 Other processor"
    file = part_path(work, part)
    record_settings(work, SimulationSettings.from_config(CONFIG).record())
    write_chunk(file, np.asarray(part), images, parameters, [other], simulator.parameter_names)

    resumed = run_chunk(CONFIG, tmp_path)
    reference = run_chunk(CONFIG, tmp_path / "reference")
    shape, names = (32, 32, 1), simulator.parameter_names
    assert read_chunk(resumed, range(20, 40), shape, names)[2] == sorted([cpu_platform(), other])
    assert read_chunk(reference, range(20, 40), shape, names)[2] == [cpu_platform()]
    with np.load(resumed) as got, np.load(reference) as expected:
        for key in ("lens_index", "images", "parameters", "parameter_names"):
            np.testing.assert_array_equal(got[key], expected[key])
    assert f"(platform: {cpu_platform()})" in (work / JOURNAL_FILE).read_text()
