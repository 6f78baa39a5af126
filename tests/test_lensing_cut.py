"""The lensing cut: applied to every lens, redrawn deterministically, and counted."""

import io

import numpy as np
import pytest
from conftest import build_store, small_config
from lenspipe import seeding
from lenspipe.data.store import open_store
from lenspipe.errors import SimulationError
from lenspipe.runs.chunk_job import simulate_chunk
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator

THRESHOLD = 6.0
CUT = {"lensing_cut": {"min_source_magnification": THRESHOLD}}


def _column(simulator: LensSimulator, parameters: np.ndarray, name: str) -> np.ndarray:
    return parameters[..., simulator.parameter_names.index(name)]


def test_every_kept_lens_passes_the_cut_and_some_draws_were_rejected():
    simulator = LensSimulator(SimulationSettings.from_config(small_config(**CUT)))
    _, parameters = simulator.simulate_many(range(40))
    assert (_column(simulator, parameters, "source_magnification") >= THRESHOLD).all()
    assert (_column(simulator, parameters, "arc_snr") > 0).all()
    assert _column(simulator, parameters, "rejected_draws").sum() > 0


def test_a_rejected_lens_is_redrawn_from_the_stream_of_its_index_and_draw():
    simulator = LensSimulator(SimulationSettings.from_config(small_config(**CUT)))
    sampled = len(simulator._priors)
    _, parameters = simulator.simulate_many(range(40))
    rejected = _column(simulator, parameters, "rejected_draws").astype(int)
    lens = int(np.flatnonzero(rejected)[0])
    first_draw = simulator.draw_parameters(seeding.lens_rng(simulator.seed, lens))
    rendering = simulator.render(first_draw)
    assert not rendering.visible and rendering.measured[0] < THRESHOLD
    redraw = seeding.redraw_rng(simulator.seed, lens, rejected[lens])
    assert np.array_equal(simulator.draw_parameters(redraw), parameters[lens, :sampled])


def test_cut_data_and_their_rejection_count_do_not_depend_on_the_chunking(tmp_path):
    config = small_config(n_lenses=30, chunk_size=30, **CUT)
    store, _, _ = build_store(config, tmp_path / "one")
    other, _, _ = build_store(small_config(n_lenses=30, chunk_size=7, **CUT), tmp_path / "five")
    first, second = open_store(store), open_store(other)
    for array in ("images", "parameters"):
        assert np.array_equal(first[array][:], second[array][:])
    summary = first.attrs["lensing_cut"]
    rejected = first["parameters"][:, first.attrs["parameter_names"].index("rejected_draws")]
    assert summary == second.attrs["lensing_cut"]
    assert summary["lenses"] == 30 and summary["rejected_draws"] == rejected.sum() > 0
    assert summary["rejection_rate"] == pytest.approx(rejected.sum() / (rejected.sum() + 30))


def test_the_chunk_log_reports_the_rejections(tmp_path):
    config = small_config(n_lenses=10, chunk_size=10, **CUT)
    log = io.StringIO()
    simulate_chunk(
        SimulationSettings.from_config(config),
        0,
        tmp_path / "chunk.npz",
        tmp_path / "work",
        5,
        progress=log,
    )
    assert "lensing cut:" in log.getvalue() and "rejection rate" in log.getvalue()
    assert "rejection rate" in (tmp_path / "work" / "journal.txt").read_text()


def test_a_cut_that_rejects_everything_stops_naming_the_field():
    config = small_config(lensing_cut={"min_arc_snr": 1e12, "max_draws": 3})
    with pytest.raises(SimulationError, match="lensing_cut.max_draws"):
        LensSimulator(SimulationSettings.from_config(config)).simulate(0)


def test_a_compact_source_is_magnified_as_much_as_a_point_at_its_centre():
    config = small_config(
        image={"num_pix": 64, "supersampling": 8, "noise": False},
        lens_system={"point_source": True},
        lensing_cut={"min_source_magnification": 1e-3},
        priors={
            "source": {
                "R_sersic": {"dist": "log_uniform", "min": 0.02, "max": 0.021},
                "n_sersic": {"dist": "uniform", "min": 1.0, "max": 1.01},
            }
        },
    )
    simulator = LensSimulator(SimulationSettings.from_config(config))
    _, parameters = simulator.simulate_many(range(6))
    names = simulator.parameter_names
    point = np.nansum(
        np.abs(
            parameters[:, [names.index(f"point_source_magnification_{k}") for k in range(1, 5)]]
        ),
        axis=1,
    )
    extended = _column(simulator, parameters, "source_magnification")
    # Near a caustic a finite source is magnified less than a point: compare away from one.
    away = point < 30
    assert away.sum() >= 4
    assert np.allclose(extended[away], point[away], rtol=0.05)


def test_an_image_count_cut_keeps_only_quads():
    config = small_config(lens_system={"point_source": True}, lensing_cut={"min_images": 4})
    simulator = LensSimulator(SimulationSettings.from_config(config))
    _, parameters = simulator.simulate_many(range(10))
    assert (_column(simulator, parameters, "point_source_n_images") == 4).all()
    assert _column(simulator, parameters, "rejected_draws").sum() > 0
